"""Fixtures for tests against a real ComfyUI server (see harness.py).

``comfy_server`` starts ComfyUI once per test session (about 30 s on 2 cores) with this pack installed, and stops it
at the end. Without ComfyUI installed (``bash .ci/install_comfyui.sh``) the server tests are skipped, except under CI
(``CI`` set), where that is an error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# harness.py sits beside this file; the browser and workflow tests import it too, whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PROBE_NODES, ComfyServer, comfy_installed, start_comfy_server  # noqa: E402


@pytest.fixture(scope="session")
def comfy_server() -> Iterator[ComfyServer]:
    """A running ComfyUI with the pack (and the test-only probe nodes) in custom_nodes; ``.url``, ``.base_dir``,
    ``.port`` and API helpers."""
    if not comfy_installed():
        message = "ComfyUI is not installed; run `bash .ci/install_comfyui.sh` from the repo root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = start_comfy_server(extra_packs=(PROBE_NODES,))
    try:
        yield server
    finally:
        log_text = server.log_text(None)
        server.stop()
        # Leave the server's log where a failing CI run can be read afterwards.
        log_dir = Path(__file__).resolve().parents[2] / ".comfy"
        if log_dir.is_dir():
            (log_dir / "last-test-server.log").write_text(log_text)

