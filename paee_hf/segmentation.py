"""Rule-based sentence splitting and word tokenization that respect given character spans.

No NLP library is allowed as a dependency, so both steps are regular expressions:

* Sentences end at ``.``, ``!`` or ``?`` (plus closing quotes/brackets) followed by whitespace and an upper-case
  letter, a digit or an opening quote/bracket, except after common abbreviations and single-letter initials; a
  blank line also ends a sentence. A break is never placed inside a protected span (an entity mention).
* Words are runs of letters/digits (numbers keep their ``.``/``,`` separators, ``3.5``, ``1,000``); every other
  non-space character is a word of its own. Every protected-span boundary is also a word boundary, so a mention
  always covers whole words.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence

_WORD = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+|\S")
_SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(\s+)(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n\s*")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc e.g i.e cf fig figs al no nos inc ltd co corp mt gen col lt sgt capt rev "
    "u.s u.k u.n gov sen rep jan feb mar apr jun jul aug sep sept oct nov dec approx ca dept est univ".split()
)


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

    gaps = [(match.start(1), match.end(1)) for match in _SENTENCE_END.finditer(text)
            if not _ends_with_abbreviation(text, match.start())]
    gaps += [(match.start(), match.end()) for match in _PARAGRAPH.finditer(text)]
    spans, start = [], 0
    for gap_start, gap_end in sorted(gaps):
        if gap_start < start or crosses(gap_start, gap_end):
            continue
        spans.append((start, gap_start))
        start = gap_end
    spans.append((start, len(text)))
    return [_strip(text, span) for span in spans if text[span[0]:span[1]].strip()]


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


def _ends_with_abbreviation(text: str, punctuation_start: int) -> bool:
    if text[punctuation_start] != ".":
        return False
    word_start = punctuation_start
    while word_start > 0 and (text[word_start - 1].isalpha() or text[word_start - 1] == "."):
        word_start -= 1
    word = text[word_start:punctuation_start].lower()
    return len(word) == 1 or word in _ABBREVIATIONS


def _strip(text: str, span: tuple[int, int]) -> tuple[int, int]:
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
