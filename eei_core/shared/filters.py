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


def masked_linear_blur(x: torch.Tensor, weight: torch.Tensor, sigma: float, ridge: float = 1e-3) -> torch.Tensor:
    """Local linear fit of ``x [B, C, H, W]`` over the pixels where ``weight [B, 1, H, W]`` is 1, evaluated at each
    pixel: a Gaussian-windowed (``sigma``) least-squares plane ``x ~ a + b * row + c * col`` per pixel and channel.

    Unlike :func:`masked_blur` it follows a ramp without bias, up to the mask's edge and into its corners (a
    normalised blur of a ramp there is pulled towards the inside's values), so what it leaves of a smooth field
    is the part a plane does not explain. ``ridge`` (in units of ``sigma`` squared) keeps the fit defined where the
    window sees a line or a point of the mask. Coordinates are taken in units of ``sigma`` about the image's centre
    (in float32 a ramp's fit was within 1e-4 on images 500 ``sigma`` across).

    Example:
        >>> ramp = torch.linspace(0, 1, 32).view(1, 1, 1, 32).expand(1, 1, 32, 32)
        >>> m = torch.zeros(1, 1, 32, 32); m[..., :, :12] = 1.0
        >>> edge = float((masked_linear_blur(ramp, m, 4.0) - ramp)[..., 16, 11].abs())
        >>> edge < 2e-3, float((masked_blur(ramp, m, 4.0) - ramp)[..., 16, 11].abs()) > 0.05
        (True, True)
    """
    h, w = x.shape[-2:]
    rows = (torch.arange(h, device=x.device, dtype=x.dtype) - (h - 1) / 2) / sigma
    cols = (torch.arange(w, device=x.device, dtype=x.dtype) - (w - 1) / 2) / sigma
    r = rows.view(1, 1, h, 1).expand(1, 1, h, w)
    c = cols.view(1, 1, 1, w).expand(1, 1, h, w)
    # Windowed moments of the mask, the coordinates and the values, in one blur call.
    ch = x.shape[1]
    basis = torch.cat([weight, weight * r, weight * c, weight * r * r, weight * r * c, weight * c * c], dim=1)
    values = torch.cat([weight * x, weight * r * x, weight * c * x], dim=1)
    m = gaussian_blur(torch.cat([basis, values], dim=1), sigma)
    s0, sr, sc, srr, src, scc = m[:, :6].unbind(dim=1)
    v0, vr, vc = m[:, 6:].split(ch, dim=1)
    s0 = s0.clamp(min=1e-6).unsqueeze(1)
    # Centred moments: the fit about the window's weighted mean coordinate.
    mr, mc = sr.unsqueeze(1) / s0, sc.unsqueeze(1) / s0
    crr = srr.unsqueeze(1) / s0 - mr * mr + ridge
    crc = src.unsqueeze(1) / s0 - mr * mc
    ccc = scc.unsqueeze(1) / s0 - mc * mc + ridge
    mean = v0 / s0
    cvr = vr / s0 - mr * mean
    cvc = vc / s0 - mc * mean
    det = (crr * ccc - crc * crc).clamp(min=1e-12)
    slope_r = (ccc * cvr - crc * cvc) / det
    slope_c = (crr * cvc - crc * cvr) / det
    return mean + slope_r * (r - mr) + slope_c * (c - mc)
