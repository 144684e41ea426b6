"""The one place where inputs of :mod:`eei_core` are checked.

Images are ``[B, C, H, W]`` float tensors in 0..1, masks ``[B, 1, H, W]`` with 1 = hole. Every public function calls
these helpers on entry so the errors read the same everywhere.
"""

from __future__ import annotations

import logging

import torch

from .errors import EEIInputError

log = logging.getLogger(__name__)

#: VAEEncodeForInpaint crops its image to multiples of the VAE's 8-pixel blocks, centred, so a decoded result can be
#: a few pixels smaller than the image and mask it came from; differences up to one block are aligned.
VAE_BLOCK = 8


def _shape(t: torch.Tensor) -> str:
    return "x".join(str(s) for s in t.shape)


def check_image(image: torch.Tensor, name: str = "image", channels: tuple[int, ...] = (3,)) -> None:
    """Check a ``[B, C, H, W]`` floating tensor with ``C`` in ``channels`` and finite values.

    Raises:
        EEIInputError: naming ``name``, the expected layout and what was given.
    """
    if not isinstance(image, torch.Tensor):
        raise EEIInputError(f"{name} must be a torch.Tensor, got {type(image).__name__}")
    if image.dim() != 4:
        raise EEIInputError(f"{name} must have shape [B, C, H, W], got {image.dim()} dimensions ({_shape(image)})")
    if image.shape[1] not in channels:
        want = " or ".join(str(c) for c in channels)
        raise EEIInputError(f"{name} must have {want} channel(s), got {image.shape[1]} (shape {_shape(image)})")
    if image.shape[0] < 1 or image.shape[2] < 1 or image.shape[3] < 1:
        raise EEIInputError(f"{name} is empty (shape {_shape(image)})")
    if not image.is_floating_point():
        raise EEIInputError(f"{name} must be a float tensor in 0..1, got dtype {image.dtype}")
    if not bool(torch.isfinite(image).all()):
        raise EEIInputError(f"{name} contains NaN or infinite values; clean the input (e.g. torch.nan_to_num) first")


def check_mask(mask: torch.Tensor, name: str = "mask") -> None:
    """Check a ``[B, 1, H, W]`` float mask (1 = hole) with finite values."""
    check_image(mask, name, channels=(1,))


def check_same_size(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    """Raise if the spatial sizes of two ``[B, C, H, W]`` tensors differ, naming both sizes as WxH."""
    if a.shape[-2:] != b.shape[-2:]:
        raise EEIInputError(
            f"{name_b} size {b.shape[-1]}x{b.shape[-2]} differs from {name_a} size {a.shape[-1]}x{a.shape[-2]} "
            f"(width x height); resize {name_b} to match {name_a}"
        )


def batch_size(named: dict[str, torch.Tensor | None]) -> int:
    """The common batch size of several tensors under the one batch rule.

    The rule: a batch of one is reused for every item; batches of equal size pair item by item; anything else is an
    error. ``None`` entries (optional inputs) are ignored.
    """
    sizes = {n: t.shape[0] for n, t in named.items() if t is not None}
    target = max(sizes.values(), default=1)
    bad = {n: s for n, s in sizes.items() if s not in (1, target)}
    if bad:
        listed = ", ".join(f"{n}={s}" for n, s in sizes.items())
        raise EEIInputError(
            f"batch sizes do not match ({listed}): each input needs a batch of 1 (reused for every item) or "
            f"{target} (one per item)"
        )
    return target


def batch_item(t: torch.Tensor | None, i: int) -> torch.Tensor | None:
    """Item ``i`` of ``t`` as a batch of one under the one batch rule (a batch of one is reused)."""
    if t is None:
        return None
    return t[:1] if t.shape[0] == 1 else t[i : i + 1]


def binarize_mask(mask: torch.Tensor) -> torch.Tensor:
    """Soft masks are thresholded at 0.5: a pixel is either known or a hole."""
    return (mask > 0.5).to(mask.dtype)


def check_known_pixels(mask: torch.Tensor) -> None:
    """Raise if a hole mask ``[B, 1, H, W]`` (1 = hole, thresholded at 0.5) leaves no known pixel in some item."""
    for i in range(mask.shape[0]):
        if float(mask[i].min()) > 0.5:
            raise EEIInputError(
                f"mask of batch item {i} covers the whole image: there is no known colour to learn from; "
                "leave part of the image unmasked (mask 0 = known) or give colour hints on a known image"
            )


def align_to_output(output: torch.Tensor, other: torch.Tensor, name: str) -> torch.Tensor:
    """``other`` (``[B, C, H', W']``) cropped to ``output``'s size when it is larger by at most :data:`VAE_BLOCK`
    pixels in each direction, centred as VAEEncodeForInpaint crops; anything else is returned unchanged (and left to
    :func:`check_same_size`).

    Example:
        >>> align_to_output(torch.zeros(1, 3, 64, 80), torch.zeros(1, 1, 69, 83), "mask").shape
        torch.Size([1, 1, 64, 80])
    """
    dh, dw = other.shape[-2] - output.shape[-2], other.shape[-1] - output.shape[-1]
    if (dh, dw) == (0, 0) or not (0 <= dh <= VAE_BLOCK and 0 <= dw <= VAE_BLOCK):
        return other
    top, left = dh // 2, dw // 2
    log.info(
        "%s is %dx%d, the image %dx%d: cropped to the image as VAEEncodeForInpaint crops (centred, to multiples of 8)",
        name, other.shape[-1], other.shape[-2], output.shape[-1], output.shape[-2],
    )
    return other[..., top : top + output.shape[-2], left : left + output.shape[-1]]
