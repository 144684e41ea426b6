"""The learned correction of the propagation (presets ``learned``): the paper's per-image learning, made to generalise.

A per-pixel gray-to-colour mapping has no notion of *where* (equal grays get different colours), so the colour is
first spread into the hole by edge-aware propagation (:mod:`eei_core.shared.propagate`), and a small pyramid of
generators learns the *correction* to that propagation, predicting chroma only. To have something to learn from,
holes are simulated in the known region (copies of the real hole moved elsewhere), the propagation is re-run without
them, and the generators learn to map (gray, propagated chroma) to the true chroma there. Further simulated holes,
and the ring of known pixels around the real hole, are held out to measure how much of the correction generalises;
the correction is scaled by the smallest least-squares factor in 0..1 found on them, so a correction that does not
help is switched off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import torch

from ..shared.color import luma_chroma, rgb_from_luma_chroma
from ..shared.masks import grow_mask
from ..shared.progress import CancelFn, StepCounter
from ..shared.propagate import propagate
from ..shared.pyramid import downsample_image, downsample_mask
from .config import ColorizeConfig, per_level
from .generator import ColorGenerator
from .hints import Hint, known_chroma_with_hints
from .training import Trainer, init_generator, trainable_sizes, upsample

log = logging.getLogger(__name__)


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
                parts.append(upsample(previous, size))
            base = downsample_image(prior, size)
            previous = base + net(torch.cat(parts, dim=1)) * downsample_mask(mask, size)
        assert previous is not None
        return self.scale * upsample(previous - downsample_image(prior, previous.shape[-2:]), mono.shape[-2:]) * mask


def learn_correction(
    mono: torch.Tensor,
    color: torch.Tensor,
    mask: torch.Tensor,
    hints: Sequence[Hint] | None,
    cfg: ColorizeConfig,
    levels: int,
    generator: torch.Generator,
    counter: StepCounter,
    learned: LearnedCorrection | None = None,
) -> tuple[torch.Tensor, torch.Tensor, list[HeldOut], LearnedCorrection | None]:
    """The propagation of one image's known chroma into its hole, and the learned correction of it.

    With ``learned`` (from an earlier frame), that correction is applied and nothing is trained or simulated; with no
    iterations in ``cfg``, nothing is learned.

    Args:
        mono: ``[1, 1, h, w]``; color: ``[1, 3, h, w]`` (read outside the hole); mask: ``[1, 1, h, w]`` in {0, 1};
        hints: in the coordinates of this image; they count as known pixels.

    Returns:
        The propagated chroma ``[1, 2, h, w]``; the correction to add to it (chroma, already scaled by how far it
        generalised, zero outside the hole; all zero when none was learned); the propagations made with a copy of the
        hole held out (none when it trained nothing), which the fusion reuses; and the learned correction (``None``
        when it learned none).
    """
    full = tuple(mono.shape[-2:])
    chroma, known = known_chroma_with_hints(luma_chroma(color)[1], 1.0 - mask, hints)
    prior = propagate(mono, chroma, known, iterations=cfg.propagation_iterations, cancel=counter.cancel)
    if learned is not None:
        counter.step(levels - 1, None)  # a later frame of a sequence: one step of the progress bar
        return prior, learned.apply(mono, prior, mask), [], learned
    n_val = cfg.validation_holes
    steps_here = sum(per_level(cfg.iterations, levels))
    if steps_here == 0 or full[0] * full[1] < 2:
        counter.step(levels - 1, None, count=steps_here)
        return prior, torch.zeros_like(prior), [], None
    sim_mono, sim_chroma, sim_mask, sim_known = simulation_space(mono, chroma, mask, known)
    sims = simulated_holes(sim_mask, sim_known, cfg.simulated_holes + n_val, generator)
    if len(sims) < n_val + 1:
        # No room in the known region to simulate a hole: the propagation is the answer.
        counter.step(levels - 1, None, count=steps_here)
        return prior, torch.zeros_like(prior), [], None
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

    trainer = Trainer(counter, cfg)
    previous_outputs: list[torch.Tensor | None] = [None] * len(cases)
    nets: list[ColorGenerator] = []
    for n, size in enumerate(sizes):
        inputs = []
        for (gray, estimate, hole), previous in zip(cases, previous_outputs):
            parts = [downsample_image(gray, size), downsample_image(estimate, size), downsample_mask(hole, size)]
            if previous is not None:
                parts.append(upsample(previous, size))
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
        scale = trusted_scale(examples[n_train:], previous_outputs[n_train:-1], cfg.trust)
        if scale <= 0.0 and n < len(sizes) - 1:
            # The coarse correction does not generalise to a single held-out hole; the finer levels (four times the
            # cost each) would only refine it, and the validation would switch it off anyway.
            log.debug("fast colorizer: no generalising correction at level %d; finer levels skipped", n)
            counter.step(n, None, count=sum(iterations[n + 1 :]))
            break

    log.debug("fast colorizer: using %.3f of the learned correction", scale)
    out = previous_outputs[-1]
    assert out is not None
    correction = upsample(out - downsample_image(prior, out.shape[-2:]), full) * mask
    learned = LearnedCorrection(nets, sizes[: len(nets)], scale)
    # Every simulated hole, the training ones included, was held out from its own propagation: all of them measure the
    # propagation's error, which the fusion's tolerance is made of.
    return prior, scale * correction, examples, learned


def trusted_scale(held_out: list[HeldOut], outputs: list[torch.Tensor | None], trust: str) -> float:
    """How much of a learned correction generalises: on each held-out hole, the least-squares scale of the correction
    (``output - its prior``, brought to the held-out size) against the true residual ``truth - prior``, clipped to 0..1.

    The smallest scale is used (``trust="min"``), because a correction that misleads on one hole can mislead on the
    real one; ``"mean"`` averages them.
    """
    scales = []
    for example, out in zip(held_out, outputs):
        assert out is not None
        size = tuple(example.estimate.shape[-2:])
        corr = upsample(out - downsample_image(example.estimate, out.shape[-2:]), size) * example.hole
        num = float((corr * (example.truth - example.estimate) * example.hole).sum())
        den = float((corr * corr).sum())
        scales.append(num / den if den > 1e-12 else 0.0)
    log.debug("fast colorizer: correction scales %s on the held-out holes", scales)
    if not scales:
        return 0.0
    return min(max(min(scales) if trust == "min" else sum(scales) / len(scales), 0.0), 1.0)
