"""Configuration of the PAEE model (Huang et al., "Document-Level Relation Extraction via Pair-Aware and
Entity-Enhanced Representation Learning").

This file ships with every checkpoint for ``trust_remote_code`` loading: it imports only torch/transformers.
"""

from __future__ import annotations

import difflib
from typing import Any, ClassVar, Literal

from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

#: DocRED's entity types (ner2id.json without the BLANK padding type).
DOCRED_ENTITY_TYPES = ["ORG", "LOC", "TIME", "PER", "MISC", "NUM"]
#: The pipeline task of PAEE checkpoints.
PIPELINE_TASK = "document-relation-extraction"

_CHOICES: dict[str, tuple[Any, ...]] = {
    "marker_style": ("asterisk", "entity_tags"),
    "entity_ordering": ("first_mention", "as_given"),
    "attention_mode": ("last_layer", "eager"),
    "context_normalization": ("sum", "softmax"),
    "filling": ("sliding", "zero"),
    "pair_encoder": ("tnet", "unet", "none"),
    "ppp_feature": ("hard", "soft"),
    "relation_loss": ("adaptive_softmax", "atlop"),
    "head_init": ("normal", "pytorch"),
}
_POSITIVE_INTS = (
    "matrix_size",
    "re_encoder_layers",
    "max_sentences",
    "ppp_embedding_size",
    "ppp_pool_size",
    "tnet_window_size",
    "tnet_window_stride",
    "tnet_coarse_pool",
    "unet_base_channels",
    "unet_depth",
    "evidence_hidden_size",
    "max_mention_width",
    "entity_head_hidden_size",
)
_OPTIONAL_POSITIVE_INTS = (
    "pair_channels",
    "classifier_hidden_size",
    "bilinear_block_size",
    "re_encoder_heads",
    "max_labels_per_pair",
    "window_size",
    "window_stride",
    "tnet_top_k",
    "pair_chunk_size",
)
_BOOLS = ("use_par", "use_eer", "use_ppp", "prune_pairs", "use_evidence", "evidence_guidance", "entity_heads",
          "nested_mentions")


