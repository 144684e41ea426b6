import torch

from eei_core.chroma_fusion import distance_to_known, fuse_chroma, prediction_tolerance
from eei_core.color import luma_chroma
from eei_core.filters import masked_blur
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
    y, c = luma_chroma(flat)
    assert prediction_tolerance(y, c, mask, gen) < 1e-4
    photo = skimage_photo("astronaut", 48, 48)
    y, c = luma_chroma(photo)
    assert prediction_tolerance(y, c, mask, torch.Generator().manual_seed(0)) > 1e-3
