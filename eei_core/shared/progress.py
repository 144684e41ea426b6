"""Progress reporting and cancellation hooks shared by every long-running function of :mod:`eei_core`."""

from __future__ import annotations

from typing import Callable, Optional

import torch

from .errors import EEICancelled

#: ``progress(level, step, total, preview)``: ``step`` runs from 1 to ``total`` over the whole call (all pyramid levels
#: and batch items); ``preview`` is ``None`` or the current level's colour estimate ``[1, 3, h, w]`` in 0..1.
ProgressFn = Callable[[int, int, int, Optional[torch.Tensor]], None]

#: Called every training step. It may raise (ComfyUI's interrupt check does) or return ``True`` to ask for a stop.
CancelFn = Callable[[], Optional[bool]]


def check_cancel(cancel: CancelFn | None) -> None:
    """Run the cancel check; a ``True`` answer becomes :class:`EEICancelled`."""
    if cancel is not None and cancel():
        raise EEICancelled("cancelled")


class StepCounter:
    """Counts steps over a whole call and forwards them to a :data:`ProgressFn` with a global total."""

    def __init__(self, total: int, progress: ProgressFn | None, cancel: CancelFn | None) -> None:
        self.total = max(int(total), 1)
        self.done = 0
        self.progress = progress
        self.cancel = cancel

    def step(self, level: int, preview: torch.Tensor | None = None, count: int = 1) -> None:
        """Advance by ``count`` steps, checking for cancellation first."""
        check_cancel(self.cancel)
        self.done = min(self.done + count, self.total)
        if self.progress is not None:
            self.progress(level, self.done, self.total, preview)
