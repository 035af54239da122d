"""``datasets`` as a source of documents: ``save_to_disk`` directories, ``Dataset`` objects and Hub ids in the DocRED
Hub schema, read through one adapter into the same validated documents as the JSON files, and trained on."""

from __future__ import annotations

import json

import datasets
import pytest
from datasets.exceptions import DatasetNotFoundError
from test_training import make_documents, tiny_config_dict

from paee_hf.data import DatasetColumnsError, DocumentValidationError, read_documents, to_dataset
from paee_hf.data.hf_dataset import parse_hub_source
from paee_hf.training.config import TrainingConfig, resolve_data_source
from paee_hf.training.loop import load_run_data, train

#: The ``docred`` Hub dataset's features: ``labels`` is a struct of lists (``Sequence`` of a dict in its script).
HUB_FEATURES = datasets.Features({
    "title": datasets.Value("string"),
    "sents": datasets.List(datasets.List(datasets.Value("string"))),
    "vertexSet": datasets.List(datasets.List({
        "name": datasets.Value("string"), "sent_id": datasets.Value("int32"),
        "pos": datasets.List(datasets.Value("int32")), "type": datasets.Value("string"),
    })),
    "labels": {
        "head": datasets.List(datasets.Value("int32")), "tail": datasets.List(datasets.Value("int32")),
        "relation_id": datasets.List(datasets.Value("string")),
        "relation_text": datasets.List(datasets.Value("string")),
        "evidence": datasets.List(datasets.List(datasets.Value("int32"))),
    },
})


def hub_rows(documents: list[dict]) -> list[dict]:
    """DocRED JSON documents as the Hub dataset stores them (renamed label fields, with a readable relation name)."""
    return [{
        "title": document["title"], "sents": document["sents"], "vertexSet": document["vertexSet"],
        "labels": {
            "head": [label["h"] for label in document["labels"]], "tail": [label["t"] for label in document["labels"]],
            "relation_id": [label["r"] for label in document["labels"]],
            "relation_text": [f"name of {label['r']}" for label in document["labels"]],
            "evidence": [label["evidence"] for label in document["labels"]],
        },
    } for document in documents]


def hub_dataset(documents: list[dict], split: str | None = None) -> datasets.Dataset:
    return datasets.Dataset.from_list(hub_rows(documents), features=HUB_FEATURES, split=split)


@pytest.fixture
def saved_corpus(tmp_path):
    """The tiny corpus as JSON files and as a Hub-schema ``DatasetDict`` saved with ``save_to_disk``."""
    splits = {"train": make_documents(12, 0), "validation": make_documents(3, 1)}
    for name, documents in splits.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(documents), encoding="utf-8")
    datasets.DatasetDict({name: hub_dataset(documents) for name, documents in splits.items()}).save_to_disk(
        tmp_path / "docred_hf")
    return tmp_path


def test_saved_hub_schema_split_reads_back_equal_to_the_json_documents(saved_corpus):
    for split in ("train", "validation"):
        from_json = read_documents(saved_corpus / f"{split}.json")
        from_dataset = read_documents(saved_corpus / "docred_hf" / split)
        assert from_dataset == from_json and len(from_dataset) == len(from_json) > 0
        assert from_dataset.source == str(saved_corpus / "docred_hf" / split)
    with pytest.raises(ValueError, match=r"docred_hf: a DatasetDict with the splits \['train', 'validation'\]; name "
                                         r"one split's directory, e.g. .*docred_hf/train"):
        read_documents(saved_corpus / "docred_hf")


def test_own_to_dataset_schema_round_trips_including_fields_only_some_documents_have(tmp_path):
    documents = make_documents(3, 0)
    documents[1]["vertexSet"][0][0]["global_pos"] = [0, 2]  # Re-DocRED-style key in one mention only
    documents[2] = {key: value for key, value in documents[2].items() if key != "labels"}  # an unlabelled one
    to_dataset(documents).save_to_disk(tmp_path / "saved")
    assert read_documents(tmp_path / "saved") == documents
    assert read_documents(to_dataset(documents)) == documents  # a Dataset object, for Python callers


def test_dwie_format_merges_repeated_facts_of_a_dataset_as_it_does_for_files():
    documents = make_documents(1, 0)
    documents[0]["labels"].append({"h": 0, "t": 1, "r": "P19", "evidence": [2]})
    with pytest.raises(DocumentValidationError, match=r"labels\[4\] repeats labels\[0\]"):
        read_documents(hub_dataset(documents), "docred")
    with pytest.warns(UserWarning, match="merged 1 repeated relation facts"):
        merged = read_documents(hub_dataset(documents), "dwie")
    assert merged[0]["labels"][0] == {"h": 0, "t": 1, "r": "P19", "evidence": [0, 2]}
    with pytest.raises(ValueError, match=r"data_format='pubtator' does not read; use one of \('docred', 'dwie'\)"):
        read_documents(hub_dataset(documents), "pubtator")


