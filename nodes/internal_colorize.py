"""InternalColorize: the internal stage, colouring a completed monochrome image from the image's own known pixels."""

from __future__ import annotations

from comfy_api.latest import io

from ..eei_core.internal.colorize import internal_colorize
from ..eei_core.internal.config import PRESETS
from ..eei_core.shared.color import to_mono
from . import inputs, runtime
from .adapter import to_comfy, to_torch
from .schema import node_schema


class InternalColorize(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return node_schema(
            node_id="InternalColorize",
            display_name="Internal Colorize (EEI)",
            category=inputs.CATEGORY,
            search_aliases=["colorize", "colourise", "colorization", "colourisation", "recolor"],
            description="Colours the hole of a completed monochrome image by learning mono -> colour on this image's "
            "known pixels (a pyramid of small networks trained coarse to fine), as in Wang et al. 2021. Known "
            "pixels keep their colour. Runs on the GPU when ComfyUI has one; Cancel stops it.",
            inputs=[
                io.Image.Input("mono", tooltip="Monochrome image with the hole already completed (e.g. from Mono "
                               "Bottleneck Inpaint, or To Monochrome + any inpainter). Colour input is reduced to "
                               "its luma."),
                io.Image.Input("image", tooltip="The original colour image: its known pixels teach the colours."),
                inputs.mask(),
                inputs.preset(list(PRESETS)),
                inputs.levels(),
                inputs.seed(),
                io.Boolean.Input("keep_luminance", default=True,
                                 tooltip="On: the result keeps the mono image's luminance exactly and only the colour "
                                 "(chroma) is learned. Off: the networks predict full RGB."),
                io.Boolean.Input("composite", default=True,
                                 tooltip="On: known pixels are copied from the image, only the hole is replaced. Off: "
                                 "the whole image is the networks' output."),
                inputs.working_size(),
                inputs.hints(),
            ],
            outputs=[io.Image.Output(display_name="image", tooltip="The colourised image.")],
        )

    @classmethod
    def execute(cls, mono, image, mask, preset: str, levels: int, seed: int, keep_luminance: bool,
                composite: bool, working_size: int = inputs.DEFAULT_MAX_SIDE, hints=None) -> io.NodeOutput:
        gray, color, hole = to_torch({"mono": mono, "image": image}, {"mask": mask})
        result = runtime.run(
            internal_colorize, to_mono(gray), color, hole, hints, config=preset, levels=levels or None, seed=seed,
            keep_luminance=keep_luminance, composite=composite, working_size=working_size,
        )
        return io.NodeOutput(to_comfy(result, runtime.output_device()))
