"""Document-level relation extraction metrics (the DocRED conventions) as pure functions, plus CodaLab I/O.

Every score is a plain Python ``float`` **fraction in [0, 1]** (as the official DocRED script prints them; the paper
and the CLI show percents, i.e. ``100 * value``). Counts are plain ``int``. Empty predictions or empty gold give 0.0,
never a ``ZeroDivisionError``.

Inputs:

* **predictions**: the CodaLab records ``{"title": str, "h_idx": int, "t_idx": int, "r": str}``, optionally with
  ``"evidence": list[int]`` (sentence ids). One record per predicted fact; NA is never written.
* **gold documents**: DocRED JSON documents: ``title``, ``vertexSet`` (per entity, its mentions with ``name`` and
  ``sent_id``) and ``labels`` (``h``, ``t``, ``r``, optional ``evidence``).

Definitions (fact = ``(title, h_idx, t_idx, r)``):

* ``precision``/``recall``/``f1``: correct / predicted and correct / gold facts. As in the official script,
  predictions are first de-duplicated on the fact (the first occurrence is kept), gold facts are counted once, and a
  prediction whose title is not among the gold documents counts as a wrong prediction (it stays in the precision
  denominator); such predictions are counted in ``num_unknown_title_predictions`` and reported with a warning.
* ``ign_f1`` (Yao et al., 2019): a correct prediction is "in train" when some (mention name of h, mention name of t,
  r) over all mention pairs of the gold entities is a training fact. Those are removed from the precision numerator
  *and* denominator: ``ign_precision = (correct - in_train) / (predicted - in_train)``; recall is the normal one.
  Without training facts nothing is removed and ``ign_f1 == f1`` (a warning says so).
* ``evidence_*``: the official supporting-evidence scores. Precision's denominator is every evidence sentence of
  every (de-duplicated, known-title) prediction, right fact or wrong; its numerator counts, for correct facts only,
  the predicted sentences that are in the gold evidence; recall's denominator is the official ``tot_evidences``: the
  length of every gold ``evidence`` list as written, summed over all gold labels (a repeated sentence id counts
  twice, and a repeated gold fact adds its evidence again while only the last copy's evidence is matched). A
  prediction's own repeated sentence ids count once. 0.0 when the predictions carry no ``evidence``; the counts are
  ``num_predicted_evidence``, ``num_gold_evidence`` and ``num_correct_evidence``.
* ``rela_*`` (the paper's "Rela"): the NA / non-NA decision per ordered entity pair. A pair is predicted relational
  when some prediction names it, gold relational when some gold fact does. Precision, recall and F1 are over those
  pairs (``rela_f1`` is the paper's Rela); ``rela_accuracy`` is the share of right decisions among all ``n(n-1)``
  ordered pairs of the gold documents (pairs of unknown titles are outside that universe).
* ``intra_*``/``inter_*``/``long_*``: the sentence distance of a pair is the minimum ``|sent_id(m_h) - sent_id(m_t)|``
  over the mentions of h and t in the gold document. Intra-sentence: distance 0 (some mentions share a sentence);
  inter-sentence: distance > 0; long-distance: distance > ``LONG_DISTANCE_SENTENCES`` (5), a subset of inter. Each
  subset's scores use only the gold facts and the (known-title) predictions whose pair falls in it.
* ``positive_*``: the binary positive-class scores used for CDR/GDA (:func:`binary_f1`); present when
  ``positive_relation`` is given or when gold and predictions use exactly one relation (then they equal
  ``precision``/``recall``/``f1``).
* ``per_relation``: per relation id: ``precision``, ``recall``, ``f1``, ``support`` (gold facts), ``predicted``,
  ``correct`` and, with ``relation_names``, its ``name``.
"""

from __future__ import annotations

import json
import numbers
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVALUATE_MODULE_PATH: str = str(Path(__file__).resolve().parent / "docred_relation_extraction")
"""Directory of the ``evaluate`` module wrapping :func:`evaluate`: ``evaluate.load(EVALUATE_MODULE_PATH)``."""

LONG_DISTANCE_SENTENCES = 5
"""A pair is long-distance when its closest mentions are more than this many sentences apart."""

CODALAB_MEMBER_NAME = "result.json"

FactKey = tuple[str, int, int, str]  # (title, h_idx, t_idx, r)
PairKey = tuple[str, int, int]  # (title, h_idx, t_idx)
TrainFact = tuple[str, str, str]  # (mention name of h, mention name of t, r)


