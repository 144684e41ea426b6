"""``eei merge-edit`` end to end, in a subprocess as a user runs it."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from eei_core.shared.io import load_image, save_image
from tests.simulated_edits import EDIT_BOX, photo, regenerate, with_edit


def eei(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "eei_core.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("merge_edit")
    save_image(photo(), d / "original.png")
    original = load_image(d / "original.png")  # as 8-bit, what the command reads
    save_image(regenerate(with_edit(original), size=(112, 140)), d / "edited.png")
    save_image(torch.zeros(1, 1, 64, 80), d / "small_mask.png")
    save_image(torch.rand(1, 3, 128, 260), d / "wide.png")
    return d, original


def test_merges_and_writes_the_changed_mask(files):
    d, original = files
    proc = eei("merge-edit", "--original", str(d / "original.png"), "--edited", str(d / "edited.png"),
               "--out", str(d / "merged.png"), "--mask-out", str(d / "changed.png"), "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["output"] == str(d / "merged.png") and info["mask_output"] == str(d / "changed.png")
    assert info["seconds"] > 0 and 0.09 < info["changed_share"] < 0.16
    assert info["registration"]["shift_pixels"] == pytest.approx([2.5, -1.5], abs=0.15)
    merged = load_image(d / "merged.png")
    changed = torch.from_numpy(np.array(Image.open(d / "changed.png").convert("L"))).float()[None, None] / 255
    assert merged.shape == original.shape and changed.shape == (1, 1, 128, 160)
    untouched = (changed == 0).expand_as(original)
    assert torch.equal(merged[untouched], original[untouched])  # 8 bits in, the same 8 bits out
    assert float(changed[..., EDIT_BOX[0], EDIT_BOX[1]].min()) == 1.0


def test_plain_output_is_the_path(files):
    d, _ = files
    proc = eei("merge-edit", "--original", str(d / "original.png"), "--edited", str(d / "edited.png"),
               "--out", str(d / "merged_plain.png"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(d / "merged_plain.png")


@pytest.mark.parametrize(
    "extra, message",
    [
        (("--edited", "wide.png"), "aspects differ by more than a reframing explains"),
        (("--edited", "edited.png", "--mask", "small_mask.png"), "differs from original"),
        (("--edited", "missing.png"), "missing.png"),
        (("--edited", "edited.png", "--sensitivity", "2"), "sensitivity must be between 0 and 1"),
    ],
)
def test_bad_input_is_one_line_and_status_2(files, extra, message):
    d, _ = files
    args = ["merge-edit", "--original", str(d / "original.png"), "--out", str(d / "bad.png")]
    for i in range(0, len(extra), 2):
        args += [extra[i], str(d / extra[i + 1]) if extra[i + 1].endswith(".png") else extra[i + 1]]
    proc = eei(*args)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("eei merge-edit: error:")]
    assert len(lines) == 1 and message in lines[0], proc.stderr
