"""The hole's colour at the image's full resolution: Levin's system solved on the crop itself, not on a shrunk copy.

The edge-aware propagation (:mod:`eei_core.shared.propagate`) is not scale-invariant: solved on a shrunk copy of the
crop and brought back along the full-resolution luminance (:func:`~eei_core.internal.frame.upsample_guided`), it gives
a different answer from the same system solved at full resolution, better on some photos and worse on others
(-0.43 to +1.01 dB of hole PSNR on the five native-size dev photos, and -1.8 dB on a held-out 1499x1041 photo with
fine colour detail). The full-resolution solve is the published method (Levin et al. 2004), so it is the floor the
colorizer must never fall below: wherever it fits, the hole's chroma is solved there, exactly (sparse LU on the CPU,
the coarse-to-fine iterative solve on a GPU), and only the learned correction, which is smooth, is brought up from the
working size. The exact solve costs what Levin's own does (about 2 s per 200,000 hole pixels on 2 CPU threads), so
above :data:`FULL_SIZE_LIMIT` hole pixels (a 25% hole in 2 MPix) the working-size path stands, at a fraction of the
time, where an exact solve would take tens of seconds or run out of memory.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from ..shared.color import luma_chroma
from ..shared.progress import CancelFn
from ..shared.propagate import has_exact_solver, propagate
from .hints import Hint, known_chroma_with_hints

#: Hole pixels up to which the hole is solved at full resolution on the CPU (exactly); above, the working size's
#: solution is used. 500,000 is a 25% hole in 2 MPix: about 6 s of sparse LU and 1.5 GB on 2 threads.
FULL_SIZE_LIMIT = 500_000
#: ... and on a GPU (the iterative solve, memory linear in the crop): a 25% hole in 16 MPix.
FULL_SIZE_LIMIT_GPU = 4_000_000


def solves_at_full_size(hole: torch.Tensor, limit: int | None = None) -> bool:
    """Whether :func:`full_size_chroma` should solve a hole ``[1, 1, H, W]`` (1 = hole) at its full resolution: a
    hole small enough for the device's solver (see :data:`FULL_SIZE_LIMIT`), on a GPU or with SciPy's exact solver.

    Example:
        >>> hole = torch.zeros(1, 1, 64, 64); hole[..., 8:24, 8:24] = 1
        >>> solves_at_full_size(hole), solves_at_full_size(hole, limit=100)
        (True, False)
    """
    on_gpu = hole.device.type != "cpu"
    if not on_gpu and not has_exact_solver():
        return False
    if limit is None:
        limit = FULL_SIZE_LIMIT_GPU if on_gpu else FULL_SIZE_LIMIT
    return int((hole > 0.5).sum()) <= limit


def full_size_chroma(
    mono: torch.Tensor,
    color: torch.Tensor,
    hole: torch.Tensor,
    hints: Sequence[Hint] | None = None,
    correction: torch.Tensor | None = None,
    cancel: CancelFn | None = None,
) -> torch.Tensor:
    """The hole's chroma by Levin's propagation at full resolution, plus a correction brought up from a smaller size.

    Args:
        mono: ``[1, 1, H, W]`` in 0..1, the luminance everywhere (the guide).
        color: ``[1, 3, H, W]`` in 0..1, read outside the hole.
        hole: ``[1, 1, H, W]`` in {0, 1}, 1 = hole.
        hints: colour points in this image's coordinates (fractions of its size, radii in its pixels): known pixels.
        correction: ``[1, 2, h, w]`` chroma to add in the hole (the learned correction at the working size, smooth),
            resized bilinearly; ``None`` adds nothing.
        cancel: checked by the solve.

    Returns:
        ``[1, 2, H, W]`` chroma (``(B - Y, R - Y)``, see :func:`~eei_core.shared.color.luma_chroma`): the known chroma
        outside the hole and at hinted pixels, the solution inside.

    Example:
        >>> color = torch.zeros(1, 3, 32, 32); color[:, 0] = 0.8; color[:, 2] = 0.2    # an orange photo
        >>> hole = torch.zeros(1, 1, 32, 32); hole[..., 8:24, 8:24] = 1
        >>> chroma = full_size_chroma(luma_chroma(color)[0], color, hole)
        >>> bool(torch.allclose(chroma, luma_chroma(color)[1], atol=1e-4))
        True
    """
    h, w = mono.shape[-2:]
    chroma, known = known_chroma_with_hints(luma_chroma(color)[1], 1.0 - hole, hints)
    solved = propagate(mono, chroma, known, cancel=cancel)
    if correction is not None:
        up = F.interpolate(correction, size=(h, w), mode="bilinear", align_corners=False)
        solved = solved + up * (1.0 - known)
    return solved