@dataclass(frozen=True)
class _GoldDocument:
    """What the metrics need from one gold document: per entity, its mention names and sentence ids."""

    mention_names: tuple[tuple[str, ...], ...]
    mention_sentences: tuple[tuple[int, ...], ...]

    def sentence_distance(self, head: int, tail: int) -> int:
        """Minimum sentence distance between any mention of ``head`` and any mention of ``tail``."""
        return min(abs(h - t) for h in self.mention_sentences[head] for t in self.mention_sentences[tail])


@dataclass(frozen=True)
class _Gold:
    """Gold documents by title and the de-duplicated gold facts with their evidence."""

    documents: dict[str, _GoldDocument]
    facts: dict[FactKey, tuple]  # fact -> its gold evidence sentence ids (the last copy's, as the official ``std``)
    num_evidence: int  # official ``tot_evidences``: sum of len(evidence) over every gold label, repeats included


def _is_index(value: Any) -> bool:
    """True for ints (numpy ints included), False for bools, which are ints to Python but never an index here."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / denominator if denominator else 0.0


def _harmonic_mean(precision: float, recall: float) -> float:
    return 2.0 * precision * recall / (precision + recall) if precision + recall else 0.0


def precision_recall_f1(correct: int, predicted: int, gold: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts (0.0 where a denominator is 0).

    Args:
        correct: Number of correct predictions.
        predicted: Number of predictions.
        gold: Number of gold items.

    Returns:
        ``(precision, recall, f1)`` as fractions.
    """
    precision, recall = _ratio(correct, predicted), _ratio(correct, gold)
    return precision, recall, _harmonic_mean(precision, recall)


def _scores(prefix: str, correct: int, predicted: int, gold: int) -> dict[str, float]:
    precision, recall, f1 = precision_recall_f1(correct, predicted, gold)
    return {f"{prefix}precision": precision, f"{prefix}recall": recall, f"{prefix}f1": f1}


def validate_predictions(predictions: Iterable[Mapping[str, Any]], argument: str = "predictions") -> list[dict]:
    """Check CodaLab records and return them as plain dicts (numpy ints become ``int``).

    Args:
        predictions: Records ``{"title", "h_idx", "t_idx", "r"}`` with optional ``"evidence"``.
        argument: Name used in error messages.

    Returns:
        The records, same order, with only the CodaLab fields.

    Raises:
        ValueError: naming the record index and the field that is missing or malformed.
    """
    records = []
    for index, record in enumerate(predictions):
        where = f"{argument}[{index}]"
        if not isinstance(record, Mapping):
            raise ValueError(f"{where} must be a dict with title, h_idx, t_idx and r, got {type(record).__name__}")
        for field in ("title", "h_idx", "t_idx", "r"):
            if field not in record:
                raise ValueError(f"{where} has no field '{field}'; CodaLab records need title, h_idx, t_idx and r")
        for field in ("title", "r"):
            if not isinstance(record[field], str):
                raise ValueError(
                    f"{where}: field '{field}' must be a string (e.g. a DocRED relation id such as 'P17'), "
                    f"got {record[field]!r}"
                )
        for field in ("h_idx", "t_idx"):
            if not _is_index(record[field]):
                raise ValueError(
                    f"{where}: field '{field}' must be a non-negative integer entity index, got {record[field]!r}"
                )
        if record["h_idx"] == record["t_idx"]:
            raise ValueError(
                f"{where}: h_idx and t_idx are both {record['h_idx']}; a relation links two different entities, "
                "remove self pairs"
            )
        clean = {
            "title": record["title"],
            "h_idx": int(record["h_idx"]),
            "t_idx": int(record["t_idx"]),
            "r": record["r"],
        }
        if "evidence" in record:
            evidence = record["evidence"]
            if not isinstance(evidence, (list, tuple)) or not all(_is_index(sent) for sent in evidence):
                raise ValueError(
                    f"{where}: field 'evidence' must be a list of non-negative sentence ids, got {evidence!r}"
                )
            clean["evidence"] = [int(sent) for sent in evidence]
        records.append(clean)
    return records


