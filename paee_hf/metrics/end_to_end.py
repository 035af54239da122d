"""End-to-end scores (text in; mentions, entities and facts out) as JEREX's joint evaluator defines them.

JEREX (Eberts & Ulges, EACL 2021; ``jerex/evaluation/joint_evaluator.py`` and ``scoring.py``) scores five levels,
each a micro precision / recall / F1 over the whole corpus:

* **mention**: a mention span, exact boundaries (its type and entity do not matter);
* **cluster**: an entity's set of mention spans; right only when the set is equal (every span exact, none missing,
  none extra);
* **entity**: a cluster and its entity type;
* **relation**: ``(head cluster, tail cluster, r)``, directed; entity types do not matter;
* **strict_relation**: ``((head cluster, head type), (tail cluster, tail type), r)``: also both types right, JEREX's
  headline figure.

Items are compared as sets per document: an item listed twice (the same span in two entities, two entities with the
same mentions, a relation repeated through such entities) counts once on each side, as JEREX's per-document union
does. Counts are summed over documents, then ``precision = correct / predicted`` and ``recall = correct / gold``
(0.0 where a denominator is 0); this equals JEREX's scikit-learn micro average over its labels. JEREX compares token
spans; here spans are character offsets ``[start, end)``, which for :func:`gold_record`'s text (words joined by
one space) is the same comparison, and for raw text does not depend on a tokenizer. As in JEREX's DocRED reader, a
gold entity's type is the type of its first mention.

Records, on both sides, are the ``paee extract`` format, one per document, matched by position::

    {"title"?, "entities": [{"name"?, "type", "mentions": [{"start", "end", "text"?}]}],
     "relations": [{"h_idx", "t_idx", "r", ...}]}
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..validation import DocumentValidationError, validate_document
from .docred import precision_recall_f1

END_TO_END_LEVELS = ("mention", "cluster", "entity", "relation", "strict_relation")
"""The levels of :func:`evaluate_end_to_end`, from the easiest to JEREX's headline."""

Span = tuple[int, int]
Cluster = frozenset[Span]
TypedCluster = tuple[Cluster, str]


@dataclass(frozen=True)
class _DocumentItems:
    """The items of one record at every level, as sets (duplicates collapse)."""

    mention: frozenset[Span]
    cluster: frozenset[Cluster]
    entity: frozenset[TypedCluster]
    relation: frozenset[tuple[Cluster, Cluster, str]]
    strict_relation: frozenset[tuple[TypedCluster, TypedCluster, str]]


