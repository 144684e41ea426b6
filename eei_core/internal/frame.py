"""Where and at what size the internal stage works: a crop around the hole, at a bounded working size.

Colour in a hole is smooth compared with its luminance, and only the hole's neighbourhood says what colour it should
be. So the internal stage never needs the whole frame at full resolution: a 5% hole in a 4K photo is coloured from a
crop around the hole (its bounding box grown by :data:`CONTEXT` times its side, the room the held-out copies of the
hole need), shrunk so that its longer side is at most ``max_side`` (the *working size*). The chroma estimated there is
brought back to full size by guided upsampling (:func:`upsample_guided`): the local linear model
``chroma = a * Y + b`` of the guided filter (He, Sun & Tang 2013) is fitted at the working size and applied to the
full-resolution luminance ``Y`` (the fast guided filter of He & Sun 2015), so chroma edges follow the full-resolution
luminance edges. What the upsampling misses at the hole's border (chroma detail finer than a working pixel), the
full-resolution known chroma there gives back: its residual is carried into the hole by the colour propagation itself
(:func:`~eei_core.shared.propagate.propagate`) at full resolution, over a band of :data:`BORDER_BAND` pixels along
the border, so the seam stays invisible and thin structures that cross it keep their colour. Luminance is never
resampled, and known pixels are never touched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..shared.masks import grow_mask
from ..shared.progress import CancelFn
from ..shared.pyramid import downsample_image, downsample_mask
from ..shared.propagate import propagate

#: Default longer side of the working size, in pixels.
DEFAULT_MAX_SIDE = 512
#: Context kept around the hole's bounding box, as a multiple of its longer side.
CONTEXT = 1.0
#: ... and at least this many pixels.
MIN_CONTEXT = 64
#: Guided upsampling: window radius at the working size, and the regulariser of the slope ``a`` (luma units squared):
#: a window whose luminance varies less than ``sqrt(eps)`` gets the window's mean chroma rather than a slope.
GUIDED_RADIUS = 1
GUIDED_EPS = 1e-4
#: Width in full-resolution pixels of the band along the hole's border where the upsampling's residual at the known
#: pixels is propagated into the hole. On the tune half of the native-size photos (free-form holes) the hole PSNR
#: rose with the band up to 16 pixels (+0.08 dB over 8, nothing more at 32, which costs twice as much).
BORDER_BAND = 16


@dataclass(frozen=True)
class WorkingFrame:
    """A crop of a ``[.., H, W]`` image and the working size it is shrunk to.

    Attributes:
        rows, cols: the crop in full-resolution pixels.
        size: ``(h, w)`` working size of the crop, at most the crop's size.
    """

    rows: slice
    cols: slice
    size: tuple[int, int]

    @property
    def crop_size(self) -> tuple[int, int]:
        return self.rows.stop - self.rows.start, self.cols.stop - self.cols.start

    @property
    def scale(self) -> float:
        """Full-resolution pixels per working pixel (1.0 when the crop is worked on at full size)."""
        return max(self.crop_size) / max(self.size)

    @property
    def resampled(self) -> bool:
        return tuple(self.size) != tuple(self.crop_size)

    def crop(self, x: torch.Tensor) -> torch.Tensor:
        """The crop of ``[B, C, H, W]`` (a view)."""
        return x[..., self.rows, self.cols]

    def shrink(self, x: torch.Tensor) -> torch.Tensor:
        """The crop of an image ``[B, C, H, W]`` at the working size (area averaging)."""
        return downsample_image(self.crop(x), self.size)

    def shrink_mask(self, mask: torch.Tensor) -> torch.Tensor:
        """The crop of a hole mask ``[B, 1, H, W]`` at the working size: a working pixel is a hole if any pixel under it
        is, so the known working pixels average known colours only."""
        return downsample_mask(self.crop(mask), self.size)

    def enlarge(self, x: torch.Tensor) -> torch.Tensor:
        """A smooth working-size field ``[B, C, h, w]`` brought to the crop's size (bilinear)."""
        if not self.resampled:
            return x
        return F.interpolate(x, size=self.crop_size, mode="bilinear", align_corners=False)

    def paste(self, full: torch.Tensor, crop: torch.Tensor) -> torch.Tensor:
        """A copy of ``full`` with the crop replaced by ``crop``."""
        out = full.clone()
        out[..., self.rows, self.cols] = crop
        return out


