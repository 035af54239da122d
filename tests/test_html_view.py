"""The HTML view of predictions: highlighted mentions (raw text and DocRED), the table, the SVG graph, escaping,
self-containedness, errors, real documents, and a headless-Chromium screenshot."""

from __future__ import annotations

import colorsys
import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch
from browser import chromium_executable, pillow_image
from tiny_models import shared_data, tiny_bert_config, tiny_bert_tokenizer
from transformers import BertModel

from paee_hf import PaeeForDocumentRelationExtraction
from paee_hf.cli.html_view import (
    entity_colour,
    render_predictions_html,
    write_predictions_html,
)
from paee_hf.validation import DocumentValidationError

REPO_ROOT = Path(__file__).resolve().parents[1]
TEXT = "Marie Curie was born in Warsaw. Curie later worked in Paris."
RAW = {
    "title": "Curie",
    "text": TEXT,
    "entities": [
        {"mentions": [{"start": 0, "end": 11}, {"start": 32, "end": 37}], "type": "PER"},
        {"mentions": [{"start": 24, "end": 30}], "type": "LOC"},
        {"mentions": [{"start": 54, "end": 59}], "type": "LOC"},
    ],
}
FACTS = [
    {"h_idx": 0, "t_idx": 1, "r": "P19", "relation": "place of birth", "score": 0.93},
    {"h_idx": 0, "t_idx": 2, "r": "P937", "score": 0.61},
    {"h_idx": 0, "t_idx": 2, "r": "P551"},
]
DOCRED = {
    "title": "Acme",
    "sents": [["Acme", "Corp", "is", "in", "Berlin", "."], ["John", "Smith", "founded", "it", "."]],
    "vertexSet": [
        [{"name": "Acme Corp", "pos": [0, 2], "sent_id": 0, "type": "ORG"}],
        [{"name": "Berlin", "pos": [4, 5], "sent_id": 0, "type": "LOC"}],
        [{"name": "John Smith", "pos": [0, 2], "sent_id": 1, "type": "PER"}],
    ],
}


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside each <mark>, <td>, <text> and <title>."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[str, list[str]] = {"mark": [], "td": [], "text": [], "title": []}
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        if tag in self.texts:
            self.texts[tag].append("")
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for tag in self._open:
            self.texts[tag][-1] += data

    def attributes(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]


def text_tags(html: str) -> list[str]:
    """The E<k> tags that follow mentions inside the document text (not the legend or the table)."""
    text = re.search(r'<div class="text">(.*?)</div>', html, flags=re.DOTALL).group(1)
    return re.findall(r'<span class="tag"[^>]*>(E\d+)</span>', text)


def test_raw_text_mentions_are_highlighted_in_their_entitys_colour():
    html = render_predictions_html(RAW, FACTS, title="view")
    page = Elements(html)
    assert page.texts["mark"] == ["Marie Curie", "Warsaw", "Curie", "Paris"]
    styles = [attrs["style"] for attrs in page.attributes("mark")]
    assert styles == [f"background:{entity_colour(entity)}" for entity in (0, 1, 0, 2)]
    assert text_tags(html) == ["E0", "E1", "E0", "E2"]
    assert " was born in " in html and " later worked in " in html  # the text between mentions is kept


def test_docred_mentions_are_found_by_word_position_and_sentences_numbered():
    html = render_predictions_html([DOCRED], [[{"h_idx": 2, "t_idx": 0, "r": "P112"}]],
                                   relation_names={"P112": "founded by"})
    page = Elements(html)
    assert page.texts["mark"] == ["Acme Corp", "Berlin", "John Smith"]
    assert text_tags(html) == ["E0", "E1", "E2"]
    assert re.findall(r'class="sentence-id">(S\d+)<', html) == ["S0", "S1"]
    assert ["1", "E2 John Smith", "founded by P112", "E0 Acme Corp", "\u2013"] == [
        " ".join(cell.split()) for cell in page.texts["td"]]


