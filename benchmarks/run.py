"""Run the paee-hf benchmarks: print Markdown tables, write JSON (and the scaling plot).

Examples::

    python benchmarks/run.py --suite inference                 # MiniLM on Re-DocRED dev + BERT-base shape, CPU
    python benchmarks/run.py --suite all --quick               # a few documents, 2 rounds: checks that it runs
    python benchmarks/run.py --suite scaling --backbone minilm
    python benchmarks/run.py --suite inference --device cuda --dtype bfloat16 --backbone bert-base \\
        --backbone roberta-large --threads 8

Every table compares variants timed in interleaved rounds (see ``benchmarks/timing.py``); ratios are medians of
per-round ratios with their min-max spread. Results: ``benchmarks/results/<suite>-<backbones>-<device>-<dtype>.json``
(with the machine, load, versions and this command), summarised by hand in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script from a checkout: make paee_hf and benchmarks importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchmarks.comparison import Options  # noqa: E402
from benchmarks.environment import REPO_ROOT, describe_environment, load_average  # noqa: E402
from benchmarks.models import BACKBONES, VARIANTS  # noqa: E402
from benchmarks.optimisations import optimisation_suite  # noqa: E402
from benchmarks.plots import plot_scaling  # noqa: E402
from benchmarks.report import (  # noqa: E402
    comparison_markdown,
    optimisation_markdown,
    scaling_markdown,
    stages_markdown,
    write_json,
)
from benchmarks.scaling import scaling_suite  # noqa: E402
from benchmarks.suites import table_suite  # noqa: E402

SUITES = ("inference", "training", "scaling", "optimisations")
DEFAULT_BACKBONES = {
    "inference": ["minilm", "bert-base"], "training": ["minilm", "bert-base"], "scaling": ["minilm"],
    "optimisations": ["minilm", "bert-base"],
}
#: Documents per batch by (suite, device type). On the CPU one document per batch is fastest (no padding: see the
#: batching experiment in RESULTS.md); a GPU needs batches to fill.
DEFAULT_BATCH_SIZE = {
    ("inference", "cpu"): 1, ("training", "cpu"): 2, ("inference", "cuda"): 8, ("training", "cuda"): 4,
}
#: Optimisation experiment -> (default backbone, documents); with --backbone, its first value is used for all.
OPTIMISATION_DEFAULTS = {"batching": ("minilm", 16), "chunking": ("bert-base", 8), "compile": ("minilm", 8)}


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (see ``--help``)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=(*SUITES, "all"), default="all")
    parser.add_argument("--backbone", action="append", choices=BACKBONES,
                        help="backbone shape (repeatable); default per suite: " + str(DEFAULT_BACKBONES))
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:index]")
    parser.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="float32",
                        help="inference: the model is cast; training: autocast with float32 weights")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch.set_num_threads for every variant and probe (1 is steadiest on a busy machine)")
    parser.add_argument("--clock", choices=("cpu", "wall"),
                        help="clock of the tables (default: cpu = process CPU time on a CPU, wall on a GPU)")
    parser.add_argument("--repeats", type=int, help="timed interleaved rounds (default 3, quick 2)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--documents", type=int, help="documents per table (default depends on the backbone)")
    parser.add_argument("--batch-size", type=int,
                        help="documents per batch (default: CPU inference 1, training 2; GPU inference 8, training 4)")
    parser.add_argument("--quick", action="store_true",
                        help="few documents, small scaling sizes, 2 rounds, no torch.compile experiment")
    parser.add_argument("--extra-variant", action="append", choices=sorted(set(VARIANTS) - {"backbone"}),
                        help="inference/training: also time this variant (repeatable), e.g. paee_bert_base_heads")
    parser.add_argument("--synthetic", action="store_true",
                        help="synthetic documents with Re-DocRED dev statistics instead of the real ones")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    parser.add_argument("--no-profile", action="store_true", help="skip the stage breakdown and operator profile")
    parser.add_argument("--results-dir", type=Path, default=REPO_ROOT / "benchmarks" / "results")
    parser.add_argument("--plots-dir", type=Path, default=REPO_ROOT / "benchmarks" / "plots")
    arguments = parser.parse_args(argv)
    if arguments.threads < 1 or (arguments.repeats is not None and arguments.repeats < 1):
        parser.error("--threads and --repeats must be >= 1")
    if arguments.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {arguments.device}: CUDA is not available on this machine")
    return arguments


def run_suite(suite: str, arguments: argparse.Namespace, options: Options) -> tuple[dict[str, Any], str]:
    """Run one suite; return its result and its Markdown report."""
    backbones = arguments.backbone or DEFAULT_BACKBONES[suite]
    if suite == "scaling":
        result = {"suite": "scaling", "curves": []}
        for backbone in backbones:
            result["curves"] += scaling_suite(backbone, options, arguments.quick)["curves"]
        return result, "\n\n".join(scaling_markdown(curve) for curve in result["curves"])
    if suite == "optimisations":
        result = optimisation_suite(
            {name: (arguments.backbone or [backbone])[0] for name, (backbone, _) in OPTIMISATION_DEFAULTS.items()},
            options,
            {name: arguments.documents or (4 if arguments.quick else count)
             for name, (_, count) in OPTIMISATION_DEFAULTS.items()},
            arguments.synthetic,
            with_compile=not arguments.quick,  # compilation alone takes minutes
        )
        return result, "\n\n".join(optimisation_markdown(table) for table in result["tables"])
    batch_size = arguments.batch_size or DEFAULT_BATCH_SIZE[suite, torch.device(arguments.device).type]
    result = table_suite(
        suite, backbones, options, arguments.documents, batch_size, arguments.quick, arguments.synthetic,
        arguments.extra_variant,
    )
    sections = []
    for table in result["tables"]:
        sections.append(comparison_markdown(table))
        if table.get("note"):
            sections.append(f"Note: {table['note']}")
        if "stages" in table:
            sections.append(stages_markdown(table["stages"]))
    return result, "\n\n".join(sections)


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Run the chosen suites; print their tables; write JSON (and the scaling plot).

    Returns:
        Suite name -> the JSON document written for it.
    """
    arguments = parse_arguments(argv)
    torch.set_num_threads(arguments.threads)
    options = Options(
        device=arguments.device, dtype=arguments.dtype, threads=arguments.threads,
        clock=arguments.clock or ("cpu" if arguments.device == "cpu" else "wall"),
        repeats=arguments.repeats or (2 if arguments.quick else 3), warmup=arguments.warmup,
        memory=not arguments.no_memory, profile=not arguments.no_profile,
    )
    command = "python benchmarks/run.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    documents = {}
    for suite in SUITES if arguments.suite == "all" else (arguments.suite,):
        environment = describe_environment(arguments.device)
        result, markdown = run_suite(suite, arguments, options)
        environment["load_average_after"] = load_average()
        backbones = "+".join(arguments.backbone or DEFAULT_BACKBONES[suite])
        timed_extras = arguments.extra_variant if suite in ("inference", "training") else None
        extras = "".join(f"+{name}" for name in timed_extras or ())
        stem = f"{suite}-{backbones}-{arguments.device.replace(':', '')}-{arguments.dtype}{extras}" + (
            "-quick" if arguments.quick else ""
        )
        document = {"command": command, "environment": environment, "options": options.to_dict(), **result}
        write_json(document, arguments.results_dir / f"{stem}.json")
        print(f"## {suite} ({stem})\n\n{markdown}\n", flush=True)
        if suite == "scaling":
            plot = plot_scaling(result, arguments.plots_dir / f"{stem}.png")
            if plot is not None:
                print(f"plot: {plot}")
        documents[suite] = document
    return documents


if __name__ == "__main__":
    main()
