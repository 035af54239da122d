"""Loading a trained PAEE checkpoint and its tokenizer for evaluation and prediction."""

from __future__ import annotations

import os
from pathlib import Path

from transformers import AutoTokenizer, PreTrainedTokenizerBase

from ..modeling_paee import PaeeForDocumentRelationExtraction


def load_trained_model(
    model_dir: str | os.PathLike,
) -> tuple[PaeeForDocumentRelationExtraction, PreTrainedTokenizerBase]:
    """Load a trained PAEE checkpoint directory and the tokenizer saved beside it.

    Raises:
        ValueError: When the directory does not exist or holds no PAEE checkpoint.
    """
    directory = Path(model_dir)
    if not (directory / "config.json").is_file():
        raise ValueError(f"{os.fspath(model_dir)} is not a model directory (no config.json); give the 'model' folder "
                         "that `paee train` wrote (e.g. outputs/paee/model).")
    model = PaeeForDocumentRelationExtraction.from_pretrained(directory)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    return model, tokenizer
