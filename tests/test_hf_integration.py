"""Hugging Face integration: save/load identity, AutoModel, remote code, from_encoder, backbones, ATLOP parity."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from model_batches import VOCAB_SIZE, make_batch, tiny_paee_config
from tiny_models import (
    minilm_path,
    scaled_timeout,
    tiny_bert_config,
    tiny_bert_tokenizer,
    tiny_roberta_config,
)
from transformers import AutoConfig, AutoModel, BertModel, ElectraConfig

import paee_hf
from paee_hf import CHECKPOINT_CODE_FILES, PaeeConfig, PaeeForDocumentRelationExtraction

REPO_ROOT = Path(__file__).resolve().parents[1]


def trained_like(model: PaeeForDocumentRelationExtraction) -> PaeeForDocumentRelationExtraction:
    """Perturb every weight so that a load that silently re-initialises anything shows up."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)
    return model.eval()


@pytest.fixture(scope="module")
def saved_checkpoint(tmp_path_factory) -> tuple[Path, dict, torch.Tensor]:
    torch.manual_seed(0)
    model = trained_like(PaeeForDocumentRelationExtraction(tiny_paee_config()))
    batch = make_batch([3, 5], [30, 90], with_labels=False)
    with torch.no_grad():
        logits = model(**batch).logits
    directory = tmp_path_factory.mktemp("checkpoint")
    model.save_pretrained(directory)
    return directory, batch, logits


def test_save_load_gives_bit_identical_outputs(saved_checkpoint):
    directory, batch, logits = saved_checkpoint
    loaded = PaeeForDocumentRelationExtraction.from_pretrained(directory).eval()
    with torch.no_grad():
        assert torch.equal(loaded(**batch).logits, logits)
    assert (directory / "model.safetensors").exists()


def test_automodel_and_autoconfig_load_the_checkpoint(saved_checkpoint):
    directory, batch, logits = saved_checkpoint
    assert isinstance(AutoConfig.from_pretrained(directory), PaeeConfig)
    model = AutoModel.from_pretrained(directory).eval()
    assert isinstance(model, PaeeForDocumentRelationExtraction)
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, logits)


def test_checkpoint_carries_auto_map_and_its_code(saved_checkpoint):
    directory, _, _ = saved_checkpoint
    config = json.loads((directory / "config.json").read_text())
    assert config["auto_map"] == {
        "AutoConfig": "configuration_paee.PaeeConfig",
        "AutoModel": "modeling_paee.PaeeForDocumentRelationExtraction",
    }
    shipped = {path.name for path in directory.glob("*.py")}
    assert {"configuration_paee.py", "modeling_paee.py", "document_encoder.py", "pair_aware.py"} <= shipped


