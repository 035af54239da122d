"""Time comparison of variants on a noisy machine: interleaved rounds, two clocks, medians, paired ratios.

Shared machines drift (other jobs start and stop), so variants are never timed in separate blocks: every round runs
each variant once, in an order rotated from round to round (no variant always runs first, right after another's
cache-warming), and a variant's ratio to the reference is computed per round from the two times of that round, then
summarised by its median and its min-max spread.

Two clocks are read around every step: wall time (``time.perf_counter``, what a user waits; the only meaningful one
on a GPU) and the process's CPU time (``time.process_time``). On a CPU shared with other jobs, wall time also counts
the time the scheduler gives to them; CPU time does not, so with one intra-op thread it is the steadier measure of the
work a variant does (on this project's 2-core machine under load: 6.4-7.5 s CPU for 6.7-11.2 s wall on the same
BERT-base forward). With several threads CPU time also counts their spin-waiting, so use one thread with it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def interleaved_times(
    steps: Mapping[str, Callable[[], None]],
    repeats: int,
    warmup: int = 1,
    synchronize: Callable[[], None] = lambda: None,
    warmup_steps: Mapping[str, Callable[[], None]] | None = None,
) -> dict[str, dict[str, list[float]]]:
    """Time every step ``repeats`` times in rotated interleaved rounds, after ``warmup`` untimed rounds.

    Args:
        steps: Variant name -> a callable doing one unit of work (e.g. a pass over a set of batches).
        repeats: Timed rounds (>= 1).
        warmup: Untimed rounds first (allocator, oneDNN/cuBLAS plans, lazy initialisation).
        synchronize: Waits for queued device work (``torch.cuda.synchronize`` on a GPU).
        warmup_steps: Cheaper callables for the warm-up rounds (e.g. the first batch only); default ``steps``.

    Returns:
        Clock (``"wall"``, ``"cpu"``) -> variant name -> ``repeats`` seconds, in round order.

    Raises:
        ValueError: when ``steps`` is empty or ``repeats < 1``.
    """
    if not steps:
        raise ValueError("steps is empty: give at least one variant to time.")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}.")
    names = list(steps)
    warmup_steps = warmup_steps or steps
    for _ in range(warmup):
        for name in names:
            warmup_steps[name]()
    synchronize()
    times: dict[str, dict[str, list[float]]] = {clock: {name: [] for name in names} for clock in CLOCKS}
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            starts = {clock: read() for clock, read in CLOCKS.items()}
            steps[name]()
            synchronize()
            for clock, read in CLOCKS.items():
                times[clock][name].append(read() - starts[clock])
    return times


def summarize_times(times: Mapping[str, list[float]], reference: str, items: int) -> dict[str, dict[str, Any]]:
    """Median time, throughput and the paired ratio to ``reference`` of every variant.

    Args:
        times: One clock of :func:`interleaved_times`: variant -> seconds (same number of rounds for every variant).
        reference: The variant ratios are taken against (e.g. the backbone alone).
        items: Work items per step (documents), for the throughput.

    Returns:
        Variant -> ``median_s``, ``min_s``, ``max_s``, ``items_per_s`` (items / median time) and ``ratio`` =
        ``{"median", "min", "max"}`` of ``time / reference time`` over the rounds.

    Raises:
        ValueError: when ``reference`` is not timed or the variants have different round counts.
    """
    if reference not in times:
        raise ValueError(f"reference {reference!r} is not among the timed variants {sorted(times)}.")
    rounds = {len(seconds) for seconds in times.values()}
    if len(rounds) != 1:
        raise ValueError(f"every variant needs the same number of rounds to pair ratios, got {sorted(rounds)}.")
    summary = {}
    for name, seconds in times.items():
        median = statistics.median(seconds)
        summary[name] = {
            "median_s": median,
            "min_s": min(seconds),
            "max_s": max(seconds),
            "items_per_s": items / median,
            "ratio": paired_ratio(times, name, reference),
            "seconds": list(seconds),
        }
    return summary


def paired_ratio(times: Mapping[str, list[float]], numerator: str, denominator: str) -> dict[str, float]:
    """``{"median", "min", "max"}`` of ``numerator / denominator`` over rounds timed together."""
    ratios = [mine / theirs for mine, theirs in zip(times[numerator], times[denominator])]
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios)}
