"""run_spandrel_on_mono with the inpainting models users already own: spandrel's LaMa and MAT (random weights).

Needs the test extra ``spandrel`` and ``spandrel-extra-arches`` (MAT lives there). No weights are downloaded: the
architectures are built with random weights and wrapped in the descriptors spandrel's loaders make.
"""

from __future__ import annotations

import enum
import sys
import types

import pytest
import torch
from torch import nn

from eei_core.external.mono_model import run_spandrel_on_mono
from eei_core.shared.color import to_mono
from eei_core.shared.errors import EEIInputError


def _torchvision_stand_in() -> dict[str, types.ModuleType]:
    """The three names spandrel imports from torchvision at import time, for machines without a usable torchvision.

    PyPI's torchvision wheels are CUDA builds that fail to import next to the CPU-only torch of CI. spandrel needs
    ``rotate`` only for LaMa's optional learnable spatial transform (not in LaMa's architecture as loaded) and
    ``normalize`` only for RestoreFormer, so both raise if ever called.
    """

    class InterpolationMode(enum.Enum):
        NEAREST = "nearest"
        BILINEAR = "bilinear"
        BICUBIC = "bicubic"

    def _unused(*args: object, **kwargs: object) -> None:
        raise NotImplementedError("torchvision stand-in: this function is not used by the tested architectures")

    tv = types.ModuleType("torchvision")
    transforms = types.ModuleType("torchvision.transforms")
    functional = types.ModuleType("torchvision.transforms.functional")
    functional.InterpolationMode = InterpolationMode
    functional.rotate = _unused
    functional.normalize = _unused
    transforms.functional = functional
    tv.transforms = transforms
    return {"torchvision": tv, "torchvision.transforms": transforms, "torchvision.transforms.functional": functional}


def _import_spandrel() -> types.SimpleNamespace:
    try:
        import torchvision  # noqa: F401
        stand_in: dict[str, types.ModuleType] = {}
    except Exception:  # ImportError, or RuntimeError from a CUDA torchvision build on CPU torch
        stand_in = _torchvision_stand_in()
        sys.modules.update(stand_in)
    try:
        import spandrel
        from spandrel.architectures.LaMa import LaMa, LaMaArch
        from spandrel_extra_arches.architectures.MAT import MAT, MATArch
    finally:
        # spandrel keeps its own references; nothing else in the test run should see the stand-in.
        for name in stand_in:
            sys.modules.pop(name, None)
    return types.SimpleNamespace(spandrel=spandrel, LaMa=LaMa, LaMaArch=LaMaArch, MAT=MAT, MATArch=MATArch)


sp = _import_spandrel()


def _seeded(build, seed: int = 0):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


@pytest.fixture(scope="module")
def lama():
    # The real LaMa checkpoints have 4 input channels (RGB + mask); spandrel's loader reads that from the weights.
    return sp.LaMaArch().load(_seeded(lambda: sp.LaMa(in_nc=4, out_nc=3)).state_dict()).eval()


def _photo(h: int, w: int, seed: int = 0, batch: int = 1) -> torch.Tensor:
    return torch.rand(batch, 3, h, w, generator=torch.Generator().manual_seed(seed))