def test_a_span_shared_by_two_entities_shows_both_colours_and_both_tags():
    document = {"text": "Hemorrhagic cystitis was seen.", "entities": [
        {"mentions": [{"start": 0, "end": 20}], "type": "Disease"},
        {"mentions": [{"start": 0, "end": 20}], "type": "Disease"},
    ]}
    html = render_predictions_html(document, [])
    [style] = [attrs["style"] for attrs in Elements(html).attributes("mark")]
    assert style.startswith("background:linear-gradient") and entity_colour(0) in style and entity_colour(1) in style
    assert text_tags(html) == ["E0", "E1"]


def test_table_lists_every_fact_with_name_label_and_score():
    page = Elements(render_predictions_html(RAW, FACTS, relation_names={"P937": "work location"}))
    cells = [" ".join(cell.split()) for cell in page.texts["td"]]
    rows = [cells[index : index + 5] for index in range(0, len(cells), 5)]
    assert rows == [
        ["1", "E0 Marie Curie", "place of birth P19", "E1 Warsaw", "0.930"],
        ["2", "E0 Marie Curie", "work location P937", "E2 Paris", "0.610"],
        ["3", "E0 Marie Curie", "P551", "E2 Paris", "\u2013"],  # no name known, no score given
    ]


def test_graph_has_a_node_per_related_entity_and_one_labelled_arrow_per_pair():
    facts = [*FACTS, {"h_idx": 1, "t_idx": 0, "r": "P1"}]  # both directions of the pair (0, 1)
    html = render_predictions_html(RAW, facts)
    page = Elements(html)
    assert len(page.attributes("circle")) == 3
    arrows = [attrs for attrs in page.attributes("path") if attrs.get("marker-end")]
    assert len(arrows) == 3  # (0,1), (0,2) with two relations on one arrow, (1,0)
    assert {attrs["marker-end"] for attrs in arrows} == {"url(#arrow-0)"}
    labels = page.texts["text"]
    assert "P937; P551" in labels and "place of birth" in labels and "P1" in labels
    label_positions = {(attrs["x"], attrs["y"]) for attrs in page.attributes("text")
                       if attrs.get("class") == "edge-label"}
    assert len(label_positions) == 3  # the two directions of (0, 1) are labelled at different places


def test_an_entity_in_many_pairs_sits_in_the_centre_of_the_graph():
    document = {"text": "A B C D", "entities": [{"mentions": [{"start": 2 * k, "end": 2 * k + 1}], "type": "X"}
                                                  for k in range(4)]}
    facts = [{"h_idx": 0, "t_idx": tail, "r": "P1"} for tail in (1, 2, 3)]
    page = Elements(render_predictions_html(document, facts))
    [svg] = page.attributes("svg")
    centres = [(float(attrs["cx"]), float(attrs["cy"])) for attrs in page.attributes("circle")]
    assert centres[0] == (float(svg["width"]) / 2, float(svg["height"]) / 2)  # E0, in all three pairs
    assert len(set(centres)) == 4


def test_entities_without_relations_are_faded_in_the_legend_and_left_out_of_the_graph():
    html = render_predictions_html([RAW, DOCRED], [[FACTS[0]], []])
    assert html.count('<svg class="graph"') == 1  # the document without facts has no graph
    assert "No relation predicted." in html
    legend = re.search(r'<div class="legend">(.*?)</div>', html).group(1)
    assert legend.count('class="unrelated"') == 1  # Paris (E2) is in no fact of document 0
    assert 'id="arrow-0"' in html


def test_the_legend_shows_mention_clusters_and_a_text_without_entities():
    cluster = {**RAW, "entities": [{**RAW["entities"][0], "mentions": [*RAW["entities"][0]["mentions"],
                                                                        {"start": 54, "end": 59}]}]}
    html = render_predictions_html([RAW, cluster, {"title": "empty", "text": "Nobody.", "entities": []}],
                                   [FACTS, [], []])
    legends = re.findall(r'<div class="legend">(.*?)</div>', html)
    assert '<span class="cluster">2 mentions: Marie Curie, Curie</span>' in legends[0]
    assert legends[0].count('class="cluster"') == 1  # Warsaw and Paris have one mention each
    assert '<span class="cluster">3 mentions: Marie Curie, Curie, Paris</span>' in legends[1]
    assert legends[2] == '<span class="none">No entity found.</span>'