def plan_frame(
    mask: torch.Tensor,
    max_side: int = DEFAULT_MAX_SIDE,
    context: float | None = CONTEXT,
    points: list[tuple[float, float]] | None = None,
) -> WorkingFrame:
    """The frame for one image: its hole's bounding box with context, shrunk to at most ``max_side``.

    Args:
        mask: ``[1, 1, H, W]``, hole where ``> 0``.
        max_side: longer side of the working size; 0 works at full size.
        context: context around the hole's bounding box, in multiples of its longer side (at least
            :data:`MIN_CONTEXT` pixels); ``None`` keeps the whole image (only shrinks it).
        points: ``(x, y)`` fractions of width and height (colour hints) that the crop must contain too.

    Returns:
        The frame; the whole image when there is no hole.

    Example:
        >>> m = torch.zeros(1, 1, 2000, 3000); m[..., 1000:1100, 1500:1600] = 1
        >>> f = plan_frame(m, max_side=512)
        >>> (f.rows.start, f.rows.stop, f.cols.start, f.cols.stop), f.size
        ((900, 1200, 1400, 1700), (300, 300))
    """
    h, w = mask.shape[-2:]
    rows, cols = slice(0, h), slice(0, w)
    hole = mask[0, 0] > 0
    if context is not None and bool(hole.any()):
        ys = torch.nonzero(hole.any(dim=1)).flatten()
        xs = torch.nonzero(hole.any(dim=0)).flatten()
        top, bottom, left, right = int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1
        for x, y in points or []:
            px, py = min(max(int(x * w), 0), w - 1), min(max(int(y * h), 0), h - 1)
            top, bottom, left, right = min(top, py), max(bottom, py + 1), min(left, px), max(right, px + 1)
        margin = max(MIN_CONTEXT, math.ceil(context * max(bottom - top, right - left)))
        rows = slice(max(top - margin, 0), min(bottom + margin, h))
        cols = slice(max(left - margin, 0), min(right + margin, w))
    ch, cw = rows.stop - rows.start, cols.stop - cols.start
    size = (ch, cw)
    if max_side and max(ch, cw) > max_side:
        factor = max_side / max(ch, cw)
        size = (max(1, round(ch * factor)), max(1, round(cw * factor)))
    return WorkingFrame(rows, cols, size)


