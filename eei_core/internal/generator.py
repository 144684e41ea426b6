"""The colour generator of the paper's appendix: a small ResNet that maps gray (+ colour from below) to colour."""

from __future__ import annotations

import torch
from torch import nn


class ReflectPad(nn.Module):
    """1-pixel reflection padding that falls back to replication on sides of one pixel, where reflection is undefined."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mode = "reflect" if min(x.shape[-2:]) > 1 else "replicate"
        return nn.functional.pad(x, (1, 1, 1, 1), mode=mode)


class ConvBlock(nn.Sequential):
    """Reflection-padded 3x3 conv, BatchNorm, LeakyReLU(0.2): the paper's basic layer."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            ReflectPad(),
            nn.Conv2d(in_channels, out_channels, kernel_size=3),
            nn.BatchNorm2d(out_channels),
            nn.LeakyReLU(0.2),
        )


class ResidualBlock(nn.Module):
    """Two :class:`ConvBlock` layers with an identity skip."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(ConvBlock(channels, channels), ConvBlock(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ColorGenerator(nn.Module):
    """ResNet-like generator: head layer, ``blocks`` residual blocks, reflection-padded 3x3 output conv.

    Args:
        in_channels: 1 at the coarsest level (gray), 4 above (gray + upsampled colour of the level below); more when
            extra guidance channels are given (see :mod:`eei_core.internal.colorize`).
        out_channels: 3 (RGB, as in the paper) or 2 (chroma only).
        width: feature channels (paper: 32).
        blocks: residual blocks (paper: 9 two-layer blocks).

    Input ``[B, in_channels, H, W]``, output ``[B, out_channels, H, W]`` (unbounded; callers clamp or add to a base).

    Example:
        >>> g = ColorGenerator(4, 3, width=8, blocks=1)
        >>> g(torch.rand(1, 4, 10, 12)).shape
        torch.Size([1, 3, 10, 12])
    """

    def __init__(self, in_channels: int, out_channels: int = 3, width: int = 32, blocks: int = 9) -> None:
        super().__init__()
        self.head = ConvBlock(in_channels, width)
        self.body = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)])
        self.tail = nn.Sequential(ReflectPad(), nn.Conv2d(width, out_channels, kernel_size=3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(self.body(self.head(x)))
