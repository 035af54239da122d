"""paee_hf.metrics.evaluate_end_to_end (JEREX's joint evaluator) against values computed by hand, and gold_record."""

from __future__ import annotations

import json

import pytest
from tiny_models import shared_data

from paee_hf.metrics import END_TO_END_LEVELS, evaluate_end_to_end, gold_record
from paee_hf.validation import DocumentValidationError


def entity(entity_type: str, *spans: tuple[int, int]) -> dict:
    return {"type": entity_type, "mentions": [{"start": start, "end": end} for start, end in spans]}


def relation(h: int, t: int, r: str) -> dict:
    return {"h_idx": h, "t_idx": t, "r": r}


# "Marie Curie met Pierre Curie in Paris. She married him in Paris."
#  0          11   16         28  32   37 40 43      51     58   63
MARIE, PIERRE, PARIS, SHE, PARIS_2, MARRIED = (0, 11), (16, 28), (32, 37), (40, 43), (58, 63), (44, 51)
GOLD_A = {
    "title": "A",
    "entities": [entity("PER", MARIE, SHE), entity("PER", PIERRE), entity("LOC", PARIS, PARIS_2)],
    "relations": [relation(0, 1, "spouse"), relation(0, 2, "residence"), relation(1, 2, "residence")],
}  # gold: 5 mentions, 3 clusters, 3 entities, 3 relations, 3 strict relations
PREDICTED_A = {
    "title": "A",
    "entities": [
        entity("PER", MARIE),  # partial cluster: "She" missed
        entity("ORG", PIERRE),  # right cluster, wrong type
        entity("LOC", PARIS, PARIS_2),  # right
        entity("LOC", PARIS_2, PARIS),  # the same entity again (mention order does not matter): counted once
        entity("MISC", MARRIED),  # spurious
    ],
    "relations": [
        relation(1, 2, "residence"),  # clusters right, head type wrong: relation yes, strict no
        relation(1, 3, "residence"),  # the same relation through the duplicate entity: counted once
        relation(0, 2, "residence"),  # head cluster partial: wrong at both levels
        relation(2, 1, "residence"),  # reversed direction: wrong
    ],
}
# "Acme Inc. in Berlin"; both sides agree
GOLD_B = {"title": "B", "entities": [entity("ORG", (0, 9)), entity("LOC", (13, 19))],
          "relations": [relation(0, 1, "located_in")]}


def test_one_document_by_hand():
    scores = evaluate_end_to_end([PREDICTED_A], [GOLD_A])
    # mentions: predicted {MARIE, PIERRE, PARIS, PARIS_2, MARRIED} = 5 (duplicates once), 4 right, gold 5
    assert (scores["num_mention_correct"], scores["num_mention_predicted"], scores["num_mention_gold"]) == (4, 5, 5)
    assert scores["mention_f1"] == pytest.approx(4 / 5)
    # clusters: {MARIE}, {PIERRE}, {PARIS, PARIS_2}, {MARRIED} = 4; right: {PIERRE}, {PARIS, PARIS_2}; gold 3
    # P = 2/4, R = 2/3, F1 = 2 * (1/3) / (7/6) = 4/7
    assert (scores["num_cluster_correct"], scores["num_cluster_predicted"], scores["num_cluster_gold"]) == (2, 4, 3)
    assert (scores["cluster_precision"], scores["cluster_recall"], scores["cluster_f1"]) == pytest.approx(
        (1 / 2, 2 / 3, 4 / 7))
    # entities: 4 typed clusters, only Paris LOC right. P = 1/4, R = 1/3, F1 = 2 * (1/12) / (7/12) = 2/7
    assert (scores["num_entity_correct"], scores["num_entity_predicted"], scores["num_entity_gold"]) == (1, 4, 3)
    assert scores["entity_f1"] == pytest.approx(2 / 7)
    # relations without types: ({PIERRE}, PARIS*, residence) [twice], ({MARIE}, PARIS*, ...), (PARIS*, {PIERRE}, ...)
    # = 3 unique, 1 right (Pierre lives in Paris), gold 3. P = R = F1 = 1/3
    assert (scores["num_relation_correct"], scores["num_relation_predicted"], scores["num_relation_gold"]) == (1, 3, 3)
    assert scores["relation_f1"] == pytest.approx(1 / 3)
    # strict: the one right relation has Pierre typed ORG -> 0 of 3
    assert (scores["num_strict_relation_correct"], scores["num_strict_relation_predicted"]) == (0, 3)
    assert scores["strict_relation_f1"] == 0.0
    assert scores["num_documents"] == 1


