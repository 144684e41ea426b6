"""The propagation presets solve the hole at full resolution: never below Levin's exact solve, whatever the working
size."""

import logging

import pytest
import torch

import eei_core.internal.full_size as full_size
from eei_core.internal.colorize import internal_colorize
from eei_core.internal.full_size import full_size_chroma, solves_at_full_size
from eei_core.internal.hints import Hint
from eei_core.shared.color import fit_to_gamut, luma_chroma, to_mono
from eei_core.shared.metrics import psnr
from eei_core.shared.propagate import propagate
from tests.conftest import rect_hole, skimage_photo


def levin_at_full_size(img: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Levin et al.'s system solved exactly on the whole image, gamut-mapped like the colorizer, composited."""
    luma, chroma = luma_chroma(img)
    solved = fit_to_gamut(luma, propagate(luma, chroma, 1 - hole, exact=True)).clamp(0, 1)
    return hole * solved + (1 - hole) * img


@pytest.fixture(scope="module")
def coffee():
    img = skimage_photo("coffee", 160, 240)
    return img, rect_hole(160, 240, 40, 60, 81, 121)


def test_fast_is_levins_exact_solve_at_full_resolution_even_with_a_small_working_size(coffee):
    img, hole = coffee
    out = internal_colorize(to_mono(img), img, hole, config="fast", working_size=48)
    levin = levin_at_full_size(img, hole)
    assert (out - levin).abs().max() < 2e-4
    assert torch.equal(out * (1 - hole), img * (1 - hole))


def test_above_the_limit_the_working_size_answers(coffee, monkeypatch, caplog):
    img, hole = coffee
    monkeypatch.setattr(full_size, "FULL_SIZE_LIMIT", 100)
    assert not solves_at_full_size(hole)
    with caplog.at_level(logging.INFO, logger="eei_core.internal.colorize"):
        out = internal_colorize(to_mono(img), img, hole, config="fast", working_size=48)
    # The user is told why, and how to get the exact solve.
    assert f"a hole of {int(hole.sum())} pixels is too large" in caplog.text and "working_size=0" in caplog.text
    levin = levin_at_full_size(img, hole)
    # A different answer (a shrunk copy of the system), still a sensible one.
    assert (out - levin).abs().max() > 1e-2
    assert abs(psnr(out, img, hole) - psnr(levin, img, hole)) < 3.0


def test_the_log_says_it_once_a_call_even_when_the_first_image_has_no_hole(coffee, monkeypatch, caplog):
    img, hole = coffee
    monkeypatch.setattr(full_size, "FULL_SIZE_LIMIT", 100)
    batch, holes = img.repeat(3, 1, 1, 1), torch.cat([torch.zeros_like(hole), hole, hole])
    with caplog.at_level(logging.INFO, logger="eei_core.internal.colorize"):
        internal_colorize(to_mono(batch), batch, holes, config="fast", working_size=48)
    assert caplog.text.count("too large to solve at full resolution") == 1


def test_working_size_zero_solves_any_hole_exactly_at_full_resolution(coffee, monkeypatch, caplog):
    img, hole = coffee
    monkeypatch.setattr(full_size, "FULL_SIZE_LIMIT", 100)
    with caplog.at_level(logging.INFO, logger="eei_core.internal.colorize"):
        out = internal_colorize(to_mono(img), img, hole, config="fast", working_size=0)
    assert "too large" not in caplog.text
    assert (out - levin_at_full_size(img, hole)).abs().max() < 2e-4


def test_learned_adds_its_correction_to_the_full_resolution_solve(coffee):
    img, hole = coffee
    learned = internal_colorize(to_mono(img), img, hole, config="learned", working_size=64, seed=0)
    levin = levin_at_full_size(img, hole)
    assert torch.equal(learned * (1 - hole), img * (1 - hole))
    # Where the correction was trusted the two differ inside the hole only, and by a correction's size, not more.
    assert (learned - levin).abs().max() < 0.25


def test_a_hint_is_a_known_colour_of_the_full_resolution_solve():
    color = torch.zeros(1, 3, 40, 40)
    color[:, 1] = 0.5
    hole = rect_hole(40, 40, 10, 10, 20, 20)
    red = Hint(x=0.5, y=0.5, color=(0.9, 0.1, 0.1), radius=2)
    chroma = full_size_chroma(luma_chroma(color)[0], color, hole, [red])
    expected = luma_chroma(torch.tensor([0.9, 0.1, 0.1]).view(1, 3, 1, 1))[1].flatten()
    assert torch.allclose(chroma[0, :, 20, 20], expected, atol=1e-5)
    assert chroma[0, 0, 12, 12] < expected[0]  # away from the hint, towards the green around


def test_correction_is_resized_and_added_in_the_hole_only():
    color = torch.full((1, 3, 32, 32), 0.5)
    hole = rect_hole(32, 32, 8, 8, 16, 16)
    correction = torch.full((1, 2, 8, 8), 0.1)
    chroma = full_size_chroma(luma_chroma(color)[0], color, hole, correction=correction)
    assert torch.allclose(chroma * hole, 0.1 * hole.expand(1, 2, 32, 32), atol=1e-5)
    assert torch.equal(chroma * (1 - hole), torch.zeros(1, 2, 32, 32))
