"""EEI core: external-internal inpainting with a monochromic bottleneck (Wang, Ouyang & Chen, CVPR 2021).

Pure PyTorch; never imports ComfyUI. Tensors are ``[B, C, H, W]`` float in 0..1; masks ``[B, 1, H, W]`` with 1 = hole.
"""

from .internal.colorize import internal_colorize
from .internal.config import PRESETS, ColorizeConfig
from .internal.hints import Hint, hints_to_json, parse_hints, rasterize_hints
from .pipelines.recolorize import recolorize
from .shared.color import luma_chroma, rgb_from_luma_chroma, rgb_to_lab, to_mono
from .shared.errors import EEICancelled, EEIInputError
from .shared.pyramid import pyramid_sizes

__version__ = "0.1.0"

__all__ = [
    "ColorizeConfig",
    "EEICancelled",
    "EEIInputError",
    "Hint",
    "PRESETS",
    "hints_to_json",
    "internal_colorize",
    "luma_chroma",
    "parse_hints",
    "pyramid_sizes",
    "rasterize_hints",
    "recolorize",
    "rgb_from_luma_chroma",
    "rgb_to_lab",
    "to_mono",
]
