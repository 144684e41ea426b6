"""Internal colour restoration: learn, on one image, how its gray maps to colour, and fill the hole with it.

Two presets share one pyramid of generators G0..GN (coarse to fine, :class:`~eei_core.internal.generator.ColorGenerator`):

``paper``
    Wang, Ouyang & Chen (CVPR 2021) as published: G0 sees gray, Gn sees gray + the bilinearly upsampled output of
    G(n-1); each predicts RGB and is trained on the known pixels of the whole image (masked MSE), Adam, iterations
    [500, 1000, 1000], learning rates [0.01, 0.005, 0.003].

``fast`` (default)
    Keeps the structure and fixes the failure the paper names (equal grays mapped to different colours, because a
    per-pixel gray->colour mapping has no notion of *where*). Colour is first spread into the hole by edge-aware
    propagation (:mod:`eei_core.shared.propagate`, the closed-form method of Levin et al. 2004); the generators then learn
    the *correction* to that propagation, predicting chroma only (luminance stays exactly the mono input). To have
    something to learn from, holes are simulated in the known region (copies of the real hole moved elsewhere), the
    propagation is re-run without them, and the generators learn to map (gray, propagated chroma) to the true chroma
    there. Further simulated holes, and the ring of known pixels around the real hole, are held out to measure how
    much of the correction generalises; the correction is scaled by the smallest least-squares factor in 0..1 found
    on them, so a correction that does not help is switched off.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import Literal, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..shared.checks import (
    batch_item,
    batch_size,
    binarize_mask,
    check_image,
    check_has_hole,
    check_known_pixels,
    check_mask,
    check_same_size,
    check_value_range,
)
from ..shared.color import fit_to_gamut, luma_chroma, rgb_from_luma_chroma, to_mono
from ..shared.device import resolve_device
from ..shared.errors import EEIInputError
from ..shared.masks import grow_mask
from ..shared.progress import CancelFn, ProgressFn, StepCounter, check_cancel
from ..shared.pyramid import auto_levels, downsample_image, downsample_mask, pyramid_sizes
from .frame import CONTEXT, DEFAULT_MAX_SIDE, WorkingFrame, plan_frame, upsample_guided
from .generator import ColorGenerator
from .hints import Hint, rasterize_hints
from ..shared.propagate import propagate
from .temporal import FrameFollower, masks_move_little

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ColorizeConfig:
    """Settings of :func:`internal_colorize`. Per-level lists run coarsest to finest.

    When the level count differs from the list length, the lists are resampled (first entry for the coarsest level,
    last for the finest).

    Attributes:
        mode: "rgb" (the paper: generators predict RGB from gray) or "prior" (fast: chroma correction of the
            propagation prior, trained on simulated holes).
        levels: pyramid levels, ``None`` to choose from the image size.
        iterations / learning_rates: per level.
        width / blocks: generator feature channels and residual blocks.
        keep_luminance: put the mono input back as the luminance of the result inside the hole.
        hint_weight: loss weight of a hinted pixel relative to a known one.
        working_size: longer side, in pixels, of the size the colour is estimated at (a crop around the hole is
            shrunk to it, and the chroma brought back along the full-resolution luminance, see
            :mod:`~eei_core.internal.frame`); 0 works at full size.
        context: context kept around the hole's bounding box, in multiples of its longer side; ``None`` = the whole
            image.
        train_scale: the finest training level is this fraction of the working size (the correction is smooth, so
            it is learned at reduced size and upsampled; 1.0 trains at the working size).
        train_max_side: ... and its longer side is at most this many pixels (0 = no limit).
        simulated_holes: how many moved copies of the hole are used for training.
        validation_holes: further copies held out to measure how much of the learned correction to trust.
        trust: combine the held-out holes' least-squares scales by their minimum (cautious) or mean.
        early_stop: stop a level when the loss has improved by less than this fraction over ``patience`` steps.
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
    preview_every: int = 25


