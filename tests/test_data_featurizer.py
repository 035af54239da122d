"""DocumentFeaturizer on tiny cased/uncased WordPiece and byte-level BPE tokenizers, and with datasets.map."""

from __future__ import annotations

import pickle

import pytest
from datasets import load_from_disk
from datasets.fingerprint import Hasher
from tiny_models import tiny_bert_tokenizer, tiny_roberta_tokenizer
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from paee_hf.data import (
    DocumentFeaturizer,
    DocumentValidationError,
    add_marker_tokens,
    featurize_dataset,
    to_dataset,
)
from paee_hf.featurizer import FEATURE_COLUMNS

LABEL2ID = {"Na": 0, "P17": 1, "P131": 2}
TYPES = {"PER": 0, "LOC": 1, "ORG": 2}
TOKENIZERS = {
    "uncased-wordpiece": lambda: tiny_bert_tokenizer(cased=False),
    "cased-wordpiece": lambda: tiny_bert_tokenizer(cased=True),
    "byte-level-bpe": tiny_roberta_tokenizer,
}


def make_document(title: str = "Smith") -> dict:
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


def word_ids(tokenizer, words: list[str]) -> list[int]:
    return tokenizer(" ".join(words), add_special_tokens=False)["input_ids"]


def test_uncased_wordpiece_features_by_hand():
    tokenizer = tiny_bert_tokenizer(cased=False)
    features = DocumentFeaturizer(tokenizer, LABEL2ID, TYPES)(make_document(), doc_index=7)
    assert tokenizer.convert_ids_to_tokens(features["input_ids"]) == [
        "[CLS]", "*", "john", "smith", "*", "lives", "in", "*", "paris", "*", ".",
        "*", "he", "*", "works", "for", "*", "acme", "corp", "*", ".", "[SEP]"]
    assert features["mention_positions"] == [1, 11, 7, 16]
    assert features["mention_sentence_ids"] == [0, 1, 0, 1]
    assert features["entity_mentions"] == [[0, 1], [2], [3]]
    assert features["entity_types"] == [0, 1, 2]
    assert features["sentence_spans"] == [[1, 11], [11, 21]]
    assert features["pair_indices"] == [[0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1]]
    assert features["pair_labels"] == [[1], [], [], [], [], [2]]
    assert (features["title"], features["doc_index"]) == ("Smith", 7)
    assert list(features) == list(FEATURE_COLUMNS)


@pytest.mark.parametrize("name", list(TOKENIZERS))
def test_markers_surround_every_mention_and_sentence_spans_hold_their_words(name):
    tokenizer = TOKENIZERS[name]()
    featurizer = DocumentFeaturizer(tokenizer, LABEL2ID, TYPES)
    document = make_document()
    features = featurizer(document)
    input_ids, marker = features["input_ids"], featurizer.start_marker_id
    special = tokenizer("x")["input_ids"]
    assert input_ids[0] == special[0] and input_ids[-1] == special[-1]
    mentions = [mention for entity in document["vertexSet"] for mention in entity]
    for position, mention in zip(features["mention_positions"], mentions, strict=True):
        words = document["sents"][mention["sent_id"]][slice(*mention["pos"])]
        expected = word_ids(tokenizer, words)
        assert input_ids[position] == marker
        assert input_ids[position + 1 : position + 1 + len(expected)] == expected
        assert input_ids[position + 1 + len(expected)] == featurizer.end_marker_id
        decoded = tokenizer.decode(expected).strip()
        assert decoded == (mention["name"] if name != "uncased-wordpiece" else mention["name"].lower())
    for (start, end), words in zip(features["sentence_spans"], document["sents"], strict=True):
        assert [token for token in input_ids[start:end] if token != marker] == word_ids(tokenizer, words)
    spans = features["sentence_spans"]
    assert spans[0][0] == 1 and spans[0][1] == spans[1][0] and spans[-1][1] == len(input_ids) - 1


def test_byte_level_bpe_marker_is_one_token():
    tokenizer = tiny_roberta_tokenizer()
    featurizer = DocumentFeaturizer(tokenizer, LABEL2ID, TYPES)
    # the tiny vocabulary has no "Ġ*" merge, so the bare byte "*" is used
    assert tokenizer.convert_ids_to_tokens([featurizer.start_marker_id]) == ["*"]