def test_remote_code_loads_where_the_package_is_not_importable(saved_checkpoint, tmp_path):
    directory, batch, logits = saved_checkpoint
    torch.save(batch, tmp_path / "batch.pt")
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["paee_hf"] = None  # any import of the package now fails
        import torch
        from transformers import AutoModel
        torch.set_num_threads({torch.get_num_threads()})  # same thread count as here: same summation order
        model = AutoModel.from_pretrained({str(directory)!r}, trust_remote_code=True).eval()
        assert "paee_hf" not in type(model).__module__, type(model).__module__
        with torch.no_grad():
            logits = model(**torch.load({str(tmp_path / "batch.pt")!r})).logits
        torch.save(logits, {str(tmp_path / "logits.pt")!r})
        """
    )
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf_home"), "HF_HUB_OFFLINE": "1"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=scaled_timeout(300))
    assert result.returncode == 0, result.stderr[-3000:]
    assert torch.equal(torch.load(tmp_path / "logits.pt"), logits)


def test_from_pretrained_on_a_plain_backbone_points_to_from_encoder(tmp_path):
    BertModel(tiny_bert_config(VOCAB_SIZE)).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"not a PAEE checkpoint.*from_encoder\("):
        PaeeForDocumentRelationExtraction.from_pretrained(tmp_path)


def test_from_encoder_loads_the_backbone_weights(tmp_path):
    torch.manual_seed(3)
    backbone = BertModel(tiny_bert_config(VOCAB_SIZE))
    backbone.save_pretrained(tmp_path)
    tiny_bert_tokenizer().save_pretrained(tmp_path)
    model = PaeeForDocumentRelationExtraction.from_encoder(
        str(tmp_path), relations=["P17", "P131"], entity_types=["PER", "LOC"], matrix_size=8, pair_channels=16,
        classifier_hidden_size=32, bilinear_block_size=8, re_encoder_layers=1,
    )
    torch.testing.assert_close(
        model.encoder.embeddings.word_embeddings.weight, backbone.embeddings.word_embeddings.weight
    )
    assert model.config.id2label == {0: "Na", 1: "P17", 2: "P131"}
    assert model.encoder.pooler is None
    assert model.tokenizer is not None
    with pytest.raises(ValueError, match="without the NA class"):
        PaeeForDocumentRelationExtraction.from_encoder(str(tmp_path), relations=["Na", "P17"])


def test_entity_tags_marker_style_adds_tokens_and_resizes(tmp_path):
    BertModel(tiny_bert_config(VOCAB_SIZE)).save_pretrained(tmp_path)
    tokenizer = tiny_bert_tokenizer()
    tokenizer.save_pretrained(tmp_path)
    model = PaeeForDocumentRelationExtraction.from_encoder(
        str(tmp_path), relations=["P17"], marker_style="entity_tags", matrix_size=8, pair_channels=16,
        classifier_hidden_size=32, bilinear_block_size=8,
    )
    assert model.tokenizer.convert_tokens_to_ids("<e>") == len(tokenizer)
    assert model.encoder.get_input_embeddings().weight.shape[0] == len(tokenizer) + 2


@pytest.mark.parametrize(
    "encoder_config",
    [
        tiny_roberta_config(VOCAB_SIZE, max_position_embeddings=66),
        ElectraConfig(
            vocab_size=VOCAB_SIZE, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=37, max_position_embeddings=64,
        ),
    ],
    ids=["roberta", "electra"],
)
def test_other_backbones(encoder_config):
    torch.manual_seed(0)
    model = PaeeForDocumentRelationExtraction(tiny_paee_config(encoder_config=encoder_config)).train()
    batch = make_batch([3, 4], [30, 150])  # the second document needs windows
    output = model(**batch)
    output.loss.backward()
    assert output.logits.shape == (2, 12, 5)
    assert all(p.grad is not None for p in model.parameters())


def test_minilm_backbone_loads_through_from_encoder():
    model = PaeeForDocumentRelationExtraction.from_encoder(str(minilm_path()), relations=["P17", "P131"])
    assert model.config.encoder_config.hidden_size == 384
    tokens = model.tokenizer("Paris is in France .")["input_ids"]
    assert model.tokenizer.convert_ids_to_tokens(tokens)[1] == "paris"


def test_atlop_ablation_matches_a_reference_implementation():
    """use_par=False, use_eer=False computes ATLOP's get_hrt + grouped bilinear (eager attention, as in ATLOP)."""
    torch.manual_seed(0)
    model = trained_like(PaeeForDocumentRelationExtraction(tiny_paee_config(use_par=False, use_eer=False)))
    batch = make_batch([3, 4], [30, 40], with_labels=False)
    with torch.no_grad():
        logits = model(**batch).logits
        reference_backbone = BertModel(model.config.encoder_config, add_pooling_layer=False)
        reference_backbone.load_state_dict(model.encoder.state_dict())
        reference_backbone.set_attn_implementation("eager")
        encoded = reference_backbone.eval()(
            batch["input_ids"], attention_mask=batch["attention_mask"], output_attentions=True
        )
        for doc in range(2):
            sequence, attention = encoded.last_hidden_state[doc], encoded.attentions[-1][doc]
            entity_embeddings, entity_attentions = [], []
            for mentions in batch["entity_mentions"][doc]:
                positions = batch["mention_positions"][doc][mentions[mentions >= 0]]
                if len(positions) == 0:
                    continue
                entity_embeddings.append(torch.logsumexp(sequence[positions], dim=0))
                entity_attentions.append(attention[:, positions].mean(1))
            for index, (h, t) in enumerate(batch["pair_indices"][doc].tolist()):
                if h < 0:
                    continue
                ht_attention = (entity_attentions[h] * entity_attentions[t]).mean(0)
                ht_attention = ht_attention / (ht_attention.sum() + 1e-5)
                context = ht_attention @ sequence
                classifier = model.classifier
                hs = torch.tanh(classifier.head_extractor(torch.cat([entity_embeddings[h], context])))
                ts = torch.tanh(classifier.tail_extractor(torch.cat([entity_embeddings[t], context])))
                b1 = hs.view(-1, classifier.block_size)
                b2 = ts.view(-1, classifier.block_size)
                bilinear = (b1.unsqueeze(2) * b2.unsqueeze(1)).view(-1)
                torch.testing.assert_close(logits[doc, index], classifier.bilinear(bilinear), atol=1e-5, rtol=1e-4)


