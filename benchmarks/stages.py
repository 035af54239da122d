"""Where PAEE's forward time goes: per-stage wall time (temporary wrappers) and a torch.profiler operator table.

The stage timer wraps, for the duration of a ``with`` block, the functions ``modeling_paee`` calls (looked up in its
module namespace at call time) and the forwards of the model's head modules; nothing in the package is modified. On
a GPU every wrapper synchronises, so stage times add up to the forward time (and the forward gets slower).
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

import paee_hf.document_encoder as document_encoder_module
import paee_hf.modeling_paee as modeling_module

#: Stage label -> functions of ``modeling_paee`` (or ``document_encoder``) and model attributes it covers.
_FUNCTION_STAGES = {
    "encode_document": (modeling_module, "backbone (windows, sdpa or eager)"),
    "_row_probabilities": (document_encoder_module, "last-layer attention rows (recomputed)"),
    "pool_entities": (modeling_module, "entity pooling (eq. 2)"),
    "localized_context": (modeling_module, "localized context (eq. 3)"),
    "same_sentence": (modeling_module, "pair inputs (pos bit, W1, type embeddings)"),
    "sentence_embeddings": (modeling_module, "EER (eq. 6-7)"),
}
_MODULE_STAGES = {
    "context_projection": "pair inputs (pos bit, W1, type embeddings)",
    "pair_aware": "PAR: canvas, TNet, PPP (eq. 4-5)",
    "entity_enhanced": "EER (eq. 6-7)",
    "cross_matching": "EER (eq. 6-7)",
}
_METHOD_STAGES = {"_check_inputs": "input checks", "_classify": "classifier (eq. 8)"}
#: Stages timed inside another one (subtracted from the outer stage's time).
_NESTED = {"last-layer attention rows (recomputed)": "backbone (windows, sdpa or eager)"}


@contextlib.contextmanager
def stage_timer(
    model: nn.Module, synchronize: Callable[[], None], clock: Callable[[], float] = time.perf_counter
) -> Iterator[dict[str, float]]:
    """Accumulate time per stage of ``model``'s forward while the block runs.

    Args:
        model: A ``PaeeForDocumentRelationExtraction``.
        synchronize: Device synchronisation (no-op on the CPU).
        clock: Seconds counter (``time.perf_counter`` or ``time.process_time``).

    Yields:
        Stage -> seconds (filled as the model runs; nested stages already subtracted after the block).
    """
    totals: dict[str, float] = defaultdict(float)

    def timed(stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            synchronize()
            start = clock()
            result = function(*args, **kwargs)
            synchronize()
            totals[stage] += clock() - start
            return result

        return wrapper

    restore: list[Callable[[], None]] = []
    for name, (module, stage) in _FUNCTION_STAGES.items():
        original = getattr(module, name)
        setattr(module, name, timed(stage, original))
        restore.append(lambda module=module, name=name, original=original: setattr(module, name, original))
    for attribute, stage in _MODULE_STAGES.items():
        submodule = getattr(model, attribute, None)
        if submodule is not None:
            submodule.forward = timed(stage, submodule.forward)
            restore.append(lambda submodule=submodule: delattr(submodule, "forward"))
    for attribute, stage in _METHOD_STAGES.items():
        setattr(model, attribute, timed(stage, getattr(model, attribute)))
        restore.append(lambda attribute=attribute: delattr(model, attribute))
    try:
        yield totals
    finally:
        for undo in restore:
            undo()
        for inner, outer in _NESTED.items():
            if inner in totals:
                totals[outer] -= totals[inner]


def stage_breakdown(
    model: nn.Module, run: Callable[[], None], synchronize: Callable[[], None], clock: Callable[[], float]
) -> dict[str, Any]:
    """Seconds per stage in one pass of an already warmed-up ``run``, their share, and the untimed remainder.

    Args:
        model: The PAEE model ``run`` uses.
        run: One pass (e.g. :func:`benchmarks.steps.inference_pass`).
        synchronize: Device synchronisation.
        clock: Seconds counter, the one the timing tables use.

    Returns:
        ``{"total_s", "stages": {stage: {"seconds", "share"}}}`` with an ``"other (glue code)"`` stage for the rest.
    """
    with stage_timer(model, synchronize, clock) as totals:
        start = clock()
        run()
        synchronize()
        total = clock() - start
    stages = dict(totals)
    stages["other (glue code)"] = total - sum(stages.values())
    return {
        "total_s": total,
        "stages": {name: {"seconds": seconds, "share": seconds / total} for name, seconds in stages.items()},
    }


def operator_profile(run: Callable[[], None], device: torch.device, rows: int = 15) -> str:
    """torch.profiler's table of the ``rows`` operators with the most self time during one pass of ``run``."""
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as profiler:
        run()
    sort_key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return profiler.key_averages().table(sort_by=sort_key, row_limit=rows)
