"""How far a trained model has fitted labelled documents: the share of gold facts it scores above its threshold class.

    python benchmarks/training_fit.py --model WORK/paee/model --data-file WORK/dwie_train.json --data-format dwie \\
        --documents 12 --weights WORK/paee/checkpoints/step_1050/model.safetensors

The relation loss (eq. 9, or ATLOP's) learns a threshold class TH for every pair: a relation is predicted where its
score beats TH's. Run on a model's own training documents, this says how far training has got, apart from how well
the model generalises:

* for every gold fact the margin ``s_r - s_TH``: the share above 0 (the facts the model would predict) and its 10th,
  50th and 90th percentiles;
* for every pair without a relation the margin of its best relation: the share above 0 (false positives);
* the mean over documents of each loss term the model returns (eq. 9, 10, 11);
* with PPP, its mean probability on pairs with and without a relation.

``--weights`` scores the weights of a training checkpoint (``checkpoints/step_N/model.safetensors``) instead of the
best-on-dev model that ``--model`` holds, e.g. the last step. Appends one entry per model and weights to
``benchmarks/results/training_fit.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: make paee_hf and benchmarks importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

from benchmarks.environment import REPO_ROOT  # noqa: E402
from paee_hf.corpus.loading import load_trained_model  # noqa: E402
from paee_hf.corpus.running import entity_type_ids, model_inputs  # noqa: E402
from paee_hf.data.sources import read_documents  # noqa: E402
from paee_hf.prediction import RelationPredictor  # noqa: E402

#: Percentiles of the margin distributions.
QUANTILES = (0.1, 0.5, 0.9)


def _margin_summary(margins: list[torch.Tensor]) -> dict:
    values = torch.cat(margins) if margins else torch.empty(0)
    if not len(values):
        return {"count": 0, "above_threshold": None, "quantiles": None}
    quantiles = torch.quantile(values.float(), torch.tensor(QUANTILES))
    return {"count": len(values), "above_threshold": round(float((values > 0).float().mean()), 4),
            "quantiles": {str(q): round(float(value), 3) for q, value in zip(QUANTILES, quantiles)}}


def fit_statistics(model, features: list[dict], collator, batch_size: int = 1) -> dict:
    """Margins over TH, loss terms and PPP probabilities of ``model`` on featurized, labelled documents.

    Args:
        model: A ``PaeeForDocumentRelationExtraction`` in eval mode.
        features: The documents, featurized with their labels (``DocumentFeaturizer``).
        collator: The ``DocumentCollator`` of the model.
        batch_size: Documents per forward pass (the loss terms are averaged over passes).

    Returns:
        ``gold_facts`` and ``pairs_without_relation`` (each: count, share above TH, margin percentiles),
        ``losses`` (mean of each ``*_loss`` the model returns) and, with PPP, ``ppp_mean_probability``.
    """
    gold_margins, negative_margins, losses = [], [], defaultdict(list)
    probabilities: dict[str, list[torch.Tensor]] = {"with_relation": [], "without_relation": []}
    with torch.inference_mode():
        for start in range(0, len(features), batch_size):
            batch = collator(features[start:start + batch_size])
            output = model(**model_inputs(batch))
            for name, value in output.items():
                if name.endswith("_loss") and value is not None:
                    losses[name].append(float(value))
            valid = batch["pair_indices"][..., 0] >= 0
            logits, labels = output.logits[valid].float(), batch["labels"][valid].bool()
            margins = logits[:, 1:] - logits[:, :1]  # relation scores over TH (class 0)
            gold = labels[:, 1:]
            with_relation = gold.any(dim=1)
            gold_margins.append(margins[gold])
            negative_margins.append(margins[~with_relation].max(dim=1).values)
            if output.pair_probs is not None:
                pair_probs = output.pair_probs[valid].float()
                probabilities["with_relation"].append(pair_probs[with_relation])
                probabilities["without_relation"].append(pair_probs[~with_relation])
    statistics = {
        "documents": len(features),
        "gold_facts": _margin_summary(gold_margins),
        "pairs_without_relation": _margin_summary(negative_margins),
        "losses": {name: round(sum(values) / len(values), 4) for name, values in losses.items()},
    }
    if probabilities["with_relation"]:
        statistics["ppp_mean_probability"] = {
            kind: round(float(torch.cat(values).mean()), 4) for kind, values in probabilities.items()}
    return statistics


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="a saved model directory (its config and tokenizer)")
    parser.add_argument("--data-file", type=Path, required=True, help="labelled documents, e.g. the training file")
    parser.add_argument("--data-format", default="docred", help="as `paee evaluate --data-format` (docred, dwie, ...)")
    parser.add_argument("--documents", type=int, help="score only the first this many documents")
    parser.add_argument("--weights", type=Path, help="a model.safetensors to score instead of the model's own weights")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "training_fit.json")
    args = parser.parse_args(argv)

    model, tokenizer = load_trained_model(args.model)
    if args.weights is not None:
        model.load_state_dict(load_file(args.weights))
    model.eval()
    documents = read_documents(args.data_file, args.data_format, label2id=model.config.label2id,
                               entity_type2id=entity_type_ids(model))[:args.documents]
    unlabelled = [document["title"] for document in documents if document.get("labels") is None]
    if unlabelled:
        raise SystemExit(f"{args.data_file}: {len(unlabelled)} documents have no labels (e.g. {unlabelled[0]!r}); "
                         "the fit is measured against gold labels.")
    predictor = RelationPredictor(model, tokenizer, source=str(args.data_file))
    features = predictor.featurizer.featurize_documents(documents, list(range(len(documents))))
    entry = {"model": str(args.model), "weights": str(args.weights or args.model), "data_file": str(args.data_file),
             **fit_statistics(model, features, predictor.collator, args.batch_size)}

    previous = json.loads(args.output.read_text(encoding="utf-8")) if args.output.exists() else []
    kept = [old for old in previous if (old["model"], old["weights"]) != (entry["model"], entry["weights"])]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps([*kept, entry], indent=1) + "\n", encoding="utf-8")
    gold, negative = entry["gold_facts"], entry["pairs_without_relation"]
    print(f"{entry['weights']}: {gold['count']} gold facts, {gold['above_threshold']} above TH, margin percentiles "
          f"{gold['quantiles']}; {negative['count']} pairs without a relation, {negative['above_threshold']} with "
          f"a relation above TH; losses {entry['losses']}")
    return entry


if __name__ == "__main__":
    main()
