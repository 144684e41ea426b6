"""The benchmark's fixed hole: a centred rectangle (random free-form holes come from :mod:`eei_core.shared.masks`).

Masks are ``[1, 1, H, W]`` float tensors with 1 = hole, as everywhere in eei_core.
"""

from __future__ import annotations

import math

import torch

#: Hole area of the paper's centred-rectangle protocol.
DEFAULT_AREA = 0.225


def centre_rect_mask(height: int, width: int, area: float = DEFAULT_AREA) -> torch.Tensor:
    """A centred rectangle with the image's aspect ratio covering ``area`` of the image (up to rounding).

    Example:
        >>> m = centre_rect_mask(100, 200)
        >>> m.shape, round(float(m.mean()), 3)
        (torch.Size([1, 1, 100, 200]), 0.223)
    """
    side = math.sqrt(area)
    h = max(1, round(height * side))
    w = max(1, round(width * side))
    top, left = (height - h) // 2, (width - w) // 2
    mask = torch.zeros(1, 1, height, width)
    mask[..., top : top + h, left : left + w] = 1.0
    return mask
