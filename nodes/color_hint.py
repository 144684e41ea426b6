"""ColorHint: colour points placed on the image (with the picker in the node) for the colourising nodes."""

from __future__ import annotations

from comfy_api.latest import io, ui

from ..eei_core.internal.hints import DEFAULT_RADIUS, parse_hints
from . import inputs, sockets
from .schema import node_schema


#: The ui output that holds the node's image for the picker (web/color_hint_picker.js, which shows it). Not "images":
#: the frontend would add its own preview of those below the picker, in either node renderer.
PICKER_IMAGES = "eei_picker_images"


class ColorHint(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return node_schema(
            node_id="ColorHint",
            display_name="Color Hint (EEI)",
            category=inputs.CATEGORY,
            search_aliases=["color points", "colour hints", "scribble", "color picker"],
            description="Colour points for Internal Colorize and Recolorize Any: the result takes each point's colour "
            "around it. Run the node once to show the image, then click on it to place points (or edit the JSON).",
            inputs=[
                io.Image.Input("image", tooltip="The image the points are placed on (shown in the node; only its first "
                               "image). Points are stored relative to its size, so they fit any resolution."),
                io.String.Input(
                    "points", default="[]", multiline=True,
                    tooltip='JSON list of points, x and y as 0..1 of width and height: '
                    '[{"x": 0.5, "y": 0.25, "color": "#ff0000", "radius": 4}]. Edited by the picker.',
                ),
                io.Int.Input("radius", default=round(DEFAULT_RADIUS), min=1, max=256, step=1,
                             tooltip="Radius in pixels of points that do not set their own."),
            ],
            outputs=[sockets.Hints.Output(display_name="hints", tooltip="The colour points.")],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, image, points: str, radius: int) -> io.NodeOutput:
        hints = parse_hints(points, default_radius=float(radius))
        return io.NodeOutput(hints, ui={PICKER_IMAGES: ui.PreviewImage(image[:1], cls=cls).values})