def _parse_document(document: Any, where: str) -> tuple[str, _GoldDocument, list[Mapping[str, Any]]]:
    """Validate one DocRED document; returns its title, mention data and labels."""
    if not isinstance(document, Mapping):
        raise ValueError(f"{where} must be a DocRED document (dict), got {type(document).__name__}")
    for field in ("title", "vertexSet", "labels"):
        if field not in document:
            raise ValueError(
                f"{where} has no field '{field}'; gold documents need title, vertexSet and labels "
                "(unlabelled test documents are scored on CodaLab)"
            )
    title = document["title"]
    if not isinstance(title, str):
        raise ValueError(f"{where}: field 'title' must be a string, got {title!r}")
    where = f"{where} ({title!r})"
    names, sentences = [], []
    for entity_index, entity in enumerate(document["vertexSet"]):
        if not isinstance(entity, (list, tuple)) or not entity:
            raise ValueError(f"{where}: vertexSet[{entity_index}] must be a non-empty list of mentions")
        for mention_index, mention in enumerate(entity):
            mention_where = f"{where}: vertexSet[{entity_index}][{mention_index}]"
            if not isinstance(mention, Mapping) or not isinstance(mention.get("name"), str):
                raise ValueError(f"{mention_where} needs a string 'name' (used by Ign F1)")
            if not _is_index(mention.get("sent_id")):
                raise ValueError(f"{mention_where} needs a non-negative integer 'sent_id' (used by intra/inter F1)")
        names.append(tuple(mention["name"] for mention in entity))
        sentences.append(tuple(int(mention["sent_id"]) for mention in entity))
    num_entities = len(names)
    labels = document["labels"]
    if not isinstance(labels, (list, tuple)):
        raise ValueError(f"{where}: field 'labels' must be a list of {{h, t, r}} facts, got {type(labels).__name__}")
    for label_index, label in enumerate(labels):
        label_where = f"{where}: labels[{label_index}]"
        if not isinstance(label, Mapping):
            raise ValueError(f"{label_where} must be a dict with h, t and r")
        for field in ("h", "t"):
            if not _is_index(label.get(field)) or label[field] >= num_entities:
                raise ValueError(
                    f"{label_where}: field '{field}' must index vertexSet (0..{num_entities - 1}), "
                    f"got {label.get(field)!r}"
                )
        if not isinstance(label.get("r"), str):
            raise ValueError(f"{label_where}: field 'r' must be a relation id string, got {label.get('r')!r}")
        evidence = label.get("evidence", [])
        # null entries: converted CDR files write [null] for "no evidence annotated" (as validate_document allows)
        if not isinstance(evidence, (list, tuple)) or not all(sent is None or _is_index(sent) for sent in evidence):
            raise ValueError(f"{label_where}: field 'evidence' must be a list of sentence ids, got {evidence!r}")
    return title, _GoldDocument(tuple(names), tuple(sentences)), list(labels)


def _parse_gold(documents: Iterable[Mapping[str, Any]], argument: str = "gold_documents") -> _Gold:
    by_title: dict[str, _GoldDocument] = {}
    facts: dict[FactKey, tuple] = {}
    num_evidence = 0
    for index, document in enumerate(documents):
        title, parsed, labels = _parse_document(document, f"{argument}[{index}]")
        if title in by_title:
            raise ValueError(
                f"{argument}[{index}]: title {title!r} appears twice; titles identify documents in the CodaLab "
                "format, make them unique"
            )
        by_title[title] = parsed
        for label in labels:
            # as the official script: a fact listed twice is one key of ``std`` holding the last copy's evidence,
            # while ``tot_evidences`` adds the evidence of every copy
            fact = (title, int(label["h"]), int(label["t"]), label["r"])
            evidence = tuple(label.get("evidence", []))
            facts[fact] = evidence
            num_evidence += len(evidence)
    return _Gold(by_title, facts, num_evidence)


def train_facts_from_documents(documents: Iterable[Mapping[str, Any]]) -> set[TrainFact]:
    """The official ``gen_train_facts``: every (mention name of h, mention name of t, r) of every training fact.

    Args:
        documents: Labelled DocRED training documents.

    Returns:
        The set of ``(name_h, name_t, r)`` triples.
    """
    facts: set[TrainFact] = set()
    for index, document in enumerate(documents):
        _, parsed, labels = _parse_document(document, f"train_documents[{index}]")
        for label in labels:
            for head_name in parsed.mention_names[label["h"]]:
                for tail_name in parsed.mention_names[label["t"]]:
                    facts.add((head_name, tail_name, label["r"]))
    return facts


