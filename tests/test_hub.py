"""Hub round trip against a real HTTP server on 127.0.0.1 (tests/hub_server.py): push_to_hub uploads config, weights,
tokenizer, remote code and OUR model card; a clean subprocess loads the repo with trust_remote_code and predicts the
same facts; Hub ids work wherever a model or backbone path does (``from_encoder``, ``paee train --encoder``,
``paee predict --model``), and a missing or private id is one line naming it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import huggingface_hub
import pytest
import test_training as fixtures
import torch
import transformers.utils.hub
from hub_server import HubServer, _HubRequestHandler
from huggingface_hub import HfApi, ModelCard
from test_cli import user_error
from tiny_models import scaled_timeout, tiny_bert_config, tiny_bert_tokenizer
from transformers import BertModel

from paee_hf import CHECKPOINT_CODE_FILES, PaeeForDocumentRelationExtraction
from paee_hf.cards.model_card import DATASETS, PaeeCardData, render_model_card
from paee_hf.cli import commands as cli
from paee_hf.corpus.loading import load_trained_model
from paee_hf.training.config import resolve_encoder

TOKEN = "test-token"
TEXT = "John Smith was born in Paris . Paris is the capital of France . He works for Acme Corp ."
DOCUMENT = {
    "title": "John Smith",
    "text": TEXT,
    "entities": [
        {"mentions": [{"start": 0, "end": 10}], "type": "PER"},
        {"mentions": [{"start": 23, "end": 28}, {"start": 31, "end": 36}], "type": "LOC"},
        {"mentions": [{"start": 55, "end": 61}], "type": "LOC"},
        {"mentions": [{"start": 77, "end": 86}], "type": "ORG"},
    ],
}
SMALL_HEADS = {"matrix_size": 8, "pair_channels": 16, "classifier_hidden_size": 32, "bilinear_block_size": 8,
               "re_encoder_layers": 1}
MISSING = ("{} is neither a local directory nor a Hub repository you can read: check the id, or log in "
           "(`hf auth login`) or set HF_TOKEN if it is private.")
SHIPPED = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "README.md",
           *CHECKPOINT_CODE_FILES}


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> PaeeForDocumentRelationExtraction:
    backbone = tmp_path_factory.mktemp("backbone")
    tokenizer = tiny_bert_tokenizer()
    torch.manual_seed(0)
    BertModel(tiny_bert_config(len(tokenizer), max_position_embeddings=64)).save_pretrained(backbone)
    tokenizer.save_pretrained(backbone)
    model = PaeeForDocumentRelationExtraction.from_encoder(
        str(backbone), relations=["P17", "P19", "P108"], entity_types=["PER", "ORG", "LOC"],
        relation_names={"P17": "country", "P19": "place of birth", "P108": "employer"},
        matrix_size=8, pair_channels=16, classifier_hidden_size=32, bilinear_block_size=8, re_encoder_layers=1,
    )
    with torch.no_grad():
        model.classifier.bilinear.bias.copy_(torch.tensor([0.0, 0.3, -0.2, 0.1]))  # some scores above TH
    return model.eval()


@pytest.fixture()
def card(model) -> PaeeCardData:
    """A trained-style card with scores, so model-index has to survive the upload."""
    return PaeeCardData(model_name="paee-hub-test", status="trained", backbone="tiny-bert",
                        relations=model.config.relation_labels, entity_types=model.config.entity_types,
                        metrics={"dev": {"f1": 0.5, "ign_f1": 0.25, "rela_f1": 0.75}}, global_step=3, best_step=3,
                        dataset=DATASETS["docred"])


@pytest.fixture()
def hub(monkeypatch, tmp_path):
    """The local Hub, with every setting the clients read pointed at it, whatever the shell exported.

    huggingface_hub reads HF_ENDPOINT, HF_HUB_OFFLINE (which transformers follows too) and the cache location once, at
    import, into ``constants``; the clients read those constants at each call. Offline mode (HF_HUB_OFFLINE=1, common
    on clusters) would block even this local server, a user's token would reach it, and a shared cache could answer
    for it. transformers keeps one HfApi (with the endpoint of its first call) for uploads. Child processes get the same
    settings through the environment.
    """
    constants = huggingface_hub.constants
    with HubServer(token=TOKEN) as server:
        monkeypatch.setattr(constants, "ENDPOINT", server.endpoint)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                            server.endpoint + "/{repo_id}/resolve/{revision}/{filename}")
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub_cache"))
        monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no_token"))
        monkeypatch.setattr(transformers.utils.hub, "_hf_api", None)  # transformers' shared HfApi keeps its endpoint
        for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "TRANSFORMERS_OFFLINE"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv("HF_HUB_OFFLINE", "0")
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
        yield server
        # pooled keep-alive connections outlive the server; the next one may get the same port and must not reach
        # this server's still-running handler threads
        huggingface_hub.utils.close_session()
        assert server.unhandled == [], f"the client used endpoints the test hub lacks: {server.unhandled}"


def test_push_uploads_every_file_and_keeps_the_models_card(model, card, hub):
    model.model_card = card
    try:
        commit = model.push_to_hub("tester/paee-tiny", token=TOKEN, tags=["unit-test"])
    finally:
        model.model_card = None
    assert commit.oid == hub.repositories["tester/paee-tiny"].head
    assert SHIPPED <= set(hub.repositories["tester/paee-tiny"].files)

    readme = hub.file("tester/paee-tiny", "README.md").decode()
    assert "# paee-hub-test" in readme and "This is the model card of a" not in readme  # ours, not the stock card
    metadata = ModelCard(readme).data
    assert {(result.dataset_split, result.metric_type, result.metric_value) for result in metadata.eval_results} == {
        ("validation", "f1", 50.0), ("validation", "ign_f1", 25.0), ("validation", "rela_f1", 75.0)}
    assert "unit-test" in metadata.tags and "paee" in metadata.tags


def test_a_clean_process_loads_the_pushed_repo_and_predicts_the_same(model, hub, tmp_path):
    expected = model.predict(DOCUMENT)[0]
    assert expected, "the biased classifier predicts some relations"
    model.push_to_hub("tester/paee-remote", token=TOKEN)
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.modules["paee_hf"] = None  # the package is not importable: everything comes from the repo
        import torch
        torch.set_num_threads({torch.get_num_threads()})
        from transformers import AutoModel, pipeline
        document = json.loads({json.dumps(json.dumps(DOCUMENT))})
        model = AutoModel.from_pretrained("tester/paee-remote", trust_remote_code=True).eval()
        extractor = pipeline("document-relation-extraction", model="tester/paee-remote", trust_remote_code=True)
        model.save_pretrained("resaved")  # a remote-code copy re-saves with the card it was loaded with
        print(json.dumps({{"predict": model.predict(document)[0], "pipeline": extractor(document),
                          "card": model.model_card}}))
        """
    )
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_OFFLINE": "0"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=scaled_timeout(300))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Do you wish to run the custom code" not in result.stdout  # trust_remote_code=True is enough
    remote = json.loads(result.stdout.strip().splitlines()[-1])
    for facts in (remote["predict"], remote["pipeline"]):
        assert [(f["h_idx"], f["t_idx"], f["r"], f["relation"]) for f in facts] == [
            (f["h_idx"], f["t_idx"], f["r"], f["relation"]) for f in expected]
        assert [f["score"] for f in facts] == pytest.approx([f["score"] for f in expected], abs=1e-6)
    assert remote["card"] == hub.file("tester/paee-remote", "README.md").decode()  # the card came along
    assert (tmp_path / "resaved" / "README.md").read_text(encoding="utf-8") == remote["card"]
    assert any(request.startswith("GET /tester/paee-remote/resolve/") for request in hub.requests)


