"""Tests for eei_core.external.patchmatch: multi-scale PatchMatch completion and the smooth (push-pull) fill."""

from __future__ import annotations

import doctest
import math

import pytest
import torch

from eei_core.external import patchmatch
from eei_core.external.patchmatch import patchmatch_complete, smooth_fill
from eei_core.shared.errors import EEICancelled, EEIInputError
from eei_core.shared.masks import mask_in_ratio_band

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _texture(h: int, w: int) -> torch.Tensor:
    """Slanted sine stripes over an 8-pixel checkerboard: ``[1, 1, h, w]`` in 0..1, repeating every 16 pixels."""
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    stripes = 0.5 + 0.35 * torch.sin(2 * math.pi * (xx + 0.5 * yy) / 8.0)
    checker = ((xx // 8 + yy // 8) % 2).float()
    return ((stripes + 0.3 * checker) / 1.3).clamp(0, 1)[None, None].float()


def _hole_psnr(a: torch.Tensor, b: torch.Tensor, hole: torch.Tensor) -> float:
    sel = hole.expand_as(a) > 0.5
    mse = float((a[sel] - b[sel]).square().mean())
    return 10.0 * math.log10(1.0 / max(mse, 1e-12))


def _mean_fill(img: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    mean = img[(hole == 0).expand_as(img)].mean()
    return torch.where(hole > 0.5, mean, img)


def _rand_mask(h: int, w: int, seed: int, ratio: float = 0.3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(1, 1, h, w, generator=g) < ratio).float()


def test_doctests() -> None:
    assert doctest.testmod(patchmatch).failed == 0


@pytest.mark.parametrize("device", DEVICES)
def test_recovers_texture_far_better_than_mean_fill(device: str) -> None:
    img = _texture(96, 96).to(device)
    hole = torch.zeros_like(img)
    hole[..., 30:66, 28:64] = 1.0  # a 36 x 36 square, 14% of the image
    out = patchmatch_complete(img, hole, seed=0)
    pm = _hole_psnr(out, img, hole)
    mean = _hole_psnr(_mean_fill(img, hole), img, hole)
    smooth = _hole_psnr(smooth_fill(img, hole), img, hole)
    assert mean < 15.0 and smooth < 15.0  # the hole really is hard for a flat fill
    assert pm > mean + 15.0
    assert pm > smooth + 15.0


def test_rgb_channels_are_matched_jointly() -> None:
    mono = _texture(80, 80)
    # Three different per-channel mappings of the same layout: a joint match copies all three consistently.
    img = torch.cat([mono, 1.0 - mono, (mono * 2.0) % 1.0], dim=1)
    hole = torch.zeros(1, 1, 80, 80)
    hole[..., 25:55, 20:50] = 1.0
    out = patchmatch_complete(img, hole)
    assert out.shape == (1, 3, 80, 80)
    assert _hole_psnr(out, img, hole) > _hole_psnr(_mean_fill(img, hole), img, hole) + 12.0


@pytest.mark.parametrize("channels", [1, 3])
def test_known_pixels_are_exact(channels: int) -> None:
    g = torch.Generator().manual_seed(3)
    img = torch.rand(2, channels, 45, 53, generator=g)
    hole = torch.cat([_rand_mask(45, 53, 1, 0.2), _rand_mask(45, 53, 2, 0.4)])
    out = patchmatch_complete(img, hole, seed=5)
    keep = (hole == 0).expand_as(img)
    assert torch.equal(out[keep], img[keep])
    assert torch.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    # The hole really changed (it is not just copied back).
    assert not torch.equal(out[~keep], img[~keep])


def test_same_seed_same_result_other_seed_differs() -> None:
    g = torch.Generator().manual_seed(0)
    img = torch.rand(1, 1, 48, 48, generator=g)
    hole = torch.zeros_like(img)
    hole[..., 14:34, 10:30] = 1.0
    a = patchmatch_complete(img, hole, seed=7)
    b = patchmatch_complete(img, hole, seed=7)
    c = patchmatch_complete(img, hole, seed=8)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("size", [(2, 3), (1, 9), (5, 5), (7, 13), (13, 17), (31, 37), (61, 29)])
def test_any_size_works(size: tuple[int, int]) -> None:
    h, w = size
    g = torch.Generator().manual_seed(h * 100 + w)
    img = torch.rand(1, 1, h, w, generator=g)
    hole = torch.zeros_like(img)
    hole[..., h // 3 : h // 3 + max(1, h // 3), w // 3 : w // 3 + max(1, w // 3)] = 1.0
    out = patchmatch_complete(img, hole)
    assert out.shape == img.shape
    assert torch.equal(out[hole == 0], img[hole == 0])
    assert torch.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0


def test_tiny_image_falls_back_to_smooth_fill() -> None:
    img = torch.tensor([[[[0.0, 0.2, 0.4], [0.6, 0.8, 1.0]]]])
    hole = torch.zeros_like(img)
    hole[..., 0, 1] = 1.0
    out = patchmatch_complete(img, hole)
    assert torch.allclose(out, smooth_fill(img, hole))
    assert 0.0 <= float(out[0, 0, 0, 1]) <= 1.0


def test_sixty_percent_hole() -> None:
    img = _texture(128, 128)
    hole = mask_in_ratio_band(128, 128, 0.55, 0.62, torch.Generator().manual_seed(4))
    assert float(hole.mean()) >= 0.55
    out = patchmatch_complete(img, hole, seed=1)
    assert torch.equal(out[hole == 0], img[hole == 0])
    assert torch.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    # Over half the image gone, the texture still comes back far better than any flat or smooth fill.
    flat = max(_hole_psnr(_mean_fill(img, hole), img, hole), _hole_psnr(smooth_fill(img, hole), img, hole))
    assert _hole_psnr(out, img, hole) > flat + 3.0


def test_batch_rule_and_items_without_hole() -> None:
    g = torch.Generator().manual_seed(2)
    img = torch.rand(3, 1, 32, 32, generator=g)
    one = torch.zeros(1, 1, 32, 32)
    one[..., 8:20, 8:20] = 1.0
    out = patchmatch_complete(img, one)  # a batch-1 mask is reused for every image
    assert out.shape == (3, 1, 32, 32)
    assert torch.equal(out[(one == 0).expand_as(out)], img[(one == 0).expand_as(img)])
    per_item = torch.cat([one, torch.zeros_like(one)])
    two = patchmatch_complete(img[:2], per_item)
    assert torch.equal(two[1], img[1])  # no hole: unchanged
    with pytest.raises(EEIInputError, match="batch sizes do not match"):
        patchmatch_complete(img, per_item)


def test_input_errors() -> None:
    img = torch.rand(1, 1, 16, 16)
    hole = torch.zeros_like(img)
    hole[..., 4:8, 4:8] = 1
    with pytest.raises(EEIInputError, match="covers the whole image"):
        patchmatch_complete(img, torch.ones_like(img))
    with pytest.raises(EEIInputError, match="patch_size must be an odd integer"):
        patchmatch_complete(img, hole, patch_size=4)
    with pytest.raises(EEIInputError, match="iterations must be a positive integer"):
        patchmatch_complete(img, hole, iterations=0)
    with pytest.raises(EEIInputError, match="mask size 8x8 differs from image size 16x16"):
        patchmatch_complete(img, torch.zeros(1, 1, 8, 8))
    with pytest.raises(EEIInputError, match="1 or 3 channel"):
        patchmatch_complete(torch.rand(1, 2, 16, 16), hole)


def test_progress_counts_every_round_and_cancel_stops() -> None:
    img = _texture(96, 96)
    hole = torch.zeros_like(img)
    hole[..., 30:66, 28:64] = 1.0
    calls: list[tuple[int, int, int, tuple[int, ...]]] = []
    patchmatch_complete(
        img, hole, iterations=2, progress=lambda lv, s, t, p: calls.append((lv, s, t, tuple(p.shape)))
    )
    total = calls[0][2]
    assert [c[1] for c in calls] == list(range(1, total + 1))
    assert all(c[2] == total for c in calls)
    assert calls[0][0] == 0 and calls[-1][0] == max(c[0] for c in calls) >= 1
    assert calls[-1][3] == (1, 3, 96, 96)  # the finest level's preview, mono shown as gray RGB

    seen = []

    def cancel() -> bool:
        seen.append(1)
        return len(seen) >= 2

    with pytest.raises(EEICancelled):
        patchmatch_complete(img, hole, cancel=cancel)
    assert len(seen) == 2


def test_smooth_fill_interpolates_and_keeps_known() -> None:
    ramp = torch.linspace(0, 1, 33).repeat(9, 1)[None, None]
    hole = torch.zeros_like(ramp)
    hole[..., :, 12:20] = 1.0
    out = smooth_fill(ramp, hole)
    assert torch.equal(out[hole == 0], ramp[hole == 0])
    # The gap lies between the ramp values on either side and rises from left to right.
    gap = out[0, 0, 4, 12:20]
    assert float(gap.min()) >= float(ramp[0, 0, 0, 11]) - 1e-6 and float(gap.max()) <= float(ramp[0, 0, 0, 20]) + 1e-6
    assert float(gap[-1]) > float(gap[0])
    const = torch.full((1, 3, 10, 7), 0.25)
    assert torch.allclose(smooth_fill(const, _rand_mask(10, 7, 0, 0.7)), const)
