"""The node help pages (web/docs/<NodeName>.md): one for every node of the pack, served where the frontend looks for
them, and shown by the real frontend for a selected node.

How the frontend (1.32.9, src/services/nodeHelpService.ts) finds a custom node's page: for a node whose
``python_module`` is ``custom_nodes.<pack>`` it fetches ``/extensions/<pack>/docs/<NodeName>/<locale>.md`` and, when
that is missing, ``/extensions/<pack>/docs/<NodeName>.md``; ComfyUI serves the pack's WEB_DIRECTORY (./web) under
``/extensions/<pack>/``. Relative image links in the page resolve against ``/extensions/<pack>/docs/``. The page opens
in the node library side bar from the "i" button of the selection toolbox (or the node library's help button).

Needs ComfyUI (``bash .ci/install_comfyui.sh``) and, for the browser test, Chromium + playwright
(``bash .ci/install_browser.sh``).
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

from browser_util import browser, frontend, renderer, settled  # noqa: F401  (pytest fixtures)
from harness import PACK_NAME
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout

DOCS = Path(__file__).resolve().parents[2] / "web" / "docs"
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
#: Help images stay small: the page is fetched whenever a user opens it.
MAX_IMAGE_BYTES = 80_000
#: More than LiteGraph's double-click time (300 ms in the frontend 1.32.9's CanvasPointer).
DOUBLE_CLICK_SECONDS = 0.5


def test_every_node_has_a_help_page_served_where_the_frontend_looks(comfy_server):
    """Each node's page exists, is served at the URL the frontend fetches, is titled with the node's display name,
    explains every input, gives the speed, and shows a small before/after image that is served too."""
    nodes = comfy_server.pack_nodes()  # whatever nodes/extension.py registers now
    assert {"ToMonochrome", "MonoBottleneckInpaint", "LoadMonoInpaintModel", "InternalColorize", "RecolorizeAny",
            "ColorHint"} <= set(nodes)
    problems = []
    for name, info in sorted(nodes.items()):
        page = DOCS / f"{name}.md"
        if not page.is_file():
            problems.append(f"{name}: no {page.relative_to(DOCS.parents[1])}")
            continue
        text = page.read_text()
        served = comfy_server.get(f"/extensions/{PACK_NAME}/docs/{name}.md")
        if served.text != text:
            problems.append(f"{name}: /extensions/{PACK_NAME}/docs/{name}.md is not the file")
        if text.splitlines()[0] != f"# {info['display_name']}":
            problems.append(f"{name}: the first line is not '# {info['display_name']}'")
        inputs = [*info["input"].get("required", {}), *info["input"].get("optional", {})]
        problems += [f"{name}: input {i!r} is not explained (as **{i}**)" for i in inputs if f"**{i}**" not in text]
        speed = text.partition("## Speed")[2]
        if not re.search(r"\d s\b|\bmillisecond", speed):
            problems.append(f"{name}: no '## Speed' section with a measured time")
        images = IMAGE_LINK.findall(text)
        if not images:
            problems.append(f"{name}: no before/after image")
        for link in images:
            if not (DOCS / link).is_file():
                problems.append(f"{name}: image {link} is not in web/docs")
                continue
            data = comfy_server.get(f"/extensions/{PACK_NAME}/docs/{link}").content
            if data != (DOCS / link).read_bytes():
                problems.append(f"{name}: image {link} is not served from web/docs")
                continue
            image = Image.open(io.BytesIO(data))
            if image.format != "PNG" or len(data) > MAX_IMAGE_BYTES or image.width < 200:
                problems.append(f"{name}: image {link} is {image.format} {image.size}, {len(data)} bytes")
    assert problems == [], "\n".join(problems)


def test_frontend_shows_the_help_page_of_a_selected_node(frontend, comfy_server, renderer):
    """For each node, with either renderer: the node is selected with a click, the selection toolbox's info button
    opens the side bar, which shows the page (its title and first paragraph) with its image loaded."""
    page = frontend.page
    for name, info in sorted(comfy_server.pack_nodes().items()):
        text = (DOCS / f"{name}.md").read_text()
        first_words = text.split("\n\n")[1].split()[:4]
        node_id = frontend.js("""(type) => {
            app.graph.clear();
            app.canvas.ds.scale = 1;
            app.canvas.ds.offset = [0, 0];
            const node = LiteGraph.createNode(type);
            node.pos = [460, 420];
            app.graph.add(node);
            app.graph.setDirtyCanvas(true, true);
            return node.id;
        }""", name)
        frontend.settle()
        if renderer == "nodes2":
            frontend.wait("document.querySelector(`[data-node-id='${arg}']`)", arg=node_id)
        # A click on the title bar selects the node. Under load the page can still be laying out (a banner or the
        # previous node's side bar moving the canvas): click once the point reaches the node, and again if the click
        # did not select it, as a user would. Each node stands where the last one stood: a click there within the
        # canvas's double-click time of the last one opens the title editor instead (seen in a full CI run: the
        # later clicks reached its text box), so the click waits that long, and a retry first closes the editor.
        seen = []
        for attempt in range(4):
            if attempt:
                page.keyboard.press("Escape")
            settled(lambda: frontend.title_click_point(node_id)[2] != "node", 20.0)
            x, y, at = frontend.title_click_point(node_id)
            seen.append(at)
            time.sleep(DOUBLE_CLICK_SECONDS)
            page.mouse.click(x, y)
            try:
                frontend.wait("Object.keys(app.canvas.selected_nodes).join() === String(arg)", arg=node_id,
                              timeout_ms=10_000)
                break
            except PlaywrightTimeout:
                if attempt == 3:
                    frontend.artifact(f"help-page-click-failed-{renderer}")
                    raise AssertionError(f"{name}: four clicks on its title did not select it; the clicks reached "
                                         f"{seen} (screenshot in tests/comfy/artifacts)") from None
                frontend.settle()
        page.locator('[data-testid="info-button"]').click()
        frontend.wait("document.querySelector('.markdown-content h1')?.textContent.trim() === arg",
                      arg=info["display_name"], timeout_ms=60_000)
        shown = frontend.js("() => document.querySelector('.markdown-content').textContent")
        assert " ".join(first_words).replace("**", "") in " ".join(shown.split()), (name, shown[:300])
        frontend.wait("[...document.querySelectorAll('.markdown-content img')].some("
                      "(i) => i.complete && i.naturalWidth >= 200 && i.src.endsWith(arg))", arg=f"/docs/{name}.png")
        if renderer == "nodes2":  # the side bar narrows the canvas: the node's widgets still fit inside it
            assert settled(frontend.nodes_sticking_out) == [], (name, "node id, pixels past its right edge")
        if name == "ColorHint":
            frontend.artifact(f"help-page-{renderer}")
    assert frontend.errors == []
