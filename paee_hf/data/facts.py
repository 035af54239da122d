"""Relation facts in the DocRED / CodaLab format ``{"title", "h_idx", "t_idx", "r"}``: gold ones from documents and
predicted ones from multi-hot predictions over the collator's pairs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch


def facts_from_document(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The gold facts of a DocRED-format document, one per distinct ``(h, t, r)``, sorted.

    Args:
        document: A document with ``title`` and (optionally) ``labels``.

    Returns:
        ``[{"title", "h_idx", "t_idx", "r"}, ...]``; empty when the document has no labels.
    """
    triples = sorted({(label["h"], label["t"], label["r"]) for label in document.get("labels") or ()})
    title = document["title"]
    return [{"title": title, "h_idx": head, "t_idx": tail, "r": relation} for head, tail, relation in triples]


def facts_from_predictions(
    predictions: torch.Tensor,
    pair_indices: torch.Tensor,
    titles: Sequence[str],
    id2label: Mapping[int, str],
) -> list[dict[str, Any]]:
    """Turn multi-hot predictions into facts.

    Args:
        predictions: (B, P, C) predicted relations: non-zero = predicted; column 0 (NA/threshold) is ignored.
        pair_indices: (B, P, 2) the pairs the predictions are for, padded with -1 (as from the collator).
        titles: (B,) document titles.
        id2label: Relation id -> label.

    Returns:
        ``[{"title", "h_idx", "t_idx", "r"}, ...]`` in batch, pair, relation order.

    Raises:
        ValueError: When the shapes disagree or a predicted relation id has no label.
    """
    # facts are Python values: read both on the CPU, wherever the model ran
    predictions, pair_indices = torch.as_tensor(predictions).cpu(), torch.as_tensor(pair_indices).cpu()
    if predictions.dim() != 3 or pair_indices.shape != (*predictions.shape[:2], 2) or len(titles) != len(predictions):
        raise ValueError(f"predictions {tuple(predictions.shape)} must be (B, P, C) with pair_indices (B, P, 2) and B "
                         f"titles; got pair_indices {tuple(pair_indices.shape)} and {len(titles)} titles.")
    predicted = (predictions[..., 1:] != 0) & (pair_indices[..., :1] >= 0)  # drop NA and padded pairs
    facts = []
    for row, pair, column in predicted.nonzero().tolist():
        relation_id = column + 1
        if relation_id not in id2label:
            raise ValueError(f"relation id {relation_id} has no label in id2label ({len(id2label)} labels).")
        head, tail = pair_indices[row, pair].tolist()
        facts.append({"title": titles[row], "h_idx": head, "t_idx": tail, "r": id2label[relation_id]})
    return facts
