"""What a benchmark ran on: machine, load, library versions and the checkout, recorded with every result."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import torch
import transformers

REPO_ROOT = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    """The CPU's marketing name from ``/proc/cpuinfo`` (Linux), else ``platform.processor()``."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def total_memory_gib() -> float | None:
    """Physical memory in GiB from ``/proc/meminfo``; ``None`` where that file does not exist."""
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        return None
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 2**20, 1)
    return None


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages (other processes competing for the cores), ``None`` where unsupported."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def git_revision() -> str:
    """``<commit>`` of the checkout, with ``+dirty`` when tracked files are modified or new files exist."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if status else "")


def describe_environment(device: str) -> dict[str, Any]:
    """Everything needed to interpret (and repeat) a measurement.

    Args:
        device: ``"cpu"`` or a CUDA device string.

    Returns:
        A JSON-ready dict: date, machine, load, thread count, versions and checkout.
    """
    import datasets  # imported here: only for its version

    import paee_hf

    info: dict[str, Any] = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "memory_gib": total_memory_gib(),
        "load_average_1_5_15": load_average(),
        "torch_threads": torch.get_num_threads(),
        "device": device,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "paee_hf": paee_hf.__version__,
        "git": git_revision(),
    }
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info