def tiny_sentencepiece_tokenizer() -> PreTrainedTokenizerFast:
    """A Unigram + Metaspace tokenizer (the SentencePiece family), without special tokens."""
    pieces = ["<unk>", "<pad>", "\u2581", "\u2581paris", ",", "\u2581is", "\u2581*"]
    vocab = [(piece, -1.0) for piece in pieces] + [(char, -5.0) for char in "abcdefghijklmnopqrstuvwxyz."]
    backend = Tokenizer(models.Unigram(vocab, unk_id=0))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>")


def test_sentencepiece_lone_space_piece_goes_to_the_next_word():
    tokenizer = tiny_sentencepiece_tokenizer()
    document = {"title": "sp", "sents": [["paris", ",", "is"]],
                "vertexSet": [[{"name": ",", "pos": [1, 2], "sent_id": 0, "type": "LOC"}]]}
    features = DocumentFeaturizer(tokenizer, LABEL2ID, TYPES)(document)
    # " ," is spelled "\u2581" + ","; both pieces sit inside the markers of the mention ","
    assert tokenizer.convert_ids_to_tokens(features["input_ids"]) == [
        "\u2581paris", "\u2581*", "\u2581", ",", "\u2581*", "\u2581is"]
    assert features["mention_positions"] == [1] and features["sentence_spans"] == [[0, 6]]


def test_nested_and_shared_mentions_share_markers():
    document = {
        "title": "NYC",
        "sents": [["New", "York", "City", "is", "big", "."]],
        "vertexSet": [
            [{"name": "New York City", "pos": [0, 3], "sent_id": 0, "type": "LOC"}],
            [{"name": "New York", "pos": [0, 2], "sent_id": 0, "type": "LOC"}],
            [{"name": "City", "pos": [2, 3], "sent_id": 0, "type": "LOC"}],
            [{"name": "City", "pos": [2, 3], "sent_id": 0, "type": "ORG"}],
        ],
    }
    tokenizer = tiny_bert_tokenizer()
    features = DocumentFeaturizer(tokenizer, LABEL2ID, TYPES)(document)
    assert tokenizer.convert_ids_to_tokens(features["input_ids"]) == [
        "[CLS]", "*", "n", "##e", "##w", "y", "##o", "##r", "##k", "*", "*", "city", "*", "is", "b", "##i", "##g",
        ".", "[SEP]"]
    assert features["mention_positions"] == [1, 1, 10, 10]
    assert features["pair_labels"] is None  # no labels: test data
    assert len(features["pair_indices"]) == 12


def test_entity_tags_style_needs_added_tokens():
    tokenizer = tiny_roberta_tokenizer()
    with pytest.raises(ValueError, match=r"no <e>/</e> tokens; call add_marker_tokens\(tokenizer, 'entity_tags'\)"):
        DocumentFeaturizer(tokenizer, LABEL2ID, TYPES, marker_style="entity_tags")
    assert add_marker_tokens(tokenizer, "entity_tags") == 2
    assert add_marker_tokens(tokenizer, "entity_tags") == 0
    features = DocumentFeaturizer(tokenizer, LABEL2ID, TYPES, marker_style="entity_tags")(make_document())
    tokens = tokenizer.convert_ids_to_tokens(features["input_ids"])
    assert [tokens[position] for position in features["mention_positions"]] == ["<e>"] * 4
    assert tokens.count("<e>") == tokens.count("</e>") == 4
    with pytest.raises(ValueError, match=r"marker_style='brackets' is not supported"):
        DocumentFeaturizer(tokenizer, LABEL2ID, TYPES, marker_style="brackets")
    assert add_marker_tokens(tokenizer, "asterisk") == 0


def test_candidate_pairs_restrict_the_pairs():
    document = make_document()
    document["candidate_pairs"] = [[2, 1], [0, 1]]
    features = DocumentFeaturizer(tiny_bert_tokenizer(), LABEL2ID, TYPES)(document)
    assert features["pair_indices"] == [[2, 1], [0, 1]] and features["pair_labels"] == [[2], [1]]


def test_long_document_is_kept_whole():
    words, vertex_set = [], []
    sentence = ["john", "smith", "was", "born", "in", "paris", "in", "1990", "and", "lives", "in", "france", "."]
    tokenizer = tiny_bert_tokenizer()
    assert len(tokenizer.tokenize(" ".join(sentence))) == 13  # one token per word
    for sent_id in range(150):  # 150 sentences of 13 words + 2 markers: 2,252 tokens
        words.append(sentence)
        vertex_set.append([{"name": "paris", "pos": [5, 6], "sent_id": sent_id, "type": "LOC"}])
    document = {"title": "long", "sents": words, "vertexSet": vertex_set}
    features = DocumentFeaturizer(tokenizer, LABEL2ID, TYPES)(document)
    assert len(features["input_ids"]) == 1 + 150 * 15 + 1
    assert len(features["mention_positions"]) == 150
    paris = tokenizer.convert_tokens_to_ids("paris")
    assert all(features["input_ids"][p] == 58 and features["input_ids"][p + 1] == paris
               for p in features["mention_positions"])
    assert len(features["pair_indices"]) == 150 * 149


