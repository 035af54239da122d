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
from .plain_text import TextReader, is_plain_text, to_record
from .prediction import DecodingOptions, PredictedDocument, RelationPredictor, as_document

TASK = PIPELINE_TASK


class DocumentRelationExtractionPipeline(Pipeline):
    """Relations between the entities of documents, through the one prediction path ([`RelationPredictor`]).

    Inputs: one document, or many as a list, a generator, a ``KeyDataset`` or a ``datasets`` column; each
    DocRED-format, raw text with character-span entities, or plain text (a string, or ``{"text", "title"?}``)
    whose entities the ``recognizer`` finds (see ``PaeeForDocumentRelationExtraction.predict``). Call options (also
    given to ``pipeline(...)``): ``threshold`` (float or ``{relation: float}`` on scores in (0, 1); 0.5 = the learned
    threshold), ``top_k`` (relations per pair), ``return_all_scores``, ``evidence_threshold`` (models that score
    evidence), ``recognizer``, ``label_map``, ``grouping``, ``sentence_splitter``, ``batch_size`` (documents per
    forward pass) and ``num_workers`` (accepted for compatibility; featurization runs in the calling process). A list
    is bucketed by length; other iterables are read ``16 * batch_size`` documents at a time, bucketed within that
    window.

    Returns:
        A document with entities: its facts ``{"h_idx", "t_idx", "r", "relation", "score", "head", "tail"}`` sorted
        by score. Plain text: its record ``{"title", "entities": [{"name", "type", "mentions": [{"start", "end",
        "text"}]}], "relations": [facts]}``, as ``model.extract`` returns it (the entities are what a caller of a
        text pipeline cannot otherwise see). A list: a list of those. A generator, ``KeyDataset`` or column: an
        iterator of those, in input order.
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
        self,
        threshold: Any = None,
        top_k: int | None = None,
        return_all_scores: bool | None = None,
        evidence_threshold: float | None = None,
        recognizer: Any = None,
        label_map: Any = None,
        grouping: Any = None,
        sentence_splitter: Any = None,
    ) -> tuple[dict, dict, dict]:
        text_options = {"recognizer": recognizer, "label_map": label_map, "grouping": grouping,
                        "sentence_splitter": sentence_splitter}
        preprocess = {name: value for name, value in text_options.items() if value is not None}
        postprocess: dict[str, Any] = {}
        if threshold is not None:
            postprocess["threshold"] = threshold
        if top_k is not None:
            postprocess["top_k"] = top_k
        if return_all_scores is not None:
            postprocess["return_all_scores"] = return_all_scores
        if evidence_threshold is not None:
            postprocess["evidence_threshold"] = evidence_threshold
        return preprocess, {}, postprocess

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """One document -> its facts; a list -> a list of fact lists; any other iterable -> an iterator of them."""
        if isinstance(inputs, list) and not inputs:
            return []
        if is_plain_text(inputs):  # one text: through the batched path, where its entities are found
            return self([inputs], *args, **kwargs)[0]
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
    ) -> Iterator[Any]:
        """Batches through [`RelationPredictor`] instead of the generic padding collator (features are not tokens)."""
        options = DecodingOptions(**postprocess_params)
        reader = self._text_reader(preprocess_params)
        if isinstance(inputs, list):
            return iter([_output(result, is_plain_text(item)) for item, result in
                         zip(inputs, self.predictor.predict_documents(inputs, batch_size, options, reader))])
        plain: list[bool] = []

        def noted(items: Iterable[Any]) -> Iterator[Any]:  # which inputs were plain text, as the stream reads them
            for item in items:
                plain.append(is_plain_text(item))
                yield item

        return (_output(result, plain[result.index])
                for result in self.predictor.stream(noted(inputs), batch_size, options, text_reader=reader))

    def preprocess(self, inputs: Any, **text_options: Any) -> dict[str, Any]:
        prepared, _ = self._text_reader(text_options).prepare([inputs], [0])
        document = as_document(prepared[0], 0, "pipeline input")
        return {"document": document, "features": self.predictor.featurize([document])}

    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        return {**model_inputs, "scored": self.predictor.score(model_inputs["features"])}

    def postprocess(self, model_outputs: dict[str, Any], **options: Any) -> list[dict]:
        options = DecodingOptions(**options)
        return self.predictor.decode([model_outputs["document"]], model_outputs["scored"], options)[0]

    def _text_reader(self, text_options: Mapping[str, Any]) -> TextReader:
        return TextReader.for_model(self.model, source="pipeline input", **text_options)


def _output(result: PredictedDocument, plain_text: bool) -> Any:
    """A document's facts, or for plain text its record (entities and facts)."""
    return to_record(result.document, result.facts) if plain_text else result.facts
