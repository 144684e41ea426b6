"""``eei merge-edit``: after a whole-image editor, keep the edit and give back the rest of the original photo.

::

    eei merge-edit --original photo.png --edited kontext_output.png --out merged.png [--mask hint.png]
        [--mask-out changed.png] [--sensitivity 0.5] [--mode keep|auto|restore|replace]

The edit may have another size than the original (its aspect within 25%); it is registered, the changed region is
found (or looked for within ``--mask``), and the result is written at the original's size (see
:mod:`eei_core.pipelines.merge_edit`).
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from PIL import Image

from .compose.changes import DEFAULT_SENSITIVITY
from .pipelines.merge_edit import MERGE_MODES

log = logging.getLogger(__name__)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``eei merge-edit`` on an ``argparse`` subparsers object (handler in ``set_defaults(handler=run)``)."""
    p = subparsers.add_parser(
        "merge-edit",
        help="merge an instruction editor's output into the original: keep the edit, give back the rest",
        description="After a whole-image editor (Qwen-Image-Edit, FLUX Kontext, Step1X-Edit ...): align its output "
        "with the original, find what the prompt changed, and write the original with only that part taken from the "
        "edit (its colour drift removed, no seam). Pixels outside the changed region are the original's exactly.",
    )
    p.add_argument("--original", required=True, help="the image given to the editor")
    p.add_argument("--edited", required=True, help="what the editor returned (any size of a similar aspect)")
    p.add_argument("--out", required=True, help="merged image (.png or .jpg), at the original's size")
    p.add_argument("--mask", default=None, help="optional hint where the edit is (white = edited), the original's "
                   "size; changes are looked for only there")
    p.add_argument("--mask-out", default=None, help="also write the mask of what was taken from the edit (white)")
    p.add_argument("--invert-mask", action="store_true", help="the --mask's black pixels mark the edit")
    p.add_argument("--sensitivity", type=float, default=DEFAULT_SENSITIVITY,
                   help=f"0..1 (default {DEFAULT_SENSITIVITY}): higher finds fainter changes")
    p.add_argument("--mode", choices=list(MERGE_MODES), default="keep",
                   help="; ".join(f"{name}: {what}" for name, what in MERGE_MODES.items()))
    p.add_argument("--seed", type=int, default=0, help="random seed (auto, restore and replace modes)")
    p.add_argument("--device", default="auto", help="auto (GPU when present), cpu or cuda")
    p.add_argument("--json", action="store_true", help="print the output paths, the transform found and seconds as "
                   "JSON")
    p.set_defaults(handler=run)
    return p


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run ``eei merge-edit`` for parsed arguments; returns ``{"output", "mask_output", "registration", ...}``.

    Raises:
        EEIInputError: unreadable files, a mask whose size is not the original's, an edit that cannot be registered
            or that changed most of the picture (:func:`~eei_core.pipelines.merge_edit.merge_edit`).
    """
    from .cli import progress_bar
    from .pipelines.merge_edit import merge_edit
    from .shared.checks import check_same_size
    from .shared.errors import EEIInputError
    from .shared.io import load_image, load_mask, save_image

    for flag, path in (("--out", args.out), ("--mask-out", args.mask_out)):
        if path and "." + path.rsplit(".", 1)[-1].lower() not in Image.registered_extensions():
            raise EEIInputError(f"{flag} {path}: unknown image extension; use .png or .jpg")
    original = load_image(args.original)
    edited = load_image(args.edited)
    mask = None
    if args.mask:
        mask = load_mask(args.mask, invert=args.invert_mask)
        check_same_size(original, mask, f"original {args.original}", f"mask {args.mask}")
    with progress_bar("merge-edit") as bar:
        result = merge_edit(original, edited, mask, sensitivity=args.sensitivity, mode=args.mode, seed=args.seed,
                            progress=bar, device=args.device)
    found = result.registrations[0]
    log.info("%s", found.describe())
    out: dict[str, Any] = {
        "output": str(save_image(result.image, args.out)),
        "mask_output": str(save_image(result.mask, args.mask_out)) if args.mask_out else None,
        "registration": {"zoom": [round(z, 5) for z in found.zoom],
                         "shift_pixels": [round(s, 3) for s in found.shift_pixels],
                         "correlation": round(found.correlation, 3)},
        "changed_share": round(result.changed_shares[0], 5),
    }
    return out
