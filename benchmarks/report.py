"""Results as Markdown tables (printed, and pasted into RESULTS.md) and as JSON files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _ratio(ratio: dict[str, float]) -> str:
    return f"{ratio['median']:.2f}x [{ratio['min']:.2f}-{ratio['max']:.2f}]"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def comparison_markdown(table: dict[str, Any]) -> str:
    """A comparison table: throughput, median time, paired ratio to the reference, peak memory; then the targets."""
    statistics = table["workload"]["statistics"]
    clock = table["clock"]
    other = next(iter(table["variants"].values()))["other_clock"]["clock"]
    lines = [
        f"**{table['title']}** ({statistics['documents']} documents, {statistics['tokens_mean']:.0f} tokens and "
        f"{statistics['entities_mean']:.1f} entities on average, max {statistics['tokens_max']} tokens / "
        f"{statistics['entities_max']} entities; {clock} clock)",
        "",
        f"| variant | docs/s | {clock} s per pass [min-max] | vs {table['reference']} [spread] | {other} s "
        f"| {other} vs {table['reference']} | peak MiB above weights | process peak MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, result in table["variants"].items():
        memory = result.get("memory", {})
        lines.append(
            f"| {name} | {result['items_per_s']:.2f} | {result['median_s']:.2f} [{result['min_s']:.2f}-"
            f"{result['max_s']:.2f}] | {_ratio(result['ratio'])} | {result['other_clock']['median_s']:.2f} | "
            f"{_ratio(result['other_clock']['ratio'])} | {_mib(memory.get('peak_mib'))} | "
            f"{_mib(memory.get('process_peak_mib'))} |"
        )
    if "kept_fraction" in table:
        lines.append(f"\n`paee_pruned` keeps {table['kept_fraction']:.1%} of the pairs (calibrated PPP).")
    for target in table.get("targets", []):
        lines.append("")
        lines.append(target_line(target))
    return "\n".join(lines)


def target_line(target: dict[str, Any]) -> str:
    """One checked target as a sentence with its verdict."""
    verdict = {True: "HOLDS", False: "FAILS", None: "not measured"}[target["holds"]]
    measured = target["measured"]
    if target["kind"] == "time_ratio":
        detail = f"measured {_ratio(measured)}"
    else:
        detail = "peaks " + ", ".join(f"{name} {_mib(value)} MiB" for name, value in measured.items())
    return f"- Target: {target['claim']}: {detail} -> **{verdict}**"


def optimisation_markdown(table: dict[str, Any]) -> str:
    """An optimisation experiment: its comparison table plus padding or compile time when it has them."""
    lines = [comparison_markdown(table)]
    for name, padding in table.get("padding", {}).items():
        lines.append(f"- {name}: {padding['token_padding']:.1%} padding tokens, {padding['pair_padding']:.1%} "
                     "padding pairs")
    if "compile_wall_s" in table:
        lines.append(f"- compilation (first pass): {table['compile_wall_s']:.0f} s wall")
    if table.get("note"):
        lines.append(f"- Note: {table['note']}")
    return "\n".join(lines)


def stages_markdown(stages: dict[str, Any]) -> str:
    """The stage breakdown of one PAEE pass."""
    lines = [f"PAEE forward, {stages['total_s']:.2f} s per pass:", "", "| stage | s | share |", "|---|---:|---:|"]
    ordered = sorted(stages["stages"].items(), key=lambda item: -item[1]["seconds"])
    lines += [f"| {name} | {value['seconds']:.3f} | {value['share']:.1%} |" for name, value in ordered]
    return "\n".join(lines)


def scaling_markdown(curve: dict[str, Any]) -> str:
    """A scaling curve: one row per size, time and memory per variant, and the fitted growth exponents."""
    variants = list(curve["points"][0]["variants"])
    header = "| " + curve["axis"] + " | pairs | " + " | ".join(f"{name} s" for name in variants)
    header += " | " + " | ".join(f"{name} MiB" for name in variants) + " |"
    lines = [f"**{curve['title']}** (median {curve['clock']} seconds per document)", "", header]
    lines.append("|" + "---:|" * (2 + 2 * len(variants)))
    for point in curve["points"]:
        times = " | ".join(f"{point['variants'][name]['median_s']:.3f}" for name in variants)
        memory = " | ".join(_mib(point["variants"][name].get("memory", {}).get("peak_mib")) for name in variants)
        lines.append(f"| {point['size']} | {point['pairs']} | {times} | {memory} |")
    lines.append("")
    for name, exponents in curve["exponents"].items():
        lines.append(f"- {name}: time grows as {curve['axis']}^k with k = " + ", ".join(
            f"{value:.2f} ({low}->{high})" for (low, high), value in exponents
        ))
    for note in curve.get("notes", []):
        lines.append(f"- {note}")
    return "\n".join(lines)


def write_json(result: dict[str, Any], path: Path) -> None:
    """Write ``result`` as indented JSON (creating the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")
