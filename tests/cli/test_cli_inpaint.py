"""Tests for `eei inpaint` (eei_core.cli_inpaint): the whole external-internal pipeline on files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import torch

from eei_core import cli_inpaint
from eei_core.external.mono_model import MonoInpaintGenerator, MonoModelConfig, save_mono_model
from eei_core.shared.color import to_mono
from eei_core.shared.errors import EEIInputError
from eei_core.shared.io import load_image, save_image


def _inpaint(*argv: str) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="eei")
    cli_inpaint.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["inpaint", *argv])
    return args.handler(args)


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    """A 32 x 40 colour gradient, a mask with a white 10 x 12 hole, and a mask of the wrong size."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 40), indexing="ij")
    img = torch.stack([xx, 0.3 + 0.5 * yy, 1 - xx])[None]
    hole = torch.zeros(1, 1, 32, 40)
    hole[..., 10:20, 14:26] = 1.0
    paths = {"image": tmp_path / "img.png", "mask": tmp_path / "mask.png", "small": tmp_path / "small.png"}
    save_image(img, paths["image"])
    save_image(hole, paths["mask"])
    save_image(torch.zeros(1, 1, 30, 40), paths["small"])
    save_image(torch.ones(1, 1, 32, 40), tmp_path / "white.png")
    paths["white"] = tmp_path / "white.png"
    return paths


def test_end_to_end_writes_colour_and_mono(files: dict[str, Path], tmp_path: Path, capsys) -> None:
    out, mono_out = tmp_path / "out" / "result.png", tmp_path / "mono.png"
    result = _inpaint(
        "--image", str(files["image"]), "--mask", str(files["mask"]), "--out", str(out), "--mono-out", str(mono_out)
    )
    assert result["output"] == str(out) and result["mono_output"] == str(mono_out)
    assert result["external"] == "PatchMatch" and result["preset"] == "fast"
    assert result["seconds"] > 0 and result["hole_ratio"] == pytest.approx(120 / 1280, abs=1e-4)
    src, res = load_image(files["image"]), load_image(out)
    assert res.shape == src.shape
    known = torch.ones(1, 1, 32, 40, dtype=torch.bool)
    known[..., 10:20, 14:26] = False
    assert torch.equal(res[known.expand_as(res)], src[known.expand_as(src)])  # known pixels come back untouched
    # The hole is filled with colours of the gradient, close to the truth, not left black or white.
    assert float((res - src)[~known.expand_as(res)].abs().mean()) < 0.15
    from eei_core.shared.io import load_gray

    mono = load_gray(mono_out)
    assert torch.allclose(mono[known], to_mono(src)[known], atol=1.0 / 255 + 1e-6)
    err = capsys.readouterr().err
    assert "monochrome completion" in err and "colorization" in err  # progress bars go to stderr


def test_learned_model_file(files: dict[str, Path], tmp_path: Path) -> None:
    with torch.random.fork_rng(devices=[]):  # reproducible weights without touching the global stream
        torch.manual_seed(0)
        net = MonoInpaintGenerator(MonoModelConfig(width=8))
    model = tmp_path / "mono.safetensors"
    save_mono_model(net, model)
    out = tmp_path / "learned.png"
    result = _inpaint("--image", str(files["image"]), "--mask", str(files["mask"]), "--out", str(out), "--model", str(model))
    assert result["external"] == str(model)
    assert load_image(out).shape == (1, 3, 32, 40)


def test_mask_size_mismatch_names_both_sizes(files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(EEIInputError, match=r"mask .*small\.png size 40x30 differs from image .*img\.png size 40x32"):
        _inpaint("--image", str(files["image"]), "--mask", str(files["small"]), "--out", str(tmp_path / "o.png"))


def test_white_is_hole_and_invert_mask(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "o.png"
    with pytest.raises(EEIInputError, match="covers the whole image"):
        _inpaint("--image", str(files["image"]), "--mask", str(files["white"]), "--out", str(out))
    assert not out.exists()
    # Inverted, the all-white mask has no hole at all: nothing to fill, which is said rather than copying the image.
    with pytest.raises(EEIInputError, match="mask has no hole"):
        _inpaint("--image", str(files["image"]), "--mask", str(files["white"]), "--out", str(out), "--invert-mask")
    assert not out.exists()


def test_bad_paths_and_model_are_clear_errors(files: dict[str, Path], tmp_path: Path) -> None:
    base = ["--image", str(files["image"]), "--mask", str(files["mask"])]
    with pytest.raises(EEIInputError, match="unknown image extension '.xyz'"):
        _inpaint(*base, "--out", str(tmp_path / "o.xyz"))
    with pytest.raises(EEIInputError, match="is a folder"):
        _inpaint(*base, "--out", str(tmp_path))
    with pytest.raises(EEIInputError, match="image file not found"):
        _inpaint("--image", str(tmp_path / "nope.png"), "--mask", str(files["mask"]), "--out", str(tmp_path / "o.png"))
    fake = tmp_path / "model.ckpt"
    fake.write_bytes(b"not a model")
    with pytest.raises(EEIInputError):
        _inpaint(*base, "--out", str(tmp_path / "o.png"), "--model", str(fake))
    with pytest.raises(SystemExit):  # argparse rejects an unknown preset with a usage line
        _inpaint(*base, "--out", str(tmp_path / "o.png"), "--preset", "slow")