def load_train_facts(path: str | Path) -> set[TrainFact]:
    """Read a DocRED ``.fact`` file (e.g. ``ref/train_annotated.fact``: a JSON list of ``[name_h, name_t, r]``).

    Args:
        path: The ``.fact`` file.

    Returns:
        The set of ``(name_h, name_t, r)`` triples, ready for ``evaluate(..., train_facts=...)``.

    Raises:
        ValueError: when the file is not a JSON list of 3-string lists (naming the entry).
    """
    with open(path, encoding="utf-8") as handle:
        triples = json.load(handle)
    if not isinstance(triples, list):
        raise ValueError(f"{path}: a .fact file is a JSON list of [name_h, name_t, r], got {type(triples).__name__}")
    return _check_train_facts(triples, str(path))


def _check_train_facts(triples: Iterable[Any], source: str) -> set[TrainFact]:
    facts: set[TrainFact] = set()
    for index, triple in enumerate(triples):
        if not isinstance(triple, (list, tuple)) or len(triple) != 3 or not all(isinstance(x, str) for x in triple):
            raise ValueError(f"{source}[{index}] must be [name_h, name_t, r] (three strings), got {triple!r}")
        facts.add(tuple(triple))
    return facts


def _deduplicate(records: list[dict]) -> list[dict]:
    """Keep the first record of each fact (the official script sorts stably and keeps the first of equal keys)."""
    unique: dict[FactKey, dict] = {}
    for record in records:
        unique.setdefault((record["title"], record["h_idx"], record["t_idx"], record["r"]), record)
    return list(unique.values())


def _check_entity_range(records: list[dict], gold: _Gold) -> None:
    for index, record in enumerate(records):
        document = gold.documents.get(record["title"])
        if document is None:
            continue
        num_entities = len(document.mention_names)
        for field in ("h_idx", "t_idx"):
            if record[field] >= num_entities:
                raise ValueError(
                    f"predictions[{index}]: field '{field}' = {record[field]} but gold document "
                    f"{record['title']!r} has {num_entities} entities; indices must follow its vertexSet"
                )


def _pair_scores(prefix: str, predicted_pairs: set[PairKey], gold_pairs: set[PairKey]) -> dict[str, float]:
    return _scores(prefix, len(predicted_pairs & gold_pairs), len(predicted_pairs), len(gold_pairs))


def binary_f1(
    predictions: Iterable[Mapping[str, Any]],
    gold_documents: Iterable[Mapping[str, Any]],
    positive_relation: str | None = None,
) -> dict[str, float]:
    """Positive-class precision/recall/F1 over (title, h, t) pairs, the CDR/GDA metric.

    A pair is positive when it carries ``positive_relation`` (any relation when None). With a single relation this is
    exactly the fact-level :func:`evaluate` F1; with ``positive_relation`` it equals that relation's per-relation F1
    (e.g. ``"CID"`` on CDR, whose converted data also label negative pairs ``"NR"``).

    Args:
        predictions: CodaLab records.
        gold_documents: Labelled DocRED-format documents.
        positive_relation: The positive relation id, or None for "any relation".

    Returns:
        ``{"precision", "recall", "f1"}``.
    """
    records = _deduplicate(validate_predictions(predictions))
    gold = _parse_gold(gold_documents)
    _check_entity_range(records, gold)
    return _pair_scores("", *_positive_pairs(records, gold, positive_relation))


def _positive_pairs(records: list[dict], gold: _Gold, relation: str | None) -> tuple[set[PairKey], set[PairKey]]:
    predicted = {(x["title"], x["h_idx"], x["t_idx"]) for x in records if relation is None or x["r"] == relation}
    gold_pairs = {(title, h, t) for title, h, t, r in gold.facts if relation is None or r == relation}
    return predicted, gold_pairs


def _resolve_train_facts(
    train_documents: Iterable[Mapping[str, Any]] | None, train_facts: Iterable[Iterable[str]] | None
) -> set[TrainFact] | None:
    if train_documents is not None and train_facts is not None:
        raise ValueError("give train_documents or train_facts, not both (they define the same Ign F1 reference set)")
    if train_documents is not None:
        return train_facts_from_documents(train_documents)
    if train_facts is not None:
        return _check_train_facts(train_facts, "train_facts")
    return None


def _in_train(fact: FactKey, document: _GoldDocument, train_facts: set[TrainFact]) -> bool:
    _, head, tail, relation = fact
    return any(
        (head_name, tail_name, relation) in train_facts
        for head_name in document.mention_names[head]
        for tail_name in document.mention_names[tail]
    )


