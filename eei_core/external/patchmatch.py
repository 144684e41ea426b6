"""Learning-free hole completion: multi-scale PatchMatch with patch voting.

The embedded external stage of EEI. A nearest-neighbour field (NNF) maps every target patch (a patch that touches the
hole) to a source patch (a patch lying fully in the known region); it is searched with PatchMatch (Barnes et al. 2009:
random initialisation, propagation from neighbours, random search around the current match) and the hole is then
re-synthesised by letting every target patch vote with its source's pixels (Wexler et al. 2007, "Space-time completion
of video"). Search and vote alternate a few times per level, coarse to fine.

Everything is vectorised over pixels with torch, so it runs on CPU or GPU: propagation is done in parallel for all
targets with shrinking jumps (jump flooding) instead of PatchMatch's sequential scan order, and patch distances are
accumulated over the ``patch_size**2`` offsets of a patch (a Python loop over offsets, never over pixels), which keeps
memory linear in the number of target pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..shared.checks import batch_item, batch_size, binarize_mask, check_image, check_mask, check_same_size
from ..shared.errors import EEIInputError
from ..shared.progress import CancelFn, ProgressFn, StepCounter

#: Channel counts accepted by :func:`patchmatch_complete` (mono, RGB).
CHANNELS = (1, 3)

# A level whose known region offers fewer source patches than this is too coarse to search: the pyramid stops above it.
_MIN_SOURCES = 16
# ... or whose share of source patches falls below this fraction of the full-size image's share. Measured on the dev
# photos with free-form holes, fewer levels score higher (0.7 beat 0.5 by 0.3-0.8 dB in the hole), but synthetic
# textures need the coarse levels to line up; 0.5 serves both.
_MIN_SOURCE_SHARE = 0.5
# Coarse levels are no smaller than this (short side, pixels) unless the image itself is smaller.
_MIN_SIDE = 16
# Propagation jumps in pixels (parallel jump flooding); the coarsest level starts from a random NNF and needs long ones.
_JUMPS_COARSEST = (8, 4, 2, 1)
_JUMPS = (4, 2, 1)
# Random search radii shrink by this factor from the image size down to one pixel (Barnes et al. use 1/2).
_SEARCH_RATIO = 0.5
# Jacobi relaxation steps per level of the smooth fill (the pyramid supplies the low frequencies).
_RELAX_STEPS = 8
# Voting weight exp(-d / (2 sigma^2)) with sigma^2 set to this quantile of the current patch distances. Wexler et al.
# use the 75th percentile; the largest distance (weights within exp(-1/2)..1) measured 0.3-0.5 dB better in the hole
# on the dev photos: sharper votes amplify the mistakes of a wrong match more than they restore detail.
_VOTE_QUANTILE = 1.0


@dataclass
class _Level:
    """One pyramid level of one image. ``image`` is ``[C, H, W]``; ``hole`` and ``source`` are ``[H, W]`` bool."""

    image: torch.Tensor
    hole: torch.Tensor
    source: torch.Tensor


def smooth_fill(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Fill holes smoothly from their surroundings (push-pull diffusion), keeping known pixels exact.

    Known pixels are averaged down a pyramid until every coarse pixel has a value, then the coarse values are
    upsampled bilinearly into the holes of each finer level. Cheap (linear in the pixel count) and free of seams; used
    to initialise PatchMatch and as its fallback for images too small for any patch.

    Args:
        image: ``[B, C, H, W]`` float.
        mask: ``[B, 1, H, W]`` float, 1 = hole (thresholded at 0.5). Every batch item needs at least one known pixel.

    Returns:
        ``[B, C, H, W]``, equal to ``image`` where ``mask`` is 0.

    Example:
        >>> img = torch.tensor([[[[0.0, 0.5, 1.0]]]])
        >>> smooth_fill(img, torch.tensor([[[[0.0, 1.0, 0.0]]]]))[0, 0, 0, 1].item()
        0.5
    """
    known = 1.0 - binarize_mask(mask)
    if bool((known > 0).all()):
        return image.clone()
    if bool((known.flatten(1).sum(1) == 0).any()):
        raise EEIInputError("mask covers the whole image: smooth_fill needs at least one known pixel to fill from")
    # Pull: normalised averages of the known pixels, level by level, until no coarse pixel is empty.
    levels = [(image * known, known)]
    while bool((levels[-1][1] == 0).any()) and max(levels[-1][1].shape[-2:]) > 1:
        values, weight = levels[-1]
        kernel = tuple(2 if side > 1 else 1 for side in values.shape[-2:])
        levels.append((F.avg_pool2d(values, kernel, ceil_mode=True), F.avg_pool2d(weight, kernel, ceil_mode=True)))
    values, weight = levels[-1]
    filled = values / weight.clamp(min=1e-12)
    # Push: each finer level keeps what it knows, starts its holes from the upsampled coarse fill and relaxes them
    # towards the harmonic (Laplace) solution, so the fill neither overshoots nor shows the coarse grid.
    for values, weight in reversed(levels[:-1]):
        up = F.interpolate(filled, size=values.shape[-2:], mode="bilinear", align_corners=False)
        filled = _relax(torch.where(weight > 0, values / weight.clamp(min=1e-12), up), weight > 0)
    return torch.where(known > 0, image, filled)


