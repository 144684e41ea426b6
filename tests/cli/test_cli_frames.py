"""``eei recolorize`` on a folder of video frames: one output per frame, known pixels exact, streamed as a sequence."""

import json

import pytest
import torch

from bench.video import make_sequence
from eei_core.shared.io import load_image, save_image
from tests.cli.test_cli import eei
from tests.conftest import skimage_photo

FRAMES = 4


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("frames")
    seq = make_sequence("chelsea", skimage_photo("chelsea", 96, 128), "bleed", FRAMES, side=64, step=4, seed=0)
    for sub in ("frames", "masks", "originals"):
        (root / sub).mkdir()
    for t in range(FRAMES):
        save_image(seq.frames[t : t + 1], root / "frames" / f"{t:04d}.png")
        save_image(seq.masks[t : t + 1], root / "masks" / f"{t:04d}.png")
        save_image(seq.truth[t : t + 1], root / "originals" / f"{t:04d}.png")
    return root, seq


def test_a_folder_of_frames_gives_a_folder_of_fixed_frames(folders):
    root, seq = folders
    out = root / "out"
    proc = eei("recolorize", "--image", str(root / "frames"), "--mask", str(root / "masks"), "--original",
               str(root / "originals"), "--out", str(out), "--json")
    report = json.loads(proc.stdout)
    assert report["frames"] == FRAMES and report["sequence"] is True
    assert len(report["seconds_per_frame"]) == FRAMES
    for t in range(FRAMES):
        fixed = load_image(out / f"{t:04d}.png")
        truth = load_image(root / "originals" / f"{t:04d}.png")
        known = (seq.masks[t : t + 1] < 0.5).expand_as(fixed)
        assert torch.equal(fixed[known], truth[known])  # known pixels exact in every frame
        hole = ~known
        # the bleeding cast is taken out: closer to the photo than the input frame was
        assert (fixed[hole] - truth[hole]).abs().mean() < 0.6 * (load_image(root / "frames" / f"{t:04d}.png")[hole]
                                                                 - truth[hole]).abs().mean()


def test_one_mask_for_all_frames_and_mismatched_counts(folders, tmp_path):
    root, _ = folders
    proc = eei("recolorize", "--image", str(root / "frames"), "--mask", str(root / "masks" / "0000.png"),
               "--out", str(tmp_path / "one"), "--json", "--sequence", "off")
    assert json.loads(proc.stdout)["sequence"] is False
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == [f"{t:04d}.png" for t in range(FRAMES)]
    two = tmp_path / "two_masks"
    two.mkdir()
    for t in range(2):
        (two / f"{t}.png").write_bytes((root / "masks" / f"{t:04d}.png").read_bytes())
    proc = eei("recolorize", "--image", str(root / "frames"), "--mask", str(two), "--out", str(tmp_path / "x"),
               check=False)
    assert proc.returncode == 2
    assert "--mask has 2 masks for 4 frames" in proc.stderr
