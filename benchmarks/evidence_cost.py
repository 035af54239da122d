"""What evidence costs at inference: ``model.predict`` with the evidence scorer against the same model without it.

    python benchmarks/evidence_cost.py --documents 32 --batch-size 4 --repeats 5

Both models are the MiniLM PAEE of the Re-DocRED quality comparison (``benchmarks/quality_redocred.py``'s sizes),
with identical weights apart from the scorer, calibrated to decode Re-DocRED's gold rate of facts (decoding, and
evidence decoding, cost per fact). They see the same documents in the same batches, timed in interleaved rounds
with one thread (CPU time, see ``benchmarks/timing.py``). Writes ``benchmarks/results/evidence_cost-cpu.json``.
With ``--model DIR`` a trained ``use_evidence`` checkpoint is timed against itself loaded with ``use_evidence=False``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: make paee_hf and benchmarks importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

from benchmarks.environment import REPO_ROOT, describe_environment  # noqa: E402
from benchmarks.models import build_model, calibrate_fact_rate  # noqa: E402
from benchmarks.quality_redocred import MODEL  # noqa: E402
from benchmarks.timing import interleaved_times, summarize_times  # noqa: E402
from benchmarks.workloads import minilm_directory, redocred_documents  # noqa: E402
from paee_hf import PaeeForDocumentRelationExtraction  # noqa: E402


def paired_models(model_dir: str | None, documents: list[dict], facts_per_document: float, tokenizer):
    """(without evidence, with evidence): the same relation weights."""
    if model_dir is not None:
        with_evidence = PaeeForDocumentRelationExtraction.from_pretrained(model_dir).eval()
        if not with_evidence.config.use_evidence:
            raise SystemExit(f"{model_dir} was not trained with use_evidence=True.")
        without = PaeeForDocumentRelationExtraction.from_pretrained(model_dir, use_evidence=False).eval()
        return without, with_evidence
    without = build_model("minilm", "paee", **MODEL)
    without.tokenizer = tokenizer
    calibrate_fact_rate(without, documents, facts_per_document, tokenizer)
    with_evidence = build_model("minilm", "paee", use_evidence=True, **MODEL)
    missing, unexpected = with_evidence.load_state_dict(without.state_dict(), strict=False)
    if unexpected or any(not key.startswith("evidence_scorer.") for key in missing):
        raise RuntimeError(f"the two models differ beyond the scorer: {missing}, {unexpected}")
    with_evidence.tokenizer = tokenizer
    return without, with_evidence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--facts-per-document", type=float, default=35.0)
    parser.add_argument("--model", help="a trained use_evidence checkpoint instead of the untrained MiniLM PAEE")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(minilm_directory())
    documents = redocred_documents()[: args.documents]
    without, with_evidence = paired_models(args.model, documents, args.facts_per_document, tokenizer)
    steps = {
        "paee": lambda: without.predict(documents, batch_size=args.batch_size),
        "paee_with_evidence": lambda: with_evidence.predict(documents, batch_size=args.batch_size),
    }
    times = interleaved_times(steps, repeats=args.repeats)
    summary = {clock: summarize_times(times[clock], "paee", len(documents)) for clock in times}
    facts = sum(map(len, with_evidence.predict(documents, batch_size=args.batch_size)))
    same = without.predict(documents[:4], batch_size=args.batch_size) == [
        [{key: value for key, value in fact.items() if key not in ("evidence", "evidence_spans")} for fact in facts]
        for facts in with_evidence.predict(documents[:4], batch_size=args.batch_size)]
    ratio = summary["cpu"]["paee_with_evidence"]["ratio"]
    print(f"model.predict with evidence / without = {ratio['median']:.3f}x [{ratio['min']:.3f}-{ratio['max']:.3f}] "
          f"CPU time, batch {args.batch_size}, {len(documents)} documents, {facts} facts; same facts: {same}")
    results = {"environment": describe_environment("cpu"), "command": " ".join(sys.argv), "model": args.model,
               "documents": len(documents), "batch_size": args.batch_size, "facts": facts, "same_facts": same,
               "times": summary}
    output = REPO_ROOT / "benchmarks" / "results" / "evidence_cost-cpu.json"
    output.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"written to {output}")


if __name__ == "__main__":
    main()
