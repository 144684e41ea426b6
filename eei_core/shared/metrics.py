"""Image quality metrics for colorization and inpainting: PSNR, SSIM and CIE a*b* chroma error.

All metrics take two ``[B, 3, H, W]`` float images in 0..1 and an optional ``[B, 1, H, W]`` mask (a pixel counts where
``mask > 0.5``, e.g. the hole). Batches follow the one batch rule (a batch of one is reused); the result is the mean
over batch items of the per-item metric, returned as a Python float.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .checks import batch_size, check_image, check_mask, check_same_size
from .color import rgb_to_lab
from .errors import EEIInputError
from .filters import gaussian_window

#: SSIM constants of Wang et al. 2004 (window 11x11, Gaussian sigma 1.5, K1, K2).
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _check_pair(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Check inputs and broadcast ``a`` and ``b`` to the common batch; returns them as float tensors."""
    check_image(a, "a")
    check_image(b, "b")
    check_same_size(a, b, "a", "b")
    if mask is not None:
        check_mask(mask, "mask")
        check_same_size(a, mask, "a", "mask")
    n = batch_size({"a": a, "b": b, "mask": mask})
    return a.expand(n, -1, -1, -1), b.expand(n, -1, -1, -1).to(a.dtype)


def _weights(mask: torch.Tensor | None, n: int, like: torch.Tensor) -> torch.Tensor:
    """Per-pixel weights ``[n, 1, h, w]`` (1 inside the mask, 0 outside); raises on an empty mask."""
    if mask is None:
        return torch.ones(n, 1, *like.shape[-2:], device=like.device, dtype=like.dtype)
    w = (mask > 0.5).to(device=like.device, dtype=like.dtype).expand(n, -1, -1, -1)
    counts = w.flatten(1).sum(1)
    if bool((counts == 0).any()):
        raise EEIInputError("mask selects no pixel (no value > 0.5); pass mask=None to measure the whole image")
    return w


def _masked_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Per-item mean of ``values [n, C, h, w]`` over the pixels where ``weights [n, 1, h, w]`` is 1 -> ``[n]``."""
    w = weights.expand_as(values)
    return (values * w).flatten(1).sum(1) / w.flatten(1).sum(1)


def psnr(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(data_range^2 / MSE)``.

    The MSE is taken over all three channels of the pixels where ``mask > 0.5`` (the whole image without a mask).

    Args:
        a: ``[B, 3, H, W]`` in 0..1.
        b: ``[B, 3, H, W]`` in 0..1, same size as ``a``.
        mask: optional ``[B, 1, H, W]``; only pixels with ``mask > 0.5`` count.
        data_range: the peak value (1.0 for 0..1 images).

    Returns:
        Mean over batch items of the per-item PSNR; ``inf`` when the images are identical (on the mask).

    Example:
        >>> a = torch.zeros(1, 3, 4, 4)
        >>> round(psnr(a, a + 0.1), 6)
        20.0
    """
    a, b = _check_pair(a, b, mask)
    w = _weights(mask, a.shape[0], a)
    mse = _masked_mean((a.double() - b.double()) ** 2, w.double())
    values = [math.inf if m == 0 else 10.0 * math.log10(data_range**2 / m) for m in mse.tolist()]
    return sum(values) / len(values)


def _blur(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' Gaussian filter of ``[N, 1, H, W]`` -> ``[N, 1, H-k+1, W-k+1]``."""
    k = g.numel()
    x = F.conv2d(x, g.view(1, 1, k, 1))
    return F.conv2d(x, g.view(1, 1, 1, k))


def ssim_map(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Per-pixel SSIM (Wang et al. 2004) of each channel, on the 'valid' region of the Gaussian window.

    Uses an 11x11 Gaussian window with sigma 1.5 (smaller, odd, if the image is smaller than 11 pixels), K1 = 0.01,
    K2 = 0.03 and population (not sample) statistics, which matches
    ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5, use_sample_covariance=False)``.

    Args:
        a: ``[B, C, H, W]``.
        b: ``[B, C, H, W]``, same shape.

    Returns:
        ``[B, C, H - k + 1, W - k + 1]`` with ``k`` the window size (11 unless the image is smaller); the border of
        ``(k - 1) / 2`` pixels is left out because the window would not fit there.
    """
    size = min(SSIM_WINDOW, a.shape[-2], a.shape[-1])
    size -= 1 - size % 2
    n, c, h, w = a.shape
    x = a.reshape(n * c, 1, h, w).double()
    y = b.reshape(n * c, 1, h, w).double()
    g = gaussian_window(size, SSIM_SIGMA, x)
    mu_x, mu_y = _blur(x, g), _blur(y, g)
    var_x = _blur(x * x, g) - mu_x**2
    var_y = _blur(y * y, g) - mu_y**2
    cov = _blur(x * y, g) - mu_x * mu_y
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return s.reshape(n, c, s.shape[-2], s.shape[-1]).to(a.dtype)


def ssim(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None, data_range: float = 1.0) -> float:
    """Structural similarity (Wang et al. 2004), computed per RGB channel and averaged.

    See :func:`ssim_map` for the window and constants. With a mask, the SSIM map is averaged over the pixels where
    ``mask > 0.5`` (each map value describes the 11x11 neighbourhood centred there, so values near the hole border
    also see known pixels); the image border where the window does not fit is left out, as in scikit-image.

    Args:
        a: ``[B, 3, H, W]`` in 0..1.
        b: ``[B, 3, H, W]`` in 0..1, same size as ``a``.
        mask: optional ``[B, 1, H, W]``; only pixels with ``mask > 0.5`` count.
        data_range: the peak value (1.0 for 0..1 images).

    Returns:
        Mean over batch items of the per-item SSIM, at most 1.0 (identical images).

    Example:
        >>> a = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
        >>> ssim(a, a)
        1.0
    """
    a, b = _check_pair(a, b, mask)
    s = ssim_map(a, b, data_range)
    crop_h = (a.shape[-2] - s.shape[-2]) // 2
    crop_w = (a.shape[-1] - s.shape[-1]) // 2
    w = _weights(mask, a.shape[0], a)[..., crop_h : crop_h + s.shape[-2], crop_w : crop_w + s.shape[-1]]
    if bool((w.flatten(1).sum(1) == 0).any()):
        raise EEIInputError(
            f"mask selects no pixel at least {crop_h} pixels away from the image border, where SSIM is defined"
        )
    return float(_masked_mean(s.double(), w.double()).mean())


def lab_chroma_error(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """Mean Euclidean distance between the CIE a*b* chroma of two sRGB images (lightness L* is ignored).

    Args:
        a: ``[B, 3, H, W]`` sRGB in 0..1.
        b: ``[B, 3, H, W]`` sRGB in 0..1, same size as ``a``.
        mask: optional ``[B, 1, H, W]``; only pixels with ``mask > 0.5`` count.

    Returns:
        Mean over batch items of the mean per-pixel ``sqrt(da*^2 + db*^2)``, in Lab units (0 = same chroma; a
        difference of about 2.3 is just noticeable).

    Example:
        >>> gray = torch.full((1, 3, 2, 2), 0.5)
        >>> lab_chroma_error(gray, gray)
        0.0
    """
    a, b = _check_pair(a, b, mask)
    w = _weights(mask, a.shape[0], a)
    ab_a = rgb_to_lab(a.double())[:, 1:]
    ab_b = rgb_to_lab(b.double())[:, 1:]
    dist = ((ab_a - ab_b) ** 2).sum(1, keepdim=True).sqrt()
    return float(_masked_mean(dist, w.double()).mean())
