"""Redraw the example workflows' thumbnails (``example_workflows/*.jpg``, shown by ComfyUI's Templates browser) from
the real frontend, so they show the nodes as they are today. Run by hand after changing a node's inputs or a workflow:

    .venv/bin/python tests/comfy/draw_thumbnails.py

Starts a ComfyUI server with this pack (harness.py), opens each workflow in Chromium at the size the browser test
checks (1600x1000, its saved view), and saves the part of the canvas its nodes and groups cover, 640 pixels wide.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_util import CHROMIUM, CHROMIUM_ARGS, WORKFLOW_VIEWPORT, open_frontend
from harness import start_comfy_server

WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "example_workflows"
THUMBNAIL_WIDTH = 640
#: Canvas pixels kept around the nodes.
MARGIN = 12


def main() -> int:
    server = start_comfy_server()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            front = open_frontend(browser, server, WORKFLOW_VIEWPORT)
            canvas = front.canvas_rect()
            front.hide_canvas_overlays()
            for path in sorted(WORKFLOWS_DIR.glob("*.json")):
                front.load_workflow(json.loads(path.read_text()))
                front.settle()
                boxes = list(front.graph_item_rects().values())
                left = max(canvas.left, min(b.left for b in boxes) - MARGIN)
                top = max(canvas.top, min(b.top for b in boxes) - MARGIN)
                right = min(canvas.right, max(b.right for b in boxes) + MARGIN)
                bottom = min(canvas.bottom, max(b.bottom for b in boxes) + MARGIN)
                png = front.page.screenshot(clip={"x": left, "y": top, "width": right - left, "height": bottom - top})
                shot = Image.open(io.BytesIO(png)).convert("RGB")
                height = round(shot.height * THUMBNAIL_WIDTH / shot.width)
                thumb = shot.resize((THUMBNAIL_WIDTH, height), Image.LANCZOS)
                thumb.save(path.with_suffix(".jpg"), quality=88)
                print(f"{path.with_suffix('.jpg').name}: {thumb.width}x{thumb.height}")
            browser.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
