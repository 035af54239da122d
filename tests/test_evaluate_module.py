"""The `evaluate` module shipped in the package: loads offline from its path and matches paee_hf.metrics.evaluate."""

from __future__ import annotations

import json
import socket
import warnings
from pathlib import Path

import evaluate
import pytest
from test_metrics import TRAIN_FACTS, gold_documents, predictions

from paee_hf import metrics


@pytest.fixture
def metric(tmp_path, monkeypatch):
    """The module loaded from EVALUATE_MODULE_PATH with every network connection made to fail."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")
    monkeypatch.setattr(evaluate.config, "HF_EVALUATE_OFFLINE", True)

    def no_network(*args, **kwargs):
        raise AssertionError(f"the evaluate module tried to reach the network: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    return evaluate.load(metrics.EVALUATE_MODULE_PATH, keep_in_memory=True, cache_dir=str(tmp_path))


def module_inputs(records: list[dict], documents: list[dict]) -> tuple[list[list[dict]], list[str]]:
    """Group CodaLab records per gold document (known titles only) in the module's row format (evidence kept)."""
    rows = []
    for document in documents:
        rows.append([{key: value for key, value in x.items() if key != "title"}
                     for x in records if x["title"] == document["title"]])
    return rows, [json.dumps(document) for document in documents]


def known_title_records(with_evidence: bool = False) -> list[dict]:
    """The module's inputs cannot express unknown titles: compare on records without them."""
    titles = {document["title"] for document in gold_documents()}
    keys = ("title", "h_idx", "t_idx", "r", "evidence") if with_evidence else ("title", "h_idx", "t_idx", "r")
    return [
        {key: record[key] for key in keys if key in record}
        for record in predictions()
        if record["title"] in titles
    ]


def known_title_records_without_evidence() -> list[dict]:
    return known_title_records(with_evidence=False)


def test_module_path_follows_the_evaluate_layout():
    path = Path(metrics.EVALUATE_MODULE_PATH)
    assert path.is_absolute()
    assert (path / f"{path.name}.py").is_file()  # evaluate.load needs script name == folder name


def test_module_gives_the_pure_function_numbers(metric):
    records = known_title_records_without_evidence()
    rows, references = module_inputs(records, gold_documents())
    names = {r: r.lower() for r in ("P17", "P150", "P19", "P108", "P551", "P27")}
    from_module = metric.compute(
        predictions=rows, references=references, train_facts=TRAIN_FACTS, relation_names=names
    )
    expected = metrics.evaluate(records, gold_documents(), train_facts=TRAIN_FACTS, relation_names=names)
    assert from_module == expected
    # hand check, as in test_metrics minus the unknown-title record: 7 predicted, 4 correct (1 in train), 6 gold
    assert from_module["precision"] == pytest.approx(4 / 7)
    assert from_module["ign_precision"] == pytest.approx(3 / 6)
    assert from_module["num_duplicate_predictions"] == 1


def test_add_batch_per_document_then_compute(metric):
    records = known_title_records_without_evidence()
    rows, references = module_inputs(records, gold_documents())
    for row, reference in zip(rows, references):
        metric.add_batch(predictions=[row], references=[reference])
    from_module = metric.compute(train_documents=[])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = metrics.evaluate(records, gold_documents(), train_facts=set())
    assert from_module == expected


def test_positive_relation_passes_through(metric):
    document = {
        "title": "Cdr",
        "vertexSet": [[{"name": name, "sent_id": 0}] for name in ("lithium", "tremor", "rash")],
        "labels": [{"h": 0, "t": 1, "r": "CID"}, {"h": 0, "t": 2, "r": "NR"}],
    }
    rows = [[{"h_idx": 0, "t_idx": 1, "r": "CID"}, {"h_idx": 0, "t_idx": 2, "r": "CID"}]]
    result = metric.compute(
        predictions=rows, references=[json.dumps(document)], train_facts=set(), positive_relation="CID"
    )
    assert result["positive_f1"] == pytest.approx(2 / 3)


