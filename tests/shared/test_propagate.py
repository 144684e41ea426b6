import numpy as np
import pytest
import torch

from eei_core.shared.propagate import _affinities_at, affinities, propagate
from eei_core.shared.color import luma_chroma
from eei_core.shared.masks import mask_in_ratio_band
from tests.conftest import skimage_photo


def test_affinities_are_normalised_and_respect_edges():
    luma = torch.zeros(1, 1, 6, 6)
    luma[..., :, 3:] = 1.0  # a vertical edge
    w = affinities(luma)
    assert torch.allclose(w.sum(dim=1), torch.ones(1, 6, 6))
    # Pixel (2, 2) is left of the edge: its right neighbour (offset (0, 1) = index 4) is across it.
    assert w[0, 4, 2, 2] < 0.01 and w[0, 3, 2, 2] > 0.15


def test_the_exact_solve_weighs_its_unknown_pixels_as_the_whole_image_would():
    # The exact solve computes affinities at the unknown pixels only; at every pixel (borders and corners included,
    # and a flat patch where the floor applies) they must be the whole image's.
    g = torch.Generator().manual_seed(0)
    luma = torch.rand(1, 1, 23, 31, generator=g, dtype=torch.float64)
    luma[..., 5:9, 5:12] = 0.3
    ry, rx = torch.nonzero(torch.ones(23, 31, dtype=torch.bool), as_tuple=True)
    whole = affinities(luma)[0][:, ry, rx]
    assert float((_affinities_at(luma[0, 0], ry, rx) - whole).abs().max()) < 1e-12


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


def getcolorexact_solve(gray: np.ndarray, chroma: np.ndarray, known: np.ndarray, widen: float = 1.0) -> np.ndarray:
    """Levin et al.'s system built pixel by pixel as their published getColorExact.m builds it, solved exactly.

    Written from the paper's definition and the authors' Matlab loop, independently of ``eei_core`` and
    ``bench.levin``: one row per pixel; a known pixel's row is the identity; an unknown pixel's row is
    ``U_r - sum_s w_rs U_s = 0`` over its in-image 3x3 neighbours with ``w_rs = exp(-(Y_s - Y_r)^2 / csig)``
    normalised, ``csig = max(0.6 * var(window), -min_s (Y_s - Y_r)^2 / log(0.01), 2e-6)``. ``widen`` multiplies the
    variance term (2 gives the ``2 sigma^2`` kernel this project had before).
    """
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    h, w = gray.shape
    rows, cols, vals = [], [], []
    rhs = np.zeros((h * w, chroma.shape[-1]))
    for i in range(h):
        for j in range(w):
            r = i * w + j
            rows.append(r), cols.append(r), vals.append(1.0)
            if known[i, j]:
                rhs[r] = chroma[i, j]
                continue
            nbrs = [(ii, jj) for ii in range(max(0, i - 1), min(h, i + 2)) for jj in range(max(0, j - 1), min(w, j + 2))
                    if (ii, jj) != (i, j)]
            g = np.array([gray[ii, jj] for ii, jj in nbrs] + [gray[i, j]])
            csig = widen * 0.6 * np.mean((g - g.mean()) ** 2)
            closest = np.min((g[:-1] - gray[i, j]) ** 2)
            csig = max(csig, -closest / np.log(0.01), 2e-6)
            wts = np.exp(-((g[:-1] - gray[i, j]) ** 2) / csig)
            wts /= wts.sum()
            for (ii, jj), wt in zip(nbrs, wts):
                rows.append(r), cols.append(ii * w + jj), vals.append(-wt)
    a = sp.csc_matrix((vals, (rows, cols)), shape=(h * w, h * w))
    return spla.spsolve(a, rhs).reshape(h, w, -1)


@pytest.mark.parametrize("sparse_lu", [True, False])
def test_matches_levins_published_system_on_a_real_photo(sparse_lu):
    pytest.importorskip("scipy")
    from bench.levin import levin_colorize

    img = skimage_photo("coffee", 36, 48)
    mask = mask_in_ratio_band(36, 48, 0.2, 0.3, torch.Generator().manual_seed(5))
    y, c = luma_chroma(img)
    known = (mask[0, 0] < 0.5).numpy()
    exact = getcolorexact_solve(y[0, 0].double().numpy(), c[0].permute(1, 2, 0).double().numpy(), known)
    exact_t = torch.tensor(exact, dtype=torch.float32).permute(2, 0, 1)[None]
    ours = propagate(y, c, 1 - mask, exact=sparse_lu)
    hole = mask.expand_as(c) > 0.5
    assert float((ours - exact_t).abs()[hole].max()) < 2e-3
    # the benchmark's baseline solves the same system
    bench_rgb = levin_colorize(y[0, 0].double().numpy(), img[0].permute(1, 2, 0).double().numpy(), known)
    from eei_core.shared.color import rgb_from_luma_chroma

    exact_rgb = rgb_from_luma_chroma(y.double(), exact_t.double()).clamp(0, 1)[0].permute(1, 2, 0).numpy()
    assert np.abs(bench_rgb - exact_rgb).max() < 1e-6
    # the kernel matters here: with a kernel twice as wide (2 sigma^2) the solution is visibly another one
    wide = getcolorexact_solve(y[0, 0].double().numpy(), c[0].permute(1, 2, 0).double().numpy(), known, widen=2.0)
    assert np.abs(wide - exact)[known == 0].max() > 0.02
    assert float((ours - torch.tensor(wide, dtype=torch.float32).permute(2, 0, 1)[None]).abs()[hole].max()) > 0.02


@pytest.mark.parametrize("exact", [True, False])
def test_known_values_kept_and_batch_independent(exact):
    g = torch.Generator().manual_seed(0)
    luma = torch.rand(2, 1, 12, 9, generator=g)
    values = torch.rand(2, 2, 12, 9, generator=g)
    known = (torch.rand(2, 1, 12, 9, generator=g) > 0.6).float()
    out = propagate(luma, values, known, exact=exact)
    assert torch.equal(out * known, values * known)
    single = propagate(luma[1:], values[1:], known[1:], exact=exact)
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
        out = propagate(y, c, 1 - mask, exact=False)
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
        out = propagate(luma, chroma, known, iterations=iterations, exact=False)
        overshoot = torch.maximum(out - given.max(), given.min() - out).clamp(min=0).max()
        assert float(overshoot) < 1e-3, (iterations, float(overshoot))
