"""Internal colour restoration: learn, on one image, how its gray maps to colour, and fill the hole with it.

The presets (:mod:`~eei_core.internal.config`) share one flow: a crop around the hole (:mod:`~eei_core.internal.frame`),
the colour estimated there, and the result composited back with the known pixels untouched.

``fast`` (default) and ``learned``
    Colour is spread into the hole by edge-aware propagation (the closed form of Levin et al. 2004,
    :mod:`eei_core.shared.propagate`), solved at the crop's full resolution where it fits
    (:mod:`~eei_core.internal.full_size`); ``learned`` adds the correction that a small pyramid of generators learns
    on this image (:mod:`~eei_core.internal.learned_correction`), as far as it generalises to held-out copies of the
    hole. Luminance stays exactly the mono input.
``paper``
    Wang, Ouyang & Chen (CVPR 2021) as published: G0 sees gray, Gn sees gray + the bilinearly upsampled output of
    G(n-1); each predicts RGB and is trained on the known pixels of the whole image (masked MSE), Adam, iterations
    [500, 1000, 1000], learning rates [0.01, 0.005, 0.003]; estimated at the working size and brought back along the
    full-resolution luminance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Sequence

import torch

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
from ..shared.progress import CancelFn, ProgressFn, StepCounter
from ..shared.pyramid import downsample_image, downsample_mask
from .config import ColorizeConfig, count_levels, per_level, resolve_config
from .frame import WorkingFrame, plan_frame, upsample_guided
from .full_size import full_size_chroma, solves_at_full_size
from .generator import ColorGenerator
from .hints import Hint, rasterize_hints
from .learned_correction import HeldOut, LearnedCorrection, learn_correction
from .temporal import FrameFollower, masks_move_little
from .training import Trainer, init_generator, trainable_sizes, upsample

log = logging.getLogger(__name__)


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
    trainer = Trainer(counter, cfg)
    previous: torch.Tensor | None = None
    for n, size in enumerate(sizes):
        inputs = monos[n] if previous is None else torch.cat([monos[n], upsample(previous, size)], dim=1)
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


@dataclass
class WorkingColour:
    """The internal stage's colour estimate for one image at its working size.

    Attributes:
        rgb: ``[1, 3, h, w]`` raw estimate (not clamped, luminance not yet put back).
        held_out: held-out propagations (see :func:`~eei_core.internal.learned_correction.held_out_propagations`);
            empty when the preset made none.
        learned: the learned correction, to reuse on the next frame; ``None`` when there is none.
        correction: ``[1, 2, h, w]`` the learned chroma correction included in ``rgb`` (already scaled, zero outside
            the hole); ``None`` for the paper preset.
    """

    rgb: torch.Tensor
    held_out: list[HeldOut]
    learned: LearnedCorrection | None = None
    correction: torch.Tensor | None = None


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
            learned preset; the paper preset learns every frame); it counts as one step of ``counter``.
    """
    with torch.enable_grad():
        if cfg.mode == "rgb":
            return WorkingColour(_colorize_rgb(mono, color, mask, hints, cfg, levels, generator, counter), [])
        prior, correction, held_out, learned = learn_correction(
            mono, color, mask, hints, cfg, levels, generator, counter, learned
        )
    return WorkingColour(rgb_from_luma_chroma(mono, prior + correction), held_out, learned, correction)


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
    learns = sum(per_level(cfg.iterations, n_levels)) > 0
    # A preset that learns nothing (the propagation alone) counts one step per image.
    per_item = sum(per_level(cfg.iterations, n_levels)) if learns else 1
    if sequence is None:
        sequence = batch > 1 and masks_move_little(mask)
    # In a sequence only the first frame learns (with the learned preset); every later frame is one step.
    reuses = sequence and cfg.mode == "prior" and learns
    counter = StepCounter(per_item + (batch - 1) if reuses else per_item * batch, progress, cancel)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    points = [(p.x, p.y) for p in hints or []]
    context = cfg.context if composite else None
    plan = plan_frame(mask.amax(dim=0, keepdim=True), cfg.working_size, context, points) if sequence else None
    follower = FrameFollower() if sequence else None
    learned: LearnedCorrection | None = None
    told_too_large = False  # the log says once per call why a hole was not solved at full resolution

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
        mono_crop, known_crop, hole_crop = frame.crop(m), 1.0 - frame.crop(k), frame.crop(k)
        # The paper preset stays as published; the propagation presets solve at full resolution where it fits.
        wants_full_size = cfg.mode == "prior" and cfg.full_size
        full_size = wants_full_size and solves_at_full_size(hole_crop)
        if wants_full_size and not full_size and frame.resampled and not told_too_large:
            told_too_large = True
            log.info("a hole of %d pixels is too large to solve at full resolution here: its colour is propagated at "
                     "%dx%d and brought back along the image's edges; working_size=0 solves it at full resolution "
                     "(exact, slower: about 60 s and 7 GiB for 2.5 million hole pixels on a CPU)",
                     int((hole_crop > 0.5).sum()), frame.size[1], frame.size[0])
        estimate = None
        if not full_size or learns:
            estimate = colorize_working(
                frame.shrink(m), frame.shrink(c), frame.shrink_mask(k), frame_hints(frame, hints, (h, w)), cfg,
                n_levels, generator, counter, learned,
            )
            if reuses:
                learned = estimate.learned
        if not learns:
            counter.step(n_levels - 1, None)
        if full_size:
            chroma = full_size_chroma(
                mono_crop, frame.crop(c), hole_crop, frame_hints(frame, hints, (h, w), at_full_size=True),
                estimate.correction if estimate is not None else None, cancel=counter.cancel,
            )
            raw = fit_to_gamut(mono_crop, chroma) if keep_luminance else rgb_from_luma_chroma(mono_crop, chroma)
        elif keep_luminance:
            _, chroma = luma_chroma(estimate.rgb)
            chroma = upsample_guided(chroma, mono_crop, luma_chroma(frame.crop(c))[1], known_crop,
                                     cancel=counter.cancel)
            raw = fit_to_gamut(mono_crop, chroma)
        else:
            raw = upsample_guided(estimate.rgb, mono_crop, frame.crop(c), known_crop, cancel=counter.cancel)
        raw = raw.clamp(0.0, 1.0)
        if follower is not None:
            raw = follower.steady(raw, hole_crop, frame.scale)
        if composite:
            raw = hole_crop * raw + known_crop * frame.crop(c)
        if follower is not None:
            follower.remember(raw)
        if composite:
            raw = frame.paste(c, raw)
        results.append(raw.to(out_device, color.dtype))
    return torch.cat(results, dim=0)


def frame_hints(
    frame: WorkingFrame, hints: Sequence[Hint] | None, full: tuple[int, int], at_full_size: bool = False
) -> list[Hint] | None:
    """Hints moved into a frame's crop (positions as fractions of the crop) with radii in working pixels, or in
    full-resolution pixels ``at_full_size``."""
    if not hints:
        return None
    h, w = full
    ch, cw = frame.crop_size
    return [
        replace(
            p,
            x=(p.x * w - frame.cols.start) / cw,
            y=(p.y * h - frame.rows.start) / ch,
            radius=p.radius if at_full_size else p.radius / frame.scale,
        )
        for p in hints
    ]