"""What an edit changed: the part of an editor's output that the prompt asked for, apart from what it merely redrew.

A whole-image editor regenerates every pixel. After registration (:mod:`~eei_core.compose.registration`) the redrawn
scene still differs from the photo: a colour and tone drift that varies over the image, lost fine texture, small
misplacements of edges. The edit (a hat, a word on a sign, a new gown) differs by far more, over a connected region.
So the two images are compared after taking out what the redrawing explains:

1. the drift, in two passes: first one colour transform for the whole frame (:func:`global_colour_fit`, refitted
   without the pixels it does not explain), which cannot explain a local change, gives a first guess of the changed
   region; then the local colour transform :func:`~eei_core.compose.drift.estimate_drift` is learned on the rest and
   carried into the guess, and applied to the edit. (Learned on every pixel at once, the local transform explained a
   region's change of tone away: its windows are smaller than many edits.) An edit that even the whole-frame fit
   leaves more than :data:`RESTYLE_DELTA_E` off on most of the frame is a restyle, and refused;
2. lost texture: both images are blurred by :data:`BLUR_SIGMA` working pixels before they are compared;
3. misplacement: each pixel's colour difference (ΔE in CIE L*a*b*) is the smallest over shifts of the edit by up to
   :data:`SHIFT_RADIUS` working pixels.

The difference left is large on the edit and near the noise level elsewhere. Its noise level is measured on the image
itself (median and spread over the covered pixels), since a masked inpainter's composite is exact outside its mask
and a regenerating editor is not. Changed pixels are found by hysteresis (pixels above the high threshold, and the
pixels above the low one connected to them), small specks are dropped, gaps closed and holes filled; the region is
grown by a margin and feathered outwards, so the mask is 1 on the edit and 0 exactly a margin and a feather beyond.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from ..shared.color import rgb_to_lab
from ..shared.errors import EEIInputError
from ..shared.filters import gaussian_blur
from ..shared.masks import grow_mask
from ..shared.progress import CancelFn, check_cancel
from .drift import apply_drift, estimate_drift, has_drift

log = logging.getLogger(__name__)

#: Longer side (pixels) of the working size the images are compared at: a thin added structure (the chain of the
#: s1x_pendant pair, about 5 px wide at 1536) must stay wider there than the shifts of SHIFT_RADIUS (at 640 most of
#: that chain was lost).
WORKING_SIDE = 768
#: The global colour fit of the first pass reads every this-many-th pixel, and pulls its gain towards 1 with this
#: ridge (squared colour units; the local drift's value): an image of nearly one colour gets a shift, not a gain.
FIT_STRIDE = 7
FIT_RIDGE = 1e-3
#: Gaussian sigma (working pixels) of the blur both images get before they are compared: texture the editor lost or
#: redrew finer than this is not an edit.
BLUR_SIGMA = 1.0
#: Shifts (working pixels, each way) over which the smallest difference is taken: edges the editor moved by up to
#: this much are not an edit (a 1.4% squeeze left edges of the dev pairs up to 2 working pixels off).
SHIFT_RADIUS = 2
#: A changed region grows from its pixels that differ beyond every shift of SHIFT_RADIUS into the connected pixels
#: that differ beyond the shifts of this radius only: a thin added structure (a necklace's chain) is wiped out by the
#: larger shifts, which find the skin beside it, but not by these.
NEAR_RADIUS = 1
#: Longer side (pixels) at which the drift is learned for the comparison: it is smooth (windows of a twelfth of the
#: image), and its propagation into the changed region costs with the region's pixel count.
DRIFT_SIDE = 256
#: Low threshold (ΔE ab) of the hysteresis at the default sensitivity, at least: an edit changes colours by more than
#: the 10 ΔE that regenerated skin, foliage and text of the dev pairs kept after the drift was taken out.
MIN_LOW = 6.0
#: The low threshold is also at least the median difference plus this many robust standard deviations of it (at the
#: default sensitivity): the editor's own noise level, measured on the image.
NOISE_SPREAD = 4.0
#: The high threshold (a changed region needs one pixel above it) as a multiple of the low one.
HIGH_FACTOR = 2.0
#: Default sensitivity; the thresholds are divided by ``2 ** ((sensitivity - 0.5) * 2)`` (1.0 halves them, 0.0
#: doubles them).
DEFAULT_SENSITIVITY = 0.5
#: Changed regions smaller than this share of the frame are dropped as specks.
MIN_REGION_SHARE = 2e-4
#: Gaps between changed pixels closed, as a fraction of the working longer side.
CLOSING_FRACTION = 1.0 / 128.0
#: Margin added around the changed region, and the feather beyond it (linear from 1 to 0), as fractions of the
#: original's longer side (8 and 8 pixels at 1024).
MARGIN_FRACTION = 1.0 / 128.0
FEATHER_FRACTION = 1.0 / 128.0
#: A pixel differing by more than this (ΔE ab, after one colour transform for the whole frame) counts towards a
#: restyle whatever the image's noise level: a decoder's drift is a few ΔE.
RESTYLE_DELTA_E = 20.0
#: Share of the covered frame above which the edit is not a local one (a restyle, a new composition): merging would
#: keep only scattered bits of the photo, so :func:`find_changes` refuses.
MAX_CHANGED_SHARE = 0.5


@dataclass
class Changes:
    """What :func:`find_changes` found: ``mask`` ``[1, 1, H, W]`` in 0..1 (1 = take the edit; feathered outwards; 0
    exactly beyond margin and feather), ``share`` the share of the frame changed before the margin, and the two
    thresholds (ΔE ab) used."""

    mask: torch.Tensor
    share: float
    thresholds: tuple[float, float]


def difference(original: torch.Tensor, edited: torch.Tensor, original_lab: torch.Tensor | None = None) -> torch.Tensor:
    """ΔE ab between the two images after a blur of :data:`BLUR_SIGMA`, the smallest over shifts of ``edited`` by
    up to :data:`SHIFT_RADIUS` pixels.

    Args:
        original, edited: ``[1, 3, H, W]`` in 0..1.
        original_lab: :func:`blurred_lab` of ``original`` when already computed.

    Returns:
        ``[1, 1, H, W]``, ΔE ab (0 = equal; about 2.3 is a just noticeable difference).

    Example:
        >>> photo = torch.rand(1, 3, 32, 32)
        >>> float(difference(photo, torch.roll(photo, 1, dims=-1))[..., 4:-4, 4:-4].max()) < 1e-3  # moved, not changed
        True
    """
    return _differences(original, edited, original_lab)[0]


def _differences(
    original: torch.Tensor, edited: torch.Tensor, original_lab: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`difference`, and the same over shifts of up to :data:`NEAR_RADIUS` pixels only."""
    lab_o = blurred_lab(original) if original_lab is None else original_lab
    r = SHIFT_RADIUS
    padded = F.pad(blurred_lab(edited), (r, r, r, r), mode="replicate")
    h, w = original.shape[-2:]
    best = near = None
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            d = (padded[..., dy : dy + h, dx : dx + w] - lab_o).square_().sum(dim=1, keepdim=True)
            if abs(dy - r) <= NEAR_RADIUS and abs(dx - r) <= NEAR_RADIUS:
                near = d.clone() if near is None else torch.minimum(near, d, out=near)
            best = d if best is None else torch.minimum(best, d, out=best)
    return best.sqrt_(), near.sqrt_()


