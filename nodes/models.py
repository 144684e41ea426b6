"""The ``models/eei`` folder for mono inpainting models, registered with ComfyUI's folder_paths."""

from __future__ import annotations

import os

import folder_paths

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
