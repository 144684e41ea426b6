"""Which parts of a hole show content that the rest of the image has no counterpart for: a new object.

The paper's premise is that a hole's structure is correlated with the known region's: grass, sky and wall continue
into the hole, so colour learned on the known pixels applies there. A creative fill breaks it: a cat in a
landscape, a suit where a sweater was. Its luminance structure has no counterpart outside the hole, the colour learned
there has nothing to stand on, and the colours the inpainter drew are the ones the user asked for.

So the evidence is the luminance structure itself. Every hole pixel's neighbourhood (a :data:`PATCH` x
:data:`PATCH` patch of luminance, at a size where objects span tens of pixels) is compared with patches of the known
region; its distance to the nearest one, relative to how near known patches come to each other (the image's own
self-similarity), says how new it is. Ratios up to :data:`FAMILIAR_RATIO` are content the image has elsewhere,
ratios from :data:`NEW_RATIO` new content; the map is smoothed over the hole so that an object is one region.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..shared.filters import masked_blur
from ..shared.pyramid import downsample_image, downsample_mask

#: Side of the luminance patches compared.
PATCH = 7
#: Longer side of the image the patches are taken from.
ANALYSIS_SIDE = 192
#: Known patches sampled as the reference set (and for the self-similarity baseline).
SAMPLES = 3000
#: Nearest-patch distance over the baseline: at most FAMILIAR_RATIO is familiar content, at least NEW_RATIO new.
FAMILIAR_RATIO = 2.0
NEW_RATIO = 4.0
#: Smoothing of the map over the hole, as a fraction of the analysis size's longer side.
SMOOTH_FRACTION = 1.0 / 24.0


def _patches(luma: torch.Tensor) -> torch.Tensor:
    """``[H * W, PATCH^2]`` luminance patches around every pixel of ``[1, 1, H, W]`` (reflected at the border)."""
    pad = PATCH // 2
    padded = F.pad(luma, (pad, pad, pad, pad), mode="reflect" if min(luma.shape[-2:]) > pad else "replicate")
    return F.unfold(padded, PATCH)[0].T.contiguous()


def _nearest_distance(queries: torch.Tensor, references: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """Squared distance of each query row to its nearest reference row."""
    out = []
    for start in range(0, queries.shape[0], chunk):
        out.append(torch.cdist(queries[start : start + chunk], references).square().amin(dim=1))
    return torch.cat(out) if out else queries.new_zeros(0)


def novelty(luma: torch.Tensor, hole: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """How new the content of each hole pixel is, from 0 (the image shows the like elsewhere) to 1 (a new object).

    Args:
        luma: ``[1, 1, H, W]`` the inpainted image's luminance in 0..1.
        hole: ``[1, 1, H, W]``, 1 = hole.
        generator: draws the reference patches.

    Returns:
        ``[1, 1, H, W]`` in 0..1; 0 outside the hole.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> stripes = (torch.arange(96.0).view(1, 1, 1, 96).expand(1, 1, 96, 96) % 8 < 4).float()
        >>> hole = torch.zeros(1, 1, 96, 96); hole[..., 32:64, 32:64] = 1
        >>> float(novelty(stripes, hole, g)[..., 40:56, 40:56].max())  # more stripes: nothing new
        0.0
        >>> blob = stripes.clone(); blob[..., 36:60, 36:60] = torch.rand(1, 1, 24, 24, generator=g)
        >>> float(novelty(blob, hole, g)[..., 44:52, 44:52].min()) > 0.9  # noise never seen outside the hole
        True
    """
    h, w = luma.shape[-2:]
    hole = (hole > 0.5).to(luma.dtype)
    scale = min(1.0, ANALYSIS_SIDE / max(h, w))
    size = (max(PATCH, round(h * scale)), max(PATCH, round(w * scale)))
    small = downsample_image(luma, size)
    small_hole = downsample_mask(hole, size)
    # Reference patches lie wholly outside the hole.
    whole_known = (F.max_pool2d(small_hole, PATCH, stride=1, padding=PATCH // 2) < 0.5).flatten()
    inside = small_hole.flatten() > 0.5
    if int(whole_known.sum()) < 2 or not bool(inside.any()):
        return torch.zeros_like(hole)
    patches = _patches(small)
    known_index = torch.nonzero(whole_known).flatten()
    pick = torch.randperm(known_index.numel(), generator=generator)[:SAMPLES].to(known_index.device)
    reference_index = known_index[pick]
    references = patches[reference_index]
    # Self-similarity: each reference's nearest other reference, ignoring those that overlap it.
    ys, xs = reference_index // size[1], reference_index % size[1]
    near = ((ys[:, None] - ys[None, :]).abs() < PATCH) & ((xs[:, None] - xs[None, :]).abs() < PATCH)
    pairwise = torch.cdist(references, references).square().masked_fill(near, float("inf"))
    baseline = pairwise.amin(dim=1)
    baseline = float(baseline[torch.isfinite(baseline)].median()) if bool(torch.isfinite(baseline).any()) else 0.0
    distance = _nearest_distance(patches[inside], references)
    ratio = distance / max(baseline, 1e-6)
    score = torch.zeros(size[0] * size[1], device=luma.device, dtype=luma.dtype)
    score[inside] = ((ratio - FAMILIAR_RATIO) / (NEW_RATIO - FAMILIAR_RATIO)).clamp(0.0, 1.0).to(luma.dtype)
    score = score.view(1, 1, *size)
    score = masked_blur(score, small_hole, max(1.0, SMOOTH_FRACTION * max(size))) * small_hole
    return F.interpolate(score, size=(h, w), mode="bilinear", align_corners=False).clamp(0.0, 1.0) * hole
