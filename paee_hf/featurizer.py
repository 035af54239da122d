"""DocRED-format document -> model features (the batch contract), for any fast tokenizer.

Words are mapped to sub-words through the fast tokenizer's character offsets: the words are joined with single
spaces, the whole document is tokenized in one call (documents of a batch in one batched call), and each token
belongs to the word its offset starts in (a token on the space between two words, such as SentencePiece's lone
``▁``, belongs to the next word). Tokens never cross a space for WordPiece, byte-level BPE or SentencePiece, so
this works for cased and uncased WordPiece, SentencePiece, and byte-level BPE with or without ``add_prefix_space``
(which ``is_split_into_words`` would require).

Markers (see :mod:`paee_hf.markers`) go before the first and after the last sub-word of every mention; mentions
that start (end) at the same word share one start (end) marker, as in ATLOP, so nested and composite mentions are
all kept. The tokenizer's own special tokens go around the whole document; nothing is ever truncated: long
documents are for the model's windowed encoder.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

from transformers import PreTrainedTokenizerBase

from .markers import MarkerStyle, marker_token_ids
from .validation import DocumentValidationError, check_contiguous_ids, validate_document

FEATURE_COLUMNS = (
    "input_ids", "mention_positions", "mention_sentence_ids", "entity_mentions", "entity_types",
    "sentence_spans", "pair_indices", "pair_labels", "pair_evidence", "entity_order", "title", "doc_index",
)
#: Extra columns for the entity heads (``entity_heads=True``); see :meth:`DocumentFeaturizer._entity_head_features`.
ENTITY_HEAD_COLUMNS = ("plain_input_ids", "plain_words", "gold_mentions")


#: ``first_mention``: the paper's order of the pair matrix; ``as_given``: ``vertexSet`` order.
ENTITY_ORDERINGS = ("first_mention", "as_given")


class DocumentFeaturizer:
    """Validates and featurizes DocRED-format documents; picklable and deterministically hashable for ``datasets``
    (see :func:`paee_hf.dataset.featurize_dataset`).

    Entities are featurized in order of first appearance (sentence, then word position; ties keep the document's
    order), the order in which the paper's pair matrix V is laid out (section 2): sliding-window filling and the pair
    encoder rely on that locality, while ``vertexSet`` order is arbitrary in some datasets (DWIE).
    ``entity_ordering="as_given"`` keeps the ``vertexSet`` order instead. ``entity_order`` maps the featurized order
    back, so every output speaks the caller's entity indices.

    Per document it produces (plain lists, so the result fits a ``datasets.Dataset``):

    * ``input_ids`` (L,): the whole document with markers, between the tokenizer's own special tokens;
    * ``mention_positions`` (M,): index of each mention's start marker, mentions grouped by entity in order;
    * ``mention_sentence_ids`` (M,): sentence of each mention;
    * ``entity_mentions`` (E, K_e): indices into ``mention_positions`` of each entity's mentions;
    * ``entity_types`` (E,): type id of each entity (the type of its first mention, the DocRED convention);
    * ``sentence_spans`` (S, 2): ``[start, end)`` token span of each sentence, markers included;
    * ``pair_indices`` (P, 2): ordered pairs to classify, in featurized entity indices: the document's
      ``candidate_pairs`` when it has them, else every ``(h, t)`` with ``h != t``, head-major;
    * ``entity_order`` (E,): the document's (``vertexSet``) index of each featurized entity;
    * ``pair_labels`` (P, variable): relation ids (1..C-1) of each pair, ``[]`` = NA; ``None`` when the document
      has no ``labels`` (test data);
    * ``pair_evidence`` (P, variable): sorted union of the gold evidence sentence ids of each pair's facts
      (``[]`` = NA or none annotated); ``None`` without ``labels``;
    * ``title`` and ``doc_index``;
    * with ``entity_heads``, the inputs of the entity heads (see :meth:`_entity_head_features`).

    Args:
        tokenizer: A fast tokenizer (offsets are needed).
        label2id: Relation label -> id, 0 = no relation.
        entity_type2id: Entity type -> id.
        marker_style: ``"asterisk"`` or ``"entity_tags"`` (then call ``add_marker_tokens`` first).
        source: Name used for the documents in validation messages.
        entity_heads: Also produce the plain-text features and gold mentions that train the entity heads.
        entity_ordering: ``"first_mention"`` (the paper's) or ``"as_given"`` (``vertexSet`` order).

    Raises:
        ValueError: For a slow tokenizer, ids that are not 0..n-1, an unknown marker style or entity ordering, or
            missing marker tokens.
    """

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        label2id: Mapping[str, int],
        entity_type2id: Mapping[str, int],
        marker_style: MarkerStyle = "asterisk",
        source: str = "featurizer input",
        entity_heads: bool = False,
        entity_ordering: str = "first_mention",
    ):
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(f"{type(tokenizer).__name__} is not a fast tokenizer; the featurizer needs offsets. "
                             "Load it with AutoTokenizer.from_pretrained(..., use_fast=True).")
        if entity_ordering not in ENTITY_ORDERINGS:
            raise ValueError(f"entity_ordering={entity_ordering!r} is not supported; use one of "
                             f"{', '.join(ENTITY_ORDERINGS)}.")
        check_contiguous_ids(label2id, "label2id")
        check_contiguous_ids(entity_type2id, "entity_type2id")
        self.tokenizer = tokenizer
        self.label2id = dict(label2id)
        self.entity_type2id = dict(entity_type2id)
        self.marker_style = marker_style
        self.source = source
        self.entity_heads = entity_heads
        self.entity_ordering = entity_ordering
        self.start_marker_id, self.end_marker_id = marker_token_ids(tokenizer, marker_style)
        self.prefix_ids, self.suffix_ids = _special_token_affixes(tokenizer)

    def __call__(self, document: Mapping[str, Any], doc_index: int = 0) -> dict[str, Any]:
        """Featurize one document (validated first).

        Raises:
            DocumentValidationError: When the document is invalid.
        """
        return self.featurize_documents([document], [doc_index])[0]

    def featurize_documents(self, documents: Sequence[Mapping[str, Any]], doc_indices: Sequence[int]) -> list[dict]:
        """Featurize documents with one batched tokenizer call; see the class docstring for the fields.

        Raises:
            DocumentValidationError: For the first invalid document.
        """
        if not documents:
            return []
        for document, doc_index in zip(documents, doc_indices, strict=True):
            validate_document(document, doc_index, self.source, self.label2id, self.entity_type2id)
        tokenized = self._tokenize_words([document["sents"] for document in documents])
        return [self._assemble(document, doc_index, *document_tokens)
                for document, doc_index, document_tokens in zip(documents, doc_indices, tokenized)]

    def featurize_plain(self, documents: Sequence[Sequence[Sequence[str]]]) -> list[dict[str, Any]]:
        """The entity heads' inputs of unannotated documents, given as sentences of words (for entity detection).

        Returns:
            Per document, ``plain_input_ids`` and ``plain_words`` (see :meth:`_entity_head_features`).
        """
        features = []
        for sentences, (token_ids, token_offsets, word_starts, word_ends) in zip(documents,
                                                                                 self._tokenize_words(documents)):
            word_tokens = _word_token_ranges(token_offsets, word_starts, word_ends)
            features.append(self._entity_head_features(sentences, None, token_ids, word_tokens))
        return features

    def _tokenize_words(self, documents: Sequence[Sequence[Sequence[str]]]) -> list[tuple]:
        """One batched tokenizer call over the documents' words joined by single spaces.

        Returns:
            Per document, ``(token_ids, token_offsets, word_starts, word_ends)``, the last two the character offsets of
            the words in the joined text.
        """
        texts, word_bounds = [], []
        for sentences in documents:
            words = [word for sentence in sentences for word in sentence]
            starts, ends, offset = [], [], 0
            for word in words:
                starts.append(offset)
                ends.append(offset + len(word))
                offset += len(word) + 1
            texts.append(" ".join(words))
            word_bounds.append((starts, ends))
        # verbose=False: the "longer than the maximum sequence length" warning does not apply (windowed encoder)
        encodings = self.tokenizer(texts, add_special_tokens=False, truncation=False, padding=False,
                                   verbose=False).encodings
        return [(encoding.ids, encoding.offsets, *bounds) for encoding, bounds in zip(encodings, word_bounds)]

    def featurize_batch(self, batch: Mapping[str, list], indices: Sequence[int]) -> dict[str, list]:
        """``datasets.map(batched=True, with_indices=True)`` function: columns of documents -> feature columns."""
        columns = list(batch)
        documents = [{column: batch[column][row] for column in columns} for row in range(len(indices))]
        features = self.featurize_documents(documents, indices)
        columns = FEATURE_COLUMNS + (ENTITY_HEAD_COLUMNS if self.entity_heads else ())
        return {name: [feature[name] for feature in features] for name in columns}

    def _assemble(self, document: Mapping[str, Any], doc_index: int, token_ids: list[int],
                  token_offsets: list[tuple[int, int]], word_starts: list[int], word_ends: list[int]) -> dict[str, Any]:
        sentences = document["sents"]
        sentence_first_word = [0]
        for sentence in sentences:
            sentence_first_word.append(sentence_first_word[-1] + len(sentence))

        first_token, last_token, seen = _word_token_ranges(token_offsets, word_starts, word_ends)

        entity_order = (first_appearance_order(document["vertexSet"]) if self.entity_ordering == "first_mention"
                        else list(range(len(document["vertexSet"]))))
        vertex_set = [document["vertexSet"][entity] for entity in entity_order]
        featurized_index = {entity: index for index, entity in enumerate(entity_order)}
        mention_words = [
            (sentence_first_word[m["sent_id"]] + m["pos"][0], sentence_first_word[m["sent_id"]] + m["pos"][1] - 1)
            for entity in vertex_set for m in entity
        ]
        starts_here = {start for start, _ in mention_words}
        ends_here = {end for _, end in mention_words}

        input_ids = list(self.prefix_ids)
        start_marker_at: dict[int, int] = {}
        sentence_spans = []
        for sent_id in range(len(sentences)):
            span_start = len(input_ids)
            for word in range(sentence_first_word[sent_id], sentence_first_word[sent_id + 1]):
                if word in starts_here:
                    start_marker_at[word] = len(input_ids)
                    input_ids.append(self.start_marker_id)
                if seen[word]:
                    input_ids.extend(token_ids[first_token[word] : last_token[word]])
                if word in ends_here:
                    input_ids.append(self.end_marker_id)
            if len(input_ids) == span_start:
                raise DocumentValidationError(self.source, doc_index, document["title"], f"sents[{sent_id}]",
                                              "has no token for this tokenizer (only characters it drops)",
                                              "Remove the sentence or its unreadable characters")
            sentence_spans.append([span_start, len(input_ids)])
        input_ids.extend(self.suffix_ids)

        entity_mentions, mention_index = [], 0
        for entity in vertex_set:
            entity_mentions.append(list(range(mention_index, mention_index + len(entity))))
            mention_index += len(entity)
        entity_count = len(entity_mentions)
        candidate_pairs = document.get("candidate_pairs")
        if candidate_pairs is None:
            entities = range(entity_count)
            pair_indices = [[head, tail] for head in entities for tail in entities if head != tail]
        else:
            pair_indices = [[featurized_index[head], featurized_index[tail]] for head, tail in candidate_pairs]
        labels = document.get("labels")
        if labels is not None:
            labels = [{**label, "h": featurized_index[label["h"]], "t": featurized_index[label["t"]]}
                      for label in labels]
        features = {
            "input_ids": input_ids,
            "mention_positions": [start_marker_at[start] for start, _ in mention_words],
            "mention_sentence_ids": [m["sent_id"] for entity in vertex_set for m in entity],
            "entity_mentions": entity_mentions,
            "entity_types": [self.entity_type2id[entity[0]["type"]] for entity in vertex_set],
            "sentence_spans": sentence_spans,
            "pair_indices": pair_indices,
            "pair_labels": self._pair_labels(labels, pair_indices),
            "pair_evidence": _pair_evidence(labels, pair_indices),
            "entity_order": entity_order,
            "title": document["title"],
            "doc_index": doc_index,
        }
        if self.entity_heads:
            features.update(self._entity_head_features(sentences, document["vertexSet"], token_ids,
                                                       (first_token, last_token, seen)))
        return features

    def _entity_head_features(
        self,
        sentences: Sequence[Sequence[str]],
        vertex_set: Sequence[Sequence[Mapping[str, Any]]] | None,
        token_ids: list[int],
        word_tokens: tuple[list[int], list[int], list[bool]],
    ) -> dict[str, list]:
        """The plain text (the marked input minus its markers) and, for annotated documents, the gold mentions.

        * ``plain_input_ids`` (Lp,): the document's tokens between the tokenizer's special tokens, no markers;
        * ``plain_words`` (W, 4): per word, its ``[first, end)`` token range in ``plain_input_ids`` (``[-1, -1]``
          for a word the tokenizer drops), its sentence, and the id of its lower-cased text within the document
          (equal words, equal ids: the string-match features of coreference);
        * ``gold_mentions`` (G, 4), when ``vertex_set`` is given: ``[first_word, end_word)`` in document words, the
          mention's type id and its entity's index, ordered by position. A span annotated for several entities (a
          composite mention) is kept once, with the first of them.

        ``word_tokens`` is ``(first_token, last_token, seen)`` of :func:`_word_token_ranges`.
        """
        first_token, last_token, seen = word_tokens
        offset = len(self.prefix_ids)
        text_ids: dict[str, int] = {}
        plain_words = []
        words = ((sent_id, word) for sent_id, sentence in enumerate(sentences) for word in sentence)
        for index, (sent_id, word) in enumerate(words):
            token_range = [offset + first_token[index], offset + last_token[index]] if seen[index] else [-1, -1]
            plain_words.append([*token_range, sent_id, text_ids.setdefault(word.lower(), len(text_ids))])
        features: dict[str, list] = {
            "plain_input_ids": [*self.prefix_ids, *token_ids, *self.suffix_ids],
            "plain_words": plain_words,
        }
        if vertex_set is not None:
            sentence_first_word = [0]
            for sentence in sentences:
                sentence_first_word.append(sentence_first_word[-1] + len(sentence))
            mentions: dict[tuple[int, int], list[int]] = {}
            for entity_index, entity in enumerate(vertex_set):
                for mention in entity:
                    first = sentence_first_word[mention["sent_id"]] + mention["pos"][0]
                    span = (first, first + mention["pos"][1] - mention["pos"][0])
                    mentions.setdefault(span, [*span, self.entity_type2id[mention["type"]], entity_index])
            features["gold_mentions"] = [mentions[span] for span in sorted(mentions)]
        return features

    def _pair_labels(self, labels: list[dict] | None, pair_indices: list[list[int]]) -> list[list[int]] | None:
        if labels is None:
            return None
        relations_of_pair: dict[tuple[int, int], list[int]] = {}
        for label in labels:
            relations_of_pair.setdefault((label["h"], label["t"]), []).append(self.label2id[label["r"]])
        for relations in relations_of_pair.values():
            relations.sort()
        return [list(relations_of_pair.get((head, tail), ())) for head, tail in pair_indices]


def first_appearance_order(vertex_set: Sequence[Sequence[Mapping[str, Any]]]) -> list[int]:
    """Entity indices sorted by each entity's first mention (sentence, then start word); ties keep their order."""
    return sorted(range(len(vertex_set)),
                  key=lambda entity: min((m["sent_id"], m["pos"][0]) for m in vertex_set[entity]))


def _pair_evidence(labels: list[dict] | None, pair_indices: list[list[int]]) -> list[list[int]] | None:
    if labels is None:
        return None
    evidence_of_pair: dict[tuple[int, int], set[int]] = {}
    for label in labels:
        # None entries: converted CDR files write [null] for "no evidence annotated"
        sentences = {sent for sent in label.get("evidence") or () if sent is not None}
        evidence_of_pair.setdefault((label["h"], label["t"]), set()).update(sentences)
    return [sorted(evidence_of_pair.get((head, tail), ())) for head, tail in pair_indices]


def _word_token_ranges(
    token_offsets: list[tuple[int, int]], word_starts: list[int], word_ends: list[int]
) -> tuple[list[int], list[int], list[bool]]:
    """Token range ``[first, last)`` of every word, from the tokens' character offsets in the space-joined words.

    Returns:
        ``first_token``, ``last_token`` and ``seen`` per word; a word with no token (e.g. only characters the
        tokenizer drops) has ``seen`` False and an empty range.
    """
    word_count = len(word_starts)
    first_token, last_token = [0] * word_count, [0] * word_count
    seen = [False] * word_count
    for token_index, (char_start, _) in enumerate(token_offsets):
        word = bisect.bisect_right(word_starts, char_start) - 1
        if char_start >= word_ends[word] and word + 1 < word_count:
            word += 1  # a token on the space between words (SentencePiece's lone "▁") opens the next word
        if not seen[word]:
            seen[word], first_token[word] = True, token_index
        last_token[word] = token_index + 1
    return first_token, last_token, seen


def _special_token_affixes(tokenizer: PreTrainedTokenizerBase) -> tuple[list[int], list[int]]:
    """The tokenizer's own special tokens before and after a single sequence (``[CLS]``/``[SEP]``, ``<s>``/``</s>``)."""
    encoding = tokenizer("x", add_special_tokens=True)
    word_ids = encoding.word_ids()
    first = next(index for index, word in enumerate(word_ids) if word is not None)
    last = max(index for index, word in enumerate(word_ids) if word is not None)
    return encoding["input_ids"][:first], encoding["input_ids"][last + 1 :]
