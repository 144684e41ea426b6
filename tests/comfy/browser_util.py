"""Drive ComfyUI's real frontend in Debian's Chromium with Playwright, for the browser and workflow tests.

Install what this needs with ``bash .ci/install_browser.sh`` (apt ``chromium`` + the ``playwright`` package; never
``playwright install``: the tests launch ``/usr/bin/chromium``). Pytest fixtures ``browser`` (one Chromium for the
test session), ``frontend`` (a page with the frontend loaded, per test module) and ``renderer`` (a test once with the
classic canvas and once with Nodes 2.0) are defined here and imported by the test modules; they use the ``comfy_server``
fixture of conftest.py. Screenshots the tests keep as artefacts go to :data:`ARTIFACTS_DIR`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, NamedTuple

import pytest

CHROMIUM = Path(os.environ.get("EEI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 860}
#: The window every example workflow must open in with all its nodes in view (a common laptop browser window).
WORKFLOW_VIEWPORT = {"width": 1600, "height": 1000}
#: The frontend loads in 5-10 s on an idle 2-core box; a busy one can take minutes.
LOAD_TIMEOUT_MS = 240_000
#: The frontend's two node renderers: the classic LiteGraph canvas, and "Nodes 2.0" (Vue components, one DOM element a
#: node), chosen by the setting ``Comfy.VueNodes.Enabled``; the value is that setting.
RENDERERS = {"classic": False, "nodes2": True}
#: Where the browser tests keep the screenshots they take as artefacts (ignored by git); EEI_ARTIFACTS overrides it.
ARTIFACTS_DIR = Path(os.environ.get("EEI_ARTIFACTS", Path(__file__).resolve().with_name("artifacts")))


def settled(measure, timeout: float = 60.0):
    """``measure()`` once it is falsy (nothing wrong), or its last value after ``timeout`` seconds: the frontend
    renders a new node's parts over several frames, which take long on a busy machine."""
    deadline = time.monotonic() + timeout
    while (value := measure()) and time.monotonic() < deadline:
        time.sleep(0.25)
    return value


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None if they can."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}; run `bash .ci/install_browser.sh`"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is missing; run `bash .ci/install_browser.sh`"
    return None


