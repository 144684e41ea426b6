"""Colour that changes over a video only where the video changes: the previous frame's colour carried over.

Each frame of a sequence is coloured from its own pixels, and the estimate at a point of the scene moves a little from
frame to frame as the hole and the picture move: the colour flickers. Where the scene did not change, the previous
frame's colour is the better guess, so it is carried over: the camera's motion between the two frames is estimated
(a translation, by phase correlation of their luminance), the previous frame's chroma is moved by it, and blended into
the current frame's where the moved luminance still matches the current one (within :data:`LUMA_TOLERANCE`). Where
something moved on its own, or new content appeared, the luminance disagrees and the frame keeps its own colour.
"""

from __future__ import annotations

import logging

import torch

from ..shared.color import fit_to_gamut, luma_chroma

log = logging.getLogger(__name__)

#: Share of the previous frame's colour in a point the scene did not change (a recursive filter: the flicker of
#: independent estimates falls to about sqrt((1 - m) / (1 + m)) of theirs). 0.85 against 0.7 on the tune photo mcm01
#: (48 frames' first 16, bleeding): flicker 0.78 against 0.99 levels, hole PSNR 24.31 against 23.56 dB.
MEMORY = 0.85
#: Luminance difference (0..1) at which the previous frame's colour is trusted half.
LUMA_TOLERANCE = 0.03
#: A frame whose known region's luminance differs from the last frame's, the camera's motion undone, by more than
#: this (mean absolute, 0..1) is a cut: the sequence learns again.
SCENE_CUT = 0.1
#: Intersection over union of consecutive masks above which a batch counts as a sequence by default.
MIN_MASK_OVERLAP = 0.3


def masks_move_little(mask: torch.Tensor) -> bool:
    """Whether a mask batch ``[B, 1, H, W]`` (hole where > 0) stays put enough for a sequence: one mask for every
    frame, or consecutive masks overlapping by at least :data:`MIN_MASK_OVERLAP` (intersection over union).

    Example:
        >>> m = torch.zeros(3, 1, 8, 8); m[:, :, 2:6, 2:6] = 1; m[2, :, 2:6, 3:7] = 1
        >>> masks_move_little(m), masks_move_little(torch.roll(m, 4, dims=0))
        (True, True)
    """
    if mask.shape[0] < 2:
        return True
    hole = (mask > 0).flatten(1)
    inter = (hole[1:] & hole[:-1]).sum(dim=1).float()
    union = (hole[1:] | hole[:-1]).sum(dim=1).float()
    return bool(((inter / union.clamp(min=1.0)) >= MIN_MASK_OVERLAP).all())


class FrameFollower:
    """Follows a video from frame to frame: the camera's motion, cuts, and the last frame's result to carry over.

    Call :meth:`follow` with each frame's luminance (at the working size) before fixing it, :meth:`steady` with its
    estimate, and :meth:`remember` with its final result. Nothing is kept per frame beyond the last one.
    """

    def __init__(self) -> None:
        self.luma: torch.Tensor | None = None  # the last frame's luminance at the working size
        self.shift: tuple[int, int] | None = None  # the camera's motion from the last frame to this one
        self.previous: torch.Tensor | None = None  # the last frame's result, [1, 3, H, W]

    def follow(self, luma: torch.Tensor, known: torch.Tensor) -> bool:
        """Follow the camera to this frame (``luma``, ``[1, 1, h, w]``; ``known``: where its pixels are the photo's).
        Returns True at a cut: the known region, motion undone, no longer shows the same scene (then nothing is
        carried over)."""
        last, self.luma, self.shift = self.luma, luma, None
        if last is None or last.shape != luma.shape:
            return False
        self.shift = estimate_shift(last, luma)
        dy, dx = self.shift
        moved = torch.roll(last, shifts=(-dy, -dx), dims=(2, 3))
        change = float(((luma - moved).abs() * known).sum() / known.sum().clamp(min=1.0))
        if change <= SCENE_CUT:
            return False
        log.info("the scene changed (mean luminance change %.2f): learning the colours again", change)
        self.shift, self.previous = None, None
        return True

    def steady(self, result: torch.Tensor, region: torch.Tensor, scale: float) -> torch.Tensor:
        """``result`` (this frame's, ``[1, 3, H, W]``) with the last frame's colour carried over where the scene did
        not change (:func:`carry_over`), only inside ``region`` (``[1, 1, H, W]``). ``scale``: result pixels per
        working pixel (the motion was found at the working size; a pan moves every scale alike)."""
        previous, self.previous = self.previous, None
        if previous is None or previous.shape != result.shape or self.shift is None:
            return result
        luma, chroma = luma_chroma(result)
        previous_luma, previous_chroma = luma_chroma(previous)
        shift = (round(self.shift[0] * scale), round(self.shift[1] * scale))
        return fit_to_gamut(luma, carry_over(previous_chroma, previous_luma, chroma, luma, shift, region))

    def remember(self, final: torch.Tensor) -> None:
        """Keep this frame's final result (``[1, 3, H, W]``, as the user gets it: the photo's own colours where the
        mask is 0) for the next frame's :meth:`steady`."""
        self.previous = final


