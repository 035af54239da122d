"""Sliding-window filling (eq. 4, ``V' = Sliding(V)``): tiling, zero filling, masks, read-back, gradients, errors."""

from __future__ import annotations

import pytest
import torch

from paee_hf.sliding_filling import block_mask, fill_pair_canvas, read_back_block

# The 3 x 3 pair map [[0, 1, 2], [3, 4, 5], [6, 7, 8]] tiled into a 7 x 7 canvas, written out by hand.
TILED_3_INTO_7 = [
    [0, 1, 2, 0, 1, 2, 0],
    [3, 4, 5, 3, 4, 5, 3],
    [6, 7, 8, 6, 7, 8, 6],
    [0, 1, 2, 0, 1, 2, 0],
    [3, 4, 5, 3, 4, 5, 3],
    [6, 7, 8, 6, 7, 8, 6],
    [0, 1, 2, 0, 1, 2, 0],
]


def three_by_three_map() -> torch.Tensor:
    """``(1, 2, 3, 3)``: channel 0 = 0..8 row-major, channel 1 = its negation."""
    values = torch.arange(9.0).view(3, 3)
    return torch.stack([values, -values]).unsqueeze(0)


def test_sliding_tiles_the_window_in_all_three_directions():
    filled = fill_pair_canvas(three_by_three_map(), torch.tensor([3]), canvas_size=7, filling="sliding")
    expected = torch.tensor(TILED_3_INTO_7, dtype=torch.float32)
    assert filled.canvas.shape == (1, 2, 7, 7)
    torch.testing.assert_close(filled.canvas[0, 0], expected)
    torch.testing.assert_close(filled.canvas[0, 1], -expected)
    assert filled.valid.all()
    assert filled.block[0].equal(block_mask(torch.tensor([3]), 7)[0])
    assert int(filled.block.sum()) == 9 and filled.block[0, :3, :3].all()


def test_sliding_uses_each_documents_own_period_and_ignores_padding():
    pair_map = torch.full((2, 1, 3, 3), 99.0)  # 99 = padding, must never reach the canvas
    pair_map[0] = three_by_three_map()[:, :1]
    pair_map[1, 0, :2, :2] = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    filled = fill_pair_canvas(pair_map, torch.tensor([3, 2]), canvas_size=5)
    torch.testing.assert_close(filled.canvas[0, 0], torch.tensor(TILED_3_INTO_7, dtype=torch.float32)[:5, :5])
    expected_period_two = torch.tensor(
        [[1, 2, 1, 2, 1], [3, 4, 3, 4, 3], [1, 2, 1, 2, 1], [3, 4, 3, 4, 3], [1, 2, 1, 2, 1]], dtype=torch.float32
    )
    torch.testing.assert_close(filled.canvas[1, 0], expected_period_two)
    assert filled.block[1].sum() == 4 and filled.block[1, :2, :2].all()


def test_canvas_grows_when_the_map_is_larger_than_matrix_size():
    pair_map = torch.randn(2, 3, 5, 5)
    filled = fill_pair_canvas(pair_map, torch.tensor([5, 2]), canvas_size=3)
    assert filled.canvas.shape == (2, 3, 5, 5)
    torch.testing.assert_close(filled.canvas[0], pair_map[0])  # a full-size map is its own tiling
    rows = torch.tensor([0, 1, 0, 1, 0])
    torch.testing.assert_close(filled.canvas[1], pair_map[1][:, rows][:, :, rows])
    zero = fill_pair_canvas(pair_map, torch.tensor([5, 2]), canvas_size=3, filling="zero")
    assert zero.canvas.shape == (2, 3, 5, 5)


def test_zero_filling_keeps_the_block_and_zeros_everything_else():
    pair_map = torch.full((2, 1, 3, 3), float("inf"))  # padding may be anything, even inf
    pair_map[0] = three_by_three_map()[:, :1]
    pair_map[1, 0, :1, :1] = 7.0
    filled = fill_pair_canvas(pair_map, torch.tensor([3, 1]), canvas_size=4, filling="zero")
    expected = torch.zeros(2, 1, 4, 4)
    expected[0, 0, :3, :3] = torch.arange(9.0).view(3, 3)
    expected[1, 0, 0, 0] = 7.0
    torch.testing.assert_close(filled.canvas, expected)
    assert filled.valid.equal(filled.block)
    assert filled.valid.sum((1, 2)).tolist() == [9, 1]


