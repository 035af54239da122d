"""``datasets`` and DocRED-format documents, both ways: documents to a ``Dataset`` and its features, and a ``Dataset``
(saved with ``save_to_disk``, in memory, or on the Hub) to validated documents.

Two row schemas are read, through one adapter (:func:`docred_row`):

- the DocRED Hub schema (the ``docred`` dataset on the Hub): ``labels`` is a struct of lists
  ``{head, tail, relation_id, relation_text, evidence}``;
- the schema :func:`to_dataset` writes: ``labels`` is a list of ``{h, t, r, evidence}``.

Columns ``title``, ``sents`` and ``vertexSet`` are required; ``labels`` is optional (test splits).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import datasets
from datasets.exceptions import DatasetNotFoundError

from ..featurizer import DocumentFeaturizer
from ..validation import DocumentValidationError, json_kind
from .docred import DuplicateLabels, merge_duplicate_labels
from .documents import DocumentList, OnInvalid, collect_valid_documents

#: Columns a DocRED-schema dataset must have (``labels`` may be absent: test splits).
REQUIRED_COLUMNS = ("title", "sents", "vertexSet")
#: How a source string names a Hub dataset: ``hf:REPO_ID[:CONFIG]:SPLIT``.
HUB_PREFIX = "hf:"
HUB_SYNTAX = "hf:REPO_ID[:CONFIG]:SPLIT"
# A repo id and a config hold no ':'; the split may carry a slice, e.g. train[:100] or validation[:10%].
_HUB_PATTERN = re.compile(r"(?P<repo_id>[^:\s]+?)(?::(?P<config>[^:\[\]\s]+))?:(?P<split>[^:\[\]\s]+(?:\[[^\]]*\])?)")
# Hub label names -> DocRED JSON names; relation_text (the readable name) is dropped: rel_info_file carries it.
_HUB_LABEL_KEYS = {"head": "h", "tail": "t", "relation_id": "r"}


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
    """Arrow schema of :class:`DocumentFeaturizer`'s columns (explicit: batches without labels or relations agree)."""
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
        "pair_evidence": datasets.List(datasets.List(integer)),
        "entity_order": datasets.List(integer),
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


class DatasetColumnsError(ValueError):
    """A dataset that lacks columns the DocRED schema needs; the message names the source and the missing columns.

    Attributes:
        source: The dataset's origin (directory, Hub source or ``datasets.Dataset``).
        missing: The required columns it lacks.
        present: The columns it has.
    """

    def __init__(self, source: str, missing: list[str], present: list[str]):
        self.source = source
        self.missing = missing
        self.present = present
        super().__init__(
            f"{source}: the dataset lacks the columns {missing} (it has {present}). A DocRED-schema dataset needs "
            f"{list(REQUIRED_COLUMNS)} and, for training and evaluation, 'labels'; rename columns with "
            "Dataset.rename_column, or convert the data to DocRED JSON."
        )


@dataclass(frozen=True)
class HubSource:
    """A Hub dataset split named by ``hf:REPO_ID[:CONFIG]:SPLIT``.

    Attributes:
        repo_id: The dataset repository, e.g. ``org/name``.
        config: The configuration name, or ``None`` for the default one.
        split: The split, optionally sliced (``train[:100]``).
    """

    repo_id: str
    config: str | None
    split: str


def is_hub_source(source: Any) -> bool:
    """True for a string (not a path object) that starts with ``hf:``: it names a Hub dataset, never a file."""
    return isinstance(source, str) and source.startswith(HUB_PREFIX)


def parse_hub_source(text: str) -> HubSource:
    """Split ``hf:REPO_ID[:CONFIG]:SPLIT`` into its parts.

    Raises:
        ValueError: When ``text`` does not follow the syntax (the message gives it and an example).
    """
    match = _HUB_PATTERN.fullmatch(text.removeprefix(HUB_PREFIX)) if is_hub_source(text) else None
    if match is None:
        raise ValueError(f"{text!r} is not a Hub dataset source; write {HUB_SYNTAX}, e.g. hf:org/name:validation "
                         "(the split is required; a local file whose name starts with 'hf:' is ./hf:...).")
    return HubSource(match["repo_id"], match["config"], match["split"])


def load_hub_dataset(text: str) -> datasets.Dataset:
    """The split of a Hub dataset named by ``hf:REPO_ID[:CONFIG]:SPLIT`` (downloaded and cached by ``datasets``).

    Raises:
        ValueError: Malformed source, a dataset that does not exist or is private without a token, an unknown split.
    """
    hub = parse_hub_source(text)
    try:
        return datasets.load_dataset(hub.repo_id, hub.config, split=hub.split)
    except DatasetNotFoundError:
        raise ValueError(f"{text}: no dataset {hub.repo_id!r} on the Hub, or it is private: check the id, or log in "
                         "(`hf auth login` or HF_TOKEN).") from None
    except ValueError as error:  # e.g. an unknown split or config: datasets lists the valid ones
        raise ValueError(f"{text}: {error}") from None


def load_saved_dataset(directory: str | os.PathLike) -> datasets.Dataset:
    """A dataset written by ``Dataset.save_to_disk``, or one split of a ``DatasetDict.save_to_disk`` (``DIR/SPLIT``).

    Raises:
        ValueError: For a ``DatasetDict`` directory (the message lists its splits) or a directory that holds no
            saved dataset.
    """
    try:
        loaded = datasets.load_from_disk(os.fspath(directory))
    except FileNotFoundError:
        raise ValueError(f"{os.fspath(directory)}: a directory, but not one written by Dataset.save_to_disk or "
                         "DatasetDict.save_to_disk; give a data file or a saved dataset.") from None
    if isinstance(loaded, datasets.DatasetDict):
        splits = list(loaded)
        example = os.path.join(os.fspath(directory), splits[0]) if splits else "DIR/SPLIT"
        raise ValueError(f"{os.fspath(directory)}: a DatasetDict with the splits {splits}; name one split's "
                         f"directory, e.g. {example}.")
    return loaded


