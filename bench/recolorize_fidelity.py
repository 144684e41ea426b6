"""RecolorizeAny fidelity: does re-colouring an inpainter's output bring back the colours the photo had in the hole?

After SD/SDXL/Flux, LaMa or GAN inpainting the hole often carries colours the photo never had (colour bleeding, VAE
colour shift, seams). This benchmark compares RecolorizeAny (eei_core.pipelines.recolorize) with the fixes ComfyUI users apply
today, on two kinds of cases whose true colours are known:

- ``migan``: real inpainter outputs, the MI-GAN example triples (original photo, hole mask, MI-GAN result) in
  ``../shared/data/dev/migan_pairs``. Input = the MI-GAN result; ground truth = the original photo. The hole's
  structure is MI-GAN's own invention, so no colour fix can reach the original there: these cases show whether a fix
  makes things better or worse in practice.
- ``hue``, ``field``, ``leak``: synthetic colour bleeding (bench/corruptions.py) on the dev photos with seeded
  free-form holes (eei_core.shared.masks): the hole keeps the photo's exact luminance and gets wrong chroma (a global hue /
  saturation shift, a smooth low-frequency colour cast, or the colour of one side smeared in). The exact answer is
  the photo, so these measure colour restoration alone.

Methods: ``raw`` (the input, no fix), ``recolorize-learned`` / ``recolorize-fast`` / ``recolorize-paper`` (RecolorizeAny presets),
``mkl``, ``reinhard``, ``hm-mvgd-hm`` (color-matcher, as KJNodes' Color Match, hole pixels matched to the known
pixels), ``lab-meanstd`` (Lab mean/std transfer with the hole excluded from the reference statistics, as
comfyui-inpaint-nodes' ColorMatch), ``lab-meanstd-ab`` (the same moving only a*, b*) and ``levin`` (Levin et al. 2004
colorization of the hole from the known colours, the input's gray as luminance). All are composited over the known
pixels (RecolorizeAny composites itself, over its grown mask).

Metrics in the hole: PSNR, SSIM (map averaged over the hole), mean CIE a*b* chroma error (ΔE ab), mean absolute luma
error in 8-bit levels (Y err); PSNR over the whole image (catches damage around the hole, e.g. by mask growth);
seconds per case.

Run from the repository root (needs ``pip install -c .ci/constraints.txt color-matcher``)::

    python -m bench.recolorize_fidelity --paper-limit 2 --csv /tmp/recolorize.csv

``recolorize-paper`` is slow on a CPU; it can run in a second process and be merged into the report::

    python -m bench.recolorize_fidelity --methods raw,recolorize-paper --paper-limit 1 --no-write --gallery 0 \\
        --csv /tmp/paper.csv
    python -m bench.recolorize_fidelity --methods raw,recolorize-learned,mkl,levin --add-csv /tmp/paper.csv

or both runs write a CSV and ``--report-only --add-csv A --add-csv B`` makes the report from them.

The tables are printed and written into BENCHMARKS.md (section ``recolorize_fidelity``) with labelled side-by-side
PNGs of a few cases in bench/gallery/.
"""

from __future__ import annotations

