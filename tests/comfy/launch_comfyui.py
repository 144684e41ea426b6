"""Start ComfyUI's ``main.py`` in an environment with a CPU-only torch.

Usage: ``python tests/comfy/launch_comfyui.py COMFYUI_DIR [main.py arguments...]``

The registry's torchvision wheels are CUDA builds: their compiled ops (``torchvision._C``) cannot load next to a CPU
torch, and torchvision 0.2x then fails on import because it registers fake kernels for ``torchvision::nms`` and
``qnms`` whose schemas the missing library would have defined. ComfyUI imports torchvision at start-up (several model
families do), so it would not start. Here the two schemas are defined first when, and only when, the library cannot
load; nothing of the pack or of the tests uses those ops. A user's normal ComfyUI install never goes through this file.
"""

from __future__ import annotations

import glob
import importlib.util
import logging
import os
import runpy
import sys

_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_keep_alive = []  # a torch.library.Library un-registers its definitions when garbage collected


def _define_missing_torchvision_ops() -> None:
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        return
    import torch

    libraries = glob.glob(os.path.join(os.path.dirname(spec.origin), "_C*.so"))
    try:
        if libraries:
            torch.ops.load_library(libraries[0])
            return
    except OSError as e:
        logging.getLogger(__name__).info("torchvision ops unavailable (%s); defining their schemas only", e)
    lib = torch.library.Library("torchvision", "DEF")
    for schema in _SCHEMAS:
        lib.define(schema)
    _keep_alive.append(lib)


class _BeforeTorchvision:
    """Runs the fix when torchvision is first imported, so torch is not imported before ComfyUI's main.py wants it."""

    def find_spec(self, name, path=None, target=None):
        if name == "torchvision":
            sys.meta_path.remove(self)
            _define_missing_torchvision_ops()
        return None  # the normal finders import it


def main() -> None:
    comfy_dir = os.path.abspath(sys.argv[1])
    sys.meta_path.insert(0, _BeforeTorchvision())
    sys.argv = [os.path.join(comfy_dir, "main.py"), *sys.argv[2:]]
    sys.path.insert(0, comfy_dir)
    os.chdir(comfy_dir)
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
