"""Soak: the pack in a real ComfyUI 0.3.75 under the load a user puts on it, measured (run by hand, not in CI).

Starts its own server on loopback (tests/comfy/harness.py), stops it by PID at the end, and runs, bounded in count
and time:

1. ``--prompts`` (100) RecolorizeAny and InternalColorize graphs at 512x512 queued back to back (presets and seeds
   mixed): each output checked (known pixels kept, the hole's colour restored), the server's resident memory after
   every prompt (the curve is printed; after the last within 10% of after the tenth), temporary files counted;
2. Cancel (POST /interrupt) in the middle of a long run: seconds until the prompt stopped, the next prompt's result,
   memory before and after;
3. a 4096x4096 image with a 10% hole through RecolorizeAny: seconds and peak memory;
4. a batch of 16 frames with one mask: seconds per frame;
5. ComfyUI's cache: an unchanged graph re-queued runs nothing; a changed ``seed`` re-runs RecolorizeAny;
6. the bad inputs of tests/comfy/bad_inputs.py (the 8K one at its real 7680x4320): each must fail with its message
   (or work), and the server keeps serving.

The table goes into BENCHMARKS.md (section ``soak``). Photos come from ``../shared/data/dev/photos``.

    python -m bench.soak                      # the whole soak (about 20 minutes on 2 cores)
    python -m bench.soak --prompts 20 --no-write
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from bench._report import REPO, markdown_table, write_section

sys.path.insert(0, str(REPO / "tests" / "comfy"))

import bad_inputs
from harness import PROBE_NODES, ComfyServer, execution_error, resident_mib, start_comfy_server
from scenes import colorize, load, recolorize, save, upscaled

from eei_core.shared.masks import mask_in_ratio_band

SIDE = 512
PHOTOS = REPO.parent / "shared" / "data" / "dev" / "photos"
#: The real size of the "8K image on CPU" bad input (the test suite runs a smaller stand-in).
EIGHT_K = (7680, 4320)


# ----- memory --------------------------------------------------------------------------------------------------------
class PeakSampler:
    """Samples a process's resident memory every 50 ms in a thread; ``peak`` is the largest value seen."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, resident_mib(self.pid))
            time.sleep(0.05)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# ----- assets --------------------------------------------------------------------------------------------------------
@dataclass
class Scene:
    """One 512x512 photo with a free-form hole, uploaded: ``original``, ``holed`` (alpha 0 in the hole), ``bled``
    (the hole's luminance kept, its colour that of a neighbouring region's, as an inpainter bleeds it)."""

    names: dict[str, str]
    rgb: np.ndarray  # [H, W, 3] 0..1 as uploaded
    hole: np.ndarray  # [H, W] bool
    raw_psnr: float = 0.0  # hole PSNR of ``bled``, the input RecolorizeAny gets
    gray_psnr: float = 0.0  # hole PSNR of the hole left gray (its luminance only), what InternalColorize starts from
    extra: dict = field(default_factory=dict)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / max(np.mean((a - b) ** 2), 1e-12)))


