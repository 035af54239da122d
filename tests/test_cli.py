"""The ``paee`` command line: help, one-line user errors with status 2, train / evaluate / predict / quickstart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import test_training as fixtures
from tiny_models import scaled_timeout
from tqdm.std import tqdm as std_tqdm
from transformers.utils import logging as transformers_logging

from paee_hf import PaeeForDocumentRelationExtraction
from paee_hf.cli import commands as cli
from paee_hf.metrics import evaluate, read_codalab_submission
from paee_hf.prediction import RelationPredictor
from paee_hf.training import loop
from paee_hf.training.config import TrainingConfig

TRAIN_OPTIONS = ("--config", "--train-file", "--dev-file", "--test-file", "--encoder", "--output-dir", "--epochs",
                 "--batch-size", "--max-steps", "--seed", "--resume", "--overwrite", "--set")
EVALUATE_OPTIONS = ("--model", "--data-file", "--data-format", "--train-file", "--train-facts", "--batch-size",
                    "--output")
PREDICT_OPTIONS = ("--model", "--input", "--output", "--format", "--data-format", "--batch-size")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``paee train`` on the tiny corpus with command-line overrides; returns (root, config file, output dir)."""
    root = tmp_path_factory.mktemp("cli")
    config_path = root / "config.json"
    config_path.write_text(json.dumps(fixtures.tiny_config_dict(root, **{**fixtures.LEARNING, "epochs": 5},
                                                                seed=1)))
    output_dir = root / "trained"
    status = cli.main(["train", "--config", str(config_path), "--output-dir", str(output_dir), "--epochs", "6",
                       "--batch-size", "3", "--max-steps", "20", "--seed", "7", "--set", "use_eer=false",
                       "--set", "lr_head=1e-2"])
    assert status == 0
    return root, config_path, output_dir


