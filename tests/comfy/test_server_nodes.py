"""The EEI nodes in a real ComfyUI server: schema (/object_info), end-to-end runs through POST /prompt with pixel
checks, batches, progress over the websocket, Cancel, and errors from bad inputs.

Images are small synthetic scenes made here; the hole's true colours are removed from what the server receives, so a
plausible colour in the hole has to be learned. Everything uses the fast preset except the Cancel test.
"""

from __future__ import annotations

import io
import json
import struct
import time
from pathlib import Path

import numpy as np
import pytest
from harness import ComfyError, execution_error, resident_mib, status_events
from PIL import Image
from scenes import H, HOLE, W, arr, colorize, gray_fill, load, luma, make_scene, recolorize, save, with_hole

pytestmark = pytest.mark.comfy

EEI_NODES = ["ToMonochrome", "MonoBottleneckInpaint", "LoadMonoInpaintModel", "InternalColorize", "RecolorizeAny",
             "ColorHint"]


# ----- scene ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scene(comfy_server):
    rgb = make_scene()
    names = {
        "original": comfy_server.upload_image(Image.fromarray(rgb), "eei_scene.png"),
        "holed": comfy_server.upload_image(with_hole(rgb), "eei_scene_holed.png"),
    }
    hole = np.zeros((H, W), bool)
    hole[HOLE] = True
    return {"rgb": rgb.astype(np.float32) / 255.0, "hole": hole, **names}


# ----- prompt building -----------------------------------------------------------------------------------------------
def colorize_prompt(scene: dict, prefix: str, **overrides) -> dict:
    """LoadImage(original) -> ToMonochrome = a perfect external stage; the colorizer gets the holed image and mask."""
    return {
        "1": load(scene["original"]),
        "2": {"class_type": "ToMonochrome", "inputs": {"image": ["1", 0], "weights": "paper"}},
        "3": load(scene["holed"]),
        "4": colorize(["2", 0], ["3", 0], ["3", 1], **overrides),
        "5": save(["4", 0], prefix),
    }


def assert_known_unchanged(out: np.ndarray, scene: dict) -> None:
    known = ~scene["hole"]
    assert out.shape == scene["rgb"].shape
    # PNG in, PNG out: composited known pixels come back to the same 8-bit value
    assert np.abs(out[known] - scene["rgb"][known]).max() <= 1.5 / 255


def assert_hole_colour_plausible(out: np.ndarray, scene: dict, max_mean_error: float = 0.08) -> None:
    hole = scene["hole"]
    got, truth = out[hole], scene["rgb"][hole]
    r, g, b = got.mean(0)
    assert r > g + 0.3 and r > b + 0.3, f"hole should be red like its surroundings, mean colour {got.mean(0)}"
    assert np.abs(got - truth).mean() < max_mean_error, f"hole mean colour {got.mean(0)} vs truth {truth.mean(0)}"
    assert not np.any(np.all(np.abs(got - [1.0, 0.0, 1.0]) < 0.05, axis=-1)), "magenta from the input leaked"


# ----- schema --------------------------------------------------------------------------------------------------------
def test_object_info_lists_every_node_with_tooltips(comfy_server):
    info = comfy_server.object_info()
    for name in EEI_NODES:
        assert name in info, f"{name} missing from /object_info; server log:\n{comfy_server.log_text()}"
        node = info[name]
        assert node["category"] == "image/inpaint/EEI"
        assert node["display_name"].endswith("(EEI)")
        assert len(node["description"]) > 40
        assert node["python_module"].startswith("custom_nodes.")
        for section in ("required", "optional"):
            for input_name, (kind, options) in node["input"].get(section, {}).items():
                assert options.get("tooltip"), f"{name}.{input_name} has no tooltip"
                if kind in ("INT", "FLOAT"):
                    assert {"min", "max", "step", "default"} <= options.keys(), f"{name}.{input_name}: {options}"
                if kind == "COMBO":
                    assert isinstance(options["options"], list)
        assert all(node["output_tooltips"])


