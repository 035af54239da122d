"""The embedded quickstart corpus: valid DocRED, consistent labels, reproducible bytes, useful statistics."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from tiny_models import scaled_timeout

from paee_hf.data.documents import DocumentList
from paee_hf.quickstart import (
    QUICKSTART_DIR,
    REL_INFO_PATH,
    SPLITS,
    load_split,
    relation_vocabulary,
    split_path,
)

# The generator is a development script, not part of the installed package.
GENERATOR = Path(__file__).resolve().parents[1] / "scripts" / "generate_quickstart_corpus.py"
sys.path.insert(0, str(GENERATOR.parent))
from generate_quickstart_corpus import (  # noqa: E402
    RELATION_NAMES,
    SPLIT_SIZES,
    _ArticleBuilder,
    _Entity,
    generate_corpus,
)

DOCRED_ENTITY_TYPES = {"PER", "ORG", "LOC", "TIME", "NUM", "MISC"}
# (head types, tail types) of every relation: a label outside them is a generator bug.
SIGNATURES = {
    "P17": ({"LOC", "ORG"}, {"LOC"}),
    "P19": ({"PER"}, {"LOC"}),
    "P26": ({"PER"}, {"PER"}),
    "P27": ({"PER"}, {"LOC"}),
    "P69": ({"PER"}, {"ORG"}),
    "P108": ({"PER"}, {"ORG"}),
    "P112": ({"ORG"}, {"PER"}),
    "P131": ({"LOC"}, {"LOC"}),
    "P150": ({"LOC"}, {"LOC"}),
    "P159": ({"ORG"}, {"LOC"}),
    "P569": ({"PER"}, {"TIME"}),
}


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[dict]]:
    return {split: json.loads(split_path(split).read_text(encoding="utf-8")) for split in SPLITS}


def _sentence_distance(document: dict, label: dict) -> int:
    """Minimum sentence distance between the mentions of head and tail (0 = intra-sentence)."""
    head, tail = document["vertexSet"][label["h"]], document["vertexSet"][label["t"]]
    return min(abs(a["sent_id"] - b["sent_id"]) for a in head for b in tail)


def test_relation_names_file_matches_the_generator_and_docred_ids():
    assert json.loads(REL_INFO_PATH.read_text(encoding="utf-8")) == RELATION_NAMES
    assert set(RELATION_NAMES) == set(SIGNATURES)
    vocabulary = relation_vocabulary()
    assert vocabulary.label2id["Na"] == 0
    assert sorted(vocabulary.label2id.values()) == list(range(12))
    assert vocabulary.display_name("P159") == "headquarters location"


def test_split_path_rejects_an_unknown_split():
    with pytest.raises(ValueError, match=r"split='validation' is not a quickstart split; use one of train, dev"):
        split_path("validation")


def test_every_split_passes_the_package_validator():
    for split in SPLITS:
        documents = load_split(split)
        assert isinstance(documents, DocumentList)
        assert len(documents) == SPLIT_SIZES[split]
        assert documents.skipped == [] and documents.notes == []


def test_every_document_is_well_formed(corpus):
    for split, documents in corpus.items():
        for index, document in enumerate(documents):
            where = f"{split}[{index}] {document['title']!r}"
            assert set(document) == {"title", "sents", "vertexSet", "labels"}, where
            sentences = document["sents"]
            surfaces_by_entity = []
            for entity in document["vertexSet"]:
                assert entity, where
                assert len({mention["type"] for mention in entity}) == 1, where
                assert entity[0]["type"] in DOCRED_ENTITY_TYPES, where
                for mention in entity:
                    start, end = mention["pos"]
                    assert 0 <= mention["sent_id"] < len(sentences), where
                    assert 0 <= start < end <= len(sentences[mention["sent_id"]]), where
                    assert " ".join(sentences[mention["sent_id"]][start:end]) == mention["name"], where
                surfaces_by_entity.append({mention["name"] for mention in entity})
            # One name never denotes two entities of a document (names are unambiguous).
            all_surfaces = [name for surfaces in surfaces_by_entity for name in surfaces]
            assert len(all_surfaces) == len(set(all_surfaces)), where
            # Mentions do not overlap.
            spans = sorted((m["sent_id"], *m["pos"]) for entity in document["vertexSet"] for m in entity)
            assert all(a[0] != b[0] or a[2] <= b[1] for a, b in pairwise(spans)), where
            seen = set()
            for label in document["labels"]:
                head, tail, relation = label["h"], label["t"], label["r"]
                assert 0 <= head < len(document["vertexSet"]) and 0 <= tail < len(document["vertexSet"]), where
                assert head != tail, where
                assert relation in RELATION_NAMES, where
                assert (head, tail, relation) not in seen, where
                seen.add((head, tail, relation))
                evidence = label["evidence"]
                assert evidence == sorted(set(evidence)) and evidence, where
                assert all(0 <= sent_id < len(sentences) for sent_id in evidence), where


def test_people_are_introduced_by_full_name_then_referred_to_by_it_or_their_surname(corpus):
    documents_with_surname_mentions = 0
    for documents in corpus.values():
        for document in documents:
            surname_mentions = 0
            for entity in document["vertexSet"]:
                if entity[0]["type"] != "PER":
                    continue
                first, *later = sorted(entity, key=lambda mention: (mention["sent_id"], mention["pos"][0]))
                assert len(first["name"].split()) == 2, document["title"]
                surname = first["name"].split()[1]
                assert all(mention["name"] in (first["name"], surname) for mention in later), document["title"]
                surname_mentions += sum(mention["name"] == surname for mention in later)
            documents_with_surname_mentions += surname_mentions > 0
    assert documents_with_surname_mentions > sum(SPLIT_SIZES.values()) / 3


def test_labels_follow_the_annotation_rules(corpus):
    """Argument types, P131/P150 inverses, symmetric P26 and P17 closed along P131 and P159."""
    for documents in corpus.values():
        for document in documents:
            types = [entity[0]["type"] for entity in document["vertexSet"]]
            facts = {(label["h"], label["r"], label["t"]): label["evidence"] for label in document["labels"]}
            for (head, relation, tail), evidence in facts.items():
                head_types, tail_types = SIGNATURES[relation]
                assert types[head] in head_types and types[tail] in tail_types, (document["title"], relation)
                if relation == "P131":
                    assert facts.get((tail, "P150", head)) == evidence, document["title"]
                if relation == "P150":
                    assert (tail, "P131", head) in facts, document["title"]
                if relation == "P26":
                    assert facts.get((tail, "P26", head)) == evidence, document["title"]
                if relation in ("P131", "P159"):
                    for (inner, inner_relation, country) in facts:
                        if inner == tail and inner_relation == "P17":
                            assert (head, "P17", country) in facts, (document["title"], head, country)


def test_evidence_reaches_both_arguments(corpus):
    """Evidence sentences contain a mention of the head and of the tail (pronoun sentences add the antecedent)."""
    for documents in corpus.values():
        for document in documents:
            for label in document["labels"]:
                evidence = set(label["evidence"])
                for argument in (label["h"], label["t"]):
                    sentences = {mention["sent_id"] for mention in document["vertexSet"][argument]}
                    assert sentences & evidence, (document["title"], label)


def test_statistics_are_within_the_intended_ranges(corpus):
    for split, documents in corpus.items():
        assert len(documents) == SPLIT_SIZES[split]
        entity_counts = [len(document["vertexSet"]) for document in documents]
        fact_counts = [len(document["labels"]) for document in documents]
        word_counts = [sum(len(sentence) for sentence in document["sents"]) for document in documents]
        assert all(3 <= len(document["sents"]) <= 7 for document in documents), split
        assert all(60 <= count <= 160 for count in word_counts), split
        assert all(8 <= count <= 15 for count in entity_counts), split
        assert all(count >= 4 for count in fact_counts), split
        assert 6 <= sum(fact_counts) / len(documents) <= 12, split
        labels = [(document, label) for document in documents for label in document["labels"]]
        inter = sum(_sentence_distance(document, label) > 0 for document, label in labels)
        assert inter / len(labels) > 0.2, split
        assert set(Counter(label["r"] for _, label in labels)) == set(RELATION_NAMES), split
        # Coreference: most documents mention some entity more than once.
        assert sum(any(len(entity) > 1 for entity in document["vertexSet"]) for document in documents) > \
            0.8 * len(documents), split
        # Most ordered pairs are unrelated: distractors, not only arguments of facts.
        pairs = sum(count * (count - 1) for count in entity_counts)
        related = sum(len({(label["h"], label["t"]) for label in document["labels"]}) for document in documents)
        assert related / pairs < 0.15, split
    assert {entity[0]["type"] for document in corpus["train"] for entity in document["vertexSet"]} == \
        DOCRED_ENTITY_TYPES


def test_titles_are_unique_and_the_splits_are_disjoint(corpus):
    titles = [document["title"] for documents in corpus.values() for document in documents]
    assert len(titles) == len(set(titles)) == sum(SPLIT_SIZES.values())


def test_files_stay_small():
    assert sum(split_path(split).stat().st_size for split in SPLITS) < 1_500_000


def test_the_generator_rewrites_the_shipped_files_byte_for_byte(tmp_path):
    """The script, in a fresh interpreter with another string-hash seed, reproduces every shipped file."""
    environment = dict(os.environ, PYTHONHASHSEED="12345")
    completed = subprocess.run(
        [sys.executable, str(GENERATOR), "--output-dir", str(tmp_path)],
        env=environment, capture_output=True, text=True, check=False, timeout=scaled_timeout(300),
    )
    assert completed.returncode == 0, completed.stderr
    names = [f"{split}.json" for split in SPLITS] + ["rel_info.json"]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(names)
    for name in names:
        assert (tmp_path / name).read_bytes() == (QUICKSTART_DIR / name).read_bytes(), name


def test_another_seed_gives_another_valid_corpus(corpus):
    other = generate_corpus(seed=7, sizes={"train": 5})
    assert list(other) == ["train"] and len(other["train"]) == 5
    assert [document["title"] for document in other["train"]] != [document["title"] for document in corpus["train"][:5]]


def test_builder_evidence_adds_the_antecedent_and_derives_countries():
    """Hand-built article: a pronoun sentence takes its antecedent; P17 follows P159 and P131 with merged evidence."""
    builder = _ArticleBuilder("Korvex Instruments", random.Random(0))
    company = _Entity("Korvex Instruments", "ORG", short="Korvex")
    town, province, country = _Entity("Brennholm", "LOC"), _Entity("Ostvale", "LOC"), _Entity("Veldoria", "LOC")
    founder = _Entity("Marta Keller", "PER", short="Keller", pronoun="she")
    s0 = builder.say(builder.full(company), "is based in", builder.full(town), ".")
    builder.state(s0, company, "P159", town)
    s1 = builder.say(builder.full(founder), "founded it in 1990 .")  # "it": the company is not mentioned here
    builder.state(s1, company, "P112", founder)
    s2 = builder.say(builder.full(town), "lies in", builder.full(province), ".")
    builder.state(s2, town, "P131", province)
    s3 = builder.say(builder.full(province), "is a province of", builder.full(country), ".")
    builder.state(s3, province, "P17", country)

    document = builder.document()

    assert document["sents"][1] == ["Marta", "Keller", "founded", "it", "in", "1990", "."]
    assert [entity[0]["name"] for entity in document["vertexSet"]] == [
        "Korvex Instruments", "Brennholm", "Marta Keller", "Ostvale", "Veldoria"]
    assert document["vertexSet"][1] == [
        {"name": "Brennholm", "pos": [5, 6], "sent_id": 0, "type": "LOC"},
        {"name": "Brennholm", "pos": [0, 1], "sent_id": 2, "type": "LOC"},
    ]
    assert document["labels"] == [
        {"h": 0, "t": 1, "r": "P159", "evidence": [0]},
        {"h": 0, "t": 2, "r": "P112", "evidence": [0, 1]},
        {"h": 0, "t": 4, "r": "P17", "evidence": [0, 2, 3]},  # company -> town -> province -> country
        {"h": 1, "t": 3, "r": "P131", "evidence": [2]},
        {"h": 1, "t": 4, "r": "P17", "evidence": [2, 3]},  # the town's country is given two sentences apart
        {"h": 3, "t": 1, "r": "P150", "evidence": [2]},
        {"h": 3, "t": 4, "r": "P17", "evidence": [3]},
    ]
