"""Joint entity heads: a typed span mention detector and a mention-pair coreference scorer (issue 13, item 4).

They follow JEREX's split of the task (Eberts & Ulges, 2021) and read the backbone's last-layer states of the
document's *plain* text: its words joined by single spaces between the tokenizer's special tokens, without entity
markers (markers would tell the heads where the mentions are).

Shapes: B documents, L plain tokens, D backbone width, W words, K = ``max_mention_width``, H =
``entity_head_hidden_size``, T entity types (class 0 of the detector is "no entity"), G gold mentions, M mentions,
P = M (M - 1) / 2 mention pairs.

* **Spans.** Every span of 1..K words inside one sentence is a candidate, so nested and long mentions can be
  found; the candidates form a dense (W, K) grid whose cell (i, k) is words i..i+k. A span is represented by
  ``relu(A h_first + B h_last + max_t C h_t + width_k)``: the first sub-word of its first word, the last sub-word of
  its last word, the max-pool of projected states over its sub-words, and an embedding of its width. The sum of
  projections is a linear layer over [first; last; max-pool; width]; pooling after the projection C keeps the grid
  H wide instead of D wide.
* **Mention detector.** A linear layer over the span representation scores {no entity} + the entity types. Loss:
  cross-entropy over every candidate span (no negative sampling: all candidates are cheap to score, as in PURE,
  Zhong & Chen 2021), class-weighted: a mention counts ``mention_positive_weight`` times a no-entity span (weighted
  mean). Only about 1.25% of the candidates are mentions in Re-DocRED, and unweighted the detector learns slowly: heads
  on frozen MiniLM states, 40 Re-DocRED documents, scored on 20 others, reach mention F1 0.09 / 0.35 after 3 / 10
  epochs unweighted and 0.50 / 0.55 with weight 10, about JEREX's balance (it samples 200 negatives per document
  against some 26 mentions). The weight moves the decision boundary (``mention_threshold = 0.5`` then means
  "10 times the odds of no entity"); 0.5 was the best of 0.3 / 0.5 / 0.7 / 0.85 there. The no-entity logit carries a
  fixed offset so that an untrained detector starts at the weighted prior of 1% mentions instead of uniform scores,
  and its first steps are not spent pushing thousands of candidates down (the prior initialisation of focal loss,
  Lin et al. 2017).
* **Coreference scorer.** For mentions a before b: ``w . relu(U_a m_a + U_b m_b + U_p (m_a * m_b) + dist + match)``,
  where m are span representations, ``dist`` embeds the bucketed word distance between their starts and ``match``
  two string features of the lower-cased words: exact match, and the same last word (the head of an English noun
  phrase: "Smith" / "John Smith"). Trained on every pair of gold mentions with binary cross-entropy (mean over
  pairs, target: same entity).
* **Inference** ([`EntityHeads.detect`]). Spans whose ``1 - P(no entity)`` reaches ``mention_threshold`` are taken
  best first; a span that crosses a span already taken is dropped, and so is one nested in (or around) one already
  taken unless ``nested_mentions``. The mentions are clustered by complete-linkage agglomerative clustering (as
  JEREX): two clusters merge while every pair of their mentions scores at least ``coreference_threshold``. A
  cluster's type is the type with the highest probability summed over its mentions.

This file ships with every checkpoint for ``trust_remote_code``: it imports only torch and its siblings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .entity_pooling import gather_rows

#: Class index of "no entity" in the mention detector's logits; entity type t is class t + 1.
NO_ENTITY = 0
#: Word-distance buckets between two mentions' starts: 0, 1, 2, 3, 4, 5-7, 8-15, 16-31, 32-63, 64-127, 128+.
DISTANCE_BUCKETS = 11
#: String-match features of a mention pair, indexed ``2 * exact_match + same_last_word``.
MATCH_FEATURES = 4
#: Share of candidate spans that are mentions at the start of training (sets the no-entity logit's offset).
MENTION_PRIOR = 0.01
#: Mention pairs scored at once: bounds memory where many mentions are detected (nested spans of a long text).
PAIR_CHUNK_SIZE = 16384
#: Columns of ``plain_words``: first and end (exclusive) token in the plain ids, sentence, lower-cased word id.
WORD_FIRST_TOKEN, WORD_END_TOKEN, WORD_SENTENCE, WORD_TEXT_ID = range(4)
#: Columns of ``gold_mentions``: first and end (exclusive) word, entity type id, entity index.
MENTION_FIRST_WORD, MENTION_END_WORD, MENTION_TYPE, MENTION_ENTITY = range(4)
_IGNORE = -100


@dataclass
class SpanGrid:
    """Every candidate span of a batch.

    Attributes:
        states: ``(B, W, K, H)`` span representations; cell (i, k) is words i..i+k.
        mask: ``(B, W, K)`` bool, True for candidates (inside one sentence, inside the document, first and last word
            with sub-words).
        logits: ``(B, W, K, 1 + T)`` mention detector scores, class 0 = no entity.
    """

    states: torch.Tensor
    mask: torch.Tensor
    logits: torch.Tensor


@dataclass
class DetectedMention:
    """A mention found by [`EntityHeads.detect`]: words ``[first_word, end_word)``, its cluster's type id and the
    cluster (0..n-1 in order of first mention)."""

    first_word: int
    end_word: int
    type_id: int
    cluster: int


class SpanRepresentation(nn.Module):
    """``relu(A h_first + B h_last + max_t C h_t + width)`` for every candidate span (see the module docstring)."""

    def __init__(self, hidden_size: int, span_size: int, max_width: int, dropout: float) -> None:
        super().__init__()
        self.max_width = max_width
        self.first_projection = nn.Linear(hidden_size, span_size)
        self.last_projection = nn.Linear(hidden_size, span_size, bias=False)
        self.inside_projection = nn.Linear(hidden_size, span_size, bias=False)
        self.width_embeddings = nn.Embedding(max_width, span_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, hidden_states: torch.Tensor, plain_words: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Represent every span of 1..K words.

        Args:
            hidden_states: ``(B, L, D)`` backbone states of the plain text.
            plain_words: ``(B, W, 4)`` per word: first and end token, sentence, text id; ``-1`` rows = padding.

        Returns:
            ``states`` ``(B, W, K, H)`` and ``mask`` ``(B, W, K)`` (see [`SpanGrid`]).
        """
        width = self.max_width
        first_tokens, end_tokens = plain_words[..., WORD_FIRST_TOKEN], plain_words[..., WORD_END_TOKEN]
        has_tokens = end_tokens > first_tokens  # False for padding and for words the tokenizer dropped
        first = self.first_projection(gather_rows(hidden_states, first_tokens))  # (B, W, H)
        last = self.last_projection(gather_rows(hidden_states, (end_tokens - 1).clamp(min=0)))
        sentences = plain_words[..., WORD_SENTENCE]
        mask = (
            has_tokens[..., None]
            & span_windows(has_tokens, width, False)
            & (span_windows(sentences, width, -1) == sentences[..., None])
        )
        word_maxima = self._word_maxima(self.inside_projection(hidden_states), first_tokens, end_tokens)
        # a candidate's first and last words have tokens, so its maximum is finite; other cells are zeroed
        inside = torch.cummax(span_windows(word_maxima, width, 0.0), dim=2).values.masked_fill(~mask[..., None], 0.0)
        states = first[:, :, None] + span_windows(last, width, 0.0) + inside + self.width_embeddings.weight
        return self.dropout(torch.relu(states)), mask

    @staticmethod
    def _word_maxima(projected: torch.Tensor, first_tokens: torch.Tensor, end_tokens: torch.Tensor) -> torch.Tensor:
        """``(B, L, H)`` token states -> ``(B, W, H)`` maximum over each word's tokens (the dtype's lowest value for
        words without any, so that they never win a span's maximum)."""
        batch_size, length, size = projected.shape
        num_words = first_tokens.shape[1]
        positions = torch.arange(length, device=projected.device)
        inside = (positions >= first_tokens[..., None]) & (positions < end_tokens[..., None])  # (B, W, L)
        token_words = torch.where(inside.any(1), inside.to(torch.uint8).argmax(1), num_words)  # W = no word
        maxima = projected.new_full((batch_size, num_words + 1, size), torch.finfo(projected.dtype).min)
        maxima = maxima.scatter_reduce(1, token_words[..., None].expand(-1, -1, size), projected, reduce="amax",
                                       include_self=False)
        return maxima[:, :num_words]


