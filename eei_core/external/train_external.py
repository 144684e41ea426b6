"""Training the external-stage network (:class:`~eei_core.external.mono_model.MonoInpaintGenerator`) on a folder of photos.

``eei train-external --images DIR --out model.safetensors`` trains as DeepFill v2 does, with the changes of Wang et
al. (2021): random crops of the photos, holes from DeepFill v2's free-form brush strokes (plus a rectangle half of the
time), an L1 loss on the monochrome of the coarse and the refined outputs, and optionally the SN-PatchGAN hinge loss
with a spectral-normalised discriminator. Mixed precision is used on CUDA.

Files written:
    ``OUT`` (e.g. ``model.safetensors``): the generator alone, loadable by :func:`~eei_core.external.mono_model.load_mono_model`
    and ComfyUI's LoadMonoInpaintModel; rewritten at every checkpoint so a long run can be tried while it goes on.
    ``OUT`` with ``.train-state.safetensors`` instead of ``.safetensors``: generator, discriminator and optimizer
    states and the step; ``--resume`` it to continue exactly where the checkpoint was taken.

Training is deterministic for a seed: sample ``k`` (crop, flip, mask) is drawn from a generator seeded with the seed
and ``k``, so a resumed run sees the same samples as an uninterrupted one.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError
from torch import nn

from ..shared.color import to_mono
from ..shared.device import resolve_device
from ..shared.errors import EEIInputError
from ..shared.masks import free_form_mask, rectangle_mask
from ..shared.metrics import psnr
from ..shared.progress import CancelFn, ProgressFn, check_cancel
from .mono_model import (
    MonoInpaintGenerator,
    MonoModelConfig,
    config_from_metadata,
    load_state_strict,
    read_mono_metadata,
    save_mono_model,
)

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
_STATE_ARCH = "eei.MonoTrainState"
STATE_SUFFIX = ".train-state.safetensors"
#: DeepFill v2 weighs L1 (on -1..1 images) and the hinge loss 1:1; our L1 is on 0..1 images, half as large.
GAN_WEIGHT = 0.5
#: Validation images used at most (each checkpoint runs the generator once on each).
MAX_VAL_IMAGES = 32


def train_state_path(out: str | Path) -> Path:
    """Where the training state of a run writing ``out`` goes (``model.safetensors`` -> ``model.train-state...``)."""
    out = Path(out)
    return out.with_name(out.name[: -len(".safetensors")] + STATE_SUFFIX)


# --- data ---------------------------------------------------------------------------------------------------------


def list_images(images_dir: str | Path) -> list[Path]:
    """All images (``png``, ``jpg``, ``jpeg``, ``webp``, ``bmp``) under ``images_dir``, recursively, sorted."""
    root = Path(images_dir)
    if not root.exists():
        raise EEIInputError(f"image folder not found: {root}")
    if not root.is_dir():
        raise EEIInputError(f"--images must be a folder of photos, got a file: {root}")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise EEIInputError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found in {root}; put training photos there")
    return files


def _sample_generator(seed: int, index: int) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + index) % (2**63))


def _open_rgb(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


def _to_tensor(im: Image.Image) -> torch.Tensor:
    """PIL RGB -> ``[3, H, W]`` float 0..1."""
    return torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).permute(2, 0, 1).float() / 255.0


def _random_crop(im: Image.Image, size: int, g: torch.Generator) -> Image.Image:
    """Rescale so the short side is ``size``..``2 size`` (never above the original unless it is smaller than
    ``size``), then take a random ``size`` x ``size`` crop, flipped left/right half of the time."""
    w, h = im.size
    short = min(w, h)
    hi = max(size, min(short, 2 * size))
    target = size + int(torch.randint(0, hi - size + 1, (), generator=g))
    scale = target / short
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    if (nw, nh) != (w, h):
        im = im.resize((nw, nh), Image.Resampling.BICUBIC, reducing_gap=2.0 if scale < 0.5 else None)
    left = int(torch.randint(0, nw - size + 1, (), generator=g))
    top = int(torch.randint(0, nh - size + 1, (), generator=g))
    im = im.crop((left, top, left + size, top + size))
    if float(torch.rand((), generator=g)) < 0.5:
        im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return im


def training_mask(size: int, g: torch.Generator) -> torch.Tensor:
    """DeepFill v2 training hole: free-form strokes, plus a random rectangle half of the time. ``[1, size, size]``."""
    mask = free_form_mask(size, size, g)
    if float(torch.rand((), generator=g)) < 0.5:
        mask = torch.maximum(mask, rectangle_mask(size, size, g, min_fraction=0.1, max_fraction=0.5))
    return mask[0]


class CropDataset(torch.utils.data.Dataset):
    """Sample ``k`` = (random crop of a random training image ``[3, S, S]``, hole ``[1, S, S]``), both seeded by
    ``(seed, k)`` so any worker, and a resumed run, draws the same sample ``k``."""

    def __init__(self, files: list[Path], size: int, seed: int) -> None:
        self.files = files
        self.size = size
        self.seed = seed

    def __len__(self) -> int:
        return 2**62

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = _sample_generator(self.seed, index)
        for _ in range(8):
            path = self.files[int(torch.randint(0, len(self.files), (), generator=g))]
            try:
                im = _open_rgb(path)
            except (OSError, UnidentifiedImageError) as exc:
                # One broken file in a big photo folder should not stop a long run.
                logger.warning("skipping unreadable image %s: %s", path, exc)
                continue
            return _to_tensor(_random_crop(im, self.size, g)), training_mask(self.size, g)
        raise EEIInputError(f"could not read any training image after 8 tries (last: {path}); check the folder")


class _IndexRange(torch.utils.data.Sampler[int]):
    """Sample indices ``start .. stop - 1`` in order (the dataset randomises each index itself)."""

    def __init__(self, start: int, stop: int) -> None:
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self) -> int:
        return self.stop - self.start


def _validation_set(files: list[Path], size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Centre crops ``[N, 3, S, S]`` of the held-back images and fixed holes ``[N, 1, S, S]``."""
    images, masks = [], []
    for i, path in enumerate(files[:MAX_VAL_IMAGES]):
        try:
            im = _open_rgb(path)
        except (OSError, UnidentifiedImageError) as exc:
            logger.warning("skipping unreadable validation image %s: %s", path, exc)
            continue
        w, h = im.size
        scale = size / min(w, h)
        im = im.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.Resampling.BICUBIC)
        w, h = im.size
        left, top = (w - size) // 2, (h - size) // 2
        images.append(_to_tensor(im.crop((left, top, left + size, top + size))))
        masks.append(training_mask(size, _sample_generator(seed + 7919, -1 - i)))
    if not images:
        raise EEIInputError("none of the validation images could be read")
    return torch.stack(images), torch.stack(masks)