def _is_offset(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0


def _kind(value: Any) -> str:
    return type(value).__name__


def _parse_entities(entities: Any, where: str) -> list[TypedCluster]:
    if not isinstance(entities, (list, tuple)):
        raise ValueError(f"{where}: field 'entities' must be a list of {{type, mentions}}, got {_kind(entities)}")
    parsed = []
    for entity_index, entity in enumerate(entities):
        entity_where = f"{where}: entities[{entity_index}]"
        if not isinstance(entity, Mapping):
            raise ValueError(f"{entity_where} must be a dict with 'type' and 'mentions', got {_kind(entity)}")
        if not isinstance(entity.get("type"), str):
            raise ValueError(f"{entity_where} needs a string 'type' (the entity type, e.g. 'PER'), "
                             f"got {entity.get('type')!r}")
        mentions = entity.get("mentions")
        if not isinstance(mentions, (list, tuple)) or not mentions:
            raise ValueError(f"{entity_where} needs a non-empty list 'mentions' of {{start, end}} character spans; "
                             "drop entities without mentions")
        spans = []
        for mention_index, mention in enumerate(mentions):
            mention_where = f"{entity_where}.mentions[{mention_index}]"
            if not isinstance(mention, Mapping) or not all(_is_offset(mention.get(key)) for key in ("start", "end")):
                raise ValueError(f"{mention_where} needs non-negative integer character offsets 'start' and 'end', "
                                 f"got {mention!r}")
            if mention["start"] >= mention["end"]:
                raise ValueError(f"{mention_where}: span [{mention['start']}, {mention['end']}) is empty or "
                                 "inverted; give start < end, end exclusive")
            spans.append((int(mention["start"]), int(mention["end"])))
        parsed.append((frozenset(spans), entity["type"]))
    return parsed


def _parse_relations(relations: Any, num_entities: int, where: str) -> list[tuple[int, int, str]]:
    if not isinstance(relations, (list, tuple)):
        raise ValueError(f"{where}: field 'relations' must be a list of {{h_idx, t_idx, r}}, got {_kind(relations)}")
    parsed = []
    for index, relation in enumerate(relations):
        relation_where = f"{where}: relations[{index}]"
        if not isinstance(relation, Mapping):
            raise ValueError(f"{relation_where} must be a dict with h_idx, t_idx and r, got {_kind(relation)}")
        for field in ("h_idx", "t_idx"):
            value = relation.get(field)
            if not _is_offset(value) or value >= num_entities:
                raise ValueError(f"{relation_where}: field '{field}' must index the record's entities "
                                 f"(0..{num_entities - 1}), got {value!r}")
        if relation["h_idx"] == relation["t_idx"]:
            raise ValueError(f"{relation_where}: h_idx and t_idx are both {relation['h_idx']}; a relation links "
                             "two different entities, remove self pairs")
        if not isinstance(relation.get("r"), str):
            raise ValueError(f"{relation_where}: field 'r' must be a relation id string, got {relation.get('r')!r}")
        parsed.append((int(relation["h_idx"]), int(relation["t_idx"]), relation["r"]))
    return parsed


def _parse_record(record: Any, where: str) -> _DocumentItems:
    """Validate one record and collect its items at every level."""
    if not isinstance(record, Mapping):
        raise ValueError(f"{where} must be a record {{title, entities, relations}} (a dict), got {_kind(record)}")
    if isinstance(record.get("title"), str):
        where = f"{where} ({record['title']!r})"
    for field in ("entities", "relations"):
        if field not in record:
            raise ValueError(f"{where} has no field '{field}'; records need entities and relations "
                             "(an empty list where there are none)")
    entities = _parse_entities(record["entities"], where)
    relations = _parse_relations(record["relations"], len(entities), where)
    clusters = [cluster for cluster, _ in entities]
    return _DocumentItems(
        mention=frozenset(span for cluster in clusters for span in cluster),
        cluster=frozenset(clusters),
        entity=frozenset(entities),
        relation=frozenset((clusters[h], clusters[t], r) for h, t, r in relations),
        strict_relation=frozenset((entities[h], entities[t], r) for h, t, r in relations),
    )


def _check_titles(prediction: Mapping[str, Any], reference: Mapping[str, Any], index: int) -> None:
    for record, argument in ((prediction, "predictions"), (reference, "references")):
        if record.get("title") is not None and not isinstance(record["title"], str):
            raise ValueError(f"{argument}[{index}]: field 'title' must be a string, got {record['title']!r}")
    predicted, gold = prediction.get("title"), reference.get("title")
    if predicted is not None and gold is not None and predicted != gold:
        raise ValueError(f"predictions[{index}] is titled {predicted!r} but references[{index}] is titled {gold!r}; "
                         "records are matched by position: give both lists in the same document order")


def evaluate_end_to_end(
    predictions: Iterable[Mapping[str, Any]], references: Iterable[Mapping[str, Any]]
) -> dict[str, float | int]:
    """JEREX's end-to-end scores of predicted records against gold records (see the module docstring).

    Args:
        predictions: One record per document (``paee extract`` output).
        references: One gold record per document, same order (e.g. :func:`gold_record` of each DocRED document).

    Returns:
        For each level of :data:`END_TO_END_LEVELS`: ``{level}_precision``, ``{level}_recall``, ``{level}_f1``
        (fractions) and ``num_{level}_predicted``, ``num_{level}_gold``, ``num_{level}_correct``; plus
        ``num_documents``.

    Raises:
        ValueError: Different numbers of records, titles that differ at the same position, or a malformed record
            (naming the side, its index, title and field).
    """
    predictions, references = list(predictions), list(references)
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} prediction records but {len(references)} reference records; give one "
                         "record per document on each side, in the same order")
    counts = {level: [0, 0, 0] for level in END_TO_END_LEVELS}  # correct, predicted, gold
    for index, (prediction, reference) in enumerate(zip(predictions, references)):
        predicted = _parse_record(prediction, f"predictions[{index}]")
        gold = _parse_record(reference, f"references[{index}]")
        _check_titles(prediction, reference, index)
        for level in END_TO_END_LEVELS:
            predicted_items, gold_items = getattr(predicted, level), getattr(gold, level)
            counts[level][0] += len(predicted_items & gold_items)
            counts[level][1] += len(predicted_items)
            counts[level][2] += len(gold_items)
    scores: dict[str, float | int] = {}
    for level, (correct, predicted_count, gold_count) in counts.items():
        precision, recall, f1 = precision_recall_f1(correct, predicted_count, gold_count)
        scores.update({f"{level}_precision": precision, f"{level}_recall": recall, f"{level}_f1": f1})
    for level, (correct, predicted_count, gold_count) in counts.items():
        scores.update({f"num_{level}_predicted": predicted_count, f"num_{level}_gold": gold_count,
                       f"num_{level}_correct": correct})
    scores["num_documents"] = len(predictions)
    return scores


