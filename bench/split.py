"""Which dev photos may inform tuning decisions.

Since issue 10, tuning decisions (sizes, thresholds, schedules) look at the *tune* half of the dev photos only; the
*held-out* half is measured and reported beside it and never tuned on, so the benchmarks show whether a choice
generalises. The halves are fixed by a hash of the file name (stem), so adding photos never moves an existing one.
"""

from __future__ import annotations

import zlib

SPLITS = ("tune", "held-out")


def split_of(name: str) -> str:
    """``"tune"`` or ``"held-out"`` for a photo's file stem.

    Example:
        >>> split_of("mcm01"), split_of("mcm04")
        ('tune', 'held-out')
    """
    return "held-out" if zlib.crc32(name.encode()) % 2 else "tune"
