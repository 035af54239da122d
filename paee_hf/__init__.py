"""paee-hf: the PAEE document-level relation extraction model for the Hugging Face ecosystem.

Importing the package registers ``PaeeConfig`` / ``PaeeForDocumentRelationExtraction`` with ``AutoConfig`` and
``AutoModel`` and the ``document-relation-extraction`` pipeline (idempotent), and marks the classes for ``auto_map``
so saved checkpoints also load with ``trust_remote_code=True`` where this package is not installed.
"""

from transformers import AutoConfig, AutoModel
from transformers.pipelines import PIPELINE_REGISTRY

from .cards.model_card import readme_text
from .configuration_paee import PaeeConfig
from .data import *  # noqa: F403  (the data API: readers, validation, featurizer, collator, decoding)
from .data import __all__ as _data_api
from .mention_grouping import MentionGrouper
from .modeling_paee import PaeeForDocumentRelationExtraction, PaeeOutput
from .pipeline_paee import TASK, DocumentRelationExtractionPipeline
from .prediction import DecodingOptions, RelationPredictor, decode_relations
from .recognizers import DEFAULT_LABEL_MAP, RecognizerError

__version__ = "0.1.0"

#: The files that ``save_pretrained`` copies into every checkpoint for ``trust_remote_code`` users: the modules that
#: transformers reaches by following the relative imports of the model, its config and its pipeline. They stay flat in
#: ``paee_hf/`` and import nothing outside this list; everything else lives in subpackages (tested).
CHECKPOINT_CODE_FILES = (
    "collator.py",
    "configuration_paee.py",
    "document_encoder.py",
    "entity_detection.py",
    "entity_enhanced.py",
    "entity_heads.py",
    "entity_pooling.py",
    "evidence.py",
    "featurizer.py",
    "losses.py",
    "markers.py",
    "mention_grouping.py",
    "modeling_paee.py",
    "pair_aware.py",
    "pair_encoders.py",
    "pipeline_paee.py",
    "plain_text.py",
    "prediction.py",
    "raw_text.py",
    "recognizers.py",
    "segmentation.py",
    "sliding_filling.py",
    "tnet.py",
    "unet.py",
    "validation.py",
)


def _register() -> None:
    AutoConfig.register(PaeeConfig.model_type, PaeeConfig, exist_ok=True)
    AutoModel.register(PaeeConfig, PaeeForDocumentRelationExtraction, exist_ok=True)
    PaeeConfig.register_for_auto_class()
    PaeeForDocumentRelationExtraction.register_for_auto_class("AutoModel")
    PaeeForDocumentRelationExtraction.readme_renderer = staticmethod(readme_text)
    PaeeConfig.pipeline_installed = True
    if TASK not in PIPELINE_REGISTRY.get_supported_tasks():
        PIPELINE_REGISTRY.register_pipeline(
            TASK, pipeline_class=DocumentRelationExtractionPipeline, pt_model=AutoModel, type="text"
        )


_register()

__all__ = [
    "CHECKPOINT_CODE_FILES",
    "DocumentRelationExtractionPipeline",
    "PaeeConfig",
    "PaeeForDocumentRelationExtraction",
    "PaeeOutput",
    "DecodingOptions",
    "RelationPredictor",
    "decode_relations",
    "DEFAULT_LABEL_MAP",
    "MentionGrouper",
    "RecognizerError",
    *_data_api,
]
