"""The hole's colour at the image's full resolution: Levin's system solved on the crop itself, not on a shrunk copy.

The edge-aware propagation (:mod:`eei_core.shared.propagate`) is not scale-invariant: solved on a shrunk copy of the
crop and brought back along the full-resolution luminance (:func:`~eei_core.internal.frame.upsample_guided`), it gives
a different answer from the same system solved at full resolution, better on some photos and worse on others
(-0.43 to +1.01 dB of hole PSNR on the five native-size dev photos, and -1.8 dB on a held-out 1499x1041 photo with
fine colour detail). The full-resolution solve is the published method (Levin et al. 2004), so it is the floor the
colorizer must never fall below: wherever it fits, the hole's chroma is solved there, exactly (sparse LU on the CPU,
the coarse-to-fine iterative solve on a GPU), and only the learned correction, which is smooth, is brought up from the
working size. The exact solve costs no more than Levin's own at 1-2 MPix (SciPy's SuperLU: 1.4 s for 222,000 hole
pixels, 9 s and 2.2 GiB for 970,000 on 2 CPU threads) and grows like ``n^1.5``: 48 s and 6 GiB for 2.5 million (a
4096x4096 image with a 15% hole). So above :data:`FULL_SIZE_LIMIT` hole pixels (a 2 MPix image with a 50% hole, a
4096x4096 one with 6%) the working-size path stands (about 7 s at 4096x4096), unless the user asks for full
resolution (``working_size=0``, which solves every hole there). An iterative solve does not close the gap on a CPU:
algebraic multigrid (PyAMG's Ruge-Stuben, smoothed aggregation and AIR, as BiCGSTAB/GMRES preconditioners) reached
the exact solution's PSNR but took 87-112 s on the 2.5 million unknowns above; a compiled multifrontal solver (Intel
MKL's PARDISO through pypardiso, 2 threads) took 21 s and 4.7 GiB, three times the working size's path, from an
x86-only dependency of 200 MB; and an exact solve confined to a band of the hole's edge, fixed to the working size's
solution beyond it, kept the working size's error (it lies deep in the hole: the propagation is not scale-invariant).
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
#: solution is used: a 2 MPix image with a 50% hole, about 9 s and 2.2 GiB on 2 threads (``python -m bench.scale
#: --sizes 2048 --methods colorize --hole 0.23,0.25``).
FULL_SIZE_LIMIT = 1_000_000
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
