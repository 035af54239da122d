"""A tiny PAEE checkpoint with some scores above the threshold, and raw-text documents for it (shared by the
prediction tests through conftest.py)."""

from __future__ import annotations

import pytest
import torch
from tiny_models import tiny_bert_config, tiny_bert_tokenizer
from transformers import BertModel

from paee_hf import PaeeForDocumentRelationExtraction

TEXT = "John Smith was born in Paris . Paris is the capital of France . He works for Acme Corp ."
RAW_DOCUMENT = {
    "title": "John Smith",
    "text": TEXT,
    "entities": [
        {"mentions": [{"start": 0, "end": 10}], "type": "PER"},
        {"mentions": [{"start": 23, "end": 28}, {"start": 31, "end": 36}], "type": "LOC"},
        {"mentions": [{"start": 55, "end": 61}], "type": "LOC"},
        {"mentions": [{"start": 77, "end": 86}], "type": "ORG"},
    ],
}


def tiny_scoring_model(directory, **config) -> PaeeForDocumentRelationExtraction:
    """A tiny PAEE on a seeded random BERT saved in ``directory``, with some scores above the threshold."""
    tokenizer = tiny_bert_tokenizer()
    torch.manual_seed(0)
    BertModel(tiny_bert_config(len(tokenizer), max_position_embeddings=64)).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    model = PaeeForDocumentRelationExtraction.from_encoder(
        str(directory), relations=["P17", "P19", "P108"], entity_types=["PER", "ORG", "LOC"],
        matrix_size=8, pair_channels=16, classifier_hidden_size=32, bilinear_block_size=8, re_encoder_layers=1,
        **config,
    )
    with torch.no_grad():
        model.classifier.bilinear.bias.copy_(torch.tensor([0.0, 0.3, -0.2, 0.1]))  # some scores above TH
    return model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    model = tiny_scoring_model(
        tmp_path_factory.mktemp("backbone"),
        relation_names={"P17": "country", "P19": "place of birth", "P108": "employer"},
    )
    checkpoint = tmp_path_factory.mktemp("checkpoint")
    model.save_pretrained(checkpoint)
    return checkpoint


@pytest.fixture(scope="module")
def model(model_dir):
    return PaeeForDocumentRelationExtraction.from_pretrained(model_dir).eval()