def test_module_rejects_records_with_other_keys(metric):
    rows, references = module_inputs(known_title_records_without_evidence(), gold_documents())
    rows[1] = [dict(rows[1][0], title="Beta")]
    with pytest.raises(ValueError, match=r"predictions\[1\]\[0\] must have the keys \['h_idx', 't_idx', 'r'\] and "
                                         r"optionally \['evidence'\] \(the title comes from references\[1\]\)"):
        metric.compute(predictions=rows, references=references)


def test_module_reports_evidence_scores_as_the_pure_function(metric):
    records = known_title_records(with_evidence=True)
    assert any("evidence" in x for x in records) and not all("evidence" in x for x in records)  # mixed on purpose
    rows, references = module_inputs(records, gold_documents())
    from_module = metric.compute(predictions=rows, references=references, train_facts=TRAIN_FACTS)
    assert from_module == metrics.evaluate(records, gold_documents(), train_facts=TRAIN_FACTS)
    # by hand (test_metrics.test_evidence_scores_by_hand): predicted evidence {0, 2} + {1} + {0} = 4 over the unique
    # known-title facts (the duplicate's [5] dropped), correct {0} + {1} = 2, gold evidence 9
    assert (from_module["num_correct_evidence"], from_module["num_predicted_evidence"]) == (2, 4)
    assert (from_module["evidence_precision"], from_module["evidence_recall"], from_module["evidence_f1"]) == (
        pytest.approx(2 / 4), pytest.approx(2 / 9), pytest.approx(4 / 13))


def test_evidence_through_add_and_add_batch_in_any_order(metric):
    rows, references = module_inputs(known_title_records(with_evidence=True), gold_documents())
    # Beta's facts carry no evidence: the first row stored has none, the second has some
    metric.add(prediction=rows[1], reference=references[1])
    metric.add_batch(predictions=[rows[0]], references=[references[0]])
    result = metric.compute(train_facts=set())
    assert (result["num_correct_evidence"], result["num_predicted_evidence"], result["num_gold_evidence"]) == (2, 4, 9)


def test_empty_or_missing_evidence_predicts_no_sentence(metric):
    document = {"title": "Doc", "vertexSet": [[{"name": "Paris", "sent_id": 0}], [{"name": "France", "sent_id": 0}]],
                "labels": [{"h": 0, "t": 1, "r": "P17", "evidence": [0]}]}
    for fact in ({"h_idx": 0, "t_idx": 1, "r": "P17", "evidence": []}, {"h_idx": 0, "t_idx": 1, "r": "P17"}):
        result = metric.compute(predictions=[[fact]], references=[json.dumps(document)], train_facts=set())
        assert result["f1"] == 1.0 and result["evidence_f1"] == 0.0 and result["num_gold_evidence"] == 1
    result = metric.compute(predictions=[[{"h_idx": 0, "t_idx": 1, "r": "P17", "evidence": [0]}]],
                            references=[json.dumps(document)], train_facts=set())
    assert result["evidence_f1"] == 1.0


@pytest.mark.parametrize("evidence", ["0", [0.5], [-1], [True]])
def test_module_rejects_malformed_evidence(metric, evidence):
    rows, references = module_inputs(known_title_records_without_evidence(), gold_documents())
    rows[0][1]["evidence"] = evidence
    with pytest.raises(ValueError, match=r"predictions\[0\]\[1\]: 'evidence' must be a list of non-negative sentence "
                                         r"ids, got "):
        metric.compute(predictions=rows, references=references)


@pytest.mark.parametrize(
    ("reference", "message"),
    [("{not json", r"references\[0\] is not valid JSON"), ("[1, 2]", r"references\[0\] must encode a DocRED document")],
)
def test_module_rejects_bad_references(metric, reference, message):
    with pytest.raises(ValueError, match=message):
        metric.compute(predictions=[[]], references=[reference])


def test_module_surfaces_pure_function_errors(metric):
    rows, references = module_inputs(known_title_records_without_evidence(), gold_documents())
    rows[1].append({"h_idx": 0, "t_idx": 7, "r": "P17"})
    with pytest.raises(ValueError, match=r"field 't_idx' = 7 but gold document 'Beta' has 3 entities"):
        metric.compute(predictions=rows, references=references, train_facts=set())
