"""Keep the inpainter's colour where it agrees with the colour learned from the image; replace it where it bleeds.

RecolorizeAny has two colour estimates for the hole: the other inpainter's (sharp, plausible, but maybe bled in from
a neighbour or shifted by a VAE) and the internal colorizer's (learned from the known pixels, but smoother and
sometimes wrong where the hole holds something the rest of the image never shows). Replacing the inpainter's colour
outright throws away its good colour whenever our estimate is the worse one; on MI-GAN outputs, which barely bleed,
that cost up to 0.5 dB per case.

Colour bleeding is low-frequency: a tint over the hole, a smooth cast, a colour smeared in from one side. So the
chroma disagreement ``d = inpainter - predicted`` is split into a smooth part ``L`` (a Gaussian blur over the hole
only) and detail ``d - L``. The detail stays (the inpainter's texture colour). The smooth part is the candidate
bleeding; it is removed only where it exceeds what the predictor's own error explains. That error is measured on
held-out copies of the hole moved into the known region (plus the ring of known pixels around the hole), where the
true colour is known. It grows with the distance from known pixels, since far into a big hole our estimate is a
guess (on MI-GAN faces with 60-90% holes the learned skin colour was worse than MI-GAN's own by up to 0.5 dB). A non-negative garrote then keeps ``L * min(1, (tau / |L|)^2)``: disagreements below ``tau`` are kept
whole, large ones are corrected almost fully.

One kind of bleeding is not smooth: a global hue shift (a VAE colour shift, a drifted sampler) rotates every colour
of the hole, its texture included, so the kept detail would carry the wrong hue. It shows as a rotation between the
inpainter's colour detail and the prediction's: :func:`hue_shift` measures it by complex regression of one detail on
the other (hue is the angle of the chroma in the normalised (B - Y, R - Y) plane), and the inpainter's hole is
rotated back before the fusion. Without a hue shift the measured angle stays within a few degrees (MI-GAN outputs
and casts or leaks of colour: at most 10 degrees on the recolorize benchmark), so smaller angles are left alone and
the correction is phased in between :data:`ROTATION_IGNORED_DEG` and :data:`ROTATION_TRUSTED_DEG`.
"""

from __future__ import annotations

import logging
import math

import torch
import torch.nn.functional as F

from ..shared.color import CHROMA_RANGE, rotate_hue
from ..shared.filters import masked_blur
from .learned_correction import HeldOut

log = logging.getLogger(__name__)

#: Blur of the disagreement, as a fraction of the image's longer side: bleeding casts span tens of pixels.
SMOOTH_FRACTION = 1.0 / 16.0
#: Quantile of the predictor's held-out smooth error used as the base tolerance.
ERROR_QUANTILE = 0.5
#: Distance into the hole (fraction of the longer side) over which the tolerance grows by itself once more.
DEPTH_FRACTION = 1.0 / 64.0
#: Held-out copies of the hole for measuring that error (the ring around the hole is added to them), when the
#: colorizer did not make its own.
HELD_OUT_HOLES = 3
#: Hue rotations (degrees) between the inpainter's colour detail and the prediction's below this are estimation
#: noise; rotations above :data:`ROTATION_TRUSTED_DEG` are undone fully, and in between they are undone in part.
ROTATION_IGNORED_DEG = 10.0
ROTATION_TRUSTED_DEG = 20.0
#: Correlation of the two colour details below which their angle means nothing (no common texture colour), and
#: above which it is trusted fully.
DETAIL_CORRELATION_IGNORED = 0.3
DETAIL_CORRELATION_TRUSTED = 0.5
#: Fewest hole pixels for a hue-shift estimate.
MIN_ROTATION_PIXELS = 64


def distance_to_known(mask: torch.Tensor, cap: int) -> torch.Tensor:
    """Chessboard distance ``[B, 1, H, W]`` of every hole pixel to the nearest known pixel (0 outside), at most ``cap``.

    Beyond the picture's border there is no known pixel. SciPy's two-pass transform gives it in one sweep (0.24 s per
    512x512 frame went into the erosions it replaces); without SciPy the hole is eroded ``cap`` times.

    Example:
        >>> m = torch.zeros(1, 1, 1, 7); m[..., 1:6] = 1.0
        >>> distance_to_known(m, 10)[0, 0, 0].tolist()
        [0.0, 1.0, 2.0, 3.0, 2.0, 1.0, 0.0]
    """
    hole = mask > 0.5
    try:
        from scipy.ndimage import distance_transform_cdt
    except ImportError:
        return _eroded_distance(hole.to(mask.dtype), cap)
    out = torch.zeros_like(mask)
    for i in range(mask.shape[0]):
        item = hole[i, 0].cpu().numpy()
        if item.all():  # no known pixel: every hole pixel is as far as the cap
            out[i, 0] = float(cap)
        elif item.any():
            far = distance_transform_cdt(item, metric="chessboard")
            out[i, 0] = torch.from_numpy(far).to(mask).clamp_(max=float(cap))
    return out


