"""quantgan: synthetic markets for backtesting.

A scikit-learn-style augmenter learns the law of historical returns with a
convolutional WGAN-GP and samples alternative histories::

    import quantgan as qg

    returns = qg.log_returns(qg.load_sp500())
    paths = qg.WGANAugmenter(time_budget=120, random_state=0).fit(returns).sample(1000)

The heavy names (torch, scikit-learn, arch) are imported on first use, so that
``import quantgan`` stays cheap in the worker processes of a parallel stress test.
"""

from importlib import import_module

from quantgan.data import download, load_nasdaq, load_sp500, load_wti, log_returns, read_csv

__version__ = "0.1.0.dev0"

_LAZY = {
    "WGANAugmenter": "quantgan.augmenters",
    "BootstrapAugmenter": "quantgan.baselines",
    "GARCHAugmenter": "quantgan.baselines",
    "GaussianAugmenter": "quantgan.baselines",
    "Report": "quantgan.evaluation",
    "evaluate": "quantgan.evaluation",
    "OverfittingStudy": "quantgan.study",
    "StressResult": "quantgan.stress",
    "DataWarning": "quantgan.base",
    "TrainingWarning": "quantgan.base",
    "ohlcv_from_returns": "quantgan.stress",
}

__all__ = [
    "BootstrapAugmenter",
    "DataWarning",
    "GARCHAugmenter",
    "GaussianAugmenter",
    "OverfittingStudy",
    "Report",
    "StressResult",
    "TrainingWarning",
    "WGANAugmenter",
    "__version__",
    "download",
    "evaluate",
    "load_nasdaq",
    "load_sp500",
    "load_wti",
    "log_returns",
    "ohlcv_from_returns",
    "read_csv",
]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'quantgan' has no attribute {name!r}")
    value = globals()[name] = getattr(import_module(_LAZY[name]), name)
    return value


def __dir__():
    return sorted([*globals(), *_LAZY])
