"""PAEE training losses (paper appendix A.1, eq. 9-12). Pure functions over already-selected rows."""

from __future__ import annotations

import torch
import torch.nn.functional as F

_LARGE = 1e4  # masks logits out of a logsumexp; finite so fp16/bf16 stay finite


def adaptive_softmax_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Eq. 9: ``log(e^{s_TH} + sum_neg e^{s_i}) + log(e^{-s_TH} + sum_pos e^{-s_i})``, averaged over pairs.

    Column 0 is the learned threshold class TH. A pair without relation (only column 0 set) has no positive class,
    so its second term is ``-s_TH`` and the loss reduces to ``log(1 + sum_neg e^{s_i - s_TH})``.

    Args:
        logits: ``(P, C)`` relation scores of P pairs, column 0 = TH.
        labels: ``(P, C)`` multi-hot targets, column 0 = 1 for NA pairs.

    Returns:
        Scalar loss (0 when P = 0).
    """
    if logits.shape[0] == 0:
        return logits.sum() * 0.0
    logits = logits.float()
    positive = labels[:, 1:].bool()
    threshold = logits[:, :1]
    relation_logits = logits[:, 1:]
    negative_term = torch.logsumexp(torch.cat([threshold, relation_logits.masked_fill(positive, -_LARGE)], 1), 1)
    positive_term = torch.logsumexp(torch.cat([-threshold, (-relation_logits).masked_fill(~positive, -_LARGE)], 1), 1)
    return (negative_term + positive_term).mean()


def atlop_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """ATLOP's adaptive-thresholding loss (Zhou et al., 2021): positives above TH, TH above negatives.

    Equal to eq. 9 for pairs with at most one relation; it differs only in how several positives share one softmax.

    Args:
        logits: ``(P, C)``, column 0 = TH.
        labels: ``(P, C)`` multi-hot, column 0 = 1 for NA pairs.

    Returns:
        Scalar loss (0 when P = 0).
    """
    if logits.shape[0] == 0:
        return logits.sum() * 0.0
    logits = logits.float()
    labels = labels.float().clone()
    threshold_label = torch.zeros_like(labels)
    threshold_label[:, 0] = 1.0
    labels[:, 0] = 0.0
    positive_mask = labels + threshold_label
    negative_mask = 1 - labels
    positive_logits = logits - (1 - positive_mask) * _LARGE
    loss_positive = -(F.log_softmax(positive_logits, dim=-1) * labels).sum(1)
    negative_logits = logits - (1 - negative_mask) * _LARGE
    loss_threshold = -(F.log_softmax(negative_logits, dim=-1) * threshold_label).sum(1)
    return (loss_positive + loss_threshold).mean()


def potential_pair_loss(pair_logits: torch.Tensor, pair_targets: torch.Tensor) -> torch.Tensor:
    """Eq. 10: binary cross-entropy of Potential Pair Prediction over the n_p pairs.

    Args:
        pair_logits: ``(P,)`` logits of kappa (eq. 5).
        pair_targets: ``(P,)`` 1 where the pair holds at least one relation.
    """
    if pair_logits.numel() == 0:
        return pair_logits.sum() * 0.0
    return F.binary_cross_entropy_with_logits(pair_logits.float(), pair_targets.float())


def cross_matching_loss(role_logits: torch.Tensor, role_targets: torch.Tensor) -> torch.Tensor:
    """Eq. 11 for one role (subject or object): BCE averaged over n_e entities x n_c relations.

    Args:
        role_logits: ``(n_e, n_c)`` logits of F_sub or F_obj (eq. 7).
        role_targets: ``(n_e, n_c)`` 1 where the entity is that role of the relation in some pair.
    """
    if role_logits.numel() == 0:
        return role_logits.sum() * 0.0
    return F.binary_cross_entropy_with_logits(role_logits.float(), role_targets.float())
