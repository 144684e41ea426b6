"""RecolorizeAny: keep another inpainter's structure and luminance, re-learn the hole's colours from the image."""

from __future__ import annotations

from comfy_api.latest import io

from ..eei_core.internal.config import PRESETS
from ..eei_core.pipelines.recolorize import DEFAULT_MASK_GROW, recolorize
from ..eei_core.shared.errors import EEIInputError
from . import inputs, runtime
from .adapter import to_comfy, to_torch
from .schema import node_schema

#: Widget choice -> ``recolorize(mode=...)``.
MODES = {"auto": "auto", "restore": "restore", "keep new content": "keep", "replace": "replace"}
#: Widget choice -> ``recolorize(sequence=...)``.
SEQUENCE = {"auto": None, "video frames": True, "separate images": False}


class RecolorizeAny(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return node_schema(
            node_id="RecolorizeAny",
            display_name="Recolorize Any Inpaint (EEI)",
            category=inputs.CATEGORY,
            search_aliases=["color match", "colour match", "color bleeding", "colour bleeding",
                            "VAE color shift", "color drift", "fix seams", "inpaint color fix"],
            description="Fixes the colours of any inpainter's result (SD, SDXL, Flux, LaMa, MAT ...). With the original "
            "image connected, the colour drift of the VAE round trip is learned outside the hole and removed inside it, "
            "so the result meets the photo without a seam. Then, where the hole continues what the photo shows (grass, "
            "sky, a wall), colour bleeding is removed with colours learned from the photo itself; where the inpainter "
            "drew something new (an object you prompted), its colours are kept. Soft masks blend; unmasked pixels stay "
            "exactly as in the original.",
            inputs=[
                io.Image.Input("image", tooltip="Output of any inpainting model or node (LaMa, MAT, SD inpaint, ...). "
                               "It may be up to 8 pixels smaller than the original and mask (VAE Encode for "
                               "Inpainting crops to multiples of 8): they are then cropped to match."),
                inputs.mask("Hole that was inpainted: 1 (white) = filled-in pixels, same size as the image. Soft "
                            "(feathered) values blend the result over the original."),
                io.Image.Input("original", optional=True,
                               tooltip="The image before inpainting: its known pixels are the colour reference, the "
                               "VAE's colour drift is learned against it, and the result is blended over it. Without "
                               "it the known pixels of 'image' are used and no drift can be measured."),
                inputs.preset(list(PRESETS), default="learned"),
                io.Int.Input("mask_grow", default=DEFAULT_MASK_GROW, min=0, max=256, step=1,
                             tooltip="Grow the hole by this many pixels before re-colouring, to also fix the seam "
                             "where inpainters blend into the surroundings."),
                inputs.levels(),
                inputs.seed(),
                io.Combo.Input("mode", options=list(MODES), default="auto", optional=True,
                               tooltip="auto: decides per region, and leaves a good result alone. Where the hole "
                               "surely continues what the photo shows and its colour is surely wrong, colour bleeding "
                               "is removed; where the inpainter drew something new (the object you prompted), or the "
                               "evidence is weak, its colours are kept. restore: object removal / hole filling: the whole "
                               "hole should look like the rest of the photo (if auto leaves a patch of odd colour "
                               "after removing an object, use restore). keep new content: only the colour drift "
                               "and the seam are fixed. replace: every hole pixel gets the colour learned from the "
                               "photo (also what auto does when hints are connected). The drift and seam fix apply "
                               "in every mode."),
                inputs.working_size(),
                inputs.hints(),
                io.Combo.Input("sequence", options=list(SEQUENCE), default="auto", optional=True,
                               tooltip="How a batch of several images is treated. video frames: what is learned on "
                               "the first frame is reused on the next, so later frames take a fraction of the time "
                               "and their colours do not flicker (one mask for all frames, or masks that move a "
                               "little). separate images: each image on its own. auto: video frames when the masks "
                               "of consecutive images overlap (or one mask is given for all)."),
            ],
            outputs=[io.Image.Output(display_name="image", tooltip="The re-coloured image.")],
        )

    @classmethod
    def execute(cls, image, mask, preset: str, mask_grow: int, levels: int, seed: int, mode: str = "auto",
                working_size: int = inputs.DEFAULT_MAX_SIDE, original=None, hints=None,
                sequence: str = "auto") -> io.NodeOutput:
        if sequence not in SEQUENCE:
            raise EEIInputError(f"unknown sequence choice {sequence!r}; choose one of {', '.join(SEQUENCE)}")
        inpainted, reference, hole = to_torch({"image": image, "original": original}, {"mask": mask},
                                              allow_vae_crop=True)
        result = runtime.run(recolorize, inpainted, hole, reference, hints, config=preset, mode=MODES.get(mode, mode),
                             mask_grow=mask_grow, levels=levels or None, seed=seed, working_size=working_size,
                             sequence=SEQUENCE.get(sequence))
        return io.NodeOutput(to_comfy(result, runtime.output_device()))