def _hole(h: int, w: int) -> torch.Tensor:
    m = torch.zeros(1, 1, h, w)
    m[..., h // 4 : h // 2, w // 3 : 2 * w // 3] = 1.0
    m[..., 3 * h // 4, :] = 1.0  # a one-pixel line: must survive any resizing
    return m


class _Recorder(nn.Module):
    """Tiny inpainter returning a constant 0.25 gray (or the input) and recording what it was given."""

    def __init__(self, echo: bool = False) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.echo = echo
        self.seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        self.seen.append((image.clone(), mask.clone()))
        if self.echo:
            return image * self.scale
        return torch.full_like(image, 0.25) * self.scale


def _descriptor(module: nn.Module, arch, size_requirements) -> object:
    return sp.spandrel.MaskedImageModelDescriptor(
        module,
        module.state_dict(),
        architecture=arch,
        purpose="Inpainting",
        tags=[],
        supports_half=False,
        supports_bfloat16=False,
        input_channels=3,
        output_channels=3,
        size_requirements=size_requirements,
    )


def test_lama_on_mono(lama) -> None:
    img = _photo(37, 53, seed=1)
    hole = _hole(37, 53)
    out = run_spandrel_on_mono(lama, img, hole)
    assert out.shape == (1, 1, 37, 53)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    mono = to_mono(img)
    known = hole == 0
    assert torch.equal(out[known], mono[known])
    # The hole holds the luminance of what LaMa paints on the gray image (spandrel pads 37x53 to 40x56 the same way).
    with torch.inference_mode():
        expected = to_mono(lama(mono.expand(-1, 3, -1, -1), hole))
    assert torch.allclose(out[~known], expected[~known], atol=1e-5)


def test_lama_batch_rule_and_mono_input(lama) -> None:
    imgs = _photo(24, 32, seed=2, batch=2)
    hole = _hole(24, 32)
    out = run_spandrel_on_mono(lama, imgs, hole)
    assert out.shape == (2, 1, 24, 32)
    assert torch.allclose(out[1:], run_spandrel_on_mono(lama, imgs[1:], hole), atol=1e-6)
    gray = to_mono(imgs[:1])
    assert torch.allclose(run_spandrel_on_mono(lama, gray, hole), out[:1], atol=1e-6)
    with pytest.raises(EEIInputError, match="batch sizes do not match"):
        run_spandrel_on_mono(lama, imgs, torch.zeros(3, 1, 24, 32))
    with pytest.raises(EEIInputError, match="differs from image size"):
        run_spandrel_on_mono(lama, imgs, torch.zeros(1, 1, 20, 32))


def test_free_size_model_gets_gray_padded_input() -> None:
    rec = _Recorder(echo=True)
    desc = _descriptor(rec, sp.LaMaArch(), sp.spandrel.SizeRequirements(minimum=16, multiple_of=8))
    img = _photo(10, 21, seed=3)
    hole = _hole(10, 21)
    out = run_spandrel_on_mono(desc, img, hole)
    image, mask = rec.seen[-1]
    assert image.shape == (1, 3, 16, 24) and mask.shape == (1, 1, 16, 24)
    assert torch.equal(image[:, 0], image[:, 1]) and torch.equal(image[:, 1], image[:, 2])  # gray, no colour
    assert torch.equal(image[..., :10, :21], to_mono(img).expand(-1, 3, -1, -1))
    assert torch.equal(mask[..., :10, :21], hole)
    # An echoing model returns the gray image, so the result is the mono image everywhere.
    assert torch.allclose(out, to_mono(img), atol=1e-6)


def test_fixed_square_model_is_fed_512_and_resized_back() -> None:
    rec = _Recorder()
    desc = _descriptor(rec, sp.MATArch(), sp.spandrel.SizeRequirements(minimum=512, multiple_of=512, square=True))
    h, w = 700, 1030
    img = _photo(h, w, seed=4)
    hole = _hole(h, w)
    out = run_spandrel_on_mono(desc, img, hole)
    image, mask = rec.seen[-1]
    assert image.shape == (1, 3, 512, 512) and mask.shape == (1, 1, 512, 512)
    assert bool(((mask == 0) | (mask == 1)).all())
    # The one-pixel hole line at row 525 of 1030 (the padded square) lands near row 261 of 512 and is kept.
    row = round(525 * 512 / 1030)
    assert bool((mask[0, 0, row - 1 : row + 2, :509] == 1).any(dim=0).all())
    assert out.shape == (1, 1, h, w)
    assert torch.allclose(out[hole == 1], torch.full_like(out[hole == 1], 0.25), atol=1e-6)
    assert torch.equal(out[hole == 0], to_mono(img)[hole == 0])
    # Small images are enlarged to 512 and brought back.
    small = _photo(40, 72, seed=5)
    out = run_spandrel_on_mono(desc, small, _hole(40, 72))
    assert rec.seen[-1][0].shape == (1, 3, 512, 512) and out.shape == (1, 1, 40, 72)


def test_legacy_mat_module_without_requirements_runs_at_512() -> None:
    # Older comfyui-inpaint-nodes hand over their own MAT module instead of a spandrel descriptor.
    class MAT(_Recorder):
        pass

    legacy = MAT()
    out = run_spandrel_on_mono(legacy, _photo(30, 50), _hole(30, 50))
    assert legacy.seen[-1][0].shape == (1, 3, 512, 512) and out.shape == (1, 1, 30, 50)


def test_training_mode_is_restored_and_no_hole_shortcut() -> None:
    rec = _Recorder()
    desc = _descriptor(rec, sp.LaMaArch(), sp.spandrel.SizeRequirements(minimum=16, multiple_of=8))
    rec.train()
    img = _photo(16, 16)
    assert torch.equal(run_spandrel_on_mono(desc, img, torch.zeros(1, 1, 16, 16)), to_mono(img))
    assert rec.seen == []  # nothing to fill: the model is not called
    run_spandrel_on_mono(desc, img, _hole(16, 16))
    assert rec.training


def test_rejects_models_that_do_not_inpaint() -> None:
    rec = _Recorder()
    upscaler = sp.spandrel.ImageModelDescriptor(
        rec, rec.state_dict(), architecture=sp.LaMaArch(), purpose="SR", tags=[], supports_half=False,
        supports_bfloat16=False, scale=2, input_channels=3, output_channels=3,
    )
    with pytest.raises(EEIInputError, match="not an inpainting model"):
        run_spandrel_on_mono(upscaler, _photo(16, 16), _hole(16, 16))


def test_mat_on_mono() -> None:
    # Real MAT architecture (random weights): built for exactly 512 x 512, the heaviest test here.
    mat = sp.MATArch().load(_seeded(sp.MAT).state_dict()).eval()
    assert mat.size_requirements.minimum == 512 and mat.size_requirements.square
    shapes: list[tuple[int, ...]] = []
    handle = mat.model.register_forward_pre_hook(lambda module, args: shapes.append(tuple(args[0].shape)))
    img = _photo(40, 72, seed=6)
    hole = _hole(40, 72)
    out = run_spandrel_on_mono(mat, img, hole)
    handle.remove()
    assert shapes == [(1, 3, 512, 512)]
    assert out.shape == (1, 1, 40, 72)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert torch.equal(out[hole == 0], to_mono(img)[hole == 0])