def test_object_info_types_and_choices(comfy_server):
    info = comfy_server.object_info()
    colorize_in = info["InternalColorize"]["input"]
    assert sorted(colorize_in["required"]["preset"][1]["options"]) == ["fast", "learned", "paper"]
    assert colorize_in["required"]["preset"][1]["default"] == "fast"
    recolorize_in = info["RecolorizeAny"]["input"]
    assert recolorize_in["required"]["preset"][1]["default"] == "learned"
    assert colorize_in["required"]["keep_luminance"] == ["BOOLEAN", colorize_in["required"]["keep_luminance"][1]]
    assert colorize_in["required"]["keep_luminance"][1]["default"] is True
    assert colorize_in["required"]["composite"][1]["default"] is True
    assert colorize_in["required"]["levels"][1]["min"] == 0
    assert colorize_in["optional"]["hints"][0] == "EEI_HINTS"
    assert info["ToMonochrome"]["input"]["required"]["weights"][1]["options"] == ["paper", "bt601", "bt709"]
    assert info["ColorHint"]["output"] == ["EEI_HINTS"]
    assert info["ColorHint"]["input"]["required"]["points"][1]["default"] == "[]"
    mono_in = info["MonoBottleneckInpaint"]["input"]["optional"]
    assert mono_in["mono_model"][0] == "EEI_MONO_MODEL" and mono_in["inpaint_model"][0] == "INPAINT_MODEL"
    assert info["LoadMonoInpaintModel"]["output"] == ["EEI_MONO_MODEL"]
    recolor_in = info["RecolorizeAny"]["input"]
    assert recolor_in["optional"]["original"][0] == "IMAGE"
    assert recolor_in["required"]["mask_grow"][1]["min"] == 0
    mode = recolor_in["optional"]["mode"]
    assert mode[1]["options"] == ["auto", "restore", "keep new content", "replace"] and mode[1]["default"] == "auto"
    for name in EEI_NODES:
        if name not in ("LoadMonoInpaintModel", "ColorHint"):
            assert info[name]["output"] == ["IMAGE"], name


# ----- end to end ----------------------------------------------------------------------------------------------------
def test_to_monochrome_matches_the_weights(comfy_server, scene):
    prompt = {
        "1": load(scene["original"]),
        "2": {"class_type": "ToMonochrome", "inputs": {"image": ["1", 0], "weights": "paper"}},
        "3": {"class_type": "ToMonochrome", "inputs": {"image": ["1", 0], "weights": "bt709"}},
        "4": save(["2", 0], "eei_mono_paper"),
        "5": save(["3", 0], "eei_mono_bt709"),
    }
    entry = comfy_server.run(prompt)
    paper = arr(comfy_server.output_images(entry, "4")[0])
    bt709 = arr(comfy_server.output_images(entry, "5")[0])
    assert np.abs(paper[..., 0] - paper[..., 2]).max() == 0 and np.abs(paper[..., 0] - paper[..., 1]).max() == 0
    assert np.abs(paper[..., 0] - luma(scene["rgb"])).max() <= 1 / 255
    want709 = scene["rgb"] @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    assert np.abs(bt709[..., 0] - want709).max() <= 1 / 255
    assert np.abs(bt709[..., 0] - paper[..., 0]).max() > 0.05  # red and blue regions differ between the weights


def test_internal_colorize_fills_hole_with_surrounding_colour(comfy_server, scene):
    entry = comfy_server.run(colorize_prompt(scene, "eei_colorize"))
    out = arr(comfy_server.output_images(entry, "5")[0])
    assert_known_unchanged(out, scene)
    assert_hole_colour_plausible(out, scene)
    # keep_luminance: the hole has the mono image's luma
    assert np.abs(luma(out[scene["hole"]]) - luma(scene["rgb"][scene["hole"]])).max() < 4 / 255


def test_internal_colorize_batch_with_one_mask(comfy_server, scene):
    prompt = colorize_prompt(scene, "eei_colorize_batch", seed=1)
    prompt["6"] = {"class_type": "RepeatImageBatch", "inputs": {"image": ["2", 0], "amount": 2}}
    prompt["7"] = {"class_type": "RepeatImageBatch", "inputs": {"image": ["3", 0], "amount": 2}}
    prompt["4"]["inputs"].update(mono=["6", 0], image=["7", 0])  # mask stays a batch of one
    entry = comfy_server.run(prompt, timeout=120)
    outs = [arr(im) for im in comfy_server.output_images(entry, "5")]
    assert len(outs) == 2
    for out in outs:
        assert_known_unchanged(out, scene)
        assert_hole_colour_plausible(out, scene)