def blurred_lab(image: torch.Tensor) -> torch.Tensor:
    """CIE L*a*b* of ``image`` (``[1, 3, H, W]`` in 0..1) after a Gaussian blur of :data:`BLUR_SIGMA` pixels."""
    return rgb_to_lab(gaussian_blur(image, BLUR_SIGMA))


def find_changes(
    original: torch.Tensor,
    edited: torch.Tensor,
    covered: torch.Tensor | None = None,
    *,
    sensitivity: float = DEFAULT_SENSITIVITY,
    hint: torch.Tensor | None = None,
    cancel: CancelFn | None = None,
) -> Changes:
    """Where ``edited`` shows something the prompt changed, as a soft mask at ``original``'s size.

    Args:
        original: ``[1, 3, H, W]`` in 0..1, the photo.
        edited: ``[1, 3, H, W]`` in 0..1, the edit in the original's frame (:func:`~eei_core.compose.registration.
            warp_to_original`).
        covered: ``[1, 1, H, W]``, 1 where ``edited`` has pixels (all when ``None``); elsewhere nothing changed.
        sensitivity: 0..1; higher finds fainter changes (and more of the editor's noise). See
            :data:`DEFAULT_SENSITIVITY`.
        hint: ``[1, 1, H, W]`` in 0..1 or ``None``: where the edit is (a rough mask). Changes are looked for only
            within it (grown by the closing distance); if none is found there, the hint itself is the changed region.

    Returns:
        :class:`Changes`.

    Raises:
        EEIInputError: a sensitivity outside 0..1, or more than :data:`MAX_CHANGED_SHARE` of the frame changed.

    Example:
        >>> photo = torch.full((1, 3, 64, 64), 0.5); photo[..., ::8, :] = 0.3      # a striped wall
        >>> edit = (photo * 1.05).clamp(0, 1); edit[:, 0, 24:40, 24:40] = 0.9     # a drift, and a red square
        >>> found = find_changes(photo, edit)
        >>> float(found.mask[..., 32, 32]), float(found.mask[..., 4, 4]), round(found.share, 2)
        (1.0, 0.0, 0.1)
    """
    if not 0.0 <= float(sensitivity) <= 1.0:
        raise EEIInputError(f"sensitivity must be between 0 and 1, got {sensitivity}")
    h, w = original.shape[-2:]
    covered = torch.ones_like(original[:, :1]) if covered is None else (covered > 0.5).to(original.dtype)
    factor = min(1.0, WORKING_SIDE / max(h, w))
    size = (max(8, round(h * factor)), max(8, round(w * factor)))

    def shrink(x: torch.Tensor) -> torch.Tensor:
        return x if size == (h, w) else F.interpolate(x, size=size, mode="bilinear", align_corners=False,
                                                       antialias=True)

    small_o, small_e = shrink(original), shrink(edited)
    small_cov = (shrink(covered) > 0.999).to(original.dtype)
    if float(small_cov.sum()) < 1:
        small_cov = torch.ones_like(small_cov)
    scale = 2.0 ** ((float(sensitivity) - DEFAULT_SENSITIVITY) * 2.0)
    closing = max(1, round(CLOSING_FRACTION * max(size)))

    # Pass 1: one colour transform for the whole frame (robust to the edit, unable to explain a local change) gives
    # a first guess of the changed region; pass 2 learns the local drift without it and decides.
    check_cancel(cancel)
    # Pixels nearer than SHIFT_RADIUS to the frame's edge or to uncovered pixels have no shifted match to compare
    # with (what moved in from outside the frame): they are not judged.
    judged = 1.0 - grow_mask(1.0 - F.pad(small_cov, (1, 1, 1, 1)), SHIFT_RADIUS)[..., 1:-1, 1:-1]
    lab_o = blurred_lab(small_o)
    diff, near = (d * judged for d in _differences(small_o, global_colour_fit(small_e, small_o, small_cov), lab_o))
    _check_local(float((diff > RESTYLE_DELTA_E).sum()) / max(1.0, float(small_cov.sum())))
    thresholds = _thresholds(diff, small_cov, scale)
    guess = grow_mask(_hysteresis(near, diff, *thresholds), SHIFT_RADIUS)
    _check_local(float((guess * small_cov).sum()) / max(1.0, float(small_cov.sum())))
    check_cancel(cancel)
    agree = small_cov * (1.0 - grow_mask(guess, closing))
    if float(agree.sum()) < 1:
        agree = small_cov
    corrected = small_e
    if has_drift(small_e, small_o, agree):
        corrected = apply_drift(small_e, _drift(small_e, small_o, agree, cancel)).clamp(0.0, 1.0)
    diff, near = (d * judged for d in _differences(small_o, corrected, lab_o))
    thresholds = _thresholds(diff, small_cov, scale)
    # The smallest difference over shifts eats into an edit's edge: given back here.
    found = grow_mask(_hysteresis(near, diff, *thresholds), SHIFT_RADIUS)
    if hint is not None:
        allowed = grow_mask((shrink(hint) > 0.5).to(found.dtype), closing)
        found = found * allowed
        if float(found.sum()) < 1 and float(allowed.sum()) > 0:
            log.info("no change found within the hint: the hint itself is taken as the changed region")
            found = (shrink(hint) > 0.5).to(found.dtype)
    region = _clean(found, closing, MIN_REGION_SHARE * found.numel()) * small_cov
    share = float(region.sum()) / max(1.0, float(small_cov.sum()))
    _check_local(share)
    log.info("changed region: %.2f%% of the frame (thresholds %.1f / %.1f ΔE ab)", 100 * share, *thresholds)
    return Changes(_feathered(region, (h, w), covered), share, thresholds)


