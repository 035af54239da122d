"""Entity-Enhanced Representation (paper section 2.3): sentence pooling, RE-Encoder (eq. 6), Cross Matching (eq. 7)."""

from __future__ import annotations

import torch
from torch import nn


def sentence_embeddings(hidden_states: torch.Tensor, sentence_spans: torch.Tensor) -> torch.Tensor:
    """Max-pool the tokens of every sentence (section 2.3, "Representation-Enhanced Encoder").

    Args:
        hidden_states: ``(B, L, D)`` token embeddings H of eq. 1.
        sentence_spans: ``(B, S, 2)`` token ``[start, end)`` of each sentence; ``-1`` rows are padding.

    Returns:
        ``(B, S, D)`` sentence embeddings; padding sentences (and empty spans) are zeros.
    """
    batch_size, length, hidden_size = hidden_states.shape
    num_sentences = sentence_spans.shape[1]
    positions = torch.arange(length, device=hidden_states.device)
    starts, ends = sentence_spans[..., 0], sentence_spans[..., 1]
    # token -> sentence id (sentences do not overlap); tokens outside every sentence go to a dummy row S
    inside = (positions[None, None, :] >= starts[..., None]) & (positions[None, None, :] < ends[..., None])
    sentence_of_token = torch.where(inside.any(1), inside.float().argmax(1), num_sentences)
    pooled = hidden_states.new_zeros(batch_size, num_sentences + 1, hidden_size)
    index = sentence_of_token[..., None].expand(-1, -1, hidden_size)
    pooled = pooled.scatter_reduce(1, index, hidden_states, reduce="amax", include_self=False)
    return pooled[:, :num_sentences]


class RepresentationEnhancedEncoder(nn.Module):
    """Eq. 6: ``[H^e; H^s] = RE-Encoder(e_1..e_Ne; S_1..S_Ns)``, a Transformer over entities and sentences.

    Sentences get learned position embeddings (their order in the document); a two-row segment embedding tells
    entity tokens from sentence tokens.
    """

    def __init__(
        self, hidden_size: int, num_heads: int, num_layers: int, max_sentences: int, dropout: float = 0.1
    ) -> None:
        super().__init__()
        self.max_sentences = max_sentences
        self.sentence_position_embeddings = nn.Embedding(max_sentences, hidden_size)
        self.segment_embeddings = nn.Embedding(2, hidden_size)
        layer = nn.TransformerEncoderLayer(
            hidden_size, num_heads, dim_feedforward=2 * hidden_size, dropout=dropout, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)

    def forward(
        self,
        entities: torch.Tensor,
        entity_mask: torch.Tensor,
        sentences: torch.Tensor,
        sentence_mask: torch.Tensor,
    ) -> torch.Tensor:
        """Contextualise entities with the whole document.

        Args:
            entities: ``(B, E, D)`` entity embeddings (eq. 2).
            entity_mask: ``(B, E)`` True for real entities.
            sentences: ``(B, S, D)`` max-pooled sentence embeddings.
            sentence_mask: ``(B, S)`` True for real sentences.

        Returns:
            ``(B, E, D)`` document-aware entity embeddings H^e.
        """
        num_entities, num_sentences = entities.shape[1], sentences.shape[1]
        if num_sentences > self.max_sentences:
            raise ValueError(
                f"a document has {num_sentences} sentences but PaeeConfig.max_sentences={self.max_sentences}; "
                "raise max_sentences (new rows are trained from scratch) or split the document."
            )
        positions = torch.arange(num_sentences, device=sentences.device)
        sentences = sentences + self.sentence_position_embeddings(positions)[None]
        tokens = torch.cat([entities, sentences], dim=1)
        segments = torch.cat(
            [entities.new_zeros(num_entities, dtype=torch.long), entities.new_ones(num_sentences, dtype=torch.long)]
        )
        tokens = tokens + self.segment_embeddings(segments)[None]
        padding = ~torch.cat([entity_mask, sentence_mask], dim=1)
        encoded = self.encoder(tokens, src_key_padding_mask=padding)
        return encoded[:, :num_entities]


class CrossMatching(nn.Module):
    """Eq. 7: the Sub-Obj layer maps each entity to subject and object scores for every relation.

    ``[F_sub; F_obj] = Sub-Obj(H^e)`` with ``F_sub, F_obj`` in ``R^{Ne x Nc}``; the entity representations for the
    classifier are ``e_sub = [H^e; sigmoid(F_sub)]`` and ``e_obj = [H^e; sigmoid(F_obj)]``. The paper writes the
    layer as ``Linear(Ne x D, 2 x Ne x Nc)``; applied per entity (shared weights) it works for any Ne.
    """

    def __init__(self, hidden_size: int, num_relations: int) -> None:
        super().__init__()
        self.num_relations = num_relations
        self.sub_obj = nn.Linear(hidden_size, 2 * num_relations)

    def forward(self, entities: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Split entities into subject and object views.

        Args:
            entities: ``(B, E, D)`` H^e.

        Returns:
            ``e_sub``, ``e_obj`` of shape ``(B, E, D + Nc)`` and the logits ``F_sub``, ``F_obj`` ``(B, E, Nc)``.
        """
        subject_logits, object_logits = self.sub_obj(entities).split(self.num_relations, dim=-1)
        subjects = torch.cat([entities, torch.sigmoid(subject_logits)], dim=-1)
        objects = torch.cat([entities, torch.sigmoid(object_logits)], dim=-1)
        return subjects, objects, subject_logits, object_logits
