"""Unit tests of nodes/schema.py (search aliases only where io.Schema has them) and of its use by every node.

No ComfyUI here: ``comfy_api.latest`` is replaced by a stand-in whose ``io.Schema`` is a dataclass with or without
the ``search_aliases`` field, as in newer and older ComfyUI versions.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import sys
import types
from pathlib import Path

import pytest

NODES_DIR = Path(__file__).resolve().parents[2] / "nodes"


@dataclasses.dataclass
class SchemaWithoutAliases:
    """Like io.Schema of ComfyUI 0.3.75."""

    node_id: str
    display_name: str | None = None


@dataclasses.dataclass
class SchemaWithAliases(SchemaWithoutAliases):
    """Like io.Schema of newer ComfyUI versions."""

    search_aliases: list[str] = dataclasses.field(default_factory=list)


@pytest.fixture
def stand_in_io(pack, monkeypatch):
    """(the stand-in ``comfy_api.latest.io``, nodes/schema.py imported against it); tests set ``io.Schema``."""
    io = types.SimpleNamespace(Schema=SchemaWithoutAliases)
    comfy_api = types.ModuleType("comfy_api")
    latest = types.ModuleType("comfy_api.latest")
    latest.io = io
    comfy_api.latest = latest
    monkeypatch.setitem(sys.modules, "comfy_api", comfy_api)
    monkeypatch.setitem(sys.modules, "comfy_api.latest", latest)
    nodes_package = importlib.import_module(f"{pack.__name__}.nodes")
    module_name = f"{nodes_package.__name__}.schema"
    # Imported afresh against this stand-in, and dropped afterwards so nothing else sees a module bound to it.
    sys.modules.pop(module_name, None)
    try:
        yield io, importlib.import_module(module_name)
    finally:
        sys.modules.pop(module_name, None)
        vars(nodes_package).pop("schema", None)


def test_aliases_are_passed_where_the_schema_has_the_field(stand_in_io):
    io, schema = stand_in_io
    io.Schema = SchemaWithAliases
    built = schema.node_schema(node_id="X", display_name="X (EEI)", search_aliases=("colour match", "fix seams"))
    assert built == SchemaWithAliases("X", "X (EEI)", ["colour match", "fix seams"])


def test_aliases_are_left_out_where_the_schema_lacks_the_field(stand_in_io):
    io, schema = stand_in_io
    io.Schema = SchemaWithoutAliases
    with pytest.raises(TypeError):  # what passing them anyway would do, on ComfyUI 0.3.75
        SchemaWithoutAliases(node_id="X", search_aliases=["colour match"])
    built = schema.node_schema(node_id="X", display_name="X (EEI)", search_aliases=["colour match"])
    assert built == SchemaWithoutAliases("X", "X (EEI)")


def _define_schema_calls() -> dict[str, ast.Call]:
    """Node module name -> the call its ``define_schema`` returns, read from the source (the modules need ComfyUI)."""
    calls = {}
    for path in sorted(NODES_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "define_schema":
                (returned,) = [n.value for n in ast.walk(node) if isinstance(n, ast.Return)]
                calls[path.stem] = returned
    return calls


def test_every_node_builds_its_schema_with_search_aliases():
    calls = _define_schema_calls()
    assert sorted(calls) == ["color_hint", "internal_colorize", "load_mono_model", "merge_edit",
                             "mono_bottleneck_inpaint", "recolorize_any", "to_monochrome"]
    for module, call in calls.items():
        assert isinstance(call, ast.Call) and ast.unparse(call.func) == "node_schema", module
        aliases = next((k.value for k in call.keywords if k.arg == "search_aliases"), None)
        assert isinstance(aliases, ast.List) and aliases.elts, f"{module}: no search_aliases"
        words = [ast.literal_eval(e) for e in aliases.elts]
        assert all(isinstance(w, str) and w.strip() == w and w for w in words), (module, words)
