"""Tests for eei_core.shared.masks: DeepFill v2 brush strokes, rectangles and hole-ratio bands."""

from __future__ import annotations

import doctest

import pytest
import torch

from eei_core.shared import masks
from eei_core.shared.errors import EEIInputError
from eei_core.shared.masks import free_form_mask, grow_mask, mask_in_ratio_band, rectangle_mask


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_doctests() -> None:
    result = doctest.testmod(masks)
    assert result.attempted >= 3 and result.failed == 0


@pytest.mark.parametrize("size", [(1, 1), (7, 300), (64, 64), (200, 120)])
def test_free_form_shape_and_values(size: tuple[int, int]) -> None:
    h, w = size
    m = free_form_mask(h, w, _gen(3))
    assert m.shape == (1, 1, h, w)
    assert m.dtype == torch.float32
    assert bool(((m == 0) | (m == 1)).all())


def test_free_form_seeded_and_varied() -> None:
    a = free_form_mask(96, 128, _gen(5))
    b = free_form_mask(96, 128, _gen(5))
    c = free_form_mask(96, 128, _gen(6))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_free_form_statistics_like_deepfill() -> None:
    # DeepFill v2 strokes cover a few to about half of a 256 image; never all of it, rarely nothing.
    ratios = torch.tensor([float(free_form_mask(256, 256, _gen(s)).mean()) for s in range(40)])
    assert 0.03 < float(ratios.mean()) < 0.4
    assert float(ratios.max()) < 0.9
    assert int((ratios > 0).sum()) == 40
    # Sizes scale with the shorter side, so a 128 image gets about the same ratio as a 256 one.
    small = torch.tensor([float(free_form_mask(128, 128, _gen(s)).mean()) for s in range(40)])
    assert abs(float(small.mean()) - float(ratios.mean())) < 0.05


def test_free_form_strokes_are_connected_brush_lines() -> None:
    # One stroke with one segment and a fixed brush: a thick line whose width is the brush width.
    g = _gen(0)
    m = free_form_mask(256, 256, g, max_strokes=1, max_vertices=4, min_brush=20.0, max_brush=20.0)
    rows = m[0, 0].sum(dim=1)
    cols = m[0, 0].sum(dim=0)
    # Every painted row/column run is at least about one brush width thick somewhere.
    assert float(max(rows.max(), cols.max())) >= 18


def test_free_form_leaves_global_rng_alone() -> None:
    before = torch.get_rng_state()
    free_form_mask(64, 64, _gen(1))
    mask_in_ratio_band(64, 64, 0.1, 0.2, _gen(1))
    rectangle_mask(64, 64, _gen(1))
    assert torch.equal(before, torch.get_rng_state())


def test_free_form_bad_arguments() -> None:
    with pytest.raises(EEIInputError, match="positive integers"):
        free_form_mask(0, 10, _gen(0))
    with pytest.raises(EEIInputError, match="min_brush"):
        free_form_mask(10, 10, _gen(0), min_brush=5.0, max_brush=2.0)


def test_rectangle_size_position_and_margin() -> None:
    for seed in range(20):
        m = rectangle_mask(80, 120, _gen(seed), min_fraction=0.25, max_fraction=0.25, margin=0.1)
        ys, xs = torch.nonzero(m[0, 0], as_tuple=True)
        assert int(ys.max() - ys.min() + 1) == 20 and int(xs.max() - xs.min() + 1) == 30
        assert int(m.sum()) == 600
        assert int(ys.min()) >= 8 and int(ys.max()) <= 71 and int(xs.min()) >= 12 and int(xs.max()) <= 107


def test_rectangle_bad_arguments() -> None:
    with pytest.raises(EEIInputError, match="min_fraction"):
        rectangle_mask(10, 10, _gen(0), min_fraction=0.6, max_fraction=0.5)


@pytest.mark.parametrize("band", [(0.0, 0.1), (0.1, 0.2), (0.3, 0.4), (0.5, 0.6), (0.2, 0.205)])
def test_ratio_band_is_met(band: tuple[float, float]) -> None:
    lo, hi = band
    for seed in range(3):
        m = mask_in_ratio_band(128, 96, lo, hi, _gen(seed))
        assert m.shape == (1, 1, 128, 96)
        assert lo <= float(m.mean()) <= hi


def test_ratio_band_errors() -> None:
    with pytest.raises(EEIInputError, match="0 <= lo <= hi <= 1"):
        mask_in_ratio_band(32, 32, 0.5, 0.2, _gen(0))
    # A 2x2 image has ratios 0, .25, .5, ...: the band 0.3..0.4 cannot be met.
    with pytest.raises(EEIInputError, match="widen the band"):
        mask_in_ratio_band(2, 2, 0.3, 0.4, _gen(0), max_strokes=50)


def test_grow_mask_is_a_square_dilation() -> None:
    mask = torch.zeros(2, 1, 40, 50)
    mask[0, 0, 10, 20] = 1.0
    mask[1, 0, 0, 49] = 1.0
    grown = grow_mask(mask, 3)
    assert int(grown[0].sum()) == 49 and float(grown[0, 0, 7:14, 17:24].min()) == 1.0
    assert int(grown[1].sum()) == 16 and float(grown[1, 0, 0:4, 46:50].min()) == 1.0
    assert torch.equal(grow_mask(mask, 0), mask)
    with pytest.raises(EEIInputError, match="mask_grow must be >= 0"):
        grow_mask(mask, -1)
