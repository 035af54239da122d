"""paee_hf.metrics against values computed by hand on two tiny documents, plus real-data sanity checks."""

from __future__ import annotations

import json
import warnings
import zipfile
from fractions import Fraction

import numpy as np
import pytest
from tiny_models import shared_data

from paee_hf.metrics import (
    LONG_DISTANCE_SENTENCES,
    binary_f1,
    evaluate,
    load_train_facts,
    read_codalab_submission,
    train_facts_from_documents,
    validate_predictions,
    write_codalab_submission,
)


def mention(name: str, sent_id: int) -> dict:
    return {"name": name, "sent_id": sent_id, "pos": [0, 1], "type": "MISC"}


def gold_documents() -> list[dict]:
    """Alpha: 4 entities (12 ordered pairs), Beta: 3 entities (6 pairs); 6 gold facts.

    Sentence distances (min over mention pairs):
      Alpha (0,1)/(1,0): Paris s0 & France s0 -> 0 (intra)    Alpha (2,0): John s1 vs Paris s0 -> 1 (inter)
      Alpha (2,3): John s1 vs Acme s8 -> 7 (long)             Alpha (0,3): the city s3 vs Acme s8 -> 5 (inter, not long)
      Beta (0,1): Mary s2 & Berlin s2 -> 0 (intra)            Beta (1,2)/(2,1): Berlin s2 vs Germany s6 -> 4 (inter)
    """
    alpha = {
        "title": "Alpha",
        "vertexSet": [
            [mention("Paris", 0), mention("the city", 3)],
            [mention("France", 0)],
            [mention("John Smith", 1)],
            [mention("Acme", 8)],
        ],
        "labels": [
            {"h": 0, "t": 1, "r": "P17", "evidence": [0]},
            {"h": 1, "t": 0, "r": "P150", "evidence": [0]},
            {"h": 2, "t": 0, "r": "P19", "evidence": [1, 3]},
            {"h": 2, "t": 3, "r": "P108", "evidence": [1, 8]},
        ],
        "sents": [["w"]] * 9,
    }
    beta = {
        "title": "Beta",
        "vertexSet": [
            [mention("Mary Jones", 0), mention("Mary", 2)],
            [mention("Berlin", 2)],
            [mention("Germany", 6)],
        ],
        "labels": [
            {"h": 0, "t": 1, "r": "P551", "evidence": [2]},
            {"h": 1, "t": 2, "r": "P17", "evidence": [2, 6]},
        ],
        "sents": [["w"]] * 7,
    }
    return [alpha, beta]


def predictions() -> list[dict]:
    """9 records, 8 unique facts, 4 correct (marked OK)."""
    return [
        {"title": "Alpha", "h_idx": 0, "t_idx": 1, "r": "P17", "evidence": [0, 2]},  # OK intra
        {"title": "Alpha", "h_idx": 0, "t_idx": 1, "r": "P17", "evidence": [5]},  # duplicate: dropped with evidence
        {"title": "Alpha", "h_idx": 2, "t_idx": 0, "r": "P19", "evidence": [1]},  # OK inter
        {"title": "Alpha", "h_idx": 2, "t_idx": 3, "r": "P108"},  # OK long
        {"title": "Alpha", "h_idx": 0, "t_idx": 3, "r": "P17", "evidence": [0]},  # wrong pair, distance 5
        {"title": "Beta", "h_idx": 0, "t_idx": 1, "r": "P551"},  # OK intra
        {"title": "Beta", "h_idx": 0, "t_idx": 1, "r": "P27"},  # wrong relation on a gold pair, intra
        {"title": "Gamma", "h_idx": 0, "t_idx": 1, "r": "P17", "evidence": [0]},  # unknown title: wrong
        {"title": "Beta", "h_idx": 2, "t_idx": 1, "r": "P17"},  # reversed gold pair: wrong, inter
    ]


# Ign F1 reference. Only the first triple hits a correct prediction (Alpha 0->1 P17, through the alias "the city");
# the second hits a wrong prediction (Beta 0->1 P27 via "Mary"), which must not be removed; the last two are decoys
# (wrong relation, reversed direction).
TRAIN_FACTS = {
    ("the city", "France", "P17"),
    ("Mary", "Berlin", "P27"),
    ("Mary Jones", "Berlin", "P19"),
    ("Paris", "John Smith", "P19"),
}


