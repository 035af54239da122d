"""paee-hf: the PAEE document-level relation extraction model for the Hugging Face ecosystem.

Importing the package registers ``PaeeConfig`` / ``PaeeForDocumentRelationExtraction`` with ``AutoConfig`` and
``AutoModel`` and the ``document-relation-extraction`` pipeline (idempotent), and marks the classes for ``auto_map``
so saved checkpoints also load with ``trust_remote_code=True`` where this package is not installed.
"""

from transformers import AutoConfig, AutoModel
from transformers.pipelines import PIPELINE_REGISTRY

from .configuration_paee import PaeeConfig
from .data import *  # noqa: F403  (the data API: readers, validation, featurizer, collator, decoding)
from .data import __all__ as _data_api
from .modeling_paee import PaeeForDocumentRelationExtraction, PaeeOutput, decode_relations
from .pipeline_paee import TASK, DocumentRelationExtractionPipeline

__version__ = "0.1.0"


def _register() -> None:
    AutoConfig.register(PaeeConfig.model_type, PaeeConfig, exist_ok=True)
    AutoModel.register(PaeeConfig, PaeeForDocumentRelationExtraction, exist_ok=True)
    PaeeConfig.register_for_auto_class()
    PaeeForDocumentRelationExtraction.register_for_auto_class("AutoModel")
    if TASK not in PIPELINE_REGISTRY.get_supported_tasks():
        PIPELINE_REGISTRY.register_pipeline(
            TASK, pipeline_class=DocumentRelationExtractionPipeline, pt_model=AutoModel, type="text"
        )


_register()

__all__ = [
    "DocumentRelationExtractionPipeline",
    "PaeeConfig",
    "PaeeForDocumentRelationExtraction",
    "PaeeOutput",
    "decode_relations",
    *_data_api,
]
