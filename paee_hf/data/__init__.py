"""The data API in one place: readers to DocRED-format documents, validation, vocabularies, featurizer, collator,
fact decoding. The readers live here; what checkpoints ship (featurizer, collator, validation, ...) stays flat in
``paee_hf`` and is re-exported."""

from ..collator import DocumentCollator
from ..featurizer import DocumentFeaturizer
from ..markers import MARKER_STYLES, add_marker_tokens, marker_token_ids
from ..raw_text import from_raw_text
from ..validation import DocumentValidationError, validate_document
from .docred import read_docred, read_dwie
from .documents import DocumentList, SkippedDocument
from .eog import read_eog
from .facts import facts_from_document, facts_from_predictions
from .hf_dataset import (
    DatasetColumnsError,
    feature_schema,
    featurize_dataset,
    read_dataset,
    to_dataset,
)
from .pubtator import read_pubtator
from .sources import read_documents
from .vocabulary import (
    RelationVocabulary,
    infer_vocabularies,
    load_docred_label_vocab,
    load_entity_type_vocab,
)

__all__ = [
    "MARKER_STYLES",
    "DatasetColumnsError",
    "DocumentCollator",
    "DocumentFeaturizer",
    "DocumentList",
    "DocumentValidationError",
    "RelationVocabulary",
    "SkippedDocument",
    "add_marker_tokens",
    "facts_from_document",
    "feature_schema",
    "featurize_dataset",
    "facts_from_predictions",
    "from_raw_text",
    "infer_vocabularies",
    "load_docred_label_vocab",
    "load_entity_type_vocab",
    "marker_token_ids",
    "read_dataset",
    "read_docred",
    "read_documents",
    "read_dwie",
    "read_eog",
    "read_pubtator",
    "to_dataset",
    "validate_document",
]
