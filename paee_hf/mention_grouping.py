"""Mention grouping: which bare mentions of a text name the same entity (rule-based coreference).

Recognizers such as spaCy return mentions without clusters. [`MentionGrouper`] joins two mentions when a rule says
so; entities are the connected groups. The rules, in the order they run:

* ``"exact"``: the same normalised text (case-folded; punctuation, a leading "the" and a trailing possessive
  dropped, so "U.S." = "US" and "the Beatles'" = "Beatles"), whatever the types.
* ``"person_name"``: a person's given name or surname (or any shorter part of the name that keeps its first or last
  word, e.g. "John Kennedy" of "John F. Kennedy"), typed PER, joins the one PER entity whose full name has it; a
  part shared by two different full names joins neither.
* ``"acronym"``: an upper-case mention ("UN", "U.N.") joins the one entity with a mention of several words whose
  capitalised initials spell it ("United Nations"; "of", "the" ... skipped or not: "BE" and "BOE" both spell
  "Bank of England").

``benchmarks/mention_grouping.py`` measures each rule on Re-DocRED dev with gold and with spaCy mentions (cluster F1,
table in benchmarks/RESULTS.md); only rules that help are on by default. The type of an entity is its mentions'
most frequent type (the first mention's on a tie).

Shipped with checkpoints for ``trust_remote_code`` (relative imports only).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

#: Rules on by default (each measured; see the module docstring).
DEFAULT_RULES = ("exact", "person_name", "acronym")
RULES = ("exact", "person_name", "acronym")
#: Rule sets by name (``paee extract --grouping``): the default rules, or exact string match only.
NAMED_GROUPINGS = {"rules": DEFAULT_RULES, "exact": ("exact",)}
#: Words skipped when reading an acronym's initials ("United Nations Educational, Scientific and Cultural ...").
_SKIPPED_IN_ACRONYMS = frozenset("of the and for de la le du des di da del von van on in at to &".split())
_TOKEN = re.compile(r"[^\W_]+")
_ACRONYM = re.compile(r"(?:[A-Z]\.?){2,8}|[A-Z][A-Z&]{1,7}")

#: ``(text, mentions) -> cluster id per mention``: the signature of any grouping (``grouping=`` accepts one).
Grouping = Callable[[str, Sequence[Mapping[str, Any]]], Sequence[int]]


def normalise(name: str) -> str:
    """The text the ``"exact"`` rule compares: words case-folded and joined by spaces, "the"/possessive dropped."""
    name = re.sub(r"['\u2019]s?$", "", name.strip())
    words = [word.casefold() for word in re.split(r"[^\w]+", name.replace(".", "")) if word]
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


class MentionGrouper:
    """Group mentions by documented rules (see the module docstring).

    Args:
        rules: The rules to apply, a subset of ``RULES`` (``()`` makes every mention its own entity).
    """

    def __init__(self, rules: Sequence[str] = DEFAULT_RULES) -> None:
        unknown = sorted(set(rules) - set(RULES))
        if unknown:
            raise ValueError(f"unknown mention-grouping rules {unknown}; the rules are {list(RULES)}.")
        self.rules = tuple(rules)

    def __call__(self, text: str, mentions: Sequence[Mapping[str, Any]]) -> list[int]:
        """Cluster ids of ``mentions`` (``{"start", "end", "type"}``), numbered 0.. in order of first mention."""
        names = [text[mention["start"]:mention["end"]] for mention in mentions]
        types = [mention["type"] for mention in mentions]
        parent = list(range(len(mentions)))

        def root(index: int) -> int:
            while parent[index] != index:
                parent[index] = parent[parent[index]]
                index = parent[index]
            return index

        def join(left: int, right: int) -> None:
            left, right = root(left), root(right)
            if left != right:
                parent[max(left, right)] = min(left, right)

        if "exact" in self.rules:
            first_of: dict[str, int] = {}
            for index, name in enumerate(names):
                key = normalise(name)
                if key:
                    join(first_of.setdefault(key, index), index)
        if "person_name" in self.rules:
            self._join_name_parts(names, types, root, join)
        if "acronym" in self.rules:
            self._join_acronyms(names, root, join)
        return _numbered([root(index) for index in range(len(mentions))])

    @staticmethod
    def _join_name_parts(names: Sequence[str], types: Sequence[str], root: Callable, join: Callable) -> None:
        """A PER mention whose words are a part of exactly one PER entity's longer name, keeping its first or last
        word, joins that entity."""
        words = [tuple(word.casefold() for word in _TOKEN.findall(name)) for name in names]
        full_names: dict[str, list[int]] = {}  # first or last word -> PER mentions of two or more words
        for index, name_words in enumerate(words):
            if types[index] == "PER" and len(name_words) > 1:
                for word in {name_words[0], name_words[-1]}:
                    full_names.setdefault(word, []).append(index)
        for index in sorted(range(len(words)), key=lambda index: -len(words[index])):  # longer parts join first
            part = words[index]
            if types[index] != "PER" or not part:
                continue
            owners = {root(full) for full in full_names.get(part[0], []) + full_names.get(part[-1], [])
                      if len(words[full]) > len(part) and _is_name_part(part, words[full])}
            owners.discard(root(index))
            if len(owners) == 1:
                join(owners.pop(), index)

    @staticmethod
    def _join_acronyms(names: Sequence[str], root: Callable, join: Callable) -> None:
        """An upper-case mention joins the one entity with a mention of several words whose initials spell it."""
        spelled: dict[str, set[int]] = {}
        for index, name in enumerate(names):
            if _ACRONYM.fullmatch(name):
                continue
            words = _TOKEN.findall(name)
            initials = "".join(word[0] for word in words if word.casefold() not in _SKIPPED_IN_ACRONYMS)
            if len(initials) > 1 and initials.isupper():
                for spelling in {initials, "".join(word[0] for word in words).upper()}:  # "BE" and "BOE"
                    spelled.setdefault(spelling, set()).add(index)
        for index, name in enumerate(names):
            if not _ACRONYM.fullmatch(name):
                continue
            owners = {root(other) for other in spelled.get(name.replace(".", ""), ())}
            owners.discard(root(index))
            if len(owners) == 1:
                join(owners.pop(), index)


def _is_name_part(part: tuple[str, ...], full: tuple[str, ...]) -> bool:
    """Whether ``part`` is a subsequence of ``full`` that keeps ``full``'s first or last word."""
    if part[0] != full[0] and part[-1] != full[-1]:
        return False
    position = 0
    for word in full:
        if position < len(part) and part[position] == word:
            position += 1
    return position == len(part)


def _numbered(roots: Sequence[int]) -> list[int]:
    """Renumber cluster roots 0.. in order of first appearance."""
    numbers: dict[int, int] = {}
    return [numbers.setdefault(group, len(numbers)) for group in roots]
