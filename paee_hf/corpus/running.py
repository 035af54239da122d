"""Running a PAEE model over labelled document sets: features for training, data-parallel prediction through the one
prediction path (every document's facts gathered exactly once), and scoring with every metric.

Used by the training loop (dev and test) and by ``paee evaluate``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader
from transformers import PreTrainedTokenizerBase

from ..data import DocumentFeaturizer
from ..data.sources import read_documents
from ..metrics import evaluate, load_train_facts, train_facts_from_documents
from ..modeling_paee import PaeeForDocumentRelationExtraction
from ..prediction import DecodingOptions, RelationPredictor
from .loading import load_trained_model

_CODALAB_FACT_FIELDS = ("h_idx", "t_idx", "r", "evidence")
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
    """Training features of ``documents`` (labels included) with the model's vocabularies (``doc_index`` = position);
    with ``config.entity_heads`` also the plain text and gold mentions that train the entity heads.

    Raises:
        DocumentValidationError: For an invalid document (named after ``source``).
    """
    featurizer = DocumentFeaturizer(tokenizer, model.config.label2id, entity_type_ids(model),
                                    marker_style=model.config.marker_style, source=source,
                                    entity_heads=model.config.entity_heads,
                                    entity_ordering=model.config.entity_ordering)
    return featurizer.featurize_documents(documents, list(range(len(documents))))


def model_inputs(batch: Mapping[str, Any], with_labels: bool = True) -> dict[str, torch.Tensor]:
    """The tensors of a collated batch that the model's forward takes (titles and document indices stay out)."""
    names = _FORWARD_INPUTS if with_labels else _FORWARD_INPUTS - {"labels", "evidence_labels"}
    return {name: value for name, value in batch.items() if name in names}


def predict_gathered(
    predictor: RelationPredictor,
    documents: Sequence[Mapping[str, Any]],
    accelerator: Accelerator,
    batch_size: int,
    options: DecodingOptions = DecodingOptions(),
    features: Sequence[Mapping[str, Any]] | None = None,
    model: torch.nn.Module | None = None,
) -> list[list[dict[str, Any]]]:
    """Facts of every document, each process scoring its share of the length-bucketed batches.

    Data-parallel loaders repeat a few documents to even out the last batch; ``gather_for_metrics`` drops them, and
    the result is checked to hold every document exactly once.

    Args:
        predictor: The one prediction path, built on the unwrapped model.
        documents: DocRED-format documents.
        accelerator: The run's accelerator (one process, or every process of a launch).
        batch_size: Documents per forward pass and process.
        options: Decoding options.
        features: ``predictor.featurize(documents)`` when the caller keeps them (the training loop, every epoch).
        model: The module to run, e.g. the one ``accelerator`` prepared, so that FSDP / DeepSpeed gather their
            sharded weights; default ``predictor.model``. It runs in eval mode under the accelerator's autocast.

    Returns:
        Per document, its facts ``{"h_idx", "t_idx", "r", "relation", "score", "head", "tail"}``, best first.

    Raises:
        RuntimeError: When the gathered documents are not exactly ``0..len(documents)-1`` once each.
    """
    features = predictor.featurize(documents) if features is None else features
    by_length = sorted(features, key=lambda feature: len(feature["input_ids"]))
    loader = accelerator.prepare_data_loader(
        DataLoader(by_length, batch_size=batch_size, shuffle=False, collate_fn=predictor.collator))
    model = model or predictor.model
    was_training = model.training
    model.eval()
    gathered: list[tuple[int, list[dict[str, Any]]]] = []
    for batch in loader:
        with accelerator.autocast():
            scored = predictor.score_batch(batch, model)
        indices = batch["doc_indices"]
        facts = predictor.decode([documents[index] for index in indices], scored, options)
        gathered.extend(accelerator.gather_for_metrics(list(zip(indices, facts))))
    model.train(was_training)
    received = sorted(index for index, _ in gathered)
    if received != list(range(len(documents))):
        raise RuntimeError(f"prediction gathered documents {received[:20]}... but expected each of "
                           f"0..{len(documents) - 1} exactly once; prepare the loader with the same accelerator.")
    facts_by_document: list[list[dict[str, Any]]] = [[] for _ in documents]
    for index, facts in gathered:
        facts_by_document[index] = facts
    return facts_by_document


def codalab_records(
    facts_by_document: Sequence[Sequence[Mapping[str, Any]]], documents: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The flat CodaLab list ``{"title", "h_idx", "t_idx", "r"}``, plus ``"evidence"`` where a fact carries it (what
    the metrics and the official scorer read)."""
    return [{"title": document["title"], **{key: fact[key] for key in _CODALAB_FACT_FIELDS if key in fact}}
            for document, facts in zip(documents, facts_by_document, strict=True) for fact in facts]


def evaluate_model(
    model_dir: str | os.PathLike,
    data_file: str | os.PathLike,
    *,
    data_format: str = "docred",
    train_files: Sequence[str | os.PathLike] = (),
    train_facts_file: str | os.PathLike | None = None,
    batch_size: int = 8,
    options: DecodingOptions = DecodingOptions(),
) -> dict[str, Any]:
    """Every metric of [`paee_hf.metrics.evaluate`] for a trained model on labelled documents.

    Args:
        model_dir: The trained model directory or Hub id.
        data_file: Labelled documents.
        data_format: Reader of ``data_file`` and ``train_files``.
        train_files: Training documents, the Ign F1 reference.
        train_facts_file: The official ``(name_h, name_t, r)`` facts file instead of ``train_files``.
        batch_size: Documents per batch.
        options: Decoding options (threshold, top_k), as everywhere else.

    Raises:
        ValueError: Unreadable inputs, unlabelled documents, both ``train_files`` and ``train_facts_file``.
    """
    if train_files and train_facts_file is not None:
        raise ValueError("give either --train-file or --train-facts as the Ign F1 reference, not both.")
    if options.return_all_scores:
        raise ValueError("evaluation scores decided facts; return_all_scores does not apply.")
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
    predictor = RelationPredictor(model, tokenizer, source=os.fspath(data_file))
    facts = predict_gathered(predictor, documents, Accelerator(), batch_size, options)
    names = model.config.relation_names
    complete = names if names and all(label in names for label in model.config.relation_labels) else None
    return evaluate(codalab_records(facts, documents), documents, train_facts=train_facts, relation_names=complete)
