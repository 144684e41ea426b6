"""MonoBottleneckInpaint: the external stage, completing the hole in monochrome."""

from __future__ import annotations

from comfy_api.latest import io

from ..eei_core.external.mono_inpaint import complete_mono
from ..eei_core.shared.errors import EEIInputError
from . import inputs, runtime, sockets
from .adapter import to_comfy, to_torch
from .schema import node_schema


class MonoBottleneckInpaint(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return node_schema(
            node_id="MonoBottleneckInpaint",
            display_name="Mono Bottleneck Inpaint (EEI)",
            category=inputs.CATEGORY,
            search_aliases=["inpaint", "fill hole", "object removal", "remove object", "patchmatch"],
            description="Completes the hole in monochrome only (the monochromic bottleneck of Wang et al. 2021): "
            "with a mono inpainting model, an inpaint model (LaMa/MAT from comfyui-inpaint-nodes) run on the gray "
            "image, or, with no model, PatchMatch. Known pixels keep their exact luma. Follow with Internal Colorize.",
            inputs=[
                io.Image.Input("image", tooltip="Image with a hole (colour or gray)."),
                inputs.mask(),
                sockets.MonoModel.Input("mono_model", optional=True,
                                        tooltip="Optional model from Load Mono Inpaint Model."),
                sockets.InpaintModel.Input("inpaint_model", optional=True,
                                           tooltip="Optional LaMa/MAT model from comfyui-inpaint-nodes' Load Inpaint "
                                           "Model; it inpaints the gray image and its luminance is kept."),
                inputs.seed(),
            ],
            outputs=[io.Image.Output(display_name="mono", tooltip="Completed monochrome image (gray in 3 channels).")],
        )

    @classmethod
    def execute(cls, image, mask, seed: int, mono_model=None, inpaint_model=None) -> io.NodeOutput:
        if mono_model is not None and inpaint_model is not None:
            raise EEIInputError("connect either mono_model or inpaint_model, not both")
        rgb, hole = to_torch({"image": image}, {"mask": mask})
        model = mono_model if mono_model is not None else inpaint_model
        mono = runtime.run(complete_mono, rgb, hole, model=model, seed=seed)
        return io.NodeOutput(to_comfy(mono, runtime.output_device()))