def train_documents() -> list[dict]:
    """Training documents whose gen_train_facts closure is TRAIN_FACTS plus 3 triples that hit no correct prediction."""
    return [
        {
            "title": "Train 1",
            "vertexSet": [
                [mention("the city", 0)],
                [mention("France", 0)],
                [mention("Paris", 1)],
                [mention("John Smith", 1)],
            ],
            "labels": [{"h": 0, "t": 1, "r": "P17", "evidence": []}, {"h": 2, "t": 3, "r": "P19"}],
        },
        {
            "title": "Train 2",
            "vertexSet": [[mention("Mary", 0), mention("Mary Jones", 1)], [mention("Berlin", 0)]],
            "labels": [{"h": 0, "t": 1, "r": "P27"}, {"h": 0, "t": 1, "r": "P19"}],
        },
    ]


def score(**kwargs) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate(predictions(), gold_documents(), **kwargs)


def f1(precision: Fraction, recall: Fraction) -> Fraction:
    return 2 * precision * recall / (precision + recall) if precision + recall else Fraction(0)


def test_fact_level_scores_by_hand():
    result = score(train_facts=TRAIN_FACTS)
    # 9 records - 1 duplicate = 8 predicted (the unknown title stays in the denominator); 4 correct; 6 gold.
    assert result["num_predictions"] == 8
    assert result["num_duplicate_predictions"] == 1
    assert result["num_unknown_title_predictions"] == 1
    assert result["num_gold"] == 6 and result["num_correct"] == 4
    assert result["precision"] == pytest.approx(4 / 8)
    assert result["recall"] == pytest.approx(4 / 6)
    assert result["f1"] == pytest.approx(2 * 4 / (8 + 6))  # 2c/(p+g) = 4/7


def test_ign_f1_removes_correct_in_train_from_numerator_and_denominator():
    result = score(train_facts=TRAIN_FACTS)
    # one correct fact is in train -> ign P = (4-1)/(8-1) = 3/7 (not 3/8: the denominator shrinks too); R = 2/3.
    assert result["num_correct_in_train"] == 1
    assert result["num_train_facts"] == 4
    assert result["ign_precision"] == pytest.approx(3 / 7)
    assert f1(Fraction(3, 7), Fraction(2, 3)) == Fraction(12, 23)
    assert result["ign_f1"] == pytest.approx(12 / 23)
    assert result["recall"] == pytest.approx(2 / 3)  # recall is not touched


def test_ign_f1_from_train_documents_equals_precomputed_facts():
    # every mention-name pair of every training fact: Mary/Mary Jones x Berlin x {P27, P19} gives 4 triples
    extra = {("Mary Jones", "Berlin", "P27"), ("Mary", "Berlin", "P19")}
    assert train_facts_from_documents(train_documents()) == TRAIN_FACTS | extra
    from_documents = score(train_documents=train_documents())
    assert from_documents["ign_f1"] == pytest.approx(12 / 23)
    # positional third argument, as in the spec signature evaluate(predictions, gold, train_documents)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        positional = evaluate(predictions(), gold_documents(), train_documents())
    assert positional["ign_f1"] == from_documents["ign_f1"]


def test_ign_f1_without_training_facts_equals_f1_and_warns():
    with pytest.warns(UserWarning, match="no training facts given"):
        result = evaluate(predictions()[:1], gold_documents())
    assert result["ign_f1"] == result["f1"]
    assert result["num_train_facts"] == 0


def test_both_train_sources_rejected():
    with pytest.raises(ValueError, match="train_documents or train_facts, not both"):
        evaluate([], gold_documents(), train_documents(), train_facts=TRAIN_FACTS)


def test_unknown_titles_warn_and_count_as_wrong():
    records = [{"title": "Gamma", "h_idx": 0, "t_idx": 1, "r": "P17"}, predictions()[0]]
    with pytest.warns(UserWarning, match="1 predictions name titles that are not among the gold documents"):
        result = evaluate(records, gold_documents(), train_facts=set())
    assert result["num_unknown_title_predictions"] == 1
    assert result["precision"] == pytest.approx(1 / 2)


