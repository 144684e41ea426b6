"""The learned external stage: a gated-convolution network that completes the hole in monochrome.

Wang et al. (CVPR 2021) complete the hole in grayscale first (the "monochromic bottleneck") and colorize it later. The
network here is DeepFill v2's two-stage generator (Yu et al., ICCV 2019: gated convolutions, a coarse network and a
refinement network with dilated convolutions in the middle) changed as the paper says: its input is the RGB image
with the hole zeroed, its monochrome and the mask (5 channels), and its output is one monochrome channel. Contextual
attention is left out: the internal stage of EEI does the copying of colours from the known region.

Weights are stored as safetensors with the configuration in the metadata, so loading never unpickles anything.
Inpainting models users already own (LaMa, MAT, loaded by comfyui-inpaint-nodes through spandrel) are run on the
monochrome image by :func:`run_spandrel_on_mono`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..shared.checks import batch_item, batch_size, binarize_mask, check_image, check_mask, check_same_size
from ..shared.color import to_mono
from ..shared.errors import EEIInputError

logger = logging.getLogger(__name__)

#: Name written into the safetensors metadata; files without it are not EEI mono models.
ARCHITECTURE = "eei.MonoInpaintGenerator"
#: Version of the weight layout; bump when keys or shapes change.
FORMAT_VERSION = 1
#: Both stages downsample twice by 2, so sides must be multiples of 4.
STRIDE = 4

_META_ARCH = "eei_architecture"
_META_VERSION = "eei_format_version"
_META_CONFIG = "eei_config"


@dataclass(frozen=True)
class MonoModelConfig:
    """Options of :class:`MonoInpaintGenerator`.

    Attributes:
        width: feature channels of the first layer; the widest layers have ``4 * width``. DeepFill v2's ``cnum=48``
            counts feature and gate channels together, so ``width=24`` is its size (about 3 million parameters).
        activation: ``"elu"`` (DeepFill v2) or ``"leaky_relu"``.
    """

    width: int = 24
    activation: Literal["elu", "leaky_relu"] = "elu"

    def __post_init__(self) -> None:
        if not isinstance(self.width, int) or self.width < 4 or self.width % 2:
            raise EEIInputError(f"model width must be an even integer >= 4, got {self.width!r}")
        if self.activation not in ("elu", "leaky_relu"):
            raise EEIInputError(f"activation must be 'elu' or 'leaky_relu', got {self.activation!r}")


class GatedConv2d(nn.Module):
    """Gated convolution: ``act(feature) * sigmoid(gate)``, both from one convolution.

    The gate lets every layer learn, per pixel and channel, how much of a feature to pass on, which is how DeepFill
    v2 deals with features computed from hole pixels. ``[B, C_in, H, W] -> [B, C_out, H / stride, W / stride]``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        dilation: int = 1,
        activation: str | None = "elu",
    ) -> None:
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv2d(in_channels, 2 * out_channels, kernel_size, stride, padding, dilation)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feature, gate = self.conv(x).chunk(2, dim=1)
        if self.activation == "elu":
            feature = F.elu(feature)
        elif self.activation == "leaky_relu":
            feature = F.leaky_relu(feature, 0.2)
        return feature * torch.sigmoid(gate)


