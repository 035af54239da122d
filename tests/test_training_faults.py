"""Training faults (issue 14 §3): NaN / infinite loss, a corrupted newest checkpoint, two runs in one output
directory, a full disk while saving."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch
from safetensors.torch import load_file
from test_training import subprocess_env, tiny_config_dict
from tiny_models import scaled_timeout

from paee_hf import PaeeForDocumentRelationExtraction
from paee_hf.training.checkpointing import CheckpointDirectory
from paee_hf.training.config import TrainingConfig
from paee_hf.training.faults import (
    NonFiniteLossError,
    OutputDirectoryLock,
    OutputDirectoryLockedError,
    write_failure_reason,
)
from paee_hf.training.loop import EpochShuffleSampler, train


def _config(root, **overrides) -> TrainingConfig:
    """A short run without dev and test (6 steps of 2 documents, a checkpoint every 2 steps)."""
    values = {"dev_file": None, "test_file": None, "max_steps": 6, "save_every": 2, **overrides}
    return TrainingConfig.from_dict(tiny_config_dict(root, **values))


def _poison_micro_batch(monkeypatch, number: int) -> None:
    """Make the loss of the ``number``-th training micro-batch (1-based) NaN."""
    forward = PaeeForDocumentRelationExtraction.forward
    calls = []

    def poisoned_forward(self, *args, **kwargs):
        output = forward(self, *args, **kwargs)
        if self.training:
            calls.append(1)
            if len(calls) == number:
                output.loss = output.loss * float("nan")
        return output

    monkeypatch.setattr(PaeeForDocumentRelationExtraction, "forward", poisoned_forward)


def _titles_of_micro_batch(config: TrainingConfig, number: int) -> list[str]:
    """The titles of the ``number``-th micro-batch of epoch 0 (train documents are ``doc 0-<index>``)."""
    order = list(EpochShuffleSampler(12, config.seed))
    return [f"doc 0-{index}" for index in order[(number - 1) * config.batch_size: number * config.batch_size]]


# ---------------------------------------------------------------------------------------------- NaN / inf loss
def test_nonfinite_loss_stops_at_the_step_keeps_the_checkpoint_and_resume_finishes(tmp_path, monkeypatch, caplog):
    config = _config(tmp_path)
    _poison_micro_batch(monkeypatch, 5)
    titles = _titles_of_micro_batch(config, 5)
    with pytest.raises(NonFiniteLossError) as raised:
        train(config)
    message = str(raised.value)
    assert f"step 5: the training loss is nan on the batch of documents {titles}" in message
    checkpoints = CheckpointDirectory(tmp_path / "run" / "checkpoints")
    assert f"last good checkpoint, {checkpoints.root / 'step_4'}, with --resume" in message
    assert "skip_nonfinite_batches=true" in message
    assert checkpoints.latest().name == "step_4" and [path.name for path in checkpoints.completed()] == [
        "step_2", "step_4"]
    weights = load_file(checkpoints.root / "step_4" / "model.safetensors")
    assert all(torch.isfinite(tensor).all() for tensor in weights.values())

    monkeypatch.undo()  # "the fix"
    caplog.set_level(logging.INFO, logger="paee_hf")
    result = train(config, resume=True)
    assert result.global_step == 6 and result.skipped_batches == 0
    assert f"resumed from {checkpoints.root / 'step_4'} at step 4" in caplog.text


def test_skip_nonfinite_batches_drops_the_window_and_counts_it(tmp_path, monkeypatch, caplog):
    """Accumulation 2: micro-batch 3 (first of step 2's window) is NaN; step 2 makes no optimizer step."""
    config = _config(tmp_path, grad_accumulation=2, max_steps=3, save_every=None).with_settings(
        ["skip_nonfinite_batches=true"])
    _poison_micro_batch(monkeypatch, 3)
    snapshots = []

    def snapshot(progress, accelerator, model):
        snapshots.append({name: value.detach().clone() for name, value in model.state_dict().items()})

    result = train(config, on_step_end=snapshot)
    assert result.global_step == 3 and result.skipped_batches == 1
    assert all(torch.equal(snapshots[0][name], snapshots[1][name]) for name in snapshots[0])  # no step 2 update
    assert any(not torch.equal(snapshots[1][name], snapshots[2][name]) for name in snapshots[1])  # step 3 trains
    assert all(torch.isfinite(value).all() for value in snapshots[2].values())
    assert json.loads((tmp_path / "run" / "results.json").read_text())["skipped_batches"] == 1
    assert [entry["step"] for entry in result.train_losses] == [1, 2, 3]  # step 2's loss is its finite micro-batch
    titles = _titles_of_micro_batch(config, 3)
    assert f"step 2: the training loss is nan on the documents {titles}; skipping the batch" in caplog.text
    assert "(1 batch(es) skipped so far)" in caplog.text


def test_skip_nonfinite_batches_must_be_a_boolean():
    with pytest.raises(ValueError, match=r"skip_nonfinite_batches must be true or false, got 'yes'"):
        TrainingConfig(skip_nonfinite_batches="yes")


# ---------------------------------------------------------------------------------------------- corrupted checkpoint
def _truncate(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_resume_falls_back_from_a_truncated_newest_checkpoint(tmp_path, caplog):
    config = _config(tmp_path, max_steps=4)
    train(config)
    checkpoints = CheckpointDirectory(tmp_path / "run" / "checkpoints")
    # copies: load_file maps the file, whose bytes the truncation below changes
    uninterrupted = {name: tensor.clone() for name, tensor in
                     load_file(checkpoints.root / "step_4" / "model.safetensors").items()}
    _truncate(checkpoints.root / "step_4" / "model.safetensors")

    caplog.set_level(logging.INFO, logger="paee_hf")
    result = train(config, resume=True)
    assert result.global_step == 4
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "--resume: cannot load step_4 (SafetensorError: " in warnings[0]  # accelerate prefixes "[RANK 0] "
    assert warnings[0].endswith("using the previous complete checkpoint step_2 instead")
    assert f"resumed from {checkpoints.root / 'step_2'} at step 2" in caplog.text
    rewritten = load_file(checkpoints.root / "step_4" / "model.safetensors")
    assert all(torch.equal(uninterrupted[name], rewritten[name]) for name in uninterrupted)  # still bit-identical

    _truncate(checkpoints.root / "step_4" / "optimizer.bin")
    (checkpoints.root / "step_2" / "progress.json").write_text("{")
    with pytest.raises(ValueError, match=r"--resume: no checkpoint in .*checkpoints can be loaded: step_4 \(.*\); "
                                         r"step_2 \(JSONDecodeError.*--overwrite instead of --resume"):
        train(config, resume=True)


# ---------------------------------------------------------------------------------------------- output directory lock
def test_a_second_run_in_the_same_output_dir_is_refused(tmp_path):
    config = _config(tmp_path)
    holder = OutputDirectoryLock(tmp_path / "run")
    holder.acquire()
    try:
        with pytest.raises(OutputDirectoryLockedError, match=rf"output directory {tmp_path / 'run'} is in use by "
                                                             rf"another training run \(pid {os.getpid()} on host "):
            train(config)
    finally:
        holder.release()
    assert (tmp_path / "run" / ".lock").read_text() == ""


def test_the_lock_names_another_process_and_dies_with_it(tmp_path):
    directory = tmp_path / "run"
    script = textwrap.dedent(f"""
        import sys
        from paee_hf.training.faults import OutputDirectoryLock
        lock = OutputDirectoryLock({str(directory)!r})
        lock.acquire()
        print("locked", flush=True)
        sys.stdin.read()  # holds the lock until killed, however long the test takes (a sleep could run out)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], env=subprocess_env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(OutputDirectoryLockedError, match=rf"\(pid {child.pid} on host "):
            OutputDirectoryLock(directory).acquire()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdin.close()
        child.stdout.close()
    lock = OutputDirectoryLock(directory)  # a killed holder leaves no stale lock
    lock.acquire()
    assert f"pid {os.getpid()} " in (directory / ".lock").read_text()
    lock.release()


# ---------------------------------------------------------------------------------------------- full disk
_FULL_DISK_RUNNER = textwrap.dedent("""
    import resource, signal, sys
    from paee_hf.cli.commands import main
    from paee_hf.training import loop

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead of killing us
    save_checkpoint = loop._save_checkpoint

    def save_then_limit(run, progress):  # the first checkpoint fits; every later file write past 1 KiB fails
        save_checkpoint(run, progress)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, resource.RLIM_INFINITY))

    loop._save_checkpoint = save_then_limit
    sys.exit(main(["train", "--config", sys.argv[1]]))
""")


def test_a_full_disk_while_saving_publishes_nothing_and_says_so(tmp_path):
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(_config(tmp_path, max_steps=4).to_dict()))
    script = tmp_path / "runner.py"
    script.write_text(_FULL_DISK_RUNNER)
    completed = subprocess.run([sys.executable, str(script), str(config_path)], env=subprocess_env(),
                               capture_output=True, text=True, timeout=scaled_timeout(300))
    assert completed.returncode == 2, completed.stderr[-3000:]
    root = tmp_path / "run" / "checkpoints"
    errors = [line for line in completed.stderr.splitlines() if line.startswith("paee: error:")]
    assert len(errors) == 1 and "Traceback" not in completed.stderr, completed.stderr[-3000:]
    assert errors[0].startswith("paee: error: a file grew past the file-size limit (file too large) (File too large) "
                                f"while writing checkpoint step_4 into {root}. Nothing half-written was published: "
                                f"{root / 'latest'} still names step_2.")
    assert (root / "latest").read_text() == "step_2"
    assert sorted(path.name for path in root.iterdir()) == ["latest", "step_2"]  # step_4.tmp deleted


def test_write_failure_reason_names_full_disk_and_file_size_limit_and_ignores_other_errors(tmp_path):
    assert write_failure_reason(OSError(errno.ENOSPC, "No space left on device"), tmp_path).startswith(
        "the disk is full")
    safetensors_message = RuntimeError("Error while serializing: I/O error: File too large (os error 27)")
    assert write_failure_reason(safetensors_message, tmp_path).startswith("a file grew past the file-size limit")
    assert write_failure_reason(RuntimeError("size mismatch for weight"), tmp_path / "missing" / "dir") is None
