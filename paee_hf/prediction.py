"""Relation prediction for users: documents in (DocRED JSON or raw text with character spans), ranked facts out.

Shared by ``PaeeForDocumentRelationExtraction.predict`` and the ``document-relation-extraction`` pipeline, and shipped
with checkpoints for ``trust_remote_code`` (relative imports only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .collator import DocumentCollator
from .featurizer import DocumentFeaturizer
from .raw_text import from_raw_text
from .validation import DocumentValidationError

#: Keys of a collated batch that the model's forward does not take.
_BOOKKEEPING_KEYS = ("labels", "titles", "doc_indices")
Threshold = float | Mapping[str, float] | None


def as_documents(inputs: Any, source: str = "predict input") -> list[dict]:
    """Normalise user input to DocRED-format documents.

    Args:
        inputs: One document or a list of documents, each either DocRED-format (``sents`` + ``vertexSet``) or raw
            text ``{"text": str, "entities": [{"mentions": [{"start", "end"}], "type": str}]}``.
        source: Name of the input in error messages.

    Raises:
        DocumentValidationError: For a document that is neither shape, or an invalid raw-text document.
    """
    documents = [inputs] if isinstance(inputs, Mapping) else inputs
    if isinstance(documents, str) or not isinstance(documents, Sequence) or len(documents) == 0:
        raise ValueError(
            f"{source}: expected a document (dict) or a non-empty list of documents, got {type(inputs).__name__}; "
            'e.g. model.predict({"text": "...", "entities": [{"mentions": [{"start": 0, "end": 5}], "type": "PER"}]})'
        )
    converted = []
    for index, document in enumerate(documents):
        if isinstance(document, Mapping) and "text" in document:
            converted.append(from_raw_text(document, index, source))
        elif isinstance(document, Mapping) and "sents" in document and "vertexSet" in document:
            converted.append(dict(document))
        else:
            title = document.get("title") if isinstance(document, Mapping) else None
            raise DocumentValidationError(
                source, index, title, "document", f"is a {type(document).__name__} with neither 'text' nor "
                "'sents' + 'vertexSet'", 'Give raw text as {"text": ..., "entities": [...]} or a DocRED document',
            )
    return converted


def relation_scores(logits: torch.Tensor) -> torch.Tensor:
    """Per-relation confidence ``sigmoid(s_r - s_TH)``: above 0.5 exactly when the relation beats the threshold class.

    Args:
        logits: ``(..., C)`` with column 0 = TH.

    Returns:
        ``(..., C-1)`` scores in (0, 1).
    """
    return torch.sigmoid(logits[..., 1:].float() - logits[..., :1].float())


def threshold_vector(threshold: Threshold, relation_labels: Sequence[str]) -> torch.Tensor:
    """``(C-1,)`` per-relation decision thresholds on :func:`relation_scores` (default 0.5 = the learned TH).

    Raises:
        ValueError: For a threshold outside (0, 1) or a dict naming a relation the model does not know.
    """
    values = torch.full((len(relation_labels),), 0.5)
    if threshold is None:
        return values
    if isinstance(threshold, Mapping):
        unknown = sorted(set(threshold) - set(relation_labels))
        if unknown:
            raise ValueError(
                f"threshold names relations the model does not have: {unknown}; known relations are "
                f"{list(relation_labels)[:10]}{'...' if len(relation_labels) > 10 else ''}."
            )
        for label, value in threshold.items():
            values[list(relation_labels).index(label)] = _check_threshold(value, f"threshold[{label!r}]")
        return values
    return values.fill_(_check_threshold(threshold, "threshold"))


def _check_threshold(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a number in (0, 1) (0.5 = the learned threshold), got {value!r}.")
    return float(value)


class RelationPredictor:
    """Featurize, batch, run and decode; holds what stays fixed between calls.

    Args:
        model: A ``PaeeForDocumentRelationExtraction``.
        tokenizer: The tokenizer saved with the checkpoint (markers included).
    """

    def __init__(self, model: Any, tokenizer: Any) -> None:
        config = model.config
        self.model = model
        self.config = config
        self.featurizer = DocumentFeaturizer(
            tokenizer,
            config.label2id,
            {name: index for index, name in enumerate(config.entity_types)},
            marker_style=config.marker_style,
            source="predict input",
        )
        self.collator = DocumentCollator(tokenizer.pad_token_id, config.num_labels)

    def featurize(self, documents: list[dict]) -> list[dict]:
        """Validate and featurize (labels, if any, are ignored)."""
        unlabelled = [{key: value for key, value in document.items() if key != "labels"} for document in documents]
        return self.featurizer.featurize_documents(unlabelled, list(range(len(unlabelled))))

    @torch.inference_mode()
    def scores(self, features: list[dict]) -> list[torch.Tensor]:
        """Relation scores ``(P_b, C-1)`` of each featurized document (one model call for all of them)."""
        batch = self.collator(features)
        inputs = {
            key: value.to(self.model.device) for key, value in batch.items() if key not in _BOOKKEEPING_KEYS
        }
        logits = self.model(**inputs).logits
        return [relation_scores(logits[row, : len(feature["pair_indices"])]).cpu() for row, feature in
                enumerate(features)]

    def predict(
        self,
        inputs: Any,
        batch_size: int = 8,
        threshold: Threshold = None,
        top_k: int | None = None,
        return_all_scores: bool = False,
    ) -> list[list[dict]]:
        """See ``PaeeForDocumentRelationExtraction.predict``."""
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
        if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
            raise ValueError(f"top_k must be a positive integer or None, got {top_k!r}.")
        documents = as_documents(inputs)
        thresholds = threshold_vector(threshold, self.config.relation_labels)
        features = self.featurize(documents)
        # length bucketing: similar lengths share a batch, so little padding is computed
        order = sorted(range(len(features)), key=lambda index: len(features[index]["input_ids"]))
        results: list[list[dict]] = [[] for _ in documents]
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            for index, scores in zip(chunk, self.scores([features[i] for i in chunk])):
                results[index] = self.decode(
                    documents[index], features[index]["pair_indices"], scores, thresholds, top_k, return_all_scores
                )
        return results

    def decode(
        self,
        document: dict,
        pair_indices: Sequence[Sequence[int]],
        scores: torch.Tensor,
        thresholds: torch.Tensor,
        top_k: int | None,
        return_all_scores: bool,
    ) -> list[dict]:
        """Facts of one document, best first: ``{h_idx, t_idx, r, relation, score, head, tail}``.

        With ``return_all_scores`` every pair is listed once with ``scores`` ``{label: score}`` and its predicted
        ``relations``.
        """
        labels = self.config.relation_labels
        names = getattr(self.config, "relation_names", None) or {}
        entity_names = document.get("entity_names") or [mentions[0]["name"] for mentions in document["vertexSet"]]
        predicted = scores > thresholds
        limit = top_k or self.config.max_labels_per_pair
        if limit is not None and limit < scores.shape[-1]:
            kth = scores.topk(limit, dim=-1).values[..., -1:]
            predicted &= scores >= kth
        facts = []
        for pair, (head, tail) in enumerate(pair_indices):
            base = {"h_idx": head, "t_idx": tail, "head": entity_names[head], "tail": entity_names[tail]}
            hits = predicted[pair].nonzero().flatten().tolist()
            if return_all_scores:
                facts.append({
                    **base,
                    "relations": [labels[column] for column in hits],
                    "scores": {label: float(value) for label, value in zip(labels, scores[pair])},
                    "score": float(scores[pair].max()) if len(labels) else 0.0,
                })
                continue
            for column in hits:
                label = labels[column]
                facts.append({
                    **base, "r": label, "relation": names.get(label, label), "score": float(scores[pair, column])
                })
        return sorted(facts, key=lambda fact: -fact["score"])
