"""Choosing where to compute: the one device rule of :mod:`eei_core`."""

from __future__ import annotations

import torch

from .errors import EEIInputError


def resolve_device(device: str | torch.device | None, like: torch.Tensor | None = None) -> torch.device:
    """The device to compute on.

    ``None`` follows ``like`` (the inputs; CPU when there are none); "auto" takes CUDA, then MPS, when present;
    otherwise the named device, which must exist.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if device is None:
        return like.device if like is not None else torch.device("cpu")
    if isinstance(device, str) and device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise EEIInputError(f"unknown device {device!r}; use auto, cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise EEIInputError("device 'cuda' was asked for but no CUDA GPU is available; use 'cpu' or 'auto'")
    if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise EEIInputError("device 'mps' was asked for but MPS is not available; use 'cpu' or 'auto'")
    return dev
