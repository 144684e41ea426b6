"""RecolorizeAny on frame sequences: is the colour stable over time, and is a sequence cheaper than its frames?

Sequences are made from dev photos so that the true colours are known and static: a crop window pans over the photo
(``--frames`` frames, ``--step`` pixels a frame), and a free-form hole (eei_core.shared.masks) drifts across the frame
more slowly than the scene, as an object being removed would. Two kinds:

- ``bleed``: the hole's chroma is corrupted by a smooth colour cast (bench/corruptions.py, ``field``), the same cast
  in scene coordinates in every frame (a removal that bled the same colour throughout); luminance exact, known pixels
  exact;
- ``drift``: the same, and the whole frame carries a VAE-like colour drift (a gain and shift per channel) that changes
  slowly over time, as a per-frame diffusion decode gives; the original frames are given as ``original``.

Methods: ``independent`` (RecolorizeAny on each frame on its own), ``sequence`` (RecolorizeAny's sequence mode,
:class:`~eei_core.pipelines.recolorize.SequenceRecolorizer`: learned on the first frame, reused on the next), ``mkl`` (color-matcher per frame, the hole
matched to the known pixels, as KJNodes' Color Match on video). Metrics: hole PSNR against the photo; flicker = the mean
absolute frame-to-frame change of the hole's chroma (B - Y, R - Y, in 8-bit levels) at the same scene point, over the
points in the hole in both frames (the known pan is undone, so the static scene should show no change at all); seconds
per frame, the first frame and the rest apart.

    python -m bench.video --threads 2

Targets: flicker at most half of ``independent``'s, hole PSNR not below it, seconds per frame after the first
at most a third of the first's. The table goes into BENCHMARKS.md, section ``video``.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``eei_core`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from bench._report import REPO, machine_description, markdown_table, write_section
from bench.colour_match import color_matcher_fix
from bench.corruptions import smooth_colour_field
from bench.recolorize_fidelity import load_photo
from bench.split import split_of
from eei_core.pipelines.recolorize import SequenceRecolorizer, recolorize
from eei_core.shared.color import luma_chroma
from eei_core.shared.masks import free_form_mask
from eei_core.shared.metrics import psnr

DEFAULT_PHOTOS = REPO.parent / "shared" / "data" / "dev" / "photos"
METHODS = ("independent", "sequence", "mkl")
KINDS = ("bleed", "drift")


@dataclass
class Sequence:
    name: str
    kind: str
    truth: torch.Tensor  # [T, 3, h, w] the photo's crops
    frames: torch.Tensor  # [T, 3, h, w] what the inpainter gave
    masks: torch.Tensor  # [T, 1, h, w]
    offsets: list[tuple[int, int]]  # (dy, dx) of each crop in the photo


def make_sequence(name: str, photo: torch.Tensor, kind: str, frames: int, side: int, step: int, seed: int) -> Sequence:
    """A pan over ``photo`` with a drifting hole, its content corrupted as ``kind`` says."""
    h, w = photo.shape[-2:]
    gen = torch.Generator().manual_seed(zlib.crc32(f"{name}:{kind}".encode()) ^ seed)
    span_y, span_x = h - side, w - side
    if span_x < step * (frames - 1) and span_y < step * (frames - 1):
        raise SystemExit(f"{name} is too small for {frames} frames of {side} px panning {step} px a frame")
    horizontal = span_x >= span_y
    offsets = []
    for t in range(frames):
        shift = t * step
        offsets.append((span_y // 2, shift) if horizontal else (shift, span_x // 2))
    hole_template = free_form_mask(side, side, gen, max_strokes=2)
    # The hole in scene coordinates moves at half the pan speed: it drifts across the frame.
    field_gen = torch.Generator().manual_seed(zlib.crc32(f"{name}:field".encode()) ^ seed)
    truth, out, masks = [], [], []
    for t, (oy, ox) in enumerate(offsets):
        crop = photo[..., oy : oy + side, ox : ox + side]
        hy, hx = (oy + t * step // 2, ox - t * step // 2) if horizontal else (oy - t * step // 2, ox + t * step // 2)
        mask = torch.roll(hole_template, shifts=(hy - oy, hx - ox), dims=(2, 3)) if t else hole_template
        truth.append(crop)
        masks.append(mask)
    # One smooth cast for the whole scene (so it is the same at a scene point in every frame), cut per frame.
    cast_full = smooth_colour_field(photo, torch.ones(1, 1, h, w), field_gen) - photo
    for t, (oy, ox) in enumerate(offsets):
        crop = truth[t]
        cast = cast_full[..., oy : oy + side, ox : ox + side]
        frame = torch.where(masks[t] > 0.5, (crop + cast).clamp(0, 1), crop)
        if kind == "drift":
            a = 1.0 + 0.03 * math.sin(t / 6.0)
            gain = torch.tensor([a, 1.0, 2.0 - a]).view(1, 3, 1, 1)
            frame = (frame * gain + torch.tensor([0.01, 0.0, -0.015]).view(1, 3, 1, 1)).clamp(0, 1)
        out.append(frame)
    return Sequence(name, kind, torch.cat(truth), torch.cat(out), torch.cat(masks), offsets)


def run_method(seq: Sequence, method: str, seed: int) -> tuple[torch.Tensor, list[float]]:
    """The fixed frames ``[T, 3, h, w]`` and the seconds each frame took."""
    original = seq.truth if seq.kind == "drift" else seq.frames
    if method == "sequence":
        fix = SequenceRecolorizer(seed=seed, plan_mask=seq.masks.amax(dim=0, keepdim=True))
    outs, seconds = [], []
    for t in range(seq.frames.shape[0]):
        frame, mask = seq.frames[t : t + 1], seq.masks[t : t + 1]
        start = time.perf_counter()
        if method == "mkl":
            outs.append(color_matcher_fix(frame, mask))
        elif method == "sequence":
            outs.append(fix(frame, mask, original[t : t + 1]))
        else:
            outs.append(recolorize(frame, mask, original=original[t : t + 1], seed=seed))
        seconds.append(time.perf_counter() - start)
    return torch.cat(outs), seconds


def flicker(seq: Sequence, out: torch.Tensor) -> float:
    """Mean absolute frame-to-frame change of the hole's chroma at the same scene point, in 8-bit levels."""
    _, chroma = luma_chroma(out.clamp(0, 1))
    total, count = 0.0, 0
    for t in range(1, out.shape[0]):
        (py, px), (cy, cx) = seq.offsets[t - 1], seq.offsets[t]
        dy, dx = cy - py, cx - px  # frame t's pixel (y, x) is frame t-1's (y + dy, x + dx)
        side = out.shape[-1]
        ys, xs = slice(max(0, -dy), side - max(0, dy)), slice(max(0, -dx), side - max(0, dx))
        ys_prev, xs_prev = slice(ys.start + dy, ys.stop + dy), slice(xs.start + dx, xs.stop + dx)
        both = (seq.masks[t, 0, ys, xs] > 0.5) & (seq.masks[t - 1, 0, ys_prev, xs_prev] > 0.5)
        if not bool(both.any()):
            continue
        change = (chroma[t][:, ys, xs] - chroma[t - 1][:, ys_prev, xs_prev]).abs()[:, both]
        total += float(change.sum()) * 255
        count += change.numel()
    return total / max(count, 1)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--limit", type=int, default=4, help="photos (alternating tune / held-out halves)")
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--side", type=int, default=256, help="frame side in pixels")
    parser.add_argument("--step", type=int, default=4, help="pan in pixels a frame")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    paths = sorted(p for p in args.photos.iterdir() if p.suffix.lower() == ".png")
    halves: dict[str, list[tuple[str, torch.Tensor]]] = {"tune": [], "held-out": []}
    for p in paths:
        photo = load_photo(p, 0)
        if photo is not None and min(photo.shape[-2:]) >= args.side:
            halves[split_of(p.stem)].append((p.stem, photo))
    picked = [x for pair in zip(halves["tune"], halves["held-out"]) for x in pair][: args.limit]
    methods = [m for m in args.methods.split(",") if m]
    rows = []
    for name, photo in picked:
        for kind in args.kinds.split(","):
            seq = make_sequence(name, photo, kind, args.frames, args.side, args.step, args.seed)
            for method in methods:
                out, seconds = run_method(seq, method, args.seed)
                hole = seq.masks > 0.5
                rows.append({
                    "photo": name, "split": split_of(name), "kind": kind, "method": method,
                    "psnr": sum(psnr(out[t : t + 1], seq.truth[t : t + 1], seq.masks[t : t + 1].float())
                                for t in range(out.shape[0])) / out.shape[0],
                    "flicker": flicker(seq, out), "first": seconds[0],
                    "rest": sum(seconds[1:]) / max(1, len(seconds) - 1),
                    "known_exact": bool(torch.equal(out[~hole.expand_as(out)],
                                                    (seq.truth if kind == "drift" else seq.frames)[~hole.expand_as(out)])),
                })
                print(rows[-1], flush=True)
    table = []
    for kind in args.kinds.split(","):
        for method in methods:
            sel = [r for r in rows if r["kind"] == kind and r["method"] == method]
            if sel:
                n = len(sel)
                table.append([kind, method, n, sum(r["psnr"] for r in sel) / n, sum(r["flicker"] for r in sel) / n,
                              sum(r["first"] for r in sel) / n, sum(r["rest"] for r in sel) / n,
                              f"{sum(r['known_exact'] for r in sel)}/{n}"])
    command = "python -m bench.video " + shlex.join(argv)
    text = "\n".join([
        "## Video: RecolorizeAny on frame sequences\n",
        f"{len(picked)} dev photos ({', '.join(n for n, _ in picked)}), {args.frames} frames of {args.side}x{args.side} "
        f"panning {args.step} px a frame, a free-form hole drifting across the frame at half the pan. bleed = a smooth "
        "colour cast in the hole, fixed in the scene; drift = the same plus a VAE-like colour drift of the whole frame "
        "that changes over time (originals given). flicker = mean absolute frame-to-frame change of the hole's chroma "
        "at the same scene point (8-bit levels; the scene is static, so 0 is perfect). Seconds: the first frame, and "
        "the mean of the others.\n",
        markdown_table(["kind", "method", "sequences", "PSNR hole", "flicker", "s first frame", "s / later frame",
                        "known pixels exact"], table),
        f"\nCommand: `{command}`  \nMachine: {machine_description()}",
    ])
    print(text)
    if not args.no_write:
        write_section("video", text)


if __name__ == "__main__":
    main()
