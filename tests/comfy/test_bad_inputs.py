"""The 25 bad inputs of issue 12 through a real ComfyUI server: each gives a node error that names the problem and the
fix (or works, with its output checked), and the server keeps serving. The cases live in bad_inputs.py, shared with
bench/soak.py."""

from __future__ import annotations

import pytest
from bad_inputs import CASES, good_prompt_works, prepare, run_case

pytestmark = pytest.mark.comfy


@pytest.fixture(scope="module")
def assets(comfy_server):
    before = set((comfy_server.models_dir / "eei").glob("*"))
    yield prepare(comfy_server)
    for path in set((comfy_server.models_dir / "eei").glob("*")) - before:  # the broken model files
        path.unlink()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(comfy_server, assets, case):
    result = run_case(comfy_server, case, assets)
    assert result["outcome"]


def test_every_row_of_the_issue_is_covered():
    rows = {c.row for c in CASES if not c.row.startswith("(extra)")}
    # the issue's list, with "NaN and Inf pixels" one row (it counts them as two: 25)
    assert len(rows) == 24, sorted(rows)


def test_a_good_prompt_works_after_the_bad_ones(comfy_server, assets):
    assert good_prompt_works(comfy_server, assets) < 120
