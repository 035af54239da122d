"""DocumentCollator padding and the fact decoding helpers."""

from __future__ import annotations

import pytest
import torch

from paee_hf.data import DocumentCollator, facts_from_document, facts_from_predictions


def feature(title: str, tokens: int, mentions: list[list[int]], pairs: list[list[int]], labels) -> dict:
    count = sum(len(entity) for entity in mentions)
    return {
        "input_ids": list(range(10, 10 + tokens)),
        "mention_positions": list(range(1, 1 + count)),
        "mention_sentence_ids": [0] * count,
        "entity_mentions": mentions,
        "entity_types": [1] * len(mentions),
        "sentence_spans": [[1, tokens - 1]],
        "pair_indices": pairs,
        "pair_labels": labels,
        "title": title,
        "doc_index": 0 if title == "a" else 1,
    }


def two_features(second_labels=((), (2,))) -> list[dict]:
    return [
        feature("a", 5, [[0, 1], [2], [3]], [[0, 1], [1, 0], [2, 0]], [[1, 3], [], []]),
        feature("b", 3, [[0], [1]], [[0, 1], [1, 0]],
                None if second_labels is None else [list(relations) for relations in second_labels]),
    ]


def test_padding_values_and_shapes():
    batch = DocumentCollator(pad_token_id=0, num_labels=4)(two_features())
    assert batch["input_ids"].tolist() == [[10, 11, 12, 13, 14], [10, 11, 12, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]
    assert batch["mention_positions"].tolist() == [[1, 2, 3, 4], [1, 2, -1, -1]]
    assert batch["mention_sentence_ids"].tolist() == [[0, 0, 0, 0], [0, 0, -1, -1]]
    assert batch["entity_mentions"].tolist() == [[[0, 1], [2, -1], [3, -1]], [[0, -1], [1, -1], [-1, -1]]]
    assert batch["entity_types"].tolist() == [[1, 1, 1], [1, 1, -1]]
    assert batch["sentence_spans"].tolist() == [[[1, 4]], [[1, 2]]]
    assert batch["pair_indices"].tolist() == [[[0, 1], [1, 0], [2, 0]], [[0, 1], [1, 0], [-1, -1]]]
    assert batch["labels"].tolist() == [
        [[0, 1, 0, 1], [1, 0, 0, 0], [1, 0, 0, 0]],
        [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]],  # the padded pair is all zero
    ]
    assert batch["labels"].dtype == torch.float32
    assert all(batch[key].dtype == torch.long for key in batch if key not in ("labels", "titles", "doc_indices"))
    assert batch["titles"] == ["a", "b"] and batch["doc_indices"] == [0, 1]


def test_unlabelled_batches_and_errors():
    collator = DocumentCollator(pad_token_id=1, num_labels=4)
    unlabelled = [dict(f, pair_labels=None) for f in two_features()]
    assert "labels" not in collator(unlabelled)
    with pytest.raises(ValueError, match=r"mixes labelled and unlabelled documents \(unlabelled: \['b'\]\)"):
        collator(two_features(second_labels=None))
    with pytest.raises(ValueError, match=r"document 'b', pair 1: relation ids \[4\] are outside 1\.\.3"):
        collator(two_features(second_labels=((), (4,))))
    with pytest.raises(ValueError, match=r"empty list of features"):
        collator([])
    with pytest.raises(ValueError, match=r"pad_token_id is None"):
        DocumentCollator(pad_token_id=None, num_labels=4)
    with pytest.raises(ValueError, match=r"num_labels=1"):
        DocumentCollator(pad_token_id=0, num_labels=1)


def test_documents_without_pairs():
    single = feature("s", 3, [[0]], [], [])
    batch = DocumentCollator(pad_token_id=0, num_labels=3)([single])
    assert batch["pair_indices"].shape == (1, 0, 2) and batch["labels"].shape == (1, 0, 3)


def test_predictions_decode_to_facts_and_skip_na_and_padding():
    id2label = {0: "Na", 1: "P17", 2: "P131", 3: "P27"}
    batch = DocumentCollator(pad_token_id=0, num_labels=4)(two_features())
    facts = facts_from_predictions(batch["labels"], batch["pair_indices"], batch["titles"], id2label)
    assert facts == [
        {"title": "a", "h_idx": 0, "t_idx": 1, "r": "P17"},
        {"title": "a", "h_idx": 0, "t_idx": 1, "r": "P27"},
        {"title": "b", "h_idx": 1, "t_idx": 0, "r": "P131"},
    ]
    scores = torch.zeros(2, 3, 4)
    scores[1, 2, 1] = 1.0  # a "prediction" on the padded pair must be ignored
    assert facts_from_predictions(scores, batch["pair_indices"], batch["titles"], id2label) == []
    with pytest.raises(ValueError, match=r"predictions \(2, 3, 4\) must be \(B, P, C\) with pair_indices \(B, P, 2\)"):
        facts_from_predictions(scores, batch["pair_indices"][:, :2], batch["titles"], id2label)
    with pytest.raises(ValueError, match=r"relation id 3 has no label in id2label"):
        facts_from_predictions(batch["labels"], batch["pair_indices"], batch["titles"], {0: "Na", 1: "P17", 2: "P131"})


def test_gold_facts_are_distinct_and_sorted():
    document = {"title": "d", "labels": [{"h": 2, "t": 0, "r": "P17"}, {"h": 0, "t": 1, "r": "P17"},
                                         {"h": 2, "t": 0, "r": "P17"}]}
    assert facts_from_document(document) == [{"title": "d", "h_idx": 0, "t_idx": 1, "r": "P17"},
                                             {"title": "d", "h_idx": 2, "t_idx": 0, "r": "P17"}]
    assert facts_from_document({"title": "test", "labels": None}) == []
