"""Colorization quality on photos (the paper's Table 3 protocol): how well is colour restored in a hole?

Each photo is converted to its monochrome (0.30R + 0.59G + 0.11B), which is given everywhere; colour is given only
outside a hole. A colorizer fills in the hole's colour and is scored against the original photo (PSNR over the whole
image and over the hole, SSIM, CIE a*b* chroma error in the hole, seconds per image). Holes: a centred rectangle of
22.5% of the area and irregular DeepFill v2 free-form strokes covering 20-25% (seeded per image).

Methods: ``fast``, ``learned`` and ``paper`` (the presets of eei_core.internal.colorize.internal_colorize:
propagation at full resolution, plus the learned correction, the published method), ``working`` (``fast``'s
propagation solved at the working size and brought up along the luminance, the pre-full-resolution path, which large
holes still take), ``levin`` (Levin et al. 2004, bench/levin.py: an exact solve at full size, out-of-gamut colours
desaturated at their luminance as the colorizer does, so the two compare as methods), ``levin-clip`` (the same with
RGB clipped as in the authors' code) and ``mean`` (mean chroma of the known pixels, bench/baselines.py).
A second table pairs ``learned`` with ``fast`` image by image: what the learned correction earns for its seconds.

Photos are reported in two halves (bench/split.py): ``tune``, the only ones tuning decisions look at, and
``held-out``, never tuned on.

Run from the repository root::

    python -m bench.colorize_quality --methods fast,learned,levin,levin-clip,mean,paper --paper-limit 3
    python -m bench.colorize_quality --hires --methods fast,learned,working,levin,levin-clip   # native size
    python -m bench.colorize_quality --places2 --methods fast,learned,levin,levin-clip          # Places2, 256x256

The mean table is printed and written into BENCHMARKS.md (section ``colorize_quality``,
``colorize_quality_hires`` or ``colorize_quality_places2``); ``--csv`` keeps per-image rows. ``paper`` takes many minutes per image on a CPU, hence ``--paper-limit`` (and ``--fast-limit``); when a method ran on
fewer images, a second table compares every method on that common subset.
"""

from __future__ import annotations

import argparse
import functools
import csv
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
from bench.baselines import mean_chroma_fill
from bench.levin import levin_colorize_tensor
from bench.masks import DEFAULT_AREA, centre_rect_mask
from bench.split import SPLITS, split_of
from eei_core.shared.color import to_mono
from eei_core.shared.masks import mask_in_ratio_band
from eei_core.shared.metrics import lab_chroma_error, psnr, ssim

log = logging.getLogger("bench.colorize_quality")

DEFAULT_PHOTOS = REPO.parent / "shared" / "data" / "dev" / "photos"
ALL_METHODS = ("paper", "fast", "learned", "working", "levin", "levin-clip", "mean")
DEV = REPO.parent / "shared" / "data" / "dev"
#: The largest real photos in the dev data, for the native-size row: the originals of the diffusion pairs (the four
#: comfyex cases share one Yosemite photo; the outpainting one is padded with grey, so left out) and the two largest
#: Set14 photos.
HIRES_PHOTOS = (
    DEV / "diffusion_pairs" / "comfyex_sd2inpaint_cat" / "image.png",
    DEV / "diffusion_pairs" / "kolors_inpaint_4" / "image.png",
    DEV / "diffusion_pairs" / "inpaintanything_fill_sample4" / "image.png",
    DEV / "photos" / "set14_barbara.png",
    DEV / "photos" / "set14_monarch.png",
)
#: The Places2 validation photos of the MI-GAN pairs (ground truth only), for the paper's 256x256 protocol.
PLACES2_FOLDERS = tuple(DEV / "migan_pairs" / f / "images" for f in (
    "places2_256_freeform", "places2_512_freeform", "places2_512_object"))
MASK_KINDS = ("rect", "free")
#: Set14 files that are not photographs (a drawing and a slide screenshot); left out unless --include-non-photos.
NON_PHOTOS = ("comic", "ppt3")
#: Hole-area band of the free-form masks, around the rectangle's 22.5% so the two kinds compare.
FREE_FORM_BAND = (0.20, 0.25)
#: Photos whose channels never differ by more than this (after resizing) are gray and skipped.
GRAY_TOLERANCE = 2.0 / 255.0

Colorizer = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class Row:
    image: str
    mask: str
    method: str
    psnr: float
    psnr_hole: float
    ssim: float
    ssim_hole: float
    chroma_hole: float
    seconds: float


def parse_size(text: str) -> tuple[int, int] | int:
    """``"384"`` -> longer side 384 (aspect kept); ``"256x384"`` -> exactly 256 x 384 (H x W) for landscape photos
    and 384 x 256 for portrait ones (resized to cover, then centre-cropped)."""
    if "x" in text:
        h, w = text.lower().split("x", 1)
        return int(h), int(w)
    return int(text)