def estimate_shift(previous: torch.Tensor, current: torch.Tensor) -> tuple[int, int]:
    """The translation ``(dy, dx)`` with ``current[y, x] ~ previous[y + dy, x + dx]``, by phase correlation.

    Args:
        previous, current: ``[1, 1, H, W]`` luminance.

    Example:
        >>> img = torch.rand(1, 1, 64, 64, generator=torch.Generator().manual_seed(0))
        >>> estimate_shift(img, torch.roll(img, shifts=(3, -5), dims=(2, 3)))
        (-3, 5)
    """
    h, w = current.shape[-2:]
    window = torch.hann_window(h, device=current.device).view(h, 1) * torch.hann_window(w, device=current.device)
    a = torch.fft.rfft2((previous[0, 0] - previous.mean()) * window)
    b = torch.fft.rfft2((current[0, 0] - current.mean()) * window)
    cross = a * b.conj()
    surface = torch.fft.irfft2(cross / cross.abs().clamp(min=1e-12), s=(h, w))
    index = int(torch.argmax(surface))
    dy, dx = index // w, index % w
    return (dy - h if dy > h // 2 else dy), (dx - w if dx > w // 2 else dx)


def carry_over(
    previous_chroma: torch.Tensor,
    previous_luma: torch.Tensor,
    chroma: torch.Tensor,
    luma: torch.Tensor,
    shift: tuple[int, int],
    region: torch.Tensor,
) -> torch.Tensor:
    """``chroma`` with the previous frame's colour blended in where the scene did not change.

    Args:
        previous_chroma, previous_luma: ``[1, 2, H, W]`` and ``[1, 1, H, W]`` of the previous frame's result.
        chroma, luma: the current frame's.
        shift: ``(dy, dx)`` from :func:`estimate_shift` (previous to current).
        region: ``[1, 1, H, W]``, where the colour may be changed (the hole); 0 keeps ``chroma``.

    Returns:
        ``[1, 2, H, W]``.
    """
    dy, dx = shift
    moved_chroma = torch.roll(previous_chroma, shifts=(-dy, -dx), dims=(2, 3))
    moved_luma = torch.roll(previous_luma, shifts=(-dy, -dx), dims=(2, 3))
    valid = torch.ones_like(luma)
    h, w = luma.shape[-2:]
    # Pixels the shift brought in from outside the previous frame have no previous colour.
    if dy > 0:
        valid[..., h - dy :, :] = 0
    elif dy < 0:
        valid[..., : -dy, :] = 0
    if dx > 0:
        valid[..., :, w - dx :] = 0
    elif dx < 0:
        valid[..., :, : -dx] = 0
    agreement = torch.exp(-((luma - moved_luma) / LUMA_TOLERANCE).square() * 0.6931)
    weight = MEMORY * agreement * valid * region
    return chroma + weight * (moved_chroma - chroma)