def gold_record(document: Mapping[str, Any], doc_index: int = 0, source: str = "gold_record") -> dict[str, Any]:
    """A labelled DocRED document as a gold record over its plain text, for scoring a text-in pipeline.

    The text is every word of every sentence joined by one space; mention offsets point into it. A recognizer fed
    ``record["text"]`` can then be scored with :func:`evaluate_end_to_end` against this record.

    Args:
        document: A labelled DocRED-format document.
        doc_index: Its position in ``source`` (for error messages).
        source: Where it came from, e.g. the file name (for error messages).

    Returns:
        ``{"title", "text", "entities": [{"name", "type", "mentions": [{"start", "end", "text"}]}],
        "relations": [{"h_idx", "t_idx", "r"}]}``; entities in vertexSet order, named and typed after their first
        mention (as JEREX's reader types them).

    Raises:
        DocumentValidationError: An invalid document, or one without ``labels``.
    """
    validate_document(document, doc_index, source)
    if document.get("labels") is None:
        raise DocumentValidationError(source, doc_index, document["title"], "labels", "is missing",
                                      "A gold record needs the gold relations: add the labels, or 'labels': [] "
                                      "when the document has none")
    sentences = document["sents"]
    word_starts: list[list[int]] = []
    offset = 0
    for sentence in sentences:
        word_starts.append([])
        for word in sentence:
            word_starts[-1].append(offset)
            offset += len(word) + 1
    text = " ".join(word for sentence in sentences for word in sentence)
    entities = []
    for mentions in document["vertexSet"]:
        spans = []
        for mention in mentions:
            sent_id, (first, stop) = mention["sent_id"], mention["pos"]
            start = word_starts[sent_id][first]
            end = word_starts[sent_id][stop - 1] + len(sentences[sent_id][stop - 1])
            spans.append({"start": start, "end": end, "text": text[start:end]})
        entities.append({"name": spans[0]["text"], "type": mentions[0]["type"], "mentions": spans})
    relations = [{"h_idx": label["h"], "t_idx": label["t"], "r": label["r"]} for label in document["labels"]]
    return {"title": document["title"], "text": text, "entities": entities, "relations": relations}