def load_photo(path: Path, size: tuple[int, int] | int | None) -> torch.Tensor | None:
    """The photo as ``[1, 3, H, W]`` in 0..1 at the benchmark size, or None if it is not an RGB colour image."""
    img = Image.open(path)
    if img.mode != "RGB":
        log.info("skipping %s: mode %s, not RGB", path.name, img.mode)
        return None
    if isinstance(size, int):
        scale = size / max(img.size)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.BICUBIC)
    elif size is not None:
        h, w = size
        if img.height > img.width:  # keep the photo's orientation
            h, w = max(h, w), min(h, w)
        else:
            h, w = min(h, w), max(h, w)
        scale = max(w / img.width, h / img.height)
        img = img.resize((max(w, round(img.width * scale)), max(h, round(img.height * scale))), Image.BICUBIC)
        left, top = (img.width - w) // 2, (img.height - h) // 2
        img = img.crop((left, top, left + w, top + h))
    arr = np.asarray(img, dtype=np.float32) / 255.0
    if float((arr.max(-1) - arr.min(-1)).max()) < GRAY_TOLERANCE:
        # A gray picture saved as RGB (Set14's man.png) has nothing to colorize and PSNRs near 160 dB that would
        # swamp the means.
        log.info("skipping %s: RGB file with gray content", path.name)
        return None
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous()


def load_photos(
    folder: Path | list[Path], size: tuple[int, int] | int | None, limit: int = 0, include_non_photos: bool = False
) -> list[tuple[str, torch.Tensor]]:
    """``(name, [1, 3, H, W])`` for the RGB colour photos of ``folder`` in name order (or the files listed), at most
    ``limit`` (0 = all). A photo named ``image`` is named after its folder."""
    if isinstance(folder, list):
        paths = [p for p in folder if p.is_file()]
    else:
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".tif"))
    if not include_non_photos:
        paths = [p for p in paths if not any(p.stem.endswith(n) for n in NON_PHOTOS)]
    photos: list[tuple[str, torch.Tensor]] = []
    for p in paths:
        img = load_photo(p, size)
        if img is not None:
            photos.append((p.parent.name if p.stem == "image" else p.stem, img))
        if limit and len(photos) >= limit:
            break
    if not photos:
        raise SystemExit(f"no RGB photos found in {folder if isinstance(folder, Path) else 'the listed files'}")
    return photos


def make_mask(kind: str, height: int, width: int, name: str, seed: int) -> torch.Tensor:
    if kind == "rect":
        return centre_rect_mask(height, width, DEFAULT_AREA)
    # Seeded by file name so an image keeps its mask whatever --limit or the folder's other files are.
    gen = torch.Generator().manual_seed(zlib.crc32(name.encode()) ^ seed)
    return mask_in_ratio_band(height, width, *FREE_FORM_BAND, gen)


def make_colorizers(methods: list[str], seed: int, device: str | None) -> dict[str, Colorizer]:
    out: dict[str, Colorizer] = {}
    for method in methods:
        if method in ("paper", "fast", "learned", "working"):
            from eei_core.internal.colorize import internal_colorize
            from eei_core.internal.config import with_overrides

            preset = with_overrides("fast", full_size=False) if method == "working" else method

            def run(
                mono: torch.Tensor, color: torch.Tensor, mask: torch.Tensor, preset: str = preset
            ) -> torch.Tensor:
                return internal_colorize(mono, color, mask, config=preset, seed=seed, device=device)

            out[method] = run
        elif method in ("levin", "levin-clip"):
            out[method] = functools.partial(levin_colorize_tensor, gamut="fit" if method == "levin" else "clip")
        elif method == "mean":
            out[method] = mean_chroma_fill
        else:
            raise SystemExit(f"unknown method {method!r}; choose from {', '.join(ALL_METHODS)}")
    return out


def score(gt: torch.Tensor, out: torch.Tensor, mask: torch.Tensor) -> tuple[float, float, float, float, float]:
    return (
        psnr(out, gt),
        psnr(out, gt, mask),
        ssim(out, gt),
        ssim(out, gt, mask),
        lab_chroma_error(out, gt, mask),
    )


def save_strip(path: Path, tiles: list[torch.Tensor]) -> None:
    strip = torch.cat([t[0].clamp(0, 1) for t in tiles], dim=2).permute(1, 2, 0).numpy()
    Image.fromarray((strip * 255).round().astype(np.uint8)).save(path)


HEADER = ["photos", "mask", "method", "images", "PSNR", "PSNR hole", "SSIM", "SSIM hole", "ΔE ab hole",
          "above levin (hole)", "s / image"]