def _skip_or_fail(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


_shared: dict[str, Any] = {"users": 0}


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium, shared by every test module that imports this fixture.

    Playwright's sync API allows one running instance per thread, and a fixture imported into two modules is two
    fixtures to pytest, so both hand out the same instance, which the last to finish closes.
    """
    reason = browser_missing()
    if reason:
        _skip_or_fail(reason)
    if _shared["users"] == 0:
        from playwright.sync_api import sync_playwright

        _shared["playwright"] = sync_playwright().start()
        _shared["browser"] = _shared["playwright"].chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    _shared["users"] += 1
    try:
        yield _shared["browser"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            _shared.pop("browser").close()
            _shared.pop("playwright").stop()


#: JavaScript: the page elements on top of the graph canvas, sampled every ``step`` pixels; with ``outermost``, each
#: hit is replaced by its outermost ancestor that does not hold the canvas (the toolbar, not the icon in its button).
_ELEMENTS_OVER_CANVAS = """(step, outermost) => {
    const canvas = app.canvas.canvas;
    const box = canvas.getBoundingClientRect();
    const found = new Set();
    for (let y = Math.max(box.top, 0) + step / 2; y < Math.min(box.bottom, innerHeight); y += step)
        for (let x = Math.max(box.left, 0) + step / 2; x < Math.min(box.right, innerWidth); x += step) {
            let hit = document.elementFromPoint(x, y);
            if (!hit || hit === canvas) continue;
            while (outermost && hit.parentElement && !hit.parentElement.contains(canvas)) hit = hit.parentElement;
            found.add(hit);
        }
    return [...found];
}"""


class Rect(NamedTuple):
    """A box on the page in CSS pixels."""

    left: float
    top: float
    right: float
    bottom: float

    def contains(self, other: Rect) -> bool:
        return (self.left <= other.left and self.top <= other.top
                and other.right <= self.right and other.bottom <= self.bottom)

    def overlaps(self, other: Rect) -> bool:
        return (self.left < other.right and other.left < self.right
                and self.top < other.bottom and other.top < self.bottom)


class Frontend:
    """A page with ComfyUI's frontend loaded, and the errors it logged."""

    def __init__(self, page, server):
        self.page = page
        self.server = server
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def wait(self, expression: str, timeout_ms: int = 30_000, arg: Any = None) -> Any:
        """Wait until the JS expression is truthy (the expression is wrapped so a function value is not called)."""
        return self.page.wait_for_function(f"(arg) => !!({expression})", arg=arg, timeout=timeout_ms)

    def load_workflow(self, workflow: dict) -> None:
        """``app.loadGraphData`` with the frontend's own missing-node check; the caller inspects the graph."""
        self.js("async (wf) => { await app.loadGraphData(wf, true, true, 'test'); }", workflow)

    def settle(self) -> None:
        """Wait two animation frames: a loaded workflow's saved view is applied and its nodes have their final sizes."""
        self.js("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")

    def missing_node_types(self) -> list[str]:
        """Types of nodes in the graph that the frontend has no definition for (what its missing-node dialog lists).

        The frontend keeps such nodes as placeholders flagged ``has_errors`` with ``last_serialization``; their type
        is absent from ``LiteGraph.registered_node_types``.
        """
        return self.js("""() => {
            const known = LiteGraph.registered_node_types;
            const missing = new Set();
            const visit = (graph) => {
                for (const n of graph._nodes ?? graph.nodes ?? []) {
                    if (!(n.type in known) || n.has_errors) missing.add(n.type);
                    if (n.subgraph) visit(n.subgraph);
                }
            };
            visit(app.graph);
            return [...missing].sort();
        }""")

    def graph_to_prompt(self) -> dict:
        """The API prompt the frontend would queue (``app.graphToPrompt().output``)."""
        return self.js("async () => (await app.graphToPrompt()).output")

    def canvas_rect(self) -> Rect:
        """The graph canvas element's box on the page, clipped to the window. In this frontend the canvas fills the
        window and the menus lie over it: see :meth:`canvas_overlays`."""
        return Rect(*self.js("""() => {
            const box = app.canvas.canvas.getBoundingClientRect();
            return [Math.max(box.left, 0), Math.max(box.top, 0),
                    Math.min(box.right, window.innerWidth), Math.min(box.bottom, window.innerHeight)];
        }"""))

    def canvas_overlays(self, step: int = 8) -> list[Rect]:
        """Boxes of the page elements drawn over the graph canvas (minimap, zoom buttons, floating menus).

        Found by asking the page which element is on top at every ``step`` pixels of the canvas; call it with an
        empty graph, or the nodes' own DOM widgets (text boxes, image previews) count as overlays too.
        """
        boxes = self.js(f"""(step) => ({_ELEMENTS_OVER_CANVAS})(step, false).map((e) => {{
            const r = e.getBoundingClientRect();
            return [r.left, r.top, r.right, r.bottom];
        }})""", step)
        found = {Rect(*b) for b in boxes}
        # An icon inside a button inside a toolbar: the toolbar's box says it all.
        return sorted(r for r in found if not any(o != r and o.contains(r) for o in found))

    def hide_canvas_overlays(self, step: int = 8) -> None:
        """Hide what the frontend draws over the canvas (menus, tabs, minimap, zoom buttons: the outermost elements
        :meth:`canvas_overlays` finds) and LiteGraph's render statistics, leaving the graph alone on the page."""
        self.js(f"""(step) => {{
            ({_ELEMENTS_OVER_CANVAS})(step, true).forEach((e) => {{ e.style.visibility = "hidden"; }});
            app.canvas.show_info = false;
        }}""", step)

    def graph_item_rects(self) -> dict[str, Rect]:
        """Page boxes of every node (title bar included) and group, as drawn at the canvas's current scale and offset
        (LiteGraph: canvas pixel = (graph position + ds.offset) * ds.scale), keyed by a readable name."""
        items = self.js("""() => {
            const box = app.canvas.canvas.getBoundingClientRect();
            const toPage = (x, y) => {
                const [cx, cy] = app.canvas.ds.convertOffsetToCanvas([x, y]);
                return [box.left + cx, box.top + cy];
            };
            const rect = (x, y, w, h) => [...toPage(x, y), ...toPage(x + w, y + h)];
            const title = LiteGraph.NODE_TITLE_HEIGHT;
            return [
                ...app.graph._nodes.map((n) => [`node ${n.id} ${n.title}`,
                                                 rect(n.pos[0], n.pos[1] - title, n.size[0], n.size[1] + title)]),
                ...app.graph._groups.map((g) => [`group ${g.title}`, rect(...g._bounding)]),
            ];
        }""")
        return {name: Rect(*box) for name, box in items}

    def use_renderer(self, renderer: str) -> None:
        """Switch the node renderer (a key of :data:`RENDERERS`) as a user does in the settings, and wait until the
        canvas uses it. The setting is saved on the server for the default user: switch back when done."""
        enabled = RENDERERS[renderer]
        self.js("async (on) => { await app.extensionManager.setting.set('Comfy.VueNodes.Enabled', on); }", enabled)
        self.wait("LiteGraph.vueNodesMode === arg", arg=enabled)

    def dismiss_toasts(self) -> None:
        """Close the notifications the frontend shows over the canvas (its toasts: with Nodes 2.0 switched on, "Prefer
        the legacy design?"), as a user does with their close button, and wait until they are gone."""
        self.settle()  # a toast the last action raised is on the page after the next frames
        for button in self.page.query_selector_all(".p-toast-message .p-toast-close-button"):
            button.click()
        self.wait("document.querySelectorAll('.p-toast-message').length === 0")

    def renderer(self) -> str:
        """The node renderer in use: "classic" or "nodes2"."""
        return "nodes2" if self.js("() => !!LiteGraph.vueNodesMode") else "classic"

    def node_element_rects(self) -> dict[int, Rect]:
        """Nodes 2.0: page boxes of the nodes' DOM elements (``[data-node-id]``), by node id."""
        boxes = self.js("""() => [...document.querySelectorAll('[data-node-id]')].map((e) => {
            const r = e.getBoundingClientRect();
            return [Number(e.dataset.nodeId), [r.left, r.top, r.right, r.bottom]];
        })""")
        return {node_id: Rect(*box) for node_id, box in boxes}

    def nodes_sticking_out(self, tolerance: float = 8) -> list[tuple[int, int]]:
        """Nodes 2.0: (node id, pixels) of the nodes whose content reaches past their element's right edge by more than
        ``tolerance`` (the frontend's own output sockets overlap it by 3 px): a widget that outgrew its node."""
        return [tuple(item) for item in self.js("""(tolerance) => [...document.querySelectorAll('[data-node-id]')]
            .map((node) => {
                const right = Math.max(...[...node.querySelectorAll('*')].map((e) => e.getBoundingClientRect().right));
                return [Number(node.dataset.nodeId), Math.round(right - node.getBoundingClientRect().right)];
            }).filter(([, over]) => over > tolerance)""", tolerance)]

    def node_rect(self, node_id: int, margin: float = 0) -> Rect:
        """Page box of node ``node_id`` as the current renderer shows it (its DOM element with Nodes 2.0, its title
        bar and body on the classic canvas), grown by ``margin`` pixels and clipped to the window."""
        if self.renderer() == "nodes2":
            box = self.node_element_rects()[node_id]
        else:
            box = next(r for name, r in self.graph_item_rects().items() if name.startswith(f"node {node_id} "))
        width, height = self.js("() => [window.innerWidth, window.innerHeight]")
        return Rect(max(0, box.left - margin), max(0, box.top - margin),
                    min(width, box.right + margin), min(height, box.bottom + margin))

    def title_click_point(self, node_id: int) -> tuple[float, float, str]:
        """A point on node ``node_id``'s title bar as the page lays it out now, and what a click there reaches: "node"
        when the page would deliver it to that node (no overlay, toast or side bar over it, the layout settled), else a
        description of what is there instead (for the message of a test that could not select the node)."""
        x, y, at = self.js("""(id) => {
            const nodes2 = !!LiteGraph.vueNodesMode;
            let x, y;
            if (nodes2) {
                const r = document.querySelector(`[data-node-id='${id}']`)?.getBoundingClientRect();
                if (!r) return [0, 0, 'no element for the node'];
                [x, y] = [r.left + 40, r.top + 12];
            } else {
                const node = app.graph.getNodeById(id);
                const box = app.canvas.canvas.getBoundingClientRect();
                const [cx, cy] = app.canvas.ds.convertOffsetToCanvas(
                    [node.pos[0] + 40, node.pos[1] - LiteGraph.NODE_TITLE_HEIGHT + 12]);
                [x, y] = [box.left + cx, box.top + cy];
            }
            const element = document.elementFromPoint(x, y);
            const name = element ? `${element.tagName.toLowerCase()}.${[...element.classList].join('.')}` : 'nothing';
            if (nodes2) {
                const hit = element?.closest('[data-node-id]');
                return [x, y, hit && Number(hit.dataset.nodeId) === id ? 'node' : name];
            }
            if (element !== app.canvas.canvas) return [x, y, name];
            const box = app.canvas.canvas.getBoundingClientRect();
            const [gx, gy] = app.canvas.ds.convertCanvasToOffset([x - box.left, y - box.top]);
            const under = app.graph.getNodeOnPos(gx, gy);
            return [x, y, under?.id === id ? 'node' : `canvas (node ${under?.id ?? 'none'} there)`];
        }""", node_id)
        return x, y, at

    def artifact(self, name: str, clip: Rect | None = None) -> Path:
        """Save a screenshot (the window, or the box ``clip``) as ``<ARTIFACTS_DIR>/<name>.png``, kept after the test
        for a person to look at; returns its path."""
        path = ARTIFACTS_DIR / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        options = {}
        if clip is not None:
            options["clip"] = {"x": clip.left, "y": clip.top, "width": clip.right - clip.left,
                               "height": clip.bottom - clip.top}
        self.page.screenshot(path=str(path), **options)
        return path

    def screenshot(self, name: str) -> Path | None:
        """Save a screenshot under $EEI_SCREENSHOTS (if set), for looking at what a test saw."""
        folder = os.environ.get("EEI_SCREENSHOTS")
        if not folder:
            return None
        path = Path(folder) / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))
        return path


