"""PubTator and EoG readers, vocabularies and to_dataset on small hand-written files."""

from __future__ import annotations

import json

import pytest

from paee_hf.data import (
    DocumentValidationError,
    RelationVocabulary,
    infer_vocabularies,
    load_docred_label_vocab,
    load_entity_type_vocab,
    read_eog,
    read_pubtator,
    to_dataset,
    validate_document,
)

TITLE = "Lithium toxicity in rats"
ABSTRACT = "Lithium carbonate caused hemorrhagic cystitis. Naloxone did not."
PUBTATOR = "\n".join([
    f"111|t|{TITLE}",
    f"111|a|{ABSTRACT}",
    "111\t0\t7\tLithium\tChemical\tD008094",
    "111\t8\t16\ttoxicity\tDisease\tD064420",
    "111\t25\t42\tLithium carbonate\tChemical\tD016651",
    "111\t50\t70\themorrhagic cystitis\tDisease\tD006470|D003556\themorrhagic|cystitis",
    "111\t72\t80\tNaloxone\tChemical\t-1",
    "111\tCID\tD016651\tD003556",
    "",
])


def test_pubtator_follows_the_eog_entity_rules(tmp_path):
    path = tmp_path / "cdr.txt"
    path.write_text(PUBTATOR, encoding="utf-8")
    documents = read_pubtator(path, label2id={"Na": 0, "CID": 1}, entity_type2id={"Chemical": 0, "Disease": 1})
    (document,) = documents
    assert document["title"] == "111"
    assert document["sents"] == [["Lithium", "toxicity", "in", "rats"],
                                 ["Lithium", "carbonate", "caused", "hemorrhagic", "cystitis", "."],
                                 ["Naloxone", "did", "not", "."]]
    entities = [[(m["kb_id"], m["name"], m["sent_id"], m["pos"]) for m in entity] for entity in document["vertexSet"]]
    assert entities == [
        [("D008094", "Lithium", 0, [0, 1])],
        [("D064420", "toxicity", 0, [1, 2])],
        [("D016651", "Lithium carbonate", 1, [0, 2])],
        [("D006470", "hemorrhagic cystitis", 1, [3, 5])],  # the composite mention belongs to both ids
        [("D003556", "hemorrhagic cystitis", 1, [3, 5])],
        [("-1", "Naloxone", 2, [0, 1])],  # ungrounded: its own entity, never paired
    ]
    original = f"{TITLE} {ABSTRACT}"
    assert all(original[slice(*m["char_span"])] == m["name"] for entity in document["vertexSet"] for m in entity)
    assert document["candidate_pairs"] == [[0, 1], [0, 3], [0, 4], [2, 1], [2, 3], [2, 4]]
    assert document["labels"] == [{"h": 2, "t": 4, "r": "CID", "evidence": []}]
    assert documents.notes[0].startswith("1 composite mentions")
    assert documents.notes[2].startswith("1 mentions with id -1")


def test_pubtator_gene_disease_and_errors(tmp_path):
    gda = "\n".join(["7|t|BRCA1 and cancer.", "7|a|More.", "7\t0\t5\tBRCA1\tGene\t672",
                     "7\t10\t16\tcancer\tDisease\tD009369", "7\tGDA\t672\tD009369", "", ""])
    path = tmp_path / "gda.txt"
    path.write_text(gda, encoding="utf-8")
    assert read_pubtator(path, head_type="Gene")[0]["labels"] == [{"h": 0, "t": 1, "r": "GDA", "evidence": []}]
    with pytest.raises(DocumentValidationError, match=r"line 5 GDA head 672 is a Gene, not a Chemical"):
        read_pubtator(path)

    broken = PUBTATOR.replace("111\t8\t16\ttoxicity", "111\t8\t15\ttoxicity") + gda
    path.write_text(broken, encoding="utf-8")
    message = r"""document 0 \("111"\): line 4 mention text 'toxicity' differs from the text at \[8, 15\): 'toxicit'"""
    with pytest.raises(DocumentValidationError, match=message):
        read_pubtator(path, head_type="Gene")
    with pytest.warns(UserWarning, match=message):
        documents = read_pubtator(path, head_type="Gene", on_invalid="skip")
    assert [d["title"] for d in documents] == ["7"] and documents.skipped[0].doc_index == 0

    path.write_text(PUBTATOR.replace("D016651\tD003556", "D016651\tD999999") + gda, encoding="utf-8")
    with pytest.raises(DocumentValidationError, match=r"line 8 CID tail D999999 has no mention in the document"):
        read_pubtator(path)
    with pytest.warns(UserWarning, match=r"line 8 CID head D016651 is a Chemical, not a Gene"):
        documents = read_pubtator(path, on_invalid="skip", head_type="Gene")
    # the skipped document's composite and ungrounded mentions are not counted in the notes
    assert documents.notes[0].startswith("0 composite") and documents.notes[2].startswith("0 mentions with id -1")
    path.write_text(PUBTATOR.replace("111\t0\t7\t", "111\t0\t7\t\t"), encoding="utf-8")
    with pytest.raises(DocumentValidationError, match=r"line 3 has 7 tab-separated fields|line 3 mention text"):
        read_pubtator(path)
    path.write_text(PUBTATOR.replace("111\t0\t7\tLithium\tChemical\tD008094", "111\tzero\t7\tLithium\tChemical\tD1"),
                    encoding="utf-8")
    with pytest.raises(DocumentValidationError, match=r"line 3 has offsets 'zero', '7'"):
        read_pubtator(path)


