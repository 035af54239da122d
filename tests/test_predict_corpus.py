"""`paee predict` over whole corpora: streamed input, formats, refusals, and resuming after SIGKILL byte for byte."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile

import pytest
from prediction_fixtures import RAW_DOCUMENT, TEXT
from tiny_models import scaled_timeout

from paee_hf.corpus.predict_corpus import predict_corpus
from paee_hf.prediction import DecodingOptions

#: Kill points tried in the default run; PAEE_KILL_POINTS raises it for a dedicated run (e.g. 20).
KILL_POINTS = int(os.environ.get("PAEE_KILL_POINTS", "3"))


def corpus(count: int) -> list[dict]:
    """Raw-text documents of varied lengths (so that length bucketing reorders them inside a window)."""
    documents = []
    for index in range(count):
        repeat = 1 + index % 4
        documents.append({"title": f"doc {index}", "text": " ".join([TEXT] * repeat),
                          "entities": RAW_DOCUMENT["entities"][: 2 + index % 3]})
    return documents


def write_jsonl(path, documents):
    path.write_text("".join(json.dumps(document) + "\n" for document in documents))
    return path


def test_jsonl_output_is_one_line_per_document_in_input_order(model, model_dir, tmp_path):
    documents = corpus(11)
    source = write_jsonl(tmp_path / "in.jsonl", documents)
    summary = predict_corpus(model_dir, source, tmp_path / "out.jsonl", batch_size=2,
                             options=DecodingOptions(threshold=0.3))
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [record["index"] for record in records] == list(range(11))
    assert [record["title"] for record in records] == [document["title"] for document in documents]
    expected = model.predict(documents, threshold=0.3)
    assert [[(f["h_idx"], f["t_idx"], f["r"]) for f in record["relations"]] for record in records] == [
        [(f["h_idx"], f["t_idx"], f["r"]) for f in facts] for facts in expected]
    assert summary.documents == summary.predicted_now == 11 and summary.facts == sum(map(len, expected)) > 0
    assert summary.tokens > 0 and summary.documents_per_second > 0
    assert not (tmp_path / "out.jsonl.work").exists()


def test_other_formats_and_the_html_page_come_from_one_pass(model_dir, tmp_path, monkeypatch):
    from paee_hf.prediction import RelationPredictor

    calls = []
    real_score = RelationPredictor.score
    monkeypatch.setattr(RelationPredictor, "score", lambda self, features, model=None: (
        calls.append(len(features)), real_score(self, features, model))[1])
    source = write_jsonl(tmp_path / "in.jsonl", corpus(5))
    options = DecodingOptions(threshold=0.3)
    predict_corpus(model_dir, source, tmp_path / "result.zip", output_format="codalab", options=options,
                   html_file=tmp_path / "view.html")
    assert sum(calls) == 5  # every document scored once, the page included
    with zipfile.ZipFile(tmp_path / "result.zip") as archive:
        facts = json.loads(archive.read("result.json"))
    assert facts and set(facts[0]) == {"title", "h_idx", "t_idx", "r"}
    page = (tmp_path / "view.html").read_text()
    assert "doc 4" in page and "country" in page
    predict_corpus(model_dir, source, tmp_path / "docred.json", output_format="docred", options=options)
    labelled = json.loads((tmp_path / "docred.json").read_text())
    assert [len(document["labels"]) for document in labelled] == [
        sum(fact["title"] == document["title"] for fact in facts) for document in labelled]


def test_refusals_name_the_fix(model_dir, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", corpus(3))
    output = tmp_path / "out.jsonl"
    predict_corpus(model_dir, source, output)
    with pytest.raises(ValueError, match="out.jsonl exists; pass --overwrite to replace it"):
        predict_corpus(model_dir, source, output)
    (output.with_name("out.jsonl.work")).mkdir()
    output.unlink()
    with pytest.raises(ValueError, match="holds an unfinished run .* pass --resume to continue it or --overwrite"):
        predict_corpus(model_dir, source, output)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(RAW_DOCUMENT) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"bad.jsonl, line 2: not valid JSON"):
        predict_corpus(model_dir, bad, tmp_path / "bad-out.jsonl")
    assert not (tmp_path / "bad-out.jsonl.work").exists()  # nothing predicted: no unfinished run left behind
    with pytest.raises(ValueError, match="return_all_scores .* needs --format jsonl"):
        predict_corpus(model_dir, source, tmp_path / "x.json", output_format="docred",
                       options=DecodingOptions(return_all_scores=True))


def test_resume_refuses_a_run_made_for_other_settings(model_dir, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", corpus(3))
    work = tmp_path / "out.jsonl.work"
    work.mkdir()
    (work / "manifest.json").write_text(json.dumps({"input": "/elsewhere.jsonl"}))
    with pytest.raises(ValueError, match=r"made with other settings \(.*input: was '/elsewhere.jsonl'"):
        predict_corpus(model_dir, source, tmp_path / "out.jsonl", resume=True)


def shard_lines(shard) -> int | None:
    """Lines the work file holds now (``None``: no work file yet)."""
    return shard.read_bytes().count(b"\n") if shard.exists() else None


def run_and_kill(command, shard, delay=None, after_lines=None):
    """Start ``command``; SIGKILL it once its work file holds ``after_lines`` lines (a point fixed by progress,
    whatever the machine's speed or load), or else ``delay`` seconds after its start (anywhere: loading, writing,
    merging); returns the lines its work file held when it died (``None``: it had none)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"})
    try:
        if after_lines is not None:
            deadline = time.monotonic() + scaled_timeout(600)  # a hang backstop only
            while process.poll() is None and (shard_lines(shard) or 0) < after_lines:
                assert time.monotonic() < deadline, f"no {after_lines} lines in {shard} after {scaled_timeout(600)} s"
                time.sleep(0.005)
        else:
            process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        pass
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()
    return shard_lines(shard)