def describe_dataset(dataset: datasets.Dataset) -> str:
    """How messages name an in-memory dataset: ``'datasets.Dataset (split validation)'``."""
    return f"datasets.Dataset (split {dataset.split})" if dataset.split else "datasets.Dataset"


def docred_row(row: Mapping[str, Any], doc_index: int, source: str) -> dict[str, Any]:
    """One dataset row as a DocRED-format document (the one adapter of every ``datasets`` source).

    ``labels`` in the Hub schema (a struct of lists ``head``/``tail``/``relation_id``/``evidence``) becomes a list
    of ``{h, t, r, evidence}``; ``labels`` as a list (:func:`to_dataset`) is kept. Fields that are ``None`` were
    filled in by Arrow for rows without them and are dropped, so a saved JSON document reads back equal.
    Anything else malformed is left for validation to report.

    Raises:
        DocumentValidationError: For a struct of lists whose lists differ in length or lack ``head``/``tail``/
            ``relation_id``.
    """
    document = _without_nulls(row)
    if isinstance(document.get("vertexSet"), list):
        document["vertexSet"] = [[_without_nulls(mention) for mention in entity] if isinstance(entity, list)
                                 else entity for entity in document["vertexSet"]]
    labels = document.get("labels")
    if isinstance(labels, Mapping):
        document["labels"] = _labels_from_columns(labels, doc_index, source, document.get("title"))
    elif isinstance(labels, list):
        document["labels"] = [{_HUB_LABEL_KEYS.get(key, key): value for key, value in _without_nulls(label).items()
                               if key != "relation_text"} if isinstance(label, Mapping) else label
                              for label in labels]
    return document


def read_dataset(
    dataset: datasets.Dataset,
    source: str | None = None,
    *,
    on_invalid: OnInvalid = "raise",
    label2id: Mapping[str, int] | None = None,
    entity_type2id: Mapping[str, int] | None = None,
    duplicate_labels: DuplicateLabels = "raise",
) -> DocumentList:
    """Read a DocRED-schema ``datasets.Dataset`` into validated documents, as the file readers do.

    Args:
        dataset: One row per document (Hub schema or :func:`to_dataset`'s).
        source: Its origin for messages (directory or Hub source); default :func:`describe_dataset`.
        on_invalid: ``"raise"`` stops at the first invalid document; ``"skip"`` leaves it out and warns.
        label2id: When given, relation labels are checked against it.
        entity_type2id: When given, mention types are checked against it.
        duplicate_labels: ``"raise"`` or ``"merge"``, as in :func:`paee_hf.data.read_docred`.

    Returns:
        The documents, with ``source``, ``skipped`` and ``notes``.

    Raises:
        DatasetColumnsError: When a required column is missing.
        DocumentValidationError: For an invalid row when ``on_invalid="raise"``.
    """
    if duplicate_labels not in ("raise", "merge"):
        raise ValueError(f"duplicate_labels={duplicate_labels!r} is not supported; use 'raise' or 'merge'.")
    source = source or describe_dataset(dataset)
    missing = [column for column in REQUIRED_COLUMNS if column not in dataset.column_names]
    if missing:
        raise DatasetColumnsError(source, missing, list(dataset.column_names))
    notes: list[str] = []

    def convert(row: Mapping[str, Any], doc_index: int) -> dict[str, Any]:
        document = docred_row(row, doc_index, source)
        return merge_duplicate_labels(document, doc_index, source, notes) if duplicate_labels == "merge" else document

    result = collect_valid_documents(dataset, source, on_invalid, label2id, entity_type2id, convert=convert)
    if notes:
        warnings.warn(f"{source}: merged {len(notes)} repeated relation facts; first: {notes[0]} "
                      "(all of them are listed in the result's notes)", stacklevel=2)
        result.notes.extend(notes)
    return result


def _without_nulls(record: Any) -> Any:
    """A dict without its ``None`` values (Arrow's filler for absent fields); anything else unchanged."""
    if not isinstance(record, Mapping):
        return record
    return {key: value for key, value in record.items() if value is not None}


def _labels_from_columns(labels: Mapping[str, Any], doc_index: int, source: str, title: Any) -> list[dict[str, Any]]:
    """Hub-schema labels (a struct of lists) as a list of ``{h, t, r, evidence}``."""

    def fail(field: str, problem: str, fix: str):
        raise DocumentValidationError(source, doc_index, title if isinstance(title, str) else None, field, problem, fix)

    columns = {_HUB_LABEL_KEYS.get(key, key): value for key, value in labels.items()
               if key != "relation_text" and value is not None}
    for name, key in (("head", "h"), ("tail", "t"), ("relation_id", "r")):
        if key not in columns:
            fail(f"labels.{name}", "is missing", "Hub-schema labels are {head, tail, relation_id, evidence} lists")
    names = {value: key for key, value in _HUB_LABEL_KEYS.items()}
    for key, values in columns.items():
        if not isinstance(values, list):
            fail(f"labels.{names.get(key, key)}", f"is {json_kind(values)}, not a list",
                 "Hub-schema labels hold one list per field, one entry per fact")
    count = len(columns["h"])
    for key, values in columns.items():
        if len(values) != count:
            fail(f"labels.{names.get(key, key)}", f"has {len(values)} entries but labels.head has {count}",
                 "Give every labels field one entry per fact")
    return [dict(zip(columns, values)) for values in zip(*columns.values())]
