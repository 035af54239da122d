"""Pair-Aware Representation (paper section 2.2): W2, sliding-window filling, pair encoder (eq. 4) and Potential
Pair Prediction (eq. 5)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .configuration_paee import PaeeConfig
from .pair_encoders import build_pair_encoder
from .sliding_filling import fill_pair_canvas, read_back_block


@dataclass
class PairAwareOutput:
    """What PAR hands to the classifier.

    Attributes:
        pair_features: ``(B, P, D')`` or ``(B, P, D'+1)`` with PPP: rows of ``Y_pair`` for each pair.
        pair_logits: ``(B, P)`` logits of kappa (eq. 5), ``None`` without PPP.
    """

    pair_features: torch.Tensor
    pair_logits: torch.Tensor | None


class PotentialPairPredictor(nn.Module):
    """Eq. 5: ``P'_pair = kappa(P_pair; lambda; pos; sub_emb; obj_emb)``.

    ``P_pair`` is an average pooling of Y over the ``k x k`` neighbourhood of the pair's cell (our reading of "average
    pooling (Lin et al., 2013) to obtain the representation of each entity pair": the pooling must stay per pair).
    kappa is a two-layer classifier over ``[P_pair; pos; subject type; object type]`` embeddings.
    """

    def __init__(self, config: PaeeConfig) -> None:
        super().__init__()
        size = config.ppp_embedding_size
        self.pool_size = config.ppp_pool_size
        self.position_embeddings = nn.Embedding(2, size)
        self.subject_type_embeddings = nn.Embedding(len(config.entity_types), size)
        self.object_type_embeddings = nn.Embedding(len(config.entity_types), size)
        self.classifier = nn.Sequential(
            nn.Linear(config.pair_channels + 3 * size, config.pair_channels),
            nn.GELU(),
            nn.Linear(config.pair_channels, 1),
        )

    def pool(self, canvas: torch.Tensor) -> torch.Tensor:
        """``(B, D', N, N)`` -> ``(B, D', N, N)`` neighbourhood average (P_pair of every cell)."""
        return F.avg_pool2d(canvas, self.pool_size, stride=1, padding=self.pool_size // 2, count_include_pad=False)

    def forward(
        self, pooled_pairs: torch.Tensor, same_sentence: torch.Tensor, subject_types: torch.Tensor,
        object_types: torch.Tensor,
    ) -> torch.Tensor:
        """Score pairs.

        Args:
            pooled_pairs: ``(B, P, D')`` P_pair.
            same_sentence: ``(B, P)`` pos bit.
            subject_types, object_types: ``(B, P)`` entity type ids.

        Returns:
            ``(B, P)`` logits; ``sigmoid(logit) >= lambda`` marks a potential relational pair.
        """
        features = torch.cat(
            [
                pooled_pairs,
                self.position_embeddings(same_sentence),
                self.subject_type_embeddings(subject_types),
                self.object_type_embeddings(object_types),
            ],
            dim=-1,
        )
        return self.classifier(features).squeeze(-1)


class PairAwareRepresentation(nn.Module):
    """Eq. 4-5: ``V' = Sliding(V)``, ``Y = TNet(W2 V')``, ``Y_pair = [Y; P'_pair]``.

    W2 is applied per pair before filling: it is linear per cell, so ``W2 Sliding(V) = Sliding(W2 V)``, and the
    canvas then holds D' instead of D channels (the pair encoders' own input 1x1 convolution becomes a D' -> D'
    channel mix).
    """

    def __init__(self, config: PaeeConfig, hidden_size: int) -> None:
        super().__init__()
        self.matrix_size = config.matrix_size
        self.filling = config.filling
        self.ppp_threshold = config.ppp_threshold
        self.ppp_feature = config.ppp_feature
        self.reduce = nn.Linear(hidden_size, config.pair_channels)  # W2
        encoder_hyper = {
            "tnet": dict(
                window_size=config.tnet_window_size,
                window_stride=config.tnet_window_stride,
                top_k=config.tnet_top_k,
                coarse_pool=config.tnet_coarse_pool,
            ),
            "unet": dict(base_channels=config.unet_base_channels, depth=config.unet_depth),
            "none": {},
        }[config.pair_encoder]
        self.pair_encoder = build_pair_encoder(
            config.pair_encoder, config.pair_channels, config.pair_channels, **encoder_hyper
        )
        self.potential_pairs = PotentialPairPredictor(config) if config.use_ppp else None

    @property
    def output_size(self) -> int:
        """Channels of Y_pair: D' (+1 with PPP)."""
        return self.reduce.out_features + (1 if self.potential_pairs is not None else 0)

    def forward(
        self,
        pair_vectors: torch.Tensor,
        pair_indices: torch.Tensor,
        num_entities: torch.Tensor,
        same_sentence: torch.Tensor,
        subject_types: torch.Tensor,
        object_types: torch.Tensor,
    ) -> PairAwareOutput:
        """Build the entity-level relation matrix and read it back per pair.

        Args:
            pair_vectors: ``(B, P, D)`` V(e_s, e_o) of eq. 3 (with pos/type information added).
            pair_indices: ``(B, P, 2)``, ``-1`` = padding.
            num_entities: ``(B,)`` entities per document.
            same_sentence, subject_types, object_types: ``(B, P)`` for kappa.
        """
        batch_size, _, _ = pair_vectors.shape
        size = int(num_entities.max().item())
        reduced = self.reduce(pair_vectors)  # (B, P, D')
        valid = pair_indices[..., 0] >= 0
        cell = (pair_indices[..., 0] * size + pair_indices[..., 1]).clamp(min=0)
        pair_map = reduced.new_zeros(batch_size, size * size, reduced.shape[-1])
        pair_map = pair_map.scatter(1, cell[..., None].expand_as(reduced), reduced * valid[..., None])
        pair_map = pair_map.view(batch_size, size, size, -1).permute(0, 3, 1, 2)  # (B, D', n, n)

        encoded, pooled = self._encode_on_own_canvases(pair_map, num_entities)
        features = _cells(encoded, cell)
        if pooled is None:
            return PairAwareOutput(pair_features=features, pair_logits=None)

        pooled = _cells(pooled, cell)
        pair_logits = self.potential_pairs(pooled, same_sentence, subject_types, object_types)
        probability = torch.sigmoid(pair_logits)
        tag = (probability >= self.ppp_threshold).to(features.dtype) if self.ppp_feature == "hard" else probability
        features = torch.cat([features, tag[..., None].to(features.dtype)], dim=-1)
        return PairAwareOutput(pair_features=features, pair_logits=pair_logits)

    def _encode_on_own_canvases(
        self, pair_map: torch.Tensor, num_entities: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Fill, encode and read back every document on a canvas of its own side, ``max(N, n_b)``.

        Never the batch's largest side: a document's scores must not depend on its batch-mates (tiling a
        20-entity map onto an 81 x 81 canvas because another document has 81 entities would change what TNet and
        the U-Net see). Documents of at most N entities share one N x N pass; larger ones go in one pass per side.

        Args:
            pair_map: ``(B, D', n, n)`` W2 V, ``n`` = the batch's largest entity count.
            num_entities: ``(B,)`` entities per document.

        Returns:
            ``(B, D', n, n)`` encoded blocks Y, and their PPP neighbourhood pooling (``None`` without PPP);
            padding cells are zero.
        """
        size = pair_map.shape[-1]
        sides = num_entities.clamp(min=self.matrix_size)
        groups, encoded, pooled = [], [], []
        for side in torch.unique(sides).tolist():
            members = (sides == side).nonzero().squeeze(1)
            counts = num_entities[members]
            extent = int(counts.max().item())  # the group's own map side (<= N for the N x N group)
            filled = fill_pair_canvas(pair_map[members, :, :extent, :extent], counts, self.matrix_size, self.filling)
            # windows are scored only where they overlap the block that is read back: elsewhere (tiled copies) a
            # refined window would never reach a pair's features
            output = self.pair_encoder(filled.canvas, filled.block)  # (G, D', side, side)
            padding = (0, size - extent, 0, size - extent)
            groups.append(members)
            encoded.append(F.pad(read_back_block(output, counts, extent), padding))
            if self.potential_pairs is not None:
                pooled.append(F.pad(read_back_block(self.potential_pairs.pool(output), counts, extent), padding))
        batch_order = torch.argsort(torch.cat(groups))
        return torch.cat(encoded)[batch_order], torch.cat(pooled)[batch_order] if pooled else None


def _cells(block: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
    """``(B, C, n, n)`` map, ``(B, P)`` flat cell index -> ``(B, P, C)`` pair rows."""
    flat = block.flatten(2).transpose(1, 2)  # (B, n*n, C)
    return flat.gather(1, cell[..., None].expand(-1, -1, flat.shape[-1]))