def _relax(image: torch.Tensor, fixed: torch.Tensor, steps: int = _RELAX_STEPS) -> torch.Tensor:
    """Jacobi steps of the Laplace equation on ``image [B,C,H,W]`` where ``fixed [B,1,H,W]`` is False."""
    for _ in range(steps):
        p = F.pad(image, (1, 1, 1, 1), mode="replicate")
        avg = (p[..., :-2, 1:-1] + p[..., 2:, 1:-1] + p[..., 1:-1, :-2] + p[..., 1:-1, 2:]) * 0.25
        image = torch.where(fixed, image, avg)
    return image


def _downsample(image: torch.Tensor, hole: torch.Tensor, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Known-pixel average of ``image [C,H,W]`` and max-pooled ``hole [H,W]`` at ``size``: touching a hole is a hole."""
    known = (~hole).to(image.dtype)[None]
    values = F.adaptive_avg_pool2d((image * known)[None], size)[0]
    weight = F.adaptive_avg_pool2d(known[None], size)[0]
    small_hole = F.adaptive_max_pool2d(hole.to(image.dtype)[None, None], size)[0, 0] > 0
    return values / weight.clamp(min=1e-12), small_hole


def _sources(hole: torch.Tensor, patch: int) -> torch.Tensor:
    """``[H, W]`` bool: centres of patches lying inside the image and fully outside the hole."""
    r = patch // 2
    h, w = hole.shape
    ok = torch.zeros_like(hole)
    if h < patch or w < patch:
        return ok
    touched = F.max_pool2d(hole.float()[None, None], patch, stride=1)[0, 0] > 0
    ok[r : h - r, r : w - r] = ~touched
    return ok


def _interior(hole: torch.Tensor, patch: int) -> torch.Tensor:
    """``[H, W]`` bool: centres of patches lying wholly inside the hole (no known pixel in them)."""
    known = (~hole).float()[None, None]
    return F.max_pool2d(known, patch, stride=1, padding=patch // 2)[0, 0] == 0


def _plan(hole: torch.Tensor, patch: int) -> tuple[int, list[tuple[int, int]]] | None:
    """Patch size and level sizes (fine to coarse) for one ``[H, W]`` hole, or None if no patch size finds sources."""
    h, w = hole.shape
    for p in range(patch, 2, -2):
        if int(_sources(hole, p).sum()) == 0:
            continue
        sizes = [(h, w)]
        level_hole = hole
        fine_share = float(_sources(hole, p).float().mean())
        # Go coarser only while some patch still lies wholly inside the hole: there, matching has no known pixel to
        # hold on to and needs the coarser level's guess. Thin strokes thus get few levels, big holes many.
        while bool(_interior(level_hole, p).any()):
            ch, cw = (sizes[-1][0] + 1) // 2, (sizes[-1][1] + 1) // 2
            if min(ch, cw) < max(_MIN_SIDE, 2 * p + 1) or (ch, cw) == sizes[-1]:
                break
            level_hole = F.adaptive_max_pool2d(hole.float()[None, None], (ch, cw))[0, 0] > 0
            share = _sources(level_hole, p).float()
            # A pixel touching the hole is a hole, so thin strokes swallow coarse images: stop before the few
            # remaining source patches would dictate the whole fill.
            if int(share.sum()) < _MIN_SOURCES or float(share.mean()) < _MIN_SOURCE_SHARE * fine_share:
                break
            sizes.append((ch, cw))
        return p, sizes
    return None


class _Matcher:
    """PatchMatch search and voting on one level; the NNF is a dense ``[2, H, W]`` map of (dy, dx) offsets.

    Patches are compared as rows of a table: every in-image patch of the current estimate unfolded into a row of
    ``C * patch**2`` values (``4 * C * patch**2 * H * W`` bytes), so scoring a candidate is one contiguous row gather.
    """

    def __init__(self, level: _Level, patch: int, generator: torch.Generator) -> None:
        self.patch = patch
        self.r = patch // 2
        self.gen = generator
        c, h, w = level.image.shape
        self.c, self.h, self.w = c, h, w
        self.hole = level.hole
        self.source = level.source
        self.source_flat = level.source.flatten().nonzero().squeeze(1)
        dev = level.image.device
        # Targets: centres whose patch touches the hole, i.e. the hole dilated by the patch radius.
        near = F.max_pool2d(level.hole.float()[None, None], patch, stride=1, padding=self.r)[0, 0] > 0
        self.tflat = near.flatten().nonzero().squeeze(1)
        self.ty = torch.div(self.tflat, w, rounding_mode="floor")
        self.tx = self.tflat % w
        # Target patches may stick out of the image; those pixels weigh 0 in the distance.
        inside = F.unfold(torch.ones(1, 1, h, w, device=dev), patch, padding=self.r)[0][:, self.tflat]  # [D, N]
        self.inside = inside.t().repeat(1, c).to(level.image.dtype)  # [N, C*D]
        self.clipped = bool((inside < 1).any())
        self.weight_sum = self.inside.sum(1) / c
        self.set_image(level.image)
        self.source_map = level.source.flatten()
        self.off = torch.zeros(2, h * w, dtype=torch.long, device=dev)
        self.sy = torch.zeros_like(self.ty)
        self.sx = torch.zeros_like(self.tx)
        self.dist = torch.full(self.ty.shape, math.inf, device=dev, dtype=level.image.dtype)

    def set_image(self, image: torch.Tensor) -> None:
        """Use ``image [C, H, W]`` (current estimate of the hole) for distances and votes."""
        self.image = image
        # Rows of in-image patches, indexed by (y - r) * (W - patch + 1) + (x - r) for the centre (y, x).
        self.rows = F.unfold(image[None], self.patch)[0].t().contiguous()  # [L, C*D]
        target = F.unfold(image[None], self.patch, padding=self.r)[0][:, self.tflat].t()  # [N, C*D]
        self.target = target * self.inside if self.clipped else target

    def _row(self, sy: torch.Tensor, sx: torch.Tensor) -> torch.Tensor:
        return (sy - self.r) * (self.w - self.patch + 1) + (sx - self.r)

    def random_sources(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        pick = torch.randint(len(self.source_flat), (n,), generator=self.gen, device=self.gen.device)
        s = self.source_flat[pick.to(self.source_flat.device)]
        return torch.div(s, self.w, rounding_mode="floor"), s % self.w

    def init_random(self) -> None:
        self.sy, self.sx = self.random_sources(len(self.tflat))
        self.dist = self.distance(self.sy[None], self.sx[None])[0]

    def init_from_offsets(self, offsets: torch.Tensor) -> None:
        """Start from a dense ``[2, H, W]`` offset map (an upsampled coarser NNF); invalid matches become random."""
        sy = (self.ty + offsets[0].flatten()[self.tflat]).clamp(0, self.h - 1)
        sx = (self.tx + offsets[1].flatten()[self.tflat]).clamp(0, self.w - 1)
        ok = self._valid(sy, sx)
        ry, rx = self.random_sources(len(self.tflat))
        self.sy = torch.where(ok, sy, ry)
        self.sx = torch.where(ok, sx, rx)
        self.dist = self.distance(self.sy[None], self.sx[None])[0]

    def offsets(self) -> torch.Tensor:
        """Dense ``[2, H, W]`` long offset map (zero outside the targets); a view that later searches update."""
        self.off[0, self.tflat] = self.sy - self.ty
        self.off[1, self.tflat] = self.sx - self.tx
        return self.off.view(2, self.h, self.w)

    def _valid(self, sy: torch.Tensor, sx: torch.Tensor) -> torch.Tensor:
        """Whether in-image centres ``(sy, sx)`` are source patches."""
        return self.source_map[sy * self.w + sx]

    def distance(self, sy: torch.Tensor, sx: torch.Tensor) -> torch.Tensor:
        """Mean squared patch difference ``[K, N]`` for ``K`` in-image candidate centres per target.

        Candidates that are not source patches score inf.
        """
        ok = self._valid(sy, sx)
        fallback = self._row(*(v[0] for v in self.random_sources(1)))
        rows = torch.where(ok, self._row(sy, sx), fallback)
        d = torch.empty(rows.shape, device=rows.device, dtype=self.rows.dtype)
        for k in range(rows.shape[0]):
            cand = self.rows.index_select(0, rows[k])
            if self.clipped:
                cand = cand * self.inside
            d[k] = (cand - self.target).square_().sum(1)
        d = d / (self.weight_sum * self.c)
        return torch.where(ok, d, torch.full_like(d, math.inf))

    def _consider(self, sy: torch.Tensor, sx: torch.Tensor) -> None:
        """Keep, per target, the best of the current match and the ``[K, N]`` candidates."""
        d = self.distance(sy, sx)
        all_d = torch.cat([self.dist[None], d])
        best = all_d.argmin(0, keepdim=True)
        self.dist = all_d.gather(0, best)[0]
        self.sy = torch.cat([self.sy[None], sy]).gather(0, best)[0]
        self.sx = torch.cat([self.sx[None], sx]).gather(0, best)[0]

    def search(self, jumps: tuple[int, ...]) -> None:
        """One PatchMatch iteration: re-score, propagate from neighbours at each jump, then random search."""
        self.dist = self.distance(self.sy[None], self.sx[None])[0]
        for j in jumps:
            off = self.offsets()
            cy, cx = [], []
            for dy, dx in ((-j, 0), (j, 0), (0, -j), (0, j)):
                qy = (self.ty + dy).clamp(0, self.h - 1)
                qx = (self.tx + dx).clamp(0, self.w - 1)
                # Neighbour q matched q + f(q); shifting back by the same step proposes p + f(q) for p.
                cy.append(self.ty + off[0, qy, qx])
                cx.append(self.tx + off[1, qy, qx])
            self._consider(torch.stack(cy).clamp_(0, self.h - 1), torch.stack(cx).clamp_(0, self.w - 1))
        radii = []
        radius = float(max(self.h, self.w))
        while radius >= 1.0:
            radii.append(radius)
            radius *= _SEARCH_RATIO
        n = len(self.tflat)
        dev = self.ty.device
        rnd = torch.rand(2, len(radii), n, generator=self.gen, device=self.gen.device).to(dev) * 2.0 - 1.0
        rad = torch.tensor(radii, device=dev, dtype=rnd.dtype)[:, None]
        cy = (self.sy[None] + (rnd[0] * rad).round().long()).clamp_(0, self.h - 1)
        cx = (self.sx[None] + (rnd[1] * rad).round().long()).clamp_(0, self.w - 1)
        gy, gx = self.random_sources(n)
        self._consider(torch.cat([cy, gy[None]]), torch.cat([cx, gx[None]]))

    def vote(self) -> torch.Tensor:
        """Re-synthesise the hole: each target patch votes its source's pixels, weighted by similarity.

        Returns the new ``[C, H, W]`` image (known pixels unchanged).
        """
        finite = torch.isfinite(self.dist)
        sigma2 = torch.quantile(self.dist[finite], _VOTE_QUANTILE).clamp(min=1e-6) if bool(finite.any()) else 1.0
        weight = torch.where(finite, torch.exp(-self.dist / (2.0 * sigma2)).clamp(min=1e-8), 0.0)
        votes = self.rows.index_select(0, self._row(self.sy, self.sx)) * weight[:, None]  # [N, C*D]
        d = self.patch * self.patch
        cols = torch.zeros(self.c * d, self.h * self.w, device=votes.device, dtype=votes.dtype)
        cols[:, self.tflat] = votes.t()
        wcols = torch.zeros(d, self.h * self.w, device=votes.device, dtype=votes.dtype)
        wcols[:, self.tflat] = weight[None]
        # fold sums every patch's values onto the pixels it covers (dropping what sticks out of the image).
        acc = F.fold(cols[None], (self.h, self.w), self.patch, padding=self.r)[0]
        wacc = F.fold(wcols[None], (self.h, self.w), self.patch, padding=self.r)[0]
        voted = acc / wacc.clamp(min=1e-12)
        return torch.where(self.hole[None] & (wacc > 0), voted, self.image)


def _upsample_offsets(offsets: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Nearest-neighbour upsampling of a ``[2, h, w]`` offset map to ``size``, scaling the offsets with the image."""
    h, w = offsets.shape[-2:]
    up = F.interpolate(offsets[None].float(), size=size, mode="nearest")[0]
    scale = torch.tensor([size[0] / h, size[1] / w], device=offsets.device)[:, None, None]
    return (up * scale).round().long()


def _preview(image: torch.Tensor) -> torch.Tensor:
    """``[C, H, W]`` -> ``[1, 3, H, W]`` in 0..1 for progress callbacks."""
    img = image[None].clamp(0.0, 1.0)
    return img.expand(1, 3, *img.shape[-2:]) if img.shape[1] == 1 else img[:, :3]


def patchmatch_complete(
    image: torch.Tensor,
    mask: torch.Tensor,
    *,
    patch_size: int = 7,
    iterations: int = 4,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> torch.Tensor:
    """Complete the holes of an image by multi-scale PatchMatch and patch voting.

    Works on the input's device (CPU or GPU) and on any size: images too small for ``patch_size`` use a smaller patch,
    and images too small for any patch (under 3 pixels on a side) get a smooth diffusion fill. Holes up to about 60%
    of the image are filled with texture copied from the known region.

    Args:
        image: ``[B, C, H, W]`` float in 0..1 with ``C`` = 1 (monochrome, the EEI external stage) or 3 (RGB, the
            channels are matched jointly).
        mask: ``[B, 1, H, W]`` float, 1 = hole (thresholded at 0.5); a batch of 1 is reused for every image.
        patch_size: odd patch side in pixels, at least 3.
        iterations: search-and-vote rounds per pyramid level (the coarsest level gets twice as many).
        seed: seeds the ``torch.Generator`` of the random search; equal seeds give equal results on one device.
        progress: called once per round as ``progress(level, step, total, preview)`` where ``level`` counts pyramid
            levels from 0 (coarsest) and ``preview`` is the current ``[1, 3, h, w]`` estimate at that level.
        cancel: checked every round; returning True raises :class:`EEICancelled`.

    Returns:
        ``[B, C, H, W]`` on the input's device and dtype; pixels outside the hole equal ``image`` exactly.

    Raises:
        EEIInputError: bad shapes, sizes, batches or parameters, or a mask item with no known pixel.

    Example:
        >>> img = torch.linspace(0, 1, 32).repeat(32, 1)[None, None]
        >>> hole = torch.zeros_like(img); hole[..., 12:20, 12:20] = 1
        >>> out = patchmatch_complete(img, hole, seed=1)
        >>> out.shape, bool((out[hole == 0] == img[hole == 0]).all())
        (torch.Size([1, 1, 32, 32]), True)
    """
    check_image(image, "image", channels=CHANNELS)
    check_mask(mask, "mask")
    check_same_size(image, mask, "image", "mask")
    if isinstance(patch_size, bool) or not isinstance(patch_size, int) or patch_size < 3 or patch_size % 2 == 0:
        raise EEIInputError(f"patch_size must be an odd integer of at least 3, got {patch_size!r}")
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise EEIInputError(f"iterations must be a positive integer, got {iterations!r}")
    count = batch_size({"image": image, "mask": mask})
    holes = binarize_mask(mask) > 0
    for i in range(holes.shape[0]):
        if bool(holes[i].all()):
            raise EEIInputError(
                f"mask item {i} covers the whole image: there is no known pixel to copy texture from; "
                "leave part of the image unmasked (or check whether the mask needs inverting)"
            )

    work = image.float()
    plans = []
    for i in range(count):
        hole = batch_item(holes, i)[0, 0]
        plans.append(_plan(hole, patch_size) if bool(hole.any()) else None)
    counter = StepCounter(sum(len(p[1]) * iterations + iterations for p in plans if p is not None), progress, cancel)

    outputs = []
    for i, plan in enumerate(plans):
        img = batch_item(work, i)[0]
        hole = batch_item(holes, i)[0, 0]
        if not bool(hole.any()):
            outputs.append(img)
            continue
        if plan is None:
            outputs.append(smooth_fill(img[None], hole.float()[None, None])[0])
            continue
        patch, sizes = plan
        gen = torch.Generator(device=img.device)
        gen.manual_seed(int(seed) + i)
        pyramid = [(img, hole)]
        for size in sizes[1:]:
            pyramid.append(_downsample(img, hole, size))
        current: torch.Tensor | None = None
        offsets: torch.Tensor | None = None
        for depth, (level_img, level_hole) in enumerate(reversed(pyramid)):
            coarsest = depth == 0
            if coarsest:
                start = smooth_fill(level_img[None], level_hole.float()[None, None])[0]
            else:
                up = F.interpolate(current[None], size=level_img.shape[-2:], mode="bilinear", align_corners=False)[0]
                start = torch.where(level_hole[None], up, level_img)
            matcher = _Matcher(_Level(start, level_hole, _sources(level_hole, patch)), patch, gen)
            if coarsest:
                matcher.init_random()
            else:
                matcher.init_from_offsets(_upsample_offsets(offsets, level_img.shape[-2:]))
            rounds = 2 * iterations if coarsest else iterations
            for _ in range(rounds):
                matcher.search(_JUMPS_COARSEST if coarsest else _JUMPS)
                matcher.set_image(matcher.vote())
                counter.step(depth, _preview(matcher.image) if progress is not None else None)
            current = matcher.image
            offsets = matcher.offsets()
        outputs.append(current)

    out = torch.stack(outputs).to(image.dtype)
    full = image.expand(count, *image.shape[1:])
    return torch.where(holes.expand(count, 1, *holes.shape[-2:]), out, full)
