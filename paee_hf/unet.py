"""DocuNet-style U-Net pair encoder (Zhang et al. 2021; Ronneberger et al. 2015), the ``pair_encoder="unet"`` variant.

Eq. 4 of the PAEE paper with the U-Net in place of TNet: ``Y = UNet(W2 V')``. The down path is conv blocks with
2x2 max-pooling, the up path bilinear upsampling with skip connections, as in DocuNet's segmentation module.
Any canvas side works: pooling uses ``ceil_mode`` and every upsampling targets the exact size of its skip tensor,
which replaces DocuNet's pad-then-crop. GroupNorm instead of BatchNorm: statistics stay per document (padding of
the other documents in a batch cannot leak in) and batch size 1 trains.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def conv_norm_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 convolution (size preserving) + GroupNorm + ReLU, the unit of the convolutional pair encoders.

    Up to 8 groups, but a single group below 32 channels so small maps never normalise one value per group.
    """
    groups = math.gcd(out_channels, 8) if out_channels >= 32 else 1
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.GroupNorm(groups, out_channels),
        nn.ReLU(inplace=True),
    )


def double_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two :func:`conv_norm_relu` units, the U-Net block."""
    return nn.Sequential(conv_norm_relu(in_channels, out_channels), conv_norm_relu(out_channels, out_channels))


class UNetPairEncoder(nn.Module):
    """U-Net over the pair canvas: ``W2`` (1x1 conv) then a ``depth``-level U-Net back to ``out_channels``.

    Level ``k`` has ``base_channels * 2**min(k, depth - 1)`` channels (the bottom keeps the width of the level above,
    as DocuNet and bilinear U-Nets do), e.g. 64 -> 128 -> 128 for the defaults.

    Args:
        in_channels: ``D``, channels of the filled canvas.
        out_channels: ``D'``, channels of the output map ``Y``.
        base_channels: Width of the top level.
        depth: Number of 2x2 poolings (and upsamplings).

    Raises:
        ValueError: when a size argument is below 1.
    """

    def __init__(self, in_channels: int, out_channels: int, base_channels: int = 64, depth: int = 2) -> None:
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("base_channels", base_channels),
            ("depth", depth),
        ):
            if value < 1:
                raise ValueError(f"UNetPairEncoder {name} must be >= 1; got {value}.")
        widths = [base_channels * 2 ** min(level, depth - 1) for level in range(depth + 1)]
        self.project = nn.Conv2d(in_channels, out_channels, kernel_size=1)  # W2 of eq. 4
        self.inc = double_conv(out_channels, widths[0])
        self.downs = nn.ModuleList(double_conv(widths[level - 1], widths[level]) for level in range(1, depth + 1))
        self.ups = nn.ModuleList(
            double_conv(widths[level] + widths[level - 1], widths[level - 1]) for level in range(depth, 0, -1)
        )
        self.out = nn.Conv2d(widths[0], out_channels, kernel_size=1)

    def forward(self, canvas: Tensor, valid: Tensor) -> Tensor:
        """Encode the canvas.

        Args:
            canvas: ``(B, in_channels, N', N')`` filled pair canvas, any ``N' >= 1``.
            valid: ``(B, N', N')`` bool content mask; accepted for the common pair-encoder interface and not used:
                like DocuNet, the U-Net sees zero-filled cells as zeros.

        Returns:
            ``(B, out_channels, N', N')``.
        """
        del valid  # part of the interface only (see docstring)
        hidden = self.inc(self.project(canvas))
        skips = []
        for down in self.downs:
            skips.append(hidden)
            hidden = down(nn.functional.max_pool2d(hidden, kernel_size=2, ceil_mode=True))
        for up, skip in zip(self.ups, reversed(skips)):
            upsampled = nn.functional.interpolate(hidden, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            hidden = up(torch.cat([skip, upsampled], dim=1))
        return self.out(hidden)
