"""From token states to entities and entity pairs (paper section 2.1, eq. 2-3)."""

from __future__ import annotations

import torch


def gather_rows(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Batched row lookup with ``-1`` padding.

    Args:
        values: ``(B, N, ...)``.
        index: ``(B, *I)`` row indices into dim 1, ``-1`` = padding (returns row 0; mask it yourself).

    Returns:
        ``(B, *I, ...)``.
    """
    batch_size = values.shape[0]
    flat = index.clamp(min=0).reshape(batch_size, -1)
    rows = values[torch.arange(batch_size, device=values.device)[:, None], flat]
    return rows.reshape(*index.shape, *values.shape[2:])


def pool_entities(
    hidden_states: torch.Tensor,
    row_attentions: torch.Tensor,
    mention_positions: torch.Tensor,
    entity_mentions: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Entity embeddings by logsumexp over mentions (eq. 2) and entity attention by averaging mention rows.

    Args:
        hidden_states: ``(B, L, D)``, H of eq. 1.
        row_attentions: ``(B, H, M, L)`` last-layer attention of each mention's start marker.
        mention_positions: ``(B, M)`` token index of each mention start marker, ``-1`` = padding.
        entity_mentions: ``(B, E, K)`` indices into the mention axis, ``-1`` = padding.

    Returns:
        ``entities`` ``(B, E, D)`` and ``entity_attention`` ``(B, E, H, L)`` (A^s of eq. 3); padding entities are 0.
    """
    mention_states = gather_rows(hidden_states, mention_positions)  # (B, M, D)
    mention_mask = entity_mentions >= 0  # (B, E, K)
    states = gather_rows(mention_states, entity_mentions)  # (B, E, K, D)
    # finite fill: an all-padding entity must not give -inf (its logsumexp gradient would be NaN)
    states = states.masked_fill(~mention_mask[..., None], torch.finfo(states.dtype).min)
    entities = torch.logsumexp(states, dim=2)
    entities = entities.masked_fill(~mention_mask.any(-1, keepdim=True), 0.0)

    attention = gather_rows(row_attentions.transpose(1, 2), entity_mentions)  # (B, E, K, H, L)
    weights = mention_mask.to(attention.dtype)[..., None, None]
    counts = mention_mask.sum(-1).clamp(min=1).to(attention.dtype)[..., None, None]
    entity_attention = (attention * weights).sum(2) / counts
    return entities, entity_attention


def localized_context(
    hidden_states: torch.Tensor,
    entity_attention: torch.Tensor,
    pair_indices: torch.Tensor,
    attention_mask: torch.Tensor,
    normalization: str = "sum",
    chunk_size: int | None = None,
    token_sentences: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Entity-pair context ``H . a(s,o)`` with ``a(s,o) = norm(sum_i A_i^s * A_i^o)`` (eq. 3, before W1).

    Args:
        hidden_states: ``(B, L, D)``.
        entity_attention: ``(B, E, H, L)``.
        pair_indices: ``(B, P, 2)`` (subject, object) entity indices, ``-1`` = padding.
        attention_mask: ``(B, L)`` 1 for real tokens.
        normalization: ``"sum"`` divides by the total (ATLOP); ``"softmax"`` is eq. 3 read literally.
        chunk_size: Pairs per chunk, to bound the ``(B, P, L)`` intermediate; ``None`` = all at once.
        token_sentences: ``(B, L, S)`` sentence membership of the tokens (``evidence.token_sentence_matrix``), to also
            sum ``a(s,o)`` over each sentence (DREEAM's evidence attention); ``None`` = not needed.

    Returns:
        ``(B, P, D)`` context vectors and, with ``token_sentences``, the ``(B, P, S)`` attention mass of each pair on
        each sentence (else ``None``); padding pairs get the values of pair (0, 0) and must be masked by the caller.
    """
    num_pairs = pair_indices.shape[1]
    step = chunk_size or max(num_pairs, 1)
    token_mask = attention_mask.bool()[:, None, :]
    chunks, sentence_chunks = [], []
    for start in range(0, num_pairs, step):
        pairs = pair_indices[:, start : start + step]
        subject_attention = gather_rows(entity_attention, pairs[..., 0])  # (B, p, H, L)
        object_attention = gather_rows(entity_attention, pairs[..., 1])
        products = subject_attention * object_attention  # (B, p, H, L)
        if normalization == "softmax":
            weights = torch.softmax(products.sum(2).masked_fill(~token_mask, float("-inf")), dim=-1)
        else:
            # ATLOP averages the heads (eq. 3 sums them: the same after normalising, up to ATLOP's epsilon)
            scores = products.mean(2)
            weights = scores / (scores.sum(-1, keepdim=True) + 1e-5)
        chunks.append(torch.bmm(weights.to(hidden_states.dtype), hidden_states))
        if token_sentences is not None:
            sentence_chunks.append(torch.bmm(weights.to(token_sentences.dtype), token_sentences))
    if not chunks:
        empty = hidden_states.new_zeros(hidden_states.shape[0], 0, hidden_states.shape[-1])
        return empty, None if token_sentences is None else token_sentences.new_zeros(
            token_sentences.shape[0], 0, token_sentences.shape[-1])
    return torch.cat(chunks, dim=1), torch.cat(sentence_chunks, dim=1) if token_sentences is not None else None


def same_sentence(
    mention_sentence_ids: torch.Tensor,
    entity_mentions: torch.Tensor,
    pair_indices: torch.Tensor,
) -> torch.Tensor:
    """The ``pos`` bit of section 2.1: 1 when some mention of the subject shares a sentence with one of the object.

    Args:
        mention_sentence_ids: ``(B, M)``, ``-1`` = padding.
        entity_mentions: ``(B, E, K)``.
        pair_indices: ``(B, P, 2)``.

    Returns:
        ``(B, P)`` long tensor of 0/1.
    """
    num_sentences = int(mention_sentence_ids.max().item()) + 1 if mention_sentence_ids.numel() else 1
    sentence_ids = gather_rows(mention_sentence_ids[..., None], entity_mentions)[..., 0]  # (B, E, K)
    valid = (entity_mentions >= 0) & (sentence_ids >= 0)
    one_hot = torch.nn.functional.one_hot(sentence_ids.clamp(min=0), max(num_sentences, 1))
    entity_sentences = (one_hot * valid[..., None]).amax(2).float()  # (B, E, S)
    shared = torch.bmm(entity_sentences, entity_sentences.transpose(1, 2)) > 0  # (B, E, E)
    batch = torch.arange(pair_indices.shape[0], device=pair_indices.device)[:, None]
    pairs = pair_indices.clamp(min=0)
    return shared[batch, pairs[..., 0], pairs[..., 1]].long()
