"""Training PAEE with Accelerate: one script for one CPU, many GPUs, many nodes, FSDP or DeepSpeed.

The loop is plain PyTorch under ``accelerate`` (no ``Trainer``):

* AdamW with one learning rate for the backbone and one for the PAEE heads, linear warm-up over ``warmup_ratio`` of
  the optimizer steps then linear decay to 0, gradient clipping, mixed precision (bf16/fp16 where the GPU has it).
* Gradient accumulation through ``accelerator.accumulate``: the optimizer steps after every ``grad_accumulation``
  micro-batches and at the end of each epoch. (ATLOP steps when ``step % accumulation == 0`` with ``step`` counted
  from 0, i.e. already after the first micro-batch; we do not copy that.)
* Dev evaluation at the end of every epoch or every ``eval_every`` steps; the best model on dev is written with
  ``save_pretrained`` (weights, config, tokenizer, model card of :mod:`paee_hf.cards.model_card`) to
  ``<output_dir>/model``.
* Resumable state (``save_state``) every ``save_every`` steps into crash-safe checkpoint directories
  (:mod:`paee_hf.training.checkpointing`). The data order is a function of the seed and the epoch only, and the RNG
  states are restored, so a resumed run ends with the same weights as an uninterrupted one. The learning-rate
  schedule is kept as JSON (``lr_schedule.json``), not registered with accelerate, whose custom-object files are
  unpickled without ``weights_only``; accelerate reads the optimizer and RNG pickles with ``weights_only=True``
  (checkpoints of earlier versions, with the schedule in ``custom_checkpoint_0.pkl``, are read that way too).
* At the end the best model predicts the test set in CodaLab format (``<output_dir>/result.zip``) and scores it
  when the test documents carry labels; ``<output_dir>/results.json`` sums the run up.

Steps are optimizer steps everywhere (``max_steps``, ``eval_every``, ``save_every``, ``logging_steps``).

[`train`] reads as its steps: ``_create_accelerator`` and ``_prepare_output_dir``; [`load_run_data`]; ``_build_run``
(model, train loader, optimizer, ``accelerator.prepare``, schedule, dev / test predictors); ``_restore_checkpoint``;
``_start_tracking``; ``_train_steps`` (the epoch / step loop, calling ``_micro_batch``, ``_evaluate_and_keep_best``
and ``_save_checkpoint``); ``_finish`` (test predictions, model card, ``results.json``). Dev and test are predicted
only through ``_split_predictor``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.utils import (
    DistributedType,
    ProjectConfiguration,
    broadcast_object_list,
    gather_object,
    is_tensorboard_available,
    set_seed,
)
from safetensors import SafetensorError
from torch.utils.data import DataLoader, Sampler
from transformers import PreTrainedTokenizerBase, get_linear_schedule_with_warmup
from transformers.utils.logging import tqdm  # on or off with transformers' progress-bar switch

from ..cards.model_card import card_from_training, describe_hardware, write_model_card
from ..configuration_paee import PaeeConfig
from ..corpus.running import codalab_records, featurize, model_inputs, predict_gathered
from ..data import (
    DocumentCollator,
    RelationVocabulary,
    infer_vocabularies,
    load_docred_label_vocab,
    load_entity_type_vocab,
)
from ..data.files import load_json_file
from ..data.sources import read_documents
from ..metrics import evaluate, train_facts_from_documents, write_codalab_submission
from ..modeling_paee import PaeeForDocumentRelationExtraction
from ..prediction import RelationPredictor
from .checkpointing import (
    LATEST_POINTER,
    CheckpointDirectory,
    recover_directory,
    replace_directory,
    write_text_atomic,
)
from .config import TrainingConfig, resolve_data_source, resolve_encoder, resolve_path
from .faults import (
    CheckpointWriteError,
    NonFiniteLossError,
    OutputDirectoryLock,
    OutputDirectoryLockedError,
    write_failure_reason,
)

logger = get_logger(__name__)

PROGRESS_FILE = "progress.json"
SCHEDULE_FILE = "lr_schedule.json"
#: Where checkpoints of earlier versions kept the schedule: accelerate's file for a registered object.
_LEGACY_SCHEDULE_FILE = "custom_checkpoint_0.pkl"
RESULTS_FILE = "results.json"
MODEL_DIR = "model"
CHECKPOINTS_DIR = "checkpoints"
SUBMISSION_FILE = "result.zip"
#: Share of nested training mentions from which the entity heads keep nested detections (``nested_mentions``).
NESTED_MENTIONS_SHARE = 0.01


# ---------------------------------------------------------------------------------------------------------- state
@dataclasses.dataclass
class TrainingProgress:
    """What a resumed run needs besides the accelerate state; stored as ``progress.json`` in every checkpoint.

    Attributes:
        global_step: Optimizer steps done.
        best_metric: Best dev value of ``best_metric`` so far (a fraction), ``None`` before the first evaluation.
        best_step: The step that reached it.
        evaluations: One entry per dev evaluation: ``{"step", "epoch", "metrics"}`` (scalar metrics).
        train_losses: One entry per ``logging_steps``: ``{"step", "epoch", "loss"}``, the mean training loss since
            the previous entry (``None`` when all of it was skipped as non-finite): the curve without a tracker.
        save_count: Checkpoints written (accelerate's ``project_configuration.iteration``).
        training_seconds: Wall-clock time of the training loop so far, over all resumed runs (for the model card).
        skipped_batches: Micro-batches with a NaN / infinite loss skipped under ``skip_nonfinite_batches``.
    """

    global_step: int = 0
    best_metric: float | None = None
    best_step: int | None = None
    evaluations: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    train_losses: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    save_count: int = 0
    training_seconds: float = 0.0
    skipped_batches: int = 0

    @classmethod
    def read(cls, path: Path) -> TrainingProgress:
        """Load ``progress.json``."""
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def to_json(self) -> str:
        """The JSON text of this progress."""
        return json.dumps(dataclasses.asdict(self), indent=1)


@dataclasses.dataclass
class TrainingResult:
    """The outcome of [`train`] (also written to ``<output_dir>/results.json``).

    Attributes:
        output_dir: The run's directory. model_dir: The saved model (best on dev, else the final weights).
        global_step: Optimizer steps done. best_step: Step of the saved model.
        best_metric: Its dev value of the config's ``best_metric`` (fraction); ``None`` without dev data.
        dev_metrics: Every dev metric of the saved model (fractions, counts, ``per_relation``).
        test_metrics: Test metrics when the test documents carry labels.
        test_submission: The CodaLab ``result.zip`` of the test predictions.
        skipped_batches: Micro-batches skipped for a NaN / infinite loss (``skip_nonfinite_batches``).
        train_losses: The training loss curve, ``{"step", "epoch", "loss"}`` every ``logging_steps``.
        evaluations: Every dev evaluation, ``{"step", "epoch", "metrics"}``.
    """

    output_dir: Path
    model_dir: Path
    global_step: int
    best_step: int | None
    best_metric: float | None
    dev_metrics: dict[str, Any] | None
    test_metrics: dict[str, Any] | None
    test_submission: Path | None
    skipped_batches: int
    train_losses: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    evaluations: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def to_json(self) -> str:
        """JSON text with paths as strings."""
        values = {key: os.fspath(value) if isinstance(value, Path) else value
                  for key, value in dataclasses.asdict(self).items()}
        return json.dumps(values, indent=1, ensure_ascii=False)


class EpochShuffleSampler(Sampler[int]):
    """A random order that depends only on ``seed + epoch``: the same on every process and after a restart.

    Args:
        size: Number of training documents.
        seed: The run's seed.
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the order of ``epoch``."""
        self.epoch = epoch

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.size, generator=generator).tolist())

    def __len__(self) -> int:
        return self.size


@dataclasses.dataclass
class RunData:
    """The documents of a run and its vocabularies."""

    train: list[dict[str, Any]]
    dev: list[dict[str, Any]] | None
    test: list[dict[str, Any]] | None
    relations: RelationVocabulary
    entity_type2id: dict[str, int]


# ---------------------------------------------------------------------------------------------------------- setup
def load_run_data(config: TrainingConfig) -> RunData:
    """Read the three splits and the vocabularies (from rel2id / ner2id files, else inferred from the train split).

    Raises:
        ValueError: Missing files, unreadable vocabularies, dev documents without labels.
        DocumentValidationError: An invalid document (e.g. a dev relation the vocabulary lacks).
    """
    config.check_ready_to_train()
    relations = entity_type2id = None
    if config.rel2id_file is not None:
        info = resolve_path(config.rel_info_file) if config.rel_info_file else None
        relations = load_docred_label_vocab(resolve_path(config.rel2id_file), info)
    if config.ner2id_file is not None:
        entity_type2id = load_entity_type_vocab(resolve_path(config.ner2id_file))

    def read(path: str) -> list[dict[str, Any]]:
        return read_documents(resolve_data_source(path), config.data_format, config.reader_options,
                              relations.label2id if relations else None, entity_type2id)

    train = read(config.train_file)
    if not train:
        raise ValueError(f"train_file {config.train_file} holds no documents; give a DocRED-format list of documents.")
    if relations is None or entity_type2id is None:
        inferred_relations, inferred_types = infer_vocabularies(train)
        if relations is None:
            names = _relation_names(config.rel_info_file)
            relations = RelationVocabulary(inferred_relations.label2id, names)
        entity_type2id = entity_type2id if entity_type2id is not None else inferred_types
    dev = read(config.dev_file) if config.dev_file else None
    test = read(config.test_file) if config.test_file else None
    for document in dev or ():
        if document.get("labels") is None:
            raise ValueError(f"dev_file {config.dev_file}: document {document['title']!r} has no labels; the dev set "
                             "selects the best model and needs gold labels (unlabelled data goes in test_file).")
    return RunData(list(train), list(dev) if dev else None, list(test) if test else None, relations, entity_type2id)


def build_model(config: TrainingConfig, data: RunData) -> PaeeForDocumentRelationExtraction:
    """A new PAEE model on the configured backbone with the run's vocabularies and ``config.model`` switches.

    With the entity heads and no explicit ``nested_mentions``, detection keeps nested spans when at least
    ``NESTED_MENTIONS_SHARE`` of the training mentions are nested (see [`nested_mention_share`]). With
    ``use_evidence`` (and ``evidence_prior``) the evidence scorer starts from the training data's presence log-odds.

    Raises:
        ValueError: When the backbone cannot be loaded or a ``model`` value is invalid.
    """
    encoder_name_or_path = resolve_encoder(config.encoder)
    model_settings = dict(config.model)
    if model_settings.get("entity_heads") and "nested_mentions" not in model_settings:
        model_settings["nested_mentions"] = nested_mention_share(data.train) >= NESTED_MENTIONS_SHARE
    id2label = data.relations.id2label
    entity_types = sorted(data.entity_type2id, key=data.entity_type2id.get)
    relation_names = {label: name for label, name in data.relations.names.items() if label in data.relations.label2id}
    if config.model.get("use_evidence") and not any(
        sentence is not None for document in data.train for label in document.get("labels") or ()
        for sentence in label.get("evidence") or ()
    ):
        raise ValueError(f"use_evidence=true, but no fact of train_file {config.train_file} has evidence sentences "
                         "(labels[].evidence), so the evidence scorer would learn nothing; give evidence or set "
                         "use_evidence=false.")
    try:
        model = PaeeForDocumentRelationExtraction.from_encoder(
            encoder_name_or_path, relations=[id2label[index] for index in range(1, len(id2label))],
            entity_types=entity_types, na_label=id2label[0], relation_names=relation_names or None, **model_settings,
        )
    except OSError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"cannot load encoder {config.encoder!r}: {first_line}") from None
    if model.config.use_evidence and config.evidence_prior:
        model.init_evidence_prior(data.train)
    return model


def nested_mention_share(documents: Sequence[Mapping[str, Any]]) -> float:
    """Share of the mention spans that lie inside, or around, another mention span (in the same sentence).

    Re-DocRED dev: 0.32%; DWIE dev: 0.04%.
    """
    nested = total = 0
    for document in documents:
        spans: dict[int, set[tuple[int, int]]] = {}
        for entity in document["vertexSet"]:
            for mention in entity:
                spans.setdefault(mention["sent_id"], set()).add(tuple(mention["pos"]))
        for sentence_spans in spans.values():
            for start, end in sentence_spans:
                total += 1
                nested += any((other_start <= start and end <= other_end) or (start <= other_start and other_end <= end)
                              for other_start, other_end in sentence_spans if (other_start, other_end) != (start, end))
    return nested / total if total else 0.0


def build_optimizer(model: PaeeForDocumentRelationExtraction, config: TrainingConfig) -> torch.optim.AdamW:
    """AdamW with ``lr_encoder`` for the backbone and ``lr_head`` for everything else; no weight decay on biases
    and normalisation weights."""
    groups: dict[tuple[str, bool], list[torch.nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        part = "encoder" if name.startswith("encoder.") else "head"  # model.encoder is the backbone
        decays = parameter.dim() > 1  # biases and LayerNorm weights are vectors
        groups.setdefault((part, decays), []).append(parameter)
    learning_rates = {"encoder": config.lr_encoder, "head": config.lr_head}
    parameter_groups = [
        {"params": parameters, "lr": learning_rates[part], "weight_decay": config.weight_decay if decays else 0.0,
         "name": f"{part}{'' if decays else '_no_decay'}"}
        for (part, decays), parameters in sorted(groups.items())
    ]
    # fused: one kernel for all parameters (about 4x faster than the per-tensor loop on CPU; torch >= 2.4)
    return torch.optim.AdamW(parameter_groups, eps=config.adam_epsilon, fused=True)


def resolve_mixed_precision(setting: str) -> str | None:
    """``auto``: the launcher's choice when ``accelerate launch`` set one, else bf16 on GPUs that have it, fp16 on
    other GPUs, none on CPU. Other values pass through."""
    if setting != "auto":
        return setting
    if os.environ.get("ACCELERATE_MIXED_PRECISION"):
        return None  # accelerate reads the launcher's setting
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "no"


def resolve_trackers(report_to: str | list[str]) -> list[str] | None:
    """Accelerate trackers for ``report_to``: ``auto`` = tensorboard when installed."""
    names = [report_to] if isinstance(report_to, str) else list(report_to)
    if names == ["auto"]:
        return ["tensorboard"] if is_tensorboard_available() else None
    if names == ["none"]:
        return None
    return names


# ---------------------------------------------------------------------------------------------------------- the loop
def train(
    config: TrainingConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    on_step_end: Callable[[TrainingProgress, Accelerator, torch.nn.Module], None] | None = None,
) -> TrainingResult:
    """Train PAEE as configured; run it in one process or under ``accelerate launch`` / ``torchrun``.

    Args:
        config: The run configuration.
        resume: Continue from the newest complete checkpoint in ``<output_dir>/checkpoints``. Trusted input only:
            its optimizer and RNG states are pickles (read with ``weights_only=True``; docs/security.md).
        overwrite: Delete the checkpoints and model of a previous run in ``output_dir`` instead of refusing to start.
        on_step_end: Called on every process after each optimizer step (after that step's evaluation and
            checkpoint) with the progress, the accelerator and the prepared model, e.g. for custom logging.

    Returns:
        The [`TrainingResult`].

    Raises:
        ValueError: Invalid configuration or data, ``resume`` without a loadable checkpoint, or a previous run in
            ``output_dir`` without ``resume`` or ``overwrite``.
        OutputDirectoryLockedError: Another run is using ``output_dir``.
        NonFiniteLossError: A NaN / infinite loss without ``skip_nonfinite_batches`` (the newest checkpoint is the
            last good state).
        CheckpointWriteError: A checkpoint or the model could not be written (disk full, file-size limit).
    """
    output_dir = Path(config.output_dir)
    checkpoints = CheckpointDirectory(output_dir / CHECKPOINTS_DIR, keep=config.keep_checkpoints)
    accelerator = _create_accelerator(config, output_dir)
    with _output_dir_lock(accelerator, output_dir):
        candidates = _prepare_output_dir(accelerator, checkpoints, output_dir / MODEL_DIR, resume, overwrite)

        set_seed(config.seed)
        data = load_run_data(config)
        run = _build_run(config, accelerator, checkpoints, data)
        progress = _restore_checkpoint(run, candidates)
        _start_tracking(run)

        _train_steps(run, progress, on_step_end)
        if run.predict_dev is None:  # nothing selects a best model: the final weights are the model
            _save_model(run, progress, dev_metrics=None)
            progress.best_step = progress.global_step
        result = _finish(run, progress)
    accelerator.end_training()
    return result


#: Predicts one held-out split with a prepared model: per document (by position), its facts ``{"title", "h_idx",
#: "t_idx", "r"}``, gathered from every process.
SplitPredictor = Callable[[torch.nn.Module], list[list[dict[str, Any]]]]


@dataclasses.dataclass
class _Run:
    """What the steps of [`train`] share once the model is built: the accelerator, the prepared training objects,
    the step counts and where the run writes. (What changes while training is in [`TrainingProgress`].)

    Attributes:
        model, optimizer, train_loader: As returned by ``accelerator.prepare``; ``tokenizer`` is the backbone's.
        sampler: The train loader's [`EpochShuffleSampler`]. scheduler: The LR schedule, stepped per optimizer step.
        predict_dev, predict_test: From [`_split_predictor`]; ``None`` without that split.
        train_facts: The train set's facts, for the Ign F1 of dev and test.
        steps_per_epoch, total_steps, num_epochs: Counted in optimizer steps.
        hardware: [`describe_hardware`] of this run, for the model cards.
    """

    config: TrainingConfig
    accelerator: Accelerator
    output_dir: Path
    checkpoints: CheckpointDirectory
    data: RunData
    model: torch.nn.Module
    tokenizer: PreTrainedTokenizerBase
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    sampler: EpochShuffleSampler
    train_loader: DataLoader
    predict_dev: SplitPredictor | None
    predict_test: SplitPredictor | None
    train_facts: set
    steps_per_epoch: int
    total_steps: int
    num_epochs: int
    hardware: str

    @property
    def model_dir(self) -> Path:
        """Where the best model (else the final one) is saved."""
        return self.output_dir / MODEL_DIR


# ---------------------------------------------------------------------------------------------------------- steps
def _create_accelerator(config: TrainingConfig, output_dir: Path) -> Accelerator:
    """The run's accelerator: gradient accumulation, mixed precision, trackers logging to ``<output_dir>/logs``."""
    return Accelerator(
        gradient_accumulation_steps=config.grad_accumulation,
        mixed_precision=resolve_mixed_precision(config.mixed_precision),
        log_with=resolve_trackers(config.report_to),
        project_config=ProjectConfiguration(project_dir=str(output_dir), logging_dir=str(output_dir / "logs")),
    )


@contextlib.contextmanager
def _output_dir_lock(accelerator: Accelerator, output_dir: Path) -> Iterator[None]:
    """Hold ``<output_dir>/.lock`` for the run (the main process takes it; every process refuses when it is held).

    Raises:
        OutputDirectoryLockedError: On every process, when another run holds the lock.
    """
    lock = OutputDirectoryLock(output_dir)
    refusal = None
    if accelerator.is_main_process:
        try:
            lock.acquire()
        except OutputDirectoryLockedError as error:
            refusal = str(error)
    refusal = broadcast_object_list([refusal])[0]
    if refusal is not None:
        raise OutputDirectoryLockedError(refusal)
    try:
        yield
    finally:
        lock.release()


def _prepare_output_dir(
    accelerator: Accelerator, checkpoints: CheckpointDirectory, model_dir: Path, resume: bool, overwrite: bool
) -> list[Path]:
    """The checkpoints to try on resume, newest first (none for a new run); make sure a new run does not mix with
    an old one."""
    if accelerator.is_main_process:
        recover_directory(model_dir)
    accelerator.wait_for_everyone()
    latest = checkpoints.latest()
    if resume:
        if latest is None:
            raise ValueError(f"--resume: {checkpoints.root} holds no complete checkpoint; drop --resume to start a "
                             "new run.")
        return checkpoints.resume_candidates()
    previous_run = latest is not None or bool(checkpoints.completed()) or model_dir.exists()
    if previous_run and not overwrite:
        raise ValueError(f"{model_dir.parent} already holds a run (model or checkpoints); pass --resume to continue "
                         "it, --overwrite to replace it, or choose another --output-dir.")
    if previous_run and accelerator.is_main_process:
        shutil.rmtree(checkpoints.root, ignore_errors=True)
        shutil.rmtree(model_dir, ignore_errors=True)
    accelerator.wait_for_everyone()
    return []


def _build_run(
    config: TrainingConfig, accelerator: Accelerator, checkpoints: CheckpointDirectory, data: RunData
) -> _Run:
    """Build the model, the train loader and the optimizer, prepare them for ``accelerator``, featurize dev and
    test (an invalid document fails here, before training), and set up the warm-up / linear-decay schedule."""
    if data.dev:
        _check_best_metric(config.best_metric, data.dev)
    if config.skip_nonfinite_batches and accelerator.distributed_type == DistributedType.DEEPSPEED:
        raise ValueError("skip_nonfinite_batches=true does not work under DeepSpeed, whose engine steps the optimizer "
                         "inside backward; drop it (DeepSpeed's fp16 loss scaling skips overflowing steps itself).")
    model = build_model(config, data)
    tokenizer = model.tokenizer
    sampler, train_loader = _train_loader(config, model, tokenizer, data.train)
    optimizer = build_optimizer(model, config)
    model, optimizer, train_loader = accelerator.prepare(model, optimizer, train_loader)
    predict_dev = predict_test = None
    if data.dev:
        predict_dev = _split_predictor(config, accelerator, model, tokenizer, data.dev, config.dev_file)
    if data.test:
        predict_test = _split_predictor(config, accelerator, model, tokenizer, data.test, config.test_file)

    steps_per_epoch = math.ceil(len(train_loader) / config.grad_accumulation)
    total_steps = config.max_steps or steps_per_epoch * config.epochs
    # not prepared: accelerate would step a prepared scheduler once per process; we step it per optimizer step.
    # Not registered for checkpointing either: accelerate unpickles registered objects with weights_only=False, so
    # the checkpoint keeps the schedule as JSON (SCHEDULE_FILE) instead.
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total_steps), total_steps)
    return _Run(
        config=config, accelerator=accelerator, output_dir=Path(config.output_dir), checkpoints=checkpoints,
        data=data, model=model, tokenizer=tokenizer, optimizer=optimizer, scheduler=scheduler, sampler=sampler,
        train_loader=train_loader, predict_dev=predict_dev, predict_test=predict_test,
        train_facts=train_facts_from_documents(data.train), steps_per_epoch=steps_per_epoch,
        total_steps=total_steps, num_epochs=math.ceil(total_steps / steps_per_epoch),
        hardware=describe_hardware(accelerator.num_processes, accelerator.mixed_precision),
    )


