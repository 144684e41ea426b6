"""The pack's ComfyUI extension: the list of nodes."""

from __future__ import annotations

from comfy_api.latest import ComfyExtension, io

from .color_hint import ColorHint
from .internal_colorize import InternalColorize
from .load_mono_model import LoadMonoInpaintModel
from .merge_edit import MergeEdit
from .mono_bottleneck_inpaint import MonoBottleneckInpaint
from .recolorize_any import RecolorizeAny
from .to_monochrome import ToMonochrome

NODES: list[type[io.ComfyNode]] = [
    ToMonochrome,
    MonoBottleneckInpaint,
    LoadMonoInpaintModel,
    InternalColorize,
    RecolorizeAny,
    MergeEdit,
    ColorHint,
]


class EEIExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return NODES
