"""User colour points ("hints"): parsing from JSON and rasterising onto an image grid.

A hint pins a colour at a point; the colorizer treats hinted pixels as known (with a weight) so it reproduces the
colour there and propagates it into the hole.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import torch

from ..shared.color import luma_chroma
from ..shared.errors import EEIInputError

#: Radius in pixels for points that do not give one.
DEFAULT_RADIUS = 3.0


@dataclass(frozen=True)
class Hint:
    """One colour point.

    Attributes:
        x, y: position as a fraction of width and height, 0..1 (0, 0 = top-left corner).
        color: sRGB colour, three floats in 0..1.
        radius: disc radius in pixels of the full-resolution image.
    """

    x: float
    y: float
    color: tuple[float, float, float]
    radius: float = DEFAULT_RADIUS

    def to_dict(self) -> dict[str, Any]:
        r, g, b = (round(c * 255) for c in self.color)
        return {"x": self.x, "y": self.y, "color": f"#{r:02x}{g:02x}{b:02x}", "radius": self.radius}


_EXAMPLE = '[{"x": 0.5, "y": 0.5, "color": "#ff0000", "radius": 4}]'
_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_RGB_FN = re.compile(r"^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$", re.I)


def parse_color(value: Any, where: str = "color") -> tuple[float, float, float]:
    """A colour from ``"#rrggbb"``, ``"#rgb"``, ``"rgb(r, g, b)"`` (0..255), or a list of three numbers.

    A list of integers is read as 0..255; a list with any float is read as 0..1.

    Example:
        >>> parse_color("#ff8000")
        (1.0, 0.5019607843137255, 0.0)
    """
    if isinstance(value, str):
        text = value.strip()
        m = _HEX.match(text)
        if m:
            h = m.group(1)
            if len(h) == 3:
                h = "".join(c * 2 for c in h)
            return tuple(int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]
        m = _RGB_FN.match(text)
        if m:
            parts = [int(v) for v in m.groups()]
            if any(p > 255 for p in parts):
                raise EEIInputError(f"{where}: {value!r} has a component above 255")
            return tuple(p / 255.0 for p in parts)  # type: ignore[return-value]
        raise EEIInputError(f"{where}: {value!r} is not a colour; use '#rrggbb', '#rgb' or 'rgb(r, g, b)'")
    if isinstance(value, (list, tuple)) and len(value) == 3 and all(_is_number(v) for v in value):
        if all(isinstance(v, int) for v in value):
            if any(v < 0 or v > 255 for v in value):
                raise EEIInputError(f"{where}: integer components must be 0..255, got {list(value)}")
            return tuple(v / 255.0 for v in value)  # type: ignore[return-value]
        if any(v < 0 or v > 1 for v in value):
            raise EEIInputError(f"{where}: float components must be 0..1, got {list(value)}")
        return tuple(float(v) for v in value)  # type: ignore[return-value]
    raise EEIInputError(f"{where}: {value!r} is not a colour; use '#rrggbb', 'rgb(r, g, b)' or [r, g, b]")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _coordinate(point: dict[str, Any], key: str, where: str) -> float:
    if key not in point:
        raise EEIInputError(f"{where}: missing '{key}' (a fraction of the image {'width' if key == 'x' else 'height'})")
    v = point[key]
    if not _is_number(v):
        raise EEIInputError(f"{where}: '{key}' must be a number in 0..1, got {v!r}")
    if not 0.0 <= float(v) <= 1.0:
        raise EEIInputError(f"{where}: '{key}' = {v} is outside 0..1 (coordinates are fractions of the image size)")
    return float(v)


def parse_hints(source: str | Iterable[Any] | None, default_radius: float = DEFAULT_RADIUS) -> list[Hint]:
    """Hints from JSON text or already-decoded data.

    Accepts a list of objects ``{"x": 0..1, "y": 0..1, "color": ..., "radius": pixels (optional)}``, or an object
    ``{"points": [...]}``. Empty text gives no hints.

    Raises:
        EEIInputError: bad JSON, a point that is not an object, coordinates outside 0..1, a bad colour string,
            wrong types or a negative or non-finite radius; the message says which point.

    Example:
        >>> parse_hints('[{"x": 0.5, "y": 0.25, "color": "#ff0000"}]')[0].color
        (1.0, 0.0, 0.0)
    """
    if source is None:
        return []
    data: Any = source
    if isinstance(source, str):
        if not source.strip():
            return []
        try:
            data = json.loads(source)
        except json.JSONDecodeError as exc:
            raise EEIInputError(
                f"hints are not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); expected a list like "
                f"{_EXAMPLE}"
            ) from None
    if isinstance(data, dict) and "points" in data:
        data = data["points"]
    if isinstance(data, dict):
        raise EEIInputError(f"hints must be a list of points, got a single object; put it in a list: {_EXAMPLE}")
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        kind = {"str": "text", "NoneType": "null", "bool": "true/false", "int": "a number", "float": "a number"}
        raise EEIInputError(
            f"hints must be a list of points like {_EXAMPLE}, got {kind.get(type(data).__name__, type(data).__name__)}"
            "; leave the text empty or [] for no hints"
        )
    hints = []
    for i, point in enumerate(data):
        where = f"hint {i}"
        if isinstance(point, Hint):
            hints.append(point)
            continue
        if not isinstance(point, dict):
            raise EEIInputError(f"{where}: expected an object with x, y and color, got {point!r}")
        x = _coordinate(point, "x", where)
        y = _coordinate(point, "y", where)
        if "color" not in point:
            raise EEIInputError(f"{where}: missing 'color' (e.g. \"#ff0000\")")
        color = parse_color(point["color"], f"{where} color")
        radius = point.get("radius", default_radius)
        if radius is None:
            radius = default_radius
        if not _is_number(radius) or not radius >= 0 or not math.isfinite(radius):
            raise EEIInputError(f"{where}: 'radius' must be a finite number >= 0 (pixels), got {radius!r}")
        hints.append(Hint(x, y, color, float(radius)))
    return hints


def hints_to_json(hints: Iterable[Hint]) -> str:
    """JSON text that :func:`parse_hints` reads back to the same hints (colours rounded to 8 bits)."""
    return json.dumps([h.to_dict() for h in hints])


#: Pixels of hint boxes drawn at once by :func:`rasterize_hints` (bounds its memory: about 40 bytes each).
RASTER_CHUNK = 1 << 21


def rasterize_hints(
    hints: Iterable[Hint],
    height: int,
    width: int,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    scale: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw hints as discs on an ``height x width`` grid.

    Each disc is drawn only inside its bounding box, many discs at once, so the cost follows the area the discs
    cover, not their count times the image (10,000 points on a 512 x 512 grid take milliseconds).

    Args:
        scale: level size / full size, so radii shrink with the pyramid level; every hint covers at least its
            nearest pixel at any level.

    Returns:
        ``color [1, 3, H, W]`` (0 where no hint) and ``weight [1, 1, H, W]`` in 0..1 (1 inside a disc, a linear falloff
        over one pixel at the rim). Where discs overlap, the later hint wins.

    Example:
        >>> color, weight = rasterize_hints([Hint(0.5, 0.5, (1.0, 0.0, 0.0), 1.0)], 4, 4)
        >>> [[round(v, 2) for v in row] for row in weight[0, 0].tolist()]  # the nearest pixel, (2, 2), is 1
        [[0.0, 0.0, 0.0, 0.0], [0.0, 0.79, 0.79, 0.0], [0.0, 0.79, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    """
    hints = list(hints)
    color = torch.zeros(1, 3, height, width, device=device, dtype=dtype)
    weight = torch.zeros(1, 1, height, width, device=device, dtype=dtype)
    if not hints:
        return color, weight
    radius = [max(h.radius * scale, 0.5) for h in hints]
    # Box side: every pixel centre closer than r + 0.5 to the disc's centre, and its nearest pixel; a disc larger
    # than the image needs no more than the image around its centre.
    reach = max(height, width)
    sides = [2 * (min(math.ceil(r), reach) if math.isfinite(r) else reach) + 3 for r in radius]
    start = 0
    while start < len(hints):  # in chunks of about RASTER_CHUNK box pixels (at least one disc each)
        stop, side = start + 1, sides[start]
        while stop < len(hints) and (stop - start + 1) * max(side, sides[stop]) ** 2 <= RASTER_CHUNK:
            side = max(side, sides[stop])
            stop += 1
        _draw_discs(hints[start:stop], radius[start:stop], side, color, weight)
        start = stop
    return color, weight