def user_error(capsys, argv: list[str]) -> str:
    """Run ``paee argv`` expecting a user error; returns its one ``paee: error:`` line (the last one on stderr)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as raised:
        sys.exit(cli.main(argv))
    assert raised.value.code == 2
    stderr = capsys.readouterr().err
    errors = [line for line in stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("paee: error: "), stderr
    assert stderr.rstrip().endswith(errors[0]) and "Traceback" not in stderr
    return errors[0]


@pytest.mark.parametrize(("command", "options"), [
    ("train", TRAIN_OPTIONS), ("evaluate", EVALUATE_OPTIONS), ("predict", PREDICT_OPTIONS),
    ("quickstart", ("--output-dir", "--epochs", "--overwrite")),
    ("extract", ("--model", "--recognizer", "--text", "--input", "--output", "--html", "--label-map", "--batch-size",
                 "--threshold", "--top-k", "--overwrite")),
])
def test_help_documents_every_option(capsys, command, options):
    with pytest.raises(SystemExit) as raised:
        cli.main([command, "--help"])
    assert raised.value.code == 0
    text = capsys.readouterr().out
    for option in options:
        assert option in text, option


def test_overrides_reach_the_run_and_the_model(trained):
    root, _, output_dir = trained
    saved = json.loads((output_dir / "training_config.json").read_text())
    assert (saved["epochs"], saved["batch_size"], saved["max_steps"], saved["seed"]) == (6, 3, 20, 7)
    assert saved["model"]["use_eer"] is False and saved["lr_head"] == 1e-2
    assert saved["lr_encoder"] == fixtures.LEARNING["lr_encoder"]  # from the config file
    model = PaeeForDocumentRelationExtraction.from_pretrained(output_dir / "model")
    assert model.config.use_eer is False and not hasattr(model, "entity_enhanced")
    results = json.loads((output_dir / "results.json").read_text())
    assert results["global_step"] == 20
    assert results["dev_metrics"]["f1"] > fixtures.F1_FLOOR and results["dev_metrics"]["num_predictions"] > 0


def test_evaluate_prints_and_writes_every_metric(trained, capsys):
    root, _, output_dir = trained
    capsys.readouterr()
    metrics_path = root / "metrics" / "dev.json"
    status = cli.main(["evaluate", "--model", str(output_dir / "model"), "--data-file", str(root / "dev.json"),
                       "--train-file", str(root / "train.json"), "--output", str(metrics_path)])
    assert status == 0
    written = json.loads(metrics_path.read_text())
    reference = evaluate([], json.loads((root / "dev.json").read_text()), train_facts=[])
    assert set(written) == set(reference)
    printed = capsys.readouterr().out
    for key, value in written.items():
        if key != "per_relation":
            shown = str(value) if key.startswith("num_") else f"{100 * value:.2f}"
            assert f"{key}" in printed and shown in printed, key
    assert written["num_gold"] == 12 and "relation" in printed
    assert written["num_predictions"] > 0 and written["f1"] > fixtures.F1_FLOOR
    assert written == json.loads((output_dir / "results.json").read_text())["dev_metrics"]
    assert set(written["per_relation"]) == {"P19", "P17", "P108"}
    for relation, values in written["per_relation"].items():
        assert values["correct"] > 0 and relation in printed, relation


@pytest.mark.parametrize("output_format", ["jsonl", "docred", "codalab"])
def test_predict_writes_each_format(trained, capsys, output_format):
    root, _, output_dir = trained
    suffix = {"jsonl": ".jsonl", "docred": ".json", "codalab": ".zip"}[output_format]
    output = root / "predictions" / f"test{suffix}"
    status = cli.main(["predict", "--model", str(output_dir / "model"), "--input", str(root / "test.json"),
                       "--output", str(output), "--format", output_format])
    assert status == 0
    count = int(capsys.readouterr().out.split()[0])
    documents = json.loads((root / "test.json").read_text())
    assert count == 4 * len(documents)  # the learnt model states each document's four facts
    if output_format == "jsonl":
        lines = [json.loads(line) for line in output.read_text().splitlines()]
        assert [line["title"] for line in lines] == [document["title"] for document in documents]
        assert sum(len(line["relations"]) for line in lines) == count
        for relation in (relation for line in lines for relation in line["relations"]):
            # the documented record (README, `paee predict`); "score" went unchecked while nothing was predicted
            assert set(relation) == {"h_idx", "t_idx", "r", "relation", "score", "head", "tail"}
            assert 0.5 <= relation["score"] <= 1.0
    elif output_format == "docred":
        labelled = json.loads(output.read_text())
        assert [document["sents"] for document in labelled] == [document["sents"] for document in documents]
        assert sum(len(document["labels"]) for document in labelled) == count
    else:
        assert len(read_codalab_submission(output)) == count


def test_predict_html_page_shows_every_document_and_fact(trained, capsys):
    root, _, output_dir = trained
    page = root / "predictions" / "view.html"
    status = cli.main(["predict", "--model", str(output_dir / "model"), "--input", str(root / "test.json"),
                       "--output", str(root / "predictions" / "view.jsonl"), "--html", str(page)])
    assert status == 0 and str(page) in capsys.readouterr().out
    html = page.read_text()
    lines = [json.loads(line) for line in (root / "predictions" / "view.jsonl").read_text().splitlines()]
    assert sum(len(line["relations"]) for line in lines) > 0
    for line in lines:
        assert line["title"] in html
        for relation in line["relations"]:
            assert relation["relation"] in html


def test_user_errors_print_one_line_and_exit_2(tmp_path, trained, capsys):
    root, config_path, output_dir = trained
    line = user_error(capsys, ["train", "--config", str(tmp_path / "missing.json")])
    assert "missing.json: no such file and no packaged config" in line and "quickstart.json" in line

    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({**json.loads(config_path.read_text()), "batchsize": 2}))
    assert "unknown config key 'batchsize'; did you mean 'batch_size'?" in user_error(
        capsys, ["train", "--config", str(typo)])
    assert "--set: unknown key 'use_parr'; did you mean 'use_par'?" in user_error(
        capsys, ["train", "--config", str(config_path), "--set", "use_parr=false"])

    invalid = tmp_path / "invalid.json"
    documents = fixtures.make_documents(2, 0)
    documents[1]["vertexSet"][0][0]["pos"] = [0, 99]
    invalid.write_text(json.dumps(documents))
    line = user_error(capsys, ["train", "--config", str(config_path), "--train-file", str(invalid),
                               "--output-dir", str(tmp_path / "out")])
    assert 'invalid.json, document 1 ("doc 0-1"): vertexSet[0][0].pos [0, 99] lies outside sentence 0' in line

    assert "already holds a run" in user_error(capsys, ["train", "--config", str(config_path), "--output-dir",
                                                        str(output_dir)])
    assert "is not a model directory (no config.json)" in user_error(
        capsys, ["evaluate", "--model", str(tmp_path), "--data-file", str(root / "dev.json")])
    assert "documents have no labels" in user_error(
        capsys, ["evaluate", "--model", str(output_dir / "model"), "--data-file", str(root / "test.json")])
    assert "no such file" in user_error(
        capsys, ["predict", "--model", str(output_dir / "model"), "--input", str(tmp_path / "none.json"),
                 "--output", str(tmp_path / "p.jsonl")])
    assert "is a directory; give --output a file path" in user_error(
        capsys, ["predict", "--model", str(output_dir / "model"), "--input", str(root / "test.json"),
                 "--output", str(tmp_path)])


def test_quickstart_runs_train_evaluate_predict(tmp_path, monkeypatch, capsys):
    """The quickstart pipeline on the tiny backbone (the real one, MiniLM on the embedded corpus, takes minutes)."""
    configs = tmp_path / "configs"
    configs.mkdir()
    tiny = fixtures.tiny_config_dict(tmp_path / "data", epochs=1)
    tiny["model"] = {**tiny["model"], "entity_heads": True, "use_evidence": True}  # as the real quickstart
    (configs / "quickstart.json").write_text(json.dumps(tiny))
    monkeypatch.setattr(cli, "CONFIGS_DIR", configs)
    # the tiny test split is unlabelled; the quickstart scores a labelled one
    (tmp_path / "data" / "test.json").write_text(json.dumps(fixtures.make_documents(2, 2)))
    output_dir = tmp_path / "quickstart"
    assert cli.main(["quickstart", "--output-dir", str(output_dir)]) == 0
    printed = capsys.readouterr().out
    for name in ("dev_metrics.json", "test_metrics.json", "test_predictions.jsonl", "model", "extracted.jsonl",
                 "extracted.html"):
        assert (output_dir / name).exists(), name
        assert str(output_dir / name) in printed, name
    dev_f1 = json.loads((output_dir / "dev_metrics.json").read_text())["f1"]
    assert f"dev   F1 {100 * dev_f1:.2f}" in printed
    # it ends with plain text in, facts out: the paragraph, its entity clusters and its facts
    record = json.loads((output_dir / "extracted.jsonl").read_text())
    assert set(record) >= {"entities", "relations"}
    assert "  S0 Brenvik Motors is a manufacturer" in printed and "entities (mention clusters):" in printed
    assert printed.count("\n    E") == len(record["entities"])
    assert "already holds a run" in user_error(capsys, ["quickstart", "--output-dir", str(output_dir)])


def test_training_script_is_paee_train_and_exits_2_without_traceback(tmp_path):
    """``training/train.py`` (what ``accelerate launch`` runs) is ``paee train``; a real process gets status 2."""
    completed = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "training" / "train.py"),
                                "--config", str(tmp_path / "absent.json")],
                               env=fixtures.subprocess_env(), capture_output=True, text=True,
                               timeout=scaled_timeout(300))
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert completed.stderr.strip().splitlines()[-1].startswith("paee: error: --config")


def test_train_without_config_runs_on_the_defaults_and_the_datas_vocabularies(tmp_path, monkeypatch):
    paths = fixtures.write_corpus(tmp_path / "data")
    encoder = fixtures.write_tiny_encoder(tmp_path / "encoder")
    monkeypatch.chdir(tmp_path)  # the default output_dir, outputs/paee, lands here
    assert cli.main(["train", "--train-file", str(paths["train"]), "--dev-file", str(paths["dev"]),
                     "--encoder", str(encoder), "--max-steps", "2"]) == 0
    output_dir = tmp_path / "outputs" / "paee"
    expected = TrainingConfig(train_file=str(paths["train"]), dev_file=str(paths["dev"]), encoder=str(encoder),
                              max_steps=2).to_dict()
    assert json.loads((output_dir / "training_config.json").read_text()) == expected
    model = PaeeForDocumentRelationExtraction.from_pretrained(output_dir / "model")
    assert sorted(model.config.relation_labels) == ["P108", "P17", "P19"]  # read from the training documents
    assert sorted(model.config.entity_types) == ["LOC", "ORG", "PER"]
    assert json.loads((output_dir / "results.json").read_text())["global_step"] == 2


def test_train_without_config_names_what_to_give(capsys, tmp_path):
    assert user_error(capsys, ["train"]) == (
        "paee: error: paee train without --config needs --train-file and --encoder, e.g. --train-file train.json "
        "--dev-file dev.json --encoder bert-base-cased; or give --config FILE.")
    assert "paee train without --config needs --encoder, e.g." in user_error(
        capsys, ["train", "--train-file", str(tmp_path / "train.json")])


def test_a_model_path_that_does_not_exist_is_named(capsys, tmp_path):
    missing = tmp_path / "outputs" / "paee" / "model"  # too many parts for a Hub id, so no Hub request
    (tmp_path / "docs.json").write_text(json.dumps(fixtures.make_documents(1, 0)))
    assert user_error(capsys, ["predict", "--model", str(missing), "--input", str(tmp_path / "docs.json"),
                               "--output", str(tmp_path / "out.jsonl")]) == (
        f"paee: error: {missing} is neither an existing directory nor a Hub id (name or namespace/name).")


@pytest.mark.parametrize(("environ", "terminal", "enabled"), [
    ({}, True, True),
    ({}, False, False),
    ({"TQDM_DISABLE": "1"}, True, False),
    ({"TQDM_DISABLE": "0"}, True, False),  # tqdm reads any non-empty value as true
    ({"TQDM_DISABLE": ""}, True, True),
    ({"HF_HUB_DISABLE_PROGRESS_BARS": "1"}, True, False),
    ({"HF_HUB_DISABLE_PROGRESS_BARS": "yes"}, True, False),
    ({"HF_HUB_DISABLE_PROGRESS_BARS": "0"}, False, True),  # asked for explicitly: bars in a log file too
    ({"HF_HUB_DISABLE_PROGRESS_BARS": "0", "TQDM_DISABLE": "1"}, True, False),
])
def test_progress_bars_follow_the_terminal_and_the_environment(environ, terminal, enabled):
    assert cli.progress_bars_enabled(environ, terminal) is enabled


@pytest.fixture()
def progress_bar_switch():
    """Restores transformers' progress-bar switch, which ``paee`` sets for the process."""
    enabled = transformers_logging.is_progress_bar_enabled()
    yield
    (transformers_logging.enable_progress_bar if enabled else transformers_logging.disable_progress_bar)()


