"""Load the repository root as the node pack, the way ComfyUI does, so ``nodes.adapter``'s relative imports work."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACK = "eei_pack_under_test"


def load_pack():
    if PACK not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            PACK, ROOT / "__init__.py", submodule_search_locations=[str(ROOT)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACK] = module
        spec.loader.exec_module(module)
    return sys.modules[PACK]


@pytest.fixture(scope="session")
def pack():
    """The pack's root module; ``pack.nodes.adapter`` etc. are importable below it."""
    return load_pack()


@pytest.fixture(scope="session")
def adapter(pack):
    return importlib.import_module(f"{PACK}.nodes.adapter")


@pytest.fixture(scope="session")
def input_error(pack):
    """The pack's own EEIInputError class (the package is loaded under another name than ``eei_core``)."""
    return importlib.import_module(f"{PACK}.eei_core.shared.errors").EEIInputError
