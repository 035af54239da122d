"""Pair encoders of eq. 4 (TNet, U-Net, none): shapes for any canvas side, gradients, window selection, learning."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from paee_hf.pair_encoders import IdentityPairEncoder, build_pair_encoder
from paee_hf.sliding_filling import fill_pair_canvas, read_back_block
from paee_hf.tnet import TNetPairEncoder, window_starts
from paee_hf.unet import UNetPairEncoder

IN_CHANNELS, OUT_CHANNELS = 6, 8
SMALL = {
    "tnet": {"extractor_channels": 8, "location_hidden": 8},
    "unet": {"base_channels": 4},
    "none": {},
}


def small_encoder(kind: str, **overrides) -> nn.Module:
    torch.manual_seed(0)
    return build_pair_encoder(kind, IN_CHANNELS, OUT_CHANNELS, **{**SMALL[kind], **overrides})


def all_valid(batch_size: int, size: int) -> torch.Tensor:
    return torch.ones(batch_size, size, size, dtype=torch.bool)


@pytest.mark.parametrize("kind", ["tnet", "unet", "none"])
@pytest.mark.parametrize("size", [1, 5, 42, 60])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_output_shape_for_any_canvas_side(kind, size, batch_size):
    encoder = small_encoder(kind)
    output = encoder(torch.randn(batch_size, IN_CHANNELS, size, size), all_valid(batch_size, size))
    assert output.shape == (batch_size, OUT_CHANNELS, size, size)
    assert torch.isfinite(output).all()


@pytest.mark.parametrize(
    ("size", "expected"),
    [(42, [0, 7, 14, 21, 28]), (60, [0, 7, 14, 21, 28, 35, 42, 46]), (43, [0, 7, 14, 21, 28, 29]), (5, [0]), (1, [0])],
)
def test_window_grid_covers_the_canvas_with_the_last_window_on_the_edge(size, expected):
    assert window_starts(size, window_size=14, window_stride=7) == expected


@pytest.mark.parametrize("kind", ["tnet", "unet", "none"])
def test_gradient_reaches_every_parameter(kind):
    # top_k=2 of a 5 x 5 grid: the location module is only reachable through the score scaling.
    encoder = small_encoder(kind, **({"top_k": 2} if kind == "tnet" else {}))
    canvas = torch.randn(2, IN_CHANNELS, 42, 42, requires_grad=True)
    (encoder(canvas, all_valid(2, 42)) * torch.randn(2, OUT_CHANNELS, 42, 42)).sum().backward()
    for name, parameter in encoder.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
    assert canvas.grad.abs().sum() > 0


@pytest.mark.parametrize("kind", ["tnet", "unet", "none"])
def test_documents_of_a_batch_do_not_influence_each_other(kind):
    encoder = small_encoder(kind).train()  # train mode: batch statistics would leak across documents
    canvas = torch.randn(3, IN_CHANNELS, 9, 9)
    together = encoder(canvas, all_valid(3, 9))
    alone = encoder(canvas[1:2], all_valid(1, 9))
    torch.testing.assert_close(together[1:2], alone)


def test_unet_output_sees_the_far_corner_of_the_canvas():
    encoder = small_encoder("unet")
    canvas = torch.randn(1, IN_CHANNELS, 8, 8, requires_grad=True)
    encoder(canvas, all_valid(1, 8))[0, :, 0, 0].sum().backward()
    assert canvas.grad[0, :, 7, 7].abs().sum() > 0  # 7 cells away: only the down/up path reaches that far


def test_identity_encoder_is_the_w2_projection_of_every_cell():
    encoder = small_encoder("none")
    assert isinstance(encoder, IdentityPairEncoder)
    canvas = torch.randn(2, IN_CHANNELS, 4, 4)
    weight = encoder.project.weight[:, :, 0, 0]
    expected = torch.einsum("oc,bchw->bohw", weight, canvas) + encoder.project.bias[:, None, None]
    torch.testing.assert_close(encoder(canvas, all_valid(2, 4)), expected)


def reference_tnet(encoder: TNetPairEncoder, canvas: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The module docstring's algorithm written with loops over documents and selected windows."""
    size = canvas.shape[-1]
    width = min(encoder.window_size, size)
    starts = window_starts(size, encoder.window_size, encoder.window_stride)
    grid = list(itertools.product(starts, starts))
    projected = encoder.project(canvas)
    margin = encoder.context_margin
    padded = nn.functional.pad(projected, (margin,) * 4)
    pooled = nn.functional.avg_pool2d(projected, encoder.coarse_pool, ceil_mode=True)
    base = nn.functional.interpolate(encoder.extractor(pooled), size=(size, size), mode="bilinear")
    selection = encoder.select_windows(canvas, valid)
    rows, cols, levels = encoder.row_code.weight, encoder.col_code.weight, encoder.level_code.weight
    codes = (rows[:width, None, :] + cols[None, :width, :] + levels[1]).permute(2, 0, 1)
    summed = torch.zeros_like(projected)
    coverage = torch.zeros(canvas.shape[0], size, size)
    for doc in range(canvas.shape[0]):
        for slot, window in enumerate(selection.indices[doc].tolist()):
            top, left = grid[window]
            if not valid[doc, top : top + width, left : left + width].any():
                continue
            crop = padded[doc : doc + 1, :, top : top + width + 2 * margin, left : left + width + 2 * margin]
            features = encoder.extractor(crop)[0, :, margin : margin + width, margin : margin + width]
            refined = (features + codes) * selection.gates[doc, slot]
            summed[doc, :, top : top + width, left : left + width] += refined
            coverage[doc, top : top + width, left : left + width] += 1
    refined = summed / coverage.clamp(min=1)[:, None]
    return projected + base + encoder.level_code.weight[0][:, None, None] + refined


