"""Shared fixtures: small real colour photos from scikit-image (offline) and synthetic images."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--device", default="cpu", help="device for core tests (cpu or cuda)")


@pytest.fixture
def device(request: pytest.FixtureRequest) -> torch.device:
    dev = torch.device(request.config.getoption("--device"))
    if dev.type == "cuda" and not torch.cuda.is_available():
        pytest.fail("--device cuda was given but no CUDA GPU is available")
    return dev


def skimage_photo(name: str, height: int, width: int) -> torch.Tensor:
    """A scikit-image colour photo as ``[1, 3, height, width]`` in 0..1 (area-resized)."""
    from skimage import data

    arr = getattr(data, name)()
    t = torch.tensor(arr, dtype=torch.float32).permute(2, 0, 1)[None] / 255.0
    return F.interpolate(t, size=(height, width), mode="area")


@pytest.fixture(scope="session")
def astronaut_small() -> torch.Tensor:
    return skimage_photo("astronaut", 64, 64)


@pytest.fixture(scope="session")
def coffee_small() -> torch.Tensor:
    return skimage_photo("coffee", 48, 72)


def rect_hole(height: int, width: int, top: int, left: int, h: int, w: int) -> torch.Tensor:
    m = torch.zeros(1, 1, height, width)
    m[..., top : top + h, left : left + w] = 1.0
    return m


def hole_psnr(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    mse = (((a - b) ** 2) * mask).sum() / (mask.sum() * a.shape[1])
    return float(10 * torch.log10(1.0 / mse))


def with_noise(x: torch.Tensor, levels: float = 0.25, seed: int = 0) -> torch.Tensor:
    """``x`` plus seeded Gaussian noise of ``levels`` 8-bit levels (standard deviation): a perturbation far below
    what anyone sees, which no verdict may flip on. Images (3 channels) stay in 0..1."""
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed)) * (levels / 255.0)
    out = x + noise
    return out.clamp(0, 1) if x.shape[1] == 3 else out
