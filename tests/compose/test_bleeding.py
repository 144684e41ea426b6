"""The evidence of bleeding: a colour step along the hole's edge, carried into the hole along the luminance."""

import torch

from eei_core.compose import bleeding
from eei_core.compose.bleeding import bleeding_evidence
from eei_core.shared.color import luma_chroma
from eei_core.shared.propagate import propagate
from tests.conftest import rect_hole, skimage_photo, with_noise


def _photo_and_prediction(hole: torch.Tensor):
    photo = skimage_photo("coffee", 96, 128)
    luma, chroma = luma_chroma(photo)
    return luma, chroma, propagate(luma, chroma, 1 - hole)


def test_a_fill_that_continues_the_photo_shows_no_bleeding():
    hole = rect_hole(96, 128, 30, 40, 36, 48)
    luma, chroma, predicted = _photo_and_prediction(hole)
    evidence = bleeding_evidence(chroma, predicted, hole, luma)  # the photo's own colours drawn again
    assert float(evidence.max()) < 0.05
    assert float(bleeding_evidence(with_noise(chroma), predicted, hole, luma).max()) < 0.05  # not on a knife edge


def test_a_cast_steps_at_the_edge_and_is_bleeding_everywhere_behind_it():
    hole = rect_hole(96, 128, 30, 40, 36, 48)
    luma, chroma, predicted = _photo_and_prediction(hole)
    cast = chroma + torch.tensor([0.06, -0.04]).view(1, 2, 1, 1) * hole
    evidence = bleeding_evidence(cast, predicted, hole, luma)
    assert float((evidence * hole).sum() / hole.sum()) > 0.75  # measured: 0.84 (the texture's spread is allowed for)
    noisy = bleeding_evidence(with_noise(cast), predicted, hole, luma)
    assert float((noisy * hole).sum() / hole.sum()) > 0.75
    assert float(evidence[..., 48, 64]) > 0.75  # the middle of the hole, far from any edge
    assert torch.equal(evidence * (1 - hole), torch.zeros_like(evidence))


def test_a_cast_on_one_region_is_found_in_that_region():
    # Left half of the scene dark, right half bright; a cast only on the bright half of the hole.
    luma = torch.full((1, 1, 64, 96), 0.3)
    luma[..., 48:] = 0.8
    chroma = torch.zeros(1, 2, 64, 96)
    chroma[:, 0, :, 48:] = 0.1
    hole = rect_hole(64, 96, 16, 24, 32, 48)
    fill = chroma.clone()
    fill[:, 1, 16:48, 48:72] += 0.06
    for inpainted in (fill, with_noise(fill)):
        evidence = bleeding_evidence(inpainted, chroma, hole, luma)
        assert float(evidence[..., 32, 64]) > 0.8
        assert float(evidence[..., 32, 32]) < 0.2  # measured: 0.11 (a stretch of the edge spans both halves near them)


def test_the_evidence_is_solved_on_the_hole_alone(monkeypatch):
    # The strip inside the edge rings the hole's interior, so solving for the pixels outside the hole too (as an
    # earlier version did, at five times the cost) gives the same evidence in the hole.
    hole = rect_hole(96, 128, 24, 30, 48, 64)
    luma, chroma, predicted = _photo_and_prediction(hole)
    fill = predicted + torch.tensor([0.012, -0.008]).view(1, 2, 1, 1) * hole
    evidence = bleeding_evidence(fill, predicted, hole, luma)
    solved = []

    def outside_unknown(luma, values, known, **kwargs):
        solved.append(float((1 - known).sum()))
        return propagate(luma, values, known * hole, **kwargs)  # the strip alone known, as before

    monkeypatch.setattr(bleeding, "propagate", outside_unknown)
    everywhere = bleeding_evidence(fill, predicted, hole, luma)
    assert 0.1 < float(evidence[0, 0, 48, 62]) < 0.99  # not saturated: a real comparison
    assert torch.allclose(evidence, everywhere, atol=1e-4)
    assert solved[0] < float(hole.sum())  # the fast version's unknowns: the hole's interior only
