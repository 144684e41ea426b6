"""MergeEdit's pipeline: eei_core.pipelines.merge_edit, on edits the tests make."""

import pytest
import torch

from eei_core.compose.registration import register, warp_to_original
from eei_core.pipelines.merge_edit import merge_edit
from eei_core.shared.errors import EEICancelled, EEIInputError
from tests.conftest import skimage_photo
from tests.simulated_edits import EDIT_BOX, photo, regenerate, with_edit

EDITOR_SIZE = (112, 140)  # the editor picked its own size: 7/8 of the original's


@pytest.fixture(scope="module")
def pair():
    original = photo()
    intended = with_edit(original)  # what the user wanted: the photo, with the edit
    return original, intended, regenerate(intended, size=EDITOR_SIZE)


@pytest.fixture(scope="module")
def merged(pair):
    original, _, edited = pair
    return merge_edit(original, edited)


def test_gives_back_the_original_exactly_outside_the_edit(pair, merged):
    original, _, _ = pair
    assert merged.image.shape == original.shape and merged.mask.shape == (1, 1, 128, 160)
    untouched = (merged.mask == 0).expand_as(original)
    assert torch.equal(merged.image[untouched], original[untouched])
    # Tight: everything farther than the margin and feather (and the registration's rounding) from the edit is the
    # original's, i.e. the editor's shift, zoom, resize and cast were all undone there.
    near = torch.zeros(1, 1, 128, 160, dtype=torch.bool)
    near[..., EDIT_BOX[0].start - 6 : EDIT_BOX[0].stop + 6, EDIT_BOX[1].start - 6 : EDIT_BOX[1].stop + 6] = True
    assert float(merged.mask[~near].max()) == 0.0
    assert 0.09 < merged.changed_shares[0] < 0.16


def test_keeps_the_edit_without_the_editors_cast(pair, merged):
    original, intended, edited = pair
    rows, cols = EDIT_BOX
    inner = (..., slice(rows.start + 4, rows.stop - 4), slice(cols.start + 4, cols.stop - 4))
    assert float(merged.mask[inner].min()) == 1.0
    aligned, _ = warp_to_original(edited, register(original, edited))
    error = float((merged.image - intended)[inner].abs().mean())
    as_returned = float((aligned - intended)[inner].abs().mean())
    assert error < 0.02 and error < 0.6 * as_returned  # the cast taken out, the content kept
    assert merged.registrations[0].shift_pixels == pytest.approx((2.5, -1.5), abs=0.15)


def test_no_edit_returns_the_original(pair):
    original, _, _ = pair
    result = merge_edit(original, regenerate(original, size=EDITOR_SIZE))
    assert torch.equal(result.image, original) and float(result.mask.max()) == 0.0
    assert result.changed_shares == [0.0]


def test_everything_changed_says_so():
    original = photo()
    restyled = regenerate(original.flip(1), size=EDITOR_SIZE)  # every colour changed
    with pytest.raises(EEIInputError, match=r"the edit changed \d+% of the image .* not a local edit"):
        merge_edit(original, restyled)


def test_a_batch_of_two_with_progress(pair):
    original, intended, edited = pair
    steps = []
    result = merge_edit(torch.cat([original, original]), torch.cat([edited, regenerate(original, size=EDITOR_SIZE)]),
                        progress=lambda level, step, total, preview: steps.append((step, total)))
    assert result.image.shape == (2, 3, 128, 160)
    assert float(result.mask[0].max()) == 1.0 and float(result.mask[1].max()) == 0.0
    assert torch.equal(result.image[1], original[0])
    assert steps[-1] == (6, 6)


def test_mask_hint(pair):
    original, _, edited = pair
    hint = torch.zeros(1, 1, 128, 160)
    hint[..., :, :80] = 1  # the left half: the edit's left part only
    result = merge_edit(original, edited, hint)
    assert float(result.mask[..., 60, 70]) == 1.0 and float(result.mask[..., 60, 100]) == 0.0


def test_cancel(pair):
    original, _, edited = pair
    with pytest.raises(EEICancelled):
        merge_edit(original, edited, cancel=lambda: True)


def test_bad_inputs(pair):
    original, _, edited = pair
    with pytest.raises(EEIInputError, match="aspects differ"):
        merge_edit(original, torch.nn.functional.interpolate(edited, size=(112, 260)))
    with pytest.raises(EEIInputError, match="original is empty"):
        merge_edit(torch.zeros(1, 3, 0, 160), edited)
    with pytest.raises(EEIInputError, match="mask size 80x64 differs from original size 160x128"):
        merge_edit(original, edited, torch.zeros(1, 1, 64, 80))
    with pytest.raises(EEIInputError, match="batch sizes do not match"):
        merge_edit(torch.cat([original] * 2), torch.cat([edited] * 3))
    with pytest.raises(EEIInputError, match="unknown mode"):
        merge_edit(original, edited, mode="paste")
    with pytest.raises(EEIInputError, match="could not register"):
        merge_edit(original, skimage_photo("coffee", 112, 140))


def test_an_error_in_a_batch_names_its_item(pair):
    original, _, edited = pair
    restyled = regenerate(original.flip(1), size=EDITOR_SIZE)
    with pytest.raises(EEIInputError, match=r"^batch item 0: the edit changed \d+% of the image"):
        merge_edit(original, torch.cat([restyled, edited]))
