"""The ``document-relation-extraction`` pipeline.

Registered at ``import paee_hf``; every saved checkpoint also carries it as a custom pipeline
(``config.custom_pipelines`` + this file), so ``pipeline(model=DIR, trust_remote_code=True)`` works where the package
is not installed. Relative imports only.
"""

from __future__ import annotations

from typing import Any

from transformers import Pipeline

from .prediction import RelationPredictor, as_documents, threshold_vector

TASK = "document-relation-extraction"


class DocumentRelationExtractionPipeline(Pipeline):
    """Relations between the entities of documents.

    Inputs: one document or a list, DocRED-format or raw text with character-span entities (see
    ``PaeeForDocumentRelationExtraction.predict``). Call options: ``threshold`` (float or ``{relation: float}`` on
    scores in (0, 1); 0.5 = the learned threshold), ``top_k`` (relations per pair), ``return_all_scores``,
    ``batch_size`` (lists of documents are bucketed by length and run ``batch_size`` at a time).

    Returns:
        Per document, facts ``{"h_idx", "t_idx", "r", "relation", "score", "head", "tail"}`` sorted by score.
    """

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.predictor = RelationPredictor(self.model, self.tokenizer)

    def _sanitize_parameters(
        self, threshold: Any = None, top_k: int | None = None, return_all_scores: bool | None = None
    ) -> tuple[dict, dict, dict]:
        postprocess: dict[str, Any] = {}
        if threshold is not None:
            postprocess["threshold"] = threshold
        if top_k is not None:
            postprocess["top_k"] = top_k
        if return_all_scores is not None:
            postprocess["return_all_scores"] = return_all_scores
        return {}, {}, postprocess

    def __call__(self, inputs: Any, **kwargs: Any) -> Any:
        """One document -> its facts; a list of documents -> a list of fact lists (batched by length)."""
        if isinstance(inputs, list):
            batch_size = kwargs.pop("batch_size", None) or self._batch_size or 8
            kwargs.pop("num_workers", None)
            _, _, postprocess = self._sanitize_parameters(**kwargs)
            return self.predictor.predict(inputs, batch_size=batch_size, **{**self._postprocess_params, **postprocess})
        return super().__call__(inputs, **kwargs)

    def preprocess(self, inputs: Any) -> dict[str, Any]:
        document = as_documents(inputs, source="pipeline input")[0]
        return {"document": document, "features": self.predictor.featurize([document])[0]}

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        scores = self.predictor.scores([model_inputs["features"]])[0]
        return {**model_inputs, "scores": scores}

    def postprocess(
        self,
        model_outputs: dict[str, Any],
        threshold: Any = None,
        top_k: int | None = None,
        return_all_scores: bool = False,
    ) -> list[dict]:
        thresholds = threshold_vector(threshold, self.model.config.relation_labels)
        return self.predictor.decode(
            model_outputs["document"], model_outputs["features"]["pair_indices"], model_outputs["scores"],
            thresholds, top_k, return_all_scores,
        )
