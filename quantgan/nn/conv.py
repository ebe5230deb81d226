"""The seed's convolutional WGAN-GP generator and critic, for any window and assets.

GANetano (De Meer Pardo) for windows of 100 steps, one asset::

    generator: Linear(50, 100) -> LeakyReLU -> SN Conv1d(1, 32) -> Upsample(200)
               -> SN Conv1d(32, 32) -> LeakyReLU -> Upsample(400)
               -> SN Conv1d(32, 32) -> LeakyReLU -> Upsample(800)
               -> SN Conv1d(32, 1) -> LeakyReLU -> Linear(800, 100)
    critic:    SN Conv1d(1, 32) -> LeakyReLU -> MaxPool(2)
               -> SN Conv1d(32, 32) -> LeakyReLU -> MaxPool(2)
               -> SN Conv1d(32, 32) -> LeakyReLU -> Flatten (800)
               -> Linear(800, 50) -> LeakyReLU -> Linear(50, 15) -> LeakyReLU -> Linear(15, 1)

Here ``100`` becomes ``window``, the channel count ``hidden`` and the single input /
output channel ``n_assets``. Tensors are ``(batch, n_assets, window)``.

Initialisation (measured here, not in the seed): with PyTorch's default init the
untrained generator's output is a fixed pattern set by the biases, and the part
that depends on the latent is ~13x smaller (std 0.008 against 0.11). Spectral
normalisation keeps the convolutions from amplifying it, so training grows the
bias pattern first and collapses: every latent gives the same series. The
generator therefore starts with zero biases and its output layer rescaled so that
outputs have unit standard deviation across latents, the scale of the
standardised data (a data-free variant of LSUV init, Mishkin & Matas 2016).
"""

from __future__ import annotations

import torch
from torch import nn

from quantgan.nn.lipschitz import LIPSCHITZ_METHODS, spectral_norm

_SLOPE = 0.2


def _conv(c_in: int, c_out: int, sn: bool) -> nn.Module:
    conv = nn.Conv1d(c_in, c_out, kernel_size=3, padding=1)
    return spectral_norm(conv) if sn else conv


class ConvGenerator(nn.Module):
    """Latent ``(batch, latent_dim)`` -> windows ``(batch, n_assets, window)``."""

    def __init__(
        self, latent_dim: int = 50, window: int = 100, n_assets: int = 1, hidden: int = 32
    ):
        super().__init__()
        self.latent_dim, self.window, self.n_assets = latent_dim, window, n_assets
        act = nn.LeakyReLU(_SLOPE)
        self.project = nn.Sequential(nn.Linear(latent_dim, window), act)
        self.body = nn.Sequential(
            _conv(1, hidden, True),
            nn.Upsample(size=2 * window),
            _conv(hidden, hidden, True),
            act,
            nn.Upsample(size=4 * window),
            _conv(hidden, hidden, True),
            act,
            nn.Upsample(size=8 * window),
            _conv(hidden, n_assets, True),
            act,
        )
        # Applied to the last axis: one shared map 8*window -> window per asset channel.
        self.head = nn.Linear(8 * window, window)
        self._calibrate()

    @torch.no_grad()
    def _calibrate(self, n: int = 512) -> None:
        """Zero the biases and scale the head to unit output std across latents."""
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Conv1d)) and module.bias is not None:
                module.bias.zero_()
        std = self(torch.randn(n, self.latent_dim)).std()
        if std > 0:
            self.head.weight.div_(std)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).unsqueeze(1)
        return self.head(self.body(h))


class ConvCritic(nn.Module):
    """Windows ``(batch, n_assets, window)`` -> one score per window.

    ``lipschitz`` containing ``"sn"`` puts spectral normalisation on every layer.
    """

    def __init__(
        self, window: int = 100, n_assets: int = 1, hidden: int = 32, lipschitz: str = "sn+gp"
    ):
        super().__init__()
        if lipschitz not in LIPSCHITZ_METHODS:
            raise ValueError(f"lipschitz must be one of {LIPSCHITZ_METHODS}, got {lipschitz!r}")
        if window < 4:
            raise ValueError(f"window must be >= 4 for the critic's two poolings, got {window}")
        sn = "sn" in lipschitz
        act = nn.LeakyReLU(_SLOPE)

        def linear(i: int, o: int) -> nn.Module:
            layer = nn.Linear(i, o)
            return spectral_norm(layer) if sn else layer

        flat = hidden * ((window // 2) // 2)
        self.net = nn.Sequential(
            _conv(n_assets, hidden, sn),
            act,
            nn.MaxPool1d(2),
            _conv(hidden, hidden, sn),
            act,
            nn.MaxPool1d(2),
            _conv(hidden, hidden, sn),
            act,
            nn.Flatten(),
            linear(flat, 50),
            act,
            linear(50, 15),
            act,
            linear(15, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)
