"""Smoke and unit tests of benchmarks/: the scripts run end to end on a tiny model, and their arithmetic is right.

No timing assertions: only structure, bookkeeping and hand-computed statistics.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import random
import sys
import time
from pathlib import Path

import pytest
import torch
from transformers import BertConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ lives beside the package, not inside it

import paee_hf.modeling_paee as modeling_module  # noqa: E402
from benchmarks import quality_datasets  # noqa: E402
from benchmarks.comparison import check_targets  # noqa: E402
from benchmarks.memory import measure_peak_memory, peak_reset_supported  # noqa: E402
from benchmarks.models import (  # noqa: E402
    build_model,
    calibrate_pair_pruning,
    paee_config,
    relation_vocabulary,
)
from benchmarks.quality_redocred import training_curves  # noqa: E402
from benchmarks.run import main  # noqa: E402
from benchmarks.scaling import growth_exponents  # noqa: E402
from benchmarks.stages import stage_breakdown  # noqa: E402
from benchmarks.steps import backbone_inputs, inference_pass  # noqa: E402
from benchmarks.timing import interleaved_times, summarize_times  # noqa: E402
from benchmarks.workloads import WorkloadSpec, build_workload, synthetic_document  # noqa: E402


def test_quick_run_of_every_suite_writes_tables_json_and_plot(tmp_path, capsys):
    documents = main([
        "--suite", "all", "--backbone", "tiny", "--quick", "--synthetic", "--no-memory", "--repeats", "1",
        "--results-dir", str(tmp_path), "--plots-dir", str(tmp_path / "plots"),
    ])
    assert set(documents) == {"inference", "training", "scaling", "optimisations"}
    written = json.loads((tmp_path / "inference-tiny-cpu-float32-quick.json").read_text())
    assert written["command"].startswith("python benchmarks/run.py --suite all")
    assert written["environment"]["torch_threads"] == 1
    table = written["tables"][0]
    assert list(table["variants"]) == ["backbone", "paee", "paee_eager", "paee_pruned"]
    assert table["variants"]["backbone"]["ratio"] == {"median": 1.0, "min": 1.0, "max": 1.0}
    assert all(result["median_s"] > 0 and result["other_clock"]["clock"] == "wall"
               for result in table["variants"].values())
    assert [target["holds"] for target in table["targets"]][2] is None  # memory not measured with --no-memory
    assert sum(stage["share"] for stage in table["stages"]["stages"].values()) == pytest.approx(1.0)
    assert set(table["operator_profile"]) == {"paee", "paee_eager"}

    training = json.loads((tmp_path / "training-tiny-cpu-float32-quick.json").read_text())["tables"][0]
    assert list(training["variants"]) == ["backbone", "atlop", "paee"]

    batching, chunking = documents["optimisations"]["tables"]  # no torch.compile experiment with --quick
    assert list(batching["variants"]) == ["batch 1", "batch 4, file order", "batch 4, length-bucketed"]
    assert batching["padding"]["batch 1"] == {"token_padding": 0.0, "pair_padding": 0.0}
    assert list(chunking["variants"]) == ["paee_unchunked", "paee_chunk512", "paee", "paee_eager"]

    entity_curve, token_curve = documents["scaling"]["curves"]
    assert [point["size"] for point in entity_curve["points"]] == [10, 42]
    assert [point["pairs"] for point in entity_curve["points"]] == [90, 42 * 41]
    assert [point["size"] for point in token_curve["points"]] == [512, 1024]
    assert len(entity_curve["exponents"]["paee"]) == 1
    printed = capsys.readouterr().out
    assert "## inference" in printed and "| paee |" in printed
    if importlib.util.find_spec("matplotlib") is None:
        assert "plot skipped: matplotlib is not installed" in printed
    else:
        assert (tmp_path / "plots" / "scaling-tiny-cpu-float32-quick.png").stat().st_size > 0


@pytest.mark.skipif(not peak_reset_supported(), reason="needs Linux's resettable memory high-water mark")
def test_extra_variant_is_timed_beside_the_suite_and_named_in_the_file(tmp_path):
    main([
        "--suite", "inference", "--backbone", "tiny", "--quick", "--synthetic", "--no-memory", "--no-profile",
        "--repeats", "1", "--extra-variant", "paee_bert_base_heads", "--results-dir", str(tmp_path),
    ])
    written = json.loads((tmp_path / "inference-tiny-cpu-float32+paee_bert_base_heads-quick.json").read_text())
    assert list(written["tables"][0]["variants"]) == ["backbone", "paee", "paee_eager", "paee_pruned",
                                                      "paee_bert_base_heads"]
    wide = paee_config("tiny", "paee_bert_base_heads")
    assert (wide.classifier_hidden_size, wide.bilinear_block_size, wide.pair_channels) == (768, 64, 256)


def test_memory_probe_resets_the_high_water_mark_between_workloads():
    pad = BertConfig().pad_token_id
    large = build_workload(WorkloadSpec("large", "synthetic", 1, 1, tokens=512, entities=150), pad)
    small = build_workload(WorkloadSpec("small", "synthetic", 1, 1, tokens=64, entities=5), pad)
    # unchunked: with pairs in chunks (the default) even 150 entities stay far below 100 MiB
    spec = {"backbone": "tiny", "variant": "paee_unchunked", "mode": "inference", "device": "cpu",
            "dtype": "float32", "threads": 1}
    measured = measure_peak_memory(spec, {"large": large.batches, "small": small.batches})
    # the small document is measured after the large one: a process-wide peak would report the large peak again
    assert measured["large"]["peak_mib"] > 100
    assert 0 <= measured["small"]["peak_mib"] < measured["large"]["peak_mib"] / 10
    # Linux updates VmHWM only every 64 page faults (see PeakMemory), so the process peak of a workload this small can
    # read up to 64 pages (0.25 MiB) below the RSS baseline
    assert measured["small"]["process_peak_mib"] > measured["small"]["baseline_mib"] - 0.25 > 0


def test_interleaved_rounds_rotate_the_order_after_the_warmup():
    calls = []
    steps = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    warmups = {name: (lambda name=name: calls.append(name + "-warm")) for name in "abc"}
    times = interleaved_times(steps, repeats=3, warmup=1, warmup_steps=warmups)
    assert calls == ["a-warm", "b-warm", "c-warm", "a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert set(times) == {"wall", "cpu"}
    assert all(len(seconds) == 3 for clock in times.values() for seconds in clock.values())
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        interleaved_times(steps, repeats=0)


def test_summary_pairs_ratios_round_by_round():
    summary = summarize_times({"ref": [1.0, 2.0, 4.0], "x": [2.0, 3.0, 4.0]}, reference="ref", items=6)
    assert summary["x"]["median_s"] == 3.0
    assert summary["x"]["items_per_s"] == 2.0
    assert summary["x"]["ratio"] == {"median": 1.5, "min": 1.0, "max": 2.0}  # rounds: 2/1, 3/2, 4/4
    with pytest.raises(ValueError, match="reference 'floor' is not among the timed variants"):
        summarize_times({"x": [1.0]}, reference="floor", items=1)
    with pytest.raises(ValueError, match="same number of rounds"):
        summarize_times({"ref": [1.0], "x": [1.0, 2.0]}, reference="ref", items=1)


def test_growth_exponents_and_target_verdicts():
    assert growth_exponents([10, 20, 40], [1.0, 4.0, 8.0]) == [((10, 20), 2.0), ((20, 40), 1.0)]
    table = {"variants": {"backbone": {"seconds": [1.0, 1.0, 1.0], "memory": {"peak_mib": 50.0}},
                          "paee": {"seconds": [1.2, 1.3, 1.4], "memory": {"peak_mib": 40.0}},
                          "tie": {"seconds": [1.0, 1.0, 1.0], "memory": {"peak_mib": 49.0}}}}
    targets = check_targets(table, [
        {"claim": "a", "kind": "time_ratio", "numerator": "paee", "denominator": "backbone", "direction": "<=",
         "limit": 1.25},
        {"claim": "b", "kind": "time_ratio", "numerator": "paee", "denominator": "backbone", "direction": ">=",
         "limit": 1.25},
        {"claim": "c", "kind": "memory_lower", "numerator": "paee", "denominator": "backbone"},
        {"claim": "d", "kind": "memory_lower", "numerator": "tie", "denominator": "backbone"},
    ])
    # median ratio 1.3; 40 MiB is 20 % below 50 MiB, 49 MiB only 2 % (within the 5 % margin)
    assert [target["holds"] for target in targets] == [False, True, True, False]
    assert targets[0]["measured"]["median"] == pytest.approx(1.3)


def test_synthetic_document_matches_the_batch_contract():
    document = synthetic_document(tokens=120, entities=10, doc_index=3, rng=random.Random(0), num_labels=97)
    positions = document["mention_positions"]
    assert len(positions) == 14  # round(10 * 1.36)
    assert len(set(positions)) == len(positions) and all(0 < p < 119 for p in positions)
    assert document["input_ids"][0] == 101 and document["input_ids"][-1] == 102
    flat = [mention for mentions in document["entity_mentions"] for mention in mentions]
    assert flat == list(range(14)) and all(document["entity_mentions"])  # grouped by entity, none empty
    for position, sentence in zip(positions, document["mention_sentence_ids"]):
        start, end = document["sentence_spans"][sentence]
        assert start <= position < end
    assert len(document["pair_indices"]) == 90
    assert all(0 < relation < 97 for labels in document["pair_labels"] for relation in labels)
    with pytest.raises(ValueError, match="10 entities need 14 mention positions but only 8 tokens"):
        synthetic_document(tokens=10, entities=10, doc_index=0, rng=random.Random(0), num_labels=97)


def test_pruning_calibration_keeps_the_requested_share_and_prunes_the_rest():
    model = build_model("tiny", "paee_pruned")
    batches = build_workload(WorkloadSpec("w", "synthetic", 2, 2, tokens=200, entities=30), 0).batches
    kept = calibrate_pair_pruning(model, batches, keep_fraction=0.25)
    assert kept == pytest.approx(0.25, abs=0.01)
    with torch.inference_mode():
        logits = model(**{key: value for key, value in batches[0].items() if key != "labels"}).logits
    valid = batches[0]["pair_indices"][..., 0] >= 0
    pruned = (logits[..., 1:] == -1e4).all(-1) & valid
    assert float(pruned.sum() / valid.sum()) == pytest.approx(1 - kept, abs=1e-6)
    assert len(relation_vocabulary()) == 97


def test_backbone_floor_reads_the_windows_paee_reads():
    config = BertConfig()  # 512 positions: PAEE's windows are 510 content tokens every 382
    ids = torch.randint(1000, 2000, (1, 1000))
    ids[0, 0], ids[0, -1] = 101, 102
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    windows = backbone_inputs(batch, config)
    assert windows["input_ids"].shape == (3, 512)  # content starts 0, 382 and 488 (aligned to the end)
    assert (windows["input_ids"][:, 0] == 101).all() and (windows["input_ids"][:, -1] == 102).all()
    assert torch.equal(windows["input_ids"][2, 1:-1], ids[0, 1 + 488 : 999])
    short = {"input_ids": ids[:, :300], "attention_mask": torch.ones(1, 300, dtype=torch.long)}
    assert backbone_inputs(short, config)["input_ids"] is short["input_ids"]


def test_stage_breakdown_covers_the_forward_and_restores_the_model():
    model = build_model("tiny", "paee")
    batches = build_workload(WorkloadSpec("w", "synthetic", 2, 2), 0).batches
    original = modeling_module.encode_document
    breakdown = stage_breakdown(model, inference_pass(model, batches), lambda: None, clock=time.perf_counter)
    assert {"classifier (eq. 8)", "backbone (windows, sdpa or eager)", "PAR: canvas, TNet, PPP (eq. 4-5)",
            "EER (eq. 6-7)", "localized context (eq. 3)"} <= set(breakdown["stages"])
    assert sum(stage["seconds"] for stage in breakdown["stages"].values()) == pytest.approx(breakdown["total_s"])
    assert modeling_module.encode_document is original
    assert "forward" not in vars(model.classifier) and "_classify" not in vars(model)


def test_stage_breakdown_attributes_each_stage_its_own_time(monkeypatch):
    """On a virtual clock that only moves when a stage's function runs (each costs a known number of ticks per
    call) or when the pass itself spends time outside the stages, every stage gets exactly its ticks, the nested
    stage is taken out of its outer one, and "other" is exactly the time outside the stages. (The sum of the shares
    is 1 by construction; these checks are not.)"""
    model = build_model("tiny", "paee")
    batches = build_workload(WorkloadSpec("w", "synthetic", 2, 2), 0).batches
    now, calls = [0.0], {}

    def costing(key, function, ticks):
        def spend(*args, **kwargs):
            calls[key] = calls.get(key, 0) + 1
            now[0] += ticks
            return function(*args, **kwargs)
        return spend

    costs = {"encode_document": 1000.0, "localized_context": 100.0, "pool_entities": 10.0}
    for name, ticks in costs.items():
        monkeypatch.setattr(modeling_module, name, costing(name, getattr(modeling_module, name), ticks))
    monkeypatch.setattr(type(model), "_classify", costing("_classify", type(model)._classify, 1.0))
    pair_aware_type = type(model.pair_aware)
    monkeypatch.setattr(pair_aware_type, "forward", costing("pair_aware", pair_aware_type.forward, 0.1))
    rows = importlib.import_module("paee_hf.document_encoder")
    monkeypatch.setattr(rows, "_row_probabilities", costing("rows", rows._row_probabilities, 0.01))
    run = inference_pass(model, batches)

    def pass_with_glue():
        now[0] += 0.001  # time spent outside every stage
        run()

    breakdown = stage_breakdown(model, pass_with_glue, lambda: None, clock=lambda: now[0])
    assert calls["encode_document"] == calls["_classify"] == len(batches)
    stages = {name: stage["seconds"] for name, stage in breakdown["stages"].items()}
    assert stages["backbone (windows, sdpa or eager)"] == pytest.approx(1000.0 * calls["encode_document"])
    assert stages["localized context (eq. 3)"] == pytest.approx(100.0 * calls["localized_context"])
    assert stages["entity pooling (eq. 2)"] == pytest.approx(10.0 * calls["pool_entities"])
    assert stages["classifier (eq. 8)"] == pytest.approx(1.0 * calls["_classify"])
    assert stages["PAR: canvas, TNet, PPP (eq. 4-5)"] == pytest.approx(0.1 * calls["pair_aware"])
    assert stages.get("last-layer attention rows (recomputed)", 0.0) == pytest.approx(0.01 * calls.get("rows", 0))
    assert stages["other (glue code)"] == pytest.approx(0.001)
    expected_total = sum(costs[name] * calls[name] for name in costs) + calls["_classify"] + 0.1 * calls[
        "pair_aware"] + 0.01 * calls.get("rows", 0) + 0.001
    assert breakdown["total_s"] == pytest.approx(expected_total)


def test_entity_order_locality_by_hand():
    from benchmarks.entity_order_locality import order_locality

    def mention(sentence, start):
        return [{"sent_id": sentence, "pos": [start, start + 1], "name": "x", "type": "PER"}]

    # vertexSet order 0, 1, 2, 3 appears in the text as 3, 0, 2, 1: first-mention positions 0->1, 1->3, 2->2, 3->0
    document = {"vertexSet": [mention(0, 5), mention(1, 0), mention(0, 9), mention(0, 1)],
                "labels": [{"h": 0, "t": 3, "r": "P1"}, {"h": 1, "t": 2, "r": "P1"}, {"h": 1, "t": 2, "r": "P2"}]}
    as_given = order_locality([document], "as_given")
    first = order_locality([document], "first_mention")
    assert as_given["relational_pairs"] == first["relational_pairs"] == 2  # pairs, not facts
    assert as_given["relational_distance"] == (3 + 1) / 2 and first["relational_distance"] == (1 + 1) / 2
    assert as_given["all_pairs_distance"] == first["all_pairs_distance"] == 20 / 12
    assert first["relational_within_window"] == 1.0


def test_component_knockouts_change_what_the_classifier_sees():
    from model_batches import make_batch, tiny_paee_config

    from benchmarks.component_knockout import KNOCKOUTS, knocked_out
    from paee_hf import PaeeForDocumentRelationExtraction

    torch.manual_seed(0)
    model = PaeeForDocumentRelationExtraction(tiny_paee_config()).eval()
    batch = make_batch([3, 5], [30, 40], with_labels=False)  # 3 and 5 entities: tiled onto the 8 x 8 canvas
    logits = {}
    for name in KNOCKOUTS:
        with knocked_out(model, name), torch.no_grad():
            logits[name] = model(**batch).logits
    assert not torch.allclose(logits["as trained"], logits["zero filling instead of sliding"])
    assert not torch.allclose(logits["PPP tag 0 for every pair"], logits["PPP tag 1 for every pair"])
    assert (model.pair_aware.filling, model.pair_aware.ppp_threshold) == ("sliding", 0.3)  # restored


def test_training_curves_read_the_dev_f1_and_the_mean_loss_of_each_epoch(tmp_path):
    assert training_curves(tmp_path) == {"dev_f1_by_evaluation": [], "train_loss_by_epoch": []}  # not finished
    losses = [(25, 0, 2.0), (50, 0, 1.0), (75, 1, None), (100, 1, 0.5)]
    (tmp_path / "results.json").write_text(json.dumps({
        "train_losses": [{"step": step, "epoch": epoch, "loss": loss} for step, epoch, loss in losses],
        "evaluations": [{"step": 60, "epoch": 0, "metrics": {"f1": 0.12345}},
                        {"step": 120, "epoch": 1, "metrics": {"f1": 0.5}}],
    }))
    assert training_curves(tmp_path) == {"dev_f1_by_evaluation": [12.35, 50.0], "train_loss_by_epoch": [1.5, 0.5]}


def test_dataset_quality_run_splits_dwie_passes_the_budget_and_keeps_each_rows_curves(tmp_path, monkeypatch, capsys):
    (tmp_path / "data" / "dwie").mkdir(parents=True)
    (tmp_path / "data" / "dwie" / "dev.json").write_text(json.dumps([{"title": f"doc {index}"} for index in range(75)]))
    configs = {}

    def fake_train_and_evaluate(name, config, work_dir, resume, jobs):
        configs[name] = config
        run_dir = work_dir / name
        run_dir.mkdir()
        (run_dir / "results.json").write_text(json.dumps({
            "train_losses": [{"step": 70, "epoch": 0, "loss": 0.4}],
            "evaluations": [{"step": 70, "epoch": 0, "metrics": {"f1": 0.25}}],
        }))
        return {"f1": 0.25, "ign_f1": 0.2, "precision": 0.5, "recall": 1 / 6, "rela_f1": 0.4, "unused": 1.0}, 12.0

    monkeypatch.setattr(quality_datasets, "train_and_evaluate", fake_train_and_evaluate)
    output, work_dir = tmp_path / "dwie.json", tmp_path / "work"
    monkeypatch.setattr(sys, "argv", ["quality_datasets.py", "--dataset", "dwie", "--variants", "paee", "atlop",
                                      "--batch-size", "1", "--epochs", "3", "--data-dir", str(tmp_path / "data"),
                                      "--work-dir", str(work_dir), "--output", str(output)])
    quality_datasets.main()

    assert [document["title"] for document in json.loads((work_dir / "dwie_train.json").read_text())] == [
        f"doc {index}" for index in range(70)]
    assert len(json.loads((work_dir / "dwie_dev.json").read_text())) == 5
    budgets = {(config["batch_size"], config["epochs"], config["lr_head"]) for config in configs.values()}
    assert budgets == {(1, 3, 1e-3)}
    assert configs["atlop"]["model"]["relation_loss"] == "atlop" and configs["paee"]["model"]["matrix_size"] == 42
    summary = json.loads(output.read_text())
    assert summary["batch_size"] == 1 and [row["variant"] for row in summary["rows"]] == ["paee", "atlop"]
    assert summary["rows"][0] == {
        "variant": "paee", "switches": {}, "train_seconds": 12.0, "f1": 0.25, "ign_f1": 0.2, "precision": 0.5,
        "recall": 1 / 6, "rela_f1": 0.4, "dev_f1_by_evaluation": [25.0], "train_loss_by_epoch": [0.4]}
    table = capsys.readouterr().out.splitlines()
    assert table[-1].split() == ["atlop", "25.00", "20.00", "50.00", "16.67", "40.00", "-", "-", "12.0"]


def test_training_fit_counts_the_gold_facts_the_model_would_predict(model_dir, tmp_path):
    from safetensors.torch import load_file, save_file

    from benchmarks import training_fit
    from paee_hf import PaeeForDocumentRelationExtraction
    from paee_hf.corpus.running import codalab_records
    from paee_hf.metrics import evaluate

    sentences = [["John", "Smith", "was", "born", "in", "Paris", "."], ["Paris", "is", "the", "capital", "of", "France",
                 "."], ["He", "works", "for", "Acme", "Corp", "."]]
    vertex_set = [[{"name": "John Smith", "pos": [0, 2], "sent_id": 0, "type": "PER"}],
                  [{"name": "Paris", "pos": [5, 6], "sent_id": 0, "type": "LOC"},
                   {"name": "Paris", "pos": [0, 1], "sent_id": 1, "type": "LOC"}],
                  [{"name": "France", "pos": [5, 6], "sent_id": 1, "type": "LOC"}],
                  [{"name": "Acme Corp", "pos": [3, 5], "sent_id": 2, "type": "ORG"}]]
    labels = [{"h": 0, "t": 1, "r": "P19", "evidence": [0]}, {"h": 1, "t": 2, "r": "P17", "evidence": [1]},
              {"h": 0, "t": 3, "r": "P108", "evidence": [2]}, {"h": 3, "t": 2, "r": "P17", "evidence": []},
              {"h": 0, "t": 2, "r": "P17", "evidence": []}]
    documents = [{"title": "one", "sents": sentences, "vertexSet": vertex_set, "labels": labels},
                 {"title": "two", "sents": sentences, "vertexSet": vertex_set, "labels": labels[:2]}]
    data_file, output = tmp_path / "train.json", tmp_path / "fit.json"
    data_file.write_text(json.dumps(documents))
    arguments = ["--model", str(model_dir), "--data-file", str(data_file), "--output", str(output)]
    model = PaeeForDocumentRelationExtraction.from_pretrained(model_dir).eval()

    def weights_with_threshold_bias(bias: float, name: str) -> Path:
        state = {key: value.clone() for key, value in model.state_dict().items()}
        state["classifier.bilinear.bias"][0] = bias  # TH's score moves against every relation's
        save_file(state, tmp_path / name)
        return tmp_path / name

    # TH's bias level with the highest relation bias (0.3): some margins above 0, some below
    level = weights_with_threshold_bias(0.3, "level.safetensors")
    entry = training_fit.main([*arguments, "--weights", str(level)])

    # the same facts decided the other way: model.predict, then the official metric's recall
    model.load_state_dict(load_file(level))
    records = codalab_records(model.predict(documents), documents)
    recall = evaluate(records, documents, documents)["recall"]
    assert entry["gold_facts"]["count"] == 7 and 0 < recall < 1
    assert entry["gold_facts"]["above_threshold"] == round(recall, 4)
    predicted_pairs = {(record["title"], record["h_idx"], record["t_idx"]) for record in records}
    pairs_with_relation = {(document["title"], label["h"], label["t"]) for document in documents
                           for label in document["labels"]}
    false_positive_share = len(predicted_pairs - pairs_with_relation) / (2 * 12 - len(pairs_with_relation))
    assert entry["pairs_without_relation"]["count"] == 2 * 12 - len(pairs_with_relation)
    assert 0 < false_positive_share < 1
    assert entry["pairs_without_relation"]["above_threshold"] == round(false_positive_share, 4)
    assert set(entry["losses"]) == {"relation_loss", "pair_loss", "cross_matching_loss"}
    assert all(value > 0 for value in entry["losses"].values())
    assert set(entry["ppp_mean_probability"]) == {"with_relation", "without_relation"}

    # with TH far up no relation passes; the model's own weights are the default
    high = training_fit.main([*arguments, "--weights", str(weights_with_threshold_bias(1e4, "high.safetensors"))])
    assert high["gold_facts"]["above_threshold"] == high["pairs_without_relation"]["above_threshold"] == 0.0
    own = training_fit.main(arguments)
    assert own["weights"] == str(model_dir) and own["gold_facts"] != entry["gold_facts"]
    training_fit.main([*arguments, "--weights", str(level)])  # the same model and weights again replace their entry
    assert [entry["weights"] for entry in json.loads(output.read_text())] == [
        str(tmp_path / "high.safetensors"), str(model_dir), str(level)]
