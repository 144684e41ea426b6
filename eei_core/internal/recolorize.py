"""Re-colour the output of any other inpainter, keeping its structure and taking colour from the known pixels.

Inpainters trained on big data (GAN, LaMa, diffusion with its VAE) invent good structure but bleed colour into the
hole. Here the inpainter's luminance is kept (the monochrome bottleneck of the paper) and the hole's colour is
restored from the image's own known colours by :func:`~eei_core.internal.colorize.internal_colorize`. Where the inpainter's
own colour agrees with that estimate within its measured error, the inpainter's colour is kept
(:mod:`~eei_core.internal.chroma_fusion`): an inpainter that did not bleed is left alone, one that did is corrected.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..shared.checks import batch_item, batch_size, binarize_mask, check_image, check_mask, check_same_size
from ..shared.color import fit_to_gamut, luma_chroma, to_mono
from ..shared.device import resolve_device
from ..shared.errors import EEIInputError
from ..shared.masks import grow_mask
from ..shared.progress import CancelFn, ProgressFn
from .chroma_fusion import fuse_chroma, prediction_tolerance
from .colorize import ColorizeConfig, internal_colorize, resolve_config
from .hints import Hint
from .propagate import propagate

#: Default growth of the mask in pixels. Growing re-colours the seam where an inpainter blended past the mask, but
#: on the recolorize benchmark (MI-GAN and synthetic bleeding) 4 pixels cost up to 1.3 dB against 0: the known ring it
#: hides is the best colour evidence. With ``original`` given, pixels outside the mask are the original's anyway.
DEFAULT_MASK_GROW = 0


def recolorize(
    image: torch.Tensor,
    mask: torch.Tensor,
    original: torch.Tensor | None = None,
    hints: Sequence[Hint] | None = None,
    *,
    config: str | ColorizeConfig = "fast",
    mask_grow: int = DEFAULT_MASK_GROW,
    levels: int | None = None,
    keep_agreeing_colour: bool | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Remove colour bleeding from an inpainted image.

    Args:
        image: ``[B, 3, H, W]`` in 0..1, the other inpainter's output; its luminance is kept everywhere in the hole.
        mask: ``[B, 1, H, W]``, 1 = the region the inpainter filled.
        original: ``[B, 3, H, W]``, the image before inpainting; known colours are read from it (from ``image`` when
            not given) and the result is composited over it.
        hints: colour points that steer the hole's colours.
        mask_grow: pixels by which the mask is grown so the seam is re-coloured too.
        keep_agreeing_colour: keep the inpainter's colour where it agrees with the learned colour within the
            learned colour's measured error (see :mod:`~eei_core.internal.chroma_fusion`); ``False`` replaces the hole's colour
            outright. ``None`` (default) keeps it unless hints are given, since hints ask for a colour change.

    Returns:
        ``[B, 3, H, W]`` in 0..1: ``original`` (or ``image``) outside the grown mask, re-coloured inside.

    Example:
        >>> img = torch.rand(1, 3, 24, 24); hole = torch.zeros(1, 1, 24, 24); hole[..., 8:16, 8:16] = 1
        >>> recolorize(img, hole).shape
        torch.Size([1, 3, 24, 24])
    """
    check_image(image, "image", channels=(3, 4))
    check_mask(mask)
    check_same_size(image, mask, "image", "mask")
    image = image[:, :3]
    if original is not None:
        check_image(original, "original", channels=(3, 4))
        check_same_size(image, original, "image", "original")
        original = original[:, :3]
    batch_size({"image": image, "mask": mask, "original": original})
    grown = grow_mask(binarize_mask(mask), mask_grow)
    if bool((grown.flatten(1).min(dim=1).values > 0.5).any()) and not bool(
        (binarize_mask(mask).flatten(1).min(dim=1).values > 0.5).any()
    ):
        raise EEIInputError(
            f"mask_grow={mask_grow} grows the mask over the whole image, leaving no known colour; use a smaller mask_grow"
        )
    reference = original if original is not None else image
    predicted = internal_colorize(
        to_mono(image),
        reference,
        grown,
        hints,
        config=config,
        levels=levels,
        seed=seed,
        keep_luminance=True,
        composite=True,
        progress=progress,
        cancel=cancel,
        device=device,
    )
    if keep_agreeing_colour is None:
        keep_agreeing_colour = not hints
    if not keep_agreeing_colour:
        return predicted
    return _keep_agreeing_colour(image, reference, predicted, grown, resolve_config(config), seed, cancel, device)


def _keep_agreeing_colour(
    image: torch.Tensor,
    reference: torch.Tensor,
    predicted: torch.Tensor,
    grown: torch.Tensor,
    cfg: ColorizeConfig,
    seed: int,
    cancel: CancelFn | None,
    device: str | torch.device | None,
) -> torch.Tensor:
    """Per batch item: fuse the inpainter's chroma with the prediction's, luminance from the inpainter."""
    dev = resolve_device(device, predicted)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    out = []
    for i in range(predicted.shape[0]):
        hole = batch_item(grown, i).to(dev, torch.float32)
        known_colour = batch_item(reference, i).to(dev, torch.float32)
        luma, inpainter_chroma = luma_chroma(batch_item(image, i).to(dev, torch.float32))
        _, reference_chroma = luma_chroma(known_colour)
        _, predicted_chroma = luma_chroma(predicted[i : i + 1].to(dev, torch.float32))
        tolerance = prediction_tolerance(
            luma, reference_chroma, hole, generator, cfg.propagation_iterations, cancel=cancel
        )
        validated = None
        if cfg.mode == "rgb":
            # The tolerance measured the propagation's error; the paper's generators were never tested on held-out
            # pixels, so the propagation is the estimate the tolerance vouches for.
            validated = propagate(
                luma, reference_chroma, 1.0 - hole, iterations=cfg.propagation_iterations, cancel=cancel
            )
        chroma = fuse_chroma(inpainter_chroma, predicted_chroma, hole, tolerance, validated)
        fused = fit_to_gamut(luma, chroma).clamp(0.0, 1.0)
        item = hole * fused + (1.0 - hole) * known_colour
        out.append(item.to(predicted.device, predicted.dtype))
    return torch.cat(out, dim=0)