def test_color_hint_shows_image_and_steers_the_colour(comfy_server, scene):
    cy, cx = (HOLE[0].start + HOLE[0].stop) / 2, (HOLE[1].start + HOLE[1].stop) / 2
    points = json.dumps([{"x": cx / W, "y": cy / H, "color": "#00ff00", "radius": 3}])
    prompt = colorize_prompt(scene, "eei_colorize_hint")
    prompt["6"] = {"class_type": "ColorHint", "inputs": {"image": ["3", 0], "points": points, "radius": 3}}
    prompt["4"]["inputs"]["hints"] = ["6", 0]
    entry = comfy_server.run(prompt)
    # the node shows its input image (the picker places points on it), under its own ui key (nodes/color_hint.py
    # PICKER_IMAGES), not "images", so that the frontend adds no preview of its own below the picker
    (shown,) = comfy_server.output_images(entry, "6", key="eei_picker_images")
    assert entry["outputs"]["6"]["eei_picker_images"][0]["type"] == "temp"
    assert "images" not in entry["outputs"]["6"]
    assert shown.size == (W, H)
    assert np.abs(arr(shown)[~scene["hole"]] - scene["rgb"][~scene["hole"]]).max() <= 1 / 255
    out = arr(comfy_server.output_images(entry, "5")[0])
    assert_known_unchanged(out, scene)
    at_point = out[int(cy) - 1:int(cy) + 1, int(cx) - 1:int(cx) + 1].reshape(-1, 3).mean(0)
    assert at_point[1] > at_point[0], f"the green hint should win at its point, got {at_point}"


def test_recolorize_any_fixes_a_wrong_colour(comfy_server, scene):
    # an "inpainter" that got the structure right but the colour wrong: the hole is filled with the right luma, gray
    rgb = (scene["rgb"] * 255).round().astype(np.uint8)
    bad = comfy_server.upload_image(Image.fromarray(gray_fill(rgb, scene["hole"])), "eei_gray_fill.png")
    prompt = {
        "1": load(bad),
        "2": load(scene["holed"]),
        "3": recolorize(["1", 0], ["2", 1], ["2", 0]),
        "4": save(["3", 0], "eei_recolorize"),
    }
    out = arr(comfy_server.output_images(comfy_server.run(prompt), "4")[0])
    assert_known_unchanged(out, scene)
    assert_hole_colour_plausible(out, scene)