def _eroded_distance(remaining: torch.Tensor, cap: int) -> torch.Tensor:
    """:func:`distance_to_known` by eroding the hole (``[B, 1, H, W]``, 1 = hole) one pixel at a time."""
    dist = torch.zeros_like(remaining)
    for _ in range(cap):
        if float(remaining.max()) < 0.5:
            break
        dist = dist + remaining
        remaining = -F.max_pool2d(-remaining, 3, stride=1, padding=1)
    return dist


def smooth_scale(height: int, width: int) -> float:
    """Blur sigma of the disagreement for an image of this size, in pixels."""
    return max(1.0, max(height, width) * SMOOTH_FRACTION)


def prediction_tolerance(held_out: list[HeldOut]) -> float:
    """How far (in chroma units) the colour prior's smooth error typically goes, measured where the truth is known.

    On each held-out copy of the hole (:func:`~eei_core.internal.colorize.held_out_propagations`: the hole moved into
    the known region, and the ring of known pixels around it) the propagation's error is blurred as the fusion blurs
    the disagreement; the :data:`ERROR_QUANTILE` quantile of its magnitude over those pixels is returned.

    Returns:
        The tolerance; 0.0 when nothing was held out.

    Example:
        >>> c = torch.zeros(1, 2, 16, 16); hole = torch.zeros(1, 1, 16, 16); hole[..., 4:8, 4:8] = 1
        >>> prediction_tolerance([HeldOut(c + 0.01, hole, c)]) > 0.009
        True
    """
    if not held_out:
        return 0.0
    errors = []
    for example in held_out:
        sigma = smooth_scale(*example.truth.shape[-2:])
        smooth = masked_blur(example.estimate - example.truth, example.hole, sigma).norm(dim=1, keepdim=True)
        errors.append(smooth[example.hole > 0.5])
    return float(torch.quantile(torch.cat(errors).float(), ERROR_QUANTILE))


def _ramp(value: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (value - low) / (high - low)))


def hue_shift(inpainter: torch.Tensor, predicted: torch.Tensor, mask: torch.Tensor) -> float:
    """The hue rotation (radians) that the inpainter's hole shows against the prediction, or 0.0 when there is none.

    Both chromas lose their smooth part (a Gaussian over the hole); the detail left is the texture's colour, which a
    colour cast does not touch but a hue shift rotates. With ``z`` the normalised chroma as a complex number, the
    least-squares ``k`` in ``z_inpainter ~ k * z_predicted`` gives the angle ``arg k``. The angle is shrunk to 0 when
    it is small (estimation noise, see :data:`ROTATION_IGNORED_DEG`) or when the two details barely correlate.

    Args:
        inpainter: ``[1, 2, H, W]`` the inpainter's chroma (B - Y, R - Y), "paper" weights.
        predicted: ``[1, 2, H, W]`` the colorizer's.
        mask: ``[1, 1, H, W]``, 1 = hole; only hole pixels are compared.

    Returns:
        The angle in radians by which the inpainter's hue is rotated; undo it with
        ``rotate_hue(inpainter, -angle)``.
    """
    hole = (mask > 0.5).to(inpainter.dtype)
    inside = hole[0, 0] > 0.5
    if int(inside.sum()) < MIN_ROTATION_PIXELS:
        return 0.0
    sigma = smooth_scale(*mask.shape[-2:])
    # Sums over up to millions of pixels: float64, on the CPU (MPS has no float64).
    scale = torch.tensor(CHROMA_RANGE, dtype=torch.float64).view(2, 1)

    def detail(chroma: torch.Tensor) -> torch.Tensor:
        d = (chroma - masked_blur(chroma, hole, sigma))[0][:, inside].cpu().double() / scale
        return torch.complex(d[0], d[1])

    z_in, z_pred = detail(inpainter), detail(predicted)
    energy_in, energy_pred = float(z_in.abs().square().sum()), float(z_pred.abs().square().sum())
    if energy_in <= 1e-12 or energy_pred <= 1e-12:
        return 0.0
    cross = complex((z_pred.conj() * z_in).sum())
    correlation = abs(cross) / math.sqrt(energy_in * energy_pred)
    angle = math.atan2(cross.imag, cross.real)
    trust = _ramp(math.degrees(abs(angle)), ROTATION_IGNORED_DEG, ROTATION_TRUSTED_DEG) * _ramp(
        correlation, DETAIL_CORRELATION_IGNORED, DETAIL_CORRELATION_TRUSTED
    )
    return angle * trust


