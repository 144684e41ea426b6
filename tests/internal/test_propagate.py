import numpy as np
import pytest
import torch

from eei_core.internal.propagate import affinities, propagate
from eei_core.shared.color import luma_chroma
from eei_core.shared.masks import mask_in_ratio_band
from tests.conftest import rect_hole, skimage_photo


def test_affinities_are_normalised_and_respect_edges():
    luma = torch.zeros(1, 1, 6, 6)
    luma[..., :, 3:] = 1.0  # a vertical edge
    w = affinities(luma)
    assert torch.allclose(w.sum(dim=1), torch.ones(1, 6, 6))
    # Pixel (2, 2) is left of the edge: its right neighbour (offset (0, 1) = index 4) is across it.
    assert w[0, 4, 2, 2] < 0.01 and w[0, 3, 2, 2] > 0.15


def test_colour_stops_at_a_luminance_edge():
    luma = torch.zeros(1, 1, 20, 20)
    luma[..., :, 10:] = 0.8
    values = torch.zeros(1, 1, 20, 20)
    values[..., :, 0] = 1.0  # left region known as 1
    values[..., :, 19] = -1.0  # right region known as -1
    known = torch.zeros(1, 1, 20, 20)
    known[..., :, 0] = 1
    known[..., :, 19] = 1
    out = propagate(luma, values, known)
    assert out[..., :, 1:10].min() > 0.6 and out[..., :, 10:19].max() < -0.6
    assert (out[..., :, 9] - out[..., :, 10]).min() > 1.3  # the jump sits on the luminance edge


def test_matches_an_exact_sparse_solve_of_levins_system():
    pytest.importorskip("scipy")
    from bench.levin import levin_colorize

    img = skimage_photo("coffee", 40, 56)
    mask = rect_hole(40, 56, 10, 15, 18, 22)
    from eei_core.shared.color import luma_chroma, rgb_from_luma_chroma

    y, c = luma_chroma(img)
    ours = rgb_from_luma_chroma(y, propagate(y, c, 1 - mask)).clamp(0, 1)
    exact = levin_colorize(y[0, 0].numpy().astype(np.float64), img[0].permute(1, 2, 0).numpy(), (mask[0, 0] < 0.5).numpy())
    exact_t = torch.tensor(exact, dtype=torch.float32).permute(2, 0, 1)[None]
    assert (ours - exact_t).abs().max() < 5e-3


def test_known_values_kept_and_batch_independent():
    g = torch.Generator().manual_seed(0)
    luma = torch.rand(2, 1, 12, 9, generator=g)
    values = torch.rand(2, 2, 12, 9, generator=g)
    known = (torch.rand(2, 1, 12, 9, generator=g) > 0.6).float()
    out = propagate(luma, values, known)
    assert torch.equal(out * known, values * known)
    single = propagate(luma[1:], values[1:], known[1:])
    assert torch.allclose(out[1:], single, atol=1e-5)


def test_solver_stays_finite_when_a_channel_converges_first():
    # One channel constant (solved at once), the other not, over large and small holes of a real photo: a BiCGSTAB
    # without per-channel stopping divides by a vanishing omega here and returns NaN.
    from eei_core.shared.color import luma_chroma
    from eei_core.shared.masks import mask_in_ratio_band

    img = skimage_photo("astronaut", 96, 96)
    y, c = luma_chroma(img)
    c[:, 0] = 0.05
    for seed in range(4):
        mask = mask_in_ratio_band(96, 96, 0.1, 0.6, torch.Generator().manual_seed(seed))
        out = propagate(y, c, 1 - mask)
        assert torch.isfinite(out).all()
        assert torch.allclose(out[:, 0], torch.full_like(out[:, 0], 0.05), atol=1e-4)


@pytest.mark.parametrize("name", ["astronaut", "chelsea"])
def test_an_iteration_cap_never_returns_a_wild_iterate(name):
    # Levin's solution is a convex combination of known values (each row is a weighted mean), so it stays within
    # their range. BiCGSTAB's residual is not monotonic: capped at an unlucky iteration, the last iterate on this
    # 84% hole went up to 1.56 outside that range (colours far out of gamut) before the best iterate was kept.
    img = skimage_photo(name, 128, 128)
    hole = mask_in_ratio_band(128, 128, 0.8, 0.9, torch.Generator().manual_seed(3))
    luma, chroma = luma_chroma(img)
    known = 1.0 - hole
    given = chroma[known.expand_as(chroma) > 0.5]
    for iterations in (30, 60, 100, 150, 200, 300):
        out = propagate(luma, chroma, known, iterations=iterations)
        overshoot = torch.maximum(out - given.max(), given.min() - out).clamp(min=0).max()
        assert float(overshoot) < 1e-3, (iterations, float(overshoot))