def _check_local(share: float) -> None:
    """Raise when ``share`` of the frame changed exceeds :data:`MAX_CHANGED_SHARE`."""
    if share > MAX_CHANGED_SHARE:
        raise EEIInputError(
            f"the edit changed {100 * share:.0f}% of the image (more than {100 * MAX_CHANGED_SHARE:.0f}%): it is not "
            "a local edit (a restyle, relighting or new composition), so there is little of the photo to give back. "
            "Use the edit as it is, or connect a mask of the region you want from it"
        )


def global_colour_fit(edited: torch.Tensor, original: torch.Tensor, covered: torch.Tensor) -> torch.Tensor:
    """``edited`` under the one per-channel transform ``a * edited + b`` that best matches ``original`` on the
    ``covered`` pixels, refitted twice without the pixels it does not explain (over 3 robust deviations off), so an
    edit does not bend it. ``[1, 3, H, W]`` in 0..1.

    Example:
        >>> photo = torch.rand(1, 3, 16, 16); cast = photo * 0.9 + 0.05; cast[..., :4, :4] = 1.0
        >>> fitted = global_colour_fit(cast, photo, torch.ones(1, 1, 16, 16))
        >>> bool((fitted - photo)[..., 4:, 4:].abs().max() < 0.01)
        True
    """
    # Fitted on every FIT_STRIDE-th pixel: three numbers per channel need no more.
    e = edited.flatten(2)[0, :, ::FIT_STRIDE]  # [3, N]
    o = original.flatten(2)[0, :, ::FIT_STRIDE]
    weight = (covered.flatten(2)[0, :, ::FIT_STRIDE] > 0.5).to(e.dtype).expand_as(e).clone()
    gain = shift = None
    for _ in range(3):
        n = weight.sum(dim=1).clamp(min=1.0)
        mean_e, mean_o = (weight * e).sum(dim=1) / n, (weight * o).sum(dim=1) / n
        var = (weight * (e - mean_e[:, None]).square()).sum(dim=1) / n
        cov = (weight * (e - mean_e[:, None]) * (o - mean_o[:, None])).sum(dim=1) / n
        gain = (cov + FIT_RIDGE) / (var + FIT_RIDGE)
        shift = mean_o - gain * mean_e
        residual = (gain[:, None] * e + shift[:, None] - o).abs()
        spread = 1.4826 * residual.median(dim=1, keepdim=True).values + 1e-4
        weight = weight * (residual <= 3.0 * spread).to(e.dtype)
    return (gain.view(1, 3, 1, 1) * edited + shift.view(1, 3, 1, 1)).clamp(0.0, 1.0)


