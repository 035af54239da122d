"""Sliding-window filling of the entity-pair map onto a fixed-size canvas (PAEE paper, section 2.2, eq. 4).

Reading of the paper: eq. 4 is ``V' = Sliding(V)``, ``Y = TNet(W2 V')``. A document with ``n_b`` entities has an
``n_b x n_b`` pair map ``V`` (cell ``(i, j)`` = subject ``i``, object ``j``) that must be placed into an ``N x N``
canvas (``N = matrix_size``, 42 for DocRED). Instead of zero padding (DocuNet, Zhang et al. 2021), the paper slides
the ``n_b x n_b`` window "transversely, longitudinally and obliquely" until the canvas is full. We read this as
periodic tiling::

    V'[i, j] = V[i mod n_b, j mod n_b]        for 0 <= i, j < N'

so every canvas cell carries a real pair and pairs that are far apart inside the block (e.g. the two ends of the
diagonal) become neighbours across tile borders. ``N' = max(N, n)``: a document with more entities than ``N`` gets
a larger canvas instead of failing. The model fills each document on a canvas of its own side (``max(N, n_b)``, see
``PairAwareRepresentation``), never the batch's largest, so a document's scores do not depend on its batch-mates.
The encoder output is read back from the original block (top-left ``n x n``), which is where the tiling put the
untouched copy of ``V``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

FILLING_MODES = ("sliding", "zero")


class PairCanvas(NamedTuple):
    """A filled pair canvas and its masks.

    Attributes:
        canvas: ``(B, C, N', N')`` filled pair features.
        valid: ``(B, N', N')`` bool, cells that carry pair content (every cell for ``"sliding"``, the document's own
            ``n_b x n_b`` block for ``"zero"``).
        block: ``(B, N', N')`` bool, the document's own ``n_b x n_b`` block: the only cells read back, so the only
            cells whose encoder output reaches the loss.
    """

    canvas: Tensor
    valid: Tensor
    block: Tensor


def _check_num_entities(num_entities: Tensor, batch_size: int, map_size: int) -> None:
    if num_entities.dim() != 1 or num_entities.shape[0] != batch_size:
        raise ValueError(
            f"num_entities must have shape (B,) = ({batch_size},) to match the pair map; got "
            f"{tuple(num_entities.shape)}. Pass one entity count per document."
        )
    if num_entities.numel() and int(num_entities.min()) < 1:
        doc = int(torch.nonzero(num_entities < 1)[0, 0])
        raise ValueError(
            f"document {doc} of the batch has num_entities={int(num_entities[doc])}: every document needs at least "
            "one entity to fill a pair canvas. Drop entity-less documents before batching."
        )
    if num_entities.numel() and int(num_entities.max()) > map_size:
        doc = int(torch.argmax(num_entities))
        raise ValueError(
            f"document {doc} of the batch has num_entities={int(num_entities[doc])} but the pair map holds only "
            f"{map_size} entities per side. Pad the pair map to the largest entity count of the batch."
        )


def block_mask(num_entities: Tensor, size: int) -> Tensor:
    """Mask of each document's own ``n_b x n_b`` block in a ``size x size`` grid.

    Args:
        num_entities: ``(B,)`` entity count per document.
        size: Side of the grid.

    Returns:
        ``(B, size, size)`` bool, True where both row and column index are below ``num_entities[b]``.
    """
    inside = torch.arange(size, device=num_entities.device)[None, :] < num_entities[:, None]  # (B, size)
    return inside[:, :, None] & inside[:, None, :]


def fill_pair_canvas(
    pair_map: Tensor, num_entities: Tensor, canvas_size: int, filling: str = "sliding"
) -> PairCanvas:
    """Place each document's pair map onto an ``N' x N'`` canvas (eq. 4, ``V' = Sliding(V)``).

    Args:
        pair_map: ``(B, C, n, n)`` pair features; cells at or beyond ``num_entities[b]`` are padding (any value).
        num_entities: ``(B,)`` long, entities per document, ``1 <= n_b <= n``.
        canvas_size: ``N`` (``matrix_size``); the canvas side is ``N' = max(N, n)``.
        filling: ``"sliding"``: ``canvas[b, :, i, j] = pair_map[b, :, i % n_b, j % n_b]`` (periodic tiling);
            ``"zero"``: the ``n_b x n_b`` block at the top-left, zeros elsewhere (padding cells included).

    Returns:
        :class:`PairCanvas` with ``canvas`` ``(B, C, N', N')``, ``valid`` and ``block`` ``(B, N', N')``.

    Raises:
        ValueError: on a bad shape, ``canvas_size < 1``, an unknown ``filling`` or an entity count outside ``[1, n]``.
    """
    if filling not in FILLING_MODES:
        raise ValueError(f"filling must be one of {FILLING_MODES}; got {filling!r}.")
    if pair_map.dim() != 4 or pair_map.shape[-1] != pair_map.shape[-2]:
        raise ValueError(
            f"pair_map must have shape (B, C, n, n) with a square n x n pair grid; got {tuple(pair_map.shape)}."
        )
    if canvas_size < 1:
        raise ValueError(f"canvas_size (matrix_size) must be >= 1; got {canvas_size}.")
    batch_size, channels, map_size, _ = pair_map.shape
    _check_num_entities(num_entities, batch_size, map_size)
    num_entities = num_entities.to(device=pair_map.device, dtype=torch.long)

    size = max(canvas_size, map_size)
    block = block_mask(num_entities, size)
    if filling == "zero":
        padding = size - map_size
        inside_map = block[:, :map_size, :map_size].unsqueeze(1)  # (B, 1, n, n)
        # where(), not a product: padding cells may hold inf/NaN, and 0 * inf is NaN.
        block_only = torch.where(inside_map, pair_map, torch.zeros((), dtype=pair_map.dtype, device=pair_map.device))
        canvas = torch.nn.functional.pad(block_only, (0, padding, 0, padding))
        return PairCanvas(canvas, block.clone(), block)

    # Per-document source index of every canvas row/column; two gathers tile rows then columns, and their
    # backward sums the gradient of every copy into the original cell.
    source = torch.arange(size, device=pair_map.device)[None, :] % num_entities[:, None]  # (B, N')
    rows = pair_map.gather(2, source[:, None, :, None].expand(batch_size, channels, size, map_size))
    canvas = rows.gather(3, source[:, None, None, :].expand(batch_size, channels, size, size))
    valid = torch.ones(batch_size, size, size, dtype=torch.bool, device=pair_map.device)
    return PairCanvas(canvas, valid, block)


def read_back_block(canvas: Tensor, num_entities: Tensor, map_size: int) -> Tensor:
    """Read each document's pair features back from the top-left block of an encoded canvas.

    Both fillings keep the untouched ``n_b x n_b`` copy of the pair map at the top-left, so this inverts
    :func:`fill_pair_canvas` on every real cell.

    Args:
        canvas: ``(B, C', N', N')`` encoder output on the canvas, ``N' >= map_size``.
        num_entities: ``(B,)`` entities per document, ``1 <= n_b <= map_size``.
        map_size: ``n``, the side of the pair map that was filled.

    Returns:
        ``(B, C', n, n)``; cells at or beyond ``num_entities[b]`` (padding) are zero.

    Raises:
        ValueError: when the canvas is smaller than ``map_size`` or an entity count is outside ``[1, map_size]``.
    """
    if canvas.dim() != 4 or canvas.shape[-1] != canvas.shape[-2]:
        raise ValueError(f"canvas must have shape (B, C, N', N'); got {tuple(canvas.shape)}.")
    if canvas.shape[-1] < map_size:
        raise ValueError(
            f"canvas side {canvas.shape[-1]} is smaller than map_size={map_size}: pass the n used when filling."
        )
    _check_num_entities(num_entities, canvas.shape[0], map_size)
    block = block_mask(num_entities.to(device=canvas.device, dtype=torch.long), map_size)
    zero = torch.zeros((), dtype=canvas.dtype, device=canvas.device)
    return torch.where(block.unsqueeze(1), canvas[:, :, :map_size, :map_size], zero)
