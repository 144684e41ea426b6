"""Images side by side with a label above each, for showing a pipeline's stages (``eei demo``)."""

from __future__ import annotations

import torch
from PIL import Image, ImageDraw, ImageFont

from .errors import EEIInputError
from .io import pil_to_tensor, tensor_to_pil

#: Height in pixels of the strip above the panels that holds their labels (Pillow's default font is 11 px high).
LABEL_HEIGHT = 20
LABEL_BACKGROUND = (32, 32, 32)
LABEL_COLOR = (255, 255, 255)


def side_by_side(panels: list[torch.Tensor], labels: list[str]) -> torch.Tensor:
    """Panels left to right under a dark strip that names each one (Pillow's default font, centred over its panel).

    Args:
        panels: images ``[1, C, H, W]`` in 0..1 with C = 1 (shown gray) or 3, all of the same height and width.
        labels: one per panel; a label wider than its panel is cut at the panel's edge.

    Returns:
        ``[1, 3, LABEL_HEIGHT + H, n * W]``: the panels start at row :data:`LABEL_HEIGHT`, panel ``i`` at column
        ``i * W``, unchanged (8-bit rounded).

    Raises:
        EEIInputError: no panels, a label count that differs, or panels of different sizes.

    >>> sheet = side_by_side([torch.zeros(1, 3, 8, 40), torch.ones(1, 1, 8, 40)], ["input", "mask"])
    >>> tuple(sheet.shape), sheet[0, :, LABEL_HEIGHT:, 40:].min().item()
    ((1, 3, 28, 80), 1.0)
    """
    if not panels or len(panels) != len(labels):
        raise EEIInputError(f"side_by_side: {len(panels)} panels and {len(labels)} labels; give one label a panel")
    height, width = panels[0].shape[-2:]
    for i, panel in enumerate(panels):
        if panel.dim() != 4 or panel.shape[0] != 1 or panel.shape[1] not in (1, 3) or panel.shape[-2:] != (height, width):
            raise EEIInputError(f"side_by_side: panel {i} ({labels[i]!r}) has shape {tuple(panel.shape)}; expected "
                                f"[1, 1 or 3, {height}, {width}] like panel 0")
    sheet = Image.new("RGB", (width * len(panels), LABEL_HEIGHT + height), LABEL_BACKGROUND)
    font = ImageFont.load_default()
    for i, (panel, label) in enumerate(zip(panels, labels)):
        sheet.paste(tensor_to_pil(panel.expand(-1, 3, -1, -1)), (i * width, LABEL_HEIGHT))
        strip = Image.new("RGB", (width, LABEL_HEIGHT), LABEL_BACKGROUND)  # keeps a long label inside its panel
        draw = ImageDraw.Draw(strip)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        x = max(0, (width - (right - left)) // 2) - left
        y = (LABEL_HEIGHT - (bottom - top)) // 2 - top
        draw.text((x, y), label, font=font, fill=LABEL_COLOR)
        sheet.paste(strip, (i * width, 0))
    return pil_to_tensor(sheet)
