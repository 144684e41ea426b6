"""Registration of an editor's output with the original: eei_core.compose.registration."""

import pytest
import torch

from eei_core.compose.registration import MAX_ASPECT_CHANGE, Registration, register, warp_to_original
from eei_core.shared.errors import EEIInputError
from tests.conftest import skimage_photo
from tests.simulated_edits import photo, regenerate


def test_finds_shift_zoom_and_size_change():
    original = photo()
    edited = regenerate(original, size=(112, 140), shift=(2.5, -1.5), zoom=1.02)
    found = register(original, edited)
    assert found.shift_pixels == pytest.approx((2.5, -1.5), abs=0.15)
    assert found.zoom == pytest.approx((1.02, 1.02), abs=0.003)
    assert found.edited_size == (112, 140) and found.original_size == (128, 160)
    assert found.correlation > 0.8
    assert "shift x +2.4" in found.describe() or "shift x +2.5" in found.describe()
    assert "edit 140x112 -> original 160x128: zoom x 1.02" in found.describe()


def test_finds_a_squeeze_of_one_axis():
    original = photo()
    h, w = original.shape[-2:]
    theta = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0 / 0.985, 0.0]]])  # content squeezed 1.5% vertically
    grid = torch.nn.functional.affine_grid(theta, [1, 3, h, w], align_corners=False)
    edited = torch.nn.functional.grid_sample(original, grid, mode="bicubic", padding_mode="border", align_corners=False)
    found = register(original, edited.clamp(0, 1))
    assert found.zoom == pytest.approx((1.0, 0.985), abs=0.003)


def test_warp_brings_the_edit_back_and_says_what_it_covers():
    original = photo()
    edited = regenerate(original, size=(112, 140), cast=0.0)
    found = register(original, edited)
    warped, covered = warp_to_original(edited, found)
    assert warped.shape == original.shape and covered.shape == (1, 1, 128, 160)
    # Zoomed 2% and moved 2.5 px right, the edit shows less scene on the right: no edit behind the last columns.
    assert float(covered[..., 64, -1]) == 0.0
    assert float(covered[..., 64, 0]) == 1.0 and float(covered[..., 64, 80]) == 1.0
    assert float(covered.mean()) > 0.9
    inside = covered.bool().expand_as(warped)
    # Resampled twice (editor's size, then back): close to the photo, nowhere near the unaligned edit's error.
    unaligned = torch.nn.functional.interpolate(edited, size=(128, 160), mode="bilinear", align_corners=False)
    assert float((warped - original - 0.02).abs()[inside].mean()) < 0.5 * float((unaligned - original).abs().mean())


def test_identity_leaves_the_pixels_untouched():
    original = photo()
    found = register(original, original)
    assert found.is_identity()
    warped, covered = warp_to_original(original, found)
    assert warped is original and bool(covered.all())


def test_plain_resize():
    found = Registration((1.0, 1.0), (0.0, 0.0), 1.0, (48, 64), (24, 32))
    warped, covered = warp_to_original(torch.full((1, 3, 24, 32), 0.25), found)
    assert warped.shape == (1, 3, 48, 64) and torch.allclose(warped, torch.tensor(0.25)) and bool(covered.all())


def test_aspect_beyond_reframing_is_an_error():
    original = photo()
    wide = torch.nn.functional.interpolate(original, size=(128, round(160 * MAX_ASPECT_CHANGE * 1.1)))
    with pytest.raises(EEIInputError, match="aspects differ by more than a reframing explains"):
        register(original, wide)


def test_another_picture_is_an_error():
    with pytest.raises(EEIInputError, match="could not register the edit with the original"):
        register(photo(), skimage_photo("coffee", 128, 160))


def test_too_small_and_empty_are_errors():
    with pytest.raises(EEIInputError, match="at least 16 pixels"):
        register(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))
    with pytest.raises(EEIInputError, match="edited is empty"):
        register(photo(), torch.zeros(1, 3, 0, 160))


def test_a_reframed_edit_showing_more_scene_at_top_and_bottom():
    full = skimage_photo("astronaut", 160, 160)
    original = full[..., 8:152, :]  # 160x144: the editor's square output shows 8 more rows at the top and bottom
    edited = torch.nn.functional.interpolate(full, size=(150, 150), mode="bicubic", align_corners=False).clamp(0, 1)
    found = register(original, edited)
    assert found.scale == pytest.approx((1.0, 0.9), abs=0.003)  # the original's rows span 0.9 of the edit's
    assert found.shift_pixels == pytest.approx((0.0, 0.0), abs=0.15)
    warped, covered = warp_to_original(edited, found)
    assert bool(covered.all()) and float((warped - original).abs().mean()) < 0.015
