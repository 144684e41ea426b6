"""LoadMonoInpaintModel: a mono inpainting network from ComfyUI's models/eei folder."""

from __future__ import annotations

from comfy_api.latest import io

from ..eei_core.external.mono_model import load_mono_model
from . import inputs, models, sockets
from .schema import node_schema


class LoadMonoInpaintModel(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return node_schema(
            node_id="LoadMonoInpaintModel",
            display_name="Load Mono Inpaint Model (EEI)",
            category=inputs.CATEGORY,
            search_aliases=["load inpaint model", "mono model"],
            description="Loads a monochrome inpainting network (.safetensors, e.g. trained with `eei train-external`) "
            "from ComfyUI/models/eei for Mono Bottleneck Inpaint.",
            inputs=[
                io.Combo.Input("model_name", options=models.model_names(),
                               tooltip="A .safetensors file in ComfyUI/models/eei (or an 'eei' entry of "
                               "extra_model_paths.yaml). Refresh the page after adding files."),
            ],
            outputs=[sockets.MonoModel.Output(display_name="mono_model", tooltip="The loaded network.")],
        )

    @classmethod
    def execute(cls, model_name: str) -> io.NodeOutput:
        return io.NodeOutput(load_mono_model(models.model_path(model_name)))
