"""The colour drift of a VAE round trip: learned outside the hole, carried into it along the image's edges.

A diffusion inpainter that does not composite its result over the original sends every pixel through the VAE, and the
decoder shifts colours a little (SD-family results come out yellower, by about +0.8 b*), differently in the sky and
in a forest. The hole carries the same shift, which is why a result pasted over the original shows a step at the
mask's edge. Outside the hole both the result and the original are known, so the shift can be learned there: in
windows of about a tenth of the image, ``original ~ a * result + b`` per RGB channel (a local affine colour transform,
fitted by ridge least squares that pulls ``a`` towards 1, so a window of flat colour gets a shift and no gain). The
coefficients are smooth fields; they are carried into the hole by the edge-aware propagation
(:mod:`~eei_core.shared.propagate`), so the sky's transform fills the sky's part of the hole and the forest's the
forest's. Applied to the whole result, the transform takes the drift out of the hole's new content too: it is the
same decoder that drew it.
"""

from __future__ import annotations

import torch

from ..shared.filters import gaussian_blur
from ..shared.progress import CancelFn
from ..shared.propagate import propagate

#: Window of the local fit (Gaussian sigma) as a fraction of the image's longer side.
WINDOW_FRACTION = 1.0 / 12.0
#: Ridge weight pulling the gain ``a`` towards 1, in squared colour units: a window whose colours vary less than about
#: sqrt(RIDGE) gets a pure shift.
RIDGE = 1e-3
#: A known region whose mean absolute difference to the original is below this (in 0..1 units) has no drift: the
#: result was composited over the original.
NO_DRIFT = 0.5 / 255.0
#: Windows with less than this fraction of known pixels are not trusted; the propagation fills them.
MIN_KNOWN_WEIGHT = 0.2


def has_drift(result: torch.Tensor, original: torch.Tensor, known: torch.Tensor) -> bool:
    """Whether ``result`` differs from ``original`` on the ``known`` pixels (all ``[1, C, H, W]``, ``known`` 0/1).

    Example:
        >>> img = torch.rand(1, 3, 8, 8); known = torch.ones(1, 1, 8, 8)
        >>> has_drift(img, img, known), has_drift(img * 0.9, img, known)
        (False, True)
    """
    count = float(known.sum()) * result.shape[1]
    if count < 1:
        return False
    return float(((result - original).abs() * known).sum()) / count > NO_DRIFT


def estimate_drift(
    result: torch.Tensor,
    original: torch.Tensor,
    known: torch.Tensor,
    luma: torch.Tensor | None = None,
    cancel: CancelFn | None = None,
) -> torch.Tensor:
    """The local colour transform ``original ~ a * result + b`` learned on the known pixels, everywhere.

    Args:
        result: ``[1, 3, H, W]`` the inpainter's full output in 0..1.
        original: ``[1, 3, H, W]`` the image before inpainting (read where ``known``).
        known: ``[1, 1, H, W]``, 1 where ``result`` shows the original's content (outside the hole).
        luma: ``[1, 1, H, W]`` guide of the propagation into the hole; the result's luminance when ``None``.

    Returns:
        ``[1, 6, H, W]``: the gains ``a`` (channels 0..2) and shifts ``b`` (3..5) of R, G, B. Apply with
        :func:`apply_drift`.

    Example:
        >>> orig = torch.rand(1, 3, 32, 32); known = torch.ones(1, 1, 32, 32); known[..., 8:24, 8:24] = 0
        >>> drifted = (orig * 0.95 + 0.03).clamp(0, 1)
        >>> fixed = apply_drift(drifted, estimate_drift(drifted, orig, known))
        >>> bool((fixed - orig).abs()[..., 8:24, 8:24].mean() < 0.2 * (drifted - orig).abs()[..., 8:24, 8:24].mean())
        True
    """
    h, w = result.shape[-2:]
    sigma = max(1.0, WINDOW_FRACTION * max(h, w))
    weight = gaussian_blur(known, sigma)

    def local_mean(x: torch.Tensor) -> torch.Tensor:
        return gaussian_blur(x * known, sigma) / weight.clamp(min=1e-6)

    mean_r, mean_o = local_mean(result), local_mean(original)
    var_r = (local_mean(result * result) - mean_r.square()).clamp(min=0.0)
    cov = local_mean(result * original) - mean_r * mean_o
    gain = (cov + RIDGE) / (var_r + RIDGE)
    shift = mean_o - gain * mean_r
    coefficients = torch.cat([gain, shift], dim=1)
    trusted = (weight > MIN_KNOWN_WEIGHT).to(result.dtype) * known
    if float(trusted.sum()) < 1:
        trusted = known
    if luma is None:
        luma = result.mean(dim=1, keepdim=True)
    return propagate(luma, coefficients, trusted, cancel=cancel)


def apply_drift(result: torch.Tensor, coefficients: torch.Tensor) -> torch.Tensor:
    """``a * result + b`` with the coefficients of :func:`estimate_drift` (brought to ``result``'s size bilinearly
    when they were estimated at a smaller size); not clamped.

    Args:
        result: ``[1, 3, H, W]``; coefficients: ``[1, 6, h, w]``.
    """
    if coefficients.shape[-2:] != result.shape[-2:]:
        coefficients = torch.nn.functional.interpolate(
            coefficients, size=result.shape[-2:], mode="bilinear", align_corners=False
        )
    return coefficients[:, :3] * result + coefficients[:, 3:]
