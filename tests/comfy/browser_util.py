"""Drive ComfyUI's real frontend in Debian's Chromium with Playwright, for the browser and workflow tests.

Install what this needs with ``bash .ci/install_browser.sh`` (apt ``chromium`` + the ``playwright`` package; never
``playwright install``: the tests launch ``/usr/bin/chromium``). Pytest fixtures ``browser`` (one Chromium for the
test session) and ``frontend`` (a page with the frontend loaded, per test module) are defined here and imported by the test
modules; they use the ``comfy_server`` fixture of conftest.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("EEI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 860}
#: The frontend loads in 5-10 s on an idle 2-core box; a busy one can take minutes.
LOAD_TIMEOUT_MS = 240_000


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

    def screenshot(self, name: str) -> Path | None:
        """Save a screenshot under $EEI_SCREENSHOTS (if set), for looking at what a test saw."""
        folder = os.environ.get("EEI_SCREENSHOTS")
        if not folder:
            return None
        path = Path(folder) / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))
        return path


def open_frontend(browser, server) -> Frontend:
    """Open the frontend of ``server`` in a new page and wait until the graph and this pack's nodes are registered."""
    context = browser.new_context(viewport=VIEWPORT)
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


@pytest.fixture(scope="module")
def frontend(browser, comfy_server):
    """A page with the frontend loaded (about 5-10 s on 2 cores), shared by the tests of a module."""
    front = open_frontend(browser, comfy_server)
    try:
        yield front
    finally:
        front.page.context.close()