def test_recolorize_any_after_a_creative_fill_with_a_soft_mask_and_a_vae_crop(comfy_server):
    # What a diffusion workflow hands RecolorizeAny: a 72x70 photo and a feathered mask (LoadImage's alpha), and a
    # decoded result 64x64 (VAE Encode for Inpainting cropped rows 4..68, columns 3..67) showing a new green object
    # with shaded stripes, as drawn content has (a plain single colour carries no pattern to tell it from a cast), and
    # the decoder's colour drift over the whole image.
    h, w = 72, 70
    photo = make_scene(h, w, seed=3).astype(np.float32) / 255.0
    yy, xx = np.mgrid[0:h, 0:w]
    core = (np.abs(yy - 36) < 10) & (np.abs(xx - 22) < 10)
    feather = np.clip(1.0 - (np.maximum(np.abs(yy - 36), np.abs(xx - 22)) - 9) / 6.0, 0.0, 1.0)  # 1 in the core
    green = np.array([0.15, 0.75, 0.25], np.float32)
    shading = (0.75 + 0.25 * np.sin(xx / 1.5))[..., None].astype(np.float32)
    drawn = np.where(feather[..., None] > 0, green * shading, photo)  # the user asked for a green object
    drift = np.array([1.03, 0.99, 0.94], np.float32), np.array([0.02, 0.01, -0.02], np.float32)
    decoded = np.clip(drawn * drift[0] + drift[1], 0, 1)[4:68, 3:67]
    rgba = np.dstack([photo, 1.0 - feather])
    names = {
        "result": comfy_server.upload_image(Image.fromarray((decoded * 255).round().astype(np.uint8)), "eei_sd.png"),
        "photo": comfy_server.upload_image(Image.fromarray((rgba * 255).round().astype(np.uint8), "RGBA"),
                                           "eei_sd_photo.png"),
    }
    prompt = {
        "1": load(names["result"]),
        "2": load(names["photo"]),
        "3": recolorize(["1", 0], ["2", 1], ["2", 0]),
        "4": save(["3", 0], "eei_creative"),
    }
    out = arr(comfy_server.output_images(comfy_server.run(prompt), "4")[0])
    assert out.shape == (64, 64, 3)
    alpha = np.round((1.0 - feather) * 255).astype(np.uint8)
    mask = 1.0 - alpha.astype(np.float32) / 255.0  # as LoadImage reads the alpha back
    crop = (slice(4, 68), slice(3, 67))
    untouched = mask[crop] == 0
    assert np.abs(out[untouched] - photo[crop][untouched]).max() <= 1.5 / 255  # the original, exactly
    # The node gives what the library gives on the same (8-bit) arrays, up to the PNG's rounding of the output.
    def library(decoded_image: np.ndarray) -> np.ndarray:
        import torch

        from eei_core.pipelines.recolorize import recolorize as recolorize_library

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)[None]

        fixed = recolorize_library(t(decoded_image), torch.from_numpy(mask)[None, None],
                                   t(np.round(photo * 255) / 255))
        return fixed[0].permute(1, 2, 0).numpy()

    decoded_8bit = np.round(decoded * 255) / 255
    assert np.abs(out - library(decoded_8bit)).max() <= 1.5 / 255
    # the object keeps its green, without the drift (the decoded green is off by up to 0.04; the scene's colours by
    # far more). measured: 0.0149 (library and server alike; on an Intel Xeon the server once gave 0.033 where the
    # verdict sat on a knife edge, which a quarter of a level of noise moved between 0.009 and 0.126)
    object_colour, drawn_colour = out[core[crop]].mean(0), drawn[crop][core[crop]].mean(0)
    assert np.abs(object_colour - drawn_colour).max() < 0.02, (object_colour, drawn_colour)
    # and no decision sits on a knife edge: a quarter of a level of noise moves the object's colour by a hair
    noise = np.random.default_rng(0).normal(0.0, 0.25 / 255, decoded_8bit.shape)
    perturbed = library(np.clip(decoded_8bit + noise, 0, 1))[core[crop]].mean(0)
    assert np.abs(perturbed - object_colour).max() < 0.004, (perturbed, object_colour)
    # no edge: across the feather the colour ramps; a hard paste at mask > 0.5 steps by the object's full contrast.
    # Steps are taken down the columns, along which the stripes do not vary. measured: 0.14 against 0.70.
    band = (mask[crop] > 0) & (mask[crop] < 1)
    step = np.abs(np.diff(out, axis=0)).max(-1)[band[1:]].max()
    hard = np.where((mask[crop] > 0.5)[..., None], decoded, photo[crop])
    hard_step = np.abs(np.diff(hard, axis=0)).max(-1)[band[1:]].max()
    assert step < 0.5 * hard_step, (step, hard_step)
    assert "cropped to the image as VAEEncodeForInpaint crops" in comfy_server.log_text()


def test_mono_bottleneck_inpaint_patchmatch(comfy_server, scene):
    prompt = {
        "1": load(scene["holed"]),
        "2": {"class_type": "MonoBottleneckInpaint", "inputs": {"image": ["1", 0], "mask": ["1", 1], "seed": 0}},
        "3": save(["2", 0], "eei_mono_inpaint"),
    }
    out = arr(comfy_server.output_images(comfy_server.run(prompt), "3")[0])
    assert np.abs(out[..., 0] - out[..., 1]).max() == 0 and np.abs(out[..., 0] - out[..., 2]).max() == 0
    want = luma(scene["rgb"])
    known, hole = ~scene["hole"], scene["hole"]
    assert np.abs(out[..., 0][known] - want[known]).max() <= 1 / 255
    # the hole sits in the red region: its fill has the red region's luma, not the magenta's or the blue's
    assert abs(out[..., 0][hole].mean() - want[hole].mean()) < 0.05


