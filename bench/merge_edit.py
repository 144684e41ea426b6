"""MergeEdit on real editor outputs: is the photo given back outside the edit, the edit kept, the mask tight?

Cases: the seven pairs of ``../shared/data/dev/edit_pairs`` (see its README and PROVENANCE.md): Step1X-Edit,
Qwen-Image-Edit (another size, shifted about 1.6 px, squeezed), Qwen-Image-Edit-2509 and SDXL blended back through a
mask, SD 1.5 not composited. None has a true answer inside the edit, so each gets a hand-marked, generous *reference
region* around what the prompt asked to change (:data:`REFERENCE`, with the reason), and the metrics judge the result
against the original outside it and against the aligned output inside it. MergeEdit gets no mask.

Metrics (and their targets):

- ``restored``: share of the pixels farther than 32 px from the reference region that equal the original within 2
  levels (8-bit, every channel); target >= 97%.
- ``kept``: median ΔE ab (CIE76, colours blurred by 1.5 px) between the result and the aligned output where the
  output differs strongly from the original (ΔE > 20) inside the region; target <= max(6, 1.5 x the drift, the
  output's median ΔE to the original farther than 32 px from the region).
- ``tight``: share of the frame farther than 48 px from the region that the method took from the output (its mask
  > 0); target <= 3%.
- ``seam``: mean ΔE across the edge of what was taken (between each pixel just outside it and the nearest pixel taken
  fully, colours blurred by 1.5 px) minus the original's own ΔE at the same pixel pairs; target <= 2.
- ``sharp``: the result's luminance gradient energy over the aligned output's, where the output differs strongly
  inside the region; target >= 0.9.
- ``s/MP``: seconds per megapixel of the original (MergeEdit only; target <= 5 on 2 CPU threads, measured alone:
  say otherwise with ``--timing-note``).

Compared with what users do today: ``paste``: the output resized to the original's size and pasted through the
reference region (a hand-drawn mask); ``diff-mask``: the resized output pasted through a thresholded difference mask
(mean absolute difference > 0.1, opened, feathered by a 4-px Gaussian), as difference-mask nodes do; ``lab-match``:
the resized output with one global Lab mean/std match to the original (comfyui-inpaint-nodes' ColorMatch, KJNodes).

Run from the repository root::

    python -m bench.merge_edit --threads 2

writes the table into BENCHMARKS.md (section ``merge_edit``) and full-resolution crops into
``bench/gallery/merge_edit_<case>.png`` (original, output, MergeEdit, plain paste, changed mask).
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``eei_core`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from bench._report import REPO, machine_description, markdown_table, write_section
from eei_core.compose.registration import register, warp_to_original
from eei_core.pipelines.merge_edit import merge_edit
from eei_core.shared.color import rgb_to_lab, to_mono
from eei_core.shared.filters import gaussian_blur
from eei_core.shared.io import load_image

log = logging.getLogger("bench.merge_edit")

DATA = REPO.parent / "shared" / "data" / "dev" / "edit_pairs"
GALLERY = REPO / "bench" / "gallery"

#: Reference regions: ``"mask"`` (the published mask, > 127) or boxes ``(x0, y0, x1, y1)`` in the original's pixels,
#: each with why it is drawn there.
REFERENCE: dict[str, tuple[str | list[tuple[int, int, int, int]], str]] = {
    "lanpaint_qwenedit2509_gown": ("mask", "the published mask the editor was given: the dress and boots (17%)"),
    "lanpaint_qwenedit2509_gown_1024": ("mask", "same mask, at the original's size"),
    "lanpaint_sdxl_sadface": ("mask", "the published mask: mouth, cheeks and chin (4.4%)"),
    "cdocs_sd15_teacup": ("mask", "the published mask: the table's lower right where the second teacup appears"),
    "s1x_pendant": ([(430, 610, 620, 890)],
                    "the ruby pendant and its chain, from where the chain leaves the hair to below the stone, ~20 px "
                    "around it"),
    "s1x_train_plane": ([(80, 1110, 820, 1300)],
                        "the word TRAIN -> PLANE with its blue shadow, ~20 px around the letters"),
    "cachedit_qwenedit_purple_bear": (
        [(235, 150, 415, 330), (510, 150, 675, 325), (785, 150, 955, 330), (1060, 145, 1205, 335),
         (40, 355, 190, 535), (240, 490, 395, 665), (510, 485, 680, 665), (790, 485, 945, 665),
         (1055, 490, 1215, 665)],
        "the nine bears, each with its props (the prompt turned every bear purple); the captions, whose text the "
        "editor re-rendered with small glyph changes, are not part of the edit"),
}
RESTORE_DISTANCE, TIGHT_DISTANCE = 32, 48
STRONG_DELTA_E = 20.0
COLOUR_BLUR = 1.5
METHODS = ("merge-edit", "paste", "diff-mask", "lab-match")


@dataclass
class Case:
    name: str
    original: torch.Tensor  # [1, 3, H, W]
    output: torch.Tensor  # [1, 3, h, w], as the editor returned it
    region: torch.Tensor  # [1, 1, H, W] bool, the reference region
    why: str


def load_case(name: str) -> Case:
    folder = DATA / name
    original, output = load_image(folder / "input.png"), load_image(folder / "output.png")
    spec, why = REFERENCE[name]
    h, w = original.shape[-2:]
    if spec == "mask":
        region = torch.from_numpy(np.array(Image.open(folder / "mask.png").convert("L")) > 127)[None, None]
    else:
        region = torch.zeros(1, 1, h, w, dtype=torch.bool)
        for x0, y0, x1, y1 in spec:
            region[..., y0:y1, x0:x1] = True
    return Case(name, original, output, region, why)


def distance_from(region: torch.Tensor) -> np.ndarray:
    return ndimage.distance_transform_edt(~region[0, 0].numpy())


def resized(output: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if output.shape[-2:] == size:
        return output
    return F.interpolate(output, size=size, mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)


def lab_meanstd(image: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """``image`` with its global Lab mean and standard deviation matched to ``reference``'s (kornia's Lab)."""
    from kornia.color import lab_to_rgb, rgb_to_lab as k_rgb_to_lab

    a, b = k_rgb_to_lab(image), k_rgb_to_lab(reference)
    ma, sa = a.mean((2, 3), keepdim=True), a.std((2, 3), keepdim=True).clamp(min=1e-6)
    mb, sb = b.mean((2, 3), keepdim=True), b.std((2, 3), keepdim=True)
    return lab_to_rgb((a - ma) / sa * sb + mb).clamp(0, 1)


def run_methods(case: Case, methods: list[str]) -> dict[str, tuple[torch.Tensor, torch.Tensor, float]]:
    """Method -> (result, what it took from the output as a [1, 1, H, W] weight, seconds)."""
    h, w = case.original.shape[-2:]
    plain = resized(case.output, (h, w))
    out = {}
    for method in methods:
        start = time.perf_counter()
        if method == "merge-edit":
            merged = merge_edit(case.original, case.output)
            result, taken = merged.image, merged.mask
        elif method == "paste":
            taken = case.region.float()
            result = taken * plain + (1 - taken) * case.original
        elif method == "diff-mask":
            diff = (plain - case.original).abs().mean(1, keepdim=True) > 0.1
            opened = ndimage.binary_opening(diff[0, 0].numpy(), iterations=2)
            taken = gaussian_blur(torch.from_numpy(opened).float()[None, None], 4.0).clamp(0, 1)
            taken = torch.where(taken < 1e-3, torch.zeros_like(taken), taken)
            result = taken * plain + (1 - taken) * case.original
        elif method == "lab-match":
            result, taken = lab_meanstd(plain, case.original), torch.ones(1, 1, h, w)
        else:
            raise ValueError(method)
        out[method] = (result, taken, time.perf_counter() - start)
    return out


def delta_e(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (rgb_to_lab(a) - rgb_to_lab(b)).square().sum(1, keepdim=True).sqrt()


def gradient_energy(image: torch.Tensor, where: torch.Tensor) -> float:
    y = to_mono(image)
    gx, gy = y[..., :, 1:] - y[..., :, :-1], y[..., 1:, :] - y[..., :-1, :]
    return float((gx.square()[..., :-1, :] + gy.square()[..., :, :-1])[where[..., :-1, :-1]].sum())


def seam_step(result: torch.Tensor, original: torch.Tensor, taken: torch.Tensor) -> tuple[float, float]:
    """Mean ΔE between each pixel just outside what was taken and the nearest pixel taken fully (colours blurred),
    in ``result`` and in ``original``; (nan, nan) when nothing (or everything) was taken."""
    support = (taken > 0)[0, 0].numpy()
    full = (taken >= 0.999)[0, 0].numpy()
    if not full.any() or support.all():
        return float("nan"), float("nan")
    outer = ndimage.binary_dilation(support) & ~support
    _, (iy, ix) = ndimage.distance_transform_edt(~full, return_indices=True)
    oy, ox = np.nonzero(outer)
    ny, nx = iy[oy, ox], ix[oy, ox]
    steps = []
    for image in (result, original):
        lab = rgb_to_lab(gaussian_blur(image, COLOUR_BLUR))[0].numpy()
        steps.append(float(np.sqrt(((lab[:, oy, ox] - lab[:, ny, nx]) ** 2).sum(0)).mean()))
    return steps[0], steps[1]


def score(case: Case, aligned: torch.Tensor, result: torch.Tensor, taken: torch.Tensor) -> dict[str, float]:
    distance = torch.from_numpy(distance_from(case.region))[None, None]
    far = distance > RESTORE_DISTANCE
    exact = ((result - case.original).abs() * 255).amax(1, keepdim=True) <= 2.0 + 1e-3
    blurred_out, blurred_orig = gaussian_blur(aligned, COLOUR_BLUR), gaussian_blur(case.original, COLOUR_BLUR)
    drift = float(delta_e(blurred_out, blurred_orig)[far].median())
    strong = case.region & (delta_e(blurred_out, blurred_orig) > STRONG_DELTA_E)
    kept = float(delta_e(gaussian_blur(result, COLOUR_BLUR), blurred_out)[strong].median()) if strong.any() else 0.0
    outside, own = seam_step(result, case.original, taken)
    return {
        "restored": float(exact[far].float().mean()),
        "drift": drift,
        "kept": kept,
        "kept_target": max(6.0, 1.5 * drift),
        "tight": float(((taken > 0) & (distance > TIGHT_DISTANCE)).float().sum() / case.region.numel()),
        "seam": outside - own,
        "sharp": gradient_energy(result, strong) / max(gradient_energy(aligned, strong), 1e-12),
    }


def crop_box(case: Case, side: int) -> tuple[int, int, int, int]:
    """A ``side`` x ``side`` crop (x0, y0, x1, y1) inside the frame, centred on the point of the reference region's
    largest part's edge nearest to that part's centre (so the crop shows the edit and the photo around it)."""
    labels, count = ndimage.label(case.region[0, 0].numpy())
    sizes = ndimage.sum(np.ones_like(labels), labels, index=np.arange(1, count + 1))
    part = labels == 1 + int(np.argmax(sizes))
    ys, xs = np.nonzero(part & ~ndimage.binary_erosion(part))
    cy, cx = np.nonzero(part)[0].mean(), np.nonzero(part)[1].mean()
    nearest = int(np.argmin((ys - cy) ** 2 + (xs - cx) ** 2))
    h, w = case.original.shape[-2:]
    side = min(side, h, w)
    y0 = min(max(0, int(ys[nearest]) - side // 2), h - side)
    x0 = min(max(0, int(xs[nearest]) - side // 2), w - side)
    return x0, y0, x0 + side, y0 + side


def save_gallery(case: Case, tiles: list[tuple[str, torch.Tensor]], side: int) -> Path:
    x0, y0, x1, y1 = crop_box(case, side)
    label_h = 18
    try:
        font = ImageFont.load_default(size=13)
    except TypeError:
        font = ImageFont.load_default()
    width = x1 - x0
    canvas = Image.new("RGB", (len(tiles) * (width + 4) - 4, (y1 - y0) + label_h), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (label, t) in enumerate(tiles):
        t = t.expand(-1, 3, -1, -1) if t.shape[1] == 1 else t
        arr = (t[0, :, y0:y1, x0:x1].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        canvas.paste(Image.fromarray(arr), (i * (width + 4), label_h))
        draw.text((i * (width + 4) + 3, 2), label, fill="black", font=font)
    path = GALLERY / f"merge_edit_{case.name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, optimize=True)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(REFERENCE), help="comma-separated case names")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the target is for 2)")
    parser.add_argument("--crop", type=int, default=256, help="side of the gallery's full-resolution crops")
    parser.add_argument("--timing-note", default="measured alone on the machine",
                        help="how the seconds were measured, printed under the table")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md and the gallery")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    methods = args.methods.split(",")
    rows, galleries = [], []
    for name in args.cases.split(","):
        case = load_case(name)
        found = register(case.original, case.output)
        aligned, _ = warp_to_original(case.output, found)
        results = run_methods(case, methods)
        megapixels = case.original.shape[-1] * case.original.shape[-2] / 1e6
        for method, (result, taken, seconds) in results.items():
            s = score(case, aligned, result, taken)
            ok = {
                "restored": s["restored"] >= 0.97, "kept": s["kept"] <= s["kept_target"], "tight": s["tight"] <= 0.03,
                "seam": s["seam"] <= 2.0 or s["seam"] != s["seam"], "sharp": s["sharp"] >= 0.9,
            }
            mark = lambda key, text: text + ("" if ok[key] else " ✗")  # noqa: E731
            rows.append([
                name, method,
                mark("restored", f"{100 * s['restored']:.1f}%"),
                mark("kept", f"{s['kept']:.1f} / {s['kept_target']:.1f}"),
                mark("tight", f"{100 * s['tight']:.2f}%"),
                mark("seam", "-" if s["seam"] != s["seam"] else f"{s['seam']:+.2f}"),
                mark("sharp", f"{s['sharp']:.2f}"),
                f"{seconds / megapixels:.2f}" if method == "merge-edit" else "-",
            ])
            print(" | ".join(str(v) for v in rows[-1]), flush=True)
        if not args.no_write and "merge-edit" in results:
            merged, taken, _ = results["merge-edit"]
            tiles = [("original", case.original), ("output (aligned)", aligned), ("MergeEdit", merged)]
            if "paste" in results:
                tiles.append(("plain paste", results["paste"][0]))
            tiles.append(("changed mask", taken))
            galleries.append((name, save_gallery(case, tiles, args.crop)))
    header = ["case", "method", "restored (>= 97%)", "kept ΔE / target", "tight (<= 3%)", "seam ΔE (<= 2)",
              "sharp (>= 0.9)", "s/MP"]
    command = "python -m bench.merge_edit " + shlex.join(argv if argv is not None else sys.argv[1:])
    regions = "\n".join(f"- `{name}`: {why}" for name, (_, why) in REFERENCE.items() if name in args.cases)
    gallery = "\n".join(f"- `{name}`: [{p.relative_to(REPO)}]({p.relative_to(REPO)})" for name, p in galleries)
    text = (
        "## MergeEdit: an editor's output merged back into the original (no mask given)\n\n"
        f"`{command.strip()}` on {machine_description(threads=False)}, {args.threads} threads. Cases: "
        "../shared/data/dev/edit_pairs (seven real pairs). ✗ = target missed. Metrics and baselines are "
        "described in bench/merge_edit.py; `kept` is the median ΔE ab to the aligned output where it differs "
        "strongly from the original inside the reference region, against max(6, 1.5 x the drift outside). Seconds "
        f"per megapixel: {args.timing_note}.\n\n"
        + markdown_table(header, rows)
        + "\n\nReference regions (hand-marked, generous; a published mask where there is one):\n\n" + regions
        + ("\n\nGallery (full-resolution crops: original, aligned output, MergeEdit, plain paste, changed mask):\n\n"
           + gallery if gallery else "")
    )
    print(text)
    if not args.no_write:
        write_section("merge_edit", text)


if __name__ == "__main__":
    main()
