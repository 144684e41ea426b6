"""The learned correction (preset ``learned``): it must matter where propagation cannot reach, and the trust rule must
switch it off where it has nothing to correct."""

import torch
import torch.nn.functional as F

from eei_core.internal.colorize import internal_colorize
from eei_core.internal.learned_correction import HeldOut, trusted_scale
from eei_core.shared.color import rgb_from_luma_chroma, to_mono
from eei_core.shared.metrics import psnr


def gray_decides_colour(size: int = 96, seed: int = 0) -> torch.Tensor:
    """``[1, 3, size, size]`` blobs in two grays, each gray with its own colour (dark = blue, bright = orange): a
    gray-to-colour relation that a network can learn from the known pixels, while a blob deep in a large hole is cut
    off from the known pixels of its colour by luminance edges, which the propagation hardly crosses."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.rand(1, 1, size // 8, size // 8, generator=g)
    dark = (F.interpolate(noise, size=(size, size), mode="bicubic", align_corners=False) < 0.5).float()
    luma = 0.7 - 0.4 * dark
    chroma = torch.cat([0.25 * dark - 0.25 * (1 - dark), 0.15 - 0.3 * dark], dim=1)
    return rgb_from_luma_chroma(luma, chroma).clamp(0, 1)


def centre_hole(size: int, margin: int) -> torch.Tensor:
    hole = torch.zeros(1, 1, size, size)
    hole[..., margin : size - margin, margin : size - margin] = 1
    return hole


def test_the_correction_matters_where_gray_decides_colour():
    # Measured: propagation 30.74 dB in the hole, with the learned correction 36.18. A correction silently zeroed
    # (or a trust rule stuck at 0) gives the propagation's figure and fails here.
    img, hole = gray_decides_colour(), centre_hole(96, 20)
    propagated = internal_colorize(to_mono(img), img, hole, config="fast")
    learned = internal_colorize(to_mono(img), img, hole, config="learned", seed=0)
    assert psnr(learned, img, hole) > psnr(propagated, img, hole) + 3.0, (psnr(learned, img, hole),
                                                                           psnr(propagated, img, hole))


def test_the_trust_rule_switches_the_correction_off_when_nothing_needs_correcting():
    # One colour over a gray texture: the propagation is already exact, so whatever the networks learn can only add
    # noise; the held-out holes see no residual to explain and the correction is scaled to zero.
    g = torch.Generator().manual_seed(0)
    luma = 0.3 + 0.4 * F.interpolate(torch.rand(1, 1, 24, 24, generator=g), size=(96, 96), mode="bicubic",
                                     align_corners=False).clamp(0, 1)
    img = rgb_from_luma_chroma(luma, torch.tensor([0.12, -0.08]).view(1, 2, 1, 1).expand(1, 2, 96, 96)).clamp(0, 1)
    hole = centre_hole(96, 20)
    propagated = internal_colorize(to_mono(img), img, hole, config="fast")
    learned = internal_colorize(to_mono(img), img, hole, config="learned", seed=0)
    assert torch.equal(learned, propagated)


def _held_out(residual: torch.Tensor) -> HeldOut:
    hole = torch.zeros(1, 1, 8, 8)
    hole[..., 2:6, 2:6] = 1
    estimate = torch.zeros(1, 2, 8, 8)
    return HeldOut(estimate, hole, estimate + residual * hole)


def test_trust_is_the_least_squares_scale_on_the_worst_held_out_hole():
    residual = torch.zeros(1, 2, 8, 8)
    residual[:, 0] = 0.2
    right, half, wrong = _held_out(residual), _held_out(0.5 * residual), _held_out(-residual)
    output = residual.clone()  # the correction each hole got: exactly the residual of ``right``
    assert abs(trusted_scale([right], [output], "min") - 1.0) < 1e-6
    assert abs(trusted_scale([right, half], [output, output], "min") - 0.5) < 1e-6
    assert abs(trusted_scale([right, half], [output, output], "mean") - 0.75) < 1e-6
    # A correction that points the wrong way on one held-out hole is switched off, not averaged away.
    assert trusted_scale([right, wrong], [output, output], "min") == 0.0
    assert trusted_scale([], [], "min") == 0.0
