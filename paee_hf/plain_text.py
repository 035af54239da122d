"""Plain text in, entities found: the step between a user's text and the one prediction path.

Plain text is a string, or ``{"text": str, "title"?: str}`` without ``entities``. [`TextReader`] turns each into the
raw-text document [`paee_hf.raw_text.from_raw_text`] reads:

1. a recognizer ([`paee_hf.recognizers`]) finds the mentions; their spans are checked;
2. their labels are mapped to the model's entity types (dropped labels are counted and reported in one warning per
   call);
3. mentions are grouped into entities: by the recognizer's own clusters when it gives them (the entity heads) and
   no ``grouping`` is passed, else by [`paee_hf.mention_grouping`]'s rules or the ``grouping`` callable (which then
   also regroups clustered mentions: at a small training budget the rules beat the heads' coreference scorer);
4. entities are ordered by their first mention, mentions by position; an entity is named by its longest mention and
   typed by its most frequent mention type;
5. sentences come from ``sentence_splitter`` when given, else from the recognizer when it segments (spaCy), else the
   built-in splitter.

Documents that already carry entities pass unchanged (a ``sentence_splitter`` still gives them sentences).
[`to_record`] turns a converted document and its facts into the ``paee extract`` record::

    {"title", "entities": [{"name", "type", "mentions": [{"start", "end", "text"}]}],
     "relations": [{"h_idx", "t_idx", "r", "relation", "score", "head", "tail", ...}]}

Shipped with checkpoints for ``trust_remote_code`` (relative imports only).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NoReturn

from .mention_grouping import Grouping, MentionGrouper
from .recognizers import RECOGNIZER_OPTIONS, LabelMapper, Recognizer, resolve_recognizer
from .validation import DocumentValidationError, json_kind

logger = logging.getLogger(__name__)

#: ``text -> [(start, end), ...]``: the character spans of the sentences.
SentenceSplitter = Callable[[str], Sequence[Sequence[int]]]


def is_plain_text(item: Any) -> bool:
    """A string, or a mapping with ``text`` and no ``entities``."""
    return isinstance(item, str) or (isinstance(item, Mapping) and "text" in item and "entities" not in item)


def plain_text_and_title(item: Any, index: int, source: str) -> tuple[str, str | None]:
    """The text and title of a plain-text item, checked.

    Raises:
        DocumentValidationError: A text that is not a string, empty or only whitespace; a title that is not a string.
    """
    text = item if isinstance(item, str) else item["text"]
    title = item.get("title") if isinstance(item, Mapping) else None

    def fail(field: str, problem: str, fix: str) -> NoReturn:
        raise DocumentValidationError(source, index, title if isinstance(title, str) else None, field, problem, fix)

    if title is not None and not isinstance(title, str):
        fail("title", f"is {json_kind(title)}, not a string", "Give a string title or none")
    if not isinstance(text, str):
        fail("text", f"is {json_kind(text)}, not a string", "Pass the document text as a string")
    if not text.strip():
        fail("text", "is empty" if not text else "is only whitespace", "Pass the document text")
    return text, title


def no_recognizer_error(
    source: str, index: int, title: str | None, reads_plain_text: bool = True
) -> DocumentValidationError:
    """The error for plain text when nothing can find its entities: it names the options.

    Args:
        source: Name of the input.
        index: The document's position.
        title: Its title, if any.
        reads_plain_text: Whether the caller reads plain text (``model.predict``, ``extract``, the pipeline) and only
            lacks a recognizer, or reads documents with entities only (``paee predict``, the HTML view).
    """
    if reads_plain_text:
        problem = "are not given, and this checkpoint has no entity heads (config.entity_heads is false) to find them"
        fix = f"Pass {RECOGNIZER_OPTIONS}; on the command line `paee extract --recognizer SPEC`"
    else:
        problem = "are not given, and this reads documents with entities only"
        fix = ("For plain text use model.extract / model.predict (recognizer=...) or `paee extract --recognizer "
               "SPEC`")
    return DocumentValidationError(source, index, title, "entities", problem,
                                   f'{fix}; or give the entities: {{"text": ..., "entities": [{{"mentions": '
                                   '[{"start", "end"}], "type"}]}')


class TextReader:
    """Finds the entities of plain-text inputs (see the module docstring).

    Args:
        recognizer: The resolved recognizer, or ``None`` (plain text is then an error that names the options).
        entity_types: The model's entity types.
        label_map: ``{recognizer label: entity type or None}`` over the default OntoNotes/CoNLL -> DocRED map.
        grouping: ``(text, mentions) -> cluster id per mention``, applied to every recognizer's mentions; ``None`` =
            the recognizer's own clusters when it gives them, else [`MentionGrouper`]'s default rules.
        sentence_splitter: ``text -> [(start, end)]``; ``None`` = the recognizer's sentences or the built-in splitter.
        source: Name of the input in error messages.
    """

    def __init__(
        self,
        recognizer: Recognizer | None,
        entity_types: Sequence[str],
        label_map: Mapping[str, str | None] | None = None,
        grouping: Grouping | None = None,
        sentence_splitter: SentenceSplitter | None = None,
        source: str = "predict input",
    ) -> None:
        if grouping is not None and not callable(grouping):
            raise ValueError(f"grouping must be a callable (text, mentions) -> cluster ids, got {grouping!r}.")
        if sentence_splitter is not None and not callable(sentence_splitter):
            raise ValueError(f"sentence_splitter must be a callable text -> [(start, end)], got {sentence_splitter!r}.")
        self.recognizer = recognizer
        self.labels = LabelMapper(entity_types, label_map)
        self.grouping = grouping or MentionGrouper()
        self.regroup_clusters = grouping is not None
        self.sentence_splitter = sentence_splitter
        self.source = source

    @classmethod
    def for_model(
        cls,
        model: Any,
        recognizer: Any = None,
        label_map: Mapping[str, str | None] | None = None,
        grouping: Grouping | None = None,
        sentence_splitter: SentenceSplitter | None = None,
        source: str = "predict input",
    ) -> TextReader:
        """The reader for ``model``: ``recognizer`` resolved (default: the model's entity heads when it has them)."""
        return cls(resolve_recognizer(recognizer, model), model.config.entity_types, label_map, grouping,
                   sentence_splitter, source)

    def prepare(self, items: Sequence[Any], indices: Sequence[int]) -> tuple[list[Any], list[bool]]:
        """Replace each plain-text item by a raw-text document with the entities found in it.

        Args:
            items: User documents of any accepted form.
            indices: Their positions in the caller's input (for messages and default titles).

        Returns:
            The items (plain text replaced, others unchanged unless a ``sentence_splitter`` gives them sentences),
            and for each whether it was plain text.

        Raises:
            DocumentValidationError: Plain text that is empty or not a string, a non-string title, or plain text
                with no recognizer to read it.
            RecognizerError: A recognizer, grouping or sentence splitter whose result is unusable.
        """
        plain = [is_plain_text(item) for item in items]
        prepared = list(items)
        if self.sentence_splitter is not None:  # documents with entities get the splitter's sentences too
            prepared = [item if is_plain else self._with_sentences(item, index)
                        for item, index, is_plain in zip(items, indices, plain)]
        positions = [position for position, is_plain in enumerate(plain) if is_plain]
        if not positions:
            return prepared, plain
        texts, titles = zip(*(plain_text_and_title(items[position], indices[position], self.source)
                              for position in positions))
        if self.recognizer is None:
            raise no_recognizer_error(self.source, indices[positions[0]], titles[0])
        recognitions = self.recognizer.recognize(texts, titles, [indices[position] for position in positions])
        for position, text, title, recognition in zip(positions, texts, titles, recognitions):
            document = {"text": text, "entities": self._entities(text, recognition.mentions, indices[position])}
            if title is not None:
                document["title"] = title
            sentences = self._split(text, indices[position]) if self.sentence_splitter else recognition.sentences
            if sentences is not None:
                document["sentence_char_spans"] = [list(span) for span in sentences]
            prepared[position] = document
        return prepared, plain

    def report(self) -> None:
        """Log one warning on the mentions dropped for labels the model has no type for (if any) since the last."""
        message = self.labels.drop_report(self.recognizer.name) if self.recognizer is not None else None
        if message:
            logger.warning(message)

    # ------------------------------------------------------------------ steps
    def _entities(self, text: str, mentions: list[dict], index: int) -> list[dict]:
        """Mapped, grouped entities ordered by first mention."""
        kept = []
        for mention in mentions:
            entity_type = self.labels(mention["type"])
            if entity_type is not None:
                kept.append({**mention, "type": entity_type})
        if kept and "cluster" in kept[0] and not self.regroup_clusters:
            clusters = [mention["cluster"] for mention in kept]
        else:
            clusters = self._group(text, kept, index)
        members: dict[int, list[dict]] = {}
        for mention, cluster in zip(kept, clusters):  # kept is sorted by start: entities come in first-mention order
            members.setdefault(cluster, []).append(mention)
        entities = []
        for group in members.values():
            names = [text[mention["start"]:mention["end"]] for mention in group]
            types = Counter(mention["type"] for mention in group)
            entities.append({
                "name": max(names, key=len),
                "type": max(types, key=lambda entity_type: (types[entity_type], -_first(group, entity_type))),
                "mentions": [{"start": mention["start"], "end": mention["end"]} for mention in group],
            })
        return entities

    def _group(self, text: str, mentions: list[dict], index: int) -> list[int]:
        clusters = list(self.grouping(text, [dict(mention) for mention in mentions]))
        if len(clusters) != len(mentions) or not all(isinstance(cluster, int) and not isinstance(cluster, bool)
                                                     for cluster in clusters):
            raise ValueError(f"{self.source}, document {index}: grouping {_name(self.grouping)} returned {clusters!r} "
                             f"for {len(mentions)} mentions; it must return one integer cluster id per mention.")
        return clusters

    def _split(self, text: str, index: int) -> list[tuple[int, int]]:
        found = self.sentence_splitter(text)
        spans = list(found) if isinstance(found, Iterable) and not isinstance(found, (str, bytes, Mapping)) else [found]
        checked, previous_end = [], 0
        for span in spans:
            valid = (isinstance(span, Sequence) and len(span) == 2
                     and all(isinstance(value, int) and not isinstance(value, bool) for value in span))
            if not valid or not previous_end <= span[0] < span[1] <= len(text):
                raise ValueError(
                    f"{self.source}, document {index}: sentence_splitter {_name(self.sentence_splitter)} returned "
                    f"{span!r}; it must return sorted, non-overlapping (start, end) pairs with "
                    f"0 <= start < end <= len(text) (here {len(text)}).")
            checked.append((span[0], span[1]))
            previous_end = span[1]
        return checked

    def _with_sentences(self, document: Any, index: int) -> Any:
        """A raw-text document with entities, given the sentence splitter's sentences (unless it has its own); any
        other document unchanged."""
        if (not isinstance(document, Mapping) or not isinstance(document.get("text"), str)
                or document.get("sentence_char_spans") is not None):
            return document
        return {**document, "sentence_char_spans": [list(span) for span in self._split(document["text"], index)]}


def to_record(document: Mapping[str, Any], facts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``paee extract`` record of a converted raw-text document and its facts (see the module docstring).

    Args:
        document: From ``from_raw_text`` (mentions carry ``char_span``).
        facts: Its facts, passed through unchanged.
    """
    names = document.get("entity_names") or [mentions[0]["name"] for mentions in document["vertexSet"]]
    entities = [{"name": name, "type": mentions[0]["type"],
                 "mentions": [{"start": mention["char_span"][0], "end": mention["char_span"][1],
                               "text": mention["name"]} for mention in mentions]}
                for name, mentions in zip(names, document["vertexSet"])]
    return {"title": document["title"], "entities": entities, "relations": list(facts)}


def _first(group: list[dict], entity_type: str) -> int:
    return next(position for position, mention in enumerate(group) if mention["type"] == entity_type)


def _name(function: Any) -> str:
    return getattr(function, "__qualname__", None) or type(function).__name__
