"""PaeeForDocumentRelationExtraction: shapes, learning, gradients, ablation switches, sizes, bad input."""

from __future__ import annotations

import pytest
import torch
from model_batches import make_batch, tiny_paee_config

from paee_hf import PaeeForDocumentRelationExtraction, decode_relations

MODULES = {
    "use_par": ("context_projection", "pair_aware"),
    "use_eer": ("entity_enhanced", "cross_matching"),
}


def build(seed: int = 0, **overrides) -> PaeeForDocumentRelationExtraction:
    torch.manual_seed(seed)
    return PaeeForDocumentRelationExtraction(tiny_paee_config(**overrides)).eval()


def test_forward_shapes_and_loss_terms():
    model = build()
    batch = make_batch([3, 5], [30, 40])
    output = model(**batch)
    assert output.logits.shape == (2, 20, 5)
    assert output.pair_probs.shape == (2, 20)
    assert output.subject_logits.shape == (2, 5, 4) and output.object_logits.shape == (2, 5, 4)
    for term in ("loss", "relation_loss", "pair_loss", "cross_matching_loss"):
        assert getattr(output, term).dim() == 0 and torch.isfinite(getattr(output, term)), term
    expected = output.relation_loss + output.pair_loss + output.cross_matching_loss  # alpha = beta = gamma = 1
    torch.testing.assert_close(output.loss, expected)
    # padding pairs of the 3-entity document (6 real pairs) decode to NA
    assert decode_relations(output.logits)[0, 6:, 0].all()


def test_loss_weights_follow_eq_12():
    batch = make_batch([4], [30])
    plain = build()(**batch)
    weighted = build(relation_loss_weight=0.5, pair_loss_weight=2.0, cross_matching_loss_weight=0.0)(**batch)
    torch.testing.assert_close(weighted.loss, 0.5 * plain.relation_loss + 2.0 * plain.pair_loss)


