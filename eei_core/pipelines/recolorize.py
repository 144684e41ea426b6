"""Fix the colours of any other inpainter's output: the drift its decoder added, the seam, and colour bleeding.

Two kinds of fill reach this function, and they need different things:

- **restoration** (object removal, hole filling): the hole should look like the rest of the photo. Inpainters trained
  on big data invent good structure but bleed colour into the hole; the inpainter's luminance is kept (the
  monochromic bottleneck of the paper) and the hole's colour is restored from the image's own known colours by the
  internal colorizer (:func:`~eei_core.internal.colorize.colorize_working`). Where the inpainter's own colour agrees
  with that estimate within its measured error it is kept (:mod:`~eei_core.internal.chroma_fusion`);
- **creative fill** (the user prompted new content): its colours are intended. What is wrong is around it: the VAE
  round trip's colour drift, in the whole result when it was not composited (:mod:`~eei_core.compose.drift`), and the
  seam it leaves against the original.

The drift is corrected first, in every mode (it is the decoder's, not the content's), where a colour transform
explains the result outside the hole (a background the model redrew is no drift). Then, per region, the evidence
decides (:mod:`~eei_core.compose.new_content`): where the colour pattern the inpainter drew is surely the one the
image's gray-to-colour mapping predicts (the hole continues what the photo shows), bleeding is corrected; where it is
unrelated, or its colours are found nowhere in the known region (a new object), or the evidence is weak, the
inpainter's colour stays. ``auto`` corrects only what is surely wrong: a region whose verdict is clearly familiar
(:func:`restore_weight`) behind a stretch of the hole's edge where the fill's colour steps away from the photo's
(:func:`~eei_core.compose.bleeding.bleeding_evidence`). A fill whose colours continue the photo's comes back as it
was, wherever the prediction disagrees with it deeper in: a missed correction costs less than a wrong one. The
result is blended over the original with the mask's own values, so soft (feathered) masks leave no edge and unmasked
pixels are kept exactly. Everything is estimated at the working size (:mod:`~eei_core.internal.frame`) and brought
back to full size.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch

from ..compose.bleeding import bleeding_evidence
from ..compose.drift import apply_drift, estimate_drift, has_drift
from ..compose.new_content import new_content
from ..compose.seam import seam_correction
from ..internal.chroma_fusion import (
    HELD_OUT_HOLES,
    apply_fusion,
    fusion_correction,
    prediction_tolerance,
    smooth_scale,
)
from ..internal.colorize import colorize_working, frame_hints
from ..internal.config import ColorizeConfig, count_levels, per_level, resolve_config
from ..internal.learned_correction import LearnedCorrection, held_out_propagations
from ..internal.frame import WorkingFrame, plan_frame, upsample_guided
from ..internal.hints import Hint
from ..internal.temporal import FrameFollower, masks_move_little
from ..shared.checks import (
    align_to_output,
    batch_item,
    batch_size,
    binarize_mask,
    check_has_hole,
    check_image,
    check_known_pixels,
    check_mask,
    check_same_size,
    check_value_range,
)
from ..shared.color import fit_to_gamut, luma_chroma, rotate_hue
from ..shared.device import resolve_device
from ..shared.errors import EEIInputError
from ..shared.filters import masked_blur
from ..shared.masks import grow_mask
from ..shared.progress import CancelFn, ProgressFn, StepCounter
from ..shared.propagate import propagate

log = logging.getLogger(__name__)

#: Default growth of the mask in pixels. Growing re-colours the seam where an inpainter blended past the mask, but
#: on the recolorize benchmark (MI-GAN and synthetic bleeding) 4 pixels cost up to 1.3 dB against 0: the known ring it
#: hides is the best colour evidence. With ``original`` given, pixels outside the mask are the original's anyway.
DEFAULT_MASK_GROW = 0

Mode = Literal["auto", "restore", "keep", "replace"]
#: What each mode does with the hole's colour (the drift is corrected and the seam blended in every mode).
MODES: dict[str, str] = {
    "auto": "new content and colours that may be right are kept; bleeding is corrected where the evidence is strong",
    "restore": "the whole hole is treated as restoration: bleeding corrected, agreeing colour kept",
    "keep": "the inpainter's colours are kept (only the drift and the seam are fixed)",
    "replace": "every hole pixel gets the colour learned from the image",
}


def recolorize(
    image: torch.Tensor,
    mask: torch.Tensor,
    original: torch.Tensor | None = None,
    hints: Sequence[Hint] | None = None,
    *,
    config: str | ColorizeConfig = "learned",
    mode: Mode = "auto",
    mask_grow: int = DEFAULT_MASK_GROW,
    levels: int | None = None,
    working_size: int | None = None,
    sequence: bool | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Fix the colours of an inpainted image: drift, seam, and (per region, by ``mode``) colour bleeding.

    Args:
        image: ``[B, 3, H, W]`` in 0..1, the other inpainter's output; its luminance is kept in the hole (after the
            drift correction).
        mask: ``[B, 1, H', W']`` in 0..1, the region the inpainter filled (1 = new). Soft values blend the result over
            the original; the colour is learned from pixels below 0.5 and the drift from pixels at 0.
        original: ``[B, 3, H', W']``, the image before inpainting; known colours are read from it (from ``image``
            when not given), the drift is learned against it, and the result is blended over it. ``original`` and
            ``mask`` may be up to 8 pixels larger than ``image`` (VAEEncodeForInpaint crops to multiples of 8): they
            are then cropped to it as that node crops, with a logged note.
        hints: colour points that steer the hole's colours; in ``auto`` they switch the fusion off (``replace``).
        mode: ``auto`` (default), ``restore``, ``keep`` or ``replace``; see :data:`MODES`.
        mask_grow: pixels by which the mask is grown so the seam is re-coloured too.
        working_size: longer side in pixels at which colour is estimated and fused (a crop around the hole, shrunk
            to it); ``None`` = the preset's (512), 0 = full size.
        sequence: treat the batch as the frames of a video (:class:`SequenceRecolorizer`): what is learned on the
            first frame is reused on the next, so later frames cost a fraction and their colours do not flicker.
            ``None`` (default): on for a batch of more than one image whose masks move little
            (:func:`masks_move_little`).

    Returns:
        ``[B, 3, H, W]`` in 0..1: ``original`` (or ``image``) where the mask is 0, the fixed result blended over it
        by the mask's values elsewhere.

    Example:
        >>> img = torch.rand(1, 3, 24, 24); hole = torch.zeros(1, 1, 24, 24); hole[..., 8:16, 8:16] = 1
        >>> recolorize(img, hole).shape
        torch.Size([1, 3, 24, 24])
    """
    if mode not in MODES:
        raise EEIInputError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    image, blend, original = _checked_inputs(image, mask, original, mask_grow)
    batch = batch_size({"image": image, "mask": blend, "original": original})  # checked by _checked_inputs
    reference = original if original is not None else image
    cfg = resolve_config(config, working_size)
    if mode == "auto" and hints:
        mode = "replace"  # hints ask for a colour change
    dev = resolve_device(device, image)
    h, w = image.shape[-2:]
    n_levels = count_levels(cfg, levels, h, w)
    if sequence is None:
        sequence = batch > 1 and masks_move_little(blend)
    per_item = 0 if mode == "keep" else sum(per_level(cfg.iterations, n_levels))
    # In a sequence the fast preset learns on the first frame only; every other frame is one step.
    learns_once = sequence and cfg.mode == "prior"
    counter = StepCounter(per_item + (batch - 1) if learns_once else per_item * batch, progress, cancel)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    state = _SequenceState.planned(blend.amax(dim=0, keepdim=True), cfg, hints) if sequence else None
    out = []
    for i in range(batch):
        soft = batch_item(blend, i).to(dev, torch.float32)
        known_colour = batch_item(reference, i).to(dev, torch.float32)
        inpainted = batch_item(image, i).to(dev, torch.float32)
        if float(soft.max()) <= 0.0:
            counter.step(n_levels - 1, None, count=1 if learns_once else per_item)
            out.append(known_colour.to(image.device, image.dtype))
            continue
        item = _recolorize_item(inpainted, soft, known_colour, original is not None, hints, cfg, mode, n_levels,
                                generator, counter, (h, w), state)
        out.append(item.to(image.device, image.dtype))
    return torch.cat(out, dim=0)


