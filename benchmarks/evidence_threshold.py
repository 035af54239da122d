"""How a trained evidence scorer's sentences compare with a plain rule, at every threshold, with a held-out choice.

    python benchmarks/evidence_threshold.py --model WORK/evidence_guided/model --dev WORK/dev100.json \
        --train WORK/train400.json

Scores the dev documents once, then decodes the evidence at thresholds 0.05-0.95 (decoding is cheap) and reports:

* evidence P/R/F1 on the gold facts that have evidence annotated (their pair's sentences, gold relations), for the
  thresholds, for "the threshold, else the single best sentence" (every fact gets at least one sentence), and for
  the rule "the sentences that mention both entities, else those that mention either";
* the official Evi F1 of the model's predicted facts at each threshold, and in an "evidence-complete view" that
  scores as if every gold fact had evidence, as in DocRED (see [`evidence_complete_view`]): Re-DocRED added facts
  without evidence, and the official scorer counts any sentence given for them as wrong;
* a held-out threshold: chosen on one half of the documents, scored on the other, both ways (2-fold), so the
  figure is not tuned on the documents it is measured on.

Writes ``benchmarks/results/evidence_threshold.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: make paee_hf and benchmarks importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchmarks.environment import REPO_ROOT  # noqa: E402
from benchmarks.workloads import add_checkpoint_split_arguments, read_checkpoint_split  # noqa: E402
from paee_hf.corpus.running import codalab_records  # noqa: E402
from paee_hf.metrics import evaluate  # noqa: E402
from paee_hf.metrics.docred import precision_recall_f1  # noqa: E402
from paee_hf.prediction import DecodingOptions, RelationPredictor  # noqa: E402

THRESHOLDS = [round(0.05 * step, 2) for step in range(1, 20)]
#: (correct, predicted, gold) sentence counts.
Counts = tuple[int, int, int]


def annotated_facts(documents: Sequence[dict], probabilities: Sequence[dict]) -> list[dict]:
    """Every gold fact with evidence: its document, gold sentences, its pair's probabilities and mention sentences."""
    facts = []
    for index, (document, pair_probabilities) in enumerate(zip(documents, probabilities)):
        mentioned = [{mention["sent_id"] for mention in entity} for entity in document["vertexSet"]]
        for label in document.get("labels", []):
            gold = {sentence for sentence in label.get("evidence") or () if sentence is not None}
            if gold:
                head, tail = label["h"], label["t"]
                facts.append({"document": index, "gold": gold, "probabilities": pair_probabilities[(head, tail)],
                              "head_sentences": mentioned[head], "tail_sentences": mentioned[tail]})
    return facts


def rule(fact: dict) -> set[int]:
    """The sentences that mention both entities, else those that mention either."""
    both = fact["head_sentences"] & fact["tail_sentences"]
    return both or fact["head_sentences"] | fact["tail_sentences"]


def above(threshold: float, fallback: bool) -> Callable[[dict], set[int]]:
    """Sentences at or above ``threshold``; with ``fallback``, the best sentence when none is."""
    def decode(fact: dict) -> set[int]:
        chosen = {sentence for sentence, value in enumerate(fact["probabilities"]) if value >= threshold}
        if not chosen and fallback:
            chosen = {max(range(len(fact["probabilities"])), key=fact["probabilities"].__getitem__)}
        return chosen
    return decode


def count(facts: Sequence[dict], decode: Callable[[dict], set[int]]) -> Counts:
    correct = predicted = gold = 0
    for fact in facts:
        chosen = decode(fact)
        correct += len(chosen & fact["gold"])
        predicted += len(chosen)
        gold += len(fact["gold"])
    return correct, predicted, gold


def scores(counts: Counts) -> dict[str, float]:
    precision, recall, f1 = precision_recall_f1(*counts)
    return {"precision": round(100 * precision, 2), "recall": round(100 * recall, 2), "f1": round(100 * f1, 2)}


