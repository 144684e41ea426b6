"""Random hole masks for training and benchmarks: DeepFill v2 brush strokes and rectangles.

Every mask is a ``[1, 1, H, W]`` float tensor with 1 = hole and 0 = known, as everywhere in :mod:`eei_core`. All
randomness comes from the ``torch.Generator`` passed in, so the same seed gives the same mask on every machine.

The free-form strokes follow Algorithm 1 of Yu et al., "Free-Form Image Inpainting with Gated Convolution" (ICCV
2019): a few strokes, each a polyline of random vertices whose turning angles alternate in sign, drawn with a round
brush of random width. Sizes are given for a 256 pixel image (the paper's training size) and scale with the shorter
side, so a 512 x 512 mask looks like a 256 x 256 one drawn at twice the resolution.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from .errors import EEIInputError

#: Reference side for the stroke sizes below (DeepFill v2 trains on 256 x 256 crops).
_REFERENCE_SIDE = 256.0


def _check_size(height: int, width: int) -> None:
    if not (isinstance(height, int) and isinstance(width, int)) or height < 1 or width < 1:
        raise EEIInputError(f"mask size must be two positive integers, got height={height!r}, width={width!r}")


def _uniform(generator: torch.Generator, lo: float, hi: float) -> float:
    u = float(torch.rand((), generator=generator, dtype=torch.float64, device=generator.device))
    return lo + (hi - lo) * u


def _normal_clipped(generator: torch.Generator, mean: float, std: float, lo: float, hi: float) -> float:
    z = float(torch.randn((), generator=generator, dtype=torch.float64, device=generator.device))
    return min(max(mean + std * z, lo), hi)


def _randint(generator: torch.Generator, lo: int, hi: int) -> int:
    """Integer in ``lo..hi`` inclusive."""
    return int(torch.randint(lo, hi + 1, (), generator=generator, device=generator.device))


def _draw_polyline(canvas: ImageDraw.ImageDraw, points: list[tuple[float, float]], brush_width: float) -> None:
    """Paint a polyline with a round brush: straight thick segments plus a disc on every vertex."""
    w = max(int(round(brush_width)), 1)
    r = brush_width / 2.0
    canvas.line(points, fill=255, width=w)
    for x, y in points:
        canvas.ellipse((x - r, y - r, x + r, y + r), fill=255)


def _stroke(
    generator: torch.Generator,
    height: int,
    width: int,
    scale: float,
    max_vertices: int,
    mean_length: float,
    min_brush: float,
    max_brush: float,
    mean_angle: float,
    angle_range: float,
) -> tuple[list[tuple[float, float]], float]:
    """One brush stroke of Algorithm 1: vertices and brush width, in pixels.

    The absolute direction of segment ``i`` is about ``mean_angle`` above or (for even ``i``) below the x axis, as
    in the paper's algorithm, which gives the zigzag look of hand-drawn scribbles.
    """
    vertices = _randint(generator, 4, max(4, max_vertices))
    angle_lo = mean_angle - _uniform(generator, 0.0, angle_range)
    angle_hi = mean_angle + _uniform(generator, 0.0, angle_range)
    x, y = _uniform(generator, 0.0, width), _uniform(generator, 0.0, height)
    points = [(x, y)]
    for i in range(vertices):
        angle = _uniform(generator, angle_lo, angle_hi)
        if i % 2 == 0:
            angle = 2.0 * math.pi - angle
        length = _normal_clipped(generator, mean_length, mean_length / 2.0, 0.0, 2.0 * mean_length) * scale
        x = min(max(x + length * math.cos(angle), 0.0), width - 1.0)
        y = min(max(y + length * math.sin(angle), 0.0), height - 1.0)
        points.append((x, y))
    brush = _uniform(generator, min_brush, max_brush) * scale
    return points, brush


def free_form_mask(
    height: int,
    width: int,
    generator: torch.Generator,
    *,
    max_strokes: int = 4,
    max_vertices: int = 12,
    mean_length: float = 45.0,
    min_brush: float = 12.0,
    max_brush: float = 40.0,
    mean_angle: float = 2.0 * math.pi / 5.0,
    angle_range: float = 2.0 * math.pi / 15.0,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Free-form brush-stroke hole after DeepFill v2 (Yu et al. 2019, Algorithm 1).

    Draws 1..``max_strokes`` strokes. Each starts at a random point, walks 4..``max_vertices`` segments of
    about ``mean_length`` (normal, clipped to 0..2x) whose directions zigzag at about ``mean_angle`` either side of
    the x axis, and is painted with a round brush ``min_brush``..``max_brush`` wide. Lengths and widths are for a
    256 pixel image and scale with ``min(height, width) / 256``. The mask is flipped left/right and up/down at random.

    Args:
        height, width: mask size in pixels.
        generator: the only source of randomness (CPU or on ``device``).
        device: where the mask is made (default: CPU).

    Returns:
        ``[1, 1, height, width]`` float32 in {0, 1}, 1 = hole.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> m = free_form_mask(64, 96, g)
        >>> m.shape, bool(((m == 0) | (m == 1)).all()), bool(m.sum() > 0)
        (torch.Size([1, 1, 64, 96]), True, True)
    """
    _check_size(height, width)
    if max_strokes < 1 or max_vertices < 1 or mean_length <= 0 or min_brush <= 0 or max_brush < min_brush:
        raise EEIInputError(
            "free_form_mask needs max_strokes >= 1, max_vertices >= 1, mean_length > 0 and 0 < min_brush <= max_brush; "
            f"got {max_strokes}, {max_vertices}, {mean_length}, {min_brush}, {max_brush}"
        )
    scale = min(height, width) / _REFERENCE_SIDE
    # PIL rasterises the strokes in C, far faster than per-pixel distance tests in torch for a few dozen segments.
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)
    for _ in range(_randint(generator, 1, max_strokes)):
        points, brush = _stroke(
            generator, height, width, scale, max_vertices, mean_length, min_brush, max_brush, mean_angle, angle_range
        )
        _draw_polyline(draw, points, brush)
    mask = torch.from_numpy(np.asarray(image, dtype=np.uint8) > 127).to(torch.float32)
    if _uniform(generator, 0.0, 1.0) > 0.5:
        mask = mask.flip(1)
    if _uniform(generator, 0.0, 1.0) > 0.5:
        mask = mask.flip(0)
    return mask.view(1, 1, height, width).to(device=device or "cpu")


