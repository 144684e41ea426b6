"""Start a real ComfyUI server with this pack installed, and drive it over HTTP and the websocket.

Used by the pytest fixture ``comfy_server`` (tests/comfy/conftest.py); usable on its own too::

    with start_comfy_server() as server:
        name = server.upload_image(pil_image, "photo.png")
        prompt_id = server.queue_prompt({"1": {"class_type": "LoadImage", "inputs": {"image": name}}, ...})
        entry = server.wait(prompt_id)
        image = server.output_images(entry, "3")[0]

The server runs ``.comfy/ComfyUI/main.py`` (installed by ``bash .ci/install_comfyui.sh``) on the CPU, listening on a
free loopback port, with a fresh base directory (models, input, output, temp, user, custom_nodes) in a temporary
folder; the repository root is symlinked into its ``custom_nodes`` as the pack. The server is stopped by its PID.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from PIL import Image

try:
    import requests
except ImportError:  # installed along with ComfyUI by .ci/install_comfyui.sh; comfy_installed() is False without it
    requests = None

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_COMFY_DIR = REPO_ROOT / ".comfy" / "ComfyUI"
LAUNCHER = Path(__file__).resolve().with_name("launch_comfyui.py")
#: The folder name the pack gets in ``custom_nodes`` (and so its module name inside ComfyUI).
PACK_NAME = "comfyui-eei"
#: Test-only nodes (tensors no core node makes: NaN, values outside 0..1, one channel); see probe_nodes/__init__.py.
PROBE_NODES = Path(__file__).resolve().with_name("probe_nodes")
#: Settings written for the default user, so the frontend opens without its first-run tutorial.
DEFAULT_SETTINGS = {"Comfy.TutorialCompleted": True}


class ComfyError(RuntimeError):
    """The server refused a prompt, or a prompt did not finish as expected. ``details`` holds the server's answer."""

    def __init__(self, message: str, details: Any = None):
        super().__init__(message)
        self.details = details