def test_micro_average_over_documents_by_hand():
    scores = evaluate_end_to_end([PREDICTED_A, GOLD_B], [GOLD_A, GOLD_B])
    # B adds 2 right mentions, 2 clusters, 2 entities, 1 relation, 1 strict relation to both sides
    # mention: 6 / 7 predicted, 6 / 7 gold
    assert scores["mention_precision"] == scores["mention_recall"] == pytest.approx(6 / 7)
    # cluster: 4 of 6 predicted, 5 gold. P = 2/3, R = 4/5, F1 = (16/15) / (22/15) = 8/11
    assert (scores["cluster_precision"], scores["cluster_recall"], scores["cluster_f1"]) == pytest.approx(
        (2 / 3, 4 / 5, 8 / 11))
    # entity: 3 of 6 predicted, 5 gold. P = 1/2, R = 3/5, F1 = (3/5) / (11/10) = 6/11
    assert scores["entity_f1"] == pytest.approx(6 / 11)
    # relation: 2 of 4, 4 gold -> 1/2; strict: 1 of 4, 4 gold -> 1/4
    assert scores["relation_f1"] == pytest.approx(1 / 2)
    assert (scores["strict_relation_precision"], scores["strict_relation_recall"]) == pytest.approx((1 / 4, 1 / 4))
    assert scores["num_documents"] == 2


def test_gold_against_itself_scores_one_everywhere_and_keys_are_complete():
    scores = evaluate_end_to_end([GOLD_A, GOLD_B], [GOLD_A, GOLD_B])
    for level in END_TO_END_LEVELS:
        assert scores[f"{level}_precision"] == scores[f"{level}_recall"] == scores[f"{level}_f1"] == 1.0, level
    expected_keys = {f"{level}_{score}" for level in END_TO_END_LEVELS for score in ("precision", "recall", "f1")}
    expected_keys |= {f"num_{level}_{count}" for level in END_TO_END_LEVELS for count in ("predicted", "gold",
                                                                                            "correct")}
    assert set(scores) == expected_keys | {"num_documents"}
    assert all(type(value) in (float, int) for value in scores.values())


def test_a_cluster_with_an_extra_mention_is_wrong_though_every_gold_span_is_found():
    predicted = {"entities": [entity("PER", MARIE, SHE, PIERRE), entity("LOC", PARIS, PARIS_2)],
                 "relations": [relation(0, 1, "residence")]}
    scores = evaluate_end_to_end([predicted], [GOLD_A])
    # every gold mention found (5 of 5, precision 5/5), but {MARIE, SHE, PIERRE} equals no gold cluster:
    # clusters 1 of 2 right (Paris), gold 3; the relation's head cluster is wrong
    assert scores["mention_f1"] == 1.0
    assert (scores["cluster_precision"], scores["cluster_recall"]) == pytest.approx((1 / 2, 1 / 3))
    assert scores["num_relation_correct"] == 0 and scores["num_relation_predicted"] == 1


def test_a_relation_with_a_mistyped_entity_counts_in_relation_f1_not_in_strict():
    predicted = {"entities": [entity("ORG", (0, 9)), entity("GPE", (13, 19))],
                 "relations": [relation(0, 1, "located_in")]}
    scores = evaluate_end_to_end([predicted], [GOLD_B])
    assert scores["cluster_f1"] == 1.0 and scores["relation_f1"] == 1.0
    # entities: ORG right, GPE wrong -> P = R = 1/2
    assert scores["entity_f1"] == pytest.approx(1 / 2)
    assert scores["strict_relation_f1"] == 0.0 and scores["num_strict_relation_predicted"] == 1


def test_a_wrong_relation_label_is_wrong_at_both_relation_levels():
    predicted = {"entities": GOLD_B["entities"], "relations": [relation(0, 1, "founded_in")]}
    scores = evaluate_end_to_end([predicted], [GOLD_B])
    assert scores["entity_f1"] == 1.0
    assert scores["relation_f1"] == scores["strict_relation_f1"] == 0.0


def test_duplicates_count_once_on_both_sides():
    doubled = {
        "entities": [entity("ORG", (0, 9), (0, 9)), entity("ORG", (0, 9)), entity("LOC", (13, 19))],
        "relations": [relation(0, 2, "located_in"), relation(1, 2, "located_in"), relation(0, 2, "located_in")],
    }  # a span listed twice in one entity, the entity twice, the relation three times
    scores = evaluate_end_to_end([doubled], [doubled])
    assert (scores["num_mention_gold"], scores["num_cluster_gold"], scores["num_entity_gold"]) == (2, 2, 2)
    assert scores["num_relation_gold"] == scores["num_strict_relation_predicted"] == 1
    assert evaluate_end_to_end([doubled], [GOLD_B]) == evaluate_end_to_end([GOLD_B], [GOLD_B])


