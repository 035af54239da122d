"""Metrics as pure functions: DocRED relation extraction (:func:`evaluate`, wrapped by the ``evaluate`` module at
``EVALUATE_MODULE_PATH``, loaded offline) and JEREX's end-to-end scores (:func:`evaluate_end_to_end`)."""

from .docred import (
    CODALAB_MEMBER_NAME,
    EVALUATE_MODULE_PATH,
    LONG_DISTANCE_SENTENCES,
    binary_f1,
    evaluate,
    load_train_facts,
    precision_recall_f1,
    read_codalab_submission,
    train_facts_from_documents,
    validate_predictions,
    write_codalab_submission,
)
from .end_to_end import END_TO_END_LEVELS, evaluate_end_to_end, gold_record

__all__ = [
    "CODALAB_MEMBER_NAME",
    "END_TO_END_LEVELS",
    "EVALUATE_MODULE_PATH",
    "LONG_DISTANCE_SENTENCES",
    "binary_f1",
    "evaluate",
    "evaluate_end_to_end",
    "gold_record",
    "load_train_facts",
    "precision_recall_f1",
    "read_codalab_submission",
    "train_facts_from_documents",
    "validate_predictions",
    "write_codalab_submission",
]
