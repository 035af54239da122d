"""Pads a list of document features (from :class:`DocumentFeaturizer`) into the model's batch tensors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

PAD_INDEX = -1


class DocumentCollator:
    """Batch contract: ``input_ids``/``attention_mask`` (B, L); ``mention_positions``/``mention_sentence_ids``
    (B, M); ``entity_mentions`` (B, E, K); ``entity_types`` (B, E); ``sentence_spans`` (B, S, 2); ``pair_indices``
    (B, P, 2), all ``torch.long`` and padded with -1 (``input_ids`` with the pad token id, ``attention_mask`` with 0);
    ``labels`` (B, P, C) float32 multi-hot with column 0 (NA) set for pairs without relation and padded pairs all
    zero, present only when every feature has ``pair_labels``; ``evidence_labels`` (B, P, S) float32 multi-hot gold
    evidence sentences of each pair, present when every feature has ``pair_evidence``; ``entity_order`` (B, E) the
    document's index of each featurized entity (for outputs, not a model input). ``titles`` and ``doc_indices`` stay
    Python lists.

    Args:
        pad_token_id: The tokenizer's pad token id.
        num_labels: C, the number of relation classes including NA at index 0.
    """

    def __init__(self, pad_token_id: int, num_labels: int):
        if pad_token_id is None:
            raise ValueError("pad_token_id is None; give the tokenizer a pad token (e.g. its eos token).")
        if num_labels < 2:
            raise ValueError(f"num_labels={num_labels}: need NA (index 0) and at least one relation.")
        self.pad_token_id = pad_token_id
        self.num_labels = num_labels

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Pad ``features`` (B documents) to tensors.

        Raises:
            ValueError: For an empty batch, a batch mixing labelled and unlabelled documents, or a relation id
                outside 1..num_labels-1.
        """
        if not features:
            raise ValueError("cannot collate an empty list of features.")
        input_ids = _pad([f["input_ids"] for f in features], self.pad_token_id)
        batch: dict[str, Any] = {
            "input_ids": input_ids,
            "attention_mask": _pad([[1] * len(f["input_ids"]) for f in features], 0),
            "mention_positions": _pad([f["mention_positions"] for f in features], PAD_INDEX),
            "mention_sentence_ids": _pad([f["mention_sentence_ids"] for f in features], PAD_INDEX),
            "entity_mentions": _pad([f["entity_mentions"] for f in features], PAD_INDEX),
            "entity_types": _pad([f["entity_types"] for f in features], PAD_INDEX),
            "sentence_spans": _pad([f["sentence_spans"] for f in features], PAD_INDEX, inner_shape=(2,)),
            "pair_indices": _pad([f["pair_indices"] for f in features], PAD_INDEX, inner_shape=(2,)),
            "entity_order": _pad([_entity_order(f) for f in features], PAD_INDEX),
        }
        labelled = [f.get("pair_labels") is not None for f in features]
        if any(labelled) and not all(labelled):
            unlabelled = [f.get("title") for f, has in zip(features, labelled) if not has]
            raise ValueError(f"the batch mixes labelled and unlabelled documents (unlabelled: {unlabelled}); "
                             "batch them separately or give every document labels.")
        if all(labelled):
            batch["labels"] = self._dense_labels(features, batch["pair_indices"].shape[1])
            if all(f.get("pair_evidence") is not None for f in features):
                batch["evidence_labels"] = _dense_evidence(
                    features, batch["pair_indices"].shape[1], batch["sentence_spans"].shape[1]
                )
        batch["titles"] = [f.get("title") for f in features]
        batch["doc_indices"] = [f.get("doc_index") for f in features]
        return batch

    def _dense_labels(self, features: Sequence[Mapping[str, Any]], max_pairs: int) -> torch.Tensor:
        """(B, P, C) float32 multi-hot; column 0 = 1 for real pairs without relation; padded pairs all zero."""
        rows, pairs, columns = [], [], []
        for row, feature in enumerate(features):
            for pair, relations in enumerate(feature["pair_labels"]):
                if any(not 0 < relation < self.num_labels for relation in relations):
                    raise ValueError(f"document {feature.get('title')!r}, pair {pair}: relation ids {relations} "
                                     f"are outside 1..{self.num_labels - 1}; check num_labels against label2id.")
                targets = relations or (0,)  # no relation -> the NA column
                rows += [row] * len(targets)
                pairs += [pair] * len(targets)
                columns += targets
        labels = torch.zeros(len(features), max_pairs, self.num_labels, dtype=torch.float32)
        labels[rows, pairs, columns] = 1.0
        return labels


def _entity_order(feature: Mapping[str, Any]) -> list[int]:
    # features saved before entities were ordered by first appearance (cached datasets) are in document order
    order = feature.get("entity_order")
    return list(order) if order is not None else list(range(len(feature["entity_types"])))


def _dense_evidence(features: Sequence[Mapping[str, Any]], max_pairs: int, max_sentences: int) -> torch.Tensor:
    """(B, P, S) float32 multi-hot evidence sentences; rows of pairs without evidence stay zero."""
    rows, pairs, columns = [], [], []
    for row, feature in enumerate(features):
        for pair, sentences in enumerate(feature["pair_evidence"]):
            rows += [row] * len(sentences)
            pairs += [pair] * len(sentences)
            columns += sentences
    evidence = torch.zeros(len(features), max_pairs, max_sentences, dtype=torch.float32)
    evidence[rows, pairs, columns] = 1.0
    return evidence


def _pad(sequences: list, pad_value: int, inner_shape: tuple[int, ...] = ()) -> torch.Tensor:
    """Pad lists, or lists of lists, to one rectangular long tensor (B, N) or (B, N, K), or (B, N, *inner_shape)."""
    length = max(len(sequence) for sequence in sequences)
    nested = not inner_shape and any(sequence and isinstance(sequence[0], list) for sequence in sequences)
    if nested:
        width = max((len(item) for sequence in sequences for item in sequence), default=0)
        sequences = [[item + [pad_value] * (width - len(item)) for item in sequence] for sequence in sequences]
        inner_shape = (width,)
    filler = [pad_value] * inner_shape[0] if inner_shape else pad_value
    padded = [list(sequence) + [filler] * (length - len(sequence)) for sequence in sequences]
    return torch.tensor(padded, dtype=torch.long).reshape(len(sequences), length, *inner_shape)