def summarise(rows: list[Row], methods: list[str], masks: list[str], images: set[str] | None = None) -> list[list]:
    """Mean rows per photo half (and all photos), mask kind and method; ``above levin`` counts images whose hole PSNR
    is above Levin's by more than 0.05 dB and below it by more than 0.05 dB."""
    table = []
    levin = {(r.image, r.mask): r.psnr_hole for r in rows if r.method == "levin"}
    groups = [(s, {r.image for r in rows if split_of(r.image) == s}) for s in SPLITS] + [
        ("all", {r.image for r in rows})]
    for group, names in groups:
        for kind in masks:
            for method in methods:
                sel = [r for r in rows if r.mask == kind and r.method == method and r.image in names
                       and (images is None or r.image in images)]
                if not sel:
                    continue

                def mean(field: str, sel: list[Row] = sel) -> float:
                    return float(np.mean([getattr(r, field) for r in sel]))

                paired = [r.psnr_hole - levin[(r.image, r.mask)] for r in sel if (r.image, r.mask) in levin]
                above = "-" if method == "levin" or not paired else (
                    f"{sum(d > 0.05 for d in paired)} up / {sum(d < -0.05 for d in paired)} down")
                table.append(
                    [group, kind, method, len(sel), mean("psnr"), mean("psnr_hole"), f"{mean('ssim'):.4f}",
                     f"{mean('ssim_hole'):.4f}", mean("chroma_hole"), above, mean("seconds")]
                )
    return table


PAIR_HEADER = ["photos", "mask", "images", "learned - fast (hole dB)", "better by > 0.1", "worse by > 0.1",
               "worst", "best", "s / image: learned, fast"]


