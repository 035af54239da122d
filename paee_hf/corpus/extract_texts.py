"""``paee extract``: plain texts in, one record of entities and relations per text out (``.jsonl``), streamed.

Input: one text given directly, a ``.jsonl`` file with ``{"text", "title"?}`` per line (a line that also gives
``entities`` keeps them), or a ``.txt`` file with one document per line (blank lines skipped). The texts go through
the one prediction path with a [`TextReader`] (``model.extract`` in a stream: bounded memory, windows of
``16 * batch_size`` texts bucketed by length); each record is written as soon as its window is done. The optional
HTML page shows every text with its entities, their mention clusters and the relations.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cli.html_view import write_predictions_html
from ..data.files import check_writable, read_lines
from ..mention_grouping import Grouping
from ..plain_text import TextReader, to_record
from ..prediction import DecodingOptions, RelationPredictor
from .loading import load_trained_model

#: Input file kinds ``paee extract --input`` reads.
TEXT_FILE_SUFFIXES = (".jsonl", ".txt")


@dataclass
class ExtractionSummary:
    """What [`extract_texts`] did.

    Attributes:
        path: The written records.
        documents: Texts read.
        entities: Entities found, over all texts.
        relations: Relations written.
        seconds: Wall time of the extraction (model loading excluded).
    """

    path: Path
    documents: int
    entities: int
    relations: int
    seconds: float

    @property
    def documents_per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0


def extract_texts(
    model_name_or_path: str | os.PathLike,
    texts: Any,
    output_file: str | os.PathLike,
    *,
    recognizer: Any = None,
    label_map: Mapping[str, str] | None = None,
    grouping: Grouping | None = None,
    batch_size: int = 8,
    options: DecodingOptions = DecodingOptions(),
    html_file: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> ExtractionSummary:
    """Find the entities of texts, extract their relations, write one JSON record per text.

    Args:
        model_name_or_path: Trained model directory or Hub id.
        texts: An iterable of texts (strings or ``{"text", "title"?}``), e.g. [`read_texts`] of a file.
        output_file: The ``.jsonl`` records (see ``PaeeForDocumentRelationExtraction.extract``).
        recognizer: ``"spacy:MODEL_NAME"``, ``"hf:ID_OR_PATH"``, ``"heads"`` or any recognizer ``model.extract``
            takes; default: the checkpoint's entity heads.
        label_map: ``{recognizer label: entity type}`` over the default map.
        grouping: ``(text, mentions) -> cluster ids`` for every recognizer's mentions (e.g. ``MentionGrouper()``);
            default: the recognizer's own clusters (the entity heads), else the grouping rules.
        batch_size: Texts per forward pass.
        options: Threshold and ``top_k``, as everywhere else (``return_all_scores`` is not a record).
        html_file: Also write a page with the texts, their entity clusters and relations.
        overwrite: Replace an existing ``output_file``.

    Raises:
        ValueError: An existing output without ``overwrite``, an unwritable path, ``return_all_scores``, an invalid
            text, or a recognizer that cannot be loaded or returns unusable spans (each names the text and the fix).
    """
    output = Path(output_file)
    if output.is_dir():
        raise ValueError(f"{output} is a directory; give --output a file path (e.g. {output / 'facts.jsonl'}).")
    if output.exists() and not overwrite:
        raise ValueError(f"{output} exists; pass --overwrite to replace it.")
    if options.return_all_scores:
        raise ValueError("extract writes facts; return_all_scores is for paee predict --format jsonl.")
    check_writable(output, "--output")
    if html_file is not None:
        check_writable(html_file, "--html")
    model, tokenizer = load_trained_model(model_name_or_path)
    model.eval()
    reader = TextReader.for_model(model, recognizer, label_map, grouping, source="extract input")
    predictor = RelationPredictor(model, tokenizer, source="extract input")
    originals: list[str] = []  # the texts, for the page

    def noted(items: Any) -> Iterator[Any]:
        for item in items:
            if html_file is not None:
                originals.append(item if isinstance(item, str) else item.get("text"))
            yield item

    pages: list[dict] = []
    documents = entities = relations = 0
    start = time.perf_counter()
    partial = output.with_name(output.name + ".partial")
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            for result in predictor.stream(noted(texts), batch_size, options, text_reader=reader):
                record = to_record(result.document, result.facts)
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                documents, entities, relations = (documents + 1, entities + len(record["entities"]),
                                                  relations + len(record["relations"]))
                if html_file is not None:
                    pages.append({**record, "text": originals[result.index]})
    except BaseException:
        partial.unlink(missing_ok=True)  # no half-written output left behind
        raise
    seconds = time.perf_counter() - start
    os.replace(partial, output)
    if html_file is not None:
        write_predictions_html(html_file, [{key: page[key] for key in ("title", "text", "entities")}
                                           for page in pages],
                               [page["relations"] for page in pages], title="PAEE extraction",
                               relation_names=model.config.relation_names)
    return ExtractionSummary(output, documents, entities, relations, seconds)


def read_texts(path: str | os.PathLike) -> Iterator[Any]:
    """The texts of a ``.jsonl`` file (one ``{"text", "title"?}`` object per line) or a ``.txt`` file (one text per
    line), lazily; blank lines are skipped.

    Raises:
        ValueError: Another file kind, a missing file, a line that is not UTF-8 or (``.jsonl``) not a JSON object.
    """
    source = os.fspath(path)
    suffix = Path(source).suffix
    if suffix not in TEXT_FILE_SUFFIXES:
        raise ValueError(f"--input {source}: extract reads .jsonl ({{\"text\", \"title\"?}} per line) or .txt (one "
                         "document per line); rename the file or convert it.")
    for number, line in read_lines(source):
        if suffix == ".txt":
            yield line.rstrip("\r\n")
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{source}, line {number}: not valid JSON ({error.msg}); every line must be one "
                             '{"text", "title"?} object.') from None
        if not isinstance(item, dict) or "text" not in item:
            raise ValueError(f"{source}, line {number}: is {type(item).__name__} without 'text'; every line "
                             'must be one {"text", "title"?} object.')
        yield item
