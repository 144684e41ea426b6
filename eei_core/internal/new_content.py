"""Which parts of a hole show new content: where the image's gray-to-colour mapping does not explain the colour
pattern the inpainter drew.

The paper's premise is that a hole's structure is correlated with the known region's: grass, sky and wall continue
into the hole, so the colour learned on the known pixels applies there. A creative fill breaks it: a cat in a
landscape, a suit where a sweater was. The colour learned elsewhere has nothing to stand on, and the colours the
inpainter drew are the ones the user asked for.

The evidence is the *pattern* of the inpainter's colours. Where the hole continues what the photo shows, the colour
predicted from the luminance (:func:`~eei_core.internal.colorize.colorize_working`) has the same pattern as the
inpainter's, which texture greener and which redder, even when bleeding, a cast or a hue shift has moved it as a whole
(measured on the dev data: correlations of 0.4 to 0.9 for MI-GAN outputs and synthetic bleeding). On a new object the
prediction paints the background's colours onto the object's luminance, and the two patterns are unrelated (0.1 to
0.4 on real SD, SD1.x and Kolors fills). So in windows across the hole the inpainter's colour detail (chroma minus its
smooth part, after a hue shift of the whole hole was turned back) is correlated with the prediction's, in the
normalised (B - Y, R - Y) plane. The hue direction counts: a colour pattern that follows the luminance in another hue
(green-and-magenta rings where the mapping says skin) is new content. So does strength: a colour pattern many times
stronger than any the mapping draws (on the dev data the inpainter's detail was 1 to 2.5 times the prediction's for
bleeding, up to 15 times for pasted content) is explained by it only in part, so the correlation is scaled down by
how far the inpainter's detail exceeds :data:`MAX_GAIN` times the prediction's.

Where the inpainter's detail is too faint to correlate (a flat sky, the inside of a plain object) the windows around say it:
the verdict is carried into them along the luminance (the edge-aware propagation), from the windows that have a
pattern and from the known region around the hole, which is familiar by definition. So a cast on a flat sky joins the
sky outside the hole and is corrected, while the plain inside of a new object joins its own outline, whose colour
edge the prediction did not draw.
"""

from __future__ import annotations

import torch

from ..shared.color import CHROMA_RANGE
from ..shared.filters import masked_blur
from .propagate import propagate

#: Correlation of the two colour patterns at or below which a window is new content, and at or above which it is
#: familiar; in between the two are blended. Chosen on the tune half of the dev photos at 256x384 (synthetic hue,
#: cast and leak bleeding against another photo's content pasted into a centred hole), erring towards restoration:
#: bleeding scored 0.022 "new" on average (at most 0.17 on a photo), pasted content 0.43 (0 where the pasted part
#: was flat). Thresholds of 0.25 and 0.45 found more pasted content (0.69) but let 0.07 of the bleeding through.
NEW_CORRELATION = 0.1
FAMILIAR_CORRELATION = 0.3
#: The prediction's colour pattern explains the inpainter's up to this gain.
MAX_GAIN = 8.0
#: Window (Gaussian sigma) of the correlation, as a fraction of the smoothing scale of the fusion (a region, not a
#: texture: half of it let more bleeding through for less pasted content found).
WINDOW_FRACTION = 1.0
#: The inpainter's colour detail (rms, normalised chroma) below which a window has no pattern to compare.
MIN_DETAIL = 0.01


def new_content(
    inpainter: torch.Tensor, predicted: torch.Tensor, hole: torch.Tensor, smooth_sigma: float, luma: torch.Tensor
) -> torch.Tensor:
    """How new the content of each hole pixel is, from 0 (the learned colour explains it) to 1 (a new object).

    Args:
        inpainter: ``[1, 2, H, W]`` the inpainter's chroma (B - Y, R - Y), a hue shift of the whole hole already
            turned back (:func:`~eei_core.internal.chroma_fusion.hue_shift`).
        predicted: ``[1, 2, H, W]`` the colorizer's chroma.
        hole: ``[1, 1, H, W]``, 1 = hole.
        smooth_sigma: the fusion's smoothing scale in pixels; colour detail is what a blur of this size leaves.
        luma: ``[1, 1, H, W]`` the inpainter's luminance, along which the verdict reaches windows without a pattern.

    Returns:
        ``[1, 1, H, W]`` in 0..1; 0 outside the hole.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> texture = torch.randn(1, 2, 64, 64, generator=g) * 0.1
        >>> luma = torch.rand(1, 1, 64, 64, generator=g)
        >>> hole = torch.zeros(1, 1, 64, 64); hole[..., 16:48, 16:48] = 1
        >>> float(new_content(texture + 0.2, texture, hole, 8.0, luma)[..., 24:40, 24:40].max())  # a cast
        0.0
        >>> other = torch.randn(1, 2, 64, 64, generator=g) * 0.1
        >>> float(new_content(other, texture, hole, 8.0, luma)[..., 24:40, 24:40].min()) > 0.9  # unrelated
        True
    """
    hole = (hole > 0.5).to(inpainter.dtype)
    scale = torch.tensor(CHROMA_RANGE, device=inpainter.device, dtype=inpainter.dtype).view(1, 2, 1, 1)

    def detail(chroma: torch.Tensor) -> torch.Tensor:
        return (chroma - masked_blur(chroma, hole, smooth_sigma)) / scale

    a, b = detail(inpainter), detail(predicted)
    window = max(1.0, WINDOW_FRACTION * smooth_sigma)
    cross = masked_blur((a * b).sum(dim=1, keepdim=True), hole, window)
    energy_a = masked_blur(a.square().sum(dim=1, keepdim=True), hole, window)
    energy_b = masked_blur(b.square().sum(dim=1, keepdim=True), hole, window)
    correlation = cross / (energy_a * energy_b).sqrt().clamp(min=1e-12)
    correlation = correlation * (MAX_GAIN * (energy_b / energy_a.clamp(min=1e-12)).sqrt()).clamp(max=1.0)
    # Only the inpainter's pattern needs to be there: one the prediction does not draw at all is new (the gain cap).
    patterned = (energy_a >= MIN_DETAIL**2).to(inpainter.dtype) * hole
    new = ((FAMILIAR_CORRELATION - correlation) / (FAMILIAR_CORRELATION - NEW_CORRELATION)).clamp(0.0, 1.0)
    # Windows without a pattern take the verdict of their luminance region; outside the hole everything is familiar.
    verdict = (new * patterned).clamp(0.0, 1.0)
    decided = torch.maximum(patterned, 1.0 - hole)
    return propagate(luma, verdict, decided).clamp(0.0, 1.0) * hole
