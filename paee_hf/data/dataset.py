"""DocRED-format documents -> ``datasets.Dataset`` (one document per row)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import datasets


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
