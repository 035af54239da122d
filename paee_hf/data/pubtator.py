"""Reader for raw PubTator files (BioCreative V CDR, GDA) -> DocRED-format documents.

PubTator: per document a ``PMID|t|title`` line, a ``PMID|a|abstract`` line, mention lines
``PMID<TAB>start<TAB>end<TAB>text<TAB>type<TAB>ids[<TAB>component names]`` (character offsets into
``title + " " + abstract``), relation lines ``PMID<TAB>CID<TAB>head id<TAB>tail id``, and a blank line.

Entity handling follows the edge-oriented-graph (EoG) preprocessing that the published CDR/GDA numbers use
(``data_processing/readers.py`` and ``tools.py`` of fenchri/edge-oriented-graph), with our own rule-based
sentence splitter and word tokenizer in place of the GENIA tools:

* one entity per knowledge-base id; a mention listing several ids (``D006470|D003556``, with or without the 7th
  "composite" column) is a mention of each of those entities, at the same span (an id listed twice on one
  mention, as in ``D020258|D020258|D020258``, gives one mention, not three identical ones);
* a mention whose id is ``-1`` (not grounded) is an entity of its own that is never paired;
* the pairs to classify (``candidate_pairs``) are every (head type, tail type) pair of grounded entities, e.g. every
  chemical -> disease pair for CDR; a relation line is a label on its (head, tail) pair (each id of a ``|``-joined
  argument counts, as in EoG).

Nothing is dropped: every mention is kept and marked; the result's ``notes`` count the composite mentions, the
ungrounded entities and the entities of other types. The title is a sentence of its own (it is joined to the
abstract by a blank line, so mentions keep their words). Each mention carries ``kb_id`` and ``char_span``
(offsets in the original PubTator text).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from ..raw_text import from_raw_text
from ..validation import DocumentValidationError
from .documents import DocumentList, OnInvalid, collect_valid_documents
from .files import read_text_file

_TEXT_LINE = re.compile(r"^([^|\t]+)\|([ta])\|(.*)$")
UNGROUNDED_ID = "-1"


@dataclass
class _MentionLine:
    line_number: int
    start: int
    end: int
    text: str
    type: str
    kb_ids: list[str]


@dataclass
class _RelationLine:
    line_number: int
    relation: str
    head_ids: list[str]
    tail_ids: list[str]


@dataclass
class _PubTatorRecord:
    pmid: str
    first_line: int
    title: str | None = None
    abstract: str | None = None
    mentions: list[_MentionLine] = field(default_factory=list)
    relations: list[_RelationLine] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (line, problem, fix)


def read_pubtator(
    path: str | os.PathLike,
    *,
    head_type: str = "Chemical",
    tail_type: str = "Disease",
    on_invalid: OnInvalid = "raise",
    label2id: Mapping[str, int] | None = None,
    entity_type2id: Mapping[str, int] | None = None,
) -> DocumentList:
    """Read a PubTator file (CDR: defaults; GDA: ``head_type="Gene"``) into DocRED-format documents.

    Args:
        path: The PubTator file.
        head_type: Entity type of relation heads (CID: ``"Chemical"``; GDA: ``"Gene"``).
        tail_type: Entity type of relation tails (``"Disease"`` for both).
        on_invalid: ``"raise"`` or ``"skip"`` (skipped documents are warned about and listed in ``skipped``).
        label2id: Optional relation vocabulary to check against (e.g. ``{"Na": 0, "CID": 1}``).
        entity_type2id: Optional entity-type vocabulary to check against.

    Returns:
        One document per PMID (``title`` = PMID) with ``labels``, ``candidate_pairs`` and ``entity_names``.

    Raises:
        ValueError: Missing or non-UTF-8 file.
        DocumentValidationError: A malformed line, a mention whose text differs from the text at its offsets,
            an id used with two types, a relation argument without mentions or of the wrong type
            (with ``on_invalid="raise"``).
    """
    source = os.fspath(path)
    records = _parse_records(read_text_file(path))
    counts_per_document: dict[int, Counter] = {}

    def convert(record: _PubTatorRecord, doc_index: int) -> dict:
        counts_per_document[doc_index] = Counter()
        return _to_document(record, doc_index, source, head_type, tail_type, counts_per_document[doc_index])

    documents = collect_valid_documents(records, source, on_invalid, label2id, entity_type2id, convert=convert)
    skipped = {skip.doc_index for skip in documents.skipped}
    counts = sum((c for index, c in counts_per_document.items() if index not in skipped), Counter())
    documents.notes += [
        f"{counts['composite']} composite mentions (several ids on one span) are a mention of each of their entities",
        f"{counts['repeated_id']} composite mentions list one id several times: one mention of that entity is kept",
        f"{counts['ungrounded']} mentions with id {UNGROUNDED_ID} are entities of their own, kept and marked but "
        "never paired (as in EoG)",
        f"{counts['other_type']} entities are neither {head_type} nor {tail_type}: kept and marked, never paired",
    ]
    return documents


def _parse_records(text: str) -> list[_PubTatorRecord]:
    """Group lines by document; malformed lines are recorded on their document, reported at conversion."""
    records: list[_PubTatorRecord] = []
    current: _PubTatorRecord | None = None
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            current = None
            continue
        text_match = _TEXT_LINE.match(line)
        pmid = text_match.group(1) if text_match else line.split("\t", 1)[0]
        if current is None or current.pmid != pmid:
            current = _PubTatorRecord(pmid, line_number)
            records.append(current)
        if text_match:
            setattr(current, "title" if text_match.group(2) == "t" else "abstract", text_match.group(3))
            continue
        columns = line.split("\t")
        if len(columns) in (6, 7):
            start, end = columns[1], columns[2]
            if not (start.isdigit() and end.isdigit()):
                current.problems.append((line_number, f"has offsets {start!r}, {end!r}", "Offsets are integers"))
                continue
            current.mentions.append(_MentionLine(line_number, int(start), int(end), columns[3], columns[4],
                                                 columns[5].split("|")))
        elif len(columns) == 4:
            current.relations.append(_RelationLine(line_number, columns[1], columns[2].split("|"),
                                                   columns[3].split("|")))
        else:
            current.problems.append((line_number, f"has {len(columns)} tab-separated fields",
                                     "PubTator lines are PMID|t|title, PMID|a|abstract, 6- or 7-field mentions "
                                     "or 4-field relations"))
    return records


def _to_document(record: _PubTatorRecord, doc_index: int, source: str, head_type: str, tail_type: str,
                 counts: Counter) -> dict:
    def fail(field_name: str, problem: str, fix: str) -> NoReturn:
        raise DocumentValidationError(source, doc_index, record.pmid, field_name, problem, fix)

    for line_number, problem, fix in record.problems:
        fail(f"line {line_number}", problem, fix)
    if record.title is None or record.abstract is None:
        fail(f"line {record.first_line}", "starts a document without both a |t| and an |a| line",
             "Give the title and abstract lines first")
    title, abstract = record.title, record.abstract
    # PubTator offsets index title + " " + abstract; a blank line instead keeps the title a sentence of its own.
    text = f"{title}\n\n{abstract}"

    def shift(offset: int) -> int:
        return offset if offset <= len(title) else offset + 1

    entity_of_key: dict[str, int] = {}
    entities: list[dict] = []
    entity_ids: list[str] = []
    for mention in sorted(record.mentions, key=lambda m: (m.start, m.line_number)):
        original = f"{title} {abstract}"[mention.start : mention.end]
        if original != mention.text:
            fail(f"line {mention.line_number}", f"mention text {mention.text!r} differs from the text at "
                 f"[{mention.start}, {mention.end}): {original!r}", "Fix the mention's offsets")
        if mention.start < len(title) < mention.end:
            fail(f"line {mention.line_number}", "mention spans the title and the abstract", "Fix its offsets")
        distinct_ids = list(dict.fromkeys(mention.kb_ids))
        counts["composite"] += len(distinct_ids) > 1
        counts["repeated_id"] += len(distinct_ids) < len(mention.kb_ids)
        for kb_id in distinct_ids:
            key = f"{UNGROUNDED_ID}#{mention.line_number}" if kb_id == UNGROUNDED_ID else kb_id
            counts["ungrounded"] += kb_id == UNGROUNDED_ID
            if key not in entity_of_key:
                entity_of_key[key] = len(entities)
                entities.append({"type": mention.type, "mentions": []})
                entity_ids.append(kb_id)
            entity = entities[entity_of_key[key]]
            if entity["type"] != mention.type:
                fail(f"line {mention.line_number}", f"id {kb_id} has type {mention.type!r} here and "
                     f"{entity['type']!r} on an earlier line", "Give every mention of an id the same type")
            entity["mentions"].append({"start": shift(mention.start), "end": shift(mention.end)})
    if not entities:
        fail(f"line {record.first_line}", "starts a document without mentions", "Remove the document")

    document = from_raw_text({"title": record.pmid, "text": text, "entities": entities}, doc_index, source)

    def unshift(offset: int) -> int:  # back to PubTator's offsets (title + " " + abstract)
        return offset if offset <= len(title) else offset - 1

    for kb_id, mentions in zip(entity_ids, document["vertexSet"]):
        for mention in mentions:
            mention["char_span"] = [unshift(offset) for offset in mention["char_span"]]
            mention["kb_id"] = kb_id
    document["sentence_char_spans"] = [[unshift(start), unshift(end)] for start, end in document["sentence_char_spans"]]
    grounded = [kb_id != UNGROUNDED_ID for kb_id in entity_ids]
    heads = [index for index, entity in enumerate(entities) if grounded[index] and entity["type"] == head_type]
    tails = [index for index, entity in enumerate(entities) if grounded[index] and entity["type"] == tail_type]
    counts["other_type"] += sum(entity["type"] not in (head_type, tail_type) for entity in entities)
    document["candidate_pairs"] = [[head, tail] for head in heads for tail in tails]
    document["labels"] = _labels(record, entity_of_key, entities, head_type, tail_type, fail)
    return document


def _labels(record: _PubTatorRecord, entity_of_key: dict[str, int], entities: list[dict], head_type: str,
            tail_type: str, fail) -> list[dict]:
    labels: list[dict] = []
    for relation in record.relations:
        arguments = []
        roles = (("head", relation.head_ids, head_type), ("tail", relation.tail_ids, tail_type))
        for role, ids, expected_type in roles:
            found = [entity_of_key[kb_id] for kb_id in ids if kb_id in entity_of_key]
            if not found:
                fail(f"line {relation.line_number}", f"{relation.relation} {role} {'|'.join(ids)} has no mention "
                     "in the document", "Annotate the entity's mentions or remove the relation")
            for entity_index in found:
                if entities[entity_index]["type"] != expected_type:
                    fail(f"line {relation.line_number}", f"{relation.relation} {role} {'|'.join(ids)} is a "
                         f"{entities[entity_index]['type']}, not a {expected_type}",
                         "Swap the arguments or set head_type/tail_type")
            arguments.append(found)
        labels += [{"h": head, "t": tail, "r": relation.relation, "evidence": []}
                   for head in arguments[0] for tail in arguments[1]]
    return labels
