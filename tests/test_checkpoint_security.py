"""Loading a checkpoint runs no code and unpickles nothing unless the user asked for it (issue 14 §5, docs/security.md).

* Weights: ``model.safetensors`` only; pickled weights are refused before they are opened, unless
  ``use_safetensors=False`` is passed (then torch's ``weights_only`` unpickler reads them).
* Remote code: the checkpoint's ``.py`` files run only with ``trust_remote_code=True``, and never when ``paee_hf`` is
  installed (its own classes load the checkpoint).
* Resumable training state: the learning-rate schedule is JSON; the pickles accelerate writes (optimizer, RNG states)
  are read with ``weights_only=True``, and so is the schedule pickle of earlier versions' checkpoints, which
  accelerate would read without it.

Every payload appends its name to a marker file if it runs; each test also shows that the payload is live (plain
``torch.load`` or ``trust_remote_code=True`` runs it), so an absent marker means the loader refused it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from prediction_fixtures import RAW_DOCUMENT
from safetensors.torch import load_file
from test_cli import user_error
from test_training_faults import _config
from tiny_models import scaled_timeout
from transformers import AutoModel, pipeline

from paee_hf import CHECKPOINT_CODE_FILES, PaeeForDocumentRelationExtraction
from paee_hf.training.loop import train


class CodeRunningPickle:
    """Unpickling this appends ``name`` to ``marker`` (an attacker's payload would do anything else)."""

    def __init__(self, marker: Path, name: str) -> None:
        self.marker, self.name = marker, name

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'a').write({self.name!r} + '\\n')",)


def ran(marker: Path) -> list[str]:
    """The payloads that ran, in order."""
    return marker.read_text().split() if marker.exists() else []


def poisoned_weights(checkpoint: Path, marker: Path, file: str = "pytorch_model.bin") -> Path:
    """Replace ``model.safetensors`` by ``file``: the same weights pickled by ``torch.save``, plus a payload."""
    state = load_file(checkpoint / "model.safetensors")
    (checkpoint / "model.safetensors").unlink()
    torch.save({**state, "payload": CodeRunningPickle(marker, file)}, checkpoint / file)
    return checkpoint / file


@pytest.fixture()
def checkpoint(model_dir, tmp_path) -> Path:
    """A copy of the tiny prediction checkpoint that a test may damage."""
    return Path(shutil.copytree(model_dir, tmp_path / "model"))


# ---------------------------------------------------------------------------------------------------------- weights
def test_pickled_weights_are_refused_before_they_are_opened(checkpoint, tmp_path):
    marker = tmp_path / "ran.txt"
    weights = poisoned_weights(checkpoint, marker)
    for load in (AutoModel.from_pretrained, PaeeForDocumentRelationExtraction.from_pretrained):
        with pytest.raises(ValueError) as raised:
            load(checkpoint)
        assert str(raised.value) == (
            f"{checkpoint} holds its weights only as pytorch_model.bin, a pickle, which can run code when it is "
            "loaded; PAEE reads weights from model.safetensors only. If you trust where the file comes from, convert "
            "it once: from_pretrained(path, use_safetensors=False).save_pretrained(path) writes model.safetensors "
            "beside it (see docs/security.md).")
    assert ran(marker) == []
    torch.load(weights, weights_only=False)  # the payload is live: a plain unpickler runs it
    assert ran(marker) == ["pytorch_model.bin"]


def test_a_config_naming_pickled_weights_is_refused(checkpoint, tmp_path):
    """config.json's ``transformers_weights`` makes transformers load the named file whatever use_safetensors says."""
    marker = tmp_path / "ran.txt"
    poisoned_weights(checkpoint, marker, "adapter_model.bin")
    config = json.loads((checkpoint / "config.json").read_text())
    (checkpoint / "config.json").write_text(json.dumps({**config, "transformers_weights": "adapter_model.bin"}))
    with pytest.raises(ValueError, match=rf"^{checkpoint}/config.json names adapter_model.bin as the weights file "
                                         r"\(transformers_weights\), a pickle, which can run code"):
        AutoModel.from_pretrained(checkpoint)
    assert ran(marker) == []


