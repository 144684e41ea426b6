"""Colorization using Optimization (Levin, Lischinski & Weiss, SIGGRAPH 2004), a baseline for the benchmarks.

The luminance ``Y`` is given everywhere; the chroma of each unknown pixel is asked to be the weighted mean of the
chroma of its 3x3 neighbours, with weights that are large where the neighbours have a similar luminance:

    U_r - sum_s w_rs U_s = 0      for unknown r,   w_rs ∝ exp(-(Y_r - Y_s)^2 / sigma_r^2),  sum_s w_rs = 1
    U_r = given                   for known r

``sigma_r^2`` is 0.6 times the luminance variance of the 3x3 window, as in the authors' published code
(getColorExact.m), with two floors: one keeps the most similar
neighbour at a weight of at least 1% of a flat region's weight (so a sharp edge still has a way through) and one
avoids dividing by zero in flat regions. The same sparse system is solved for both chroma channels. Chroma here is the
``(B - Y, R - Y)`` pair of :func:`eei_core.shared.color.luma_chroma` with the paper's mono weights, so ``Y`` is exactly the
monochrome the pipeline uses, and the result has exactly the given luminance (before clamping to 0..1).

Known pixels are eliminated from the system (``A_uu x_u = W_uk x_k``), which gives the same solution as the full
system of the paper but only has one row per hole pixel.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from eei_core.shared.checks import batch_item, batch_size, binarize_mask, check_image, check_mask, check_same_size
from eei_core.shared.color import MONO_WEIGHTS, fit_to_gamut
from eei_core.shared.errors import EEIInputError

#: Variance scale and floors of the affinity (see the module docstring).
VARIANCE_SCALE = 0.6
MIN_NEIGHBOUR_WEIGHT = 0.01
MIN_SIGMA2 = 2e-6

_OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


def affinity_weights(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised 3x3 luminance affinities of every pixel to its 8 neighbours.

    Args:
        gray: ``[H, W]`` float luminance in 0..1.

    Returns:
        ``weights [8, H, W]`` (0 for neighbours outside the image; each pixel's weights sum to 1) and
        ``valid [8, H, W]`` bool, in the order of the module's neighbour offsets.
    """
    h, w = gray.shape
    padded = np.pad(gray.astype(np.float64), 1, mode="edge")
    inside = np.pad(np.ones((h, w), bool), 1, mode="constant")
    nb = np.stack([padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in _OFFSETS])
    valid = np.stack([inside[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in _OFFSETS])
    centre = gray.astype(np.float64)[None]
    count = valid.sum(0) + 1.0
    mean = ((nb * valid).sum(0) + centre[0]) / count
    var = (((nb - mean) ** 2 * valid).sum(0) + (centre[0] - mean) ** 2) / count
    diff2 = np.where(valid, (nb - centre) ** 2, np.inf)
    closest = diff2.min(0)
    sigma2 = np.maximum(VARIANCE_SCALE * var, -closest / np.log(MIN_NEIGHBOUR_WEIGHT))
    sigma2 = np.maximum(sigma2, MIN_SIGMA2)
    weights = np.exp(-diff2 / sigma2)  # exp(-inf) = 0 outside the image
    weights /= weights.sum(0, keepdims=True)
    return weights, valid


def levin_colorize(gray: np.ndarray, color: np.ndarray, known: np.ndarray, gamut: str = "clip") -> np.ndarray:
    """Colorize ``gray`` from the colours of the ``known`` pixels (Levin et al. 2004).

    Args:
        gray: ``[H, W]`` float luminance in 0..1 (the paper's mono, 0.30R + 0.59G + 0.11B).
        color: ``[H, W, 3]`` float RGB in 0..1; only the ``known`` pixels are read.
        known: ``[H, W]`` bool, True where ``color`` is given.
        gamut: how a colour outside 0..1 is brought back: ``"clip"`` clips R, G and B (the authors' code), ``"fit"``
            desaturates it at its luminance as the colorizer does (:func:`eei_core.shared.color.fit_to_gamut`), so
            the two compare as methods rather than as post-processing.

    Returns:
        ``[H, W, 3]`` float RGB in 0..1 whose luminance is ``gray`` (up to clamping) and whose chroma equals the
        given chroma on known pixels.

    Example:
        >>> g = np.full((4, 4), 0.5); c = np.zeros((4, 4, 3)); c[..., 0] = 1.0
        >>> k = np.zeros((4, 4), bool); k[0, 0] = True
        >>> out = levin_colorize(g, c, k)
        >>> bool(out[3, 3, 0] > out[3, 3, 2])
        True
    """
    h, w = gray.shape
    if color.shape != (h, w, 3) or known.shape != (h, w):
        raise EEIInputError(f"gray {gray.shape}, color {color.shape} and known {known.shape} must share H and W")
    if not known.any():
        raise EEIInputError("no known pixel: Levin colorization needs at least one coloured pixel")
    y = gray.astype(np.float64)
    wr, wg, wb = MONO_WEIGHTS["paper"]
    c = color.astype(np.float64)
    y_given = wr * c[..., 0] + wg * c[..., 1] + wb * c[..., 2]
    # Chroma of the given colours relative to their own luminance, as luma_chroma does.
    chroma = np.stack([c[..., 2] - y_given, c[..., 0] - y_given], -1)
    unknown = ~known
    out_chroma = chroma.copy()
    n_unknown = int(unknown.sum())
    if n_unknown:
        weights, valid = affinity_weights(y)
        index = np.full((h, w), -1, np.int64)
        index[unknown] = np.arange(n_unknown)
        rows, cols, vals = [np.arange(n_unknown)], [np.arange(n_unknown)], [np.ones(n_unknown)]
        rhs = np.zeros((n_unknown, 2))
        for k, (dy, dx) in enumerate(_OFFSETS):
            sel = unknown & valid[k]
            ry, rx = np.nonzero(sel)
            sy, sx = ry + dy, rx + dx
            wk = weights[k][ry, rx]
            r_idx = index[ry, rx]
            s_unknown = unknown[sy, sx]
            rows.append(r_idx[s_unknown])
            cols.append(index[sy[s_unknown], sx[s_unknown]])
            vals.append(-wk[s_unknown])
            s_known = ~s_unknown
            np.add.at(rhs, r_idx[s_known], wk[s_known, None] * chroma[sy[s_known], sx[s_known]])
        a = sp.csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_unknown, n_unknown)
        )
        solve = spla.factorized(a)
        sol = np.stack([solve(rhs[:, 0]), solve(rhs[:, 1])], -1)
        out_chroma[unknown] = sol
    if gamut == "fit":
        fitted = fit_to_gamut(torch.from_numpy(y)[None, None], torch.from_numpy(out_chroma).permute(2, 0, 1)[None])
        return fitted[0].permute(1, 2, 0).clamp(0.0, 1.0).numpy()
    ub, vr = out_chroma[..., 0], out_chroma[..., 1]
    b = ub + y
    r = vr + y
    g = (y - wr * r - wb * b) / wg
    return np.clip(np.stack([r, g, b], -1), 0.0, 1.0)


