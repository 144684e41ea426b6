"""End-to-end tests of the ``eei`` command, in a subprocess as a user runs it."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from eei_core.cli import ASSETS, DEMO_PANELS
from eei_core.shared.io import load_image, save_image
from eei_core.shared.side_by_side import LABEL_BACKGROUND, LABEL_HEIGHT
from tests.conftest import hole_psnr, rect_hole, skimage_photo


def eei(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "eei_core.cli", *args], capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    img = skimage_photo("coffee", 48, 64)
    mask = rect_hole(48, 64, 12, 20, 18, 20)
    save_image(img, d / "photo.png")
    save_image(mask, d / "mask.png")
    save_image(1 - mask, d / "mask_inverted.png")
    gray = (img * torch.tensor([0.30, 0.59, 0.11]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    save_image(gray, d / "gray.png")
    save_image(torch.zeros(1, 1, 40, 64), d / "small_mask.png")
    return d, img, mask


def test_colorize_with_json_output(files):
    d, img, mask = files
    proc = eei("colorize", "--mono", str(d / "gray.png"), "--color", str(d / "photo.png"), "--mask", str(d / "mask.png"),
               "--out", str(d / "out.png"), "--json", "--seed", "1")
    info = json.loads(proc.stdout)
    assert info["output"] == str(d / "out.png") and info["seconds"] > 0
    out = load_image(d / "out.png")
    assert (out - img).abs().mul(1 - mask).max() <= 1 / 255 + 1e-6  # known pixels kept (8-bit rounding)
    mean_fill = img * (1 - mask) + img.mul(1 - mask).sum((2, 3), keepdim=True) / (1 - mask).sum() * mask
    assert hole_psnr(out, img, mask) > hole_psnr(mean_fill, img, mask) + 2


def test_invert_mask_gives_the_same_result(files):
    d, _, _ = files
    eei("colorize", "--mono", str(d / "gray.png"), "--color", str(d / "photo.png"), "--mask",
        str(d / "mask_inverted.png"), "--invert-mask", "--out", str(d / "inv.png"))
    eei("colorize", "--mono", str(d / "gray.png"), "--color", str(d / "photo.png"), "--mask", str(d / "mask.png"),
        "--out", str(d / "plain.png"))
    assert torch.equal(load_image(d / "inv.png"), load_image(d / "plain.png"))


def test_recolorize_with_hints_file(files):
    d, img, mask = files
    (d / "hints.json").write_text(json.dumps([{"x": 0.47, "y": 0.42, "color": "#ff0000", "radius": 3}]))
    eei("recolorize", "--image", str(d / "photo.png"), "--mask", str(d / "mask.png"), "--original",
        str(d / "photo.png"), "--hints", str(d / "hints.json"), "--out", str(d / "rec.png"))
    out = load_image(d / "rec.png")
    assert out.shape == img.shape
    near = out[0, :, 18:23, 27:33].mean(dim=(1, 2))
    assert near[0] > near[1] and near[0] > near[2]  # the red hint shows in the hole


def test_recolorize_keeps_a_correct_inpainters_colour_unless_told_to_replace(files):
    d, img, mask = files
    hole = load_image(d / "mask.png")[:, :1] > 0.5
    results = {}
    for choice in ("auto", "replace"):
        eei("recolorize", "--image", str(d / "photo.png"), "--mask", str(d / "mask.png"), "--mode",
            choice, "--out", str(d / f"{choice}.png"))
        out = load_image(d / f"{choice}.png")
        results[choice] = float((out - img).abs()[hole.expand_as(img)].mean())
    # the "inpainter" output is the photo itself: auto keeps its colour, replace re-learns it
    assert results["auto"] < 0.5 * results["replace"], results


@pytest.mark.parametrize(
    "args, message",
    [
        (["--mask", "small_mask.png"], "mask size 64x40 differs from image size 64x48"),
        (["--mask", "missing.png"], "mask file not found"),
        (["--mask", "mask.png", "--hints", '[{"x": 2, "y": 0, "color": "#fff"}]'], "'x' = 2 is outside 0..1"),
        (["--mask", "mask.png", "--preset", "paper", "--device", "cuda"] if not torch.cuda.is_available() else
         ["--mask", "small_mask.png"], "no CUDA GPU is available" if not torch.cuda.is_available() else "differs"),
    ],
)
def test_bad_input_exits_2_with_one_line(files, args, message):
    d, _, _ = files
    args = [a if not a.endswith(".png") else str(d / a) for a in args]
    proc = eei("recolorize", "--image", str(d / "photo.png"), "--out", str(d / "x.png"), *args, check=False)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.startswith("eei ")]
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_every_subcommand_has_help():
    for sub in ("colorize", "recolorize", "inpaint", "train-external", "demo"):
        proc = eei(sub, "--help")
        assert "usage: eei " + sub in proc.stdout


def test_demo_writes_all_images(tmp_path):
    proc = eei("demo", "--out", str(tmp_path / "demo"), "--json")
    info = json.loads(proc.stdout)
    names = {"input", "mask", "mono", "result", "side_by_side"}
    assert set(info["files"]) == names
    result = np.asarray(Image.open(tmp_path / "demo" / "result.png"), dtype=np.float32)
    truth = np.asarray(Image.open(tmp_path / "demo" / "input.png"), dtype=np.float32)
    mask = np.asarray(Image.open(tmp_path / "demo" / "mask.png")) > 127
    assert result.shape == (256, 256, 3) and np.array_equal(result[~mask], truth[~mask])
    assert result[mask].mean() < 250  # the white hole has been filled
    # side_by_side.png: a label strip on top, then input, mask, mono, result and original, each where its label is.
    sheet = np.asarray(Image.open(tmp_path / "demo" / "side_by_side.png").convert("RGB"))
    assert sheet.shape == (LABEL_HEIGHT + 256, 256 * 5, 3)
    panels = [np.asarray(Image.open(tmp_path / "demo" / f"{name}.png").convert("RGB"))
              for name in ("input", "mask", "mono", "result")]
    panels.append(np.asarray(Image.open(ASSETS / "astronaut.png").convert("RGB")))
    for i, panel in enumerate(panels):
        assert np.array_equal(sheet[LABEL_HEIGHT:, 256 * i:256 * (i + 1)], panel), DEMO_PANELS[i]
        label = sheet[:LABEL_HEIGHT, 256 * i:256 * (i + 1)]
        assert (label == LABEL_BACKGROUND).all(axis=2).mean() > 0.8, "the strip is the label background"
        assert (label.min(axis=2) > 200).sum() > 40, f"no text drawn over panel {i} ({DEMO_PANELS[i]})"
    assert DEMO_PANELS == ("input with hole", "mask", "mono completion", "result", "original")