def _train_loader(
    config: TrainingConfig,
    model: PaeeForDocumentRelationExtraction,
    tokenizer: PreTrainedTokenizerBase,
    documents: Sequence[Mapping[str, Any]],
) -> tuple[EpochShuffleSampler, DataLoader]:
    """The train features in batches of ``batch_size``, in an order that depends only on the seed and the epoch."""
    features = featurize(model, tokenizer, documents, source=config.train_file)
    collator = DocumentCollator(pad_token_id=tokenizer.pad_token_id, num_labels=model.config.num_labels)
    sampler = EpochShuffleSampler(len(features), config.seed)
    # own generator: creating a loader iterator must not consume the global RNG (resume == uninterrupted)
    loader = DataLoader(features, batch_size=config.batch_size, sampler=sampler, collate_fn=collator,
                        num_workers=config.num_workers, generator=torch.Generator().manual_seed(config.seed))
    return sampler, loader


def _split_predictor(
    config: TrainingConfig,
    accelerator: Accelerator,
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    documents: Sequence[Mapping[str, Any]],
    source: str,
) -> SplitPredictor:
    """How the loop predicts dev and test: the only place where it featurizes, batches and decodes held-out documents.

    The documents are featurized now, with the vocabularies of ``model`` (prepared or not); the returned function
    predicts them with any prepared model (the one in training, or the best one reloaded for test) through
    [`predict_gathered`], each document exactly once across processes.
    """
    # the one prediction path (as model.predict and paee predict), on the unwrapped model; the returned function
    # runs it through whichever prepared model it is given, so FSDP / DeepSpeed gather their sharded weights
    predictor = RelationPredictor(accelerator.unwrap_model(model), tokenizer, source=source)
    features = predictor.featurize(documents)
    batch_size = config.eval_batch_size or config.batch_size

    def predict(prepared_model: torch.nn.Module) -> list[list[dict[str, Any]]]:
        facts = predict_gathered(predictor, documents, accelerator, batch_size, features=features,
                                 model=prepared_model)
        return [codalab_records([document_facts], [document]) for document, document_facts in zip(documents, facts)]

    return predict


