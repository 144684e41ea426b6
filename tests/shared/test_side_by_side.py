"""eei_core.shared.side_by_side: panels under a label strip (eei demo's side_by_side.png)."""

import numpy as np
import pytest
import torch

from eei_core.shared.errors import EEIInputError
from eei_core.shared.io import tensor_to_pil
from eei_core.shared.side_by_side import LABEL_BACKGROUND, LABEL_HEIGHT, side_by_side


def _text_columns(sheet: torch.Tensor) -> np.ndarray:
    """Columns of the label strip where text (bright pixels) was drawn."""
    strip = np.asarray(tensor_to_pil(sheet[:, :, :LABEL_HEIGHT]))
    return np.flatnonzero((strip.min(axis=2) > 200).any(axis=0))


def test_panels_sit_under_the_strip_unchanged():
    torch.manual_seed(0)
    a = torch.rand(1, 3, 30, 50)
    b = torch.rand(1, 1, 30, 50)
    sheet = side_by_side([a, b], ["first", "second"])
    assert sheet.shape == (1, 3, LABEL_HEIGHT + 30, 100)
    rounded = lambda t: (t * 255 + 0.5).floor() / 255  # noqa: E731  (8-bit, as the sheet is)
    assert torch.allclose(sheet[:, :, LABEL_HEIGHT:, :50], rounded(a), atol=1e-6)
    assert torch.allclose(sheet[:, :, LABEL_HEIGHT:, 50:], rounded(b).expand(-1, 3, -1, -1), atol=1e-6)


def test_each_label_is_drawn_centred_over_its_own_panel():
    sheet = side_by_side([torch.zeros(1, 3, 10, 120)] * 3, ["", "mono completion", ""])
    cols = _text_columns(sheet)
    assert cols.size > 0 and cols.min() >= 120 and cols.max() < 240, "text only over the middle panel"
    assert abs((cols.min() + cols.max()) / 2 - 180) <= 3, "centred on it"
    strip = np.asarray(tensor_to_pil(sheet[:, :, :LABEL_HEIGHT, :120]))
    assert (strip == LABEL_BACKGROUND).all(), "an empty label leaves the background"


def test_a_long_label_is_cut_at_its_panel():
    sheet = side_by_side([torch.zeros(1, 3, 10, 30), torch.zeros(1, 3, 10, 30)], ["a label far too long", ""])
    cols = _text_columns(sheet)
    assert cols.size > 0 and cols.max() < 30


@pytest.mark.parametrize("panels, labels", [
    ([], []),
    ([torch.zeros(1, 3, 8, 8)], ["a", "b"]),
    ([torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 9)], ["a", "b"]),
    ([torch.zeros(2, 3, 8, 8)], ["a"]),
])
def test_bad_input_names_the_problem(panels, labels):
    with pytest.raises(EEIInputError, match="side_by_side"):
        side_by_side(panels, labels)
