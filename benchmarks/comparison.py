"""Side-by-side comparison of variants on one workload: interleaved timing, stage breakdown, peak memory."""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from benchmarks.memory import measure_peak_memory
from benchmarks.models import PRUNED_KEEP_FRACTION, build_model, calibrate_pair_pruning
from benchmarks.stages import operator_profile, stage_breakdown
from benchmarks.steps import (
    inference_pass,
    make_optimizer,
    move_batches,
    synchronizer,
    training_pass,
)
from benchmarks.timing import CLOCKS, interleaved_times, paired_ratio, summarize_times
from benchmarks.workloads import Workload

Mode = Literal["inference", "training"]
#: A peak counts as lower than another only when it is at least this fraction below it.
MEMORY_MARGIN = 0.05


@dataclass(frozen=True)
class Options:
    """Settings shared by every measurement of a run (recorded with the results).

    Attributes:
        device: ``"cpu"`` or ``"cuda"``.
        dtype: ``"float32"``, ``"bfloat16"`` or ``"float16"`` (inference: the model is cast; training: autocast).
        threads: ``torch.set_num_threads`` value, the same for every variant and every probe process.
        clock: ``"cpu"`` (process CPU time, steady on a shared CPU with one thread) or ``"wall"`` (GPU, idle
            machines); the other clock is recorded too. See ``benchmarks/timing.py``.
        repeats: Timed interleaved rounds.
        warmup: Untimed rounds first.
        memory: Measure peak memory (one extra process per variant).
        profile: Add the stage breakdown and operator table of PAEE.
    """

    device: str = "cpu"
    dtype: str = "float32"
    threads: int = 1
    clock: str = "cpu"
    repeats: int = 3
    warmup: int = 1
    memory: bool = True
    profile: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON)."""
        return dataclasses.asdict(self)


def build_variants(backbone: str, variants: list[str], options: Options, mode: Mode) -> dict[str, nn.Module]:
    """Every variant on ``options.device`` (cast to ``options.dtype`` for inference)."""
    device = torch.device(options.device)
    models = {}
    for variant in variants:
        model = build_model(backbone, variant).to(device)
        models[variant] = model.to(getattr(torch, options.dtype)) if mode == "inference" else model
    return models


def time_variants(
    models: dict[str, nn.Module], workload: Workload, mode: Mode, options: Options, reference: str = "backbone"
) -> dict[str, Any]:
    """Interleaved timing of every model on ``workload``, summarised against ``reference``.

    Returns:
        ``{"clock", "variants": summarize_times(...)}``, each variant with ``other_clock`` (median and ratio on the
        other clock); ``kept_fraction`` with ``paee_pruned``; ``stages`` and ``operator_profile`` when profiling.
    """
    device = torch.device(options.device)
    batches = move_batches(workload.batches, device)
    result: dict[str, Any] = {}
    if "paee_pruned" in models and mode == "inference":
        result["kept_fraction"] = calibrate_pair_pruning(models["paee_pruned"], batches, PRUNED_KEEP_FRACTION)
    dtype = getattr(torch, options.dtype)
    steps, warmup_steps = {}, {}
    for name, model in models.items():
        if mode == "inference":
            steps[name], warmup_steps[name] = inference_pass(model, batches), inference_pass(model, batches[:1])
        else:
            optimizer = make_optimizer(model)  # shared, so the warm-up creates the optimizer state
            steps[name] = training_pass(model, batches, dtype, optimizer)
            warmup_steps[name] = training_pass(model, batches[:1], dtype, optimizer)
    synchronize = synchronizer(device)
    times = interleaved_times(steps, options.repeats, options.warmup, synchronize, warmup_steps)
    result["clock"] = options.clock
    result["variants"] = summarize_times(times[options.clock], reference, workload.statistics["documents"])
    other = next(clock for clock in CLOCKS if clock != options.clock)
    for name, summary in result["variants"].items():
        summary["other_clock"] = {
            "clock": other,
            "median_s": statistics.median(times[other][name]),
            "ratio": paired_ratio(times[other], name, reference),
        }
    if options.profile and "paee" in models:  # where the time goes: PAEE's stages, PAEE's and eager's operators
        if mode == "inference":
            result["stages"] = stage_breakdown(models["paee"], steps["paee"], synchronize, CLOCKS[options.clock])
        result["operator_profile"] = {
            name: operator_profile(steps[name], device) for name in ("paee", "paee_eager") if name in steps
        }
    return result


def memory_of_variants(
    backbone: str, variants: list[str], workloads: list[Workload], mode: Mode, options: Options
) -> dict[str, dict[str, Any]]:
    """Peak memory of every variant on every workload (one fresh process per variant).

    Returns:
        Variant -> workload name -> :class:`benchmarks.memory.PeakMemory` result.
    """
    results = {}
    for variant in variants:
        spec = {
            "backbone": backbone, "variant": variant, "mode": mode, "device": options.device, "dtype": options.dtype,
            "threads": options.threads, "keep_fraction": PRUNED_KEEP_FRACTION,
        }
        results[variant] = measure_peak_memory(spec, {workload.spec.name: workload.batches for workload in workloads})
    return results


def compare_on_workload(
    title: str, backbone: str, variants: list[str], workload: Workload, mode: Mode, options: Options,
    targets: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One comparison table: timing (+ stages) in this process, then peak memory in fresh processes.

    Args:
        title: The table's title.
        backbone: Backbone shape (see :data:`benchmarks.models.BACKBONES`).
        variants: Variants to compare; ratios are taken against the first.
        workload: The documents.
        mode: ``"inference"`` or ``"training"``.
        options: Run settings.
        targets: Claims to check (see :func:`check_targets`).

    Returns:
        A JSON-ready table: ``title``, ``backbone``, ``mode``, ``workload`` (spec and statistics), ``reference``,
        ``variants`` (timing summary plus ``memory``), ``targets`` and, when profiled, ``stages`` and
        ``operator_profile``.
    """
    models = build_variants(backbone, variants, options, mode)
    table: dict[str, Any] = {
        "title": title, "backbone": backbone, "mode": mode, "reference": variants[0],
        "workload": {"spec": workload.spec.to_dict(), "statistics": workload.statistics},
    }
    table.update(time_variants(models, workload, mode, options, reference=variants[0]))
    del models  # free the weights before the probe processes load their own copies
    if options.memory:
        memory = memory_of_variants(backbone, variants, [workload], mode, options)
        for variant in variants:
            table["variants"][variant]["memory"] = memory[variant][workload.spec.name]
    table["targets"] = check_targets(table, targets or [])
    return table