def levin_colorize_tensor(
    mono: torch.Tensor, color: torch.Tensor, mask: torch.Tensor, gamut: str = "clip"
) -> torch.Tensor:
    """Levin colorization with the tensor layout of ``eei_core.internal.colorize.internal_colorize``.

    Args:
        mono: ``[B, 1, H, W]`` luminance in 0..1 (known everywhere, e.g. completed by the external stage).
        color: ``[B, 3, H, W]`` RGB in 0..1; read only outside the hole.
        mask: ``[B, 1, H, W]``, 1 = hole (thresholded at 0.5).
        gamut: ``"clip"`` or ``"fit"``, see :func:`levin_colorize`.

    Returns:
        ``[B, 3, H, W]`` on the input's device and dtype; known pixels are ``color`` unchanged.
    """
    check_image(mono, "mono", channels=(1,))
    check_image(color, "color")
    check_mask(mask, "mask")
    check_same_size(mono, color, "mono", "color")
    check_same_size(mono, mask, "mono", "mask")
    n = batch_size({"mono": mono, "color": color, "mask": mask})
    outs = []
    for i in range(n):
        m_i, c_i, k_i = batch_item(mono, i), batch_item(color, i), binarize_mask(batch_item(mask, i))
        if not bool(k_i.any()):
            outs.append(c_i.clone())
            continue
        known = (k_i[0, 0] < 0.5).cpu().numpy()
        rgb = levin_colorize(
            m_i[0, 0].detach().double().cpu().numpy(), c_i[0].permute(1, 2, 0).detach().double().cpu().numpy(), known,
            gamut,
        )
        res = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).to(device=color.device, dtype=color.dtype)
        outs.append(torch.where(k_i > 0.5, res, c_i))
    return torch.cat(outs)


__all__ = ["affinity_weights", "levin_colorize", "levin_colorize_tensor"]
