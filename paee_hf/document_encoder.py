"""Document encoder: any-length documents through an ``AutoModel`` backbone, plus last-layer attention rows.

PAEE (like ATLOP) needs two things from the backbone (paper section 2.1, eq. 1-3):

* ``H``, the last layer's hidden states of every token (eq. 1-2: mention and entity embeddings);
* ``A``, the last layer's attention probabilities of the mention-start rows only (eq. 3: the entity-pair context).

**Last-layer attention without eager attention everywhere.** In transformers 5, ``output_attentions=True`` returns
nothing under sdpa, and eager attention on every layer is slow and materialises (B, H, L, L) per layer. Instead the
backbone is switched to the attention implementation ``"paee_sdpa"`` (registered in ``transformers.AttentionInterface``
together with sdpa's mask function in ``AttentionMaskInterface``; without the latter the padding mask is silently
dropped). It runs plain sdpa for every layer and, while :func:`encode_document` is running, keeps a reference to the
query, key and mask of the latest call. Layers run in order, so after the backbone returns the recording is the last
layer's; the probabilities ``softmax(Q_rows K^T * scaling + mask)`` are then computed for the requested rows only, in
float32. Padding columns are exactly 0, as in eager attention. The probabilities are taken *before* attention dropout
(eager's ``output_attentions`` returns them after dropout; with the usual ``attention_probs_dropout_prob`` > 0 the two
differ in training only).

``_attn_implementation`` is not serialised by ``save_pretrained``, so a saved backbone config loads without this
package (back to sdpa). Backbones whose class does not route attention through ``AttentionInterface`` (e.g. MPNet,
DeBERTa in transformers 5.24) fall back to eager attention with ``output_attentions=True`` and the last layer's rows
are taken from its output; ``attention_mode="eager"`` does that on purpose (the ATLOP way, kept for benchmarks).

**Long documents.** Inputs arrive as ``[start specials] document tokens [end specials]`` plus right padding. When the
padded length exceeds ``window_size`` the document tokens are cut into windows of ``window_size - len(start) -
len(end)`` tokens every ``window_stride`` tokens (the last window is aligned to the document end), each wrapped in the
special tokens; all windows of the batch run through the backbone in one stacked call. Hidden states are averaged where
windows overlap; the original special tokens take the first (start) and last (end) window's states, the inner windows'
special tokens are dropped. A requested row's attention is averaged over the windows containing its token, with keys
re-indexed to document positions (mass on dropped special tokens is removed), then each head's row is renormalised to
sum to 1.

Dtypes: probabilities are computed in float32 (autocast disabled for that step) and both outputs are returned in the
hidden states' dtype (float32 under autocast, bf16/fp16 for a model cast to half precision).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

import torch
from transformers import AttentionInterface, PreTrainedConfig, PreTrainedModel
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
from transformers.utils import logging

logger = logging.get_logger(__name__)

LAST_LAYER_ATTENTION = "paee_sdpa"
"""Name of the attention implementation registered by this module (sdpa + last-layer row probabilities)."""

AttentionMode = Literal["last_layer", "eager"]
ATTENTION_MODES: tuple[str, ...] = ("last_layer", "eager")

# Model types whose position ids start at padding_idx + 1 (RoBERTa-style), so max_position_embeddings counts
# pad_token_id + 1 positions that no token can use.
_PADDING_OFFSET_MODEL_TYPES = frozenset(
    {
        "roberta",
        "xlm-roberta",
        "xlm-roberta-xl",
        "camembert",
        "roberta-prelayernorm",
        "data2vec-text",
        "mpnet",
        "longformer",
        "luke",
        "ibert",
        "xmod",
        "markuplm",
        "layoutlmv3",
        "lilt",
    }
)

# Backbone classes found not to accept LAST_LAYER_ATTENTION, so the switch is not retried on every forward.
_CLASSES_WITHOUT_INTERFACE: set[type] = set()


@dataclass
class EncodedDocument:
    """Output of :func:`encode_document`.

    Attributes:
        hidden_states: (B, L, D) last-layer hidden states. In the windowed path, padding positions are 0.
        row_attentions: (B, H, R, L) last-layer attention probabilities of the requested rows over all tokens, each
            head's row summing to 1 over the document's tokens (0 on padding columns); rows requested as -1 are all 0.
    """

    hidden_states: torch.Tensor
    row_attentions: torch.Tensor


@dataclass
class _LastLayerRecording:
    """What the latest call of the attention function saw; after the backbone's forward, the last layer's."""

    calls: int = 0
    query: torch.Tensor | None = None  # (N, H, L, d)
    key: torch.Tensor | None = None  # (N, H, L, d)
    mask: torch.Tensor | None = None  # bool (N, 1, L, L) from sdpa_mask, or None when nothing is padded
    scaling: float | None = None


_ACTIVE_RECORDING: ContextVar[_LastLayerRecording | None] = ContextVar("paee_last_layer_recording", default=None)


def last_layer_sdpa_attention_forward(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """Attention function registered as ``"paee_sdpa"``: sdpa, and a reference to query/key/mask while recording.

    Args:
        module: The calling attention module (e.g. ``BertSelfAttention``).
        query: (N, H, L, d). key, value: (N, H, L, d).
        attention_mask: Boolean (N, 1, L, L) mask from ``sdpa_mask`` (True = attend) or None.
        **kwargs: Passed on to transformers' ``sdpa_attention_forward`` (``scaling``, ``dropout``, ...).

    Returns:
        sdpa's ``(attn_output (N, L, H, d), None)``.

    Raises:
        ValueError: when recording and the call uses a feature the row recomputation does not reproduce.
    """
    recording = _ACTIVE_RECORDING.get()
    if recording is not None:
        is_causal = kwargs.get("is_causal")
        is_causal = getattr(module, "is_causal", False) if is_causal is None else is_causal
        unsupported = [
            name
            for name, used in (
                ("position_bias", kwargs.get("position_bias") is not None),
                ("grouped key/value heads", getattr(module, "num_key_value_groups", 1) > 1),
                ("causal attention without a mask", bool(is_causal) and attention_mask is None),
            )
            if used
        ]
        if unsupported:
            raise ValueError(
                f"attention_mode='last_layer': {type(module).__name__} uses {', '.join(unsupported)}, which the "
                "last-layer attention recomputation does not reproduce; use attention_mode='eager' for this backbone."
            )
        recording.calls += 1
        recording.query, recording.key, recording.mask = query, key, attention_mask
        recording.scaling = kwargs.get("scaling")
    return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)


def register_last_layer_attention() -> None:
    """Register ``"paee_sdpa"`` (attention function and sdpa's mask function); idempotent."""
    AttentionInterface.register(LAST_LAYER_ATTENTION, last_layer_sdpa_attention_forward)
    AttentionMaskInterface.register(LAST_LAYER_ATTENTION, sdpa_mask)


register_last_layer_attention()


def enable_last_layer_attention(backbone: PreTrainedModel) -> None:
    """Switch ``backbone`` to ``"paee_sdpa"`` (idempotent); eager attention when its class cannot use it.

    The fallback (classes that do not call ``AttentionInterface``, or do not support sdpa) sets eager attention, and
    :func:`encode_document` then reads the last layer's rows from ``output_attentions``.
    """
    register_last_layer_attention()
    if backbone.config._attn_implementation == LAST_LAYER_ATTENTION:
        return
    if type(backbone) not in _CLASSES_WITHOUT_INTERFACE:
        try:
            backbone.set_attn_implementation(LAST_LAYER_ATTENTION)
        except (ValueError, ImportError) as error:  # raised when the class does not support sdpa
            logger.info(f"{type(backbone).__name__} cannot run {LAST_LAYER_ATTENTION!r}: {error}")
        if backbone.config._attn_implementation == LAST_LAYER_ATTENTION:
            return
        _CLASSES_WITHOUT_INTERFACE.add(type(backbone))
        logger.warning(
            f"{type(backbone).__name__} does not route attention through transformers' AttentionInterface with sdpa: "
            "falling back to eager attention with output_attentions=True for the last layer's attention rows."
        )
    if backbone.config._attn_implementation != "eager":
        backbone.set_attn_implementation("eager")


def set_attention_mode(backbone: PreTrainedModel, attention_mode: AttentionMode) -> None:
    """Put ``backbone`` in the attention implementation ``attention_mode`` needs (idempotent, cheap when set).

    Args:
        backbone: The ``AutoModel`` backbone.
        attention_mode: ``"last_layer"`` (sdpa everywhere, see :func:`enable_last_layer_attention`) or ``"eager"``
            (eager attention on every layer, the ATLOP way).
    """
    if attention_mode not in ATTENTION_MODES:
        raise ValueError(f"attention_mode must be one of {ATTENTION_MODES}, got {attention_mode!r}.")
    if attention_mode == "last_layer":
        enable_last_layer_attention(backbone)
    elif backbone.config._attn_implementation != "eager":
        backbone.set_attn_implementation("eager")


def default_window_size(backbone_config: PreTrainedConfig) -> int:
    """Longest token sequence the backbone's position embeddings accept (512 for BERT and RoBERTa shapes).

    RoBERTa-style models start positions at ``pad_token_id + 1``, so e.g. RoBERTa's 514 positions hold 512 tokens.

    Raises:
        ValueError: when the config has no ``max_position_embeddings``.
    """
    max_positions = getattr(backbone_config, "max_position_embeddings", None)
    if not isinstance(max_positions, int):
        raise ValueError(
            f"backbone_config ({backbone_config.model_type}) has no integer max_position_embeddings: "
            "pass window_size explicitly."
        )
    offset = 0
    if backbone_config.model_type in _PADDING_OFFSET_MODEL_TYPES:
        offset = (backbone_config.pad_token_id or 0) + 1
    return max_positions - offset


def encode_document(
    backbone: PreTrainedModel,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    attention_rows: torch.Tensor,
    *,
    window_size: int,
    window_stride: int,
    start_token_ids: list[int],
    end_token_ids: list[int],
    attention_mode: AttentionMode = "last_layer",
) -> EncodedDocument:
    """Encode a batch of documents of any length; return hidden states and the requested attention rows.

    Args:
        backbone: An ``AutoModel`` encoder, owned by the caller (switched to ``attention_mode``'s implementation).
        input_ids: (B, L) ``[start specials] tokens [end specials]`` per document, right-padded.
        attention_mask: (B, L) 1 for tokens, 0 for padding.
        attention_rows: (B, R) token indices whose last-layer attention is wanted (mention starts); -1 = padding.
        window_size: Most tokens per backbone call, specials included (see :func:`default_window_size`).
        window_stride: Document tokens between the starts of consecutive windows (< window content = overlap).
        start_token_ids: Special tokens the tokenizer puts before a document (e.g. ``[CLS]``, ``<s>``).
        end_token_ids: Special tokens after a document (e.g. ``[SEP]``, ``</s>``).
        attention_mode: ``"last_layer"`` (sdpa on every layer) or ``"eager"`` (ATLOP's eager + output_attentions).

    Returns:
        :class:`EncodedDocument` with hidden_states (B, L, D) and row_attentions (B, H, R, L).

    Raises:
        ValueError: naming the argument, for mismatched shapes, rows outside a document, invalid window settings,
            or (long documents) inputs not framed by the given special tokens.
    """
    _check_inputs(input_ids, attention_mask, attention_rows)
    _check_window_settings(backbone.config, window_size, window_stride, start_token_ids, end_token_ids)
    set_attention_mode(backbone, attention_mode)
    if input_ids.shape[1] <= window_size:
        hidden_states, row_attentions = _run_backbone(backbone, input_ids, attention_mask, attention_rows)
        return EncodedDocument(hidden_states, row_attentions.to(hidden_states.dtype))
    return _encode_in_windows(
        backbone, input_ids, attention_mask, attention_rows, window_size, window_stride, start_token_ids, end_token_ids
    )


def _check_inputs(input_ids: torch.Tensor, attention_mask: torch.Tensor, attention_rows: torch.Tensor) -> None:
    """Shapes, dtypes and row indices of :func:`encode_document`'s tensors."""
    if input_ids.dim() != 2:
        raise ValueError(f"input_ids must be (batch, length), got shape {tuple(input_ids.shape)}.")
    if attention_mask.shape != input_ids.shape:
        raise ValueError(
            f"attention_mask has shape {tuple(attention_mask.shape)} but input_ids has {tuple(input_ids.shape)}: "
            "pad both to the same (batch, length)."
        )
    if attention_rows.dim() != 2 or attention_rows.shape[0] != input_ids.shape[0]:
        raise ValueError(
            f"attention_rows must be (batch, rows) with batch {input_ids.shape[0]} like input_ids, "
            f"got shape {tuple(attention_rows.shape)}."
        )
    if attention_rows.dtype.is_floating_point or attention_rows.dtype == torch.bool:
        raise ValueError(f"attention_rows must hold integer token indices, got dtype {attention_rows.dtype}.")
    length = input_ids.shape[1]
    out_of_range = (attention_rows < -1) | (attention_rows >= length)
    if out_of_range.any():
        document, row = out_of_range.nonzero()[0].tolist()
        raise ValueError(
            f"attention_rows[{document}, {row}] = {attention_rows[document, row].item()} is outside the sequence "
            f"[0, {length}); use -1 for padding rows."
        )
    on_padding = (attention_rows >= 0) & (attention_mask.gather(1, attention_rows.clamp(min=0)) == 0)
    if on_padding.any():
        document, row = on_padding.nonzero()[0].tolist()
        raise ValueError(
            f"attention_rows[{document}, {row}] = {attention_rows[document, row].item()} points at padding "
            f"(attention_mask is 0 there) in document {document}; rows must index the document's tokens, or be -1."
        )


def _check_window_settings(
    config: PreTrainedConfig, window_size: int, window_stride: int, start_token_ids: list[int], end_token_ids: list[int]
) -> None:
    """Window sizes that fit the backbone's positions and leave room for document tokens."""
    specials = len(start_token_ids) + len(end_token_ids)
    if window_size <= specials:
        raise ValueError(
            f"window_size={window_size} leaves no room for document tokens next to the {specials} special tokens."
        )
    if getattr(config, "max_position_embeddings", None) is not None and window_size > default_window_size(config):
        raise ValueError(
            f"window_size={window_size} exceeds the backbone's {default_window_size(config)} positions "
            f"({config.model_type}); use at most default_window_size(config)."
        )
    if not 1 <= window_stride <= window_size - specials:
        raise ValueError(
            f"window_stride={window_stride} must be in [1, {window_size - specials}] (window_size minus the special "
            "tokens) so that consecutive windows overlap or touch."
        )


def _run_backbone(
    backbone: PreTrainedModel, input_ids: torch.Tensor, attention_mask: torch.Tensor, rows: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One backbone call; the last layer's hidden states and the attention probabilities of ``rows``.

    Args:
        input_ids, attention_mask: (N, W).
        rows: (N, R) indices into W, -1 = none.

    Returns:
        hidden_states (N, W, D) and float32 probabilities (N, H, R, W), zero for rows that are -1.
    """
    if backbone.config._attn_implementation == LAST_LAYER_ATTENTION:
        recording = _LastLayerRecording()
        token = _ACTIVE_RECORDING.set(recording)
        try:
            hidden_states = backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        finally:
            _ACTIVE_RECORDING.reset(token)
        if recording.calls == 0:
            raise RuntimeError(
                f"{type(backbone).__name__} never called the {LAST_LAYER_ATTENTION!r} attention function; "
                "use attention_mode='eager' for this backbone."
            )
        probabilities = _row_probabilities(
            recording.query, recording.key, recording.mask, recording.scaling, rows
        )
        return hidden_states, probabilities
    outputs = backbone(input_ids=input_ids, attention_mask=attention_mask, output_attentions=True)
    if not outputs.attentions:
        raise ValueError(
            f"{type(backbone).__name__} returned no attentions with output_attentions=True; load it with "
            "attn_implementation='eager'."
        )
    last_layer = outputs.attentions[-1]  # (N, H, W, W)
    return outputs.last_hidden_state, _zero_padding_rows(_gather_rows(last_layer.float(), rows), rows)


def _gather_rows(matrix: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Rows of a (N, H', W, C) tensor (H' may be 1): (N, H', R, C); a -1 in ``rows`` (N, R) reads row 0."""
    count, heads, _, columns = matrix.shape
    index = rows.clamp(min=0)[:, None, :, None].expand(count, heads, rows.shape[1], columns)
    return matrix.gather(2, index)


def _zero_padding_rows(probabilities: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Zero the (N, H, R, W) ``probabilities`` of rows that are -1 in ``rows`` (N, R)."""
    return probabilities * (rows >= 0)[:, None, :, None].to(probabilities.dtype)


def _row_probabilities(
    query: torch.Tensor, key: torch.Tensor, mask: torch.Tensor | None, scaling: float | None, rows: torch.Tensor
) -> torch.Tensor:
    """softmax(Q_rows K^T * scaling + mask) in float32, like eager attention but for ``rows`` only.

    Args:
        query, key: (N, H, W, d) as the last layer passed them to attention.
        mask: Boolean (N or 1, 1, W or 1, W) mask, True = attend (``sdpa_mask``), or None when nothing is padded.
        scaling: Score scale; None = d ** -0.5 (sdpa's default).
        rows: (N, R) query positions, -1 = none.

    Returns:
        (N, H, R, W) probabilities; padding columns exactly 0, rows that are -1 all 0.
    """
    scaling = query.shape[-1] ** -0.5 if scaling is None else scaling
    with torch.autocast(device_type=query.device.type, enabled=False):
        query_rows = _gather_rows(query.float(), rows)  # (N, H, R, d)
        scores = torch.matmul(query_rows, key.float().transpose(-1, -2)) * scaling  # (N, H, R, W)
        if mask is not None:
            mask = mask.expand(query.shape[0], -1, -1, -1)
            if mask.shape[2] != 1:
                mask = _gather_rows(mask, rows)
            if mask.dtype == torch.bool:
                scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
            else:
                scores = scores + mask.float()
        probabilities = torch.softmax(scores, dim=-1)
    return _zero_padding_rows(probabilities, rows)


@dataclass
class _WindowPlan:
    """Every window of a batch, as index tensors into the original (B, L) batch.

    Attributes:
        document: (N,) document of each window.
        source: (N, W) position in its document that each window token copies; 0 on window padding.
        target: (N, W) position whose output each window token contributes to; -1 for window padding and for the
            special tokens of inner windows (only the first window's start and the last window's end specials count).
        attention_mask: (N, W) 1 for window tokens.
    """

    document: torch.Tensor
    source: torch.Tensor
    target: torch.Tensor
    attention_mask: torch.Tensor


def _plan_windows(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    window_size: int,
    window_stride: int,
    start_token_ids: list[int],
    end_token_ids: list[int],
) -> _WindowPlan:
    """Cut every document into overlapping windows (any count); the last one is aligned to the document end."""
    num_start, num_end = len(start_token_ids), len(end_token_ids)
    content_per_window = window_size - num_start - num_end
    lengths = attention_mask.sum(dim=1)
    positions = torch.arange(input_ids.shape[1], device=attention_mask.device)
    if not torch.equal(attention_mask.bool(), positions[None, :] < lengths[:, None]):
        raise ValueError("attention_mask must be right-padded (ones, then zeros) for documents longer than a window.")
    documents, sources, targets = [], [], []
    for document, (ids, length) in enumerate(zip(input_ids.tolist(), lengths.tolist())):
        if length < num_start + num_end or ids[:num_start] != start_token_ids or ids[length - num_end : length] != (
            end_token_ids
        ):
            raise ValueError(
                f"input_ids: document {document} does not start with start_token_ids={start_token_ids} and end with "
                f"end_token_ids={end_token_ids} before its padding; encode documents with the backbone's tokenizer "
                "(special tokens included, no truncation) or pass the tokenizer's special tokens."
            )
        content_length = length - num_start - num_end
        content_starts = list(range(0, content_length - content_per_window, window_stride))
        content_starts.append(max(content_length - content_per_window, 0))
        start_positions = list(range(num_start))
        end_positions = list(range(length - num_end, length))
        for window, content_start in enumerate(content_starts):
            content_positions = list(
                range(num_start + content_start, num_start + min(content_start + content_per_window, content_length))
            )
            is_first, is_last = window == 0, window == len(content_starts) - 1
            documents.append(document)
            sources.append(start_positions + content_positions + end_positions)
            targets.append(
                (start_positions if is_first else [-1] * num_start)
                + content_positions
                + (end_positions if is_last else [-1] * num_end)
            )
    width = max(len(source) for source in sources)
    device = input_ids.device
    return _WindowPlan(
        document=torch.tensor(documents, device=device),
        source=torch.tensor([source + [0] * (width - len(source)) for source in sources], device=device),
        target=torch.tensor([target + [-1] * (width - len(target)) for target in targets], device=device),
        attention_mask=torch.tensor(
            [[1] * len(source) + [0] * (width - len(source)) for source in sources], device=device
        ),
    )


def _encode_in_windows(
    backbone: PreTrainedModel,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    attention_rows: torch.Tensor,
    window_size: int,
    window_stride: int,
    start_token_ids: list[int],
    end_token_ids: list[int],
) -> EncodedDocument:
    """Windowed path of :func:`encode_document`: one stacked backbone call, then merge back to (B, L)."""
    batch_size, length = input_ids.shape
    plan = _plan_windows(input_ids, attention_mask, window_size, window_stride, start_token_ids, end_token_ids)
    num_windows, width = plan.source.shape
    pad_token_id = backbone.config.pad_token_id or 0
    window_input_ids = input_ids[plan.document[:, None], plan.source]
    window_input_ids = window_input_ids.masked_fill(plan.attention_mask == 0, pad_token_id)

    # Local row index of each requested row in each window (-1 when the window does not hold that token).
    local_index = torch.full((num_windows, length + 1), -1, dtype=torch.long, device=input_ids.device)
    slot = torch.where(plan.target >= 0, plan.target, length)  # column `length` collects the non-contributing tokens
    local_index.scatter_(1, slot, torch.arange(width, device=input_ids.device).expand(num_windows, width))
    document_rows = attention_rows[plan.document]  # (N, R)
    local_rows = local_index[:, :length].gather(1, document_rows.clamp(min=0))
    local_rows = local_rows.masked_fill(document_rows < 0, -1)

    window_hidden, window_rows = _run_backbone(backbone, window_input_ids, plan.attention_mask, local_rows)

    # Scatter window outputs to flat (document, position) slots; slot B*L is a sink for non-contributing tokens.
    flat_target = torch.where(plan.target >= 0, plan.document[:, None] * length + plan.target, batch_size * length)
    flat_target = flat_target.reshape(-1)
    hidden_size = window_hidden.shape[-1]
    hidden_sum = window_hidden.new_zeros(batch_size * length + 1, hidden_size, dtype=torch.float32)
    hidden_sum = hidden_sum.index_add(0, flat_target, window_hidden.reshape(-1, hidden_size).float())
    counts = hidden_sum.new_zeros(batch_size * length + 1).index_add(
        0, flat_target, hidden_sum.new_ones(num_windows * width)
    )
    hidden_states = (hidden_sum / counts.clamp(min=1)[:, None])[:-1].view(batch_size, length, hidden_size)

    heads, num_rows = window_rows.shape[1], window_rows.shape[2]
    rows_by_key = window_rows.permute(0, 3, 1, 2).reshape(num_windows * width, heads, num_rows)
    row_sum = rows_by_key.new_zeros(batch_size * length + 1, heads, num_rows).index_add(0, flat_target, rows_by_key)
    row_sum = row_sum[:-1].view(batch_size, length, heads, num_rows).permute(0, 2, 3, 1)  # (B, H, R, L)
    # Averaging over the windows that hold a row and renormalising equals renormalising the sum.
    row_attentions = row_sum / row_sum.sum(dim=-1, keepdim=True).clamp(min=torch.finfo(row_sum.dtype).tiny)
    dtype = window_hidden.dtype
    return EncodedDocument(hidden_states.to(dtype), row_attentions.to(dtype))
