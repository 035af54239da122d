"""Raw text with entities given as character spans -> a DocRED-format document.

Input: ``{"text": str, "entities": [{"mentions": [{"start": int, "end": int}], "type": str, "name"?: str}],
"title"?: str, "sentence_char_spans"?: [[start, end], ...]}``. Sentences come from ``sentence_char_spans`` when
given (e.g. a sentence splitter's or spaCy's: only where each span starts matters; text between spans joins the
sentence before it), else from :func:`paee_hf.segmentation.split_sentences`; words come from
:mod:`paee_hf.segmentation`. A sentence never breaks inside a mention (a given break inside one is dropped) and every
mention boundary is a word boundary, so every mention is kept exactly. Each output mention also carries
``char_span`` (its original ``[start, end)``) and the document carries ``entity_names`` (the given name, else the
first mention's text) and ``sentence_char_spans`` (each sentence's ``[start, end)`` in the text), so predictions and
their evidence can be shown on the original text.

The same span may belong to several entities (a composite mention such as CDR's "Hemorrhagic cystitis", linked
to two MeSH concepts); any other overlap between mentions is an error.
"""

from __future__ import annotations

import bisect
from typing import Any, NoReturn

from .segmentation import sentences_from_starts, split_sentences, tokenize_words
from .validation import DocumentValidationError, is_integer, json_kind


def from_raw_text(
    document: Any, doc_index: int = 0, source: str = "raw text", require_entities: bool = True
) -> dict:
    """Turn raw text plus character-span entities into a DocRED document (no ``labels``).

    Args:
        document: ``{"text", "entities", "title"?, "sentence_char_spans"?}`` as described in the module docstring.
        doc_index: Position of the document (for messages and the default title ``"document <index>"``).
        source: Origin of the document (for messages).
        require_entities: ``False`` accepts an empty ``entities`` list (a recognizer that found nothing); the
            result then has an empty ``vertexSet``, which no model can read.

    Returns:
        ``{"title", "sents", "vertexSet", "entity_names", "sentence_char_spans"}``; mentions are
        ``{name, pos, sent_id, type, char_span}``.

    Raises:
        DocumentValidationError: Non-string or empty text, no entities, a span outside the text, an empty or
            whitespace-only span, overlapping spans, a missing or non-string type, a non-string name or title,
            sentence spans that are not sorted ``[start, end]`` pairs inside the text.
    """
    title = document.get("title") if isinstance(document, dict) else None

    def fail(field: str, problem: str, fix: str) -> NoReturn:
        raise DocumentValidationError(source, doc_index, title if isinstance(title, str) else None, field, problem, fix)

    spans = _check_raw_document(document, fail, require_entities)
    text: str = document["text"]
    boundaries = sorted({offset for start, end, _, _ in spans for offset in (start, end)})
    mention_spans = [(start, end) for start, end, _, _ in spans]
    if document.get("sentence_char_spans") is None:
        sentences = split_sentences(text, mention_spans)
    else:
        sentences = sentences_from_starts(text, _given_sentence_starts(document["sentence_char_spans"], text, fail),
                                          mention_spans)
    words_per_sentence = [tokenize_words(text, sentence, boundaries) for sentence in sentences]
    word_starts = [word_start for words in words_per_sentence for word_start, _ in words]
    sentence_of_word = [sent_id for sent_id, words in enumerate(words_per_sentence) for _ in words]
    first_word_of_sentence = [0]
    for words in words_per_sentence:
        first_word_of_sentence.append(first_word_of_sentence[-1] + len(words))

    vertex_set: list[list[dict]] = [[] for _ in document["entities"]]
    for start, end, entity_index, mention_index in sorted(spans, key=lambda span: (span[2], span[3])):
        first_word = bisect.bisect_left(word_starts, start)
        last_word = bisect.bisect_left(word_starts, end) - 1  # words never straddle ``end`` (a boundary)
        if last_word < first_word:
            fail(f"entities[{entity_index}].mentions[{mention_index}]",
                 f"span [{start}, {end}) {text[start:end]!r} covers no word", "Give a span that contains text")
        sent_id = sentence_of_word[first_word]
        offset = first_word_of_sentence[sent_id]
        entity = document["entities"][entity_index]
        vertex_set[entity_index].append({
            "name": text[start:end],
            "pos": [first_word - offset, last_word + 1 - offset],
            "sent_id": sent_id,
            "type": entity["type"],
            "char_span": [start, end],
        })
    return {
        "title": title if isinstance(title, str) else f"document {doc_index}",
        "sents": [[text[start:end] for start, end in words] for words in words_per_sentence],
        "vertexSet": vertex_set,
        "entity_names": [entity.get("name") or mentions[0]["name"]
                         for entity, mentions in zip(document["entities"], vertex_set)],
        "sentence_char_spans": [[start, end] for start, end in sentences],
    }


