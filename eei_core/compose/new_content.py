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
normalised (B - Y, R - Y) plane. The inpainter's smooth part is brought into the gamut at each pixel's luminance
first: a strong cast cannot stay as strong on white foam or in deep shadow, and the pattern its fading draws is the
cast's, not new content's (a magenta cast over gray water and white foam was read as a new object by it). The hue
direction counts: a colour pattern that follows the luminance in another hue (green-and-magenta rings where the
mapping says skin) is new content. So does strength: a colour pattern many times
stronger than any the mapping draws (on the dev data the inpainter's detail was 1 to 2.5 times the prediction's for
bleeding, up to 15 times for pasted content) is explained by it only in part, so the correlation is scaled down by
how far the inpainter's detail exceeds :data:`MAX_GAIN` times the prediction's.

Content draws its colour edges where it draws its luminance edges: an object's outline, its folds, its print (on
the real SD, SD1.x and Kolors fills the new objects' colour edges lay along their luminance edges, a weighted squared
cosine of 0.79 to 0.95 on average, :func:`edge_alignment`). A smear of colour does not: dragged along rows or columns
from the hole's side, its streaks cross the luminance's edges (the ripples of water under vertical streaks of a
boat's colours: 0.59), and no gray-to-colour mapping draws such a pattern, so its correlation with the prediction is
low. A window whose colour pattern crosses the luminance's edges is therefore not new content, whatever the
correlation says; unrelated patterns measure 0.5, so the verdict is phased in between :data:`EDGE_ALIGNMENT`'s two
values. (A colour pattern on a luminance without edges, an isoluminant print, counts as crossing them: rare in photos
and in diffusion fills, and the evidence of alien colours below still keeps colours found nowhere else.)

What counts as the inpainter's smooth colour matters as much. A cast is smooth, but not constant: it varies over
the hole, and a Gaussian of the smoothing scale keeps part of its slope as "detail" (about half of a cast that varies
over five times that scale), most of all near the hole's edges and corners, where the normalised blur of a ramp is
pulled towards the inside. On a flat wall, where the prediction draws no pattern at all, that left-over slope read as
new content (3% of a cast hole left uncorrected cost 1 dB). A local plane
(:func:`~eei_core.shared.filters.masked_linear_blur`) explains a cast's slope, but fits part of a real pattern where
the hole is a narrow stroke or crosses a colour edge. So the verdict is made with each model of the smooth colour, and
a window is new only where neither explains the pattern (the smaller of the two verdicts).

Where the inpainter's detail is too faint to correlate (a flat sky, the inside of a plain object) the windows around say it:
the verdict is carried into them along the luminance (the edge-aware propagation), from the windows that have a
pattern and from the known region around the hole, which is familiar by definition. So a cast on a flat sky joins the
sky outside the hole and is corrected, while the plain inside of a new object joins its own outline, whose colour
edge the prediction did not draw.

A second, simpler piece of evidence covers what the pattern cannot: colours found nowhere in the known region. A
shaded object whose colour brightens with its luminance has a pattern that any luminance-driven prediction partly
shares (a green ball in a red and blue scene correlated 0.25 with the red-to-blue prediction), yet bleeding brings in
the colours of the image's own regions, and a cast or a hue shift moves them by far less than the distance from a
scene's palette to an alien colour. So hole pixels whose colour lies far (:data:`ALIEN_DISTANCE`, ΔE ab) from every
colour of the known region count as new, region by region.
"""

from __future__ import annotations

import torch
from kornia.filters import spatial_gradient
from scipy import ndimage

from ..shared.color import CHROMA_RANGE, fit_to_gamut, luma_chroma, rgb_to_lab
from ..shared.filters import masked_blur, masked_linear_blur
from ..shared.masks import grow_mask
from ..shared.propagate import propagate

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
#: How well a window's colour edges lie along its luminance edges (:func:`edge_alignment`: 0.5 for unrelated
#: patterns, 1 for edges that coincide) at or below which its pattern cannot be new content, and at or above which
#: the correlation alone decides. New objects in the real diffusion fills measured 0.79-0.95 on average, the
#: familiar parts of the synthetic cases 0.72-0.92; row and column smears of colour 0.59 (set14_coastguard/leak).
EDGE_ALIGNMENT = (0.6, 0.8)
#: The inpainter's colour detail (rms, normalised chroma) below which a window has no pattern to compare.
MIN_DETAIL = 0.01
#: Pixels along the inside of the hole's edge left out of the pattern: there the inpainter's colour is mixed with the
#: known region's (by its own blending, and by the shrinking to the working size), a colour ramp that is no pattern
#: of the content (a plain gray fill of a 1440x1920 photo read as a new object by its 2-pixel rim alone).
RIM = 2
#: Distance (ΔE ab, in the a*b* plane) from the nearest colour of the known region at which a hole colour starts to
#: count as alien, and at which it is fully alien. On the dev photos' synthetic bleeding the cast hole colours stayed
#: within 25 of the photo's palette; new objects drawn by SD fills reach 40 and more where their colours are new.
ALIEN_DISTANCE = (25.0, 40.0)
#: Share of the known pixels a bin of the palette (2x2 ΔE ab) needs to count, so a few stray pixels do not make a
#: colour familiar.
PALETTE_MIN_SHARE = 2e-4
_PALETTE_BIN = 2.0
_PALETTE_EXTENT = 128.0


def new_content(
    inpainter: torch.Tensor,
    predicted: torch.Tensor,
    hole: torch.Tensor,
    smooth_sigma: float,
    luma: torch.Tensor,
    known_rgb: torch.Tensor | None = None,
) -> torch.Tensor:
    """How new the content of each hole pixel is, from 0 (the learned colour explains it) to 1 (a new object).

    Args:
        inpainter: ``[1, 2, H, W]`` the inpainter's chroma (B - Y, R - Y), a hue shift of the whole hole already
            turned back (:func:`~eei_core.internal.chroma_fusion.hue_shift`).
        predicted: ``[1, 2, H, W]`` the colorizer's chroma.
        hole: ``[1, 1, H, W]``, 1 = hole.
        smooth_sigma: the fusion's smoothing scale in pixels; colour detail is what a blur of this size leaves.
        luma: ``[1, 1, H, W]`` the inpainter's luminance, along which the verdict reaches windows without a pattern,
            and whose edges a new object's colour edges follow (:func:`edge_alignment`).
        known_rgb: ``[1, 3, H, W]`` in 0..1, the image whose pixels outside ``hole`` make the known palette
            (:func:`alien_colour`); ``None`` judges by the pattern alone.

    Returns:
        ``[1, 1, H, W]`` in 0..1; 0 outside the hole.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> texture = torch.randn(1, 2, 64, 64, generator=g) * 0.1
        >>> luma = torch.rand(1, 1, 64, 64, generator=g)
        >>> hole = torch.zeros(1, 1, 64, 64); hole[..., 16:48, 16:48] = 1
        >>> float(new_content(texture + 0.2, texture, hole, 8.0, luma)[..., 24:40, 24:40].max())  # a cast
        0.0
        >>> shape = torch.randn(1, 1, 64, 64, generator=g)   # a new object: its colour follows its own luminance
        >>> drawn = torch.tensor([0.1, -0.1]).view(1, 2, 1, 1) * shape
        >>> object_luma = torch.where(hole > 0, 0.5 + 0.2 * shape, luma)
        >>> float(new_content(drawn, texture, hole, 8.0, object_luma)[..., 24:40, 24:40].min()) > 0.9
        True
    """
    hole = (hole > 0.5).to(inpainter.dtype)
    inner = hole * (1.0 - grow_mask(1.0 - hole, RIM))
    scale = torch.tensor(CHROMA_RANGE, device=inpainter.device, dtype=inpainter.dtype).view(1, 2, 1, 1)

    # Colour detail: chroma minus its smooth part. The inpainter's smooth colour is taken as each pixel's luminance
    # allows it: a strong cast fades where it would leave the gamut (white foam, deep shadow), a pattern that follows
    # the luminance but one the cast explains. (The prediction is no cast: its smooth part stays as it is.)
    window = max(1.0, WINDOW_FRACTION * smooth_sigma)
    b = (predicted - masked_blur(predicted, hole, smooth_sigma)) / scale

    def verdict_after(inpainter_smooth: torch.Tensor) -> torch.Tensor:
        a = (inpainter - luma_chroma(fit_to_gamut(luma, inpainter_smooth))[1]) / scale
        return _pattern_verdict(a, b, hole, inner, window, luma)

    # A cast explained by either model of the inpainter's smooth colour is no new pattern (see the module's notes).
    new = torch.minimum(
        verdict_after(masked_blur(inpainter, hole, smooth_sigma)),
        verdict_after(masked_linear_blur(inpainter, hole, smooth_sigma)),
    )
    # The rim takes the verdict of the hole's inside next to it, not the known region's: a new object reaching the
    # mask's edge stays new up to it (recolouring its rim would draw a seam).
    rim = hole - inner
    new = torch.where(rim > 0, masked_blur(new, inner, RIM), new)
    if known_rgb is not None:
        alien = alien_colour(fit_to_gamut(luma, inpainter), known_rgb, hole)
        new = torch.maximum(new, masked_blur(alien, hole, window) * hole)
    return new


def _pattern_verdict(
    a: torch.Tensor, b: torch.Tensor, hole: torch.Tensor, inner: torch.Tensor, window: float, luma: torch.Tensor
) -> torch.Tensor:
    """How new each hole pixel is by the colour pattern alone: the inpainter's colour detail ``a`` against the
    prediction's ``b`` (both ``[1, 2, H, W]``, normalised chroma) in Gaussian windows over ``inner``, the verdict of
    windows with a pattern carried along ``luma`` into those without. ``[1, 1, H, W]`` in 0..1, 0 outside ``hole``."""
    cross = masked_blur((a * b).sum(dim=1, keepdim=True), inner, window)
    energy_a = masked_blur(a.square().sum(dim=1, keepdim=True), inner, window)
    energy_b = masked_blur(b.square().sum(dim=1, keepdim=True), inner, window)
    correlation = cross / (energy_a * energy_b).sqrt().clamp(min=1e-12)
    correlation = correlation * (MAX_GAIN * (energy_b / energy_a.clamp(min=1e-12)).sqrt()).clamp(max=1.0)
    # Only the inpainter's pattern needs to be there: one the prediction does not draw at all is new (the gain cap).
    patterned = (energy_a >= MIN_DETAIL**2).to(a.dtype) * inner
    new = ((FAMILIAR_CORRELATION - correlation) / (FAMILIAR_CORRELATION - NEW_CORRELATION)).clamp(0.0, 1.0)
    # A pattern whose colour edges cross the luminance's is none of the content's (see the module's notes).
    low, high = EDGE_ALIGNMENT
    new = new * ((edge_alignment(a, luma, inner, window) - low) / (high - low)).clamp(0.0, 1.0)
    # Windows without a pattern take the verdict of their luminance region; outside the hole everything is familiar.
    verdict = (new * patterned).clamp(0.0, 1.0)
    decided = torch.maximum(patterned, 1.0 - hole)
    return propagate(luma, verdict, decided).clamp(0.0, 1.0) * hole


def edge_alignment(detail: torch.Tensor, luma: torch.Tensor, weight: torch.Tensor, window: float) -> torch.Tensor:
    """How well the edges of a colour pattern lie along the luminance's edges, in Gaussian windows.

    The mean squared cosine between the gradient of each chroma channel of ``detail`` and the gradient of ``luma``,
    weighted by both gradients' strength, over the pixels where ``weight`` is 1: 1 where every colour edge runs along
    a luminance edge, 0.5 for patterns unrelated to the luminance, 0 where colour edges cross the luminance's at
    right angles.

    Args:
        detail: ``[1, C, H, W]`` a colour pattern; luma: ``[1, 1, H, W]``; weight: ``[1, 1, H, W]`` 0/1;
        window: Gaussian sigma in pixels.

    Returns:
        ``[1, 1, H, W]`` in 0..1.

    Example:
        >>> ys, xs = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
        >>> luma = torch.sin(ys / 2).view(1, 1, 32, 32)                  # horizontal ripples
        >>> everywhere = torch.ones(1, 1, 32, 32)
        >>> float(edge_alignment(0.1 * luma, luma, everywhere, 4.0)[..., 16, 16]) > 0.99       # a colour that follows
        True
        >>> streaks = torch.sin(xs / 2).view(1, 1, 32, 32)               # vertical streaks across the ripples
        >>> float(edge_alignment(streaks, luma, everywhere, 4.0)[..., 16, 16]) < 0.01
        True
    """
    colour = spatial_gradient(detail, mode="diff")  # [1, C, 2, H, W]
    light = spatial_gradient(luma, mode="diff")  # [1, 1, 2, H, W]
    along = (colour * light).sum(dim=2).square().sum(dim=1, keepdim=True)
    strength = (colour.square().sum(dim=2) * light.square().sum(dim=2)).sum(dim=1, keepdim=True)
    return masked_blur(along, weight, window) / masked_blur(strength, weight, window).clamp(min=1e-12)


def alien_colour(rgb: torch.Tensor, known_rgb: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """How far each hole pixel's colour is from every colour of the known region, as 0 (near one) to 1 (alien).

    The known palette is the 2-D histogram of the known pixels' a*b* (bins of 2 ΔE ab holding at least
    :data:`PALETTE_MIN_SHARE` of them) with every paler version of its colours (towards gray); a hole pixel's
    distance to its nearest bin is mapped through :data:`ALIEN_DISTANCE`.

    Args:
        rgb: ``[1, 3, H, W]`` in 0..1, the hole's colours; known_rgb: ``[1, 3, H, W]`` in 0..1; hole: ``[1, 1, H, W]``.

    Returns:
        ``[1, 1, H, W]`` in 0..1; 0 outside the hole.

    Example:
        >>> scene = torch.zeros(1, 3, 8, 8); scene[:, 0] = 0.8; hole = torch.zeros(1, 1, 8, 8); hole[..., 2:6, 2:6] = 1
        >>> green = scene.clone(); green[:, :, 2:6, 2:6] = torch.tensor([0.1, 0.8, 0.2]).view(1, 3, 1, 1)
        >>> float(alien_colour(green, scene, hole).max()), float(alien_colour(scene * 0.95, scene, hole).max())
        (1.0, 0.0)
        >>> gray = scene.clone(); gray[:, :, 2:6, 2:6] = 0.4  # a washed-out fill is not new
        >>> float(alien_colour(gray, scene, hole).max())
        0.0
    """
    known = hole[0, 0] <= 0.5
    ab = rgb_to_lab(rgb)[0, 1:]
    known_ab = rgb_to_lab(known_rgb)[0, 1:, known]
    bins = int(2 * _PALETTE_EXTENT / _PALETTE_BIN)

    def index(values: torch.Tensor) -> torch.Tensor:
        return ((values + _PALETTE_EXTENT) / _PALETTE_BIN).long().clamp(0, bins - 1)

    counts = torch.zeros(bins * bins, device=rgb.device, dtype=torch.float32)
    ia, ib = index(known_ab)
    counts.index_add_(0, ia * bins + ib, torch.ones_like(ia, dtype=torch.float32))
    common = counts >= max(1.0, PALETTE_MIN_SHARE * float(known.sum()))
    if not bool(common.any()):
        return torch.zeros_like(hole)
    # A paler version of a known colour is familiar too: a hole that lost saturation (a gray fill, a washed-out
    # inpainter) is restoration, not new content. So every colour between a known one and gray belongs to the palette.
    cells = common.nonzero()[:, 0]
    centres = (torch.stack([cells // bins, cells % bins], dim=1).float() + 0.5) * _PALETTE_BIN - _PALETTE_EXTENT
    occupied = torch.zeros(bins * bins, dtype=torch.bool, device=rgb.device)
    for s in torch.linspace(0.0, 1.0, bins // 2 + 1).tolist():
        pa, pb = index(centres.T * s)
        occupied[pa * bins + pb] = True
    occupied = occupied.view(bins, bins).cpu().numpy()
    # Distance in bins from each bin to the nearest occupied one, then looked up per pixel.
    distance = torch.from_numpy(ndimage.distance_transform_edt(~occupied)).to(rgb.device, torch.float32)
    ha, hb = index(ab)
    far = distance[ha, hb] * _PALETTE_BIN
    low, high = ALIEN_DISTANCE
    return ((far - low) / (high - low)).clamp(0.0, 1.0).view_as(hole).to(rgb.dtype) * (hole > 0.5).to(rgb.dtype)
