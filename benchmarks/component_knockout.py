"""How much a trained PAEE relies on sliding-window filling and on PPP's tag: switch each off at inference only.

    python benchmarks/component_knockout.py --model WORK/evidence_only/model --dev WORK/dev100.json \\
        --train WORK/train400.json

Table 5 retrains without a component; this asks the trained model instead. The same weights are scored on the
labelled split as trained, then with the pair canvas zero-padded instead of tiled (``filling="zero"``, section 2.2),
and with PPP's tag of eq. 5 held at 0 and at 1 for every pair (the hard tag is ``probability >= lambda``; lambda is
set past 1, then to 0). A knockout that costs little F1 is one the classifier has learned to do without. Writes
``benchmarks/results/component_knockout.json`` (one entry per model, so runs for several seeds accumulate).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: make paee_hf and benchmarks importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.environment import REPO_ROOT  # noqa: E402
from benchmarks.ppp_quality import relation_f1  # noqa: E402
from benchmarks.workloads import add_checkpoint_split_arguments, read_checkpoint_split  # noqa: E402

#: Knockout name -> what it sets on the model's pair-aware module (empty: the model as trained).
KNOCKOUTS: dict[str, dict[str, object]] = {
    "as trained": {},
    "zero filling instead of sliding": {"filling": "zero"},
    "PPP tag 0 for every pair": {"ppp_threshold": 1.01},
    "PPP tag 1 for every pair": {"ppp_threshold": 0.0},
}


@contextlib.contextmanager
def knocked_out(model, name: str) -> Iterator[None]:
    """Apply knockout ``name`` to ``model`` inside the block; the trained settings come back on exit."""
    changes = KNOCKOUTS[name]
    trained = {attribute: getattr(model.pair_aware, attribute) for attribute in changes}
    for attribute, value in changes.items():
        setattr(model.pair_aware, attribute, value)
    try:
        yield
    finally:
        for attribute, value in trained.items():
            setattr(model.pair_aware, attribute, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_checkpoint_split_arguments(parser, "a PAEE checkpoint trained with sliding filling and the hard PPP tag",
                                   REPO_ROOT / "benchmarks" / "results" / "component_knockout.json")
    args = parser.parse_args()
    model, documents, train = read_checkpoint_split(args)
    config = model.config
    if not (config.use_par and config.use_ppp and config.filling == "sliding" and config.ppp_feature == "hard"):
        raise SystemExit(f"{args.model} is not a PAEE with PAR, sliding filling and the hard PPP tag.")
    rows = {}
    for name in KNOCKOUTS:
        with knocked_out(model, name):
            rows[name] = relation_f1(model, documents, train, args.batch_size)
        print(f"{name:<34} F1 {rows[name]['f1']:6.2f} (Ign {rows[name]['ign_f1']:6.2f}, "
              f"{rows[name]['f1'] - rows['as trained']['f1']:+.2f})", flush=True)
    results = json.loads(args.output.read_text(encoding="utf-8")) if args.output.exists() else {}
    results[str(args.model)] = {"documents": len(documents), "rows": rows}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
