"""Image and mask pyramids whose level sizes are computed once and shared.

The reference implementation of the paper computes image and mask sizes separately and crashes when they disagree
(a 375-pixel side is enough). Here :func:`pyramid_sizes` fixes every level's size first; the image pyramid uses box
(area) downsampling to exactly those sizes and the mask pyramid max-pooling to the same sizes, so every size works.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .checks import check_image, check_mask
from .errors import EEIInputError

#: The coarsest level keeps at least this many pixels on its shorter side when the level count is chosen
#: automatically. The paper uses 3 levels for 512x640, i.e. a coarsest level of 128x160.
MIN_COARSE_SIDE = 96
#: Each level is this factor smaller than the next finer one (the paper's scale factor).
SCALE_FACTOR = 2.0
#: Upper bound for the automatic choice: deeper pyramids add training time and little colour.
MAX_AUTO_LEVELS = 4


def auto_levels(height: int, width: int, min_side: int = MIN_COARSE_SIDE) -> int:
    """Number of levels for an image: halve while the shorter side stays ``>= min_side``; at least 1.

    Example:
        >>> auto_levels(512, 640)
        3
        >>> auto_levels(20, 20)
        1
    """
    short = min(height, width)
    levels = 1
    while levels < MAX_AUTO_LEVELS and short / SCALE_FACTOR**levels >= min_side:
        levels += 1
    return levels


def pyramid_sizes(height: int, width: int, levels: int | None = None) -> list[tuple[int, int]]:
    """Sizes ``(h, w)`` of each level, coarsest first, finest = ``(height, width)``.

    Level ``k`` from the top is ``round(side / 2**k)``, never below 1 pixel, so odd and prime sides work and
    the sizes never go to zero; sizes never increase towards the coarse end.

    Example:
        >>> pyramid_sizes(375, 500, 3)
        [(94, 125), (188, 250), (375, 500)]
    """
    if height < 1 or width < 1:
        raise EEIInputError(f"image size must be at least 1x1, got {width}x{height}")
    if levels is None:
        levels = auto_levels(height, width)
    if levels < 1:
        raise EEIInputError(f"levels must be >= 1, got {levels}")
    sizes = []
    for k in range(levels - 1, -1, -1):
        f = SCALE_FACTOR**k
        sizes.append((max(1, int(math.floor(height / f + 0.5))), max(1, int(math.floor(width / f + 0.5)))))
    return sizes


def downsample_image(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Box (area) downsampling of ``[B, C, H, W]`` to ``size``; upsizing (only for 1-pixel edge cases) is bilinear."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    if size[0] <= image.shape[-2] and size[1] <= image.shape[-1]:
        return F.interpolate(image, size=size, mode="area")
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False)


def downsample_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Max-pool a ``[B, 1, H, W]`` hole mask to ``size``: a level pixel touching any hole pixel is a hole.

    Uses adaptive max pooling, whose windows cover the whole input for any output size.
    """
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    return F.adaptive_max_pool2d(mask, output_size=size)


def image_pyramid(image: torch.Tensor, sizes: list[tuple[int, int]]) -> list[torch.Tensor]:
    """Box-downsampled copies of ``[B, C, H, W]`` at each of ``sizes`` (coarsest first)."""
    check_image(image, "image", channels=tuple(range(1, 64)))
    return [downsample_image(image, s) for s in sizes]


def mask_pyramid(mask: torch.Tensor, sizes: list[tuple[int, int]]) -> list[torch.Tensor]:
    """Max-pooled copies of a ``[B, 1, H, W]`` hole mask at each of ``sizes`` (coarsest first)."""
    check_mask(mask)
    return [downsample_mask(mask, s) for s in sizes]