def test_mono_model_from_models_folder(comfy_server, scene, tmp_path):
    from eei_core.external.train_external import train_external

    # A model trained by `eei train-external` (a few steps on generated photos) must load and run in the node.
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(photos / f"p{i}.png")
    result = train_external(photos, comfy_server.models_dir / "eei" / "eei_test_tiny.safetensors", size=32, steps=2,
                            batch=2, checkpoint_every=2, width=4)
    assert result["step"] == 2
    (comfy_server.models_dir / "eei" / "not_a_model.ckpt").write_bytes(b"never unpickled")
    options = comfy_server.object_info("LoadMonoInpaintModel")["input"]["required"]["model_name"][1]["options"]
    assert options == ["eei_test_tiny.safetensors"]
    prompt = {
        "1": load(scene["holed"]),
        "2": {"class_type": "LoadMonoInpaintModel", "inputs": {"model_name": "eei_test_tiny.safetensors"}},
        "3": {"class_type": "MonoBottleneckInpaint",
              "inputs": {"image": ["1", 0], "mask": ["1", 1], "seed": 0, "mono_model": ["2", 0]}},
        "4": save(["3", 0], "eei_mono_model"),
    }
    out = arr(comfy_server.output_images(comfy_server.run(prompt), "4")[0])
    known = ~scene["hole"]
    assert np.abs(out[..., 0] - out[..., 2]).max() == 0
    assert np.abs(out[..., 0][known] - luma(scene["rgb"])[known]).max() <= 1 / 255


# ----- progress and Cancel -------------------------------------------------------------------------------------------
def read_events(ws, until: float) -> tuple[list[dict], list[bytes]]:
    """Websocket messages until the deadline or until the first progress event (json events, binary previews)."""
    events, previews = [], []
    while time.monotonic() < until:
        ws.settimeout(max(until - time.monotonic(), 0.01))
        try:
            message = ws.recv()
        except Exception:  # websocket timeout
            break
        if isinstance(message, bytes):
            previews.append(message)
            continue
        events.append(json.loads(message))
        if events[-1]["type"] == "progress" and previews:
            break
    return events, previews


def test_progress_previews_and_cancel(comfy_server):
    big = make_scene(160, 224, seed=3)
    hole = (slice(50, 110), slice(40, 100))
    scene = {"original": comfy_server.upload_image(Image.fromarray(big), "eei_big.png"),
             "holed": comfy_server.upload_image(with_hole(big, hole), "eei_big_holed.png")}
    ws = comfy_server.websocket()
    try:
        prompt_id = comfy_server.queue_prompt(colorize_prompt(scene, "eei_cancelled", preset="paper"))
        events, previews = read_events(ws, time.monotonic() + 60)
    finally:
        ws.close()
    progress = [e["data"] for e in events if e["type"] == "progress" and e["data"]["prompt_id"] == prompt_id]
    assert progress, f"no progress event within 60 s; events: {[e['type'] for e in events]}"
    assert progress[0]["node"] == "4" and 1 <= progress[0]["value"] <= progress[0]["max"]
    # binary preview: event type 1 (preview image), image type 2 (PNG), then the PNG of the current level's estimate
    assert previews and struct.unpack(">II", previews[0][:8]) == (1, 2)
    Image.open(io.BytesIO(previews[0][8:])).verify()

    time.sleep(0.5)
    start = time.time()  # wall clock: compared with the server's own timestamp of the interruption (same machine)
    comfy_server.interrupt()
    entry = comfy_server.wait(prompt_id, timeout=30)
    assert "execution_interrupted" in status_events(entry), entry["status"]
    (interrupted,) = [data for kind, data in entry["status"]["messages"] if kind == "execution_interrupted"]
    assert interrupted["node_type"] == "InternalColorize"
    stopped_after = interrupted["timestamp"] / 1000 - start
    assert stopped_after < 2.0, f"Cancel took {stopped_after:.2f} s"

    # the server goes on: the next prompt runs
    small = make_scene(24, 32, seed=4)
    names = {"original": comfy_server.upload_image(Image.fromarray(small), "eei_after_cancel.png"),
             "holed": comfy_server.upload_image(with_hole(small, (slice(8, 14), slice(6, 12))),
                                                "eei_after_cancel_holed.png")}
    out = comfy_server.output_images(comfy_server.run(colorize_prompt(names, "eei_after_cancel")), "5")[0]
    assert out.size == (32, 24)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads resident memory from /proc (Linux)")
