"""Exceptions raised by :mod:`eei_core`.

Every error caused by what the user passed in is an :class:`EEIInputError`, a ``ValueError`` whose message says what
is wrong and how to fix it, so the command line and the ComfyUI nodes can show it as it is.
"""

from __future__ import annotations


class EEIInputError(ValueError):
    """Bad user input: wrong shape, size, type, range or content. The message names expected and actual values."""


class EEICancelled(RuntimeError):
    """Raised when the cancel check passed to a long-running function asks it to stop."""
