"""``eei inpaint``: the whole external-internal pipeline on one image file.

The hole (white in the mask file) is first completed in monochrome (embedded PatchMatch, or a learned model given with
``--model``), then coloured by internal learning on the known pixels of the same image::

    eei inpaint --image photo.png --mask hole.png --out filled.png --mono-out filled_mono.png --preset fast
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any, Callable

from .external.mono_inpaint import complete_mono, resolve_device
from .shared.checks import binarize_mask, check_same_size
from .shared.errors import EEIInputError

log = logging.getLogger(__name__)

PRESET_NAMES = ("fast", "learned", "paper")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``eei inpaint`` on an ``argparse`` subparsers object (handler in ``set_defaults(handler=run)``)."""
    p = subparsers.add_parser(
        "inpaint",
        help="fill a hole: complete it in monochrome, then colour it from the rest of the image",
        description=(
            "Inpaint an image with External-Internal learning (Wang et al. 2021): the hole is completed in monochrome "
            "(embedded PatchMatch, or a learned model with --model), then its colours are learned from the known "
            "pixels of the same image. Mask: white = hole, same size as the image."
        ),
    )
    p.add_argument("--image", required=True, help="input image (PNG, JPEG, ...); alpha is ignored")
    p.add_argument("--mask", required=True, help="hole mask, white = hole, same size as the image")
    p.add_argument("--out", required=True, help="where to write the inpainted colour image")
    p.add_argument("--mono-out", default=None, help="also write the completed monochrome (the external stage's output)")
    p.add_argument(
        "--model",
        default=None,
        help="learned monochrome inpainting model (.safetensors from `eei train-external`); default: PatchMatch",
    )
    p.add_argument("--preset", choices=PRESET_NAMES, default="fast", help="colorization preset (default: fast)")
    p.add_argument("--seed", type=int, default=0, help="random seed for both stages (default: 0)")
    p.add_argument("--invert-mask", action="store_true", help="treat black as the hole instead of white")
    p.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to compute (default: auto = GPU if any)"
    )
    p.add_argument("--json", action="store_true", help="print the output paths and seconds as JSON")
    p.set_defaults(handler=run)
    return p


def _bar(desc: str) -> tuple[Callable[[int, int, int, Any], None], Callable[[], None]]:
    """A tqdm progress bar on stderr driven by a ``ProgressFn``; returns the callback and a closer."""
    from tqdm import tqdm

    bar = tqdm(total=1, desc=desc, file=sys.stderr, leave=True, dynamic_ncols=True)

    def progress(level: int, step: int, total: int, preview: Any = None) -> None:
        if bar.total != total:
            bar.total = total
        bar.set_postfix_str(f"level {level}", refresh=False)
        bar.update(step - bar.n)

    return progress, bar.close


def _check_writable(path: str, flag: str) -> Path:
    """Fail before minutes of work, not after, on an output path that cannot be written."""
    from PIL import Image

    out = Path(path)
    if out.is_dir():
        raise EEIInputError(f"{flag} {path} is a folder; give a file name such as {out / 'result.png'}")
    if out.suffix.lower() not in Image.registered_extensions():
        raise EEIInputError(f"{flag} {path}: unknown image extension {out.suffix!r}; use .png or .jpg")
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run ``eei inpaint`` for parsed arguments; returns ``{"output", "mono_output", "seconds", ...}``.

    Raises:
        EEIInputError: unreadable files, a mask whose size differs from the image's, a mask with no hole pixel
            left known, a bad model file, or an output folder that does not exist.
    """
    from .internal.colorize import internal_colorize
    from .shared.io import load_image, load_mask, save_image

    start = time.perf_counter()
    out = _check_writable(args.out, "--out")
    mono_out = _check_writable(args.mono_out, "--mono-out") if args.mono_out else None
    image = load_image(args.image)
    mask = load_mask(args.mask, invert=args.invert_mask)
    check_same_size(image, mask, f"image {args.image}", f"mask {args.mask}")
    device = resolve_device(args.device, image)
    model = None
    if args.model:
        from .external.mono_model import load_mono_model

        model = load_mono_model(args.model, device=device)

    hole_ratio = float(binarize_mask(mask).mean())
    log.info("inpainting %s (%.1f%% hole) on %s", args.image, 100.0 * hole_ratio, device)
    progress, close = _bar("monochrome completion")
    try:
        mono = complete_mono(image, mask, model=model, seed=args.seed, progress=progress, device=device)
    finally:
        close()
    progress, close = _bar("colorization")
    try:
        rgb = internal_colorize(
            mono, image, mask, config=args.preset, seed=args.seed, progress=progress, device=device
        )
    finally:
        close()
    save_image(rgb.cpu(), out)
    if mono_out is not None:
        save_image(mono.cpu(), mono_out)
    result: dict[str, Any] = {
        "output": str(out),
        "mono_output": str(mono_out) if mono_out is not None else None,
        "hole_ratio": round(hole_ratio, 4),
        "external": "PatchMatch" if model is None else str(args.model),
        "preset": args.preset,
        "device": str(device),
        "seconds": round(time.perf_counter() - start, 2),
    }
    return result
