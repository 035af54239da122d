"""``paee predict`` over corpora of any size: streamed input, output written as documents finish, resumable, and
data-parallel under ``accelerate launch`` / ``torchrun``.

How it works:

* The input is read lazily: a ``.jsonl`` file line by line (DocRED-format or raw-text documents), any other source
  through [`read_documents`] (a DocRED ``.json`` list is parsed whole; that is the file's own cost).
* Each process takes the documents whose index ``i`` satisfies ``i % world_size == rank`` and runs them through the
  one prediction path ([`RelationPredictor.stream`]: windows of ``16 * batch_size`` documents bucketed by length).
* Each process appends one JSON line per document, ``{"index", "title", "relations": [...]}``, to its own work file
  ``OUTPUT.work/rank-R-of-W.jsonl`` and flushes after every window. ``resume`` keeps the complete windows of a killed
  run (cutting off a partial one) and continues with the next, batched exactly as an uninterrupted run batches it, so
  the output is byte-identical.
* When every process is done, the main process merges the work files in index order into OUTPUT, in the requested
  format, writes the optional HTML page from the same records (the model runs once per document), and deletes the
  work directory.
* ``OUTPUT.work/manifest.json`` records the input (path, size, modification time), the model, the decoding
  options and the world size; ``resume`` refuses a work directory made for anything else.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from accelerate import Accelerator, PartialState
from transformers.utils.logging import tqdm  # on or off with transformers' progress-bar switch

from ..cli.html_view import write_predictions_html
from ..data.files import check_writable, read_lines
from ..data.sources import read_documents
from ..metrics import write_codalab_submission
from ..prediction import STREAM_WINDOW_BATCHES, DecodingOptions, RelationPredictor, as_document
from .loading import load_trained_model

OUTPUT_FORMATS = ("docred", "codalab", "jsonl")
_MANIFEST_VERSION = 1


@dataclass
class PredictionSummary:
    """What ``predict_corpus`` did.

    Attributes:
        path: The written output.
        documents: Documents predicted (all of them, including those of an earlier run that was resumed).
        facts: Facts written.
        seconds: Wall time of this run's prediction (not the merge).
        predicted_now: Documents this run predicted (fewer than ``documents`` after a resume).
        tokens: Sub-word tokens this run predicted.
    """

    path: Path
    documents: int
    facts: int
    seconds: float
    predicted_now: int
    tokens: int

    @property
    def documents_per_second(self) -> float:
        return self.predicted_now / self.seconds if self.seconds else 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def predict_corpus(
    model_name_or_path: str | os.PathLike,
    input_file: str | os.PathLike,
    output_file: str | os.PathLike,
    *,
    output_format: str = "jsonl",
    data_format: str = "docred",
    batch_size: int = 8,
    options: DecodingOptions = DecodingOptions(),
    html_file: str | os.PathLike | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool | None = None,
) -> PredictionSummary:
    """Predict every document of ``input_file`` and write the facts (see the module docstring for the mechanics).

    Args:
        model_name_or_path: Trained model directory or Hub id.
        input_file: ``.jsonl`` (one document per line) or any file ``data_format`` reads.
        output_file: Where the predictions go.
        output_format: ``jsonl`` (one line per document with names and scores), ``docred`` (the documents with
            predicted ``labels``) or ``codalab`` (the fact list; ``result.zip`` when the path ends in ``.zip``).
        data_format: Reader of a non-``.jsonl`` input.
        batch_size: Documents per forward pass and process.
        options: Threshold, ``top_k``, ``return_all_scores``, as everywhere else.
        html_file: Also write a page with the documents, their entities and the predicted facts.
        resume: Continue a killed run into the same ``output_file``.
        overwrite: Replace an existing ``output_file`` (and any unfinished run's work files).
        progress: ``False`` hides the progress bar; otherwise it follows transformers' progress-bar switch (which
            ``paee`` sets from the terminal and ``TQDM_DISABLE`` / ``HF_HUB_DISABLE_PROGRESS_BARS``).

    Raises:
        ValueError: Unknown format, an existing output without ``resume``/``overwrite``, a work directory that was made
            for another input, model or options, or an invalid document (named with its index and field).
    """
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"--format {output_format!r} is not supported; use one of {OUTPUT_FORMATS}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        # checked before the work directory exists: a batch of 0 would "finish" having predicted nothing
        raise ValueError(f"batch_size (--batch-size) must be a positive integer, got {batch_size!r}.")
    if options.return_all_scores and output_format != "jsonl":
        raise ValueError("return_all_scores lists every pair's scores and needs --format jsonl.")
    state = Accelerator()  # (not PartialState: only Accelerator follows ACCELERATE_USE_CPU=1 under torchrun)
    output = Path(output_file)
    work_dir = output.with_name(output.name + ".work")
    _check_output(output, work_dir, resume, overwrite)
    if html_file is not None:
        check_writable(html_file, "--html")
    model, tokenizer = load_trained_model(model_name_or_path)
    model.to(state.device).eval()
    manifest = _manifest(input_file, model_name_or_path, options, state.num_processes, output_format,
                         batch_size)
    if state.is_main_process:
        _prepare_work_dir(work_dir, manifest, resume)
    state.wait_for_everyone()
    _check_manifest(work_dir, manifest)
    shard = work_dir / f"rank-{state.process_index}-of-{state.num_processes}.jsonl"
    done = _resume_point(shard, STREAM_WINDOW_BATCHES * batch_size)
    try:
        predicted_now, tokens, seconds = _predict_shard(model, tokenizer, input_file, data_format, shard, done,
                                                        batch_size, options, progress)
    except BaseException:
        if not resume and state.is_main_process and not any(path.stat().st_size for path in work_dir.glob("*.jsonl")):
            shutil.rmtree(work_dir, ignore_errors=True)  # nothing predicted: leave no unfinished run behind
        raise
    state.wait_for_everyone()
    summary = PredictionSummary(output, 0, 0, seconds, predicted_now, tokens)
    if state.is_main_process:
        summary.documents, summary.facts = _merge(work_dir, output, output_format, input_file, data_format, html_file,
                                                  model.config.relation_names)
        shutil.rmtree(work_dir)
    state.wait_for_everyone()
    return summary


def _predict_shard(
    model: Any,
    tokenizer: Any,
    input_file: Any,
    data_format: str,
    shard: Path,
    done: int,
    batch_size: int,
    options: DecodingOptions,
    progress: bool | None,
) -> tuple[int, int, float]:
    """Predict this process's share of the input after its first ``done`` documents, appending to ``shard``.

    Returns:
        Documents predicted, their tokens, seconds.
    """
    state = PartialState()  # the one predict_corpus initialised
    predictor = RelationPredictor(model, tokenizer, source=os.fspath(input_file))
    world, rank = state.num_processes, state.process_index
    mine = itertools.islice(_iter_input(input_file, data_format), rank + done * world, None, world)
    start = time.perf_counter()
    predicted_now = tokens = 0
    bar = tqdm(desc=f"predict (rank {rank})" if world > 1 else "predict", unit="doc", initial=done,
               disable=progress is False)
    with open(shard, "a", encoding="utf-8") as handle:
        stream = predictor.stream(mine, batch_size, options, start=rank + done * world, step=world)
        for window in _windows(stream, STREAM_WINDOW_BATCHES * batch_size):
            handle.write("".join(json.dumps(_record(result.index, result.document, result.facts),
                                            ensure_ascii=False) + "\n" for result in window))
            handle.flush()
            os.fsync(handle.fileno())
            predicted_now += len(window)
            tokens += sum(result.num_tokens for result in window)
            bar.update(len(window))
            elapsed = time.perf_counter() - start
            bar.set_postfix(docs_s=f"{predicted_now / elapsed:.1f}", tokens_s=f"{tokens / elapsed:.0f}")
    bar.close()
    return predicted_now, tokens, time.perf_counter() - start


# ---------------------------------------------------------------------------------------------------------- input
def _iter_input(path: str | os.PathLike, data_format: str) -> Iterator[dict]:
    """Documents of ``path`` in order: ``.jsonl`` lazily, line by line; anything else through its reader."""
    if Path(path).suffix != ".jsonl":
        yield from read_documents(path, data_format)
        return
    for number, line in read_lines(path):
        try:
            yield json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{os.fspath(path)}, line {number}: not valid JSON ({error.msg}); every line must "
                             "be one document object.") from None


def _windows(stream: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(stream)
    while window := list(itertools.islice(iterator, size)):
        yield window


def _record(index: int, document: Mapping[str, Any], facts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"index": index, "title": document.get("title"), "relations": list(facts)}


# ---------------------------------------------------------------------------------------------------------- resume
def _check_output(output: Path, work_dir: Path, resume: bool, overwrite: bool) -> None:
    if resume and overwrite:
        raise ValueError("give --resume or --overwrite, not both.")
    if output.is_dir():
        raise ValueError(f"{output} is a directory; give --output a file path (e.g. {output / 'predictions.jsonl'}).")
    if output.exists() and not overwrite:
        raise ValueError(f"{output} exists; pass --overwrite to replace it"
                         + (" (this run already finished)." if resume else "."))
    if work_dir.exists() and not (resume or overwrite):
        raise ValueError(f"{work_dir} holds an unfinished run into {output}; pass --resume to continue it or "
                         "--overwrite to start again.")
    if output.parent.exists() and not output.parent.is_dir():
        raise ValueError(f"{output}: {output.parent} is a file, not a directory; choose another output path.")
    check_writable(output, "--output")


def _manifest(
    input_file: Any, model: Any, options: DecodingOptions, world_size: int, output_format: str, batch_size: int
) -> dict:
    stat = Path(input_file).stat() if Path(input_file).is_file() else None
    return {"version": _MANIFEST_VERSION, "input": os.path.abspath(input_file),
            "input_size": stat.st_size if stat else None, "input_mtime_ns": stat.st_mtime_ns if stat else None,
            "model": os.fspath(model), "options": asdict(options), "world_size": world_size,
            "format": output_format, "batch_size": batch_size}


def _prepare_work_dir(work_dir: Path, manifest: dict, resume: bool) -> None:
    if work_dir.exists() and not resume:  # --overwrite: start again
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / "manifest.json"
    if not path.exists():
        path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def _check_manifest(work_dir: Path, manifest: dict) -> None:
    recorded = json.loads((work_dir / "manifest.json").read_text(encoding="utf-8"))
    changed = sorted(key for key in manifest if recorded.get(key) != manifest[key])
    if changed:
        details = "; ".join(f"{key}: was {recorded.get(key)!r}, now {manifest[key]!r}" for key in changed)
        raise ValueError(f"--resume: the unfinished run in {work_dir} was made with other settings ({details}); "
                         "resume with the same input, model, options, batch size and number of processes, or pass "
                         "--overwrite.")


def _resume_point(shard: Path, window: int) -> int:
    """Documents of a work file to keep: whole windows only, so that a resumed run batches every remaining document
    exactly as an uninterrupted run does (same padding, hence byte-identical scores). The rest is cut off."""
    if not shard.exists():
        return 0
    data = shard.read_bytes()
    lines = data.count(b"\n")
    keep = lines - lines % window
    end = 0
    for _ in range(keep):
        end = data.index(b"\n", end) + 1
    if end != len(data):
        with open(shard, "r+b") as handle:
            handle.truncate(end)
    return keep


# ---------------------------------------------------------------------------------------------------------- output
def _merge(
    work_dir: Path,
    output: Path,
    output_format: str,
    input_file: Any,
    data_format: str,
    html_file: Any,
    relation_names: Mapping[str, str] | None,
) -> tuple[int, int]:
    """Write OUTPUT from the work files, in index order; returns (documents, facts)."""
    shards = sorted(work_dir.glob("rank-*.jsonl"))
    handles = [open(shard, encoding="utf-8") for shard in shards]
    try:
        records = heapq.merge(*((json.loads(line) for line in handle) for handle in handles),
                              key=lambda record: record["index"])
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".partial")
        if output_format == "jsonl" and html_file is None:
            documents = facts = 0
            with open(partial, "w", encoding="utf-8") as out:
                for expected, record in enumerate(records):
                    _check_index(record, expected)
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                    documents, facts = documents + 1, facts + len(record["relations"])
        else:
            records = list(records)
            for expected, record in enumerate(records):
                _check_index(record, expected)
            documents, facts = len(records), sum(len(record["relations"]) for record in records)
            _write_whole(partial, output, output_format, records, input_file, data_format, html_file, relation_names)
        os.replace(partial, output)
    finally:
        for handle in handles:
            handle.close()
    return documents, facts


def _check_index(record: Mapping[str, Any], expected: int) -> None:
    if record["index"] != expected:
        raise RuntimeError(f"prediction work files hold document {record['index']} where {expected} was expected; "
                           "they are incomplete or duplicated. Run again with --overwrite.")


def _write_whole(
    partial: Path,
    output: Path,
    output_format: str,
    records: list[dict],
    input_file: Any,
    data_format: str,
    html_file: Any,
    relation_names: Mapping[str, str] | None,
) -> None:
    """Formats that need every document at once (and the HTML page)."""
    originals = documents = None
    if output_format == "docred" or html_file is not None:
        originals = list(_iter_input(input_file, data_format))
        documents = [as_document(document, index, os.fspath(input_file)) for index, document in enumerate(originals)]
    if output_format == "jsonl":
        with open(partial, "w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif output_format == "codalab":
        facts = [{"title": record["title"], "h_idx": fact["h_idx"], "t_idx": fact["t_idx"], "r": fact["r"],
                  **({"evidence": fact["evidence"]} if "evidence" in fact else {})}
                 for record in records for fact in record["relations"]]
        if output.suffix == ".zip":
            write_codalab_submission(facts, partial.with_suffix(".zip"))
            os.replace(partial.with_suffix(".zip"), partial)
        else:
            partial.write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")
    else:
        labelled = [{**{key: value for key, value in document.items() if key != "labels"},
                     "labels": [{"h": fact["h_idx"], "t": fact["t_idx"], "r": fact["r"],
                                 "evidence": fact.get("evidence", [])}
                                for fact in record["relations"]]}
                    for document, record in zip(documents, records, strict=True)]
        partial.write_text(json.dumps(labelled, ensure_ascii=False), encoding="utf-8")
    if html_file is not None:
        # the originals: raw text is shown as written, not as the words it was split into
        write_predictions_html(html_file, originals, [record["relations"] for record in records],
                               title=f"PAEE predictions: {Path(input_file).name}", relation_names=relation_names)
