"""Reader for the edge-oriented-graph (EoG) ``.data`` format of CDR/GDA -> DocRED-format documents.

This is the preprocessed format behind the published CDR/GDA numbers (EoG, LSR, ATLOP, SSAN, DocuNet ...).
One document per line, tab-separated: PMID, the tokenized text (sentences joined by ``|``, words by spaces), then
one 17-field record per candidate pair::

    label  direction  cross  closest-span1  closest-span2
    arg1-id  arg1-names(|)  arg1-type  arg1-starts(:)  arg1-ends(:)  arg1-sentences(:)
    arg2-id  arg2-names(|)  arg2-type  arg2-starts(:)  arg2-ends(:)  arg2-sentences(:)

Word offsets are document-level. ``label`` is ``1:<relation>:2`` (``1:NR:2`` = no relation) or ``not_include``: a
negative pair the ``*_filter`` step excluded because its disease is a MeSH hypernym of a positive one.

Mapping: arg1 is the head and arg2 the tail (arg1 is always the chemical/gene: ``1:CID:2`` reads "arg1 induces
arg2"; ``direction`` only says which comes first in the text and is not used). Every listed pair except
``not_include`` becomes a ``candidate_pairs`` entry; ``NR`` pairs carry no label. ``not_include`` pairs are neither
classified nor labelled (as in ATLOP's reader) and are counted in the result's ``notes``; their entities are kept.
Only entities that occur in some pair exist in this format (EoG never pairs ungrounded ``-1`` mentions, so they are
not in the file). Entities are ordered by first mention; mentions carry ``kb_id``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import NoReturn

from ..validation import DocumentValidationError
from .documents import DocumentList, OnInvalid, collect_valid_documents
from .files import read_text_file

_PAIR_FIELDS = 17
_RELATION_LABEL = re.compile(r"^1:(.+):2$")
NO_RELATION = "NR"
EXCLUDED_PAIR = "not_include"


def read_eog(
    path: str | os.PathLike,
    *,
    on_invalid: OnInvalid = "raise",
    label2id: Mapping[str, int] | None = None,
    entity_type2id: Mapping[str, int] | None = None,
) -> DocumentList:
    """Read an EoG ``.data`` file (e.g. CDR ``train_filter.data``) into DocRED-format documents.

    Args:
        path: The ``.data`` file.
        on_invalid: ``"raise"`` or ``"skip"`` (skipped documents are warned about and listed in ``skipped``).
        label2id: Optional relation vocabulary to check against (e.g. ``{"Na": 0, "CID": 1}``).
        entity_type2id: Optional entity-type vocabulary to check against.

    Returns:
        One document per line (``title`` = PMID) with ``labels`` and ``candidate_pairs``.

    Raises:
        ValueError: Missing or non-UTF-8 file.
        DocumentValidationError: A line whose pair records are not 17 fields each, inconsistent mentions of one
            id, a mention outside its sentence, an unknown pair label (with ``on_invalid="raise"``).
    """
    source = os.fspath(path)
    lines = [line for line in read_text_file(path).splitlines() if line.strip()]
    excluded_per_document: dict[int, int] = {}

    def convert(line: str, doc_index: int) -> dict:
        document, excluded_per_document[doc_index] = _to_document(line, doc_index, source)
        return document

    documents = collect_valid_documents(lines, source, on_invalid, label2id, entity_type2id, convert=convert)
    skipped = {skip.doc_index for skip in documents.skipped}
    excluded = sum(count for index, count in excluded_per_document.items() if index not in skipped)
    documents.notes.append(f"{excluded} '{EXCLUDED_PAIR}' pairs (hypernym-filtered negatives) are neither "
                           "classified nor labelled; their entities are kept")
    return documents


def _to_document(line: str, doc_index: int, source: str) -> tuple[dict, int]:
    """One ``.data`` line -> (document, number of excluded pairs)."""
    columns = line.split("\t")
    pmid = columns[0]

    def fail(field: str, problem: str, fix: str) -> NoReturn:
        raise DocumentValidationError(source, doc_index, pmid, field, problem, fix)

    if len(columns) < 2 or (len(columns) - 2) % _PAIR_FIELDS:
        fail("line", f"has {len(columns)} tab-separated fields", f"Expected PMID, text, then {_PAIR_FIELDS} fields "
             "per pair")
    sentences = [sentence.split(" ") for sentence in columns[1].split("|")]
    sentence_starts = [0]
    for sentence in sentences:
        sentence_starts.append(sentence_starts[-1] + len(sentence))

    entities: dict[str, tuple[str, list[dict]]] = {}  # id -> (type, mentions)
    pairs: list[tuple[str, str, str]] = []  # (label, arg1 id, arg2 id)
    for pair_index, offset in enumerate(range(2, len(columns), _PAIR_FIELDS)):
        record = columns[offset : offset + _PAIR_FIELDS]
        for argument_offset in (5, 11):
            kb_id, names, entity_type, starts, ends, sent_ids = record[argument_offset : argument_offset + 6]
            mentions = _mentions(kb_id, names, entity_type, starts, ends, sent_ids, sentences, sentence_starts,
                                 f"pair {pair_index}", fail)
            if kb_id in entities and entities[kb_id] != (entity_type, mentions):
                fail(f"pair {pair_index}", f"lists entity {kb_id} with other mentions or type than an earlier pair",
                     "Give each entity the same mentions in every pair")
            entities[kb_id] = (entity_type, mentions)
        pairs.append((record[0], record[5], record[11]))

    order = sorted(entities, key=lambda kb_id: min((m["sent_id"], m["pos"][0]) for m in entities[kb_id][1]))
    index_of = {kb_id: index for index, kb_id in enumerate(order)}
    candidate_pairs, labels, excluded = [], [], 0
    for pair_index, (label, head_id, tail_id) in enumerate(pairs):
        if label == EXCLUDED_PAIR:
            excluded += 1
            continue
        match = _RELATION_LABEL.match(label)
        if match is None:
            fail(f"pair {pair_index}", f"has label {label!r}", f"Labels are 1:<relation>:2 or {EXCLUDED_PAIR}")
        head, tail = index_of[head_id], index_of[tail_id]
        candidate_pairs.append([head, tail])
        if match.group(1) != NO_RELATION:
            labels.append({"h": head, "t": tail, "r": match.group(1), "evidence": []})
    document = {
        "title": pmid,
        "sents": sentences,
        "vertexSet": [entities[kb_id][1] for kb_id in order],
        "labels": labels,
        "candidate_pairs": candidate_pairs,
    }
    return document, excluded


def _mentions(kb_id: str, names: str, entity_type: str, starts: str, ends: str, sent_ids: str,
              sentences: list[list[str]], sentence_starts: list[int], field: str, fail) -> list[dict]:
    columns = [names.split("|"), starts.split(":"), ends.split(":"), sent_ids.split(":")]
    if len({len(column) for column in columns}) != 1:
        fail(field, f"entity {kb_id} has {'/'.join(str(len(c)) for c in columns)} names/starts/ends/sentences",
             "Give one name, start, end and sentence per mention")
    mentions = []
    for name, start, end, sent_id in zip(*columns):
        if not (start.isdigit() and end.isdigit() and sent_id.isdigit()) or int(sent_id) >= len(sentences):
            fail(field, f"entity {kb_id} has mention {start}-{end} in sentence {sent_id!r}",
                 f"Offsets are word indices; sentences are 0..{len(sentences) - 1}")
        start_word, end_word, sentence = int(start), int(end), int(sent_id)
        first, length = sentence_starts[sentence], len(sentences[sentence])
        if not first <= start_word < end_word <= first + length:
            fail(field, f"entity {kb_id} mention [{start_word}, {end_word}) lies outside sentence {sentence} "
                 f"(words {first}..{first + length - 1})", "Fix the mention's offsets or sentence")
        mentions.append({"name": name, "pos": [start_word - first, end_word - first], "sent_id": sentence,
                         "type": entity_type, "kb_id": kb_id})
    return mentions
