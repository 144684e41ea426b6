"""The ``eei`` command: colorize, recolorize, inpaint, merge-edit, train-external and demo.

Every subcommand shows a progress bar on stderr, prints its output path (or JSON with ``--json``), and exits with
status 2 and one line on stderr for bad input.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import torch

from .internal.colorize import internal_colorize
from .internal.config import PRESETS
from .internal.hints import parse_hints
from .pipelines.recolorize import DEFAULT_MASK_GROW, MODES, SequenceRecolorizer, masks_move_little, recolorize
from .shared.checks import check_same_size
from .shared.errors import EEICancelled, EEIInputError
from .shared.io import load_gray, load_image, load_mask, save_image
from .shared.progress import ProgressFn

ASSETS = Path(__file__).resolve().parent / "assets"


@contextmanager
def progress_bar(description: str) -> Iterator[ProgressFn]:
    """A tqdm bar on stderr fed by a :data:`~eei_core.shared.progress.ProgressFn`."""
    from tqdm import tqdm

    bar = tqdm(total=1, desc=description, file=sys.stderr, unit="step", dynamic_ncols=True, leave=False)

    def update(level: int, step: int, total: int, _preview: torch.Tensor | None) -> None:
        if bar.total != total:
            bar.total = total
        bar.set_postfix_str(f"level {level}", refresh=False)
        bar.update(step - bar.n)

    try:
        yield update
    finally:
        bar.close()


def read_hints(value: str | None):
    """``--hints`` as inline JSON or a path to a JSON file."""
    if not value:
        return None
    path = Path(value)
    if not value.lstrip().startswith(("[", "{")) and path.suffix.lower() == ".json":
        if not path.is_file():
            raise EEIInputError(f"hints file not found: {path}")
        value = path.read_text()
    return parse_hints(value)


def read_mask_for(image: torch.Tensor, path: str, invert: bool) -> torch.Tensor:
    """Load a mask (white = hole) and check that it matches the image size."""
    mask = load_mask(path, invert=invert)
    check_same_size(image, mask, "image", "mask")
    return mask


def _colorize(args: argparse.Namespace) -> dict:
    color = load_image(args.color)
    mono = load_gray(args.mono)
    check_same_size(color, mono, "color", "mono")
    mask = read_mask_for(color, args.mask, args.invert_mask)
    with progress_bar("colorize") as bar:
        out = internal_colorize(
            mono, color, mask, read_hints(args.hints), config=args.preset, levels=args.levels, seed=args.seed,
            progress=bar, device=args.device, working_size=args.working_size,
        )
    return {"output": str(save_image(out, args.out))}


#: Files read as frames when ``--image`` is a folder.
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def list_frames(folder: Path, what: str) -> list[Path]:
    """The image files of ``folder`` in name order (name frames with zero-padded numbers: 0001.png, 0002.png ...)."""
    if not folder.is_dir():
        raise EEIInputError(f"{what} must be a folder of frames like --image, got {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)
    if not files:
        raise EEIInputError(f"{what} folder {folder} holds no images ({', '.join(FRAME_SUFFIXES)})")
    return files


def _recolorize_frames(args: argparse.Namespace) -> dict:
    """``eei recolorize`` on a folder of frames: streamed one frame at a time into ``--out`` (a folder), as a
    sequence (:class:`~eei_core.pipelines.recolorize.SequenceRecolorizer`) unless the masks jump or ``--sequence off``."""
    from tqdm import tqdm

    frames = list_frames(Path(args.image), "--image")
    masks = list_frames(Path(args.mask), "--mask") if Path(args.mask).is_dir() else [Path(args.mask)]
    originals = list_frames(Path(args.original), "--original") if args.original else None
    if len(masks) not in (1, len(frames)):
        raise EEIInputError(f"--mask has {len(masks)} masks for {len(frames)} frames; give one mask per frame (in "
                            "the same name order) or one mask file for all")
    if originals is not None and len(originals) != len(frames):
        raise EEIInputError(f"--original has {len(originals)} frames, --image {len(frames)}; they must match")
    # The frame plan covers every frame's hole, so the masks are read once first (one at a time).
    union, previous, moves_little = None, None, True
    for path in masks:
        mask = load_mask(path, invert=args.invert_mask)
        union = mask if union is None else torch.maximum(union, mask)
        if previous is not None:
            moves_little = moves_little and masks_move_little(torch.cat([previous, mask]))
        previous = mask
    sequence = {"on": True, "off": False}.get(args.sequence, moves_little)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = {"config": args.preset, "mode": args.mode, "mask_grow": args.mask_grow, "levels": args.levels,
                "working_size": args.working_size, "seed": args.seed, "device": args.device}
    hints = read_hints(args.hints)
    fix = SequenceRecolorizer(plan_mask=union, **settings) if sequence else None
    seconds, written = [], []
    for i, frame_path in enumerate(tqdm(frames, desc="frames", file=sys.stderr, unit="frame", leave=False)):
        start = time.perf_counter()
        image = load_image(frame_path)
        mask = load_mask(masks[i if len(masks) > 1 else 0], invert=args.invert_mask)
        original = load_image(originals[i]) if originals is not None else None
        if fix is not None:
            out = fix(image, mask, original, hints)
        elif float(mask.max()) > 0.5:
            out = recolorize(image, mask, original, hints, sequence=False, **settings)
        else:  # a frame without a hole passes through
            out = original if original is not None else image
        written.append(save_image(out, out_dir / f"{frame_path.stem}.png"))
        seconds.append(round(time.perf_counter() - start, 3))
    return {"output": str(out_dir), "frames": len(written), "sequence": sequence, "seconds_per_frame": seconds}


def _recolorize(args: argparse.Namespace) -> dict:
    if Path(args.image).is_dir():
        return _recolorize_frames(args)
    image = load_image(args.image)
    # recolorize checks the sizes itself: a mask and original up to 8 pixels larger (a VAE's crop) are aligned.
    mask = load_mask(args.mask, invert=args.invert_mask)
    original = load_image(args.original) if args.original else None
    with progress_bar("recolorize") as bar:
        out = recolorize(
            image, mask, original, read_hints(args.hints), config=args.preset, mask_grow=args.mask_grow,
            levels=args.levels, seed=args.seed, progress=bar, device=args.device,
            mode=args.mode, working_size=args.working_size,
        )
    return {"output": str(save_image(out, args.out))}


#: The panels of the demo's side_by_side.png, left to right, as labelled above them.
DEMO_PANELS = ("input with hole", "mask", "mono completion", "result", "original")


def _demo(args: argparse.Namespace) -> dict:
    from .external.mono_inpaint import complete_mono

    out_dir = Path(args.out)
    image = load_image(ASSETS / "astronaut.png")
    mask = load_mask(ASSETS / "astronaut_mask.png")
    holed = image * (1 - mask) + mask  # what the user starts from: the hole shown in white
    with progress_bar("mono completion") as bar:
        mono = complete_mono(holed, mask, seed=args.seed, progress=bar, device=args.device)
    with progress_bar("colour restoration") as bar:
        result = internal_colorize(mono, holed, mask, config=args.preset, seed=args.seed, progress=bar, device=args.device)
    files = {
        "input": save_image(holed, out_dir / "input.png"),
        "mask": save_image(mask, out_dir / "mask.png"),
        "mono": save_image(mono, out_dir / "mono.png"),
        "result": save_image(result, out_dir / "result.png"),
    }
    from .shared.side_by_side import side_by_side

    strip = side_by_side([holed, mask, mono, result, image], list(DEMO_PANELS))
    files["side_by_side"] = save_image(strip, out_dir / "side_by_side.png")
    return {"output": str(out_dir), "files": {k: str(v) for k, v in files.items()}}


def _add_common(p: argparse.ArgumentParser, with_hints: bool = True, preset: str = "fast") -> None:
    p.add_argument("--preset", choices=sorted(PRESETS), default=preset,
                   help=f"fast (propagation at full resolution), learned (plus a correction learned on the image, "
                   f"seconds more) or paper (minutes on a CPU); default {preset}")
    p.add_argument("--levels", type=int, default=None, help="pyramid levels (default: the preset's)")
    p.add_argument("--seed", type=int, default=0, help="random seed; same seed, same result on CPU")
    if with_hints:
        p.add_argument("--hints", default=None, help="colour hints: inline JSON or a .json file, e.g. "
                       '\'[{"x":0.5,"y":0.4,"color":"#c03020","radius":4}]\'')
    p.add_argument("--device", default="auto", help="auto (GPU when present), cpu or cuda")
    p.add_argument("--working-size", type=int, default=None,
                   help="longer side in pixels at which colour is worked out (default 512; 0 = full resolution)")
    p.add_argument("--invert-mask", action="store_true", help="the mask's black pixels are the hole")
    p.add_argument("--json", action="store_true", help="print the output path and seconds as JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eei",
        description="External-internal inpainting (Wang, Ouyang & Chen, CVPR 2021): complete the hole in "
        "monochrome, then restore its colour from the image itself. Masks: white = hole.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("colorize", help="restore colour in a hole from a completed monochrome image",
                       description="Internal colour restoration: spread the known colours of COLOR into the hole "
                       "along the luminance of MONO (and, with --preset learned, learn how this image's gray maps to "
                       "colour).")
    p.add_argument("--mono", required=True, help="completed monochrome image (gray or colour file)")
    p.add_argument("--color", required=True, help="colour image; only pixels outside the mask are used")
    p.add_argument("--mask", required=True, help="hole mask (white = hole)")
    p.add_argument("--out", required=True, help="output image (.png or .jpg)")
    _add_common(p)
    p.set_defaults(handler=_colorize)

    p = sub.add_parser("recolorize", help="remove colour bleeding from another inpainter's output",
                       description="Keep the inpainted structure (luminance) and restore colour from the known pixels.")
    p.add_argument("--image", required=True, help="the other inpainter's output, or a folder of video frames "
                   "(then --mask is a folder of masks or one mask, --original a folder, --out a folder)")
    p.add_argument("--mask", required=True, help="the region it filled (white = hole)")
    p.add_argument("--original", default=None, help="the image before inpainting (default: --image)")
    p.add_argument("--sequence", choices=("auto", "on", "off"), default="auto",
                   help="frames in a folder: on = learn on the first frame and reuse it (fast, no flicker); off = "
                   "each frame on its own; auto (default) = on unless the masks jump between frames")
    p.add_argument("--mask-grow", type=int, default=DEFAULT_MASK_GROW, help="grow the mask by N pixels (seams)")
    p.add_argument("--mode", choices=list(MODES), default="auto",
                   help="; ".join(f"{name}: {what}" for name, what in MODES.items())
                   + " (the drift and the seam are fixed in every mode)")
    p.add_argument("--out", required=True, help="output image (.png or .jpg), or a folder for frames")
    _add_common(p, preset="learned")
    p.set_defaults(handler=_recolorize)

    p = sub.add_parser("demo", help="run the whole pipeline on a bundled example photo",
                       description="Writes input, mask, mono, result and side_by_side PNGs into --out.")
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="fast")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true", help="print the output paths and seconds as JSON")
    p.set_defaults(handler=_demo)

    for module in ("cli_inpaint", "cli_merge_edit", "external.train_external"):
        try:
            mod = __import__(f"{__package__}.{module}", fromlist=["add_parser"])
        except ImportError as exc:  # an optional subcommand whose module is missing must not break the others
            logging.getLogger(__name__).debug("subcommand module %s unavailable: %s", module, exc)
            continue
        mod.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``eei`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="eei: %(message)s")
    handler: Callable[[argparse.Namespace], dict] = args.handler
    start = time.perf_counter()
    try:
        result = handler(args)
    except EEIInputError as exc:
        print(f"eei {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except EEICancelled:
        print(f"eei {args.command}: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"eei {args.command}: interrupted", file=sys.stderr)
        return 130
    result["seconds"] = round(time.perf_counter() - start, 3)
    if getattr(args, "json", False):
        print(json.dumps(result))
    else:
        print(result["output"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
