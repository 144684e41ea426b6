"""Reference-value tests for eei_core.shared.metrics (PSNR, SSIM, CIE a*b* chroma error)."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import torch
from skimage import data
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from eei_core.shared import metrics
from eei_core.shared.color import rgb_to_lab
from eei_core.shared.errors import EEIInputError
from eei_core.shared.metrics import lab_chroma_error, psnr, ssim


def _photo(size: int = 96) -> torch.Tensor:
    """A crop of scikit-image's astronaut photo as ``[1, 3, size, size]`` float in 0..1."""
    img = data.astronaut()[100 : 100 + size, 150 : 150 + size].astype(np.float32) / 255.0
    return torch.from_numpy(img).permute(2, 0, 1).unsqueeze(0).contiguous()


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_doctests() -> None:
    result = doctest.testmod(metrics, extraglobs={"torch": torch})
    assert result.attempted >= 3
    assert result.failed == 0


def test_psnr_of_known_mse() -> None:
    a = torch.full((1, 3, 8, 8), 0.5)
    b = a + 0.01  # MSE = 1e-4 -> 40 dB
    assert psnr(a, b) == pytest.approx(40.0, abs=1e-4)
    assert psnr(a, a + 0.1, data_range=2.0) == pytest.approx(10 * math.log10(4.0 / 0.01), abs=1e-4)


def test_psnr_identical_is_inf() -> None:
    a = _photo(16)
    assert psnr(a, a) == math.inf


def test_psnr_mask_counts_only_masked_pixels() -> None:
    a = torch.zeros(1, 3, 8, 8)
    b = a.clone()
    b[..., :4] = 0.1  # error only on the left half
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., :4] = 1.0
    assert psnr(a, b, mask) == pytest.approx(20.0, abs=1e-4)
    assert psnr(a, b, 1.0 - mask) == math.inf
    assert psnr(a, b) == pytest.approx(10 * math.log10(1 / 0.005), abs=1e-4)
    soft = mask * 0.6  # soft masks threshold at 0.5
    assert psnr(a, b, soft) == pytest.approx(20.0, abs=1e-4)


def test_psnr_matches_skimage_on_photo() -> None:
    a = _photo()
    b = (a + 0.05 * torch.randn(a.shape, generator=_gen())).clamp(0, 1)
    ref = peak_signal_noise_ratio(a[0].numpy(), b[0].numpy(), data_range=1.0)
    assert psnr(a, b) == pytest.approx(ref, abs=1e-4)


def test_psnr_batch_is_mean_of_items_and_reuses_batch_one() -> None:
    a = torch.zeros(2, 3, 4, 4)
    b = torch.stack([torch.full((3, 4, 4), 0.1), torch.full((3, 4, 4), 0.01)])
    assert psnr(a, b) == pytest.approx((20.0 + 40.0) / 2, abs=1e-4)
    assert psnr(a[:1], b) == pytest.approx(30.0, abs=1e-4)


def test_ssim_identical_is_one() -> None:
    a = _photo(32)
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 10:20, 10:20] = 1
    assert ssim(a, a, mask) == pytest.approx(1.0, abs=1e-12)


def test_ssim_matches_skimage_on_photo() -> None:
    a = _photo()
    b = (a + 0.08 * torch.randn(a.shape, generator=_gen(1))).clamp(0, 1)
    ref = structural_similarity(
        a[0].permute(1, 2, 0).numpy(),
        b[0].permute(1, 2, 0).numpy(),
        channel_axis=2,
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
    )
    got = ssim(a, b)
    assert 0.2 < got < 0.95
    assert got == pytest.approx(ref, abs=1e-4)


def test_ssim_mask_averages_map_over_mask() -> None:
    a = _photo(64)
    b = a.clone()
    b[..., 32:, :] = (b[..., 32:, :] + 0.2 * torch.randn(b[..., 32:, :].shape, generator=_gen(2))).clamp(0, 1)
    top = torch.zeros(1, 1, 64, 64)
    top[..., :20, :] = 1  # every window centred here stays in the untouched top half
    assert ssim(a, b, top) == pytest.approx(1.0, abs=1e-9)
    assert ssim(a, b, 1.0 - top) < ssim(a, b) < 1.0
    s_map = metrics.ssim_map(a, b)
    assert s_map.shape == (1, 3, 54, 54)


def test_ssim_small_image_uses_smaller_window() -> None:
    a = _photo(8)
    b = (a + 0.05).clamp(0, 1)
    assert metrics.ssim_map(a, b).shape == (1, 3, 2, 2)  # 7x7 window on an 8x8 image
    assert 0.0 < ssim(a, b) < 1.0


def test_lab_chroma_error_of_known_shift() -> None:
    a = _photo(16)
    lab = rgb_to_lab(a)
    # Gray pixels have a* = b* = 0, so chroma error to gray is the mean chroma magnitude of the photo.
    gray = a.mean(1, keepdim=True).expand(-1, 3, -1, -1)
    expected = lab[:, 1:].pow(2).sum(1).sqrt().mean().item()
    assert lab_chroma_error(a, gray) == pytest.approx(expected, rel=1e-4)
    assert lab_chroma_error(a, a) == 0.0


def test_lab_chroma_error_pure_colors() -> None:
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    white = torch.ones(1, 3, 1, 1)
    # sRGB red is L*a*b* (53.24, 80.09, 67.20) (D65); white is (100, 0, 0).
    assert lab_chroma_error(red, white) == pytest.approx(math.hypot(80.09, 67.20), abs=0.05)
    # Lightness differences do not count.
    assert lab_chroma_error(white, torch.full((1, 3, 1, 1), 0.3)) == pytest.approx(0.0, abs=1e-3)


def test_lab_chroma_error_mask() -> None:
    a = torch.full((1, 3, 4, 4), 0.5)
    b = a.clone()
    b[:, 0, :, :2] = 0.8  # reddish left half
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2] = 1
    left = lab_chroma_error(a, b, mask)
    assert left > 10
    assert lab_chroma_error(a, b, 1 - mask) == pytest.approx(0.0, abs=1e-4)
    assert lab_chroma_error(a, b) == pytest.approx(left / 2, rel=1e-6)


@pytest.mark.parametrize("fn", [psnr, ssim, lab_chroma_error])
def test_errors_on_bad_input(fn) -> None:
    a = torch.rand(1, 3, 16, 16, generator=_gen())
    with pytest.raises(EEIInputError, match="differs from a size"):
        fn(a, torch.rand(1, 3, 16, 12))
    with pytest.raises(EEIInputError, match="3 channel"):
        fn(a, torch.rand(1, 1, 16, 16))
    with pytest.raises(EEIInputError, match="batch sizes do not match"):
        fn(torch.rand(2, 3, 16, 16), torch.rand(3, 3, 16, 16))
    with pytest.raises(EEIInputError, match="selects no pixel"):
        fn(a, a, torch.zeros(1, 1, 16, 16))
    with pytest.raises(EEIInputError, match="mask"):
        fn(a, a, torch.ones(1, 1, 8, 8))