import argparse
import csv
import functools
import importlib.util
import logging
import math
import shlex
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``eei_core`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from bench._report import REPO, machine_description, markdown_table, write_section
from bench.colour_match import color_matcher_fix, lab_meanstd_fix, levin_fix, recolorize_fix
from bench.corruptions import CORRUPTIONS, corrupt
from bench.split import SPLITS, split_of
from eei_core.shared.color import to_mono
from eei_core.shared.masks import mask_in_ratio_band
from eei_core.shared.metrics import lab_chroma_error, psnr, ssim

log = logging.getLogger("bench.recolorize_fidelity")

DEFAULT_DATA = REPO.parent / "shared" / "data" / "dev"
GALLERY = REPO / "bench" / "gallery"
#: Mask polarity per MI-GAN subset, from migan_pairs/PROVENANCE.txt: True when white (255) marks the hole. The three
#: free-form subsets store 255 = known; the object subset stores 255 = hole (some of its masks are RGB).
MIGAN_HOLE_IS_WHITE = {
    "ffhq_256_freeform": False,
    "places2_256_freeform": False,
    "places2_512_freeform": False,
    "places2_512_object": True,
}
KINDS = ("migan", *CORRUPTIONS)
KIND_TITLES = {
    "migan": "MI-GAN outputs (real inpainter; hole content invented by MI-GAN)",
    "hue": "Synthetic: hue rotation / saturation shift in the hole (luminance exact)",
    "field": "Synthetic: smooth low-frequency colour cast in the hole (luminance exact)",
    "leak": "Synthetic: colour of one side leaking into the hole (luminance exact)",
}
ALL_METHODS = (
    "raw",
    "recolorize-learned",
    "recolorize-fast",
    "recolorize-paper",
    "mkl",
    "reinhard",
    "hm-mvgd-hm",
    "lab-meanstd",
    "lab-meanstd-ab",
    "levin",
)
RECOLORIZE = ("recolorize-learned", "recolorize-fast", "recolorize-paper")
#: Hole-area band of the synthetic cases' free-form holes (as bench.colorize_quality's, so the two compare).
HOLE_BAND = (0.20, 0.25)
#: A fix counts as harmful on a case when it loses more than this many dB of hole PSNR against the raw input.
HARM_DB = 0.1

Fix = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class Case:
    name: str
    kind: str
    truth: torch.Tensor  # [1, 3, H, W]
    image: torch.Tensor  # [1, 3, H, W], the inpainter's (or corrupted) output; equals truth outside the hole
    mask: torch.Tensor  # [1, 1, H, W], 1 = hole


@dataclass
class Row:
    case: str
    kind: str
    method: str
    psnr_hole: float = math.nan
    ssim_hole: float = math.nan
    chroma_hole: float = math.nan
    luma_err_hole: float = math.nan
    psnr_image: float = math.nan
    seconds: float = math.nan
    error: str = ""
    out: torch.Tensor | None = field(default=None, repr=False)


# ---------------------------------------------------------------------------------------------------- loading cases


def _to_tensor(img: Image.Image) -> torch.Tensor:
    arr = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0).contiguous()


def _target_size(width: int, height: int, size: int) -> tuple[int, int]:
    """(width, height) with the longer side at most ``size`` (0 = unchanged); images are never upscaled."""
    if not size or max(width, height) <= size:
        return width, height
    scale = size / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _round_robin(groups: dict[str, list]) -> list:
    """Interleave lists so that the first items of the result come from different groups (``--limit`` stays varied)."""
    out, lists = [], [list(v) for v in groups.values()]
    while any(lists):
        for lst in lists:
            if lst:
                out.append(lst.pop(0))
    return out


def load_migan_case(root: Path, subset: str, stem: str, size: int) -> Case:
    """One MI-GAN triple at the benchmark size; pixels touched by the hole after downscaling count as hole."""
    folder = root / subset
    image_path = next(p for p in (folder / "images").iterdir() if p.stem == stem)
    truth_img = Image.open(image_path).convert("RGB")
    result_img = Image.open(folder / "results_migan" / f"{stem}.png").convert("RGB")
    raw_mask = np.asarray(Image.open(folder / "masks" / f"{stem}.png").convert("L")) > 127
    hole = raw_mask if MIGAN_HOLE_IS_WHITE[subset] else ~raw_mask
    if hole.shape != (truth_img.height, truth_img.width) or result_img.size != truth_img.size:
        raise SystemExit(f"MI-GAN {subset}/{stem}: image, mask and result sizes differ")
    known_diff = np.abs(np.asarray(truth_img, np.int16) - np.asarray(result_img, np.int16)).max(-1)[~hole]
    if known_diff.size and (known_diff > 0).mean() > 0.01:
        raise SystemExit(
            f"MI-GAN {subset}/{stem}: the result differs from the image outside the hole on "
            f"{(known_diff > 0).mean():.0%} of the known pixels; is the mask polarity in MIGAN_HOLE_IS_WHITE right?"
        )
    w, h = _target_size(truth_img.width, truth_img.height, size)
    hole_img = Image.fromarray((hole * 255).astype(np.uint8))
    if (w, h) != truth_img.size:
        truth_img = truth_img.resize((w, h), Image.LANCZOS)
        result_img = result_img.resize((w, h), Image.LANCZOS)
        hole_img = hole_img.resize((w, h), Image.BOX)
    mask = torch.from_numpy(np.asarray(hole_img) > 0).float().view(1, 1, h, w)
    truth = _to_tensor(truth_img)
    image = torch.where(mask > 0.5, _to_tensor(result_img), truth)
    return Case(f"{subset}/{stem}", "migan", truth, image, mask)


def migan_cases(root: Path, size: int, limit: int) -> list[Case]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for subset in MIGAN_HOLE_IS_WHITE:
        folder = root / subset / "results_migan"
        if not folder.is_dir():
            log.warning("MI-GAN subset %s missing under %s; skipped", subset, root)
            continue
        stems = sorted((p.stem for p in folder.glob("*.png")), key=lambda s: (len(s), s))
        groups[subset] = [(subset, s) for s in stems]
    picked = _round_robin(groups)
    if limit:
        picked = picked[:limit]
    return [load_migan_case(root, subset, stem, size) for subset, stem in picked]


def load_photo(path: Path, size: int) -> torch.Tensor | None:
    """``[1, 3, H, W]`` at the benchmark size, or None for grayscale files (mode L, or no chroma at all)."""
    img = Image.open(path)
    if img.mode not in ("RGB", "RGBA"):
        log.info("skipping %s: mode %s is not colour", path.name, img.mode)
        return None
    img = img.convert("RGB")
    w, h = _target_size(img.width, img.height, size)
    if (w, h) != img.size:
        img = img.resize((w, h), Image.LANCZOS)
    t = _to_tensor(img)
    if float((t - to_mono(t)).abs().max()) < 2 / 255:
        log.info("skipping %s: grayscale content", path.name)
        return None
    return t


def synthetic_cases(photos: Path, size: int, kinds: list[str], limit: int, seed: int) -> list[Case]:
    paths = sorted(p for p in photos.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".tif"))
    groups: dict[str, list[Path]] = {}
    for p in paths:
        groups.setdefault(p.stem.split("_")[0].rstrip("0123456789"), []).append(p)
    cases: list[Case] = []
    counts = dict.fromkeys(kinds, 0)
    for p in _round_robin(groups):
        if limit and all(counts[k] >= limit for k in kinds):
            break
        truth = load_photo(p, size)
        if truth is None:
            continue
        # Seeded by file name (as bench.colorize_quality) so a photo keeps its hole whatever --limit is.
        gen = torch.Generator().manual_seed(zlib.crc32(p.stem.encode()) ^ seed)
        mask = mask_in_ratio_band(truth.shape[-2], truth.shape[-1], *HOLE_BAND, gen)
        for kind in kinds:
            if limit and counts[kind] >= limit:
                continue
            gen = torch.Generator().manual_seed(zlib.crc32(f"{p.stem}:{kind}".encode()) ^ seed)
            cases.append(Case(f"{p.stem}/{kind}", kind, truth, corrupt(kind, truth, mask, gen), mask))
            counts[kind] += 1
    return cases


# ------------------------------------------------------------------------------------------------------- methods


def make_fixes(methods: list[str], seed: int, mask_grow: int | None) -> dict[str, Fix]:
    extra = {} if mask_grow is None else {"mask_grow": mask_grow}
    fixes: dict[str, Fix] = {}
    for m in methods:
        if m == "raw":
            fixes[m] = lambda image, mask: image
        elif m in RECOLORIZE:
            config = m.split("-", 1)[1]
            if extra:
                from eei_core.pipelines.recolorize import recolorize

                fixes[m] = functools.partial(_recolorize_with, recolorize, config=config, seed=seed, **extra)
            else:
                fixes[m] = functools.partial(recolorize_fix, config=config, seed=seed)
        elif m in ("mkl", "reinhard", "hm-mvgd-hm"):
            fixes[m] = functools.partial(color_matcher_fix, method=m)
        elif m == "lab-meanstd":
            fixes[m] = lab_meanstd_fix
        elif m == "lab-meanstd-ab":
            fixes[m] = functools.partial(lab_meanstd_fix, chroma_only=True)
        elif m == "levin":
            fixes[m] = levin_fix
        else:
            raise SystemExit(f"unknown method {m!r}; choose from {', '.join(ALL_METHODS)}")
    return fixes


def _recolorize_with(recolorize: Callable, image: torch.Tensor, mask: torch.Tensor, **kwargs) -> torch.Tensor:
    return recolorize(image, mask, original=image, **kwargs)


def score(case: Case, out: torch.Tensor) -> dict[str, float]:
    # One thread: these small ops are far slower with two threads on a busy 2-core box (OpenMP waits), and scoring
    # is not what is timed.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _score(case, out)
    finally:
        torch.set_num_threads(threads)


def _score(case: Case, out: torch.Tensor) -> dict[str, float]:
    y_err = (to_mono(out) - to_mono(case.truth)).abs()[case.mask > 0.5].mean() * 255.0
    return {
        "psnr_hole": psnr(out, case.truth, case.mask),
        "ssim_hole": ssim(out, case.truth, case.mask),
        "chroma_hole": lab_chroma_error(out, case.truth, case.mask),
        "luma_err_hole": float(y_err),
        "psnr_image": psnr(out, case.truth),
    }


def run_case(case: Case, fixes: dict[str, Fix], paper_ok: bool) -> list[Row]:
    rows = []
    for method, fix in fixes.items():
        if method == "recolorize-paper" and not paper_ok:
            continue
        row = Row(case.name, case.kind, method)
        start = time.perf_counter()
        try:
            out = fix(case.image, case.mask).detach().float().cpu().clamp(0.0, 1.0)
        except Exception as exc:  # noqa: BLE001 - one failing method must not stop the benchmark; it is reported
            row.error = f"{type(exc).__name__}: {exc}"
            log.error("%s %s failed: %s", case.name, method, row.error)
            rows.append(row)
            continue
        row.seconds = time.perf_counter() - start
        for key, value in score(case, out).items():
            setattr(row, key, value)
        row.out = out
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------------------- CSV

CSV_FIELDS = ["case", "kind", "method", "psnr_hole", "ssim_hole", "chroma_hole", "luma_err_hole", "psnr_image",
              "seconds", "error"]


GALLERY_TAG = "# gallery "


def write_csv(path: Path, rows: list[Row], command: str, gallery: Sequence[tuple[str, Path]] = ()) -> None:
    """One row per case and method. ``#`` comment lines come first: the command that made the rows, then one
    ``# gallery <case>\t<png>`` line per gallery strip it drew (so a later ``--report-only`` links exactly those)."""
    with path.open("w", newline="") as f:
        f.write(f"# {command}\n")
        for name, png in gallery:
            f.write(f"{GALLERY_TAG}{name}\t{png.resolve().relative_to(REPO).as_posix()}\n")
        writer = csv.writer(f)
        writer.writerow(CSV_FIELDS)
        for r in rows:
            writer.writerow([r.case, r.kind, r.method] + [f"{getattr(r, k):.6g}" for k in CSV_FIELDS[3:-1]] + [r.error])


def read_csv(path: Path) -> tuple[list[Row], str, list[tuple[str, Path]]]:
    """Rows written by :func:`write_csv`, the command noted in its first line ("" if none) and its gallery strips."""
    with path.open(newline="") as f:
        lines = f.read().splitlines()
    command = lines[0][1:].strip() if lines and lines[0].startswith("#") and not lines[0].startswith(GALLERY_TAG) else ""
    gallery = [
        (name, REPO / png)
        for name, png in (line[len(GALLERY_TAG):].split("\t", 1) for line in lines if line.startswith(GALLERY_TAG))
    ]
    reader = csv.DictReader(line for line in lines if not line.startswith("#"))
    missing = set(CSV_FIELDS) - set(reader.fieldnames or [])
    if missing:
        raise SystemExit(f"{path} is not a CSV of this benchmark: columns {sorted(missing)} are missing")
    rows = [
        Row(d["case"], d["kind"], d["method"], *(float(d[k]) for k in CSV_FIELDS[3:-1]), error=d["error"])
        for d in reader
    ]
    return rows, command, gallery


def merge_rows(rows: list[Row], extra: list[Row], source: Path) -> list[Row]:
    """``rows`` plus the (case, method) pairs of ``extra`` that ``rows`` lacks.

    Both runs must have built the same cases (same ``--size``, ``--seed`` and data): the raw input's hole PSNR of every
    shared case must match, or the merge is refused.
    """
    raw_now = {r.case: r.psnr_hole for r in rows if r.method == "raw"}
    for r in extra:
        if r.method == "raw" and r.case in raw_now and not math.isclose(r.psnr_hole, raw_now[r.case], abs_tol=1e-3):
            raise SystemExit(
                f"{source}: case {r.case} differs from this run's (raw hole PSNR {r.psnr_hole:.4f} vs "
                f"{raw_now[r.case]:.4f}); make both runs with the same --size, --seed and --data"
            )
    have = {(r.case, r.method) for r in rows}
    return rows + [r for r in extra if (r.case, r.method) not in have]


# ------------------------------------------------------------------------------------------------------- report

HEADER = ["method", "cases", "PSNR hole", "SSIM hole", "ΔE ab hole", "Y err hole", "PSNR image", "ΔPSNR vs raw",
          "worst ΔPSNR", f"worse than raw by >{HARM_DB} dB", "s / case"]


def deltas(rows: list[Row], method: str, kind: str | None = None) -> list[tuple[float, str]]:
    """Per-case hole-PSNR gain of ``method`` over the raw input, as (delta dB, case name)."""
    raw = {r.case: r.psnr_hole for r in rows if r.method == "raw" and not r.error}
    return [
        (r.psnr_hole - raw[r.case], r.case)
        for r in rows
        if r.method == method and not r.error and r.case in raw and (kind is None or r.kind == kind)
    ]


def case_half(case: str) -> str:
    """The half of the dev photos (bench/split.py) a case's photo is in: ``"photo/kind"`` or ``"subset/photo"``."""
    first, _, second = case.partition("/")
    return split_of(first if second in CORRUPTIONS else second)


def summarise(
    rows: list[Row], kind: str | None, methods: list[str], cases: set[str] | None = None, half: str | None = None
) -> list[list]:
    """Table rows (see :data:`HEADER`) over the cases of ``kind`` (all kinds if None), or only over ``cases``, or only
    over the cases whose photo is in ``half`` of the dev photos (``"tune"`` or ``"held-out"``)."""
    if cases is not None:
        rows = [r for r in rows if r.case in cases]
    if half is not None:
        rows = [r for r in rows if case_half(r.case) == half]
    table = []
    for method in methods:
        sel = [r for r in rows if (kind is None or r.kind == kind) and r.method == method]
        ok = [r for r in sel if not r.error]
        if not sel:
            continue
        failed = len(sel) - len(ok)
        count = f"{len(ok)}" + (f" ({failed} failed)" if failed else "")
        if not ok:
            table.append([method, count] + ["-"] * (len(HEADER) - 2))
            continue

        def mean(attr: str, ok: list[Row] = ok) -> float:
            return float(np.mean([getattr(r, attr) for r in ok]))

        d = deltas(rows, method, kind)
        worst = min(d) if d else (math.nan, "")
        harmful = sum(1 for v, _ in d if v < -HARM_DB)
        table.append([
            method, count, mean("psnr_hole"), f"{mean('ssim_hole'):.3f}", mean("chroma_hole"), mean("luma_err_hole"),
            mean("psnr_image"), float(np.mean([v for v, _ in d])) if d else "-",
            worst[0] if d else "-", f"{harmful}/{len(d)}" if d else "-", mean("seconds"),
        ])
    return table


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def save_gallery(path: Path, case: Case, rows: list[Row], height: int) -> None:
    """One labelled strip: hole, input, every method that ran, ground truth."""
    tiles: list[tuple[str, torch.Tensor]] = [("hole", case.mask.expand(-1, 3, -1, -1)), ("input (raw)", case.image)]
    tiles += [(r.method, r.out) for r in rows if r.out is not None and r.method != "raw"]
    tiles.append(("ground truth", case.truth))
    label_h = 16
    font = _font(12)
    w = max(1, round(case.truth.shape[-1] * height / case.truth.shape[-2]))
    canvas = Image.new("RGB", (len(tiles) * (w + 2) - 2, height + label_h), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (label, t) in enumerate(tiles):
        arr = (t[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        tile = Image.fromarray(arr).resize((w, height), Image.LANCZOS)
        x = i * (w + 2)
        canvas.paste(tile, (x, label_h))
        draw.text((x + 2, 1), label, fill="black", font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, optimize=True)


def gallery_cases(cases: list[Case], per_group: int) -> list[Case]:
    """The first ``per_group`` MI-GAN cases (different subsets) and ``per_group`` synthetic ones (different kinds)."""
    migan = [c for c in cases if c.kind == "migan"][:per_group]
    synthetic = []
    kinds = [k for k in CORRUPTIONS if any(c.kind == k for c in cases)]
    for j in range(per_group if kinds else 0):
        of_kind = [c for c in cases if c.kind == kinds[j % len(kinds)]]
        if j < len(of_kind):
            synthetic.append(of_kind[j])
    return migan + synthetic


def build_cases(args: argparse.Namespace, kinds: list[str]) -> list[Case]:
    """The MI-GAN and synthetic cases the command line asks for; exits when there are none."""
    cases: list[Case] = []
    if "migan" in kinds:
        cases += migan_cases(args.data / "migan_pairs", args.size, args.limit)
    synth = [k for k in kinds if k != "migan"]
    if synth:
        limit = args.limit if args.synthetic_limit is None else args.synthetic_limit
        cases += synthetic_cases(args.data / "photos", args.size, synth, limit, args.seed)
    if not cases:
        raise SystemExit(f"no cases found under {args.data}")
    return cases


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder with migan_pairs/ and photos/ (default ../shared/data/dev from the repo root)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma list of {','.join(KINDS)}")
    parser.add_argument("--methods", default=",".join(ALL_METHODS), help=f"comma list of {','.join(ALL_METHODS)}")
    parser.add_argument("--limit", type=int, default=0, help="at most N cases per kind (0 = all)")
    parser.add_argument("--synthetic-limit", type=int, default=None,
                        help="at most N cases per synthetic kind (default: --limit)")
    parser.add_argument("--size", type=int, default=256,
                        help="downscale so the longer side is at most N pixels (default 256; 0 = original size)")
    parser.add_argument("--paper-limit", type=int, default=2,
                        help="run recolorize-paper on the first N cases of each kind only (slow); 0 = all")
    parser.add_argument("--mask-grow", type=int, default=None, help="RecolorizeAny mask_grow (default: its own)")
    parser.add_argument("--seed", type=int, default=0, help="seed of holes, corruptions and RecolorizeAny")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--csv", type=Path, default=None, help="write one row per case and method to this CSV file")
    parser.add_argument("--gallery", type=int, default=2,
                        help="labelled PNG strips for N MI-GAN + N synthetic cases in bench/gallery/ (0 = none)")
    parser.add_argument("--gallery-height", type=int, default=128, help="tile height of the gallery strips in pixels")
    parser.add_argument("--add-csv", type=Path, action="append", default=[],
                        help="merge the rows of an earlier --csv of this benchmark (same --size/--seed) into the\n"
                             "report, e.g. a recolorize-paper run made in parallel; repeatable")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: report the rows of the --add-csv files (and link the gallery strips\n"
                             "their runs drew)")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--quiet", "-q", action="store_true", help="no per-case log lines")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)

    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise SystemExit(f"unknown kind(s) {bad}; choose from {', '.join(KINDS)}")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if "raw" not in methods:
        methods.insert(0, "raw")  # every delta is measured against it
    notes: list[str] = []
    if any(m in methods for m in RECOLORIZE) and importlib.util.find_spec("eei_core.pipelines.recolorize") is None:
        methods = [m for m in methods if m not in RECOLORIZE]
        notes.append("RecolorizeAny was not run: eei_core/recolorize.py does not exist yet.")
        log.warning(notes[-1])
    if args.report_only:
        if not args.add_csv:
            raise SystemExit("--report-only needs at least one --add-csv FILE: the rows to report")
        methods = []
    fixes = make_fixes(methods, args.seed, args.mask_grow)

    cases: list[Case] = [] if args.report_only else build_cases(args, kinds)
    log.info("%d cases, methods: %s", len(cases), ", ".join(methods))

    show = {id(c) for c in gallery_cases(cases, args.gallery)}
    rows: list[Row] = []
    seen: dict[str, int] = {}
    gallery_files: list[tuple[str, Path]] = []
    for case in cases:
        index = seen.get(case.kind, 0)
        seen[case.kind] = index + 1
        case_rows = run_case(case, fixes, paper_ok=not args.paper_limit or index < args.paper_limit)
        log.info("%-40s %s", case.name, "  ".join(
            f"{r.method} {r.psnr_hole:.2f}dB {r.seconds:.1f}s" for r in case_rows if not r.error))
        if id(case) in show:
            path = GALLERY / f"recolorize_{_slug(case.name)}.png"
            save_gallery(path, case, case_rows, args.gallery_height)
            gallery_files.append((case.name, path))
        for r in case_rows:
            r.out = None  # keep memory flat over ~160 cases
        rows += case_rows

    command = "python -m bench.recolorize_fidelity " + shlex.join(argv if argv is not None else sys.argv[1:])
    if args.csv:
        write_csv(args.csv, rows, command, gallery_files)
    merged_commands = []
    for path in args.add_csv:
        extra, extra_command, extra_gallery = read_csv(path)
        rows = merge_rows(rows, extra, path)
        merged_commands.append(extra_command or str(path))
        linked = {png for _, png in gallery_files}  # a strip this run redrew is linked once
        gallery_files += [(name, png) for name, png in extra_gallery if png.is_file() and png not in linked]
    methods = [m for m in ALL_METHODS if any(r.method == m for r in rows)]
    case_kinds = {r.case: r.kind for r in rows}
    size_text = "original size" if not args.size else f"longer side at most {args.size} px"
    n_by_kind = {k: sum(1 for kind in case_kinds.values() if kind == k) for k in kinds}
    parts = [
        "## RecolorizeAny fidelity: restoring the colours a photo had in the hole\n",
        "Does re-colouring an inpainter's output restore the colours the photo had in the hole? Inputs at "
        f"{size_text}. `migan`: MI-GAN example results ({n_by_kind.get('migan', 0)} cases over its 4 subsets; the "
        "hole's content is MI-GAN's own invention, so the ground truth is not reachable there). Synthetic: dev "
        f"photos with a seeded free-form hole ({HOLE_BAND[0]:.0%}..{HOLE_BAND[1]:.0%} of the image, "
        "eei_core.shared.masks), luminance exact, chroma corrupted "
        "(bench/corruptions.py; out-of-gamut colours are desaturated at constant luma rather than clipped, so the "
        "luminance stays exact). Methods: `raw` = the input; `recolorize-*` = RecolorizeAny presets with the node's "
        "defaults (mask_grow 0; a hue shift of the whole hole turned back, then the inpainter's colour kept where it "
        "agrees with the learned colour, eei_core/chroma_fusion.py); `mkl`, "
        "`reinhard`, `hm-mvgd-hm` = color-matcher (KJNodes' Color Match) with the hole as source and the known "
        "pixels as reference; `lab-meanstd` = Lab mean/std transfer with the hole excluded from the reference "
        "statistics (comfyui-inpaint-nodes' ColorMatch), `-ab` = a*b* only; `levin` = Levin 2004 colorization "
        "from the known colours. Metrics in the hole: PSNR (dB), SSIM, ΔE ab (mean CIE a*b* distance), Y err "
        "(mean |luma error|, 8-bit levels); PSNR image = whole image. ΔPSNR vs raw: per-case hole-PSNR gain over "
        "the raw input (mean, worst case, and how many cases lose more than "
        f"{HARM_DB} dB).\n",
    ]
    for kind in kinds:
        if not n_by_kind.get(kind):
            continue
        parts += [f"\n### {KIND_TITLES[kind]}\n", markdown_table(HEADER, summarise(rows, kind, methods))]
    halves = [[half] + line for half in SPLITS for line in summarise(rows, None, methods, half=half)]
    if halves:
        parts += ["\n### Every kind, by half of the dev photos (`tune` = tuning looked at it, `held-out` = never)\n",
                  markdown_table(["photos"] + HEADER, halves)]
    for method in (m for m in methods if m in RECOLORIZE):
        d = deltas(rows, method)
        if d:
            worst = min(d)
            harmful = sum(1 for v, _ in d if v < -HARM_DB)
            parts.append(
                f"\n**{method}**: worst per-case hole-PSNR change vs raw {worst[0]:+.2f} dB (`{worst[1]}`); "
                f"{harmful} of {len(d)} cases lose more than {HARM_DB} dB (target: none)."
            )
    paper_cases = {r.case for r in rows if r.method == "recolorize-paper" and not r.error}
    if paper_cases and len(paper_cases) < len(case_kinds):
        parts += [
            f"\n### The {len(paper_cases)} cases `recolorize-paper` ran on (all kinds)\n",
            "`recolorize-paper` (the paper's iterations, hundreds of times slower) ran on the first case(s) of each "
            "kind only; every method on those same cases:\n",
            markdown_table(HEADER, summarise(rows, None, methods, paper_cases)),
        ]
    parts += [f"\n{n}" for n in notes]
    if gallery_files:
        parts.append("\nGallery (hole, input, each method, ground truth):\n")
        parts += [f"![{name}]({p.relative_to(REPO).as_posix()})" for name, p in gallery_files]
    if args.report_only:
        parts.append("\nCommands that measured the rows:\n")
        parts += [f"- `{c}`" for c in merged_commands]
        parts.append(f"\nReport: `{command}`  \nMachine: {machine_description(threads=False)}")
    else:
        parts.append(f"\nCommand: `{command}`  \nMachine: {machine_description()}")
        parts += [f"  \nRows merged from: `{c}`" for c in merged_commands]
    report = "\n".join(parts)
    print(report)
    if not args.no_write:
        write_section("recolorize_fidelity", report)


if __name__ == "__main__":
    main()
