"""The HTML view runs nothing it shows (issue 14 §5): script payloads in every text the page shows (page and document
titles, raw text, mention text, entity names and types, relation labels and names, DocRED words) are loaded in
headless Chromium with JavaScript on; none runs, and each is shown as text.

Every payload would mark the page if it ran: it sets ``data-pwned<k>`` on ``<html>``, ``k`` naming the field and the
payload. A control page with the same payloads written unescaped shows that Chromium runs them, so the check can fail.
"""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch
from browser import chromium_executable, rendered_dom
from tiny_models import tiny_bert_config, tiny_bert_tokenizer
from transformers import BertModel

from paee_hf import PaeeForDocumentRelationExtraction
from paee_hf.cli import commands as cli
from paee_hf.cli.html_view import write_predictions_html

#: Each payload breaks out of one context (text, a quoted attribute, <title>, <style>, SVG <text>, a comment, CDATA)
#: and runs ``{mark}`` by a different route; ``{mark}`` sets the page's marker attribute.
PAYLOADS = (
    "<script>{mark}</script>",
    '"><img src=x onerror={mark}>',
    "'><svg onload={mark}>",
    "</text></svg><iframe src=javascript:parent.{mark}></iframe>",
    "</title></style><details open ontoggle={mark}>",
    "--><svg><script>{mark}</script></svg>",
    "]]><input autofocus onfocus={mark}>",
    "</textarea><video><source onerror={mark}></video>",
    "<style onload={mark}></style>",
)
#: Payloads that need a click: the page must not hold the link at all (checked on the DOM, not by running it).
CLICK_PAYLOADS = ('<a href="javascript:{mark}">click</a>',)
URL_ATTRIBUTES = {"href", "xlink:href", "src", "srcdoc", "data", "action", "formaction"}
#: What the view writes (``<a>`` only as links within the page, ``href="#..."``).
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "p", "section", "h2", "div", "span", "mark",
                "svg", "defs", "marker", "path", "g", "circle", "text", "table", "thead", "tbody", "tr", "th", "td",
                "code", "a"}


def payload(field: int, number: int) -> str:
    """Payload ``number`` placed in field ``field``; it sets ``data-pwned<field * 100 + number>`` if it runs."""
    template = (PAYLOADS + CLICK_PAYLOADS)[number]
    return template.format(mark=f"document.documentElement.dataset.pwned{field * 100 + number}=1")


def payloads(field: int) -> str:
    """Every payload, for one field, in one string."""
    return " ".join(payload(field, number) for number in range(len(PAYLOADS) + len(CLICK_PAYLOADS)))


class Dom(HTMLParser):
    """The tags, attributes and text of a page (text with entities decoded, as a reader sees it)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def fired(self) -> list[int]:
        """The markers the page's code set on ``<html>``."""
        [html_attributes] = [attrs for tag, attrs in self.tags if tag == "html"]
        return sorted(int(name[len("data-pwned"):]) for name in html_attributes if name.startswith("data-pwned"))


def assert_runs_nothing_and_shows_every_payload(html_path: Path, fields: dict[int, str]) -> None:
    """Chromium's DOM of the page: no marker set, no element or attribute the view does not write (scripts, event
    handlers, links), and each field's payloads shown as text."""
    dom = Dom(rendered_dom(html_path))
    assert dom.fired() == [], [f"{fields[k // 100]}: {payload(k // 100, k % 100)}" for k in dom.fired()]
    assert {tag for tag, _ in dom.tags} <= ALLOWED_TAGS
    # payload text inside a title="..." is harmless; an attribute that runs code or leaves the page is not
    assert [(tag, name, value) for tag, attrs in dom.tags for name, value in attrs.items()
            if name.startswith("on") or (name in URL_ATTRIBUTES and not (name == "href" and value.startswith("#")))
            ] == []
    # compared without white space: `paee predict` shows raw text as its words joined by spaces ("< script >")
    text = "".join("".join(dom.text).split())
    for field, where in fields.items():
        for number in range(len(PAYLOADS) + len(CLICK_PAYLOADS)):
            shown = payload(field, number)
            assert "".join(shown.split()) in text, f"{where}: {shown!r} is not shown as text"


def test_the_check_sees_payloads_that_run(tmp_path):
    """The control: the payloads written into a page unescaped all run in Chromium (the link needs a click)."""
    chromium_executable()
    body = "\n".join(payload(0, number) for number in range(len(PAYLOADS)))
    page = tmp_path / "unescaped.html"
    page.write_text(f"<!DOCTYPE html><html><head><title>t</title></head><body>\n{body}\n</body></html>",
                    encoding="utf-8")
    assert Dom(rendered_dom(page)).fired() == list(range(len(PAYLOADS)))