def _split(files: list[Path], val_fraction: float, seed: int) -> tuple[list[Path], list[Path]]:
    """Hold back ``val_fraction`` of the images (at least one) for validation, chosen by ``seed``."""
    if not 0.0 <= val_fraction < 1.0:
        raise EEIInputError(f"val_fraction must be in 0..1 (exclusive of 1), got {val_fraction}")
    if len(files) < 2 or val_fraction == 0.0:
        logger.warning("only %d image(s) or val_fraction=0: validation PSNR is measured on training images", len(files))
        return files, files
    order = torch.randperm(len(files), generator=torch.Generator().manual_seed(seed)).tolist()
    n_val = min(max(1, round(len(files) * val_fraction)), len(files) - 1)
    val = sorted(files[i] for i in order[:n_val])
    train = sorted(files[i] for i in order[n_val:])
    return train, val


# --- networks and losses --------------------------------------------------------------------------------------------


class SNPatchDiscriminator(nn.Module):
    """DeepFill v2's SN-PatchGAN discriminator: six spectral-normalised 5x5 stride-2 convolutions.

    Input ``[B, 2, H, W]`` (completed mono mapped to -1..1, and the mask); output ``[B, 4 w, H/64, W/64]`` scores, each
    judging one overlapping patch (the hinge loss averages them).
    """

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        chans = [2, width, 2 * width, 4 * width, 4 * width, 4 * width, 4 * width]
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [sn(nn.Conv2d(cin, cout, 5, stride=2, padding=2)), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _disc_input(mono: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.cat([mono * 2.0 - 1.0, mask], dim=1)


# --- checkpoints ----------------------------------------------------------------------------------------------------


def _flatten_optimizer(prefix: str, opt: torch.optim.Optimizer, tensors: dict, meta: dict) -> None:
    """Optimizer state into safetensors-friendly parts: tensors under ``prefix.<param>.<name>``, the rest as JSON."""
    sd = opt.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for idx, state in sd["state"].items():
        for name, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.{idx}.{name}"] = value.detach().to("cpu").contiguous()
            else:
                scalars.setdefault(str(idx), {})[name] = value
    meta[f"{prefix}.param_groups"] = json.dumps(sd["param_groups"])
    meta[f"{prefix}.scalars"] = json.dumps(scalars)


def _restore_optimizer(prefix: str, opt: torch.optim.Optimizer, tensors: dict, meta: dict) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(prefix + "."):
            idx, name = key[len(prefix) + 1 :].split(".", 1)
            state.setdefault(int(idx), {})[name] = value
    for idx, values in json.loads(meta.get(f"{prefix}.scalars", "{}")).items():
        state.setdefault(int(idx), {}).update(values)
    opt.load_state_dict({"state": state, "param_groups": json.loads(meta[f"{prefix}.param_groups"])})


def _prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """CPU copies of ``state`` with ``prefix`` added to every key."""
    return {prefix + k: v.detach().to("cpu").contiguous() for k, v in state.items()}


def _unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The entries of ``tensors`` under ``prefix``, with the prefix removed."""
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def _save_train_state(
    path: Path,
    step: int,
    generator: MonoInpaintGenerator,
    g_opt: torch.optim.Optimizer,
    disc: SNPatchDiscriminator | None,
    d_opt: torch.optim.Optimizer | None,
    scalers: dict[str, torch.amp.GradScaler],
    extra: dict[str, str],
) -> None:
    from safetensors.torch import save_file

    tensors = _prefixed("generator.", generator.state_dict())
    meta = {
        "eei_architecture": _STATE_ARCH,
        "eei_config": json.dumps(asdict(generator.config)),
        "eei_step": str(step),
        "eei_gan": "1" if disc is not None else "0",
        "scalers": json.dumps({k: s.state_dict() for k, s in scalers.items()}),
        **extra,
    }
    _flatten_optimizer("g_opt", g_opt, tensors, meta)
    if disc is not None and d_opt is not None:
        tensors.update(_prefixed("discriminator.", disc.state_dict()))
        _flatten_optimizer("d_opt", d_opt, tensors, meta)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    tmp.replace(path)


def _read_resume(path: Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """Metadata and tensors of a ``--resume`` file: a train-state file or an EEI mono model."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    if path.suffix.lower() != ".safetensors":
        read_mono_metadata(path)  # raises the "only safetensors" error
    if not path.is_file():
        raise EEIInputError(f"--resume file not found: {path}")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
    except Exception as exc:  # safetensors' own error types for corrupt headers
        raise EEIInputError(f"--resume {path.name!r} is not a readable safetensors file ({exc})") from exc
    if meta.get("eei_architecture") != _STATE_ARCH:
        meta = read_mono_metadata(path)  # raises "not an EEI mono model" for anything else
    return meta, load_file(str(path), device="cpu")


# --- training -------------------------------------------------------------------------------------------------------


def _validate(
    generator: MonoInpaintGenerator, images: torch.Tensor, masks: torch.Tensor, device: torch.device
) -> float:
    """Mean PSNR (dB) of the completed monochrome against the truth, inside the holes of the validation set."""
    generator.eval()
    values = []
    with torch.no_grad():
        for img, m in zip(images.split(4), masks.split(4)):
            img, m = img.to(device), m.to(device)
            _, refined = generator(img, m)
            truth = to_mono(img)
            done = torch.where(m > 0.5, refined.clamp(0, 1), truth)
            # psnr measures RGB images; a gray image replicated to RGB has the same error.
            done3, truth3 = done.expand(-1, 3, -1, -1), truth.expand(-1, 3, -1, -1)
            for i in range(img.shape[0]):
                if bool((m[i] > 0.5).any()):
                    values.append(psnr(done3[i : i + 1], truth3[i : i + 1], m[i : i + 1]))
    generator.train()
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.inf


def _check_args(size: int, steps: int, batch: int, lr: float, checkpoint_every: int, width: int, out: Path) -> None:
    if size < 16:
        raise EEIInputError(f"--size must be at least 16 pixels, got {size}")
    if steps < 1 or batch < 1 or checkpoint_every < 1:
        raise EEIInputError(
            f"--steps, --batch and --checkpoint-every must be >= 1, got {steps}, {batch}, {checkpoint_every}"
        )
    if not lr > 0:
        raise EEIInputError(f"learning rate must be > 0, got {lr}")
    if out.suffix.lower() != ".safetensors":
        raise EEIInputError(f"--out must end in .safetensors (EEI only writes safetensors), got {out.name!r}")
    MonoModelConfig(width=width)  # raises on a bad width


def train_external(
    images_dir: str | Path,
    out: str | Path,
    size: int = 256,
    steps: int = 100_000,
    batch: int = 8,
    resume: str | Path | None = None,
    lr: float = 1e-4,
    val_fraction: float = 0.05,
    checkpoint_every: int = 1000,
    gan: bool = False,
    device: str | torch.device | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
    *,
    width: int = 24,
    workers: int = 0,
    cancel: CancelFn | None = None,
) -> dict[str, Any]:
    """Train a :class:`MonoInpaintGenerator` on the photos in ``images_dir`` and write it to ``out``.

    Args:
        images_dir: folder of photos (searched recursively for png/jpg/jpeg/webp/bmp).
        out: the model file to write (``.safetensors``); the training state goes beside it (see module docs).
        size: side of the square training crops, in pixels.
        steps: total number of training steps (a resumed run continues up to this number).
        batch: crops per step.
        resume: a ``.train-state.safetensors`` file (exact continuation) or an EEI mono model (its weights and step;
            optimizers start afresh).
        lr: Adam learning rate (betas 0.5, 0.999 as in DeepFill v2), for generator and discriminator.
        val_fraction: share of the images held back for validation PSNR (at least one image).
        checkpoint_every: steps between checkpoints (model, train state, validation PSNR); one is always written at
            the end.
        gan: add the SN-PatchGAN hinge loss (spectral-normalised discriminator), as DeepFill v2.
        device: "auto"/None (CUDA when available), "cpu", "cuda" or a torch.device. Mixed precision on CUDA.
        seed: seeds initialisation, the train/validation split and every sample.
        progress: ``progress(0, step, steps, None)`` after every step.
        width: channel base of a new model (ignored when resuming: the resumed model's width is kept).
        workers: data-loading worker processes (0 = load in this process).
        cancel: called every step; ``True`` or an exception stops training (after writing a checkpoint).

    Returns:
        ``{"output", "train_state", "step", "start_step", "seconds", "device", "val_psnr", "history",
        "train_images", "val_images"}``; ``val_psnr`` is the last hole PSNR in dB, ``history`` a list of
        ``[step, psnr]``.
    """
    from tqdm import tqdm

    t0 = time.perf_counter()
    out = Path(out)
    _check_args(size, steps, batch, lr, checkpoint_every, width, out)
    dev = resolve_device("auto" if device is None else device)
    files = list_images(images_dir)
    train_files, val_files = _split(files, val_fraction, seed)
    val_images, val_masks = _validation_set(val_files, size, seed)

    meta: dict[str, str] = {}
    tensors: dict[str, torch.Tensor] = {}
    if resume is not None:
        meta, tensors = _read_resume(Path(resume))
        config = config_from_metadata(meta, Path(resume).name)
    else:
        config = MonoModelConfig(width=width)

    # Initialisation draws from torch's global generator; fork_rng keeps the caller's random state untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        generator = MonoInpaintGenerator(config)
        # DeepFill v2 pairs a generator of width 24 (cnum 48 with gates) with a discriminator of width 64.
        disc = SNPatchDiscriminator(max(16, round(config.width * 8 / 3))) if gan else None

    start_step = 0
    if resume is not None:
        is_state = meta.get("eei_architecture") == _STATE_ARCH
        load_state_strict(generator, _unprefixed("generator.", tensors) if is_state else tensors, Path(resume).name)
        start_step = int(meta.get("eei_step", "0"))
    generator.to(dev).train()
    g_opt = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
    d_opt = None
    if disc is not None:
        disc.to(dev).train()
        d_opt = torch.optim.Adam(disc.parameters(), lr=lr, betas=(0.5, 0.999))

    amp = dev.type == "cuda"
    scalers = {"g": torch.amp.GradScaler("cuda", enabled=amp), "d": torch.amp.GradScaler("cuda", enabled=amp)}
    if meta.get("eei_architecture") == _STATE_ARCH:
        _restore_optimizer("g_opt", g_opt, tensors, meta)
        if disc is not None and meta.get("eei_gan") == "1":
            load_state_strict(disc, _unprefixed("discriminator.", tensors), Path(resume).name)
            _restore_optimizer("d_opt", d_opt, tensors, meta)
        elif disc is not None:
            logger.warning("resumed state was trained without --gan: the discriminator starts from scratch")
        for name, state in json.loads(meta.get("scalers", "{}")).items():
            if amp and name in scalers and state:
                scalers[name].load_state_dict(state)
    elif resume is not None:
        logger.warning("resumed a model file: weights and step %d restored, optimizer starts afresh", start_step)
    del tensors

    state_path = train_state_path(out)
    extra = {"eei_train_size": str(size), "eei_train_images": str(len(train_files)), "eei_gan": "1" if gan else "0"}
    history: list[list[float]] = []

    def checkpoint(step: int) -> None:
        value = _validate(generator, val_images, val_masks, dev)
        history.append([step, value])
        logger.info("step %d: validation hole PSNR %.2f dB", step, value)
        save_mono_model(generator, out, {**extra, "eei_step": str(step), "eei_val_psnr": f"{value:.4f}"})
        _save_train_state(state_path, step, generator, g_opt, disc, d_opt, scalers, {**extra, "eei_seed": str(seed)})

    step = start_step
    if start_step >= steps:
        logger.warning("the resumed run is already at step %d >= --steps %d; nothing to train", start_step, steps)
        checkpoint(step)
    else:
        loader = torch.utils.data.DataLoader(
            CropDataset(train_files, size, seed),
            batch_size=batch,
            sampler=_IndexRange(start_step * batch, steps * batch),
            num_workers=workers,
            # Without its own generator the loader would draw worker seeds from torch's global generator.
            generator=torch.Generator().manual_seed(seed),
            pin_memory=amp,
            persistent_workers=False,
        )
        bar = tqdm(total=steps, initial=start_step, desc="train-external", unit="step", file=sys.stderr, disable=None)
        try:
            for images, masks in loader:
                check_cancel(cancel)
                images = images.to(dev, non_blocking=True)
                masks = masks.to(dev, non_blocking=True)
                truth = to_mono(images)
                with torch.autocast(dev.type, dtype=torch.float16, enabled=amp):
                    coarse, refined = generator(images, masks)
                    loss = (coarse.float() - truth).abs().mean() + (refined.float() - truth).abs().mean()
                    done = refined.float() * masks + truth * (1.0 - masks)
                    if disc is not None:
                        g_adv = -disc(_disc_input(done, masks)).float().mean()
                        loss = loss + GAN_WEIGHT * g_adv
                g_opt.zero_grad(set_to_none=True)
                scalers["g"].scale(loss).backward()
                scalers["g"].step(g_opt)
                scalers["g"].update()
                if disc is not None and d_opt is not None:
                    with torch.autocast(dev.type, dtype=torch.float16, enabled=amp):
                        real = disc(_disc_input(truth, masks)).float()
                        fake = disc(_disc_input(done.detach(), masks)).float()
                        d_loss = F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
                    d_opt.zero_grad(set_to_none=True)
                    scalers["d"].scale(d_loss).backward()
                    scalers["d"].step(d_opt)
                    scalers["d"].update()
                step += 1
                bar.update(1)
                bar.set_postfix(loss=f"{float(loss.detach()):.4f}")
                if progress is not None:
                    progress(0, step, steps, None)
                if step % checkpoint_every == 0 or step == steps:
                    checkpoint(step)
        except BaseException:
            # Keep the work done so far: a cancelled or crashed run can be resumed from here.
            if step > start_step and (not history or history[-1][0] != step):
                logger.warning("training stopped at step %d; writing a checkpoint to resume from", step)
                try:
                    checkpoint(step)
                except Exception:  # the original error matters more than a failed rescue
                    logger.exception("could not write the checkpoint at step %d", step)
            raise
        finally:
            bar.close()

    return {
        "output": str(out),
        "train_state": str(state_path),
        "step": step,
        "start_step": start_step,
        "seconds": round(time.perf_counter() - t0, 3),
        "device": str(dev),
        "val_psnr": history[-1][1] if history else None,
        "history": history,
        "train_images": len(train_files),
        "val_images": int(val_images.shape[0]),
    }


# --- command line ---------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Handler of ``eei train-external``: trains and returns the result dictionary of :func:`train_external`."""
    return train_external(
        args.images,
        args.out,
        size=args.size,
        steps=args.steps,
        batch=args.batch,
        resume=args.resume,
        lr=args.lr,
        val_fraction=args.val_fraction,
        checkpoint_every=args.checkpoint_every,
        gan=args.gan,
        device=args.device,
        seed=args.seed,
        width=args.width,
        workers=args.workers,
    )


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``eei train-external`` (handler in ``set_defaults(handler=run)``)."""
    p = subparsers.add_parser(
        "train-external",
        help="train the monochrome inpainting network (external stage) on a folder of photos",
        description=(
            "Train the gated-convolution network that completes holes in monochrome (DeepFill v2 changed as in Wang "
            "et al. 2021) on random crops of the photos in --images, with free-form and rectangular holes. Writes "
            "--out (the model, loadable by ComfyUI's LoadMonoInpaintModel from models/mono_inpaint) and, beside "
            "it, a .train-state.safetensors file to --resume from. Checkpoints every --checkpoint-every steps."
        ),
    )
    p.add_argument("--images", required=True, help="folder of training photos (png/jpg, searched recursively)")
    p.add_argument("--out", required=True, help="model file to write, e.g. mono_inpaint.safetensors")
    p.add_argument("--size", type=int, default=256, help="side of the square training crops (default 256)")
    p.add_argument("--steps", type=int, default=100_000, help="total training steps (default 100000)")
    p.add_argument("--batch", type=int, default=8, help="crops per step (default 8)")
    p.add_argument("--resume", default=None, help="a .train-state.safetensors (or model) file to continue from")
    p.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (default 1e-4)")
    p.add_argument("--val-fraction", type=float, default=0.05, help="share of images held back (default 0.05)")
    p.add_argument("--checkpoint-every", type=int, default=1000, help="steps between checkpoints (default 1000)")
    p.add_argument("--gan", action="store_true", help="add the SN-PatchGAN hinge loss (DeepFill v2)")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda (default auto)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--width", type=int, default=24, help="channel base of a new model (default 24: DeepFill v2's size)")
    p.add_argument("--workers", type=int, default=0, help="data-loading processes (default 0: load in-process)")
    p.set_defaults(handler=run)
    return p
