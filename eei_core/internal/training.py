"""Training the colour generators: seeded initialisation, one level's optimisation loop, the level sizes."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..shared.progress import StepCounter, check_cancel
from ..shared.pyramid import pyramid_sizes
from .config import ColorizeConfig


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


class Trainer:
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



def upsample(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