def raw_document(fields: dict[int, str]) -> tuple[dict, list[dict]]:
    """A raw-text document with payloads in its title, text, mention text, entity names and types, and facts with
    payloads in the relation label and name (given, and looked up in ``relation_names``)."""
    text_before, mention = payloads(1), payloads(2)
    text = f"{text_before} Alice met {mention} in Paris."
    mention_start = text.index(mention)
    document = {
        "title": payloads(3),
        "text": text,
        "entities": [
            {"mentions": [{"start": text.index("Alice"), "end": text.index("Alice") + 5}], "type": payloads(4),
             "name": payloads(5)},
            {"mentions": [{"start": mention_start, "end": mention_start + len(mention)}], "type": "PER"},
            {"mentions": [{"start": text.index("Paris"), "end": text.index("Paris") + 5}], "type": "LOC"},
        ],
    }
    facts = [{"h_idx": 0, "t_idx": 1, "r": payloads(6), "relation": payloads(7), "score": 0.9},
             {"h_idx": 1, "t_idx": 2, "r": "P_named"}]
    fields.update({1: "raw text", 2: "mention text", 3: "document title", 4: "entity type", 5: "entity name",
                   6: "relation label", 7: "relation name (fact)"})
    return document, facts


def docred_document(fields: dict[int, str]) -> tuple[dict, list[dict]]:
    """A DocRED document with payloads in its title, in words outside and inside a mention, and in the mention's
    name and type."""
    outside, inside = payloads(11).split(" "), payloads(12).split(" ")
    words = ["Bob", "saw", *outside, "and", *inside, "."]
    start = 3 + len(outside)
    document = {
        "title": payloads(13),
        "sents": [words],
        "vertexSet": [
            [{"name": "Bob", "pos": [0, 1], "sent_id": 0, "type": "PER"}],
            [{"name": payloads(14), "pos": [start, start + len(inside)], "sent_id": 0, "type": payloads(15)}],
        ],
    }
    fields.update({11: "DocRED words", 12: "DocRED mention words", 13: "DocRED title", 14: "vertexSet name",
                   15: "vertexSet type"})
    return document, [{"h_idx": 0, "t_idx": 1, "r": "P_named"}]


def test_render_predictions_html_runs_nothing_it_shows(tmp_path):
    fields = {0: "page title", 8: "relation name (relation_names)"}
    raw, raw_facts = raw_document(fields)
    docred, docred_facts = docred_document(fields)
    page = write_predictions_html(tmp_path / "view.html", [raw, docred], [raw_facts, docred_facts],
                                  title=payloads(0), relation_names={"P_named": payloads(8)})
    assert_runs_nothing_and_shows_every_payload(page, fields)


def test_paee_predict_html_runs_nothing_from_the_documents_or_the_checkpoint(tmp_path):
    """``paee predict --html``: payloads in the input documents and in the checkpoint's relation labels, relation
    names and entity types (config.json)."""
    chromium_executable()
    backbone, checkpoint = tmp_path / "backbone", tmp_path / "model"
    tokenizer = tiny_bert_tokenizer()
    torch.manual_seed(0)
    BertModel(tiny_bert_config(len(tokenizer), max_position_embeddings=512)).save_pretrained(backbone)
    tokenizer.save_pretrained(backbone)
    labels = [payloads(21), "P1"]
    model = PaeeForDocumentRelationExtraction.from_encoder(
        str(backbone), relations=labels, entity_types=[payloads(22), "PER"],
        relation_names={payloads(21): payloads(23), "P1": payloads(24)},
        matrix_size=8, pair_channels=16, classifier_hidden_size=32, bilinear_block_size=8, re_encoder_layers=1,
    )
    with torch.no_grad():
        model.classifier.bilinear.bias.copy_(torch.tensor([0.0, 5.0, 5.0]))  # every pair gets both relations
    model.save_pretrained(checkpoint)
    text = f"{payloads(25)} Alice met Bob."
    document = {"title": payloads(26), "text": text, "entities": [
        {"mentions": [{"start": text.index("Alice"), "end": text.index("Alice") + 5}], "type": payloads(22)},
        {"mentions": [{"start": text.index("Bob"), "end": text.index("Bob") + 3}], "type": "PER"},
    ]}
    documents = tmp_path / "docs.jsonl"
    documents.write_text(json.dumps(document) + "\n", encoding="utf-8")
    page = tmp_path / "view.html"
    assert cli.main(["predict", "--model", str(checkpoint), "--input", str(documents),
                     "--output", str(tmp_path / "out.jsonl"), "--html", str(page)]) == 0
    predicted = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))["relations"]
    assert {fact["r"] for fact in predicted} == set(labels)  # the payload label and names reach the page
    assert_runs_nothing_and_shows_every_payload(page, {21: "relation label (config)", 22: "entity type (config)",
                                                       23: "relation name (config)", 24: "relation name (config)",
                                                       25: "raw text", 26: "document title"})


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_missing_chromium_fails_under_ci_and_skips_elsewhere(monkeypatch, ci):
    monkeypatch.setattr("shutil.which", lambda name: None)
    # datasets' map(num_proc=...) replaces os.environ by a copy; CI must be read from the current object
    monkeypatch.setattr(os, "environ", os.environ.copy())
    monkeypatch.setenv("CI", ci)
    with pytest.raises((pytest.fail.Exception, pytest.skip.Exception)) as raised:  # either, so a skip cannot pass
        chromium_executable()
    assert raised.type is (pytest.fail.Exception if ci else pytest.skip.Exception)
    assert "apt-get install -y chromium" in str(raised.value)