def test_duplicates_counted_once():
    doubled = predictions() + predictions()  # 18 records, still 8 unique facts (which copy is kept: evidence test)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = evaluate(doubled, gold_documents(), train_facts=TRAIN_FACTS)
    assert result["num_predictions"] == 8 and result["num_duplicate_predictions"] == 10
    assert result["f1"] == pytest.approx(4 / 7)
    assert result["ign_f1"] == pytest.approx(12 / 23)


def test_evidence_scores_by_hand():
    result = score()
    # gold evidence total 1+1+2+2+1+2 = 9. predicted evidence over known-title unique records: {0,2} + {1} + {0} = 4
    # (the duplicate's [5] and the unknown title's [0] are not counted). correct: {0}&{0,2} = 1, {1,3}&{1} = 1 -> 2.
    assert result["evidence_precision"] == pytest.approx(2 / 4)
    assert result["evidence_recall"] == pytest.approx(2 / 9)
    assert result["evidence_f1"] == pytest.approx(4 / 13)


def test_rela_scores_by_hand():
    result = score()
    # predicted pairs: A01 A20 A23 A03 B01 G01 B21 = 7; gold pairs: A01 A10 A20 A23 B01 B12 = 6; common 4.
    assert result["rela_precision"] == pytest.approx(4 / 7)
    assert result["rela_recall"] == pytest.approx(4 / 6)
    assert result["rela_f1"] == pytest.approx(8 / 13)
    # universe 4*3 + 3*2 = 18 ordered pairs; relational by gold or (known-title) prediction: 6 + A03 + B21 = 8,
    # so 10 true negatives; right decisions 4 + 10 = 14.
    assert result["rela_accuracy"] == pytest.approx(14 / 18)


def test_intra_inter_long_by_hand():
    result = score()
    # intra gold: A01-P17 A10-P150 B01-P551; intra predictions: A01-P17 B01-P551 B01-P27 -> 2 correct.
    intra = (result["intra_precision"], result["intra_recall"], result["intra_f1"])
    assert intra == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    # inter gold: A20-P19 A23-P108 B12-P17; inter predictions: A20 A23 A03 B21 -> 2 correct.
    inter = (result["inter_precision"], result["inter_recall"], result["inter_f1"])
    assert inter == pytest.approx((1 / 2, 2 / 3, 4 / 7))
    # long (> 5): gold A23 (7) and prediction A23; A03 at exactly 5 sentences is not long.
    assert LONG_DISTANCE_SENTENCES == 5
    assert (result["long_precision"], result["long_recall"], result["long_f1"]) == (1.0, 1.0, 1.0)


def test_per_relation_table_by_hand():
    names = {
        "P17": "country",
        "P150": "contains",
        "P19": "born in",
        "P108": "employer",
        "P551": "residence",
        "P27": "citizenship",
    }
    table = score(relation_names=names)["per_relation"]
    assert list(table) == sorted(names)
    # P17: gold A01 B12; predicted A01 A03 G01 B21 -> 1 correct: P 1/4, R 1/2, F1 2*1/(4+2).
    p17 = {"precision": 1 / 4, "recall": 1 / 2, "f1": 1 / 3, "support": 2, "predicted": 4, "correct": 1}
    assert table["P17"] == pytest.approx({"name": "country", **p17})
    p150 = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0, "correct": 0}
    assert table["P150"] == {"name": "contains", **p150}
    assert table["P27"]["support"] == 0 and table["P27"]["predicted"] == 1 and table["P27"]["f1"] == 0.0
    assert table["P108"]["f1"] == 1.0 and table["P551"]["f1"] == 1.0 and table["P19"]["f1"] == 1.0
    assert sum(row["predicted"] for row in table.values()) == 8
    assert "name" not in score()["per_relation"]["P17"]


def test_relation_names_missing_an_id():
    with pytest.raises(ValueError, match="relation_names has no entry for relation 'P27'"):
        score(relation_names={r: r for r in ("P17", "P150", "P19", "P108", "P551")})


