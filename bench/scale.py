"""Seconds and peak memory of the internal stage at the sizes people inpaint at (512 px to 4096 px).

For each size a photo is resized to a square of that side and given a seeded free-form hole covering 10%-25% of it
(eei_core.shared.masks; ``--hole 0.23,0.25`` for another band). Methods:

- ``recolorize``: RecolorizeAny (``eei_core.recolorize``, its default preset ``learned``, with ``original``) on an inpainter output
  whose hole has the photo's luminance and a colour cast (the bleeding it exists to remove);
- ``colorize`` / ``colorize-learned``: InternalColorize (``internal_colorize``, ``fast`` / ``learned``) from the photo's
  mono and its known colours; ``colorize-full``: ``fast`` with ``working_size=0``, the exact solve at full resolution
  whatever the hole's size;
- ``levin``: Levin et al. 2004's closed form (bench/levin.py, an exact sparse LU solve at full size), the 2004
  baseline.

Every measurement runs alone, in a fresh child process (so peak memory is that call's and nothing else runs beside
it), with ``--threads`` torch threads. Peak memory is the process's peak resident set size (``ru_maxrss``) and what the
call added to the resident size it started with (inputs already made); on a GPU, torch's peak allocation. A child that
exceeds ``--timeout`` is reported as not finished. Hole PSNR against the photo is printed as a sanity check.

    python -m bench.scale --sizes 512,1024,2048,4096 --threads 2

The table (and the cost curve, seconds per megapixel) is written into BENCHMARKS.md, section ``scale``, and a plot of
seconds against megapixels into bench/gallery/scale_curve.png.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
import zlib
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``eei_core`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import REPO, machine_description, markdown_table, write_section

DEFAULT_PHOTO = REPO.parent / "shared" / "data" / "dev" / "diffusion_pairs" / "comfyex_sd2inpaint_cat" / "image.png"
METHODS = ("recolorize", "colorize", "colorize-full", "colorize-learned", "levin")
HOLE_BAND = (0.10, 0.25)
#: Address-space limit of a Levin child (bytes).
LEVIN_MEMORY_LIMIT = 16 * 2**30
GALLERY = REPO / "bench" / "gallery"


def load_square(path: Path | None, side: int):
    """``[1, 3, side, side]`` in 0..1: the photo centre-cropped to a square and resized (scikit-image's astronaut when
    ``path`` is missing)."""
    import numpy as np
    import torch
    from PIL import Image

    if path is not None and path.is_file():
        img = Image.open(path).convert("RGB")
    else:
        from skimage import data

        img = Image.fromarray(data.astronaut())
    s = min(img.size)
    left, top = (img.width - s) // 2, (img.height - s) // 2
    img = img.crop((left, top, left + s, top + s)).resize((side, side), Image.BICUBIC)
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)[None].contiguous()


def child(method: str, side: int, threads: int, device: str, photo: Path | None, seed: int,
          hole_band: tuple[float, float] = HOLE_BAND) -> dict:
    """One measurement, in this (fresh) process."""
    import resource

    import torch

    from eei_core.shared.color import luma_chroma, rgb_from_luma_chroma, to_mono
    from eei_core.shared.masks import mask_in_ratio_band
    from eei_core.shared.metrics import psnr

    torch.set_num_threads(threads)
    truth = load_square(photo, side)
    gen = torch.Generator().manual_seed(zlib.crc32(f"scale{side}".encode()) ^ seed)
    mask = mask_in_ratio_band(side, side, *hole_band, gen)
    luma, chroma = luma_chroma(truth)
    cast = torch.tensor([0.06, -0.04]).view(1, 2, 1, 1)
    bled = rgb_from_luma_chroma(luma, chroma + mask * cast).clamp(0, 1)
    dev = torch.device(device)
    if method == "levin":
        # An exact LU of millions of unknowns can outgrow the machine; fail with MemoryError instead of the OOM killer.
        resource.setrlimit(resource.RLIMIT_AS, (LEVIN_MEMORY_LIMIT, LEVIN_MEMORY_LIMIT))
    else:
        _warm_up(method, dev)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    base_kb = _rss_kb()
    start = time.perf_counter()
    if method == "recolorize":
        from eei_core.pipelines.recolorize import recolorize

        out = recolorize(bled, mask, original=truth, device=dev)
    elif method in ("colorize", "colorize-full", "colorize-learned"):
        from eei_core.internal.colorize import internal_colorize

        preset = "learned" if method == "colorize-learned" else "fast"
        working_size = 0 if method == "colorize-full" else None
        out = internal_colorize(to_mono(truth), truth * (1 - mask), mask, config=preset, device=dev,
                                working_size=working_size)
    elif method == "levin":
        from bench.levin import levin_colorize_tensor

        out = levin_colorize_tensor(to_mono(truth), truth * (1 - mask), mask)
    else:
        raise SystemExit(f"unknown method {method!r}")
    if dev.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "method": method,
        "side": side,
        "hole": float(mask.mean()),
        "seconds": seconds,
        "peak_mib": peak_kb / 1024,
        "added_mib": max(peak_kb - base_kb, 0) / 1024,
        "gpu_peak_mib": torch.cuda.max_memory_allocated() / 2**20 if dev.type == "cuda" else None,
        "psnr_hole": psnr(out.float().cpu().clamp(0, 1), truth, mask),
        "threads": torch.get_num_threads(),
    }


def _warm_up(method: str, device) -> None:
    """One tiny call first: the first optimizer of a process imports torch's compiler stack (about 2 s), which a
    running ComfyUI has paid once; the table shows the cost of a call in a warm process."""
    import torch

    from eei_core.internal.colorize import internal_colorize
    from eei_core.internal.config import with_overrides

    img = torch.rand(1, 3, 48, 48)
    hole = torch.zeros(1, 1, 48, 48)
    hole[..., 16:32, 16:32] = 1
    internal_colorize(img.mean(1, keepdim=True), img, hole, config=with_overrides("learned", iterations=(1, 1)),
                      device=device)


def _rss_kb() -> int:
    """The current resident set size in kB (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def parse_hole_band(text: str) -> tuple[float, float]:
    lo, hi = (float(v) for v in text.split(","))
    return lo, hi


def run_child(method: str, side: int, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, "-m", "bench.scale", "--child", method, str(side), "--threads", str(args.threads),
           "--device", args.device, "--seed", str(args.seed), "--hole", args.hole]
    if args.photo:
        cmd += ["--photo", str(args.photo)]
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"method": method, "side": side, "error": f"not finished in {args.timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"method": method, "side": side, "error": f"failed: {tail[:120]}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cost_curve_png(rows: list[dict], path: Path) -> None:
    """Seconds against megapixels, one line per method, drawn with PIL (no plotting dependency)."""
    from PIL import Image, ImageDraw

    ok = [r for r in rows if "seconds" in r]
    if not ok:
        return
    width, height, pad = 640, 400, 50
    max_mp = max(r["side"] ** 2 / 1e6 for r in ok)
    max_s = max(r["seconds"] for r in ok) * 1.1
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.line([(pad, pad), (pad, height - pad), (width - pad, height - pad)], fill="black")

    def xy(mp: float, s: float) -> tuple[float, float]:
        return pad + mp / max_mp * (width - 2 * pad), height - pad - s / max_s * (height - 2 * pad)

    colours = {"recolorize": (200, 40, 40), "colorize": (40, 120, 200), "levin": (60, 160, 60)}
    for i, method in enumerate(m for m in METHODS if any(r["method"] == m for r in ok)):
        pts = sorted((r["side"] ** 2 / 1e6, r["seconds"]) for r in ok if r["method"] == method)
        colour = colours.get(method, (0, 0, 0))
        draw.line([xy(*p) for p in pts], fill=colour, width=2)
        for p in pts:
            x, y = xy(*p)
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=colour)
        draw.text((width - pad - 120, pad + 14 * i), method, fill=colour)
    draw.text((pad, height - pad + 8), f"0 .. {max_mp:.1f} megapixels", fill="black")
    draw.text((pad + 4, pad - 16), f"seconds (0 .. {max_s:.0f})", fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def report(rows: list[dict], args: argparse.Namespace, argv: list[str]) -> str:
    table = []
    for r in rows:
        mp = r["side"] ** 2 / 1e6
        if "error" in r:
            table.append([r["method"], f"{r['side']}x{r['side']}", f"{mp:.2f}", "-", r["error"], "-", "-", "-", "-"])
            continue
        gpu = "-" if r.get("gpu_peak_mib") is None else f"{r['gpu_peak_mib']:.0f}"
        table.append([r["method"], f"{r['side']}x{r['side']}", f"{mp:.2f}", f"{r['hole']:.0%}", r["seconds"],
                      f"{r['seconds'] / mp:.2f}", f"{r['peak_mib']:.0f} / {r['added_mib']:.0f}", gpu,
                      f"{r['psnr_hole']:.2f}"])
    header = ["method", "size", "MPix", "hole", "seconds", "s / MPix", "peak RSS / added (MiB)", "GPU peak (MiB)",
              "PSNR hole"]
    command = "python -m bench.scale " + shlex.join(argv)
    band = parse_hole_band(args.hole)
    parts = [
        "## Scale: seconds and memory at 512 px to 4096 px\n",
        "A photo (`" + (args.photo.name if args.photo else "astronaut") + "`, centre square, resized) with a seeded "
        f"free-form hole of {band[0]:.0%}-{band[1]:.0%}. `recolorize` = RecolorizeAny (its default "
        "preset, `learned`) with `original` on a colour-cast hole; `colorize` = InternalColorize `fast` (the "
        "propagation at full resolution up to 1,000,000 hole pixels, at the working size above); `colorize-full` = "
        "`fast` with `working_size` 0 (the exact solve at full resolution at any size); `colorize-learned` = "
        "InternalColorize `learned`; `levin` = Levin 2004 closed form (exact sparse LU of the whole image's system, "
        "bench/levin.py, limited to 16 GiB). Each call alone in a fresh process, after a "
        "tiny warm-up call (a process's first call also imports torch's compiler stack, about 2 s once); peak RSS is "
        "the process's, added = what the call added to the inputs already in memory.\n",
        markdown_table(header, table),
        "\n![seconds against megapixels](bench/gallery/scale_curve.png)\n",
        f"Command: `{command}`  \nMachine: {machine_description(threads=False)}, {args.threads} torch threads, "
        f"device {args.device}",
    ]
    return "\n".join(parts)


CONTEXTS = (0.25, 0.5, 1.0, 2.0, None)


def context_study(args: argparse.Namespace, argv: list[str]) -> str:
    """How much context the crop needs: RecolorizeAny and InternalColorize (fast, at full size so only the crop
    differs) on the tune-half dev photos with a small hole, cropped with each context of :data:`CONTEXTS` (in multiples
    of the hole's longer side; None = the whole image): hole PSNR against the photo, and against the uncropped
    result."""
    import torch

    from bench.colorize_quality import DEFAULT_PHOTOS, load_photos
    from bench.split import split_of
    from eei_core.internal.colorize import internal_colorize
    from eei_core.internal.config import with_overrides
    from eei_core.pipelines.recolorize import recolorize
    from eei_core.shared.color import luma_chroma, rgb_from_luma_chroma, to_mono
    from eei_core.shared.masks import mask_in_ratio_band
    from eei_core.shared.metrics import psnr

    torch.set_num_threads(args.threads)
    photos = [(n, p) for n, p in load_photos(DEFAULT_PHOTOS, None) if split_of(n) == "tune"][: args.context_photos]
    sums: dict[tuple[str, object], list[float]] = {}
    for name, truth in photos:
        h, w = truth.shape[-2:]
        gen = torch.Generator().manual_seed(zlib.crc32(f"context:{name}".encode()) ^ args.seed)
        mask = torch.zeros(1, 1, h, w)
        sub = mask_in_ratio_band(h // 3, w // 3, 0.3, 0.4, gen)  # a hole of 3-4% of the image, off-centre
        mask[..., h // 6 : h // 6 + h // 3, w // 2 : w // 2 + w // 3] = sub
        luma, chroma = luma_chroma(truth)
        bled = rgb_from_luma_chroma(luma, chroma + mask * torch.tensor([0.06, -0.04]).view(1, 2, 1, 1)).clamp(0, 1)
        for method in ("recolorize", "colorize"):
            outs = {}
            for context in CONTEXTS:
                cfg = with_overrides("fast", working_size=0, context=context)
                start = time.perf_counter()
                if method == "recolorize":
                    out = recolorize(bled, mask, original=truth, config=cfg)
                else:
                    out = internal_colorize(to_mono(truth), truth * (1 - mask), mask, config=cfg)
                seconds = time.perf_counter() - start
                outs[context] = out
                sums.setdefault((method, context), []).append((psnr(out, truth, mask), seconds))
            for context in CONTEXTS:
                sums[(method, context)][-1] += (psnr(outs[context], outs[None], mask),)
            print(name, method, [f"{c}: {sums[(method, c)][-1][0]:.2f}" for c in CONTEXTS], flush=True)
    rows = []
    for (method, context), values in sums.items():
        n = len(values)
        to_whole = [v[2] for v in values]
        rows.append([method, "whole image" if context is None else f"{context:g} x hole side",
                     sum(v[0] for v in values) / n, "-" if context is None else f"{min(to_whole):.1f}",
                     sum(v[1] for v in values) / n])
    command = "python -m bench.scale " + shlex.join(argv)
    return "\n".join([
        "### How much context the crop needs\n",
        f"{len(photos)} tune-half dev photos at native size, a free-form hole of 3-4% placed off-centre; `fast` at full "
        "size (working_size 0) so that only the crop differs. PSNR vs whole = the lowest, over the photos, hole PSNR "
        "between the cropped result and the uncropped one.\n",
        markdown_table(["method", "context", "PSNR hole", "lowest PSNR vs whole", "s / image"], rows),
        f"\nCommand: `{command}`  \nMachine: {machine_description(threads=False)}, {args.threads} torch threads",
    ])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="512,1024,2048,4096", help="comma list of square sides")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma list of {','.join(METHODS)}")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--photo", type=Path, default=DEFAULT_PHOTO if DEFAULT_PHOTO.is_file() else None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hole", default=f"{HOLE_BAND[0]},{HOLE_BAND[1]}",
                        help="the seeded free-form hole covers between these fractions of the image (default 0.1,0.25)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a measurement is abandoned")
    parser.add_argument("--csv", type=Path, default=None, help="also write the rows as JSON lines here")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md and the plot")
    parser.add_argument("--context-study", action="store_true",
                        help="measure how much context the crop needs instead (section scale_context)")
    parser.add_argument("--context-photos", type=int, default=6, help="photos in the context study")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.context_study:
        text = context_study(args, argv)
        print(text)
        if not args.no_write:
            write_section("scale_context", text)
        return
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.threads, args.device, args.photo, args.seed,
                               parse_hole_band(args.hole))))
        return
    rows = []
    for side in (int(s) for s in args.sizes.split(",")):
        for method in (m.strip() for m in args.methods.split(",") if m.strip()):
            row = run_child(method, side, args)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.csv:
        args.csv.write_text("".join(json.dumps(r) + "\n" for r in rows))
    text = report(rows, args, argv)
    print(text)
    if not args.no_write:
        cost_curve_png(rows, GALLERY / "scale_curve.png")
        write_section("scale", text)


if __name__ == "__main__":
    main()
