"""Tests for eei_core.external.train_external: training, checkpoints, exact resume, validation PSNR and the command line."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors import safe_open

from eei_core.external.mono_model import load_mono_model, run_mono_model
from eei_core.external.train_external import add_parser, list_images, train_external, train_state_path
from eei_core.shared.color import to_mono
from eei_core.shared.errors import EEICancelled, EEIInputError

#: Tiny settings so a step takes milliseconds on a 2-core CPU.
TINY = {"size": 32, "batch": 2, "width": 8, "val_fraction": 0.2, "device": "cpu"}


def _write_photos(folder: Path, count: int = 5) -> Path:
    """Smooth synthetic photos of varied sizes (some smaller than the crop) as PNG and JPEG."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        h, w = (int(v) for v in rng.integers(24, 80, 2))
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        img = np.stack(
            [(np.sin(x / (3 + i)) + 1) / 2, (np.cos(y / (4 + i)) + 1) / 2, ((x + y) % (9 + i)) / (9 + i)], axis=-1
        )
        suffix = ".png" if i % 2 else ".jpg"
        Image.fromarray((img * 255).astype(np.uint8)).save(folder / f"photo{i}{suffix}")
    (folder / "notes.txt").write_text("not an image")
    return folder


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_photos(tmp_path_factory.mktemp("photos"))


def _weights(path: Path) -> dict[str, torch.Tensor]:
    with safe_open(str(path), framework="pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def _metadata(path: Path) -> dict[str, str]:
    with safe_open(str(path), framework="pt") as f:
        return f.metadata()


def test_list_images(photos: Path) -> None:
    files = list_images(photos)
    assert [p.name for p in files] == [f"photo{i}{'.png' if i % 2 else '.jpg'}" for i in range(5)]


def test_train_writes_a_model_that_loads_and_runs(photos: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int, int]] = []
    before = torch.get_rng_state()

    def progress(level: int, step: int, total: int, preview: torch.Tensor | None) -> None:
        calls.append((level, step, total))

    result = train_external(photos, tmp_path / "m.safetensors", steps=3, checkpoint_every=2, progress=progress, **TINY)
    assert torch.equal(before, torch.get_rng_state())  # seeding stays inside the call
    assert result["output"] == str(tmp_path / "m.safetensors")
    assert result["step"] == 3 and result["start_step"] == 0
    assert result["train_images"] == 4 and result["val_images"] == 1
    assert [h[0] for h in result["history"]] == [2, 3]
    assert math.isfinite(result["val_psnr"]) and 3.0 < result["val_psnr"] < 60.0
    assert result["seconds"] > 0 and result["device"] == "cpu"
    assert calls == [(0, 1, 3), (0, 2, 3), (0, 3, 3)]
    meta = _metadata(tmp_path / "m.safetensors")
    assert meta["eei_step"] == "3" and meta["eei_train_size"] == "32" and float(meta["eei_val_psnr"]) > 0
    assert json.loads(meta["eei_config"])["width"] == 8
    assert Path(result["train_state"]) == train_state_path(tmp_path / "m.safetensors")
    assert Path(result["train_state"]).name == "m.train-state.safetensors"

    model = load_mono_model(result["output"])
    img = torch.rand(1, 3, 45, 37, generator=torch.Generator().manual_seed(9))
    hole = torch.zeros(1, 1, 45, 37)
    hole[..., 10:30, 5:20] = 1.0
    out = run_mono_model(model, img, hole)
    assert out.shape == (1, 1, 45, 37)
    assert torch.equal(out[hole == 0], to_mono(img)[hole == 0])
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_training_lowers_the_loss(photos: Path, tmp_path: Path) -> None:
    # A short run with a larger learning rate must beat the untrained network on held-out holes.
    start = train_external(photos, tmp_path / "a.safetensors", steps=1, lr=1e-9, checkpoint_every=1, **TINY)
    trained = train_external(photos, tmp_path / "b.safetensors", steps=10, lr=3e-3, checkpoint_every=10, **TINY)
    assert trained["val_psnr"] > start["val_psnr"] + 0.5


@pytest.mark.parametrize("gan", [False, True])
def test_resume_continues_exactly(photos: Path, tmp_path: Path, gan: bool) -> None:
    straight = train_external(photos, tmp_path / "straight.safetensors", steps=4, checkpoint_every=4, gan=gan, **TINY)
    first = train_external(photos, tmp_path / "split.safetensors", steps=2, checkpoint_every=2, gan=gan, **TINY)
    assert first["step"] == 2
    resume = first["train_state"]
    resumed = train_external(photos, tmp_path / "split.safetensors", steps=4, gan=gan, resume=resume, **TINY)
    assert resumed["start_step"] == 2 and resumed["step"] == 4
    assert _metadata(tmp_path / "split.safetensors")["eei_step"] == "4"
    a, b = _weights(Path(straight["output"])), _weights(Path(resumed["output"]))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k
    state = _weights(Path(resumed["train_state"]))
    assert any(k.startswith("g_opt.") for k in state)
    assert any(k.startswith("discriminator.") for k in state) == gan
    assert resumed["val_psnr"] == pytest.approx(straight["val_psnr"], abs=1e-4)


