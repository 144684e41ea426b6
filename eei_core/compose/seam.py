"""The seam where an inpainted hole meets the photo: taken out by carrying the mismatch at the hole's edge inwards.

Pasting a diffusion result over its original leaves a step at the mask's edge, even after its colour drift is removed:
the inpainter re-drew the pixels along the edge (VAEEncodeForInpaint grows the mask, and the decoder blurs across it),
so its side of the edge does not continue the photo's. The inpainter's own full decode has no such step, because there
both sides are its own. So the mismatch is measured where it is visible, on the known pixels along the hole's edge
(original minus result), and added to the hole, in the manner of seamless cloning (Perez et al. 2003) but by
normalised convolution rather than a Poisson solve, since only the band along the edge matters: its smooth part (a
brightness or colour offset along the edge) fades over a band a few pixels wide; the rest (the texture the inpainter
re-drew along the edge, different pixel by pixel) ramps across the edge and is gone five pixels in. The
hole's content deeper than the band is left as it is.

Only what is a seam is carried far. A seam offset is small and the same along a stretch of the edge (the decoder's
drift, a blend's step); where the two images disagree along the edge because the model drew other content there (an
object spilling past the mask, clouds moved, texture regenerated), carrying that difference in would paint the
photo's colours over the new content: a halo on a redrawn sky, a grey fringe on a new object's outline. So each edge
pixel counts towards the offset by how small its mismatch is (:data:`CONTENT_MISMATCH`), and the offset is carried
only as far as the mismatch is consistent along the edge (its local mean explains its local mean square,
:data:`CONSISTENCY`). The rest of the mismatch only crosses the edge (:data:`CROSSING_SIGMA`), pixel by pixel: each
hole pixel on the edge takes all of its outside neighbour's difference, as a Poisson blend's boundary condition
would, so the step there is the inpainter's own; the next pixels in take less and less of it, and six pixels in the
fill is as the inpainter drew it. (Averaging the difference along the edge first, as a blur does, left the
difference's fine texture as a step: 1.1-2.0 ΔE above the inpainter's own on five of six development cases.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..shared.filters import gaussian_blur
from ..shared.masks import bounding_box, grow_mask

#: Width of the band the correction fades over (Gaussian sigma), as a fraction of the image's longer side.
BAND_FRACTION = 1.0 / 256.0
#: ... and at least this many pixels.
MIN_BAND = 2.0
#: Mismatch (largest over the channels, 0..1 units) from which an edge pixel starts to count less, and beyond which it
#: does not count: the two images show different content there, not a seam. A decoder's drift and a blend's step
#: stay within a few levels (ΔE ab 2-6); an object's outline against the photo's background is ten times that.
CONTENT_MISMATCH = (0.06, 0.12)
#: How consistent the mismatch along the edge must be for its smooth part to be carried: the share of its local mean
#: square that its local mean explains (1 for an offset, near 0 for a difference of two textures), at or below which
#: nothing is carried, and at or above which all of it is.
CONSISTENCY = (0.3, 0.6)
#: How the rest of the mismatch (what the inpainter drew differently along the edge: re-drawn texture, other content)
#: fades as it crosses the edge, a Gaussian of this many pixels: the first hole pixel takes all of its outside
#: neighbour's difference, the second 88%, the third 61%, the fourth 32%, the sixth 4%, so the photo and the fill meet
#: in a ramp, never in a step. (A faster fade, 1.2 pixels, left a third of the step of a redrawn sky at the edge of
#: comfyex_anythingv3_woman, tune.)
CROSSING_SIGMA = 2.0
#: Layers of hole pixels the rest crosses (three sigmas: the last takes under 2% of it).
_CROSSING_LAYERS = math.ceil(3.0 * CROSSING_SIGMA)


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
        >>> original = torch.zeros(1, 1, 32, 32); result = torch.full((1, 1, 32, 32), 0.05)   # an offset
        >>> hole = torch.zeros(1, 1, 32, 32); hole[..., 8:24, 8:24] = 1
        >>> fixed = result + seam_correction(result, original, hole)
        >>> round(abs(float(fixed[0, 0, 16, 8])), 3), round(float(fixed[0, 0, 16, 16]), 3)  # the edge meets the photo
        (0.0, 0.05)
        >>> other = torch.full((1, 1, 32, 32), 0.3)      # other content: it crosses the edge and fades, no step
        >>> [round(float(v), 2) for v in seam_correction(other, original, hole)[0, 0, 16, 8:15]]
        [-0.3, -0.26, -0.18, -0.1, -0.04, -0.01, 0.0]
    """
    hole = (hole > 0.5).to(result.dtype)
    ring = grow_mask(hole, 1) - hole  # known pixels touching the hole
    sigma = max(MIN_BAND, BAND_FRACTION * max(hole.shape[-2:]))
    # Each edge pixel counts by how much its mismatch can be a seam offset (see the module's notes).
    size = (original - result).abs_().amax(dim=1, keepdim=True)
    low, high = CONTENT_MISMATCH
    edge = size.sub_(high).div_(low - high).clamp_(0.0, 1.0).mul_(ring)
    mass = gaussian_blur(edge, sigma).clamp_(min=1e-6)
    # Where few edge pixels count, little of the offset is carried: the fade follows their share of the ring.
    share = (mass / gaussian_blur(ring, sigma).clamp_(min=1e-6)).clamp_(max=1.0)
    fade = _edge_fade(ring, sigma).mul_(share)
    # One channel at a time: at 4096x4096 each full-size temporary of all channels costs 200 MB. First the offset and
    # how consistent the mismatch is along the edge, then each channel's offset and the rest crossing the edge.
    crossing = _crossing(ring, hole)
    out = torch.empty_like(result)
    mean_square = torch.zeros_like(hole)
    for c in range(result.shape[1]):
        mismatch = (original[:, c : c + 1] - result[:, c : c + 1]).mul_(edge)
        out[:, c : c + 1] = gaussian_blur(mismatch, sigma).div_(mass)
        # The edge's weight is squared with the mismatch: a half-counted pixel adds a quarter of its square.
        mean_square.add_(gaussian_blur(mismatch.square_(), sigma).div_(mass))
    consistency = out.square().sum(dim=1, keepdim=True).div_(mean_square.clamp_(min=1e-12))
    low, high = CONSISTENCY
    fade.mul_(consistency.sub_(low).div_(high - low).clamp_(0.0, 1.0))
    for c in range(result.shape[1]):
        offset = out[:, c : c + 1].mul_(fade)  # on the ring too: what of the mismatch the offset already explains
        rest = (original[:, c : c + 1] - result[:, c : c + 1]).sub_(offset).mul_(ring)
        offset.mul_(hole).add_(_carried_across(rest, ring, crossing))
    return out