def test_the_same_span_as_two_entities_counts_as_one_mention():
    # CDR's composite mentions: one span linked to two entities (two clusters, one mention)
    gold = {"entities": [entity("Disease", (0, 20)), entity("Disease", (0, 20), (30, 40))], "relations": []}
    scores = evaluate_end_to_end([gold], [gold])
    assert (scores["num_mention_gold"], scores["num_cluster_gold"]) == (2, 2)


def test_empty_predictions_score_zero_and_empty_gold_is_no_error():
    empty = {"title": "A", "entities": [], "relations": []}
    scores = evaluate_end_to_end([empty], [GOLD_A])
    for level in END_TO_END_LEVELS:
        assert (scores[f"{level}_precision"], scores[f"{level}_recall"], scores[f"{level}_f1"]) == (0.0, 0.0, 0.0)
        assert scores[f"num_{level}_predicted"] == 0
    assert scores["num_mention_gold"] == 5
    nothing = evaluate_end_to_end([empty, empty], [empty, empty])
    assert nothing["strict_relation_f1"] == 0.0 and nothing["num_documents"] == 2
    assert evaluate_end_to_end([], [])["num_documents"] == 0


def test_documents_are_matched_by_position():
    untitled_a, untitled_b = ({key: value for key, value in record.items() if key != "title"}
                              for record in (GOLD_A, GOLD_B))
    # without titles nothing stops a swap: B's facts are scored against A's gold and vice versa
    swapped = evaluate_end_to_end([untitled_b, untitled_a], [GOLD_A, GOLD_B])
    assert swapped["num_mention_correct"] == 0 and swapped["relation_f1"] == 0.0
    with pytest.raises(ValueError, match=r"predictions\[0\] is titled 'B' but references\[0\] is titled 'A'; "
                                         r"records are matched by position"):
        evaluate_end_to_end([GOLD_B, GOLD_A], [GOLD_A, GOLD_B])


@pytest.mark.parametrize(("record", "message"), [
    ([1, 2], r"predictions\[0\] must be a record \{title, entities, relations\} \(a dict\), got list"),
    ({"title": "A", "entities": []}, r"predictions\[0\] \('A'\) has no field 'relations'; records need entities "
                                     r"and relations \(an empty list where there are none\)"),
    ({"entities": {"type": "PER"}, "relations": []}, r"field 'entities' must be a list of \{type, mentions\}, "
                                                     r"got dict"),
    ({"entities": [{"mentions": [{"start": 0, "end": 3}]}], "relations": []},
     r"predictions\[0\]: entities\[0\] needs a string 'type'"),
    ({"entities": [{"type": "PER", "mentions": []}], "relations": []},
     r"entities\[0\] needs a non-empty list 'mentions' of \{start, end\} character spans; drop entities without"),
    ({"entities": [entity("PER", (0, 3)), {"type": "PER", "mentions": [{"start": "0", "end": 3}]}],
      "relations": []}, r"entities\[1\]\.mentions\[0\] needs non-negative integer character offsets"),
    ({"entities": [{"type": "PER", "mentions": [{"start": True, "end": 3}]}], "relations": []},
     r"entities\[0\]\.mentions\[0\] needs non-negative integer character offsets"),
    ({"entities": [entity("PER", (5, 5))], "relations": []},
     r"entities\[0\]\.mentions\[0\]: span \[5, 5\) is empty or inverted; give start < end, end exclusive"),
    ({"entities": [entity("PER", (0, 3))], "relations": "none"}, r"field 'relations' must be a list"),
    ({"entities": [entity("PER", (0, 3)), entity("LOC", (4, 6))], "relations": [relation(0, 2, "P17")]},
     r"relations\[0\]: field 't_idx' must index the record's entities \(0\.\.1\), got 2"),
    ({"entities": [entity("PER", (0, 3)), entity("LOC", (4, 6))], "relations": [relation(1, 1, "P17")]},
     r"relations\[0\]: h_idx and t_idx are both 1; a relation links two different entities"),
    ({"entities": [entity("PER", (0, 3)), entity("LOC", (4, 6))], "relations": [{"h_idx": 0, "t_idx": 1}]},
     r"relations\[0\]: field 'r' must be a relation id string, got None"),
    ({"title": 7, "entities": [], "relations": []}, r"predictions\[0\]: field 'title' must be a string, got 7"),
])
def test_malformed_records_name_side_index_and_field(record, message):
    with pytest.raises(ValueError, match=message):
        evaluate_end_to_end([record], [GOLD_B])


