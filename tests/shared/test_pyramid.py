import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from eei_core.shared.errors import EEIInputError
from eei_core.shared.pyramid import auto_levels, image_pyramid, mask_pyramid, pyramid_sizes


def test_paper_size_gets_three_levels():
    assert auto_levels(512, 640) == 3
    assert pyramid_sizes(512, 640) == [(128, 160), (256, 320), (512, 640)]


def test_reference_code_crash_size_works():
    # The official code crashes on a 375-pixel side: image and mask pyramid sizes disagree there.
    sizes = pyramid_sizes(375, 500, 3)
    img = image_pyramid(torch.rand(1, 3, 375, 500), sizes)
    msk = mask_pyramid(torch.zeros(1, 1, 375, 500), sizes)
    assert [tuple(t.shape[-2:]) for t in img] == [tuple(t.shape[-2:]) for t in msk] == sizes


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2000), st.integers(1, 2000), st.one_of(st.none(), st.integers(1, 6)))
def test_sizes_for_any_image(h, w, levels):
    sizes = pyramid_sizes(h, w, levels)
    assert sizes[-1] == (h, w)
    assert len(sizes) == (levels if levels is not None else auto_levels(h, w))
    for (h0, w0), (h1, w1) in zip(sizes, sizes[1:]):
        assert 1 <= h0 <= h1 and 1 <= w0 <= w1


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(1, 60), st.integers(1, 4), st.data())
def test_mask_pyramid_never_marks_a_hole_as_known(h, w, levels, data):
    y = data.draw(st.integers(0, h - 1))
    x = data.draw(st.integers(0, w - 1))
    mask = torch.zeros(1, 1, h, w)
    mask[..., y, x] = 1.0
    for level in mask_pyramid(mask, pyramid_sizes(h, w, levels)):
        assert level.max().item() == 1.0  # the single hole pixel survives at every level


def test_image_pyramid_is_box_average():
    img = torch.arange(16.0).view(1, 1, 4, 4) / 16
    coarse = image_pyramid(img, [(2, 2), (4, 4)])[0]
    assert coarse[0, 0, 0, 0].item() == pytest.approx(img[0, 0, :2, :2].mean().item())


def test_bad_level_count():
    with pytest.raises(EEIInputError, match="levels must be >= 1"):
        pyramid_sizes(10, 10, 0)