class GatedUpConv2d(nn.Module):
    """Nearest 2x upsampling followed by a gated convolution (DeepFill v2's ``gen_deconv``)."""

    def __init__(self, in_channels: int, out_channels: int, activation: str) -> None:
        super().__init__()
        self.conv = GatedConv2d(in_channels, out_channels, 3, activation=activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def _stage(in_channels: int, width: int, activation: str) -> nn.Sequential:
    """One DeepFill v2 stage: encoder (2 downsamplings), dilated middle (rates 2, 4, 8, 16), decoder, 1 channel out.

    ``[B, in_channels, H, W] -> [B, 1, H, W]`` (pre-activation); ``H`` and ``W`` must be multiples of 4.
    """
    c = width
    return nn.Sequential(
        GatedConv2d(in_channels, c, 5, activation=activation),
        GatedConv2d(c, 2 * c, 3, stride=2, activation=activation),
        GatedConv2d(2 * c, 2 * c, 3, activation=activation),
        GatedConv2d(2 * c, 4 * c, 3, stride=2, activation=activation),
        GatedConv2d(4 * c, 4 * c, 3, activation=activation),
        GatedConv2d(4 * c, 4 * c, 3, activation=activation),
        GatedConv2d(4 * c, 4 * c, 3, dilation=2, activation=activation),
        GatedConv2d(4 * c, 4 * c, 3, dilation=4, activation=activation),
        GatedConv2d(4 * c, 4 * c, 3, dilation=8, activation=activation),
        GatedConv2d(4 * c, 4 * c, 3, dilation=16, activation=activation),
        GatedConv2d(4 * c, 4 * c, 3, activation=activation),
        GatedConv2d(4 * c, 4 * c, 3, activation=activation),
        GatedUpConv2d(4 * c, 2 * c, activation),
        GatedConv2d(2 * c, 2 * c, 3, activation=activation),
        GatedUpConv2d(2 * c, c, activation),
        GatedConv2d(c, c // 2, 3, activation=activation),
        nn.Conv2d(c // 2, 1, 3, padding=1),
    )


def _pad_bottom_right(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Pad ``x`` at the bottom and right to ``height`` x ``width``.

    Reflection keeps texture at the border; it cannot pad more than side - 1, so any rest repeats the edge.
    """
    h, w = x.shape[-2:]
    ph, pw = height - h, width - w
    if ph <= 0 and pw <= 0:
        return x
    rh, rw = min(ph, h - 1), min(pw, w - 1)
    if rh or rw:
        x = F.pad(x, (0, rw, 0, rh), mode="reflect")
    if ph - rh or pw - rw:
        x = F.pad(x, (0, pw - rw, 0, ph - rh), mode="replicate")
    return x


class MonoInpaintGenerator(nn.Module):
    """DeepFill v2 style gated-convolution generator that completes a monochrome hole.

    Input: the RGB image with the hole zeroed, its monochrome with the hole zeroed and the mask (5 channels, values
    mapped to -1..1 internally so a zeroed hole reads as mid gray). Output: the coarse and the refined monochrome, one
    channel each, in 0..1. Any ``H, W`` works: the input is padded (reflection) to a multiple of 4 and cropped back.

    Example:
        >>> net = MonoInpaintGenerator(MonoModelConfig(width=8))
        >>> rgb, mask = torch.rand(2, 3, 30, 41), torch.zeros(2, 1, 30, 41)
        >>> coarse, refined = net(rgb, mask)
        >>> refined.shape
        torch.Size([2, 1, 30, 41])
    """

    def __init__(self, config: MonoModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or MonoModelConfig()
        width, act = self.config.width, self.config.activation
        self.coarse = _stage(5, width, act)
        self.refine = _stage(5, width, act)

    def forward(self, rgb: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Complete the hole.

        Args:
            rgb: ``[B, 3, H, W]`` in 0..1 (hole content is ignored).
            mask: ``[B, 1, H, W]`` in {0, 1}, 1 = hole.

        Returns:
            ``(coarse, refined)``, each ``[B, 1, H, W]`` in 0..1 over the whole image (not composited).
        """
        h, w = rgb.shape[-2:]
        known = 1.0 - mask
        rgb_n = (rgb * 2.0 - 1.0) * known
        mono_n = (to_mono(rgb) * 2.0 - 1.0) * known
        x = _pad_bottom_right(torch.cat([rgb_n, mono_n, mask], dim=1), h + (-h) % STRIDE, w + (-w) % STRIDE)
        m = x[:, 4:5]
        coarse = torch.tanh(self.coarse(x))
        # The refinement stage sees the coarse guess pasted into the hole, the known image around it.
        mono_in = x[:, 3:4] * (1.0 - m) + coarse * m
        refined = torch.tanh(self.refine(torch.cat([x[:, :3], mono_in, m], dim=1)))
        coarse = (coarse[..., :h, :w] + 1.0) / 2.0
        refined = (refined[..., :h, :w] + 1.0) / 2.0
        return coarse, refined


def save_mono_model(
    model: MonoInpaintGenerator, path: str | Path, extra_metadata: dict[str, str] | None = None
) -> Path:
    """Write ``model`` as a ``.safetensors`` file with its configuration in the metadata.

    Args:
        model: the generator to save (any device; weights are written from CPU copies).
        path: destination; must end in ``.safetensors``. Written atomically (temporary file, then rename).
        extra_metadata: more string entries for the header (e.g. training step, training size).

    Returns:
        The path written.
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix.lower() != ".safetensors":
        raise EEIInputError(
            f"mono models are saved as .safetensors; use a file name ending in .safetensors, not {path.name!r}"
        )
    metadata = {
        _META_ARCH: ARCHITECTURE,
        _META_VERSION: str(FORMAT_VERSION),
        _META_CONFIG: json.dumps(asdict(model.config)),
    }
    metadata.update({str(k): str(v) for k, v in (extra_metadata or {}).items()})
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    tmp.replace(path)
    return path


def read_mono_metadata(path: str | Path) -> dict[str, str]:
    """The header metadata of an EEI ``.safetensors`` file, checked to be an EEI mono model.

    Raises:
        EEIInputError: not a ``.safetensors`` file, missing, unreadable, or without EEI metadata.
    """
    from safetensors import safe_open

    path = Path(path)
    if path.suffix.lower() != ".safetensors":
        raise EEIInputError(
            f"{path.name!r}: only .safetensors model files are loaded. {path.suffix or 'This'} files are Python "
            "pickles, and unpickling can run arbitrary code hidden in the file, so EEI never opens them. Use a "
            ".safetensors EEI mono model (train one with `eei train-external`); for LaMa or MAT use "
            "comfyui-inpaint-nodes' Load Inpaint Model and connect its model instead"
        )
    if not path.is_file():
        raise EEIInputError(f"model file not found: {path}")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = f.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for corrupt headers
        raise _unreadable(path, exc) from exc
    if metadata.get(_META_ARCH) != ARCHITECTURE:
        raise EEIInputError(
            f"{path.name!r} is not an EEI mono model; its safetensors metadata has no {_META_ARCH}={ARCHITECTURE!r} "
            "entry. EEI mono models are made by `eei train-external`; for LaMa or MAT weights use "
            "comfyui-inpaint-nodes' Load Inpaint Model and connect its model instead"
        )
    version = metadata.get(_META_VERSION, "")
    if version != str(FORMAT_VERSION):
        raise EEIInputError(
            f"{path.name!r} is an EEI mono model of format version {version!r}, but this EEI reads version "
            f"{FORMAT_VERSION}; update EEI (or retrain the model with this version)"
        )
    return metadata


def _unreadable(path: Path, exc: Exception) -> EEIInputError:
    return EEIInputError(
        f"{path.name!r} is not a readable safetensors file ({exc}): it is truncated (an interrupted download or "
        "copy) or not a safetensors file at all (e.g. a pickle or a web page renamed to .safetensors); download or "
        "export it again"
    )


def config_from_metadata(metadata: dict[str, str], name: str = "model") -> MonoModelConfig:
    """The :class:`MonoModelConfig` stored by :func:`save_mono_model`."""
    try:
        raw = json.loads(metadata[_META_CONFIG])
        return MonoModelConfig(**raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise EEIInputError(
            f"{name!r} is not an EEI mono model; its configuration metadata is unreadable ({exc})"
        ) from exc


def load_state_strict(model: nn.Module, state: dict[str, torch.Tensor], name: str) -> None:
    """``load_state_dict`` with an :class:`EEIInputError` naming missing, unexpected and mis-shaped keys."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
            if keys:
                shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
                parts.append(f"{label}: {shown}")
        raise EEIInputError(
            f"{name!r} is not an EEI mono model matching its own configuration; the weights do not fit the network "
            f"({'; '.join(parts)}). The file may be damaged or written by another program"
        )
    model.load_state_dict(state, strict=True)


def load_mono_model(path: str | Path, device: str | torch.device | None = None) -> MonoInpaintGenerator:
    """Load a model written by :func:`save_mono_model` (safetensors only; never unpickles).

    Args:
        path: a ``.safetensors`` file made by ``eei train-external`` or :func:`save_mono_model`.
        device: where to put the model (default CPU).

    Returns:
        The generator in eval mode.

    Raises:
        EEIInputError: ``.ckpt``/``.pt``/``.pth``/``.bin`` and other non-safetensors files (pickles are never
            opened), missing files, files without EEI metadata, or weights that do not fit the stored configuration.
    """
    from safetensors.torch import load_file

    path = Path(path)
    metadata = read_mono_metadata(path)
    model = MonoInpaintGenerator(config_from_metadata(metadata, path.name))
    try:
        state = load_file(str(path), device="cpu")
    except Exception as exc:  # a header that reads but data that does not
        raise _unreadable(path, exc) from exc
    load_state_strict(model, state, path.name)
    model.eval()
    return model.to(device) if device is not None else model


def _prepare(image: torch.Tensor, mask: torch.Tensor) -> tuple[int, torch.Tensor]:
    """Check an image/mask pair for a mono completion; returns the batch size and the binary mask."""
    check_image(image, "image", channels=(1, 3))
    check_mask(mask, "mask")
    check_same_size(image, mask, "image", "mask")
    return batch_size({"image": image, "mask": mask}), binarize_mask(mask)


def _composite(mono: torch.Tensor, filled: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Known pixels exactly ``mono``, hole pixels ``filled`` clamped to 0..1."""
    return torch.where(hole > 0.5, filled.clamp(0.0, 1.0), mono)


def run_mono_model(model: MonoInpaintGenerator, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Complete the hole of ``image`` in monochrome with a learned :class:`MonoInpaintGenerator`.

    Runs on the model's device and dtype, one batch item at a time, without gradients; the result comes back on the
    image's device.

    Args:
        model: a generator (e.g. from :func:`load_mono_model`).
        image: ``[B, 3, H, W]`` RGB or ``[B, 1, H, W]`` mono in 0..1 (gray is treated as R = G = B).
        mask: ``[B, 1, H, W]``, 1 = hole (thresholded at 0.5). Batches follow the one batch rule.

    Returns:
        ``[B, 1, H, W]`` in 0..1: ``to_mono(image)`` exactly where known, the network's refined output in the hole.

    Example:
        >>> net = MonoInpaintGenerator(MonoModelConfig(width=8)).eval()
        >>> img, hole = torch.rand(1, 3, 16, 16), torch.zeros(1, 1, 16, 16)
        >>> hole[..., 4:9, 4:9] = 1
        >>> out = run_mono_model(net, img, hole)
        >>> bool((out[hole == 0] == to_mono(img)[hole == 0]).all())
        True
    """
    n, hole = _prepare(image, mask)
    param = next(model.parameters())
    outs = []
    with torch.inference_mode():
        for i in range(n):
            img, m = batch_item(image, i), batch_item(hole, i)
            mono = to_mono(img)
            if not bool(m.any()):
                outs.append(mono.clone())
                continue
            rgb = img if img.shape[1] == 3 else img.expand(-1, 3, -1, -1)
            _, refined = model(rgb.to(param.device, param.dtype), m.to(param.device, param.dtype))
            outs.append(_composite(mono, refined.to(image.device, image.dtype), m))
    return torch.cat(outs, dim=0)


# --- inpainting models users already own (spandrel descriptors from comfyui-inpaint-nodes) -------------------------

#: Side of the square that fixed-resolution models run at when spandrel does not say (comfyui-inpaint-nodes' own MAT).
_MAT_SIDE = 512


def _fixed_square_side(descriptor: Any) -> int | None:
    """The one square side a model must run at, or ``None`` when it runs at any (padded) size.

    spandrel describes MAT as ``SizeRequirements(minimum=512, multiple_of=512, square=True)``: the network is built
    for exactly 512 x 512. Older comfyui-inpaint-nodes hand over their own ``MAT`` module with no requirements.
    """
    req = getattr(descriptor, "size_requirements", None)
    if req is None:
        return _MAT_SIDE if type(descriptor).__name__ == "MAT" else None
    minimum = int(getattr(req, "minimum", 0) or 0)
    if getattr(req, "square", False) and minimum > 1 and minimum == getattr(req, "multiple_of", 1):
        return minimum
    return None


def _required_size(height: int, width: int, req: Any) -> tuple[int, int]:
    """The smallest size at least ``height`` x ``width`` meeting a spandrel ``SizeRequirements``."""
    minimum = int(getattr(req, "minimum", 0) or 0)
    multiple = max(int(getattr(req, "multiple_of", 1) or 1), 1)
    th, tw = max(height, minimum), max(width, minimum)
    if getattr(req, "square", False):
        th = tw = max(th, tw)
    return th + (-th) % multiple, tw + (-tw) % multiple


def _resize_image(x: torch.Tensor, side: int) -> torch.Tensor:
    """Square ``x`` resized to ``side``: area averaging when shrinking (no aliasing), bilinear when enlarging."""
    if x.shape[-1] == side:
        return x
    if x.shape[-1] > side:
        return F.interpolate(x, size=(side, side), mode="area")
    return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)


def _resize_hole(m: torch.Tensor, side: int) -> torch.Tensor:
    """Square binary hole resized to ``side``; a cell touching any hole pixel stays a hole.

    Otherwise thin strokes could vanish when shrinking, and the model would keep resampled hole content.
    """
    if m.shape[-1] == side:
        return m
    if m.shape[-1] > side:
        return F.adaptive_max_pool2d(m, side)
    return (F.interpolate(m, size=(side, side), mode="bilinear", align_corners=False) > 0.0).to(m.dtype)


def _model_device_dtype(descriptor: Any) -> tuple[torch.device, torch.dtype]:
    module = getattr(descriptor, "model", descriptor)
    try:
        p = next(module.parameters())
        return p.device, p.dtype
    except (AttributeError, StopIteration):
        return torch.device("cpu"), torch.float32


def _call_inpainter(descriptor: Any, gray: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """One ``[1, C, h, w]`` item through the model at a size it accepts; returns ``[1, 1, h, w]`` luminance."""
    h, w = gray.shape[-2:]
    side = _fixed_square_side(descriptor)
    if side is not None:
        s = max(h, w)
        x = _resize_image(_pad_bottom_right(gray, s, s), side)
        m = _resize_hole(_pad_bottom_right(hole, s, s), side)
    else:
        th, tw = _required_size(h, w, getattr(descriptor, "size_requirements", None))
        x, m = _pad_bottom_right(gray, th, tw), _pad_bottom_right(hole, th, tw)
    device, dtype = _model_device_dtype(descriptor)
    out = descriptor(x.to(device, dtype), m.to(device, dtype))
    if not isinstance(out, torch.Tensor) or out.dim() != 4 or out.shape[1] not in (1, 3, 4):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise EEIInputError(f"the inpainting model returned {got}; expected an image tensor [1, 1 or 3, H, W]")
    out = to_mono(out.float().clamp(0.0, 1.0))
    if side is not None:
        if out.shape[-1] != s:
            out = F.interpolate(out, size=(s, s), mode="bilinear", align_corners=False)
    return out[..., :h, :w]


def run_spandrel_on_mono(descriptor: Any, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Complete the hole in monochrome with an inpainting model the user already has (LaMa, MAT, ...).

    ``descriptor`` is what comfyui-inpaint-nodes' Load Inpaint Model outputs: a spandrel
    ``MaskedImageModelDescriptor`` (called as ``descriptor(image, mask)`` with ``[1, C, H, W]`` and ``[1, 1, H, W]``
    tensors in 0..1, mask 1 = hole), or, in older versions, its own ``MAT`` module with the same call. The model sees
    the monochrome replicated to gray RGB (so it invents no colour) and only the luminance of its answer is kept;
    colour is the internal stage's job.

    Sizes: models with a free size (LaMa: multiple of 8, at least 16) run at full resolution, padded by reflection
    and cropped back; fixed-size models (MAT: 512 x 512 square) get the image padded to a square and resized to that
    side, and the answer resized back, as comfyui-inpaint-nodes does. The model runs on its own device and dtype.

    Args:
        descriptor: spandrel inpainting model descriptor (or a module called as ``model(image, mask)``).
        image: ``[B, 3, H, W]`` RGB or ``[B, 1, H, W]`` mono in 0..1.
        mask: ``[B, 1, H, W]``, 1 = hole. Batches follow the one batch rule.

    Returns:
        ``[B, 1, H, W]`` in 0..1, exactly ``to_mono(image)`` where known.

    Raises:
        EEIInputError: bad inputs, a model that is not an inpainting model (e.g. an upscaler), or a model output
            that is not an image.
    """
    purpose = getattr(descriptor, "purpose", "Inpainting")
    if purpose != "Inpainting" or not callable(descriptor):
        arch = getattr(getattr(descriptor, "architecture", None), "name", type(descriptor).__name__)
        raise EEIInputError(
            f"the model ({arch}, purpose {purpose!r}) is not an inpainting model; connect an inpainting model such as "
            "LaMa or MAT from comfyui-inpaint-nodes' Load Inpaint Model"
        )
    n, hole = _prepare(image, mask)
    channels = int(getattr(descriptor, "input_channels", 3) or 3)
    module = getattr(descriptor, "model", descriptor)
    was_training = bool(getattr(module, "training", False))
    if was_training:
        module.eval()
    outs = []
    try:
        with torch.inference_mode():
            for i in range(n):
                mono = to_mono(batch_item(image, i))
                m = batch_item(hole, i)
                if not bool(m.any()):
                    outs.append(mono.clone())
                    continue
                gray = mono.expand(-1, channels, -1, -1) if channels != 1 else mono
                filled = _call_inpainter(descriptor, gray.float(), m.float())
                outs.append(_composite(mono, filled.to(image.device, image.dtype), m))
    finally:
        if was_training:
            module.train()
    return torch.cat(outs, dim=0)