def make_scenes(server: ComfyServer, count: int, seed: int = 0) -> list[Scene]:
    paths = sorted(PHOTOS.glob("*.png"))[:count]
    if not paths:
        raise SystemExit(f"no photos in {PHOTOS}: the soak needs ../shared/data/dev beside the repository")
    scenes = []
    for i, path in enumerate(paths):
        rgb8 = np.asarray(Image.open(path).convert("RGB").resize((SIDE, SIDE), Image.BICUBIC))
        rgb = rgb8.astype(np.float32) / 255
        generator = torch.Generator().manual_seed(seed + i)
        hole = mask_in_ratio_band(SIDE, SIDE, 0.08, 0.15, generator)[0, 0].numpy() > 0.5
        luma = rgb @ np.array([0.30, 0.59, 0.11], np.float32)
        # bleeding: the hole takes the mean chroma of the photo's other half, on its own luminance
        other = rgb[:, SIDE // 2 :] if hole[:, : SIDE // 2].sum() > hole[:, SIDE // 2 :].sum() else rgb[:, : SIDE // 2]
        chroma = other.reshape(-1, 3).mean(0) - other.reshape(-1, 3).mean(0) @ np.array([0.30, 0.59, 0.11])
        bled = rgb.copy()
        bled[hole] = np.clip(luma[hole, None] + chroma, 0, 1)
        bled8 = (bled * 255).round().astype(np.uint8)
        rgba = np.dstack([rgb8, np.where(hole, 0, 255).astype(np.uint8)])
        names = {
            "original": server.upload_image(Image.fromarray(rgb8), f"soak_{i}.png"),
            "holed": server.upload_image(Image.fromarray(rgba, "RGBA"), f"soak_{i}_holed.png"),
            "bled": server.upload_image(Image.fromarray(bled8), f"soak_{i}_bled.png"),
        }
        scenes.append(Scene(names, rgb, hole, raw_psnr=_psnr(bled8[hole] / 255, rgb[hole]),
                            gray_psnr=_psnr(np.repeat(luma[hole, None], 3, axis=1), rgb[hole])))
    return scenes


def recolorize_graph(scene: Scene, prefix: str, **inputs) -> dict:
    return {
        "i": load(scene.names["bled"]),
        "h": load(scene.names["holed"]),
        "r": recolorize(["i", 0], ["h", 1], ["h", 0], **inputs),
        "out": save(["r", 0], prefix),
    }


def colorize_graph(scene: Scene, prefix: str, **inputs) -> dict:
    return {
        "o": load(scene.names["original"]),
        "m": {"class_type": "ToMonochrome", "inputs": {"image": ["o", 0], "weights": "paper"}},
        "h": load(scene.names["holed"]),
        "c": colorize(["m", 0], ["h", 0], ["h", 1], **inputs),
        "out": save(["c", 0], prefix),
    }


def check_output(server: ComfyServer, entry: dict, scene: Scene, kind: str, must_improve: bool = True) -> float:
    """Hole PSNR of the saved output minus that of the node's input (the bled hole for ``recolorize``, the gray one for
    ``colorize``); raises AssertionError when known pixels changed (the output is not this prompt's scene), the output
    is not finite, or, with ``must_improve``, the hole is no better than the input."""
    (image,) = server.output_images(entry, "out")
    out = np.asarray(image.convert("RGB"), np.float32) / 255
    assert np.isfinite(out).all(), "output not finite"
    known_error = np.abs(out[~scene.hole] - scene.rgb[~scene.hole]).max()
    assert known_error <= 1.5 / 255, f"known pixels changed by {known_error:.4f}"
    given = scene.raw_psnr if kind == "recolorize" else scene.gray_psnr
    gain = _psnr(out[scene.hole], scene.rgb[scene.hole]) - given
    assert not must_improve or gain > 0, f"hole PSNR {gain + given:.2f} dB, no better than its input's {given:.2f}"
    return gain


def temp_entries(server: ComfyServer) -> set[str]:
    """Files in ComfyUI's temp folder and this machine's temp folder (except the server's own base directory)."""
    found = {f"comfy-temp/{p.name}" for p in (server.base_dir / "temp").glob("*")}
    found |= {p.name for p in Path(tempfile.gettempdir()).iterdir() if p != server.base_dir}
    return found


# ----- the parts -----------------------------------------------------------------------------------------------------
def queue_many(server: ComfyServer, scenes: list[Scene], count: int, paper_every: int) -> dict:
    temp_before = temp_entries(server)
    jobs = []
    for k in range(count):
        scene = scenes[k % len(scenes)]
        make = recolorize_graph if k % 2 == 0 else colorize_graph
        # Each node's default preset (RecolorizeAny: learned, InternalColorize: fast), now and then the paper's.
        default = "learned" if make is recolorize_graph else "fast"
        preset = "paper" if paper_every and k % paper_every == paper_every - 1 else default
        # The paper preset's published schedule takes minutes on a CPU (one level of 500 steps: over 4 minutes at
        # 512 px, 3 at 128 px): bounded to a 64-pixel working size it keeps the queue mixed without a long wait.
        extra = {"levels": 1, "working_size": 64} if preset == "paper" else {}
        graph = make(scene, f"soak_{k}", preset=preset, seed=k, **extra)
        jobs.append((server.queue_prompt(graph), scene, make.__name__.split("_")[0], preset))
    start = time.perf_counter()
    rss, seconds, gains, failures = [], [], {}, []
    last = start
    for prompt_id, scene, kind, preset in jobs:
        entry = server.wait(prompt_id, timeout=900)
        now = time.perf_counter()
        seconds.append((kind, preset, now - last))
        last = now
        rss.append(resident_mib(server.pid))
        if entry["status"].get("status_str") != "success":
            failures.append(f"{prompt_id}: {(execution_error(entry) or {}).get('exception_message')}")
            continue
        try:
            # The paper prompts are bounded to a size no user would pick (see above): their gain is reported, not required.
            gains.setdefault(preset, []).append(check_output(server, entry, scene, kind, must_improve=preset != "paper"))
        except AssertionError as exc:
            failures.append(f"{kind} {preset}: {exc}")
    left = sorted(temp_entries(server) - temp_before)
    return {"rss": rss, "seconds": seconds, "gains": gains, "failures": failures, "temp_left": left,
            "total": time.perf_counter() - start}


def cancel_long_run(server: ComfyServer, scene: Scene) -> dict:
    before = resident_mib(server.pid)
    ws = server.websocket()
    try:
        prompt_id = server.queue_prompt(colorize_graph(scene, "soak_cancel", preset="paper", seed=12345))
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # the first progress event: the colorizer is training
            message = ws.recv()
            if isinstance(message, str) and '"progress"' in message and prompt_id in message:
                break
        time.sleep(2.0)
        pressed = time.time()
        server.interrupt()
        entry = server.wait(prompt_id, timeout=120)
    finally:
        ws.close()
    interrupted = [data for kind, data in entry["status"]["messages"] if kind == "execution_interrupted"]
    stopped = interrupted[0]["timestamp"] / 1000 - pressed if interrupted else float("nan")
    after_cancel = resident_mib(server.pid)
    next_start = time.perf_counter()
    after_entry = server.wait(server.queue_prompt(recolorize_graph(scene, "soak_after_cancel", seed=777)), 300)
    ok = after_entry["status"].get("status_str") == "success"
    gain = check_output(server, after_entry, scene, "recolorize") if ok else float("nan")
    return {"stopped_after": stopped, "interrupted": bool(interrupted), "next_ok": ok, "next_gain": gain,
            "next_seconds": time.perf_counter() - next_start, "rss_before": before,
            "rss_after_cancel": after_cancel, "rss_after": resident_mib(server.pid)}


def scaled_graph(scene: Scene, side: int, prefix: str, batch: int = 1) -> dict:
    """RecolorizeAny on the scene scaled to ``side`` x ``side`` (``batch`` copies of the image: frames)."""
    graph = {
        "i": load(scene.names["bled"]),
        "h": load(scene.names["holed"]),
        **upscaled(["i", 0], ["h", 0], ["h", 1], side, side),
        "r": recolorize(["si", 0], ["m", 0], ["so", 0]),
        "out": {"class_type": "PreviewImage", "inputs": {"images": ["r", 0]}},
    }
    if batch > 1:
        graph["b"] = {"class_type": "RepeatImageBatch", "inputs": {"image": ["si", 0], "amount": batch}}
        graph["r"]["inputs"]["image"] = ["b", 0]
    return graph


def timed_run(server: ComfyServer, graph: dict, timeout: float = 900) -> dict:
    before = resident_mib(server.pid)
    start = time.perf_counter()
    with PeakSampler(server.pid) as sampler:
        entry = server.wait(server.queue_prompt(graph), timeout)
    ok = entry["status"].get("status_str") == "success"
    return {"ok": ok, "seconds": time.perf_counter() - start, "peak": sampler.peak, "rss_before": before,
            "error": None if ok else (execution_error(entry) or {}).get("exception_message")}


def cache_check(server: ComfyServer, scene: Scene) -> dict:
    graph = recolorize_graph(scene, "soak_cache", seed=4242)
    server.run(graph, timeout=300)

    def executed(entry: dict) -> set[str]:
        """The graph's nodes ComfyUI ran (not served from its cache)."""
        cached = set()
        for kind, data in entry["status"]["messages"]:
            if kind == "execution_cached":
                cached |= set(data.get("nodes", []))
        return set(graph) - cached

    start = time.perf_counter()
    again = executed(server.run(graph, timeout=300))
    again_seconds = time.perf_counter() - start
    graph["r"]["inputs"]["seed"] = 4243
    start = time.perf_counter()
    reseeded = executed(server.run(graph, timeout=300))
    return {"unchanged_ran": sorted(again), "unchanged_seconds": again_seconds, "seed_ran": sorted(reseeded),
            "seed_seconds": time.perf_counter() - start}


# ----- report --------------------------------------------------------------------------------------------------------
def report(results: dict, command: str, threads: str) -> str:
    many = results["many"]
    rss = many["rss"]
    tenth = rss[min(9, len(rss) - 1)]
    growth = (rss[-1] - tenth) / tenth * 100
    per_kind: dict[tuple[str, str], list[float]] = {}
    for kind, preset, s in many["seconds"]:
        per_kind.setdefault((kind, preset), []).append(s)
    rows = [
        [f"{len(rss)} prompts queued back to back (512x512)",
         f"{len(rss) - len(many['failures'])} of {len(rss)} completed with their own scene's known pixels; "
         + "; ".join(f"{p}: hole better than the input in {sum(g > 0 for g in v)} of {len(v)} "
                     f"(gain {min(v):+.1f}..{max(v):+.1f} dB, mean {np.mean(v):+.1f})"
                     for p, v in sorted(many["gains"].items()))
         + f"; temp files left: {len(many['temp_left'])}",
         f"RSS after #10 {tenth:.0f} MiB, after #{len(rss)} {rss[-1]:.0f} MiB ({growth:+.1f}%)",
         "; ".join(f"{k} {p}: {np.median(v):.1f} s" for (k, p), v in sorted(per_kind.items()))],
    ]
    c = results["cancel"]
    rows.append(["Cancel 2 s into an InternalColorize paper run",
                 f"stopped {c['stopped_after']:.2f} s after /interrupt; next prompt "
                 f"{'ok' if c['next_ok'] else 'FAILED'} ({c['next_gain']:+.1f} dB over its input)",
                 f"RSS {c['rss_before']:.0f} before, {c['rss_after_cancel']:.0f} after Cancel, "
                 f"{c['rss_after']:.0f} after the next prompt (MiB)", f"next {c['next_seconds']:.1f} s"])
    for key, label in (("large", "4096x4096, 10% hole, RecolorizeAny"), ("frames", "16 frames 512x512, one mask")):
        r = results[key]
        what = "completes" if r["ok"] else f"FAILED: {r['error']}"
        secs = f"{r['seconds']:.1f} s" + (f" ({r['seconds'] / 16:.2f} s per frame)" if key == "frames" else "")
        rows.append([label, what, f"peak RSS {r['peak']:.0f} MiB (before {r['rss_before']:.0f})", secs])
    k = results["cache"]
    rows.append(["same graph re-queued; then only seed changed",
                 f"unchanged: nodes run {k['unchanged_ran'] or 'none'}; seed changed: nodes run {k['seed_ran']}",
                 "", f"{k['unchanged_seconds']:.2f} s / {k['seed_seconds']:.1f} s"])
    lines = ["## Soak: a real ComfyUI under load", "",
             markdown_table(["what was tried", "what happened", "memory (server RSS)", "seconds"], rows), ""]
    lines.append("RSS after each of the queued prompts (MiB): " + ", ".join(f"{v:.0f}" for v in rss))
    if many["failures"]:
        lines += ["", "Failures: " + "; ".join(many["failures"])]
    lines += ["", "### Bad inputs", "",
              markdown_table(["input", "tried", "expected", "what happened", "RSS after (MiB)", "seconds"],
                             results["bad"])]
    lines += ["", f"Command: `{command}`  ", f"Machine: {os.cpu_count()} cores, ComfyUI 0.3.75 on the CPU, "
              f"server torch threads {threads}; the soak's client makes no torch work beside it"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=100)
    parser.add_argument("--paper-every", type=int, default=25,
                        help="every Nth queued prompt uses the paper preset (one level at a 64-pixel working size); "
                        "0 = none")
    parser.add_argument("--scenes", type=int, default=6)
    parser.add_argument("--threads", default="2", help="torch threads of the server")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    os.environ["EEI_COMFY_THREADS"] = args.threads
    torch.set_num_threads(1)
    server = start_comfy_server(extra_packs=(PROBE_NODES,))
    results: dict = {}
    try:
        scenes = make_scenes(server, args.scenes)
        print(f"server pid {server.pid}, RSS {resident_mib(server.pid):.0f} MiB", flush=True)
        results["many"] = queue_many(server, scenes, args.prompts, args.paper_every)
        print("RSS curve:", " ".join(f"{v:.0f}" for v in results["many"]["rss"]), flush=True)
        print("failures:", results["many"]["failures"], "temp left:", results["many"]["temp_left"], flush=True)
        results["cancel"] = cancel_long_run(server, scenes[0])
        print("cancel:", results["cancel"], flush=True)
        results["large"] = timed_run(server, scaled_graph(scenes[1 % len(scenes)], 4096, "soak_large"))
        print("4096:", results["large"], flush=True)
        results["frames"] = timed_run(server, scaled_graph(scenes[2 % len(scenes)], SIDE, "soak_frames", batch=16))
        print("16 frames:", results["frames"], flush=True)
        results["cache"] = cache_check(server, scenes[0])
        print("cache:", results["cache"], flush=True)
        bad_inputs.LARGE_STANDIN = EIGHT_K
        assets = bad_inputs.prepare(server)
        rows = []
        for case in bad_inputs.CASES:
            try:
                result = bad_inputs.run_case(server, case, assets)
                happened = result["outcome"] if case.error is None else f"error: {result['outcome']}"
                seconds = result["seconds"]
            except (AssertionError, TimeoutError) as exc:
                happened, seconds = f"WRONG: {exc}", float("nan")
            tried = f"RecolorizeAny at {EIGHT_K[0]}x{EIGHT_K[1]}" if case.name == "large" else case.tried
            rows.append([case.row, tried, case.expectation, happened.replace("|", "/").replace("\n", " "),
                         f"{resident_mib(server.pid):.0f}", f"{seconds:.1f}"])
            print(case.name, rows[-1][3][:150], flush=True)
        rows.append(["(after all)", "a good InternalColorize prompt", "works",
                     f"works in {bad_inputs.good_prompt_works(server, assets):.1f} s", f"{resident_mib(server.pid):.0f}", ""])
        results["bad"] = rows
    finally:
        server.stop()
    command = "python -m bench.soak " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(results, command.strip(), args.threads)
    print(text)
    if not args.no_write:
        write_section("soak", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