def _distance_scores(known: list[dict], gold: _Gold) -> dict[str, float]:
    """intra_/inter_/long_ precision, recall and F1 (pairs classified by the gold document's mentions)."""

    def distance(fact: FactKey) -> int:
        title, head, tail, _ = fact
        return gold.documents[title].sentence_distance(head, tail)

    predicted = {(x["title"], x["h_idx"], x["t_idx"], x["r"]) for x in known}
    subsets = {
        "intra_": lambda d: d == 0,
        "inter_": lambda d: d > 0,
        "long_": lambda d: d > LONG_DISTANCE_SENTENCES,
    }
    scores: dict[str, float] = {}
    for prefix, belongs in subsets.items():
        predicted_subset = {fact for fact in predicted if belongs(distance(fact))}
        gold_subset = {fact for fact in gold.facts if belongs(distance(fact))}
        scores.update(_scores(prefix, len(predicted_subset & gold_subset), len(predicted_subset), len(gold_subset)))
    return scores


def _per_relation(
    records: list[dict], gold: _Gold, correct: set[FactKey], relation_names: Mapping[str, str] | None
) -> dict[str, dict[str, Any]]:
    support: dict[str, int] = {}
    predicted: dict[str, int] = {}
    hits: dict[str, int] = {}
    for *_, relation in gold.facts:
        support[relation] = support.get(relation, 0) + 1
    for record in records:
        predicted[record["r"]] = predicted.get(record["r"], 0) + 1
    for *_, relation in correct:
        hits[relation] = hits.get(relation, 0) + 1
    table: dict[str, dict[str, Any]] = {}
    for relation in sorted(support.keys() | predicted.keys()):
        row: dict[str, Any] = {}
        if relation_names is not None:
            if relation not in relation_names:
                raise ValueError(
                    f"relation_names has no entry for relation {relation!r} (used in the gold or the predictions); "
                    "add it or pass relation_names=None"
                )
            row["name"] = relation_names[relation]
        row.update(_scores("", hits.get(relation, 0), predicted.get(relation, 0), support.get(relation, 0)))
        row.update(
            support=support.get(relation, 0), predicted=predicted.get(relation, 0), correct=hits.get(relation, 0)
        )
        table[relation] = row
    return table


