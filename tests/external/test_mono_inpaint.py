"""Tests for eei_core.external.mono_inpaint.complete_mono: the external stage's dispatch, checks and compositing."""

from __future__ import annotations

import doctest
import math

import pytest
import torch

from eei_core.external import mono_inpaint
from eei_core.external.mono_inpaint import complete_mono
from eei_core.external.mono_model import MonoInpaintGenerator, MonoModelConfig, run_mono_model
from eei_core.shared.color import to_mono
from eei_core.shared.errors import EEIInputError


def _photo(b: int = 1, h: int = 40, w: int = 48, seed: int = 0) -> torch.Tensor:
    """Smooth colour gradients plus a little noise: ``[b, 3, h, w]`` in 0..1."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    base = torch.stack([xx, yy, 0.5 * (1 - xx) + 0.25 * torch.sin(6 * yy)])[None]
    return (base + 0.05 * torch.rand(b, 3, h, w, generator=g)).clamp(0, 1)


def _hole(h: int = 40, w: int = 48) -> torch.Tensor:
    m = torch.zeros(1, 1, h, w)
    m[..., 10:24, 14:30] = 1.0
    return m


def test_doctests() -> None:
    assert doctest.testmod(mono_inpaint).failed == 0


def test_rgb_input_keeps_known_mono_exactly() -> None:
    img, hole = _photo(), _hole()
    out = complete_mono(img, hole, seed=3)
    mono = to_mono(img)
    assert out.shape == (1, 1, 40, 48)
    assert torch.equal(out[hole == 0], mono[hole == 0])
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    # The hole is filled from the image (a gradient), so it stays close to the true mono, far from a flat 0 or 1.
    err = (out - mono)[hole > 0].abs().mean()
    assert float(err) < 0.1


def test_mono_input_and_soft_mask() -> None:
    mono = to_mono(_photo())
    soft = _hole() * 0.8  # thresholded at 0.5: the same hole
    out = complete_mono(mono, soft, seed=1)
    assert torch.equal(out, complete_mono(mono, _hole(), seed=1))
    assert torch.equal(out[_hole() == 0], mono[_hole() == 0])


def test_texture_is_recovered_in_mono() -> None:
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    gray = (0.5 + 0.4 * torch.sin(2 * math.pi * (xx + yy) / 8.0)).float()
    img = torch.stack([gray, gray * 0.8, gray * 0.5])[None]
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 20:44, 20:44] = 1.0
    out = complete_mono(img, hole)
    truth = to_mono(img)
    mse = float((out - truth)[hole > 0].square().mean())
    assert mse < 1e-4


def test_no_hole_anywhere_is_a_clear_error() -> None:
    # An item without a hole passes through (test_batch_rule); no hole in any item is a mask that was not painted.
    with pytest.raises(EEIInputError, match=r"mask has no hole in any of its 2 batch items .* Paint the hole"):
        complete_mono(_photo(b=2), torch.zeros(2, 1, 40, 48))
    with pytest.raises(EEIInputError, match="largest value is 0.50"):
        complete_mono(_photo(), torch.full((1, 1, 40, 48), 0.5))


def test_batch_rule() -> None:
    img = _photo(b=1)
    masks = torch.cat([_hole(), torch.zeros(1, 1, 40, 48)])
    out = complete_mono(img, masks)  # the single image is reused for both masks
    assert out.shape == (2, 1, 40, 48)
    assert torch.equal(out[1], to_mono(img)[0])
    assert not torch.equal(out[0], to_mono(img)[0])
    with pytest.raises(EEIInputError, match="batch sizes do not match"):
        complete_mono(_photo(b=3), masks)


def test_all_hole_and_bad_inputs_are_clear_errors() -> None:
    img = _photo()
    with pytest.raises(EEIInputError, match="mask item 0 covers the whole image"):
        complete_mono(img, torch.ones(1, 1, 40, 48))
    with pytest.raises(EEIInputError, match="mask item 1 covers the whole image"):
        complete_mono(img, torch.cat([_hole(), torch.ones(1, 1, 40, 48)]))
    with pytest.raises(EEIInputError, match="mask size 20x10 differs from image size 48x40"):
        complete_mono(img, torch.zeros(1, 1, 10, 20))
    with pytest.raises(EEIInputError, match="image must have 1 or 3 channel"):
        complete_mono(torch.rand(1, 2, 40, 48), _hole())
    with pytest.raises(EEIInputError, match="mask must have shape"):
        complete_mono(img, torch.zeros(40, 48))
    with pytest.raises(EEIInputError, match="unsupported inpainting model of type str"):
        complete_mono(img, _hole(), model="lama.pt")


def test_learned_generator_is_dispatched() -> None:
    with torch.random.fork_rng(devices=[]):  # a reproducible random init without touching the global stream
        torch.manual_seed(0)
        net = MonoInpaintGenerator(MonoModelConfig(width=8)).eval()
    img, hole = _photo(), _hole()
    out = complete_mono(img, hole, model=net)
    assert torch.equal(out, run_mono_model(net, img, hole))
    assert torch.equal(out[hole == 0], to_mono(img)[hole == 0])


class _FakeDescriptor:
    """Quacks like a spandrel MaskedImageModelDescriptor: ``.model``, ``.architecture``, called (image, mask)."""

    def __init__(self) -> None:
        self.model = torch.nn.Identity()
        self.architecture = "FakeLaMa"
        self.calls: list[tuple[int, ...]] = []

    def __call__(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        self.calls.append(tuple(image.shape))
        # Paints the hole red: only its luminance may reach the monochrome.
        red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1).expand_as(image)
        return torch.where(mask > 0.5, red, image)


def test_spandrel_descriptor_keeps_only_luminance() -> None:
    img, hole = _photo(), _hole()
    fake = _FakeDescriptor()
    out = complete_mono(img, hole, model=fake)
    assert fake.calls and fake.calls[0][1] == 3  # the model saw a 3-channel (gray) image
    assert torch.allclose(out[hole > 0], torch.full_like(out[hole > 0], 0.30))
    assert torch.equal(out[hole == 0], to_mono(img)[hole == 0])


def test_progress_passes_through_and_device_is_honoured() -> None:
    steps: list[int] = []
    out = complete_mono(_photo(), _hole(), progress=lambda lv, s, t, p: steps.append(s), device="cpu")
    assert steps and steps == list(range(1, len(steps) + 1))
    assert out.device.type == "cpu"
    auto = complete_mono(_photo(), _hole(), device="auto")
    assert auto.device.type == "cpu"  # the result comes back on the input's device
    if not torch.cuda.is_available():
        assert torch.equal(auto, out)
        with pytest.raises(EEIInputError, match="no CUDA GPU"):
            complete_mono(_photo(), _hole(), device="cuda")
