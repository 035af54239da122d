"""Hub round trip against a real HTTP server on 127.0.0.1 (tests/hub_server.py): push_to_hub uploads config, weights,
tokenizer, remote code and OUR model card; a clean subprocess loads the repo with trust_remote_code and predicts the
same facts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import huggingface_hub
import pytest
import torch
from hub_server import HubServer
from huggingface_hub import ModelCard
from tiny_models import tiny_bert_config, tiny_bert_tokenizer
from transformers import BertModel

from paee_hf import CHECKPOINT_CODE_FILES, PaeeForDocumentRelationExtraction
from paee_hf.cards.model_card import DATASETS, PaeeCardData, render_model_card

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
def hub(monkeypatch):
    with HubServer(token=TOKEN) as server:
        # huggingface_hub read HF_ENDPOINT at import; HfApi() takes constants.ENDPOINT when it is created
        monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", server.endpoint)
        yield server
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
                            stdin=subprocess.DEVNULL, timeout=300)
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