def test_pushing_again_commits_on_top_and_save_pretrained_push_keeps_the_card(model, card, hub, tmp_path):
    model.push_to_hub("tester/paee-twice", token=TOKEN)
    model.push_to_hub("tester/paee-twice", token=TOKEN, model_card=card, commit_message="second")
    repository = hub.repositories["tester/paee-twice"]
    assert repository.messages == ["initial commit", "Upload PAEE model", "second"]
    assert hub.file("tester/paee-twice", "README.md").decode() == render_model_card(card)

    model.save_pretrained(tmp_path / "local", push_to_hub=True, repo_id="tester/paee-saved", token=TOKEN,
                          model_card=card)
    assert hub.file("tester/paee-saved", "README.md") == (tmp_path / "local" / "README.md").read_bytes()
    assert "# paee-hub-test" in (tmp_path / "local" / "README.md").read_text()


def test_a_loaded_checkpoint_carries_its_card_to_the_next_save_and_push(model, card, hub, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    model.save_pretrained(first, model_card=card)
    loaded = PaeeForDocumentRelationExtraction.from_pretrained(first)
    assert loaded.model_card == render_model_card(card)
    loaded.save_pretrained(second)
    assert (second / "README.md").read_text() == render_model_card(card)
    loaded.push_to_hub("tester/paee-reloaded", token=TOKEN)
    assert hub.file("tester/paee-reloaded", "README.md").decode() == render_model_card(card)


def test_push_with_a_wrong_token_is_refused_by_the_hub(model, hub):
    with pytest.raises(huggingface_hub.errors.HfHubHTTPError, match="401"):
        model.push_to_hub("tester/paee-denied", token="wrong-token")
    assert "tester/paee-denied" not in hub.repositories


def push_backbone(repo_id: str) -> BertModel:
    """A tiny BERT and its tokenizer uploaded as a Hub backbone; returns the model."""
    tokenizer = tiny_bert_tokenizer()
    torch.manual_seed(1)
    backbone = BertModel(tiny_bert_config(len(tokenizer), max_position_embeddings=64))
    backbone.push_to_hub(repo_id, token=TOKEN)
    tokenizer.push_to_hub(repo_id, token=TOKEN)
    return backbone


def test_from_encoder_and_the_training_config_take_a_backbone_by_hub_id(hub):
    backbone = push_backbone("tester/tiny-bert")
    assert resolve_encoder("tester/tiny-bert") == "tester/tiny-bert"  # goes to AutoModel as it is
    model = PaeeForDocumentRelationExtraction.from_encoder("tester/tiny-bert", relations=["P17"],
                                                           entity_types=["LOC"], **SMALL_HEADS)
    loaded, pushed = model.encoder.state_dict(), backbone.state_dict()
    assert len(loaded) > 20 and all(torch.equal(tensor, pushed[name]) for name, tensor in loaded.items())
    assert model.tokenizer.get_vocab() == tiny_bert_tokenizer().get_vocab()
    assert any(re.fullmatch(r"GET /tester/tiny-bert/resolve/\w+/model\.safetensors", request)
               for request in hub.requests)  # the weights came from the Hub


def test_paee_train_and_predict_take_hub_ids(hub, tmp_path, monkeypatch, capsys):
    """``paee train`` without a config on a Hub backbone, then ``paee predict`` of the pushed checkpoint by id."""
    push_backbone("tester/tiny-bert")
    paths = fixtures.write_corpus(tmp_path / "data")
    monkeypatch.chdir(tmp_path)  # the default output_dir, outputs/paee, lands here
    settings = [f"--set={key}={value}" for key, value in fixtures.TINY_MODEL.items()]
    assert cli.main(["train", "--train-file", str(paths["train"]), "--dev-file", str(paths["dev"]),
                     "--encoder", "tester/tiny-bert", "--max-steps", "2", *settings]) == 0
    model_dir = tmp_path / "outputs" / "paee" / "model"
    HfApi().create_repo("tester/paee-trained", token=TOKEN)
    HfApi().upload_folder(folder_path=model_dir, repo_id="tester/paee-trained", token=TOKEN)

    local, remote = tmp_path / "local.jsonl", tmp_path / "remote.jsonl"
    assert cli.main(["predict", "--model", str(model_dir), "--input", str(paths["test"]), "--output", str(local)]) == 0
    assert cli.main(["predict", "--model", "tester/paee-trained", "--input", str(paths["test"]),
                     "--output", str(remote)]) == 0
    assert remote.read_text() == local.read_text() and len(remote.read_text().splitlines()) == 2
    assert any(re.fullmatch(r"GET /tester/paee-trained/resolve/\w+/model\.safetensors", request)
               for request in hub.requests)


def test_a_missing_or_private_hub_id_is_one_line_naming_it(model, hub, monkeypatch, tmp_path, capsys):
    private = {"tester/paee-private"}
    anonymous_view = _HubRequestHandler._repository

    def hide_private_repos(handler: _HubRequestHandler, repo: str) -> bool:
        # what the Hub answers a client without a token for a private repo: 401 RepoNotFound, as for a missing one
        if repo in private and handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            handler._error(401, "RepoNotFound", "Repository Not Found")
            return False
        return anonymous_view(handler, repo)

    monkeypatch.setattr(_HubRequestHandler, "_repository", hide_private_repos)
    model.push_to_hub("tester/paee-private", token=TOKEN)
    # with the token it loads (into a cache of its own: a cached copy would answer the calls without a token below)
    assert PaeeForDocumentRelationExtraction.from_pretrained("tester/paee-private", token=TOKEN,
                                                            cache_dir=tmp_path / "authorized") is not None

    for repo_id in ("tester/absent", "tester/paee-private"):
        for load in (lambda: PaeeForDocumentRelationExtraction.from_pretrained(repo_id),
                     lambda: load_trained_model(repo_id),
                     lambda: PaeeForDocumentRelationExtraction.from_encoder(repo_id, relations=["P17"])):
            with pytest.raises(ValueError, match=f"^{re.escape(MISSING.format(repo_id))}$"):
                load()
    documents = tmp_path / "docs.json"
    documents.write_text(json.dumps(fixtures.make_documents(2, 0)))
    assert user_error(capsys, ["predict", "--model", "tester/absent", "--input", str(documents),
                               "--output", str(tmp_path / "out.jsonl")]) == "paee: error: " + MISSING.format(
        "tester/absent")
    line = user_error(capsys, ["train", "--train-file", str(documents), "--encoder", "tester/absent",
                               "--output-dir", str(tmp_path / "run")])
    assert line == "paee: error: " + MISSING.format("tester/absent")