def test_checkpoints_ship_exactly_the_flat_modules(tmp_path):
    """What transformers copies for trust_remote_code is the explicit list; a stray import would change the set."""
    PaeeForDocumentRelationExtraction(tiny_paee_config()).save_pretrained(tmp_path)
    copied = {path.name for path in tmp_path.glob("*.py")}
    assert copied == set(CHECKPOINT_CODE_FILES)
    package = Path(paee_hf.__file__).parent
    assert {path.name for path in package.glob("*.py")} - copied == {"__init__.py", "__main__.py"}


def test_a_checkpoint_saved_by_release_0_1_0_loads_weight_for_weight(tmp_path):
    """tests/fixtures/checkpoint_0_1_0 holds the config.json and the weight names, shapes and dtypes that paee-hf
    0.1.0 (before the layout move) saved for the tiny test config; the weights are refilled with seeded values here
    (the repository keeps no weights). Every saved tensor must land in the current model, unchanged."""
    from safetensors.torch import save_file

    fixture = Path(__file__).parent / "fixtures" / "checkpoint_0_1_0"
    layout = json.loads((fixture / "weights_layout.json").read_text())
    generator = torch.Generator().manual_seed(0)
    assert {spec["dtype"] for spec in layout.values()} == {"F32"}
    weights = {name: torch.randn(spec["shape"], generator=generator) for name, spec in sorted(layout.items())}
    save_file(weights, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    (tmp_path / "config.json").write_text((fixture / "config.json").read_text())
    model, info = PaeeForDocumentRelationExtraction.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    state = model.state_dict()
    for name, value in weights.items():
        assert torch.equal(state[name], value), name
    batch = make_batch([3, 4], [30, 40], with_labels=False)
    assert torch.isfinite(model.eval()(**batch).logits).all()


def _reference_atloss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """ATLOP's ATLoss.forward as published (Zhou et al. 2021, losses.py), 1e30 masking included."""
    th_label = torch.zeros_like(labels, dtype=torch.float)
    th_label[:, 0] = 1.0
    labels = labels.clone()
    labels[:, 0] = 0.0
    p_mask = labels + th_label
    n_mask = 1 - labels
    logit1 = logits - (1 - p_mask) * 1e30
    loss1 = -(torch.log_softmax(logit1, dim=-1) * labels).sum(1)
    logit2 = logits - (1 - n_mask) * 1e30
    loss2 = -(torch.log_softmax(logit2, dim=-1) * th_label).sum(1)
    return (loss1 + loss2).mean()


def test_atlop_relation_loss_is_atlops_loss_for_pairs_with_several_labels():
    from paee_hf.losses import adaptive_softmax_loss, atlop_loss

    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 5, generator=generator) * 3
    labels = torch.tensor([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 1, 1],
                           [1, 0, 0, 0, 0]], dtype=torch.float)
    torch.testing.assert_close(atlop_loss(logits, labels), _reference_atloss(logits, labels))
    # eq. 9 agrees on single-label rows only
    single = [0, 1, 5]
    torch.testing.assert_close(adaptive_softmax_loss(logits[single], labels[single]),
                               _reference_atloss(logits[single], labels[single]))
    assert not torch.allclose(adaptive_softmax_loss(logits, labels), _reference_atloss(logits, labels))


def test_atlop_head_init_is_pytorchs_default_and_survives_loading(tmp_path):
    """ATLOP leaves its head extractors and grouped bilinear at PyTorch's kaiming-uniform init: std 1/sqrt(3 fan_in),
    ~8x below normal(0.02) for BERT-base's bilinear (fan_in 768 * 64)."""
    config = tiny_paee_config(use_par=False, use_eer=False, relation_loss="atlop", head_init="pytorch",
                              classifier_hidden_size=256, bilinear_block_size=64)
    torch.manual_seed(0)
    model = PaeeForDocumentRelationExtraction(config)
    bilinear = model.classifier.bilinear.weight
    fan_in = bilinear.shape[1]
    assert fan_in == 256 * 64
    bound = 1 / fan_in**0.5
    assert bilinear.abs().max() <= bound and abs(bilinear.std().item() * (3 * fan_in) ** 0.5 - 1) < 0.05
    assert model.classifier.bilinear.bias.abs().max() <= bound and model.classifier.bilinear.bias.abs().max() > 0
    torch.manual_seed(0)
    normal_config = tiny_paee_config(use_par=False, use_eer=False, classifier_hidden_size=256, bilinear_block_size=64)
    normal = PaeeForDocumentRelationExtraction(normal_config)
    assert abs(normal.classifier.bilinear.weight.std().item() - 0.02) < 0.002
    embeddings = normal.encoder.embeddings.word_embeddings.weight
    assert torch.equal(embeddings, model.encoder.embeddings.word_embeddings.weight)
    model.save_pretrained(tmp_path)
    loaded = PaeeForDocumentRelationExtraction.from_pretrained(tmp_path)
    for name, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[name]), name