def _drift(edited: torch.Tensor, original: torch.Tensor, agree: torch.Tensor, cancel: CancelFn | None) -> torch.Tensor:
    """:func:`~eei_core.compose.drift.estimate_drift` learned where ``agree`` is 1, at :data:`DRIFT_SIDE`."""
    h, w = edited.shape[-2:]
    factor = min(1.0, DRIFT_SIDE / max(h, w))
    if factor < 1.0:
        size = (max(8, round(h * factor)), max(8, round(w * factor)))
        edited, original = (F.interpolate(x, size=size, mode="area") for x in (edited, original))
        agree = (F.interpolate(agree, size=size, mode="area") > 0.999).to(agree.dtype)
        if float(agree.sum()) < 1:
            agree = torch.ones_like(agree)
    return estimate_drift(edited, original, agree, cancel=cancel)


def _thresholds(diff: torch.Tensor, covered: torch.Tensor, scale: float) -> tuple[float, float]:
    """Low and high hysteresis thresholds (ΔE ab) from the difference's median and robust spread."""
    values = diff[covered > 0.5]
    median = float(values.median())
    spread = 1.4826 * float((values - median).abs().median())
    low = max(MIN_LOW, median + NOISE_SPREAD * spread) / scale
    return low, HIGH_FACTOR * low


