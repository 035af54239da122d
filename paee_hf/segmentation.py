"""Rule-based sentence splitting and word tokenization that respect given character spans.

No NLP library is allowed as a dependency, so both steps are regular expressions plus a few checks:

* A sentence ends at ``.``, ``!`` or ``?`` (plus closing quotes/brackets) followed by whitespace and then, after an
  optional opening quote or bracket, one of:

  - an upper-case letter of any script (``Émile``, ``Çetin``, ``Ωmega``) or a digit;
  - a lower-case word that holds a digit or an upper-case letter (``p53``, ``mRNA``, ``beta-Blocker``: the
    lower-case starts of biomedical text), provided the word before the stop is an ordinary word (not an
    abbreviation, an initial or a dotted form such as ``i.v.``).

  Not after a common abbreviation (``Dr.``, ``e.g.``, ``U.S.``) or an upper-case initial (``J. Doe``); ``no.`` and
  ``nos.`` are abbreviations only before a number (``No. 5``), and a stop followed by a closing quote or bracket
  always ends the sentence (``he said "no." Then``). A blank line also ends a sentence. A break is never placed
  inside a protected span (an entity mention).
* Words are runs of letters/digits (numbers keep their ``.``/``,`` separators, ``3.5``, ``1,000``); every other
  non-space character is a word of its own. Every protected-span boundary is also a word boundary, so a mention
  always covers whole words.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence

_WORD = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+|\S")
#: A stop, its closing quotes/brackets (group 1) and the whitespace after it (group 2); what follows is checked in
#: :func:`_starts_sentence`.
_SENTENCE_END = re.compile(r"[.!?]+([\"'\u201d\u2019)\]]*)(\s+)(?=\S)")
_OPENERS = "\"'\u201c\u2018(["
_NEXT_WORD = re.compile(r"\S+")
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n\s*")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr v vs c etc e.g i.e cf fig figs al inc ltd co corp mt gen col lt sgt capt rev "
    "u.s u.k u.n gov sen rep jan feb mar apr jun jul aug sep sept oct nov dec approx ca dept est univ".split()
)
#: Abbreviations only before a number ("No. 5", "p. 12"); before a capital they end a sentence ("... said no. Then").
_NUMBER_ABBREVIATIONS = frozenset({"no", "nos", "p", "pp", "vol"})


def split_sentences(text: str, protected_spans: Iterable[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (surrounding whitespace excluded).

    Args:
        text: The document text.
        protected_spans: ``(start, end)`` character spans no sentence break may fall inside.

    Returns:
        ``[(start, end), ...]`` in text order, covering every non-space character once.
    """
    protected = sorted(protected_spans)
    protected_starts = [start for start, _ in protected]
    # running maximum of span ends, so one bisect tells whether any span crosses a gap
    reach, running = [], 0
    for _, end in protected:
        running = max(running, end)
        reach.append(running)

    def crosses(gap_start: int, gap_end: int) -> bool:
        index = bisect.bisect_left(protected_starts, gap_end) - 1
        return index >= 0 and reach[index] > gap_start

    gaps = [(match.start(2), match.end(2)) for match in _SENTENCE_END.finditer(text)
            if _starts_sentence(text, match.start(), bool(match.group(1)), match.end(2))]
    gaps += [(match.start(), match.end()) for match in _PARAGRAPH.finditer(text)]
    spans, start = [], 0
    for gap_start, gap_end in sorted(gaps):
        if gap_start < start or crosses(gap_start, gap_end):
            continue
        spans.append((start, gap_start))
        start = gap_end
    spans.append((start, len(text)))
    return [_strip(text, span) for span in spans if text[span[0]:span[1]].strip()]


def sentences_from_starts(
    text: str, starts: Iterable[int], protected_spans: Iterable[tuple[int, int]] = ()
) -> list[tuple[int, int]]:
    """Sentences that begin at given offsets (a sentence splitter's or spaCy's), except inside a protected span.

    Args:
        text: The document text.
        starts: Offsets where sentences begin; the text before the first one joins the first sentence.
        protected_spans: ``(start, end)`` character spans no sentence break may fall inside (mentions).

    Returns:
        ``[(start, end), ...]`` in text order, surrounding whitespace excluded, covering every non-space character.
    """
    inside = [False] * (len(text) + 1)
    for start, end in protected_spans:
        inside[start + 1 : end] = [True] * max(0, end - start - 1)
    breaks = sorted(starts)[1:]  # the first sentence starts at 0, whatever text comes before the first start
    cuts = [0, *sorted({start for start in breaks if 0 < start < len(text) and not inside[start]}), len(text)]
    spans = [_strip(text, (left, right)) for left, right in zip(cuts, cuts[1:])]
    return [span for span in spans if span[0] < span[1]]


def tokenize_words(text: str, span: tuple[int, int], boundaries: Sequence[int]) -> list[tuple[int, int]]:
    """Character spans of the words of ``text[span[0]:span[1]]``, split at every offset in ``boundaries``.

    Args:
        text: The document text.
        span: The ``(start, end)`` region to tokenize (a sentence).
        boundaries: Sorted character offsets that must be word boundaries (mention starts and ends).

    Returns:
        ``[(start, end), ...]`` of the words, in order.
    """
    start, end = span
    cuts = [start, *boundaries[bisect.bisect_right(boundaries, start) : bisect.bisect_left(boundaries, end)], end]
    return [match.span() for left, right in zip(cuts, cuts[1:]) for match in _WORD.finditer(text, left, right)]


def _starts_sentence(text: str, stop: int, closed: bool, next_start: int) -> bool:
    """Whether the stop at ``stop`` ends a sentence (see the module docstring).

    Args:
        text: The document text.
        stop: Offset of the first ``.``/``!``/``?`` of the stop.
        closed: Whether closing quotes or brackets follow the stop.
        next_start: Offset of the first character after the whitespace.
    """
    while next_start < len(text) - 1 and text[next_start] in _OPENERS:
        next_start += 1
    first = text[next_start]
    capital_or_number = first.isupper() or first.isdigit()
    marked_lower = first.islower() and _is_marked_word(_NEXT_WORD.match(text, next_start).group())
    if text[stop] != "." or closed:  # "?", "!", or a stop inside quotes: never an abbreviation
        return capital_or_number or marked_lower
    word_start = stop
    while word_start > 0 and (text[word_start - 1].isalpha() or text[word_start - 1] == "."):
        word_start -= 1
    word = text[word_start:stop]
    standalone = word_start == 0 or not (text[word_start - 1].isalnum() or text[word_start - 1] in "-/")
    if word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper() and standalone):  # "J. Doe"
        return False
    if word.lower() in _NUMBER_ABBREVIATIONS:
        return first.isupper()  # "No. 5" goes on
    # a lower-case start only after an ordinary word: "cells. p53", not "i.v. tPA" or "m. p53"
    return capital_or_number or (marked_lower and len(word) > 1 and "." not in word)


def _is_marked_word(word: str) -> bool:
    """A lower-case word that can start a sentence: it holds a digit or an upper-case letter (``p53``, ``mRNA``)."""
    return any(char.isdigit() or char.isupper() for char in word)


def _strip(text: str, span: tuple[int, int]) -> tuple[int, int]:
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
