"""Loading a trained PAEE checkpoint and its tokenizer for evaluation and prediction."""

from __future__ import annotations

import os
from pathlib import Path

from transformers import AutoTokenizer, PreTrainedTokenizerBase

from ..modeling_paee import PaeeForDocumentRelationExtraction, check_marker_tokens


def load_trained_model(
    model: str | os.PathLike,
) -> tuple[PaeeForDocumentRelationExtraction, PreTrainedTokenizerBase]:
    """Load a trained PAEE checkpoint and the tokenizer saved beside it.

    Args:
        model: A checkpoint directory (the ``model`` folder that ``paee train`` writes) or a Hub id
            (``namespace/name``), downloaded into the Hugging Face cache.

    Raises:
        ValueError: When an existing directory holds no checkpoint, or when the Hub repository does not exist or
            cannot be read without a token (one line naming it).
    """
    directory = Path(model).expanduser()
    if directory.exists() and not (directory / "config.json").is_file():
        raise ValueError(f"{os.fspath(model)} is not a model directory (no config.json); give the 'model' folder "
                         "that `paee train` wrote (e.g. outputs/paee/model) or a Hub id.")
    # an existing directory loads from disk; anything else is tried as a Hub id
    name_or_path = os.fspath(directory) if directory.exists() else os.fspath(model)
    loaded = PaeeForDocumentRelationExtraction.from_pretrained(name_or_path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{name_or_path}: the tokenizer saved with the model cannot be loaded ({first_line}); copy "
                         "the tokenizer files (tokenizer.json, tokenizer_config.json) from the trained model's "
                         "folder.") from None
    check_marker_tokens(tokenizer, loaded.config, name_or_path)
    return loaded, tokenizer
