"""The list every reader returns: DocRED-format documents plus a record of what was skipped or changed."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..validation import DocumentValidationError, validate_document

OnInvalid = Literal["raise", "skip"]


@dataclass(frozen=True)
class SkippedDocument:
    """A document left out because it failed validation (``on_invalid="skip"``).

    Attributes:
        doc_index: Its position in the source.
        title: Its title, when it had a readable one.
        reason: The full validation message.
    """

    doc_index: int
    title: str | None
    reason: str


class DocumentList(list):
    """A ``list`` of DocRED-format documents that also says where they came from and what was not kept as-is.

    Attributes:
        source: The file (or other origin) the documents were read from.
        skipped: Documents that failed validation and were left out (only with ``on_invalid="skip"``).
        notes: One line per change a reader made to the data (merged duplicates, split composite mentions,
            excluded pairs ...) so that nothing is altered silently.
    """

    def __init__(self, documents: Iterable[dict] = (), source: str = "", skipped=(), notes=()):
        super().__init__(documents)
        self.source = source
        self.skipped: list[SkippedDocument] = list(skipped)
        self.notes: list[str] = list(notes)


def collect_valid_documents(
    documents: Iterable[Any],
    source: str,
    on_invalid: OnInvalid,
    label2id: Mapping[str, int] | None,
    entity_type2id: Mapping[str, int] | None,
    notes: Iterable[str] = (),
    convert: Callable[[Any, int], Any] | None = None,
) -> DocumentList:
    """Convert (optionally) and validate documents in order; raise on the first invalid one, or skip it with a warning.

    Args:
        documents: Candidate documents, in source order (their position is the ``doc_index`` in messages).
        source: Name of the origin, for messages.
        on_invalid: ``"raise"`` (default of every reader) or ``"skip"``.
        label2id: Optional relation vocabulary to check against.
        entity_type2id: Optional entity-type vocabulary to check against.
        notes: Changes the reader made, carried into the result.
        convert: Turns a source record and its index into a DocRED document, raising
            :class:`DocumentValidationError` for a bad record (treated like an invalid document).

    Returns:
        The valid documents, with ``skipped`` and ``notes`` filled in.

    Raises:
        DocumentValidationError: With ``on_invalid="raise"``, for the first invalid document.
        ValueError: When ``on_invalid`` is neither ``"raise"`` nor ``"skip"``.
    """
    if on_invalid not in ("raise", "skip"):
        raise ValueError(f"on_invalid={on_invalid!r} is not supported; use 'raise' or 'skip'.")
    result = DocumentList(source=source, notes=notes)
    for doc_index, document in enumerate(documents):
        try:
            if convert is not None:
                document = convert(document, doc_index)
            validate_document(document, doc_index, source, label2id, entity_type2id)
        except DocumentValidationError as error:
            if on_invalid == "raise":
                raise
            result.skipped.append(SkippedDocument(doc_index, error.title, str(error)))
            warnings.warn(f"skipped invalid document: {error}", stacklevel=3)
            continue
        result.append(document)
    return result