def fusion_correction(
    inpainter: torch.Tensor,
    predicted: torch.Tensor,
    mask: torch.Tensor,
    tolerance: float,
    validated: torch.Tensor | None = None,
) -> tuple[float, torch.Tensor]:
    """What the fusion changes in the inpainter's chroma: a hue turn and a smooth correction.

    The fused chroma is ``rotate_hue(inpainter, -angle) - correction`` in the hole (:func:`apply_fusion`): the
    inpainter's hue shift is undone (:func:`hue_shift`), and the part of its smooth disagreement with ``predicted``
    that the predictor's error does not explain is removed. The correction is smooth (a blur of the hole's size
    scale), so it is computed at the working size and can be brought to full size bilinearly.

    Args:
        inpainter: ``[1, 2, H, W]`` the other inpainter's colour differences (B - Y, R - Y).
        predicted: ``[1, 2, H, W]`` the colorizer's.
        mask: ``[1, 1, H, W]``, 1 = hole.
        tolerance: base tolerance from :func:`prediction_tolerance`; 0 gives ``predicted``'s smooth colour with the
            inpainter's detail.
        validated: ``[1, 2, H, W]`` the estimate whose error ``tolerance`` measured (the propagation), when
            ``predicted`` is another one that was never tested on held-out pixels (the paper preset's generators).
            By the triangle inequality ``predicted``'s error may exceed the measured one by its smooth departure from
            ``validated``, so that departure is added to the tolerance: where the two disagree, the inpainter's
            colour is trusted more. A hue shift is then measured against ``validated`` too.

    Returns:
        The hue angle in radians and the correction ``[1, 2, H, W]`` (defined everywhere, a smooth field; only its
        values in the hole are used).
    """
    hole = (mask > 0.5).to(inpainter.dtype)
    h, w = mask.shape[-2:]
    source = inpainter
    angle = hue_shift(inpainter, predicted if validated is None else validated, hole)
    if angle:
        log.info("the inpainter shifted the hole's hue by %.0f degrees; turning it back", math.degrees(angle))
        source = rotate_hue(inpainter, -angle)
    sigma = smooth_scale(h, w)
    smooth = masked_blur(source - predicted, hole, sigma)
    length = max(1.0, max(h, w) * DEPTH_FRACTION)
    # Past 16 lengths the tolerance is so large that nothing but a gross disagreement is corrected anyway.
    tau = tolerance * (1.0 + distance_to_known(hole, int(16 * length)) / length)
    if validated is not None:
        tau = tau + masked_blur(predicted - validated, hole, sigma).norm(dim=1, keepdim=True)
    keep = (tau / smooth.norm(dim=1, keepdim=True).clamp(min=1e-12)).square().clamp(max=1.0)
    return angle, smooth * (1.0 - keep)


def apply_fusion(inpainter: torch.Tensor, angle: float | torch.Tensor, correction: torch.Tensor) -> torch.Tensor:
    """The fused chroma ``rotate_hue(inpainter, -angle) - correction`` (``[1, 2, H, W]``; ``angle`` a number or a
    ``[1, 1, H, W]`` field of the same size)."""
    source = inpainter if isinstance(angle, float) and not angle else rotate_hue(inpainter, -angle)
    return source - correction


def fuse_chroma(
    inpainter: torch.Tensor,
    predicted: torch.Tensor,
    mask: torch.Tensor,
    tolerance: float,
    validated: torch.Tensor | None = None,
) -> torch.Tensor:
    """Chroma of the hole at one size: the inpainter's, with a hue shift undone, minus the part of its smooth
    disagreement with ``predicted`` that the predictor's error does not explain (:func:`fusion_correction`).

    Returns:
        ``[1, 2, H, W]`` chroma; equal to ``inpainter`` outside the hole.

    Example:
        >>> m = torch.zeros(1, 1, 16, 16); m[..., 4:12, 4:12] = 1
        >>> pred = torch.zeros(1, 2, 16, 16)
        >>> tint = torch.full((1, 2, 16, 16), 0.2)   # a strong tint: removed
        >>> float(fuse_chroma(tint, pred, m, 0.005)[0, 0, 8, 8]) < 0.01
        True
        >>> slight = torch.full((1, 2, 16, 16), 0.005)  # within the tolerance: kept
        >>> round(float(fuse_chroma(slight, pred, m, 0.005)[0, 0, 8, 8]), 4)
        0.005
    """
    angle, correction = fusion_correction(inpainter, predicted, mask, tolerance, validated)
    hole = (mask > 0.5).to(inpainter.dtype)
    return hole * apply_fusion(inpainter, angle, correction) + (1.0 - hole) * inpainter
