"""The seam: an offset along the hole's edge is carried in and fades; other content along the edge is not."""

import torch

from eei_core.compose.seam import seam_correction
from eei_core.shared.filters import gaussian_blur
from tests.conftest import rect_hole, skimage_photo


def test_an_offset_along_the_edge_fades_into_the_hole():
    photo = skimage_photo("coffee", 64, 64)
    hole = rect_hole(64, 64, 16, 16, 32, 32)
    result = (photo + 0.04).clamp(0, 1)
    fix = seam_correction(result, photo, hole)
    assert torch.equal(fix * (1 - hole), torch.zeros_like(fix))  # nothing outside the hole
    # all of the offset on the edge, none of it deep inside
    assert abs(float(fix[0, :, 32, 16].mean()) + 0.04) < 0.008
    assert float(fix[0, :, 32, 32].abs().max()) < 1e-3


def test_other_content_along_the_edge_is_not_carried():
    # A new object spills 3 px past the mask (as a diffusion fill does): along that stretch the result shows the
    # object, the photo its background. Carrying that difference in would paint the background over the object.
    photo = skimage_photo("coffee", 64, 64)
    hole = rect_hole(64, 64, 16, 16, 32, 32)
    result = photo.clone()
    result[..., 13:51, 13:51] = torch.tensor([0.1, 0.8, 0.2]).view(1, 3, 1, 1)
    fix = seam_correction(result, photo, hole)
    # the two images only meet in a ramp: the first hole pixels blend, six pixels in the object is untouched
    ramp = float(fix[0, 1, 32, 16]) / float(photo[0, 1, 32, 15] - result[0, 1, 32, 15])
    assert 0.6 < ramp < 1.3  # (the difference is averaged along the edge: the neighbours differ too)
    inside = rect_hole(64, 64, 22, 22, 20, 20)
    assert float((fix.abs() * inside).max()) < 0.01


def test_a_regenerated_texture_along_the_edge_adds_no_halo():
    # The model redrew the texture along the edge (no offset): pixel differences everywhere, consistent nowhere.
    gen = torch.Generator().manual_seed(0)
    photo = (0.5 + 0.04 * torch.randn(1, 3, 64, 64, generator=gen)).clamp(0, 1)
    redrawn = (0.5 + 0.04 * torch.randn(1, 3, 64, 64, generator=gen)).clamp(0, 1)
    hole = rect_hole(64, 64, 16, 16, 32, 32)
    fix = seam_correction(redrawn, photo, hole)
    inside = rect_hole(64, 64, 22, 22, 20, 20)  # beyond the six pixels the texture's difference ramps over
    assert float((fix.abs() * inside).max()) < 0.01
    assert float((fix.abs() * hole).max()) > 0.02  # and it does cross: no step at the edge


def test_the_edge_shows_the_inpainters_own_step():
    # A texture redrawn along the edge, as smooth as a photo's: pasted, the two textures meet in a step; fixed, each
    # edge pixel steps from its outside neighbour by what the inpainter drew there, and no more.
    gen = torch.Generator().manual_seed(1)
    photo, redrawn = (gaussian_blur(0.5 + 0.1 * torch.randn(1, 3, 64, 64, generator=gen), 1.5) for _ in range(2))
    hole = rect_hole(64, 64, 16, 16, 32, 32)
    merged = hole * (redrawn + seam_correction(redrawn, photo, hole)) + (1 - hole) * photo
    rows = slice(18, 46)  # the left edge, away from the corners
    step = (merged[..., rows, 16] - merged[..., rows, 15]).abs().mean()
    own = (redrawn[..., rows, 16] - redrawn[..., rows, 15]).abs().mean()
    pasted = (redrawn[..., rows, 16] - photo[..., rows, 15]).abs().mean()
    assert float(pasted) > 2 * float(own)
    assert abs(float(step - own)) < 0.1 * float(own)


def test_a_hole_on_the_pictures_border_is_crossed_too():
    # An outpainting: the hole is the picture's right third, its ring a single column beside it.
    gen = torch.Generator().manual_seed(2)
    photo, redrawn = (gaussian_blur(0.5 + 0.1 * torch.randn(1, 3, 48, 48, generator=gen), 1.5) for _ in range(2))
    hole = torch.zeros(1, 1, 48, 48)
    hole[..., 32:] = 1
    fix = seam_correction(redrawn, photo, hole)
    merged = hole * (redrawn + fix) + (1 - hole) * photo
    step = (merged[..., 32] - merged[..., 31]).abs().mean()
    own = (redrawn[..., 32] - redrawn[..., 31]).abs().mean()
    assert abs(float(step - own)) < 0.1 * float(own)
    assert float(fix[..., 40:].abs().max()) < 0.01  # six pixels in, the fill is as drawn
