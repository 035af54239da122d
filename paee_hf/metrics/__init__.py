"""Metrics as pure functions (DocRED conventions), and the ``evaluate`` module that wraps them
(``evaluate.load(EVALUATE_MODULE_PATH)``, offline)."""

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

__all__ = [
    "CODALAB_MEMBER_NAME",
    "EVALUATE_MODULE_PATH",
    "LONG_DISTANCE_SENTENCES",
    "binary_f1",
    "evaluate",
    "load_train_facts",
    "precision_recall_f1",
    "read_codalab_submission",
    "train_facts_from_documents",
    "validate_predictions",
    "write_codalab_submission",
]