def cdr_document() -> dict:
    """CDR-like: chemical 0, diseases 1 and 2; the converted CDR data label negative candidate pairs 'NR'."""
    return {
        "title": "Cdr",
        "vertexSet": [[mention("lithium", 0)], [mention("nephropathy", 1)], [mention("tremor", 2)]],
        "labels": [{"h": 0, "t": 1, "r": "CID"}, {"h": 0, "t": 2, "r": "NR"}],
    }


def test_binary_positive_class_f1():
    records = [
        {"title": "Cdr", "h_idx": 0, "t_idx": 1, "r": "CID"},
        {"title": "Cdr", "h_idx": 0, "t_idx": 2, "r": "CID"},
    ]
    # positive pairs predicted: (0,1) (0,2); gold positive: (0,1) -> P 1/2, R 1, F1 2/3.
    assert binary_f1(records, [cdr_document()], positive_relation="CID") == pytest.approx(
        {"precision": 1 / 2, "recall": 1.0, "f1": 2 / 3}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = evaluate(records, [cdr_document()], positive_relation="CID")
    assert result["positive_f1"] == pytest.approx(2 / 3)
    assert result["positive_f1"] == pytest.approx(result["per_relation"]["CID"]["f1"])


def test_single_relation_adds_positive_scores_equal_to_fact_f1():
    document = cdr_document()
    document["labels"] = document["labels"][:1]
    records = [
        {"title": "Cdr", "h_idx": 0, "t_idx": 1, "r": "CID"},
        {"title": "Cdr", "h_idx": 0, "t_idx": 2, "r": "CID"},
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = evaluate(records, [document])
    assert (result["positive_precision"], result["positive_recall"], result["positive_f1"]) == pytest.approx(
        (result["precision"], result["recall"], result["f1"])
    )
    assert result["positive_f1"] == pytest.approx(2 / 3)
    assert "positive_f1" not in score()  # several relations and no positive_relation: no binary scores


@pytest.mark.parametrize("gold", [[], gold_documents()], ids=["no-gold", "gold"])
def test_empty_predictions_give_zeros(gold):
    result = evaluate([], gold, train_facts=set())
    assert result["num_predictions"] == 0 and result["num_gold"] == (6 if gold else 0)
    assert all(row["predicted"] == 0 for row in result["per_relation"].values())
    # predicting nothing is right on the 18 - 6 NA pairs of the gold documents
    assert result["rela_accuracy"] == pytest.approx(12 / 18 if gold else 0.0)
    for key, value in result.items():
        if key.endswith(("precision", "recall", "f1")):
            assert isinstance(value, float) and value == 0.0, key


def test_empty_gold_with_unknown_predictions_is_zero_not_error():
    with pytest.warns(UserWarning, match="not among the gold documents"):
        result = evaluate([{"title": "Gamma", "h_idx": 0, "t_idx": 1, "r": "P17"}], [], train_facts=set())
    assert result["precision"] == 0.0 and result["f1"] == 0.0 and result["rela_accuracy"] == 0.0
    assert result["num_predictions"] == 1


def test_scores_are_plain_python_numbers():
    records = [{"title": "Alpha", "h_idx": np.int64(0), "t_idx": np.int32(1), "r": "P17"}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = evaluate(records, gold_documents())
    assert result["num_correct"] == 1
    for key, value in result.items():
        if key != "per_relation":
            assert type(value) in (float, int), key
    json.dumps(result)  # serialisable as is


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"title": "Alpha", "h_idx": 0, "t_idx": 1}, r"predictions\[1\] has no field 'r'"),
        ({"title": "Alpha", "h_idx": "0", "t_idx": 1, "r": "P17"}, r"predictions\[1\]: field 'h_idx' must be a non"),
        ({"title": "Alpha", "h_idx": True, "t_idx": 1, "r": "P17"}, r"predictions\[1\]: field 'h_idx'"),
        ({"title": "Alpha", "h_idx": 0, "t_idx": -1, "r": "P17"}, r"predictions\[1\]: field 't_idx'"),
        ({"title": "Alpha", "h_idx": 0, "t_idx": 1, "r": 17}, r"predictions\[1\]: field 'r' must be a string"),
        ({"title": None, "h_idx": 0, "t_idx": 1, "r": "P17"}, r"predictions\[1\]: field 'title' must be a string"),
        ({"title": "Alpha", "h_idx": 2, "t_idx": 2, "r": "P17"}, r"predictions\[1\]: h_idx and t_idx are both 2"),
        ({"title": "Alpha", "h_idx": 0, "t_idx": 1, "r": "P17", "evidence": [0.5]}, r"predictions\[1\]: field 'evid"),
        ({"title": "Alpha", "h_idx": 0, "t_idx": 4, "r": "P17"}, r"predictions\[1\]: field 't_idx' = 4 but gold doc"),
        (["Alpha", 0, 1, "P17"], r"predictions\[1\] must be a dict"),
    ],
)
def test_malformed_predictions_name_index_and_field(record, message):
    with pytest.raises(ValueError, match=message):
        evaluate([predictions()[0], record], gold_documents(), train_facts=set())


