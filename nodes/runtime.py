"""ComfyUI's run-time services for :mod:`eei_core` calls: compute device, progress bar with previews, and Cancel.

:func:`core_hooks` gives the ``progress``, ``cancel`` and ``device`` keyword arguments every long-running
:mod:`eei_core` function takes, wired to ComfyUI: steps move the node's progress bar (with a preview of the current
pyramid level), the Cancel button (``/interrupt``) stops the run at the next training step, and the work runs on
ComfyUI's torch device (the GPU when there is one).
"""

from __future__ import annotations

import ctypes
import time
from typing import Any, Callable

import comfy.model_management
import comfy.utils
import torch

from .adapter import preview_to_pil

#: Largest preview side sent to the browser (ComfyUI's own default preview size).
PREVIEW_SIZE = 512
#: Training steps can be a millisecond each; every update goes to the browser, so they are thinned out to one per
#: this many seconds (plus the first step of each pyramid level and the last step). Cancel is checked every step anyway.
UPDATE_INTERVAL_S = 0.1
#: Encoding and sending a preview is dearer still: one per this many seconds (and one per pyramid level).
PREVIEW_INTERVAL_S = 0.5


def compute_device() -> torch.device:
    return comfy.model_management.get_torch_device()


def output_device() -> torch.device:
    return comfy.model_management.intermediate_device()


def cancel_check() -> None:
    """Raises ComfyUI's interrupt exception once the user pressed Cancel (POST /interrupt)."""
    comfy.model_management.throw_exception_if_processing_interrupted()


class Progress:
    """A :data:`eei_core.shared.progress.ProgressFn` moving the running node's progress bar."""

    def __init__(self) -> None:
        self._bar: comfy.utils.ProgressBar | None = None
        self._level: int | None = None
        self._preview_level: int | None = None
        self._last_update = self._last_preview = float("-inf")

    def __call__(self, level: int, step: int, total: int, preview: torch.Tensor | None) -> None:
        if self._bar is None:
            self._bar = comfy.utils.ProgressBar(total)
        now = time.monotonic()
        show = preview is not None and (level != self._preview_level or now - self._last_preview >= PREVIEW_INTERVAL_S)
        if not (show or level != self._level or step >= total or now - self._last_update >= UPDATE_INTERVAL_S):
            return
        shown = None
        if show:
            shown = ("PNG", preview_to_pil(preview), PREVIEW_SIZE)
            self._preview_level, self._last_preview = level, now
        self._level, self._last_update = level, now
        self._bar.update_absolute(step, total, shown)


def core_hooks() -> dict[str, Any]:
    """``progress``, ``cancel`` and ``device`` keyword arguments for an :mod:`eei_core` call from a node."""
    return {"progress": Progress(), "cancel": cancel_check, "device": compute_device()}


def run(fn: Callable[..., torch.Tensor], *args: Any, **kwargs: Any) -> torch.Tensor:
    """Call a long-running :mod:`eei_core` function from a node, with :func:`core_hooks`.

    ComfyUI executes nodes under ``torch.inference_mode()``, but the internal stage trains networks: gradients are
    switched back on here, and tensor arguments (inference tensors, which autograd refuses) are cloned into normal
    tensors first.
    """
    try:
        with torch.inference_mode(False), torch.enable_grad():
            args = tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)
            return fn(*args, **kwargs, **core_hooks())
    finally:
        release_freed_memory()


def _load_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # the C library the process already runs on
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, Windows, musl): nothing to trim
        return None


_malloc_trim = _load_malloc_trim()


def release_freed_memory() -> None:
    """Give the heap memory freed by a run back to the operating system (glibc keeps it otherwise: the server's
    resident memory would stay at the largest run's peak, e.g. after Cancel in the middle of a 4K image)."""
    if _malloc_trim is not None:
        _malloc_trim(0)
