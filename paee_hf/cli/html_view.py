"""A page for people to check predictions at a glance (``paee predict --html out.html``).

Per document: the text with every entity mention highlighted in the entity's colour and tagged ``E<index>``, a
legend of the entities with their mention clusters (an entity named more than once lists its mentions; those in no
predicted relation faded), the predicted relations as a graph (their entities as nodes, relations as labelled arrows
from head to tail) and as a table with scores. One self-contained HTML file:
inline CSS and inline SVG, no JavaScript, nothing loaded from elsewhere; every document or model text is escaped.
Facts with ``"evidence"`` (models trained with ``use_evidence``) list their sentences; hovering a fact's row, or
clicking its number, highlights those sentences in the text (CSS ``:has()``, no script).

Documents are those ``model.predict`` accepts: raw text with character-span entities (highlighted on the original
text; ``paee extract`` records with their text, an empty entity list included) or DocRED documents (words joined by
spaces, mentions by word position, sentences numbered ``S0, S1, ...``).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from ..prediction import as_document
from ..validation import is_integer, validate_document

SOURCE = "render_predictions_html documents"
#: Longest entity name drawn in the graph and longest edge label (the full text is in the hover title).
MAX_NODE_LABEL = 22
MAX_EDGE_LABEL = 36
NODE_RADIUS = 17

_CSS = """
body { font: 15px/1.55 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1f2328;
       margin: 0 auto; padding: 24px; max-width: 1180px; background: #f6f8fa; }
h1 { font-size: 24px; margin: 0 0 4px; }
.summary { color: #57606a; margin: 0 0 20px; }
section.document { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 16px 20px;
                   margin-bottom: 24px; }
h2 { font-size: 18px; margin: 0 0 10px; }
.text { line-height: 2.1; }
.sentence-id { color: #8c959f; font-size: 11px; margin-right: 3px; vertical-align: super; }
.sentence { border-radius: 3px; transition: background 0.1s; }
table.facts tr:target { background: #fff8c5; }
mark { border-radius: 3px; padding: 1px 1px; color: inherit; }
.tag { font-size: 10px; font-weight: 600; border-radius: 3px; padding: 0 3px; margin-left: 1px;
       color: #1f2328; vertical-align: sub; border: 1px solid rgba(0, 0, 0, .25); }
.legend { margin: 12px 0; display: flex; flex-wrap: wrap; gap: 6px 14px; font-size: 13px; }
.legend .unrelated { opacity: .55; }
.legend .cluster { color: #57606a; font-size: 12px; }
.results { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
svg.graph { border: 1px solid #d0d7de; border-radius: 6px; background: #fcfcfd; max-width: 100%; height: auto; }
svg.graph text { font: 12px system-ui, "DejaVu Sans", sans-serif; }
svg.graph .edge-label, svg.graph .node-label { paint-order: stroke; stroke: #fcfcfd; stroke-width: 4px;
                                               fill: #24292f; }
table.facts { border-collapse: collapse; font-size: 14px; flex: 1 1 360px; }
table.facts th, table.facts td { border-bottom: 1px solid #d8dee4; padding: 4px 8px; text-align: left;
                                 vertical-align: top; }
table.facts th { background: #f6f8fa; }
table.facts td.score { font-variant-numeric: tabular-nums; white-space: nowrap; }
.bar { display: inline-block; height: 8px; background: #2da44e; border-radius: 4px; margin-right: 6px; }
code { font-size: 12px; color: #57606a; }
.none { color: #57606a; font-style: italic; }
"""


def render_predictions_html(
    documents: Any,
    predictions: Sequence[Any],
    title: str = "PAEE predictions",
    relation_names: Mapping[str, str] | None = None,
) -> str:
    """The predictions of some documents as one self-contained HTML page.

    Args:
        documents: One document or a list, raw text (``{"text", "entities"}``) or DocRED format.
        predictions: Per document, its facts ``{"h_idx", "t_idx", "r"}`` with optional ``"relation"`` (a readable
            name) and ``"score"`` in [0, 1], e.g. the output of ``model.predict`` or CodaLab facts grouped by
            document. For a single document (a dict) its list of facts may be given directly.
        title: Heading and ``<title>`` of the page.
        relation_names: Readable relation names for facts without ``"relation"`` (e.g. ``config.relation_names``).

    Returns:
        The HTML text.

    Raises:
        DocumentValidationError: An invalid document.
        ValueError: Predictions that do not match the documents (count, entity indices, missing relation, a score
            that is not a number), naming the document and fact.
    """
    originals = [documents] if isinstance(documents, Mapping) else list(documents)
    converted = [as_document(document, index, SOURCE, require_entities=False)
                 for index, document in enumerate(originals)]
    for index, (original, document) in enumerate(zip(originals, converted)):
        if "text" not in original:  # raw text was validated by the conversion
            validate_document(document, index, SOURCE)
    if isinstance(documents, Mapping) and all(isinstance(fact, Mapping) for fact in predictions):
        predictions = [predictions]
    if isinstance(predictions, (str, bytes)) or len(predictions) != len(converted):
        count = "a string" if isinstance(predictions, (str, bytes)) else f"{len(predictions)} entries"
        raise ValueError(f"predictions has {count} but there are {len(converted)} documents; give one list of "
                         "facts per document, in the order of the documents (model.predict returns exactly that).")
    names = dict(relation_names or {})
    sections = []
    total = 0
    for index, (original, document, facts) in enumerate(zip(originals, converted, predictions)):
        checked = _check_facts(facts, index, len(document["vertexSet"]))
        total += len(checked)
        sections.append(_document_section(index, original, document, checked, names))
    summary = f"{len(converted)} document{'s' if len(converted) != 1 else ''}, {total} predicted relation" + (
        "s" if total != 1 else "")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n<p class=\"summary\">{summary}</p>\n"
        + "\n".join(sections) + "\n</body>\n</html>\n"
    )


def write_predictions_html(
    path: str | os.PathLike,
    documents: Any,
    predictions: Sequence[Any],
    title: str = "PAEE predictions",
    relation_names: Mapping[str, str] | None = None,
) -> Path:
    """Write [`render_predictions_html`] to ``path`` (parent folders are created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_predictions_html(documents, predictions, title, relation_names), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------------- checks
def _check_facts(facts: Any, doc_index: int, num_entities: int) -> list[dict[str, Any]]:
    """Facts of one document with valid entity indices, a relation and an optional numeric score."""
    if isinstance(facts, (str, bytes, Mapping)) or not isinstance(facts, Sequence):
        raise ValueError(f"predictions[{doc_index}] is a {type(facts).__name__}, not a list of facts; give "
                         "[{'h_idx': int, 't_idx': int, 'r': str, 'score': float}, ...] (empty list: no relation).")
    checked = []
    for position, fact in enumerate(facts):
        where = f"predictions[{doc_index}][{position}]"
        if not isinstance(fact, Mapping):
            raise ValueError(f"{where} is a {type(fact).__name__}, not a fact {{'h_idx', 't_idx', 'r'}}.")
        for key in ("h_idx", "t_idx"):
            if not is_integer(fact.get(key)) or not 0 <= fact[key] < num_entities:
                raise ValueError(f"{where}.{key} = {fact.get(key)!r} is not an entity of document {doc_index} "
                                 f"(it has {num_entities}); predictions must belong to the documents given with them.")
        if not isinstance(fact.get("r"), str) or not fact["r"]:
            raise ValueError(f"{where}.r = {fact.get('r')!r}: every fact needs its relation label "
                             "(facts from predict(return_all_scores=True) are per pair: keep only 'relations').")
        score = fact.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))
                                  or not math.isfinite(score)):
            raise ValueError(f"{where}.score = {score!r} is not a number; give a float or leave 'score' out.")
        checked.append(dict(fact))
    return checked


# ---------------------------------------------------------------------------------------------------------- a document
def _document_section(
    index: int, original: Mapping[str, Any], document: Mapping[str, Any], facts: list[dict], names: Mapping[str, str]
) -> str:
    entity_names = document.get("entity_names") or [mentions[0]["name"] for mentions in document["vertexSet"]]
    colours = [entity_colour(entity) for entity in range(len(entity_names))]
    related = {fact[key] for fact in facts for key in ("h_idx", "t_idx")}
    if "text" in original:
        spans = [(mention["start"], mention["end"], entity)
                 for entity, item in enumerate(original["entities"]) for mention in item["mentions"]]
        text_html = _raw_text(original["text"], document["sentence_char_spans"], spans, entity_names, colours)
    else:
        text_html = _docred_text(document, entity_names, colours)
    legend = "".join(
        f'<span class="{"" if entity in related else "unrelated"}">{_chip(entity, colours)} '
        f'{escape(name)} <code>{escape(str(mentions[0].get("type", "")))}</code>{_cluster(mentions)}</span>'
        for entity, (name, mentions) in enumerate(zip(entity_names, document["vertexSet"]))
    ) or '<span class="none">No entity found.</span>'
    return (
        f'<section class="document" id="document-{index}">\n'
        f"<h2>{index + 1}. {escape(str(document['title']))}</h2>\n"
        f'<div class="text">{text_html}</div>\n<div class="legend">{legend}</div>\n'
        f'<div class="results">{_graph_svg(index, entity_names, colours, facts, names)}'
        f"{_facts_table(index, facts, entity_names, colours, names)}</div>\n{_evidence_style(index, facts)}</section>"
    )


def _cluster(mentions: Sequence[Mapping[str, Any]]) -> str:
    """An entity's mention cluster when it has several mentions: their distinct texts in order, with counts."""
    if len(mentions) < 2:
        return ""
    counts = Counter(str(mention.get("name", "")) for mention in mentions)
    texts = ", ".join(f"{escape(text)}{f' &times;{count}' if count > 1 else ''}" for text, count in counts.items())
    return f' <span class="cluster">{len(mentions)} mentions: {texts}</span>'


def _evidence_style(doc_index: int, facts: Sequence[Mapping[str, Any]]) -> str:
    """CSS (no script) that highlights a fact's evidence sentences while its row is hovered or selected (#target)."""
    section = f"#document-{doc_index}"
    rules = []
    for number, fact in enumerate(facts, start=1):
        sentences = [sentence for sentence in fact.get("evidence") or () if is_integer(sentence)]
        if sentences:
            row = f"{section}-fact-{number}"
            targets = ", ".join(f"{section}:has({row}:{state}) .s{sentence}"
                                for state in ("hover", "target") for sentence in sentences)
            rules.append(f"{targets} {{ background: #fff3a0; box-shadow: 0 0 0 2px #fff3a0; }}")
    return f"<style>{' '.join(rules)}</style>\n" if rules else ""


def entity_colour(entity: int, lightness: int = 80) -> str:
    """A distinct pastel colour per entity index (golden-angle hues, so neighbours differ)."""
    return f"hsl({round(entity * 137.508) % 360}, 75%, {lightness}%)"


def _chip(entity: int, colours: Sequence[str]) -> str:
    return f'<span class="tag" style="background:{colours[entity]}">E{entity}</span>'


def _docred_text(document: Mapping[str, Any], entity_names: Sequence[str], colours: Sequence[str]) -> str:
    """DocRED sentences with their mentions highlighted (words joined by spaces)."""
    spans_by_sentence: dict[int, list[tuple[int, int, int]]] = {}
    for entity, mentions in enumerate(document["vertexSet"]):
        for mention in mentions:
            spans_by_sentence.setdefault(mention["sent_id"], []).append((*mention["pos"], entity))
    sentences = []
    for sent_id, words in enumerate(document["sents"]):
        starts, offset = [], 0
        for word in words:
            starts.append(offset)
            offset += len(word) + 1
        ends = [start + len(word) for start, word in zip(starts, words)]
        spans = [(starts[first], ends[last - 1], entity) for first, last, entity in spans_by_sentence.get(sent_id, [])]
        sentences.append(f'<span class="sentence s{sent_id}"><span class="sentence-id">S{sent_id}</span>'
                         + _highlight(" ".join(words), spans, entity_names, colours) + "</span>")
    return " ".join(sentences)


def _raw_text(
    text: str,
    sentence_spans: Sequence[Sequence[int]],
    spans: Sequence[tuple[int, int, int]],
    entity_names: Sequence[str],
    colours: Sequence[str],
) -> str:
    """Raw text sentence by sentence (each a ``.s<id>`` span for evidence highlighting), mentions highlighted; no
    mention crosses a sentence (the raw-text conversion never splits one)."""
    pieces, previous_end = [], 0
    for sent_id, (start, end) in enumerate(sentence_spans):
        inside = [(first - start, last - start, entity) for first, last, entity in spans if start <= first < end]
        pieces.append(escape(text[previous_end:start]))
        pieces.append(f'<span class="sentence s{sent_id}" title="S{sent_id}">'
                      + _highlight(text[start:end], inside, entity_names, colours) + "</span>")
        previous_end = end
    pieces.append(escape(text[previous_end:]))
    return "".join(pieces)


def _highlight(
    text: str, spans: Sequence[tuple[int, int, int]], entity_names: Sequence[str], colours: Sequence[str]
) -> str:
    """Escaped ``text`` with each ``(start, end, entity)`` span marked; overlapping spans (composite mentions) get
    stripes of every entity's colour, and each mention is followed by its ``E<entity>`` tag."""
    boundaries = sorted({0, len(text), *(offset for start, end, _ in spans for offset in (start, end))})
    pieces = []
    for left, right in zip(boundaries, boundaries[1:]):
        covering = sorted({entity for start, end, entity in spans if start <= left and right <= end})
        segment = escape(text[left:right])
        if covering:
            hover = escape("; ".join(f"E{entity} {entity_names[entity]}" for entity in covering))
            if len(covering) == 1:
                background = f"background:{colours[covering[0]]}"
            else:
                stops = [f"{colours[entity]} {100 * k // len(covering)}% {100 * (k + 1) // len(covering)}%"
                         for k, entity in enumerate(covering)]
                background = f"background:linear-gradient(to bottom, {', '.join(stops)})"
            segment = f'<mark style="{background}" title="{hover}">{segment}</mark>'
        pieces.append(segment)
        pieces.extend(_chip(entity, colours) for start, end, entity in sorted(spans) if end == right)
    return "".join(pieces)


def _facts_table(
    doc_index: int,
    facts: Sequence[Mapping[str, Any]],
    entity_names: Sequence[str],
    colours: Sequence[str],
    names: Mapping[str, str],
) -> str:
    if not facts:
        return '<table class="facts"><tr><td class="none">No relation predicted.</td></tr></table>'
    with_evidence = any("evidence" in fact for fact in facts)
    rows = []
    for number, fact in enumerate(facts, start=1):
        head, tail, label = fact["h_idx"], fact["t_idx"], fact["r"]
        relation = fact.get("relation") or names.get(label) or label
        score = fact.get("score")
        score_html = "&ndash;" if score is None else (
            f'<span class="bar" style="width:{round(48 * min(max(score, 0.0), 1.0))}px"></span>{score:.3f}')
        row_id = f"document-{doc_index}-fact-{number}"
        evidence = ""
        if with_evidence:
            sentences = ", ".join(f"S{int(sent)}" for sent in fact.get("evidence") or () if is_integer(sent))
            evidence = f"<td>{sentences or '&ndash;'}</td>"
        rows.append(
            f'<tr id="{row_id}"><td><a href="#{row_id}">{number}</a></td>'
            f"<td>{_chip(head, colours)} {escape(entity_names[head])}</td>"
            f"<td>{escape(relation)}{f' <code>{escape(label)}</code>' if relation != label else ''}</td>"
            f"<td>{_chip(tail, colours)} {escape(entity_names[tail])}</td><td class=\"score\">{score_html}</td>"
            f"{evidence}</tr>"
        )
    evidence_header = '<th title="hover or click a row to see its sentences">evidence</th>' if with_evidence else ""
    return ('<table class="facts"><thead><tr><th>#</th><th>head</th><th>relation</th><th>tail</th><th>score</th>'
            f"{evidence_header}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


# ---------------------------------------------------------------------------------------------------------- the graph
def _graph_svg(
    doc_index: int,
    entity_names: Sequence[str],
    colours: Sequence[str],
    facts: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
) -> str:
    """The entities of the facts (the others are in the legend) on a circle, one arrow per (head, tail) pair labelled
    with its relations; arrows bend to the left of their direction, so the two directions of a pair stay apart. An
    entity in many pairs (typically the document's subject) sits in the centre, so its arrows fan out instead of
    crossing the circle. Empty when there is no fact."""
    edges: dict[tuple[int, int], list[str]] = {}
    for fact in facts:
        edges.setdefault((fact["h_idx"], fact["t_idx"]), []).append(
            fact.get("relation") or names.get(fact["r"]) or fact["r"])
    if not edges:
        return ""
    degree = Counter(entity for pair in edges for entity in set(pair))
    hub = max(degree, key=lambda entity: (degree[entity], -entity))
    if len(degree) < 4 or degree[hub] < 3:
        hub = None
    ring = sorted(entity for entity in degree if entity != hub)
    radius = 130 + 12 * max(0, len(ring) - 6)
    margin_x, margin_y = 140, 50
    width, height = 2 * (radius + margin_x), 2 * (radius + margin_y)
    angles = {entity: 2 * math.pi * slot / len(ring) - math.pi / 2 for slot, entity in enumerate(ring)}
    points = {entity: (width / 2 + radius * math.cos(angle), height / 2 + radius * math.sin(angle))
              for entity, angle in angles.items()}
    if hub is not None:
        points[hub], angles[hub] = (width / 2, height / 2), -math.pi / 2  # its name goes above it
    marker = f"arrow-{doc_index}"
    parts = [
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="relation graph">',
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>',
    ]
    for (head, tail), relations in edges.items():
        # an arrow touching the centre is labelled towards its outer end, where the fan has room
        position = 0.62 if head == hub else 0.38 if tail == hub else 0.5
        parts.append(_edge_svg(points[head], points[tail], relations, marker, position))
    for entity in sorted(points):
        (x, y), angle, name = points[entity], angles[entity], entity_names[entity]
        shown = name if len(name) <= MAX_NODE_LABEL else name[: MAX_NODE_LABEL - 1] + "\u2026"
        # the name sits outside the circle: beside the node left/right, below/above it at the bottom/top
        label_x = x + (NODE_RADIUS + 6) * math.cos(angle)
        label_y = y + (NODE_RADIUS + 6) * math.sin(angle) + 4 + (10 if math.sin(angle) > 0.7 else 0) - (
            4 if math.sin(angle) < -0.7 else 0)
        anchor = "middle" if abs(math.cos(angle)) < 0.3 else "start" if math.cos(angle) > 0 else "end"
        parts.append(
            f"<g><title>{escape(f'E{entity} {name}')}</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_RADIUS}" fill="{colours[entity]}" '
            f'stroke="{entity_colour(entity, 35)}" stroke-width="2"/>'
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-weight="600">E{entity}</text>'
            f'<text class="node-label" x="{label_x:.1f}" y="{label_y:.1f}" text-anchor="{anchor}">{escape(shown)}'
            "</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _edge_svg(
    start: tuple[float, float], end: tuple[float, float], relations: Sequence[str], marker: str, position: float
) -> str:
    """One labelled arrow (a quadratic curve, or a loop when head == tail); the label sits at ``position`` (0 = start,
    1 = end) along the curve."""
    label = "; ".join(dict.fromkeys(relations))
    shown = label if len(label) <= MAX_EDGE_LABEL else label[: MAX_EDGE_LABEL - 1] + "\u2026"
    hover = f"<title>{escape(label)}</title>"
    if start == end:
        x, y = start
        path = (f"M{x - 9:.1f},{y - NODE_RADIUS + 2:.1f} C{x - 40:.1f},{y - 70:.1f} {x + 40:.1f},{y - 70:.1f} "
                f"{x + 9:.1f},{y - NODE_RADIUS + 2:.1f}")
        label_x, label_y, anchor = x, y - 62, "middle"
    else:
        (x1, y1), (x2, y2) = start, end
        length = math.hypot(x2 - x1, y2 - y1)
        bend = min(40.0, 0.2 * length)
        normal_x, normal_y = (y2 - y1) / length, -(x2 - x1) / length  # left of the direction head -> tail
        control_x, control_y = (x1 + x2) / 2 + bend * normal_x, (y1 + y2) / 2 + bend * normal_y
        x1, y1 = _towards((x1, y1), (control_x, control_y), NODE_RADIUS + 1)
        x2, y2 = _towards((x2, y2), (control_x, control_y), NODE_RADIUS + 3)
        path = f"M{x1:.1f},{y1:.1f} Q{control_x:.1f},{control_y:.1f} {x2:.1f},{y2:.1f}"
        # the label extends away from the chord, so the labels of a pair's two directions stay apart
        weights = ((1 - position) ** 2, 2 * position * (1 - position), position**2)  # the Bezier curve at position
        label_x = weights[0] * x1 + weights[1] * control_x + weights[2] * x2 + 4 * normal_x
        label_y = weights[0] * y1 + weights[1] * control_y + weights[2] * y2 + 4 * normal_y + 4
        anchor = "start" if normal_x > 0.5 else "end" if normal_x < -0.5 else "middle"
    return (f'<g>{hover}<path d="{path}" fill="none" stroke="#57606a" stroke-width="1.6" '
            f'marker-end="url(#{marker})"/><text class="edge-label" x="{label_x:.1f}" y="{label_y:.1f}" '
            f'text-anchor="{anchor}">{escape(shown)}</text></g>')


def _towards(point: tuple[float, float], target: tuple[float, float], distance: float) -> tuple[float, float]:
    """``point`` moved ``distance`` towards ``target`` (to start and end arrows at the node's rim)."""
    dx, dy = target[0] - point[0], target[1] - point[1]
    norm = math.hypot(dx, dy) or 1.0
    return point[0] + distance * dx / norm, point[1] + distance * dy / norm
