"""Reading labelled or unlabelled documents from a source into validated DocRED-format documents (one entry point for
training, evaluation and prediction).

A source is one of:

- a data file, read by the reader of ``data_format`` (``docred``, ``dwie``, ``eog``, ``pubtator``);
- a directory written by ``Dataset.save_to_disk``; for ``DatasetDict.save_to_disk``, the directory of one split
  (``DIR/validation``);
- a ``datasets.Dataset`` object;
- a Hub dataset split in the DocRED Hub schema, ``hf:REPO_ID[:CONFIG]:SPLIT`` (``hf:org/name:validation``,
  ``hf:org/name:train[:100]``). The ``hf:`` prefix always means the Hub; a file so named is ``./hf:...``.

Datasets are converted by one adapter (:func:`paee_hf.data.hf_dataset.read_dataset`) and validated like files.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import datasets

from .docred import read_docred, read_dwie
from .documents import DocumentList
from .eog import read_eog
from .hf_dataset import HUB_SYNTAX, is_hub_source, load_hub_dataset, load_saved_dataset, read_dataset
from .pubtator import read_pubtator

_READERS = {"docred": read_docred, "dwie": read_dwie, "eog": read_eog, "pubtator": read_pubtator}
#: The ``data_format`` values every reading entry point accepts.
DATA_FORMATS = tuple(_READERS)
#: Formats whose rows a ``datasets`` source can hold (DocRED schema), with their ``duplicate_labels`` default.
_DATASET_DUPLICATE_LABELS = {"docred": "raise", "dwie": "merge"}
#: The accepted forms of a source, for messages.
SOURCE_FORMS = ("a data file (read as data_format), a directory written by Dataset.save_to_disk (for a DatasetDict, "
                f"the split's directory DIR/SPLIT), a datasets.Dataset, or a Hub dataset in the DocRED schema as "
                f"{HUB_SYNTAX} (e.g. hf:org/name:validation)")


def read_documents(
    path: str | os.PathLike | datasets.Dataset,
    data_format: str = "docred",
    reader_options: Mapping[str, Any] | None = None,
    label2id: Mapping[str, int] | None = None,
    entity_type2id: Mapping[str, int] | None = None,
) -> DocumentList:
    """Read and validate a source into DocRED-format documents (an invalid document is an error, never skipped).

    Args:
        path: The source: a data file, a ``save_to_disk`` directory, a ``datasets.Dataset`` or
            ``hf:REPO_ID[:CONFIG]:SPLIT`` (see the module docstring).
        data_format: ``docred``, ``dwie``, ``eog`` or ``pubtator``; a dataset holds DocRED-schema rows, so there
            only ``docred`` and ``dwie`` (repeated facts merged) apply.
        reader_options: Extra keyword arguments of the reader (e.g. ``head_type="Gene"`` for GDA PubTator;
            ``duplicate_labels`` for a dataset).
        label2id: Relation vocabulary the labels must come from.
        entity_type2id: Entity types the mentions must come from.

    Raises:
        ValueError: Unknown format, missing or unreadable source, unknown reader option, a format a dataset cannot
            hold, a malformed or unknown Hub source, a ``DatasetDict`` instead of one split.
        DatasetColumnsError: A dataset without the columns of the DocRED schema.
        DocumentValidationError: For the first invalid document (it names the source, document, field and fix).
    """
    if data_format not in _READERS:
        raise ValueError(f"data_format={data_format!r} is not supported; use one of {tuple(_READERS)}.")
    options = dict(reader_options or {})
    if isinstance(path, datasets.DatasetDict):
        raise ValueError(f"a DatasetDict with the splits {list(path)}: pass one split, e.g. "
                         f"dataset[{next(iter(path), 'validation')!r}].")
    if isinstance(path, datasets.Dataset) or is_hub_source(path) or Path(path).is_dir():
        if data_format not in _DATASET_DUPLICATE_LABELS:
            raise ValueError(f"{_name(path)}: a datasets source holds DocRED-schema rows, which data_format="
                             f"{data_format!r} does not read; use one of {tuple(_DATASET_DUPLICATE_LABELS)}.")
        options.setdefault("duplicate_labels", _DATASET_DUPLICATE_LABELS[data_format])
        _check_options(read_dataset, options, "datasets")
        if isinstance(path, datasets.Dataset):
            dataset, source = path, None
        else:
            source = os.fspath(path)
            dataset = load_hub_dataset(source) if is_hub_source(path) else load_saved_dataset(path)
        return read_dataset(dataset, source, on_invalid="raise", label2id=label2id, entity_type2id=entity_type2id,
                            **options)
    if not Path(path).is_file():
        raise ValueError(f"{os.fspath(path)}: no such file or directory. Check the path; a source is {SOURCE_FORMS}.")
    reader = _READERS[data_format]
    _check_options(reader, options, data_format)
    return reader(path, on_invalid="raise", label2id=label2id, entity_type2id=entity_type2id, **options)


def _check_options(reader: Callable, options: Mapping[str, Any], name: str) -> None:
    accepted = set(inspect.signature(reader).parameters) - {"path", "dataset", "source", "on_invalid", "label2id",
                                                             "entity_type2id"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ValueError(f"reader_options {unknown} are not options of the {name} reader "
                         f"(it accepts {sorted(accepted)}).")


def _name(source: str | os.PathLike | datasets.Dataset) -> str:
    return "datasets.Dataset" if isinstance(source, datasets.Dataset) else os.fspath(source)
