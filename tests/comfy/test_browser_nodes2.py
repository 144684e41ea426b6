"""Every node of the pack in the real frontend with both node renderers: the classic LiteGraph canvas and "Nodes 2.0"
(the setting ``Comfy.VueNodes.Enabled``: each node a Vue component in the page's DOM).

With each renderer, all the nodes nodes/extension.py registers are added to an empty graph: with Nodes 2.0 each has its
DOM element showing its title, its input slots and its widgets; with both, the frontend turns the graph into the same
API prompt (every widget input with its default value); a screenshot of each renderer is kept in
tests/comfy/artifacts/ (browser_util.ARTIFACTS_DIR). The colour-hint picker's interactions are tested with both
renderers in test_browser_color_hint.py, the example workflows in test_workflows.py, the help pages in
test_help_pages.py.

Needs ComfyUI (``bash .ci/install_comfyui.sh``) and Chromium + playwright (``bash .ci/install_browser.sh``).
"""

from __future__ import annotations

import numpy as np
from browser_util import RENDERERS, browser, frontend, settled  # noqa: F401  (pytest fixtures)
from PIL import Image

#: Nodes a row in the test graph.
COLUMNS = 4


def _add_pack_nodes(frontend, names: list[str]) -> dict[str, int]:
    """Clear the graph and add one node of each type in a grid at zoom 0.55; returns node ids by type."""
    return frontend.js("""([names, columns]) => {
        app.graph.clear();
        app.canvas.ds.scale = 0.55;
        app.canvas.ds.offset = [140, 180];
        const ids = {};
        names.forEach((type, i) => {
            const node = LiteGraph.createNode(type);
            node.pos = [(i % columns) * 460, Math.floor(i / columns) * 560];
            app.graph.add(node);
            ids[type] = node.id;
        });
        app.graph.setDirtyCanvas(true, true);
        return ids;
    }""", [names, COLUMNS])


def _widget_defaults(info: dict) -> dict[str, object]:
    """The widget inputs of a node (object_info) with their defaults: what the prompt of a fresh node carries."""
    defaults = {}
    for section in ("required", "optional"):
        for name, spec in info["input"].get(section, {}).items():
            kind, options = spec[0], (spec[1] if len(spec) > 1 else {})
            if isinstance(kind, list) or kind == "COMBO":
                choices = kind if isinstance(kind, list) else options.get("options", [])
                defaults[name] = options.get("default", choices[0] if choices else None)
            elif kind in ("INT", "FLOAT", "STRING", "BOOLEAN"):
                defaults[name] = options.get("default")
    return defaults


def test_every_node_renders_and_queues_the_same_in_both_renderers(frontend, comfy_server):
    nodes = comfy_server.pack_nodes()
    names = sorted(nodes)
    prompts, shots = {}, {}
    try:
        for renderer in RENDERERS:
            frontend.use_renderer(renderer)
            ids = _add_pack_nodes(frontend, names)
            frontend.settle()
            if renderer == "nodes2":
                frontend.wait("document.querySelectorAll('[data-node-id]').length === arg", arg=len(names))
                for name in names:
                    info = nodes[name]
                    inputs = [info["display_name"], *info["input"].get("required", {}),
                              *info["input"].get("optional", {})]

                    def missing(node_id=ids[name], inputs=inputs):
                        text = frontend.js("(id) => document.querySelector(`[data-node-id='${id}']`).textContent",
                                           node_id)
                        return [i for i in inputs if i not in text]

                    # Labels may be cut with an ellipsis on screen; the element still holds each whole name.
                    assert settled(missing) == [], name
                picker = frontend.js("(id) => !!document.querySelector(`[data-node-id='${id}'] .eei-hint-picker`)",
                                     ids["ColorHint"])
                assert picker, "the colour-hint picker is inside the Color Hint node's element"
                # Nothing a node shows sticks out of its frame (a widget's content must not outgrow the node).
                assert settled(frontend.nodes_sticking_out) == [], "node id, pixels past its right edge"
            prompt = frontend.graph_to_prompt()
            prompts[renderer] = {prompt[str(ids[name])]["class_type"]: {
                k: v for k, v in prompt[str(ids[name])]["inputs"].items() if not isinstance(v, list)}
                for name in names if str(ids[name]) in prompt}
            shots[renderer] = frontend.artifact(f"eei-nodes-{renderer}")
    finally:
        frontend.use_renderer("classic")

    # Nodes without a required link are still queued by the frontend (the server would reject them, which is not
    # the point here): each carries its widgets' defaults, the same with both renderers.
    assert prompts["classic"] == prompts["nodes2"]
    for name, inputs in prompts["classic"].items():
        expected = {k: v for k, v in _widget_defaults(nodes[name]).items() if k in inputs}
        assert inputs == expected, name
        assert set(_widget_defaults(nodes[name])) - set(inputs) <= {"model_name"}, name  # no model in models/eei
    assert "ColorHint" in prompts["classic"] and "InternalColorize" in prompts["classic"]

    a, b = (np.asarray(Image.open(shots[r]).convert("RGB"), np.int16) for r in RENDERERS)
    assert a.shape == b.shape and a.std() > 5 and b.std() > 5, "a screenshot is blank"
    assert np.abs(a - b).mean() > 2, "the two renderers' screenshots are the same: Nodes 2.0 was not switched on"
    assert frontend.errors == []
