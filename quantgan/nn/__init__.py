"""Torch modules: the seed's convolutional generator and critic, Lipschitz tools.

This subpackage depends on torch only (never pandas or scikit-learn).
"""

from quantgan.nn.conv import ConvCritic, ConvGenerator
from quantgan.nn.lipschitz import LIPSCHITZ_METHODS, clip_weights, gradient_penalty

__all__ = [
    "LIPSCHITZ_METHODS",
    "ConvCritic",
    "ConvGenerator",
    "clip_weights",
    "gradient_penalty",
]
