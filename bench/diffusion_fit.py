"""RecolorizeAny after diffusion inpainting: is the VAE's drift removed, the seam gone, the new content's colour kept?

Cases: every real diffusion output in ``../shared/data/dev/diffusion_pairs`` (SD2, SD1.x, Kolors; creative fills, the
hole's true content unknown), at native size, and the recolorize-fidelity cases (bench/recolorize_fidelity.py:
MI-GAN outputs and synthetic bleeding, restoration, truth known), at 256 px.

Methods: ``raw`` (the inpainter's output as it is), ``composite`` (ComfyUI's ImageCompositeMasked: the output pasted
over the original with the mask), ``mkl`` (color-matcher, KJNodes' Color Match) and ``lab-meanstd`` (Lab mean/std,
comfyui-inpaint-nodes' ColorMatch) on the composite's hole with the known pixels as reference, and RecolorizeAny in
each mode (``recolorize-auto``, ``-restore``, ``-keep``) with ``original``.

Metrics:

- **drift** (cases whose known pixels went through the VAE): two copies of the hole are moved into the known region
  and hidden from every method as if they were part of the hole; there the output is compared with the original.
  The drift is the colour shift, the ΔE ab between the mean a*, b* of output and original there (``raw`` shows the
  VAE's own); the per-pixel ΔE ab and PSNR are given too, though they are mostly the decoder's loss of detail, which
  no colour fix brings back. Target: RecolorizeAny removes at least half of the shift.
- **content kept**: mean ΔE ab between the output and the raw output inside the hole, further than 16 px from its
  edge. Target on the creative (diffusion) cases: at most 3 for ``auto`` (the size of the drift itself).
- **seam**: the mean colour step (ΔE76 in Lab) between each hole pixel on the mask's edge and its outside neighbour,
  minus the same step in the raw output at the same pixels (the image's own edges). Target: at most half of
  ``composite``'s.
- **restoration** (fidelity cases): hole PSNR against the truth, and how many cases lose more than 0.1 dB against the
  raw input. Target: none under ``auto``.

    python -m bench.diffusion_fit --threads 2

Tables go into BENCHMARKS.md (section ``diffusion_fit``), gallery strips (original, raw, composite, each method, and a
zoom on the seam) into bench/gallery/diffusion_*.png.
"""

from __future__ import annotations

