"""The example workflows in example_workflows/: served as templates, load in the real frontend with every node in view,
and (those that need no model weights) run end to end on a real ComfyUI.

Needs ComfyUI (``bash .ci/install_comfyui.sh``) and, for the browser tests, Chromium + playwright
(``bash .ci/install_browser.sh``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from browser_util import (  # noqa: F401  (pytest fixtures)
    RENDERERS, WORKFLOW_VIEWPORT, Rect, browser, frontend, open_frontend, renderer, settled)
from harness import PACK_NAME
from PIL import Image

#: ComfyUI's Templates browser serves this folder of every pack (other names work, with a hint to rename them).
WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "example_workflows"
WORKFLOWS = sorted(p.stem for p in WORKFLOWS_DIR.glob("*.json"))
#: Node types the frontend provides itself (no Python class on the server).
FRONTEND_ONLY = {"Note", "MarkdownNote", "Reroute", "PrimitiveNode"}
#: Workflows that need model weights (a Stable Diffusion checkpoint) or the user's videos or editor outputs, and so
#: are only loaded, not run (the frame batch of workflow 6 runs through the server in test_server_nodes.py, MergeEdit
#: on an edit pair in test_server_merge_edit.py).
NEEDS_FILES = {"EEI-2-fix-color-bleeding-after-diffusion-inpaint", "EEI-5-creative-fill-drift-and-seam",
               "EEI-6-video-frames-without-flicker", "EEI-7-merge-edit-into-original"}
RUNNABLE = sorted(set(WORKFLOWS) - NEEDS_FILES)

WARM = np.array([200, 80, 40], np.float32) / 255
COOL = np.array([40, 90, 200], np.float32) / 255


def load(name: str) -> dict:
    return json.loads((WORKFLOWS_DIR / f"{name}.json").read_text())


def test_seven_workflows_are_shipped_with_thumbnails():
    assert len(WORKFLOWS) == 7, WORKFLOWS
    for name in WORKFLOWS:
        assert (WORKFLOWS_DIR / f"{name}.jpg").is_file(), f"{name}.jpg: the template browser shows it as thumbnail"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflow_file_is_consistent(name):
    """UI format 0.4; every link joins existing nodes and slots of the type it says; a note explains the workflow."""
    wf = load(name)
    assert wf["version"] == 0.4
    nodes = {n["id"]: n for n in wf["nodes"]}
    assert len(nodes) == len(wf["nodes"])
    assert any(n["type"] in ("Note", "MarkdownNote") for n in wf["nodes"]), "each workflow explains itself in a note"
    for link_id, src, src_slot, dst, dst_slot, kind in wf["links"]:
        out = nodes[src]["outputs"][src_slot]
        inp = nodes[dst]["inputs"][dst_slot]
        assert link_id in out["links"] and inp["link"] == link_id
        assert out["type"] == inp["type"] == kind, (name, link_id, out["type"], inp["type"], kind)
    assert max(nodes) <= wf["last_node_id"] and max(link[0] for link in wf["links"]) <= wf["last_link_id"]


def test_templates_route_lists_and_serves_the_workflows(comfy_server):
    """ComfyUI serves example_workflows/ as this pack's templates (Workflow > Browse Templates)."""
    listed = comfy_server.get("/api/workflow_templates").json()
    assert sorted(listed.get(PACK_NAME, [])) == WORKFLOWS
    for name in WORKFLOWS:
        served = comfy_server.get(f"/api/workflow_templates/{PACK_NAME}/{name}.json").json()
        assert served == load(name)
        thumb = comfy_server.get(f"/api/workflow_templates/{PACK_NAME}/{name}.jpg")
        assert thumb.headers["content-type"] == "image/jpeg" and len(thumb.content) > 1000


def test_workflow_node_types_exist_on_the_server(comfy_server):
    known = set(comfy_server.object_info())
    for name in WORKFLOWS:
        types = {n["type"] for n in load(name)["nodes"]}
        assert types - known - FRONTEND_ONLY == set(), name


