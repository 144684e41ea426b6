import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from eei_core.shared.color import MONO_WEIGHTS, luma_chroma, rgb_from_luma_chroma, rgb_to_lab, to_mono
from eei_core.shared.errors import EEIInputError


@pytest.mark.parametrize("weights", sorted(MONO_WEIGHTS))
def test_to_mono_uses_the_named_weights(weights):
    rgb = torch.tensor([0.2, 0.5, 0.9]).view(1, 3, 1, 1)
    wr, wg, wb = MONO_WEIGHTS[weights]
    assert to_mono(rgb, weights).item() == pytest.approx(0.2 * wr + 0.5 * wg + 0.9 * wb, abs=1e-6)


def test_paper_weights_are_the_papers():
    assert MONO_WEIGHTS["paper"] == (0.30, 0.59, 0.11)


def test_to_mono_passes_gray_through_and_drops_alpha():
    gray = torch.rand(2, 1, 4, 5)
    assert torch.equal(to_mono(gray), gray)
    rgba = torch.rand(1, 4, 3, 3)
    assert torch.allclose(to_mono(rgba), to_mono(rgba[:, :3].contiguous()))


def test_to_mono_rejects_unknown_weights_and_nan():
    with pytest.raises(EEIInputError, match="unknown mono weights 'lab'"):
        to_mono(torch.rand(1, 3, 2, 2), "lab")  # type: ignore[arg-type]
    bad = torch.rand(1, 3, 2, 2)
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(EEIInputError, match="NaN"):
        to_mono(bad)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9), st.sampled_from(sorted(MONO_WEIGHTS)))
def test_luma_chroma_round_trip(b, h, w, weights):
    rgb = torch.rand(b, 3, h, w)
    y, c = luma_chroma(rgb, weights)
    assert torch.allclose(rgb_from_luma_chroma(y, c, weights), rgb, atol=1e-5)


def test_lab_reference_values():
    white = rgb_to_lab(torch.ones(1, 3, 1, 1)).flatten()
    assert white.tolist() == pytest.approx([100.0, 0.0, 0.0], abs=0.05)
    red = rgb_to_lab(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)).flatten()
    # CIE Lab of sRGB red (D65): L 53.24, a 80.09, b 67.20.
    assert red.tolist() == pytest.approx([53.24, 80.09, 67.20], abs=0.1)
