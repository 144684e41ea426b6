"""The colour-hint picker (web/color_hint_picker.js) in the real frontend, driven with real mouse events.

Flow, once with each node renderer (the classic canvas and Nodes 2.0): the color-hints example workflow is loaded, the
picker shows the Load Image's picture, its Color Hint node is run once (it then shows the run's image, and the
frontend adds no preview of its own), a click on a red patch of the picture adds a point with that red, dragging moves the point into the hole, right-click and
shift-click delete points, and the prompt the frontend builds runs on the server with the hint: the hole, which
would otherwise be blue-gray like its surroundings, turns red around the point.

Needs ComfyUI (``bash .ci/install_comfyui.sh``) and Chromium + playwright (``bash .ci/install_browser.sh``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from browser_util import browser, frontend, renderer  # noqa: F401  (pytest fixtures)
from PIL import Image

WORKFLOW = Path(__file__).resolve().parents[2] / "example_workflows" / "EEI-3-color-hints.json"
W, H = 96, 64
BACKGROUND = (90, 110, 170)  # blue-gray, luma 111
RED = (220, 30, 30)  # luma 87: a different gray level, so the network does not give the hole this red by itself
RED_PATCH = (slice(6, 18), slice(6, 18))  # rows, columns (known pixels)
HOLE = (slice(24, 56), slice(40, 88))
HINT_AT = (0.66, 0.62)  # x, y as fractions: inside the hole


def _hint_photo() -> Image.Image:
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[..., :3] = BACKGROUND
    rgba[..., 3] = 255
    rgba[RED_PATCH[0], RED_PATCH[1], :3] = RED
    rgba[HOLE[0], HOLE[1], 3] = 0  # transparent = hole (Load Image's MASK)
    return Image.fromarray(rgba, "RGBA")


def _screen_point(frontend, node_id: int, fx: float, fy: float) -> tuple[float, float]:
    """Page coordinates of the picture point (fx, fy) (fractions of width, height) in the picker of node_id."""
    return tuple(frontend.js("""([id, fx, fy]) => {
        const picker = app.graph.getNodeById(id).eeiHintPicker;
        const box = picker.canvas.getBoundingClientRect();
        const r = picker.imageRect();
        const zoom = box.width / picker.canvas.clientWidth;
        return [box.left + (r.x + fx * r.w) * zoom, box.top + (r.y + fy * r.h) * zoom];
    }""", [node_id, fx, fy]))


def _shown_pixel(frontend, node_id: int, fx: float, fy: float) -> list[int]:
    """RGBA the picker of node_id has drawn at the picture point (fx, fy) (fractions of width, height)."""
    return frontend.js("""([id, fx, fy]) => {
        const picker = app.graph.getNodeById(id).eeiHintPicker;
        const r = picker.imageRect();
        const dpr = picker.canvas.width / picker.canvas.clientWidth;
        const x = Math.floor((r.x + fx * r.w) * dpr), y = Math.floor((r.y + fy * r.h) * dpr);
        return [...picker.canvas.getContext("2d").getImageData(x, y, 1, 1).data];
    }""", [node_id, fx, fy])


def _frontend_previews(frontend, node_id: int) -> int:
    """How many image previews the frontend itself shows for node_id (its `imgs` on the classic canvas, <img>
    elements in its DOM element with Nodes 2.0): the picker shows the image, so none are wanted."""
    return frontend.js("""(id) => {
        const node = app.graph.getNodeById(id);
        const element = document.querySelector(`[data-node-id="${id}"]`);
        return (node.imgs?.length ?? 0) + (element ? element.querySelectorAll("img").length : 0);
    }""", node_id)


def _points(frontend, node_id: int) -> list[dict]:
    text = frontend.js("(id) => app.graph.getNodeById(id).widgets.find((w) => w.name === 'points').value", node_id)
    return json.loads(text)


def test_click_drag_delete_and_run_with_hint(frontend, comfy_server, renderer):
    assert frontend.renderer() == renderer
    page = frontend.page
    image_name = comfy_server.upload_image(_hint_photo(), "eei_hint_test.png")
    frontend.load_workflow(json.loads(WORKFLOW.read_text()))
    ids = frontend.js("""(image) => {
        const byType = (t) => app.graph._nodes.find((n) => n.type === t);
        const imageWidget = byType("LoadImage").widgets.find((w) => w.name === "image");
        imageWidget.value = image;
        imageWidget.callback?.(image);  // as a user's choice: Load Image shows it
        app.canvas.ds.scale = 1;
        const hint = byType("ColorHint");
        // Bring the hint node to the top left of the screen, where nothing covers it.
        app.canvas.ds.offset = [-hint.pos[0] + 80, -hint.pos[1] + 120];
        app.graph.setDirtyCanvas(true, true);
        return {hint: hint.id, save: byType("SaveImage").id};
    }""", image_name)
    hint_id = ids["hint"]
    patch_centre = (12 / W, 12 / H)

    # Before any run the picker shows the picture of the Load Image wired into it: the red patch is drawn red.
    frontend.wait("app.graph.getNodeById(arg).eeiHintPicker.image?.naturalWidth === 96", arg=hint_id,
                  timeout_ms=60_000)
    frontend.wait("app.graph.getNodeById(arg).eeiHintPicker.status.textContent === '0 points'", arg=hint_id)
    r, g, b, a = _shown_pixel(frontend, hint_id, *patch_centre)
    assert a == 255 and r > 180 and g < 80 and b < 80, (renderer, r, g, b, a)

    # Run only the Color Hint node (a partial run, as "Queue selected output nodes" does): it shows its image.
    frontend.js("(id) => app.queuePrompt(0, 1, [String(id)])", hint_id)
    frontend.wait("app.graph.getNodeById(arg).eeiHintPicker.runImage", arg=hint_id, timeout_ms=60_000)
    frontend.wait("app.graph.getNodeById(arg).eeiHintPicker.runImage.naturalWidth === 96", arg=hint_id)
    page.wait_for_timeout(200)  # one frame for the layout
    assert _frontend_previews(frontend, hint_id) == 0, "the frontend shows its own preview beside the picker"
    # The node's height goes to the picture, not to the JSON box (at most 64 px high in both renderers).
    heights = frontend.js("""(id) => {
        const node = app.graph.getNodeById(id);
        const box = node.widgets.find((w) => w.name === "points").element
            ?? document.querySelector(`[data-node-id="${id}"] textarea`);
        return [box.getBoundingClientRect().height, node.eeiHintPicker.canvas.getBoundingClientRect().height];
    }""", hint_id)
    assert heights[0] <= 70 and heights[1] >= 150, (renderer, heights)
    frontend.screenshot(f"hint-1-image-{renderer}")

    # A click on the red patch adds a point with the red under the cursor.
    page.mouse.click(*_screen_point(frontend, hint_id, *patch_centre))
    (point,) = _points(frontend, hint_id)
    assert point["color"] == "#dc1e1e"
    assert abs(point["x"] - patch_centre[0]) < 0.02 and abs(point["y"] - patch_centre[1]) < 0.02

    # Dragging moves it into the hole, keeping its colour.
    start = _screen_point(frontend, hint_id, *patch_centre)
    end = _screen_point(frontend, hint_id, *HINT_AT)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=8)
    page.mouse.up()
    (point,) = _points(frontend, hint_id)
    assert point["color"] == "#dc1e1e"
    assert abs(point["x"] - HINT_AT[0]) < 0.02 and abs(point["y"] - HINT_AT[1]) < 0.02

    # Two more points (blue-gray from the known area); right-click deletes one, shift-click the other.
    for fx, fy in ((0.1, 0.9), (0.9, 0.1)):
        page.mouse.click(*_screen_point(frontend, hint_id, fx, fy))
    points = _points(frontend, hint_id)
    assert len(points) == 3 and points[1]["color"] == points[2]["color"] == "#5a6eaa"
    page.mouse.click(*_screen_point(frontend, hint_id, 0.1, 0.9), button="right")
    page.keyboard.down("Shift")
    page.mouse.click(*_screen_point(frontend, hint_id, 0.9, 0.1))
    page.keyboard.up("Shift")
    assert _points(frontend, hint_id) == [point]
    r, g, b, _ = _shown_pixel(frontend, hint_id, *HINT_AT)
    assert r > 180 and g < 80 and b < 80, ("the point is drawn in its colour", renderer, r, g, b)
    shot = frontend.artifact(f"color-hint-picker-{renderer}", clip=frontend.node_rect(hint_id, margin=8))
    assert shot.stat().st_size > 5_000
    frontend.screenshot(f"hint-2-point-{renderer}")

    # A click on the point selects it and opens the colour popup; choosing a colour there sets the input's value.
    page.mouse.click(*end)
    assert frontend.js("(id) => app.graph.getNodeById(id).eeiHintPicker.selected", hint_id) == 0
    frontend.js("""(id) => {
        const input = app.graph.getNodeById(id).eeiHintPicker.colorInput;
        input.value = "#ff0000";
        input.dispatchEvent(new Event("input"));
    }""", hint_id)
    (point,) = _points(frontend, hint_id)
    assert point["color"] == "#ff0000"

    # The points round-trip through the saved workflow and the API prompt.
    saved = frontend.js("() => app.graph.serialize()")
    (hint_node,) = [n for n in saved["nodes"] if n["id"] == hint_id]
    assert json.loads(hint_node["widgets_values"][0]) == [point]
    prompt = frontend.graph_to_prompt()
    assert json.loads(prompt[str(hint_id)]["inputs"]["points"]) == [point]

    entry = comfy_server.run(prompt, timeout=240)
    (out,) = comfy_server.output_images(entry, str(ids["save"]))
    result = np.asarray(out.convert("RGB"), np.float32) / 255
    assert result.shape == (H, W, 3)
    px, py = int(HINT_AT[0] * W), int(HINT_AT[1] * H)
    r, g, b = result[py, px]
    assert r > b + 0.15 and r > g + 0.15, f"hinted pixel {result[py, px]} is not red"
    # Away from the hint the hole keeps the blue-gray of its surroundings.
    far = result[HOLE[0].start + 2, HOLE[1].stop - 3]
    assert far[2] > far[0] + 0.1, f"hole pixel far from the hint {far} is not blue-gray"

    # Reloading the saved workflow shows the point again in the picker; the old node's picker stops watching.
    frontend.js("(id) => { window.eeiOldPicker = app.graph.getNodeById(id).eeiHintPicker; }", hint_id)
    assert frontend.js("() => window.eeiOldPicker.timer !== null")
    frontend.load_workflow(saved)
    frontend.wait("app.graph.getNodeById(arg).eeiHintPicker.points.length === 1", arg=hint_id)
    assert frontend.js("(id) => window.eeiOldPicker.timer === null && !!app.graph.getNodeById(id).eeiHintPicker.timer",
                       hint_id)
    assert frontend.errors == []