def upsample_guided(
    values: torch.Tensor,
    guide: torch.Tensor,
    known_values: torch.Tensor | None = None,
    known: torch.Tensor | None = None,
    radius: int = GUIDED_RADIUS,
    eps: float = GUIDED_EPS,
    cancel: CancelFn | None = None,
) -> torch.Tensor:
    """Bring a working-size estimate to full size along the full-resolution luminance (fast guided upsampling).

    In each ``(2 radius + 1)^2`` window of the working size, ``values ~ a * guide + b`` is fitted by least squares
    (the guided filter), with the guide's statistics taken from the full-resolution guide (its variance inside a
    working pixel counts, so texture finer than a working pixel still gets its slope); ``a`` and ``b`` are averaged
    over windows, brought to full size bilinearly, and applied to the full-resolution guide. Where ``known`` is given,
    the estimate's error at the known pixels around the hole (``known_values`` minus the upsampled values: the detail
    finer than a working pixel) is carried into the hole by edge-aware propagation along the full-resolution guide,
    over a band of :data:`BORDER_BAND` pixels (:func:`border_detail`), fading to nothing at the band's inner edge: the hole
    joins its border without a step, and a thin coloured structure that crosses the border keeps its colour.

    Args:
        values: ``[1, C, h, w]`` at the working size (chroma, or RGB).
        guide: ``[1, 1, H, W]`` full-resolution luminance in 0..1; ``H >= h``, ``W >= w``.
        known_values: ``[1, C, H, W]``, the true values where ``known`` is 1.
        known: ``[1, 1, H, W]``, 1 = known pixel.
        cancel: checked by the border's propagation.

    Returns:
        ``[1, C, H, W]``. Known pixels are not replaced (the caller composites).

    Example:
        >>> guide = torch.zeros(1, 1, 64, 64); guide[..., 34:] = 1.0  # a luminance edge inside working pixel 8
        >>> small = downsample_image(0.3 * guide, (16, 16))  # the 0.3 chroma step, a ramp at the working size
        >>> up = upsample_guided(small, guide)
        >>> round(float(up[0, 0, 0, 34] - up[0, 0, 0, 33]), 2)         # most of the step is back on the edge
        0.16
    """
    from kornia.filters import box_blur

    size = tuple(guide.shape[-2:])
    small = tuple(values.shape[-2:])
    if small == size:
        return values
    k = 2 * radius + 1
    mean_i = downsample_image(guide, small)
    mean_ii = downsample_image(guide.square(), small)
    box_i, box_ii = box_blur(mean_i, k, "replicate"), box_blur(mean_ii, k, "replicate")
    box_p, box_ip = box_blur(values, k, "replicate"), box_blur(mean_i * values, k, "replicate")
    slope = (box_ip - box_i * box_p) / ((box_ii - box_i.square()).clamp(min=0) + eps)
    offset = box_p - slope * box_i
    slope = F.interpolate(box_blur(slope, k, "replicate"), size=size, mode="bilinear", align_corners=False)
    out = F.interpolate(box_blur(offset, k, "replicate"), size=size, mode="bilinear", align_corners=False)
    out = out.addcmul_(slope, guide)
    if known is not None and known_values is not None:
        out = out + border_detail(known_values - out, guide, known, cancel=cancel)
    return out


def border_detail(
    error: torch.Tensor, guide: torch.Tensor, known: torch.Tensor, band: int = BORDER_BAND, cancel: CancelFn | None = None
) -> torch.Tensor:
    """``error`` at the known pixels, carried into the hole over a band of ``band`` pixels along its border.

    The band's pixels are solved by the colour propagation along ``guide`` (Levin et al.'s system, as the working-size
    prior), with the known pixels fixed to ``error`` and the rest of the hole fixed to 0: near the border the fine
    detail follows the luminance into the hole; deeper in, the working-size estimate stands alone.

    Args:
        error: ``[1, C, H, W]``, read where ``known`` is 1.
        guide: ``[1, 1, H, W]`` full-resolution luminance in 0..1.
        known: ``[1, 1, H, W]``, 1 = known pixel.

    Returns:
        ``[1, C, H, W]``: ``error`` at known pixels, the carried values in the band, 0 elsewhere.

    Example:
        >>> guide = torch.zeros(1, 1, 8, 40); guide[..., 3:5, :] = 1.0  # a bright line crossing the border
        >>> known = torch.zeros(1, 1, 8, 40); known[..., :20] = 1.0
        >>> err = 0.1 * guide                                            # its colour, missed by the upsampling
        >>> carried = border_detail(err, guide, known, band=16)
        >>> round(float(carried[0, 0, 4, 24]), 2), round(float(carried[0, 0, 0, 24]), 2), float(carried[0, 0, 4, 38])
        (0.07, 0.0, 0.0)
    """
    known = (known > 0.5).to(error.dtype)
    band_pixels = grow_mask(known, band) * (1.0 - known)
    return propagate(guide, error * known, 1.0 - band_pixels, cancel=cancel)
