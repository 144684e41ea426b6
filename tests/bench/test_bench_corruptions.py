"""Synthetic colour bleeding (bench/corruptions.py) and the Lab mean/std baseline (bench/colour_match.py)."""

from __future__ import annotations

import pytest
import torch
from skimage import data

from bench.colour_match import lab_meanstd_fix
from bench.corruptions import CORRUPTIONS, corrupt, fit_gamut, side_leak
from eei_core.shared.color import luma_chroma, to_mono
from eei_core.shared.metrics import lab_chroma_error, psnr


@pytest.fixture(scope="module")
def photo() -> torch.Tensor:
    """skimage's astronaut, 128x128, [1, 3, H, W] in 0..1."""
    arr = torch.from_numpy(data.astronaut()[::4, ::4].copy()).float() / 255.0
    return arr.permute(2, 0, 1).unsqueeze(0).contiguous()


@pytest.fixture(scope="module")
def hole() -> torch.Tensor:
    mask = torch.zeros(1, 1, 128, 128)
    mask[..., 40:90, 30:100] = 1.0
    return mask


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_corruption_changes_only_the_hole_chroma(photo: torch.Tensor, hole: torch.Tensor, kind: str) -> None:
    out = corrupt(kind, photo, hole, torch.Generator().manual_seed(3))
    assert out.shape == photo.shape
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    # Outside the hole: untouched, bit for bit.
    assert torch.equal(out * (1 - hole), photo * (1 - hole))
    # Inside: the luminance is the photo's (float rounding only), the colour is clearly wrong.
    assert float((to_mono(out) - to_mono(photo)).abs().max()) < 1e-5
    assert lab_chroma_error(out, photo, hole) > 1.0
    assert psnr(out, photo, hole) < 40.0


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_corruption_is_seeded(photo: torch.Tensor, hole: torch.Tensor, kind: str) -> None:
    a = corrupt(kind, photo, hole, torch.Generator().manual_seed(7))
    b = corrupt(kind, photo, hole, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


def test_unknown_corruption_names_the_choices(photo: torch.Tensor, hole: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="hue, field, leak"):
        corrupt("blur", photo, hole, torch.Generator())


def test_fit_gamut_keeps_luma_and_desaturates_only_out_of_gamut() -> None:
    y = torch.tensor([0.2, 0.5, 0.9]).view(1, 1, 1, 3)
    small = torch.tensor([[0.05, 0.1, -0.02], [-0.03, 0.04, 0.01]]).view(1, 2, 1, 3)
    huge = small * 40
    inside = fit_gamut(y, small)
    _, chroma = luma_chroma(inside)
    assert torch.allclose(chroma, small, atol=1e-6)  # in gamut: exactly the asked chroma
    outside = fit_gamut(y, huge)
    assert float(outside.min()) >= 0.0 and float(outside.max()) <= 1.0
    assert torch.allclose(to_mono(outside), y, atol=1e-6)
    _, c_out = luma_chroma(outside)
    # Same hue direction, smaller saturation: c_out = t * huge with 0 < t < 1 per pixel.
    t = (c_out * huge).sum(1) / (huge * huge).sum(1)
    assert torch.allclose(c_out, t.unsqueeze(1) * huge, atol=1e-5)
    assert bool(((t > 0) & (t < 1)).all())


@pytest.mark.parametrize("seed", range(4))
def test_side_leak_fades_with_distance_into_the_hole(seed: int) -> None:
    # A gray hole framed by four differently coloured bands: whichever side leaks, its colour shows up in the hole,
    # strongest next to that side and fading with the distance from it.
    img = torch.full((1, 3, 64, 64), 0.5)
    img[:, :, :, :16] = torch.tensor([0.8, 0.4, 0.4]).view(1, 3, 1, 1)
    img[:, :, :, 48:] = torch.tensor([0.4, 0.4, 0.9]).view(1, 3, 1, 1)
    img[:, :, :16, 16:48] = torch.tensor([0.3, 0.7, 0.3]).view(1, 3, 1, 1)
    img[:, :, 48:, 16:48] = torch.tensor([0.7, 0.7, 0.2]).view(1, 3, 1, 1)
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 16:48, 16:48] = 1.0
    out = side_leak(img, mask, torch.Generator().manual_seed(seed))
    err = (out - img).abs().sum(1)[0, 16:48, 16:48]  # [32, 32] inside the hole
    profiles = {"left": err.mean(0), "right": err.mean(0).flip(0), "top": err.mean(1), "bottom": err.mean(1).flip(0)}
    side = max(profiles, key=lambda k: float(profiles[k][:2].mean()))
    profile = profiles[side]
    assert float(profile[0]) > 0.2
    assert float(profile[0]) > float(profile[8]) > float(profile[24]) > 0.0
    assert torch.allclose(to_mono(out), to_mono(img), atol=1e-6)


def test_lab_meanstd_undoes_a_global_tint_when_the_hole_looks_like_the_rest() -> None:
    gen = torch.Generator().manual_seed(0)
    img = (torch.rand(1, 3, 48, 48, generator=gen) * 0.5 + 0.25).clamp(0, 1)
    mask = torch.zeros(1, 1, 48, 48)
    mask[..., ::2, :] = 1.0  # every other row: the hole has the same statistics as the known pixels
    tinted = torch.where(mask > 0.5, (img * torch.tensor([1.2, 0.9, 0.7]).view(1, 3, 1, 1)).clamp(0, 1), img)
    fixed = lab_meanstd_fix(tinted, mask)
    assert torch.equal(fixed * (1 - mask), img * (1 - mask))
    before = lab_chroma_error(tinted, img, mask)
    after = lab_chroma_error(fixed, img, mask)
    assert before > 8.0
    assert after < before / 2
