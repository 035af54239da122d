"""Running a PAEE model over documents: reading files, featurizing with the model's vocabularies, batched
prediction that is correct under data parallelism (every document's facts gathered exactly once), output formats.

Used by the training loop (dev and test) and by ``paee evaluate`` / ``paee predict``.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader
from transformers import PreTrainedTokenizerBase

from ..cli.html_view import write_predictions_html
from ..data import DocumentCollator, DocumentFeaturizer, facts_from_predictions
from ..data.sources import read_documents
from ..metrics import (
    evaluate,
    load_train_facts,
    train_facts_from_documents,
    write_codalab_submission,
)
from ..modeling_paee import PaeeForDocumentRelationExtraction, decode_relations
from .loading import load_trained_model

OUTPUT_FORMATS = ("docred", "codalab", "jsonl")
_FORWARD_INPUTS = frozenset(inspect.signature(PaeeForDocumentRelationExtraction.forward).parameters) - {
    "self", "return_dict"}


def entity_type_ids(model: PaeeForDocumentRelationExtraction) -> dict[str, int]:
    """The model's entity-type vocabulary as name -> id."""
    return {name: index for index, name in enumerate(model.config.entity_types)}


def featurize(
    model: PaeeForDocumentRelationExtraction,
    tokenizer: PreTrainedTokenizerBase,
    documents: Sequence[Mapping[str, Any]],
    source: str,
) -> list[dict[str, Any]]:
    """Model features of ``documents`` with the model's label and entity-type vocabularies (``doc_index`` = position).

    Raises:
        DocumentValidationError: For an invalid document (named after ``source``).
    """
    featurizer = DocumentFeaturizer(tokenizer, model.config.label2id, entity_type_ids(model),
                                    marker_style=model.config.marker_style, source=source)
    return featurizer.featurize_documents(documents, list(range(len(documents))))


def evaluation_loader(
    features: Sequence[Mapping[str, Any]],
    tokenizer: PreTrainedTokenizerBase,
    num_labels: int,
    batch_size: int,
    num_workers: int = 0,
) -> DataLoader:
    """Documents bucketed by length (little padding: 0.89x the time of file order on Re-DocRED, see
    benchmarks/RESULTS.md), padded by [`DocumentCollator`]; results are keyed by ``doc_index``, not by position."""
    collator = DocumentCollator(pad_token_id=tokenizer.pad_token_id, num_labels=num_labels)
    by_length = sorted(features, key=lambda feature: len(feature["input_ids"]))
    return DataLoader(by_length, batch_size=batch_size, shuffle=False, collate_fn=collator, num_workers=num_workers)


def model_inputs(batch: Mapping[str, Any], with_labels: bool = True) -> dict[str, torch.Tensor]:
    """The tensors of a collated batch that the model's forward takes (titles and document indices stay out)."""
    names = _FORWARD_INPUTS if with_labels else _FORWARD_INPUTS - {"labels"}
    return {name: value for name, value in batch.items() if name in names}


