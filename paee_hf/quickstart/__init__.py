"""The quickstart corpus shipped with the package: 360 short fictional articles in DocRED format.

Written by :mod:`paee_hf.quickstart.generate_corpus` (deterministic; not derived from any real data set) so that
``train -> evaluate -> predict`` runs offline out of the box. Splits: ``train`` (240 documents), ``dev`` (60),
``test`` (60, labelled so that it can be scored); 11 Wikidata relations named in ``rel_info.json``.
"""

from __future__ import annotations

from pathlib import Path

from ..data.docred import read_docred
from ..data.documents import DocumentList
from ..data.files import load_json_file
from ..data.vocabulary import NO_RELATION, RelationVocabulary

QUICKSTART_DIR = Path(__file__).resolve().parent
SPLITS = ("train", "dev", "test")
REL_INFO_PATH = QUICKSTART_DIR / "rel_info.json"


def split_path(split: str) -> Path:
    """Path of a split's JSON file.

    Raises:
        ValueError: When ``split`` is not one of :data:`SPLITS`.
    """
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not a quickstart split; use one of {', '.join(SPLITS)}.")
    return QUICKSTART_DIR / f"{split}.json"


def relation_vocabulary() -> RelationVocabulary:
    """The corpus's relations: ``"Na"`` at id 0, then the Wikidata ids sorted by name, with readable names."""
    names = load_json_file(REL_INFO_PATH)
    label2id = {NO_RELATION: 0} | {label: index for index, label in enumerate(sorted(names), start=1)}
    return RelationVocabulary(label2id, names)


def load_split(split: str) -> DocumentList:
    """Read and validate one split (relation labels checked against :func:`relation_vocabulary`)."""
    return read_docred(split_path(split), label2id=relation_vocabulary().label2id)