def evaluate(
    predictions: Iterable[Mapping[str, Any]],
    gold_documents: Iterable[Mapping[str, Any]],
    train_documents: Iterable[Mapping[str, Any]] | None = None,
    *,
    train_facts: Iterable[Iterable[str]] | None = None,
    relation_names: Mapping[str, str] | None = None,
    positive_relation: str | None = None,
) -> dict[str, Any]:
    """All DocRED-style scores of CodaLab ``predictions`` against labelled ``gold_documents`` (see module docstring).

    Args:
        predictions: CodaLab records ``{"title", "h_idx", "t_idx", "r"}`` (+ optional ``"evidence"``).
        gold_documents: Labelled DocRED-format documents (unique titles).
        train_documents: Labelled training documents, the Ign F1 reference (official ``gen_train_facts``).
        train_facts: Alternatively the precomputed ``(name_h, name_t, r)`` triples (:func:`load_train_facts`).
        relation_names: Optional relation id -> readable name (DocRED ``rel_info.json``) for ``per_relation``.
        positive_relation: Relation scored as ``positive_*`` (binary CDR/GDA F1); inferred when only one is used.

    Returns:
        A flat dict of float scores (fractions) and int counts, plus ``per_relation`` (dict by relation id).

    Raises:
        ValueError: malformed records or documents (naming index and field), entity indices outside the gold
            document, duplicate gold titles, both ``train_documents`` and ``train_facts``, or a relation missing
            from ``relation_names``.
    """
    gold = _parse_gold(gold_documents)
    submitted = validate_predictions(predictions)
    _check_entity_range(submitted, gold)
    train_set = _resolve_train_facts(train_documents, train_facts)
    records = _deduplicate(submitted)

    unknown = [x for x in records if x["title"] not in gold.documents]
    known = [x for x in records if x["title"] in gold.documents]
    if unknown:
        warnings.warn(
            f"{len(unknown)} predictions name titles that are not among the gold documents (e.g. "
            f"{unknown[0]['title']!r}); they count as wrong predictions, as in the official DocRED script",
            stacklevel=2,
        )
    if train_set is None:
        warnings.warn(
            "no training facts given: ign_f1 removes nothing and equals f1; pass train_documents or train_facts "
            "(load_train_facts) for the real Ign F1",
            stacklevel=2,
        )

    correct: set[FactKey] = set()
    correct_in_train = correct_evidence = predicted_evidence = 0
    for record in known:
        fact = (record["title"], record["h_idx"], record["t_idx"], record["r"])
        evidence = set(record.get("evidence", []))
        predicted_evidence += len(evidence)
        if fact in gold.facts:
            correct.add(fact)
            correct_evidence += len(set(gold.facts[fact]) & evidence)
            if train_set and _in_train(fact, gold.documents[record["title"]], train_set):
                correct_in_train += 1

    results: dict[str, Any] = _scores("", len(correct), len(records), len(gold.facts))
    ign_precision = _ratio(len(correct) - correct_in_train, len(records) - correct_in_train)
    results["ign_precision"] = ign_precision
    results["ign_f1"] = _harmonic_mean(ign_precision, results["recall"])
    results.update(_scores("evidence_", correct_evidence, predicted_evidence, gold.num_evidence))

    predicted_pairs, gold_pairs = _positive_pairs(records, gold, None)
    results.update(_pair_scores("rela_", predicted_pairs, gold_pairs))
    known_pairs = {pair for pair in predicted_pairs if pair[0] in gold.documents}
    all_pairs = sum(len(doc.mention_names) * (len(doc.mention_names) - 1) for doc in gold.documents.values())
    true_negatives = all_pairs - len(known_pairs | gold_pairs)
    results["rela_accuracy"] = _ratio(len(known_pairs & gold_pairs) + true_negatives, all_pairs)

    results.update(_distance_scores(known, gold))

    relations_used = {x["r"] for x in records} | {fact[3] for fact in gold.facts}
    if positive_relation is None and len(relations_used) == 1:
        positive_relation = next(iter(relations_used))
    if positive_relation is not None:
        results.update(_pair_scores("positive_", *_positive_pairs(records, gold, positive_relation)))

    results.update(
        num_predictions=len(records),
        num_duplicate_predictions=len(submitted) - len(records),
        num_unknown_title_predictions=len(unknown),
        num_gold=len(gold.facts),
        num_correct=len(correct),
        num_correct_in_train=correct_in_train,
        num_predicted_evidence=predicted_evidence,
        num_gold_evidence=gold.num_evidence,
        num_correct_evidence=correct_evidence,
        num_train_facts=len(train_set) if train_set is not None else 0,
    )
    results["per_relation"] = _per_relation(records, gold, correct, relation_names)
    return results


def write_codalab_submission(predictions: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Write a CodaLab submission: a zip holding ``result.json`` (the records, JSON keys sorted).

    Args:
        predictions: CodaLab records (validated; numpy ints are written as ints; keys other than title, h_idx,
            t_idx, r and evidence, e.g. scores, are not written since CodaLab reads only those).
        path: The zip file to create, e.g. ``outputs/result.zip`` (parent folders are created).

    Returns:
        The path of the written zip.

    Raises:
        ValueError: a malformed record (naming its index and field) or ``path`` being a directory.
    """
    records = validate_predictions(predictions)
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f"path {str(path)!r} is a directory; give the zip file to write, e.g. {str(path / 'result.zip')!r}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(records, sort_keys=True, ensure_ascii=False)
    # a fixed timestamp makes the same predictions give the same bytes
    member = zipfile.ZipInfo(CODALAB_MEMBER_NAME, date_time=(1980, 1, 1, 0, 0, 0))
    member.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, payload.encode("utf-8"))
    return path


def read_codalab_submission(path: str | Path) -> list[dict]:
    """Read CodaLab records from a ``result.zip`` (its ``result.json`` member) or from a bare ``result.json``.

    Args:
        path: The zip or JSON file.

    Returns:
        The validated records, in file order.

    Raises:
        ValueError: a zip without ``result.json``, a payload that is not a JSON list, or a malformed record.
    """
    path = Path(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if CODALAB_MEMBER_NAME not in archive.namelist():
                raise ValueError(
                    f"{path} holds {archive.namelist()} but no {CODALAB_MEMBER_NAME!r}; "
                    "CodaLab expects it at the zip root"
                )
            records = json.loads(archive.read(CODALAB_MEMBER_NAME).decode("utf-8"))
    else:
        records = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(records, list):
        raise ValueError(f"{path}: a CodaLab submission is a JSON list of records, got {type(records).__name__}")
    return validate_predictions(records, argument=str(path))