def test_workflows_load_in_the_frontend(frontend, renderer):
    """Each workflow loads in the real frontend, with either node renderer, with every node type registered (no
    missing-node placeholders; with Nodes 2.0 every node has its DOM element), and the frontend turns it into an API
    prompt of server node classes."""
    for name in WORKFLOWS:
        wf = load(name)
        frontend.load_workflow(wf)
        assert frontend.missing_node_types() == [], name
        assert frontend.js("app.graph._nodes.length") == len(wf["nodes"]), name
        if renderer == "nodes2":
            frontend.wait("document.querySelectorAll('[data-node-id]').length === arg", arg=len(wf["nodes"]))
            assert set(frontend.node_element_rects()) == {n["id"] for n in wf["nodes"]}, name
        prompt = frontend.graph_to_prompt()
        classes = {n["class_type"] for n in prompt.values()}
        expected = {n["type"] for n in wf["nodes"] if n["type"] not in FRONTEND_ONLY and n.get("mode", 0) == 0}
        assert classes == expected, name
        frontend.screenshot(f"workflow-{name}-{renderer}")
    assert frontend.errors == []


@pytest.fixture(scope="module")
def workflow_front(browser, comfy_server):
    """A page with the frontend loaded in the window the example workflows are laid out for (1600x1000)."""
    front = open_frontend(browser, comfy_server, WORKFLOW_VIEWPORT)
    try:
        yield front
    finally:
        front.use_renderer("classic")
        front.page.context.close()


#: JavaScript: for each group of the graph, its name as graph_item_rects() gives it, whether its title (drawn in
#: ``font_size`` px LiteGraph.GROUP_FONT, 4 units from the left edge) fits inside its width with that margin on both
#: sides, and the height of its title band (``titleHeight``) in page pixels.
_GROUP_TITLES = """() => app.graph._groups.map((g) => {
    const ctx = app.canvas.ctx;
    ctx.save();
    ctx.font = `${g.font_size}px ${LiteGraph.GROUP_FONT}`;
    const width = ctx.measureText(g.title).width;
    ctx.restore();
    return [`group ${g.title}`, width + 8 <= g._size[0], g.titleHeight * app.canvas.ds.scale];
})"""


def _item_boxes(front, renderer: str, wf: dict) -> tuple[dict[str, Rect], dict[str, Rect]]:
    """Page boxes of the loaded workflow's nodes and of its groups, by readable name, as the renderer shows them: on
    the classic canvas a node's title bar and body as LiteGraph draws them; with Nodes 2.0 its DOM element, once
    every node has one and their sizes have stopped changing (the Vue components measure themselves over frames)."""
    drawn = front.graph_item_rects()
    groups = {name: box for name, box in drawn.items() if name.startswith("group ")}
    nodes = {name: box for name, box in drawn.items() if name.startswith("node ")}
    if renderer == "nodes2":
        front.wait("document.querySelectorAll('[data-node-id]').length === arg", arg=len(wf["nodes"]))
        names = {int(name.split()[1]): name for name in nodes}
        last: list = [None]

        def changing():
            now = front.node_element_rects()
            moved, last[0] = now != last[0], now
            return moved

        settled(changing, timeout=30)
        nodes = {names[node_id]: box for node_id, box in last[0].items()}
        groups = {name: box for name, box in front.graph_item_rects().items() if name.startswith("group ")}
    return nodes, groups


