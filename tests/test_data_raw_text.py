"""Raw text + character-span entities -> DocRED documents: sentence splitting, word boundaries, errors."""

from __future__ import annotations

import pytest

from paee_hf.data import DocumentValidationError, from_raw_text, validate_document
from paee_hf.segmentation import split_sentences, tokenize_words


def span(text: str, needle: str, occurrence: int = 0) -> dict:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    return {"start": start, "end": start + len(needle)}


def test_sentences_words_and_mentions():
    text = "Dr. John Smith was born in Paris in 1990. He works for Acme Corp. in Berlin, Germany!\n\nIt has 3.5 staff."
    document = from_raw_text({
        "title": "Smith",
        "text": text,
        "entities": [
            {"type": "PER", "name": "John Smith", "mentions": [span(text, "John Smith"), span(text, "He")]},
            {"type": "LOC", "mentions": [span(text, "Paris")]},
            {"type": "ORG", "mentions": [span(text, "Acme Corp."), span(text, "It")]},
        ],
    })
    assert document["sents"] == [
        ["Dr", ".", "John", "Smith", "was", "born", "in", "Paris", "in", "1990", "."],
        ["He", "works", "for", "Acme", "Corp", ".", "in", "Berlin", ",", "Germany", "!"],
        ["It", "has", "3.5", "staff", "."],
    ]
    assert document["vertexSet"] == [
        [{"name": "John Smith", "pos": [2, 4], "sent_id": 0, "type": "PER", "char_span": [4, 14]},
         {"name": "He", "pos": [0, 1], "sent_id": 1, "type": "PER", "char_span": [42, 44]}],
        [{"name": "Paris", "pos": [7, 8], "sent_id": 0, "type": "LOC", "char_span": [27, 32]}],
        [{"name": "Acme Corp.", "pos": [3, 6], "sent_id": 1, "type": "ORG", "char_span": [55, 65]},
         {"name": "It", "pos": [0, 1], "sent_id": 2, "type": "ORG", "char_span": [87, 89]}],
    ]
    assert document["title"] == "Smith"
    assert document["entity_names"] == ["John Smith", "Paris", "Acme Corp."]
    assert document["sentence_char_spans"] == [[0, 41], [42, 85], [87, 104]]
    assert [text[start:end] for start, end in document["sentence_char_spans"]][2] == "It has 3.5 staff."
    validate_document(document, 0, "raw")


def test_given_sentences_are_used_except_a_break_inside_a_mention():
    text = "Intro words John Smith met Dr. Jones. He left. Then he came."
    document = from_raw_text({"text": text, "sentence_char_spans": [[12, 29], [31, 46], [47, 60]], "entities": [
        {"type": "PER", "mentions": [span(text, "John Smith")]},
        {"type": "PER", "mentions": [span(text, "Dr. Jones")]},  # the given break at 31 falls inside it
    ]})
    # only starts matter: "Intro words" joins the first sentence; the break at 31 is dropped, the one at 47 kept
    assert document["sentence_char_spans"] == [[0, 46], [47, 60]]
    assert document["sents"] == [["Intro", "words", "John", "Smith", "met", "Dr", ".", "Jones", ".", "He", "left",
                                  "."], ["Then", "he", "came", "."]]


@pytest.mark.parametrize(
    ("spans", "message"),
    [
        ("0-10", r"sentence_char_spans is a string, not a list"),
        ([[0, 5], [4, 9]], r"sentence_char_spans\[1\] \[4, 9\) is empty, outside the text \(length 13\) or before the "
                           r"end of the previous sentence"),
        ([[0, 20]], r"sentence_char_spans\[0\] \[0, 20\) is empty, outside the text"),
        ([[0, 5, 9]], r"sentence_char_spans\[0\] is \[0, 5, 9\]. Give each sentence as \[start, end\]"),
    ],
)
def test_malformed_given_sentences(spans, message):
    with pytest.raises(DocumentValidationError, match=message):
        from_raw_text({"text": "Paris. Rome..", "sentence_char_spans": spans,
                       "entities": [{"type": "LOC", "mentions": [{"start": 0, "end": 5}]}]}, 0, "raw")


def test_no_sentence_break_inside_a_mention_and_mention_bounds_split_words():
    text = "They met at St. Mary. Then left. Parisian food is good."
    document = from_raw_text({"text": text, "entities": [
        {"type": "LOC", "mentions": [span(text, "Mary. Then")]},  # would be a sentence break
        {"type": "LOC", "mentions": [span(text, "Paris")]},  # inside the word "Parisian"
    ]}, doc_index=4)
    assert document["sents"] == [["They", "met", "at", "St", ".", "Mary", ".", "Then", "left", "."],
                                 ["Paris", "ian", "food", "is", "good", "."]]
    assert [m["pos"] for entity in document["vertexSet"] for m in entity] == [[5, 8], [0, 1]]
    assert document["title"] == "document 4"


