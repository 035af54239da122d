"""Peak memory of a variant, measured in a fresh process so that no other variant's allocations count.

On a GPU the measure is ``torch.cuda.max_memory_allocated`` above what is allocated before the pass. On the CPU torch
keeps no allocator statistics, so the measure is the process's resident memory: the Linux high-water mark (VmHWM) is
reset through ``/proc/self/clear_refs`` right before the pass and read after it; minus the resident memory before the
pass, that is the pass's working memory (activations, gradients, temporaries) on top of the weights, optimizer state
and inputs. glibc keeps freed blocks below its (adaptive) mmap threshold, which would hide reuse; the probe process
runs with a fixed ``MALLOC_MMAP_THRESHOLD_`` so large tensors go back to the system when freed. Where the high-water
mark cannot be reset (not Linux), each workload gets its own process and only the process peak (``ru_maxrss``) is
reported.

Run as ``python -m benchmarks.memory '<json spec>'`` by :func:`measure_peak_memory`; it prints one JSON line.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from benchmarks.environment import REPO_ROOT

_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")
_MIB = 2**20


def peak_reset_supported() -> bool:
    """Whether this process can reset its resident-memory high-water mark (Linux >= 4.0)."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def _status_kib(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{_STATUS} has no {field} line.")


class PeakMemory:
    """Context manager measuring the peak memory of its body; read :attr:`result` after the ``with`` block.

    ``result`` holds ``peak_mib`` (working memory above the start, ``None`` when it cannot be isolated),
    ``process_peak_mib`` (process high-water or the device's peak allocation) and ``baseline_mib``.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.result: dict[str, float | None] = {}
        self._baseline = 0.0

    def __enter__(self) -> PeakMemory:
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._baseline = torch.cuda.memory_allocated(self.device) / _MIB
        elif peak_reset_supported():
            self._baseline = _status_kib("VmRSS") / 1024
        else:
            self._baseline = float("nan")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device) / _MIB
        elif self._baseline == self._baseline:  # not NaN: the high-water mark was reset on entry
            peak = _status_kib("VmHWM") / 1024
        else:
            scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB on Linux
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / _MIB
            self.result = {"peak_mib": None, "process_peak_mib": peak, "baseline_mib": None}
            return
        # Linux syncs a thread's RSS counters into VmRSS/VmHWM only every 64 page faults, so a body that allocates
        # nothing can read a few KiB below the baseline: that is zero working memory, not a negative one.
        self.result = {"peak_mib": max(peak - self._baseline, 0.0), "process_peak_mib": peak,
                       "baseline_mib": self._baseline}


def measure_peak_memory(spec: dict[str, Any], workloads: dict[str, list[dict[str, torch.Tensor]]]) -> dict[str, Any]:
    """Peak memory of one variant on each workload, measured in fresh processes.

    Args:
        spec: ``backbone``, ``variant``, ``mode`` (``"inference"`` or ``"training"``), ``device``, ``dtype``,
            ``threads`` and ``keep_fraction`` (for ``paee_pruned``).
        workloads: Workload name -> batches, measured in this order (smallest first: its first batch is the warm-up).

    Returns:
        Workload name -> :class:`PeakMemory` result (plus ``kept_fraction`` for ``paee_pruned``).

    Raises:
        RuntimeError: with the probe's error output when it fails (e.g. killed for lack of memory).
    """
    groups = [list(workloads)] if peak_reset_supported() else [[name] for name in workloads]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="paee-memory-") as directory:
        for group in groups:
            batches_file = Path(directory) / "batches.pt"
            torch.save({name: workloads[name] for name in group}, batches_file)
            results.update(_run_probe({**spec, "batches_file": str(batches_file)}))
    return results


def _run_probe(spec: dict[str, Any]) -> dict[str, Any]:
    environment = {
        **os.environ,
        "MALLOC_MMAP_THRESHOLD_": "65536",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", json.dumps(spec)],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"memory probe for {spec['variant']} on {spec['backbone']} failed with exit code {completed.returncode} "
            f"(a negative code is a signal, e.g. -9 = killed for lack of memory):\n{completed.stderr[-3000:]}"
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _probe(spec: dict[str, Any]) -> dict[str, Any]:
    """Body of the probe process: build the variant, warm up on one batch, measure a pass per workload."""
    from benchmarks.models import build_model, calibrate_pair_pruning
    from benchmarks.steps import (
        inference_pass,
        make_optimizer,
        move_batches,
        training_pass,
    )

    torch.set_num_threads(spec["threads"])
    device = torch.device(spec["device"])
    dtype = getattr(torch, spec["dtype"])
    workloads = torch.load(spec["batches_file"])
    model = build_model(spec["backbone"], spec["variant"]).to(device)
    training = spec["mode"] == "training"
    if training:
        optimizer = make_optimizer(model)  # one optimizer: its state, created in the warm-up, is not measured
    else:
        model = model.to(dtype)

    def make_pass(batches: list[dict[str, torch.Tensor]]) -> Callable[[], None]:
        return training_pass(model, batches, dtype, optimizer) if training else inference_pass(model, batches)

    results: dict[str, Any] = {}
    for index, (name, batches) in enumerate(workloads.items()):
        batches = move_batches(batches, device)
        kept = None
        if spec["variant"] == "paee_pruned":
            kept = calibrate_pair_pruning(model, batches, spec["keep_fraction"])
        if index == 0:
            make_pass(batches[:1])()
        run = make_pass(batches)
        with PeakMemory(device) as meter:
            run()
        results[name] = meter.result | ({"kept_fraction": kept} if kept is not None else {})
    return results


if __name__ == "__main__":
    print(json.dumps(_probe(json.loads(sys.argv[1]))))
