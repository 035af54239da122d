"""The ``document-relation-extraction`` pipeline.

``import paee_hf`` registers it as a task, so ``pipeline("document-relation-extraction", model=DIR_OR_HUB_ID)`` needs
no ``trust_remote_code`` where the package is installed. Every saved checkpoint also carries it as a custom pipeline
(``config.custom_pipelines`` + this file), so ``pipeline(model=DIR, trust_remote_code=True)`` works where the package
is not installed. Relative imports only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from transformers import Pipeline

from .configuration_paee import PIPELINE_TASK
from .prediction import DecodingOptions, RelationPredictor, as_document

TASK = PIPELINE_TASK


class DocumentRelationExtractionPipeline(Pipeline):
    """Relations between the entities of documents, through the one prediction path ([`RelationPredictor`]).

    Inputs: one document, or many as a list, a generator, a ``KeyDataset`` or a ``datasets`` column; each
    DocRED-format or raw text with character-span entities (see ``PaeeForDocumentRelationExtraction.predict``).
    Call options: ``threshold`` (float or ``{relation: float}`` on scores in (0, 1); 0.5 = the learned threshold),
    ``top_k`` (relations per pair), ``return_all_scores``, ``evidence_threshold`` (models that score evidence),
    ``batch_size`` (documents per forward pass) and
    ``num_workers`` (accepted for compatibility; featurization runs in the calling process). A list is bucketed by
    length; other iterables are read ``16 * batch_size`` documents at a time, bucketed within that window.

    Returns:
        One document: its facts ``{"h_idx", "t_idx", "r", "relation", "score", "head", "tail"}`` sorted by score.
        A list: a list of those. A generator, ``KeyDataset`` or column: an iterator of those, in input order.
    """

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.predictor = RelationPredictor(self.model, self.tokenizer, source="pipeline input")

    def _sanitize_parameters(
        self, threshold: Any = None, top_k: int | None = None, return_all_scores: bool | None = None,
        evidence_threshold: float | None = None,
    ) -> tuple[dict, dict, dict]:
        postprocess: dict[str, Any] = {}
        if threshold is not None:
            postprocess["threshold"] = threshold
        if top_k is not None:
            postprocess["top_k"] = top_k
        if return_all_scores is not None:
            postprocess["return_all_scores"] = return_all_scores
        if evidence_threshold is not None:
            postprocess["evidence_threshold"] = evidence_threshold
        return {}, {}, postprocess

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """One document -> its facts; a list -> a list of fact lists; any other iterable -> an iterator of them."""
        if isinstance(inputs, list) and not inputs:
            return []
        if isinstance(inputs, (Mapping, list)):
            return super().__call__(inputs, *args, **kwargs)
        if isinstance(inputs, Iterable) and not isinstance(inputs, (str, bytes)):
            # a `datasets` column or any other iterable streams like a generator (transformers would treat it as
            # one document)
            return super().__call__((document for document in inputs), *args, **kwargs)
        return super().__call__(inputs, *args, **kwargs)

    def get_iterator(
        self, inputs: Any, num_workers: int, batch_size: int, preprocess_params: dict, forward_params: dict,
        postprocess_params: dict,
    ) -> Iterator[list[dict]]:
        """Batches through [`RelationPredictor`] instead of the generic padding collator (features are not tokens)."""
        options = DecodingOptions(**postprocess_params)
        if isinstance(inputs, list):
            return iter(self.predictor.predict(inputs, batch_size, **postprocess_params))
        return (result.facts for result in self.predictor.stream(inputs, batch_size, options))

    def preprocess(self, inputs: Any) -> dict[str, Any]:
        document = as_document(inputs, 0, "pipeline input")
        return {"document": document, "features": self.predictor.featurize([document])}

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        return {**model_inputs, "scored": self.predictor.score(model_inputs["features"])}

    def postprocess(self, model_outputs: dict[str, Any], **options: Any) -> list[dict]:
        options = DecodingOptions(**options)
        return self.predictor.decode([model_outputs["document"]], model_outputs["scored"], options)[0]
