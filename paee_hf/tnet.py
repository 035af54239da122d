"""TNet pair encoder: a dense adaptation of multi-scale hard attention for the pair canvas (PAEE eq. 4).

PAEE computes ``Y = TNet(W2 V')`` (eq. 4) on the filled ``N' x N'`` pair canvas ``V'`` and cites TNet
(Papadopoulos, Korus and Memon, "Hard-attention for scalable image classification", NeurIPS 2021) without details.
TNet classifies an image coarse to fine: a feature extractor runs on a downscaled copy, a location module scores a
grid of overlapping cells from those features plus a global context vector and position codes, the top-k cells are
cropped from the higher resolution input and processed by the same extractor, every feature gets a (y, x, level)
code, and the hard top-k choice is trained with REINFORCE. This module is written from that description (no code
of the TensorFlow original is used). PAEE needs one vector per entity pair, so we read it densely:

1. ``X = W2 V'`` (1x1 convolution to ``D'`` channels).
2. Coarse level: the shared extractor (``extractor_layers`` x [3x3 conv, GroupNorm, ReLU] at
   ``extractor_channels``, then a 1x1 conv back to ``D'``; the bottleneck keeps the 3x3 convolutions cheap at
   ``D' = 256``) runs on ``X`` average-pooled by ``coarse_pool``; the result is upsampled (bilinear) to ``N' x N'``
   as the base feature ``B`` of every pair.
3. Location module: the canvas is covered by a square grid of ``window_size`` windows every ``window_stride`` cells,
   the last window aligned to the edge (14/7 gives TNet's 5x5 grid on ``N' = 42``; other sizes get more or fewer
   windows, a canvas smaller than a window is a single window). Each window is described by the mean of ``B`` over
   its valid cells, the global mean of ``B`` over all valid cells and its normalised centre (y, x); LayerNorm and a
   two-layer MLP give one logit. Windows without a valid cell get ``-inf`` and never contribute.
4. Fine level: the ``top_k`` highest-scoring windows (``top_k=None``: every window, the reference) are cropped from
   ``X`` at full resolution with a context margin of ``extractor_layers`` cells (the receptive radius of the 3x3
   stack; zeros beyond the canvas edge), batched over documents and windows, run through the same extractor and
   trimmed back to the window. Unlike TNet's context-free crops, the margin lets every cell of a window see its
   whole neighbourhood, so windows agree where they overlap instead of carrying zero-padding borders. Each refined
   cell gets learned (row-in-window, column-in-window, level) codes and is scaled by ``sigmoid(logit)`` of its
   window. This gate replaces REINFORCE: the selection itself stays hard, but the location module is trained end to
   end through the scale of what it selected. Sigmoid rather than softmax keeps a window's weight independent of how
   many windows the grid has and identical between ``top_k=k`` and ``top_k=None``.
5. Refined features are scattered back and averaged over the selected valid windows covering each cell; the output
   is ``Y = X + B + level_code[0] + refined``. The residual ``X`` keeps every pair's own feature at full resolution,
   which TNet (a classifier that averages its features) does not need but a dense per-pair output does.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from .unet import conv_norm_relu


class WindowSelection(NamedTuple):
    """Which windows the location module refines, per document.

    Attributes:
        indices: ``(B, k)`` long, window index ``grid_row * G + grid_col`` in a ``G x G`` window grid.
        gates: ``(B, k)`` sigmoid of the window logits, zero for windows without a valid cell.
        is_valid: ``(B, k)`` bool, the window holds at least one valid cell.
        logits: ``(B, G * G)`` location logits of every window, ``-inf`` for windows without a valid cell.
    """

    indices: Tensor
    gates: Tensor
    is_valid: Tensor
    logits: Tensor


def window_starts(size: int, window_size: int, window_stride: int) -> list[int]:
    """Start offsets of the windows along one side of the canvas.

    Windows are ``min(window_size, size)`` cells wide, every ``window_stride`` cells, plus one aligned to the far edge
    when the stride does not land there, so the windows always cover the whole side.

    Args:
        size: Canvas side ``N'``.
        window_size: Nominal window side.
        window_stride: Step between window starts.

    Returns:
        Sorted start offsets, e.g. ``[0, 7, 14, 21, 28]`` for ``(42, 14, 7)``.
    """
    window = min(window_size, size)
    starts = list(range(0, size - window + 1, window_stride))
    if starts[-1] + window < size:
        starts.append(size - window)
    return starts


class TNetPairEncoder(nn.Module):
    """Dense TNet over the pair canvas (see the module docstring for the reading of the paper).

    Args:
        in_channels: ``D``, channels of the filled canvas.
        out_channels: ``D'``, channels of the output map ``Y`` and of every internal feature.
        window_size: Side of the refined windows.
        window_stride: Step between windows (``<= window_size`` so the windows cover the canvas).
        top_k: Windows refined per document; ``None`` refines every window.
        coarse_pool: Average-pooling factor of the coarse level.
        extractor_layers: 3x3 conv layers of the extractor shared by both levels.
        extractor_channels: Width of those 3x3 conv layers (a 1x1 conv maps back to ``out_channels``).
        location_hidden: Hidden width of the location MLP.

    Raises:
        ValueError: on a size argument below 1, ``window_stride > window_size`` or ``top_k < 1``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        window_size: int = 14,
        window_stride: int = 7,
        top_k: int | None = 4,
        coarse_pool: int = 2,
        extractor_layers: int = 2,
        extractor_channels: int = 64,
        location_hidden: int = 64,
    ) -> None:
        super().__init__()
        for name, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("window_size", window_size),
            ("window_stride", window_stride),
            ("coarse_pool", coarse_pool),
            ("extractor_layers", extractor_layers),
            ("extractor_channels", extractor_channels),
            ("location_hidden", location_hidden),
        ):
            if value < 1:
                raise ValueError(f"TNetPairEncoder {name} must be >= 1; got {value}.")
        if window_stride > window_size:
            raise ValueError(
                f"TNetPairEncoder window_stride={window_stride} exceeds window_size={window_size}: windows would "
                "leave cells uncovered. Use a stride <= the window size."
            )
        if top_k is not None and top_k < 1:
            raise ValueError(f"TNetPairEncoder top_k must be >= 1 or None (refine every window); got {top_k}.")
        self.window_size = window_size
        self.window_stride = window_stride
        self.top_k = top_k
        self.coarse_pool = coarse_pool
        self.context_margin = extractor_layers  # receptive radius of the 3x3 stack

        self.project = nn.Conv2d(in_channels, out_channels, kernel_size=1)  # W2 of eq. 4
        self.extractor = nn.Sequential(
            conv_norm_relu(out_channels, extractor_channels),
            *(conv_norm_relu(extractor_channels, extractor_channels) for _ in range(extractor_layers - 1)),
            nn.Conv2d(extractor_channels, out_channels, kernel_size=1),
        )
        descriptor_size = 2 * out_channels + 2  # window mean, global mean, (y, x) centre
        self.location = nn.Sequential(
            nn.LayerNorm(descriptor_size),
            nn.Linear(descriptor_size, location_hidden),
            nn.ReLU(),
            nn.Linear(location_hidden, 1),
        )
        self.row_code = nn.Embedding(window_size, out_channels)
        self.col_code = nn.Embedding(window_size, out_channels)
        self.level_code = nn.Embedding(2, out_channels)  # 0 = coarse, 1 = refined
        for code in (self.row_code, self.col_code, self.level_code):
            # Small like transformers' embedding init: unit-variance codes would swamp the pair features.
            nn.init.normal_(code.weight, std=0.02)

    def forward(self, canvas: Tensor, valid: Tensor) -> Tensor:
        """Encode the canvas.

        Args:
            canvas: ``(B, in_channels, N', N')`` filled pair canvas, any ``N' >= 1``.
            valid: ``(B, N', N')`` bool, cells that may be refined; windows without one are never selected.

        Returns:
            ``(B, out_channels, N', N')``.
        """
        projected, base, valid = self._coarse_level(canvas, valid)
        selection = self._locate(base, valid)
        refined = self._refine(projected, selection)
        return projected + base + self.level_code.weight[0][:, None, None] + refined

    def select_windows(self, canvas: Tensor, valid: Tensor) -> WindowSelection:
        """The windows :meth:`forward` refines for this canvas (for inspection; same arguments as forward)."""
        _, base, valid = self._coarse_level(canvas, valid)
        return self._locate(base, valid)

    def _coarse_level(self, canvas: Tensor, valid: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``X = W2 V'`` ``(B, D', N', N')``, the upsampled coarse features ``(B, D', N', N')`` and the bool mask."""
        if canvas.dim() != 4 or canvas.shape[-1] != canvas.shape[-2]:
            raise ValueError(f"canvas must have shape (B, C, N', N'); got {tuple(canvas.shape)}.")
        expected = (canvas.shape[0], canvas.shape[-2], canvas.shape[-1])
        if tuple(valid.shape) != expected:
            raise ValueError(
                f"valid must have shape (B, N', N') = {expected} like the canvas; got {tuple(valid.shape)}."
            )
        size = canvas.shape[-1]
        projected = self.project(canvas)
        pooled = nn.functional.avg_pool2d(projected, self.coarse_pool, ceil_mode=True)
        coarse = self.extractor(pooled)
        base = nn.functional.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
        return projected, base, valid.bool()

    def _starts(self, size: int, device: torch.device) -> Tensor:
        return torch.tensor(window_starts(size, self.window_size, self.window_stride), device=device)

    def _locate(self, base: Tensor, valid: Tensor) -> WindowSelection:
        """Score every window of the grid from ``base`` ``(B, D', N', N')`` and pick the top-k per document."""
        batch_size, channels, size, _ = base.shape
        starts = self._starts(size, base.device)
        width = min(self.window_size, size)
        cells = torch.arange(size, device=base.device)
        # membership[g, r] = 1 when row (or column) r lies in the g-th window along that axis.
        membership = ((cells[None, :] >= starts[:, None]) & (cells[None, :] < starts[:, None] + width)).to(base.dtype)
        valid_float = valid.to(base.dtype)
        masked_base = base * valid_float[:, None]
        window_sums = torch.einsum("gr,bdrc,hc->bghd", membership, masked_base, membership)  # (B, G, G, D')
        window_counts = torch.einsum("gr,brc,hc->bgh", membership, valid_float, membership)  # (B, G, G)
        window_means = window_sums / window_counts.clamp(min=1)[..., None]
        global_means = masked_base.sum((2, 3)) / valid_float.sum((1, 2)).clamp(min=1)[:, None]  # (B, D')

        grid = starts.numel()
        centres = (starts.to(base.dtype) + width / 2) / size  # (G,), in (0, 1]
        positions = torch.stack(torch.meshgrid(centres, centres, indexing="ij"), dim=-1)  # (G, G, 2)
        descriptors = torch.cat(
            [
                window_means,
                global_means[:, None, None, :].expand(batch_size, grid, grid, channels),
                positions.expand(batch_size, grid, grid, 2),
            ],
            dim=-1,
        )
        window_has_valid = window_counts.flatten(1) > 0  # (B, G*G)
        logits = self.location(descriptors).flatten(1).masked_fill(~window_has_valid, float("-inf"))

        if self.top_k is None or self.top_k >= grid * grid:
            indices = torch.arange(grid * grid, device=base.device).expand(batch_size, -1)
        else:
            indices = logits.topk(self.top_k, dim=1).indices
        is_valid = window_has_valid.gather(1, indices)
        no_gate = torch.zeros((), dtype=logits.dtype, device=logits.device)
        gates = torch.where(is_valid, torch.sigmoid(logits.gather(1, indices)), no_gate)
        return WindowSelection(indices, gates, is_valid, logits)

    def _refine(self, projected: Tensor, selection: WindowSelection) -> Tensor:
        """Run the extractor on the selected windows of ``projected`` ``(B, D', N', N')``; gated average per cell."""
        batch_size, channels, size, _ = projected.shape
        starts = self._starts(size, projected.device)
        width = min(self.window_size, size)
        num_selected = selection.indices.shape[1]
        margin = self.context_margin
        row_starts = starts[selection.indices // starts.numel()]  # (B, k)
        col_starts = starts[selection.indices % starts.numel()]  # (B, k)

        # Crops with their context margin, taken from the zero-padded canvas (padded index = index + margin).
        context_offsets = torch.arange(width + 2 * margin, device=projected.device)
        context_rows = row_starts[..., None] + context_offsets  # (B, k, w + 2m)
        context_cols = col_starts[..., None] + context_offsets
        padded = nn.functional.pad(projected, (margin, margin, margin, margin)).permute(0, 2, 3, 1)
        batch_index = torch.arange(batch_size, device=projected.device)[:, None, None, None]
        crops = padded[batch_index, context_rows[..., :, None], context_cols[..., None, :]]  # (B, k, w+2m, w+2m, D')
        context_width = width + 2 * margin
        features = self.extractor(crops.reshape(-1, context_width, context_width, channels).permute(0, 3, 1, 2))
        features = features[:, :, margin : margin + width, margin : margin + width]
        features = features.permute(0, 2, 3, 1).reshape(batch_size, num_selected, width, width, channels)
        codes = (
            self.row_code.weight[:width, None, :] + self.col_code.weight[None, :width, :] + self.level_code.weight[1]
        )  # (w, w, D')
        weighted = (features + codes) * selection.gates[:, :, None, None, None]

        offsets = torch.arange(width, device=projected.device)
        rows = row_starts[..., None] + offsets  # (B, k, w)
        cols = col_starts[..., None] + offsets
        cell_index = (rows[..., :, None] * size + cols[..., None, :]).reshape(batch_size, -1)  # (B, k*w*w)
        # weighted, not projected, sets the dtype: under autocast the float32 codes promote bf16 features.
        summed = weighted.new_zeros(batch_size, size * size, channels).scatter_add(
            1, cell_index[..., None].expand(-1, -1, channels), weighted.reshape(batch_size, -1, channels)
        )
        window_weight = selection.is_valid.to(weighted.dtype)[:, :, None].expand(-1, -1, width * width)
        coverage = weighted.new_zeros(batch_size, size * size).scatter_add(
            1, cell_index, window_weight.reshape(batch_size, -1)
        )
        refined = summed / coverage.clamp(min=1)[..., None]
        return refined.reshape(batch_size, size, size, channels).permute(0, 3, 1, 2)