def test_words_without_tokens_and_unreadable_sentences():
    tokenizer = tiny_bert_tokenizer()
    featurizer = DocumentFeaturizer(tokenizer, LABEL2ID, TYPES)
    document = {"title": "ws", "sents": [["Paris", "\u00a0", "is", "big"]],
                "vertexSet": [[{"name": "is", "pos": [2, 3], "sent_id": 0, "type": "LOC"}]]}
    features = featurizer(document)
    assert tokenizer.convert_ids_to_tokens(features["input_ids"]) == ["[CLS]", "paris", "*", "is", "*", "b", "##i",
                                                                      "##g", "[SEP]"]
    document["sents"].append(["\u00a0"])
    document["vertexSet"].append([{"name": "x", "pos": [0, 1], "sent_id": 1, "type": "LOC"}])
    features = featurizer(document)  # the mention keeps its markers even with no word token
    assert features["sentence_spans"][1] == [8, 10]
    document["vertexSet"].pop()
    with pytest.raises(DocumentValidationError, match=r"sents\[1\] has no token for this tokenizer"):
        featurizer(document)


def test_invalid_documents_and_tokenizers_are_rejected():
    featurizer = DocumentFeaturizer(tiny_bert_tokenizer(), LABEL2ID, TYPES)
    document = make_document()
    document["labels"][0]["r"] = "P999"
    with pytest.raises(DocumentValidationError, match=r'featurizer input, document 3 \("Smith"\): labels\[0\]\.r'):
        featurizer(document, doc_index=3)
    with pytest.raises(ValueError, match=r"object is not a fast tokenizer"):
        DocumentFeaturizer(object(), LABEL2ID, TYPES)
    with pytest.raises(ValueError, match=r"label2id ids must be 0\.\.1, each once; got \[1, 2\]"):
        DocumentFeaturizer(tiny_bert_tokenizer(), {"P17": 1, "P131": 2}, TYPES)
    assert featurizer.featurize_documents([], []) == []


def test_hash_is_deterministic_and_pickling_keeps_behaviour():
    first, second = (DocumentFeaturizer(tiny_roberta_tokenizer(), LABEL2ID, TYPES) for _ in range(2))
    assert Hasher.hash(first) == Hasher.hash(second)
    first(make_document())  # calling the tokenizer must not change the hash
    assert Hasher.hash(first.featurize_batch) == Hasher.hash(second.featurize_batch)
    other = DocumentFeaturizer(tiny_roberta_tokenizer(), LABEL2ID, TYPES, marker_style="asterisk", source="other")
    assert Hasher.hash(other) != Hasher.hash(first)
    assert pickle.loads(pickle.dumps(first))(make_document()) == first(make_document())


def test_datasets_map_matches_direct_calls_and_reuses_its_cache(tmp_path, monkeypatch):
    documents = [make_document(f"doc {index}") for index in range(6)]
    documents[3]["sents"][0][4] = "Berlin"
    del documents[5]["labels"]
    documents[5]["labels"] = None
    to_dataset(documents).save_to_disk(tmp_path / "documents")
    dataset = load_from_disk(tmp_path / "documents")  # file-backed, so map results are cached
    featurizer = DocumentFeaturizer(tiny_roberta_tokenizer(), LABEL2ID, TYPES)
    mapped = featurize_dataset(featurizer, dataset, batch_size=2, num_proc=2)
    direct = featurizer.featurize_documents(documents, list(range(6)))
    assert mapped.column_names == list(FEATURE_COLUMNS)
    assert mapped.to_list() == direct
    assert mapped[5]["pair_labels"] is None

    def must_not_run(*args, **kwargs):
        raise AssertionError("the cached result should have been loaded")

    monkeypatch.setattr(DocumentFeaturizer, "_assemble", must_not_run)
    again = featurize_dataset(DocumentFeaturizer(tiny_roberta_tokenizer(), LABEL2ID, TYPES), dataset, batch_size=2,
                              num_proc=2)
    assert again.cache_files == mapped.cache_files
    assert again.to_list() == direct