def known_chroma_with_hints(
    chroma: torch.Tensor, known: torch.Tensor, hints: Sequence[Hint] | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Chroma ``[1, 2, H, W]`` and known-pixel map ``[1, 1, H, W]`` with each hint's disc (radius in these pixels)
    counted as a known pixel of the hint's chroma (see :func:`~eei_core.shared.color.luma_chroma`).

    Example:
        >>> chroma, known = known_chroma_with_hints(torch.zeros(1, 2, 9, 9), torch.zeros(1, 1, 9, 9),
        ...                                         [Hint(0.5, 0.5, (1.0, 0.0, 0.0), radius=1)])
        >>> float(known[0, 0, 4, 4]), round(float(chroma[0, 1, 4, 4]), 2)     # red: R - Y = 1 - 0.30
        (1.0, 0.7)
    """
    if not hints:
        return chroma, known
    h, w = chroma.shape[-2:]
    h_color, h_weight = rasterize_hints(hints, h, w, device=chroma.device, dtype=chroma.dtype)
    hinted = (h_weight > 0.5).to(chroma.dtype)
    return torch.where(hinted > 0, luma_chroma(h_color)[1], chroma), torch.maximum(known, hinted)


def _draw_discs(
    hints: list[Hint], radius: list[float], side: int, color: torch.Tensor, weight: torch.Tensor
) -> None:
    """Draw ``hints`` (in order: later ones win) into ``color`` and ``weight`` in place, each in a ``side``-pixel box
    around its centre; discs drawn before stay where none of these covers them."""
    _, _, height, width = weight.shape
    device, dtype = weight.device, weight.dtype
    cx = torch.tensor([h.x * width for h in hints], device=device, dtype=dtype)
    cy = torch.tensor([h.y * height for h in hints], device=device, dtype=dtype)
    r = torch.tensor(radius, device=device, dtype=dtype)
    rgb = torch.tensor([h.color for h in hints], device=device, dtype=dtype)
    near_x = torch.tensor([min(int(h.x * width), width - 1) for h in hints], device=device)
    near_y = torch.tensor([min(int(h.y * height), height - 1) for h in hints], device=device)
    offsets = torch.arange(side, device=device) - side // 2
    cols = near_x[:, None] + offsets  # [n, side]
    rows = near_y[:, None] + offsets
    dx = (cols.to(dtype) + 0.5 - cx[:, None]) ** 2
    dy = (rows.to(dtype) + 0.5 - cy[:, None]) ** 2
    disc = (r[:, None, None] + 0.5 - torch.sqrt(dy[:, :, None] + dx[:, None, :])).clamp(0.0, 1.0)
    disc[:, side // 2, side // 2] = 1.0  # the nearest pixel
    inside = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[:, None, :]
    on = (disc > 0) & inside
    index, _, _ = on.nonzero(as_tuple=True)
    pixel = (rows[:, :, None] * width + cols[:, None, :])[on]
    # Later hints win: per pixel, the highest hint index that covers it.
    winner = torch.full((height * width,), -1, device=device, dtype=index.dtype)
    winner.scatter_reduce_(0, pixel, index, reduce="amax")
    last = index == winner[pixel]
    pixel, index = pixel[last], index[last]
    weight.view(-1)[pixel] = disc[on][last]
    color.view(3, -1)[:, pixel] = rgb[index].T