class CoreferenceScorer(nn.Module):
    """``w . relu(U_a m_a + U_b m_b + U_p (m_a * m_b) + dist + match)`` for every pair a < b of mentions."""

    def __init__(self, span_size: int, dropout: float) -> None:
        super().__init__()
        self.first_projection = nn.Linear(span_size, span_size)
        self.second_projection = nn.Linear(span_size, span_size, bias=False)
        self.product_projection = nn.Linear(span_size, span_size, bias=False)
        self.distance_embeddings = nn.Embedding(DISTANCE_BUCKETS, span_size)
        self.match_embeddings = nn.Embedding(MATCH_FEATURES, span_size)
        self.dropout = nn.Dropout(dropout)
        self.scorer = nn.Linear(span_size, 1)

    def forward(
        self, mention_states: torch.Tensor, mention_words: torch.Tensor, word_text_ids: torch.Tensor, max_width: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Score all pairs of mentions.

        Args:
            mention_states: ``(B, M, H)`` span representations of the mentions.
            mention_words: ``(B, M, 2)`` first and end (exclusive) word of each mention, ordered by position;
                ``-1`` = padding.
            word_text_ids: ``(B, W)`` id of each lower-cased word within its document.
            max_width: K, the widest mention.

        Returns:
            ``logits`` ``(B, P)`` and ``pairs`` ``(P, 2)``: mention indices (a, b), a < b, in
            ``torch.triu_indices(M, M, 1)`` order. Pairs with a padding mention get arbitrary logits.
        """
        num_mentions = mention_states.shape[1]
        pairs = torch.triu_indices(num_mentions, num_mentions, 1, device=mention_states.device).T
        starts = mention_words[..., 0]
        distances = distance_buckets((starts[:, pairs[:, 1]] - starts[:, pairs[:, 0]]).abs())
        matches = string_matches(mention_words, word_text_ids, max_width)
        first = self.first_projection(mention_states)
        second = self.second_projection(mention_states)
        chunks = []
        # at least one (maybe empty) chunk: with no pairs every parameter still takes part in the graph (DDP)
        for start in range(0, max(pairs.shape[0], 1), PAIR_CHUNK_SIZE):
            left, right = pairs[start : start + PAIR_CHUNK_SIZE].unbind(1)
            hidden = (
                first[:, left]
                + second[:, right]
                + self.product_projection(mention_states[:, left] * mention_states[:, right])
                + self.distance_embeddings(distances[:, start : start + PAIR_CHUNK_SIZE])
                + self.match_embeddings(matches[:, left, right])
            )
            chunks.append(self.scorer(self.dropout(torch.relu(hidden))).squeeze(-1))
        return torch.cat(chunks, 1), pairs


class EntityHeads(nn.Module):
    """The typed span mention detector and the coreference scorer, with their losses and their decoding.

    Args:
        hidden_size: D, the backbone's width.
        num_entity_types: T.
        span_size: H (``entity_head_hidden_size``).
        max_width: K (``max_mention_width``).
        dropout: Dropout on the span and pair representations (the backbone's hidden dropout).
        positive_weight: Weight of a mention against a no-entity span in the mention loss
            (``mention_positive_weight``).
    """

    def __init__(self, hidden_size: int, num_entity_types: int, span_size: int, max_width: int, dropout: float,
                 positive_weight: float = 1.0):
        super().__init__()
        self.max_width = max_width
        self.positive_weight = positive_weight
        # log odds of no entity against one type at the prior, as the weighted loss sees it
        self.no_entity_offset = math.log((1 - MENTION_PRIOR) / (MENTION_PRIOR * positive_weight) * num_entity_types)
        self.spans = SpanRepresentation(hidden_size, span_size, max_width, dropout)
        self.mention_classifier = nn.Linear(span_size, 1 + num_entity_types)
        self.coreference = CoreferenceScorer(span_size, dropout)

    def forward(self, hidden_states: torch.Tensor, plain_words: torch.Tensor) -> SpanGrid:
        """Score every candidate span.

        Args:
            hidden_states: ``(B, L, D)`` backbone states of the plain text.
            plain_words: ``(B, W, 4)`` (see [`SpanRepresentation.forward`]).
        """
        states, mask = self.spans(hidden_states, plain_words)
        logits = self.mention_classifier(states)
        offset = torch.zeros(logits.shape[-1], dtype=logits.dtype, device=logits.device)
        offset[NO_ENTITY] = self.no_entity_offset
        return SpanGrid(states, mask, logits + offset)

    def losses(self, grid: SpanGrid, plain_words: torch.Tensor, gold_mentions: torch.Tensor) -> dict[str, torch.Tensor]:
        """Mention and coreference losses against the gold mentions.

        Gold mentions that are no candidate (wider than K, or across sentences) cannot be learnt and are left out.

        Args:
            grid: From [`forward`].
            plain_words: ``(B, W, 4)``.
            gold_mentions: ``(B, G, 4)`` first word, end word, type id, entity index; ordered by position; ``-1``
                rows = padding.

        Returns:
            ``mention_loss``, ``coreference_loss`` (scalars) and ``coreference_logits`` ``(B, G (G - 1) / 2)``.
        """
        spans = gold_mentions[..., :2]
        cells = span_cells(spans, self.max_width)
        candidate = gather_rows(grid.mask.flatten(1)[..., None], cells)[..., 0] & (cells >= 0)  # (B, G)
        targets = torch.full_like(grid.mask, _IGNORE, dtype=torch.long).masked_fill(grid.mask, NO_ENTITY).flatten(1)
        rows = candidate.nonzero(as_tuple=True)
        targets[rows[0], cells[rows]] = gold_mentions[..., MENTION_TYPE][rows] + 1
        mention_loss = _weighted_cross_entropy(grid.logits.flatten(0, 2), targets.flatten(), self.positive_weight)

        spans = spans.masked_fill(~candidate[..., None], -1)
        logits, pairs = self.coreference(
            self.mention_states(grid, spans), spans, plain_words[..., WORD_TEXT_ID], self.max_width
        )
        entities = gold_mentions[..., MENTION_ENTITY]
        same_entity = (entities[:, pairs[:, 0]] == entities[:, pairs[:, 1]]).float()
        pair_mask = candidate[:, pairs[:, 0]] & candidate[:, pairs[:, 1]]
        if pair_mask.any():
            coreference_loss = F.binary_cross_entropy_with_logits(logits[pair_mask].float(), same_entity[pair_mask])
        else:  # no pair: zero, with every parameter in the graph (DDP)
            coreference_loss = logits.sum() * 0.0
        return {"mention_loss": mention_loss, "coreference_loss": coreference_loss, "coreference_logits": logits}

    def mention_states(self, grid: SpanGrid, spans: torch.Tensor) -> torch.Tensor:
        """``(B, M, H)`` representations of the spans ``(B, M, 2)`` (``-1`` = padding, gives zeros)."""
        cells = span_cells(spans, self.max_width)
        states = gather_rows(grid.states.flatten(1, 2), cells)
        return states.masked_fill((cells < 0)[..., None], 0.0)

    @torch.no_grad()
    def detect(
        self,
        hidden_states: torch.Tensor,
        plain_words: torch.Tensor,
        mention_threshold: float,
        coreference_threshold: float,
        nested_mentions: bool,
    ) -> list[list[DetectedMention]]:
        """Find, type and cluster the mentions of each document (the rules of the module docstring).

        Args:
            hidden_states: ``(B, L, D)`` backbone states of the plain text.
            plain_words: ``(B, W, 4)``.
            mention_threshold, coreference_threshold, nested_mentions: The config's decoding settings.

        Returns:
            Per document, its mentions ordered by position.
        """
        grid = self(hidden_states, plain_words)
        probabilities = torch.softmax(grid.logits.float(), -1)
        spans = [
            select_spans(document_probabilities, document_mask, mention_threshold, nested_mentions)
            for document_probabilities, document_mask in zip(probabilities.cpu(), grid.mask.cpu())
        ]
        most = max(len(document_spans) for document_spans in spans)
        padded = torch.full((len(spans), max(most, 1), 2), -1, dtype=torch.long)
        for row, document_spans in enumerate(spans):
            if document_spans:
                padded[row, : len(document_spans)] = torch.tensor(document_spans)
        padded = padded.to(plain_words.device)
        logits, pairs = self.coreference(
            self.mention_states(grid, padded), padded, plain_words[..., WORD_TEXT_ID], self.max_width
        )
        scores = torch.sigmoid(logits.float()).cpu()
        type_probabilities = gather_rows(probabilities.flatten(1, 2), span_cells(padded, self.max_width)).cpu()
        detected = []
        for row, document_spans in enumerate(spans):
            count = len(document_spans)
            similarity = torch.zeros(count, count)
            inside = (pairs[:, 1] < count).cpu()
            left, right = pairs.cpu()[inside].unbind(1)
            similarity[left, right] = similarity[right, left] = scores[row, inside]
            clusters = complete_linkage_clusters(similarity, coreference_threshold)
            cluster_types = torch.zeros(max(clusters, default=-1) + 1, type_probabilities.shape[-1] - 1)
            cluster_types.index_add_(0, torch.tensor(clusters, dtype=torch.long),
                                     type_probabilities[row, :count, NO_ENTITY + 1 :])
            types = cluster_types.argmax(-1).tolist()
            detected.append([DetectedMention(first, end, types[cluster], cluster)
                             for (first, end), cluster in zip(document_spans, clusters)])
        return detected


def span_windows(values: torch.Tensor, width: int, fill: float | int | bool) -> torch.Tensor:
    """``(B, W, *F)`` -> ``(B, W, K, *F)`` with entry ``[b, i, k] = values[b, i + k]`` (``fill`` past the end)."""
    padding = values.new_full((values.shape[0], width - 1, *values.shape[2:]), fill)
    return torch.cat([values, padding], 1).unfold(1, width, 1).movedim(-1, 2)


def span_cells(spans: torch.Tensor, max_width: int) -> torch.Tensor:
    """Index of each ``(first, end)`` word span ``(B, M, 2)`` in a flattened (W, K) grid; ``-1`` for padding and
    for spans wider than ``max_width``."""
    first, end = spans.unbind(-1)
    width = end - first
    valid = (first >= 0) & (width >= 1) & (width <= max_width)
    return torch.where(valid, first * max_width + width - 1, -1)


def distance_buckets(distances: torch.Tensor) -> torch.Tensor:
    """Word distances ``>= 0`` -> bucket ids ``0..DISTANCE_BUCKETS - 1`` (exact up to 4, then powers of two)."""
    log_buckets = torch.floor(torch.log2(distances.clamp(min=1).float())).long() + 3
    return torch.where(distances < 5, distances, log_buckets).clamp(max=DISTANCE_BUCKETS - 1)


def string_matches(mention_words: torch.Tensor, word_text_ids: torch.Tensor, max_width: int) -> torch.Tensor:
    """``(B, M, M)`` match feature ``2 * exact + same_last_word`` of every mention pair.

    Args:
        mention_words: ``(B, M, 2)`` first and end word; ``-1`` = padding (matches nothing).
        word_text_ids: ``(B, W)`` lower-cased word ids.
        max_width: K.
    """
    first, end = mention_words.unbind(-1)
    windows = gather_rows(span_windows(word_text_ids, max_width, -1), first)  # (B, M, K)
    offsets = torch.arange(max_width, device=windows.device)
    words = windows.masked_fill(offsets >= (end - first)[..., None], -1)
    exact = (words[:, :, None] == words[:, None, :]).all(-1)
    last = gather_rows(word_text_ids[..., None], (end - 1).clamp(min=0))[..., 0]
    same_last = last[:, :, None] == last[:, None, :]
    real = first >= 0
    both_real = real[:, :, None] & real[:, None, :]
    return ((2 * exact.long() + same_last.long()) * both_real).long()


def select_spans(
    probabilities: torch.Tensor, mask: torch.Tensor, threshold: float, nested: bool
) -> list[tuple[int, int]]:
    """The detected mention spans of one document.

    Candidates whose ``1 - P(no entity)`` reaches ``threshold`` are taken best first; a candidate that crosses a taken
    span (overlaps it without either containing the other) is dropped, and so is one nested in or around a taken span
    unless ``nested``.

    Args:
        probabilities: ``(W, K, 1 + T)`` detector probabilities.
        mask: ``(W, K)`` candidates.
        threshold: ``mention_threshold``.
        nested: ``nested_mentions``.

    Returns:
        ``(first_word, end_word)`` spans ordered by position.
    """
    scores = 1.0 - probabilities[..., NO_ENTITY]
    first_words, widths = ((scores >= threshold) & mask).nonzero(as_tuple=True)
    order = scores[first_words, widths].argsort(descending=True, stable=True).tolist()
    covering: dict[int, list[tuple[int, int]]] = {}  # word -> taken spans over it
    taken = []
    for index in order:
        first, end = int(first_words[index]), int(first_words[index] + widths[index]) + 1
        overlapping = {span for word in range(first, end) for span in covering.get(word, ())}
        if any(not nested or not _nested(span, (first, end)) for span in overlapping):
            continue
        taken.append((first, end))
        for word in range(first, end):
            covering.setdefault(word, []).append((first, end))
    return sorted(taken)


def complete_linkage_clusters(similarity: torch.Tensor, threshold: float) -> list[int]:
    """Complete-linkage agglomerative clustering: merge the two most similar clusters while every pair of their
    members scores at least ``threshold``.

    Args:
        similarity: ``(M, M)`` symmetric pair scores in [0, 1] (the diagonal is ignored).
        threshold: ``coreference_threshold``.

    Returns:
        The cluster of each item, numbered 0..n-1 in order of first member.
    """
    count = similarity.shape[0]
    linkage = similarity.clone().float()
    linkage.fill_diagonal_(-1.0)
    assignment = list(range(count))
    while count > 1:
        best = int(linkage.argmax())
        keep, merged = divmod(best, linkage.shape[0])
        if linkage[keep, merged] < threshold:
            break
        keep, merged = min(keep, merged), max(keep, merged)
        linkage[keep] = torch.minimum(linkage[keep], linkage[merged])
        linkage[:, keep] = linkage[keep]
        linkage[keep, keep] = linkage[merged] = linkage[:, merged] = -1.0
        assignment = [keep if cluster == merged else cluster for cluster in assignment]
    numbering: dict[int, int] = {}
    return [numbering.setdefault(cluster, len(numbering)) for cluster in assignment]


def _nested(left: tuple[int, int], right: tuple[int, int]) -> bool:
    """Whether one of two overlapping spans contains the other."""
    return (left[0] <= right[0] and right[1] <= left[1]) or (right[0] <= left[0] and left[1] <= right[1])


def _weighted_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, positive_weight: float) -> torch.Tensor:
    """Cross-entropy over the targets that are not ignored, mentions weighted ``positive_weight`` and no-entity spans
    1 (weighted mean); 0 (in the graph) when every target is ignored."""
    kept = targets != _IGNORE
    if not kept.any():
        return logits.sum() * 0.0
    targets = targets[kept]
    losses = F.cross_entropy(logits[kept].float(), targets, reduction="none")
    weights = torch.where(targets == NO_ENTITY, 1.0, positive_weight)
    return (losses * weights).sum() / weights.sum()
