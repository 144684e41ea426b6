"""The before/after images of the node help pages (web/docs/<Node>.png) and the seconds each step took.

Every image is made by the pack itself on the bundled photo (eei_core/assets/astronaut.png, 256x256, with its demo
hole): two or three panels of 128x128 under labels (eei_core.shared.side_by_side). The seconds are those of the core
function each node calls, on this machine with 2 torch threads, one call each after a warm-up call; the load average
is printed with them, since other processes may have been running.

    .venv/bin/python -m bench.help_images            # writes web/docs/*.png, prints the timings as a table
    .venv/bin/python -m bench.help_images --model m.safetensors   # also LoadMonoInpaintModel.png with that model
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from eei_core import internal_colorize, parse_hints, recolorize, to_mono
from eei_core.cli import ASSETS
from eei_core.external.mono_inpaint import complete_mono
from eei_core.shared.color import luma_chroma, rgb_from_luma_chroma
from eei_core.shared.io import load_image, load_mask, save_image
from eei_core.shared.side_by_side import side_by_side

DOCS = Path(__file__).resolve().parents[1] / "web" / "docs"
PANEL = 128
#: A hint placed in the hole over the orange suit (the stroke at the lower left), in blue: the suit turns blue there.
HINT = '[{"x": 0.27, "y": 0.64, "color": "#2050d0", "radius": 6}]'


def small(image: torch.Tensor) -> torch.Tensor:
    """A panel: the image shrunk to PANEL x PANEL (area average)."""
    return F.interpolate(image, size=(PANEL, PANEL), mode="area").clamp(0, 1)


def cpu_name() -> str:
    """The processor's model name (Linux /proc/cpuinfo), or what the platform module says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def timed(label: str, times: dict, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, after a warm-up call, with its seconds stored under ``label``."""
    fn(*args, **kwargs)
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    times[label] = time.perf_counter() - start
    return out


def bleed(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The photo with a strong magenta cast in the hole, luma kept: colour bleeding as an inpainter leaves it."""
    y, chroma = luma_chroma(image)
    cast = torch.tensor([0.12, 0.16]).view(1, 2, 1, 1)
    return (rgb_from_luma_chroma(y, chroma + cast * mask)).clamp(0, 1) * mask + image * (1 - mask)


def editor_output(photo: torch.Tensor) -> torch.Tensor:
    """The photo as a whole-image editor returns it: a cat (scikit-image's chelsea) put on the suit by the prompt, the
    whole picture shifted by 2 pixels and given a warm colour cast."""
    from skimage import data

    cat = torch.from_numpy(data.chelsea()).permute(2, 0, 1)[None].float() / 255
    edited = photo.clone()
    edited[..., 150:214, 40:104] = F.interpolate(cat, size=(64, 64), mode="area")
    edited = torch.roll(edited, shifts=(2, 2), dims=(2, 3))
    return (edited * torch.tensor([1.08, 1.0, 0.9]).view(1, 3, 1, 1) + 0.02).clamp(0, 1)


def save(name: str, panels: list[torch.Tensor], labels: list[str]) -> Path:
    path = save_image(side_by_side([small(p) for p in panels], labels), DOCS / f"{name}.png")
    print(f"{path.relative_to(DOCS.parents[1])}: {path.stat().st_size // 1024} KB")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="a mono model (.safetensors) for LoadMonoInpaintModel.png")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    times: dict[str, float] = {}
    load_before = os.getloadavg()[0]

    photo = load_image(ASSETS / "astronaut.png")
    mask = load_mask(ASSETS / "astronaut_mask.png")
    holed = photo * (1 - mask) + mask

    mono = timed("ToMonochrome (to_mono)", times, to_mono, photo)
    save("ToMonochrome", [photo, mono], ["image", "mono"])

    completed = timed("MonoBottleneckInpaint (PatchMatch)", times, complete_mono, holed, mask, seed=0)
    save("MonoBottleneckInpaint", [holed, completed], ["image + hole", "mono"])

    result = timed("InternalColorize (fast)", times, internal_colorize, completed, holed, mask, config="fast", seed=0)
    save("InternalColorize", [completed, result], ["mono", "result"])

    hints = timed("ColorHint (parse points)", times, parse_hints, HINT)
    hinted = timed("InternalColorize (fast) with the hint", times, internal_colorize, completed, holed, mask, hints,
                   config="fast", seed=0)
    save("ColorHint", [result, hinted], ["no hint", "blue hint"])

    bled = bleed(photo, mask)
    fixed = timed("RecolorizeAny (learned, auto, original)", times, recolorize, bled, mask, photo, config="learned",
                  seed=0)
    save("RecolorizeAny", [bled, fixed], ["inpainted", "recolorized"])

    from eei_core.pipelines.merge_edit import merge_edit

    edited = editor_output(photo)
    merged = timed("MergeEdit (keep new content)", times, merge_edit, photo, edited, seed=0)
    save("MergeEdit", [photo, edited, merged.image], ["original", "edited", "merged"])

    if args.model:
        from eei_core.external.mono_model import load_mono_model

        model = timed("LoadMonoInpaintModel (load)", times, load_mono_model, args.model)
        by_model = timed("MonoBottleneckInpaint (model)", times, complete_mono, holed, mask, model=model, seed=0)
        save("LoadMonoInpaintModel", [holed, by_model], ["image + hole", "model's mono"])

    print(f"\nMachine: {cpu_name()}, {os.cpu_count()} cores, torch "
          f"{torch.__version__} using {torch.get_num_threads()} threads; load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after (other processes were running when it is above 0)\n")
    print("| step (256x256, hole 9%) | seconds |\n|---|---|")
    for label, seconds in times.items():
        print(f"| {label} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
