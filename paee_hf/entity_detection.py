"""Plain text in, entity mentions out, with the model's own entity heads (``model.detect_entities``).

Per text: sentences and words from :mod:`paee_hf.segmentation` (``split_sentences``, ``tokenize_words``, no protected
spans); the words featurized as in training (:meth:`DocumentFeaturizer.featurize_plain`: joined by single spaces
between the tokenizer's special tokens, no markers); one backbone pass (in windows when the text is long); then
[`EntityHeads.detect`] finds, types and clusters the mentions, and their word spans map back to character offsets.

Shipped with checkpoints for ``trust_remote_code`` (relative imports only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .collator import DocumentCollator
from .featurizer import DocumentFeaturizer
from .segmentation import split_sentences, tokenize_words
from .validation import DocumentValidationError, json_kind

SOURCE = "detect_entities input"


def detect_entities(model: Any, tokenizer: Any, texts: Any, batch_size: int = 8) -> list[list[dict]]:
    """Find, type and cluster the mentions of each text (see ``PaeeForDocumentRelationExtraction.detect_entities``).

    Args:
        model: A ``PaeeForDocumentRelationExtraction`` with ``config.entity_heads``.
        tokenizer: Its tokenizer.
        texts: A non-empty list of non-empty strings.
        batch_size: Texts per forward pass (bucketed by length).

    Returns:
        Per text, ``{"start", "end", "type", "cluster"}`` per mention, ordered by position.

    Raises:
        ValueError: For input that is not a non-empty list of texts, or a ``batch_size`` below 1.
        DocumentValidationError: For a text that is not a string or holds only whitespace.
    """
    texts = _checked_texts(texts)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    config = model.config
    words = [[tokenize_words(text, sentence, []) for sentence in split_sentences(text)] for text in texts]
    featurizer = DocumentFeaturizer(
        tokenizer, config.label2id, {name: index for index, name in enumerate(config.entity_types)},
        marker_style=config.marker_style, source=SOURCE, entity_heads=True,
    )
    features = featurizer.featurize_plain(
        [[[text[start:end] for start, end in sentence] for sentence in sentences]
         for text, sentences in zip(texts, words)]
    )
    collator = DocumentCollator(tokenizer.pad_token_id, config.num_labels)
    device = next(model.parameters()).device
    order = sorted(range(len(texts)), key=lambda index: len(features[index]["plain_input_ids"]))
    results: list[list[dict]] = [[] for _ in texts]
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch = {key: value.to(device)
                     for key, value in collator.pad_entity_head_features([features[i] for i in chunk]).items()}
            hidden_states = model.encode_plain_text(batch["plain_input_ids"], batch["plain_attention_mask"])
            detected = model.entity_heads.detect(hidden_states, batch["plain_words"], config.mention_threshold,
                                                 config.coreference_threshold, config.nested_mentions)
            for index, mentions in zip(chunk, detected):
                word_spans = [span for sentence in words[index] for span in sentence]
                results[index] = [
                    {"start": word_spans[mention.first_word][0], "end": word_spans[mention.end_word - 1][1],
                     "type": config.entity_types[mention.type_id], "cluster": mention.cluster}
                    for mention in mentions
                ]
    return results


def _checked_texts(texts: Any) -> list[str]:
    """The texts as a list.

    Raises:
        ValueError: For anything but a non-empty list (or tuple) of texts.
        DocumentValidationError: For a text that is not a string or holds only whitespace.
    """
    if isinstance(texts, str) or not isinstance(texts, Sequence) or len(texts) == 0:
        raise ValueError(f"{SOURCE}: expected a non-empty list of texts, got {json_kind(texts)}; e.g. "
                         'model.detect_entities(["John Smith was born in Paris."]).')
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise DocumentValidationError(SOURCE, index, None, "text", f"is {json_kind(text)}, not a string",
                                          "Pass each text as a string")
        if not text.strip():
            raise DocumentValidationError(SOURCE, index, None, "text", "is empty", "Pass the document text")
    return list(texts)
