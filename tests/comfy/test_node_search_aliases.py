"""The nodes' search aliases (nodes/schema.py) on a real ComfyUI: every node still loads, and where this ComfyUI's
io.Schema knows search aliases (newer than the 0.3.75 the tests install), /object_info lists each node's."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.comfy

CATEGORY = "image/inpaint/EEI"


def test_every_node_loads_with_aliases_where_supported(comfy_server):
    info = comfy_server.object_info()
    eei_nodes = {name: node for name, node in info.items() if node["category"] == CATEGORY}
    assert sorted(eei_nodes) == ["ColorHint", "InternalColorize", "LoadMonoInpaintModel", "MergeEdit",
                                 "MonoBottleneckInpaint", "RecolorizeAny", "ToMonochrome"], comfy_server.log_text()
    # Servers that know the field list it for their own V3 nodes too (None where a node sets none).
    if any("search_aliases" in node for node in info.values()):
        for name, node in eei_nodes.items():
            assert node["search_aliases"], name
        assert "colour match" in eei_nodes["RecolorizeAny"]["search_aliases"]