@pytest.mark.parametrize("top_k", [None, 3])
def test_tnet_matches_the_loop_reference(top_k):
    # 9 x 9 canvas, windows of 4 every 2: starts [0, 2, 4, 5], the last one edge-aligned; zero filling of
    # documents with 3 and 6 entities leaves some windows without a valid cell.
    encoder = small_encoder("tnet", window_size=4, window_stride=2, top_k=top_k)
    filled = fill_pair_canvas(torch.randn(2, IN_CHANNELS, 6, 6), torch.tensor([3, 6]), 9, filling="zero")
    expected = reference_tnet(encoder, filled.canvas, filled.valid)
    torch.testing.assert_close(encoder(filled.canvas, filled.valid), expected)


def test_top_k_none_equals_refining_every_window():
    every = small_encoder("tnet", top_k=None)
    explicit = small_encoder("tnet", top_k=25)  # 5 x 5 windows on N' = 42
    explicit.load_state_dict(every.state_dict())
    canvas = torch.randn(2, IN_CHANNELS, 42, 42)
    torch.testing.assert_close(every(canvas, all_valid(2, 42)), explicit(canvas, all_valid(2, 42)))
    assert every.select_windows(canvas, all_valid(2, 42)).indices.shape == (2, 25)
    fewer = small_encoder("tnet", top_k=4)
    fewer.load_state_dict(every.state_dict())
    assert not torch.allclose(fewer(canvas, all_valid(2, 42)), every(canvas, all_valid(2, 42)))


def test_location_descriptor_is_the_masked_window_mean_global_mean_and_centre():
    encoder = small_encoder("tnet", window_size=4, window_stride=2)
    filled = fill_pair_canvas(torch.randn(1, IN_CHANNELS, 5, 5), torch.tensor([5]), 9, filling="zero")
    captured = []
    encoder.location.register_forward_hook(lambda module, inputs, output: captured.append(inputs[0]))
    encoder.select_windows(filled.canvas, filled.valid)
    projected = encoder.project(filled.canvas)
    base = nn.functional.interpolate(
        encoder.extractor(nn.functional.avg_pool2d(projected, 2, ceil_mode=True)), size=(9, 9), mode="bilinear"
    )[0]
    mask = filled.valid[0]
    global_mean = base[:, mask].mean(1)
    starts = [0, 2, 4, 5]
    for (row, top), (col, left) in itertools.product(enumerate(starts), enumerate(starts)):
        window_mask = torch.zeros(9, 9, dtype=torch.bool)
        window_mask[top : top + 4, left : left + 4] = True
        window_mask &= mask
        window_mean = base[:, window_mask].mean(1) if window_mask.any() else torch.zeros(OUT_CHANNELS)
        centre = torch.tensor([(top + 2) / 9, (left + 2) / 9])
        torch.testing.assert_close(captured[0][0, row, col], torch.cat([window_mean, global_mean, centre]))


def test_windows_without_a_valid_cell_are_never_selected():
    # Zero filling of 3 entities into 42 x 42: only window (0, 0) of the 5 x 5 grid holds a valid cell.
    encoder = small_encoder("tnet", top_k=4)
    filled = fill_pair_canvas(torch.randn(2, IN_CHANNELS, 10, 10), torch.tensor([3, 10]), 42, filling="zero")
    selection = encoder.select_windows(filled.canvas, filled.valid)
    assert selection.is_valid[0].tolist() == [True, False, False, False]
    assert selection.indices[0, 0] == 0
    assert selection.gates[0, 1:].eq(0).all() and selection.gates[0, 0] > 0
    assert torch.isinf(selection.logits[0, 1:]).all()
    # 10 entities reach windows starting at 0 and 7 on both axes: exactly grid cells 0, 1, 5 and 6.
    assert sorted(selection.indices[1].tolist()) == [0, 1, 5, 6] and selection.is_valid[1].all()

    single = small_encoder("tnet", top_k=1)
    single.load_state_dict(encoder.state_dict())
    torch.testing.assert_close(
        encoder(filled.canvas[:1], filled.valid[:1]), single(filled.canvas[:1], filled.valid[:1])
    )


