"""The seam where an inpainted hole meets the photo: taken out by carrying the mismatch at the hole's edge inwards.

Pasting a diffusion result over its original leaves a step at the mask's edge, even after its colour drift is removed:
the inpainter re-drew the pixels along the edge (VAEEncodeForInpaint grows the mask, and the decoder blurs across it),
so its side of the edge does not continue the photo's. The inpainter's own full decode has no such step, because there
both sides are its own. So the mismatch is measured where it is visible, on the known pixels along the hole's edge
(original minus result), and added to the hole, in the manner of seamless cloning (Perez et al. 2003) but by
normalised convolution rather than a Poisson solve, since only the band along the edge matters. Two parts: its
smooth part (a brightness or colour offset along the edge) fades over a band a few pixels wide; its detail (the
texture the inpainter re-drew along the edge, different pixel by pixel) crosses the edge pixel by pixel and is gone
two pixels in. The hole's content deeper than the band is left as it is.
"""

from __future__ import annotations

import math

import torch

from ..shared.filters import gaussian_blur
from ..shared.masks import grow_mask

#: Width of the band the correction fades over (Gaussian sigma), as a fraction of the image's longer side.
BAND_FRACTION = 1.0 / 256.0
#: ... and at least this many pixels.
MIN_BAND = 2.0
#: Gaussian sigma, in pixels, with which the mismatch's detail crosses the edge: the first hole pixel takes its
#: neighbours' detail, the second a twentieth of it.
DETAIL_SIGMA = 0.7


def seam_correction(result: torch.Tensor, original: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """What to add to ``result`` inside the hole so that it meets ``original`` without a step.

    Args:
        result: ``[1, C, H, W]`` the inpainter's output on every pixel (its drift corrected, its colour not refitted:
            the mismatch along the edge is what the inpainter itself drew there).
        original: ``[1, C, H, W]`` the photo (read on the known pixels along the hole's edge).
        hole: ``[1, 1, H, W]``, 1 = the pixels the result will replace.

    Returns:
        ``[1, C, H, W]``: at each hole pixel, the mismatch of the nearby edge, fading with the distance from it (all of
        it on the edge, about 60% one band-width in, under 15% two band-widths in); 0 outside the hole.

    Example:
        >>> original = torch.zeros(1, 1, 32, 32); result = torch.full((1, 1, 32, 32), 0.2)
        >>> hole = torch.zeros(1, 1, 32, 32); hole[..., 8:24, 8:24] = 1
        >>> fixed = result + seam_correction(result, original, hole)
        >>> round(float(fixed[0, 0, 16, 8]), 2), round(float(fixed[0, 0, 16, 16]), 2)  # the edge meets the photo
        (0.02, 0.2)
    """
    hole = (hole > 0.5).to(result.dtype)
    edge = grow_mask(hole, 1) - hole  # known pixels touching the hole
    sigma = max(MIN_BAND, BAND_FRACTION * max(hole.shape[-2:]))
    smooth_mass, smooth_fade = _edge_mass(edge, sigma, distance=0.0)
    detail_mass, detail_fade = _edge_mass(edge, DETAIL_SIGMA, distance=1.0)
    smooth_fade.mul_(hole)
    detail_fade.mul_(hole)
    out = torch.empty_like(result)
    # One channel at a time: at 4096x4096 each full-size temporary of all channels costs 200 MB.
    for c in range(result.shape[1]):
        mismatch = (original[:, c : c + 1] - result[:, c : c + 1]).mul_(edge)
        smooth = gaussian_blur(mismatch, sigma).div_(smooth_mass)
        detail = gaussian_blur(mismatch.sub_(smooth * edge), DETAIL_SIGMA).div_(detail_mass)
        out[:, c : c + 1] = smooth.mul_(smooth_fade).add_(detail.mul_(detail_fade))
    return out


def _edge_mass(edge: torch.Tensor, sigma: float, distance: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The edge's weight under a Gaussian of ``sigma`` (the normaliser of values averaged over the edge, floored to
    stay finite away from it), and a fade that is 1 at ``distance`` pixels from a straight edge and falls as the
    Gaussian does beyond."""
    mass = gaussian_blur(edge, sigma)
    # A straight edge one pixel wide, blurred, is 1 / (sqrt(2 pi) sigma) on it and that times exp(-d^2 / 2 sigma^2) at d.
    peak = math.exp(-(distance**2) / (2.0 * sigma**2)) / (math.sqrt(2.0 * math.pi) * sigma)
    fade = (mass / peak).clamp_(max=1.0)
    return mass.clamp_(min=1e-6), fade
