"""Mention grouping rules, each on a hand-made text whose right grouping is plain."""

from __future__ import annotations

import re

import pytest

from paee_hf.mention_grouping import DEFAULT_RULES, MentionGrouper, normalise


def mentions_of(text: str, *spans: tuple[str, str, int]) -> list[dict]:
    """``(surface, type, occurrence)`` -> mentions sorted by position (occurrences of the whole words, from 0)."""
    found = []
    for surface, entity_type, occurrence in spans:
        match = list(re.finditer(rf"(?<!\w){re.escape(surface)}(?!\w)", text))[occurrence]
        found.append({"start": match.start(), "end": match.end(), "type": entity_type})
    return sorted(found, key=lambda mention: mention["start"])


@pytest.mark.parametrize(
    ("name", "normalised"),
    [("U.S.", "us"), ("US", "us"), ("the Beatles'", "beatles"), ("The  Who", "who"), ("Smith's", "smith"),
     ("New York", "new york"), ("The", "the")],
)
def test_normalise(name, normalised):
    assert normalise(name) == normalised


def test_exact_match_joins_normalised_repeats_whatever_their_types():
    text = "The U.S. said so. Later the US agreed, and Apple sued Apple Records."
    mentions = mentions_of(text, ("U.S.", "LOC", 0), ("US", "ORG", 0), ("Apple", "ORG", 0), ("Apple Records", "ORG", 0))
    assert MentionGrouper(["exact"])(text, mentions) == [0, 0, 1, 2]


def test_a_persons_given_name_or_surname_joins_the_one_full_name():
    text = "John Fitzgerald Kennedy spoke. Kennedy left. John Kennedy returned. Later John smiled. Fitzgerald sang."
    mentions = mentions_of(text, ("John Fitzgerald Kennedy", "PER", 0), ("Kennedy", "PER", 1),
                           ("John Kennedy", "PER", 0), ("John", "PER", 2), ("Fitzgerald", "PER", 1))
    # surname, a shorter name keeping first and last word, given name: joined; a middle name alone is not
    assert MentionGrouper(["person_name"])(text, mentions) == [0, 0, 0, 0, 1]


def test_a_name_part_shared_by_two_full_names_joins_neither():
    text = "Mary Smith met John Smith. Smith left. Mary stayed."
    mentions = mentions_of(text, ("Mary Smith", "PER", 0), ("John Smith", "PER", 0), ("Smith", "PER", 2),
                           ("Mary", "PER", 1))
    assert MentionGrouper(["person_name"])(text, mentions) == [0, 1, 2, 0]


def test_name_parts_join_only_persons():
    text = "Paris Hilton visited Paris. New York Times readers like York."
    mentions = mentions_of(text, ("Paris Hilton", "PER", 0), ("Paris", "LOC", 1), ("New York Times", "ORG", 0),
                           ("York", "LOC", 1))
    assert MentionGrouper(["person_name"])(text, mentions) == [0, 1, 2, 3]


def test_an_acronym_joins_the_one_name_whose_initials_spell_it():
    text = ("The United Nations and the World Health Organization met. The UN and the WHO agreed; "
            "U.N. staff and the Bank of England (BOE) too. The WTO did not.")
    mentions = mentions_of(text, ("United Nations", "ORG", 0), ("World Health Organization", "ORG", 0),
                           ("UN", "ORG", 0), ("WHO", "ORG", 0), ("U.N.", "ORG", 0), ("Bank of England", "ORG", 0),
                           ("BOE", "ORG", 0), ("WTO", "ORG", 0))
    assert MentionGrouper(["acronym"])(text, mentions) == [0, 1, 0, 1, 0, 2, 2, 3]


def test_an_acronym_of_two_names_joins_neither():
    text = "Acme Corp and Alpha Company: AC denied it."
    mentions = mentions_of(text, ("Acme Corp", "ORG", 0), ("Alpha Company", "ORG", 0), ("AC", "ORG", 0))
    assert MentionGrouper(["acronym"])(text, mentions) == [0, 1, 2]


def test_default_rules_together_and_cluster_numbering_by_first_mention():
    text = "Smith met Marie Curie in the UN. Curie, John Smith and the United Nations agreed. Marie Curie won."
    mentions = mentions_of(text, ("Smith", "PER", 0), ("Marie Curie", "PER", 0), ("UN", "ORG", 0),
                           ("Curie", "PER", 1), ("John Smith", "PER", 0), ("United Nations", "ORG", 0),
                           ("Marie Curie", "PER", 1))
    assert DEFAULT_RULES == ("exact", "person_name", "acronym")
    assert MentionGrouper()(text, mentions) == [0, 1, 2, 1, 0, 2, 1]
    assert MentionGrouper(())(text, mentions) == [0, 1, 2, 3, 4, 5, 6]


def test_unknown_rules_are_named():
    with pytest.raises(ValueError, match=r"unknown mention-grouping rules \['alias'\]; the rules are \['exact', "):
        MentionGrouper(["exact", "alias"])
