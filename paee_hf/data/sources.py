"""Reading labelled or unlabelled documents from a source into validated DocRED-format documents (one entry point for
training, evaluation and prediction)."""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .docred import read_docred, read_dwie
from .documents import DocumentList
from .eog import read_eog
from .pubtator import read_pubtator

_READERS = {"docred": read_docred, "dwie": read_dwie, "eog": read_eog, "pubtator": read_pubtator}
#: The ``data_format`` values every reading entry point accepts.
DATA_FORMATS = tuple(_READERS)


def read_documents(
    path: str | os.PathLike,
    data_format: str = "docred",
    reader_options: Mapping[str, Any] | None = None,
    label2id: Mapping[str, int] | None = None,
    entity_type2id: Mapping[str, int] | None = None,
) -> DocumentList:
    """Read and validate a data file into DocRED-format documents (an invalid document is an error, never skipped).

    Args:
        path: The file.
        data_format: ``docred``, ``dwie``, ``eog`` or ``pubtator``.
        reader_options: Extra keyword arguments of the reader (e.g. ``head_type="Gene"`` for GDA PubTator).
        label2id: Relation vocabulary the labels must come from.
        entity_type2id: Entity types the mentions must come from.

    Raises:
        ValueError: Unknown format, missing or unreadable file, unknown reader option.
        DocumentValidationError: For the first invalid document (it names the file, document, field and fix).
    """
    if data_format not in _READERS:
        raise ValueError(f"data_format={data_format!r} is not supported; use one of {tuple(_READERS)}.")
    if not Path(path).is_file():
        raise ValueError(f"{os.fspath(path)}: no such file. Check the path.")
    reader = _READERS[data_format]
    options = dict(reader_options or {})
    accepted = set(inspect.signature(reader).parameters) - {"path", "on_invalid", "label2id", "entity_type2id"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ValueError(f"reader_options {unknown} are not options of the {data_format} reader "
                         f"(it accepts {sorted(accepted)}).")
    return reader(path, on_invalid="raise", label2id=label2id, entity_type2id=entity_type2id, **options)