def test_pickled_weights_load_on_request_with_the_weights_only_unpickler(model, checkpoint, tmp_path):
    """``use_safetensors=False`` is the opt-in; torch's weights_only unpickler still refuses a payload, and plain
    weights load and convert to safetensors with save_pretrained (the fix the refusal names)."""
    marker = tmp_path / "ran.txt"
    poisoned_weights(checkpoint, marker)
    with pytest.raises(Exception, match="Weights only load failed"):
        AutoModel.from_pretrained(checkpoint, use_safetensors=False)
    assert ran(marker) == []

    state = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    torch.save(state, checkpoint / "pytorch_model.bin")
    loaded = AutoModel.from_pretrained(checkpoint, use_safetensors=False)
    assert all(torch.equal(loaded.state_dict()[name], tensor) for name, tensor in state.items())
    loaded.save_pretrained(checkpoint)  # the conversion the refusal names
    assert (checkpoint / "model.safetensors").is_file()
    assert AutoModel.from_pretrained(checkpoint).predict(RAW_DOCUMENT) == model.predict(RAW_DOCUMENT)


def test_paee_predict_refuses_pickled_weights_in_one_line(checkpoint, tmp_path, capsys):
    marker = tmp_path / "ran.txt"
    poisoned_weights(checkpoint, marker)
    documents = tmp_path / "docs.jsonl"
    documents.write_text(json.dumps(RAW_DOCUMENT) + "\n")
    line = user_error(capsys, ["predict", "--model", str(checkpoint), "--input", str(documents),
                               "--output", str(tmp_path / "out.jsonl")])
    assert f"{checkpoint} holds its weights only as pytorch_model.bin, a pickle" in line
    assert "use_safetensors=False" in line and ran(marker) == []


# ---------------------------------------------------------------------------------------------------------- remote code
def plant_marker_in_shipped_code(checkpoint: Path, marker: Path) -> list[str]:
    """Append a marker-writing statement to every .py file of ``checkpoint``; returns their names."""
    files = sorted(path.name for path in checkpoint.glob("*.py"))
    for name in files:
        with open(checkpoint / name, "a", encoding="utf-8") as handle:
            handle.write(f"\nopen({str(marker)!r}, 'a').write({name!r} + '\\n')\n")
    return files


@pytest.mark.parametrize("trust", [{}, {"trust_remote_code": True}], ids=["default", "trust_remote_code"])
def test_the_installed_package_never_runs_the_checkpoints_code(model, checkpoint, tmp_path, trust):
    """With paee_hf imported its registered classes load the checkpoint, even with trust_remote_code=True."""
    marker = tmp_path / "ran.txt"
    assert set(plant_marker_in_shipped_code(checkpoint, marker)) == set(CHECKPOINT_CODE_FILES)
    loaded = AutoModel.from_pretrained(checkpoint, **trust)
    extractor = pipeline("document-relation-extraction", model=str(checkpoint), **trust)
    assert type(loaded) is PaeeForDocumentRelationExtraction
    assert extractor(RAW_DOCUMENT) == model.predict(RAW_DOCUMENT)[0]
    assert ran(marker) == []


def test_remote_code_runs_only_with_trust_remote_code(checkpoint, tmp_path):
    """A fresh interpreter without paee_hf: AutoModel without trust_remote_code fails with transformers' message and
    runs none of the checkpoint's .py files; with trust_remote_code=True they run (the control). Without a terminal
    (stdin is /dev/null) transformers' "Do you wish to run the custom code?" prompt counts as no."""
    marker = tmp_path / "ran.txt"
    shipped = plant_marker_in_shipped_code(checkpoint, marker)
    script = textwrap.dedent(
        f"""
        import json, os, sys
        sys.modules["paee_hf"] = None  # the package is not importable
        from transformers import AutoModel
        try:
            AutoModel.from_pretrained({str(checkpoint)!r})
            refusal = None
        except ValueError as error:
            refusal = str(error)
        ran = open({str(marker)!r}).read().split() if os.path.exists({str(marker)!r}) else []
        with open("refusal.json", "w") as handle:  # stdout also holds transformers' prompt
            json.dump({{"refusal": refusal, "ran": ran}}, handle)
        AutoModel.from_pretrained({str(checkpoint)!r}, trust_remote_code=True)
        """
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=scaled_timeout(300))
    assert result.returncode == 0, result.stderr[-3000:]
    without_trust = json.loads((tmp_path / "refusal.json").read_text())
    refusal = without_trust["refusal"]
    assert refusal is not None and f"{checkpoint} contains custom code which must be executed" in refusal
    assert "Please pass the argument `trust_remote_code=True` to allow custom code to be run." in refusal
    assert without_trust["ran"] == []
    assert set(ran(marker)) == set(shipped)  # trust_remote_code=True imports every shipped module