def test_every_text_is_escaped():
    attack = '<script>alert(1)</script>" onmouseover="x'
    text = f"{attack} met Bob."
    document = {"title": attack, "text": text, "entities": [
        {"mentions": [{"start": 0, "end": len(attack)}], "type": "PER", "name": attack},
        {"mentions": [{"start": len(attack) + 5, "end": len(attack) + 8}], "type": "PER"},
    ]}
    html = render_predictions_html(document, [{"h_idx": 0, "t_idx": 1, "r": attack, "relation": attack}],
                                   title=attack)
    assert "<script" not in html and "onmouseover=\"" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;x" in html
    page = Elements(html)
    assert {tag for tag, _ in page.tags} <= {"html", "head", "meta", "title", "style", "body", "h1", "p", "section",
                                             "h2", "div", "span", "mark", "svg", "defs", "marker", "path", "g",
                                             "circle", "text", "table", "thead", "tbody", "tr", "th", "td", "code",
                                             "a"}
    assert all(not name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert all(attrs["href"].startswith("#document-0-fact-") for attrs in page.attributes("a"))


def test_evidence_sentences_are_listed_and_highlighted_by_css_only():
    text = "Ann lives in Rome. Rome is in Italy. Ann likes Italy."
    document = {"title": "t", "text": text, "entities": [
        {"mentions": [{"start": 0, "end": 3}, {"start": 37, "end": 40}], "type": "PER"},
        {"mentions": [{"start": 13, "end": 17}, {"start": 19, "end": 23}], "type": "LOC"},
        {"mentions": [{"start": 30, "end": 35}, {"start": 47, "end": 52}], "type": "LOC"},
    ]}
    facts = [{"h_idx": 1, "t_idx": 2, "r": "P17", "score": 0.9, "evidence": [1]},
             {"h_idx": 0, "t_idx": 1, "r": "P551", "score": 0.8, "evidence": [0, 2]},
             {"h_idx": 0, "t_idx": 2, "r": "P27", "score": 0.7, "evidence": []}]
    html = render_predictions_html(document, facts)
    page = Elements(html)
    sentences = [attrs["class"] for attrs in page.attributes("span") if attrs.get("class", "").startswith("sentence ")]
    assert sentences == ["sentence s0", "sentence s1", "sentence s2"]
    assert re.findall(r'<span class="sentence (s\d)" title="S\d">(.*?)</span>(?=\s|$)', html.replace("\n", " "))
    assert [cell for cell in page.texts["td"] if cell in ("S1", "S0, S2", "\u2013")] == ["S1", "S0, S2", "\u2013"]
    style = re.findall(r"<style>(.*?)</style>", html)[-1]
    assert "#document-0:has(#document-0-fact-1:hover) .s1" in style
    assert "#document-0:has(#document-0-fact-2:target) .s2" in style
    assert "fact-3" not in style  # no evidence, no rule
    assert "<script" not in html
    assert "evidence" not in render_predictions_html(document, [{k: v for k, v in fact.items() if k != "evidence"}
                                                               for fact in facts])


def test_the_page_is_self_contained(tmp_path):
    path = write_predictions_html(tmp_path / "sub" / "view.html", [RAW, DOCRED], [FACTS, []])
    html = path.read_text(encoding="utf-8")
    assert re.findall(r"https?://[^\"' )]+", html) == ["http://www.w3.org/2000/svg"]  # the SVG namespace only
    assert not re.search(r"<(script|link|img|iframe)\b|\bsrc=|@import|url\((?!#)", html)


@pytest.mark.parametrize(
    ("predictions", "message"),
    [
        ([FACTS, FACTS], r"predictions has 2 entries but there are 1 documents"),
        ([[{"h_idx": 0, "t_idx": 3, "r": "P1"}]], r"predictions\[0\]\[0\]\.t_idx = 3 is not an entity of document 0"),
        ([[{"h_idx": 0, "t_idx": 1}]], r"predictions\[0\]\[0\]\.r = None: every fact needs its relation label"),
        ([[{"h_idx": 0, "t_idx": 1, "r": "P1", "score": "high"}]], r"predictions\[0\]\[0\]\.score = 'high'"),
        ([{"h_idx": 0, "t_idx": 1, "r": "P1"}], r"predictions\[0\] is a dict, not a list of facts"),
    ],
)
def test_predictions_that_do_not_fit_the_documents_are_refused(predictions, message):
    with pytest.raises(ValueError, match=message):
        render_predictions_html([RAW], predictions)


def test_invalid_documents_are_refused_with_the_document_and_field():
    broken = {**RAW, "entities": [{"mentions": [{"start": 50, "end": 500}], "type": "PER"}]}
    with pytest.raises(DocumentValidationError, match=r"document 0 .*entities\[0\]\.mentions\[0\] span \[50, 500\)"):
        render_predictions_html([broken], [[]])
    bad_docred = {**DOCRED, "vertexSet": [[{"name": "Acme", "pos": [0, 9], "sent_id": 0, "type": "ORG"}]]}
    with pytest.raises(DocumentValidationError, match=r"vertexSet\[0\]\[0\]"):
        render_predictions_html([bad_docred], [[]])


def test_model_predictions_render_directly(tmp_path):
    tokenizer = tiny_bert_tokenizer()
    torch.manual_seed(0)
    BertModel(tiny_bert_config(len(tokenizer))).save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    model = PaeeForDocumentRelationExtraction.from_encoder(
        str(tmp_path), relations=["P17", "P19"], entity_types=["PER", "LOC"], relation_names={"P19": "born in"},
        matrix_size=8, pair_channels=16, classifier_hidden_size=32, bilinear_block_size=8, re_encoder_layers=1,
    ).eval()
    with torch.no_grad():
        model.classifier.bilinear.bias.copy_(torch.tensor([0.0, 0.5, 0.5]))  # every pair gets relations
    documents = [RAW, {**DOCRED, "vertexSet": DOCRED["vertexSet"][1:]}]  # entity types the model knows
    predictions = model.predict(documents)
    cells = Elements(render_predictions_html(documents, predictions)).texts["td"]
    assert len(cells) == 5 * sum(len(facts) for facts in predictions) > 0
    assert {f"{fact['score']:.3f}" for facts in predictions for fact in facts} <= set(cells)


def test_real_dwie_documents_render_every_mention():
    from paee_hf.data.sources import read_documents

    with pytest.warns(UserWarning, match="repeated relation facts"):  # the public DWIE conversion repeats facts
        documents = read_documents(shared_data("dwie", "dev.json"), "dwie")[:30]
    predictions = [[{"h_idx": label["h"], "t_idx": label["t"], "r": label["r"]} for label in document["labels"]]
                   for document in documents]
    html = render_predictions_html(documents, predictions)
    texts = re.findall(r'<div class="text">(.*?)</div>', html, flags=re.DOTALL)
    for document, text in zip(documents, texts):
        tags = re.findall(r'<span class="tag"[^>]*>E(\d+)</span>', text)
        expected = sorted(entity for entity, mentions in enumerate(document["vertexSet"]) for _ in mentions)
        assert sorted(map(int, tags)) == expected, document["title"]
    assert len(re.findall(r"<tr id=\"document-\d+-fact-\d+\">", html)) == sum(len(facts) for facts in predictions)


def _screenshot_module():
    spec = importlib.util.spec_from_file_location("screenshot_html", REPO_ROOT / "scripts" / "screenshot_html.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chromium_shows_the_highlights_and_the_graph(tmp_path):
    chromium_executable()
    image_module = pillow_image()
    html_path = write_predictions_html(tmp_path / "view.html", RAW, FACTS, title="screenshot")
    png = _screenshot_module().chromium_screenshot(html_path, tmp_path / "view.png", width=1000, height=900)
    image = image_module.open(png).convert("RGB")
    assert image.size == (1000, 900)
    counts = {colour: count for count, colour in image.getcolors(maxcolors=1_000_000)}
    for entity in range(3):  # highlights, tags, legend and graph nodes are painted in each entity's colour
        hue = round(entity * 137.508) % 360  # entity_colour's hsl(hue, 75%, 80%) as sRGB
        expected = tuple(round(255 * channel) for channel in colorsys.hls_to_rgb(hue / 360, 0.80, 0.75))
        near = sum(count for colour, count in counts.items()
                   if max(abs(a - b) for a, b in zip(colour, expected)) <= 2)
        assert near > 200, f"entity {entity}'s colour {expected} is missing from the screenshot"
    assert len(counts) > 50  # text was drawn (anti-aliased glyphs), not a blank page
