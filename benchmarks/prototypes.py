"""Candidate model changes, measured here before they are proposed for ``paee_hf`` (the package is not edited).

Each prototype patches one model *instance* (other variants in the same process keep the package's code) and is
written the way the change would read in ``modeling_paee.py``, so a measured gain carries over.
"""

from __future__ import annotations

import types
from collections.abc import Callable

import torch

from paee_hf import PaeeForDocumentRelationExtraction
from paee_hf.modeling_paee import _PRUNED_LOGIT

#: Selected pairs per classifier call in :func:`chunk_classifier` when ``pair_chunk_size`` is not set: the grouped
#: bilinear's ``(pairs, d * block)`` intermediate is then at most 512 x 768 x 64 floats = 96 MiB in float32 instead
#: of growing with n^2 (39,800 pairs at 200 entities: 7.3 GiB).
CLASSIFIER_CHUNK_PAIRS = 512


def _chunked_classify(
    self: PaeeForDocumentRelationExtraction,
    subjects: torch.Tensor,
    objects: torch.Tensor,
    pair_features: torch.Tensor,
    pair_indices: torch.Tensor,
    selected: torch.Tensor,
) -> torch.Tensor:
    """``PaeeForDocumentRelationExtraction._classify`` over chunks of the selected pairs (same result)."""
    chunk = self.config.pair_chunk_size or CLASSIFIER_CHUNK_PAIRS
    batch_size, num_pairs = selected.shape
    logits = pair_features.new_full((batch_size, num_pairs, self.config.num_labels), _PRUNED_LOGIT)
    logits[..., 0] = 0.0
    batch_index, pair_index = selected.nonzero(as_tuple=True)
    scores = []
    for start in range(0, batch_index.numel(), chunk):
        rows, pairs = batch_index[start : start + chunk], pair_index[start : start + chunk]
        scores.append(
            self.classifier(
                subjects[rows, pair_indices[rows, pairs, 0]],
                objects[rows, pair_indices[rows, pairs, 1]],
                pair_features[rows, pairs],
            )
        )
    if not scores:
        return logits
    return logits.index_put((batch_index, pair_index), torch.cat(scores).to(logits.dtype))


def chunk_classifier(model: PaeeForDocumentRelationExtraction) -> None:
    """Run eq. 8 on at most ``pair_chunk_size`` (else :data:`CLASSIFIER_CHUNK_PAIRS`) pairs at a time.

    Bounds inference memory at many entities; under autograd every chunk's intermediates are kept for backward,
    so training memory does not change.
    """
    model._classify = types.MethodType(_chunked_classify, model)


#: Variant name -> instance patches applied after construction (see :data:`benchmarks.models.VARIANTS`).
PROTOTYPES: dict[str, list[Callable[[PaeeForDocumentRelationExtraction], None]]] = {
    "paee_chunked": [chunk_classifier],
}
