"""Keeping the critic (approximately) 1-Lipschitz, as the Wasserstein dual requires.

- ``"clip"``: weight clipping to [-c, c] after each critic update (Arjovsky et al.
  2017, "Wasserstein GAN"; c = 0.01 there). Simple but biases the critic towards
  overly simple functions.
- ``"gp"``: gradient penalty ``lambda * E[(||grad D(x_hat)|| - 1)^2]`` on random
  interpolates of real and fake samples (Gulrajani et al. 2017, "Improved Training of
  Wasserstein GANs"; lambda = 10).
- ``"sn"``: spectral normalisation of every critic layer (Miyato et al. 2018).
- ``"sn+gp"``: both, as in the seed model (GANetano / De Meer Pardo).
"""

from __future__ import annotations

import torch
from torch import nn

LIPSCHITZ_METHODS = ("gp", "sn", "sn+gp", "clip")


def spectral_norm(module: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """Spectral normalisation via the parametrization API.

    The parametrization runs power iterations when it is registered, so a model put
    in ``eval()`` before any training pass still computes a sensible sigma. (The
    legacy ``torch.nn.utils.spectral_norm`` starts from a random vector and, in
    eval mode, outputs values ~1000x off until a training pass has run.)
    """
    return nn.utils.parametrizations.spectral_norm(module, n_power_iterations=n_power_iterations)


def gradient_penalty(
    critic: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``(||grad critic(x_hat)||_2 - 1)^2`` and the mean gradient norm.

    ``x_hat = a * real + (1 - a) * fake`` with ``a ~ U(0, 1)`` per sample. The
    penalty is differentiable (double backward); multiply it by the GP weight.
    """
    alpha = torch.rand(
        (real.shape[0],) + (1,) * (real.dim() - 1),
        generator=generator,
        device=real.device,
        dtype=real.dtype,
    )
    x_hat = (alpha * real + (1 - alpha) * fake.detach()).requires_grad_(True)
    score = critic(x_hat)
    (grad,) = torch.autograd.grad(score.sum(), x_hat, create_graph=True)
    # The epsilon keeps the square root differentiable at a zero gradient.
    norm = torch.sqrt(grad.flatten(1).pow(2).sum(dim=1) + 1e-12)
    return (norm - 1).pow(2).mean(), norm.detach().mean()


@torch.no_grad()
def clip_weights(module: nn.Module, c: float = 0.01) -> None:
    """Clip every parameter of ``module`` to ``[-c, c]`` in place."""
    for p in module.parameters():
        p.clamp_(-c, c)