@pytest.mark.parametrize("filling", ["sliding", "zero"])
def test_read_back_returns_the_original_block_and_zero_padding(filling):
    pair_map = torch.randn(3, 4, 6, 6)
    num_entities = torch.tensor([6, 2, 4])
    filled = fill_pair_canvas(pair_map, num_entities, canvas_size=9, filling=filling)
    read = read_back_block(filled.canvas, num_entities, map_size=6)
    block = block_mask(num_entities, 6).unsqueeze(1)
    torch.testing.assert_close(read, torch.where(block, pair_map, torch.zeros(())))
    assert read[1, :, 2:, :].abs().sum() == 0 and read[1, :, :, 2:].abs().sum() == 0


def test_sliding_gradient_sums_over_every_copy():
    pair_map = three_by_three_map().requires_grad_(True)
    fill_pair_canvas(pair_map, torch.tensor([3]), canvas_size=7).canvas.sum().backward()
    copies_per_index = torch.tensor([3.0, 2.0, 2.0])  # index 0 at rows 0, 3, 6; 1 at 1, 4; 2 at 2, 5
    expected = torch.outer(copies_per_index, copies_per_index).expand(1, 2, 3, 3)
    torch.testing.assert_close(pair_map.grad, expected)


def test_zero_filling_gradient_reaches_only_the_block():
    pair_map = torch.randn(1, 2, 3, 3, requires_grad=True)
    fill_pair_canvas(pair_map, torch.tensor([2]), canvas_size=5, filling="zero").canvas.sum().backward()
    expected = torch.zeros(1, 2, 3, 3)
    expected[..., :2, :2] = 1.0
    torch.testing.assert_close(pair_map.grad, expected)


def test_entity_count_of_zero_is_rejected_with_the_document_index():
    with pytest.raises(ValueError, match=r"document 1 .*num_entities=0.*at least one entity"):
        fill_pair_canvas(torch.zeros(2, 1, 3, 3), torch.tensor([3, 0]), canvas_size=4)


def test_entity_count_above_the_map_size_is_rejected():
    with pytest.raises(ValueError, match=r"document 0 .*num_entities=4.*holds only 3"):
        fill_pair_canvas(torch.zeros(1, 1, 3, 3), torch.tensor([4]), canvas_size=4)
    with pytest.raises(ValueError, match=r"num_entities=4.*holds only 3"):
        read_back_block(torch.zeros(1, 1, 4, 4), torch.tensor([4]), map_size=3)


@pytest.mark.parametrize(
    ("pair_map", "num_entities", "canvas_size", "filling", "message"),
    [
        (torch.zeros(1, 1, 3, 3), torch.tensor([3]), 4, "reflect", r"filling must be one of \('sliding', 'zero'\)"),
        (torch.zeros(1, 1, 3, 2), torch.tensor([2]), 4, "sliding", r"pair_map must have shape \(B, C, n, n\)"),
        (torch.zeros(1, 3, 3), torch.tensor([3]), 4, "sliding", r"pair_map must have shape"),
        (torch.zeros(1, 1, 3, 3), torch.tensor([3]), 0, "sliding", r"canvas_size \(matrix_size\) must be >= 1"),
        (torch.zeros(2, 1, 3, 3), torch.tensor([3]), 4, "sliding", r"num_entities must have shape \(B,\) = \(2,\)"),
    ],
)
def test_bad_arguments_name_the_argument(pair_map, num_entities, canvas_size, filling, message):
    with pytest.raises(ValueError, match=message):
        fill_pair_canvas(pair_map, num_entities, canvas_size, filling)


def test_read_back_rejects_a_canvas_smaller_than_the_map():
    with pytest.raises(ValueError, match=r"canvas side 3 is smaller than map_size=5"):
        read_back_block(torch.zeros(1, 1, 3, 3), torch.tensor([2]), map_size=5)