@pytest.mark.parametrize("pair_encoder", ["tnet", "unet", "none"])
def test_overfits_a_small_batch(pair_encoder):
    torch.manual_seed(0)
    model = PaeeForDocumentRelationExtraction(tiny_paee_config(pair_encoder=pair_encoder)).train()
    batch = make_batch([4, 3], [28, 24], seed=1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.15 * losses[0], losses[::10]
    model.eval()
    with torch.no_grad():
        predicted = decode_relations(model(**batch).logits)
    valid = batch["pair_indices"][..., 0] >= 0
    assert torch.equal(predicted[valid], batch["labels"][valid].bool())


@pytest.mark.parametrize(
    "switches",
    [{}, {"use_par": False}, {"use_eer": False}, {"use_ppp": False}, {"use_par": False, "use_eer": False}],
)
def test_gradients_reach_every_module_that_is_on(switches):
    model = build(**switches).train()
    batch = make_batch([4, 3], [30, 26])
    model(**batch).loss.backward()
    missing = [name for name, parameter in model.named_parameters() if parameter.grad is None]
    # The TNet location module's unselected windows still get gradient through the softmax scores.
    assert missing == [], missing
    names = {name.split(".")[0] for name, _ in model.named_parameters()}
    for switch, modules in MODULES.items():
        for module in modules:
            assert (module in names) == switches.get(switch, True), (switch, module)
    has_ppp = any(".potential_pairs." in name for name, _ in model.named_parameters())
    assert has_ppp == (switches.get("use_par", True) and switches.get("use_ppp", True))


def test_atlop_ablation_has_only_backbone_and_classifier():
    model = build(use_par=False, use_eer=False)
    assert {name.split(".")[0] for name, _ in model.named_parameters()} == {"encoder", "classifier"}
    output = model(**make_batch([3], [20]))
    assert output.pair_probs is None and output.pair_loss is None and output.cross_matching_loss is None
    torch.testing.assert_close(output.loss, output.relation_loss)


def test_switches_change_the_computation():
    batch = make_batch([4, 5], [30, 36])
    reference = build()(**batch).logits
    for switch in (
        {"filling": "zero"},
        {"pair_encoder": "unet"},
        {"ppp_feature": "soft"},
        {"context_normalization": "softmax"},
        {"tnet_top_k": None},
    ):
        changed = build(**switch)(**batch).logits
        assert not torch.allclose(reference, changed), switch


def test_sliding_and_zero_filling_agree_when_the_canvas_is_full():
    # matrix_size equal to the entity count leaves nothing to fill: both fillings must give the same canvas.
    batch = make_batch([6], [30])
    sliding = build(matrix_size=6, filling="sliding")(**batch).logits
    zero = build(matrix_size=6, filling="zero")(**batch).logits
    torch.testing.assert_close(sliding, zero)


def test_prune_pairs_skips_unlikely_pairs_at_inference_only():
    batch = make_batch([5], [30])
    threshold = build()(**batch).pair_probs.median().item()  # prunes about half of the pairs
    model = build(prune_pairs=True, ppp_threshold=threshold)
    output = model(**batch)
    pruned = output.pair_probs < threshold
    assert pruned.any() and (~pruned).any()
    assert decode_relations(output.logits)[pruned][:, 0].all()
    unpruned = build(prune_pairs=False, ppp_threshold=threshold)(**batch)
    torch.testing.assert_close(output.logits[~pruned], unpruned.logits[~pruned])
    assert not torch.allclose(output.logits[pruned], unpruned.logits[pruned])
    model.train()
    torch.testing.assert_close(model(**batch).logits, unpruned.logits)  # no pruning while training


def test_prune_threshold_prunes_apart_from_lambda():
    batch = make_batch([5], [30])
    probabilities = build()(**batch).pair_probs
    low = probabilities.quantile(0.25).item()  # prunes about a quarter of the pairs; lambda stays at the median
    median = probabilities.median().item()
    own = build(prune_pairs=True, ppp_threshold=median, prune_threshold=low)(**batch)
    by_lambda = build(prune_pairs=True, ppp_threshold=median)(**batch)
    unpruned = build(ppp_threshold=median)(**batch)
    kept = probabilities >= low
    assert (~kept).any() and (kept & (probabilities < median)).any()
    torch.testing.assert_close(own.logits[kept], unpruned.logits[kept])  # lambda's tag bit is unchanged
    assert decode_relations(own.logits)[~kept][:, 0].all()
    assert not torch.allclose(own.logits[kept], by_lambda.logits[kept])


def test_pair_chunking_gives_the_same_logits_loss_and_gradients():
    batch = make_batch([7, 5], [40, 30])  # 42 + 20 pairs: chunks of 5 split both documents, one mid-document
    outputs, gradients = {}, {}
    for chunk_size in (None, 5):
        model = build(pair_chunk_size=chunk_size).train()
        torch.manual_seed(1)  # the same dropout masks
        outputs[chunk_size] = model(**batch)
        outputs[chunk_size].loss.backward()
        gradients[chunk_size] = {name: p.grad for name, p in model.named_parameters() if p.grad is not None}
    torch.testing.assert_close(outputs[5].logits, outputs[None].logits, rtol=0, atol=1e-6)
    torch.testing.assert_close(outputs[5].loss, outputs[None].loss)
    assert gradients[5].keys() == gradients[None].keys()
    for name, gradient in gradients[None].items():
        torch.testing.assert_close(gradients[5][name], gradient, rtol=1e-4, atol=1e-6, msg=name)


def test_document_three_times_longer_than_the_backbone():
    model = build()  # 64 positions
    batch = make_batch([4, 3], [192, 50])
    output = model(**batch)
    assert output.logits.shape == (2, 12, 5) and torch.isfinite(output.loss)


def test_more_entities_than_matrix_size():
    model = build(matrix_size=8)
    output = model(**make_batch([60], [63], mentions_per_entity=1))
    assert output.logits.shape == (1, 60 * 59, 5) and torch.isfinite(output.loss)


@pytest.mark.parametrize("pair_encoder", ["tnet", "unet", "none"])
@pytest.mark.parametrize("filling", ["sliding", "zero"])
def test_a_document_scores_the_same_beside_one_with_more_entities_than_matrix_size(pair_encoder, filling):
    """Each document gets its own canvas, max(N, n_b): a batch-mate with more than N entities must not enlarge it."""
    model = build(matrix_size=8, pair_encoder=pair_encoder, filling=filling)
    batch = make_batch([5, 12], [40, 60], mentions_per_entity=1)
    with torch.no_grad():
        together = model(**batch)
        alone = [model(**{key: value[doc : doc + 1] for key, value in batch.items()}) for doc in (0, 1)]
    for doc in (0, 1):
        torch.testing.assert_close(together.logits[doc], alone[doc].logits[0], atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(together.pair_probs[doc], alone[doc].pair_probs[0], atol=1e-5, rtol=1e-4)


def test_one_entity_and_no_relation():
    model = build().train()
    batch = make_batch([1], [12])
    batch["pair_indices"] = batch["pair_indices"][:, :0]
    batch["labels"] = batch["labels"][:, :0]
    output = model(**batch)
    assert output.logits.shape == (1, 0, 5)
    assert output.loss.item() == pytest.approx(output.cross_matching_loss.item())
    output.loss.backward()


def test_mixed_batch_with_a_single_entity_document():
    output = build()(**make_batch([1, 4], [12, 30]))
    assert output.logits.shape == (2, 12, 5)
    assert decode_relations(output.logits)[0, :, 0].all()


def test_max_labels_per_pair_caps_decoding():
    logits = torch.tensor([[0.0, 3.0, 2.0, 1.0, -1.0], [0.0, -1.0, -2.0, -3.0, -4.0]])
    assert decode_relations(logits).tolist() == [
        [False, True, True, True, False],
        [True, False, False, False, False],
    ]
    assert decode_relations(logits, max_labels_per_pair=2)[0].tolist() == [False, True, True, False, False]


def test_return_dict_false_gives_a_tuple():
    output = build()(**make_batch([3], [20]), return_dict=False)
    assert isinstance(output, tuple) and output[0].dim() == 0


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda b: b["mention_positions"].__setitem__((0, 0), 500), "mention_positions of document 0"),
        (lambda b: b["entity_mentions"].__setitem__((0, 1), -1), "entity 1 of document 0 has no mentions"),
        (lambda b: b.__setitem__("labels", b["labels"][..., :3]), "labels has 3 classes"),
        (lambda b: b.__setitem__("entity_types", b["entity_types"][:1]), "entity_types has batch size 1"),
        (lambda b: b["pair_indices"].__setitem__((0, 0), torch.tensor([0, 9])), "pair_indices refers to an entity"),
        (lambda b: b["entity_types"].__setitem__((0, 0), 7), "entity_types must be ids"),
        (lambda b: b.pop("sentence_spans"), "sentence_spans is required"),
    ],
)
def test_inconsistent_inputs_raise_value_errors(corrupt, message):
    batch = make_batch([3, 4], [30, 30])
    corrupt(batch)
    with pytest.raises(ValueError, match=message):
        build()(**batch)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"ppp_threshold": 1.5}, r"ppp_threshold must lie in \(0, 1\), got 1.5 \(paper: 0.3\)"),
        ({"prune_threshold": 0.0}, r"prune_threshold must lie in \(0, 1\) or be None \(= ppp_threshold\), got 0.0"),
        ({"pair_chunk_size": 0}, r"pair_chunk_size"),
        ({"pair_encoder": "cnn"}, r"pair_encoder='cnn' is not valid; choose one of"),
        ({"bilinear_block_size": 7}, r"bilinear_block_size=7 must divide classifier_hidden_size"),
        ({"use_parr": False}, r"did you mean 'use_par'"),
    ],
)
def test_config_rejects_bad_values_by_name(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_paee_config(**overrides)


@pytest.mark.parametrize(("hidden_size", "heads", "expected"), [
    (768, 12, (768, 64, 256)),   # BERT-base: ATLOP's sizes
    (384, 12, (384, 32, 128)),   # MiniLM
    (1024, 16, (1024, 64, 336)),  # RoBERTa-large shape (the packaged configs pin 768 / 64 / 256)
    (32, 4, (32, 2, 8)),
])
def test_head_sizes_the_paper_leaves_open_follow_the_backbone(hidden_size, heads, expected):
    from transformers import BertConfig

    from paee_hf import PaeeConfig

    config = PaeeConfig(encoder_config=BertConfig(hidden_size=hidden_size, num_attention_heads=heads))
    assert (config.classifier_hidden_size, config.bilinear_block_size, config.pair_channels) == expected
    pinned = PaeeConfig(encoder_config=BertConfig(hidden_size=hidden_size, num_attention_heads=heads),
                        classifier_hidden_size=96, pair_channels=24)
    assert (pinned.classifier_hidden_size, pinned.bilinear_block_size, pinned.pair_channels) == (96, 8, 24)
    assert PaeeConfig.from_dict(config.to_dict()).classifier_hidden_size == expected[0]  # saved resolved
