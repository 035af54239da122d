"""The malformed-input classes of docs/errors.md: each gets a message that says what is wrong, where, and the fix.

One parametrized test per entry point: checkpoints, the command line (files, options, output paths), documents and
raw text (through ``model.predict`` and the readers), and run configs. Each case lists fragments of the message:
the place (file, document, field or option), the problem and the fix.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import test_training as fixtures
from prediction_fixtures import RAW_DOCUMENT
from test_cli import user_error

from paee_hf.data import read_documents, validate_document
from paee_hf.training.config import TrainingConfig

LABEL2ID = {"Na": 0, "P17": 1, "P19": 2, "P108": 3}
TYPES = {"PER": 0, "ORG": 1, "LOC": 2}


def _edit_json(path: Path, edit) -> None:
    values = json.loads(path.read_text())
    edit(values)
    path.write_text(json.dumps(values))


# ------------------------------------------------------------------------------------------------------ checkpoints
def _truncate_weights(directory: Path) -> None:
    weights = directory / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])


def _backbone_tokenizer(directory: Path) -> None:
    """An entity_tags model whose tokenizer files were replaced by the backbone's (no <e>/</e>)."""
    from tiny_models import tiny_bert_tokenizer

    _edit_json(directory / "config.json", lambda config: config.update(marker_style="entity_tags"))
    for name in os.listdir(directory):
        if name.startswith(("tokenizer", "special_tokens", "added_tokens", "vocab")):
            os.remove(directory / name)
    tiny_bert_tokenizer().save_pretrained(directory)


CHECKPOINT_CASES = {
    "truncated_weights": (_truncate_weights, ["model.safetensors", "cannot be read", "truncated",
                                              "download it again", "save the model again"]),
    "config_without_id2label": (lambda d: _edit_json(d / "config.json", lambda c: c.pop("id2label")),
                                ["config.json has no id2label", "Restore the config.json"]),
    "config_without_encoder_config": (lambda d: _edit_json(d / "config.json", lambda c: c.pop("encoder_config")),
                                      ["config.json has no encoder_config", "Restore the config.json"]),
    "config_from_newer_release": (lambda d: _edit_json(d / "config.json", lambda c: c.update(paee_hf_version="9.1.0")),
                                  ["config.json was written by paee-hf 9.1.0, newer than the installed",
                                   "pip install -U 'paee-hf>=9.1'"]),
    "tokenizer_without_markers": (_backbone_tokenizer, ["tokenizer", "has no <e> and </e> tokens",
                                                        "marker_style='entity_tags'", "tokenizer files saved with"]),
    "weights_shapes_disagree": (lambda d: _edit_json(d / "config.json", lambda c: c.update(classifier_hidden_size=64)),
                                ["do not fit config.json", "has shape", "in the weights but", "from the config",
                                 "from the same checkpoint"]),
    "no_weights_file": (lambda d: os.remove(d / "model.safetensors"),
                        ["holds no weights file (model.safetensors)", "copy the whole folder"]),
    "config_not_json": (lambda d: (d / "config.json").write_text("{not json"), ["config.json", "not a valid JSON"]),
    "backbone_not_paee": (lambda d: _edit_json(d / "config.json", lambda c: c.update(model_type="bert")),
                          ["holds a 'bert' model, not a PAEE checkpoint", "from_encoder("]),
    "directory_without_config": (lambda d: os.remove(d / "config.json"),
                                 ["is not a model directory (no config.json)", "give the 'model' folder"]),
}


def test_a_saved_config_records_the_package_version(model_dir):
    from paee_hf.modeling_paee import installed_version

    assert json.loads((model_dir / "config.json").read_text())["paee_hf_version"] == installed_version()


