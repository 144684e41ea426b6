"""The colour drift: learned only where a colour transform explains the result, and applied without touching the
content's luminance detail."""

import torch
import torch.nn.functional as F

from eei_core.compose.drift import apply_drift, estimate_drift, has_drift, no_drift
from eei_core.shared.color import to_mono
from tests.conftest import rect_hole, skimage_photo, with_noise


def _energy(image: torch.Tensor, region: torch.Tensor) -> float:
    luma = to_mono(image)
    gy, gx = luma[..., 1:, :-1] - luma[..., :-1, :-1], luma[..., :-1, 1:] - luma[..., :-1, :-1]
    r = region[..., :-1, :-1]
    return float(((gy.square() + gx.square()) * r).sum() / r.sum())


def test_a_regenerated_background_is_no_drift():
    # The model redrew the scene: the same kind of picture, its structure elsewhere (another crop of the photo), with
    # no colour change. A fit there would flatten the result towards the original's local means.
    photo = skimage_photo("coffee", 96, 128)
    redrawn = torch.roll(photo, shifts=(9, 13), dims=(-2, -1))
    known = 1 - rect_hole(96, 128, 30, 40, 36, 48)
    coefficients = estimate_drift(redrawn, photo, known)
    assert torch.equal(coefficients, no_drift(redrawn))
    assert torch.allclose(apply_drift(redrawn, coefficients), redrawn, atol=1e-6)
    # not on a knife edge: a quarter of a level of noise does not make it one
    assert torch.equal(estimate_drift(with_noise(redrawn), photo, known), no_drift(redrawn))


def test_a_decoded_copy_is_drift_and_is_removed():
    photo = skimage_photo("coffee", 96, 128)
    drifted = (photo * torch.tensor([1.04, 0.99, 0.94]).view(1, 3, 1, 1) + 0.02).clamp(0, 1)
    hole = rect_hole(96, 128, 30, 40, 36, 48)
    assert has_drift(drifted, photo, 1 - hole)
    assert has_drift(with_noise(drifted), photo, 1 - hole)
    fixed = apply_drift(drifted, estimate_drift(drifted, photo, 1 - hole)).clamp(0, 1)
    error_before = float(((drifted - photo).abs() * hole).sum() / hole.sum())
    error_after = float(((fixed - photo).abs() * hole).sum() / hole.sum())
    assert error_after < 0.35 * error_before, (error_before, error_after)  # measured: 0.033 -> 0.0064


def test_the_correction_keeps_the_contents_edges():
    # A drift that lowers the contrast (gain 0.9) must not soften the content's edges: the luminance detail stays.
    photo = skimage_photo("astronaut", 96, 96)
    coefficients = torch.cat([torch.full((1, 3, 96, 96), 0.9), torch.full((1, 3, 96, 96), 0.03)], dim=1)
    out = apply_drift(photo, coefficients)
    everywhere = torch.ones(1, 1, 96, 96)
    plain = coefficients[:, :3] * photo + coefficients[:, 3:]
    assert _energy(plain, everywhere) < 0.82 * _energy(photo, everywhere)  # what a plain gain does
    assert _energy(out, everywhere) > 0.95 * _energy(photo, everywhere)
    # and the brightness still moves as the transform says, on average
    assert abs(float(to_mono(out).mean() - to_mono(plain).mean())) < 2e-3


def test_no_drift_is_the_identity():
    image = torch.rand(1, 3, 8, 8)
    assert torch.allclose(apply_drift(image, no_drift(image)), image, atol=1e-6)
    assert not has_drift(image, image, torch.ones(1, 1, 8, 8))


def test_coefficients_estimated_small_apply_at_full_size():
    photo = skimage_photo("coffee", 96, 128)
    drifted = (photo + 0.03).clamp(0, 1)
    known = 1 - rect_hole(96, 128, 30, 40, 36, 48)
    small = F.interpolate(drifted, scale_factor=0.5, mode="area")
    coefficients = estimate_drift(small, F.interpolate(photo, scale_factor=0.5, mode="area"),
                                  (F.interpolate(known, scale_factor=0.5) > 0.5).float())
    assert apply_drift(drifted, coefficients).shape == drifted.shape


def test_a_composited_result_with_parts_redrawn_has_no_drift():
    # An editor that pasted its result back: most known pixels exact, a caption redrawn and the edit's colour spilling
    # a few pixels past its mask. A mean difference would call that a drift, and the transform fitted next to the edit
    # would carry the spill back into it; the median pixel says there is none.
    photo = skimage_photo("astronaut", 96, 96)
    result = photo.clone()
    result[..., :20, :] = torch.rand(1, 3, 20, 96, generator=torch.Generator().manual_seed(0))  # redrawn caption
    edit = rect_hole(96, 96, 40, 40, 30, 30)
    spill = F.max_pool2d(edit, 9, stride=1, padding=4)
    result = torch.where(spill > 0, torch.tensor([0.5, 0.2, 0.8]).view(1, 3, 1, 1), result)
    known = 1.0 - edit
    assert float(((result - photo).abs() * known).mean()) > 10 / 255  # what the mean saw
    assert not has_drift(result, photo, known)
    assert not has_drift(with_noise(result), photo, known)  # measured: the median pixel moved 0.39 levels, limit 0.5
    # ... while a decoder's shift of every pixel by 2 levels is one.
    assert has_drift((photo + 2 / 255).clamp(0, 1), photo, known)
