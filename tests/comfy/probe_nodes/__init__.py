"""Test-only ComfyUI nodes that make IMAGE tensors no core node makes, as other node packs sometimes hand them on:
NaN or infinite pixels, values outside 0..1, one channel. Installed into the test server only (harness.PROBE_NODES);
never part of the EEI pack."""

from __future__ import annotations

import torch


class ProbeImage:
    """``image`` changed by ``edit``: ``gray 1 channel`` keeps the first channel ([B, H, W, 1]); ``nan pixel`` and
    ``inf pixel`` set one pixel's red to NaN / +inf; ``scale and offset`` returns ``image * scale + offset``
    (unclamped)."""

    EDITS = ["gray 1 channel", "nan pixel", "inf pixel", "scale and offset"]
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "run"
    CATEGORY = "testing/eei probes"

    @classmethod
    def INPUT_TYPES(cls):
        number = {"default": 1.0, "min": -1000.0, "max": 1000.0, "step": 0.001}
        return {"required": {"image": ("IMAGE",), "edit": (cls.EDITS,), "scale": ("FLOAT", number),
                             "offset": ("FLOAT", {**number, "default": 0.0})}}

    def run(self, image: torch.Tensor, edit: str, scale: float, offset: float):
        out = image.clone()
        if edit == "gray 1 channel":
            out = out[..., :1].contiguous()
        elif edit in ("nan pixel", "inf pixel"):
            out[:, 0, 0, 0] = float("nan") if edit == "nan pixel" else float("inf")
        else:
            out = out * scale + offset
        return (out,)


NODE_CLASS_MAPPINGS = {"ProbeImage": ProbeImage}
NODE_DISPLAY_NAME_MAPPINGS = {"ProbeImage": "Probe Image (tests)"}