#: What loading a damaged checkpoint raises (truncated safetensors, torch or pickle files, bad progress.json).
_UNLOADABLE = (OSError, ValueError, RuntimeError, EOFError, KeyError, TypeError, pickle.UnpicklingError,
               SafetensorError)


def _restore_checkpoint(run: _Run, candidates: Sequence[Path]) -> TrainingProgress:
    """Load model, optimizer, scheduler and RNG states from the first loadable checkpoint of ``candidates`` (newest
    first) and return its progress; a new run (no candidates) starts at step 0.

    Raises:
        ValueError: When none of ``candidates`` can be loaded.
    """
    if not candidates:
        return TrainingProgress()
    broken = []
    for checkpoint in candidates:
        progress, problem = _load_checkpoint(run.accelerator, run.scheduler, checkpoint)
        if progress is not None:
            break
        broken.append(f"{checkpoint.name} ({problem})")
    else:
        raise ValueError(f"--resume: no checkpoint in {run.checkpoints.root} can be loaded: {'; '.join(broken)}. "
                         "Restore one from a backup, or start again with --overwrite instead of --resume.")
    if broken:
        logger.warning(f"--resume: cannot load {', '.join(broken)}; using the previous complete checkpoint "
                       f"{checkpoint.name} instead")
    # the next save_state continues the numbering instead of colliding with existing checkpoints
    run.accelerator.project_configuration.iteration = progress.save_count
    logger.info(f"resumed from {checkpoint} at step {progress.global_step}")
    return progress


