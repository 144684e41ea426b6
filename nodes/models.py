"""The ``models/eei`` folder for mono inpainting models, registered with ComfyUI's folder_paths."""

from __future__ import annotations

import os

import folder_paths

from ..eei_core.shared.checks import check_file_name
from ..eei_core.shared.errors import EEIInputError

FOLDER = "eei"
#: Weights are only read from safetensors: nothing is ever unpickled.
EXTENSIONS = {".safetensors"}


def model_names() -> list[str]:
    """Loadable models of the folder: training-state files that `eei train-external` writes beside a model (optimizer
    state, not a network to load) are left out."""
    from ..eei_core.external.train_external import STATE_SUFFIX

    return [n for n in folder_paths.get_filename_list(FOLDER) if not n.endswith(STATE_SUFFIX)]


def register_model_folder() -> None:
    """Add ``<models>/eei`` to the ``eei`` folder, after paths already registered (extra_model_paths.yaml entries
    stay), and list only .safetensors files from it."""
    path = os.path.join(folder_paths.models_dir, FOLDER)
    if FOLDER in folder_paths.folder_names_and_paths:
        folder_paths.add_model_folder_path(FOLDER, path)
        folder_paths.folder_names_and_paths[FOLDER][1].update(EXTENSIONS)
    else:
        folder_paths.folder_names_and_paths[FOLDER] = ([path], set(EXTENSIONS))


def model_path(name: str) -> str:
    """The full path of model ``name`` from the ``eei`` folder(s).

    ComfyUI 0.3.75 does not check a V3 node's dropdown value against its options, so a prompt sent to the API can
    carry any text here; a name leading outside the folder is refused before any file is looked up.

    Raises:
        EEIInputError: a name outside the folder, or no such file.
    """
    check_file_name(name, f"ComfyUI/models/{FOLDER}")
    path = folder_paths.get_full_path(FOLDER, name)
    if path is None:
        listed = ", ".join(model_names()) or "none"
        raise EEIInputError(
            f"model {name!r} is not in ComfyUI/models/{FOLDER} (models there: {listed}); put the .safetensors file "
            "into that folder and press R in ComfyUI to refresh the list"
        )
    return path