@torch.no_grad()
def predict_facts(
    model: torch.nn.Module,
    dataloader: DataLoader,
    accelerator: Accelerator,
    num_documents: int,
) -> list[list[dict[str, Any]]]:
    """Decode every document of a prepared ``dataloader`` into CodaLab facts, gathered from all processes.

    Data-parallel loaders repeat a few documents to even out the last batch; ``gather_for_metrics`` drops them, and
    the result is checked to hold every document exactly once.

    Args:
        model: The model as prepared by ``accelerator`` (or a plain one); run in eval mode under its autocast.
        dataloader: Loader prepared by ``accelerator`` over features whose ``doc_index`` is ``0..num_documents-1``.
        accelerator: The run's accelerator.
        num_documents: How many documents the loader holds.

    Returns:
        Per document (by ``doc_index``), its predicted facts ``{"title", "h_idx", "t_idx", "r"}``.

    Raises:
        RuntimeError: When the gathered documents are not exactly ``0..num_documents-1`` once each.
    """
    config = accelerator.unwrap_model(model).config
    was_training = model.training
    model.eval()
    gathered: list[tuple[int, list[dict[str, Any]]]] = []
    for batch in dataloader:
        with accelerator.autocast():
            # the wrapped model, so that FSDP / DeepSpeed gather their sharded weights
            logits = model(**model_inputs(batch, with_labels=False)).logits
        predicted = decode_relations(logits.float(), config.max_labels_per_pair).cpu()
        pair_indices = batch["pair_indices"].cpu()
        per_document = [
            (doc_index, facts_from_predictions(predicted[row : row + 1], pair_indices[row : row + 1], [title],
                                               config.id2label))
            for row, (title, doc_index) in enumerate(zip(batch["titles"], batch["doc_indices"]))
        ]
        gathered.extend(accelerator.gather_for_metrics(per_document))
    model.train(was_training)
    indices = sorted(doc_index for doc_index, _ in gathered)
    if indices != list(range(num_documents)):
        raise RuntimeError(f"prediction gathered documents {indices[:20]}... but expected each of "
                           f"0..{num_documents - 1} exactly once; prepare the loader with the same accelerator.")
    facts_by_document: list[list[dict[str, Any]]] = [[] for _ in range(num_documents)]
    for doc_index, facts in gathered:
        facts_by_document[doc_index] = facts
    return facts_by_document


def write_predictions(
    facts_by_document: Sequence[Sequence[Mapping[str, Any]]],
    documents: Sequence[Mapping[str, Any]],
    path: str | os.PathLike,
    output_format: str,
    relation_names: Mapping[str, str] | None = None,
) -> Path:
    """Write predictions in one of [`OUTPUT_FORMATS`].

    * ``codalab``: the flat list of facts; a ``.zip`` path gets the CodaLab ``result.zip`` (``result.json`` inside),
      any other path the JSON list itself.
    * ``docred``: the input documents with ``labels`` replaced by the predictions (``evidence`` empty).
    * ``jsonl``: one line per document, ``{"title", "relations": [{"h_idx", "t_idx", "r", "relation", "head",
      "tail"}]}`` with readable relation and entity names.

    Raises:
        ValueError: For an unknown format.
    """
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"--format {output_format!r} is not supported; use one of {OUTPUT_FORMATS}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if output_format == "codalab":
        records = [fact for facts in facts_by_document for fact in facts]
        if path.suffix == ".zip":
            return write_codalab_submission(records, path)
        path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    elif output_format == "docred":
        labelled = [{**document, "labels": [{"h": fact["h_idx"], "t": fact["t_idx"], "r": fact["r"], "evidence": []}
                                            for fact in facts]}
                    for document, facts in zip(documents, facts_by_document, strict=True)]
        path.write_text(json.dumps(labelled, ensure_ascii=False), encoding="utf-8")
    else:
        names = relation_names or {}
        with open(path, "w", encoding="utf-8") as handle:
            for document, facts in zip(documents, facts_by_document, strict=True):
                relations = [{**_fact_fields(fact), "relation": names.get(fact["r"], fact["r"]),
                              "head": _entity_name(document, fact["h_idx"]),
                              "tail": _entity_name(document, fact["t_idx"])} for fact in facts]
                handle.write(json.dumps({"title": document["title"], "relations": relations}, ensure_ascii=False))
                handle.write("\n")
    return path


def _fact_fields(fact: Mapping[str, Any]) -> dict[str, Any]:
    return {"h_idx": fact["h_idx"], "t_idx": fact["t_idx"], "r": fact["r"]}


def _entity_name(document: Mapping[str, Any], entity: int) -> str:
    names = document.get("entity_names")
    return names[entity] if names else document["vertexSet"][entity][0]["name"]


