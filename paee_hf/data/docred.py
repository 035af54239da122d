"""Readers for files already in DocRED JSON: DocRED, Re-DocRED, DWIE and converted CDR/GDA."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any, Literal

from ..validation import describe_document
from .documents import DocumentList, OnInvalid, collect_valid_documents
from .files import load_json_file

DuplicateLabels = Literal["raise", "merge"]


def read_docred(
    path: str | os.PathLike,
    *,
    on_invalid: OnInvalid = "raise",
    label2id: Mapping[str, int] | None = None,
    entity_type2id: Mapping[str, int] | None = None,
    duplicate_labels: DuplicateLabels = "raise",
) -> DocumentList:
    """Read a DocRED-format JSON file (a list of documents): DocRED, Re-DocRED, DWIE, converted CDR/GDA.

    Args:
        path: The JSON file.
        on_invalid: ``"raise"`` stops at the first invalid document; ``"skip"`` leaves it out, warns, and lists
            it in the result's ``skipped``.
        label2id: When given, relation labels are checked against it.
        entity_type2id: When given, mention types are checked against it.
        duplicate_labels: ``"raise"`` treats a repeated ``(h, t, r)`` as invalid; ``"merge"`` keeps one fact per
            ``(h, t, r)`` with the union of the evidence, warns once per file and lists every merge in ``notes``
            (some public conversions repeat facts: DWIE dev 4, converted CDR dev 91).

    Returns:
        The documents (plain dicts, unknown keys kept), with ``source``, ``skipped`` and ``notes``.

    Raises:
        ValueError: When the file is missing, not UTF-8, not JSON, or not a list of documents.
        DocumentValidationError: For an invalid document when ``on_invalid="raise"``.
    """
    if duplicate_labels not in ("raise", "merge"):
        raise ValueError(f"duplicate_labels={duplicate_labels!r} is not supported; use 'raise' or 'merge'.")
    source = os.fspath(path)
    documents = load_json_file(path)
    if not isinstance(documents, list):
        kind = "an object" if isinstance(documents, dict) else f"a JSON {type(documents).__name__}"
        raise ValueError(
            f"{source}: the file holds {kind}, not a list of documents. A DocRED file is a JSON list "
            "[{title, sents, vertexSet, labels}, ...]; wrap a single document in [ ]."
        )
    notes: list[str] = []
    if duplicate_labels == "merge":
        documents = [merge_duplicate_labels(doc, index, source, notes) for index, doc in enumerate(documents)]
        if notes:
            warnings.warn(f"{source}: merged {len(notes)} repeated relation facts; first: {notes[0]} "
                          "(all of them are listed in the result's notes)", stacklevel=2)
    return collect_valid_documents(documents, source, on_invalid, label2id, entity_type2id, notes)


def read_dwie(
    path: str | os.PathLike,
    *,
    on_invalid: OnInvalid = "raise",
    label2id: Mapping[str, int] | None = None,
    entity_type2id: Mapping[str, int] | None = None,
    duplicate_labels: DuplicateLabels = "merge",
) -> DocumentList:
    """Read DWIE in DocRED JSON (the conversion most DWIE papers use: one "sentence" per document).

    Same as :func:`read_docred`, except that repeated facts are merged by default (the public conversion
    repeats 4 facts in dev); every merge is warned about and listed in ``notes``.
    """
    return read_docred(path, on_invalid=on_invalid, label2id=label2id, entity_type2id=entity_type2id,
                       duplicate_labels=duplicate_labels)


def merge_duplicate_labels(document: Any, doc_index: int, source: str, notes: list[str]) -> Any:
    """A copy of ``document`` with one label per ``(h, t, r)``, one line per merge appended to ``notes``; malformed
    labels are left for validation."""
    if not isinstance(document, dict) or not isinstance(document.get("labels"), list):
        return document
    merged: list[Any] = []
    first_index: dict[tuple, int] = {}
    for label_index, label in enumerate(document["labels"]):
        try:
            key = (label["h"], label["t"], label["r"])
            hash(key)
        except (TypeError, KeyError):
            merged.append(label)
            continue
        if key not in first_index:
            first_index[key] = len(merged)
            merged.append(label)
            continue
        kept = merged[first_index[key]]
        evidence = [kept.get("evidence"), label.get("evidence")]
        if not all(isinstance(part, (list, type(None))) for part in evidence):
            merged.append(label)  # malformed evidence: leave both copies for validation to report
            continue
        union: list[Any] = []
        for sent_id in (sent_id for part in evidence for sent_id in (part or [])):
            if sent_id not in union:
                union.append(sent_id)
        merged[first_index[key]] = {**kept, "evidence": union}
        notes.append(f"{describe_document(source, doc_index, document.get('title'))}: labels[{label_index}] "
                     f"repeats (h={key[0]}, t={key[1]}, r={key[2]!r}); merged into one fact")
    if len(merged) == len(document["labels"]):
        return document
    return {**document, "labels": merged}