def _given_sentence_starts(spans: Any, text: str, fail) -> list[int]:
    """The start offsets of given sentence spans, checked: ``[start, end]`` integer pairs, sorted, not overlapping,
    inside the text."""
    field = "sentence_char_spans"
    if not isinstance(spans, list):
        fail(field, f"is {json_kind(spans)}, not a list", "Give [[start, end], ...] character spans, or leave it out")
    starts, previous_end = [], 0
    for index, span in enumerate(spans):
        if not (isinstance(span, (list, tuple)) and len(span) == 2 and all(is_integer(value) for value in span)):
            fail(f"{field}[{index}]", f"is {span!r}", "Give each sentence as [start, end] character offsets")
        start, end = span
        if not previous_end <= start < end <= len(text):
            fail(f"{field}[{index}]", f"[{start}, {end}) is empty, outside the text (length {len(text)}) or before "
                 "the end of the previous sentence", "Give sorted, non-overlapping spans with start < end <= len(text)")
        starts.append(start)
        previous_end = end
    return starts


def _check_raw_document(document: Any, fail, require_entities: bool = True) -> list[tuple[int, int, int, int]]:
    """Validate the raw input; return ``(start, end, entity_index, mention_index)`` for every mention."""
    if not isinstance(document, dict):
        fail("document", f"is {json_kind(document)}, not an object", 'Pass {"text": ..., "entities": [...]}')
    if "title" in document and document["title"] is not None and not isinstance(document["title"], str):
        fail("title", f"is {json_kind(document['title'])}, not a string", "Give a string title or none")
    text = document.get("text")
    if not isinstance(text, str):
        fail("text", f"is {json_kind(text)}, not a string", "Pass the document text as a string")
    if not text.strip():
        fail("text", "is empty", "Pass the document text")
    entities = document.get("entities")
    if not isinstance(entities, list) or (require_entities and not entities):
        fail("entities", f"is {'an empty list' if entities == [] else json_kind(entities)}, "
             "not a non-empty list", 'Give at least one entity {"mentions": [{"start", "end"}], "type"}')
    spans = []
    for entity_index, entity in enumerate(entities):
        field = f"entities[{entity_index}]"
        if not isinstance(entity, dict):
            fail(field, f"is {json_kind(entity)}, not an object", 'Entities are {"mentions": [...], "type": str}')
        if not isinstance(entity.get("type"), str):
            fail(f"{field}.type", f"is {'missing' if 'type' not in entity else json_kind(entity['type'])}",
                 "Give the entity type as a string")
        if "name" in entity and entity["name"] is not None and not isinstance(entity["name"], str):
            fail(f"{field}.name", f"is {json_kind(entity['name'])}, not a string", "Give a string name or none")
        mentions = entity.get("mentions")
        if not isinstance(mentions, list) or not mentions:
            fail(f"{field}.mentions", "is not a non-empty list", 'Give at least one {"start": int, "end": int}')
        for mention_index, mention in enumerate(mentions):
            mention_field = f"{field}.mentions[{mention_index}]"
            if not isinstance(mention, dict) or not all(is_integer(mention.get(key)) for key in ("start", "end")):
                fail(mention_field, f"is {mention!r}", 'Give {"start": int, "end": int} character offsets')
            start, end = mention["start"], mention["end"]
            if not 0 <= start < end <= len(text):
                fail(mention_field, f"span [{start}, {end}) is empty or outside the text (length {len(text)})",
                     "Give 0 <= start < end <= len(text), end exclusive")
            if not text[start:end].strip():
                fail(mention_field, f"span [{start}, {end}) is only whitespace", "Give a span that contains text")
            spans.append((start, end, entity_index, mention_index))
    _check_overlaps(spans, fail)
    return spans


def _check_overlaps(spans: list[tuple[int, int, int, int]], fail) -> None:
    """Identical spans of different entities are allowed (composite mentions); other overlaps are not."""
    ordered = sorted(spans)
    furthest = None  # the mention reaching furthest right so far
    for position, current in enumerate(ordered):
        start, end, entity_index, mention_index = current
        previous = ordered[position - 1] if position else None
        if previous is not None and (start, end) == previous[:2]:
            if entity_index == previous[2]:  # same-span mentions are sorted by entity, so repeats are adjacent
                fail(f"entities[{entity_index}].mentions[{mention_index}]",
                     f"span [{start}, {end}) repeats entities[{entity_index}].mentions[{previous[3]}]",
                     "Remove the duplicate mention")
            continue
        if furthest is not None and start < furthest[1]:
            fail(f"entities[{entity_index}].mentions[{mention_index}]",
                 f"span [{start}, {end}) overlaps entities[{furthest[2]}].mentions[{furthest[3]}] "
                 f"[{furthest[0]}, {furthest[1]})",
                 "Mentions must not overlap (only a span shared by different entities is allowed); keep one")
        if furthest is None or end > furthest[1]:
            furthest = current
