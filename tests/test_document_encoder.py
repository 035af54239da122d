"""Document encoder: last-layer attention rows under sdpa, long documents in windows, gradients, errors."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
import torch
from tiny_models import minilm_path, scaled_timeout, tiny_bert_config, tiny_roberta_config
from transformers import (
    AutoModel,
    BertConfig,
    ElectraConfig,
    MPNetConfig,
    RobertaConfig,
    T5Config,
)
from transformers.models.bert import modeling_bert

from paee_hf import document_encoder
from paee_hf.document_encoder import (
    LAST_LAYER_ATTENTION,
    default_window_size,
    enable_last_layer_attention,
    encode_document,
    last_layer_sdpa_attention_forward,
    set_attention_mode,
)

VOCAB = 60


def tiny_electra_config() -> ElectraConfig:
    """ELECTRA with a factorised embedding (16 -> 32): a third AutoModel family that uses AttentionInterface."""
    return ElectraConfig(
        vocab_size=VOCAB,
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )


# name -> (config factory, start specials, end specials, pad id)
BACKBONES = {
    "bert": (lambda: tiny_bert_config(VOCAB), [2], [3], 0),
    "roberta": (lambda: tiny_roberta_config(VOCAB), [0], [2], 1),
    "electra": (tiny_electra_config, [2], [3], 0),
}


def build_backbone(name: str, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return AutoModel.from_config(BACKBONES[name][0]()).eval()


def make_batch(
    lengths: list[int], start: list[int], end: list[int], pad: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded documents ``start + random tokens + end`` of the given total lengths: (B, L) ids and mask."""
    generator = torch.Generator().manual_seed(seed)
    width = max(lengths)
    input_ids = torch.full((len(lengths), width), pad, dtype=torch.long)
    attention_mask = torch.zeros((len(lengths), width), dtype=torch.long)
    for index, length in enumerate(lengths):
        content = torch.randint(5, VOCAB, (length - len(start) - len(end),), generator=generator)
        input_ids[index, :length] = torch.cat([torch.tensor(start), content, torch.tensor(end)])
        attention_mask[index, :length] = 1
    return input_ids, attention_mask


def eager_copy(backbone: torch.nn.Module) -> torch.nn.Module:
    reference = copy.deepcopy(backbone)
    reference.set_attn_implementation("eager")
    return reference


