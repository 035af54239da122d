"""How close related entities sit in the pair matrix under each entity order (paper section 2), from the data alone.

    python benchmarks/entity_order_locality.py

The paper lays entities out by first appearance so that the pair matrix is local: sliding filling and the TNet pair
encoder (3x3 convolutions, 14-cell windows) see related pairs side by side. This measures, for Re-DocRED dev and
DWIE dev, the index distance ``|i - j|`` between the two entities of every relational pair, against all ordered
pairs, under ``first_mention`` (the featurizer's :func:`paee_hf.featurizer.first_appearance_order`) and ``as_given``
(``vertexSet`` order), and the share of relational pairs whose entities are fewer than ``TNET_WINDOW`` apart.
Writes ``benchmarks/results/entity_order_locality.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: make paee_hf and benchmarks importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.quality_redocred import DEFAULT_DATA, REPO  # noqa: E402
from paee_hf.featurizer import first_appearance_order  # noqa: E402

#: The default TNet window (``PaeeConfig.tnet_window_size``).
TNET_WINDOW = 14
DATASETS = {"Re-DocRED dev": Path("re-docred/dev_revised.json"), "DWIE dev": Path("dwie/dev.json")}


def order_locality(documents: list[dict], ordering: str) -> dict[str, float]:
    """Mean entity-index distance of relational and of all ordered pairs, and the share of relational pairs closer
    than :data:`TNET_WINDOW`, with entities laid out by ``ordering`` (``first_mention`` or ``as_given``)."""
    relational, every_pair = [], []
    for document in documents:
        count = len(document["vertexSet"])
        order = first_appearance_order(document["vertexSet"]) if ordering == "first_mention" else range(count)
        position = {entity: index for index, entity in enumerate(order)}
        relational += [abs(position[head] - position[tail])
                       for head, tail in {(label["h"], label["t"]) for label in document.get("labels", ())}]
        every_pair += [abs(i - j) for i in range(count) for j in range(count) if i != j]
    return {"relational_distance": statistics.mean(relational), "all_pairs_distance": statistics.mean(every_pair),
            "relational_within_window": sum(distance < TNET_WINDOW for distance in relational) / len(relational),
            "relational_pairs": len(relational)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results" / "entity_order_locality.json")
    args = parser.parse_args()
    rows = []
    for name, relative in DATASETS.items():
        path = args.data_dir / relative
        if not path.exists():
            sys.exit(f"{path} not found; pass --data-dir (the shared data folder).")
        documents = json.loads(path.read_text(encoding="utf-8"))
        out_of_order = sum(first_appearance_order(document["vertexSet"]) != list(range(len(document["vertexSet"])))
                           for document in documents)
        for ordering in ("as_given", "first_mention"):
            rows.append({"dataset": name, "ordering": ordering, "documents": len(documents),
                         "documents_out_of_first_mention_order": out_of_order, **order_locality(documents, ordering)})
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"tnet_window": TNET_WINDOW, "rows": rows}, indent=1), encoding="utf-8")
    print(f"{'dataset':<14} {'ordering':<14} {'out of order':>12} {'|i-j| relational':>16} {'|i-j| all':>9} "
          f"{'relational < ' + str(TNET_WINDOW):>15}")
    for row in rows:
        print(f"{row['dataset']:<14} {row['ordering']:<14} "
              f"{row['documents_out_of_first_mention_order']:>5} / {row['documents']:<4} "
              f"{row['relational_distance']:16.2f} {row['all_pairs_distance']:9.2f} "
              f"{100 * row['relational_within_window']:14.1f}%")


if __name__ == "__main__":
    main()