def test_malformed_references_are_named_as_references():
    with pytest.raises(ValueError, match=r"references\[1\] \('B'\): entities\[0\]\.mentions\[0\]: span \[9, 2\)"):
        evaluate_end_to_end([GOLD_A, GOLD_B], [GOLD_A, {**GOLD_B, "entities": [entity("ORG", (9, 2))]}])


def test_record_counts_must_agree():
    with pytest.raises(ValueError, match=r"1 prediction records but 2 reference records; give one record per "
                                         r"document on each side, in the same order"):
        evaluate_end_to_end([GOLD_A], [GOLD_A, GOLD_B])


# ------------------------------------------------------------------------------------------------ gold_record
def docred_document() -> dict:
    return {
        "title": "Curie",
        "sents": [["Marie", "Curie", "was", "born", "in", "Warsaw", "."], ["She", "moved", "to", "Paris", "."]],
        "vertexSet": [
            [{"name": "Marie Curie", "pos": [0, 2], "sent_id": 0, "type": "PER"},
             {"name": "She", "pos": [0, 1], "sent_id": 1, "type": "PER"}],
            [{"name": "Warsaw", "pos": [5, 6], "sent_id": 0, "type": "LOC"}],
            [{"name": "Paris", "pos": [3, 4], "sent_id": 1, "type": "GPE"}],  # JEREX's reader: first mention's type
        ],
        "labels": [{"h": 0, "t": 1, "r": "P19", "evidence": [0]}, {"h": 0, "t": 2, "r": "P551", "evidence": [1]}],
    }


def test_gold_record_by_hand():
    record = gold_record(docred_document())
    # "Marie Curie was born in Warsaw . She moved to Paris ."
    #  0     6     12  16   21 24     31 33  37    43 46    52
    assert record["text"] == "Marie Curie was born in Warsaw . She moved to Paris ."
    assert record["title"] == "Curie"
    assert record["entities"] == [
        {"name": "Marie Curie", "type": "PER",
         "mentions": [{"start": 0, "end": 11, "text": "Marie Curie"}, {"start": 33, "end": 36, "text": "She"}]},
        {"name": "Warsaw", "type": "LOC", "mentions": [{"start": 24, "end": 30, "text": "Warsaw"}]},
        {"name": "Paris", "type": "GPE", "mentions": [{"start": 46, "end": 51, "text": "Paris"}]},
    ]
    assert record["relations"] == [{"h_idx": 0, "t_idx": 1, "r": "P19"}, {"h_idx": 0, "t_idx": 2, "r": "P551"}]
    assert evaluate_end_to_end([record], [record])["strict_relation_f1"] == 1.0


def test_gold_record_types_an_entity_by_its_first_mention():
    document = docred_document()
    document["vertexSet"][0][1]["type"] = "MISC"
    assert gold_record(document)["entities"][0]["type"] == "PER"


def test_gold_record_rejects_invalid_and_unlabelled_documents():
    document = docred_document()
    document["vertexSet"][1][0]["pos"] = [5, 9]
    with pytest.raises(DocumentValidationError, match=r"dev\.json, document 3 \(\"Curie\"\): vertexSet\[1\]\[0\]\.pos "
                                                      r"\[5, 9\] lies outside sentence 0"):
        gold_record(document, 3, "dev.json")
    unlabelled = {key: value for key, value in docred_document().items() if key != "labels"}
    with pytest.raises(DocumentValidationError, match=r"labels is missing\. A gold record needs the gold relations"):
        gold_record(unlabelled)


@pytest.mark.slow
def test_gold_records_of_real_redocred_dev_are_exact():
    documents = json.loads(shared_data("re-docred", "dev_revised.json").read_text(encoding="utf-8"))
    records = [gold_record(document, index, "dev_revised.json") for index, document in enumerate(documents)]
    for document, record in zip(documents, records):
        for mentions, gold_entity in zip(document["vertexSet"], record["entities"]):
            for mention, span in zip(mentions, gold_entity["mentions"]):
                start, end = mention["pos"]
                words = " ".join(document["sents"][mention["sent_id"]][start:end])
                assert record["text"][span["start"]:span["end"]] == span["text"] == words
    scores = evaluate_end_to_end(records, records)
    assert all(scores[f"{level}_f1"] == 1.0 for level in END_TO_END_LEVELS)
    # document 9 annotates one entity twice (vertexSet 5 and 6: the same mention and type); as clusters they are one
    # entity, so 8 of the 17,284 DocRED facts coincide with others, as they would for JEREX
    assert records[9]["entities"][5] == records[9]["entities"][6]
    assert scores["num_relation_gold"] == scores["num_strict_relation_gold"] == 17284 - 8
    assert scores["num_entity_gold"] == sum(len(document["vertexSet"]) for document in documents) - 1
