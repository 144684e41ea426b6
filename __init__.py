"""EEI for ComfyUI: image inpainting with external-internal learning and the monochromic bottleneck
(Wang, Ouyang & Chen, CVPR 2021).

ComfyUI loads this folder as a custom node pack and calls :func:`comfy_entrypoint`. The algorithms live in
``eei_core`` (pure PyTorch, usable without ComfyUI); ``nodes`` adapts them to ComfyUI; ``web`` holds the frontend code.
"""

WEB_DIRECTORY = "./web"

try:
    import folder_paths  # noqa: F401  (present only inside ComfyUI)
except ImportError:  # imported as a plain package (e.g. by tests or tools): no ComfyUI to register with
    folder_paths = None

if folder_paths is not None:
    from .nodes.models import register_model_folder

    register_model_folder()


async def comfy_entrypoint():
    """ComfyUI's V3 entry point: the extension listing this pack's nodes."""
    from .nodes.extension import EEIExtension

    return EEIExtension()