def encode(backbone, input_ids, attention_mask, rows, name="bert", **overrides):
    _, start, end, _ = BACKBONES[name]
    settings = dict(window_size=64, window_stride=20, start_token_ids=start, end_token_ids=end)
    settings.update(overrides)
    return encode_document(backbone, input_ids, attention_mask, rows, **settings)


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_rows_equal_eager_attention_and_hidden_states_equal_backbone(name):
    _, start, end, pad = BACKBONES[name]
    backbone = build_backbone(name)
    plain_hidden = copy.deepcopy(backbone)
    reference = eager_copy(backbone)
    input_ids, attention_mask = make_batch([14, 9], start, end, pad)
    rows = torch.tensor([[0, 4, 13], [2, 8, -1]])

    encoded = encode(backbone, input_ids, attention_mask, rows, name)

    assert backbone.config._attn_implementation == LAST_LAYER_ATTENTION
    eager = reference(input_ids=input_ids, attention_mask=attention_mask, output_attentions=True)
    expected = eager.attentions[-1][torch.arange(2)[:, None], :, rows.clamp(min=0)].transpose(1, 2)  # (B, H, R, L)
    expected[1, :, 2] = 0
    assert encoded.row_attentions.shape == (2, 4, 3, 14)
    torch.testing.assert_close(encoded.row_attentions, expected, atol=1e-5, rtol=0)
    assert torch.all(encoded.row_attentions[1, :, :, 9:] == 0)  # padding columns exactly 0
    # the rows are the last layer's, not the first's (the comparison above would otherwise be weak)
    first_layer = eager.attentions[0][torch.arange(2)[:, None], :, rows.clamp(min=0)].transpose(1, 2)
    assert (first_layer - expected).abs().max() > 1e-3
    plain = plain_hidden(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    torch.testing.assert_close(encoded.hidden_states, plain, atol=1e-5, rtol=0)


def test_sdpa_runs_on_every_layer_and_eager_never(monkeypatch):
    backbone = build_backbone("bert")
    input_ids, attention_mask = make_batch([14, 9], [2], [3], 0)
    rows = torch.tensor([[1, 5], [2, -1]])
    calls = {"sdpa": 0, "eager": 0}
    sdpa, eager = torch.nn.functional.scaled_dot_product_attention, modeling_bert.eager_attention_forward

    def counting_sdpa(*args, **kwargs):
        calls["sdpa"] += 1
        return sdpa(*args, **kwargs)

    def counting_eager(*args, **kwargs):
        calls["eager"] += 1
        return eager(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", counting_sdpa)
    monkeypatch.setattr(modeling_bert, "eager_attention_forward", counting_eager)

    encode(backbone, input_ids, attention_mask, rows)
    assert calls == {"sdpa": backbone.config.num_hidden_layers, "eager": 0}

    calls.update(sdpa=0, eager=0)
    encode(backbone, input_ids, attention_mask, rows, attention_mode="eager")
    assert backbone.config._attn_implementation == "eager"
    assert calls == {"sdpa": 0, "eager": backbone.config.num_hidden_layers}


def test_eager_mode_matches_last_layer_mode_on_long_documents():
    backbone = build_backbone("bert")
    input_ids, attention_mask = make_batch([150, 101], [2], [3], 0)
    rows = torch.tensor([[0, 70, 149], [3, 100, -1]])
    last_layer = encode(backbone, input_ids, attention_mask, rows)
    eager = encode(backbone, input_ids, attention_mask, rows, attention_mode="eager")
    torch.testing.assert_close(last_layer.row_attentions, eager.row_attentions, atol=1e-5, rtol=0)
    torch.testing.assert_close(last_layer.hidden_states, eager.hidden_states, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["bert", "roberta"])
def test_document_three_times_longer_than_positions(name):
    _, start, end, pad = BACKBONES[name]
    backbone = build_backbone(name)
    window = default_window_size(backbone.config)
    assert window == 64  # RoBERTa's 66 positions include the padding offset of 2
    length = 3 * backbone.config.max_position_embeddings
    input_ids, attention_mask = make_batch([length, 70], start, end, pad)
    rows = torch.tensor([[0, 100, length - 1], [69, -1, -1]])

    encoded = encode(backbone, input_ids, attention_mask, rows, name, window_size=window, window_stride=31)

    assert encoded.hidden_states.shape == (2, length, 32)
    assert encoded.row_attentions.shape == (2, 4, 3, length)
    assert torch.isfinite(encoded.hidden_states).all()
    sums = encoded.row_attentions.sum(dim=-1)
    torch.testing.assert_close(sums[0], torch.ones(4, 3))
    torch.testing.assert_close(sums[1, :, 0], torch.ones(4))
    assert torch.all(encoded.row_attentions[1, :, 1:] == 0)
    assert torch.all(encoded.row_attentions[1, :, :, 70:] == 0)
    assert torch.all(encoded.hidden_states[1, 70:] == 0)


def test_window_covering_every_document_equals_single_pass():
    backbone = build_backbone("bert")
    input_ids, attention_mask = make_batch([60, 40], [2], [3], 0)
    # over-padded to 100 > window_size: the windowed path runs, with one window per document
    input_ids = torch.cat([input_ids, torch.zeros(2, 40, dtype=torch.long)], dim=1)
    attention_mask = torch.cat([attention_mask, torch.zeros(2, 40, dtype=torch.long)], dim=1)
    rows = torch.tensor([[0, 30, 59], [39, 5, -1]])

    windowed = encode(backbone, input_ids, attention_mask, rows, window_size=64)
    short_ids, short_mask = input_ids[:, :60], attention_mask[:, :60]  # the same batch padded to its longest document
    single_pass = backbone(input_ids=short_ids, attention_mask=short_mask).last_hidden_state

    assert windowed.hidden_states.shape == (2, 100, 32) and windowed.row_attentions.shape == (2, 4, 3, 100)
    torch.testing.assert_close(
        windowed.row_attentions[..., :60], encode_single_pass(backbone, short_ids, short_mask, rows), atol=1e-5, rtol=0
    )
    assert torch.all(windowed.row_attentions[..., 60:] == 0)
    mask = short_mask.bool()
    torch.testing.assert_close(windowed.hidden_states[:, :60][mask], single_pass[mask], atol=1e-5, rtol=0)


def encode_single_pass(backbone, input_ids, attention_mask, rows):
    """Row attentions of one eager pass over the whole (short) batch."""
    outputs = eager_copy(backbone)(input_ids=input_ids, attention_mask=attention_mask, output_attentions=True)
    expected = outputs.attentions[-1][torch.arange(rows.shape[0])[:, None], :, rows.clamp(min=0)].transpose(1, 2)
    return expected * (rows >= 0)[:, None, :, None]


def reference_windows(backbone, ids, window_size, stride, rows):
    """Windowed encoding of one document written as plain loops over windows (the independent reference)."""
    reference = eager_copy(backbone)
    length, content = len(ids), ids[1:-1]
    per_window = window_size - 2
    starts = list(range(0, len(content) - per_window, stride)) + [len(content) - per_window]
    hidden_sum = torch.zeros(length, backbone.config.hidden_size)
    counts = torch.zeros(length)
    attention_sum = torch.zeros(backbone.config.num_attention_heads, len(rows), length)
    for window, start in enumerate(starts):
        outputs = reference(input_ids=torch.tensor([ids[:1] + content[start : start + per_window] + ids[-1:]]),
                            output_attentions=True)
        hidden, attention = outputs.last_hidden_state[0], outputs.attentions[-1][0]
        positions = [0 if window == 0 else None] + [1 + start + j for j in range(per_window)]
        positions.append(length - 1 if window == len(starts) - 1 else None)
        for local, position in enumerate(positions):
            if position is not None:
                hidden_sum[position] += hidden[local]
                counts[position] += 1
        for row_index, row in enumerate(rows):
            if row in positions:
                for local, position in enumerate(positions):
                    if position is not None:
                        attention_sum[:, row_index, position] += attention[:, positions.index(row), local]
    attention = attention_sum / attention_sum.sum(dim=-1, keepdim=True)
    return hidden_sum / counts[:, None], attention, len(starts)


def test_windows_of_any_count_match_a_loop_reference():
    backbone = build_backbone("bert")
    input_ids, attention_mask = make_batch([150, 90], [2], [3], 0, seed=3)
    rows = torch.tensor([[0, 1, 40, 75, 149], [0, 89, 50, -1, -1]])

    encoded = encode(backbone, input_ids, attention_mask, rows, window_size=64, window_stride=25)

    for document, length in enumerate([150, 90]):
        ids = input_ids[document, :length].tolist()
        doc_rows = [row for row in rows[document].tolist() if row >= 0]
        hidden, attention, num_windows = reference_windows(backbone, ids, 64, 25, doc_rows)
        assert num_windows == (5 if document == 0 else 3)
        torch.testing.assert_close(encoded.hidden_states[document, :length], hidden, atol=1e-5, rtol=0)
        torch.testing.assert_close(
            encoded.row_attentions[document, :, : len(doc_rows), :length], attention, atol=1e-5, rtol=0
        )


@pytest.mark.parametrize("length", [30, 150])  # single pass and windows
def test_gradients_reach_embeddings_through_row_attentions_alone(length):
    backbone = build_backbone("bert")
    backbone.train()
    input_ids, attention_mask = make_batch([length], [2], [3], 0)
    rows = torch.tensor([[1, length // 2, length - 1]])
    encoded = encode(backbone, input_ids, attention_mask, rows)
    # rows sum to 1, so a plain sum has no gradient: weight the columns
    weights = torch.linspace(-1.0, 1.0, length)
    (encoded.row_attentions * weights).sum().backward()
    gradient = backbone.embeddings.word_embeddings.weight.grad
    assert gradient is not None and gradient.abs().sum() > 0
    assert backbone.encoder.layer[-1].attention.self.query.weight.grad.abs().sum() > 0


def test_gradients_flow_with_gradient_checkpointing():
    backbone = build_backbone("bert")
    backbone.activation_checkpointing_enable()
    backbone.train()
    input_ids, attention_mask = make_batch([30], [2], [3], 0)
    encoded = encode(backbone, input_ids, attention_mask, torch.tensor([[1, 15]]))
    (encoded.row_attentions * torch.linspace(-1.0, 1.0, 30)).sum().backward()
    assert backbone.embeddings.word_embeddings.weight.grad.abs().sum() > 0


def test_autocast_and_half_precision_model():
    backbone = build_backbone("bert")
    input_ids, attention_mask = make_batch([30, 20], [2], [3], 0)
    rows = torch.tensor([[1, 15], [19, -1]])
    full = encode(backbone, input_ids, attention_mask, rows)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = encode(backbone, input_ids, attention_mask, rows)
    assert mixed.row_attentions.dtype == mixed.hidden_states.dtype == torch.float32
    torch.testing.assert_close(mixed.row_attentions, full.row_attentions, atol=2e-2, rtol=0)
    torch.testing.assert_close(mixed.row_attentions.sum(-1)[0], torch.ones(4, 2))

    half = encode(backbone.to(torch.bfloat16), input_ids, attention_mask, rows)
    assert half.row_attentions.dtype == half.hidden_states.dtype == torch.bfloat16
    torch.testing.assert_close(half.row_attentions.float(), full.row_attentions, atol=2e-2, rtol=0)


def test_backbone_without_attention_interface_falls_back_to_eager():
    torch.manual_seed(0)
    config = MPNetConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=37, max_position_embeddings=66, hidden_dropout_prob=0.0,
                         attention_probs_dropout_prob=0.0)
    backbone = AutoModel.from_config(config).eval()
    enable_last_layer_attention(backbone)
    assert backbone.config._attn_implementation == "eager"
    assert default_window_size(backbone.config) == 64
    input_ids, attention_mask = make_batch([14, 9], [0], [2], 1)
    rows = torch.tensor([[0, 13], [8, -1]])
    encoded = encode_document(backbone, input_ids, attention_mask, rows, window_size=64, window_stride=20,
                              start_token_ids=[0], end_token_ids=[2])
    torch.testing.assert_close(encoded.row_attentions, encode_single_pass(backbone, input_ids, attention_mask, rows))


def test_enabling_is_idempotent_and_not_saved(tmp_path):
    backbone = build_backbone("bert")
    enable_last_layer_attention(backbone)
    enable_last_layer_attention(backbone)
    set_attention_mode(backbone, "last_layer")
    assert backbone.config._attn_implementation == LAST_LAYER_ATTENTION
    backbone.save_pretrained(tmp_path)
    assert LAST_LAYER_ATTENTION not in (tmp_path / "config.json").read_text()
    # a fresh interpreter without paee_hf loads the saved backbone (back on sdpa)
    script = (
        "import sys; from transformers import AutoModel; "
        f"model = AutoModel.from_pretrained({str(tmp_path)!r}); "
        "assert 'paee_hf' not in sys.modules; print(model.config._attn_implementation)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=scaled_timeout(300))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sdpa"


def test_real_minilm_long_document():
    backbone = AutoModel.from_pretrained(minilm_path()).eval()
    assert default_window_size(backbone.config) == 512
    config = json.loads((minilm_path() / "config.json").read_text())
    cls_id, sep_id = 101, 102
    generator = torch.Generator().manual_seed(0)
    length = 1200
    input_ids = torch.randint(1000, config["vocab_size"], (1, length), generator=generator)
    input_ids[0, 0], input_ids[0, -1] = cls_id, sep_id
    rows = torch.tensor([[0, 300, 600, 1199]])
    encoded = encode_document(backbone, input_ids, torch.ones_like(input_ids), rows, window_size=512,
                              window_stride=256, start_token_ids=[cls_id], end_token_ids=[sep_id])
    assert encoded.row_attentions.shape == (1, 12, 4, length)
    torch.testing.assert_close(encoded.row_attentions.sum(-1), torch.ones(1, 12, 4))
    short_ids, short_rows = input_ids[:, :300].clone(), torch.tensor([[0, 150, 299]])
    short_ids[0, -1] = sep_id
    short = encode_document(backbone, short_ids, torch.ones_like(short_ids), short_rows, window_size=512,
                            window_stride=256, start_token_ids=[cls_id], end_token_ids=[sep_id])
    torch.testing.assert_close(short.row_attentions,
                               encode_single_pass(backbone, short_ids, torch.ones_like(short_ids), short_rows),
                               atol=1e-5, rtol=0)


def test_default_window_size():
    assert default_window_size(BertConfig()) == 512
    assert default_window_size(RobertaConfig(max_position_embeddings=514, pad_token_id=1)) == 512
    with pytest.raises(ValueError, match=r"\(t5\) has no integer max_position_embeddings: pass window_size"):
        default_window_size(T5Config())


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(attention_mask=torch.ones(2, 5, dtype=torch.long)), r"attention_mask has shape \(2, 5\)"),
        (dict(attention_rows=torch.zeros(3, 2, dtype=torch.long)), r"attention_rows must be \(batch, rows\)"),
        (dict(attention_rows=torch.zeros(2, 2)), "attention_rows must hold integer token indices"),
        (dict(attention_rows=torch.tensor([[0, 14], [0, -1]])), r"attention_rows\[0, 1\] = 14 is outside"),
        (dict(attention_rows=torch.tensor([[0, 1], [-2, 0]])), r"attention_rows\[1, 0\] = -2 is outside"),
        (dict(attention_rows=torch.tensor([[0, 1], [0, 10]])), r"attention_rows\[1, 1\] = 10 points at padding"),
        (dict(window_size=65), "window_size=65 exceeds the backbone's 64 positions"),
        (dict(window_size=2), "window_size=2 leaves no room"),
        (dict(window_stride=0), r"window_stride=0 must be in \[1, 62\]"),
        (dict(window_stride=63), r"window_stride=63 must be in \[1, 62\]"),
        (dict(attention_mode="flash"), "attention_mode must be one of"),
    ],
)
def test_errors_name_the_argument(change, message):
    backbone = build_backbone("bert")
    input_ids, attention_mask = make_batch([14, 9], [2], [3], 0)
    arguments = dict(input_ids=input_ids, attention_mask=attention_mask, attention_rows=torch.tensor([[0, 1], [0, 1]]),
                     window_size=64, window_stride=20, start_token_ids=[2], end_token_ids=[3])
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        encode_document(backbone, **arguments)


def test_long_document_errors():
    backbone = build_backbone("bert")
    input_ids, attention_mask = make_batch([100, 70], [2], [3], 0)
    rows = torch.tensor([[0], [0]])
    truncated = input_ids.clone()
    truncated[1, 69] = 7  # document 1 lost its [SEP]
    with pytest.raises(ValueError, match=r"input_ids: document 1 does not start with start_token_ids=\[2\] and end"):
        encode(backbone, truncated, attention_mask, rows)
    with pytest.raises(ValueError, match=r"start_token_ids=\[101\]"):
        encode(backbone, input_ids, attention_mask, rows, start_token_ids=[101])
    left_padded = attention_mask.flip(1)
    with pytest.raises(ValueError, match="attention_mask must be right-padded"):
        encode(backbone, input_ids, left_padded, torch.tensor([[0], [99]]))


def test_recording_refuses_attention_it_cannot_reproduce():
    class CausalAttention(torch.nn.Module):
        is_causal = True

    states = torch.randn(1, 2, 5, 4)
    recording = document_encoder._LastLayerRecording()
    token = document_encoder._ACTIVE_RECORDING.set(recording)
    try:
        with pytest.raises(ValueError, match="CausalAttention uses causal attention without a mask.*'eager'"):
            last_layer_sdpa_attention_forward(CausalAttention(), states, states, states, None)
    finally:
        document_encoder._ACTIVE_RECORDING.reset(token)
    # outside a recording it is plain sdpa
    output, weights = last_layer_sdpa_attention_forward(CausalAttention(), states, states, states, None)
    assert weights is None and output.shape == (1, 5, 2, 4)
