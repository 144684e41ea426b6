"""ToMonochrome: the monochrome (luma) of an image, as the monochromic bottleneck uses it."""

from __future__ import annotations

from comfy_api.latest import io

from ..eei_core.shared.color import MONO_WEIGHTS, to_mono
from . import inputs
from .adapter import to_comfy, to_torch
from .schema import node_schema


class ToMonochrome(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return node_schema(
            node_id="ToMonochrome",
            display_name="To Monochrome (EEI)",
            category=inputs.CATEGORY,
            search_aliases=["grayscale", "greyscale", "desaturate", "black and white", "luma"],
            description="Monochrome (luma) of an image, returned as gray in three channels. 'paper' uses the "
            "weights of Wang et al. 2021 (0.30 R + 0.59 G + 0.11 B); feed it to any inpainter for the monochromic "
            "bottleneck.",
            inputs=[
                io.Image.Input("image", tooltip="Colour image (a batch is converted image by image)."),
                io.Combo.Input(
                    "weights", options=list(MONO_WEIGHTS), default="paper",
                    tooltip="Luma weights: paper = 0.30/0.59/0.11 (Wang et al.), bt601 = 0.299/0.587/0.114, "
                    "bt709 = 0.2126/0.7152/0.0722.",
                ),
            ],
            outputs=[io.Image.Output(display_name="mono", tooltip="Gray image (R = G = B = luma).")],
        )

    @classmethod
    def execute(cls, image, weights: str) -> io.NodeOutput:
        (rgb,) = to_torch({"image": image})
        return io.NodeOutput(to_comfy(to_mono(rgb, weights), image.device))
