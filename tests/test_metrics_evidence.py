"""Evidence precision / recall / F1 of paee_hf.metrics.evaluate: hand-worked cases, and agreement with a transcription
of the official DocRED scorer (thunlp/DocRED, code/evaluation.py, MIT licence) on random submissions."""

from __future__ import annotations

import random
import warnings

import pytest

from paee_hf.metrics import evaluate


def gold(labels: list[dict], title: str = "D") -> dict:
    """A gold document with 3 entities in 4 sentences and the given labels."""
    return {
        "title": title,
        "vertexSet": [[{"name": name, "sent_id": sent}] for name, sent in (("Paris", 0), ("France", 1), ("EU", 2))],
        "labels": labels,
        "sents": [["w"]] * 4,
    }


GOLD_LABELS = [
    {"h": 0, "t": 1, "r": "P17", "evidence": [0, 1]},
    {"h": 1, "t": 2, "r": "P463", "evidence": [2]},
]  # gold evidence: 2 + 1 = 3 sentences


def fact(h: int, t: int, r: str, *evidence: int, title: str = "D", with_evidence: bool = True) -> dict:
    record = {"title": title, "h_idx": h, "t_idx": t, "r": r}
    if with_evidence:
        record["evidence"] = list(evidence)
    return record


def scores(predictions: list[dict], documents: list[dict] | None = None) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unknown titles and missing train facts warn; not under test here
        return evaluate(predictions, documents or [gold(GOLD_LABELS)], train_facts=set())


def assert_evidence(result: dict, correct: int, predicted: int, gold_total: int, p: float, r: float, f1: float):
    counts = (result["num_correct_evidence"], result["num_predicted_evidence"], result["num_gold_evidence"])
    assert counts == (correct, predicted, gold_total)
    assert (result["evidence_precision"], result["evidence_recall"], result["evidence_f1"]) == pytest.approx(
        (p, r, f1))


def test_evidence_of_wrong_facts_counts_in_the_precision_denominator():
    result = scores([fact(0, 1, "P17", 1, 3), fact(0, 2, "P17", 0, 2)])
    # right fact: {1, 3} & gold {0, 1} = {1} -> 1 correct; wrong fact (0, 2): its 2 sentences are predicted, 0 correct.
    # P = 1/4, R = 1/3, F1 = 2 * (1/12) / (7/12) = 2/7
    assert_evidence(result, 1, 4, 3, 1 / 4, 1 / 3, 2 / 7)


def test_right_fact_wrong_relation_earns_no_evidence():
    result = scores([fact(0, 1, "P131", 0, 1)])  # the gold pair (0, 1) but P131, not P17: a wrong fact
    assert_evidence(result, 0, 2, 3, 0.0, 0.0, 0.0)


def test_a_duplicate_prediction_keeps_the_first_copy_and_its_evidence():
    result = scores([fact(0, 1, "P17", 0), fact(0, 1, "P17", 0, 1)])
    # the second copy is dropped with its evidence: 1 predicted, 1 correct. P = 1, R = 1/3, F1 = (2/3)/(4/3) = 1/2
    assert_evidence(result, 1, 1, 3, 1.0, 1 / 3, 1 / 2)
    assert result["num_duplicate_predictions"] == 1


def test_a_repeated_sentence_id_in_a_prediction_counts_once():
    result = scores([fact(0, 1, "P17", 1, 1, 0)])  # the set {0, 1}: 2 predicted, both gold
    # P = 2/2, R = 2/3, F1 = 2 * (2/3) / (5/3) = 4/5
    assert_evidence(result, 2, 2, 3, 1.0, 2 / 3, 4 / 5)


def test_unknown_titles_add_no_predicted_evidence():
    result = scores([fact(0, 1, "P17", 0, 1, 2, title="Nowhere"), fact(1, 2, "P463", 2)])
    # the unknown title is a wrong fact (fact precision 1/2) but its 3 sentences are not counted, as in the official
    # script (it skips the record before counting evidence): 1 predicted, 1 correct. P = 1, R = 1/3, F1 = 1/2
    assert_evidence(result, 1, 1, 3, 1.0, 1 / 3, 1 / 2)
    assert result["precision"] == pytest.approx(1 / 2)


def test_repeated_gold_facts_and_sentence_ids_count_as_the_official_script_counts_them():
    labels = [
        {"h": 0, "t": 1, "r": "P17", "evidence": [0]},
        {"h": 0, "t": 1, "r": "P17", "evidence": [1, 1]},  # the same fact again, a sentence id written twice
        {"h": 1, "t": 2, "r": "P463", "evidence": [2]},
    ]
    result = scores([fact(0, 1, "P17", 0, 1)], [gold(labels)])
    # official: tot_evidences = 1 + 2 + 1 = 4 (every label, every id as written); std[(P17, 0, 1)] = {1} (the last
    # copy). Correct: {0, 1} & {1} = 1 of 2 predicted. P = 1/2, R = 1/4, F1 = 2 * (1/8) / (3/4) = 1/3
    assert_evidence(result, 1, 2, 4, 1 / 2, 1 / 4, 1 / 3)
    assert result["num_gold"] == 2 and result["precision"] == 1.0  # the fact itself counts once


