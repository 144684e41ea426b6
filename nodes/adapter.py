"""The one place where ComfyUI's tensor layouts meet :mod:`eei_core`'s.

ComfyUI passes ``IMAGE`` as ``[B, H, W, C]`` float 0..1 (C = 3, sometimes 4 or 1) and ``MASK`` as ``[B, H, W]``
(or ``[H, W]``), 1 = hole. :mod:`eei_core` works on ``[B, C, H, W]`` images and ``[B, 1, H, W]`` masks. Nodes call
:func:`to_torch` on their inputs and :func:`to_comfy` on their result, and nothing else converts layouts.

This module imports nothing of ComfyUI, so it is unit-tested without a server (tests/nodes/).
"""

from __future__ import annotations

import torch
from PIL import Image

from ..eei_core.shared.checks import (
    align_to_output,
    batch_size,
    check_image,
    check_mask,
    check_same_size,
    check_value_range,
)
from ..eei_core.shared.errors import EEIInputError


def _shape(t: torch.Tensor) -> str:
    return "x".join(str(s) for s in t.shape)


def image_to_torch(image: torch.Tensor, name: str = "image") -> torch.Tensor:
    """``IMAGE [B, H, W, C]`` -> ``[B, 3, H, W]``: alpha (C = 4) is dropped, gray (C = 1) repeated to 3 channels.

    Example:
        >>> image_to_torch(torch.zeros(2, 48, 64, 4)).shape
        torch.Size([2, 3, 48, 64])
    """
    if not isinstance(image, torch.Tensor):
        raise EEIInputError(f"{name} must be an IMAGE tensor, got {type(image).__name__}")
    if image.dim() == 3:  # a single image without batch dimension, as a few custom nodes emit
        image = image.unsqueeze(0)
    if image.dim() != 4 or image.shape[-1] not in (1, 3, 4):
        raise EEIInputError(f"{name} must be an IMAGE [batch, height, width, 3 channels], got shape {_shape(image)}")
    rgb = image[..., :3] if image.shape[-1] == 4 else image.expand(-1, -1, -1, 3) if image.shape[-1] == 1 else image
    return rgb.movedim(-1, 1).float()


def mask_to_torch(mask: torch.Tensor, name: str = "mask") -> torch.Tensor:
    """``MASK [B, H, W]`` (or ``[H, W]``, or ``[B, 1, H, W]``) -> ``[B, 1, H, W]``, 1 = hole.

    Example:
        >>> mask_to_torch(torch.ones(48, 64)).shape
        torch.Size([1, 1, 48, 64])
    """
    if not isinstance(mask, torch.Tensor):
        raise EEIInputError(f"{name} must be a MASK tensor, got {type(mask).__name__}")
    if mask.dim() == 2:
        mask = mask.unsqueeze(0)
    if mask.dim() == 4 and mask.shape[1] == 1:
        mask = mask[:, 0]
    if mask.dim() != 3:
        raise EEIInputError(f"{name} must be a MASK [batch, height, width], got shape {_shape(mask)}")
    return mask.unsqueeze(1).float()


def to_torch(
    images: dict[str, torch.Tensor | None],
    masks: dict[str, torch.Tensor | None] | None = None,
    allow_vae_crop: bool = False,
) -> list[torch.Tensor | None]:
    """Convert a node's image and mask inputs, in the order given (images first, then masks).

    All given inputs must have the size of the first one (the error names both inputs and their sizes) and batch
    sizes that follow the one batch rule (:func:`eei_core.shared.checks.batch_size`). Optional inputs may be ``None`` and
    stay ``None``. With ``allow_vae_crop``, inputs up to 8 pixels larger than the first are let through for
    :func:`eei_core.shared.checks.align_to_output` (a VAE-decoded result is cropped to multiples of 8). Values are
    checked here, so errors name the node's inputs: NaN or infinite values are an error, images slightly outside 0..1
    are clamped and images far outside are an error (:func:`eei_core.shared.checks.check_value_range`).

    Example:
        >>> image, mask = to_torch({"image": torch.zeros(2, 48, 64, 3)}, {"mask": torch.ones(1, 48, 64)})
        >>> image.shape, mask.shape
        (torch.Size([2, 3, 48, 64]), torch.Size([1, 1, 48, 64]))
    """
    named: dict[str, torch.Tensor | None] = {n: None if t is None else image_to_torch(t, n) for n, t in images.items()}
    named.update({n: None if t is None else mask_to_torch(t, n) for n, t in (masks or {}).items()})
    for n, t in named.items():
        if t is not None and n in (masks or {}):
            check_mask(t, n)
        elif t is not None:
            check_image(t, n)
            named[n] = check_value_range(t, n)
    given = [(n, t) for n, t in named.items() if t is not None]
    for n, t in given[1:]:
        if n in (masks or {}) and t.shape[-2:] != given[0][1].shape[-2:] and _is_placeholder_mask(t):
            raise EEIInputError(
                f"{n} is empty and 64x64: LoadImage gives this placeholder when the image has no alpha channel. "
                f"Paint the hole with the mask editor (right-click the image > Open in MaskEditor) or load a mask "
                f"image of size {given[0][1].shape[-1]}x{given[0][1].shape[-2]}"
            )
        if allow_vae_crop:
            t = align_to_output(given[0][1], t, n)
        check_same_size(given[0][1], t, given[0][0], n)
    batch_size(named)
    return list(named.values())


def _is_placeholder_mask(mask: torch.Tensor) -> bool:
    return tuple(mask.shape[-2:]) == (64, 64) and not bool(mask.any())


def to_comfy(result: torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """``[B, C, H, W]`` -> ``IMAGE [B, H, W, 3]`` float32 on ``device``; one channel (monochrome) becomes gray RGB.

    Example:
        >>> to_comfy(torch.zeros(1, 1, 48, 64)).shape
        torch.Size([1, 48, 64, 3])
    """
    if result.shape[1] == 1:
        result = result.expand(-1, 3, -1, -1)
    return result.movedim(1, -1).to(device=device, dtype=torch.float32).contiguous()


def preview_to_pil(preview: torch.Tensor) -> Image.Image:
    """A progress preview ``[1, 3, h, w]`` (or ``[1, 1, h, w]``) in 0..1 -> an RGB PIL image."""
    array = to_comfy(preview.detach())[0].clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8).numpy()
    return Image.fromarray(array, mode="RGB")
