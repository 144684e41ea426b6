import math

import torch
import torch.nn.functional as F

from eei_core.internal.chroma_fusion import distance_to_known, fuse_chroma, hue_shift, prediction_tolerance
from eei_core.internal.learned_correction import held_out_propagations
from eei_core.shared.color import luma_chroma, rotate_hue
from eei_core.shared.filters import masked_blur
from tests.conftest import rect_hole, skimage_photo


def test_masked_blur_ignores_pixels_outside_the_weight():
    x = torch.zeros(1, 2, 32, 32)
    x[..., :, 16:] = 5.0  # outside the weight: must not leak in
    weight = torch.zeros(1, 1, 32, 32)
    weight[..., :, :16] = 1.0
    x[..., :, :16] = 0.25
    out = masked_blur(x, weight, 6.0)
    assert torch.allclose(out[..., :, :16], torch.full_like(out[..., :, :16], 0.25), atol=1e-5)


def test_large_sigma_blur_matches_direct_blur_in_the_flat_parts():
    ramp = torch.linspace(0, 1, 128).view(1, 1, 1, 128).expand(1, 1, 64, 128).contiguous()
    ones = torch.ones(1, 1, 64, 128)
    # sigma 16 runs on a 4x downscaled copy; a linear ramp stays a ramp under any normalised blur
    out = masked_blur(ramp, ones, 16.0)
    assert (out[..., 40:88] - ramp[..., 40:88]).abs().max() < 0.02


def test_distance_grows_into_the_hole():
    mask = rect_hole(20, 20, 5, 5, 9, 9)
    d = distance_to_known(mask, 100)
    assert d[0, 0, 9, 9] == 5 and d[0, 0, 5, 5] == 1 and d[0, 0, 0, 0] == 0
    assert distance_to_known(mask, 2).max() == 2


def test_fusion_keeps_detail_and_removes_a_smooth_cast():
    gen = torch.Generator().manual_seed(0)
    truth = torch.randn(1, 2, 64, 64, generator=gen) * 0.05
    mask = rect_hole(64, 64, 16, 16, 32, 32)
    cast = torch.tensor([0.12, -0.08]).view(1, 2, 1, 1)
    inpainter = truth + cast * mask
    predicted = torch.zeros_like(truth)  # knows the average colour, not the detail
    fused = fuse_chroma(inpainter, predicted, mask, tolerance=0.002)
    hole = mask.expand_as(truth) > 0.5
    err_fused = (fused - truth)[hole].abs().mean()
    assert err_fused < 0.25 * (inpainter - truth)[hole].abs().mean()
    assert err_fused < 0.6 * (predicted - truth)[hole].abs().mean()
    assert torch.equal(fused[~hole], inpainter[~hole])


def test_tolerance_is_larger_where_colour_is_harder_to_predict():
    mask = rect_hole(48, 48, 16, 16, 16, 16)
    gen = torch.Generator().manual_seed(0)
    flat = torch.full((1, 3, 48, 48), 0.5) * torch.tensor([1.0, 0.6, 0.3]).view(1, 3, 1, 1)

    def tolerance(y, c, gen):
        return prediction_tolerance(held_out_propagations(y, c, mask, 1 - mask, 3, gen))

    y, c = luma_chroma(flat)
    assert tolerance(y, c, gen) < 1e-4
    photo = skimage_photo("astronaut", 48, 48)
    y, c = luma_chroma(photo)
    assert tolerance(y, c, torch.Generator().manual_seed(0)) > 1e-3


def _photo_chroma_and_prediction(name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A photo's chroma, a hole, and a colorizer-like prediction: the true colour with half its detail smoothed away."""
    _, truth = luma_chroma(skimage_photo(name, 96, 96))
    mask = rect_hole(96, 96, 24, 20, 48, 56)
    predicted = 0.5 * truth + 0.5 * masked_blur(truth, mask, 6.0)
    return truth, mask, predicted


def test_a_hue_shift_of_the_hole_is_measured_and_undone():
    truth, mask, predicted = _photo_chroma_and_prediction("astronaut")
    hole = mask.expand_as(truth) > 0.5
    for degrees in (-55.0, 35.0):
        inpainter = torch.where(hole, rotate_hue(truth, math.radians(degrees)), truth)
        assert abs(math.degrees(hue_shift(inpainter, predicted, mask)) - degrees) < 4.0
        fused = fuse_chroma(inpainter, predicted, mask, tolerance=0.01)
        err_fused = (fused - truth)[hole].abs().mean()
        # the rotated detail is turned back too: much closer than the shifted input and than the smoothed prediction
        assert err_fused < 0.2 * (inpainter - truth)[hole].abs().mean()
        assert err_fused < 0.7 * (predicted - truth)[hole].abs().mean()


def test_casts_and_small_angles_are_not_taken_for_a_hue_shift():
    truth, mask, predicted = _photo_chroma_and_prediction("coffee")
    hole = mask.expand_as(truth) > 0.5
    ramp = torch.linspace(-1, 1, 96).view(1, 1, 1, 96)
    cast = torch.cat([0.1 * ramp, -0.06 + 0.0 * ramp], dim=1)
    assert hue_shift(truth + cast * mask, predicted, mask) == 0.0
    slight = torch.where(hole, rotate_hue(truth, math.radians(5.0)), truth)
    assert hue_shift(slight, predicted, mask) == 0.0
    # too few hole pixels to tell
    tiny = rect_hole(96, 96, 40, 40, 6, 6)
    shifted = torch.where(tiny.expand_as(truth) > 0.5, rotate_hue(truth, 1.0), truth)
    assert hue_shift(shifted, predicted, tiny) == 0.0



def test_an_unvalidated_prediction_that_departs_from_the_validated_one_is_trusted_less():
    truth, mask, smoothed = _photo_chroma_and_prediction("coffee")
    hole = mask.expand_as(truth) > 0.5
    offset = torch.tensor([0.1, -0.07]).view(1, 2, 1, 1) * mask
    wrong = smoothed + offset  # e.g. a generator that learned the wrong colour for the hole's gray
    # the inpainter was right: following the wrong prediction costs, knowing it departs from the validated one does not
    blind = fuse_chroma(truth, wrong, mask, tolerance=0.005)
    careful = fuse_chroma(truth, wrong, mask, tolerance=0.005, validated=smoothed)
    err_blind = (blind - truth)[hole].abs().mean()
    err_careful = (careful - truth)[hole].abs().mean()
    assert err_careful < 0.3 * err_blind
    # a real cast is still removed when the prediction agrees with the validated estimate
    cast = torch.where(hole, truth + 2 * offset, truth)
    fixed = fuse_chroma(cast, smoothed, mask, tolerance=0.005, validated=smoothed)
    assert (fixed - truth)[hole].abs().mean() < 0.25 * (cast - truth)[hole].abs().mean()


def test_the_distance_is_the_erosions_count():
    # SciPy's transform and the erosion it replaced agree on free-form holes, the picture's border, caps and batches.
    from eei_core.internal.chroma_fusion import _eroded_distance

    gen = torch.Generator().manual_seed(3)
    blobs = (F.interpolate(torch.rand(3, 1, 6, 8, generator=gen), size=(60, 80), mode="bilinear") > 0.55).float()
    blobs[2] = 1.0  # no known pixel at all
    for cap in (3, 40):
        assert torch.equal(distance_to_known(blobs, cap), _eroded_distance(blobs, cap))