@pytest.mark.timeout(scaled_timeout(1800))  # ~1 minute idle; over 10 minutes beside a CPU-bound job on 2 cores
def test_sigkill_at_random_points_then_resume_gives_the_uninterrupted_output(model_dir, tmp_path):
    """Kill `paee predict` at random points (while loading, while writing, while merging), resume until it finishes;
    the output equals an uninterrupted run's byte for byte. PAEE_KILL_POINTS=20 makes a dedicated run.

    Even points are kills after a random number of written documents (fixed by progress, so a mid-run resume is
    exercised on a fast or a loaded machine alike); odd points are kills at a random share of the uninterrupted
    run's wall time, which only varies *where* they land: the output must be equal wherever that is."""
    count = 640
    source = write_jsonl(tmp_path / "in.jsonl", corpus(count))
    command = [sys.executable, "-m", "paee_hf", "predict", "--model", str(model_dir), "--input", str(source),
               "--batch-size", "2", "--threshold", "0.3"]
    reference = tmp_path / "reference.jsonl"
    started = time.monotonic()
    subprocess.run([*command, "--output", str(reference)], check=True, capture_output=True,
                   timeout=scaled_timeout(600), env={**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"})
    full_run = time.monotonic() - started
    generator = random.Random(int(os.environ.get("PAEE_KILL_SEED", "0")))
    lines_at_kills = []
    for point in range(KILL_POINTS):
        output = tmp_path / f"killed-{point}.jsonl"
        shard = output.with_name(output.name + ".work") / "rank-0-of-1.jsonl"
        if point % 2 == 0:
            lines_at_kills.append(run_and_kill([*command, "--output", str(output)], shard,
                                               after_lines=generator.randint(1, count // 4)))
        else:
            lines_at_kills.append(run_and_kill([*command, "--output", str(output)], shard,
                                               delay=generator.uniform(0.0, 1.0) * full_run))
        for _ in range(2):  # the resumed runs are killed too, while they still can be
            if output.exists():
                break
            run_and_kill([*command, "--output", str(output), "--resume"], shard,
                         delay=generator.uniform(0.0, 0.5) * full_run)
        if not output.exists():
            subprocess.run([*command, "--output", str(output), "--resume"], check=True, capture_output=True,
                           timeout=scaled_timeout(600),
                           env={**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"})
        assert output.read_bytes() == reference.read_bytes(), f"kill point {point}"
    # a kill landed while documents were being written, so a real mid-run resume was exercised
    assert any(lines and lines < count for lines in lines_at_kills), lines_at_kills


def test_the_html_page_shows_raw_text_as_written(model_dir, tmp_path):
    """Found by the escaping tests: the page showed raw text as the words it was split into ("Bob , twice .")."""
    text = "Ann met Bob, twice. They live in Paris."
    document = {"title": "raw", "text": text, "entities": [
        {"mentions": [{"start": 0, "end": 3}], "type": "PER"}, {"mentions": [{"start": 8, "end": 11}], "type": "PER"},
        {"mentions": [{"start": 33, "end": 38}], "type": "LOC"}]}
    source = write_jsonl(tmp_path / "in.jsonl", [document])
    predict_corpus(model_dir, source, tmp_path / "out.jsonl", html_file=tmp_path / "view.html", progress=False)
    page = (tmp_path / "view.html").read_text(encoding="utf-8")
    assert ", twice." in page and "Bob , twice" not in page
