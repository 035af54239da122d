"""Optimisations tried for the targets, each timed against the alternative in the same interleaved rounds.

* batching: the same documents one at a time, in batches of 4 in file order, and in length-bucketed batches of 4;
* chunking: PAEE as it is (pairs in chunks of 128 through eq. 3 and eq. 8) against ``paee_unchunked`` (all pairs at
  once, the code before chunking landed) and chunks of 512, with the eager path for the memory target;
* ``torch.compile``: the PAEE heads (PAR, EER, classifier) compiled with ``dynamic=True`` against eager PyTorch,
  compile time included in the report.

Each result has the shape of a comparison table (see ``comparison.py``), so ``report.comparison_markdown`` prints it.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import torch

from benchmarks.comparison import Options, compare_on_workload
from benchmarks.models import backbone_config, build_model
from benchmarks.steps import inference_pass, move_batches, synchronizer
from benchmarks.suites import document_workload
from benchmarks.timing import CLOCKS, interleaved_times, summarize_times
from benchmarks.workloads import build_workload

COMPILED_HEADS = ("pair_aware", "entity_enhanced", "classifier")


def _timing_table(
    title: str, steps: dict[str, Any], warmups: dict[str, Any], reference: str, documents: int, statistics: dict,
    options: Options,
) -> dict[str, Any]:
    """Interleaved timing of ``steps`` as a comparison table (no memory)."""
    device = torch.device(options.device)
    times = interleaved_times(steps, options.repeats, options.warmup, synchronizer(device), warmups)
    variants = summarize_times(times[options.clock], reference, documents)
    other = next(clock for clock in CLOCKS if clock != options.clock)
    other_summary = summarize_times(times[other], reference, documents)
    for name, summary in variants.items():
        summary["other_clock"] = {"clock": other, "median_s": other_summary[name]["median_s"],
                                  "ratio": other_summary[name]["ratio"]}
    return {"title": title, "clock": options.clock, "reference": reference, "variants": variants,
            "workload": {"statistics": statistics}, "targets": []}


def batching_experiment(backbone: str, options: Options, documents: int, synthetic: bool) -> dict[str, Any]:
    """PAEE over the same documents: batch 1, batch 4 in file order, batch 4 length-bucketed (reference: file order)."""
    pad_token_id = backbone_config(backbone).pad_token_id or 0
    spec, note = document_workload(documents, 4, synthetic)
    layouts = {
        "batch 1": dataclasses.replace(spec, batch_size=1),
        "batch 4, file order": dataclasses.replace(spec, sort_by_length=False),
        "batch 4, length-bucketed": spec,
    }
    workloads = {name: build_workload(layout, pad_token_id) for name, layout in layouts.items()}
    model = build_model(backbone, "paee").to(torch.device(options.device))
    device = torch.device(options.device)
    steps = {name: inference_pass(model, move_batches(w.batches, device)) for name, w in workloads.items()}
    warmups = {name: inference_pass(model, move_batches(w.batches[:1], device)) for name, w in workloads.items()}
    table = _timing_table(
        f"Batching, PAEE on {backbone}, {spec.name}", steps, warmups, "batch 4, file order", documents,
        workloads["batch 4, file order"].statistics, options,
    )
    table["padding"] = {
        name: {key: workload.statistics[key] for key in ("token_padding", "pair_padding")}
        for name, workload in workloads.items()
    }
    if note:
        table["note"] = note
    return table


def chunking_experiment(backbone: str, options: Options, documents: int, synthetic: bool) -> dict[str, Any]:
    """PAEE (chunked) against ``paee_unchunked`` and the eager path: time, and the peak-memory saving of chunking."""
    spec, note = document_workload(documents, 4, synthetic)
    workload = build_workload(spec, backbone_config(backbone).pad_token_id or 0)
    targets = [{"claim": "chunked PAEE peak memory >= 5 % lower than unchunked", "kind": "memory_lower",
                "numerator": "paee", "denominator": "paee_unchunked"}]
    table = compare_on_workload(
        f"Pair chunking, {backbone}, {spec.name}, batch 4", backbone,
        ["paee_unchunked", "paee_chunk512", "paee", "paee_eager"],
        workload, "inference", dataclasses.replace(options, profile=False), targets,
    )
    if note:
        table["note"] = note
    return table


def compile_experiment(backbone: str, options: Options, documents: int, synthetic: bool) -> dict[str, Any]:
    """PAEE with its heads under ``torch.compile(dynamic=True)`` against the same PAEE without (same weights)."""
    spec, note = document_workload(documents, 4, synthetic)
    workload = build_workload(spec, backbone_config(backbone).pad_token_id or 0)
    device = torch.device(options.device)
    batches = move_batches(workload.batches, device)
    plain = build_model(backbone, "paee").to(device)
    compiled = build_model(backbone, "paee").to(device)
    for head in COMPILED_HEADS:
        setattr(compiled, head, torch.compile(getattr(compiled, head), dynamic=True))
    steps = {"paee": inference_pass(plain, batches), "paee + torch.compile(heads)": inference_pass(compiled, batches)}
    start = time.perf_counter()
    steps["paee + torch.compile(heads)"]()  # compiles (also the warm-up)
    compile_seconds = time.perf_counter() - start
    table = _timing_table(
        f"torch.compile of the PAEE heads, {backbone}, {spec.name}", steps, steps, "paee", documents,
        workload.statistics, options,
    )
    table["compile_wall_s"] = compile_seconds
    if note:
        table["note"] = note
    return table


def optimisation_suite(
    backbones: dict[str, str], options: Options, documents: dict[str, int], synthetic: bool, with_compile: bool
) -> dict[str, Any]:
    """The experiments.

    Args:
        backbones: Experiment (``batching``, ``chunking``, ``compile``) -> backbone shape.
        options: Run settings.
        documents: Experiment -> documents.
        synthetic: Synthetic documents even when Re-DocRED is available.
        with_compile: Run the ``torch.compile`` experiment (compilation takes minutes on a small CPU).
    """
    tables = [
        batching_experiment(backbones["batching"], options, documents["batching"], synthetic),
        chunking_experiment(backbones["chunking"], options, documents["chunking"], synthetic),
    ]
    if with_compile:
        tables.append(compile_experiment(backbones["compile"], options, documents["compile"], synthetic))
    return {"suite": "optimisations", "tables": tables}
