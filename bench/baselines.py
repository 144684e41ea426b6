"""Trivial colorization baseline: fill the hole with the mean chroma of the known pixels on the given luminance."""

from __future__ import annotations

import torch

from eei_core.shared.checks import batch_item, batch_size, binarize_mask, check_image, check_mask, check_same_size
from eei_core.shared.color import luma_chroma, rgb_from_luma_chroma
from eei_core.shared.errors import EEIInputError


def mean_chroma_fill(mono: torch.Tensor, color: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Every hole pixel gets the mean ``(B - Y, R - Y)`` chroma of the known pixels on its own luminance.

    Args:
        mono: ``[B, 1, H, W]`` luminance in 0..1 (the paper's mono weights).
        color: ``[B, 3, H, W]`` RGB in 0..1; read only outside the hole.
        mask: ``[B, 1, H, W]``, 1 = hole (thresholded at 0.5).

    Returns:
        ``[B, 3, H, W]`` in 0..1; known pixels are ``color`` unchanged.

    Example:
        >>> c = torch.tensor([0.8, 0.4, 0.2]).view(1, 3, 1, 1).expand(1, 3, 4, 4).clone()
        >>> m = torch.zeros(1, 1, 4, 4); m[..., 1:3, 1:3] = 1
        >>> out = mean_chroma_fill(torch.full((1, 1, 4, 4), 0.5), c, m)
        >>> [round(v, 3) for v in out[0, :, 2, 2].tolist()]
        [0.802, 0.402, 0.202]
    """
    check_image(mono, "mono", channels=(1,))
    check_image(color, "color")
    check_mask(mask, "mask")
    check_same_size(mono, color, "mono", "color")
    check_same_size(mono, mask, "mono", "mask")
    outs = []
    for i in range(batch_size({"mono": mono, "color": color, "mask": mask})):
        y, c, hole = batch_item(mono, i), batch_item(color, i), binarize_mask(batch_item(mask, i))
        known = 1.0 - hole
        if float(known.sum()) == 0:
            raise EEIInputError("mask covers the whole image: mean-chroma fill needs known pixels")
        _, chroma = luma_chroma(c)
        mean = (chroma * known).sum((2, 3), keepdim=True) / known.sum()
        filled = rgb_from_luma_chroma(y, mean.expand_as(chroma)).clamp(0.0, 1.0)
        outs.append(torch.where(hole > 0.5, filled, c))
    return torch.cat(outs)
