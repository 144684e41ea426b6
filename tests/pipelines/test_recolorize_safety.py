"""RecolorizeAny does no harm: a result that was fine stays fine. A regenerated background is not a drift, a clean
composite comes back as it was, a new object keeps its crisp outline, and no verdict flips on a hair of noise."""

import pytest
import torch

from eei_core.internal.config import with_overrides
from eei_core.pipelines.recolorize import recolorize, restore_weight
from eei_core.shared.color import rgb_to_lab, to_mono
from tests.conftest import rect_hole, skimage_photo

QUICK = with_overrides("learned", iterations=(20, 20))


def delta_e(a: torch.Tensor, b: torch.Tensor, region: torch.Tensor) -> float:
    """Mean CIE a*b* distance over ``region``."""
    d = (rgb_to_lab(a.clamp(0, 1))[:, 1:] - rgb_to_lab(b.clamp(0, 1))[:, 1:]).norm(dim=1, keepdim=True)
    return float((d * region).sum() / region.sum())


def luminance_energy(image: torch.Tensor, region: torch.Tensor) -> float:
    luma = to_mono(image)
    gy, gx = luma[..., 1:, :-1] - luma[..., :-1, :-1], luma[..., :-1, 1:] - luma[..., :-1, :-1]
    r = region[..., :-1, :-1]
    return float(((gy.square() + gx.square()) * r).sum() / r.sum())


def seam_step(image: torch.Tensor, hole: torch.Tensor) -> float:
    """Mean Lab step between hole pixels on the mask's edge and their outside neighbours (rows and columns)."""
    lab = rgb_to_lab(image.clamp(0, 1))
    steps = []
    for dim in (-1, -2):
        a, b = lab.narrow(dim, 0, lab.shape[dim] - 1), lab.narrow(dim, 1, lab.shape[dim] - 1)
        ha, hb = hole.narrow(dim, 0, hole.shape[dim] - 1), hole.narrow(dim, 1, hole.shape[dim] - 1)
        steps.append((a - b).norm(dim=1, keepdim=True)[(ha > 0.5) != (hb > 0.5)])
    return float(torch.cat(steps).mean())


def shaded_object(
    photo: torch.Tensor, hole: torch.Tensor, colour: tuple[float, float, float]
) -> tuple[torch.Tensor, torch.Tensor]:
    """``photo`` with a crisp-edged disc of ``colour`` (shaded by stripes, as drawn content is) inside ``hole``, and
    the disc ``[1, 1, H, W]``."""
    h, w = photo.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    cy, cx = (ys * hole[0, 0]).sum() / hole.sum(), (xs * hole[0, 0]).sum() / hole.sum()
    radius = 0.45 * min(int(hole[0, 0].any(dim=1).sum()), int(hole[0, 0].any(dim=0).sum()))
    disc = ((ys - cy).square() + (xs - cx).square() <= radius**2).float()[None, None]
    shading = 0.75 + 0.25 * torch.sin(xs / 1.5)[None, None]
    obj = torch.tensor(colour).view(1, 3, 1, 1) * shading
    return torch.where(disc > 0.5, obj, photo), disc


def test_a_regenerated_background_leaves_the_hole_as_drawn():
    # The model redrew the whole scene a few pixels off (no colour drift): outside the hole the result does not match
    # the original structurally. There is no drift to learn and no seam to carry: the hole stays as the model drew it.
    photo = skimage_photo("coffee", 96, 128)
    hole = rect_hole(96, 128, 30, 40, 36, 48)
    redrawn = torch.roll(photo, shifts=(5, 7), dims=(-2, -1))
    inside = rect_hole(96, 128, 36, 46, 24, 36)  # beyond the six pixels where the two images meet
    for mode in ("auto", "keep"):
        out = recolorize(redrawn, hole, original=photo, config=QUICK, mode=mode)
        assert torch.equal(out * (1 - hole), photo * (1 - hole))
        assert delta_e(out, redrawn, inside) < 0.5, mode
        assert float(((out - redrawn).abs() * inside).max()) < 2 / 255, mode


def test_a_clean_composite_comes_back_unchanged():
    # The inpainter composited its result over the original (known pixels exact) and its fill continues the photo
    # with the photo's own colours: nothing to fix, and nothing may be added.
    photo = skimage_photo("astronaut", 128, 128)
    hole = rect_hole(128, 128, 70, 20, 32, 40)
    fill = torch.roll(photo, shifts=3, dims=-1)  # the same region drawn again, a little off
    result = torch.where(hole > 0.5, fill, photo)
    out = recolorize(result, hole, original=photo, config=QUICK)
    assert torch.equal(out * (1 - hole), photo * (1 - hole))
    assert delta_e(out, result, hole) < 1.0  # measured: 0.2
    assert seam_step(out, hole) <= seam_step(result, hole) + 0.3


def test_a_new_objects_crisp_outline_stays_crisp():
    # A decoded (not composited) result with a drift and a new object whose outline runs close to the mask's edge.
    photo = skimage_photo("chelsea", 96, 128)
    hole = rect_hole(96, 128, 24, 36, 48, 56)
    drawn, disc = shaded_object(photo, hole, (0.15, 0.75, 0.25))
    result = (drawn * torch.tensor([1.03, 0.99, 0.95]).view(1, 3, 1, 1) + 0.015).clamp(0, 1)
    out = recolorize(result, hole, original=photo, config=QUICK)
    # the outline: pixels within 2 px of the disc's edge, inside the hole
    outline = (torch.nn.functional.max_pool2d(disc, 5, 1, 2) - (1 - torch.nn.functional.max_pool2d(1 - disc, 5, 1, 2)))
    outline = outline * hole
    assert luminance_energy(out, outline) >= 0.95 * luminance_energy(drawn, outline)
    # no grey fringe: the object's rim keeps the object's colour
    rim = disc * outline
    assert delta_e(out, drawn, rim) < 3.0
    assert delta_e(out, drawn, disc) < 2.0


@pytest.mark.parametrize("seed", [0, 1])
def test_a_hair_of_noise_does_not_flip_the_verdict(seed):
    # The object of a creative fill sits where a verdict of 0.8-0.98 "new" used to leave a few per cent of the
    # restoration on it, and a quarter of a level of noise moved its colour by 0.1. Now both runs agree closely.
    photo = skimage_photo("chelsea", 96, 128)
    hole = rect_hole(96, 128, 24, 36, 48, 56)
    drawn, disc = shaded_object(photo, hole, (0.15, 0.75, 0.25))
    result = (drawn * torch.tensor([1.03, 0.99, 0.95]).view(1, 3, 1, 1) + 0.015).clamp(0, 1)
    noise = torch.randn(result.shape, generator=torch.Generator().manual_seed(seed)) * (0.25 / 255)
    a = recolorize(result, hole, original=photo, config=QUICK)
    b = recolorize((result + noise).clamp(0, 1), hole, original=photo, config=QUICK)
    assert delta_e(a, b, disc) < 0.3
    assert float((a - b).abs().amax(dim=1)[disc[:, 0] > 0.5].mean()) < 2 / 255


def test_restore_weight_is_sure_at_both_ends():
    verdict = torch.tensor([0.0, 0.05, 0.1, 0.4, 0.6, 1.0])
    assert restore_weight(verdict).tolist() == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    # and moves little with a small change of the verdict in between
    assert float((restore_weight(torch.tensor(0.25)) - restore_weight(torch.tensor(0.26))).abs()) < 0.04
