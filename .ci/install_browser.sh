#!/usr/bin/env bash
# Install what the browser tests (tests/comfy/test_browser*.py, tests/comfy/test_workflows.py) need: Debian's
# chromium and the playwright Python package, which drives it. Playwright's own browser download is never used (no
# `playwright install`): the tests launch /usr/bin/chromium through executable_path.
#
# Usage (from the repo root, as root, after the venv exists): bash .ci/install_browser.sh
# Environment: VENV (default .venv), CONSTRAINTS (a pip constraints file; by default one pinning the torch already
# installed in the venv, so pip never replaces it). Idempotent: a second run only checks.
set -euo pipefail

VENV="${VENV:-.venv}"
PY="$VENV/bin/python"

if [ ! -x /usr/bin/chromium ]; then
    echo "install_browser: installing chromium (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

if ! "$PY" -c "import playwright" 2>/dev/null; then
    echo "install_browser: installing playwright (pip)"
    WORK="$(mktemp -d)"
    trap 'rm -rf "$WORK"' EXIT
    if [ -z "${CONSTRAINTS:-}" ]; then
        CONSTRAINTS="$WORK/constraints.txt"
        "$PY" -c 'import torch; print("torch==" + torch.__version__.split("+")[0])' > "$CONSTRAINTS"
    fi
    "$PY" -m pip install --disable-pip-version-check -q -c "$CONSTRAINTS" playwright
fi

# Debian's chromium wrapper script prints a harmless shell warning on some machines; only the version line matters.
/usr/bin/chromium --version 2>/dev/null
"$PY" -c "import playwright, importlib.metadata as m; print('install_browser: playwright', m.version('playwright'))"
