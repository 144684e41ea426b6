"""MergeEdit: after a whole-image editor, keep the edit and give back the rest of the original photo."""

from __future__ import annotations

from comfy_api.latest import io

from ..eei_core.compose.changes import DEFAULT_SENSITIVITY
from ..eei_core.pipelines.merge_edit import merge_edit
from . import inputs, runtime
from .adapter import image_to_torch, mask_to_torch, to_comfy
from .schema import node_schema

#: Widget choice -> ``merge_edit(mode=...)`` (RecolorizeAny's choices; the edit's colours are kept by default).
MODES = {"keep new content": "keep", "auto": "auto", "restore": "restore", "replace": "replace"}


class MergeEdit(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return node_schema(
            node_id="MergeEdit",
            display_name="Merge Edit into Original (EEI)",
            category=inputs.CATEGORY,
            search_aliases=["restore unchanged", "fix Kontext colour shift", "fix Kontext color shift",
                            "Qwen edit pixel shift", "paste back edit", "keep unchanged pixels", "edit color drift",
                            "align edit", "difference mask"],
            description="After an instruction editor (Qwen-Image-Edit, FLUX Kontext, Step1X-Edit, OmniGen2 ...), "
            "which regenerates every pixel: keeps what the prompt changed and gives back the original's exact pixels "
            "everywhere else, no mask needed. The edit is aligned with the original (its size, a shift of a few "
            "pixels, a slight zoom), the changed region is found apart from what the model merely redrew, the "
            "colour drift the editor put on the whole image is learned on the unchanged parts and taken out of the "
            "edit, and the seam is blended away.",
            inputs=[
                io.Image.Input("original", tooltip="The image you gave the editor."),
                io.Image.Input("edited", tooltip="What the editor returned. It may have another size (the aspect "
                               "within 25% of the original's); a shift of a few pixels and a zoom of a few percent "
                               "are found and undone."),
                io.Mask.Input("mask", optional=True,
                              tooltip="Optional hint where the edit is (a rough mask, or the one you gave the "
                              "editor), at the original's size: changes are looked for only there (grown a little). "
                              "Without it, the changed region is found by comparing the two images."),
                io.Float.Input("sensitivity", default=DEFAULT_SENSITIVITY, min=0.0, max=1.0, step=0.05,
                               tooltip="Higher finds fainter changes (and more of what the editor merely redrew); "
                               "lower keeps only strong changes. Check the mask output and adjust."),
                io.Combo.Input("mode", options=list(MODES), default="keep new content", optional=True,
                               tooltip="What happens inside the changed region. keep new content: the edit's colours "
                               "are kept, only the editor's colour drift and the seam are fixed. auto: per region as "
                               "RecolorizeAny decides (new content kept, colour that continues the photo restored "
                               "from it). restore: for edits that removed something: the region's colours are "
                               "learned from the photo. replace: every changed pixel gets the learned colour."),
                inputs.seed(),
            ],
            outputs=[
                io.Image.Output(display_name="image", tooltip="The original with the edit merged in, at the "
                                "original's size: outside the mask its pixels are the original's exactly."),
                io.Mask.Output(display_name="changed", tooltip="What was taken from the edit (1 = the edit, "
                               "feathered outwards; 0 = the original). Inspect it, or correct it and feed it back "
                               "as the mask hint."),
            ],
        )

    @classmethod
    def execute(cls, original, edited, sensitivity: float, seed: int = 0, mask=None,
                mode: str = "keep new content") -> io.NodeOutput:
        # The two images may differ in size, so they are converted one by one (merge_edit checks them, and that the
        # mask has the original's size).
        photo, edit = image_to_torch(original, "original"), image_to_torch(edited, "edited")
        hint = None if mask is None else mask_to_torch(mask, "mask")
        result = runtime.run(merge_edit, photo, edit, hint, sensitivity=sensitivity, mode=MODES.get(mode, mode),
                             seed=seed)
        device = runtime.output_device()
        return io.NodeOutput(to_comfy(result.image, device), result.mask[:, 0].to(device).contiguous())
