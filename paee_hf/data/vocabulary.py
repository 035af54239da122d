"""Relation and entity-type vocabularies: from DocRED-style rel2id / rel_info / ner2id files, or from the data.

Relation ids: index 0 is the no-relation / adaptive-threshold class (``"Na"`` in DocRED's rel2id.json); real
relations are 1..C-1. DocRED labels stay Wikidata ids (``"P17"``); their readable names are kept apart for display.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..validation import check_contiguous_ids
from .files import load_json_file

NO_RELATION = "Na"


@dataclass(frozen=True)
class RelationVocabulary:
    """Relation labels and their display names.

    Attributes:
        label2id: Label -> id, with id 0 the no-relation class and ids contiguous from 0.
        names: Label -> human-readable name (e.g. ``"P17" -> "country"``); labels without one show as themselves.
    """

    label2id: dict[str, int]
    names: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_contiguous_ids(self.label2id, "label2id")

    @property
    def id2label(self) -> dict[int, str]:
        """Id -> label."""
        return {index: label for label, index in self.label2id.items()}

    @property
    def no_relation_label(self) -> str:
        """The label with id 0."""
        return self.id2label[0]

    def display_name(self, label: str) -> str:
        """Readable name of ``label`` (the label itself when there is none)."""
        return self.names.get(label, label)


def load_docred_label_vocab(
    rel2id_path: str | os.PathLike, rel_info_path: str | os.PathLike | None = None
) -> RelationVocabulary:
    """Load ``rel2id.json`` (label -> id, 0 = no relation) and optionally ``rel_info.json`` (label -> name).

    Raises:
        ValueError: When a file is not a JSON object of the right value types, or the ids are not 0..C-1.
    """
    label2id = _load_mapping(rel2id_path, int)
    names = _load_mapping(rel_info_path, str) if rel_info_path is not None else {}
    try:
        return RelationVocabulary(label2id, names)
    except ValueError as error:
        raise ValueError(f"{os.fspath(rel2id_path)}: {error}") from None


def load_entity_type_vocab(ner2id_path: str | os.PathLike) -> dict[str, int]:
    """Load ``ner2id.json`` (entity type -> id, contiguous from 0).

    Raises:
        ValueError: When the file is not a JSON object of integers 0..T-1.
    """
    entity_type2id = _load_mapping(ner2id_path, int)
    try:
        check_contiguous_ids(entity_type2id, "entity_type2id")
    except ValueError as error:
        raise ValueError(f"{os.fspath(ner2id_path)}: {error}") from None
    return entity_type2id


def infer_vocabularies(
    documents: Iterable[Mapping], no_relation_label: str = NO_RELATION
) -> tuple[RelationVocabulary, dict[str, int]]:
    """Build both vocabularies from the data: relations and types sorted by name (deterministic), NA at 0.

    Infer from the training split (or all splits): a relation absent from it gets no id.

    Args:
        documents: DocRED-format documents (already validated).
        no_relation_label: Name of the no-relation class.

    Returns:
        ``(relations, entity_type2id)``.

    Raises:
        ValueError: When a document uses ``no_relation_label`` as a relation.
    """
    relations: set[str] = set()
    entity_types: set[str] = set()
    for document in documents:
        relations.update(label["r"] for label in document.get("labels") or ())
        entity_types.update(mention["type"] for entity in document["vertexSet"] for mention in entity)
    if no_relation_label in relations:
        raise ValueError(f"relation {no_relation_label!r} appears in the labels but is the no-relation class; "
                         "remove those labels or pass another no_relation_label.")
    label2id = {no_relation_label: 0} | {label: index for index, label in enumerate(sorted(relations), start=1)}
    return RelationVocabulary(label2id), {name: index for index, name in enumerate(sorted(entity_types))}


def _load_mapping(path: str | os.PathLike, value_type: type) -> dict:
    mapping = load_json_file(path)
    if not isinstance(mapping, dict) or not all(
        isinstance(value, value_type) and not isinstance(value, bool) for value in mapping.values()
    ):
        raise ValueError(f"{os.fspath(path)}: expected a JSON object of {value_type.__name__} values "
                         f"(name -> {value_type.__name__}). Check that this is the right file.")
    return mapping
