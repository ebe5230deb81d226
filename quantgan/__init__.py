"""quantgan: synthetic markets for backtesting.

A scikit-learn-style augmenter learns the law of historical returns with a
convolutional WGAN-GP and samples alternative histories::

    import quantgan as qg

    returns = qg.log_returns(qg.load_sp500())
    paths = qg.WGANAugmenter(time_budget=120, random_state=0).fit(returns).sample(1000)
"""

from quantgan.augmenters import WGANAugmenter
from quantgan.baselines import BootstrapAugmenter, GARCHAugmenter, GaussianAugmenter
from quantgan.data import download, load_sp500, log_returns, read_csv
from quantgan.evaluation import Report, evaluate

__version__ = "0.1.0.dev0"

__all__ = [
    "BootstrapAugmenter",
    "GARCHAugmenter",
    "GaussianAugmenter",
    "Report",
    "WGANAugmenter",
    "__version__",
    "download",
    "evaluate",
    "load_sp500",
    "log_returns",
    "read_csv",
]
