"""Validation of DocRED-format documents and the DocRED/DWIE JSON readers on small hand-written files."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from paee_hf.data import (
    DocumentValidationError,
    read_docred,
    read_dwie,
    validate_document,
)

LABEL2ID = {"Na": 0, "P17": 1, "P131": 2}
TYPES = {"PER": 0, "LOC": 1, "ORG": 2}


def make_document(title: str = "Ali Abdullah Ahmed") -> dict:
    return {
        "title": title,
        "sents": [["John", "Smith", "lives", "in", "Paris", "."], ["He", "works", "for", "Acme", "Corp", "."]],
        "vertexSet": [
            [{"name": "John Smith", "pos": [0, 2], "sent_id": 0, "type": "PER"},
             {"name": "He", "pos": [0, 1], "sent_id": 1, "type": "PER"}],
            [{"name": "Paris", "pos": [4, 5], "sent_id": 0, "type": "LOC"}],
            [{"name": "Acme Corp", "pos": [3, 5], "sent_id": 1, "type": "ORG"}],
        ],
        "labels": [{"h": 0, "t": 1, "r": "P17", "evidence": [0]}, {"h": 2, "t": 1, "r": "P131", "evidence": []}],
    }


def write_json(path, value) -> str:
    path.write_text(json.dumps(value), encoding="utf-8")
    return str(path)


def test_valid_document_passes_and_extra_keys_and_nulls_are_accepted():
    document = make_document()
    document["vertexSet"][0][0]["global_pos"] = [0, 0]  # Re-DocRED extra key
    document["labels"][0]["evidence"] = [None]  # converted CDR writes [null]
    document["candidate_pairs"] = None  # datasets fills absent fields with None
    validate_document(document, 0, "dev.json", LABEL2ID, TYPES)
    unlabelled = make_document()
    del unlabelled["labels"]
    validate_document(unlabelled, 0, "test.json", LABEL2ID, TYPES)


def test_message_names_file_document_field_and_fix():
    document = make_document()
    document["vertexSet"][1][0]["pos"] = [4, 40]
    with pytest.raises(DocumentValidationError) as caught:
        validate_document(document, 17, "dev.json", LABEL2ID, TYPES)
    assert str(caught.value) == (
        'dev.json, document 17 ("Ali Abdullah Ahmed"): vertexSet[1][0].pos [4, 40] lies outside sentence 0 '
        "(length 6). Fix the mention's pos or sent_id (pos is [start, end) in words, within the sentence)"
    )
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.source, error.doc_index, error.title, error.field) == ("dev.json", 17, "Ali Abdullah Ahmed",
                                                                         "vertexSet[1][0].pos")
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def _mutate(path: str, value):
    """Set a nested field of a fresh document, addressed like 'vertexSet.0.0.pos' (None deletes it)."""
    document = make_document()
    *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
    target = document
    for part in parents:
        target = target[part]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("vertexSet.1.0.sent_id", 5,
         r"vertexSet\[1\]\[0\]\.sent_id 5 is not a sentence of this document \(2 sentences\)"),
        ("vertexSet.1.0.pos", [5, 5], r"vertexSet\[1\]\[0\]\.pos \[5, 5\] lies outside sentence 0"),
        ("vertexSet.1.0.pos", [1.0, 2], r"vertexSet\[1\]\[0\]\.pos is \[1\.0, 2\], not a list \[start, end\)"),
        ("vertexSet.1", [], r"vertexSet\[1\] is an empty entity \(no mentions\)\. Remove the entity"),
        ("vertexSet.1.0.type", "CITY", r"vertexSet\[1\]\[0\]\.type 'CITY' is not a known entity type"),
        ("vertexSet.1.0.name", None, r"vertexSet\[1\]\[0\]\.name is missing"),
        ("labels.0.r", "P999", r"labels\[0\]\.r 'P999' is not a known relation .*add it to label2id"),
        ("labels.0.r", "Na", r"labels\[0\]\.r 'Na' is the no-relation class"),
        ("labels.0.t", 0, r"labels\[0\] has head == tail \(0\)"),
        ("labels.0.h", 3, r"labels\[0\]\.h is 3, not an entity index \(0\.\.2\)"),
        ("labels.0.h", True, r"labels\[0\]\.h is True, not an entity index"),
        ("labels.1", {"h": 0, "t": 1, "r": "P17"}, r"labels\[1\] repeats labels\[0\] .*duplicate_labels='merge'"),
        ("labels.0.evidence", [7], r"labels\[0\]\.evidence contains 7, not a sentence index \(0\.\.1\)"),
        ("labels.0.evidence", "0", r"labels\[0\]\.evidence is a string, not a list"),
        ("labels", {"h": 0}, r"labels is an object, not a list"),
        ("sents", "John Smith", r"sents is a string, not a list of sentences"),
        ("sents.1", "He works", r"sents\[1\] is a string, not a list of words"),
        ("sents.1", [], r"sents\[1\] is empty"),
        ("sents.1.0", 3, r"sents\[1\]\[0\] is an integer, not a string"),
        ("vertexSet", {"0": []}, r"vertexSet is an object, not a list of entities"),
        ("vertexSet", [], r"vertexSet is empty"),
        ("vertexSet.0", {"name": "x"}, r"vertexSet\[0\] is an object, not a list of mentions"),
        ("title", 5, r"document 0 \(without a title\): title is an integer, not a string"),
        ("title", None, r"title is missing"),
    ],
)
def test_each_problem_is_reported_with_its_field(path, value, message):
    with pytest.raises(DocumentValidationError, match=message):
        validate_document(_mutate(path, value), 0, "dev.json", LABEL2ID, TYPES)


def test_document_that_is_not_an_object():
    with pytest.raises(DocumentValidationError, match=r"dev\.json, document 3 \(without a title\): document is a "
                                                      r"list, not an object"):
        validate_document([], 3, "dev.json")


def test_candidate_pairs_and_entity_names_are_checked():
    def with_field(key, value):
        document = make_document()
        document[key] = value
        return document

    validate_document(with_field("candidate_pairs", [[0, 1], [2, 1], [1, 2]]), 0, "x")
    with pytest.raises(DocumentValidationError, match=r"candidate_pairs lacks the labelled pair \[2, 1\]"):
        validate_document(with_field("candidate_pairs", [[0, 1]]), 0, "x")
    with pytest.raises(DocumentValidationError, match=r"candidate_pairs\[2\] \[0, 1\] appears twice"):
        validate_document(with_field("candidate_pairs", [[0, 1], [2, 1], [0, 1]]), 0, "x")
    with pytest.raises(DocumentValidationError, match=r"candidate_pairs\[0\] has head == tail \(1\)"):
        validate_document(with_field("candidate_pairs", [[1, 1]]), 0, "x")
    with pytest.raises(DocumentValidationError, match=r"entity_names has 1 names for 3 entities"):
        validate_document(with_field("entity_names", ["John"]), 0, "x")


def test_read_docred_returns_documents_with_source(tmp_path):
    path = write_json(tmp_path / "dev.json", [make_document("A"), make_document("B")])
    documents = read_docred(path, label2id=LABEL2ID, entity_type2id=TYPES)
    assert [document["title"] for document in documents] == ["A", "B"]
    assert documents.source == path and documents.skipped == [] and documents.notes == []


def test_read_docred_raises_on_the_first_invalid_document(tmp_path):
    bad = make_document("Bad one")
    bad["labels"][0]["r"] = "P999"
    path = write_json(tmp_path / "dev.json", [make_document("A"), bad])
    with pytest.raises(DocumentValidationError, match=r'dev\.json, document 1 \("Bad one"\): labels\[0\]\.r'):
        read_docred(path, label2id=LABEL2ID)


def test_skip_reports_every_skipped_document(tmp_path):
    empty_entity, head_is_tail = make_document("Empty entity"), make_document("Head is tail")
    empty_entity["vertexSet"][2] = []
    head_is_tail["labels"][1]["t"] = 2
    path = write_json(tmp_path / "dev.json", [empty_entity, make_document("Good"), head_is_tail])
    with pytest.warns(UserWarning) as warned:
        documents = read_docred(path, on_invalid="skip")
    assert [document["title"] for document in documents] == ["Good"]
    assert [(skip.doc_index, skip.title) for skip in documents.skipped] == [(0, "Empty entity"), (2, "Head is tail")]
    assert "vertexSet[2] is an empty entity" in documents.skipped[0].reason
    assert "labels[1] has head == tail (2)" in documents.skipped[1].reason
    messages = [str(warning.message) for warning in warned]
    assert len(messages) == 2 and 'document 0 ("Empty entity")' in messages[0] and "document 2" in messages[1]


def test_duplicate_labels_raise_or_merge_with_a_report(tmp_path):
    document = make_document("Dup")
    document["labels"].append({"h": 0, "t": 1, "r": "P17", "evidence": [1, 0]})
    path = write_json(tmp_path / "dev.json", [document])
    with pytest.raises(DocumentValidationError, match=r"labels\[2\] repeats labels\[0\] \(h=0, t=1, r='P17'\)"):
        read_docred(path)
    with pytest.warns(UserWarning, match=r"merged 1 repeated relation facts"):
        documents = read_docred(path, duplicate_labels="merge")
    assert documents[0]["labels"] == [{"h": 0, "t": 1, "r": "P17", "evidence": [0, 1]},
                                      {"h": 2, "t": 1, "r": "P131", "evidence": []}]
    assert len(documents.notes) == 1 and 'document 0 ("Dup"): labels[2] repeats' in documents.notes[0]
    with pytest.warns(UserWarning, match=r"merged 1"):
        assert read_dwie(path)[0]["labels"] == documents[0]["labels"]  # DWIE merges by default


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"title": "x"}', r"holds an object, not a list of documents.*wrap a single document in \[ \]"),
        (b"[1, 2", r"not valid JSON at line 1, column 6"),
        ('[{"title": "Caf\u00e9"}]'.encode("latin-1"), r"byte 15 is not valid UTF-8 .*Re-encode the file as UTF-8"),
    ],
)
def test_file_level_errors(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_docred(path)


def test_missing_file_and_bad_options(tmp_path):
    with pytest.raises(ValueError, match=r"no such file"):
        read_docred(tmp_path / "missing.json")
    path = write_json(tmp_path / "dev.json", [make_document()])
    with pytest.raises(ValueError, match=r"on_invalid='ignore' is not supported"):
        read_docred(path, on_invalid="ignore")
    with pytest.raises(ValueError, match=r"duplicate_labels='keep' is not supported"):
        read_docred(path, duplicate_labels="keep")


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([make_document()]).encode("utf-8"))
    assert read_docred(path)[0] == make_document()


def test_reader_does_not_change_valid_documents(tmp_path):
    original = [make_document("A")]
    assert read_docred(write_json(tmp_path / "dev.json", copy.deepcopy(original)), duplicate_labels="merge") == original
