"""Inpainting quality on photos: EEI with its embedded PatchMatch against learning-free baselines.

Each photo gets seeded free-form brush-stroke holes (DeepFill v2 style, eei_core.shared.masks.mask_in_ratio_band) in three
hole-ratio bands, 10-20%, 20-40% and 40-60%. The hole's pixels are zeroed before any method sees them. Methods:

- ``eei``: the paper's pipeline with the embedded external stage: monochrome PatchMatch
  (eei_core.external.mono_inpaint.complete_mono), then InternalColorize (eei_core.internal.colorize.internal_colorize, ``--preset``).
- ``pm-rgb``: the same PatchMatch on the RGB image directly (channels matched jointly), no colour stage.
- ``telea``, ``ns``: OpenCV's Telea (fast marching) and Navier-Stokes inpainting, radius 3
  (``opencv-python-headless``, a benchmark-only dependency).

Scores against the original photo: PSNR and SSIM over the whole image and over the hole, PSNR of the monochrome in
the hole (how well the luminance alone was completed), and seconds per image. Run from the repository root::

    python -m bench.inpaint_quality --limit 4 --size 192

The mean table is printed and written into BENCHMARKS.md (section ``inpaint_quality``).
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from bench._report import REPO, machine_description, markdown_table, write_section
from bench.colorize_quality import load_photos, parse_size
from eei_core.external.patchmatch import patchmatch_complete
from eei_core.shared.color import to_mono
from eei_core.shared.masks import mask_in_ratio_band
from eei_core.shared.metrics import psnr, ssim

log = logging.getLogger("bench.inpaint_quality")

DEFAULT_PHOTOS = REPO.parent / "shared" / "data" / "dev" / "photos"
ALL_METHODS = ("eei", "pm-rgb", "telea", "ns")
#: Hole-area bands (fraction of the image) of the free-form masks.
BANDS = ((0.10, 0.20), (0.20, 0.40), (0.40, 0.60))
#: OpenCV inpainting radius in pixels (the value its documentation uses).
CV_RADIUS = 3

Inpainter = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class Row:
    image: str
    band: str
    method: str
    hole_ratio: float
    psnr: float
    psnr_hole: float
    ssim: float
    ssim_hole: float
    mono_psnr_hole: float
    seconds: float


def _opencv(flag_name: str) -> Inpainter:
    import cv2  # benchmark-only dependency: pip install -c .ci/constraints.txt opencv-python-headless

    flag = getattr(cv2, flag_name)

    def run(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        rgb = (image[0].permute(1, 2, 0).numpy() * 255.0 + 0.5).astype(np.uint8)
        hole = (mask[0, 0].numpy() > 0.5).astype(np.uint8) * 255
        out = cv2.inpaint(rgb, hole, CV_RADIUS, flag)
        return torch.from_numpy(out.astype(np.float32) / 255.0).permute(2, 0, 1)[None]

    return run


def make_inpainters(methods: list[str], preset: str, seed: int) -> dict[str, Inpainter]:
    out: dict[str, Inpainter] = {}
    for method in methods:
        if method == "eei":
            from eei_core.external.mono_inpaint import complete_mono
            from eei_core.internal.colorize import internal_colorize

            def eei(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
                mono = complete_mono(image, mask, seed=seed)
                return internal_colorize(mono, image, mask, config=preset, seed=seed)

            out[method] = eei
        elif method == "pm-rgb":
            out[method] = lambda image, mask: patchmatch_complete(image, mask, seed=seed)
        elif method == "telea":
            out[method] = _opencv("INPAINT_TELEA")
        elif method == "ns":
            out[method] = _opencv("INPAINT_NS")
        else:
            raise SystemExit(f"unknown method {method!r}; choose from {', '.join(ALL_METHODS)}")
    return out


def band_name(band: tuple[float, float]) -> str:
    return f"{band[0]:.0%}-{band[1]:.0%}"


def score(gt: torch.Tensor, out: torch.Tensor, mask: torch.Tensor) -> tuple[float, float, float, float, float]:
    gray = lambda t: to_mono(t).expand(-1, 3, -1, -1)  # noqa: E731 - metrics take 3 channels
    return psnr(out, gt), psnr(out, gt, mask), ssim(out, gt), ssim(out, gt, mask), psnr(gray(out), gray(gt), mask)


def save_strip(path: Path, tiles: list[torch.Tensor]) -> None:
    strip = torch.cat([t[0].clamp(0, 1) for t in tiles], dim=2).permute(1, 2, 0).numpy()
    Image.fromarray((strip * 255).round().astype(np.uint8)).save(path)


HEADER = ["hole", "method", "images", "PSNR", "PSNR hole", "SSIM", "SSIM hole", "mono PSNR hole", "s / image"]


def summarise(rows: list[Row], methods: list[str]) -> list[list]:
    table = []
    for band in BANDS:
        for method in methods:
            sel = [r for r in rows if r.band == band_name(band) and r.method == method]
            if not sel:
                continue

            def mean(field: str) -> float:
                return float(np.mean([getattr(r, field) for r in sel]))

            table.append(
                [band_name(band), method, len(sel), mean("psnr"), mean("psnr_hole"), f"{mean('ssim'):.4f}",
                 f"{mean('ssim_hole'):.4f}", mean("mono_psnr_hole"), mean("seconds")]
            )
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS, help="folder of photos (png/jpg)")
    parser.add_argument("--size", default="256",
                        help="N (longer side N, aspect kept) or 'HxW' (cover + centre crop); '0' = original size "
                        "(default 256)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N photos (0 = all)")
    parser.add_argument("--methods", default=",".join(ALL_METHODS), help=f"comma list of {','.join(ALL_METHODS)}")
    parser.add_argument("--preset", default="fast", help="InternalColorize preset of the eei method (default fast)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the masks and of the methods")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--save", type=Path, default=None, help="save a PNG strip (truth, input, methods) per case")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--verbose", "-v", action="store_true", help="log one line per image, band and method")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")

    torch.set_num_threads(args.threads)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    inpainters = make_inpainters(methods, args.preset, args.seed)
    size = None if args.size == "0" else parse_size(args.size)

    photos = load_photos(args.photos, size, args.limit)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)

    rows: list[Row] = []
    for name, gt in photos:
        for b, band in enumerate(BANDS):
            # Seeded by file name and band, so an image keeps its masks whatever --limit or the other files are.
            gen = torch.Generator().manual_seed(zlib.crc32(name.encode()) ^ (args.seed * 7919 + b))
            mask = mask_in_ratio_band(gt.shape[-2], gt.shape[-1], *band, gen)
            given = gt * (1.0 - mask)  # nothing of the hole reaches any method
            tiles = [gt, given + mask]
            for method, fn in inpainters.items():
                start = time.perf_counter()
                out = fn(given, mask).float().cpu().clamp(0.0, 1.0)
                seconds = time.perf_counter() - start
                row = Row(name, band_name(band), method, float(mask.mean()), *score(gt, out, mask), seconds)
                rows.append(row)
                tiles.append(out)
                log.info("%-18s %-7s %-6s hole %.2f PSNR %.2f hole %.2f SSIM %.4f mono hole %.2f %.1fs", name,
                         row.band, method, row.hole_ratio, row.psnr, row.psnr_hole, row.ssim, row.mono_psnr_hole,
                         seconds)
            if args.save:
                save_strip(args.save / f"{name}_{b}.png", tiles)

    size_text = "original size" if size is None else (f"longer side {size}" if isinstance(size, int) else
                                                      f"{size[0]}x{size[1]} (HxW, portrait swapped)")
    command = "python -m bench.inpaint_quality " + shlex.join(argv if argv is not None else sys.argv[1:])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    report = "\n".join([
        "## Inpainting quality (embedded external stage)\n",
        f"{len(photos)} colour photos from `{args.photos.name}/` at {size_text}; seeded DeepFill v2 free-form "
        "holes in three hole-ratio bands. eei = monochrome PatchMatch + InternalColorize "
        f"`{args.preset}`; pm-rgb = the same PatchMatch on RGB; telea / ns = OpenCV (radius {CV_RADIUS}). PSNR in "
        "dB; hole = over the hole only (SSIM map averaged over the hole); mono PSNR hole = luminance "
        "(0.30R+0.59G+0.11B) in the hole.\n",
        markdown_table(HEADER, summarise(rows, methods)),
        f"\nCommand: `{command}`  \nMachine: {machine_description()}; load average {load:.1f} at the end",
    ])
    print(report)
    if not args.no_write:
        write_section("inpaint_quality", report)


if __name__ == "__main__":
    main()
