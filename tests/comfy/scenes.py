"""Synthetic scenes and prompt pieces shared by the server tests (test_server_nodes.py, test_bad_inputs.py) and
bench/soak.py: a red and blue picture whose hole's true colour is learnable from its known pixels, and the API prompt
nodes the tests build graphs from."""

from __future__ import annotations

import numpy as np
from PIL import Image

H, W = 48, 64
HOLE = (slice(18, 30), slice(12, 24))  # inside the red region, away from the border with the blue one
PAPER = np.array([0.30, 0.59, 0.11], dtype=np.float32)


# ----- scene ---------------------------------------------------------------------------------------------------------
def make_scene(h: int = H, w: int = W, seed: int = 0) -> np.ndarray:
    """uint8 [h, w, 3]: a dark red left part and a bright blue right part, each with a soft gradient and light noise.
    The two colours have distinct lumas, so mono -> colour is learnable from the known pixels."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, h)[:, None]
    x = np.linspace(0.0, 1.0, w)[None, :]
    shade = 0.08 * y + 0.04 * x
    red = np.stack([0.70 + shade, 0.15 + 0.5 * shade, 0.12 + 0.5 * shade], -1)
    blue = np.stack([0.45 + 0.5 * shade, 0.70 + 0.5 * shade, 0.95 + 0 * shade], -1)
    left = (np.arange(w) < w * 0.55)[None, :, None]
    rgb = np.where(left, red, blue) + rng.normal(0.0, 0.01, (h, w, 3))
    return (np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)


def with_hole(rgb: np.ndarray, hole=HOLE) -> Image.Image:
    """RGBA PNG content for LoadImage: alpha 0 in the hole (LoadImage's MASK = 1 there) and the hole's colour replaced
    by magenta, so nothing can be copied from it."""
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    rgba[hole] = (255, 0, 255, 0)
    return Image.fromarray(rgba, "RGBA")


def gray_fill(rgb: np.ndarray, hole) -> np.ndarray:
    """uint8 ``rgb`` with the hole filled by an inpainter that got the structure right but the colour wrong: the
    hole keeps its true luma, in gray."""
    out = rgb.astype(np.float32) / 255.0
    gray = luma(out)[..., None].repeat(3, -1)
    out[hole] = gray[hole]
    return (out * 255).round().astype(np.uint8)


def arr(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ PAPER


def load(name: str) -> dict:
    return {"class_type": "LoadImage", "inputs": {"image": name}}


def save(source: list, prefix: str) -> dict:
    return {"class_type": "SaveImage", "inputs": {"images": source, "filename_prefix": prefix}}


def colorize(mono: list, image: list, mask: list, **overrides) -> dict:
    """An InternalColorize node (fast preset, seed 0) with ``overrides`` on its inputs."""
    inputs = {"mono": mono, "image": image, "mask": mask, "preset": "fast", "levels": 0, "seed": 0,
              "keep_luminance": True, "composite": True}
    return {"class_type": "InternalColorize", "inputs": {**inputs, **overrides}}


def recolorize(image: list, mask: list, original: list | None, **overrides) -> dict:
    """A RecolorizeAny node (its default preset, learned; auto mode, seed 0) with ``overrides`` on its inputs."""
    inputs = {"image": image, "mask": mask, "preset": "learned", "mask_grow": 0, "levels": 0, "seed": 0, "mode": "auto"}
    if original is not None:
        inputs["original"] = original
    return {"class_type": "RecolorizeAny", "inputs": {**inputs, **overrides}}


def upscaled(image: list, original: list, mask: list, width: int, height: int) -> dict:
    """Nodes that scale an inpainted image, its original and its mask to ``width`` x ``height``: ``si``, ``so`` and
    ``m`` are the scaled image, original and mask.

    Nearest scaling keeps the hole's edge sharp, as an inpainter working at that size leaves it. (Bilinear scaling of
    a 48x64 gray fill smears its edge into a 30-pixel colour ramp inside the hole, which auto reads as the outline of
    a new gray object and keeps; restore mode corrects it.)
    """
    scale = {"upscale_method": "nearest-exact", "width": width, "height": height, "crop": "disabled"}
    return {
        "si": {"class_type": "ImageScale", "inputs": {"image": image, **scale}},
        "so": {"class_type": "ImageScale", "inputs": {"image": original, **scale}},
        "mi": {"class_type": "MaskToImage", "inputs": {"mask": mask}},
        "sm": {"class_type": "ImageScale", "inputs": {"image": ["mi", 0], **scale}},
        "m": {"class_type": "ImageToMask", "inputs": {"image": ["sm", 0], "channel": "red"}},
    }
