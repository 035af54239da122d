"""PNG plots of the scaling curves (matplotlib is optional: without it, plotting is skipped with a message)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_scaling(suite: dict[str, Any], path: Path) -> Path | None:
    """Time and peak memory against size, one column per curve, log-log axes.

    Args:
        suite: Output of :func:`benchmarks.scaling.scaling_suite`.
        path: PNG file to write (its folder is created).

    Returns:
        ``path``, or ``None`` when matplotlib is not installed (a message says how to get it).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
        from matplotlib import ticker
    except ImportError:
        print("plot skipped: matplotlib is not installed (pip install matplotlib)")
        return None
    curves = suite["curves"]
    figure, axes = plt.subplots(2, len(curves), figsize=(6 * len(curves), 8), squeeze=False)
    for column, curve in enumerate(curves):
        sizes = [point["size"] for point in curve["points"]]
        for variant in curve["points"][0]["variants"]:
            results = [point["variants"][variant] for point in curve["points"]]
            axes[0][column].plot(sizes, [result["median_s"] for result in results], marker="o", label=variant)
            peaks = [result.get("memory", {}).get("peak_mib") for result in results]
            if None not in peaks:
                axes[1][column].plot(sizes, peaks, marker="o", label=variant)
        for row, label in enumerate(("seconds per document (median)", "peak MiB above weights")):
            axis = axes[row][column]
            axis.set_xscale("log")
            axis.set_yscale("log")
            axis.set_xlabel(curve["axis"])
            axis.set_ylabel(label)
            axis.set_xticks(sizes, [str(size) for size in sizes])
            axis.xaxis.set_minor_locator(ticker.NullLocator())  # log minor labels would overprint the sizes
            axis.grid(True, which="both", alpha=0.3)
            if axis.lines:  # the memory row is empty when memory was not measured
                axis.legend()
        axes[0][column].set_title(curve["title"])
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
