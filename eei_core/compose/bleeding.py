"""Whether a hole's colour is wrong at all: the step its colour makes against the photo along the hole's edge.

The colour an inpainter draws can disagree with the colour the image's gray-to-colour mapping predicts because the
inpainter bled colour into the hole, or because the prediction is wrong: it is a propagation from the hole's border
and a guess deep inside, and on a good fill (the photo's own content drawn again) it disagrees with the truth by as
much as it disagrees with a bleeding fill's colour. What tells the two apart is the edge. A good fill meets the photo
without a step in colour: its inpainter continued the colours it saw. Bleeding does not: a cast, a hue shift or a
neighbour's colour smeared in shows as a colour step along the hole's edge, against the known pixels right outside.

So the evidence of bleeding is measured on the edge, in the hole's first :data:`STRIP` pixels, where the
propagation from the known pixels right outside predicts the colour almost exactly: in stretches along the edge
(Gaussian windows of :data:`STRETCH_FRACTION` of the image's side), the mean of the fill's colour minus the
prediction, beyond what the spread of that difference within the stretch explains (:data:`TEXTURE_SHARE`; a colour
edge the propagation misses varies along the edge, a cast does not). It is carried into the hole along the
luminance (the edge-aware propagation), so a stretch of edge speaks for the region behind it: a cast that shows along
the sky's edge is corrected in the sky, while a fill whose colours continue the photo is left alone wherever the
prediction disagrees with it deeper in.
"""

from __future__ import annotations

import torch

from ..shared.color import CHROMA_RANGE
from ..shared.filters import masked_blur
from ..shared.masks import grow_mask
from ..shared.propagate import propagate

#: Width in pixels of the strip inside the hole's edge where the fill's colour is compared with the prediction.
STRIP = 2
#: Gaussian sigma of a stretch of the edge, as a fraction of the image's longer side (and at least 2 pixels). On the
#: tune half of the synthetic bleeding (256 px) 1/8 and 1/16 restored alike (hue 35.52 / 35.96 dB, cast 32.35 /
#: 32.26, leak 29.98 / 30.11); on fills equal to the photo (scikit-image's coffee, astronaut, chelsea) 1/16 still
#: found "bleeding" on up to 22% of a hole where the propagation misses a colour edge, 1/8 on none.
STRETCH_FRACTION = 1.0 / 8.0
#: Colour step along the edge (the stretch's mean of fill minus prediction, normalised chroma; 0.01 is about 1.7 ΔE
#: ab at mid-gray), beyond :data:`TEXTURE_SHARE` of its spread, at or below which a stretch shows no bleeding, and at
#: or above which it shows bleeding for sure.
STEP = (0.012, 0.03)
#: Share of the difference's spread within a stretch of the strip (rms about its mean) that a step may reach by chance.
TEXTURE_SHARE = 0.5


def bleeding_evidence(
    inpainter: torch.Tensor, predicted: torch.Tensor, hole: torch.Tensor, luma: torch.Tensor
) -> torch.Tensor:
    """How surely each hole pixel's colour is wrong, from the colour step along the hole's edge: 0 (the fill continues
    the photo's colours) to 1 (it steps away from them).

    Args:
        inpainter: ``[1, 2, H, W]`` the inpainter's chroma (B - Y, R - Y).
        predicted: ``[1, 2, H, W]`` the chroma the image's known colours predict in the hole (read in its first
            :data:`STRIP` pixels, where the propagation from the known pixels right outside is nearly exact).
        hole: ``[1, 1, H, W]``, 1 = hole.
        luma: ``[1, 1, H, W]`` in 0..1, along which the edge's evidence is carried into the hole.

    Returns:
        ``[1, 1, H, W]`` in 0..1; 0 outside the hole.

    Example:
        >>> luma = torch.full((1, 1, 32, 32), 0.5); hole = torch.zeros(1, 1, 32, 32); hole[..., 8:24, 8:24] = 1
        >>> photo = torch.zeros(1, 2, 32, 32); photo[:, 0] = 0.1
        >>> float(bleeding_evidence(photo, photo, hole, luma).max())                # the fill continues the photo
        0.0
        >>> cast = photo + 0.05 * hole                                               # a cast steps at the edge
        >>> round(float(bleeding_evidence(cast, photo, hole, luma)[..., 16, 16]), 2)
        1.0
    """
    hole = (hole > 0.5).to(inpainter.dtype)
    inside = hole * grow_mask(1.0 - hole, STRIP)
    if float(inside.sum()) < 1:
        return torch.zeros_like(hole)
    scale = torch.tensor(CHROMA_RANGE, device=inpainter.device, dtype=inpainter.dtype).view(1, 2, 1, 1)
    sigma = max(2.0, STRETCH_FRACTION * max(hole.shape[-2:]))
    difference = (inpainter - predicted) / scale
    mean = masked_blur(difference, inside, sigma)
    spread = masked_blur((difference - mean).square().sum(dim=1, keepdim=True), inside, sigma).sqrt()
    step = mean.norm(dim=1, keepdim=True) - TEXTURE_SHARE * spread
    low, high = STEP
    on_edge = ((step - low) / (high - low)).clamp(0.0, 1.0)
    # The strip rings the hole's interior, so the pixels outside the hole cannot reach it: given as known, they leave
    # the interior's solution as it is and keep them out of the solve (a 512x512 frame's whole outside was solved for
    # with it, 1.5 s per frame).
    return propagate(luma, on_edge, inside + (1.0 - hole)).clamp(0.0, 1.0) * hole
