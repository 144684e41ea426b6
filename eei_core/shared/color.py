"""Colour conversions: monochrome, luma/chroma split and CIE Lab.

All functions take and return ``[B, C, H, W]`` float tensors; constants are made on the input's device and dtype.
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from .checks import check_image
from .errors import EEIInputError

MonoWeights = Literal["paper", "bt601", "bt709"]

#: Luma weights (R, G, B). "paper" is the monochrome of Wang et al. 2021 (0.30R + 0.59G + 0.11B).
MONO_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "paper": (0.30, 0.59, 0.11),
    "bt601": (0.299, 0.587, 0.114),
    "bt709": (0.2126, 0.7152, 0.0722),
}


def _weights(weights: str, like: torch.Tensor) -> torch.Tensor:
    if weights not in MONO_WEIGHTS:
        raise EEIInputError(f"unknown mono weights {weights!r}; choose one of {', '.join(MONO_WEIGHTS)}")
    return torch.tensor(MONO_WEIGHTS[weights], device=like.device, dtype=like.dtype).view(1, 3, 1, 1)


def to_mono(rgb: torch.Tensor, weights: MonoWeights = "paper") -> torch.Tensor:
    """Monochrome (luma) of an RGB image.

    Args:
        rgb: ``[B, 3, H, W]`` in 0..1. A ``[B, 1, H, W]`` input is returned unchanged (already mono); RGBA drops alpha.
        weights: "paper" (0.30/0.59/0.11), "bt601" or "bt709".

    Returns:
        ``[B, 1, H, W]`` in 0..1.

    Example:
        >>> to_mono(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)).item()
        0.30000001192092896
    """
    check_image(rgb, "rgb", channels=(1, 3, 4))
    if rgb.shape[1] == 1:
        return rgb
    return (rgb[:, :3] * _weights(weights, rgb)).sum(dim=1, keepdim=True)


def luma_chroma(rgb: torch.Tensor, weights: MonoWeights = "paper") -> tuple[torch.Tensor, torch.Tensor]:
    """Split RGB into luma ``Y`` and the two colour differences ``(B - Y, R - Y)``.

    The split is exactly invertible by :func:`rgb_from_luma_chroma` with the same weights, so a colorizer can predict
    chroma only and keep ``Y`` (the monochrome the external stage completed) untouched.

    Args:
        rgb: ``[B, 3, H, W]`` in 0..1.

    Returns:
        ``Y`` as ``[B, 1, H, W]`` in 0..1 and chroma ``[B, 2, H, W]`` (B-Y in -0.89..0.89, R-Y in -0.7..0.7).
    """
    y = to_mono(rgb, weights)
    return y, torch.cat([rgb[:, 2:3] - y, rgb[:, 0:1] - y], dim=1)


#: Largest magnitude of (B - Y, R - Y) for the "paper" weights. Dividing by it puts both axes in -1..1 (as in
#: YCbCr), where a rotation about grey is roughly a perceptual hue change.
CHROMA_RANGE: tuple[float, float] = (1.0 - MONO_WEIGHTS["paper"][2], 1.0 - MONO_WEIGHTS["paper"][0])


def rotate_hue(chroma: torch.Tensor, angle: float | torch.Tensor) -> torch.Tensor:
    """Rotate the hue of ``chroma [B, 2, H, W]`` ("paper" (B - Y, R - Y)) about grey by ``angle`` radians.

    The rotation acts in the plane normalised by :data:`CHROMA_RANGE`; saturation in that plane is unchanged.
    ``angle`` is a number or a ``[B, 1, H, W]`` field (a rotation per pixel).

    Example:
        >>> c = torch.tensor([CHROMA_RANGE[0], 0.0]).view(1, 2, 1, 1)
        >>> [round(v, 4) for v in rotate_hue(c, math.pi / 2).flatten().tolist()]
        [0.0, 0.7]
    """
    cb = chroma[:, 0:1] / CHROMA_RANGE[0]
    cr = chroma[:, 1:2] / CHROMA_RANGE[1]
    if isinstance(angle, torch.Tensor):
        cos, sin = torch.cos(angle), torch.sin(angle)
    else:
        cos, sin = math.cos(angle), math.sin(angle)
    return torch.cat([(cos * cb - sin * cr) * CHROMA_RANGE[0], (sin * cb + cos * cr) * CHROMA_RANGE[1]], dim=1)


def rgb_from_luma_chroma(y: torch.Tensor, chroma: torch.Tensor, weights: MonoWeights = "paper") -> torch.Tensor:
    """Inverse of :func:`luma_chroma`. Returns ``[B, 3, H, W]``, not clamped (callers clamp once at the end)."""
    w = MONO_WEIGHTS[weights]
    b = chroma[:, 0:1] + y
    r = chroma[:, 1:2] + y
    g = (y - w[0] * r - w[2] * b) / w[1]
    return torch.cat([r, g, b], dim=1)


def fit_to_gamut(y: torch.Tensor, chroma: torch.Tensor, weights: MonoWeights = "paper") -> torch.Tensor:
    """RGB with luminance exactly ``y`` and the given chroma, desaturated per pixel just enough to fit in 0..1.

    Clamping each channel would change the luminance (the structure the external stage completed); scaling the
    chroma towards gray keeps it. ``y`` is clamped to 0..1 first.

    Args:
        y: ``[B, 1, H, W]``; chroma: ``[B, 2, H, W]`` as from :func:`luma_chroma`.

    Returns:
        ``[B, 3, H, W]`` in 0..1.

    Example:
        >>> y = torch.full((1, 1, 1, 1), 0.5); c = torch.tensor([0.0, 2.0]).view(1, 2, 1, 1)
        >>> rgb = fit_to_gamut(y, c)
        >>> round(to_mono(rgb).item(), 6), round(rgb.max().item(), 6)
        (0.5, 1.0)
    """
    y = y.clamp(0.0, 1.0)
    delta = rgb_from_luma_chroma(y, chroma, weights) - y
    up = torch.where(delta > 0, (1.0 - y) / delta.clamp(min=1e-12), torch.full_like(delta, math.inf))
    down = torch.where(delta < 0, y / (-delta).clamp(min=1e-12), torch.full_like(delta, math.inf))
    scale = torch.minimum(up, down).amin(dim=1, keepdim=True).clamp(max=1.0)
    return (y + scale * delta).clamp(0.0, 1.0)


def srgb_to_linear(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB transfer function inverse, elementwise, 0..1 -> 0..1."""
    return torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb.clamp(min=0.0) + 0.055) / 1.055) ** 2.4)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """CIE L*a*b* (D65) of an sRGB image.

    Args:
        rgb: ``[B, 3, H, W]`` sRGB in 0..1.

    Returns:
        ``[B, 3, H, W]``: L in 0..100, a and b roughly -128..127.
    """
    check_image(rgb, "rgb")
    lin = srgb_to_linear(rgb.clamp(0.0, 1.0))
    m = torch.tensor(
        [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]],
        device=rgb.device,
        dtype=rgb.dtype,
    )
    xyz = torch.einsum("ij,bjhw->bihw", m, lin)
    white = torch.tensor([0.950456, 1.0, 1.088754], device=rgb.device, dtype=rgb.dtype).view(1, 3, 1, 1)
    t = xyz / white
    eps = 216.0 / 24389.0
    f = torch.where(t > eps, t.clamp(min=eps) ** (1.0 / 3.0), (24389.0 / 27.0 * t + 16.0) / 116.0)
    lum = 116.0 * f[:, 1:2] - 16.0
    a = 500.0 * (f[:, 0:1] - f[:, 1:2])
    b = 200.0 * (f[:, 1:2] - f[:, 2:3])
    return torch.cat([lum, a, b], dim=1)
