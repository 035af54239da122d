"""Training PAEE with Accelerate: one script for one CPU, many GPUs, many nodes, FSDP or DeepSpeed.

The loop is plain PyTorch under ``accelerate`` (no ``Trainer``):

* AdamW with one learning rate for the backbone and one for the PAEE heads, linear warm-up over ``warmup_ratio`` of
  the optimizer steps then linear decay to 0, gradient clipping, mixed precision (bf16/fp16 where the GPU has it).
* Gradient accumulation through ``accelerator.accumulate``: the optimizer steps after every ``grad_accumulation``
  micro-batches and at the end of each epoch. (ATLOP steps when ``step % accumulation == 0`` with ``step`` counted
  from 0, i.e. already after the first micro-batch; we do not copy that.)
* Dev evaluation at the end of every epoch or every ``eval_every`` steps; the best model on dev is written with
  ``save_pretrained`` (weights, config, tokenizer, model card of :mod:`paee_hf.model_card`) to
  ``<output_dir>/model``.
* Resumable state (``save_state``) every ``save_every`` steps into crash-safe checkpoint directories
  (:mod:`paee_hf.checkpointing`). The data order is a function of the seed and the epoch only, and the RNG states
  are restored, so a resumed run ends with the same weights as an uninterrupted one.
* At the end the best model predicts the test set in CodaLab format (``<output_dir>/result.zip``) and scores it
  when the test documents carry labels; ``<output_dir>/results.json`` sums the run up.

Steps are optimizer steps everywhere (``max_steps``, ``eval_every``, ``save_every``, ``logging_steps``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.logging import get_logger
from accelerate.utils import ProjectConfiguration, is_tensorboard_available, set_seed
from torch.utils.data import DataLoader, Sampler
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from ..cards.model_card import card_from_training, describe_hardware, write_model_card
from ..configuration_paee import PaeeConfig
from ..corpus.running import (
    evaluation_loader,
    featurize,
    model_inputs,
    predict_facts,
)
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
from .checkpointing import (
    CheckpointDirectory,
    recover_directory,
    replace_directory,
    write_text_atomic,
)
from .config import TrainingConfig, resolve_data_source, resolve_encoder, resolve_path

logger = get_logger(__name__)

PROGRESS_FILE = "progress.json"
RESULTS_FILE = "results.json"
MODEL_DIR = "model"
CHECKPOINTS_DIR = "checkpoints"
SUBMISSION_FILE = "result.zip"


# ---------------------------------------------------------------------------------------------------------- state
@dataclasses.dataclass
class TrainingProgress:
    """What a resumed run needs besides the accelerate state; stored as ``progress.json`` in every checkpoint.

    Attributes:
        global_step: Optimizer steps done.
        best_metric: Best dev value of ``best_metric`` so far (a fraction), ``None`` before the first evaluation.
        best_step: The step that reached it.
        evaluations: One entry per dev evaluation: ``{"step", "epoch", "metrics"}`` (scalar metrics).
        save_count: Checkpoints written (accelerate's ``project_configuration.iteration``).
        training_seconds: Wall-clock time of the training loop so far, over all resumed runs (for the model card).
    """

    global_step: int = 0
    best_metric: float | None = None
    best_step: int | None = None
    evaluations: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    save_count: int = 0
    training_seconds: float = 0.0

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
    """

    output_dir: Path
    model_dir: Path
    global_step: int
    best_step: int | None
    best_metric: float | None
    dev_metrics: dict[str, Any] | None
    test_metrics: dict[str, Any] | None
    test_submission: Path | None

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

    Raises:
        ValueError: When the backbone cannot be loaded or a ``model`` value is invalid.
    """
    encoder = resolve_encoder(config.encoder)
    id2label = data.relations.id2label
    entity_types = sorted(data.entity_type2id, key=data.entity_type2id.get)
    relation_names = {label: name for label, name in data.relations.names.items() if label in data.relations.label2id}
    try:
        return PaeeForDocumentRelationExtraction.from_encoder(
            encoder, relations=[id2label[index] for index in range(1, len(id2label))], entity_types=entity_types,
            na_label=id2label[0], relation_names=relation_names or None, **config.model,
        )
    except OSError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"cannot load encoder {config.encoder!r}: {first_line}") from None


def build_optimizer(model: PaeeForDocumentRelationExtraction, config: TrainingConfig) -> torch.optim.AdamW:
    """AdamW with ``lr_encoder`` for the backbone and ``lr_head`` for everything else; no weight decay on biases
    and normalisation weights."""
    groups: dict[tuple[str, bool], list[torch.nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        part = "encoder" if name.startswith("encoder.") else "head"
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
        resume: Continue from the newest complete checkpoint in ``<output_dir>/checkpoints``.
        overwrite: Delete the checkpoints and model of a previous run in ``output_dir`` instead of refusing to start.
        on_step_end: Called on every process after each optimizer step (after that step's evaluation and
            checkpoint) with the progress, the accelerator and the prepared model, e.g. for custom logging.

    Returns:
        The [`TrainingResult`].

    Raises:
        ValueError: Invalid configuration or data, ``resume`` without a checkpoint, or a previous run in
            ``output_dir`` without ``resume`` or ``overwrite``.
    """
    output_dir = Path(config.output_dir)
    model_dir = output_dir / MODEL_DIR
    checkpoints = CheckpointDirectory(output_dir / CHECKPOINTS_DIR, keep=config.keep_checkpoints)
    accelerator = Accelerator(
        gradient_accumulation_steps=config.grad_accumulation,
        mixed_precision=resolve_mixed_precision(config.mixed_precision),
        log_with=resolve_trackers(config.report_to),
        project_config=ProjectConfiguration(project_dir=str(output_dir), logging_dir=str(output_dir / "logs")),
    )
    latest = _prepare_output_dir(accelerator, checkpoints, model_dir, resume, overwrite)

    set_seed(config.seed)
    data = load_run_data(config)
    model = build_model(config, data)
    tokenizer = model.tokenizer
    train_features = featurize(model, tokenizer, data.train, source=config.train_file)
    collator = DocumentCollator(pad_token_id=tokenizer.pad_token_id, num_labels=model.config.num_labels)
    sampler = EpochShuffleSampler(len(train_features), config.seed)
    # own generator: creating a loader iterator must not consume the global RNG (resume == uninterrupted)
    train_loader = DataLoader(train_features, batch_size=config.batch_size, sampler=sampler, collate_fn=collator,
                              num_workers=config.num_workers, generator=torch.Generator().manual_seed(config.seed))
    eval_batch_size = config.eval_batch_size or config.batch_size
    dev_loader = test_loader = None
    if data.dev:
        dev_features = featurize(model, tokenizer, data.dev, source=config.dev_file)
        dev_loader = evaluation_loader(dev_features, tokenizer, model.config.num_labels, eval_batch_size,
                                       config.num_workers)
        _check_best_metric(config.best_metric, data.dev)
    if data.test:
        test_features = featurize(model, tokenizer, data.test, source=config.test_file)
        test_loader = evaluation_loader(test_features, tokenizer, model.config.num_labels, eval_batch_size,
                                        config.num_workers)
    train_facts = train_facts_from_documents(data.train)

    optimizer = build_optimizer(model, config)
    model, optimizer, train_loader = accelerator.prepare(model, optimizer, train_loader)
    dev_loader = accelerator.prepare_data_loader(dev_loader) if dev_loader is not None else None
    test_loader = accelerator.prepare_data_loader(test_loader) if test_loader is not None else None

    steps_per_epoch = math.ceil(len(train_loader) / config.grad_accumulation)
    total_steps = config.max_steps or steps_per_epoch * config.epochs
    num_epochs = math.ceil(total_steps / steps_per_epoch)
    # not prepared: accelerate would step a prepared scheduler once per process; we step it per optimizer step
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total_steps), total_steps)
    accelerator.register_for_checkpointing(scheduler)

    progress = TrainingProgress()
    if latest is not None:
        accelerator.load_state(str(latest))
        progress = TrainingProgress.read(latest / PROGRESS_FILE)
        # the next save_state continues the numbering instead of colliding with existing checkpoints
        accelerator.project_configuration.iteration = progress.save_count
        logger.info(f"resumed from {latest} at step {progress.global_step}")
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "training_config.json").write_text(json.dumps(config.to_dict(), indent=1), encoding="utf-8")
    accelerator.init_trackers("paee", config=_flat_hyperparameters(config))
    logger.info(f"{len(data.train)} train / {len(data.dev or ())} dev / {len(data.test or ())} test documents; "
                f"{accelerator.num_processes} process(es); {steps_per_epoch} steps per epoch, {total_steps} steps")

    hardware = describe_hardware(accelerator.num_processes, accelerator.mixed_precision)

    def evaluate_dev() -> dict[str, Any]:
        facts = predict_facts(model, dev_loader, accelerator, len(data.dev))
        return evaluate([fact for document in facts for fact in document], data.dev, train_facts=train_facts,
                        relation_names=_complete_names(data.relations))

    def save_best(metrics: Mapping[str, Any] | None) -> None:
        staging = model_dir.with_name(model_dir.name + ".tmp")
        if accelerator.is_main_process and staging.exists():
            shutil.rmtree(staging)
        accelerator.wait_for_everyone()
        unwrapped = accelerator.unwrap_model(model)
        state_dict = accelerator.get_state_dict(model)  # collective under FSDP / DeepSpeed: every process calls it
        if accelerator.is_main_process:
            card = card_from_training(config.to_dict(), unwrapped.config, global_step=progress.global_step,
                                      best_step=progress.global_step, dev_metrics=metrics,
                                      training_seconds=progress.training_seconds, hardware=hardware)
            unwrapped.save_pretrained(staging, state_dict=state_dict, save_function=accelerator.save, model_card=card)
            tokenizer.save_pretrained(staging)
            replace_directory(staging, model_dir)
        accelerator.wait_for_everyone()

    def save_checkpoint() -> None:
        staging = checkpoints.root / f"step_{progress.global_step}.tmp"
        if accelerator.is_main_process:
            checkpoints.staging(progress.global_step)
        accelerator.wait_for_everyone()
        progress.save_count += 1
        accelerator.save_state(str(staging))
        if accelerator.is_main_process:
            write_text_atomic(staging / PROGRESS_FILE, progress.to_json())
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            checkpoints.commit(progress.global_step)
        accelerator.wait_for_everyone()

    bar = tqdm(total=total_steps, initial=progress.global_step, desc="train",
               disable=not accelerator.is_local_main_process)
    window_loss = torch.zeros(2, device=accelerator.device)  # (sum of micro-batch losses, micro-batches)
    clock = time.monotonic()
    model.train()
    for epoch in range(progress.global_step // steps_per_epoch, num_epochs):
        if progress.global_step >= total_steps:
            break
        sampler.set_epoch(epoch)
        train_loader.set_epoch(epoch)
        done_in_epoch = progress.global_step - epoch * steps_per_epoch
        batches = (accelerator.skip_first_batches(train_loader, done_in_epoch * config.grad_accumulation)
                   if done_in_epoch else train_loader)
        for batch in batches:
            with accelerator.accumulate(model):
                loss = model(**model_inputs(batch)).loss
                accelerator.backward(loss)
                if accelerator.sync_gradients and config.max_grad_norm is not None:
                    accelerator.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                optimizer.step()
                if accelerator.sync_gradients and not accelerator.optimizer_step_was_skipped:
                    scheduler.step()
                optimizer.zero_grad()
            window_loss += torch.stack([loss.detach().float(), torch.ones((), device=loss.device)])
            if not accelerator.sync_gradients:
                continue
            progress.global_step += 1
            progress.training_seconds += time.monotonic() - clock
            clock = time.monotonic()
            step = progress.global_step
            bar.update(1)
            if step % config.logging_steps == 0 or step == total_steps:
                loss_sum, count = accelerator.reduce(window_loss, reduction="sum").tolist()
                window_loss.zero_()
                rates = {f"train/lr_{group['name']}": group["lr"] for group in optimizer.param_groups}
                accelerator.log({"train/loss": loss_sum / count, "train/epoch": epoch, **rates}, step=step)
                bar.set_postfix(loss=f"{loss_sum / count:.4f}")
            end_of_epoch = step % steps_per_epoch == 0
            if dev_loader is not None and (step == total_steps or (
                    step % config.eval_every == 0 if config.eval_every else end_of_epoch)):
                metrics = evaluate_dev()
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
                    save_best(metrics)
                    if accelerator.is_main_process:
                        write_text_atomic(output_dir / "dev_metrics.json", json.dumps(metrics, indent=1))
            if step == total_steps or (step % config.save_every == 0 if config.save_every else end_of_epoch):
                save_checkpoint()
            if on_step_end is not None:
                on_step_end(progress, accelerator, model)
            if step >= total_steps:
                break
    bar.close()

    if dev_loader is None:
        save_best(None)
        progress.best_step = progress.global_step
    result = _finish(accelerator, config, data, progress, test_loader, train_facts, output_dir, model_dir)
    accelerator.end_training()
    return result


def _prepare_output_dir(
    accelerator: Accelerator, checkpoints: CheckpointDirectory, model_dir: Path, resume: bool, overwrite: bool
) -> Path | None:
    """Find the checkpoint to resume from, or make sure a new run does not mix with an old one."""
    if accelerator.is_main_process:
        recover_directory(model_dir)
    accelerator.wait_for_everyone()
    latest = checkpoints.latest()
    if resume:
        if latest is None:
            raise ValueError(f"--resume: {checkpoints.root} holds no complete checkpoint; drop --resume to start a "
                             "new run.")
        return latest
    previous_run = latest is not None or bool(checkpoints.completed()) or model_dir.exists()
    if previous_run and not overwrite:
        raise ValueError(f"{model_dir.parent} already holds a run (model or checkpoints); pass --resume to continue "
                         "it, --overwrite to replace it, or choose another --output-dir.")
    if previous_run and accelerator.is_main_process:
        shutil.rmtree(checkpoints.root, ignore_errors=True)
        shutil.rmtree(model_dir, ignore_errors=True)
    accelerator.wait_for_everyone()
    return None


def _finish(
    accelerator: Accelerator,
    config: TrainingConfig,
    data: RunData,
    progress: TrainingProgress,
    test_loader: DataLoader | None,
    train_facts: set,
    output_dir: Path,
    model_dir: Path,
) -> TrainingResult:
    """Predict (and score) the test set with the saved model; write ``result.zip``, the card and ``results.json``."""
    dev_metrics = None
    if data.dev:
        dev_metrics = json.loads((output_dir / "dev_metrics.json").read_text(encoding="utf-8"))
    test_metrics = submission = None
    if test_loader is not None:
        best = accelerator.prepare_model(PaeeForDocumentRelationExtraction.from_pretrained(model_dir),
                                         evaluation_mode=True)
        facts = [fact for document in predict_facts(best, test_loader, accelerator, len(data.test))
                 for fact in document]
        submission = output_dir / SUBMISSION_FILE
        if accelerator.is_main_process:
            write_codalab_submission(facts, submission)
        if all(document.get("labels") is not None for document in data.test):
            test_metrics = evaluate(facts, data.test, train_facts=train_facts,
                                    relation_names=_complete_names(data.relations))
            accelerator.log({f"test/{key}": value for key, value in _scalars(test_metrics).items()},
                            step=progress.global_step)
    result = TrainingResult(output_dir, model_dir, progress.global_step, progress.best_step, progress.best_metric,
                            dev_metrics, test_metrics, submission)
    if accelerator.is_main_process:
        card = card_from_training(config.to_dict(), PaeeConfig.from_pretrained(model_dir),
                                  global_step=progress.global_step, best_step=progress.best_step,
                                  dev_metrics=dev_metrics, test_metrics=test_metrics,
                                  training_seconds=progress.training_seconds,
                                  hardware=describe_hardware(accelerator.num_processes, accelerator.mixed_precision))
        write_model_card(model_dir, card)
        write_text_atomic(output_dir / RESULTS_FILE, result.to_json())
    accelerator.wait_for_everyone()
    return result


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
    return {label: relations.names[label] for label in labels} if all(l in relations.names for l in labels) else None


def _flat_hyperparameters(config: TrainingConfig) -> dict[str, Any]:
    """Scalar hyper-parameters for the trackers (tensorboard accepts only str/int/float/bool)."""
    values = {key: value for key, value in config.to_dict().items() if key not in ("model", "reader_options")}
    values.update({f"model.{key}": value for key, value in config.model.items()})
    return {key: value if isinstance(value, (str, int, float, bool)) else json.dumps(value)
            for key, value in values.items()}
