"""RecolorizeAny: keep another inpainter's structure and luminance, re-learn the hole's colours from the image."""

from __future__ import annotations

from comfy_api.latest import io

from ..eei_core.internal.colorize import PRESETS
from ..eei_core.internal.recolorize import DEFAULT_MASK_GROW, recolorize
from . import inputs, runtime
from .adapter import to_comfy, to_torch

#: Widget choice -> ``recolorize(keep_agreeing_colour=...)``.
INPAINTER_COLOUR = {"auto": None, "keep where it agrees": True, "replace": False}


class RecolorizeAny(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="RecolorizeAny",
            display_name="Recolorize Any Inpaint (EEI)",
            category=inputs.CATEGORY,
            description="Fixes colour bleeding and washed-out colours in the hole of any inpainter's result: keeps its "
            "monochrome (structure) and re-learns the colours from the known pixels with the internal colorizer "
            "(the monochromic bottleneck applied after the fact). The inpainter's own colour is kept where it "
            "agrees with the learned one, so a result that did not bleed is left as it was; a hue shift of the whole "
            "hole (VAE colour shift) is turned back.",
            inputs=[
                io.Image.Input("image", tooltip="Output of any inpainting model or node (LaMa, MAT, SD inpaint, ...)."),
                inputs.mask("Hole that was inpainted: 1 (white) = filled-in pixels. Same size as the image."),
                io.Image.Input("original", optional=True,
                               tooltip="Optional original image: its known pixels are the colour reference. Without "
                               "it the known pixels of 'image' are used (inpainters may have altered them)."),
                inputs.preset(list(PRESETS)),
                io.Int.Input("mask_grow", default=DEFAULT_MASK_GROW, min=0, max=256, step=1,
                             tooltip="Grow the hole by this many pixels before re-colouring, to also fix the seam "
                             "where inpainters blend into the surroundings."),
                inputs.levels(),
                inputs.seed(),
                io.Combo.Input("inpainter_colour", options=list(INPAINTER_COLOUR), default="auto",
                               tooltip="keep where it agrees: the inpainter's own colour stays wherever it matches "
                               "the colour learned from the image within that colour's measured error, so an "
                               "inpainter that did not bleed is left alone (a hue shift of the whole hole is turned back first). replace: every hole pixel gets the "
                               "learned colour. auto: keep where it agrees, or replace when hints are connected "
                               "(hints ask for a change)."),
                inputs.working_size(),
                inputs.hints(),
            ],
            outputs=[io.Image.Output(display_name="image", tooltip="The re-coloured image.")],
        )

    @classmethod
    def execute(cls, image, mask, preset: str, mask_grow: int, levels: int, seed: int,
                inpainter_colour: str = "auto", working_size: int = inputs.DEFAULT_MAX_SIDE, original=None,
                hints=None) -> io.NodeOutput:
        inpainted, reference, hole = to_torch({"image": image, "original": original}, {"mask": mask})
        result = runtime.run(recolorize, inpainted, hole, reference, hints, config=preset, mask_grow=mask_grow,
                             levels=levels or None, seed=seed,
                             keep_agreeing_colour=INPAINTER_COLOUR[inpainter_colour], working_size=working_size)
        return io.NodeOutput(to_comfy(result, runtime.output_device()))
