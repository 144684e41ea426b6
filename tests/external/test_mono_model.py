"""Tests for eei_core.external.mono_model: the gated-convolution mono generator, its safetensors files and run_mono_model."""

from __future__ import annotations

import doctest
import inspect
import json
import pickle
import re
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from eei_core.external import mono_model, train_external
from eei_core.external.mono_model import (
    GatedConv2d,
    MonoInpaintGenerator,
    MonoModelConfig,
    load_mono_model,
    run_mono_model,
    save_mono_model,
)
from eei_core.shared.color import to_mono
from eei_core.shared.errors import EEIInputError


def _net(width: int = 8, seed: int = 0) -> MonoInpaintGenerator:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MonoInpaintGenerator(MonoModelConfig(width=width)).eval()


def _image(h: int, w: int, seed: int = 0, batch: int = 1) -> torch.Tensor:
    return torch.rand(batch, 3, h, w, generator=torch.Generator().manual_seed(seed))


def _hole(h: int, w: int, top: int, left: int, size: int) -> torch.Tensor:
    m = torch.zeros(1, 1, h, w)
    m[..., top : top + size, left : left + size] = 1.0
    return m


class _Evil:
    """Unpickling this creates a marker file: proof that a loader unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_doctests() -> None:
    result = doctest.testmod(mono_model)
    assert result.attempted >= 5 and result.failed == 0


def test_gated_conv_is_feature_times_sigmoid_gate() -> None:
    layer = GatedConv2d(2, 3, 3, activation="elu")
    x = torch.randn(1, 2, 5, 6)
    raw = layer.conv(x)
    expected = torch.nn.functional.elu(raw[:, :3]) * torch.sigmoid(raw[:, 3:])
    assert torch.allclose(layer(x), expected)


@pytest.mark.parametrize("size", [(1, 1), (5, 7), (30, 41), (32, 32)])
def test_generator_any_size(size: tuple[int, int]) -> None:
    h, w = size
    net = _net()
    mask = torch.zeros(2, 1, h, w)
    mask[..., h // 2 :, : max(1, w // 2)] = 1.0
    with torch.no_grad():
        coarse, refined = net(_image(h, w, batch=2), mask)
    assert coarse.shape == refined.shape == (2, 1, h, w)
    for t in (coarse, refined):
        assert float(t.min()) >= 0.0 and float(t.max()) <= 1.0


def test_generator_width_and_parameters() -> None:
    small, big = _net(8), _net(16)
    n_small = sum(p.numel() for p in small.parameters())
    n_big = sum(p.numel() for p in big.parameters())
    assert 3.5 < n_big / n_small < 4.1  # convolutions scale with width squared
    # The default width gives a network of DeepFill v2's size (4.1M parameters with contextual attention).
    n_default = sum(p.numel() for p in MonoInpaintGenerator().parameters())
    assert 2.5e6 < n_default < 4.5e6
    with pytest.raises(EEIInputError, match="width"):
        MonoModelConfig(width=3)
    with pytest.raises(EEIInputError, match="activation"):
        MonoModelConfig(activation="relu")  # type: ignore[arg-type]


def test_run_keeps_known_pixels_exactly_and_ignores_hole_content() -> None:
    net = _net()
    img = _image(24, 40, seed=1)
    hole = _hole(24, 40, 6, 10, 9)
    out = run_mono_model(net, img, hole)
    assert out.shape == (1, 1, 24, 40)
    known = hole == 0
    assert torch.equal(out[known], to_mono(img)[known])
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    # The hole is zeroed before the network sees it: changing its content changes nothing.
    other = img.clone()
    other[..., 6:15, 10:19] = torch.rand(1, 3, 9, 9)
    assert torch.equal(run_mono_model(net, other, hole), out)


def test_run_batch_rule_mono_input_and_no_hole() -> None:
    net = _net()
    imgs = _image(16, 20, seed=2, batch=2)
    hole = _hole(16, 20, 4, 4, 6)
    out = run_mono_model(net, imgs, hole)
    assert out.shape == (2, 1, 16, 20)
    assert torch.equal(out[1:], run_mono_model(net, imgs[1:], hole))
    # A mono image is completed like the gray RGB image it stands for.
    gray = to_mono(imgs[:1])
    as_rgb = run_mono_model(net, gray.expand(-1, 3, -1, -1), hole)
    assert torch.allclose(run_mono_model(net, gray, hole), as_rgb, atol=1e-6)
    # No hole: the monochrome comes back untouched.
    assert torch.equal(run_mono_model(net, imgs, torch.zeros(1, 1, 16, 20)), to_mono(imgs))
    # Soft masks are thresholded at 0.5.
    assert torch.equal(run_mono_model(net, imgs[:1], hole * 0.7), run_mono_model(net, imgs[:1], hole))


def test_run_input_errors() -> None:
    net = _net()
    with pytest.raises(EEIInputError, match="differs from image size"):
        run_mono_model(net, _image(16, 16), torch.zeros(1, 1, 8, 16))
    with pytest.raises(EEIInputError, match="batch sizes do not match"):
        run_mono_model(net, _image(8, 8, batch=2), torch.zeros(3, 1, 8, 8))
    with pytest.raises(EEIInputError, match="1 or 3 channel"):
        run_mono_model(net, torch.rand(1, 2, 8, 8), torch.zeros(1, 1, 8, 8))


def test_save_load_roundtrip(tmp_path: Path) -> None:
    net = _net(width=12, seed=4)
    path = save_mono_model(net, tmp_path / "sub" / "m.safetensors", {"eei_step": "17"})
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    assert meta["eei_architecture"] == "eei.MonoInpaintGenerator"
    assert json.loads(meta["eei_config"]) == {"width": 12, "activation": "elu"}
    assert meta["eei_step"] == "17"
    loaded = load_mono_model(path, device="cpu")
    assert loaded.config == net.config and not loaded.training
    for k, v in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)
    img, hole = _image(20, 20, seed=5), _hole(20, 20, 5, 5, 8)
    assert torch.equal(run_mono_model(loaded, img, hole), run_mono_model(net, img, hole))
    assert not list(tmp_path.glob("sub/*.tmp"))  # written atomically
    with pytest.raises(EEIInputError, match="end.*safetensors"):
        save_mono_model(net, tmp_path / "m.pt")


@pytest.mark.parametrize("suffix", [".ckpt", ".pt", ".pth", ".bin"])
def test_load_refuses_pickles_without_opening_them(tmp_path: Path, suffix: str) -> None:
    marker = tmp_path / "unpickled"
    path = tmp_path / f"evil{suffix}"
    path.write_bytes(pickle.dumps(_Evil(marker)))
    with pytest.raises(EEIInputError, match=r"only \.safetensors.*pickle.*arbitrary code"):
        load_mono_model(path)
    assert not marker.exists()


def test_load_rejects_a_pickle_renamed_to_safetensors(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(_Evil(marker)))
    with pytest.raises(EEIInputError, match="not a readable safetensors"):
        load_mono_model(path)
    assert not marker.exists()


def test_load_rejects_foreign_and_damaged_files(tmp_path: Path) -> None:
    with pytest.raises(EEIInputError, match="not found"):
        load_mono_model(tmp_path / "missing.safetensors")
    foreign = tmp_path / "lama.safetensors"
    save_file({"generator.model.1.ffc.convl2l.weight": torch.zeros(4, 4, 3, 3)}, str(foreign))
    with pytest.raises(EEIInputError, match="is not an EEI mono model.*Load Inpaint Model"):
        load_mono_model(foreign)
    # Our metadata but weights of another width: the keys match, the shapes do not.
    net = _net(width=8)
    odd = tmp_path / "odd.safetensors"
    save_mono_model(net, odd)
    with safe_open(str(odd), framework="pt") as f:
        meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    meta["eei_config"] = json.dumps({"width": 16, "activation": "elu"})
    save_file(tensors, str(odd), metadata=meta)
    with pytest.raises(EEIInputError, match="not an EEI mono model matching.*wrong shape"):
        load_mono_model(odd)
    del tensors["refine.16.weight"]
    meta["eei_config"] = json.dumps({"width": 8, "activation": "elu"})
    save_file(tensors, str(odd), metadata=meta)
    with pytest.raises(EEIInputError, match="missing: refine.16.weight"):
        load_mono_model(odd)
    meta["eei_format_version"] = "99"
    save_file(tensors, str(odd), metadata=meta)
    with pytest.raises(EEIInputError, match="format version '99'"):
        load_mono_model(odd)


def test_no_module_ever_unpickles() -> None:
    for module in (mono_model, train_external):
        source = inspect.getsource(module)
        assert not re.search(r"torch\.load\(|import pickle|pickle\.load|weights_only", source)