@pytest.mark.parametrize("mode", list(RENDERERS))
def test_workflows_open_with_every_node_in_view(workflow_front, mode):
    """Opened in a 1600x1000 window, with either node renderer, each workflow's saved view (extra.ds) shows every node
    and group whole: inside the canvas element and clear of what the frontend draws over it (menus, side bar, minimap,
    zoom buttons), no node or note over another, a node that reaches into a group wholly inside it and below the
    group's title, the title no wider than the group, at a zoom where the frontend still draws text (above its
    level-of-detail threshold).

    With Nodes 2.0 the nodes are DOM elements, measured as such, usually taller than on the canvas; and the frontend
    scales a layout saved with the classic renderer by 1.2 on load (positions and sizes, from the top left) while the
    saved view keeps its zoom, so a workflow covers 1.2 times the width and height it covers on the classic canvas.
    A screenshot of each workflow in each renderer is kept in tests/comfy/artifacts/."""
    front = workflow_front
    front.use_renderer(mode)
    try:
        # Switching to Nodes 2.0 shows a one-time "Prefer the legacy design?" toast; close it as a user would.
        front.dismiss_toasts()
        front.js("() => { app.graph.clear(); }")
        front.settle()
        canvas = front.canvas_rect()
        overlays = front.canvas_overlays()  # measured on the empty graph, in this renderer (its menus differ)
        problems = []
        for name in WORKFLOWS:
            wf = load(name)
            front.load_workflow(wf)
            front.settle()
            if front.js("app.canvas.low_quality"):
                problems.append(f"{name}: zoom {front.js('app.canvas.ds.scale')} is too small for text to be drawn")
            nodes, groups = _item_boxes(front, mode, wf)
            assert len(nodes) == len(wf["nodes"]), name
            for item, box in {**nodes, **groups}.items():
                at = f"{name}: {item} at {tuple(round(v) for v in box)}"
                if not canvas.contains(box):
                    problems.append(f"{at} leaves the canvas {tuple(round(v) for v in canvas)}")
                problems += [f"{at} is under {tuple(round(v) for v in o)}" for o in overlays if o.overlaps(box)]
            names = sorted(nodes)
            for i, a in enumerate(names):
                problems += [f"{name}: {a} overlaps {b}" for b in names[i + 1:] if nodes[a].overlaps(nodes[b])]
                problems += [f"{name}: {a} sticks out of {g}" for g, box in groups.items()
                             if box.overlaps(nodes[a]) and not box.contains(nodes[a])]
            for group, fits, band in front.js(_GROUP_TITLES):
                if not fits:
                    problems.append(f"{name}: the title of {group} is wider than the group")
                problems += [f"{name}: {a} covers the title of {group}" for a in names
                             if groups[group].overlaps(nodes[a]) and nodes[a].top < groups[group].top + band]
            front.artifact(f"workflow-in-view-{name}-{mode}")
        assert problems == [], "\n".join(problems)
        assert front.errors == []
    finally:
        front.use_renderer("classic")


def _test_photo() -> Image.Image:
    """64x48: warm left half, cool right half (different luma), with a transparent hole inside the warm half.

    ComfyUI's Load Image turns the transparency into its MASK output (transparent = hole). The hole's RGB is set to
    the cool colour so a result that merely kept the hidden pixels would fail.
    """
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[:, :32, :3] = (WARM * 255).round()
    rgba[:, 32:, :3] = (COOL * 255).round()
    rgba[..., 3] = 255
    rgba[16:32, 8:24, :3] = (COOL * 255).round()
    rgba[16:32, 8:24, 3] = 0
    return Image.fromarray(rgba, "RGBA")


def test_model_free_workflows_run_end_to_end(frontend, comfy_server, renderer):
    """Converted by the frontend (graphToPrompt, with either node renderer) and queued: the hole comes out in the
    colour around it, the known pixels are kept."""
    name_in = comfy_server.upload_image(_test_photo(), "eei_workflow_test.png")
    for name in RUNNABLE:
        frontend.load_workflow(load(name))
        frontend.js("""(image) => {
            for (const n of app.graph._nodes) {
                const w = n.widgets?.find((w) => w.name === "image" && n.type === "LoadImage");
                if (w) w.value = image;
            }
        }""", name_in)
        prompt = frontend.graph_to_prompt()
        save_id = next(k for k, v in prompt.items() if v["class_type"] == "SaveImage")
        entry = comfy_server.run(prompt, timeout=240)
        (out,) = comfy_server.output_images(entry, save_id)
        result = np.asarray(out.convert("RGB"), np.float32) / 255
        assert result.shape == (48, 64, 3), name
        hole = result[16:32, 8:24]
        assert np.abs(hole.mean(axis=(0, 1)) - WARM).max() < 0.08, (name, hole.mean(axis=(0, 1)))
        known = np.ones((48, 64), bool)
        known[16:32, 8:24] = False
        expected = np.asarray(_test_photo().convert("RGB"), np.float32) / 255
        assert np.abs(result[known] - expected[known]).max() <= 1.5 / 255, name
