"""Scaling: inference time and peak memory as entities grow (n^2 pairs) and as documents grow (windows).

Entity curve: one synthetic document of 512 tokens (a single window) with 10, 42, 100, 200 entities (1.36 mentions
each, all n(n-1) ordered pairs), for PAEE as is (pairs in chunks of 128), with PPP pruning, and without pair
chunking (``paee_unchunked``, the code before chunking landed); the eager path is left out there because its
difference lies in the backbone, which does not change with the entity count. Token curve: one synthetic document
of 20 entities with 512, 2,048, 8,192 tokens (1, 5 and 21 windows of 512), with the eager path.
Each point times the variants interleaved; memory comes from one fresh process per variant that measures the points
in increasing size (the high-water mark is reset before each). The growth exponent between consecutive points,
``k = log(t2 / t1) / log(size2 / size1)``, gives the shape of each curve (1 = linear, 2 = quadratic).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from benchmarks.comparison import (
    Options,
    build_variants,
    memory_of_variants,
    time_variants,
)
from benchmarks.models import backbone_config
from benchmarks.workloads import Workload, WorkloadSpec, build_workload

ENTITY_SIZES = [10, 42, 100, 200]
TOKEN_SIZES = [512, 2048, 8192]
QUICK_ENTITY_SIZES = [10, 42]
QUICK_TOKEN_SIZES = [512, 1024]
ENTITY_CURVE_TOKENS = 512
TOKEN_CURVE_ENTITIES = 20
ENTITY_VARIANTS = ["backbone", "paee", "paee_pruned", "paee_unchunked"]
TOKEN_VARIANTS = ["backbone", "paee", "paee_eager"]


def growth_exponents(sizes: list[int], seconds: list[float]) -> list[tuple[tuple[int, int], float]]:
    """``((size1, size2), k)`` with ``seconds`` growing as ``size^k`` between consecutive sizes."""
    return [
        ((low, high), math.log(t_high / t_low) / math.log(high / low))
        for (low, t_low), (high, t_high) in zip(zip(sizes, seconds), zip(sizes[1:], seconds[1:]))
    ]


def scaling_curve(
    title: str, axis: str, backbone: str, variants: list[str], workloads: list[Workload], options: Options
) -> dict[str, Any]:
    """Time (and memory) of every variant at every point of one curve.

    Args:
        title: The curve's title.
        axis: ``"entities"`` or ``"tokens"``.
        backbone: Backbone shape.
        variants: Compared variants; ratios against the first.
        workloads: One per point, in increasing size.
        options: Run settings (``options.profile`` is ignored: no stage breakdown per point).

    Returns:
        ``{"title", "axis", "backbone", "clock", "points": [{"size", "pairs", "variants", ...}], "exponents"}``.
    """
    models = build_variants(backbone, variants, options, "inference")
    points = []
    for index, workload in enumerate(workloads):
        size = workload.spec.entities if axis == "entities" else workload.spec.tokens
        # the models are warm after the first point; no stage breakdown per point
        point_options = dataclasses.replace(options, profile=False, warmup=options.warmup if index == 0 else 0)
        timed = time_variants(models, workload, "inference", point_options, reference=variants[0])
        points.append({"size": size, "pairs": int(workload.statistics["pairs_mean"]), **timed})
    del models
    if options.memory:
        memory = memory_of_variants(backbone, variants, workloads, "inference", options)
        for point, workload in zip(points, workloads):
            for variant in variants:
                point["variants"][variant]["memory"] = memory[variant][workload.spec.name]
    sizes = [point["size"] for point in points]
    exponents = {
        variant: growth_exponents(sizes, [point["variants"][variant]["median_s"] for point in points])
        for variant in variants
    }
    return {
        "title": title, "axis": axis, "backbone": backbone, "clock": options.clock, "points": points,
        "exponents": exponents,
    }


def scaling_suite(backbone: str, options: Options, quick: bool) -> dict[str, Any]:
    """The entity curve and the token curve on ``backbone`` (one synthetic document per point, batch 1)."""
    pad_token_id = backbone_config(backbone).pad_token_id or 0
    entity_sizes, token_sizes = (QUICK_ENTITY_SIZES, QUICK_TOKEN_SIZES) if quick else (ENTITY_SIZES, TOKEN_SIZES)
    entity_workloads = [
        build_workload(
            WorkloadSpec(f"{n} entities", "synthetic", 1, 1, tokens=ENTITY_CURVE_TOKENS, entities=n), pad_token_id
        )
        for n in entity_sizes
    ]
    token_workloads = [
        build_workload(
            WorkloadSpec(f"{t} tokens", "synthetic", 1, 1, tokens=t, entities=TOKEN_CURVE_ENTITIES), pad_token_id
        )
        for t in token_sizes
    ]
    curves = [
        scaling_curve(
            f"Entities ({backbone}, {ENTITY_CURVE_TOKENS} tokens, {options.device} {options.dtype})",
            "entities", backbone, ENTITY_VARIANTS, entity_workloads, options,
        ),
        scaling_curve(
            f"Tokens ({backbone}, {TOKEN_CURVE_ENTITIES} entities, {options.device} {options.dtype})",
            "tokens", backbone, TOKEN_VARIANTS, token_workloads, options,
        ),
    ]
    return {"suite": "scaling", "curves": curves}