def check_targets(table: dict[str, Any], targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evaluate claims of the form ``time(numerator) / time(denominator) <= limit`` (or ``>=``) and memory order.

    Args:
        table: A table from :func:`compare_on_workload` (timing in ``variants``).
        targets: Dicts with ``claim`` (text), ``kind`` (``"time_ratio"`` or ``"memory_lower"``), ``numerator``,
            ``denominator`` and, for time ratios, ``limit`` and ``direction`` (``"<="`` or ``">="``).

    Returns:
        The targets with ``measured`` (median ratio and its spread, or the two peaks) and ``holds`` (bool, or
        ``None`` when memory was not measured). A time target holds when its median ratio is on the right side; a
        memory target when the numerator's peak is at least :data:`MEMORY_MARGIN` below the denominator's (resident
        memory moves by a few MiB from run to run, so a tie is not "lower").
    """
    checked = []
    variants = table["variants"]
    for target in targets:
        numerator, denominator = target["numerator"], target["denominator"]
        if target["kind"] == "time_ratio":
            times = {name: variants[name]["seconds"] for name in (numerator, denominator)}
            measured = paired_ratio(times, numerator, denominator)
            holds = measured["median"] <= target["limit"] if target["direction"] == "<=" else (
                measured["median"] >= target["limit"]
            )
        else:
            peaks = [variants[name].get("memory", {}).get("peak_mib") for name in (numerator, denominator)]
            measured = {numerator: peaks[0], denominator: peaks[1]}
            holds = None if None in peaks else peaks[0] <= (1 - MEMORY_MARGIN) * peaks[1]
        checked.append({**target, "measured": measured, "holds": holds})
    return checked
