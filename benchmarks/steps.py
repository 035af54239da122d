"""One unit of timed work per variant: a pass over a workload's batches, for inference or for training.

The backbone-alone floor sees the same token ids as PAEE: documents that fit the backbone go in as they are, longer
ones are cut into exactly the windows PAEE's encoder uses (planned once, before timing; PAEE plans them inside its
forward, so the floor is, if anything, flattered).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
from torch import nn

from paee_hf import PaeeForDocumentRelationExtraction
from paee_hf.document_encoder import _plan_windows, default_window_size

Batch = dict[str, torch.Tensor]


def move_batches(batches: list[Batch], device: torch.device) -> list[Batch]:
    """Batches on ``device`` (moved once, outside the timed region)."""
    return [{key: value.to(device) for key, value in batch.items()} for batch in batches]


def backbone_inputs(batch: Batch, backbone_config, window_size: int | None = None) -> Batch:
    """What the backbone alone receives for ``batch``: the ids, or PAEE's windows when the batch is longer.

    Args:
        batch: A collated batch.
        backbone_config: The backbone's config (window size, like ``PaeeConfig.window_size=None``).
        window_size: PAEE's ``window_size`` when set in its config.

    Returns:
        ``input_ids`` and ``attention_mask`` of shape ``(N, W)`` with ``N`` windows (``N = B`` for short batches).
    """
    input_ids, attention_mask = batch["input_ids"], batch["attention_mask"]
    window = window_size or default_window_size(backbone_config)
    if input_ids.shape[1] <= window:
        return {"input_ids": input_ids, "attention_mask": attention_mask}
    # PAEE's defaults (PaeeForDocumentRelationExtraction._window_settings): 3/4 of a window's content as stride.
    content = window - 2
    plan = _plan_windows(input_ids, attention_mask, window, max(1, content * 3 // 4), [101], [102])
    window_ids = input_ids[plan.document[:, None], plan.source].masked_fill(
        plan.attention_mask == 0, backbone_config.pad_token_id or 0
    )
    return {"input_ids": window_ids, "attention_mask": plan.attention_mask}


def model_inputs(model: nn.Module, batch: Batch) -> Batch:
    """The keyword arguments ``model``'s forward takes for ``batch`` (without labels)."""
    if isinstance(model, PaeeForDocumentRelationExtraction):
        return {key: value for key, value in batch.items() if key != "labels"}
    return backbone_inputs(batch, model.config)


def inference_pass(model: nn.Module, batches: list[Batch]) -> Callable[[], None]:
    """A callable running ``model`` over every batch under ``torch.inference_mode``."""
    inputs = [model_inputs(model, batch) for batch in batches]

    def run() -> None:
        with torch.inference_mode():
            for batch_inputs in inputs:
                model(**batch_inputs)

    return run


def make_optimizer(model: nn.Module) -> torch.optim.Optimizer:
    """The optimizer of the training benchmarks: fused AdamW over every parameter, as ``paee_hf.training.loop`` builds.

    Fused matters on the CPU: a BERT-base step takes 0.18 s fused against 0.87 s with the default per-tensor loop.
    """
    return torch.optim.AdamW(model.parameters(), lr=1e-5, fused=True)


def training_pass(
    model: nn.Module, batches: list[Batch], dtype: torch.dtype, optimizer: torch.optim.Optimizer | None = None
) -> Callable[[], None]:
    """A callable doing forward + backward + AdamW step on every batch (autocast for half precision).

    The backbone alone is trained on the mean squared last hidden state (the cheapest loss that backpropagates
    through every layer); PAEE variants on their own loss (eq. 12) with the batch labels.

    Args:
        model: The model (switched to training mode).
        batches: Batches on the model's device.
        dtype: ``torch.float32``, or the autocast dtype.
        optimizer: Reuse this optimizer (and its state); a new one from :func:`make_optimizer` otherwise.
    """
    model.train()
    optimizer = optimizer or make_optimizer(model)
    device_type = next(model.parameters()).device.type
    autocast = (
        (lambda: torch.autocast(device_type=device_type, dtype=dtype))
        if dtype != torch.float32
        else contextlib.nullcontext
    )
    scaler = torch.amp.GradScaler(device_type, enabled=dtype == torch.float16)
    is_paee = isinstance(model, PaeeForDocumentRelationExtraction)
    inputs = [
        {**model_inputs(model, batch), "labels": batch["labels"]} if is_paee else model_inputs(model, batch)
        for batch in batches
    ]

    def run() -> None:
        for batch_inputs in inputs:
            with autocast():
                if is_paee:
                    loss = model(**batch_inputs).loss
                else:
                    loss = model(**batch_inputs).last_hidden_state.float().pow(2).mean()
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)

    return run


def synchronizer(device: torch.device) -> Callable[[], None]:
    """Waits for queued kernels on a GPU; nothing to wait for on the CPU."""
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None
