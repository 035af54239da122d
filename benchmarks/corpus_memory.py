"""Peak memory of ``paee predict`` as the corpus grows: it must stay flat (streamed input, output written as it goes).

    python benchmarks/corpus_memory.py --sizes 1000 20000

The corpus is Re-DocRED dev repeated with new titles, as ``.jsonl``. The model is small on purpose (2 layers,
64 wide, the MiniLM vocabulary): what grows with the corpus is the corpus machinery, not the network, and a small
model keeps 20,000 documents within minutes on 2 cores. Each size runs ``python -m paee_hf predict`` in its own
process; the peak resident memory is the child's ``ru_maxrss``. Writes
``benchmarks/results/corpus_memory-cpu.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: make paee_hf and benchmarks importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from transformers import AutoTokenizer, BertConfig, BertModel  # noqa: E402

from benchmarks.environment import REPO_ROOT, describe_environment  # noqa: E402
from benchmarks.models import calibrate_fact_rate  # noqa: E402
from benchmarks.workloads import minilm_directory, redocred_documents, relation_vocabulary  # noqa: E402
from paee_hf import PaeeForDocumentRelationExtraction  # noqa: E402

_MEASURE = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def small_model(directory: Path) -> Path:
    """A small random PAEE on the MiniLM tokenizer, saved as a checkpoint."""
    tokenizer = AutoTokenizer.from_pretrained(minilm_directory())
    torch.manual_seed(0)
    backbone = directory / "backbone"
    BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=128)).save_pretrained(backbone)
    tokenizer.save_pretrained(backbone)
    relations = [label for label in relation_vocabulary() if label != "Na"]
    model = PaeeForDocumentRelationExtraction.from_encoder(
        str(backbone), relations=relations, matrix_size=42, pair_channels=16, classifier_hidden_size=64,
        bilinear_block_size=8, re_encoder_layers=1)
    calibrate_fact_rate(model, redocred_documents()[:32], 35.0, tokenizer)  # a trained model's fact count
    model.save_pretrained(directory / "model")
    return directory / "model"


def write_corpus(path: Path, size: int) -> None:
    documents = redocred_documents()
    with open(path, "w", encoding="utf-8") as handle:
        for index in range(size):
            document = dict(documents[index % len(documents)])
            document["title"] = f"{document['title']} #{index}"
            document.pop("labels", None)
            handle.write(json.dumps(document) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        model = small_model(work)
        for size in args.sizes:
            corpus = work / f"corpus-{size}.jsonl"
            write_corpus(corpus, size)
            start = time.perf_counter()
            # a fresh parent per size: RUSAGE_CHILDREN's ru_maxrss is the largest child a process ever had
            completed = subprocess.run(
                [sys.executable, "-c", _MEASURE, sys.executable, "-m", "paee_hf", "predict", "--model", str(model),
                 "--input", str(corpus), "--output", str(work / f"out-{size}.jsonl"),
                 "--batch-size", str(args.batch_size)],
                env={**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}, capture_output=True, text=True,
                check=True)
            seconds = time.perf_counter() - start
            lines = completed.stdout.strip().splitlines()
            rows.append({"documents": size, "peak_rss_mib": round(int(lines[-1]) / 1024, 1),
                         "input_mib": round(corpus.stat().st_size / 2**20, 1), "wall_s": round(seconds, 1),
                         "summary": lines[-2]})
            print(rows[-1])
    output = REPO_ROOT / "benchmarks" / "results" / "corpus_memory-cpu.json"
    output.write_text(json.dumps({"environment": describe_environment("cpu"), "command": " ".join(sys.argv),
                                  "rows": rows}, indent=1), encoding="utf-8")
    print(f"written to {output}")


if __name__ == "__main__":
    main()
