"""Entity marker tokens put before and after every mention.

Styles:

* ``"asterisk"`` (default, as ATLOP): a ``*`` token before and after each mention. Every vocabulary already has
  it, so nothing is added and the embeddings need no resizing. The token is the tokenizer's own spelling of
  ``*`` after a space (``Ġ*`` for byte-level BPE, ``▁*`` for SentencePiece) when that is one token, else the
  vocabulary entry ``*`` itself (every byte-level vocabulary has it: it is a single byte).
* ``"entity_tags"`` (the paper's): ``<e>`` before and ``</e>`` after each mention, added to the tokenizer as
  special tokens by :func:`add_marker_tokens`; the model's embeddings must then be resized to ``len(tokenizer)``.
"""

from __future__ import annotations

from typing import Literal

from transformers import PreTrainedTokenizerBase

MarkerStyle = Literal["asterisk", "entity_tags"]
MARKER_STYLES: tuple[str, ...] = ("asterisk", "entity_tags")
ENTITY_TAGS = ("<e>", "</e>")


def _check_style(marker_style: str) -> None:
    if marker_style not in MARKER_STYLES:
        raise ValueError(f"marker_style={marker_style!r} is not supported; use one of {', '.join(MARKER_STYLES)}.")


def add_marker_tokens(tokenizer: PreTrainedTokenizerBase, marker_style: MarkerStyle) -> int:
    """Add the tokens ``marker_style`` needs to ``tokenizer`` (idempotent).

    Args:
        tokenizer: The tokenizer to extend in place.
        marker_style: ``"asterisk"`` (adds nothing) or ``"entity_tags"`` (adds ``<e>`` and ``</e>``).

    Returns:
        How many tokens were added; when non-zero, resize the model's input embeddings to ``len(tokenizer)``.

    Raises:
        ValueError: For an unknown ``marker_style``.
    """
    _check_style(marker_style)
    if marker_style == "asterisk":
        return 0
    return tokenizer.add_tokens(list(ENTITY_TAGS), special_tokens=True)


def marker_token_ids(tokenizer: PreTrainedTokenizerBase, marker_style: MarkerStyle) -> tuple[int, int]:
    """Ids of the (start, end) marker tokens of ``marker_style`` for ``tokenizer``.

    Raises:
        ValueError: For an unknown style, entity tags that were not added, or a vocabulary where ``*`` is not a
            single token.
    """
    _check_style(marker_style)
    if marker_style == "entity_tags":
        ids = tuple(tokenizer.convert_tokens_to_ids(tag) for tag in ENTITY_TAGS)
        if any(token_id is None or token_id == tokenizer.unk_token_id for token_id in ids):
            raise ValueError("the tokenizer has no <e>/</e> tokens; call add_marker_tokens(tokenizer, 'entity_tags') "
                             "first (and resize the model's embeddings to len(tokenizer)).")
        return ids
    spelled = tokenizer(" *", add_special_tokens=False)["input_ids"]
    if len(spelled) == 1 and spelled[0] != tokenizer.unk_token_id:
        return spelled[0], spelled[0]
    bare = tokenizer.convert_tokens_to_ids("*")  # the vocabulary entry itself, e.g. byte-level BPE's single byte
    if bare is not None and bare != tokenizer.unk_token_id:
        return bare, bare
    raise ValueError(f"{type(tokenizer).__name__} has no single token for '*'; "
                     "use marker_style='entity_tags' (after add_marker_tokens).")