def pair_learned_with_fast(rows: list[Row], masks: list[str]) -> list[list]:
    """Per photo half and mask kind: the hole PSNR of ``learned`` minus ``fast``, image by image."""
    by = {(r.image, r.mask, r.method): r for r in rows}
    table = []
    groups = [(s, {r.image for r in rows if split_of(r.image) == s}) for s in SPLITS] + [
        ("all", {r.image for r in rows})]
    for group, names in groups:
        for kind in masks:
            pairs = [(by[(n, kind, "learned")], by[(n, kind, "fast")]) for n in sorted(names)
                     if (n, kind, "learned") in by and (n, kind, "fast") in by]
            if not pairs:
                continue
            gains = [a.psnr_hole - b.psnr_hole for a, b in pairs]
            table.append([group, kind, len(pairs), f"{np.mean(gains):+.2f}", sum(g > 0.1 for g in gains),
                          sum(g < -0.1 for g in gains), f"{min(gains):+.2f}", f"{max(gains):+.2f}",
                          f"{np.mean([a.seconds for a, _ in pairs]):.2f}, {np.mean([b.seconds for _, b in pairs]):.2f}"])
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS, help="folder of photos (png/jpg)")
    parser.add_argument("--hires", action="store_true",
                        help="the largest real dev photos at native size instead (section colorize_quality_hires)")
    parser.add_argument("--places2", action="store_true",
                        help="the Places2 photos of migan_pairs at 256x256, the paper's protocol "
                        "(section colorize_quality_places2)")
    parser.add_argument("--size", default="256x384",
                        help="'HxW' (resize to cover + centre crop, orientation kept) or N (longer side N); "
                        "'0' keeps the original size (default 256x384, the paper's protocol)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N photos (0 = all)")
    parser.add_argument("--methods", default="fast,levin,mean", help=f"comma list of {','.join(ALL_METHODS)}")
    parser.add_argument("--paper-limit", type=int, default=3,
                        help="run 'paper' on the first N photos only (minutes per image on CPU); 0 = all")
    parser.add_argument("--fast-limit", type=int, default=0,
                        help="run 'fast' on the first N photos only (0 = all)")
    parser.add_argument("--masks", default="rect,free", help="comma list of rect,free")
    parser.add_argument("--seed", type=int, default=0, help="seed of the free-form masks and the colorizers")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2, the issue's protocol)")
    parser.add_argument("--device", default=None, help="device for paper/fast (default: the colorizer's choice)")
    parser.add_argument("--include-non-photos", action="store_true", help=f"keep {', '.join(NON_PHOTOS)}")
    parser.add_argument("--csv", type=Path, default=None, help="write per-image rows to this CSV file")
    parser.add_argument("--save", type=Path, default=None, help="save a PNG strip (truth, input, methods) per case")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--verbose", "-v", action="store_true", help="log one line per image, mask and method")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")

    torch.set_num_threads(args.threads)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    masks = [m.strip() for m in args.masks.split(",") if m.strip()]
    bad = [m for m in masks if m not in MASK_KINDS]
    if bad:
        raise SystemExit(f"unknown mask kind(s) {bad}; choose from {', '.join(MASK_KINDS)}")
    size = None if args.size == "0" or args.hires else (256, 256) if args.places2 else parse_size(args.size)
    colorizers = make_colorizers(methods, args.seed, args.device)

    source: Path | list[Path] = list(HIRES_PHOTOS) if args.hires else args.photos
    if args.places2:
        source = sorted(p for folder in PLACES2_FOLDERS for p in folder.iterdir() if p.suffix.lower() == ".jpg")
    photos = load_photos(source, size, args.limit, args.include_non_photos)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)

    rows: list[Row] = []
    for index, (name, gt) in enumerate(photos):
        mono = to_mono(gt)
        for kind in masks:
            mask = make_mask(kind, gt.shape[-2], gt.shape[-1], name, args.seed)
            color = gt * (1.0 - mask)  # the hole's colour is not given at all
            tiles = [gt, color + mask * mono]
            for method, fn in colorizers.items():
                limit = {"paper": args.paper_limit, "fast": args.fast_limit}.get(method, 0)
                if limit and index >= limit:
                    continue
                start = time.perf_counter()
                out = fn(mono, color, mask).float().cpu()
                seconds = time.perf_counter() - start
                row = Row(name, kind, method, *score(gt, out, mask), seconds)
                rows.append(row)
                tiles.append(out)
                log.info("%-18s %-4s %-5s PSNR %.2f hole %.2f SSIM %.4f dE %.2f %.1fs", name, kind, method,
                         row.psnr, row.psnr_hole, row.ssim, row.chroma_hole, seconds)
            if args.save:
                save_strip(args.save / f"{name}_{kind}.png", tiles)

    if args.csv:
        with args.csv.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(list(Row.__dataclass_fields__))
            for r in rows:
                writer.writerow([r.image, r.mask, r.method] + [f"{v:.6g}" for v in (
                    r.psnr, r.psnr_hole, r.ssim, r.ssim_hole, r.chroma_hole, r.seconds)])

    if size is None:
        size_text = "native size (" + ", ".join(f"{p.shape[-1]}x{p.shape[-2]}" for _, p in photos) + ")"
    elif isinstance(size, int):
        size_text = f"longer side {size}"
    else:
        size_text = f"{size[0]}x{size[1]} (HxW, portrait swapped)"
    command = "python -m bench.colorize_quality " + shlex.join(argv if argv is not None else sys.argv[1:])
    where = f"`{args.photos.name}/`"
    if args.hires:
        where = "the largest real photos in `../shared/data/dev` (" + ", ".join(n for n, _ in photos) + ")"
    if args.places2:
        where = "the Places2 validation photos of `migan_pairs/` (ground truth only)"
    section = "colorize_quality_hires" if args.hires else "colorize_quality_places2" if args.places2 else \
        "colorize_quality"
    title = {"colorize_quality_hires": "## Colorization quality at native size (largest dev photos)\n",
             "colorize_quality_places2": "## Colorization quality on Places2 at 256x256 (the paper's protocol)\n",
             "colorize_quality": "## Colorization quality (Table 3 protocol)\n"}[section]
    parts = [
        title,
        f"{len(photos)} colour photos from {where} at {size_text}; mono = 0.30R+0.59G+0.11B given everywhere, "
        f"colour given outside the hole; rect = centred {DEFAULT_AREA:.1%} rectangle, free = seeded DeepFill v2 "
        f"free-form strokes covering {FREE_FORM_BAND[0]:.0%}-{FREE_FORM_BAND[1]:.0%}. PSNR in dB; ΔE ab = mean "
        "CIE a*b* distance in the hole; "
        "SSIM hole = SSIM map averaged over the hole; photos: `tune` = the half tuning decisions look at, `held-out` = "
        "never tuned on (bench/split.py); above levin = images whose hole PSNR is above / below Levin's (gamut-mapped) "
        "by over 0.05 dB; s / image on the machine below, alone."
        "\n",
        markdown_table(HEADER, summarise(rows, methods, masks)),
    ]
    if "learned" in methods and "fast" in methods:
        parts += ["\nWhat the learned correction earns, image by image (hole PSNR of `learned` minus `fast`):\n",
                  markdown_table(PAIR_HEADER, pair_learned_with_fast(rows, masks))]
    counts = {m: len({r.image for r in rows if r.method == m}) for m in methods}
    if counts and min(counts.values()) < max(counts.values()):
        subset = set.intersection(*({r.image for r in rows if r.method == m} for m in methods))
        parts += [f"\nOn the {len(subset)} photo(s) every method ran on ({', '.join(sorted(subset))}):\n",
                  markdown_table(HEADER, summarise(rows, methods, masks, subset))]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    parts += [f"\nCommand: `{command}`  \nMachine: {machine_description()}; load average {load:.1f} at the end"]
    report = "\n".join(parts)
    print(report)
    if not args.no_write:
        write_section(section, report)


if __name__ == "__main__":
    main()