def box_mean_target(canvas: torch.Tensor) -> torch.Tensor:
    """A dense target that needs neighbours: 3 x 3 mean of channel 0 and 5 x 5 mean of channel 1."""
    near = nn.functional.avg_pool2d(canvas[:, :1], 3, stride=1, padding=1)
    far = nn.functional.avg_pool2d(canvas[:, 1:2], 5, stride=1, padding=2)
    return torch.cat([near, far], dim=1)


def best_per_cell_loss(canvas: torch.Tensor, target: torch.Tensor) -> float:
    """MSE of the best affine map of each cell's own features (least squares): what no neighbourhood gives."""
    features = canvas.permute(0, 2, 3, 1).reshape(-1, canvas.shape[1])
    features = torch.cat([features, torch.ones(features.shape[0], 1)], dim=1)
    targets = target.permute(0, 2, 3, 1).reshape(-1, target.shape[1])
    solution = torch.linalg.lstsq(features, targets).solution
    return nn.functional.mse_loss(features @ solution, targets).item()


@pytest.fixture
def single_thread():
    """Tiny tensors gain nothing from intra-op threads, and on a busy 2-core machine they stall."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(
    ("kind", "hyper"),
    [
        ("tnet", {"window_size": 6, "window_stride": 3, "top_k": 4}),
        ("tnet", {"window_size": 6, "window_stride": 3, "top_k": None}),
        ("unet", {}),
    ],
)
def test_encoder_learns_a_dense_neighbourhood_target(kind, hyper, single_thread):
    torch.manual_seed(0)
    canvas = torch.randn(8, 2, 12, 12)
    target = box_mean_target(canvas)
    per_cell_floor = best_per_cell_loss(canvas, target)  # about 0.064 here
    encoder = build_pair_encoder(kind, 2, 8, **{**SMALL[kind], **hyper})
    optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-2)
    valid = all_valid(8, 12)
    losses = []
    for _ in range(100):
        loss = nn.functional.mse_loss(encoder(canvas, valid)[:, :2], target)  # the other 6 channels are free
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * per_cell_floor < losses[0], (per_cell_floor, losses[::20])


def test_fill_encode_read_back_keeps_the_block_shape():
    pair_map = torch.randn(2, IN_CHANNELS, 4, 4)
    num_entities = torch.tensor([4, 2])
    filled = fill_pair_canvas(pair_map, num_entities, canvas_size=7)
    encoded = small_encoder("tnet")(filled.canvas, filled.block)
    read = read_back_block(encoded, num_entities, 4)
    assert read.shape == (2, OUT_CHANNELS, 4, 4)
    assert read[1, :, 2:].abs().sum() == 0


def test_factory_builds_each_kind_with_its_hyper_parameters():
    assert isinstance(build_pair_encoder("tnet", 4, 4, top_k=None), TNetPairEncoder)
    assert build_pair_encoder("tnet", 4, 4, top_k=None).top_k is None
    assert isinstance(build_pair_encoder("unet", 4, 4, base_channels=2, depth=3), UNetPairEncoder)
    assert len(build_pair_encoder("unet", 4, 4, base_channels=2, depth=3).downs) == 3
    assert isinstance(build_pair_encoder("none", 4, 4), IdentityPairEncoder)


def test_factory_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match=r"pair_encoder must be one of \('tnet', 'unet', 'none'\); got 'cnn'"):
        build_pair_encoder("cnn", 4, 4)


def test_factory_rejects_hyper_parameters_of_another_encoder():
    with pytest.raises(ValueError, match=r"pair_encoder='unet' does not take \['top_k'\]; its hyper-parameters are"):
        build_pair_encoder("unet", 4, 4, top_k=2)


@pytest.mark.parametrize(
    ("kind", "hyper", "message"),
    [
        ("tnet", {"window_size": 4, "window_stride": 5}, r"window_stride=5 exceeds window_size=4"),
        ("tnet", {"top_k": 0}, r"top_k must be >= 1 or None"),
        ("tnet", {"coarse_pool": 0}, r"TNetPairEncoder coarse_pool must be >= 1; got 0"),
        ("unet", {"depth": 0}, r"UNetPairEncoder depth must be >= 1; got 0"),
    ],
)
def test_invalid_hyper_parameters_are_rejected(kind, hyper, message):
    with pytest.raises(ValueError, match=message):
        build_pair_encoder(kind, 4, 4, **hyper)


def test_tnet_rejects_a_mask_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"valid must have shape \(B, N', N'\) = \(1, 5, 5\)"):
        small_encoder("tnet")(torch.zeros(1, IN_CHANNELS, 5, 5), torch.ones(1, 4, 4, dtype=torch.bool))
