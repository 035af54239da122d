"""DocRED-format documents and their features as ``datasets.Dataset`` (one document per row)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import datasets

from ..featurizer import DocumentFeaturizer


def to_dataset(documents: Iterable[Mapping]) -> datasets.Dataset:
    """A ``datasets.Dataset`` with one document per row (columns ``title``, ``sents``, ``vertexSet``, ...).

    Fields missing from some documents (``labels`` of a test document, Re-DocRED's extra mention keys) become
    ``None`` there; the validator and the featurizer treat ``None`` as absent.

    Args:
        documents: DocRED-format documents, e.g. a reader's result.

    Returns:
        The in-memory dataset (``save_to_disk`` it to get the ``datasets`` cache for later ``map`` calls).
    """
    return datasets.Dataset.from_list([dict(document) for document in documents])


def feature_schema() -> datasets.Features:
    """Arrow schema of :class:`DocumentFeaturizer`'s columns (explicit, so batches without labels or relations agree)."""
    integer = datasets.Value("int32")
    return datasets.Features({
        "input_ids": datasets.List(integer),
        "mention_positions": datasets.List(integer),
        "mention_sentence_ids": datasets.List(integer),
        "entity_mentions": datasets.List(datasets.List(integer)),
        "entity_types": datasets.List(integer),
        "sentence_spans": datasets.List(datasets.List(integer, length=2)),
        "pair_indices": datasets.List(datasets.List(integer, length=2)),
        "pair_labels": datasets.List(datasets.List(integer)),
        "title": datasets.Value("string"),
        "doc_index": datasets.Value("int64"),
    })


def featurize_dataset(
    featurizer: DocumentFeaturizer,
    dataset: datasets.Dataset,
    *,
    batch_size: int = 64,
    num_proc: int | None = None,
    **map_kwargs: Any,
) -> datasets.Dataset:
    """Map a dataset of documents (e.g. from :func:`to_dataset`) to features; the ``datasets`` cache applies.

    Args:
        featurizer: The featurizer (it hashes deterministically, so the cache is reused across runs).
        dataset: Documents, one per row.
        batch_size: Documents per tokenizer call.
        num_proc: Worker processes.
        **map_kwargs: More ``Dataset.map`` arguments (e.g. ``load_from_cache_file``).

    Returns:
        A dataset with exactly the feature columns.
    """
    return dataset.map(featurizer.featurize_batch, batched=True, with_indices=True, batch_size=batch_size,
                       num_proc=num_proc, remove_columns=dataset.column_names, features=feature_schema(),
                       **map_kwargs)