def test_one_span_may_name_several_entities():
    text = "Hemorrhagic cystitis followed cyclophosphamide."
    shared = span(text, "Hemorrhagic cystitis")
    document = from_raw_text({"text": text, "entities": [
        {"type": "Disease", "mentions": [shared]}, {"type": "Disease", "mentions": [dict(shared)]},
        {"type": "Chemical", "mentions": [span(text, "cyclophosphamide")]},
    ]})
    assert document["vertexSet"][0][0]["pos"] == document["vertexSet"][1][0]["pos"] == [0, 2]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"text": 5, "entities": []}, r"raw, document 2 \(without a title\): text is an integer, not a string"),
        ({"text": "  ", "entities": []}, r"text is empty"),
        ({"text": "Paris.", "entities": []}, r"entities is an empty list, not a non-empty list"),
        ({"text": "Paris.", "entities": [{"type": "LOC", "mentions": []}]}, r"entities\[0\]\.mentions is not"),
        ({"text": "Paris.", "entities": [{"mentions": [{"start": 0, "end": 5}]}]}, r"entities\[0\]\.type is missing"),
        ({"text": "Paris.", "entities": [{"type": "LOC", "mentions": [{"start": 0, "end": 9}]}]},
         r"entities\[0\]\.mentions\[0\] span \[0, 9\) is empty or outside the text \(length 6\)"),
        ({"text": "Paris.", "entities": [{"type": "LOC", "mentions": [{"start": 2, "end": 2}]}]},
         r"span \[2, 2\) is empty or outside the text"),
        ({"text": "Paris .", "entities": [{"type": "LOC", "mentions": [{"start": 5, "end": 6}]}]},
         r"span \[5, 6\) is only whitespace"),
        ({"text": "Paris.", "entities": [{"type": "LOC", "mentions": [{"start": "0", "end": 5}]}]},
         r"entities\[0\]\.mentions\[0\] is \{'start': '0', 'end': 5\}"),
        ({"text": "New York City.", "title": "NY", "entities": [
            {"type": "LOC", "mentions": [{"start": 0, "end": 8}]},
            {"type": "LOC", "mentions": [{"start": 4, "end": 13}]}]},
         r'raw, document 2 \("NY"\): entities\[1\]\.mentions\[0\] span \[4, 13\) overlaps '
         r"entities\[0\]\.mentions\[0\] \[0, 8\)"),
        ({"text": "New York City.", "entities": [
            {"type": "LOC", "mentions": [{"start": 0, "end": 13}]},
            {"type": "LOC", "mentions": [{"start": 4, "end": 8}]}]}, r"span \[4, 8\) overlaps"),
        ({"text": "Paris.", "entities": [{"type": "LOC", "mentions": [{"start": 0, "end": 5}] * 2}]},
         r"entities\[0\]\.mentions\[1\] span \[0, 5\) repeats entities\[0\]\.mentions\[0\]"),
        ({"text": "Paris.", "title": 3, "entities": []}, r"title is an integer, not a string"),
    ],
)
def test_raw_text_errors(document, message):
    with pytest.raises(DocumentValidationError, match=message):
        from_raw_text(document, doc_index=2, source="raw")


def test_split_sentences_rules():
    text = "Mr. Smith left e.g. early. The U.S. Army came. Then J. Doe spoke?\"Yes.\" 2 dogs ran."
    sentences = [text[start:end] for start, end in split_sentences(text)]
    assert sentences == ["Mr. Smith left e.g. early.", "The U.S. Army came.", 'Then J. Doe spoke?"Yes."',
                         "2 dogs ran."]
    protected = (text.index("came"), text.index("Then") + 4)
    assert len(split_sentences(text, [protected])) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a sentence starting with a capital outside ASCII
        ("He lived in Paris. Émile stayed. Çetin left.", ["He lived in Paris.", "Émile stayed.", "Çetin left."]),
        # lower-case starts of biomedical text: words with a digit or a capital inside
        ("Tumours grew in treated cells. p53 levels rose. mRNA fell in mice. beta-Blocker therapy ended.",
         ["Tumours grew in treated cells.", "p53 levels rose.", "mRNA fell in mice.", "beta-Blocker therapy ended."]),
        # ... but not after abbreviations, initials or dotted forms, and never before an ordinary lower-case word
        ("Rats got 5 mg i.v. tPA daily, e.g. p53 mice. They lived. The dose was 4 mg. kg daily.",
         ["Rats got 5 mg i.v. tPA daily, e.g. p53 mice.", "They lived.", "The dose was 4 mg. kg daily."]),
        # "no." is an abbreviation only before a number; a stop inside quotes ends the sentence
        ('She said "no." Then she left. See No. 5 and pp. 12-14. He said no. Then he went.',
         ['She said "no."', "Then she left.", "See No. 5 and pp. 12-14.", "He said no.", "Then he went."]),
        # a single upper-case letter is an initial only standing alone: "COX-I." and "U/L." end sentences
        ("It binds subunit COX-I. Injury followed at 10 mumol/L. Results by J. Doe held.",
         ["It binds subunit COX-I.", "Injury followed at 10 mumol/L.", "Results by J. Doe held."]),
        # versus and circa stay abbreviations; a lower-case unit before a capital ends a sentence
        ("Roe v. Wade was decided c. 1973. The reef lies at 16 m. The coast is near.",
         ["Roe v. Wade was decided c. 1973.", "The reef lies at 16 m.", "The coast is near."]),
    ],
    ids=["non_ascii_capital", "lower_case_biomedical", "no_break_after_abbreviation", "no_before_capital",
         "hyphenated_letter", "versus_circa_units"],
)
def test_split_sentences_fixed_misses(text, expected):
    assert [text[start:end] for start, end in split_sentences(text)] == expected


def test_tokenize_words_respects_boundaries():
    text = "Parisian (1,000.5 km) don't"
    words = [text[start:end] for start, end in tokenize_words(text, (0, len(text)), [5])]
    assert words == ["Paris", "ian", "(", "1,000.5", "km", ")", "don", "'", "t"]
