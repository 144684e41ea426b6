#!/usr/bin/env bash
# Sets up everything the test suite needs, from nothing: the venv with torch first (pinned by .ci/constraints.txt so
# no later install replaces it), the package with its test extras, a real ComfyUI 0.3.75 and Debian's chromium.
# Idempotent: a second run only checks. Run from anywhere; works on the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
VENV="${VENV:-.venv}"
CONSTRAINTS="$PWD/.ci/constraints.txt"
export CONSTRAINTS VENV

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    "$VENV/bin/pip" install -q -c "$CONSTRAINTS" torch
fi
"$VENV/bin/pip" install -q -c "$CONSTRAINTS" -e ".[test]"
bash .ci/install_comfyui.sh
bash .ci/install_browser.sh
"$VENV/bin/python" -c "import torch; print('torch', torch.__version__)"
