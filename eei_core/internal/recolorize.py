"""Re-colour the output of any other inpainter, keeping its structure and taking colour from the known pixels.

Inpainters trained on big data (GAN, LaMa, diffusion with its VAE) invent good structure but bleed colour into the
hole. Here the inpainter's luminance is kept (the monochrome bottleneck of the paper) and the hole's colour is
restored from the image's own known colours by :func:`~eei_core.internal.colorize.internal_colorize`. Where the inpainter's
own colour agrees with that estimate within its measured error, the inpainter's colour is kept
(:mod:`~eei_core.internal.chroma_fusion`): an inpainter that did not bleed is left alone, one that did is corrected.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import torch

from ..shared.checks import (
    batch_item,
    batch_size,
    binarize_mask,
    check_image,
    check_known_pixels,
    check_mask,
    check_same_size,
)
from ..shared.color import fit_to_gamut, luma_chroma
from ..shared.device import resolve_device
from ..shared.errors import EEIInputError
from ..shared.masks import grow_mask
from ..shared.progress import CancelFn, ProgressFn, StepCounter
from .chroma_fusion import HELD_OUT_HOLES, apply_fusion, fusion_correction, prediction_tolerance
from .colorize import (
    ColorizeConfig,
    check_working_size,
    colorize_working,
    count_levels,
    frame_hints,
    held_out_propagations,
    per_level,
    resolve_config,
)
from .frame import plan_frame, upsample_guided
from .hints import Hint
from .propagate import propagate

#: Default growth of the mask in pixels. Growing re-colours the seam where an inpainter blended past the mask, but
#: on the recolorize benchmark (MI-GAN and synthetic bleeding) 4 pixels cost up to 1.3 dB against 0: the known ring it
#: hides is the best colour evidence. With ``original`` given, pixels outside the mask are the original's anyway.
DEFAULT_MASK_GROW = 0


def recolorize(
    image: torch.Tensor,
    mask: torch.Tensor,
    original: torch.Tensor | None = None,
    hints: Sequence[Hint] | None = None,
    *,
    config: str | ColorizeConfig = "fast",
    mask_grow: int = DEFAULT_MASK_GROW,
    levels: int | None = None,
    keep_agreeing_colour: bool | None = None,
    working_size: int | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Remove colour bleeding from an inpainted image.

    Args:
        image: ``[B, 3, H, W]`` in 0..1, the other inpainter's output; its luminance is kept everywhere in the hole.
        mask: ``[B, 1, H, W]``, 1 = the region the inpainter filled.
        original: ``[B, 3, H, W]``, the image before inpainting; known colours are read from it (from ``image`` when
            not given) and the result is composited over it.
        hints: colour points that steer the hole's colours.
        mask_grow: pixels by which the mask is grown so the seam is re-coloured too.
        keep_agreeing_colour: keep the inpainter's colour where it agrees with the learned colour within the
            learned colour's measured error (see :mod:`~eei_core.internal.chroma_fusion`); ``False`` replaces the hole's colour
            outright. ``None`` (default) keeps it unless hints are given, since hints ask for a colour change.
        working_size: longer side in pixels at which colour is estimated and fused (a crop around the hole, shrunk
            to it); ``None`` = the preset's (512), 0 = full size.

    Returns:
        ``[B, 3, H, W]`` in 0..1: ``original`` (or ``image``) outside the grown mask, re-coloured inside.

    Example:
        >>> img = torch.rand(1, 3, 24, 24); hole = torch.zeros(1, 1, 24, 24); hole[..., 8:16, 8:16] = 1
        >>> recolorize(img, hole).shape
        torch.Size([1, 3, 24, 24])
    """
    check_image(image, "image", channels=(3, 4))
    check_mask(mask)
    check_same_size(image, mask, "image", "mask")
    image = image[:, :3]
    if original is not None:
        check_image(original, "original", channels=(3, 4))
        check_same_size(image, original, "image", "original")
        original = original[:, :3]
    batch = batch_size({"image": image, "mask": mask, "original": original})
    check_known_pixels(binarize_mask(mask))
    grown = grow_mask(binarize_mask(mask), mask_grow)
    if bool((grown.flatten(1).min(dim=1).values > 0.5).any()):
        raise EEIInputError(
            f"mask_grow={mask_grow} grows the mask over the whole image, leaving no known colour; use a smaller mask_grow"
        )
    reference = original if original is not None else image
    cfg = resolve_config(config)
    if working_size is not None:
        cfg = replace(cfg, working_size=check_working_size(working_size))
    if keep_agreeing_colour is None:
        keep_agreeing_colour = not hints
    dev = resolve_device(device, image)
    h, w = image.shape[-2:]
    n_levels = count_levels(cfg, levels, h, w)
    per_item = sum(per_level(cfg.iterations, n_levels))
    counter = StepCounter(per_item * batch, progress, cancel)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    out = []
    for i in range(batch):
        hole = batch_item(grown, i).to(dev, torch.float32)
        known_colour = batch_item(reference, i).to(dev, torch.float32)
        inpainted = batch_item(image, i).to(dev, torch.float32)
        if float(hole.max()) < 0.5:
            counter.step(n_levels - 1, None, count=per_item)
            out.append(known_colour.to(image.device, image.dtype))
            continue
        item = _recolorize_item(inpainted, hole, known_colour, hints, cfg, n_levels, keep_agreeing_colour, generator,
                                counter, (h, w))
        out.append(item.to(image.device, image.dtype))
    return torch.cat(out, dim=0)


