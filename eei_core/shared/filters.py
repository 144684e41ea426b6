"""Gaussian filtering shared by the metrics (SSIM window) and the chroma fusion (smooth part of a disagreement)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def gaussian_window(size: int, sigma: float, like: torch.Tensor) -> torch.Tensor:
    """Normalised 1-D Gaussian of ``size`` taps centred on the middle one, on ``like``'s device and dtype.

    Example:
        >>> w = gaussian_window(5, 1.0, torch.zeros(1))
        >>> round(float(w.sum()), 6), bool(w[2] == w.max())
        (1.0, True)
    """
    x = torch.arange(size, device=like.device, dtype=like.dtype) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``[B, C, H, W]`` with replicated borders; large sigmas run on a downscaled copy."""
    h, w = x.shape[-2:]
    factor = max(1, int(sigma // 4))
    small = F.avg_pool2d(x, factor, ceil_mode=True) if factor > 1 else x
    s = sigma / factor
    radius = max(1, int(math.ceil(3 * s)))
    kernel = gaussian_window(2 * radius + 1, s, x)
    c = small.shape[1]
    # Replicate padding needs the pad to be smaller than the side; clamp for tiny images.
    ph = min(radius, small.shape[-2] - 1)
    pw = min(radius, small.shape[-1] - 1)
    out = F.pad(small, (pw, pw, 0, 0), mode="replicate") if pw > 0 else small
    kx = kernel[radius - pw : radius + pw + 1] / kernel[radius - pw : radius + pw + 1].sum()
    out = F.conv2d(out, kx.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    out = F.pad(out, (0, 0, ph, ph), mode="replicate") if ph > 0 else out
    ky = kernel[radius - ph : radius + ph + 1] / kernel[radius - ph : radius + ph + 1].sum()
    out = F.conv2d(out, ky.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    if factor > 1:
        out = F.interpolate(out, size=(h, w), mode="bilinear", align_corners=False)
    return out


def masked_blur(x: torch.Tensor, weight: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of ``x [B, C, H, W]`` averaging only pixels where ``weight [B, 1, H, W]`` is 1 (normalised).

    Example:
        >>> x = torch.zeros(1, 1, 8, 8); x[..., :4] = 1.0
        >>> m = torch.zeros(1, 1, 8, 8); m[..., :4] = 1.0
        >>> float(masked_blur(x, m, 2.0)[0, 0, 4, 1])  # only the ones are averaged
        1.0
    """
    return gaussian_blur(x * weight, sigma) / gaussian_blur(weight, sigma).clamp(min=1e-6)