def test_dataset_without_the_needed_columns_names_the_source_and_the_missing_columns(tmp_path):
    datasets.Dataset.from_dict({"title": ["a"], "text": ["Paris is in France."]}).save_to_disk(tmp_path / "plain")
    with pytest.raises(DatasetColumnsError) as error:
        read_documents(tmp_path / "plain")
    assert error.value.missing == ["sents", "vertexSet"]
    assert str(error.value).startswith(f"{tmp_path / 'plain'}: the dataset lacks the columns ['sents', 'vertexSet'] "
                                       "(it has ['title', 'text'])")


def test_invalid_rows_are_reported_with_source_document_field_and_fix():
    documents = make_documents(2, 0)
    documents[1]["labels"][0]["t"] = 9
    with pytest.raises(DocumentValidationError, match=r'^datasets.Dataset \(split validation\), document 1 '
                                                      r'\("doc 0-1"\): labels\[0\].t is 9, not an entity index '
                                                      r'\(0..3\)\. Point h'):
        read_documents(hub_dataset(documents, split="validation"))
    with pytest.raises(DocumentValidationError, match=r"labels\[1\].r 'P17' is not a known relation"):
        read_documents(hub_dataset(documents[:1]), label2id={"Na": 0, "P19": 1})
    row = hub_rows(documents[:1])[0]
    row["labels"]["relation_id"].pop()  # the struct's lists disagree: no fact can be rebuilt from them
    unaligned = datasets.Dataset.from_list([row])
    with pytest.raises(DocumentValidationError, match=r'document 0 \("doc 0-0"\): labels.relation_id has 3 entries '
                                                      r"but labels.head has 4\. Give every labels field one entry"):
        read_documents(unaligned)


def test_hub_id_loads_the_named_split_through_load_dataset(monkeypatch):
    """``datasets.load_dataset`` is replaced because the tests run offline and the tests' local Hub server speaks only
    the model-repository API, not the dataset endpoints ``load_dataset`` resolves files through. What is checked is
    this package's part: the ``hf:`` syntax becomes the right call, and the returned split goes through the adapter.
    """
    calls = []

    def fake_load_dataset(*args, **kwargs):
        calls.append((args, kwargs))
        return hub_dataset(make_documents(2, 0))

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    assert read_documents("hf:org/docred-like:validation[:2]") == make_documents(2, 0)
    read_documents("hf:org/docred-like:annotated:train_annotated")
    assert calls == [(("org/docred-like", None), {"split": "validation[:2]"}),
                     (("org/docred-like", "annotated"), {"split": "train_annotated"})]

    def missing(*args, **kwargs):
        raise DatasetNotFoundError("Dataset 'org/nope' doesn't exist on the Hub or cannot be accessed.")

    monkeypatch.setattr(datasets, "load_dataset", missing)
    with pytest.raises(ValueError, match=r"^hf:org/nope:train: no dataset 'org/nope' on the Hub, or it is private"):
        read_documents("hf:org/nope:train")


def test_hub_syntax_and_missing_sources_say_which_forms_are_accepted(tmp_path):
    assert parse_hub_source("hf:org/name:cfg:train[:10%]").split == "train[:10%]"
    with pytest.raises(ValueError, match=r"'hf:org/name' is not a Hub dataset source; write "
                                         r"hf:REPO_ID\[:CONFIG\]:SPLIT"):
        read_documents("hf:org/name")
    with pytest.raises(ValueError, match=r"no such file or directory\. Check the path; a source is a data file .* a "
                                         r"directory written by Dataset.save_to_disk .* a datasets.Dataset, or a Hub "
                                         r"dataset in the DocRED schema as hf:REPO_ID\[:CONFIG\]:SPLIT"):
        read_documents(tmp_path / "missing.json")


def test_run_config_takes_hub_ids_verbatim_and_rejects_malformed_ones(tmp_path, monkeypatch):
    # "//" would be collapsed by Path, and Windows reads "hf:" as a drive
    assert resolve_data_source("hf:org//name:train") == "hf:org//name:train"
    with pytest.raises(ValueError, match=r"dev_file: 'hf:org/name' is not a Hub dataset source"):
        TrainingConfig.from_dict(tiny_config_dict(tmp_path, dev_file="hf:org/name"))
    monkeypatch.setattr(datasets, "load_dataset", lambda path, name, split: hub_dataset(make_documents(3, 1)))
    data = load_run_data(TrainingConfig.from_dict(tiny_config_dict(tmp_path, dev_file="hf:org/docred-like:dev")))
    assert data.dev == make_documents(3, 1)


def test_training_from_a_saved_dataset_equals_training_from_the_json_files(saved_corpus):
    runs = {}
    for name, train_file, dev_file in (
        ("json", saved_corpus / "train.json", saved_corpus / "validation.json"),
        ("dataset", saved_corpus / "docred_hf" / "train", saved_corpus / "docred_hf" / "validation"),
    ):
        config = TrainingConfig.from_dict(tiny_config_dict(
            saved_corpus / name, train_file=str(train_file), dev_file=str(dev_file), test_file=None, epochs=1))
        runs[name] = train(config)
    assert runs["dataset"].global_step == 6  # 12 documents / batch 2
    assert runs["dataset"].dev_metrics == runs["json"].dev_metrics
    assert runs["dataset"].dev_metrics["num_gold"] == 12
