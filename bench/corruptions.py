"""Synthetic colour bleeding for the recolorization benchmark: the hole keeps the exact luminance, its chroma is wrong.

Inpainters (SD/SDXL/Flux through the VAE, LaMa, GANs) fill the hole with plausible structure but colours the photo
never had. These corruptions reproduce the three typical failures on a ground-truth photo, so that the exact answer
is known and the only difference in the hole is chroma:

- :func:`hue_saturation_shift`: the whole hole is tinted (a hue rotation and a saturation change), like a VAE colour
  shift or a sampler that drifted;
- :func:`smooth_colour_field`: a smooth, low-frequency chroma offset varies across the hole (blotchy colour casts);
- :func:`side_leak`: the colour of one side of the hole is smeared into it with a weight decaying with distance
  (colour bleeding from a neighbouring object).

Luminance is kept exactly (up to float rounding): a corrupted colour that falls outside the RGB cube is not clipped per
channel (which would change luma) but pulled towards the grey of the same luma along its own chroma direction until it
fits (:func:`fit_gamut`), i.e. only its saturation is reduced.

All functions take ``[1, 3, H, W]`` sRGB tensors in 0..1, ``[1, 1, H, W]`` masks (1 = hole; the benchmark uses the
free-form strokes of :mod:`eei_core.shared.masks`) and a ``torch.Generator`` for the random parameters; pixels
outside the hole are returned unchanged.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from eei_core.shared.color import luma_chroma, rgb_from_luma_chroma, rotate_hue

CORRUPTIONS = ("hue", "field", "leak")


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen))


def fit_gamut(y: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
    """RGB from luma and chroma, desaturated per pixel just enough to fit 0..1, so that the luma stays exact.

    Args:
        y: ``[B, 1, H, W]`` luma in 0..1 ("paper" weights).
        chroma: ``[B, 2, H, W]`` colour differences (B - Y, R - Y).

    Returns:
        ``[B, 3, H, W]`` in 0..1 with ``to_mono(result) == y`` up to float rounding.

    Example:
        >>> from eei_core.shared.color import to_mono
        >>> y = torch.full((1, 1, 1, 1), 0.5)
        >>> rgb = fit_gamut(y, torch.tensor([5.0, 0.0]).view(1, 2, 1, 1))
        >>> round(to_mono(rgb).item(), 6), round(rgb.max().item(), 6)
        (0.5, 1.0)
    """
    offset = rgb_from_luma_chroma(y, chroma) - y  # to_mono(offset) == 0, so scaling it keeps the luma
    room_up = (1.0 - y) / offset.clamp(min=1e-12)
    room_down = y / (-offset).clamp(min=1e-12)
    scale = torch.where(offset > 0, room_up, torch.where(offset < 0, room_down, torch.full_like(offset, math.inf)))
    scale = scale.amin(dim=1, keepdim=True).clamp(max=1.0)
    return (y + offset * scale).clamp(0.0, 1.0)


def _with_chroma(image: torch.Tensor, mask: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
    """The image with ``chroma`` in the hole (luma unchanged) and untouched outside it."""
    y, _ = luma_chroma(image)
    hole = mask > 0.5
    return torch.where(hole, fit_gamut(y, chroma), image)


def hue_saturation_shift(
    image: torch.Tensor, mask: torch.Tensor, gen: torch.Generator, max_angle: float = 70.0
) -> torch.Tensor:
    """Rotate the hue of the hole by a random 20..``max_angle`` degrees (either sign) and scale saturation by 0.6..1.5.

    The rotation acts in the (B - Y, R - Y) plane with both axes normalized to -1..1.
    """
    _, chroma = luma_chroma(image)
    angle = math.radians(_uniform(gen, 20.0, max_angle)) * (1.0 if torch.rand((), generator=gen) < 0.5 else -1.0)
    sat = _uniform(gen, 0.6, 1.5)
    rotated = rotate_hue(chroma, angle) * sat
    return _with_chroma(image, mask, rotated)


def smooth_colour_field(
    image: torch.Tensor, mask: torch.Tensor, gen: torch.Generator, grid: int = 4, amplitude: float = 0.12
) -> torch.Tensor:
    """Add a smooth chroma offset field: ``grid x grid`` random offsets (up to ``amplitude`` in B - Y and R - Y,
    a typical strong cast) upsampled bicubically to the image size, plus a random global offset of half that size."""
    _, chroma = luma_chroma(image)
    h, w = image.shape[-2:]
    coarse = (torch.rand(1, 2, grid, grid, generator=gen) * 2 - 1) * amplitude
    coarse = coarse + (torch.rand(1, 2, 1, 1, generator=gen) * 2 - 1) * amplitude / 2
    field = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True).to(image)
    return _with_chroma(image, mask, chroma + field)


def _leak_from_left(chroma: torch.Tensor, known: torch.Tensor, band: int, decay: float) -> tuple[torch.Tensor, torch.Tensor]:
    """For every pixel, the chroma of the band of known pixels left of it along its row, and a decaying weight.

    Returns ``(leak [1,2,H,W], weight [1,1,H,W])``; the weight is 0 where no known pixel lies to the left.
    """
    w = chroma.shape[-1]
    # Mean chroma of the known pixels in a window of ``band`` pixels ending at each column (hole pixels excluded).
    kernel = torch.ones(1, 1, 1, band, dtype=chroma.dtype)
    pad = (band - 1, 0, 0, 0)
    num = F.conv2d(F.pad(chroma * known, pad).transpose(0, 1), kernel).transpose(0, 1)
    den = F.conv2d(F.pad(known, pad), kernel)
    band_mean = num / den.clamp(min=1e-6)
    # Index of the last known column at or left of each pixel (-1 if none), via a running max.
    cols = torch.arange(w, dtype=torch.long).view(1, 1, 1, w).expand_as(known)
    last = torch.where(known > 0.5, cols, torch.full_like(cols, -1)).cummax(dim=-1).values
    leak = torch.gather(band_mean, -1, last.clamp(min=0).expand(-1, 2, -1, -1))
    dist = (cols - last).to(chroma.dtype)
    weight = torch.where(last >= 0, torch.exp(-dist / decay), torch.zeros_like(dist))
    return leak, weight


def side_leak(image: torch.Tensor, mask: torch.Tensor, gen: torch.Generator, strength: float = 0.95) -> torch.Tensor:
    """Smear the chroma of a band outside one random side of the hole (left, right, top or bottom) into the hole.

    Each hole pixel takes ``weight * band_chroma + (1 - weight) * true_chroma`` where ``band_chroma`` is the mean
    chroma of the known pixels just before the hole along the row (or column) from that side, and ``weight`` decays
    from ``strength`` with the distance into the hole (decay length: a tenth of the image's shorter side, so that
    colours travel well into large holes). The band colour is also exaggerated (saturation x1.5) as inpainters do
    when a strong colour bleeds in.
    """
    _, chroma = luma_chroma(image)
    known = (mask <= 0.5).to(image.dtype)
    side = int(torch.randint(0, 4, (), generator=gen))  # number of 90-degree turns that bring the side to the left
    band = max(4, min(image.shape[-2:]) // 32)
    decay = max(6.0, min(image.shape[-2:]) / 10.0)
    c_rot, k_rot = torch.rot90(chroma, side, (-2, -1)), torch.rot90(known, side, (-2, -1))
    leak, weight = _leak_from_left(c_rot, k_rot, band, decay)
    leak, weight = torch.rot90(leak, -side, (-2, -1)), torch.rot90(weight, -side, (-2, -1))
    weight = weight * strength
    return _with_chroma(image, mask, weight * leak * 1.5 + (1 - weight) * chroma)


def corrupt(kind: str, image: torch.Tensor, mask: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Apply the corruption named ``kind`` (one of :data:`CORRUPTIONS`) to the hole of ``image``."""
    if kind == "hue":
        return hue_saturation_shift(image, mask, gen)
    if kind == "field":
        return smooth_colour_field(image, mask, gen)
    if kind == "leak":
        return side_leak(image, mask, gen)
    raise ValueError(f"unknown corruption {kind!r}; choose one of {', '.join(CORRUPTIONS)}")


__all__ = [
    "CORRUPTIONS",
    "corrupt",
    "fit_gamut",
    "hue_saturation_shift",
    "side_leak",
    "smooth_colour_field",
]
