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
#: How far outside 0..1 image values may lie and still be clamped (see :func:`check_value_range`).
RANGE_TOLERANCE = 0.25


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
    finite = torch.isfinite(image)
    if not bool(finite.all()):
        bad = int(finite.numel() - finite.sum())
        raise EEIInputError(
            f"{name} contains NaN or infinite values ({bad} of {finite.numel()}): the step that made it failed. A VAE "
            "decoding in half precision is the usual cause (run the VAE in fp32, e.g. ComfyUI's --fp32-vae); "
            "otherwise replace them first (e.g. torch.nan_to_num)"
        )


def check_value_range(image: torch.Tensor, name: str = "image") -> torch.Tensor:
    """``image`` clamped to 0..1 when it leaves that range by at most :data:`RANGE_TOLERANCE`; an error beyond.

    Resampling overshoots a little at hard edges (bicubic and Lanczos upscaling ring by up to about 0.1 past black
    and white), and some nodes pass that on unclamped; those values are clamped (with a logged note). An image in
    another scale (0..255 from an 8-bit array, -1..1 from a network) lies far outside and would give a wrong result
    silently, so it is an error saying how to rescale.

    Example:
        >>> check_value_range(torch.tensor([[[[-0.05, 0.5, 1.05]]]])).tolist()
        [[[[0.0, 0.5, 1.0]]]]

    Raises:
        EEIInputError: values below ``-RANGE_TOLERANCE`` or above ``1 + RANGE_TOLERANCE``.
    """
    lo, hi = float(image.min()), float(image.max())
    if lo >= 0.0 and hi <= 1.0:
        return image
    if lo < -RANGE_TOLERANCE or hi > 1.0 + RANGE_TOLERANCE:
        if lo >= -RANGE_TOLERANCE and hi <= 255.0 + RANGE_TOLERANCE:
            how = "it looks like 0..255 (8-bit) values: divide by 255"
        elif lo >= -1.0 - RANGE_TOLERANCE and hi <= 1.0 + RANGE_TOLERANCE:
            how = "it looks like -1..1 values: map them with (x + 1) / 2"
        else:
            how = "rescale it to 0..1"
        raise EEIInputError(
            f"{name} values range from {lo:.4g} to {hi:.4g}, but images must be float 0..1 (black = 0, white = 1); "
            f"{how} before this node"
        )
    log.info("%s values range from %.3f to %.3f: clamped to 0..1", name, lo, hi)
    return image.clamp(0.0, 1.0)


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


def check_has_hole(mask: torch.Tensor) -> None:
    """Raise if no item of a hole mask ``[B, 1, H, W]`` (1 = hole) has a hole pixel (a value above 0.5).

    Items without a hole pass through the nodes unchanged (a video's frames need not all have one); when no item has
    one, there is nothing to do, which is nearly always a mask that was not painted, is inverted, or is too faint.
    """
    if bool((mask > 0.5).any()):
        return
    top = float(mask.max())
    items = "its batch item" if mask.shape[0] == 1 else f"any of its {mask.shape[0]} batch items"
    faint = (
        f"; its largest value is {top:.2f}: soft masks count as hole only where they are above 0.5"
        if top > 0.0 else ""
    )
    raise EEIInputError(
        f"mask has no hole in {items} (no pixel above 0.5{faint}), so there is nothing to fill. Paint the hole "
        "white (1 = hole; in ComfyUI right-click the image > Open in MaskEditor), or invert the mask if its black "
        "pixels mark the hole. In a batch, items without a hole pass through unchanged"
    )


def check_file_name(name: str, folder: str) -> str:
    """``name`` as a path inside ``folder``: relative, without ``..``, so it cannot point outside the folder.

    Example:
        >>> check_file_name("sub/model.safetensors", "models/eei")
        'sub/model.safetensors'

    Raises:
        EEIInputError: an empty, absolute or ``..`` path.
    """
    if not isinstance(name, str) or not name.strip():
        raise EEIInputError(f"no model name given; put a .safetensors file into {folder} and pick it in the node")
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise EEIInputError(
            f"model name {name!r} points outside {folder}; models are only loaded from that folder: pick a file "
            "listed in the node (put the file into the folder and press R in ComfyUI to refresh the list)"
        )
    return name


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
