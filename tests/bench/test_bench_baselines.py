"""Tests for the benchmark baselines: Levin et al. 2004 colorization, mean-chroma fill and the benchmark masks."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch
from skimage import data

from bench import baselines, levin, masks
from bench.baselines import mean_chroma_fill
from bench.levin import affinity_weights, levin_colorize, levin_colorize_tensor
from bench.masks import centre_rect_mask
from eei_core.shared.color import to_mono
from eei_core.shared.errors import EEIInputError
from eei_core.shared.masks import free_form_mask
from eei_core.shared.metrics import psnr


def _photo(size: int = 64) -> torch.Tensor:
    img = data.astronaut()[::4, ::4][20 : 20 + size, 40 : 40 + size].astype(np.float32) / 255.0
    return torch.from_numpy(img).permute(2, 0, 1).unsqueeze(0).contiguous()


@pytest.mark.parametrize("module", [baselines, levin, masks])
def test_doctests(module) -> None:
    result = doctest.testmod(module, extraglobs={"torch": torch, "np": np})
    assert result.attempted >= 1
    assert result.failed == 0


def test_affinity_weights_normalised_and_edge_aware() -> None:
    gray = np.zeros((6, 6))
    gray[:, 3:] = 1.0  # a vertical step edge
    w, valid = affinity_weights(gray)
    assert w.shape == (8, 6, 6)
    np.testing.assert_allclose(w.sum(0), 1.0, atol=1e-12)
    assert np.all(w[~valid] == 0)
    # Pixel (2, 2) sits left of the edge: its right neighbour (offset (0, 1), index 4) is across the edge; the window
    # variance (3 of 9 pixels bright: 2/9) sets sigma^2 = 0.6 * 2/9, so the weight ratio is exp(-1 / sigma^2), the
    # kernel of Levin et al.'s getColorExact.m (not exp(-1 / (2 sigma^2)), twice as wide).
    assert w[4, 2, 2] / w[3, 2, 2] == pytest.approx(np.exp(-1 / (0.6 * 2 / 9)), rel=1e-9)
    # Corner pixels have 3 neighbours.
    assert valid[:, 0, 0].sum() == 3


def test_levin_keeps_luminance_and_known_chroma() -> None:
    gt = _photo(48)
    mono = to_mono(gt)
    mask = centre_rect_mask(48, 48)
    out = levin_colorize_tensor(mono, gt * (1 - mask), mask)
    assert out.shape == gt.shape
    assert torch.equal(out * (1 - mask), gt * (1 - mask))
    # Luminance is exactly the given mono wherever no channel was clamped.
    unclamped = ((out > 1e-4) & (out < 1 - 1e-4)).all(1, keepdim=True)
    assert torch.allclose(to_mono(out)[unclamped], mono[unclamped], atol=1e-5)


def test_levin_propagates_along_luminance_regions() -> None:
    # Left half dark, right half bright; the left known column is red, the right one blue. The hole in between must
    # take red on the dark side and blue on the bright side, which a mean fill cannot do.
    h, w = 16, 20
    gray = np.where(np.arange(w) < 10, 0.3, 0.6)[None].repeat(h, 0)
    color = np.zeros((h, w, 3))
    color[:, :2] = [1.0, 0.0, 0.0]
    color[:, -2:] = [0.0, 0.0, 1.0]
    known = np.zeros((h, w), bool)
    known[:, :2] = known[:, -2:] = True
    out = levin_colorize(gray, color, known)
    assert out[8, 8, 0] > out[8, 8, 2] + 0.2  # reddish in the dark region
    assert out[8, 12, 2] > out[8, 12, 0] + 0.2  # bluish in the bright region
    wr, wg, wb = 0.30, 0.59, 0.11
    y = wr * out[..., 0] + wg * out[..., 1] + wb * out[..., 2]
    inside = (out > 1e-6).all(-1) & (out < 1 - 1e-6).all(-1)
    np.testing.assert_allclose(y[inside], gray[inside], atol=1e-9)


def test_levin_beats_mean_fill_on_photo() -> None:
    gt = _photo(64)
    mono = to_mono(gt)
    mask = free_form_mask(64, 64, torch.Generator().manual_seed(3))
    color = gt * (1 - mask)
    lev = psnr(levin_colorize_tensor(mono, color, mask), gt, mask)
    mean = psnr(mean_chroma_fill(mono, color, mask), gt, mask)
    assert lev > mean + 2.0


def test_levin_batch_and_no_hole() -> None:
    gt = torch.cat([_photo(24), _photo(24).flip(-1)])
    mono = to_mono(gt)
    mask = torch.zeros(2, 1, 24, 24)
    mask[1, :, 8:16, 8:16] = 1
    out = levin_colorize_tensor(mono, gt * (1 - mask), mask)
    assert torch.equal(out[0], gt[0])
    assert psnr(out[1:], gt[1:], mask[1:]) > 15


def test_levin_and_mean_errors() -> None:
    img = torch.rand(1, 3, 8, 8)
    with pytest.raises(EEIInputError, match="no known pixel"):
        levin_colorize_tensor(to_mono(img), img, torch.ones(1, 1, 8, 8))
    with pytest.raises(EEIInputError, match="whole image"):
        mean_chroma_fill(to_mono(img), img, torch.ones(1, 1, 8, 8))
    with pytest.raises(EEIInputError, match="differs from mono size"):
        levin_colorize_tensor(to_mono(img), torch.rand(1, 3, 8, 6), torch.zeros(1, 1, 8, 8))


def test_mean_chroma_fill_uses_mean_of_known_chroma() -> None:
    color = torch.zeros(1, 3, 4, 4)
    color[..., :2] = torch.tensor([0.6, 0.4, 0.4]).view(1, 3, 1, 1)
    color[..., 2:] = torch.tensor([0.4, 0.4, 0.6]).view(1, 3, 1, 1)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., 1:3, 1:3] = 1
    out = mean_chroma_fill(to_mono(color), color * (1 - mask), mask)
    # Known: six pixels (Y 0.46, B-Y -0.06, R-Y 0.14) and six (Y 0.422, B-Y 0.178, R-Y -0.022): mean chroma
    # (0.059, 0.059), put on the hole pixel's own luminance 0.46.
    assert out[0, 2, 1, 1] == pytest.approx(0.46 + 0.059, abs=1e-6)
    assert out[0, 0, 1, 1] == pytest.approx(0.46 + 0.059, abs=1e-6)
    assert out[0, 2, 1, 2] == pytest.approx(0.422 + 0.059, abs=1e-6)
    assert torch.equal(out * (1 - mask), color * (1 - mask))


def test_centre_rect_mask() -> None:
    rect = centre_rect_mask(256, 384)
    assert rect.shape == (1, 1, 256, 384)
    assert float(rect.mean()) == pytest.approx(0.225, abs=0.003)
    assert rect[0, 0, 128, 192] == 1 and rect[0, 0, 0, 0] == 0
    assert centre_rect_mask(9, 9, area=1.0).all()