def _checked_inputs(
    image: torch.Tensor, mask: torch.Tensor, original: torch.Tensor | None, mask_grow: int, require_hole: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """``image`` (RGB, 0..1), the blend mask (the mask clamped to 0..1, grown by ``mask_grow``) and ``original``
    (RGB, 0..1, aligned to ``image``), checked as :func:`recolorize` documents.

    Raises:
        EEIInputError: bad shapes, values or batch sizes, no hole (unless ``require_hole`` is False: one frame of a
            video may have none), no known pixel, or a ``mask_grow`` that covers an item.
    """
    check_image(image, "image", channels=(3, 4))
    check_mask(mask)
    image = check_value_range(image[:, :3], "image")
    mask = align_to_output(image, mask, "mask")
    check_same_size(image, mask, "image", "mask")
    if original is not None:
        check_image(original, "original", channels=(3, 4))
        original = check_value_range(align_to_output(image, original[:, :3], "original"), "original")
        check_same_size(image, original, "image", "original")
    batch_size({"image": image, "mask": mask, "original": original})
    mask = mask.clamp(0.0, 1.0)
    if require_hole:
        check_has_hole(mask)
    check_known_pixels(binarize_mask(mask))
    grown = grow_mask(binarize_mask(mask), mask_grow)
    if bool((grown.flatten(1).min(dim=1).values > 0.5).any()):
        raise EEIInputError(
            f"mask_grow={mask_grow} grows the mask over the whole image, leaving no known colour; use a smaller mask_grow"
        )
    # A grown ring is replaced outright; without growth the mask's own soft values blend.
    return image, (torch.maximum(mask, grown) if mask_grow > 0 else mask), original


def _recolorize_item(
    inpainted: torch.Tensor,
    soft: torch.Tensor,
    reference: torch.Tensor,
    has_original: bool,
    hints: Sequence[Hint] | None,
    cfg: ColorizeConfig,
    mode: str,
    levels: int,
    generator: torch.Generator,
    counter: StepCounter,
    full: tuple[int, int],
    state: _SequenceState | None = None,
) -> torch.Tensor:
    """One image: drift, colour and fusion are estimated at the frame's working size, then brought to full size.

    ``soft`` is the blend mask (0..1); the hole whose colour is estimated is where it exceeds 0.5, and the drift is
    learned where it is 0. With ``state`` (a sequence), the frame plan, and the learned correction of
    earlier frames are reused, and the drift estimate is smoothed over time.
    """
    changed = (soft > 0).to(soft.dtype)
    hole = binarize_mask(soft)
    if state is not None:
        frame = state.frame
    else:
        frame = plan_frame(changed, cfg.working_size, cfg.context, [(p.x, p.y) for p in hints or []])
    small_hole = frame.shrink_mask(hole)
    small_inpainted = frame.shrink(inpainted)
    small_reference = frame.shrink(reference)
    full_inpainted = frame.crop(inpainted)
    untouched = 1.0 - frame.shrink_mask(changed)
    if state is not None:
        state.notice_cut(luma_chroma(small_inpainted)[0], untouched)
    if has_original and has_drift(small_inpainted, small_reference, untouched):
        drift = estimate_drift(small_inpainted, small_reference, untouched, cancel=counter.cancel)
        if state is not None:
            drift = state.smooth_drift(drift)
        small_inpainted = apply_drift(small_inpainted, drift).clamp(0.0, 1.0)
        full_inpainted = apply_drift(full_inpainted, drift).clamp(0.0, 1.0)
    if mode == "keep":
        fused = full_inpainted
    else:
        full_luma, full_chroma = luma_chroma(full_inpainted)
        luma, inpainter_chroma = luma_chroma(small_inpainted)
        reused = state.learned if state is not None else None
        estimate = colorize_working(luma, small_reference, small_hole, frame_hints(frame, hints, full), cfg, levels,
                                    generator, counter, reused)
        if state is not None:
            state.learned = estimate.learned
        predicted = luma_chroma(fit_to_gamut(luma, luma_chroma(estimate.rgb)[1]))[1]
        if mode == "replace":
            known = 1.0 - frame.crop(hole)
            chroma = upsample_guided(predicted, full_luma, luma_chroma(frame.crop(reference))[1], known,
                                     cancel=counter.cancel)
        else:
            _, reference_chroma = luma_chroma(small_reference)
            # Measured on every frame (a few propagations at the working size): how far the propagation may be off
            # depends on where the hole lies in the picture, and a sequence reusing the first frame's lost 1 dB.
            held_out = estimate.held_out or held_out_propagations(
                luma, reference_chroma, small_hole, 1.0 - small_hole, HELD_OUT_HOLES, generator,
                cfg.propagation_iterations, counter.cancel,
            )
            tolerance = prediction_tolerance(held_out)
            validated = None
            if cfg.mode == "rgb":
                # The tolerance measured the propagation's error; the paper's generators were never tested on
                # held-out pixels, so the propagation is the estimate the tolerance vouches for.
                validated = propagate(luma, reference_chroma, 1.0 - small_hole, iterations=cfg.propagation_iterations,
                                      cancel=counter.cancel)
            angle, correction = fusion_correction(inpainter_chroma, predicted, small_hole, tolerance, validated)
            if mode == "auto":
                angle, correction = _spare_new_content(inpainter_chroma, predicted, small_hole, luma, angle, correction,
                                                       small_reference)
            chroma = apply_fusion(full_chroma, angle, frame.enlarge(correction))
        fused = fit_to_gamut(full_luma, chroma)
        # Full-size buffers not needed past here (about 330 MB for the five at 4096x4096): the seam's are made next.
        del chroma, full_luma, full_chroma
    if state is not None:
        fused = state.follower.steady(fused, frame.crop(changed), frame.scale)
    if has_original:
        # The mismatch along the edge is the inpainter's own (what it re-drew there, what its drift left), so it is
        # measured on its drift-corrected output: measured on the fused colour, it would undo the bleeding fix.
        fused = fused + seam_correction(full_inpainted, frame.crop(reference), frame.crop(changed))
    weight = frame.crop(soft)
    final = weight * fused.clamp(0.0, 1.0) + (1.0 - weight) * frame.crop(reference)
    if state is not None:
        state.follower.remember(final)
    return frame.paste(reference, final)


def _spare_new_content(
    inpainter: torch.Tensor,
    predicted: torch.Tensor,
    hole: torch.Tensor,
    luma: torch.Tensor,
    angle: float,
    correction: torch.Tensor,
    known_rgb: torch.Tensor,
) -> tuple[float, torch.Tensor]:
    """The hue turn and smooth correction of the fusion, kept only where bleeding is sure.

    The correction is weighed by how surely each region is familiar (:func:`restore_weight` of the new-content
    verdict, :func:`~eei_core.compose.new_content.new_content`) and by the evidence of bleeding along the hole's edge
    behind it (:func:`~eei_core.compose.bleeding.bleeding_evidence`): new content, and a fill whose colours continue
    the photo's, keep the inpainter's smooth colour, region by region. It is judged after the hue turn-back, which
    makes bleeding with a shifted hue familiar again. The turn itself is one angle for the whole hole: it is kept
    when most of the hole is familiar and dropped when most of it is new (a turn measured over a new object is a
    spurious one); turning only the familiar regions would leave a familiar region that the verdict misses in the
    wrong hue.
    """
    sigma = smooth_scale(*hole.shape[-2:])
    turned = rotate_hue(inpainter, -angle) if angle else inpainter
    restorable = restore_weight(new_content(turned, predicted, hole, sigma, luma, known_rgb))
    familiar_share = float((restorable * hole).sum() / hole.sum().clamp(min=1.0))
    angle = angle * min(1.0, max(0.0, (familiar_share - 0.25) / 0.25))
    # Only a fill whose colour steps away from the photo's along the edge is surely wrong (see compose.bleeding).
    restorable = restorable * bleeding_evidence(turned, predicted, hole, luma)
    # The verdict continues past the hole's edge into a soft mask's blend band, or it would step there.
    restorable = torch.where(hole > 0.5, restorable, masked_blur(restorable, hole, sigma))
    return angle, correction * restorable


#: The new-content verdict (0 = the learned colour explains the region, 1 = new) at or below which ``auto`` restores a
#: region fully, and at or above which it leaves the inpainter's colour alone. A wrong restore on new content (a
#: bench's rail turned blue, a blouse yellowed) shows far more than a missed correction, so only strong evidence of
#: bleeding restores. Bleeding scored 0.02 "new" on average on the tune half of the synthetic cases (issue 11); the
#: green object of the creative-fill server test scored 0.81 to 0.98 as a quarter of a level of noise moved it, and
#: ``1 - new`` left up to a fifth of the restoration on it (its colour off by 0.009 to 0.126). The ramp cost
#: set14_barbara/field (tune) 0.57 dB against ``1 - new``.
SURELY_FAMILIAR = 0.1
SURELY_NEW = 0.4


def restore_weight(new: torch.Tensor) -> torch.Tensor:
    """How much of the restoration ``auto`` applies, from the new-content verdict ``new`` (any shape, 0..1): 1 at or
    below :data:`SURELY_FAMILIAR`, 0 at or above :data:`SURELY_NEW`, linear between.

    Example:
        >>> restore_weight(torch.tensor([0.0, 0.1, 0.25, 0.4, 0.9])).tolist()
        [1.0, 1.0, 0.5, 0.0, 0.0]
    """
    return ((SURELY_NEW - new) / (SURELY_NEW - SURELY_FAMILIAR)).clamp(0.0, 1.0)


#: Weight of the drift learned on earlier frames when a sequence's frame is corrected (the rest is the frame's own):
#: a decoder's drift changes slowly, and an estimate per frame alone would flicker with the content.
DRIFT_MEMORY = 0.7


@dataclass
class _SequenceState:
    """What a sequence learned on its earlier frames, at the working size of its one frame plan."""

    frame: WorkingFrame
    learned: LearnedCorrection | None = None
    drift: torch.Tensor | None = None
    follower: FrameFollower = field(default_factory=FrameFollower)

    @classmethod
    def planned(cls, mask: torch.Tensor, cfg: ColorizeConfig, hints: Sequence[Hint] | None) -> _SequenceState:
        """A fresh state whose frame plan covers ``mask`` (``[1, 1, H, W]``, the holes of all frames where > 0)."""
        return cls(plan_frame((mask > 0).to(mask.dtype), cfg.working_size, cfg.context,
                              [(p.x, p.y) for p in hints or []]))

    def notice_cut(self, luma: torch.Tensor, known: torch.Tensor) -> None:
        """Follow the camera to this frame; at a cut, forget what was learned (:meth:`FrameFollower.follow`)."""
        if self.follower.follow(luma, known):
            self.learned, self.drift = None, None

    def smooth_drift(self, estimate: torch.Tensor) -> torch.Tensor:
        """The frame's drift coefficients blended with the earlier frames' (see :data:`DRIFT_MEMORY`)."""
        if self.drift is not None:
            estimate = DRIFT_MEMORY * self.drift + (1.0 - DRIFT_MEMORY) * estimate
        self.drift = estimate
        return estimate


class SequenceRecolorizer:
    """RecolorizeAny over the frames of a video, one frame at a time, with what is learned carried over.

    The first frame learns the fast colorizer's correction; every later frame reuses it, so it costs the propagations
    and the fusion (a fraction of the first), and its colours come from the same learned mapping. The drift estimate
    is smoothed over time, and where the scene did not change a point keeps the last frame's colour
    (:class:`~eei_core.internal.temporal.FrameFollower`). All frames share one frame plan: a crop around
    ``plan_mask`` (the union of the sequence's masks; the first frame's mask when not given). A frame whose known
    region changed more than :data:`~eei_core.internal.temporal.SCENE_CUT` starts learning afresh. Memory does not
    grow with the number of frames: nothing is kept per frame but the last one's result.

    Args:
        plan_mask: ``[1, 1, H, W]``, hole where > 0: where the holes of all frames lie.
        The other arguments are :func:`recolorize`'s.

    Example:
        >>> fix = SequenceRecolorizer(seed=0)
        >>> frames = torch.rand(3, 3, 32, 32); hole = torch.zeros(1, 1, 32, 32); hole[..., 8:20, 8:20] = 1
        >>> [fix(frames[i : i + 1], hole).shape[0] for i in range(3)]
        [1, 1, 1]
    """

    def __init__(
        self,
        *,
        config: str | ColorizeConfig = "learned",
        mode: Mode = "auto",
        mask_grow: int = DEFAULT_MASK_GROW,
        levels: int | None = None,
        working_size: int | None = None,
        seed: int = 0,
        plan_mask: torch.Tensor | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        if mode not in MODES:
            raise EEIInputError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        self.cfg = resolve_config(config, working_size)
        self.mode, self.mask_grow, self.levels, self.plan_mask = mode, mask_grow, levels, plan_mask
        self.progress, self.cancel, self.device = progress, cancel, device
        self.generator = torch.Generator(device="cpu").manual_seed(int(seed))
        self.state: _SequenceState | None = None

    def __call__(
        self,
        image: torch.Tensor,
        mask: torch.Tensor,
        original: torch.Tensor | None = None,
        hints: Sequence[Hint] | None = None,
    ) -> torch.Tensor:
        """The next frame fixed: ``image`` ``[1, 3, H, W]``, ``mask`` ``[1, 1, H', W']``, ``original`` as in
        :func:`recolorize`; returns ``[1, 3, H, W]``."""
        image, blend, original = _checked_inputs(image, mask, original, self.mask_grow, require_hole=False)
        dev = resolve_device(self.device, image)
        h, w = image.shape[-2:]
        levels = count_levels(self.cfg, self.levels, h, w)
        mode = "replace" if self.mode == "auto" and hints else self.mode
        if self.state is None:
            plan = blend if self.plan_mask is None else align_to_output(image, self.plan_mask, "plan_mask")
            self.state = _SequenceState.planned(plan, self.cfg, hints)
        first = self.state.learned is None
        total = 1 if mode == "keep" or not first else sum(per_level(self.cfg.iterations, levels))
        counter = StepCounter(total, self.progress, self.cancel)
        reference = original if original is not None else image
        if float(blend.max()) <= 0.0:
            counter.step(levels - 1, None, count=total)
            return reference.clone()
        item = _recolorize_item(image.to(dev, torch.float32), blend.to(dev, torch.float32),
                                reference.to(dev, torch.float32), original is not None, hints, self.cfg, mode, levels,
                                self.generator, counter, (h, w), self.state)
        return item.to(image.device, image.dtype)