def rectangle_mask(
    height: int,
    width: int,
    generator: torch.Generator,
    *,
    min_fraction: float = 0.1,
    max_fraction: float = 0.5,
    margin: float = 0.0,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """One axis-aligned rectangular hole of random size and position.

    Each side is ``min_fraction``..``max_fraction`` of the image side (at least one pixel); the rectangle keeps
    ``margin`` (a fraction of each side) away from the border when it fits.

    Returns:
        ``[1, 1, height, width]`` float32 in {0, 1}, 1 = hole.

    Example:
        >>> m = rectangle_mask(100, 100, torch.Generator().manual_seed(1), min_fraction=0.5, max_fraction=0.5)
        >>> int(m.sum())
        2500
    """
    _check_size(height, width)
    if not (0.0 < min_fraction <= max_fraction <= 1.0) or not (0.0 <= margin < 0.5):
        raise EEIInputError(
            "rectangle_mask needs 0 < min_fraction <= max_fraction <= 1 and 0 <= margin < 0.5; "
            f"got min_fraction={min_fraction}, max_fraction={max_fraction}, margin={margin}"
        )
    h = max(1, round(height * _uniform(generator, min_fraction, max_fraction)))
    w = max(1, round(width * _uniform(generator, min_fraction, max_fraction)))
    my, mx = round(height * margin), round(width * margin)
    if h + 2 * my > height:
        my = 0
    if w + 2 * mx > width:
        mx = 0
    top = _randint(generator, my, height - h - my)
    left = _randint(generator, mx, width - w - mx)
    mask = torch.zeros(1, 1, height, width, device=device)
    mask[..., top : top + h, left : left + w] = 1.0
    return mask


def mask_in_ratio_band(
    height: int,
    width: int,
    lo: float,
    hi: float,
    generator: torch.Generator,
    *,
    max_strokes: int = 400,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """A free-form mask whose hole covers between ``lo`` and ``hi`` of the image (e.g. the 0.2..0.3 band).

    Strokes of :func:`free_form_mask` are added one at a time until the hole ratio reaches ``lo``. A stroke that
    would overshoot ``hi`` is redrawn thinner and shorter, so even narrow bands are met without biasing the mask
    towards a few fat blobs.

    Args:
        lo, hi: hole-area fractions, ``0 <= lo <= hi <= 1``.

    Returns:
        ``[1, 1, height, width]`` float32 in {0, 1}, 1 = hole, with ``lo <= mean <= hi``.

    Raises:
        EEIInputError: bad band, or a band no stroke of at least one pixel can hit (e.g. narrower than one pixel of
            a tiny image).

    Example:
        >>> m = mask_in_ratio_band(64, 64, 0.2, 0.3, torch.Generator().manual_seed(0))
        >>> 0.2 <= float(m.mean()) <= 0.3
        True
    """
    _check_size(height, width)
    if not (0.0 <= lo <= hi <= 1.0):
        raise EEIInputError(f"hole ratio band must satisfy 0 <= lo <= hi <= 1, got lo={lo}, hi={hi}")
    total = float(height * width)
    mask = torch.zeros(1, 1, height, width, device=device)
    shrink = 1.0
    for _ in range(max_strokes):
        ratio = float(mask.sum()) / total
        if ratio >= lo:
            return mask
        stroke = free_form_mask(
            height,
            width,
            generator,
            max_strokes=1,
            mean_length=max(45.0 * shrink, 1.0),
            min_brush=max(12.0 * shrink, 0.5),
            max_brush=max(40.0 * shrink, 0.5),
            device=device,
        )
        candidate = torch.maximum(mask, stroke)
        if float(candidate.sum()) / total <= hi:
            mask = candidate
        else:
            shrink *= 0.5
    if float(mask.sum()) / total >= lo:
        return mask
    raise EEIInputError(
        f"could not draw a {width}x{height} mask with a hole ratio between {lo} and {hi}; widen the band "
        "(a band narrower than one pixel's share of the image cannot be hit)"
    )


def grow_mask(mask: torch.Tensor, pixels: int) -> torch.Tensor:
    """Dilate a ``[B, 1, H, W]`` hole mask by ``pixels`` (square structuring element); 0 returns it unchanged."""
    if pixels < 0:
        raise EEIInputError(f"mask_grow must be >= 0 pixels, got {pixels}")
    if pixels == 0:
        return mask
    # A square is a row then a column: two 1-D passes cost 2k comparisons a pixel instead of k^2.
    rows = F.max_pool2d(mask, kernel_size=(1, 2 * pixels + 1), stride=1, padding=(0, pixels))
    return F.max_pool2d(rows, kernel_size=(2 * pixels + 1, 1), stride=1, padding=(pixels, 0))


def bounding_box(region: torch.Tensor, margin: int = 0) -> tuple[slice, slice] | None:
    """Rows and columns of the bounding box of ``region``'s true pixels (``[H, W]`` bool), grown by ``margin`` and
    kept inside the image; ``None`` when there are none.

    Example:
        >>> region = torch.zeros(6, 8, dtype=torch.bool); region[2:4, 5] = True
        >>> bounding_box(region, 1), bounding_box(region & False)
        ((slice(1, 5, None), slice(4, 7, None)), None)
    """
    rows = torch.nonzero(region.any(dim=1)).flatten()
    if rows.numel() == 0:
        return None
    cols = torch.nonzero(region.any(dim=0)).flatten()
    h, w = region.shape
    return (slice(max(int(rows[0]) - margin, 0), min(int(rows[-1]) + 1 + margin, h)),
            slice(max(int(cols[0]) - margin, 0), min(int(cols[-1]) + 1 + margin, w)))
