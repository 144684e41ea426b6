"""Finding what an edit changed: eei_core.compose.changes."""

import pytest
import torch

from eei_core.compose.changes import MAX_CHANGED_SHARE, difference, find_changes, ramp_width
from eei_core.shared.errors import EEIInputError
from tests.conftest import with_noise
from tests.simulated_edits import EDIT_BOX, photo, with_edit


def drifted(image: torch.Tensor) -> torch.Tensor:
    """A regenerated look: a smooth cast and a lift, as an editor's decoder leaves on every pixel."""
    x = torch.linspace(0.0, 1.0, image.shape[-1]).view(1, 1, 1, -1)
    return (image * torch.cat([1.06 - 0.06 * x, torch.ones_like(x), 1.0 + 0.06 * x], dim=1) + 0.02).clamp(0, 1)


def box_mask(shape, box, grow=0):
    m = torch.zeros(1, 1, *shape)
    m[..., max(0, box[0].start - grow) : box[0].stop + grow, max(0, box[1].start - grow) : box[1].stop + grow] = 1
    return m


def test_difference_ignores_a_small_misplacement_but_not_a_change():
    original = photo()
    moved = torch.roll(original, shifts=(1, 2), dims=(-2, -1))
    inner = (..., slice(8, -8), slice(8, -8))
    assert float(difference(original, moved)[inner].max()) < 1e-3
    assert float(difference(original, with_edit(original))[..., 50:70, 66:94].mean()) > 20.0


def test_finds_the_edit_under_a_drift_and_nothing_else():
    original = photo()
    edited = drifted(with_edit(original))
    found = find_changes(original, edited)
    assert found.mask.shape == (1, 1, 128, 160)
    inside = box_mask((128, 160), EDIT_BOX)
    reach = int(ramp_width((128, 160))) + 3  # margin and feather, and the closing's rounding
    assert float(found.mask[inside.bool()].min()) == 1.0  # the whole edit
    assert float(found.mask[~box_mask((128, 160), EDIT_BOX, reach).bool()].max()) == 0.0  # tight: nothing far off
    assert 0.1 < found.share < 0.16  # the box is 9.4% of the frame; grown by the shift radius
    noisy = find_changes(original, with_noise(edited))  # not on a knife edge
    assert float(noisy.mask[inside.bool()].min()) == 1.0 and abs(noisy.share - found.share) < 0.01


def test_no_edit_finds_nothing():
    original = photo()
    covered = torch.ones(1, 1, 128, 160)
    covered[..., 0] = 0  # the column torch.roll brought round from the other side
    found = find_changes(original, drifted(torch.roll(original, 1, dims=-1)), covered)
    assert float(found.mask.max()) == 0.0 and found.share == 0.0
    noisy = find_changes(original, with_noise(drifted(torch.roll(original, 1, dims=-1))), covered)
    assert float(noisy.mask.max()) == 0.0


def test_sensitivity_finds_fainter_changes():
    original = photo()
    edited = original.clone()
    edited[..., EDIT_BOX[0], EDIT_BOX[1]] = (edited[..., EDIT_BOX[0], EDIT_BOX[1]] * 0.8 + 0.05).clamp(0, 1)  # dimmed
    assert find_changes(original, edited, sensitivity=0.0).share == 0.0
    assert find_changes(original, edited, sensitivity=1.0).share > 0.05


def test_hint_limits_the_search_and_stands_in_when_nothing_is_found():
    original = photo()
    edited = with_edit(original)
    elsewhere = box_mask((128, 160), (slice(0, 30), slice(0, 40)))
    hinted = find_changes(original, edited, hint=elsewhere)
    assert float(hinted.mask[box_mask((128, 160), EDIT_BOX).bool()].max()) == 0.0  # the edit lies outside the hint
    assert float(hinted.mask[..., 10, 10]) == 1.0  # nothing changed in the hint: the hint itself is taken
    within = find_changes(original, edited, hint=box_mask((128, 160), EDIT_BOX, 6))
    assert float(within.mask[box_mask((128, 160), EDIT_BOX).bool()].min()) == 1.0


def test_uncovered_pixels_are_never_changed():
    original = photo()
    covered = torch.ones(1, 1, 128, 160)
    covered[..., :, 100:] = 0
    found = find_changes(original, with_edit(original), covered)
    assert float(found.mask[..., :, 100:].max()) == 0.0 and float(found.mask[..., 60, 80]) == 1.0


def test_everything_changed_is_an_error():
    original = photo()
    restyled = original.flip(1)  # every colour changed: red and blue swapped
    limit = f"{100 * MAX_CHANGED_SHARE:.0f}"
    with pytest.raises(EEIInputError, match=rf"the edit changed \d+% of the image \(more than {limit}%\)"):
        find_changes(original, restyled)


def test_bad_sensitivity():
    with pytest.raises(EEIInputError, match="sensitivity must be between 0 and 1"):
        find_changes(photo(), photo(), sensitivity=1.5)