def _load_checkpoint(
    accelerator: Accelerator, scheduler: torch.optim.lr_scheduler.LRScheduler, checkpoint: Path
) -> tuple[TrainingProgress | None, str | None]:
    """Load ``checkpoint`` into the prepared objects and ``scheduler``; returns its progress, or ``None`` and why when
    it cannot be loaded on some process (then every process returns ``None``, and a later full load replaces
    whatever was loaded in part)."""
    progress = problem = None
    try:
        progress = TrainingProgress.read(checkpoint / PROGRESS_FILE)  # cheap, so first
        if (checkpoint / _LEGACY_SCHEDULE_FILE).exists():
            # read here with weights_only=True, and hidden from accelerate, which would unpickle it without
            schedule = torch.load(checkpoint / _LEGACY_SCHEDULE_FILE, weights_only=True)
            with _entries_except(checkpoint, _LEGACY_SCHEDULE_FILE) as view:
                accelerator.load_state(str(view))
        else:
            accelerator.load_state(str(checkpoint))
            schedule = json.loads((checkpoint / SCHEDULE_FILE).read_text(encoding="utf-8"))
        scheduler.load_state_dict(schedule)
    except _UNLOADABLE as error:
        problem = f"{type(error).__name__}: {(str(error).strip().splitlines() or [''])[0]}"
    if _on_any_process(accelerator, problem is not None):
        return None, problem or "it cannot be loaded on another process"
    return progress, None