def _hysteresis(weak_diff: torch.Tensor, diff: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Pixels where ``weak_diff`` is above ``low`` connected (8-neighbours) to a pixel where ``diff`` is above ``high``
    (and ``weak_diff`` above ``low``): ``[1, 1, h, w]`` 0/1."""
    strong = ((diff[0, 0] > high) & (weak_diff[0, 0] > low)).cpu().numpy()
    weak = (weak_diff[0, 0] > low).cpu().numpy()
    labels, count = ndimage.label(weak, structure=np.ones((3, 3), bool))
    if count == 0:
        return torch.zeros_like(diff)
    keep = np.zeros(count + 1, bool)
    keep[np.unique(labels[strong])] = True
    keep[0] = False
    return torch.from_numpy(keep[labels]).to(diff.device, diff.dtype).view_as(diff)


def _clean(found: torch.Tensor, closing: int, min_area: float) -> torch.Tensor:
    """``found`` (0/1) with gaps up to ``closing`` pixels closed, holes filled and regions under ``min_area`` pixels
    dropped."""
    if float(found.sum()) < 1:
        return found
    closed = 1.0 - grow_mask(1.0 - grow_mask(found, closing), closing)
    mask = ndimage.binary_fill_holes(closed[0, 0].cpu().numpy() > 0.5)
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if count:
        areas = ndimage.sum(mask, labels, index=np.arange(1, count + 1))
        keep = np.concatenate([[False], areas >= min_area])
        mask = keep[labels]
    return torch.from_numpy(mask).to(found.device, found.dtype).view_as(found)


def _feathered(region: torch.Tensor, size: tuple[int, int], covered: torch.Tensor) -> torch.Tensor:
    """The working-size region at ``size``: 1 inside it and a margin around, falling linearly to 0 over a feather
    (:data:`MARGIN_FRACTION`, :data:`FEATHER_FRACTION`); 0 where the edit has no pixels."""
    h, w = size
    if float(region.sum()) < 1:
        return torch.zeros(1, 1, h, w, device=region.device, dtype=region.dtype)
    full = F.interpolate(region, size=size, mode="bilinear", align_corners=False) > 0.5
    margin = MARGIN_FRACTION * max(h, w)
    feather = max(1.0, FEATHER_FRACTION * max(h, w))
    distance = ndimage.distance_transform_edt(~full[0, 0].cpu().numpy())
    soft = np.clip(1.0 - (distance - margin) / feather, 0.0, 1.0).astype(np.float32)
    out = torch.from_numpy(soft).to(region.device, region.dtype).view(1, 1, h, w)
    return out * (covered > 0.5).to(out.dtype)


def ramp_width(size: tuple[int, int]) -> float:
    """Pixels from the changed region's edge to where its mask reaches 0 (margin plus feather) at ``size``."""
    side = max(size)
    return MARGIN_FRACTION * side + max(1.0, FEATHER_FRACTION * side)