def comfy_installed(comfy_dir: Path = DEFAULT_COMFY_DIR) -> bool:
    """Whether ComfyUI (and this harness's HTTP client) is installed."""
    return requests is not None and (Path(comfy_dir) / "main.py").is_file()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ComfyServer:
    """A running ComfyUI process and helpers for its HTTP API. Create with :func:`start_comfy_server`."""

    def __init__(self, process: subprocess.Popen, port: int, base_dir: Path, log_path: Path, own_base_dir: bool):
        self.process = process
        self.port = port
        self.host = "127.0.0.1"
        self.base_dir = base_dir
        self.log_path = log_path
        self.client_id = uuid.uuid4().hex
        self._own_base_dir = own_base_dir
        self._http = requests.Session()

    # ----- plumbing -------------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws?clientId={self.client_id}"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def input_dir(self) -> Path:
        return self.base_dir / "input"

    @property
    def output_dir(self) -> Path:
        return self.base_dir / "output"

    @property
    def models_dir(self) -> Path:
        return self.base_dir / "models"

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self, tail: int | None = 6000) -> str:
        """The server's stdout and stderr so far (the last ``tail`` characters; None = all)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return text if tail is None else text[-tail:]

    def get(self, path: str, **kwargs) -> requests.Response:
        r = self._http.get(self.url + path, timeout=kwargs.pop("timeout", 30), **kwargs)
        r.raise_for_status()
        return r

    def post(self, path: str, **kwargs) -> requests.Response:
        return self._http.post(self.url + path, timeout=kwargs.pop("timeout", 30), **kwargs)

    # ----- API ------------------------------------------------------------------------------------------------------
    def object_info(self, node_class: str | None = None) -> dict:
        """``/object_info`` (all nodes) or the entry of one node class (raises KeyError if the server lacks it)."""
        if node_class is None:
            return self.get("/object_info").json()
        return self.get(f"/object_info/{node_class}").json()[node_class]

    def pack_nodes(self, pack: str = PACK_NAME) -> dict[str, dict]:
        """``/object_info`` entries of the nodes a custom node pack registers (this pack by default), by node id."""
        return {name: info for name, info in self.object_info().items()
                if info.get("python_module") == f"custom_nodes.{pack}"}

    def queue_prompt(self, prompt: dict, client_id: str | None = None) -> str:
        """POST /prompt; returns the prompt id. Raises :class:`ComfyError` (``details`` = the JSON answer) if the
        server rejects the prompt at validation."""
        body = {"prompt": prompt, "client_id": client_id or self.client_id}
        r = self.post("/prompt", json=body)
        if r.status_code != 200:
            try:
                details = r.json()
            except ValueError:
                details = r.text
            raise ComfyError(f"prompt rejected ({r.status_code}): {json.dumps(details)[:2000]}", details)
        return r.json()["prompt_id"]

    def history(self, prompt_id: str) -> dict | None:
        return self.get(f"/history/{prompt_id}").json().get(prompt_id)

    def wait(self, prompt_id: str, timeout: float = 60.0) -> dict:
        """Wait until the prompt has finished (successfully or not) and return its history entry.

        The entry has ``outputs`` (node id -> ui dict, e.g. ``{"images": [...]}``) and ``status`` with ``status_str``
        ("success" or "error") and ``messages`` (see :func:`execution_error`).
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            entry = self.history(prompt_id)
            if entry is not None and entry.get("status", {}).get("completed") is not None:
                status = entry["status"]
                if status.get("status_str") in ("success", "error") or status.get("completed"):
                    return entry
            if not self.alive():
                raise ComfyError(f"ComfyUI exited (code {self.process.returncode}):\n{self.log_text()}")
            time.sleep(0.05)
        raise TimeoutError(f"prompt {prompt_id} did not finish within {timeout}s; server log:\n{self.log_text()}")

    def run(self, prompt: dict, timeout: float = 60.0) -> dict:
        """Queue a prompt, wait for it, and raise :class:`ComfyError` (with the node's error message) if it failed."""
        entry = self.wait(self.queue_prompt(prompt), timeout)
        if entry["status"].get("status_str") != "success":
            err = execution_error(entry)
            message = err.get("exception_message") if err else json.dumps(entry["status"])[:2000]
            raise ComfyError(f"prompt failed: {message}", entry)
        return entry

    def view(self, filename: str, subfolder: str = "", type: str = "output") -> Image.Image:
        """GET /view: an image the server saved (output, temp or input folder), loaded fully."""
        r = self.get("/view", params={"filename": filename, "subfolder": subfolder, "type": type})
        image = Image.open(io.BytesIO(r.content))
        image.load()
        return image

    def output_images(self, entry: dict, node_id: str, key: str = "images") -> list[Image.Image]:
        """The images that node ``node_id`` (SaveImage, PreviewImage or a node with ui images) reported under ``key``
        of its ui output (ColorHint lists its image under its own key, for the picker)."""
        outputs = entry.get("outputs", {})
        if node_id not in outputs:
            raise ComfyError(f"node {node_id} has no outputs; nodes with outputs: {sorted(outputs)}", entry)
        return [self.view(i["filename"], i.get("subfolder", ""), i.get("type", "output"))
                for i in outputs[node_id].get(key, [])]

    def upload_image(self, image: Image.Image | bytes | str | Path, name: str, subfolder: str = "",
                     type: str = "input") -> str:
        """POST /upload/image (overwriting), returning the name as LoadImage expects it ("sub/name.png").

        ``image``: a PIL image (saved as PNG, alpha kept), PNG bytes, or a file path.
        """
        if isinstance(image, Image.Image):
            buf = io.BytesIO()
            image.save(buf, format="PNG")
            data = buf.getvalue()
        elif isinstance(image, (str, Path)):
            data = Path(image).read_bytes()
        else:
            data = image
        r = self.post("/upload/image", files={"image": (name, data, "image/png")},
                      data={"overwrite": "true", "type": type, "subfolder": subfolder})
        r.raise_for_status()
        answer = r.json()
        return f"{answer['subfolder']}/{answer['name']}" if answer.get("subfolder") else answer["name"]

    def interrupt(self, prompt_id: str | None = None) -> None:
        """POST /interrupt (the running prompt, or only ``prompt_id`` if it is the one running)."""
        r = self.post("/interrupt", json={"prompt_id": prompt_id} if prompt_id else {})
        r.raise_for_status()

    def queue(self) -> dict:
        """GET /queue: ``queue_running`` and ``queue_pending`` lists."""
        return self.get("/queue").json()

    def websocket(self, timeout: float = 30.0):
        """A connected ``websocket.WebSocket`` receiving this client's events (progress, executing, executed, ...).

        Prompts queued through this object use the same client id, so their events arrive here. Close it when done.
        """
        import websocket  # websocket-client, installed by .ci/install_comfyui.sh

        ws = websocket.WebSocket()
        ws.connect(self.ws_url, timeout=timeout)
        return ws

    # ----- lifetime -------------------------------------------------------------------------------------------------
    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server by its PID (terminate, then kill) and remove the base directory if it was made here."""
        self._http.close()
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self._own_base_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> ComfyServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def execution_error(entry: dict) -> dict | None:
    """The ``execution_error`` message of a history entry (keys ``node_type``, ``exception_type``,
    ``exception_message``, ``traceback``...), or None if the prompt did not fail."""
    for kind, data in entry.get("status", {}).get("messages", []):
        if kind == "execution_error":
            return data
    return None


def status_events(entry: dict) -> list[str]:
    """The kinds of status messages of a history entry, in order (e.g. execution_start, execution_interrupted)."""
    return [kind for kind, _ in entry.get("status", {}).get("messages", [])]


def resident_mib(pid: int) -> float:
    """Resident memory of process ``pid`` (the server: ``ComfyServer.pid``) in MiB, from /proc (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


def prepare_base_dir(base_dir: Path, settings: dict | None = None, pack_dir: Path = REPO_ROOT,
                     extra_packs: tuple[Path, ...] = ()) -> None:
    """Lay out a ComfyUI base directory: the pack (and ``extra_packs``, under their folder names) linked into
    custom_nodes and the default user's settings."""
    for sub in ("custom_nodes", "input", "output", "temp", "models/eei", "user/default"):
        (base_dir / sub).mkdir(parents=True, exist_ok=True)
    for name, target in ((PACK_NAME, pack_dir), *((Path(p).name, p) for p in extra_packs)):
        link = base_dir / "custom_nodes" / name
        if not link.exists():
            link.symlink_to(Path(target).resolve(), target_is_directory=True)
    settings_path = base_dir / "user" / "default" / "comfy.settings.json"
    settings_path.write_text(json.dumps({**DEFAULT_SETTINGS, **(settings or {})}, indent=2))


def start_comfy_server(
    comfy_dir: Path | str = DEFAULT_COMFY_DIR,
    base_dir: Path | str | None = None,
    port: int | None = None,
    settings: dict | None = None,
    extra_args: tuple[str, ...] = (),
    startup_timeout: float = 240.0,
    pack_dir: Path | str = REPO_ROOT,
    extra_packs: tuple[Path | str, ...] = (),
) -> ComfyServer:
    """Start ComfyUI and wait until it answers.

    Args:
        comfy_dir: the ComfyUI checkout (default ``.comfy/ComfyUI``, from ``bash .ci/install_comfyui.sh``).
        base_dir: ComfyUI's base directory; default a new temporary folder, removed again by ``stop()``.
        port: default a free port.
        settings: extra frontend settings for the default user (merged over :data:`DEFAULT_SETTINGS`).
        extra_args: more ``main.py`` arguments.
        startup_timeout: seconds to wait for the server (importing ComfyUI takes ~30 s on 2 cores).
        pack_dir: the node pack linked into custom_nodes (default this repository).
        extra_packs: more node pack folders linked into custom_nodes (e.g. :data:`PROBE_NODES`).

    Raises:
        ComfyError: ComfyUI is missing, exited during start-up, or did not answer in time (with its log).
    """
    comfy_dir = Path(comfy_dir).resolve()
    if not comfy_installed(comfy_dir):
        raise ComfyError(f"no ComfyUI at {comfy_dir}; install it with `bash .ci/install_comfyui.sh` from the repo root")
    own_base_dir = base_dir is None
    base_dir = Path(tempfile.mkdtemp(prefix="eei-comfy-")) if base_dir is None else Path(base_dir).resolve()
    prepare_base_dir(base_dir, settings, Path(pack_dir), tuple(Path(p) for p in extra_packs))
    port = port or free_port()
    log_path = base_dir / "comfyui.log"
    cmd = [
        sys.executable, str(LAUNCHER), str(comfy_dir),
        "--cpu", "--listen", "127.0.0.1", "--port", str(port),
        "--base-directory", str(base_dir),
        "--database-url", f"sqlite:///{base_dir}/user/comfyui.db",
        "--disable-api-nodes",
        *extra_args,
    ]
    # One torch thread: the pack's small networks gain little from more, and a multi-threaded torch slows down by an
    # order of magnitude when the CPU is shared (a browser, other tests, a 2-core CI box). EEI_COMFY_THREADS overrides.
    threads = os.environ.get("EEI_COMFY_THREADS", "1")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=comfy_dir, env=env)
    server = ComfyServer(process, port, base_dir, log_path, own_base_dir)
    log.info("starting ComfyUI (pid %d) on %s, base directory %s", process.pid, server.url, base_dir)
    deadline = time.monotonic() + startup_timeout
    while True:
        if not server.alive():
            text = server.log_text(None)
            server.stop()
            raise ComfyError(f"ComfyUI exited during start-up (code {process.returncode}):\n{text[-8000:]}")
        try:
            if requests.get(server.url + "/system_stats", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            text = server.log_text(None)
            server.stop()
            raise ComfyError(f"ComfyUI did not answer within {startup_timeout}s:\n{text[-8000:]}")
        time.sleep(0.25)


if __name__ == "__main__":  # `python tests/comfy/harness.py`: a server to look at by hand, until Ctrl-C
    logging.basicConfig(level=logging.INFO)
    with start_comfy_server() as running:
        print(f"ComfyUI with the EEI pack: {running.url} (base directory {running.base_dir}); Ctrl-C stops it")
        try:
            running.process.wait()
        except KeyboardInterrupt:
            pass