def _recolorize_item(
    inpainted: torch.Tensor,
    hole: torch.Tensor,
    reference: torch.Tensor,
    hints: Sequence[Hint] | None,
    cfg: ColorizeConfig,
    levels: int,
    keep_agreeing_colour: bool,
    generator: torch.Generator,
    counter: StepCounter,
    full: tuple[int, int],
) -> torch.Tensor:
    """One image: the colour is estimated (and fused) at the frame's working size, then brought to full size."""
    frame = plan_frame(hole, cfg.working_size, cfg.context, [(p.x, p.y) for p in hints or []])
    small_hole = frame.shrink_mask(hole)
    luma, inpainter_chroma = luma_chroma(frame.shrink(inpainted))
    small_reference = frame.shrink(reference)
    estimate = colorize_working(luma, small_reference, small_hole, frame_hints(frame, hints, full), cfg, levels,
                                generator, counter)
    predicted = luma_chroma(fit_to_gamut(luma, luma_chroma(estimate.rgb)[1]))[1]
    full_luma, full_inpainter = luma_chroma(frame.crop(inpainted))
    known = 1.0 - frame.crop(hole)
    if keep_agreeing_colour:
        _, reference_chroma = luma_chroma(small_reference)
        held_out = estimate.held_out or held_out_propagations(
            luma, reference_chroma, small_hole, 1.0 - small_hole, HELD_OUT_HOLES, generator, cfg.propagation_iterations,
            counter.cancel,
        )
        validated = None
        if cfg.mode == "rgb":
            # The tolerance measured the propagation's error; the paper's generators were never tested on held-out
            # pixels, so the propagation is the estimate the tolerance vouches for.
            validated = propagate(
                luma, reference_chroma, 1.0 - small_hole, iterations=cfg.propagation_iterations, cancel=counter.cancel
            )
        angle, correction = fusion_correction(
            inpainter_chroma, predicted, small_hole, prediction_tolerance(held_out), validated
        )
        chroma = apply_fusion(full_inpainter, angle, frame.enlarge(correction))
    else:
        chroma = upsample_guided(predicted, full_luma, luma_chroma(frame.crop(reference))[1], known)
    fused = fit_to_gamut(full_luma, chroma).clamp(0.0, 1.0)
    return frame.paste(reference, (1.0 - known) * fused + known * frame.crop(reference))
