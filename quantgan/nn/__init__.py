"""Torch modules: the seed's conv generator/critic, the Quant GANs TCN, Lipschitz tools.

This subpackage depends on torch only (never pandas or scikit-learn).
"""

from quantgan.nn.conv import ConvCritic, ConvGenerator
from quantgan.nn.lipschitz import LIPSCHITZ_METHODS, clip_weights, gradient_penalty
from quantgan.nn.tcn import TCNCritic, TCNGenerator, TCNWindowGenerator

__all__ = [
    "LIPSCHITZ_METHODS",
    "ConvCritic",
    "ConvGenerator",
    "TCNCritic",
    "TCNGenerator",
    "TCNWindowGenerator",
    "clip_weights",
    "gradient_penalty",
]
