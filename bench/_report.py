"""Shared helpers for benchmark scripts: write one section of BENCHMARKS.md and describe the machine."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "BENCHMARKS.md"
HEADER = "# Benchmarks\n\nEvery table below was written by the script named in its section; rerun the command to refresh it.\n"


def machine_description(threads: bool = True) -> str:
    """One line naming CPU, thread count (unless ``threads`` is False: the commands say it) and torch build."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    using = f" using {torch.get_num_threads()} threads" if threads else ""
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}{using}{gpu}"


def write_section(name: str, markdown: str, path: Path = BENCHMARKS) -> None:
    """Replace (or append) the section between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` in BENCHMARKS.md."""
    text = path.read_text() if path.exists() else HEADER
    block = f"<!-- BEGIN {name} -->\n{markdown.rstrip()}\n<!-- END {name} -->"
    pattern = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    """A GitHub markdown table; floats are printed with two decimals."""

    def cell(v: object) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