@dataclass
class _Crossing:
    """Where the edge's difference crosses into the hole: the box holding the ring and the layers (``box``), each
    pixel's layer there (``layer``: 1 = touching the ring, 0 = not reached) and how many of its 4-neighbours were
    reached before it (``count``, at least 1)."""

    box: tuple[slice, slice]
    layer: torch.Tensor
    count: torch.Tensor


def _crossing(ring: torch.Tensor, hole: torch.Tensor) -> _Crossing:
    """The layers of :func:`_carried_across`, found once for every channel, inside the ring's bounding box grown by
    the layers (a hole in a large picture costs its own box, not the picture)."""
    # Grown by the layers: a hole on the picture's border (an outpainting) lies beside its ring, not inside it.
    box = bounding_box(ring[0, 0] > 0.5, _CROSSING_LAYERS) or (slice(0, 0), slice(0, 0))
    reached = ring[..., box[0], box[1]].clone()
    inside = hole[..., box[0], box[1]] > 0.5
    layer = torch.zeros_like(reached)
    count = torch.zeros_like(reached)
    for index in range(1, _CROSSING_LAYERS + 1):
        neighbours = _four_neighbour_sum(reached)
        new = (neighbours > 0.5).logical_and_(reached < 0.5).logical_and_(inside).to(reached.dtype)
        layer.add_(new * index)
        count.addcmul_(new, neighbours)
        reached.add_(new)
    return _Crossing(box, layer, count.clamp_(min=1.0))


def _carried_across(difference: torch.Tensor, ring: torch.Tensor, crossing: _Crossing) -> torch.Tensor:
    """``difference [1, 1, H, W]``, given on the ``ring`` of known pixels around the hole, carried into the hole layer
    by layer (each pixel of a layer takes the mean of its 4-neighbours already reached) and faded by
    :data:`CROSSING_SIGMA` per layer: the first layer takes all of it, so the edge shows the inpainter's own step."""
    rows, cols = crossing.box
    carried = difference[..., rows, cols] * ring[..., rows, cols]
    faded = torch.zeros_like(carried)
    for index in range(1, _CROSSING_LAYERS + 1):
        this = crossing.layer == index
        value = torch.where(this, _four_neighbour_sum(carried).div_(crossing.count), 0.0)
        carried.add_(value)
        faded.add_(value.mul_(math.exp(-((index - 1) ** 2) / (2.0 * CROSSING_SIGMA**2))))
    out = torch.zeros_like(difference)
    out[..., rows, cols] = faded
    return out


def _four_neighbour_sum(x: torch.Tensor) -> torch.Tensor:
    """The sum of each pixel's 4-neighbours (0 beyond the border), by shifted adds: at 4096x4096 a 3x3 convolution
    took four times as long."""
    out = torch.zeros_like(x)
    out[..., 1:, :].add_(x[..., :-1, :])
    out[..., :-1, :].add_(x[..., 1:, :])
    out[..., :, 1:].add_(x[..., :, :-1])
    out[..., :, :-1].add_(x[..., :, 1:])
    return out


def _edge_fade(edge: torch.Tensor, sigma: float) -> torch.Tensor:
    """1 on a straight edge one pixel wide and on the pixels next to it, falling as a Gaussian of ``sigma`` does
    beyond. The first hole pixel takes all of the offset, as its outside neighbour does: what is carried across the
    edge pixel by pixel is the rest, so the two add up to the whole mismatch there."""
    # Such an edge, blurred, is 1 / (sqrt(2 pi) sigma) on it and that times exp(-d^2 / 2 sigma^2) at d.
    scale = math.sqrt(2.0 * math.pi) * sigma * math.exp(1.0 / (2.0 * sigma**2))
    return gaussian_blur(edge, sigma).mul_(scale).clamp_(max=1.0)
