"""What a whole-image editor does to a photo, simulated for the MergeEdit tests: an edit in a box, then the whole
picture regenerated (shifted, zoomed, resized to the editor's own size, given a smooth colour cast)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tests.conftest import skimage_photo

#: The edit's box in the original's pixels (rows, columns) for the 128x160 photo of :func:`photo`.
EDIT_BOX = (slice(40, 80), slice(56, 104))


def photo(height: int = 128, width: int = 160) -> torch.Tensor:
    """The astronaut photo ``[1, 3, height, width]``, the test's original."""
    return skimage_photo("astronaut", height, width)


def with_edit(original: torch.Tensor, box: tuple[slice, slice] = EDIT_BOX) -> torch.Tensor:
    """``original`` with what a prompt would add in ``box``: a patch of another photo (the cat of ``chelsea``), whose
    colours and structure differ from what was there."""
    h = box[0].stop - box[0].start
    w = box[1].stop - box[1].start
    edited = original.clone()
    edited[..., box[0], box[1]] = skimage_photo("chelsea", h, w)
    return edited


def regenerate(
    image: torch.Tensor,
    size: tuple[int, int] | None = None,
    shift: tuple[float, float] = (2.5, -1.5),
    zoom: float = 1.02,
    cast: float = 0.06,
) -> torch.Tensor:
    """``image`` as an editor returns it: content moved by ``shift`` (original's pixels, +x right, +y down), zoomed by
    ``zoom`` about the centre, resampled at ``size`` (height, width) and given a colour cast that varies smoothly
    across the picture (red up to ``cast`` on the left, blue on the right, a small lift of the shadows)."""
    h, w = image.shape[-2:]
    size = size or (h, w)
    # Output pixel at normalised u shows the content at (u - t) / zoom.
    tx, ty = -2.0 * shift[0] / w / zoom, -2.0 * shift[1] / h / zoom
    theta = torch.tensor([[[1.0 / zoom, 0.0, tx], [0.0, 1.0 / zoom, ty]]])
    grid = F.affine_grid(theta, [1, 3, *size], align_corners=False)
    out = F.grid_sample(image, grid, mode="bicubic", padding_mode="border", align_corners=False).clamp(0, 1)
    x = torch.linspace(0.0, 1.0, size[1]).view(1, 1, 1, -1)
    gain = torch.cat([1.0 + cast * (1 - x), torch.ones_like(x), 1.0 + cast * x], dim=1)
    return (out * gain + 0.02).clamp(0.0, 1.0)