# ---------------------------------------------------------------------------------------------------------- resuming
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """A four-step run with checkpoints ``step_2`` and ``step_4``; returns the root its config was made for."""
    root = tmp_path_factory.mktemp("run")
    train(_config(root, max_steps=4))
    return root


@pytest.fixture()
def run_copy(finished_run, tmp_path) -> Path:
    shutil.copytree(finished_run, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_a_checkpoint_keeps_the_schedule_as_json_and_pickles_only_what_accelerate_reads_weights_only(run_copy):
    step = run_copy / "run" / "checkpoints" / "step_4"
    assert sorted(path.name for path in step.iterdir()) == [
        "lr_schedule.json", "model.safetensors", "optimizer.bin", "progress.json", "random_states_0.pkl"]
    schedule = json.loads((step / "lr_schedule.json").read_text())
    assert schedule["last_epoch"] == 4 and len(schedule["base_lrs"]) == len(schedule["_last_lr"]) >= 2


def test_resume_runs_no_code_from_the_checkpoints_pickles(run_copy, caplog):
    """accelerate reads optimizer.bin and random_states_0.pkl with weights_only=True: a payload in the optimizer
    state makes the checkpoint unloadable (the run falls back to the previous one), one in the RNG states is skipped
    (accelerate logs it and goes on)."""
    caplog.set_level(logging.INFO, logger="paee_hf")
    marker = run_copy / "ran.txt"
    config = _config(run_copy, max_steps=4)
    step = run_copy / "run" / "checkpoints" / "step_4"
    for name in ("optimizer.bin", "random_states_0.pkl"):
        torch.save({"state": CodeRunningPickle(marker, name)}, step / name)
    assert train(config, resume=True).global_step == 4
    assert "--resume: cannot load step_4 (UnpicklingError: Weights only load failed" in caplog.text
    assert ran(marker) == []

    torch.save({"state": CodeRunningPickle(marker, "random_states_0.pkl")}, step / "random_states_0.pkl")
    caplog.clear()
    assert train(config, resume=True).global_step == 4
    assert f"resumed from {step} at step 4" in caplog.text
    assert ran(marker) == []
    torch.load(step / "random_states_0.pkl", weights_only=False)  # the payload is live
    assert ran(marker) == ["random_states_0.pkl"]


def as_earlier_version(step: Path) -> None:
    """Rewrite a checkpoint as earlier versions wrote it: the schedule registered with accelerate, which saved its
    state dict with torch.save as custom_checkpoint_0.pkl."""
    schedule = json.loads((step / "lr_schedule.json").read_text())
    (step / "lr_schedule.json").unlink()
    torch.save(schedule, step / "custom_checkpoint_0.pkl")


def test_checkpoints_of_earlier_versions_resume_with_their_schedule_read_weights_only(run_copy):
    """Their custom_checkpoint_0.pkl, which accelerate would unpickle with weights_only=False, is read with
    weights_only=True and hidden from accelerate; resuming from step_2 rewrites step_4 bit for bit."""
    checkpoints = run_copy / "run" / "checkpoints"
    # copies: load_file maps the file, which the run rewrites
    uninterrupted = {name: tensor.clone() for name, tensor in
                     load_file(checkpoints / "step_4" / "model.safetensors").items()}
    as_earlier_version(checkpoints / "step_2")
    (checkpoints / "step_4" / "model.safetensors").write_bytes(b"truncated")  # so the run resumes from step_2
    assert train(_config(run_copy, max_steps=4), resume=True).global_step == 4
    resumed = load_file(checkpoints / "step_4" / "model.safetensors")
    assert all(torch.equal(uninterrupted[name], resumed[name]) for name in uninterrupted)
    assert (checkpoints / "step_2" / "custom_checkpoint_0.pkl").exists()  # the old checkpoint is left as it was

    marker = run_copy / "ran.txt"
    as_earlier_version(checkpoints / "step_4")
    for step in ("step_2", "step_4"):
        torch.save({"state": CodeRunningPickle(marker, step)}, checkpoints / step / "custom_checkpoint_0.pkl")
    with pytest.raises(ValueError, match=r"no checkpoint in .* can be loaded: step_4 \(UnpicklingError: Weights only "
                                         r"load failed.*step_2 \(UnpicklingError: Weights only load failed"):
        train(_config(run_copy, max_steps=4), resume=True)
    assert ran(marker) == []
