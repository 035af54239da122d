"""Synthetic, internally consistent model batches (the shape the collator produces), for model tests."""

from __future__ import annotations

import torch
from tiny_models import tiny_bert_config

from paee_hf import PaeeConfig

VOCAB_SIZE = 120


def tiny_paee_config(**overrides) -> PaeeConfig:
    """A PAEE config over a 2-layer, 32-wide BERT with 4 relations and small heads (CPU-test sized)."""
    values = dict(
        encoder_config=tiny_bert_config(VOCAB_SIZE, max_position_embeddings=64),
        id2label={0: "Na", 1: "P17", 2: "P131", 3: "P27", 4: "P569"},
        entity_types=["PER", "ORG", "LOC"],
        matrix_size=8,
        pair_channels=16,
        classifier_hidden_size=32,
        bilinear_block_size=8,
        re_encoder_layers=1,
        ppp_embedding_size=8,
        tnet_window_size=4,
        tnet_window_stride=2,
        tnet_top_k=2,
        unet_base_channels=8,
    )
    values.update(overrides)
    return PaeeConfig(**values)


def make_batch(
    entities_per_doc: list[int],
    lengths: list[int],
    num_labels: int = 5,
    mentions_per_entity: int = 2,
    sentences_per_doc: int = 3,
    seed: int = 0,
    with_labels: bool = True,
) -> dict[str, torch.Tensor]:
    """Random documents with all ordered pairs, padded like DocumentCollator does.

    Token 1 / 2 play [CLS] / [SEP]; mention start markers sit at distinct positions inside the document.
    """
    generator = torch.Generator().manual_seed(seed)
    batch_size = len(entities_per_doc)
    max_length = max(lengths)
    max_entities = max(entities_per_doc)
    max_mentions = max_entities * mentions_per_entity
    max_pairs = max(n * (n - 1) for n in entities_per_doc) or 1
    batch = {
        "input_ids": torch.zeros(batch_size, max_length, dtype=torch.long),
        "attention_mask": torch.zeros(batch_size, max_length, dtype=torch.long),
        "mention_positions": torch.full((batch_size, max_mentions), -1),
        "mention_sentence_ids": torch.full((batch_size, max_mentions), -1),
        "entity_mentions": torch.full((batch_size, max_entities, mentions_per_entity), -1),
        "entity_types": torch.full((batch_size, max_entities), -1),
        "sentence_spans": torch.full((batch_size, sentences_per_doc, 2), -1),
        "pair_indices": torch.full((batch_size, max_pairs, 2), -1),
    }
    labels = torch.zeros(batch_size, max_pairs, num_labels)
    for doc, (num_entities, length) in enumerate(zip(entities_per_doc, lengths)):
        ids = torch.randint(5, VOCAB_SIZE, (length,), generator=generator)
        ids[0], ids[-1] = 1, 2
        batch["input_ids"][doc, :length] = ids
        batch["attention_mask"][doc, :length] = 1
        num_mentions = num_entities * mentions_per_entity
        positions = torch.randperm(length - 2, generator=generator)[:num_mentions].sort().values + 1
        bounds = torch.linspace(1, length - 1, sentences_per_doc + 1).long()
        batch["sentence_spans"][doc] = torch.stack([bounds[:-1], bounds[1:]], dim=1)
        order = torch.randperm(num_mentions, generator=generator)
        for entity in range(num_entities):
            mention_ids = order[entity * mentions_per_entity : (entity + 1) * mentions_per_entity]
            batch["entity_mentions"][doc, entity] = mention_ids
            batch["entity_types"][doc, entity] = int(torch.randint(0, 3, (1,), generator=generator))
        batch["mention_positions"][doc, :num_mentions] = positions
        sentence_of = torch.bucketize(positions, bounds[1:], right=True).clamp(max=sentences_per_doc - 1)
        batch["mention_sentence_ids"][doc, :num_mentions] = sentence_of
        pairs = [(h, t) for h in range(num_entities) for t in range(num_entities) if h != t]
        for index, (h, t) in enumerate(pairs):
            batch["pair_indices"][doc, index] = torch.tensor([h, t])
            relation = int(torch.randint(0, num_labels, (1,), generator=generator)) if (h + t) % 3 == 0 else 0
            labels[doc, index, relation] = 1.0
    if with_labels:
        batch["labels"] = labels
    return batch