import argparse
import functools
import logging
import math
import shlex
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``eei_core`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from bench._report import REPO, machine_description, markdown_table, write_section
from bench.colour_match import color_matcher_fix, lab_meanstd_fix
from bench.recolorize_fidelity import DEFAULT_DATA, Case, _font, _slug, migan_cases, synthetic_cases
from eei_core.internal.colorize import simulated_holes
from eei_core.pipelines.recolorize import recolorize
from eei_core.shared.color import rgb_to_lab
from eei_core.shared.metrics import psnr

log = logging.getLogger("bench.diffusion_fit")

GALLERY = REPO / "bench" / "gallery"
METHODS = ("raw", "composite", "mkl", "lab-meanstd", "recolorize-auto", "recolorize-restore", "recolorize-keep")
#: Distance from the hole's edge beyond which "content kept" is measured.
INNER_MARGIN = 16
#: Copies of the hole hidden from the methods to measure the drift.
HIDDEN_COPIES = 2

Method = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class Result:
    case: str
    kind: str
    method: str
    drift_de: float = math.nan
    drift_pixel_de: float = math.nan
    drift_psnr: float = math.nan
    kept_de: float = math.nan
    seam: float = math.nan
    psnr_hole: float = math.nan
    seconds: float = math.nan
    out: torch.Tensor | None = field(default=None, repr=False)


def load_diffusion_cases(folder: Path) -> list[Case]:
    """Every ``diffusion_pairs`` case at native size: truth = ``image.png`` (the original), image = ``result.png``."""
    cases = []
    for case_dir in sorted(p for p in folder.iterdir() if (p / "result.png").is_file()):
        def load(name: str, mode: str = "RGB") -> torch.Tensor:
            arr = np.asarray(Image.open(case_dir / name).convert(mode), dtype=np.float32) / 255.0
            t = torch.from_numpy(arr)
            return (t.permute(2, 0, 1) if t.dim() == 3 else t[None])[None].contiguous()

        cases.append(Case(case_dir.name, "diffusion", load("image.png"), load("result.png"), load("mask.png", "L")))
    return cases


def make_methods(names: list[str], seed: int) -> dict[str, Method]:
    methods: dict[str, Method] = {}
    for name in names:
        if name == "raw":
            methods[name] = lambda result, mask, original: result
        elif name == "composite":
            methods[name] = composite
        elif name == "mkl":
            methods[name] = lambda result, mask, original: color_matcher_fix(composite(result, mask, original), mask)
        elif name == "lab-meanstd":
            methods[name] = lambda result, mask, original: lab_meanstd_fix(composite(result, mask, original), mask)
        elif name.startswith("recolorize-"):
            mode = name.split("-", 1)[1]
            methods[name] = functools.partial(_recolorize, mode=mode, seed=seed)
        else:
            raise SystemExit(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
    return methods


def composite(result: torch.Tensor, mask: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """ComfyUI's ImageCompositeMasked: ``result * mask + original * (1 - mask)``."""
    return result * mask + original * (1 - mask)


def _recolorize(result: torch.Tensor, mask: torch.Tensor, original: torch.Tensor, mode: str, seed: int):
    return recolorize(result, mask, original=original, mode=mode, seed=seed)


def hidden_copies(mask: torch.Tensor, name: str, seed: int) -> torch.Tensor:
    """Copies of the hole moved into the known region (``[1, 1, H, W]``), seeded by the case's name."""
    gen = torch.Generator().manual_seed(zlib.crc32(f"hidden:{name}".encode()) ^ seed)
    hole = (mask > 0.5).float()
    copies = simulated_holes(hole, 1 - hole, HIDDEN_COPIES, gen)
    return torch.stack(copies).amax(dim=0) * (1 - hole) if copies else torch.zeros_like(hole)


def has_drift(case: Case) -> bool:
    known = case.mask < 0.5
    return float((case.image - case.truth).abs().amax(dim=1, keepdim=True)[known].mean()) > 0.5 / 255


def mean_shift_de(a: torch.Tensor, b: torch.Tensor, region: torch.Tensor) -> float:
    """ΔE ab between the mean a*, b* of ``a`` and of ``b`` over ``region``: a colour shift, not pixel noise."""
    diff = (rgb_to_lab(a.clamp(0, 1))[:, 1:] - rgb_to_lab(b.clamp(0, 1))[:, 1:]) * region
    return float((diff.sum(dim=(2, 3)) / region.sum()).norm())


def delta_e_ab(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-pixel CIE a*b* distance ``[1, 1, H, W]``."""
    return (rgb_to_lab(a.clamp(0, 1))[:, 1:] - rgb_to_lab(b.clamp(0, 1))[:, 1:]).norm(dim=1, keepdim=True)


def seam_step(image: torch.Tensor, mask: torch.Tensor) -> float:
    """Mean ΔE76 (Lab) between hole pixels on the mask's edge and their outside 4-neighbours."""
    lab = rgb_to_lab(image.clamp(0, 1))
    hole = mask > 0.5
    steps = []
    for dy, dx in ((0, 1), (1, 0)):
        a, b = lab[..., : lab.shape[-2] - dy, : lab.shape[-1] - dx], lab[..., dy:, dx:]
        ha, hb = hole[..., : hole.shape[-2] - dy, : hole.shape[-1] - dx], hole[..., dy:, dx:]
        edge = (ha != hb)[:, 0]
        steps.append((a - b).norm(dim=1)[edge])
    cat = torch.cat(steps)
    return float(cat.mean()) if cat.numel() else math.nan


def inner_hole(mask: torch.Tensor) -> torch.Tensor:
    hole = (mask > 0.5).float()
    return 1.0 - F.max_pool2d(1.0 - hole, 2 * INNER_MARGIN + 1, stride=1, padding=INNER_MARGIN)


def run_case(case: Case, methods: dict[str, Method], seed: int) -> list[Result]:
    drifted = has_drift(case)
    hidden = hidden_copies(case.mask, case.name, seed) if drifted else None
    inner = inner_hole(case.mask)
    raw_seam = seam_step(case.image, case.mask)
    results = []
    for name, method in methods.items():
        res = Result(case.name, case.kind, name)
        start = time.perf_counter()
        out = method(case.image, case.mask, case.truth).float().clamp(0, 1)
        res.seconds = time.perf_counter() - start
        res.out = out
        if float(inner.sum()) > 0:
            res.kept_de = float((delta_e_ab(out, case.image) * inner).sum() / inner.sum())
        res.seam = seam_step(out, case.mask) - raw_seam
        res.psnr_hole = psnr(out, case.truth, (case.mask > 0.5).float())
        if hidden is not None and float(hidden.sum()) > 0:
            wider = torch.maximum(case.mask, hidden)
            hidden_out = method(case.image, wider, case.truth).float().clamp(0, 1)
            res.drift_de = mean_shift_de(hidden_out, case.truth, hidden)
            res.drift_pixel_de = float((delta_e_ab(hidden_out, case.truth) * hidden).sum() / hidden.sum())
            res.drift_psnr = psnr(hidden_out, case.truth, hidden)
        results.append(res)
        log.info("%s %s: drift %.2f seam %+.2f kept %.2f psnr %.2f (%.1fs)", case.name, name, res.drift_de, res.seam,
                 res.kept_de, res.psnr_hole, res.seconds)
    return results


def save_strip(path: Path, case: Case, results: list[Result], height: int = 192) -> None:
    """Original, raw, each method, and below each a 3x zoom on a stretch of the mask's edge."""
    hole = (case.mask[0, 0] > 0.5).numpy()
    edge = np.argwhere(hole & ~np.roll(hole, 1, axis=1))
    cy, cx = edge[len(edge) // 2] if len(edge) else (hole.shape[0] // 2, hole.shape[1] // 2)
    half = max(12, min(hole.shape) // 16)
    top, left = int(np.clip(cy - half, 0, hole.shape[0] - 2 * half)), int(np.clip(cx - half, 0, hole.shape[1] - 2 * half))
    tiles = [("original", case.truth)] + [(r.method, r.out) for r in results if r.out is not None]
    w = max(1, round(case.truth.shape[-1] * height / case.truth.shape[-2]))
    label_h, font = 16, _font(12)
    canvas = Image.new("RGB", (len(tiles) * (w + 2) - 2, 2 * height + 2 * label_h), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (label, t) in enumerate(tiles):
        arr = (t[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        x = i * (w + 2)
        canvas.paste(Image.fromarray(arr).resize((w, height), Image.LANCZOS), (x, label_h))
        zoom = Image.fromarray(arr[top : top + 2 * half, left : left + 2 * half]).resize((height, height), Image.NEAREST)
        canvas.paste(zoom, (x + (w - height) // 2 if w > height else x, 2 * label_h + height))
        draw.text((x + 2, 1), label, fill="black", font=font)
        draw.text((x + 2, height + label_h + 1), "seam, zoomed", fill="black", font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, optimize=True)


def summarise(results: list[Result], kind_filter: Callable[[str], bool], methods: list[str]) -> list[list]:
    rows = []
    for method in methods:
        sel = [r for r in results if r.method == method and kind_filter(r.kind)]
        if not sel:
            continue

        def mean(attr: str, sel: list[Result] = sel) -> str:
            values = [getattr(r, attr) for r in sel if not math.isnan(getattr(r, attr))]
            return f"{sum(values) / len(values):.2f}" if values else "-"

        raw = {r.case: r.psnr_hole for r in results if r.method == "raw"}
        worse = sum(r.psnr_hole < raw.get(r.case, -math.inf) - 0.1 for r in sel)
        rows.append([method, len(sel), mean("drift_de"), mean("drift_pixel_de"), mean("drift_psnr"), mean("kept_de"),
                     mean("seam"), mean("psnr_hole"), f"{worse}/{len(sel)}", mean("seconds")])
    return rows


HEADER = ["method", "cases", "drift (shift ΔE ab)", "drift pixel ΔE ab", "drift PSNR", "content kept ΔE ab",
          "seam (ΔE above raw)", "PSNR hole", "worse than raw >0.1 dB", "s / case"]


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with diffusion_pairs/, migan_pairs/, photos/")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"comma list of {','.join(METHODS)}")
    parser.add_argument("--fidelity-limit", type=int, default=4,
                        help="MI-GAN cases and synthetic cases per kind from the fidelity benchmark (0 = none)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gallery", action=argparse.BooleanOptionalAction, default=True,
                        help="write a strip per diffusion case into bench/gallery/")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    torch.set_num_threads(args.threads)
    names = [m.strip() for m in args.methods.split(",") if m.strip()]
    methods = make_methods(names, args.seed)
    cases = load_diffusion_cases(args.data / "diffusion_pairs")
    if args.fidelity_limit:
        cases += migan_cases(args.data / "migan_pairs", 256, args.fidelity_limit)
        cases += synthetic_cases(args.data / "photos", 256, ["hue", "field", "leak"], args.fidelity_limit, args.seed)
    results: list[Result] = []
    strips = []
    for case in cases:
        case_results = run_case(case, methods, args.seed)
        results += case_results
        if args.gallery and case.kind == "diffusion":
            path = GALLERY / f"diffusion_{_slug(case.name)}.png"
            save_strip(path, case, case_results)
            strips.append((case.name, path))
        for r in case_results:
            r.out = None
    per_case = [[r.case, r.method, f"{r.drift_de:.2f}", f"{r.kept_de:.2f}", f"{r.seam:+.2f}", f"{r.seconds:.1f}"]
                for r in results if r.kind == "diffusion"]
    command = "python -m bench.diffusion_fit " + shlex.join(argv)
    n_diff = sum(c.kind == "diffusion" for c in cases)
    parts = [
        "## RecolorizeAny after diffusion inpainting (issue 11)\n",
        f"{n_diff} real diffusion outputs (diffusion_pairs, native size, creative fills) and "
        f"{len(cases) - n_diff} recolorize-fidelity cases (MI-GAN and synthetic bleeding at 256 px, restoration). "
        "drift = output against the original on copies of the hole hidden in the known region (mean ΔE ab, PSNR; "
        "cases whose known pixels went through the VAE): shift = ΔE ab of the mean colour difference, pixel = mean "
        "per-pixel ΔE ab (mostly the decoder's lost detail); content kept = ΔE ab against the raw output deeper than "
        f"{INNER_MARGIN} px into the hole; seam = mean ΔE76 step across the mask's edge above the raw output's own; "
        "worse than raw = hole PSNR against the truth below raw's by over 0.1 dB (meaningful for restoration only).\n",
        "### Diffusion outputs (creative fills)\n",
        markdown_table(HEADER, summarise(results, lambda k: k == "diffusion", names)),
        "\n### Restoration (recolorize-fidelity cases)\n",
        markdown_table(HEADER, summarise(results, lambda k: k != "diffusion", names)),
        "\n### Per diffusion case\n",
        markdown_table(["case", "method", "drift (shift ΔE ab)", "content kept ΔE ab", "seam", "s"], per_case),
    ]
    if strips:
        parts += ["\nGallery (original, each method; below: the mask's edge zoomed):\n"]
        parts += [f"![{name}]({p.relative_to(REPO).as_posix()})" for name, p in strips]
    parts += [f"\nCommand: `{command}`  \nMachine: {machine_description()}"]
    report = "\n".join(parts)
    print(report)
    if not args.no_write:
        write_section("diffusion_fit", report)


if __name__ == "__main__":
    main()