class PaeeConfig(PreTrainedConfig):
    r"""Configuration of [`PaeeForDocumentRelationExtraction`].

    Relation labels follow the ATLOP convention: index 0 of ``id2label`` is the threshold / "no relation" class
    (``"Na"`` in DocRED), indices ``1..num_labels-1`` are the relations. Entity types are a list whose index is the
    type id used by the featurizer.

    Args:
        encoder_config: The backbone's config (any ``AutoModel`` architecture); a dict with ``model_type`` or a
            [`PreTrainedConfig`]. Defaults to ``bert-base``'s shape.
        entity_types: Entity-type vocabulary (index = type id). Defaults to DocRED's six types.
        relation_names: Optional readable name of each relation label (e.g. ``{"P17": "country"}``), for
            predictions and model cards.
        marker_style: ``"asterisk"`` puts a ``*`` token before and after every mention (ATLOP, every vocabulary has
            it); ``"entity_tags"`` uses the paper's ``<e>``/``</e>`` added as special tokens (embeddings resized).
        entity_ordering: The order of the entities in the pair matrix V: ``"first_mention"`` (paper section 2: by
            each entity's first mention, sentence then word) or ``"as_given"`` (the data's ``vertexSet`` order, as
            before; for measuring what the order does). Outputs use the caller's entity indices either way.
        window_size: Tokens per encoder window for long documents (eq. 1's "dynamic window"); ``None`` = the
            backbone's maximum positions.
        window_stride: Document tokens between the starts of consecutive windows; ``None`` = three quarters of a
            window's content (a quarter overlaps).
        document_start_token_ids, document_end_token_ids: The special tokens the tokenizer puts around a document
            (e.g. ``[CLS]``/``[SEP]``, ``<s>``/``</s>``), repeated around every window; ``None`` = the first and last
            token of the first document of the batch. ``from_encoder`` fills them from the tokenizer.
        attention_mode: How the last layer's attention for eq. 3 is obtained: ``"last_layer"`` keeps sdpa on every
            layer and computes probabilities for the mention rows of the last layer only; ``"eager"`` is the ATLOP way
            (eager attention everywhere with ``output_attentions=True``), kept for comparison.
        context_normalization: Eq. 3 writes ``softmax(sum_i A_i^s * A_i^o)``; products of two attention probabilities
            are ~1/L^2, so a literal softmax is almost uniform. ``"sum"`` (default) renormalises the product to sum to
            one as ATLOP does, on which the paper builds; ``"softmax"`` is the literal reading.
        use_par: Pair-Aware Representation (section 2.2). Off = ATLOP's localized context in the classifier.
        use_eer: Entity-Enhanced Representation (section 2.3). Off = entity embeddings go straight to eq. 8.
        use_ppp: Potential Pair Prediction (eq. 5) inside PAR.
        filling: ``"sliding"`` (periodic tiling of the n x n pair window, section 2.2) or ``"zero"`` (the ablation).
        pair_encoder: ``"tnet"`` (multi-scale hard attention, eq. 4), ``"unet"`` (DocuNet-style) or ``"none"``.
        matrix_size: N, the side of the pair canvas (42 for DocRED); it grows when a document has more entities.
        pair_channels: D', channels of the pair map after W2 (eq. 4); ``None`` = a third of the backbone's hidden
            size, rounded down to a multiple of 8 (256 for BERT-base; the paper gives no size).
        ppp_threshold: lambda of eq. 5 (0.3).
        ppp_feature: What is concatenated to Y (eq. 5): ``"hard"`` 0/1 tag (the paper) or ``"soft"`` probability.
        ppp_pool_size: Side of the average-pooling neighbourhood that gives P_pair per pair (eq. 5).
        ppp_embedding_size: Size of the pos / subject-type / object-type embeddings fed to kappa (eq. 5).
        prune_pairs: At inference, pairs whose PPP probability is below ``prune_threshold`` skip relation
            classification and are predicted NA.
        prune_threshold: PPP probability a pair needs to be classified when ``prune_pairs`` is on; ``None`` = lambda
            (``ppp_threshold``). A lower value keeps more of the relational pairs without changing the model (lambda
            also sets the 0/1 tag of eq. 5 that the classifier reads).
        re_encoder_layers: Layers of the Representation-Enhanced Encoder (eq. 6).
        re_encoder_heads: Its attention heads; ``None`` = the backbone's.
        max_sentences: Size of the sentence position embedding table (eq. 6).
        classifier_hidden_size: d of eq. 8; ``None`` = the backbone's hidden size (768 for BERT-base, as ATLOP).
        bilinear_block_size: Block size of the grouped bilinear classifier (ATLOP); must divide d. ``None`` = 64 for
            d >= 768 (ATLOP's), else the largest power of two up to d / 12 that divides d (32 for MiniLM's 384).
        max_labels_per_pair: At most this many relations decoded per pair (``None`` = no cap; 4 for DocRED).
        relation_loss: ``"adaptive_softmax"`` is eq. 9; ``"atlop"`` is ATLOP's adaptive-thresholding loss (equal
            for pairs with one relation).
        relation_loss_weight: alpha of eq. 12.
        pair_loss_weight: beta of eq. 12.
        cross_matching_loss_weight: gamma of eq. 12.
        tnet_window_size, tnet_window_stride, tnet_top_k, tnet_coarse_pool: TNet pair encoder (see ``tnet.py``);
            ``tnet_top_k=None`` refines every window.
        unet_base_channels, unet_depth: U-Net pair encoder.
        pair_chunk_size: Pairs processed at once in the localized context (eq. 3) and the classifier (eq. 8), so
            that memory stops growing with n^2 (the same logits; at 200 entities inference peak memory drops from
            8 GiB to 0.5 GiB, see benchmarks/RESULTS.md). ``None`` = all pairs at once.
        use_evidence: Score every sentence of every entity pair as evidence (see ``evidence.py``); predicted facts
            then carry ``"evidence"`` sentence ids. Off = the model without the evidence scorer, unchanged.
        evidence_guidance: Let the evidence loss train the shared representations (the pair attention of eq. 3, the
            token states) as DREEAM does. Off = the evidence scorer learns from detached inputs, so relation scores
            are exactly those of the model without evidence (evidence prediction only).
        evidence_loss_weight: Weight of the evidence loss added to eq. 12.
        evidence_threshold: Evidence probability a sentence needs to be given as evidence (overridable per call).
        evidence_hidden_size: Width of the pair-sentence matching space of the evidence scorer.
        initializer_range: Std of the normal init of the PAEE heads.
        head_init: ``"normal"`` initialises every head layer from normal(0, ``initializer_range``) (transformers'
            convention); ``"pytorch"`` leaves the heads' linear layers at PyTorch's default (kaiming-uniform, about
            eight times smaller for the grouped bilinear), as ATLOP does: with ``use_par=False, use_eer=False,
            relation_loss="atlop"`` the model is then ATLOP from its loss to its initial weights.
        entity_heads: Add the joint entity heads (see ``entity_heads.py``): a typed span mention detector and a
            mention-pair coreference scorer over the backbone's states of the plain text (no markers), trained with
            the relation losses from the same DocRED-format annotations; ``model.detect_entities(texts)`` uses them.
            Off: the model and its checkpoints are exactly those without the heads.
        mention_loss_weight: Weight of the mention detector's loss in the total loss.
        mention_positive_weight: Weight of a mention against a candidate span that is none in the mention loss (about
            1% of the candidates are mentions; 10 learns several times faster than 1, see ``entity_heads.py``).
        coreference_loss_weight: Weight of the coreference scorer's loss in the total loss.
        max_mention_width: Longest mention the detector can find, in words. 16 covers every mention of Re-DocRED dev
            and DWIE dev (the longest has 14 words in both).
        mention_threshold: A span is a mention when its probability of being one (``1 - P(no entity)``) reaches it.
        coreference_threshold: Two clusters merge when every pair of their mentions scores at least this
            (complete linkage).
        nested_mentions: Keep detected spans nested inside other detected spans. Off (the default), overlapping
            detections are resolved to the better-scored span; ``paee train`` turns it on when at least 1% of the
            training mentions are nested (Re-DocRED dev: 0.3%, DWIE dev: 0.04%).
        entity_head_hidden_size: Width of the span and mention-pair representations of the entity heads.
    """

    model_type = "paee"
    sub_configs_defaults: ClassVar = {"encoder_config": SubConfigSpec(config_class=AutoConfig, model_type="bert")}

    encoder_config: dict | PreTrainedConfig | None = None
    entity_types: list[str] | None = None
    relation_names: dict[str, str] | None = None
    marker_style: Literal["asterisk", "entity_tags"] = "asterisk"
    entity_ordering: Literal["first_mention", "as_given"] = "first_mention"
    window_size: int | None = None
    window_stride: int | None = None
    document_start_token_ids: list[int] | None = None
    document_end_token_ids: list[int] | None = None
    attention_mode: Literal["last_layer", "eager"] = "last_layer"
    context_normalization: Literal["sum", "softmax"] = "sum"
    use_par: bool = True
    use_eer: bool = True
    use_ppp: bool = True
    filling: Literal["sliding", "zero"] = "sliding"
    pair_encoder: Literal["tnet", "unet", "none"] = "tnet"
    matrix_size: int = 42
    pair_channels: int | None = None
    ppp_threshold: float = 0.3
    ppp_feature: Literal["hard", "soft"] = "hard"
    ppp_pool_size: int = 3
    ppp_embedding_size: int = 32
    prune_pairs: bool = False
    prune_threshold: float | None = None
    re_encoder_layers: int = 2
    re_encoder_heads: int | None = None
    max_sentences: int = 512
    classifier_hidden_size: int | None = None
    bilinear_block_size: int | None = None
    max_labels_per_pair: int | None = None
    relation_loss: Literal["adaptive_softmax", "atlop"] = "adaptive_softmax"
    relation_loss_weight: float = 1.0
    pair_loss_weight: float = 1.0
    cross_matching_loss_weight: float = 1.0
    tnet_window_size: int = 14
    tnet_window_stride: int = 7
    tnet_top_k: int | None = 4
    tnet_coarse_pool: int = 2
    unet_base_channels: int = 64
    unet_depth: int = 2
    pair_chunk_size: int | None = 128
    use_evidence: bool = False
    evidence_guidance: bool = True
    evidence_loss_weight: float = 0.1
    evidence_threshold: float = 0.5
    evidence_hidden_size: int = 256
    initializer_range: float = 0.02
    head_init: Literal["normal", "pytorch"] = "normal"
    entity_heads: bool = False
    mention_loss_weight: float = 1.0
    mention_positive_weight: float = 10.0
    coreference_loss_weight: float = 1.0
    max_mention_width: int = 16
    mention_threshold: float = 0.5
    coreference_threshold: float = 0.5
    nested_mentions: bool = False
    entity_head_hidden_size: int = 256

    #: True once ``import paee_hf`` has registered the pipeline task (never in a checkpoint's remote-code copy).
    pipeline_installed = False

    def __post_init__(self, **kwargs: Any) -> None:
        _reject_misspelled_fields(kwargs)
        super().__post_init__(**kwargs)
        if type(self).pipeline_installed:
            # transformers insists on trust_remote_code for any task a config lists in custom_pipelines, even when
            # the same pipeline is registered locally; the installed package's copy serves the task instead.
            # save_pretrained writes the entry again, for users without the package.
            listed = getattr(self, "custom_pipelines", None) or {}
            self.custom_pipelines = {task: spec for task, spec in listed.items() if task != PIPELINE_TASK}
        if self.entity_types is None:
            self.entity_types = list(DOCRED_ENTITY_TYPES)
        self._size_heads_to_the_backbone()
        if self.label2id is None or len(self.label2id) != len(self.id2label):
            self.label2id = {label: index for index, label in self.id2label.items()}
        self._validate()

    def _size_heads_to_the_backbone(self) -> None:
        """Fill the head sizes the paper leaves open from the backbone's width (saved resolved, so a checkpoint
        never changes shape when these rules change)."""
        hidden_size = self.encoder_config.hidden_size
        if self.classifier_hidden_size is None:
            self.classifier_hidden_size = hidden_size
        if self.bilinear_block_size is None:
            width = self.classifier_hidden_size
            block = 64 if width >= 768 else 1 << max(0, int(width / 12).bit_length() - 1)
            while width % block:
                block //= 2
            self.bilinear_block_size = block
        if self.pair_channels is None:
            self.pair_channels = max(8, hidden_size // 3 // 8 * 8)

    @property
    def relation_labels(self) -> list[str]:
        """Relation names in id order, without the threshold/NA class at index 0."""
        return [self.id2label[index] for index in range(1, self.num_labels)]

    @property
    def num_relations(self) -> int:
        """Number of real relations (N_c of eq. 7), i.e. ``num_labels - 1``."""
        return self.num_labels - 1

    def _validate(self) -> None:
        for field, allowed in _CHOICES.items():
            if getattr(self, field) not in allowed:
                raise ValueError(f"PaeeConfig.{field}={getattr(self, field)!r} is not valid; choose one of {allowed}.")
        for field in _BOOLS:
            if not isinstance(getattr(self, field), bool):
                raise ValueError(f"PaeeConfig.{field} must be True or False, got {getattr(self, field)!r}.")
        for field in _POSITIVE_INTS:
            _check_positive_int(field, getattr(self, field))
        for field in _OPTIONAL_POSITIVE_INTS:
            if getattr(self, field) is not None:
                _check_positive_int(field, getattr(self, field), optional=True)
        if not 0.0 < self.ppp_threshold < 1.0:
            raise ValueError(f"PaeeConfig.ppp_threshold must lie in (0, 1), got {self.ppp_threshold!r} (paper: 0.3).")
        if self.prune_threshold is not None and not 0.0 < self.prune_threshold < 1.0:
            raise ValueError(
                f"PaeeConfig.prune_threshold must lie in (0, 1) or be None (= ppp_threshold), got "
                f"{self.prune_threshold!r}."
            )
        if not 0.0 < self.evidence_threshold < 1.0:
            raise ValueError(f"PaeeConfig.evidence_threshold must lie in (0, 1), got {self.evidence_threshold!r}.")
        for field in ("mention_threshold", "coreference_threshold"):
            if isinstance(getattr(self, field), bool) or not isinstance(getattr(self, field), (int, float)) or not (
                0.0 < getattr(self, field) < 1.0
            ):
                raise ValueError(f"PaeeConfig.{field} must lie in (0, 1), got {getattr(self, field)!r} (default 0.5).")
        for field in ("relation_loss_weight", "pair_loss_weight", "cross_matching_loss_weight", "mention_loss_weight",
                      "coreference_loss_weight", "evidence_loss_weight"):
            if not isinstance(getattr(self, field), (int, float)) or getattr(self, field) < 0:
                raise ValueError(f"PaeeConfig.{field} must be a number >= 0, got {getattr(self, field)!r}.")
        weight = self.mention_positive_weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise ValueError(f"PaeeConfig.mention_positive_weight must be a number > 0, got {weight!r} (default 10).")
        if self.classifier_hidden_size % self.bilinear_block_size:
            raise ValueError(
                f"PaeeConfig.bilinear_block_size={self.bilinear_block_size} must divide "
                f"classifier_hidden_size={self.classifier_hidden_size}, e.g. bilinear_block_size=64 with 768."
            )
        if self.num_labels < 2:
            raise ValueError(
                "PaeeConfig.id2label needs the threshold/NA class at index 0 and at least one relation, "
                f"got {self.id2label!r}; e.g. id2label={{0: 'Na', 1: 'P17'}}."
            )
        if sorted(self.id2label) != list(range(self.num_labels)):
            raise ValueError(f"PaeeConfig.id2label keys must be 0..{self.num_labels - 1}, got {sorted(self.id2label)}.")
        unknown_names = sorted(set(self.relation_names or {}) - set(self.label2id))
        if unknown_names:
            raise ValueError(f"PaeeConfig.relation_names has labels that id2label lacks: {unknown_names[:5]}.")
        if not self.entity_types or len(set(self.entity_types)) != len(self.entity_types):
            raise ValueError(
                f"PaeeConfig.entity_types must be a non-empty list of distinct names, got {self.entity_types!r}."
            )
        hidden_size = self.encoder_config.hidden_size
        heads = self.re_encoder_heads or self.encoder_config.num_attention_heads
        if hidden_size % heads:
            raise ValueError(
                f"PaeeConfig.re_encoder_heads={heads} must divide the backbone hidden size {hidden_size}."
            )


def _check_positive_int(field: str, value: Any, optional: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        hint = " or None" if optional else ""
        raise ValueError(f"PaeeConfig.{field} must be an integer >= 1{hint}, got {value!r}.")


def _reject_misspelled_fields(kwargs: dict[str, Any]) -> None:
    """Unknown keys are allowed (transformers passes bookkeeping keys), but a near-miss of a PAEE field is a typo."""
    own_fields = [name for name in PaeeConfig.__annotations__ if not name.startswith("_")]
    for key in kwargs:
        close = difflib.get_close_matches(key, own_fields, n=1, cutoff=0.85)
        if close and key not in own_fields:
            raise ValueError(f"PaeeConfig got an unknown field {key!r}; did you mean {close[0]!r}?")
