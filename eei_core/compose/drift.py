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

A drift is only what a colour transform explains. Where the model redrew the scene outside the hole (clouds moved,
texture regenerated, a ControlNet background that is another picture), the two images disagree in structure, and a
fit there would flatten the result towards the original's local mean (its gain collapses), which carried into the
hole reads as a halo or a grey fringe. So a window is trusted only where the transform explains most of the
original's variation (:data:`EXPLAINED`) or where both images are flat there; untrusted windows take their
coefficients from trusted ones by the propagation, and when too few known pixels are trusted
(:data:`TRUSTED_SHARE`) no drift is corrected at all. Gains are kept within :data:`MAX_GAIN_CHANGE` of 1, and
the correction keeps the result's luminance detail (:func:`apply_drift`): it shifts colour and brightness smoothly
and never changes the contrast of the content's edges.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..shared.color import to_mono
from ..shared.filters import gaussian_blur
from ..shared.progress import CancelFn
from ..shared.propagate import propagate

#: Window of the local fit (Gaussian sigma) as a fraction of the image's longer side.
WINDOW_FRACTION = 1.0 / 12.0
#: Ridge weight pulling the gain ``a`` towards 1, in squared colour units: a window whose colours vary less than about
#: sqrt(RIDGE) gets a pure shift.
RIDGE = 1e-3
#: A known region whose median pixel differs from the original by no more than this (in 0..1 units, its most changed
#: channel) has no drift: the result was composited over the original (see :func:`has_drift`).
NO_DRIFT = 0.5 / 255.0
#: Windows with less than this fraction of known pixels are not trusted; the propagation fills them.
MIN_KNOWN_WEIGHT = 0.2
#: Share of the original's variance in a window that the fitted transform must explain (the squared correlation of
#: result and original, per channel, the worst channel counting) at or below which the window is not trusted, and at
#: or above which it is fully trusted. A decoded copy of a photo explains 0.9 and more where it has texture; a
#: regenerated background far less (a redrawn sky with clouds elsewhere, a ControlNet picture).
EXPLAINED = (0.5, 0.75)
#: Standard deviation (0..1 units) below which both images count as flat in a window: a shift is all there is to
#: fit, and the decoder's noise there says nothing of the structure.
FLAT = 4.0 / 255.0
#: Share of the known pixels that are trusted at or below which no drift is corrected, and at or above which the
#: estimate is taken in full (between the two, in part).
TRUSTED_SHARE = (0.15, 0.35)
#: Gains stay within this factor of 1: a decoder shifts colours, it does not halve or double contrast.
MAX_GAIN_CHANGE = 1.15
#: Gaussian sigma, as a fraction of the image's longer side, over which the correction's luminance is smoothed so the
#: content's own luminance detail (its edges, its texture) is kept as the inpainter drew it.
LUMA_SMOOTH_FRACTION = 1.0 / 32.0


