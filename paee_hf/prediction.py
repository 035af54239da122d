"""The one prediction path: documents in, ranked facts out (featurize -> score -> decode).

Every entry point goes through [`RelationPredictor`]: ``model.predict``, the ``document-relation-extraction``
pipeline, ``paee predict`` / ``paee evaluate`` and the training loop's dev and test evaluation (the data-parallel
runner in ``paee_hf.corpus`` gathers what this path decodes on each process). So thresholds, ``top_k`` and
``return_all_scores`` mean the same everywhere:

* ``score = sigmoid(s_r - s_TH)`` per pair and relation: above 0.5 exactly when the relation beats the learned
  threshold class of eq. 9;
* a relation is predicted when its score is above ``threshold`` (0.5 by default, a float or ``{relation: float}``),
  and a pair keeps at most ``top_k`` relations (default ``config.max_labels_per_pair``);
* with a model that scores evidence (``use_evidence``), every fact carries ``"evidence"``: the sentence ids whose
  evidence probability is at least ``evidence_threshold`` (``config.evidence_threshold`` by default), plus
  ``"evidence_spans"`` (character ``[start, end)`` of those sentences) for raw-text documents.

Decoding is vectorised over the whole batch (one ``nonzero`` for all facts); only the fact dictionaries are built in
Python. Shipped with checkpoints for ``trust_remote_code`` (relative imports only).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

from .collator import DocumentCollator
from .featurizer import DocumentFeaturizer
from .plain_text import TextReader, is_plain_text, no_recognizer_error, plain_text_and_title
from .raw_text import from_raw_text
from .validation import DocumentValidationError

Threshold = float | Mapping[str, float] | None
#: Documents featurized and sorted by length together when predicting a stream: bounded memory, little padding.
STREAM_WINDOW_BATCHES = 16


def as_document(document: Any, index: int, source: str, require_entities: bool = True) -> dict:
    """One user document as a DocRED-format document.

    Args:
        document: DocRED-format (``sents`` + ``vertexSet``) or raw text
            ``{"text": str, "entities": [{"mentions": [{"start", "end"}], "type": str}]}``.
        index: Its position in the input (for error messages).
        source: Name of the input in error messages.
        require_entities: ``False`` accepts raw text with an empty ``entities`` list (a recognizer found none).

    Raises:
        DocumentValidationError: For a document that is neither shape, plain text (no entities: a
            [`TextReader`] finds them first), or an invalid raw-text document.
    """
    if is_plain_text(document):
        _, title = plain_text_and_title(document, index, source)
        raise no_recognizer_error(source, index, title, reads_plain_text=False)
    if isinstance(document, Mapping) and "text" in document:
        return from_raw_text(document, index, source, require_entities)
    if isinstance(document, Mapping) and "sents" in document and "vertexSet" in document:
        return dict(document)
    title = document.get("title") if isinstance(document, Mapping) else None
    raise DocumentValidationError(
        source, index, title, "document", f"is a {type(document).__name__} with neither 'text' nor "
        "'sents' + 'vertexSet'", 'Give raw text as {"text": ..., "entities": [...]} or a DocRED document',
    )


def as_documents(inputs: Any, source: str = "predict input") -> list[dict]:
    """Normalise one document or a non-empty list of documents (see [`as_document`]).

    Raises:
        ValueError: For input that is neither a document nor a non-empty list of documents.
        DocumentValidationError: For an invalid document.
    """
    return [as_document(document, index, source) for index, document in enumerate(input_list(inputs, source))]


def input_list(inputs: Any, source: str) -> list[Any]:
    """One document (a mapping or a string of plain text) as a list of one; a non-empty list as it is.

    Raises:
        ValueError: For anything else.
    """
    if isinstance(inputs, (Mapping, str)):
        return [inputs]
    if not isinstance(inputs, Sequence) or len(inputs) == 0:
        raise ValueError(
            f"{source}: expected a document (a dict or a string of plain text) or a non-empty list of documents, got "
            f"{type(inputs).__name__}; e.g. model.predict(\"Marie Curie was born in Warsaw.\", recognizer=...) or "
            'model.predict({"text": "...", "entities": [{"mentions": [{"start": 0, "end": 5}], "type": "PER"}]})'
        )
    return list(inputs)


def relation_scores(logits: torch.Tensor) -> torch.Tensor:
    """Per-relation confidence ``sigmoid(s_r - s_TH)``: above 0.5 exactly when the relation beats the threshold class.

    Args:
        logits: ``(..., C)`` with column 0 = TH.

    Returns:
        ``(..., C-1)`` float32 scores in (0, 1).
    """
    return torch.sigmoid(logits[..., 1:].float() - logits[..., :1].float())


def select_relations(scores: torch.Tensor, thresholds: torch.Tensor, top_k: int | None) -> torch.Tensor:
    """The decision rule: above the threshold, and among the pair's ``top_k`` best.

    Args:
        scores: ``(..., C-1)`` from [`relation_scores`].
        thresholds: ``(C-1,)`` per-relation thresholds.
        top_k: At most this many relations per pair; ``None`` = all above the threshold.

    Returns:
        ``(..., C-1)`` bool.
    """
    predicted = scores > thresholds
    if top_k is not None and top_k < scores.shape[-1]:
        predicted &= scores >= scores.topk(top_k, dim=-1).values[..., -1:]
    return predicted


def decode_relations(logits: torch.Tensor, max_labels_per_pair: int | None = None) -> torch.Tensor:
    """Multi-hot relations from logits with the default threshold (ATLOP decoding), at most ``max_labels_per_pair``.

    Args:
        logits: ``(..., C)`` with column 0 = TH.
        max_labels_per_pair: Keep only the best k relations of a pair; ``None`` = all above TH.

    Returns:
        ``(..., C)`` bool multi-hot; column 0 is True exactly for pairs with no relation (NA).
    """
    scores = relation_scores(logits)
    predicted = select_relations(scores, torch.full(scores.shape[-1:], 0.5, device=scores.device), max_labels_per_pair)
    return torch.cat([~predicted.any(-1, keepdim=True), predicted], dim=-1)


@dataclass(frozen=True)
class DecodingOptions:
    """What [`RelationPredictor.decode`] returns.

    Attributes:
        threshold: A float or ``{relation label: float}`` on the scores, in (0, 1); ``None`` = 0.5, the learned
            threshold class.
        top_k: At most this many relations per pair; ``None`` = ``config.max_labels_per_pair``.
        return_all_scores: List every pair once with ``scores`` ``{label: score}`` and its predicted ``relations``.
        evidence_threshold: Evidence probability a sentence needs, in (0, 1); ``None`` = ``config.evidence_threshold``.
            Used only by models with ``use_evidence``.
    """

    threshold: Threshold = None
    top_k: int | None = None
    return_all_scores: bool = False
    evidence_threshold: float | None = None

    def __post_init__(self) -> None:
        if self.top_k is not None and (isinstance(self.top_k, bool) or not isinstance(self.top_k, int)
                                       or self.top_k < 1):
            raise ValueError(f"top_k must be a positive integer or None, got {self.top_k!r}.")
        if not isinstance(self.return_all_scores, bool):
            raise ValueError(f"return_all_scores must be True or False, got {self.return_all_scores!r}.")
        if self.threshold is not None and not isinstance(self.threshold, Mapping):
            _check_threshold(self.threshold, "threshold")
        if self.evidence_threshold is not None:
            _check_threshold(self.evidence_threshold, "evidence_threshold")

    def threshold_vector(self, relation_labels: Sequence[str]) -> torch.Tensor:
        """``(C-1,)`` per-relation thresholds.

        Raises:
            ValueError: For a threshold outside (0, 1) or a dict naming a relation the model does not know.
        """
        values = torch.full((len(relation_labels),), 0.5)
        if self.threshold is None:
            return values
        if not isinstance(self.threshold, Mapping):
            return values.fill_(float(self.threshold))
        unknown = sorted(set(self.threshold) - set(relation_labels))
        if unknown:
            raise ValueError(
                f"threshold names relations the model does not have: {unknown}; known relations are "
                f"{list(relation_labels)[:10]}{'...' if len(relation_labels) > 10 else ''}."
            )
        for label, value in self.threshold.items():
            values[list(relation_labels).index(label)] = _check_threshold(value, f"threshold[{label!r}]")
        return values


def _check_threshold(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        hint = "" if name == "evidence_threshold" else " (0.5 = the learned threshold)"
        raise ValueError(f"{name} must be a number in (0, 1){hint}, got {value!r}.")
    return float(value)


@dataclass
class ScoredBatch:
    """What one forward pass over a batch gives the decoder.

    Attributes:
        scores: ``(B, P, C-1)`` float32 relation scores on the CPU (padded pairs included).
        pair_indices: ``(B, P, 2)`` the pairs' (head, tail) entity indices, ``-1`` for padding.
        evidence: ``(B, P, S)`` float32 evidence probability of every sentence for every pair, on the CPU; ``None``
            for a model without ``use_evidence``.
    """

    scores: torch.Tensor
    pair_indices: torch.Tensor
    evidence: torch.Tensor | None = None


class RelationPredictor:
    """Featurize, batch, score and decode with one model; holds what stays fixed between calls.

    Args:
        model: A ``PaeeForDocumentRelationExtraction``.
        tokenizer: The tokenizer saved with the checkpoint (markers included).
        source: Name of the input in error messages.
    """

    def __init__(self, model: Any, tokenizer: Any, source: str = "predict input") -> None:
        config = model.config
        self.model = model
        self.config = config
        self.source = source
        self.featurizer = DocumentFeaturizer(
            tokenizer,
            config.label2id,
            {name: index for index, name in enumerate(config.entity_types)},
            marker_style=config.marker_style,
            source=source,
            entity_ordering=config.entity_ordering,
        )
        self.collator = DocumentCollator(tokenizer.pad_token_id, config.num_labels)
        self.relation_labels = config.relation_labels
        names = getattr(config, "relation_names", None) or {}
        self.relation_names = [names.get(label, label) for label in self.relation_labels]

    # ------------------------------------------------------------------ the three steps
    def featurize(self, documents: Sequence[Mapping[str, Any]], indices: Sequence[int] | None = None) -> list[dict]:
        """Validate and featurize DocRED-format documents (labels, if any, are not needed and not featurized).

        Args:
            documents: DocRED-format documents.
            indices: Their positions in the caller's input (``doc_index`` of the features, and error messages).

        Raises:
            DocumentValidationError: For the first invalid document.
        """
        unlabelled = [{key: value for key, value in document.items() if key != "labels"} for document in documents]
        return self.featurizer.featurize_documents(unlabelled, list(indices or range(len(unlabelled))))

    @torch.inference_mode()
    def score(self, features: Sequence[Mapping[str, Any]], model: Any = None) -> ScoredBatch:
        """One forward pass over featurized documents.

        Args:
            features: From [`featurize`].
            model: The module to call instead of ``self.model`` (e.g. the Accelerate-prepared one).
        """
        return self.score_batch(self.collator(features), model)

    @torch.inference_mode()
    def score_batch(self, batch: Mapping[str, Any], model: Any = None) -> ScoredBatch:
        """One forward pass over a collated batch (see [`DocumentCollator`])."""
        model = model or self.model
        device = next(model.parameters()).device
        inputs = {key: value.to(device) for key, value in batch.items() if key not in _BOOKKEEPING_KEYS}
        output = model(**inputs)
        evidence = output.evidence_logits
        return ScoredBatch(relation_scores(output.logits).cpu(), document_pair_indices(batch).cpu(),
                           None if evidence is None else torch.sigmoid(evidence.float()).cpu())

    def decode(
        self,
        documents: Sequence[Mapping[str, Any]],
        scored: ScoredBatch,
        options: DecodingOptions = DecodingOptions(),
    ) -> list[list[dict]]:
        """Facts of each document of a scored batch, best first.

        Args:
            documents: The batch's DocRED-format documents, in batch order (for entity names).
            scored: From [`score`].
            options: Threshold, ``top_k``, ``return_all_scores``.

        Returns:
            Per document, facts ``{"h_idx", "t_idx", "r", "relation", "score", "head", "tail"}`` (+ ``"evidence"``,
            and ``"evidence_spans"`` for raw text, when the model scores evidence); with ``return_all_scores`` every
            pair once with ``relations`` and ``scores`` ``{label: score}``.
        """
        thresholds = options.threshold_vector(self.relation_labels)
        top_k = options.top_k or self.config.max_labels_per_pair
        valid = scored.pair_indices[..., 0] >= 0
        predicted = select_relations(scored.scores, thresholds, top_k) & valid[..., None]
        names = [_entity_names(document) for document in documents]
        # evidence of the pairs that are reported: every real pair with return_all_scores, else those with a fact
        reported = valid if options.return_all_scores else predicted.any(-1)
        evidence = self._evidence_sentences(scored, options, reported)
        if options.return_all_scores:
            return self._all_scores(scored, predicted, valid, names, evidence, documents)
        rows, pairs, columns = predicted.nonzero(as_tuple=True)
        values = scored.scores[rows, pairs, columns].tolist()
        heads = scored.pair_indices[rows, pairs, 0].tolist()
        tails = scored.pair_indices[rows, pairs, 1].tolist()
        facts: list[list[dict]] = [[] for _ in documents]
        for row, pair, head, tail, column, value in zip(rows.tolist(), pairs.tolist(), heads, tails, columns.tolist(),
                                                        values):
            fact = {"h_idx": head, "t_idx": tail, "r": self.relation_labels[column],
                    "relation": self.relation_names[column], "score": value,
                    "head": names[row][head], "tail": names[row][tail]}
            if evidence is not None:
                _add_evidence(fact, evidence.get((row, pair), []), documents[row])
            facts[row].append(fact)
        for document_facts in facts:
            document_facts.sort(key=lambda fact: -fact["score"])
        return facts

    def _evidence_sentences(
        self, scored: ScoredBatch, options: DecodingOptions, reported: torch.Tensor
    ) -> dict[tuple[int, int], list[int]] | None:
        """``{(row, pair): [sentence ids]}`` above the evidence threshold for the ``reported`` ``(B, P)`` pairs
        (vectorised); ``None`` without evidence."""
        if scored.evidence is None:
            return None
        threshold = options.evidence_threshold or self.config.evidence_threshold
        rows, pairs, sentences = ((scored.evidence >= threshold) & reported[..., None]).nonzero(as_tuple=True)
        evidence: dict[tuple[int, int], list[int]] = {}
        for row, pair, sentence in zip(rows.tolist(), pairs.tolist(), sentences.tolist()):
            evidence.setdefault((row, pair), []).append(sentence)
        return evidence

    def _all_scores(
        self,
        scored: ScoredBatch,
        predicted: torch.Tensor,
        valid: torch.Tensor,
        names: list[list[str]],
        evidence: dict[tuple[int, int], list[int]] | None,
        documents: Sequence[Mapping[str, Any]],
    ) -> list[list[dict]]:
        results = []
        for row, entity_names in enumerate(names):
            count = int(valid[row].sum())
            pairs = scored.pair_indices[row, :count].tolist()
            scores = scored.scores[row, :count].tolist()
            hits = predicted[row, :count].tolist()
            pair_results = []
            for pair, ((head, tail), pair_scores, pair_hits) in enumerate(zip(pairs, scores, hits)):
                result = {
                    "h_idx": head, "t_idx": tail, "head": entity_names[head], "tail": entity_names[tail],
                    "relations": [label for label, hit in zip(self.relation_labels, pair_hits) if hit],
                    "scores": dict(zip(self.relation_labels, pair_scores)),
                    "score": max(pair_scores, default=0.0),
                }
                if evidence is not None:
                    _add_evidence(result, evidence.get((row, pair), []), documents[row])
                pair_results.append(result)
            results.append(sorted(pair_results, key=lambda pair: -pair["score"]))
        return results

    # ------------------------------------------------------------------ whole inputs
    def predict(
        self,
        inputs: Any,
        batch_size: int = 8,
        threshold: Threshold = None,
        top_k: int | None = None,
        return_all_scores: bool = False,
        evidence_threshold: float | None = None,
        text_reader: TextReader | None = None,
    ) -> list[list[dict]]:
        """See ``PaeeForDocumentRelationExtraction.predict``: the documents bucketed by length, results in order."""
        options = DecodingOptions(threshold, top_k, return_all_scores, evidence_threshold)
        return [result.facts for result in self.predict_documents(inputs, batch_size, options, text_reader)]

    def predict_documents(
        self,
        inputs: Any,
        batch_size: int = 8,
        options: DecodingOptions = DecodingOptions(),
        text_reader: TextReader | None = None,
    ) -> list[PredictedDocument]:
        """Predict one document or a list, all bucketed by length together; one [`PredictedDocument`] each, in order.

        Args:
            inputs: One document or a non-empty list (DocRED-format, raw text with entities, or plain text).
            batch_size: Documents per forward pass.
            options: Decoding options.
            text_reader: Finds the entities of plain text (``None``: plain text is an error naming the options).
        """
        _check_batch_size(batch_size)
        items = input_list(inputs, self.source)
        results = self._predict_window(items, range(len(items)), batch_size, options, text_reader)
        if text_reader is not None:
            text_reader.report()
        return results

    def stream(
        self,
        inputs: Iterable[Any],
        batch_size: int = 8,
        options: DecodingOptions = DecodingOptions(),
        start: int = 0,
        step: int = 1,
        text_reader: TextReader | None = None,
    ) -> Iterator[PredictedDocument]:
        """Predict an iterable of any length with bounded memory, yielding in input order.

        ``STREAM_WINDOW_BATCHES * batch_size`` documents at a time are featurized together and bucketed by length.

        Args:
            inputs: Documents (DocRED-format, raw text with entities, or plain text).
            batch_size: Documents per forward pass.
            options: Decoding options.
            start: Index of the first document in the caller's input (a resumed run, or a process's shard).
            step: Index distance between consecutive documents (``world_size`` for a process's shard).
            text_reader: Finds the entities of plain text (``None``: plain text is an error naming the options); its
                warning on dropped labels comes once, at the end.

        Yields:
            One [`PredictedDocument`] per input document.
        """
        _check_batch_size(batch_size)
        window_size = STREAM_WINDOW_BATCHES * batch_size
        iterator = iter(inputs)
        index = start
        while window := list(itertools.islice(iterator, window_size)):
            indices = range(index, index + len(window) * step, step)
            yield from self._predict_window(window, indices, batch_size, options, text_reader)
            index += len(window) * step
        if text_reader is not None:
            text_reader.report()

    def _predict_window(
        self,
        items: Sequence[Any],
        indices: Sequence[int],
        batch_size: int,
        options: DecodingOptions,
        text_reader: TextReader | None,
    ) -> list[PredictedDocument]:
        """Convert, featurize, bucket, score and decode some documents together. Plain text in which no entity was
        found gets no facts without reaching the model."""
        plain = [False] * len(items)
        if text_reader is not None:
            items, plain = text_reader.prepare(items, indices)
        documents = [as_document(item, i, self.source, require_entities=not is_plain)
                     for item, i, is_plain in zip(items, indices, plain)]
        modelled = [position for position, document in enumerate(documents)
                    if document["vertexSet"] or not plain[position]]
        features = self.featurize([documents[position] for position in modelled],
                                  [indices[position] for position in modelled])
        results: list[list[dict]] = [[] for _ in documents]
        for chunk in _length_buckets(features, batch_size):
            batch_documents = [documents[modelled[i]] for i in chunk]
            facts = self.decode(batch_documents, self.score([features[i] for i in chunk]), options)
            for i, document_facts in zip(chunk, facts):
                results[modelled[i]] = document_facts
        num_tokens = [0] * len(documents)
        for position, feature in zip(modelled, features):
            num_tokens[position] = len(feature["input_ids"])
        return [PredictedDocument(i, document, facts, tokens)
                for i, document, facts, tokens in zip(indices, documents, results, num_tokens)]


class PredictedDocument(NamedTuple):
    """One document's result from [`RelationPredictor.stream`].

    Attributes:
        index: Its position in the caller's input.
        document: The DocRED-format document (raw text converted).
        facts: Its facts, as [`RelationPredictor.decode`] returns them.
        num_tokens: Sub-word tokens the model read (markers included).
    """

    index: int
    document: dict
    facts: list[dict]
    num_tokens: int


#: Keys of a collated batch that the model's forward does not take (prediction needs no labels).
_BOOKKEEPING_KEYS = frozenset({"labels", "evidence_labels", "entity_order", "titles", "doc_indices"})


def document_pair_indices(batch: Mapping[str, Any]) -> torch.Tensor:
    """``(B, P, 2)`` the batch's pairs in the documents' own entity indices (the featurizer orders entities by first
    appearance; ``entity_order`` maps back), ``-1`` for padding."""
    pairs = batch["pair_indices"]
    order = batch.get("entity_order")
    if order is None:
        return pairs
    rows = torch.arange(pairs.shape[0], device=pairs.device)[:, None, None]
    mapped = order[rows, pairs.clamp(min=0)]
    return torch.where(pairs >= 0, mapped, pairs)


def _length_buckets(features: Sequence[Mapping[str, Any]], batch_size: int) -> Iterator[list[int]]:
    """Positions of ``features`` in batches of similar length (little padding is computed)."""
    order = sorted(range(len(features)), key=lambda index: len(features[index]["input_ids"]))
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def _add_evidence(fact: dict, sentences: list[int], document: Mapping[str, Any]) -> None:
    """Sentence ids, and their character spans for raw-text documents (which keep ``sentence_char_spans``)."""
    fact["evidence"] = list(sentences)
    spans = document.get("sentence_char_spans")
    if spans is not None:
        fact["evidence_spans"] = [list(spans[sentence]) for sentence in sentences]


def _entity_names(document: Mapping[str, Any]) -> list[str]:
    return document.get("entity_names") or [mentions[0]["name"] for mentions in document["vertexSet"]]


def _check_batch_size(batch_size: Any) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