@pytest.mark.parametrize("case", sorted(CHECKPOINT_CASES))
def test_malformed_checkpoint(case, model_dir, tmp_path, capsys):
    """Each broken checkpoint, loaded by ``paee predict``: one line naming the checkpoint and what to do."""
    damage, fragments = CHECKPOINT_CASES[case]
    broken = tmp_path / "model"
    shutil.copytree(model_dir, broken)
    damage(broken)
    documents = tmp_path / "docs.jsonl"
    documents.write_text(json.dumps(RAW_DOCUMENT) + "\n")
    line = user_error(capsys, ["predict", "--model", str(broken), "--input", str(documents),
                               "--output", str(tmp_path / "out.jsonl")])
    assert str(broken) in line
    for fragment in fragments:
        assert fragment in line, (fragment, line)


# --------------------------------------------------------------------------------------------- command line and files
def _unwritable_directory(tmp_path: Path) -> Path:
    """A directory in which no file can be created, for root too. chmod does not stop root, and a read-only bind mount
    needs privileges a test should not use; sysfs (mounted at /sys on Linux) refuses new files for every user."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        return locked
    mounts = Path("/proc/mounts").read_text().split("\n") if Path("/proc/mounts").exists() else []
    if not any(line.split()[1:3] == ["/sys", "sysfs"] for line in mounts if line.strip()):
        pytest.skip("running as root without sysfs at /sys: no directory that refuses root")
    return Path("/sys")


def _cli_case(case: str, tmp_path: Path, model_dir: Path) -> tuple[list[str], list[str]]:
    """(argv, message fragments) of one command-line case."""
    docs = tmp_path / "docs.json"
    docs.write_text(json.dumps(fixtures.make_documents(2, 0)))
    model = str(model_dir)
    predict = ["predict", "--model", model, "--input", str(docs)]
    output = ["--output", str(tmp_path / "out.jsonl")]
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"train_file": str(docs), "encoder": model, "output_dir": str(tmp_path / "run")}))
    if case == "output_under_a_regular_file":
        (tmp_path / "notes.txt").write_text("a file")
        return (predict + ["--output", str(tmp_path / "notes.txt" / "sub" / "out.jsonl")],
                ["--output", "notes.txt is a regular file, not a directory", "give a path whose folders"])
    if case == "output_in_an_unwritable_directory":
        target = _unwritable_directory(tmp_path) / "paee-out.jsonl"
        return predict + ["--output", str(target)], ["--output", "cannot write in", "a directory you can write to"]
    if case == "html_under_a_regular_file":
        (tmp_path / "notes.txt").write_text("a file")
        return (predict + output + ["--html", str(tmp_path / "notes.txt" / "view.html")],
                ["--html", "is a regular file"])
    if case == "evaluate_output_under_a_regular_file":
        (tmp_path / "notes.txt").write_text("a file")
        return (["evaluate", "--model", model, "--data-file", str(docs), "--output",
                 str(tmp_path / "notes.txt" / "m.json")], ["--output", "is a regular file"])
    if case == "train_output_dir_under_a_regular_file":
        (tmp_path / "notes.txt").write_text("a file")
        return (["train", "--config", str(config), "--output-dir", str(tmp_path / "notes.txt" / "run")],
                ["output_dir", "notes.txt is a regular file"])
    if case == "output_is_a_directory":
        return predict + ["--output", str(tmp_path)], ["is a directory; give --output a file path"]
    if case == "existing_output_without_overwrite":
        (tmp_path / "out.jsonl").write_text("")
        return predict + output, ["out.jsonl exists; pass --overwrite to replace it"]
    if case == "resume_of_another_run":
        (tmp_path / "out.jsonl.work").mkdir()
        (tmp_path / "out.jsonl.work" / "manifest.json").write_text(json.dumps({"input": "other.json"}))
        return predict + output + ["--resume"], ["--resume: the unfinished run in", "was made with other settings",
                                                  "input: was 'other.json'", "or pass --overwrite"]
    if case == "input_missing":
        return (["predict", "--model", model, "--input", str(tmp_path / "none.json")] + output,
                ["none.json: no such file"])
    if case == "input_utf16_json":
        docs.write_text(docs.read_text(), encoding="utf-16")
        return predict + output, ["docs.json: the file is UTF-16, not UTF-8", "Re-encode the file as UTF-8"]
    if case == "input_latin1_json":
        documents = fixtures.make_documents(1, 0)
        documents[0]["title"] = "Zoë"
        docs.write_bytes(json.dumps(documents, ensure_ascii=False).encode("latin-1"))
        return predict + output, ["docs.json: byte", "is not valid UTF-8", "Re-encode the file as UTF-8"]
    if case == "input_latin1_jsonl":
        lines = tmp_path / "docs.jsonl"
        lines.write_bytes((json.dumps(RAW_DOCUMENT) + "\n" + json.dumps({**RAW_DOCUMENT, "title": "Zoë"},
                                                                        ensure_ascii=False)).encode("latin-1"))
        return (["predict", "--model", model, "--input", str(lines)] + output,
                ["docs.jsonl, line 2: byte", "not valid UTF-8", "Re-encode the file as UTF-8"])
    if case == "input_invalid_json":
        docs.write_text('[{"title": "a",]')
        return predict + output, ["docs.json: not valid JSON at line 1, column", "Fix the JSON syntax"]
    if case == "input_json_not_a_list":
        docs.write_text(json.dumps({"title": "one document"}))
        return predict + output, ["docs.json", "not a list"]
    if case == "input_jsonl_line_not_json":
        lines = tmp_path / "docs.jsonl"
        lines.write_text(json.dumps(RAW_DOCUMENT) + "\n{oops\n")
        return (["predict", "--model", model, "--input", str(lines)] + output,
                ["docs.jsonl, line 2: not valid JSON", "every line must be one document object"])
    if case == "datasets_dir_without_columns":
        import datasets

        saved = tmp_path / "saved"
        datasets.Dataset.from_dict({"words": [["a"]], "title": ["t"]}).save_to_disk(saved)
        return (["evaluate", "--model", model, "--data-file", str(saved)],
                ["saved: the dataset lacks the columns", "rename columns with Dataset.rename_column"])
    if case == "bad_hub_data_id":
        return (["evaluate", "--model", model, "--data-file", "hf:org"],
                ["'hf:org' is not a Hub dataset source", "hf:org/name:validation"])
    if case == "unlabelled_documents_for_evaluate":
        docs.write_text(json.dumps(fixtures.make_documents(2, 0, labelled=False)))
        return ["evaluate", "--model", model, "--data-file", str(docs)], ["documents have no labels"]
    if case == "model_path_missing":
        missing = tmp_path / "runs" / "paee" / "model"
        return (["predict", "--model", str(missing), "--input", str(docs)] + output,
                [str(missing), "is neither an existing directory nor a Hub id"])
    if case == "unknown_format":
        return predict + output + ["--format", "csv"], ["paee: error: predict: argument --format: invalid choice: "
                                                         "'csv'", "see `paee predict --help`"]
    if case == "unknown_command":
        return ["fit"], ["paee: error: argument COMMAND: invalid choice: 'fit'", "see `paee --help`"]
    if case == "missing_required_option":
        return ["predict", "--model", model], ["predict: the following arguments are required: --input, --output"]
    if case == "threshold_not_a_number":
        return predict + output + ["--threshold", "high"], ["--threshold 'high' is not understood",
                                                             "give --threshold 0.4"]
    if case == "threshold_outside_0_1":
        return predict + output + ["--threshold", "1.5"], ["threshold must be a number in (0, 1)", "got 1.5"]
    if case == "threshold_for_unknown_relation":
        return (predict + output + ["--threshold", "P999=0.3"],
                ["threshold names relations the model does not have: ['P999']", "known relations are"])
    if case == "top_k_zero":
        return predict + output + ["--top-k", "0"], ["top_k must be a positive integer or None, got 0"]
    if case == "batch_size_zero":
        return predict + output + ["--batch-size", "0"], ["batch_size (--batch-size) must be a positive integer, got 0"]
    if case == "config_latin1":
        config.write_bytes(json.dumps({"output_dir": "Zoë"}, ensure_ascii=False).encode("latin-1"))
        return ["train", "--config", str(config)], ["config.json: byte", "Re-encode the file as UTF-8"]
    if case == "config_unknown_key":
        _edit_json(config, lambda values: values.update(batchsize=2))
        return ["train", "--config", str(config)], ["unknown config key 'batchsize'; did you mean 'batch_size'?"]
    if case == "set_unknown_key":
        return (["train", "--config", str(config), "--set", "use_parr=false"],
                ["--set: unknown key 'use_parr'; did you mean 'use_par'?"])
    if case == "config_missing":
        return (["train", "--config", str(tmp_path / "absent.json")],
                ["absent.json: no such file and no packaged config", "packaged:"])
    if case == "train_invalid_document":
        documents = fixtures.make_documents(2, 0)
        documents[1]["vertexSet"][0][0]["pos"] = [0, 99]
        docs.write_text(json.dumps(documents))
        return (["train", "--config", str(config), "--output-dir", str(tmp_path / "run")],
                ['docs.json, document 1 ("doc 0-1"): vertexSet[0][0].pos [0, 99] lies outside sentence 0',
                 "Fix the mention's pos or sent_id"])
    raise KeyError(case)


CLI_CASES = [
    "output_under_a_regular_file", "output_in_an_unwritable_directory", "html_under_a_regular_file",
    "evaluate_output_under_a_regular_file", "train_output_dir_under_a_regular_file", "output_is_a_directory",
    "existing_output_without_overwrite", "resume_of_another_run", "input_missing", "input_utf16_json",
    "input_latin1_json", "input_latin1_jsonl", "input_invalid_json", "input_json_not_a_list",
    "input_jsonl_line_not_json", "datasets_dir_without_columns", "bad_hub_data_id",
    "unlabelled_documents_for_evaluate", "model_path_missing", "unknown_format", "unknown_command",
    "missing_required_option", "threshold_not_a_number", "threshold_outside_0_1", "threshold_for_unknown_relation",
    "top_k_zero", "batch_size_zero", "config_latin1", "config_unknown_key", "set_unknown_key", "config_missing",
    "train_invalid_document",
]


@pytest.mark.parametrize("case", CLI_CASES)
def test_malformed_command_line_input(case, model_dir, tmp_path, capsys):
    """Every case: status 2, one ``paee: error:`` line, no traceback (``user_error`` checks these), with the place,
    the problem and the fix."""
    argv, fragments = _cli_case(case, tmp_path, model_dir)
    line = user_error(capsys, argv)
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert not list(tmp_path.glob("*.work")) or case == "resume_of_another_run"  # refused before any work


# ---------------------------------------------------------------------------------------------------------- documents
def _document(edit) -> dict:
    document = fixtures.make_documents(1, 3)[0]
    edit(document)
    return document


DOCUMENT_CASES = {
    "not_an_object": ([1, 2], ["document 0 (without a title): document is a list, not an object"]),
    "without_sents": (_document(lambda d: d.pop("sents")), ["sents is missing", "Add the 'sents' field"]),
    "sentence_not_a_list": (_document(lambda d: d["sents"].__setitem__(0, "a b c")),
                            ["sents[0] is a string, not a list of words", "Split the sentence"]),
    "mention_out_of_range": (_document(lambda d: d["vertexSet"][0][0].update(pos=[0, 99])),
                             ["vertexSet[0][0].pos [0, 99] lies outside sentence", "Fix the mention's pos"]),
    "mention_sent_id_out_of_range": (_document(lambda d: d["vertexSet"][0][0].update(sent_id=7)),
                                     ["vertexSet[0][0].sent_id 7 is not a sentence", "Fix the mention's sent_id"]),
    "unknown_entity_type": (_document(lambda d: d["vertexSet"][0][0].update(type="ALIEN")),
                            ["vertexSet[0][0].type 'ALIEN' is not a known entity type", "add it to entity_type2id"]),
    "unknown_relation_in_labels": (_document(lambda d: d["labels"][0].update(r="P999")),
                                   ["labels[0].r 'P999' is not a known relation", "add it to label2id"]),
    "label_head_equals_tail": (_document(lambda d: d["labels"][0].update(t=d["labels"][0]["h"])),
                               ["labels[0] has head == tail", "fix h or t"]),
    "duplicate_label": (_document(lambda d: d["labels"].append(dict(d["labels"][0]))),
                        ["repeats labels[0]", "duplicate_labels='merge'"]),
    "evidence_out_of_range": (_document(lambda d: d["labels"][0].update(evidence=[42])),
                              ["labels[0].evidence contains 42, not a sentence index", "Evidence lists indices"]),
    "empty_entity": (_document(lambda d: d["vertexSet"].append([])),
                     ["is an empty entity (no mentions)", "Remove the entity"]),
}


@pytest.mark.parametrize("case", sorted(DOCUMENT_CASES))
def test_malformed_document(case, tmp_path):
    """Read from a file, as training and evaluation read them: the file, document, field and fix are named."""
    document, fragments = DOCUMENT_CASES[case]
    path = tmp_path / "train.json"
    path.write_text(json.dumps([document]))
    with pytest.raises(ValueError) as raised:
        read_documents(path, label2id=LABEL2ID, entity_type2id=TYPES)
    message = str(raised.value)
    assert message.startswith("train.json, document 0") or message.startswith(f"{path}, document 0"), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    if isinstance(document, dict):
        with pytest.raises(ValueError, match="document 3 "):
            validate_document(document, 3, "memory", LABEL2ID, TYPES)


# ---------------------------------------------------------------------------------------------------------- raw text
def _raw(edit) -> dict:
    document = json.loads(json.dumps(RAW_DOCUMENT))
    edit(document)
    return document


RAW_TEXT_CASES = {
    "empty_text": ({"text": "", "entities": []}, ["text is empty", "Pass the document text"]),
    "non_string_text": ({"text": 5, "entities": []}, ["text is an integer, not a string"]),
    "neither_text_nor_sents": ({"title": "x"}, ["neither 'text' nor 'sents' + 'vertexSet'",
                                                 'Give raw text as {"text": ..., "entities": [...]}']),
    "overlapping_spans": (_raw(lambda d: d["entities"][1]["mentions"].__setitem__(0, {"start": 5, "end": 25})),
                          ["entities[1].mentions[0] span [5, 25) overlaps entities[0].mentions[0]",
                           "Mentions must not overlap"]),
    "span_outside_text": (_raw(lambda d: d["entities"][1]["mentions"].__setitem__(0, {"start": 5, "end": 2500})),
                          ["span [5, 2500) is empty or outside the text (length 88)", "0 <= start < end"]),
    "unknown_entity_type": (_raw(lambda d: d["entities"][0].update(type="ALIEN")),
                            ["type 'ALIEN' is not a known entity type (LOC, ORG, PER)"]),
}


@pytest.mark.parametrize("case", sorted(RAW_TEXT_CASES))
def test_malformed_raw_text(case, model):
    document, fragments = RAW_TEXT_CASES[case]
    with pytest.raises(ValueError) as raised:
        model.predict([RAW_DOCUMENT, document])
    message = str(raised.value)
    assert message.startswith("predict input, document 1 ("), message  # the second document is named
    for fragment in fragments:
        assert fragment in message, (fragment, message)


# ---------------------------------------------------------------------------------------------------------- configs
CONFIG_CASES = {
    "unknown_key": ({"batchsize": 2}, ["my_run.json", "unknown config key 'batchsize'; did you mean 'batch_size'?"]),
    "unknown_model_switch": ({"model": {"use_parr": False}}, ["my_run.json", "'use_parr'", "'use_par'"]),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_malformed_run_config(case, tmp_path):
    values, fragments = CONFIG_CASES[case]
    path = tmp_path / "my_run.json"
    path.write_text(json.dumps(values))
    with pytest.raises(ValueError) as raised:
        TrainingConfig.from_json(path)
    for fragment in fragments:
        assert fragment in str(raised.value), (fragment, str(raised.value))
