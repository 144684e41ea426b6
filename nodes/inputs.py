"""Input definitions that several nodes share, so their names, ranges and tooltips read the same everywhere."""

from __future__ import annotations

from comfy_api.latest import io

from ..eei_core.internal.frame import DEFAULT_MAX_SIDE
from . import sockets

CATEGORY = "image/inpaint/EEI"
#: Seeds go to a torch.Generator; 32 bits keep them exact in every widget and in JSON.
SEED_MAX = 0xFFFFFFFF


def seed() -> io.Int.Input:
    return io.Int.Input(
        "seed", default=0, min=0, max=SEED_MAX, step=1,
        tooltip="Random seed for the network initialisation and training order; the same seed gives the same result.",
    )


def mask(tooltip: str = "Hole to fill: 1 (white) = missing pixels, 0 = known pixels. Same size as the image.") -> (
    io.Mask.Input
):
    return io.Mask.Input("mask", tooltip=tooltip)


def preset(options: list[str], default: str = "fast") -> io.Combo.Input:
    return io.Combo.Input(
        "preset", options=options, default=default if default in options else options[0],
        tooltip="fast: edge-aware colour propagation solved at full resolution (about a second per megapixel of "
        "hole on a CPU). learned: the same plus a correction learned on this image (5-10 s; up to +0.5 dB, more on "
        "some photos). paper: the settings of Wang et al. 2021 (minutes on a CPU).",
    )


def levels() -> io.Int.Input:
    return io.Int.Input("levels", default=0, min=0, max=12, step=1,
                        tooltip="Pyramid levels (coarse to fine); 0 = the preset's choice for the image size.")


def hints() -> io.Custom.Input:
    return sockets.Hints.Input(
        "hints", optional=True,
        tooltip="Optional colour points from a Color Hint node: the result takes these colours around each point.",
    )


def working_size() -> io.Int.Input:
    return io.Int.Input(
        # Optional: prompts saved before this input existed still validate, and get the default.
        "working_size", default=DEFAULT_MAX_SIDE, min=0, max=8192, step=16, optional=True,
        tooltip="Longer side, in pixels, at which colours are learned (presets learned and paper) and, for holes too "
        "large to solve at full resolution (over 1,000,000 pixels on a CPU), propagated: a crop around the hole is "
        "shrunk to it and the colours brought back along the image's own edges (luminance and the pixels outside the "
        "hole are never resampled). Larger = slower, rarely better; 0 = full resolution.",
    )
