"""Real data parallelism: the training loop under ``torchrun --nproc_per_node 2`` on CPU (gloo).

``accelerate launch --cpu --num_processes 2`` would start a single process; ``ACCELERATE_USE_CPU=1 torchrun`` starts
two ranks that Accelerate joins into one DDP group.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import test_training as fixtures
from tiny_models import scaled_timeout

from paee_hf.corpus.running import evaluate_model
from paee_hf.metrics import read_codalab_submission

_RANK_SCRIPT = textwrap.dedent("""
    import hashlib, json, sys
    from pathlib import Path
    from paee_hf.training.loop import train
    from paee_hf.training.config import TrainingConfig

    config = TrainingConfig.from_json(sys.argv[1])

    def on_step_end(progress, accelerator, model):
        weights = accelerator.unwrap_model(model).state_dict()
        digest = hashlib.sha256()
        for name in sorted(weights):
            digest.update(name.encode())
            digest.update(weights[name].detach().cpu().contiguous().numpy().tobytes())
        record = {"step": progress.global_step, "rank": accelerator.process_index,
                  "world_size": accelerator.num_processes, "distributed_type": str(accelerator.distributed_type),
                  "weights_sha256": digest.hexdigest()}
        with open(Path(config.output_dir) / f"rank{accelerator.process_index}.jsonl", "a") as handle:
            handle.write(json.dumps(record) + "\\n")

    train(config, on_step_end=on_step_end)
""")


@pytest.fixture(scope="module")
def two_rank_run(tmp_path_factory):
    """7 training documents (uneven over 2 ranks), 3 dev documents evaluated one per batch (rank 1 gets a padded
    duplicate in the last batch)."""
    torchrun = Path(sys.executable).parent / "torchrun"
    if not torchrun.exists():
        pytest.skip(f"torchrun is not installed beside this Python ({torchrun})")
    root = tmp_path_factory.mktemp("ddp")
    fixtures.write_corpus(root, train=7, dev=3, test=2)
    config = fixtures.tiny_config_dict(root, output_dir=str(root / "run"), **{**fixtures.LEARNING, "epochs": 8},
                                       batch_size=1, eval_batch_size=1, eval_every=2)
    config_path = root / "config.json"
    config_path.write_text(json.dumps(config))
    script = root / "rank.py"
    script.write_text(_RANK_SCRIPT)
    env = fixtures.subprocess_env()
    env["ACCELERATE_USE_CPU"] = "1"
    completed = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node", "2", str(script), str(config_path)],
        env=env, capture_output=True, text=True, timeout=scaled_timeout(600),
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return root, config


def test_two_ranks_train_in_step_with_identical_weights(two_rank_run):
    root, _ = two_rank_run
    ranks = [[json.loads(line) for line in (root / "run" / f"rank{rank}.jsonl").read_text().splitlines()]
             for rank in (0, 1)]
    # 7 documents over 2 ranks with batch 1: 4 steps per epoch (rank 1 repeats a document), 8 epochs
    assert [record["step"] for record in ranks[0]] == [record["step"] for record in ranks[1]] == list(range(1, 33))
    for record_0, record_1 in zip(*ranks):
        assert (record_0["world_size"], record_1["world_size"]) == (2, 2)
        assert (record_0["rank"], record_1["rank"]) == (0, 1)
        assert record_0["distributed_type"] == "DistributedType.MULTI_CPU"
        assert record_0["weights_sha256"] == record_1["weights_sha256"]  # gradients averaged every step
    assert len({record["weights_sha256"] for record in ranks[0]}) == 32  # and the weights really moved


def test_dev_metrics_count_every_document_once(two_rank_run):
    root, config = two_rank_run
    results = json.loads((root / "run" / "results.json").read_text())
    dev_documents = json.loads((root / "dev.json").read_text())
    gathered = results["dev_metrics"]
    assert gathered["num_gold"] == sum(len(document["labels"]) for document in dev_documents)
    # the model learnt, so the gathered predictions are not empty: a dropped document loses its facts, a padded
    # duplicate (rank 1's last batch) would show as duplicate predictions
    assert gathered["num_predictions"] > 0 and gathered["f1"] > fixtures.F1_FLOOR
    assert gathered["num_duplicate_predictions"] == 0 and gathered["num_unknown_title_predictions"] == 0
    assert gathered["num_predictions"] == sum(values["predicted"] for values in gathered["per_relation"].values())
    # the same model scored by one process gives the same numbers: no document dropped or counted twice
    single = evaluate_model(root / "run" / "model", config["dev_file"], train_files=[config["train_file"]],
                            batch_size=1)
    assert single == results["dev_metrics"] and single["num_predictions"] > 0
    # and the per-document view: one process's facts per dev title, every title present once
    submission = read_codalab_submission(root / "run" / "result.zip")
    assert sorted({record["title"] for record in submission}) == sorted(
        document["title"] for document in json.loads((root / "test.json").read_text()))
    assert len(submission) == len({(r["title"], r["h_idx"], r["t_idx"], r["r"]) for r in submission}) > 0


def test_predict_under_two_ranks_writes_every_document_once(two_rank_run, model_dir):
    """`paee predict` under torchrun: each rank predicts its share; the merged output equals one process's."""
    root, _ = two_rank_run
    from prediction_fixtures import RAW_DOCUMENT, TEXT

    documents = [{"title": f"doc {index}", "text": " ".join([TEXT] * (1 + index % 3)),
                  "entities": RAW_DOCUMENT["entities"][: 2 + index % 3]} for index in range(7)]  # uneven over 2
    source = root / "predict.jsonl"
    source.write_text("".join(json.dumps(document) + "\n" for document in documents))
    torchrun = Path(sys.executable).parent / "torchrun"
    env = {**fixtures.subprocess_env(), "ACCELERATE_USE_CPU": "1", "TQDM_DISABLE": "1"}
    arguments = ["predict", "--model", str(model_dir), "--input", str(source), "--batch-size", "2",
                 "--threshold", "0.3"]
    completed = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "paee_hf", *arguments,
         "--output", str(root / "two-ranks.jsonl")], env=env, capture_output=True, text=True,
        timeout=scaled_timeout(600))
    assert completed.returncode == 0, completed.stderr[-4000:]
    subprocess.run([sys.executable, "-m", "paee_hf", *arguments, "--output", str(root / "one.jsonl")], env=env,
                   check=True, capture_output=True, timeout=scaled_timeout(600))
    merged = [json.loads(line) for line in (root / "two-ranks.jsonl").read_text().splitlines()]
    single = [json.loads(line) for line in (root / "one.jsonl").read_text().splitlines()]
    assert [record["index"] for record in merged] == list(range(7))
    assert sum(len(record["relations"]) for record in merged) > 0

    def facts(records):
        return [[(f["h_idx"], f["t_idx"], f["r"]) for f in record["relations"]] for record in records]

    assert facts(merged) == facts(single)
    assert "7 documents" in completed.stdout and completed.stdout.count("predicted relations") == 1