def test_memory_returns_after_cancel(comfy_server):
    """Cancel in the middle of a run that holds about a gigabyte (the paper generators trained at 384 px) gives the
    memory back: the server's resident memory right after the interruption is back near its level before."""
    side = 384
    big = make_scene(side, side, seed=5)
    scene = {"original": comfy_server.upload_image(Image.fromarray(big), "eei_mem.png"),
             "holed": comfy_server.upload_image(with_hole(big, (slice(150, 230), slice(130, 230))),
                                                "eei_mem_holed.png")}
    warm = colorize_prompt(scene, "eei_mem_warm")  # loads the images and warms the pack up: not counted
    comfy_server.run(warm)
    before = resident_mib(comfy_server.pid)
    peak = before
    ws = comfy_server.websocket()
    try:
        prompt_id = comfy_server.queue_prompt(colorize_prompt(scene, "eei_mem_cancelled", preset="paper", levels=1,
                                                              working_size=side))
        read_events(ws, time.monotonic() + 120)
    finally:
        ws.close()
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:  # a few training steps: the networks' activations are allocated
        peak = max(peak, resident_mib(comfy_server.pid))
        time.sleep(0.05)
    comfy_server.interrupt()
    entry = comfy_server.wait(prompt_id, timeout=60)
    assert "execution_interrupted" in status_events(entry), entry["status"]
    after = resident_mib(comfy_server.pid)
    assert peak - before > 300, f"the run was meant to hold memory: peak {peak:.0f} MiB, before {before:.0f} MiB"
    assert after - before < 100, f"resident memory {before:.0f} MiB before, {peak:.0f} at the peak, {after:.0f} after"


def frames_prompt(names: dict, frames: int, prefix: str, **overrides) -> dict:
    """A frame batch as a video workflow hands it on: the gray-filled frame and its original repeated ``frames``
    times (RepeatImageBatch), one mask for all frames."""
    return {
        "1": load(names["filled"]),
        "2": load(names["holed"]),
        "3": {"class_type": "RepeatImageBatch", "inputs": {"image": ["1", 0], "amount": frames}},
        "4": {"class_type": "RepeatImageBatch", "inputs": {"image": ["2", 0], "amount": frames}},
        "5": recolorize(["3", 0], ["2", 1], ["4", 0], sequence="auto", **overrides),
        "6": save(["5", 0], prefix),
    }


def test_recolorize_any_on_a_batch_of_frames_with_progress_per_frame(comfy_server, scene):
    names = {"filled": comfy_server.upload_image(Image.fromarray(gray_fill(make_scene(), HOLE)),
                                                 "eei_frames_filled.png"),
             "holed": scene["holed"]}
    ws = comfy_server.websocket()
    try:
        prompt_id = comfy_server.queue_prompt(frames_prompt(names, 8, "eei_frames"))
        entry = comfy_server.wait(prompt_id, timeout=120)
        events = []
        ws.settimeout(2)
        try:
            while True:
                message = ws.recv()
                if isinstance(message, str):
                    events.append(json.loads(message))
        except Exception:  # no more events
            pass
    finally:
        ws.close()
    assert entry["status"]["status_str"] == "success", entry["status"]
    frames = [arr(image) for image in comfy_server.output_images(entry, "6")]
    assert len(frames) == 8
    for out in frames:
        assert_known_unchanged(out, scene)
        assert_hole_colour_plausible(out, scene)
    # the same input in every frame: a sequence gives every frame the same colour (no flicker)
    assert max(np.abs(f - frames[0]).max() for f in frames) <= 1.5 / 255
    progress = [e["data"] for e in events if e["type"] == "progress" and e["data"]["prompt_id"] == prompt_id]
    # the first frame learns (the fast preset's 150 + 150 steps); each later frame is one step of the bar
    assert progress[-1]["value"] == progress[-1]["max"] == 300 + 7, progress[-3:]


def test_cancel_between_frames(comfy_server):
    big = make_scene(192, 256, seed=8)
    hole = (slice(60, 130), slice(40, 110))
    names = {"filled": comfy_server.upload_image(Image.fromarray(gray_fill(big, hole)), "eei_frames_big.png"),
             "holed": comfy_server.upload_image(with_hole(big, hole), "eei_frames_big_holed.png")}
    ws = comfy_server.websocket()
    try:
        prompt_id = comfy_server.queue_prompt(frames_prompt(names, 64, "eei_frames_cancelled"))
        deadline = time.monotonic() + 240
        first_frame_done = None
        while time.monotonic() < deadline and first_frame_done is None:
            message = ws.recv()
            if not isinstance(message, str):
                continue
            event = json.loads(message)
            data = event.get("data", {})
            if event["type"] == "progress" and data.get("prompt_id") == prompt_id:
                learning = data["max"] - 63  # the first frame's steps; then one per frame
                if data["value"] > learning + 1:  # into the later frames
                    first_frame_done = data["value"]
    finally:
        ws.close()
    assert first_frame_done is not None, "the batch never reached its second frame"
    start = time.time()
    comfy_server.interrupt()
    entry = comfy_server.wait(prompt_id, timeout=30)
    (interrupted,) = [data for kind, data in entry["status"]["messages"] if kind == "execution_interrupted"]
    assert interrupted["node_type"] == "RecolorizeAny"
    assert interrupted["timestamp"] / 1000 - start < 1.0
    assert comfy_server.alive()


