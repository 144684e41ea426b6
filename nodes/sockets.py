"""Socket types that are not ComfyUI built-ins."""

from __future__ import annotations

from comfy_api.latest import io

#: A list of :class:`eei_core.internal.hints.Hint` colour points (from ColorHint).
Hints = io.Custom("EEI_HINTS")
#: A :class:`eei_core.external.mono_model.MonoInpaintGenerator` (from LoadMonoInpaintModel).
MonoModel = io.Custom("EEI_MONO_MODEL")
#: An inpainting model as comfyui-inpaint-nodes' "Load Inpaint Model" outputs (a spandrel model descriptor: LaMa, MAT).
InpaintModel = io.Custom("INPAINT_MODEL")
