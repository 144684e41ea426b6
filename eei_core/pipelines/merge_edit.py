"""Merge a whole-image editor's output back into the original: keep the edit, give back the rest of the photo.

Instruction editors (Qwen-Image-Edit, FLUX Kontext, Step1X-Edit, OmniGen2 ...) regenerate every pixel: regions the
prompt never mentioned come back with a colour drift, lost detail, a shift of a few pixels or a slight zoom, often at
another size. :func:`merge_edit` puts the stages of :mod:`eei_core.compose` together:

1. **register** the edit into the original's frame (:mod:`~eei_core.compose.registration`: a zoom and a shift per
   axis; what the editor drew outside the original's frame is dropped, what it cropped away is the original's);
2. **find what the prompt changed** (:mod:`~eei_core.compose.changes`), or look for it only within a mask given as
   a hint;
3. **merge** with RecolorizeAny's machinery (:func:`~eei_core.pipelines.recolorize.recolorize`, ``mode="keep"`` by
   default): the colour drift the editor put on the whole image is learned on the unchanged pixels and taken out of
   the edit, carried along the image's edges (:mod:`~eei_core.compose.drift`); the seam at the changed region's edge
   is carried inwards (:mod:`~eei_core.compose.seam`); the changed mask, feathered outwards, blends the edit over the
   original. Where the mask is 0 the result is the original's pixels exactly.

An edit that changed most of the picture (a restyle, a relighting) has little to give back, and a merge would keep
scattered pieces of the photo inside a changed scene: :func:`merge_edit` raises an
:class:`~eei_core.shared.errors.EEIInputError` saying so (:data:`~eei_core.compose.changes.MAX_CHANGED_SHARE`),
so the user takes the edit as it is, or gives a mask of the region to keep from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from ..compose.changes import DEFAULT_SENSITIVITY, find_changes
from ..compose.registration import Registration, register, warp_to_original
from ..shared.checks import batch_item, batch_size, check_image, check_mask, check_same_size, check_value_range
from ..shared.device import resolve_device
from ..shared.errors import EEIInputError
from ..shared.progress import CancelFn, ProgressFn, StepCounter
from .recolorize import MODES, Mode, recolorize

log = logging.getLogger(__name__)

#: What the merge does inside the changed region, per ``mode`` (RecolorizeAny's modes; ``keep`` is the default: an
#: edit's colours are what the prompt asked for).
MERGE_MODES: dict[str, str] = {
    "keep": "the edit's colours are kept; the editor's drift is taken out and the seam fixed (default)",
    "auto": "RecolorizeAny's verdict per region: new content keeps its colours, colour that continues the photo is "
    "restored from it (for edits that remove something)",
    "restore": "the changed region is treated as restoration (an object removed): its colours learned from the photo",
    "replace": "every changed pixel gets the colour learned from the photo (the edit's luminance only)",
}
#: Merge steps per batch item for the progress bar: registration, change detection, merge.
STEPS_PER_ITEM = 3


@dataclass
class MergedEdit:
    """The result of :func:`merge_edit`.

    ``image``: ``[B, 3, H, W]`` in 0..1 at the original's size; ``mask``: ``[B, 1, H, W]`` in 0..1, what was taken
    from the edit (1 = the edit, feathered outwards, 0 = the original's pixels exactly); ``registrations`` and
    ``changed_shares`` per item (the transform found, the share of the frame that changed).
    """

    image: torch.Tensor
    mask: torch.Tensor
    registrations: list[Registration]
    changed_shares: list[float]


def merge_edit(
    original: torch.Tensor,
    edited: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    sensitivity: float = DEFAULT_SENSITIVITY,
    mode: Mode = "keep",
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    device: str | torch.device | None = None,
) -> MergedEdit:
    """Keep what an editor changed and give back the original's pixels everywhere else.

    Args:
        original: ``[B, 3, H, W]`` (or 4 channels; alpha is ignored) in 0..1, the image given to the editor.
        edited: ``[B, 3, H', W']`` in 0..1, what the editor returned: any size whose aspect is within
            :data:`~eei_core.compose.registration.MAX_ASPECT_CHANGE` of the original's; shifted, zoomed or
            reframed a little (:func:`~eei_core.compose.registration.register`).
        mask: ``[B, 1, H, W]`` in 0..1 or ``None``: a hint where the edit is (a rough mask, or the one the editor was
            given); changes are looked for only within it.
        sensitivity: 0..1 (default 0.5); higher finds fainter changes, lower only strong ones.
        mode: what happens inside the changed region; see :data:`MERGE_MODES`.
        seed: seed of the colour learning of the ``auto``, ``restore`` and ``replace`` modes.

    Batches follow the one batch rule (:func:`~eei_core.shared.checks.batch_size`).

    Returns:
        :class:`MergedEdit` (``image`` at the original's size, ``mask`` of what was taken from the edit).

    Raises:
        EEIInputError: bad shapes or values, a mask whose size is not the original's, an edit that cannot be
            registered (another aspect or another picture), or an edit that changed more than
            :data:`~eei_core.compose.changes.MAX_CHANGED_SHARE` of the frame.

    Example:
        >>> ys, xs = torch.meshgrid(torch.linspace(0, 1, 64), torch.linspace(0, 1, 96), indexing="ij")
        >>> photo = torch.stack([torch.sin(9 * xs + 4 * ys ** 2), torch.cos(7 * ys * xs + 3 * ys),
        ...                      torch.sin(5 * xs * ys)]).unsqueeze(0) * 0.4 + 0.5
        >>> edit = photo.clone(); edit[:, :, 20:40, 30:60] = torch.tensor([0.9, 0.1, 0.1]).view(1, 3, 1, 1)
        >>> merged = merge_edit(photo, (edit * 1.05).clamp(0, 1))           # the editor also brightened everything
        >>> bool(torch.equal(merged.image[..., :10, :], photo[..., :10, :]))   # the photo given back exactly
        True
        >>> abs(float(merged.image[0, 0, 30, 45]) - 0.9) < 0.03, float(merged.mask[0, 0, 30, 45])  # the edit kept
        (True, 1.0)
    """
    if mode not in MODES:
        raise EEIInputError(f"unknown mode {mode!r}; choose one of {', '.join(MERGE_MODES)}")
    check_image(original, "original", channels=(3, 4))
    check_image(edited, "edited", channels=(3, 4))
    original = check_value_range(original[:, :3], "original")
    edited = check_value_range(edited[:, :3], "edited")
    if mask is not None:
        check_mask(mask)
        check_same_size(original, mask, "original", "mask")
        mask = mask.clamp(0.0, 1.0)
    batch = batch_size({"original": original, "edited": edited, "mask": mask})
    dev = resolve_device(device, original)
    counter = StepCounter(STEPS_PER_ITEM * batch, progress, cancel)
    images, masks, registrations, shares = [], [], [], []
    for i in range(batch):
        photo = batch_item(original, i).to(dev, torch.float32)
        edit = batch_item(edited, i).to(dev, torch.float32)
        hint = None if mask is None else batch_item(mask, i).to(dev, torch.float32)
        try:
            found = register(photo, edit)
            log.info("item %d: %s", i, found.describe())
            aligned, covered = warp_to_original(edit, found)
            # Where the original's frame reaches past the edit's (a reframing that cropped), nothing was edited.
            aligned = torch.where(covered > 0.5, aligned, photo)
            counter.step(0)
            changes = find_changes(photo, aligned, covered, sensitivity=sensitivity, hint=hint, cancel=cancel)
        except EEIInputError as error:
            if batch == 1:
                raise
            raise EEIInputError(f"batch item {i}: {error}") from error
        counter.step(0)
        if float(changes.mask.max()) <= 0.0:
            log.info("item %d: the edit changed nothing beyond the editor's own noise: the original is returned", i)
            merged = photo
        else:
            merged = recolorize(aligned, changes.mask, photo, mode=mode, sequence=False, seed=seed, cancel=cancel,
                                device=dev)
        counter.step(0, merged)
        images.append(merged.to(original.device, original.dtype))
        masks.append(changes.mask.to(original.device, original.dtype))
        registrations.append(found)
        shares.append(changes.share)
    return MergedEdit(torch.cat(images), torch.cat(masks), registrations, shares)
