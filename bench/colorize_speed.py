"""Seconds per image of the `fast` and `paper` colorizers (not a test).

`fast` is timed end to end. `paper` takes tens of minutes per image on a 2-core CPU, so by default it is timed for
``--paper-steps`` training steps at every pyramid level and the published schedule (500/1000/1000 steps) is projected
from those per-step times; ``--paper-full`` times it end to end instead. The table says which was done.

    python -m bench.colorize_speed [--size 256x384] [--images 2] [--threads 2] [--paper-full]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from bench._report import machine_description, markdown_table, write_section
from bench.colorize_quality import DEFAULT_PHOTOS, load_photos, parse_size
from bench.masks import centre_rect_mask
from eei_core.internal.colorize import internal_colorize
from eei_core.internal.config import PRESETS, per_level, with_overrides
from eei_core.shared.color import to_mono


def time_call(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", default=str(DEFAULT_PHOTOS))
    parser.add_argument("--size", default="256x384")
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--paper-steps", type=int, default=20, help="steps timed per level for the projection")
    parser.add_argument("--paper-full", action="store_true", help="time paper end to end (tens of minutes)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    # Warm-up: the first optimizer construction imports torch's compiler stack once per process.
    warm = torch.rand(1, 3, 16, 16)
    internal_colorize(to_mono(warm), warm, centre_rect_mask(16, 16), config=with_overrides("fast", iterations=(1, 1)))

    rows = []
    paper = PRESETS["paper"]
    for name, img in load_photos(Path(args.photos), parse_size(args.size), args.images):
        h, w = img.shape[-2:]
        mask = centre_rect_mask(h, w)
        mono = to_mono(img)
        fast_s = time_call(lambda: internal_colorize(mono, img, mask, config="fast", device=args.device))
        if args.paper_full:
            paper_s = time_call(lambda: internal_colorize(mono, img, mask, config="paper", device=args.device))
            how = "end to end"
        else:
            # Per-level cost: time `paper_steps` steps on each level alone (the other levels get 1 step).
            paper_s = 0.0
            schedule = per_level(paper.iterations, paper.levels)
            base = time_call(lambda: internal_colorize(
                mono, img, mask, config=with_overrides(paper, iterations=(1,) * paper.levels), device=args.device))
            for level, steps in enumerate(schedule):
                its = [1] * paper.levels
                its[level] = 1 + args.paper_steps
                t = time_call(lambda: internal_colorize(
                    mono, img, mask, config=with_overrides(paper, iterations=tuple(its)), device=args.device))
                paper_s += (t - base) / args.paper_steps * steps
            paper_s += base
            how = f"projected from {args.paper_steps} timed steps per level"
        rows.append([name, f"{w}x{h}", fast_s, paper_s, paper_s / fast_s, how])
        print(rows[-1], flush=True)
    table = markdown_table(["image", "size", "fast s", "paper s", "paper / fast", "paper timing"], rows)
    cmd = "python -m bench.colorize_speed " + " ".join(argv if argv is not None else __import__("sys").argv[1:])
    text = f"## Colorizer speed\n\nCommand: `{cmd.strip()}`\n\nMachine: {machine_description()}\n\n{table}\n"
    print(text)
    if not args.no_write:
        write_section("colorize_speed", text)


if __name__ == "__main__":
    main()