EOG_TEXT = "Lithium toxicity in rats|Lithium carbonate caused hemorrhagic cystitis .|Naloxone did not ."
EOG_PAIRS = [  # 17 tab-separated fields each; shown with " | " between fields
    "1:CID:2 | L2R | NON-CROSS | 4-6 | 7-9 | D016651 | Lithium carbonate | Chemical | 4 | 6 | 1 | "
    "D006470 | hemorrhagic cystitis | Disease | 7 | 9 | 1",
    "1:NR:2 | R2L | NON-CROSS | 0-1 | 1-2 | D008094 | Lithium | Chemical | 0 | 1 | 0 | "
    "D064420 | toxicity | Disease | 1 | 2 | 0",
    "not_include | L2R | CROSS | 0-1 | 7-9 | D008094 | Lithium | Chemical | 0 | 1 | 0 | "
    "D006470 | hemorrhagic cystitis | Disease | 7 | 9 | 1",
]


def eog_line(pairs: list[str]) -> str:
    return "\t".join(["111", EOG_TEXT, *(pair.replace(" | ", "\t") for pair in pairs)])


def test_eog_reader(tmp_path):
    path = tmp_path / "dev_filter.data"
    path.write_text(eog_line(EOG_PAIRS) + "\n", encoding="utf-8")
    documents = read_eog(path, label2id={"Na": 0, "CID": 1})
    (document,) = documents
    assert document["sents"][1] == ["Lithium", "carbonate", "caused", "hemorrhagic", "cystitis", "."]
    assert [[(m["kb_id"], m["sent_id"], m["pos"]) for m in entity] for entity in document["vertexSet"]] == [
        [("D008094", 0, [0, 1])], [("D064420", 0, [1, 2])], [("D016651", 1, [0, 2])], [("D006470", 1, [3, 5])]]
    assert document["candidate_pairs"] == [[2, 3], [0, 1]]  # the not_include pair is left out
    assert document["labels"] == [{"h": 2, "t": 3, "r": "CID", "evidence": []}]
    assert documents.notes == ["1 'not_include' pairs (hypernym-filtered negatives) are neither classified nor "
                               "labelled; their entities are kept"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (eog_line(EOG_PAIRS)[:-2], r"document 0 \(\"111\"\): line has 52 tab-separated fields"),
        (eog_line([EOG_PAIRS[0].replace("Chemical | 4 | 6 | 1", "Chemical | 3 | 6 | 1")]),
         r"pair 0 entity D016651 mention \[3, 6\) lies outside sentence 1 \(words 4\.\.9\)"),
        (eog_line([EOG_PAIRS[0], EOG_PAIRS[0].replace("Chemical | 4 | 6 | 1", "Chemical | 5 | 6 | 1")]),
         r"pair 1 lists entity D016651 with other mentions or type than an earlier pair"),
        (eog_line([EOG_PAIRS[0].replace("1:CID:2 |", "CID |")]), r"pair 0 has label 'CID'"),
        (eog_line([EOG_PAIRS[0].replace("Chemical | 4 | 6 | 1", "Chemical | 4:5 | 6 | 1")]),
         r"entity D016651 has 1/2/1/1 names/starts/ends/sentences"),
    ],
)
def test_eog_errors(tmp_path, line, message):
    path = tmp_path / "bad.data"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(DocumentValidationError, match=message):
        read_eog(path)


def test_label_vocabulary_from_files(tmp_path):
    rel2id, rel_info = tmp_path / "rel2id.json", tmp_path / "rel_info.json"
    rel2id.write_text(json.dumps({"P17": 1, "Na": 0, "P131": 2}))
    rel_info.write_text(json.dumps({"P17": "country"}))
    vocabulary = load_docred_label_vocab(rel2id, rel_info)
    assert vocabulary.id2label == {0: "Na", 1: "P17", 2: "P131"} and vocabulary.no_relation_label == "Na"
    assert vocabulary.display_name("P17") == "country" and vocabulary.display_name("P131") == "P131"
    rel2id.write_text(json.dumps({"Na": 0, "P17": 2}))
    with pytest.raises(ValueError, match=r"rel2id\.json: label2id ids must be 0\.\.1, each once; got \[0, 2\]"):
        load_docred_label_vocab(rel2id)
    rel2id.write_text(json.dumps(["Na", "P17"]))
    with pytest.raises(ValueError, match=r"expected a JSON object of int values"):
        load_docred_label_vocab(rel2id)
    ner2id = tmp_path / "ner2id.json"
    ner2id.write_text(json.dumps({"BLANK": 0, "ORG": 1}))
    assert load_entity_type_vocab(ner2id) == {"BLANK": 0, "ORG": 1}
    ner2id.write_text(json.dumps({"ORG": 1}))
    with pytest.raises(ValueError, match=r"ner2id\.json: entity_type2id ids must be 0\.\.0"):
        load_entity_type_vocab(ner2id)


def test_infer_vocabularies(tmp_path):
    path = tmp_path / "cdr.txt"
    path.write_text(PUBTATOR, encoding="utf-8")
    relations, types = infer_vocabularies(read_pubtator(path))
    assert relations == RelationVocabulary({"Na": 0, "CID": 1}) and types == {"Chemical": 0, "Disease": 1}
    with pytest.raises(ValueError, match=r"relation 'CID' appears in the labels but is the no-relation class"):
        infer_vocabularies(read_pubtator(path), no_relation_label="CID")


def test_to_dataset_keeps_documents_and_reads_back_valid(tmp_path):
    path = tmp_path / "cdr.txt"
    path.write_text(PUBTATOR, encoding="utf-8")
    (document,) = read_pubtator(path)
    unlabelled = {key: value for key, value in document.items() if key not in ("labels", "candidate_pairs")}
    dataset = to_dataset([document, unlabelled])
    assert dataset[0] == document
    assert dataset[1]["labels"] is None and dataset[1]["candidate_pairs"] is None
    for index, row in enumerate(dataset):
        validate_document(row, index, "dataset")