PRESETS: dict[str, ColorizeConfig] = {
    "fast": ColorizeConfig(
        name="fast",
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


def init_generator(net: nn.Module, generator: torch.Generator) -> None:
    """Seeded Kaiming-uniform initialisation (as torch's default), drawn from ``generator`` instead of global state."""
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
            bound = 1.0 / math.sqrt(fan_in)
            with torch.no_grad():
                m.weight.copy_(torch.empty(m.weight.shape).uniform_(-bound, bound, generator=generator))
                if m.bias is not None:
                    m.bias.copy_(torch.empty(m.bias.shape).uniform_(-bound, bound, generator=generator))


class _Trainer:
    """Runs one level's optimisation: Adam with a one-cycle schedule, early stopping, progress and cancel."""

    def __init__(self, counter: StepCounter, cfg: ColorizeConfig) -> None:
        self.counter = counter
        self.cfg = cfg

    def fit(self, net: nn.Module, loss_fn, steps: int, lr: float, level: int, preview_fn=None) -> None:
        check_cancel(self.counter.cancel)
        opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.999) if self.cfg.mode == "rgb" else (0.9, 0.999))
        sched = (
            torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
            if self.cfg.mode == "prior"
            else torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[int(steps * 0.8)], gamma=0.1)
        )
        net.train()
        best = math.inf
        since_best = 0
        for step in range(steps):
            loss = loss_fn(step)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            value = float(loss.detach())
            preview = None
            if preview_fn is not None and self.counter.progress is not None and (step + 1) % self.cfg.preview_every == 0:
                preview = preview_fn()
            if self.cfg.early_stop > 0:
                if value < best * (1.0 - self.cfg.early_stop):
                    best, since_best = value, 0
                else:
                    since_best += 1
                if since_best >= self.cfg.patience and step >= steps // 3:
                    self.counter.step(level, preview, count=steps - step)
                    break
            self.counter.step(level, preview)
        net.eval()


def trainable_sizes(height: int, width: int, levels: int) -> list[tuple[int, int]]:
    """Pyramid sizes without the levels of a single pixel, where BatchNorm cannot train (at least the finest)."""
    sizes = pyramid_sizes(height, width, levels)
    return [s for s in sizes[:-1] if s[0] * s[1] > 1] + [sizes[-1]]


def _hint_maps(
    hints: Sequence[Hint] | None, sizes: list[tuple[int, int]], full: tuple[int, int], like: torch.Tensor
) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
    """Rasterised hints (colour ``[1,3,h,w]``, weight ``[1,1,h,w]``) at each pyramid size, or ``None``."""
    if not hints:
        return None
    return [
        rasterize_hints(hints, s[0], s[1], device=like.device, dtype=like.dtype, scale=s[1] / full[1]) for s in sizes
    ]


def _colorize_rgb(
    mono: torch.Tensor,
    color: torch.Tensor,
    mask: torch.Tensor,
    hints: Sequence[Hint] | None,
    cfg: ColorizeConfig,
    levels: int,
    generator: torch.Generator,
    counter: StepCounter,
) -> torch.Tensor:
    """The paper's progressive colorizer on one image: returns raw RGB ``[1, 3, H, W]``."""
    sizes = trainable_sizes(mono.shape[-2], mono.shape[-1], levels)
    dropped = levels - len(sizes)
    iterations = per_level(cfg.iterations, levels)[dropped:]
    rates = per_level(cfg.learning_rates, levels)[dropped:]
    if dropped:
        counter.step(0, None, count=sum(per_level(cfg.iterations, levels)[:dropped]))
    monos = [downsample_image(mono, s) for s in sizes]
    colors = [downsample_image(color, s) for s in sizes]
    knowns = [1.0 - downsample_mask(mask, s) for s in sizes]
    hint_maps = _hint_maps(hints, sizes, tuple(mono.shape[-2:]), mono)
    trainer = _Trainer(counter, cfg)
    previous: torch.Tensor | None = None
    for n, size in enumerate(sizes):
        inputs = monos[n] if previous is None else torch.cat([monos[n], _upsample(previous, size)], dim=1)
        target, weight = colors[n], knowns[n]
        if hint_maps is not None:
            h_color, h_weight = hint_maps[n]
            target = torch.where(h_weight > 0, h_color, target)
            weight = torch.maximum(weight, h_weight * cfg.hint_weight)
        net = ColorGenerator(inputs.shape[1], 3, cfg.width, cfg.blocks).to(mono.device, mono.dtype)
        init_generator(net, generator)
        denom = weight.sum().clamp(min=1e-8) * 3

        def loss_fn(_step: int, net=net, inputs=inputs, target=target, weight=weight, denom=denom) -> torch.Tensor:
            return (((net(inputs) - target) ** 2) * weight).sum() / denom

        def preview_fn(net=net, inputs=inputs) -> torch.Tensor:
            with torch.no_grad():
                net.eval()
                out = net(inputs).clamp(0, 1)
                net.train()
                return out

        trainer.fit(net, loss_fn, iterations[n], rates[n], n, preview_fn)
        with torch.no_grad():
            previous = net(inputs)
    assert previous is not None
    return previous


