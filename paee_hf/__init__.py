"""paee-hf: the PAEE document-level relation extraction model for the Hugging Face ecosystem.

Importing the package registers ``PaeeConfig`` / ``PaeeForDocumentRelationExtraction`` with ``AutoConfig`` and
``AutoModel`` (idempotent), and marks both for ``auto_map`` so saved checkpoints also load with
``trust_remote_code=True`` where this package is not installed.
"""

from transformers import AutoConfig, AutoModel

from .configuration_paee import PaeeConfig
from .modeling_paee import PaeeForDocumentRelationExtraction, PaeeOutput, decode_relations

__version__ = "0.1.0"


def _register() -> None:
    AutoConfig.register(PaeeConfig.model_type, PaeeConfig, exist_ok=True)
    AutoModel.register(PaeeConfig, PaeeForDocumentRelationExtraction, exist_ok=True)
    PaeeConfig.register_for_auto_class()
    PaeeForDocumentRelationExtraction.register_for_auto_class("AutoModel")


_register()

__all__ = [
    "PaeeConfig",
    "PaeeForDocumentRelationExtraction",
    "PaeeOutput",
    "decode_relations",
]
