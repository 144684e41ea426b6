"""Re-colour the output of any other inpainter, keeping its structure and taking colour from the known pixels.

Inpainters trained on big data (GAN, LaMa, diffusion with its VAE) invent good structure but bleed colour into the
hole. Here the inpainter's result contributes only its luminance (the monochrome bottleneck of the paper); the hole's
colour is restored from the image's own known colours by :func:`~eei_core.colorize.internal_colorize`.
"""

from __future__ import annotations

from typing import Sequence

import torch

from .checks import batch_size, binarize_mask, check_image, check_mask, check_same_size
from .color import to_mono
from .colorize import ColorizeConfig, internal_colorize
from .errors import EEIInputError
from .hints import Hint
from .masks import grow_mask
from .progress import CancelFn, ProgressFn

#: Default growth of the mask in pixels: inpainters blend a few pixels past the mask edge, so the seam is
#: re-coloured too.
DEFAULT_MASK_GROW = 4


def recolorize(
    image: torch.Tensor,
    mask: torch.Tensor,
    original: torch.Tensor | None = None,
    hints: Sequence[Hint] | None = None,
    *,
    config: str | ColorizeConfig = "fast",
    mask_grow: int = DEFAULT_MASK_GROW,
    levels: int | None = None,
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
    return internal_colorize(
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
