"""The inference and training suites: one comparison table per backbone, with the issue's targets checked."""

from __future__ import annotations

from typing import Any

from benchmarks.comparison import Mode, Options, compare_on_workload
from benchmarks.models import backbone_config
from benchmarks.workloads import (
    WorkloadSpec,
    build_workload,
    real_documents_unavailable,
)

#: Documents per table (evenly spaced through Re-DocRED dev); sized for ~10 minutes per suite on one CPU core.
DEFAULT_DOCUMENTS = {
    "inference": {"tiny": 8, "minilm": 16, "bert-base": 8, "roberta-large": 8},
    "training": {"tiny": 8, "minilm": 8, "bert-base": 4, "roberta-large": 4},
}
QUICK_DOCUMENTS = 4
INFERENCE_VARIANTS = ["backbone", "paee", "paee_eager", "paee_pruned"]
TRAINING_VARIANTS = ["backbone", "atlop", "paee"]
INFERENCE_TARGETS = [
    {"claim": "PAEE inference time <= 1.25x the backbone alone", "kind": "time_ratio", "numerator": "paee",
     "denominator": "backbone", "direction": "<=", "limit": 1.25},
    {"claim": "PAEE throughput >= 1.2x the eager-attention path (eager time / PAEE time)", "kind": "time_ratio",
     "numerator": "paee_eager", "denominator": "paee", "direction": ">=", "limit": 1.2},
    {"claim": "PAEE peak memory >= 5 % lower than the eager-attention path", "kind": "memory_lower",
     "numerator": "paee", "denominator": "paee_eager"},
]
TRAINING_TARGETS = [
    {"claim": "PAEE training step time <= 1.3x the backbone alone", "kind": "time_ratio", "numerator": "paee",
     "denominator": "backbone", "direction": "<=", "limit": 1.3},
]


def document_workload(documents: int, batch_size: int, synthetic: bool) -> tuple[WorkloadSpec, str | None]:
    """Re-DocRED dev documents when available and not ``synthetic``, else synthetic ones with its statistics.

    Returns:
        The spec and, for synthetic documents, a note saying why.
    """
    missing = "asked for (--synthetic)" if synthetic else real_documents_unavailable()
    source = "synthetic" if missing else "redocred"
    name = f"{'Re-DocRED dev' if source == 'redocred' else 'synthetic Re-DocRED-like'} x{documents}"
    note = None if missing is None else f"synthetic documents with Re-DocRED dev statistics: {missing}"
    return WorkloadSpec(name=name, source=source, documents=documents, batch_size=batch_size), note


def table_suite(
    mode: Mode, backbones: list[str], options: Options, documents: int | None, batch_size: int, quick: bool,
    synthetic: bool = False, extra_variants: list[str] | None = None,
) -> dict[str, Any]:
    """One comparison table per backbone for ``mode`` (``"inference"`` or ``"training"``).

    Args:
        mode: Which suite.
        backbones: Backbone shapes, one table each.
        options: Run settings.
        documents: Documents per table (``None``: :data:`DEFAULT_DOCUMENTS`, or 4 with ``quick``).
        batch_size: Documents per batch (length-bucketed).
        quick: Small sample for development and smoke tests.
        synthetic: Use synthetic documents even when Re-DocRED is available.
        extra_variants: Variants (of :data:`benchmarks.models.VARIANTS`) timed beside the suite's own.

    Returns:
        ``{"suite", "tables": [...]}``, each table from :func:`compare_on_workload` plus ``note`` when the documents
        are synthetic.
    """
    variants, targets = (INFERENCE_VARIANTS, INFERENCE_TARGETS) if mode == "inference" else (
        TRAINING_VARIANTS, TRAINING_TARGETS
    )
    variants = variants + [name for name in extra_variants or () if name not in variants]
    tables = []
    for backbone in backbones:
        count = documents or (QUICK_DOCUMENTS if quick else DEFAULT_DOCUMENTS[mode][backbone])
        spec, note = document_workload(count, batch_size, synthetic)
        workload = build_workload(spec, backbone_config(backbone).pad_token_id or 0)
        title = f"{mode.capitalize()}, {backbone}, {spec.name}, batch {batch_size}, {options.device} {options.dtype}"
        table = compare_on_workload(title, backbone, variants, workload, mode, options, targets)
        if note:
            table["note"] = note
        tables.append(table)
    return {"suite": mode, "tables": tables}
