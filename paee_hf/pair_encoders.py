"""Pair encoders of the Pair-Aware Representation (PAEE paper eq. 4, ``Y = TNet(W2 V')``) and their factory.

Every encoder maps a filled canvas ``(B, D, N', N')`` and its bool mask ``(B, N', N')`` to ``(B, D', N', N')`` for any
``N' >= 1`` and includes ``W2`` (the 1x1 projection to ``D'`` channels) as its first layer, so the model does not
apply ``W2`` separately:

* ``"tnet"``: :class:`~.tnet.TNetPairEncoder`, the dense multi-scale hard-attention reading of TNet (default).
* ``"unet"``: :class:`~.unet.UNetPairEncoder`, DocuNet's U-Net.
* ``"none"``: :class:`IdentityPairEncoder`, ``W2`` alone, i.e. no interaction between pairs.
"""

from __future__ import annotations

import inspect

from torch import Tensor, nn

from .tnet import TNetPairEncoder
from .unet import UNetPairEncoder


class IdentityPairEncoder(nn.Module):
    """``Y = W2 V'``: the ``pair_encoder="none"`` ablation.

    A 1x1 convolution even when ``in_channels == out_channels``: ``W2`` belongs to eq. 4 whatever the encoder, so
    the ablation removes only the spatial encoder and the output width ``D'`` stays a free choice.

    Args:
        in_channels: ``D``, channels of the filled canvas.
        out_channels: ``D'``, channels of the output map.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        if in_channels < 1 or out_channels < 1:
            raise ValueError(
                f"IdentityPairEncoder in_channels and out_channels must be >= 1; got {in_channels}, {out_channels}."
            )
        self.project = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def forward(self, canvas: Tensor, valid: Tensor) -> Tensor:
        """Project every cell.

        Args:
            canvas: ``(B, in_channels, N', N')``.
            valid: ``(B, N', N')`` content mask; part of the common interface, unused by a per-cell map.

        Returns:
            ``(B, out_channels, N', N')``.
        """
        del valid  # part of the interface only (see docstring)
        return self.project(canvas)


PAIR_ENCODERS: dict[str, type[nn.Module]] = {
    "tnet": TNetPairEncoder,
    "unet": UNetPairEncoder,
    "none": IdentityPairEncoder,
}


def build_pair_encoder(kind: str, in_channels: int, out_channels: int, **hyper: object) -> nn.Module:
    """Build the pair encoder named by the config's ``pair_encoder``.

    Args:
        kind: ``"tnet"``, ``"unet"`` or ``"none"``.
        in_channels: ``D``, channels of the filled canvas.
        out_channels: ``D'``, channels of the output map ``Y``.
        **hyper: Constructor arguments of that encoder (e.g. ``window_size``, ``top_k`` for ``"tnet"``;
            ``base_channels``, ``depth`` for ``"unet"``).

    Returns:
        The encoder module.

    Raises:
        ValueError: for an unknown ``kind`` or a hyper-parameter the chosen encoder does not take.
    """
    if kind not in PAIR_ENCODERS:
        raise ValueError(f"pair_encoder must be one of {tuple(PAIR_ENCODERS)}; got {kind!r}.")
    encoder_class = PAIR_ENCODERS[kind]
    channel_arguments = ("in_channels", "out_channels")
    accepted = [name for name in inspect.signature(encoder_class).parameters if name not in channel_arguments]
    unknown = sorted(set(hyper) - set(accepted))
    if unknown:
        raise ValueError(
            f"pair_encoder={kind!r} does not take {unknown}; its hyper-parameters are {accepted}. "
            "Pass only the ones of the chosen encoder."
        )
    return encoder_class(in_channels, out_channels, **hyper)