def has_drift(result: torch.Tensor, original: torch.Tensor, known: torch.Tensor) -> bool:
    """Whether ``result`` drifted from ``original`` on the ``known`` pixels (all ``[1, C, H, W]``, ``known`` 0/1): whether
    the median known pixel differs by more than :data:`NO_DRIFT` in its most changed channel.

    A decoder's drift moves nearly every pixel (84-97% of them by more than 1.5 levels on the dev edits that have one);
    a result composited over the original, even with some of it regenerated (captions redrawn, the edit's colour
    spilling past its mask), leaves most pixels exact. A mean would count the regenerated parts as a drift, and the
    transform fitted around the edit would then carry the edit's own spill back into it (a purple edit turned brown by
    ΔE 7), so the median pixel decides.

    Example:
        >>> img = torch.rand(1, 3, 8, 8); known = torch.ones(1, 1, 8, 8)
        >>> has_drift(img, img, known), has_drift(img * 0.9, img, known)
        (False, True)
        >>> redrawn = img.clone(); redrawn[..., :3, :] = torch.rand(1, 3, 3, 8)  # 3 of 8 rows regenerated
        >>> has_drift(redrawn, img, known)
        False
    """
    moved = (result - original).abs().amax(dim=1, keepdim=True)[known > 0.5]
    if moved.numel() == 0:
        return False
    return float(moved.median()) > NO_DRIFT


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
        >>> orig = F.interpolate(torch.rand(1, 3, 4, 4), size=(32, 32), mode="bilinear")   # smooth colours
        >>> known = torch.ones(1, 1, 32, 32); known[..., 8:24, 8:24] = 0
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
    var_o = (local_mean(original * original) - mean_o.square()).clamp(min=0.0)
    cov = local_mean(result * original) - mean_r * mean_o
    gain = ((cov + RIDGE) / (var_r + RIDGE)).clamp(1.0 / MAX_GAIN_CHANGE, MAX_GAIN_CHANGE)
    shift = mean_o - gain * mean_r
    coefficients = torch.cat([gain, shift], dim=1)
    # Trust: the transform explains the window's structure (or there is none to explain), in every channel.
    explained = cov.clamp(min=0.0).square() / (var_r * var_o).clamp(min=1e-12)
    flat = (torch.maximum(var_r, var_o) <= FLAT**2).to(result.dtype)
    low, high = EXPLAINED
    consistency = torch.maximum(flat, ((explained - low) / (high - low)).clamp(0.0, 1.0)).amin(dim=1, keepdim=True)
    trusted = (weight > MIN_KNOWN_WEIGHT).to(result.dtype) * known * (consistency >= 0.5).to(result.dtype)
    # Too few trusted pixels and the drift is not corrected: phased out, so that no verdict sits on a knife edge.
    low, high = TRUSTED_SHARE
    belief = (float(trusted.sum()) / max(float(known.sum()), 1.0) - low) / (high - low)
    identity = no_drift(result)
    if belief <= 0.0:
        return identity
    if luma is None:
        luma = result.mean(dim=1, keepdim=True)
    return identity.lerp_(propagate(luma, coefficients, trusted, cancel=cancel), min(belief, 1.0))


def no_drift(result: torch.Tensor) -> torch.Tensor:
    """The coefficients ``[1, 6, H, W]`` of the identity transform (gains 1, shifts 0) for ``result [1, 3, H, W]``."""
    h, w = result.shape[-2:]
    identity = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0], device=result.device, dtype=result.dtype)
    return identity.view(1, 6, 1, 1).expand(1, 6, h, w).clone()


def apply_drift(result: torch.Tensor, coefficients: torch.Tensor) -> torch.Tensor:
    """``a * result + b`` with the coefficients of :func:`estimate_drift` (brought to ``result``'s size bilinearly
    when they were estimated at a smaller size), its luminance change smoothed; not clamped.

    The colour (B - Y, R - Y) takes the transform as it is; the luminance takes only its smooth part (a Gaussian of
    :data:`LUMA_SMOOTH_FRACTION` of the longer side): a gain on the luminance would soften or harden every edge of
    the content, and a decoder's drift is a shift of brightness, not of contrast. Adding the same value to R, G and
    B moves the luminance by it and leaves the colour differences as they are.

    Args:
        result: ``[1, 3, H, W]``; coefficients: ``[1, 6, h, w]``.

    Example:
        >>> stripes = torch.zeros(1, 3, 32, 256); stripes[..., ::2] = 0.8      # fine texture, mean 0.4
        >>> gains = torch.cat([torch.full((1, 3, 32, 256), 0.9), torch.zeros(1, 3, 32, 256)], dim=1)
        >>> out = apply_drift(stripes, gains)        # a plain gain of 0.9 would cut the stripes' contrast to 0.72
        >>> contrast = float(out[0, 1, 16, 128] - out[0, 1, 16, 129])
        >>> mean = float(out[0, 1, 16, 120:136].mean())
        >>> round(contrast, 2), round(mean, 2)       # the contrast kept, the brightness lowered by the gain
        (0.8, 0.36)
    """
    if coefficients.shape[-2:] != result.shape[-2:]:
        coefficients = F.interpolate(
            coefficients, size=result.shape[-2:], mode="bilinear", align_corners=False
        )
    out = coefficients[:, :3] * result + coefficients[:, 3:]
    change = to_mono(out) - to_mono(result)
    sigma = max(1.0, LUMA_SMOOTH_FRACTION * max(result.shape[-2:]))
    return out.add_(gaussian_blur(change, sigma).sub_(change))
