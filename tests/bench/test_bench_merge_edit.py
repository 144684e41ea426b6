"""The MergeEdit benchmark's metrics (bench/merge_edit.py) on images made here."""

from __future__ import annotations

import math

import torch

from bench.merge_edit import Case, distance_from, score, seam_step
from tests.simulated_edits import EDIT_BOX, photo, with_edit


def _case() -> Case:
    original = photo()
    region = torch.zeros(1, 1, 128, 160, dtype=torch.bool)
    region[..., EDIT_BOX[0], EDIT_BOX[1]] = True
    return Case("synthetic", original, with_edit(original), region, "the pasted cat")


def test_a_perfect_merge_scores_every_target():
    case = _case()
    taken = case.region.float()
    result = taken * case.output + (1 - taken) * case.original
    s = score(case, case.output, result, taken)
    assert s["restored"] == 1.0 and s["tight"] == 0.0 and s["drift"] == 0.0
    assert s["kept"] < 1e-3 and s["kept_target"] == 6.0
    assert math.isclose(s["sharp"], 1.0, abs_tol=1e-6)


def test_returning_the_output_is_not_restoring():
    case = _case()
    brighter = (case.output * 1.1).clamp(0, 1)
    s = score(case, brighter, brighter, torch.ones(1, 1, 128, 160))
    far = torch.from_numpy(distance_from(case.region) > 48)
    assert s["restored"] < 0.5 and math.isnan(s["seam"])
    assert math.isclose(s["tight"], float(far.float().mean()), rel_tol=1e-6)  # all of the frame far off was taken


def test_seam_step_sees_an_offset_pasted_in():
    case = _case()
    taken = case.region.float()
    offset = (case.original + 0.1).clamp(0, 1)
    result = taken * offset + (1 - taken) * case.original
    step, own = seam_step(result, case.original, taken)
    assert step > own + 1.0  # (the colours are blurred by 1.5 px first: part of the step spreads past the pixels)
    assert seam_step(case.original, case.original, taken) == (own, own)
