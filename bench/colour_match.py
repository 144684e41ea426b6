"""The colour fixes ComfyUI users apply after inpainting today, as baselines for RecolorizeAny.

Every fix takes the inpainter's output ``image`` ``[1, 3, H, W]`` (0..1) and the hole ``mask`` ``[1, 1, H, W]``
(1 = hole), changes only the hole and returns the result composited over the known pixels, ``[1, 3, H, W]`` in 0..1:

- :func:`color_matcher_fix`: the color-matcher library (``pip install color-matcher``) that KJNodes' "Color Match"
  node wraps (methods ``mkl``, ``reinhard``, ``hm-mvgd-hm``, ...). KJNodes matches a whole target image to a whole
  reference image; here the source is the hole's pixels and the reference the known pixels of the same image, which
  is the best use of it after inpainting (the known region shows the colours the hole should have).
- :func:`lab_meanstd_fix`: per-channel CIE Lab mean/std transfer from the hole to the known region (the hole is
  excluded from the reference statistics), as comfyui-inpaint-nodes' ColorMatch with an exclude mask does; written
  here from that description. ``chroma_only=True`` moves only a* and b* and keeps L* (a stronger variant when the
  inpainter's luminance is right).
- :func:`levin_fix`: Levin et al. 2004 optimization colorization (bench/levin.py) of the hole from the known colours,
  with the inpainter's output as luminance.
- :func:`recolorize_fix`: RecolorizeAny (eei_core.pipelines.recolorize).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from skimage.color import lab2rgb, rgb2lab

COLOR_MATCHER_METHODS = ("mkl", "reinhard", "hm-mvgd-hm")


def _composite(image: torch.Tensor, mask: torch.Tensor, fixed: torch.Tensor) -> torch.Tensor:
    hole = mask > 0.5
    return torch.where(hole, fixed.clamp(0.0, 1.0).to(image), image)


def _split(image: torch.Tensor, mask: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HWC float64 image, and boolean hole / known maps ``[H, W]``."""
    rgb = image[0].permute(1, 2, 0).double().numpy()
    hole = mask[0, 0].numpy() > 0.5
    return rgb, hole, ~hole


def _from_numpy(rgb: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).unsqueeze(0).to(like)


def color_matcher_fix(image: torch.Tensor, mask: torch.Tensor, method: str = "mkl") -> torch.Tensor:
    """Transfer the colour distribution of the known pixels onto the hole's pixels with color-matcher.

    Args:
        image: ``[1, 3, H, W]`` inpainter output in 0..1.
        mask: ``[1, 1, H, W]``, 1 = hole; needs at least two hole and two known pixels.
        method: a color-matcher method, e.g. "mkl", "reinhard", "hm-mvgd-hm".

    Returns:
        ``[1, 3, H, W]``: the known pixels unchanged, the hole matched and clipped to 0..1.
    """
    from color_matcher import ColorMatcher  # benchmark-only dependency

    rgb, hole, known = _split(image, mask)
    # color-matcher wants images (H, W, 3); a column of pixels is one. Copies: reinhard edits its inputs in place.
    src = rgb[hole].reshape(-1, 1, 3).copy()
    ref = rgb[known].reshape(-1, 1, 3).copy()
    matched = ColorMatcher().transfer(src=src, ref=ref, method=method)
    out = rgb.copy()
    out[hole] = np.nan_to_num(matched.reshape(-1, 3), nan=0.5)
    return _composite(image, mask, _from_numpy(out, image))


def lab_meanstd_fix(image: torch.Tensor, mask: torch.Tensor, chroma_only: bool = False) -> torch.Tensor:
    """Per-channel CIE Lab mean/std transfer: hole statistics -> known-region statistics (hole excluded).

    Args:
        image: ``[1, 3, H, W]`` inpainter output in 0..1.
        mask: ``[1, 1, H, W]``, 1 = hole.
        chroma_only: keep L* and move only a* and b*.

    Returns:
        ``[1, 3, H, W]`` with the known pixels unchanged.
    """
    rgb, hole, known = _split(image, mask)
    lab = rgb2lab(rgb)
    src, ref = lab[hole], lab[known]
    scale = ref.std(0) / np.maximum(src.std(0), 1e-6)
    moved = (src - src.mean(0)) * scale + ref.mean(0)
    if chroma_only:
        moved[:, 0] = src[:, 0]
    lab[hole] = moved
    with warnings.catch_warnings():  # out-of-gamut Lab values are clipped, which is what the node does too
        warnings.simplefilter("ignore", UserWarning)
        rgb_out = lab2rgb(lab)
    return _composite(image, mask, _from_numpy(rgb_out, image))


def levin_fix(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Levin optimization colorization of the hole: the output's gray as luminance, known colours outside the hole."""
    from bench.levin import levin_colorize_tensor
    from eei_core.shared.color import to_mono

    return _composite(image, mask, levin_colorize_tensor(to_mono(image), image, mask))


def recolorize_fix(image: torch.Tensor, mask: torch.Tensor, config: str = "learned", seed: int = 0) -> torch.Tensor:
    """RecolorizeAny: keep the output's luminance, re-learn the hole's colour from the known pixels."""
    from eei_core.pipelines.recolorize import recolorize

    return recolorize(image, mask, original=image, config=config, seed=seed)