def test_resume_from_a_model_file_keeps_weights_and_step(photos: Path, tmp_path: Path) -> None:
    first = train_external(photos, tmp_path / "m.safetensors", steps=2, checkpoint_every=2, **TINY)
    wider = {**TINY, "width": 16}
    again = train_external(photos, tmp_path / "n.safetensors", steps=3, resume=first["output"], **wider)
    assert again["start_step"] == 2 and again["step"] == 3
    # The resumed model's width wins over the requested one.
    assert json.loads(_metadata(tmp_path / "n.safetensors")["eei_config"])["width"] == 8
    # Nothing to do when the resumed step is already at --steps: the model is written as it is.
    done = train_external(photos, tmp_path / "o.safetensors", steps=2, resume=first["output"], **TINY)
    assert done["step"] == 2 and done["start_step"] == 2
    a, b = _weights(Path(first["output"])), _weights(Path(done["output"]))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_cancel_writes_a_checkpoint_to_resume_from(photos: Path, tmp_path: Path) -> None:
    seen = []

    def cancel() -> bool:
        seen.append(1)
        return len(seen) > 2

    with pytest.raises(EEICancelled):
        train_external(photos, tmp_path / "c.safetensors", steps=10, checkpoint_every=100, cancel=cancel, **TINY)
    state = train_state_path(tmp_path / "c.safetensors")
    assert _metadata(state)["eei_step"] == "2"
    resumed = train_external(photos, tmp_path / "c.safetensors", steps=3, resume=state, **TINY)
    assert resumed["start_step"] == 2 and resumed["step"] == 3


def test_gan_training_with_one_image_validates_on_it(tmp_path: Path) -> None:
    folder = _write_photos(tmp_path / "one", count=1)
    result = train_external(folder, tmp_path / "g.safetensors", steps=2, checkpoint_every=2, gan=True, **TINY)
    assert result["train_images"] == 1 and result["val_images"] == 1
    assert math.isfinite(result["val_psnr"])
    assert _metadata(tmp_path / "g.safetensors")["eei_gan"] == "1"


def test_input_errors(photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "m.safetensors"
    with pytest.raises(EEIInputError, match="image folder not found"):
        train_external(tmp_path / "nope", out, steps=1, **TINY)
    (tmp_path / "empty").mkdir()
    with pytest.raises(EEIInputError, match="no images"):
        train_external(tmp_path / "empty", out, steps=1, **TINY)
    with pytest.raises(EEIInputError, match="must be a folder"):
        train_external(next(photos.glob("*.png")), out, steps=1, **TINY)
    with pytest.raises(EEIInputError, match="must end in .safetensors"):
        train_external(photos, tmp_path / "m.ckpt", steps=1, **TINY)
    with pytest.raises(EEIInputError, match="--size"):
        train_external(photos, out, steps=1, **{**TINY, "size": 8})
    with pytest.raises(EEIInputError, match="--steps"):
        train_external(photos, out, steps=0, **TINY)
    evil = tmp_path / "old.pth"
    evil.write_bytes(b"\x80\x04not really")
    with pytest.raises(EEIInputError, match=r"only \.safetensors"):
        train_external(photos, out, steps=1, resume=evil, **TINY)
    with pytest.raises(EEIInputError, match="--resume file not found"):
        train_external(photos, out, steps=1, resume=tmp_path / "gone.safetensors", **TINY)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(EEIInputError, match="no CUDA GPU"):
        train_external(photos, out, steps=1, **{**TINY, "device": "cuda"})
    with pytest.raises(EEIInputError, match="unknown device"):
        train_external(photos, out, steps=1, **{**TINY, "device": "gpu0"})
    assert not out.exists()


def test_command_line(photos: Path, tmp_path: Path) -> None:
    parser = argparse.ArgumentParser(prog="eei")
    add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "cli.safetensors"
    args = parser.parse_args(
        ["train-external", "--images", str(photos), "--out", str(out), "--size", "32", "--steps", "2", "--batch", "2",
         "--width", "8", "--device", "cpu", "--seed", "3", "--checkpoint-every", "1"]
    )
    assert args.command == "train-external" and not args.gan and args.resume is None
    result = args.handler(args)
    assert result["output"] == str(out) and result["step"] == 2 and result["seconds"] > 0
    assert json.loads(json.dumps(result))["history"][0][0] == 1  # JSON-ready for `eei --json`
    resumed = parser.parse_args(
        ["train-external", "--images", str(photos), "--out", str(out), "--size", "32", "--steps", "3", "--batch", "2",
         "--device", "cpu", "--seed", "3", "--resume", result["train_state"], "--gan"]
    )
    assert resumed.handler(resumed)["start_step"] == 2
