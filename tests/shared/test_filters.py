"""Masked smoothing: the normalised Gaussian and the local linear fit."""

import torch

from eei_core.shared.filters import masked_blur, masked_linear_blur


def _ramp_in_corner() -> tuple[torch.Tensor, torch.Tensor]:
    h, w = 64, 80
    rows = torch.arange(h, dtype=torch.float32).view(1, 1, h, 1)
    cols = torch.arange(w, dtype=torch.float32).view(1, 1, 1, w)
    ramp = torch.cat([0.004 * rows - 0.003 * cols, 0.002 * cols + 0.1 + 0 * rows], dim=1)
    mask = torch.zeros(1, 1, h, w)
    mask[..., :40, :48] = 1.0  # a region in the image's corner, so two of its edges are the image's
    return ramp, mask


def test_a_local_plane_follows_a_ramp_up_to_the_masks_edges_and_corners():
    ramp, mask = _ramp_in_corner()
    inside = mask[0, 0] > 0
    for sigma in (3.0, 8.0, 20.0):  # 20 runs the blur on a downscaled copy
        error = (masked_linear_blur(ramp, mask, sigma) - ramp)[0][:, inside].abs().max()
        assert float(error) < 2e-3, sigma
    # the normalised Gaussian is pulled towards the inside at the edges: what a cast's slope leaves as "detail"
    bias = (masked_blur(ramp, mask, 8.0) - ramp)[0][:, inside].abs().max()
    assert float(bias) > 0.02


def test_a_local_plane_of_a_constant_is_the_constant_where_the_mask_is_a_line():
    values = torch.full((1, 2, 32, 32), 0.25)
    values[:, :, :, 16:] = 5.0  # outside the mask: must not leak in
    line = torch.zeros(1, 1, 32, 32)
    line[..., 10, :16] = 1.0  # one row: the fit has no slope across it, the ridge keeps it defined
    out = masked_linear_blur(values, line, 4.0)
    assert torch.allclose(out[..., 10, :16], torch.full((1, 2, 16), 0.25), atol=1e-4)
    assert bool(torch.isfinite(out).all())
