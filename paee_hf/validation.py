"""Validation of DocRED-format documents before featurization.

A DocRED document is ``{title, sents: [[word]], vertexSet: [[{name, pos: [start, end), sent_id, type}]],
labels: [{h, t, r, evidence}]}``. ``labels`` is optional (test sets). Two optional fields written by this package's
readers are also checked: ``candidate_pairs`` (``[[h, t]]``, the ordered pairs to classify when not all of them
are, e.g. chemical -> disease for CDR) and ``entity_names`` (one display name per entity). ``None`` counts as
absent for every optional field, because a ``datasets.Dataset`` fills missing fields with ``None``. Other keys
(e.g. Re-DocRED's ``global_pos``) are allowed and passed through untouched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NoReturn

_MENTION_KEYS = ("name", "pos", "sent_id", "type")


class DocumentValidationError(ValueError):
    """A document that cannot be featurized; the message names the source, the document, the field and the fix.

    Attributes:
        source: File name (or other origin) of the document.
        doc_index: Position of the document in its source.
        title: The document's title when it has a readable one, else ``None``.
        field: Path of the offending field, e.g. ``vertexSet[3][0].pos``.
        problem: What is wrong with it.
        fix: How to fix it.
    """

    def __init__(self, source: str, doc_index: int, title: str | None, field: str, problem: str, fix: str):
        self.source = source
        self.doc_index = doc_index
        self.title = title
        self.field = field
        self.problem = problem
        self.fix = fix
        super().__init__(f"{describe_document(source, doc_index, title)}: {field} {problem}. {fix}")

    def __reduce__(self):
        # ValueError pickles only args; keep the fields so errors survive datasets' worker processes.
        return (type(self), (self.source, self.doc_index, self.title, self.field, self.problem, self.fix))


def describe_document(source: str, doc_index: int, title: Any) -> str:
    """``'dev.json, document 17 ("Ali Abdullah Ahmed")'``: how every message points at a document."""
    shown = json.dumps(title, ensure_ascii=False) if isinstance(title, str) else "without a title"
    return f"{source}, document {doc_index} ({shown})"


def is_integer(value: Any) -> bool:
    """True for ints but not bools (bool is an int subclass, yet ``true`` as a word offset is a data error)."""
    return isinstance(value, int) and not isinstance(value, bool)


_JSON_KINDS = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
               (list, "a list"), (dict, "an object"))


def json_kind(value: Any) -> str:
    """What ``value`` is, in JSON terms, for messages: ``"a string"``, ``"an object"``, ``"null"`` ..."""
    if value is None:
        return "null"
    return next((kind for python_type, kind in _JSON_KINDS if isinstance(value, python_type)),
                f"a {type(value).__name__}")


def validate_document(
    document: Any,
    doc_index: int,
    source: str,
    label2id: Mapping[str, int] | None = None,
    entity_type2id: Mapping[str, int] | None = None,
) -> None:
    """Check one DocRED-format document; return silently when it is valid.

    Args:
        document: The document (a dict).
        doc_index: Its position in ``source`` (for the message).
        source: Where it came from, e.g. the file name (for the message).
        label2id: Relation vocabulary; when given, every ``labels[i].r`` must be in it and must not be the
            no-relation class (id 0).
        entity_type2id: Entity-type vocabulary; when given, every mention ``type`` must be in it.

    Raises:
        DocumentValidationError: For the first problem found: wrong JSON shape, non-list fields, a mention
            outside its sentence, an empty entity, an unknown relation or entity type, head == tail, duplicate
            labels, a malformed candidate pair.
    """
    title = document.get("title") if isinstance(document, dict) else None

    def fail(field: str, problem: str, fix: str) -> NoReturn:
        raise DocumentValidationError(source, doc_index, title if isinstance(title, str) else None, field, problem, fix)

    if not isinstance(document, dict):
        fail("document", f"is {json_kind(document)}, not an object", "Each document must be an object with "
             "title, sents, vertexSet and (optionally) labels")
    for key in ("title", "sents", "vertexSet"):
        if key not in document:
            fail(key, "is missing", f"Add the '{key}' field (DocRED format: title, sents, vertexSet, labels)")
    if not isinstance(title, str):
        fail("title", f"is {json_kind(title)}, not a string", "Give the document a string title")

    sentence_lengths = _check_sentences(document["sents"], fail)
    entity_count = _check_entities(document["vertexSet"], sentence_lengths, entity_type2id, fail)
    labelled_pairs = _check_labels(document.get("labels"), entity_count, len(sentence_lengths), label2id, fail)
    _check_candidate_pairs(document.get("candidate_pairs"), entity_count, labelled_pairs, fail)
    _check_entity_names(document.get("entity_names"), entity_count, fail)


def _check_sentences(sentences: Any, fail) -> list[int]:
    if not isinstance(sentences, list):
        fail("sents", f"is {json_kind(sentences)}, not a list of sentences", "Make sents a list of lists of words")
    if not sentences:
        fail("sents", "is empty", "A document needs at least one sentence")
    lengths = []
    for sent_id, sentence in enumerate(sentences):
        if not isinstance(sentence, list):
            fail(f"sents[{sent_id}]", f"is {json_kind(sentence)}, not a list of words",
                 "Split the sentence into a list of word strings")
        if not sentence:
            fail(f"sents[{sent_id}]", "is empty", "Remove the empty sentence and renumber the sent_id fields after it")
        for word_index, word in enumerate(sentence):
            if not isinstance(word, str):
                fail(f"sents[{sent_id}][{word_index}]", f"is {json_kind(word)}, not a string", "Words must be strings")
        lengths.append(len(sentence))
    return lengths


def _check_entities(entities: Any, sentence_lengths: list[int], entity_type2id, fail) -> int:
    if not isinstance(entities, list):
        fail("vertexSet", f"is {json_kind(entities)}, not a list of entities", "Make vertexSet a list of mention lists")
    if not entities:
        fail("vertexSet", "is empty", "A document needs at least one entity; drop the document or annotate one")
    for entity_index, mentions in enumerate(entities):
        if not isinstance(mentions, list):
            fail(f"vertexSet[{entity_index}]", f"is {json_kind(mentions)}, not a list of mentions",
                 "Each entity must be a list of mention objects")
        if not mentions:
            fail(f"vertexSet[{entity_index}]", "is an empty entity (no mentions)",
                 "Remove the entity and renumber the h/t indices after it, or add its mentions")
        for mention_index, mention in enumerate(mentions):
            _check_mention(mention, f"vertexSet[{entity_index}][{mention_index}]", sentence_lengths,
                           entity_type2id, fail)
    return len(entities)


def _check_mention(mention: Any, field: str, sentence_lengths: list[int], entity_type2id, fail) -> None:
    if not isinstance(mention, dict):
        fail(field, f"is {json_kind(mention)}, not a mention object", "Mentions are {name, pos, sent_id, type}")
    for key in _MENTION_KEYS:
        if key not in mention:
            fail(f"{field}.{key}", "is missing", "Mentions need name, pos, sent_id and type")
    if not isinstance(mention["name"], str):
        fail(f"{field}.name", f"is {json_kind(mention['name'])}, not a string", "Give the mention's surface text")
    sent_id, position = mention["sent_id"], mention["pos"]
    if not is_integer(sent_id):
        fail(f"{field}.sent_id", f"is {sent_id!r}, not an integer", "Give the index of the mention's sentence")
    if not 0 <= sent_id < len(sentence_lengths):
        fail(f"{field}.sent_id", f"{sent_id} is not a sentence of this document ({len(sentence_lengths)} sentences)",
             "Fix the mention's sent_id")
    if not (isinstance(position, list) and len(position) == 2 and all(is_integer(p) for p in position)):
        fail(f"{field}.pos", f"is {position!r}, not a list [start, end) of two integers",
             "Give word offsets within the sentence, end exclusive")
    start, end = position
    length = sentence_lengths[sent_id]
    if not 0 <= start < end <= length:
        fail(f"{field}.pos", f"{position} lies outside sentence {sent_id} (length {length})",
             "Fix the mention's pos or sent_id (pos is [start, end) in words, within the sentence)")
    mention_type = mention["type"]
    if not isinstance(mention_type, str):
        fail(f"{field}.type", f"is {json_kind(mention_type)}, not a string", "Give the entity type name")
    if entity_type2id is not None and mention_type not in entity_type2id:
        fail(f"{field}.type", f"{mention_type!r} is not a known entity type ({', '.join(sorted(entity_type2id))})",
             "Fix the type or add it to entity_type2id")


def _check_labels(labels: Any, entity_count: int, sentence_count: int, label2id, fail) -> set[tuple[int, int]]:
    if labels is None:
        return set()
    if not isinstance(labels, list):
        fail("labels", f"is {json_kind(labels)}, not a list", "Make labels a list of {h, t, r, evidence} objects")
    no_relation = {name for name, index in label2id.items() if index == 0} if label2id is not None else set()
    first_seen: dict[tuple[int, int, str], int] = {}
    for label_index, label in enumerate(labels):
        field = f"labels[{label_index}]"
        if not isinstance(label, dict):
            fail(field, f"is {json_kind(label)}, not an object", "Labels are {h, t, r, evidence} objects")
        for key in ("h", "t", "r"):
            if key not in label:
                fail(f"{field}.{key}", "is missing", "Labels need h, t (entity indices) and r (relation)")
        head, tail, relation = label["h"], label["t"], label["r"]
        for key, value in (("h", head), ("t", tail)):
            if not is_integer(value) or not 0 <= value < entity_count:
                fail(f"{field}.{key}", f"is {value!r}, not an entity index (0..{entity_count - 1})",
                     "Point h and t at entries of vertexSet")
        if head == tail:
            fail(field, f"has head == tail ({head})", "A relation links two different entities; fix h or t")
        if not isinstance(relation, str):
            fail(f"{field}.r", f"is {json_kind(relation)}, not a string", "Give the relation label (e.g. 'P17')")
        if relation in no_relation:
            fail(f"{field}.r", f"{relation!r} is the no-relation class",
                 "Remove the label: pairs without labels are NA")
        if label2id is not None and relation not in label2id:
            fail(f"{field}.r", f"{relation!r} is not a known relation ({len(label2id)} in label2id)",
                 "Fix the relation or add it to label2id (rel2id.json)")
        key = (head, tail, relation)
        if key in first_seen:
            fail(field, f"repeats labels[{first_seen[key]}] (h={head}, t={tail}, r={relation!r})",
                 "Remove the duplicate, or read the file with duplicate_labels='merge'")
        first_seen[key] = label_index
        _check_evidence(label.get("evidence"), f"{field}.evidence", sentence_count, fail)
    return {(head, tail) for head, tail, _ in first_seen}


def _check_evidence(evidence: Any, field: str, sentence_count: int, fail) -> None:
    if evidence is None:
        return
    if not isinstance(evidence, list):
        fail(field, f"is {json_kind(evidence)}, not a list", "Make evidence a list of sentence indices")
    for sent_id in evidence:
        # null entries: converted CDR files write [null] for "no evidence annotated".
        if sent_id is not None and (not is_integer(sent_id) or not 0 <= sent_id < sentence_count):
            fail(field, f"contains {sent_id!r}, not a sentence index (0..{sentence_count - 1})",
                 "Evidence lists indices of sentences in sents")


def _check_candidate_pairs(pairs: Any, entity_count: int, labelled_pairs: set[tuple[int, int]], fail) -> None:
    if pairs is None:
        return
    if not isinstance(pairs, list):
        fail("candidate_pairs", f"is {json_kind(pairs)}, not a list", "Make candidate_pairs a list of [h, t]")
    seen: set[tuple[int, int]] = set()
    for pair_index, pair in enumerate(pairs):
        field = f"candidate_pairs[{pair_index}]"
        if not (isinstance(pair, list) and len(pair) == 2 and all(is_integer(p) for p in pair)):
            fail(field, f"is {pair!r}, not [h, t]", "Give two entity indices")
        head, tail = pair
        if not (0 <= head < entity_count and 0 <= tail < entity_count):
            fail(field, f"{pair} is not a pair of entity indices (0..{entity_count - 1})",
                 "Point h and t at entries of vertexSet")
        if head == tail:
            fail(field, f"has head == tail ({head})", "Remove the pair")
        if (head, tail) in seen:
            fail(field, f"{pair} appears twice", "Remove the duplicate pair")
        seen.add((head, tail))
    for head, tail in sorted(labelled_pairs - seen):
        fail("candidate_pairs", f"lacks the labelled pair [{head}, {tail}]",
             "Add the pair, or remove candidate_pairs to classify every ordered pair")


def _check_entity_names(names: Any, entity_count: int, fail) -> None:
    if names is None:
        return
    if not (isinstance(names, list) and all(isinstance(name, str) for name in names)):
        fail("entity_names", "is not a list of strings", "Give one display name per entity")
    if len(names) != entity_count:
        fail("entity_names", f"has {len(names)} names for {entity_count} entities", "Give one name per entity")


def check_contiguous_ids(mapping: Mapping[str, int], name: str) -> None:
    """Raise ``ValueError`` unless the ids of ``mapping`` are exactly 0..len-1; embeddings and classifiers need that."""
    if sorted(mapping.values()) != list(range(len(mapping))):
        raise ValueError(f"{name} ids must be 0..{len(mapping) - 1}, each once; got {sorted(mapping.values())}. "
                         "Renumber them (id 0 is the no-relation class for relations).")
