"""Property tests of the colorizer on random sizes, masks and batches (short schedules keep them quick)."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from eei_core.internal.colorize import internal_colorize
from eei_core.internal.config import with_overrides

TINY = {
    "fast": "fast",
    "learned": with_overrides("learned", iterations=(2, 2), width=4, blocks=1, simulated_holes=1, validation_holes=1),
    "paper": with_overrides("paper", iterations=(2, 2, 2), width=4, blocks=1),
}


@settings(max_examples=25, deadline=None)
@given(
    st.integers(2, 40), st.integers(2, 40), st.integers(1, 2), st.sampled_from(["fast", "learned", "paper"]), st.integers(0, 10**6)
)
def test_known_pixels_kept_range_and_shape(h, w, b, preset, seed):
    g = torch.Generator().manual_seed(seed)
    color = torch.rand(b, 3, h, w, generator=g)
    mask = (torch.rand(b, 1, h, w, generator=g) > 0.6).float()
    mask[:, :, 0, 0] = 0  # at least one known pixel
    mask[:, :, -1, -1] = 1  # and one hole pixel (a mask with no hole at all is an error)
    out = internal_colorize(color.mean(1, keepdim=True), color, mask, config=TINY[preset], seed=seed)
    assert out.shape == (b, 3, h, w)
    assert torch.equal(out * (1 - mask), color * (1 - mask))
    assert out.min() >= 0 and out.max() <= 1 and torch.isfinite(out).all()
