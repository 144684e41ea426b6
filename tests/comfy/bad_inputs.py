"""The bad inputs of issue 12, as API prompts for a real ComfyUI server, each with what it must do: fail with a node
error whose message names the problem and the fix, or work with a checked output.

Used by tests/comfy/test_bad_inputs.py (one test per case) and bench/soak.py (the same cases, timed, under load).
``prepare(server)`` uploads the images and writes the model files the cases use; ``run_case(server, case, assets)``
runs one case and raises AssertionError if it does not do what its row says.

Images are the red and blue scene of scenes.py (48x64, hole in the red part). IMAGE tensors no core node makes (NaN,
values outside 0..1, one channel) come from the test-only ProbeImage node (probe_nodes/).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from harness import ComfyServer, execution_error
from PIL import Image
from scenes import H, HOLE, W, arr, colorize, gray_fill, load, make_scene, recolorize, save, upscaled, with_hole

#: Size of the stand-in for an 8K photo in the test suite (bench/soak.py runs the real 7680x4320).
LARGE_STANDIN = (1920, 1440)
#: 10,000 colour points: a 100 x 100 grid over the red part of the scene.
MANY_POINTS = 10_000
SMALL_HOLE = (slice(8, 14), slice(6, 12))  # in the 32x40 scene's red part
#: The 7x3 image's hole: the middle pixel of its red left part.
TINY_HOLE = (slice(1, 2), slice(1, 2))
GRID16_HOLE = (slice(6, 10), slice(3, 7))


@dataclass(frozen=True)
class Case:
    """One bad input. ``error``: (node class that must fail, fragments its message must contain, case-insensitive);
    ``check``: for inputs that must work, ``check(server, history_entry, assets)`` asserts on the output of node
    ``OUT``. ``row`` groups the prompts of one of the 25 inputs of the issue (a row of the report's table)."""

    name: str
    row: str
    tried: str
    prompt: Callable[[dict], dict]
    error: tuple[str, tuple[str, ...]] | None = None
    check: Callable[[ComfyServer, dict, dict], None] | None = None
    timeout: float = 180.0

    @property
    def expectation(self) -> str:
        if self.error is None:
            return "works"
        return f"{self.error[0]} error: " + " ... ".join(self.error[1])


OUT = "out"


# ----- assets ------------------------------------------------------------------------------------------------------
def _rgba(rgb: np.ndarray, hole) -> Image.Image:
    return with_hole(rgb, hole)


def _write_models(folder) -> None:
    """Broken and foreign model files in models/eei (the valid one they start from is tiny: width 4)."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    from eei_core.external.mono_model import (
        MonoInpaintGenerator,
        MonoModelConfig,
        save_mono_model,
    )

    folder.mkdir(parents=True, exist_ok=True)
    good = save_mono_model(MonoInpaintGenerator(MonoModelConfig(width=4)), folder / "eei_bad_source.safetensors")
    data = good.read_bytes()
    with safe_open(str(good), framework="pt") as f:
        meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    good.unlink()
    (folder / "eei_bad_pickle.ckpt").write_bytes(b"\x80\x04\x95never unpickled")
    (folder / "eei_bad_webpage.safetensors").write_bytes(b"<!doctype html><title>404 Not Found</title>")
    save_file({"generator.model.1.ffc.convl2l.weight": torch.zeros(4, 4, 3, 3)},
              str(folder / "eei_bad_foreign.safetensors"))
    renamed = {k.replace("coarse.", "stage1."): v for k, v in tensors.items()}
    save_file(renamed, str(folder / "eei_bad_names.safetensors"), metadata=meta)
    save_file(tensors, str(folder / "eei_bad_shapes.safetensors"),
              metadata={**meta, "eei_config": json.dumps({"width": 8, "activation": "elu"})})
    (folder / "eei_bad_truncated.safetensors").write_bytes(data[: len(data) // 2])


def prepare(server: ComfyServer) -> dict:
    """Upload the images and write the model files the cases use; returns their names and the truths to check."""
    rgb = make_scene()
    small = make_scene(32, 40)
    tiny = make_scene(3, 7, seed=5)
    grid = make_scene(16, 16, seed=6)
    one = np.zeros((1, 1, 4), np.uint8)  # a 1x1 image whose one pixel is the hole (alpha 0)
    up = server.upload_image
    assets = {
        "original": up(Image.fromarray(rgb), "eei_bad_scene.png"),
        "holed": up(_rgba(rgb, HOLE), "eei_bad_scene_holed.png"),
        "gray_fill": up(Image.fromarray(gray_fill(rgb, HOLE)), "eei_bad_scene_grayfill.png"),
        "small_holed": up(_rgba(small, SMALL_HOLE), "eei_bad_small_holed.png"),
        "one": up(Image.fromarray(one, "RGBA"), "eei_bad_1x1.png"),
        "tiny": up(_rgba(tiny, TINY_HOLE), "eei_bad_7x3.png"),
        "grid": up(_rgba(grid, GRID16_HOLE), "eei_bad_16x16.png"),
        "rgb": rgb.astype(np.float32) / 255.0,
        "tiny_rgb": tiny.astype(np.float32) / 255.0,
        "grid_rgb": grid.astype(np.float32) / 255.0,
    }
    _write_models(server.models_dir / "eei")
    return assets


# ----- prompt pieces -------------------------------------------------------------------------------------------------
def probe(image: list, edit: str, scale: float = 1.0, offset: float = 0.0) -> dict:
    return {"class_type": "ProbeImage", "inputs": {"image": image, "edit": edit, "scale": scale, "offset": offset}}


def hint(image: list, points: str) -> dict:
    return {"class_type": "ColorHint", "inputs": {"image": image, "points": points, "radius": 3}}


def solid(value: float, w: int = W, h: int = H) -> dict:
    return {"class_type": "SolidMask", "inputs": {"value": value, "width": w, "height": h}}


def colorize_graph(a: dict, image: str = "holed", mono_of: str = "original", **overrides) -> dict:
    """LoadImage(original) -> ToMonochrome (a perfect external stage) -> InternalColorize with the holed image's mask."""
    return {
        "o": load(a[mono_of]),
        "m": {"class_type": "ToMonochrome", "inputs": {"image": ["o", 0], "weights": "paper"}},
        "h": load(a[image]),
        "c": colorize(["m", 0], ["h", 0], ["h", 1], **overrides),
        OUT: save(["c", 0], "eei_bad"),
    }


def recolorize_graph(a: dict, **overrides) -> dict:
    """RecolorizeAny on a gray-filled hole, with the original and the holed image's mask."""
    return {
        "i": load(a["gray_fill"]),
        "h": load(a["holed"]),
        "r": recolorize(["i", 0], ["h", 1], ["h", 0], **overrides),
        OUT: save(["r", 0], "eei_bad"),
    }


def model_graph(a: dict, model_name: str) -> dict:
    return {
        "h": load(a["holed"]),
        "l": {"class_type": "LoadMonoInpaintModel", "inputs": {"model_name": model_name}},
        "p": {"class_type": "MonoBottleneckInpaint",
              "inputs": {"image": ["h", 0], "mask": ["h", 1], "seed": 0, "mono_model": ["l", 0]}},
        OUT: save(["p", 0], "eei_bad"),
    }


def with_nodes(graph: dict, **nodes: dict) -> dict:
    return {**graph, **nodes}


def rewire(graph: dict, node: str, **inputs: Any) -> dict:
    graph[node]["inputs"].update(inputs)
    return graph


# ----- output checks -------------------------------------------------------------------------------------------------
def output(server: ComfyServer, entry: dict) -> np.ndarray:
    (image,) = server.output_images(entry, OUT)
    return arr(image)


def known_kept(out: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> None:
    assert out.shape == truth.shape, (out.shape, truth.shape)
    error = np.abs(out[~hole] - truth[~hole]).max()
    assert error <= 1.5 / 255, f"known pixels changed by up to {error:.4f}"


def hole_red(out: np.ndarray, truth: np.ndarray, hole: np.ndarray, max_mean_error: float = 0.08) -> None:
    got = out[hole]
    r, g, b = got.mean(0)
    assert r > g + 0.3 and r > b + 0.3, f"hole should be red like its surroundings, mean colour {got.mean(0)}"
    error = np.abs(got - truth[hole]).mean()
    assert error < max_mean_error, f"hole mean colour {got.mean(0)} vs truth {truth[hole].mean(0)}"


def mask_of(hole, shape=(H, W)) -> np.ndarray:
    m = np.zeros(shape, bool)
    m[hole] = True
    return m


def scene_works(server: ComfyServer, entry: dict, a: dict, truth: np.ndarray | None = None) -> None:
    out = output(server, entry)
    truth = a["rgb"] if truth is None else truth
    known_kept(out, truth, mask_of(HOLE))
    hole_red(out, truth, mask_of(HOLE))


def tiny_works(server: ComfyServer, entry: dict, a: dict) -> None:
    out, truth = output(server, entry), a["tiny_rgb"]
    hole = mask_of(TINY_HOLE, truth.shape[:2])
    known_kept(out, truth, hole)
    hole_red(out, truth, hole)


def grid_works(server: ComfyServer, entry: dict, a: dict) -> None:
    out, truth = output(server, entry), a["grid_rgb"]
    hole = mask_of(GRID16_HOLE, truth.shape[:2])
    known_kept(out, truth, hole)
    hole_red(out, truth, hole)


def stretched(a: dict) -> np.ndarray:
    """The scene as the 'slightly out of range' case hands it on (x * 1.1 - 0.05), clamped as the nodes clamp it."""
    return np.clip(a["rgb"] * 1.1 - 0.05, 0.0, 1.0)


def large_works(server: ComfyServer, entry: dict, a: dict) -> None:
    out = output(server, entry)
    w, h = LARGE_STANDIN
    assert out.shape == (h, w, 3), out.shape
    # the hole, scaled up with the image: still red; far from it, the photo is unchanged (nearest scaling of the
    # 8-bit scene, so compared with the same scaling of the truth at a few points away from any edge)
    sy, sx = h / H, w / W
    rows = slice(int(HOLE[0].start * sy) + 4, int(HOLE[0].stop * sy) - 4)
    cols = slice(int(HOLE[1].start * sx) + 4, int(HOLE[1].stop * sx) - 4)
    r, g, b = out[rows, cols].reshape(-1, 3).mean(0)
    assert r > g + 0.3 and r > b + 0.3, f"large hole should be red, mean colour {(r, g, b)}"
    corner = out[: int(4 * sy), : int(4 * sx)].reshape(-1, 3).mean(0)
    assert np.abs(corner - a["rgb"][:4, :4].reshape(-1, 3).mean(0)).max() < 0.02


# ----- the cases -----------------------------------------------------------------------------------------------------
def _grid_points(n: int) -> str:
    side = int(round(n ** 0.5))
    xs = np.linspace(0.02, 0.5, side)  # the red part (x < 0.55)
    ys = np.linspace(0.02, 0.98, side)
    return json.dumps([{"x": round(float(x), 4), "y": round(float(y), 4), "color": "#b82b24", "radius": 1}
                       for y in ys for x in xs])


def _batch_mask(a: dict, amount: int) -> dict:
    return {
        "mi": {"class_type": "MaskToImage", "inputs": {"mask": ["h", 1]}},
        "mr": {"class_type": "RepeatImageBatch", "inputs": {"image": ["mi", 0], "amount": amount}},
        "mb": {"class_type": "ImageToMask", "inputs": {"image": ["mr", 0], "channel": "red"}},
    }


def _large(a: dict) -> dict:
    w, h = LARGE_STANDIN
    return {
        "i": load(a["gray_fill"]),
        "h": load(a["holed"]),
        "o": load(a["original"]),
        **upscaled(["i", 0], ["o", 0], ["h", 1], w, h),
        "r": recolorize(["si", 0], ["m", 0], ["so", 0]),
        OUT: save(["r", 0], "eei_bad_large"),
    }


def _slightly_out_of_range(a: dict) -> dict:
    """What an unclamped resize or colour node hands on: x * 1.1 - 0.05, into both the mono and the image input."""
    graph = with_nodes(colorize_graph(a), x=probe(["o", 0], "scale and offset", 1.1, -0.05),
                       y=probe(["h", 0], "scale and offset", 1.1, -0.05))
    rewire(graph, "m", image=["x", 0])
    return rewire(graph, "c", image=["y", 0])


NAN_FIX = ("contains NaN or infinite values", "fp32")
MODEL = "LoadMonoInpaintModel"

CASES: list[Case] = [
    Case("mask_all_hole", "mask all hole", "InternalColorize with SolidMask 1.0",
         lambda a: rewire(with_nodes(colorize_graph(a), s=solid(1.0)), "c", mask=["s", 0]),
         error=("InternalColorize", ("covers the whole image", "leave part of the image unmasked"))),
    Case("mask_no_hole", "mask with no hole", "InternalColorize with SolidMask 0.0",
         lambda a: rewire(with_nodes(colorize_graph(a), s=solid(0.0)), "c", mask=["s", 0]),
         error=("InternalColorize", ("mask has no hole", "paint the hole", "items without a hole pass through"))),
    Case("mask_size", "mask and image of different sizes", "RecolorizeAny, 64x48 image, 40x32 mask",
         lambda a: rewire(with_nodes(recolorize_graph(a), s=load(a["small_holed"])), "r", mask=["s", 1]),
         error=("RecolorizeAny", ("mask size 40x32 differs from image size 64x48", "resize mask"))),
    Case("batch_3_2", "batch sizes 2 and 3", "RecolorizeAny, image batch 3, mask batch 2",
         lambda a: rewire(with_nodes(recolorize_graph(a), **_batch_mask(a, 2),
                                     ib={"class_type": "RepeatImageBatch", "inputs": {"image": ["i", 0], "amount": 3}}),
                          "r", image=["ib", 0], mask=["mb", 0]),
         error=("RecolorizeAny", ("batch sizes do not match (image=3, original=1, mask=2)", "batch of 1"))),
    Case("image_1x1", "1x1 image", "InternalColorize on a 1x1 image whose pixel is the hole",
         lambda a: colorize_graph(a, image="one", mono_of="one"),
         error=("InternalColorize", ("covers the whole image",))),
    Case("image_7x3", "7x3 image", "InternalColorize on a 7x3 image with a 1-pixel hole",
         lambda a: colorize_graph(a, image="tiny", mono_of="tiny"), check=tiny_works),
    Case("rgba", "RGBA image", "InternalColorize, image = JoinImageWithAlpha (4 channels)",
         lambda a: rewire(with_nodes(colorize_graph(a), j={"class_type": "JoinImageWithAlpha",
                                                           "inputs": {"image": ["h", 0], "alpha": ["h", 1]}}),
                          "c", image=["j", 0]),
         check=scene_works),
    Case("gray_1ch", "grayscale single-channel image", "InternalColorize, mono = IMAGE [1,48,64,1]",
         lambda a: rewire(with_nodes(colorize_graph(a), g=probe(["m", 0], "gray 1 channel")), "c", mono=["g", 0]),
         check=scene_works),
    Case("nan", "NaN and Inf pixels", "InternalColorize, one NaN pixel in mono",
         lambda a: rewire(with_nodes(colorize_graph(a), n=probe(["m", 0], "nan pixel")), "c", mono=["n", 0]),
         error=("InternalColorize", ("mono " + NAN_FIX[0], NAN_FIX[1]))),
    Case("inf", "NaN and Inf pixels", "RecolorizeAny, one +inf pixel in original",
         lambda a: rewire(with_nodes(recolorize_graph(a), n=probe(["h", 0], "inf pixel")), "r", original=["n", 0]),
         error=("RecolorizeAny", ("original " + NAN_FIX[0], NAN_FIX[1]))),
    Case("range_255", "values outside 0..1", "RecolorizeAny, image scaled to 0..255",
         lambda a: rewire(with_nodes(recolorize_graph(a), x=probe(["i", 0], "scale and offset", 255.0)), "r",
                          image=["x", 0]),
         error=("RecolorizeAny", ("image values range from", "must be float 0..1", "divide by 255"))),
    Case("range_slight", "values outside 0..1", "InternalColorize, image and mono from x * 1.1 - 0.05 (-0.05..1.05)",
         _slightly_out_of_range, check=lambda s, e, a: scene_works(s, e, a, stretched(a))),
    Case("large", "8K image on CPU", f"RecolorizeAny at {LARGE_STANDIN[0]}x{LARGE_STANDIN[1]} (the suite's stand-in; "
         "the soak runs 7680x4320)", _large, check=large_works, timeout=300),
    Case("hints_empty", "empty hint JSON", "ColorHint with points = '' into InternalColorize",
         lambda a: rewire(with_nodes(colorize_graph(a), p=hint(["h", 0], "")), "c", hints=["p", 0]),
         check=scene_works),
    Case("hints_type", "hint JSON of a wrong type", "ColorHint points = a single object, not a list",
         lambda a: rewire(with_nodes(colorize_graph(a), p=hint(["h", 0], '{"x": 0.5, "y": 0.5, "color": "#ff0000"}')),
                          "c", hints=["p", 0]),
         error=("ColorHint", ("must be a list of points, got a single object", "put it in a list"))),
    Case("hints_outside", "hint coordinates outside 0..1", "ColorHint point x = 1.5",
         lambda a: rewire(with_nodes(colorize_graph(a),
                                     p=hint(["h", 0], '[{"x": 1.5, "y": 0.5, "color": "#ff0000"}]')),
                          "c", hints=["p", 0]),
         error=("ColorHint", ("hint 0: 'x' = 1.5 is outside 0..1", "fractions of the image size"))),
    Case("hints_colour", "unparseable hint colour", "ColorHint colour 'reddish'",
         lambda a: rewire(with_nodes(colorize_graph(a),
                                     p=hint(["h", 0], '[{"x": 0.5, "y": 0.5, "color": "reddish"}]')),
                          "c", hints=["p", 0]),
         error=("ColorHint", ("'reddish' is not a colour", "'#rrggbb'"))),
    Case("hints_10000", "10,000 hint points", "ColorHint with 10,000 points (red, radius 1) into InternalColorize",
         lambda a: rewire(with_nodes(colorize_graph(a), p=hint(["h", 0], _grid_points(MANY_POINTS))),
                          "c", hints=["p", 0]),
         check=scene_works),
    Case("model_pickle", "mono model file that is not safetensors", "LoadMonoInpaintModel 'eei_bad_pickle.ckpt'",
         lambda a: model_graph(a, "eei_bad_pickle.ckpt"),
         error=(MODEL, ("only .safetensors model files are loaded", "arbitrary code"))),
    Case("model_webpage", "mono model file that is not safetensors",
         "LoadMonoInpaintModel 'eei_bad_webpage.safetensors' (an HTML page)",
         lambda a: model_graph(a, "eei_bad_webpage.safetensors"),
         error=(MODEL, ("not a readable safetensors file", "download or export it again"))),
    Case("model_foreign", "safetensors with wrong tensor names", "LoadMonoInpaintModel, a LaMa-like file",
         lambda a: model_graph(a, "eei_bad_foreign.safetensors"),
         error=(MODEL, ("is not an EEI mono model", "Load Inpaint Model"))),
    Case("model_names", "safetensors with wrong tensor names", "LoadMonoInpaintModel, EEI header, renamed tensors",
         lambda a: model_graph(a, "eei_bad_names.safetensors"),
         error=(MODEL, ("weights do not fit the network", "missing: coarse.", "unexpected: stage1."))),
    Case("model_shapes", "safetensors with wrong shapes", "LoadMonoInpaintModel, width 4 weights, width 8 header",
         lambda a: model_graph(a, "eei_bad_shapes.safetensors"),
         error=(MODEL, ("weights do not fit the network", "wrong shape"))),
    Case("model_truncated", "truncated safetensors file", "LoadMonoInpaintModel, first half of a valid file",
         lambda a: model_graph(a, "eei_bad_truncated.safetensors"),
         error=(MODEL, ("not a readable safetensors file", "truncated"))),
    Case("model_outside", "model path outside the models folder", "LoadMonoInpaintModel '../../etc/passwd'",
         lambda a: model_graph(a, "../../etc/passwd"),
         error=(MODEL, ("points outside ComfyUI/models/eei", "pick a file listed"))),
    Case("model_absolute", "model path outside the models folder", "LoadMonoInpaintModel '/etc/passwd'",
         lambda a: model_graph(a, "/etc/passwd"),
         error=(MODEL, ("points outside ComfyUI/models/eei",))),
    Case("mask_grow", "mask_grow larger than the image", "RecolorizeAny mask_grow 256 on 64x48",
         lambda a: rewire(recolorize_graph(a), "r", mask_grow=256),
         error=("RecolorizeAny", ("grows the mask over the whole image", "smaller mask_grow"))),
    Case("levels_12", "levels 12 on a 16x16 image", "InternalColorize levels 12, 16x16 image, 4x4 hole",
         lambda a: colorize_graph(a, image="grid", mono_of="grid", levels=12), check=grid_works),
    Case("soft_half", "soft mask 0.5 everywhere", "RecolorizeAny with SolidMask 0.5",
         lambda a: rewire(with_nodes(recolorize_graph(a), s=solid(0.5)), "r", mask=["s", 0]),
         error=("RecolorizeAny", ("mask has no hole", "largest value is 0.50", "above 0.5"))),
    Case("mode_unknown", "(extra) mode not in the list, sent to the API", "RecolorizeAny mode 'bogus'",
         lambda a: rewire(recolorize_graph(a), "r", mode="bogus"),
         error=("RecolorizeAny", ("unknown mode 'bogus'", "choose one of"))),
]


# ----- running -------------------------------------------------------------------------------------------------------
def run_case(server: ComfyServer, case: Case, assets: dict) -> dict:
    """Run one case and check it; returns ``{"seconds", "outcome"}`` (outcome: the error message, or "works").

    Raises:
        AssertionError: the case did not fail as it must, or its output is wrong; the server died.
    """
    start = time.perf_counter()
    entry = server.wait(server.queue_prompt(case.prompt(assets)), timeout=case.timeout)
    seconds = time.perf_counter() - start
    status = entry["status"].get("status_str")
    error = execution_error(entry)
    if case.error is None:
        assert status == "success", f"{case.name} must work: {error and error.get('exception_message')}"
        case.check(server, entry, assets)
        outcome = "works"
    else:
        node, fragments = case.error
        assert status == "error" and error is not None, f"{case.name} must fail, got {entry['status']}"
        message = error["exception_message"]
        assert error["node_type"] == node, (case.name, error["node_type"], message)
        assert error["exception_type"].endswith("EEIInputError"), (case.name, error["exception_type"], message)
        for fragment in fragments:
            assert fragment.lower() in message.lower(), f"{case.name}: {fragment!r} not in {message!r}"
        outcome = message
    assert server.alive(), f"the server died on {case.name}"
    return {"seconds": seconds, "outcome": outcome}


def good_prompt_works(server: ComfyServer, assets: dict) -> float:
    """A good prompt after the bad ones: InternalColorize on the scene, with its output checked. Returns seconds."""
    start = time.perf_counter()
    entry = server.run(colorize_graph(assets, seed=7), timeout=120)
    scene_works(server, entry, assets)
    return time.perf_counter() - start
