"""The external stage of EEI: complete the hole of an image in monochrome.

Wang et al. (2021) let any inpainter fill the hole in grayscale (the "monochromic bottleneck"); the internal stage then
learns the colours from the known pixels of the same image. :func:`complete_mono` is that external stage with three
back ends: the embedded, learning-free PatchMatch (default, no model files needed), a learned
:class:`~eei_core.external.mono_model.MonoInpaintGenerator`, or an inpainting model the user already has (a spandrel
descriptor such as LaMa or MAT, as loaded by comfyui-inpaint-nodes), of which only the luminance is kept.
"""

from __future__ import annotations

from typing import Any

import torch

from ..shared.checks import (
    batch_size,
    binarize_mask,
    check_has_hole,
    check_image,
    check_mask,
    check_same_size,
    check_value_range,
)
from ..shared.color import to_mono
from ..shared.device import resolve_device
from ..shared.errors import EEIInputError
from ..shared.progress import CancelFn, ProgressFn, check_cancel
from .patchmatch import patchmatch_complete


def _is_spandrel_like(model: Any) -> bool:
    """A spandrel descriptor (``.model`` + ``.architecture``) or comfyui-inpaint-nodes' own callable MAT module."""
    return (hasattr(model, "model") and hasattr(model, "architecture")) or type(model).__name__ == "MAT"


def complete_mono(
    image: torch.Tensor,
    mask: torch.Tensor,
    *,
    model: Any = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Fill the hole of ``image`` in monochrome (EEI's external stage).

    Args:
        image: ``[B, 3, H, W]`` RGB or ``[B, 1, H, W]`` mono, float in 0..1. RGB is reduced to mono with
            :func:`~eei_core.shared.color.to_mono` (0.30 R + 0.59 G + 0.11 B).
        mask: ``[B, 1, H, W]``, 1 = hole (thresholded at 0.5). Batches follow the one batch rule.
        model: ``None`` for the embedded PatchMatch; a :class:`~eei_core.external.mono_model.MonoInpaintGenerator`; or a
            spandrel inpainting descriptor (LaMa, MAT, ...) run on the gray image, keeping its luminance.
        seed: seeds PatchMatch's random search (learned models are deterministic).
        progress: ``progress(level, step, total, preview)`` during PatchMatch.
        cancel: checked every PatchMatch round (and before a model runs); True raises ``EEICancelled``.
        device: where PatchMatch runs: ``None`` = the image's device, ``"auto"``, ``"cpu"``, ``"cuda"``
            (:func:`eei_core.shared.device.resolve_device`).
            Models run on their own device.

    Returns:
        ``[B, 1, H, W]`` in 0..1 on the image's device: exactly ``to_mono(image)`` where the mask is 0.

    Raises:
        EEIInputError: bad shapes, sizes or batches; values far outside 0..1 (slight overshoot is clamped); a mask
            item that is all hole (nothing to copy from), or no hole in any item; an unsupported ``model``.

    Example:
        >>> img = torch.rand(1, 3, 24, 24)
        >>> hole = torch.zeros(1, 1, 24, 24); hole[..., 8:14, 8:14] = 1
        >>> mono = complete_mono(img, hole)
        >>> mono.shape, bool((mono[hole == 0] == to_mono(img)[hole == 0]).all())
        (torch.Size([1, 1, 24, 24]), True)
    """
    check_image(image, "image", channels=(1, 3))
    check_mask(mask, "mask")
    check_same_size(image, mask, "image", "mask")
    image = check_value_range(image, "image")
    count = batch_size({"image": image, "mask": mask})
    check_has_hole(mask)
    hole = binarize_mask(mask)
    for i in range(hole.shape[0]):
        if bool(hole[i].all()):
            raise EEIInputError(
                f"mask item {i} covers the whole image, so there is no known pixel to complete the hole from; "
                "leave part of the image unmasked (or check whether the mask needs inverting: white = hole)"
            )
    mono = to_mono(image)
    # Under the batch rule a batch of one stands for every item, so expanding it is exact.
    full = mono.expand(count, -1, -1, -1)
    if not bool(hole.any()):
        return full.clone()
    holes = hole.expand(count, -1, -1, -1)

    if model is None:
        dev = resolve_device(device, image)
        filled = patchmatch_complete(full.to(dev), holes.to(dev), seed=seed, progress=progress, cancel=cancel)
        filled = filled.to(image.device)
    else:
        from . import mono_model  # the learned back end pulls in its network code only when used

        check_cancel(cancel)
        if isinstance(model, mono_model.MonoInpaintGenerator):
            filled = mono_model.run_mono_model(model, image, mask)
        elif _is_spandrel_like(model):
            filled = mono_model.run_spandrel_on_mono(model, image, mask)
        else:
            raise EEIInputError(
                f"unsupported inpainting model of type {type(model).__name__}: pass None (PatchMatch), a "
                "MonoInpaintGenerator (load_mono_model) or a spandrel inpainting model (LaMa, MAT)"
            )
    # Composite here too, so every back end gives exactly the known pixels back.
    return torch.where(holes > 0.5, filled.to(full.dtype).clamp(0.0, 1.0), full)
