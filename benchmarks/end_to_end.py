"""End to end, as a user runs it: ``model.predict`` (featurize + forward + decode) against the backbone alone
(tokenize + forward), on real Re-DocRED documents, at several batch sizes.

    python benchmarks/end_to_end.py --backbone bert-base --documents 32 --batch-size 1 --batch-size 4

The variants see the same documents in the same length-bucketed batches (``model.predict`` buckets by length; the
backbone gets its batches sorted the same way), timed in interleaved rounds with one thread (CPU time, see
``benchmarks/timing.py``). A third variant, the backbone on PAEE's own token ids (entity markers included), separates
what the markers' extra tokens cost from what the PAEE heads cost. ``model.predict`` is also split into its stages
(featurize, collate, forward, decode) to show where time outside the forward pass goes. The untrained PAEE is
calibrated to decode a trained model's number of facts (``--facts-per-document``, default 35: Re-DocRED's gold
rate), since decoding costs per fact. Writes ``benchmarks/results/end_to_end-<backbone>-cpu-float32.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: make paee_hf and benchmarks importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

from benchmarks.environment import REPO_ROOT, describe_environment  # noqa: E402
from benchmarks.models import build_model, calibrate_fact_rate  # noqa: E402
from benchmarks.timing import interleaved_times, summarize_times  # noqa: E402
from benchmarks.workloads import minilm_directory, redocred_documents  # noqa: E402
from paee_hf.prediction import DecodingOptions, RelationPredictor, _length_buckets  # noqa: E402


def backbone_step(backbone, tokenizer, texts: list[str], batch_size: int):
    """Tokenize and encode ``texts`` (already in bucketed order) ``batch_size`` at a time."""
    def step() -> None:
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                encoded = tokenizer(texts[start : start + batch_size], padding=True, truncation=True,
                                    max_length=512, return_tensors="pt")
                backbone(**encoded)
    return step


def marked_backbone_step(backbone, predictor, features: list[dict], batch_size: int):
    """The backbone alone on PAEE's own token ids (entity markers included), batched as ``model.predict`` does:
    separates the cost of the markers' extra tokens from that of the PAEE heads. Cut at the backbone's length, as
    the plain-text baseline is (MiniLM: 512; a few marked Re-DocRED documents are longer)."""
    limit = backbone.config.max_position_embeddings

    def step() -> None:
        with torch.inference_mode():
            for chunk in _length_buckets(features, batch_size):
                batch = predictor.collator([features[index] for index in chunk])
                backbone(input_ids=batch["input_ids"][:, :limit], attention_mask=batch["attention_mask"][:, :limit])
    return step


def stage_times(model, tokenizer, documents: list[dict], batch_size: int, repeats: int) -> dict[str, float]:
    """Median CPU seconds of each stage of ``model.predict`` over the documents."""
    predictor = RelationPredictor(model, tokenizer)
    records: dict[str, list[float]] = {"featurize": [], "collate": [], "forward": [], "decode": []}
    for _ in range(repeats):
        spent = dict.fromkeys(records, 0.0)
        start = time.process_time()
        features = predictor.featurize(documents)
        spent["featurize"] += time.process_time() - start
        for chunk in _length_buckets(features, batch_size):
            start = time.process_time()
            batch = predictor.collator([features[i] for i in chunk])
            spent["collate"] += time.process_time() - start
            start = time.process_time()
            scored = predictor.score_batch(batch)
            spent["forward"] += time.process_time() - start
            start = time.process_time()
            predictor.decode([documents[i] for i in chunk], scored, DecodingOptions())
            spent["decode"] += time.process_time() - start
        for stage, seconds in spent.items():
            records[stage].append(seconds)
    return {stage: statistics.median(seconds) for stage, seconds in records.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="bert-base", choices=("bert-base", "minilm"))
    parser.add_argument("--documents", type=int, default=32)
    parser.add_argument("--batch-size", type=int, action="append", dest="batch_sizes")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--facts-per-document", type=float, default=35.0,
                        help="facts the untrained model is calibrated to decode (Re-DocRED dev: 34.6 gold)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    batch_sizes = args.batch_sizes or [1, 4]
    tokenizer = AutoTokenizer.from_pretrained(minilm_directory())  # bert-base-uncased's vocabulary
    documents = redocred_documents()[: args.documents]
    model = build_model(args.backbone, "paee")
    model.tokenizer = tokenizer
    facts_per_document = calibrate_fact_rate(model, documents, args.facts_per_document, tokenizer)
    backbone = build_model(args.backbone, "backbone")
    predictor = model.predictor()
    features = predictor.featurize(documents)
    order = [index for chunk in _length_buckets(features, len(features)) for index in chunk]
    texts = [" ".join(word for sentence in documents[index]["sents"] for word in sentence) for index in order]
    plain_tokens = sum(len(ids) for ids in tokenizer(texts)["input_ids"])
    results = {"environment": describe_environment("cpu"), "command": " ".join(sys.argv), "documents": len(documents),
               "tokens": sum(len(feature["input_ids"]) for feature in features), "tokens_without_markers": plain_tokens,
               "facts_per_document": facts_per_document, "batch_sizes": {}}
    for batch_size in batch_sizes:
        steps = {
            "backbone": backbone_step(backbone, tokenizer, texts, batch_size),
            "backbone_on_marked_ids": marked_backbone_step(backbone, predictor, features, batch_size),
            "paee_predict": lambda batch_size=batch_size: model.predict(documents, batch_size=batch_size),
        }
        times = interleaved_times(steps, repeats=args.repeats)
        summary = {clock: summarize_times(times[clock], "backbone", len(documents)) for clock in times}
        stages = stage_times(model, tokenizer, documents, batch_size, repeats=args.repeats)
        facts = sum(map(len, model.predict(documents, batch_size=batch_size)))
        results["batch_sizes"][batch_size] = {"times": summary, "stages_cpu_s": stages, "facts_decoded": facts}
        ratio = summary["cpu"]["paee_predict"]["ratio"]
        marked = summary["cpu"]["backbone_on_marked_ids"]["ratio"]
        total = sum(stages.values())
        print(f"batch {batch_size}: model.predict / backbone (tokenize + forward) = {ratio['median']:.3f}x "
              f"[{ratio['min']:.3f}-{ratio['max']:.3f}] CPU time (backbone on PAEE's marked ids: "
              f"{marked['median']:.3f}x); stages: "
              + ", ".join(f"{stage} {100 * seconds / total:.1f}%" for stage, seconds in stages.items())
              + f"; {facts} facts decoded")
    output = REPO_ROOT / "benchmarks" / "results" / f"end_to_end-{args.backbone}-cpu-float32.json"
    output.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"written to {output}")


if __name__ == "__main__":
    main()