def test_out_of_range_index_allowed_for_unknown_title_only():
    # the entity count of an unknown document is unknown: the record is just a wrong prediction
    with pytest.warns(UserWarning, match="not among the gold documents"):
        result = evaluate(
            [{"title": "Gamma", "h_idx": 40, "t_idx": 1, "r": "P17"}], gold_documents(), train_facts=set()
        )
    assert result["num_predictions"] == 1 and result["num_correct"] == 0


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda docs: docs[0].pop("labels"), r"gold_documents\[0\] has no field 'labels'"),
        (lambda docs: docs[1]["labels"].append({"h": 0, "t": 3, "r": "P17"}),
         r"gold_documents\[1\] \('Beta'\): labels\[2\]: field 't' must index vertexSet \(0..2\)"),
        (lambda docs: docs[0]["labels"][0].update(r=17), r"gold_documents\[0\] \('Alpha'\): labels\[0\]: field 'r'"),
        (lambda docs: docs[0]["vertexSet"][3].clear(), r"\('Alpha'\): vertexSet\[3\] must be a non-empty list"),
        (lambda docs: docs[0]["vertexSet"][0][1].pop("sent_id"), r"vertexSet\[0\]\[1\] needs a .*'sent_id'"),
        (lambda docs: docs[1]["vertexSet"][2][0].pop("name"), r"\('Beta'\): vertexSet\[2\]\[0\] needs a string 'name'"),
        (lambda docs: docs[1].update(title="Alpha"), r"gold_documents\[1\]: title 'Alpha' appears twice"),
    ],
)
def test_malformed_gold_documents_name_document_and_field(mutate, message):
    documents = gold_documents()
    mutate(documents)
    with pytest.raises(ValueError, match=message):
        evaluate([], documents, train_facts=set())