def evaluate_model(
    model_dir: str | os.PathLike,
    data_file: str | os.PathLike,
    *,
    data_format: str = "docred",
    train_files: Sequence[str | os.PathLike] = (),
    train_facts_file: str | os.PathLike | None = None,
    batch_size: int = 8,
) -> dict[str, Any]:
    """Every metric of [`paee_hf.metrics.evaluate`] for a trained model on labelled documents.

    Args:
        model_dir: The trained model directory.
        data_file: Labelled documents.
        data_format: Reader of ``data_file`` and ``train_files``.
        train_files: Training documents, the Ign F1 reference.
        train_facts_file: The official ``(name_h, name_t, r)`` facts file instead of ``train_files``.
        batch_size: Documents per batch.

    Raises:
        ValueError: Unreadable inputs, unlabelled documents, both ``train_files`` and ``train_facts_file``.
    """
    if train_files and train_facts_file is not None:
        raise ValueError("give either --train-file or --train-facts as the Ign F1 reference, not both.")
    model, tokenizer = load_trained_model(model_dir)
    documents = read_documents(data_file, data_format, label2id=model.config.label2id,
                               entity_type2id=entity_type_ids(model))
    unlabelled = [document["title"] for document in documents if document.get("labels") is None]
    if unlabelled:
        raise ValueError(f"{os.fspath(data_file)}: {len(unlabelled)} documents have no labels (e.g. "
                         f"{unlabelled[0]!r}); evaluation needs gold labels (use `paee predict` for unlabelled data).")
    train_facts = None
    if train_facts_file is not None:
        train_facts = load_train_facts(train_facts_file)
    elif train_files:
        train_facts = train_facts_from_documents(
            [document for path in train_files for document in read_documents(path, data_format)])
    facts = _predict_documents(model, tokenizer, documents, os.fspath(data_file), batch_size)
    names = model.config.relation_names
    complete = names if names and all(label in names for label in model.config.relation_labels) else None
    return evaluate([fact for document in facts for fact in document], documents, train_facts=train_facts,
                    relation_names=complete)


def predict_file(
    model_dir: str | os.PathLike,
    input_file: str | os.PathLike,
    output_file: str | os.PathLike,
    *,
    output_format: str = "jsonl",
    data_format: str = "docred",
    batch_size: int = 8,
    html_file: str | os.PathLike | None = None,
) -> tuple[Path, int]:
    """Predict the relations of every document of ``input_file`` and write them (see [`write_predictions`]);
    with ``html_file`` also a page showing each document, its entities and the predicted relations with scores.

    Returns:
        The written path and the number of predicted facts.
    """
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"--format {output_format!r} is not supported; use one of {OUTPUT_FORMATS}.")
    model, tokenizer = load_trained_model(model_dir)
    # labels are not needed to predict: unknown relations in the input must not stop it
    documents = [{key: value for key, value in document.items() if key != "labels"}
                 for document in read_documents(input_file, data_format, entity_type2id=entity_type_ids(model))]
    facts = _predict_documents(model, tokenizer, documents, os.fspath(input_file), batch_size)
    path = write_predictions(facts, documents, output_file, output_format, model.config.relation_names)
    if html_file is not None:
        # model.predict decodes the same way and keeps the scores the page shows
        scored = model.predict(documents, batch_size=batch_size, tokenizer=tokenizer)
        write_predictions_html(html_file, documents, scored, title=f"PAEE predictions: {Path(input_file).name}",
                               relation_names=model.config.relation_names)
    return path, sum(len(document) for document in facts)


def _predict_documents(
    model: PaeeForDocumentRelationExtraction,
    tokenizer: PreTrainedTokenizerBase,
    documents: Sequence[Mapping[str, Any]],
    source: str,
    batch_size: int,
) -> list[list[dict[str, Any]]]:
    """Facts per document with a fresh accelerator (one process, or every process of a launch)."""
    accelerator = Accelerator()
    features = featurize(model, tokenizer, documents, source)
    loader = evaluation_loader(features, tokenizer, model.config.num_labels, batch_size)
    loader = accelerator.prepare_data_loader(loader)
    prepared = accelerator.prepare_model(model, evaluation_mode=True)
    return predict_facts(prepared, loader, accelerator, len(documents))