def held_out(facts: Sequence[dict], documents: int, fallback: bool) -> dict:
    """2-fold: the best threshold on one half of the documents, scored on the other half; counts pooled."""
    halves = [[fact for fact in facts if fact["document"] < documents // 2],
              [fact for fact in facts if fact["document"] >= documents // 2]]
    pooled, chosen = [0, 0, 0], []
    for tune, test in (halves, halves[::-1]):
        best = max(THRESHOLDS, key=lambda threshold: precision_recall_f1(*count(tune, above(threshold, fallback)))[2])
        chosen.append(best)
        pooled = [total + part for total, part in zip(pooled, count(test, above(best, fallback)))]
    return {"thresholds": chosen, **scores(tuple(pooled))}


def evidence_complete_view(records: list[dict], documents: Sequence[dict]) -> tuple[list[dict], list[dict]]:
    """The scoring as it would be if the data were like DocRED, where every fact has evidence: gold facts without
    evidence are removed, and so are the predicted facts that match one of them (their evidence can be neither
    right nor wrong). Predicted facts that match no gold fact stay, with their evidence counted as wrong."""
    unannotated = {(document["title"], label["h"], label["t"], label["r"])
                   for document in documents for label in document.get("labels", [])
                   if not any(sentence is not None for sentence in label.get("evidence") or ())}
    gold = [{**document, "labels": [label for label in document.get("labels", [])
                                    if (document["title"], label["h"], label["t"], label["r"]) not in unannotated]}
            for document in documents]
    kept = [record for record in records
            if (record["title"], record["h_idx"], record["t_idx"], record["r"]) not in unannotated]
    return kept, gold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_checkpoint_split_arguments(parser, "a checkpoint trained with use_evidence=True",
                                   REPO_ROOT / "benchmarks" / "results" / "evidence_threshold.json")
    args = parser.parse_args()

    model, documents, train = read_checkpoint_split(args)
    if not model.config.use_evidence:
        raise SystemExit(f"{args.model} was not trained with use_evidence=True.")
    predictor = RelationPredictor(model, model.get_tokenizer())
    batches, probabilities = [], []
    with torch.inference_mode():
        for start in range(0, len(documents), args.batch_size):
            batch = documents[start:start + args.batch_size]
            scored = predictor.score(predictor.featurize(batch, range(start, start + len(batch))))
            batches.append((batch, scored))
            for row, document in enumerate(batch):
                sentences = len(document["sents"])
                probabilities.append({(head, tail): scored.evidence[row, pair, :sentences].tolist()
                                      for pair, (head, tail) in enumerate(scored.pair_indices[row].tolist())
                                      if head >= 0})
    facts = annotated_facts(documents, probabilities)

    def official(threshold: float, evidence_complete: bool = False) -> dict:
        predicted = []
        for batch, scored in batches:
            predicted.extend(predictor.decode(batch, scored, DecodingOptions(evidence_threshold=threshold)))
        records, gold = codalab_records(predicted, documents), documents
        if evidence_complete:
            records, gold = evidence_complete_view(records, documents)
        metrics = evaluate(records, gold, train)
        return {key: round(100 * metrics[key], 2) for key in ("f1", "evidence_precision", "evidence_recall",
                                                               "evidence_f1")}

    report = {
        "model": str(args.model),
        "documents": len(documents),
        "annotated_facts": len(facts),
        "rule": scores(count(facts, rule)),
        "thresholds": {str(threshold): {"annotated": scores(count(facts, above(threshold, False))),
                                        "with_best_sentence": scores(count(facts, above(threshold, True))),
                                        "official": official(threshold)}
                       for threshold in THRESHOLDS},
        "evidence_complete_view": {str(threshold): official(threshold, evidence_complete=True)
                                   for threshold in (0.3, 0.4, 0.5, 0.6)},
        "held_out": held_out(facts, len(documents), fallback=False),
        "held_out_with_best_sentence": held_out(facts, len(documents), fallback=True),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"{len(facts)} annotated facts in {len(documents)} documents; rule {report['rule']}")
    for threshold, row in report["thresholds"].items():
        print(f"{threshold:>5}  annotated {row['annotated']['f1']:6.2f}  +best {row['with_best_sentence']['f1']:6.2f}"
              f"  official Evi F1 {row['official']['evidence_f1']:6.2f}")
    for threshold, row in report["evidence_complete_view"].items():
        print(f"evidence-complete view at {threshold}: F1 {row['f1']:6.2f}  Evi F1 {row['evidence_f1']:6.2f}  "
              f"ratio {row['evidence_f1'] / max(row['f1'], 1e-9):.2f}")
    print("held out:", report["held_out"], "| with the best sentence:", report["held_out_with_best_sentence"])


if __name__ == "__main__":
    main()
