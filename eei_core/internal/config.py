"""Settings of the internal colour restoration: :class:`ColorizeConfig` and the named presets.

``fast`` (default)
    Edge-aware propagation alone (Levin, Lischinski & Weiss 2004, :mod:`eei_core.shared.propagate`), solved at the
    image's full resolution on the crop around the hole (:mod:`~eei_core.internal.full_size`): never below Levin's
    exact solve, in about its time.
``learned``
    The propagation plus a learned chroma correction (:mod:`~eei_core.internal.learned_correction`): the paper's idea of
    learning this one image's gray-to-colour relation, applied as a correction of the propagation and kept only as
    far as it generalises to held-out copies of the hole. Gains 0-0.5 dB on average, several seconds per image.
``paper``
    Wang, Ouyang & Chen (CVPR 2021) as published: a pyramid of generators predicting RGB from gray, trained on the
    known pixels (minutes per image on a CPU).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Sequence

from ..shared.errors import EEIInputError
from ..shared.pyramid import auto_levels
from .frame import CONTEXT, DEFAULT_MAX_SIDE


@dataclass(frozen=True)
class ColorizeConfig:
    """Settings of :func:`internal_colorize`. Per-level lists run coarsest to finest.

    When the level count differs from the list length, the lists are resampled (first entry for the coarsest level,
    last for the finest).

    Attributes:
        mode: "rgb" (the paper: generators predict RGB from gray) or "prior" (the propagation, plus the chroma
            correction learned on simulated holes when ``iterations`` are not all zero).
        levels: pyramid levels, ``None`` to choose from the image size.
        iterations / learning_rates: per level.
        width / blocks: generator feature channels and residual blocks.
        keep_luminance: put the mono input back as the luminance of the result inside the hole.
        hint_weight: loss weight of a hinted pixel relative to a known one.
        working_size: longer side, in pixels, of the size the colour is learned at (a crop around the hole is
            shrunk to it, see :mod:`~eei_core.internal.frame`); the propagation itself is solved at full resolution
            where it fits (:mod:`~eei_core.internal.full_size`); 0 works at full size.
        context: context kept around the hole's bounding box, in multiples of its longer side; ``None`` = the whole
            image.
        train_scale: the finest training level is this fraction of the working size (the correction is smooth, so
            it is learned at reduced size and upsampled; 1.0 trains at the working size).
        train_max_side: ... and its longer side is at most this many pixels (0 = no limit).
        simulated_holes: how many moved copies of the hole are used for training.
        validation_holes: further copies held out to measure how much of the learned correction to trust.
        trust: combine the held-out holes' least-squares scales by their minimum (cautious) or mean.
        early_stop: stop a level when the loss has improved by less than this fraction over ``patience`` steps.
        full_size: solve the propagation at the crop's full resolution where it fits (mode "prior";
            :mod:`~eei_core.internal.full_size`); ``False`` brings the working size's solution up instead (faster
            on large holes, and not always below the full-resolution solve: see BENCHMARKS.md).
    """

    name: str
    mode: Literal["rgb", "prior"]
    levels: int | None
    iterations: tuple[int, ...]
    learning_rates: tuple[float, ...]
    width: int = 32
    blocks: int = 9
    keep_luminance: bool = True
    hint_weight: float = 10.0
    working_size: int = DEFAULT_MAX_SIDE
    context: float | None = CONTEXT
    train_scale: float = 1.0
    train_max_side: int = 0
    simulated_holes: int = 0
    validation_holes: int = 3
    trust: Literal["min", "mean"] = "min"
    early_stop: float = 0.0
    patience: int = 50
    propagation_iterations: int = 300
    full_size: bool = True
    preview_every: int = 25


PRESETS: dict[str, ColorizeConfig] = {
    # The propagation alone: on photos never tuned on, the learned correction gained less than the 0.5 dB asked of
    # it for its 25-60x the time (BENCHMARKS.md, colorize_quality), so it is not paid by default.
    "fast": ColorizeConfig(
        name="fast",
        mode="prior",
        levels=1,
        iterations=(0,),
        learning_rates=(0.0,),
        keep_luminance=True,
    ),
    "learned": ColorizeConfig(
        name="learned",
        mode="prior",
        levels=2,
        iterations=(150, 150),
        learning_rates=(0.002, 0.002),
        # Width 16 and a 160-pixel finest training level: 2.5x faster than width 32 at half the working size, for
        # 0.11 dB of hole PSNR on 21 cases of the tune half of the dev photos at 256x384 (26.93 against 27.04 dB).
        width=16,
        blocks=3,
        keep_luminance=True,
        train_scale=0.5,
        train_max_side=160,
        simulated_holes=4,
        early_stop=0.002,
        patience=40,
    ),
    "paper": ColorizeConfig(
        name="paper",
        mode="rgb",
        levels=3,
        iterations=(500, 1000, 1000),
        learning_rates=(0.01, 0.005, 0.003),
        width=32,
        blocks=9,
        keep_luminance=True,
    ),
}


def resolve_config(config: str | ColorizeConfig, working_size: int | None = None) -> ColorizeConfig:
    """A preset by name, or the given config; with ``working_size`` (checked, see :func:`check_working_size`) in place
    of its own."""
    if isinstance(config, str):
        if config not in PRESETS:
            raise EEIInputError(f"unknown preset {config!r}; choose one of {', '.join(PRESETS)}")
        config = PRESETS[config]
    if working_size is not None:
        config = replace(config, working_size=check_working_size(working_size))
    return config


def check_working_size(side: int) -> int:
    """A working size in pixels: 0 (full size) or at least 16.

    Raises:
        EEIInputError: anything else.
    """
    if side != 0 and side < 16:
        raise EEIInputError(f"working_size must be 0 (full size) or at least 16 pixels, got {side}")
    return int(side)


def count_levels(cfg: ColorizeConfig, levels: int | None, height: int, width: int) -> int:
    """Pyramid levels for an image: ``levels``, else the preset's, else chosen from the size.

    Raises:
        EEIInputError: ``levels`` below 1.
    """
    if levels is not None and levels < 1:
        raise EEIInputError(f"levels must be >= 1 (or None for automatic), got {levels}")
    return levels or cfg.levels or auto_levels(height, width)


def per_level(values: Sequence, levels: int) -> list:
    """Resample a per-level list to ``levels`` entries, keeping its first and last entries at the ends.

    Example:
        >>> per_level([500, 1000, 1000], 2)
        [500, 1000]
    """
    if len(values) == levels:
        return list(values)
    if levels == 1:
        return [values[-1]]
    return [values[round(i * (len(values) - 1) / (levels - 1))] for i in range(levels)]



def with_overrides(config: str | ColorizeConfig, **changes) -> ColorizeConfig:
    """A copy of a preset with some fields changed (for experiments and benchmarks)."""
    return replace(resolve_config(config), **changes)