@contextlib.contextmanager
def _entries_except(directory: Path, excluded: str) -> Iterator[Path]:
    """A temporary directory of symbolic links to every entry of ``directory`` but ``excluded``."""
    with tempfile.TemporaryDirectory(prefix="paee-checkpoint-") as view:
        for entry in directory.iterdir():
            if entry.name != excluded:
                os.symlink(entry.resolve(), Path(view) / entry.name)
        yield Path(view)


def _start_tracking(run: _Run) -> None:
    """Write ``training_config.json``, start the trackers and log the size of the run."""
    accelerator, data = run.accelerator, run.data
    if accelerator.is_main_process:
        run.output_dir.mkdir(parents=True, exist_ok=True)
        (run.output_dir / "training_config.json").write_text(json.dumps(run.config.to_dict(), indent=1),
                                                             encoding="utf-8")
    accelerator.init_trackers("paee", config=_flat_hyperparameters(run.config))
    logger.info(f"{len(data.train)} train / {len(data.dev or ())} dev / {len(data.test or ())} test documents; "
                f"{accelerator.num_processes} process(es); {run.steps_per_epoch} steps per epoch, "
                f"{run.total_steps} steps")


def _train_steps(
    run: _Run,
    progress: TrainingProgress,
    on_step_end: Callable[[TrainingProgress, Accelerator, torch.nn.Module], None] | None,
) -> None:
    """The epoch / step loop from ``progress.global_step`` to ``total_steps``; after each optimizer step: log the
    loss, evaluate on dev and save a checkpoint when due, call ``on_step_end``."""
    accelerator, config = run.accelerator, run.config
    bar = tqdm(total=run.total_steps, initial=progress.global_step, desc="train",
               disable=not accelerator.is_local_main_process)
    window_loss = torch.zeros(2, device=accelerator.device)  # (sum of micro-batch losses, micro-batches)
    clock = time.monotonic()
    run.model.train()
    for epoch in range(progress.global_step // run.steps_per_epoch, run.num_epochs):
        if progress.global_step >= run.total_steps:
            break
        window_finite = True  # no NaN / infinite loss in the current accumulation window
        for batch in _epoch_batches(run, epoch, progress.global_step):
            loss, finite = _micro_batch(run, progress, batch, window_finite)
            window_finite = window_finite and finite
            if finite:
                window_loss += torch.stack([loss.detach().float(), torch.ones((), device=loss.device)])
            if not accelerator.sync_gradients:
                continue  # accumulating: no optimizer step yet
            window_finite = True
            progress.global_step += 1
            progress.training_seconds += time.monotonic() - clock
            clock = time.monotonic()
            step = progress.global_step
            bar.update(1)
            if step % config.logging_steps == 0 or step == run.total_steps:
                _log_train_loss(run, progress, window_loss, epoch, bar)
            end_of_epoch = step % run.steps_per_epoch == 0
            if run.predict_dev is not None and _due(step, run.total_steps, config.eval_every, end_of_epoch):
                _evaluate_and_keep_best(run, progress, epoch)
            if _due(step, run.total_steps, config.save_every, end_of_epoch):
                _save_checkpoint(run, progress)
            if on_step_end is not None:
                on_step_end(progress, accelerator, run.model)
            if step >= run.total_steps:
                break
    bar.close()


def _epoch_batches(run: _Run, epoch: int, global_step: int) -> Iterable[dict[str, Any]]:
    """The micro-batches of ``epoch`` in its seeded order, without those already trained on before ``global_step``
    (on resume)."""
    run.sampler.set_epoch(epoch)
    run.train_loader.set_epoch(epoch)
    done_in_epoch = global_step - epoch * run.steps_per_epoch
    if not done_in_epoch:
        return run.train_loader
    return run.accelerator.skip_first_batches(run.train_loader, done_in_epoch * run.config.grad_accumulation)


def _micro_batch(
    run: _Run, progress: TrainingProgress, batch: Mapping[str, Any], window_finite: bool
) -> tuple[torch.Tensor, bool]:
    """Forward and backward one micro-batch; on the last micro-batch of an accumulation window also clip, step the
    optimizer and the schedule (``accelerator.accumulate`` makes the other ``step`` / ``zero_grad`` calls no-ops).

    A NaN / infinite loss on any process stops the run before its backward pass ([`_on_nonfinite_loss`]) or, under
    ``skip_nonfinite_batches``, drops the accumulation window: its backward passes still run (DDP expects one after
    every forward) but at its end the gradients are zeroed without an optimizer or schedule step.
    ``window_finite``: no earlier micro-batch of this window had a non-finite loss.

    Returns:
        The micro-batch loss and whether it was finite on every process.
    """
    accelerator, model, optimizer = run.accelerator, run.model, run.optimizer
    with accelerator.accumulate(model):
        loss = model(**model_inputs(batch)).loss
        finite = not _on_any_process(accelerator, not torch.isfinite(loss.detach()).all())
        if not finite:
            _on_nonfinite_loss(run, progress, batch, loss)
        accelerator.backward(loss)
        if accelerator.sync_gradients and window_finite and finite:
            if run.config.max_grad_norm is not None:
                accelerator.clip_grad_norm_(model.parameters(), run.config.max_grad_norm)
            optimizer.step()
            if not accelerator.optimizer_step_was_skipped:
                run.scheduler.step()
        optimizer.zero_grad()
    return loss, finite


def _on_nonfinite_loss(run: _Run, progress: TrainingProgress, batch: Mapping[str, Any], loss: torch.Tensor) -> None:
    """A micro-batch had a NaN / infinite loss on some process (every process calls this): count and log it under
    ``skip_nonfinite_batches``, else stop.

    Raises:
        NonFiniteLossError: Without ``skip_nonfinite_batches``, naming the step and the documents of the batch on
            every process whose loss was not finite.
    """
    local_finite = bool(torch.isfinite(loss.detach()).all())
    titles = gather_object([] if local_finite else list(batch["titles"]))
    step = progress.global_step + 1
    value = "not finite" if local_finite else f"{loss.item()}"
    if run.config.skip_nonfinite_batches:
        progress.skipped_batches += 1
        logger.warning(f"step {step}: the training loss is {value} on the documents {titles}; skipping the batch "
                       f"and this optimizer step ({progress.skipped_batches} batch(es) skipped so far)")
        return
    latest = run.checkpoints.latest()
    restart = (f"continue from the last good checkpoint, {latest}, with --resume" if latest
               else "start again with --overwrite (no checkpoint was written yet)")
    raise NonFiniteLossError(
        f"step {step}: the training loss is {value} on the batch of documents {titles}; the run stopped before that "
        "batch changed the weights. Fix the cause (check those documents, lower the learning rate, or use "
        f"mixed_precision bf16 or no instead of fp16), then {restart}; or set skip_nonfinite_batches=true to skip "
        "such batches."
    )


def _on_any_process(accelerator: Accelerator, flag: bool) -> bool:
    """Whether ``flag`` is true on any process (a collective: every process must call it)."""
    count = accelerator.reduce(torch.tensor([float(flag)], device=accelerator.device), reduction="sum")
    return bool(count.item() > 0)


def _log_train_loss(run: _Run, progress: TrainingProgress, window_loss: torch.Tensor, epoch: int, bar: tqdm) -> None:
    """Log the mean loss since the last log over all processes (and the learning rates), record it in ``progress``,
    then reset the window."""
    loss_sum, count = run.accelerator.reduce(window_loss, reduction="sum").tolist()
    window_loss.zero_()
    step = progress.global_step
    loss = loss_sum / count if count else None  # None: every micro-batch of the window was skipped as non-finite
    progress.train_losses.append({"step": step, "epoch": epoch, "loss": loss})
    if loss is None:
        return
    rates = {f"train/lr_{group['name']}": group["lr"] for group in run.optimizer.param_groups}
    run.accelerator.log({"train/loss": loss, "train/epoch": epoch, **rates}, step=step)
    bar.set_postfix(loss=f"{loss:.4f}")


def _due(step: int, total_steps: int, every: int | None, end_of_epoch: bool) -> bool:
    """Whether an evaluation / checkpoint is due: at the last step, every ``every`` steps, or (``every`` unset) at
    the end of each epoch."""
    return step == total_steps or (step % every == 0 if every else end_of_epoch)


def _evaluate_and_keep_best(run: _Run, progress: TrainingProgress, epoch: int) -> None:
    """Score dev, record and log the metrics; when ``best_metric`` improves, save the model and
    ``dev_metrics.json``."""
    accelerator, config, step = run.accelerator, run.config, progress.global_step
    metrics = _score(run, run.predict_dev(run.model), run.data.dev)
    scalars = _scalars(metrics)
    progress.evaluations.append({"step": step, "epoch": epoch, "metrics": scalars})
    accelerator.log({f"dev/{key}": value for key, value in scalars.items()}, step=step)
    value = metrics[config.best_metric]
    improved = progress.best_metric is None or value > progress.best_metric
    previous = "none" if progress.best_metric is None else f"{100 * progress.best_metric:.2f}"
    logger.info(f"step {step}: dev {config.best_metric} {100 * value:.2f} "
                f"({'new best, ' if improved else ''}previous best {previous})")
    if improved:
        progress.best_metric, progress.best_step = value, step
        _save_model(run, progress, metrics)
        if accelerator.is_main_process:
            write_text_atomic(run.output_dir / "dev_metrics.json", json.dumps(metrics, indent=1))


def _save_model(run: _Run, progress: TrainingProgress, dev_metrics: Mapping[str, Any] | None) -> None:
    """``save_pretrained`` the current weights, config, tokenizer and model card into ``<output_dir>/model``,
    replacing the previous model only once the new one is complete."""
    accelerator, model_dir = run.accelerator, run.model_dir
    staging = model_dir.with_name(model_dir.name + ".tmp")
    if accelerator.is_main_process and staging.exists():
        shutil.rmtree(staging)
    accelerator.wait_for_everyone()
    unwrapped = accelerator.unwrap_model(run.model)
    state_dict = accelerator.get_state_dict(run.model)  # collective under FSDP / DeepSpeed: every process calls it

    def write() -> None:
        if accelerator.is_main_process:
            card = card_from_training(run.config.to_dict(), unwrapped.config, global_step=progress.global_step,
                                      best_step=progress.global_step, dev_metrics=dev_metrics,
                                      training_seconds=progress.training_seconds, hardware=run.hardware)
            unwrapped.save_pretrained(staging, state_dict=state_dict, save_function=accelerator.save, model_card=card)
            run.tokenizer.save_pretrained(staging)
            replace_directory(staging, model_dir)

    _write_or_fail(accelerator, write, f"the model of step {progress.global_step}", model_dir, staging,
                   f"{model_dir} still holds the previous model (if any). Free space (or raise the file-size limit) "
                   "and restart with --resume.")
    accelerator.wait_for_everyone()


def _save_checkpoint(run: _Run, progress: TrainingProgress) -> None:
    """``save_state`` plus ``progress.json`` into ``checkpoints/step_<global_step>``, visible only once complete."""
    accelerator, checkpoints, step = run.accelerator, run.checkpoints, progress.global_step
    staging = checkpoints.root / f"step_{step}.tmp"
    if accelerator.is_main_process:
        checkpoints.staging(step)
    accelerator.wait_for_everyone()
    previous = checkpoints.latest()
    progress.save_count += 1

    def write_state() -> None:
        accelerator.save_state(str(staging))
        if accelerator.is_main_process:
            write_text_atomic(staging / SCHEDULE_FILE, json.dumps(run.scheduler.state_dict()))
            write_text_atomic(staging / PROGRESS_FILE, progress.to_json())

    def commit() -> None:
        if accelerator.is_main_process:
            checkpoints.commit(step)

    kept = (f"{checkpoints.root / LATEST_POINTER} still names {previous.name}" if previous
            else "no checkpoint is complete yet")
    advice = (f"Nothing half-written was published: {kept}. Free space (or raise the file-size limit) and restart "
              "with --resume.")
    _write_or_fail(accelerator, write_state, f"checkpoint step_{step}", checkpoints.root, staging, advice)
    _write_or_fail(accelerator, commit, f"checkpoint step_{step}", checkpoints.root, staging, advice)
    accelerator.wait_for_everyone()


def _write_or_fail(
    accelerator: Accelerator, write: Callable[[], None], what: str, directory: Path, staging: Path, advice: str
) -> None:
    """Run ``write`` on every process; when it fails on any process for want of space (full disk, quota, file-size
    limit: [`write_failure_reason`]), delete ``staging`` (the unpublished copy) and raise on every process. Other
    errors propagate unchanged.

    Raises:
        CheckpointWriteError: ``"<reason> while writing <what> into <directory>. <advice>"``.
    """
    reason = failure = None
    try:
        write()
    except Exception as error:  # judged by write_failure_reason; anything else is re-raised
        reason = write_failure_reason(error, directory)
        if reason is None:
            raise
        failure = error
    if _on_any_process(accelerator, reason is not None):
        if accelerator.is_main_process:
            shutil.rmtree(staging, ignore_errors=True)  # give the space back; it was never named complete
        cause = reason or "another process could not write"
        raise CheckpointWriteError(f"{cause} while writing {what} into {directory}. {advice}") from failure


def _finish(run: _Run, progress: TrainingProgress) -> TrainingResult:
    """Predict (and score) the test set with the saved model; write ``result.zip``, the card and ``results.json``."""
    accelerator, data, output_dir, model_dir = run.accelerator, run.data, run.output_dir, run.model_dir
    dev_metrics = None
    if data.dev:
        dev_metrics = json.loads((output_dir / "dev_metrics.json").read_text(encoding="utf-8"))
    test_metrics = submission = None
    if run.predict_test is not None:
        best = accelerator.prepare_model(PaeeForDocumentRelationExtraction.from_pretrained(model_dir),
                                         evaluation_mode=True)
        facts_by_document = run.predict_test(best)
        submission = output_dir / SUBMISSION_FILE
        if accelerator.is_main_process:
            write_codalab_submission([fact for facts in facts_by_document for fact in facts], submission)
        if all(document.get("labels") is not None for document in data.test):
            test_metrics = _score(run, facts_by_document, data.test)
            accelerator.log({f"test/{key}": value for key, value in _scalars(test_metrics).items()},
                            step=progress.global_step)
    result = TrainingResult(output_dir, model_dir, progress.global_step, progress.best_step, progress.best_metric,
                            dev_metrics, test_metrics, submission, progress.skipped_batches, progress.train_losses,
                            progress.evaluations)
    if accelerator.is_main_process:
        card = card_from_training(run.config.to_dict(), PaeeConfig.from_pretrained(model_dir),
                                  global_step=progress.global_step, best_step=progress.best_step,
                                  dev_metrics=dev_metrics, test_metrics=test_metrics,
                                  training_seconds=progress.training_seconds, hardware=run.hardware)
        write_model_card(model_dir, card)
        write_text_atomic(output_dir / RESULTS_FILE, result.to_json())
    accelerator.wait_for_everyone()
    return result


# ---------------------------------------------------------------------------------------------------------- helpers
def _score(run: _Run, facts_by_document: Sequence[Sequence[Mapping[str, Any]]],
           documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The metrics of predicted facts against labelled ``documents`` (Ign F1 against the train facts)."""
    return evaluate([fact for facts in facts_by_document for fact in facts], documents, train_facts=run.train_facts,
                    relation_names=_complete_names(run.data.relations))


def _check_best_metric(name: str, dev: Sequence[Mapping[str, Any]]) -> None:
    available = [key for key, value in evaluate([], dev, train_facts=[]).items() if isinstance(value, float)]
    if name not in available:
        raise ValueError(f"best_metric={name!r} is not a dev metric; choose one of {sorted(available)}.")


def _scalars(metrics: Mapping[str, Any]) -> dict[str, float | int]:
    return {key: value for key, value in metrics.items() if isinstance(value, (int, float))}


def _relation_names(rel_info_file: str | None) -> dict[str, str]:
    if rel_info_file is None:
        return {}
    names = load_json_file(resolve_path(rel_info_file))
    if not isinstance(names, dict):
        raise ValueError(f"rel_info_file {rel_info_file}: expected a JSON object label -> name.")
    return {str(label): str(name) for label, name in names.items()}


def _complete_names(relations: RelationVocabulary) -> dict[str, str] | None:
    """Readable relation names for the per-relation table, only when every relation has one."""
    labels = [label for label, index in relations.label2id.items() if index]
    if not all(label in relations.names for label in labels):
        return None
    return {label: relations.names[label] for label in labels}


def _flat_hyperparameters(config: TrainingConfig) -> dict[str, Any]:
    """Scalar hyper-parameters for the trackers (tensorboard accepts only str/int/float/bool)."""
    values = {key: value for key, value in config.to_dict().items() if key not in ("model", "reader_options")}
    values.update({f"model.{key}": value for key, value in config.model.items()})
    return {key: value if isinstance(value, (str, int, float, bool)) else json.dumps(value)
            for key, value in values.items()}