def test_paee_sets_one_switch_for_every_bar_including_trainings(progress_bar_switch, capsys, monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "0")
    user_error(capsys, ["train"])  # main sets the switch before the command runs
    assert transformers_logging.is_progress_bar_enabled()
    assert isinstance(loop.tqdm(total=1, disable=False), std_tqdm)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    user_error(capsys, ["train"])
    assert not transformers_logging.is_progress_bar_enabled()
    assert not isinstance(loop.tqdm(total=1, disable=False), std_tqdm)  # the training loop's bar follows


@pytest.mark.filterwarnings("ignore:no training facts given")
def test_evaluate_reports_the_evidence_of_predicted_facts(model_dir, tmp_path, monkeypatch, capsys):
    """Facts that carry evidence reach the official evidence scores through `paee evaluate` (decoding is replaced by
    fixed facts so that every number is known by hand)."""
    document = {
        "title": "John Smith",
        "sents": [["John", "Smith", "was", "born", "in", "Paris", "."], ["Paris", "is", "in", "France", "."],
                  ["He", "works", "for", "Acme", "."]],
        "vertexSet": [[{"name": "John Smith", "pos": [0, 2], "sent_id": 0, "type": "PER"}],
                      [{"name": "Paris", "pos": [5, 6], "sent_id": 0, "type": "LOC"},
                       {"name": "Paris", "pos": [0, 1], "sent_id": 1, "type": "LOC"}],
                      [{"name": "France", "pos": [3, 4], "sent_id": 1, "type": "LOC"}],
                      [{"name": "Acme", "pos": [3, 4], "sent_id": 2, "type": "ORG"}]],
        "labels": [{"h": 0, "t": 1, "r": "P19", "evidence": [0]}, {"h": 1, "t": 2, "r": "P17", "evidence": [1]},
                   {"h": 0, "t": 3, "r": "P108", "evidence": [2]}],
    }  # gold evidence: 3 sentences
    facts = [{"h_idx": 0, "t_idx": 1, "r": "P19", "evidence": [0, 1]},  # right fact, 1 of 2 sentences right
             {"h_idx": 1, "t_idx": 2, "r": "P17", "evidence": [1]},  # right fact, its sentence right
             {"h_idx": 3, "t_idx": 2, "r": "P17", "evidence": [2]}]  # wrong fact: its sentence still counts
    monkeypatch.setattr(RelationPredictor, "decode", lambda self, documents, scored, options: [facts])
    data_file, output = tmp_path / "dev.json", tmp_path / "metrics.json"
    data_file.write_text(json.dumps([document]))
    capsys.readouterr()
    assert cli.main(["evaluate", "--model", str(model_dir), "--data-file", str(data_file),
                     "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    written = json.loads(output.read_text())
    # facts: 2 of 3 right -> F1 2/3. evidence: 2 + 1 + 1 = 4 predicted, 1 + 1 = 2 right, 3 gold:
    # P = 1/2, R = 2/3, F1 = 2 * (1/3) / (7/6) = 4/7 = 57.14 %
    assert written["f1"] == pytest.approx(2 / 3)
    assert (written["evidence_precision"], written["evidence_recall"], written["evidence_f1"]) == pytest.approx(
        (1 / 2, 2 / 3, 4 / 7))
    assert (written["num_predicted_evidence"], written["num_correct_evidence"], written["num_gold_evidence"]) == (
        4, 2, 3)
    lines = {line.split()[0]: line.split()[1] for line in printed.splitlines() if line.startswith("evidence_")}
    assert lines == {"evidence_precision": "50.00", "evidence_recall": "66.67", "evidence_f1": "57.14"}