# ----- errors --------------------------------------------------------------------------------------------------------
def failed(comfy_server, prompt: dict) -> dict:
    """Run a prompt that must fail inside a node; return its execution_error."""
    entry = comfy_server.wait(comfy_server.queue_prompt(prompt), timeout=60)
    assert entry["status"]["status_str"] == "error", entry["status"]
    error = execution_error(entry)
    assert error is not None, entry["status"]
    return error


def test_mask_size_mismatch_is_a_clear_node_error(comfy_server, scene):
    small = comfy_server.upload_image(with_hole(make_scene(32, 40)), "eei_small_holed.png")
    prompt = colorize_prompt(scene, "eei_never")
    prompt["6"] = load(small)
    prompt["4"]["inputs"]["mask"] = ["6", 1]
    error = failed(comfy_server, prompt)
    assert error["node_type"] == "InternalColorize"
    assert "mask size 40x32 differs from mono size 64x48" in error["exception_message"]
    assert error["exception_type"].endswith("EEIInputError")


def test_mask_of_an_image_without_alpha_is_explained(comfy_server, scene):
    prompt = colorize_prompt(scene, "eei_never")
    prompt["4"]["inputs"]["mask"] = ["1", 1]  # the original PNG has no alpha: LoadImage's 64x64 empty placeholder
    error = failed(comfy_server, prompt)
    assert "LoadImage gives this placeholder" in error["exception_message"]
    assert "MaskEditor" in error["exception_message"]


def test_all_hole_mask_is_a_clear_node_error(comfy_server, scene):
    prompt = colorize_prompt(scene, "eei_never")
    prompt["6"] = {"class_type": "SolidMask", "inputs": {"value": 1.0, "width": W, "height": H}}
    prompt["4"]["inputs"]["mask"] = ["6", 0]
    error = failed(comfy_server, prompt)
    assert error["node_type"] == "InternalColorize"
    assert error["exception_type"].endswith("EEIInputError")
    assert "known" in error["exception_message"]


def test_bad_hint_json_is_a_clear_node_error(comfy_server, scene):
    prompt = colorize_prompt(scene, "eei_never")
    prompt["6"] = {"class_type": "ColorHint", "inputs": {"image": ["3", 0], "points": '[{"x": 0.5, "y":', "radius": 3}}
    prompt["4"]["inputs"]["hints"] = ["6", 0]
    error = failed(comfy_server, prompt)
    assert error["node_type"] == "ColorHint"
    assert "not valid JSON" in error["exception_message"]
    out_of_range = json.dumps([{"x": 1.5, "y": 0.5, "color": "#ff0000"}])
    prompt["6"]["inputs"]["points"] = out_of_range
    assert "hint 0" in failed(comfy_server, prompt)["exception_message"]


def test_out_of_range_widget_is_rejected_at_validation(comfy_server, scene):
    prompt = colorize_prompt(scene, "eei_never", levels=-1)
    with pytest.raises(ComfyError) as info:
        comfy_server.queue_prompt(prompt)
    node_errors = info.value.details["node_errors"]
    assert "4" in node_errors
    assert any("levels" in json.dumps(e) for e in node_errors["4"]["errors"])


def test_server_keeps_serving_after_errors(comfy_server, scene):
    failed(comfy_server, {
        "1": load(scene["holed"]),
        "2": {"class_type": "ColorHint", "inputs": {"image": ["1", 0], "points": "{oops", "radius": 3}},
    })
    assert comfy_server.alive()
    entry = comfy_server.run({
        "1": load(scene["original"]),
        "2": {"class_type": "ToMonochrome", "inputs": {"image": ["1", 0], "weights": "bt601"}},
        "3": save(["2", 0], "eei_after_error"),
    })
    assert entry["status"]["status_str"] == "success"