def test_predictions_without_evidence_give_zero_evidence_scores():
    result = scores([fact(0, 1, "P17", with_evidence=False), fact(1, 2, "P463", with_evidence=False)])
    assert result["f1"] == 1.0
    assert_evidence(result, 0, 0, 3, 0.0, 0.0, 0.0)


def test_gold_without_evidence_gives_zero_recall_not_an_error():
    labels = [{"h": 0, "t": 1, "r": "P17"}, {"h": 1, "t": 2, "r": "P463", "evidence": []}]
    result = scores([fact(0, 1, "P17", 0)], [gold(labels)])
    assert_evidence(result, 0, 1, 0, 0.0, 0.0, 0.0)


def test_evidence_sums_over_documents_micro():
    documents = [gold(GOLD_LABELS, "A"), gold(GOLD_LABELS[:1], "B")]  # gold evidence 3 + 2 = 5
    result = scores([fact(0, 1, "P17", 0, title="A"), fact(0, 1, "P17", 0, 1, 3, title="B")], documents)
    # A: 1 of 1; B: {0, 1, 3} & {0, 1} = 2 of 3. P = 3/4, R = 3/5, F1 = 2 * (9/20) / (27/20) = 2/3
    assert_evidence(result, 3, 4, 5, 3 / 4, 3 / 5, 2 / 3)


# ------------------------------------------------------------------------------------------- the official scorer
def official_scores(truth: list[dict], submission: list[dict]) -> dict[str, float]:
    """The scoring loop of thunlp/DocRED code/evaluation.py (RE and evidence parts), transcribed line by line."""
    std = {}
    tot_evidences = 0
    title2vectexSet = {}
    for x in truth:
        title = x["title"]
        title2vectexSet[title] = x["vertexSet"]
        for label in x["labels"]:
            std[(title, label["r"], label["h"], label["t"])] = set(label["evidence"])
            tot_evidences += len(label["evidence"])
    tot_relations = len(std)

    tmp = list(submission)
    tmp.sort(key=lambda x: (x["title"], x["h_idx"], x["t_idx"], x["r"]))
    submission_answer = [tmp[0]]
    for i in range(1, len(tmp)):
        x, y = tmp[i], tmp[i - 1]
        if (x["title"], x["h_idx"], x["t_idx"], x["r"]) != (y["title"], y["h_idx"], y["t_idx"], y["r"]):
            submission_answer.append(tmp[i])

    correct_re = correct_evidence = pred_evi = 0
    for x in submission_answer:
        if x["title"] not in title2vectexSet:
            continue
        evi = set(x["evidence"]) if "evidence" in x else set()
        pred_evi += len(evi)
        key = (x["title"], x["r"], x["h_idx"], x["t_idx"])
        if key in std:
            correct_re += 1
            correct_evidence += len(std[key] & evi)

    re_p = correct_re / len(submission_answer)
    re_r = correct_re / tot_relations
    re_f1 = 0 if re_p + re_r == 0 else 2 * re_p * re_r / (re_p + re_r)
    evi_p = correct_evidence / pred_evi if pred_evi > 0 else 0
    evi_r = correct_evidence / tot_evidences
    evi_f1 = 0 if evi_p + evi_r == 0 else 2 * evi_p * evi_r / (evi_p + evi_r)
    return {"precision": re_p, "recall": re_r, "f1": re_f1,
            "evidence_precision": evi_p, "evidence_recall": evi_r, "evidence_f1": evi_f1}


def random_case(rng: random.Random) -> tuple[list[dict], list[dict]]:
    """Two gold documents with repeated facts and repeated sentence ids, and a submission with duplicates, unknown
    titles, records without evidence and wrong facts, all drawn from a small space so that they collide often."""
    def labels() -> list[dict]:
        return [{"h": rng.randrange(3), "t": rng.randrange(3), "r": rng.choice("PQ"),
                 "evidence": [rng.randrange(4) for _ in range(rng.randrange(3))]} for _ in range(rng.randrange(1, 6))]

    truth = [gold(labels(), "A"), gold(labels(), "B")]
    submission = []
    for _ in range(rng.randrange(1, 10)):
        h, t = rng.sample(range(3), 2)
        record = fact(h, t, rng.choice("PQ"), title=rng.choice("AAAABBBC"), with_evidence=rng.random() < 0.8)
        if "evidence" in record:
            record["evidence"] = [rng.randrange(4) for _ in range(rng.randrange(4))]
        submission.append(record)
    return truth, submission


def test_agrees_with_the_official_scorer_on_random_submissions():
    rng = random.Random(13)
    compared = 0
    while compared < 300:
        truth, submission = random_case(rng)
        truth = [{**doc, "labels": [x for x in doc["labels"] if x["h"] != x["t"]]} for doc in truth]
        if sum(len(x["evidence"]) for doc in truth for x in doc["labels"]) == 0:
            continue  # the official script divides by zero there; see test_gold_without_evidence_...
        expected = official_scores(truth, submission)
        result = scores(submission, truth)
        for key, value in expected.items():
            assert result[key] == pytest.approx(value), (key, truth, submission)
        compared += 1
