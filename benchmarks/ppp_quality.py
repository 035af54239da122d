"""PPP on its own: how well Potential Pair Prediction (eq. 5) finds the relational pairs, and what pruning costs.

    python benchmarks/ppp_quality.py --model WORK/paee/model --dev WORK/dev100.json --train WORK/train400.json

A pair is relational when the gold labels give it at least one relation. For PPP's probability of every pair of the
dev documents this reports precision, recall and F1 of "probability >= t" against the relational pairs, at the
paper's lambda = 0.3 (eq. 5) and at other thresholds, with the share of pairs kept; then the relation F1 of the same
model with and without ``prune_pairs`` (pruned pairs skip relation classification) at lambda and at lower
``prune_threshold`` values, so the price of the speed-up is measured on real data. Writes
``benchmarks/results/ppp_quality.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: make paee_hf and benchmarks importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchmarks.environment import REPO_ROOT  # noqa: E402
from benchmarks.workloads import add_checkpoint_split_arguments, read_checkpoint_split  # noqa: E402
from paee_hf.corpus.running import codalab_records  # noqa: E402
from paee_hf.metrics import evaluate  # noqa: E402
from paee_hf.metrics.docred import precision_recall_f1  # noqa: E402
from paee_hf.prediction import _BOOKKEEPING_KEYS, RelationPredictor, document_pair_indices  # noqa: E402

THRESHOLDS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7)
#: prune_threshold values tried with prune_pairs: lambda, and lower ones that keep most relational pairs.
PRUNE_THRESHOLDS = (0.3, 0.1, 0.05)


def pair_probabilities(model, predictor: RelationPredictor, documents: list[dict], batch_size: int) -> list[dict]:
    """Per document ``{(head, tail): PPP probability}`` in the documents' own entity indices."""
    found = []
    with torch.inference_mode():
        for start in range(0, len(documents), batch_size):
            batch = predictor.collator(predictor.featurize(documents[start:start + batch_size]))
            output = model(**{key: value for key, value in batch.items() if key not in _BOOKKEEPING_KEYS})
            pairs = document_pair_indices(batch).tolist()
            for row, row_pairs in enumerate(pairs):
                found.append({(head, tail): float(output.pair_probs[row, pair])
                              for pair, (head, tail) in enumerate(row_pairs) if head >= 0})
    return found


def relation_f1(model, documents: list[dict], train: list[dict] | None, batch_size: int) -> dict:
    facts = model.predict(documents, batch_size=batch_size)
    metrics = evaluate(codalab_records(facts, documents), documents, train)
    return {key: round(100 * metrics[key], 2) for key in ("f1", "ign_f1", "precision", "recall")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_checkpoint_split_arguments(parser, "a checkpoint trained with use_ppp=True",
                                   REPO_ROOT / "benchmarks" / "results" / "ppp_quality.json")
    args = parser.parse_args()

    model, documents, train = read_checkpoint_split(args)
    if not (model.config.use_par and model.config.use_ppp):
        raise SystemExit(f"{args.model} has no PPP head (use_par and use_ppp must be on).")
    predictor = RelationPredictor(model, model.get_tokenizer())
    probabilities = pair_probabilities(model, predictor, documents, args.batch_size)
    relational = [{(label["h"], label["t"]) for label in document["labels"]} for document in documents]
    total_pairs = sum(len(pairs) for pairs in probabilities)

    def at(threshold: float) -> dict:
        kept = [{pair for pair, value in pairs.items() if value >= threshold} for pairs in probabilities]
        correct = sum(len(chosen & gold) for chosen, gold in zip(kept, relational))
        chosen_count = sum(len(chosen) for chosen in kept)
        precision, recall, f1 = precision_recall_f1(correct, chosen_count, sum(len(gold) for gold in relational))
        return {"precision": round(100 * precision, 2), "recall": round(100 * recall, 2), "f1": round(100 * f1, 2),
                "kept_share": round(100 * chosen_count / total_pairs, 2)}

    report = {
        "model": str(args.model),
        "documents": len(documents),
        "pairs": total_pairs,
        "relational_pairs": sum(len(gold) for gold in relational),
        "lambda": model.config.ppp_threshold,
        "thresholds": {str(threshold): at(threshold) for threshold in THRESHOLDS},
        "relation_f1_all_pairs": relation_f1(model, documents, train, args.batch_size),
    }
    model.config.prune_pairs = True
    report["relation_f1_pruned"] = {}
    for threshold in PRUNE_THRESHOLDS:
        model.config.prune_threshold = threshold
        report["relation_f1_pruned"][str(threshold)] = relation_f1(model, documents, train, args.batch_size)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"{report['relational_pairs']} relational of {total_pairs} pairs in {len(documents)} documents")
    for threshold, row in report["thresholds"].items():
        print(f"PPP >= {threshold:>4}: P {row['precision']:6.2f} R {row['recall']:6.2f} F1 {row['f1']:6.2f} "
              f"kept {row['kept_share']:5.2f} %")
    print("relation F1, all pairs:", report["relation_f1_all_pairs"])
    for threshold, row in report["relation_f1_pruned"].items():
        print(f"relation F1, pairs below {threshold} pruned:", row)


if __name__ == "__main__":
    main()
