"""Evidence: which sentences of a document support an entity pair's relations (``PaeeConfig(use_evidence=True)``).

Not in the PAEE paper. DocRED-style data annotates the evidence sentences of every fact, and DREEAM (Ma et al.,
EACL 2023) showed that the pair's localized attention ``a(s,o)`` of eq. 3, summed over the tokens of each sentence,
points at them. Our reading keeps that signal and adds two cheap ones the attention cannot see, because a pair's
attention alone is often spread over sentences that mention only one of the two entities:

``logit(s,o,k) = <tanh(W_c c_so + W_s e_s + W_o e_o), W_k S_k> / sqrt(d) + b[sub in k, obj in k, shared]
+ w log(n A_so,k)``

* ``c_so`` the localized context of eq. 3 (before W1), ``e_s``/``e_o`` the entity embeddings of eq. 2 and ``S_k`` the
  max-pooled sentence embedding (the sentence nodes of EER): the learned match between pair and sentence;
* ``b[., ., .]`` a learned bias for whether the subject / the object is mentioned in sentence k, and whether the
  pair shares any sentence at all (8 values): on Re-DocRED the rule "the sentences that mention both, else those that
  mention either" finds the annotated evidence at 85 F1, and its "else" needs the pair-level bit;
* ``A_so,k = sum_{t in k} a(s,o)_t``: DREEAM's sentence attention, through a learned weight ``w`` (init 1), taken
  relative to the uniform ``1/n`` over the document's ``n`` sentences, so an attention that singles nothing out
  leaves the other terms alone.

The presence bias is the strongest of the three signals, and from zero it cannot reach its values within a
fine-tuning budget (Adam moves it about ``lr`` per step: after 600 steps at 1e-3 it had moved 0.2, where the
training data's log-odds span -4.8 to +3). So ``paee train`` starts it at those log-odds ([`presence_log_odds`],
as a classifier's bias is started at the class prior): before any step the scorer decodes the rule above, moved
only by the attention signal (untrained MiniLM: 84.3 F1 against the rule's 87.1 on 30 Re-DocRED documents), and
training learns what the text adds to it.

Trained with binary cross-entropy against the union of the gold evidence of the pair's facts; pairs whose facts have
no evidence annotated (and NA pairs) are left out. With ``evidence_guidance`` the loss reaches the attention and the
token states (DREEAM's evidence guidance); without it every input is detached, so the relation scores are exactly
those of the model without evidence and only the scorer learns (evidence prediction only).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import nn
from torch.nn import functional

from .entity_pooling import gather_rows

#: Logit of padded sentences: never evidence (finite for fp16).
_PADDING_LOGIT = -1e4


def token_sentence_matrix(sentence_spans: torch.Tensor, length: int) -> torch.Tensor:
    """One-hot sentence membership of every token.

    Args:
        sentence_spans: ``(B, S, 2)`` token ``[start, end)`` of each sentence, ``-1`` rows are padding.
        length: L, the number of tokens.

    Returns:
        ``(B, L, S)`` float, 1 where token l lies in sentence k (markers and special tokens around the document lie
        in none).
    """
    positions = torch.arange(length, device=sentence_spans.device)[None, :, None]
    starts, ends = sentence_spans[:, None, :, 0], sentence_spans[:, None, :, 1]
    return ((positions >= starts) & (positions < ends)).float()


def pair_sentence_presence(
    mention_sentence_ids: torch.Tensor,
    entity_mentions: torch.Tensor,
    pair_indices: torch.Tensor,
    num_sentences: int,
) -> torch.Tensor:
    """Which of the pair's entities is mentioned in each sentence.

    Args:
        mention_sentence_ids: ``(B, M)``, ``-1`` = padding.
        entity_mentions: ``(B, E, K)`` indices into the mention axis, ``-1`` = padding.
        pair_indices: ``(B, P, 2)`` (subject, object), ``-1`` = padding.
        num_sentences: S.

    Returns:
        ``(B, P, S)`` long: ``2 * [subject in k] + [object in k] + 4 * [some sentence mentions both]``, in 0..7.
    """
    sentence_ids = gather_rows(mention_sentence_ids[..., None], entity_mentions)[..., 0]  # (B, E, K)
    valid = (entity_mentions >= 0) & (sentence_ids >= 0) & (sentence_ids < num_sentences)
    one_hot = functional.one_hot(sentence_ids.clamp(0, num_sentences - 1), num_sentences)
    entity_sentences = (one_hot * valid[..., None]).amax(2)  # (B, E, S)
    subject = gather_rows(entity_sentences, pair_indices[..., 0])
    obj = gather_rows(entity_sentences, pair_indices[..., 1])
    shared = (subject * obj).amax(-1, keepdim=True)
    return 2 * subject + obj + 4 * shared


def presence_log_odds(documents: Iterable[Mapping[str, Any]]) -> list[float]:
    """Log-odds that a sentence is evidence, for each presence class of [`pair_sentence_presence`].

    Counted over every sentence of every entity pair whose facts have evidence annotated (the pairs the evidence
    loss scores), with add-one smoothing: ``log((evidence + 1) / (other + 1))``.

    Args:
        documents: DocRED-format labelled documents (``vertexSet`` mentions with ``sent_id``; ``labels`` with
            ``evidence``).

    Returns:
        8 floats, indexed like the presence classes.

    Raises:
        ValueError: When no fact of ``documents`` has evidence.
    """
    evidence, other = [0] * 8, [0] * 8
    for document in documents:
        mentioned = [{mention["sent_id"] for mention in entity} for entity in document["vertexSet"]]
        pairs: dict[tuple[int, int], set[int]] = {}
        for label in document.get("labels") or ():
            sentences = {sentence for sentence in label.get("evidence") or () if sentence is not None}
            if sentences:
                pairs.setdefault((label["h"], label["t"]), set()).update(sentences)
        for (head, tail), sentences in pairs.items():
            shared = 4 * bool(mentioned[head] & mentioned[tail])
            for sentence in range(len(document["sents"])):
                presence = 2 * (sentence in mentioned[head]) + (sentence in mentioned[tail]) + shared
                (evidence if sentence in sentences else other)[presence] += 1
    if not any(evidence):
        raise ValueError("no fact of the documents has evidence sentences (labels[].evidence), so there is no "
                         "evidence prior to start from.")
    return [math.log((positive + 1) / (negative + 1)) for positive, negative in zip(evidence, other)]


class EvidenceScorer(nn.Module):
    """Scores every sentence of every pair as evidence (see the module docstring for the formula).

    Args:
        hidden_size: D, the backbone width (context, entity and sentence vectors).
        scorer_size: d, the width of the pair-sentence matching space.
    """

    def __init__(self, hidden_size: int, scorer_size: int) -> None:
        super().__init__()
        self.context_projection = nn.Linear(hidden_size, scorer_size)
        self.subject_projection = nn.Linear(hidden_size, scorer_size, bias=False)
        self.object_projection = nn.Linear(hidden_size, scorer_size, bias=False)
        self.sentence_projection = nn.Linear(hidden_size, scorer_size)
        self.presence_bias = nn.Embedding(8, 1)
        self.attention_weight = nn.Parameter(torch.ones(()))

    def reset_parameters_for_paee(self, initializer_range: float) -> None:
        """No prior on presence, DREEAM's attention signal at full weight (the linear layers get the normal init)."""
        nn.init.zeros_(self.presence_bias.weight)
        nn.init.ones_(self.attention_weight)

    @torch.no_grad()
    def set_presence_prior(self, log_odds: list[float]) -> None:
        """Start the presence bias at ``log_odds`` (8 values, from [`presence_log_odds`])."""
        if len(log_odds) != self.presence_bias.num_embeddings:
            raise ValueError(f"expected {self.presence_bias.num_embeddings} log-odds, got {len(log_odds)}.")
        self.presence_bias.weight.copy_(torch.tensor(log_odds, dtype=self.presence_bias.weight.dtype)[:, None])

    def forward(
        self,
        context: torch.Tensor,
        entities: torch.Tensor,
        pair_indices: torch.Tensor,
        sentences: torch.Tensor,
        sentence_mask: torch.Tensor,
        sentence_attention: torch.Tensor,
        presence: torch.Tensor,
    ) -> torch.Tensor:
        """Evidence logits.

        Args:
            context: ``(B, P, D)`` localized context of each pair (eq. 3 before W1).
            entities: ``(B, E, D)`` entity embeddings (eq. 2).
            pair_indices: ``(B, P, 2)``, ``-1`` = padding.
            sentences: ``(B, S, D)`` sentence embeddings.
            sentence_mask: ``(B, S)`` True for real sentences.
            sentence_attention: ``(B, P, S)`` the pair's attention mass on each sentence (a distribution over the
                tokens: at most 1 in total).
            presence: ``(B, P, S)`` from [`pair_sentence_presence`].

        Returns:
            ``(B, P, S)`` logits; padded sentences get a large negative logit.
        """
        subjects = gather_rows(self.subject_projection(entities), pair_indices[..., 0])
        objects = gather_rows(self.object_projection(entities), pair_indices[..., 1])
        queries = torch.tanh(self.context_projection(context) + subjects + objects)  # (B, P, d)
        keys = self.sentence_projection(sentences)  # (B, S, d)
        logits = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(queries.shape[-1])
        logits = logits + self.presence_bias(presence)[..., 0]
        # relative to the uniform 1 / n: an attention spread evenly over the n real sentences adds nothing
        sentence_count = sentence_mask.sum(-1).clamp(min=1)[:, None, None]
        relative_attention = sentence_attention.clamp(min=0) * sentence_count
        logits = logits + self.attention_weight * torch.log(relative_attention + 1e-6)
        return logits.masked_fill(~sentence_mask[:, None, :], _PADDING_LOGIT)


def evidence_loss(logits: torch.Tensor, targets: torch.Tensor, sentence_mask: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy over the real sentences of the pairs that have gold evidence.

    Args:
        logits: ``(B, P, S)`` from [`EvidenceScorer`].
        targets: ``(B, P, S)`` multi-hot gold evidence (union over the pair's facts); all-zero rows (NA pairs,
            facts without annotated evidence, padding) are not scored.
        sentence_mask: ``(B, S)`` True for real sentences.

    Returns:
        Scalar mean loss; 0 (with a gradient path) when no pair of the batch has evidence.
    """
    scored = (targets.amax(-1) > 0)[..., None] & sentence_mask[:, None, :]
    if not bool(scored.any()):
        return logits.sum() * 0.0
    return functional.binary_cross_entropy_with_logits(logits[scored].float(), targets[scored].float())