def open_frontend(browser, server, viewport: dict[str, int] = VIEWPORT) -> Frontend:
    """Open the frontend of ``server`` in a new page (window size ``viewport``) and wait until the graph and this
    pack's nodes are registered. Close it with ``front.page.context.close()``."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    front = Frontend(page, server)
    # Readiness is the app's own state below, not the page's load event (which waits for every asset).
    page.goto(server.url, wait_until="commit")
    front.wait("window.app && window.app.graph && window.app.canvas && window.LiteGraph"
               " && LiteGraph.registered_node_types['ColorHint']", timeout_ms=LOAD_TIMEOUT_MS)
    front.wait("app.extensions.some((e) => e.name === 'EEI.ColorHintPicker')")
    # Start from an empty graph at a known zoom, so positions in the tests map to screen pixels plainly.
    front.js("() => { app.graph.clear(); app.canvas.ds.scale = 1; app.canvas.ds.offset = [0, 0]; }")
    return front


@pytest.fixture(params=list(RENDERERS))
def renderer(request, frontend):
    """Runs the test once with each node renderer ("classic", "nodes2") on the module's page; back to classic after."""
    frontend.use_renderer(request.param)
    try:
        yield request.param
    finally:
        frontend.use_renderer("classic")


@pytest.fixture(scope="module")
def frontend(browser, comfy_server):
    """A page with the frontend loaded (about 5-10 s on 2 cores), shared by the tests of a module."""
    front = open_frontend(browser, comfy_server)
    try:
        yield front
    finally:
        front.page.context.close()
