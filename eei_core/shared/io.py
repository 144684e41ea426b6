"""Image and mask files in and out (PNG, JPEG, anything Pillow reads), as ``[1, C, H, W]`` float tensors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .errors import EEIInputError


def _open(path: str | Path, what: str) -> Image.Image:
    p = Path(path)
    if not p.is_file():
        raise EEIInputError(f"{what} file not found: {p}")
    try:
        img = Image.open(p)
        img.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise EEIInputError(f"cannot read {what} {p}: {exc}") from None
    return img


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """A Pillow image as ``[1, C, H, W]`` float in 0..1 (C as stored: 1 for L, 3 for RGB, 4 for RGBA)."""
    if img.mode in ("I;16", "I;16B", "I"):
        arr = np.asarray(img, dtype=np.float32) / (65535.0 if img.mode != "I" else float(max(np.asarray(img).max(), 1)))
        return torch.from_numpy(arr)[None, None]
    if img.mode not in ("L", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.mode or "transparency" in img.info else "RGB")
    arr = np.asarray(img, dtype=np.float32) / 255.0
    if arr.ndim == 2:
        arr = arr[..., None]
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)[None]


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    """``[1, C, H, W]`` or ``[C, H, W]`` in 0..1 (C = 1 or 3) as an 8-bit Pillow image (values are clamped)."""
    t = image[0] if image.dim() == 4 else image
    arr = (t.detach().float().clamp(0, 1).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
    if arr.shape[0] == 1:
        return Image.fromarray(arr[0], mode="L")
    return Image.fromarray(np.ascontiguousarray(arr[:3].transpose(1, 2, 0)), mode="RGB")


def load_image(path: str | Path) -> torch.Tensor:
    """An image file as RGB ``[1, 3, H, W]`` in 0..1: alpha is dropped, gray is replicated to three channels."""
    t = pil_to_tensor(_open(path, "image"))
    if t.shape[1] == 1:
        return t.expand(-1, 3, -1, -1).contiguous()
    return t[:, :3].contiguous()


def load_gray(path: str | Path) -> torch.Tensor:
    """An image file as monochrome ``[1, 1, H, W]``: a gray file as is, a colour file by the paper's mono weights."""
    from .color import to_mono

    t = pil_to_tensor(_open(path, "image"))
    return t if t.shape[1] == 1 else to_mono(t[:, :3].contiguous())


def load_mask(path: str | Path, invert: bool = False) -> torch.Tensor:
    """A mask file as ``[1, 1, H, W]`` with 1 = hole: white = hole, black = known (``invert`` swaps them).

    L files are read as they are; RGB files by their luminance; RGBA files by their alpha where the colour is
    constant (a transparent-hole mask, as ComfyUI's mask editor saves: transparent = hole), else by luminance.
    Values are thresholded at 0.5.
    """
    t = pil_to_tensor(_open(path, "mask"))
    if t.shape[1] == 4:
        rgb, alpha = t[:, :3], t[:, 3:]
        if float(rgb.amax() - rgb.amin()) < 1e-6 and float(alpha.amax() - alpha.amin()) > 0:
            gray = 1.0 - alpha
        else:
            gray = rgb.mean(dim=1, keepdim=True)
    elif t.shape[1] == 3:
        gray = t.mean(dim=1, keepdim=True)
    else:
        gray = t
    hole = (gray > 0.5).float()
    return 1.0 - hole if invert else hole


def save_image(image: torch.Tensor, path: str | Path) -> Path:
    """Write ``[1, C, H, W]`` (C = 1 or 3) in 0..1 to ``path`` (format from the extension); folders are created."""
    p = Path(path)
    if p.suffix.lower() not in Image.registered_extensions():
        raise EEIInputError(f"cannot write {p}: unknown image extension {p.suffix!r}; use .png or .jpg")
    p.parent.mkdir(parents=True, exist_ok=True)
    tensor_to_pil(image).save(p)
    return p