def _upsample(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def simulated_holes(mask: torch.Tensor, known: torch.Tensor, count: int, generator: torch.Generator) -> list[torch.Tensor]:
    """Copies of the hole moved (and randomly mirrored) into the known region, for training and validation.

    Each copy keeps at least half of the hole's area inside known pixels; fewer than ``count`` are returned when the
    known region is too small to hold them. Returns ``[1, 1, H, W]`` masks (1 = simulated hole).
    """
    h, w = mask.shape[-2:]
    area = float(mask.sum())
    out: list[torch.Tensor] = []
    for _ in range(count * 25):
        if len(out) == count:
            break
        dy = int(torch.randint(0, h, (1,), generator=generator))
        dx = int(torch.randint(0, w, (1,), generator=generator))
        moved = torch.roll(mask, shifts=(dy, dx), dims=(2, 3))
        flip = int(torch.randint(0, 4, (1,), generator=generator))
        if flip & 1:
            moved = moved.flip(3)
        if flip & 2:
            moved = moved.flip(2)
        sim = moved * known
        if float(sim.sum()) >= 0.5 * area and float((known * (1.0 - sim)).sum()) > 0:
            out.append(sim)
    return out


def known_ring(mask: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """The band of known pixels around the hole, a tenth of the hole's side wide (2..16 px): ``[1, 1, H, W]``."""
    width = int(min(max(round(0.1 * float(mask.sum()) ** 0.5), 2), 16))
    return grow_mask(mask, width) * known


#: Longer side of the *simulation size*, at which copies of the hole are moved into the known region and propagated
#: without them. Their propagations only train a correction learned at 160 pixels or less, measure how far it
#: generalises and set the fusion's tolerance from their smooth error, so a quarter of a 512-pixel working size's
#: pixels serves them, and each exact solve costs a fifth.
SIMULATION_SIDE = 256


@dataclass
class HeldOut:
    """A copy of the hole held out from the propagation, where the colour prior can be checked against the truth.

    Attributes:
        estimate: ``[1, 2, h, w]`` the propagation's chroma computed without the copy.
        hole: ``[1, 1, h, w]`` the copy, 1 = held out.
        truth: ``[1, 2, h, w]`` the true chroma (the same tensor for every copy of an image).
    """

    estimate: torch.Tensor
    hole: torch.Tensor
    truth: torch.Tensor


def simulation_space(
    mono: torch.Tensor, chroma: torch.Tensor, mask: torch.Tensor, known: torch.Tensor, side: int = SIMULATION_SIDE
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``mono``, ``chroma``, ``mask`` and ``known`` (``[1, C, h, w]``) shrunk to a longer side of at most ``side``: a
    pixel is a hole if any pixel under it is, known only if every pixel under it is."""
    h, w = mono.shape[-2:]
    if max(h, w) <= side:
        return mono, chroma, mask, known
    size = (max(1, round(h * side / max(h, w))), max(1, round(w * side / max(h, w))))
    return (
        downsample_image(mono, size),
        downsample_image(chroma, size),
        downsample_mask(mask, size),
        1.0 - downsample_mask(1.0 - known, size),
    )


def held_out_propagations(
    mono: torch.Tensor,
    chroma: torch.Tensor,
    mask: torch.Tensor,
    known: torch.Tensor,
    count: int,
    generator: torch.Generator,
    propagation_iterations: int = 300,
    cancel: CancelFn | None = None,
) -> list[HeldOut]:
    """``count`` copies of the hole moved into the known region, plus the ring of known pixels around the hole, each
    hidden from the propagation in turn, at the simulation size (:data:`SIMULATION_SIDE`).

    Args:
        mono: ``[1, 1, H, W]``; chroma: ``[1, 2, H, W]`` (read where ``known``); mask: ``[1, 1, H, W]``, 1 = hole;
        known: ``[1, 1, H, W]``, 1 = known (the complement of the hole, plus hinted pixels).

    Returns:
        One :class:`HeldOut` per copy; the ring comes last. Copies that would leave no known pixel are skipped.
    """
    mono, chroma, mask, known = simulation_space(mono, chroma, mask, known)
    holes = simulated_holes(mask, known, count, generator)
    ring = known_ring(mask, known)
    if float(ring.sum()) > 0:
        holes.append(ring)
    out = []
    for hole in holes:
        rest = known * (1.0 - hole)
        if float(rest.sum()) < 1:
            continue
        out.append(HeldOut(propagate(mono, chroma, rest, iterations=propagation_iterations, cancel=cancel), hole, chroma))
    return out


@dataclass
class LearnedCorrection:
    """The fast colorizer's learned correction of the propagation, kept to be applied again: to the next frame of a
    video, whose colours the same networks predict (a sequence learns once and reuses it).

    Attributes:
        nets: the trained generator of each level, coarsest first.
        sizes: the level sizes they were trained at (for an image of the working size they were learned on).
        scale: how much of the correction generalised on the held-out holes (0..1).
    """

    nets: list[ColorGenerator]
    sizes: list[tuple[int, int]]
    scale: float

    @torch.no_grad()
    def apply(self, mono: torch.Tensor, prior: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The correction ``[1, 2, H, W]`` (zero outside ``mask``) for ``mono`` ``[1, 1, H, W]`` and its propagation
        ``prior`` ``[1, 2, H, W]``, already scaled."""
        previous: torch.Tensor | None = None
        for net, size in zip(self.nets, self.sizes):
            parts = [downsample_image(mono, size), downsample_image(prior, size), downsample_mask(mask, size)]
            if previous is not None:
                parts.append(_upsample(previous, size))
            base = downsample_image(prior, size)
            previous = base + net(torch.cat(parts, dim=1)) * downsample_mask(mask, size)
        assert previous is not None
        return self.scale * _upsample(previous - downsample_image(prior, previous.shape[-2:]), mono.shape[-2:]) * mask


def _colorize_prior(
    mono: torch.Tensor,
    color: torch.Tensor,
    mask: torch.Tensor,
    hints: Sequence[Hint] | None,
    cfg: ColorizeConfig,
    levels: int,
    generator: torch.Generator,
    counter: StepCounter,
    learned: LearnedCorrection | None = None,
) -> tuple[torch.Tensor, list[HeldOut], LearnedCorrection | None]:
    """The fast colorizer on one image: propagation prior + learned chroma correction.

    With ``learned`` (from an earlier frame), that correction is applied and nothing is trained or simulated.

    Returns RGB ``[1, 3, H, W]``, the propagations it made with a copy of the hole held out (none when it trained
    nothing), which the fusion reuses, and the learned correction (``None`` when it learned none).
    """
    full = tuple(mono.shape[-2:])
    _, chroma = luma_chroma(color)
    known = 1.0 - mask
    if hints:
        h_color, h_weight = rasterize_hints(hints, full[0], full[1], device=mono.device, dtype=mono.dtype)
        _, h_chroma = luma_chroma(h_color)
        hinted = (h_weight > 0.5).to(mono.dtype)
        chroma = torch.where(hinted > 0, h_chroma, chroma)
        known = torch.maximum(known, hinted)
    prior = propagate(mono, chroma, known, iterations=cfg.propagation_iterations, cancel=counter.cancel)
    if learned is not None:
        counter.step(levels - 1, None)  # a later frame of a sequence: one step of the progress bar
        return rgb_from_luma_chroma(mono, prior + learned.apply(mono, prior, mask)), [], learned
    n_val = cfg.validation_holes
    steps_here = sum(per_level(cfg.iterations, levels))
    if steps_here == 0 or full[0] * full[1] < 2:
        counter.step(levels - 1, None, count=steps_here)
        return rgb_from_luma_chroma(mono, prior), [], None
    sim_mono, sim_chroma, sim_mask, sim_known = simulation_space(mono, chroma, mask, known)
    sims = simulated_holes(sim_mask, sim_known, cfg.simulated_holes + n_val, generator)
    if len(sims) < n_val + 1:
        # No room in the known region to simulate a hole: the propagation is the answer.
        counter.step(levels - 1, None, count=steps_here)
        return rgb_from_luma_chroma(mono, prior), [], None
    # One more held-out hole: the ring of known pixels around the real hole, the content most like what is missing.
    # A correction that fails there (say, a colour learned elsewhere painted over hair) is switched off.
    ring = known_ring(sim_mask, sim_known)
    if float(ring.sum()) > 0:
        sims.append(ring)
        n_val += 1
    n_train = len(sims) - n_val

    train_scale = cfg.train_scale
    if cfg.train_max_side:
        train_scale = min(train_scale, cfg.train_max_side / max(full))
    top = (max(1, round(full[0] * train_scale)), max(1, round(full[1] * train_scale)))
    if min(top) < 8:
        top = full
    sizes = trainable_sizes(top[0], top[1], levels)
    dropped = levels - len(sizes)
    iterations = per_level(cfg.iterations, levels)[dropped:]
    rates = per_level(cfg.learning_rates, levels)[dropped:]
    if dropped:
        counter.step(0, None, count=sum(per_level(cfg.iterations, levels)[:dropped]))
    # Examples: the propagation without each simulated hole, at the simulation size; the real hole comes last.
    examples = [
        HeldOut(
            propagate(sim_mono, sim_chroma, sim_known * (1.0 - sim), iterations=cfg.propagation_iterations,
                      cancel=counter.cancel),
            sim,
            sim_chroma,
        )
        for sim in sims
    ]
    cases = [(sim_mono, ex.estimate, ex.hole) for ex in examples] + [(mono, prior, mask)]

    trainer = _Trainer(counter, cfg)
    previous_outputs: list[torch.Tensor | None] = [None] * len(cases)
    nets: list[ColorGenerator] = []
    for n, size in enumerate(sizes):
        inputs = []
        for (gray, estimate, hole), previous in zip(cases, previous_outputs):
            parts = [downsample_image(gray, size), downsample_image(estimate, size), downsample_mask(hole, size)]
            if previous is not None:
                parts.append(_upsample(previous, size))
            inputs.append(torch.cat(parts, dim=1))
        net = ColorGenerator(inputs[0].shape[1], 2, cfg.width, cfg.blocks).to(mono.device, mono.dtype)
        init_generator(net, generator)
        # Zero the last layer so training starts from the propagation itself.
        with torch.no_grad():
            net.tail[-1].weight.zero_()
            net.tail[-1].bias.zero_()
        weights = [downsample_image(ex.hole, size) for ex in examples[:n_train]]
        priors = [downsample_image(estimate, size) for _, estimate, _ in cases]
        target = downsample_image(sim_chroma, size)

        def loss_fn(step: int, net=net, inputs=inputs, weights=weights, priors=priors, target=target):
            i = step % n_train
            pred = priors[i] + net(inputs[i]) * (weights[i] > 0)
            return (((pred - target) ** 2) * weights[i]).sum() / weights[i].sum().clamp(min=1e-8) / 2

        def preview_fn(net=net, inputs=inputs, priors=priors, size=size) -> torch.Tensor:
            with torch.no_grad():
                net.eval()
                corr = net(inputs[-1]) * downsample_mask(mask, size)
                net.train()
                return rgb_from_luma_chroma(downsample_image(mono, size), priors[-1] + corr).clamp(0, 1)

        trainer.fit(net, loss_fn, iterations[n], rates[n], n, preview_fn)
        nets.append(net)
        with torch.no_grad():
            for i, x in enumerate(inputs):
                previous_outputs[i] = priors[i] + net(x) * downsample_mask(cases[i][2], size)
        scale = _trusted_scale(examples[n_train:], previous_outputs[n_train:-1], cfg.trust)
        if scale <= 0.0 and n < len(sizes) - 1:
            # The coarse correction does not generalise to a single held-out hole; the finer levels (four times the
            # cost each) would only refine it, and the validation would switch it off anyway.
            log.debug("fast colorizer: no generalising correction at level %d; finer levels skipped", n)
            counter.step(n, None, count=sum(iterations[n + 1 :]))
            break

    log.debug("fast colorizer: using %.3f of the learned correction", scale)
    out = previous_outputs[-1]
    assert out is not None
    correction = _upsample(out - downsample_image(prior, out.shape[-2:]), full) * mask
    learned = LearnedCorrection(nets, sizes[: len(nets)], scale)
    # Every simulated hole, the training ones included, was held out from its own propagation: all of them measure the
    # propagation's error, which the fusion's tolerance is made of.
    return rgb_from_luma_chroma(mono, prior + scale * correction), examples, learned


def _trusted_scale(held_out: list[HeldOut], outputs: list[torch.Tensor | None], trust: str) -> float:
    """How much of a learned correction generalises: on each held-out hole, the least-squares scale of the correction
    (``output - its prior``, brought to the held-out size) against the true residual ``truth - prior``, clipped to 0..1.

    The smallest scale is used (``trust="min"``), because a correction that misleads on one hole can mislead on the
    real one; ``"mean"`` averages them.
    """
    scales = []
    for example, out in zip(held_out, outputs):
        assert out is not None
        size = tuple(example.estimate.shape[-2:])
        corr = _upsample(out - downsample_image(example.estimate, out.shape[-2:]), size) * example.hole
        num = float((corr * (example.truth - example.estimate) * example.hole).sum())
        den = float((corr * corr).sum())
        scales.append(num / den if den > 1e-12 else 0.0)
    log.debug("fast colorizer: correction scales %s on the held-out holes", scales)
    if not scales:
        return 0.0
    return min(max(min(scales) if trust == "min" else sum(scales) / len(scales), 0.0), 1.0)


@dataclass
class WorkingColour:
    """The internal stage's colour estimate for one image at its working size.

    Attributes:
        rgb: ``[1, 3, h, w]`` raw estimate (not clamped, luminance not yet put back).
        held_out: held-out propagations (see :func:`held_out_propagations`); empty when the preset made none.
        learned: the fast preset's learned correction, to reuse on the next frame; ``None`` when there is none.
    """

    rgb: torch.Tensor
    held_out: list[HeldOut]
    learned: LearnedCorrection | None = None


def colorize_working(
    mono: torch.Tensor,
    color: torch.Tensor,
    mask: torch.Tensor,
    hints: Sequence[Hint] | None,
    cfg: ColorizeConfig,
    levels: int,
    generator: torch.Generator,
    counter: StepCounter,
    learned: LearnedCorrection | None = None,
) -> WorkingColour:
    """Estimate the colour of one image's hole at its working size (no checks, no resizing).

    Args:
        mono: ``[1, 1, h, w]``; color: ``[1, 3, h, w]`` (read outside the hole); mask: ``[1, 1, h, w]`` in {0, 1};
        hints: in the coordinates of this image (radii in its pixels).
        learned: a correction learned on an earlier frame of the same size, applied instead of learning one (the
            fast preset; the paper preset learns every frame); it counts as one step of ``counter``.
    """
    with torch.enable_grad():
        if cfg.mode == "rgb":
            return WorkingColour(_colorize_rgb(mono, color, mask, hints, cfg, levels, generator, counter), [])
        rgb, held_out, learned = _colorize_prior(mono, color, mask, hints, cfg, levels, generator, counter, learned)
    return WorkingColour(rgb, held_out, learned)


def internal_colorize(
    mono: torch.Tensor,
    color: torch.Tensor,
    mask: torch.Tensor,
    hints: Sequence[Hint] | None = None,
    *,
    config: str | ColorizeConfig = "fast",
    levels: int | None = None,
    working_size: int | None = None,
    seed: int = 0,
    keep_luminance: bool | None = None,
    composite: bool = True,
    sequence: bool | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Restore colour in the hole from the image's own known colours (the paper's internal stage).

    Args:
        mono: ``[B, 1, H, W]`` in 0..1, the completed monochrome (an RGB ``[B, 3, H, W]`` is converted).
        color: ``[B, 3, H, W]`` in 0..1, colour reference; only pixels outside the hole are read.
        mask: ``[B, 1, H, W]``, 1 = hole (soft masks are thresholded at 0.5).
        hints: user colour points, treated as known colours (weighted) at every level.
        config: "fast" (default), "paper", or a :class:`ColorizeConfig`.
        levels: pyramid levels; ``None`` = the preset's (or chosen from the size when the preset has none).
        working_size: longer side in pixels at which the colour is estimated (a crop around the hole, shrunk to it;
            see :mod:`~eei_core.internal.frame`); ``None`` = the preset's (512), 0 = full size.
        seed: seeds a ``torch.Generator`` for weights and sampling: same seed, same result on CPU.
        keep_luminance: put ``mono`` back as the luminance inside the hole (``None`` = the preset's default).
        composite: known pixels of the result equal ``color`` exactly; ``False`` returns the raw estimate.
        sequence: treat the batch as the frames of a video: one working frame around all the holes, the fast
            preset's correction learned on the first frame and reused on the next (a fraction of the time), and a
            point of the scene keeps its colour from frame to frame where the video does not change
            (:class:`~eei_core.internal.temporal.FrameFollower`). ``None`` (default): on for a batch of more than one
            whose masks move little (:func:`~eei_core.internal.temporal.masks_move_little`).
        progress: called as ``progress(level, step, total, preview)``.
        cancel: called every step; raising or returning True stops the run.
        device: where to compute ("auto", "cpu", "cuda", ...); ``None`` follows the inputs.

    Returns:
        ``[B, 3, H, W]`` in 0..1 on the device of ``color``. Batches follow the one batch rule (a batch of one is
        reused, equal batches pair); each item is learned on its own unless the batch is a ``sequence``.

    Raises:
        EEIInputError: bad shapes, sizes that differ, NaNs, a mask with no known pixel.

    Example:
        >>> rgb = torch.rand(1, 3, 16, 16)
        >>> hole = torch.zeros(1, 1, 16, 16); hole[..., 4:8, 4:8] = 1
        >>> out = internal_colorize(to_mono(rgb), rgb, hole, config="fast")
        >>> bool((out * (1 - hole) == rgb * (1 - hole)).all())
        True
    """
    cfg = resolve_config(config, working_size)
    check_image(mono, "mono", channels=(1, 3, 4))
    check_image(color, "color", channels=(1, 3, 4))
    check_mask(mask)
    check_same_size(color, mono, "color", "mono")
    check_same_size(color, mask, "color", "mask")
    mono, color = check_value_range(mono, "mono"), check_value_range(color, "color")
    check_has_hole(mask)
    if mono.shape[1] != 1:
        mono = to_mono(mono)
    if color.shape[1] == 1:
        color = color.expand(-1, 3, -1, -1)
    color = color[:, :3]
    out_device = color.device
    dev = resolve_device(device, color)
    batch = batch_size({"mono": mono, "color": color, "mask": mask})
    mask = binarize_mask(mask)
    check_known_pixels(mask)
    if keep_luminance is None:
        keep_luminance = cfg.keep_luminance
    h, w = color.shape[-2:]
    n_levels = count_levels(cfg, levels, h, w)
    per_item = sum(per_level(cfg.iterations, n_levels))
    if sequence is None:
        sequence = batch > 1 and masks_move_little(mask)
    # In a sequence only the first frame learns (with the fast preset); every later frame is one step.
    reuses = sequence and cfg.mode == "prior"
    counter = StepCounter(per_item + (batch - 1) if reuses else per_item * batch, progress, cancel)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    points = [(p.x, p.y) for p in hints or []]
    context = cfg.context if composite else None
    plan = plan_frame(mask.amax(dim=0, keepdim=True), cfg.working_size, context, points) if sequence else None
    follower = FrameFollower() if sequence else None
    learned: LearnedCorrection | None = None

    results = []
    for i in range(batch):
        m = batch_item(mono, i).to(dev, torch.float32)
        c = batch_item(color, i).to(dev, torch.float32)
        k = batch_item(mask, i).to(dev, torch.float32)
        if float(k.max()) < 0.5:
            counter.step(n_levels - 1, None, count=1 if learned is not None else per_item)
            results.append(batch_item(color, i).clone())
            continue
        frame = plan if plan is not None else plan_frame(k, cfg.working_size, context, points)
        if follower is not None and follower.follow(frame.shrink(m), 1.0 - frame.shrink_mask(k)):
            learned = None  # a cut: learn again
        estimate = colorize_working(
            frame.shrink(m), frame.shrink(c), frame.shrink_mask(k), frame_hints(frame, hints, (h, w)), cfg, n_levels,
            generator, counter, learned,
        )
        if reuses:
            learned = estimate.learned
        mono_crop, known_crop = frame.crop(m), 1.0 - frame.crop(k)
        if keep_luminance:
            _, chroma = luma_chroma(estimate.rgb)
            chroma = upsample_guided(chroma, mono_crop, luma_chroma(frame.crop(c))[1], known_crop,
                                     cancel=counter.cancel)
            raw = fit_to_gamut(mono_crop, chroma)
        else:
            raw = upsample_guided(estimate.rgb, mono_crop, frame.crop(c), known_crop, cancel=counter.cancel)
        raw = raw.clamp(0.0, 1.0)
        if follower is not None:
            raw = follower.steady(raw, frame.crop(k), frame.scale)
        if composite:
            raw = frame.crop(k) * raw + known_crop * frame.crop(c)
        if follower is not None:
            follower.remember(raw)
        if composite:
            raw = frame.paste(c, raw)
        results.append(raw.to(out_device, color.dtype))
    return torch.cat(results, dim=0)


def frame_hints(frame: WorkingFrame, hints: Sequence[Hint] | None, full: tuple[int, int]) -> list[Hint] | None:
    """Hints moved into a frame's crop (positions as fractions of the crop) with radii in working pixels."""
    if not hints:
        return None
    h, w = full
    ch, cw = frame.crop_size
    return [
        replace(
            p,
            x=(p.x * w - frame.cols.start) / cw,
            y=(p.y * h - frame.rows.start) / ch,
            radius=p.radius / frame.scale,
        )
        for p in hints
    ]


def with_overrides(config: str | ColorizeConfig, **changes) -> ColorizeConfig:
    """A copy of a preset with some fields changed (for experiments and benchmarks)."""
    return replace(resolve_config(config), **changes)