def test_duplicate_gold_labels_counted_once():
    documents = gold_documents()
    documents[0]["labels"].append(dict(documents[0]["labels"][0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert evaluate(predictions(), documents)["num_gold"] == 6


def test_load_train_facts(tmp_path):
    path = tmp_path / "train_annotated.fact"
    path.write_text(json.dumps([["the city", "France", "P17"], ["Mary", "Berlin", "P27"], ["Mary", "Berlin", "P27"]]))
    assert load_train_facts(path) == {("the city", "France", "P17"), ("Mary", "Berlin", "P27")}
    path.write_text(json.dumps([["the city", "France", "P17"], ["Mary", "Berlin"]]))
    with pytest.raises(ValueError, match=r"train_annotated.fact\[1\] must be \[name_h, name_t, r\]"):
        load_train_facts(path)
    path.write_text(json.dumps({"facts": []}))
    with pytest.raises(ValueError, match="a .fact file is a JSON list"):
        load_train_facts(path)


def test_codalab_zip_round_trip(tmp_path):
    records = predictions()
    records[0] = dict(records[0], h_idx=np.int64(0))  # numpy ints from a model's decode step are written as ints
    path = write_codalab_submission(records, tmp_path / "out" / "result.zip")
    assert path == tmp_path / "out" / "result.zip"
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["result.json"]
        payload = archive.read("result.json").decode("utf-8")
    assert payload.startswith('[{"evidence": [0, 2], "h_idx": 0, "r": "P17", "t_idx": 1, "title": "Alpha"}')  # sorted
    round_trip = read_codalab_submission(path)
    assert round_trip == validate_predictions(predictions())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert evaluate(round_trip, gold_documents()) == evaluate(predictions(), gold_documents())
    # same records -> same bytes (fixed zip timestamp)
    again = write_codalab_submission(records, tmp_path / "again.zip")
    assert again.read_bytes() == path.read_bytes()
    # a bare result.json is read too
    (tmp_path / "result.json").write_text(payload)
    assert read_codalab_submission(tmp_path / "result.json") == round_trip


def test_codalab_writer_and_reader_reject_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"predictions\[1\] has no field 'title'"):
        write_codalab_submission([predictions()[0], {"h_idx": 0, "t_idx": 1, "r": "P17"}], tmp_path / "r.zip")
    assert not (tmp_path / "r.zip").exists()
    with pytest.raises(ValueError, match="is a directory; give the zip file to write"):
        write_codalab_submission([], tmp_path)
    with zipfile.ZipFile(tmp_path / "wrong.zip", "w") as archive:
        archive.writestr("predictions.json", "[]")
    with pytest.raises(ValueError, match="no 'result.json'"):
        read_codalab_submission(tmp_path / "wrong.zip")
    (tmp_path / "object.json").write_text("{}")
    with pytest.raises(ValueError, match="a CodaLab submission is a JSON list"):
        read_codalab_submission(tmp_path / "object.json")
    (tmp_path / "bad.json").write_text(json.dumps([{"title": "A", "h_idx": 0, "t_idx": 1}]))
    with pytest.raises(ValueError, match=r"bad.json\[0\] has no field 'r'"):
        read_codalab_submission(tmp_path / "bad.json")


def gold_as_predictions(documents: list[dict]) -> list[dict]:
    return [
        dict(title=doc["title"], h_idx=label["h"], t_idx=label["t"], r=label["r"], evidence=label["evidence"])
        for doc in documents
        for label in doc["labels"]
    ]


@pytest.mark.slow
def test_real_redocred_dev_gold_scores_one_and_ign_f1_counts_train_overlap():
    documents = json.loads(shared_data("re-docred", "dev_revised.json").read_text(encoding="utf-8"))
    train_facts = load_train_facts(shared_data("docred", "ref", "train_annotated.fact"))
    relation_names = json.loads(shared_data("docred", "meta", "rel_info.json").read_text(encoding="utf-8"))
    gold = gold_as_predictions(documents)
    result = evaluate(gold, documents, train_facts=train_facts, relation_names=relation_names)
    assert result["num_gold"] == 17284 and result["num_predictions"] == 17284
    perfect = ("precision", "recall", "f1", "evidence_f1", "rela_f1", "rela_accuracy", "intra_f1", "inter_f1")
    for key in perfect + ("long_f1", "ign_f1"):  # all correct -> ign precision (c - k)/(n - k) is 1 too
        assert result[key] == 1.0, key
    # some dev facts also appear (by mention names) in DocRED train, most are new
    in_train = result["num_correct_in_train"]
    assert 0 < in_train < result["num_correct"] / 2
    assert all(row["f1"] == 1.0 for row in result["per_relation"].values())
    assert sum(row["support"] for row in result["per_relation"].values()) == 17284

    # one wrong fact per document (a relation id DocRED lacks): ignoring in-train correct facts now lowers precision
    wrong = [{"title": x["title"], "h_idx": x["h_idx"], "t_idx": x["t_idx"], "r": "P0"} for x in gold]
    wrong = list({x["title"]: x for x in wrong}.values())  # one per labelled document
    assert len(wrong) == 499
    result = evaluate(gold + wrong, documents, train_facts=train_facts)
    assert result["num_correct_in_train"] == in_train
    assert result["precision"] == pytest.approx(17284 / (17284 + 499))
    assert result["ign_precision"] == pytest.approx((17284 - in_train) / (17284 + 499 - in_train))
    assert result["ign_f1"] < result["f1"] < 1.0


@pytest.mark.slow
def test_real_cdr_dev_binary_f1_of_gold_cid_is_one():
    documents = json.loads(shared_data("cdr", "docred_format", "dev.json").read_text(encoding="utf-8"))
    cid = [record for record in gold_as_predictions(documents) if record["r"] == "CID"]
    for record in cid:
        record.pop("evidence")  # CDR evidence is [None]
    assert binary_f1(cid, documents, positive_relation="CID") == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
