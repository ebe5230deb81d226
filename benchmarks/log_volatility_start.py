"""Where the TCN's log-volatility factor starts, and what that start alone implies.

The default TCN multiplies its output by ``exp(w . s_t)``, where the ``s_k`` are unit
AR(1) processes with time constants 16, 64 and 256 days (``memory``). Training moves
``w`` little in minutes, so the start decides much of the volatility clustering of a
5-minute model. This script compares the starts of ``WGANAugmenter(memory_init=...)``
on the S&P 500 (1999-2018):

- ``fixed``: log-volatility std 0.5 spread evenly over the time constants;
- ``moments`` (the default of the fourth and fifth sessions): the moment estimate of
  :func:`quantgan.preprocessing.log_volatility_weights` from the autocovariances of
  log squared returns (``method="log"``);
- ``acf-moments`` (the default): the same model fitted to the ACFs of ``|r|`` and
  ``r^2`` (``method="acf"``);
- ``acf-moments + garch`` (what the default TCN, ``garch=True``, starts from): that
  start scaled and a GARCH(1,1) volatility driven by the same noise, fitted jointly
  (:func:`quantgan.preprocessing.garch_volatility_start`).

For each it simulates the factor alone, ``x_t = exp(w . s_t) * eps_t`` with Gaussian
``eps`` (no network), as long as the history, and prints the ACF scores of ``|r|`` and
``r^2`` (:func:`quantgan.metrics.acf_score`), the median per-path excess kurtosis and the
mean ACF at lags 1-5 next to the real ones. With ``--model`` files (saved default
WGANs) it also prints where their factor started and where the kept checkpoint ended.

    python benchmarks/log_volatility_start.py                       # about 10 s
    python benchmarks/log_volatility_start.py --model a.safetensors --model b.safetensors
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import torch

import quantgan as qg
from quantgan import metrics
from quantgan.nn.tcn import ar1_filter, garch_log_variance
from quantgan.preprocessing import garch_volatility_start, log_volatility_weights

MEMORY = (16.0, 64.0, 256.0)


def factor_alone(
    weights: np.ndarray, n_paths: int, length: int, seed: int, alpha: float = 0.0
) -> np.ndarray:
    """(length, n_paths) paths of ``exp(w . s_t) * eps_t`` (unit AR(1) ``s``, Gaussian eps).

    With ``alpha > 0``, times the GARCH volatility of ``garch=True`` driven by the same
    ``eps`` (persistence 0.99, a burn-in as long as the path)."""
    gen = torch.Generator().manual_seed(seed)
    slow = ar1_filter(torch.randn(n_paths, len(MEMORY), length, generator=gen), MEMORY)
    log_vol = torch.einsum("k,nkt->nt", torch.as_tensor(weights, dtype=slow.dtype), slow)
    eps = torch.randn(n_paths, length, generator=gen)
    if alpha > 0:
        shocks = torch.cat([torch.randn(n_paths, length, generator=gen), eps], dim=-1)
        log_var = garch_log_variance(shocks[:, None], torch.tensor([alpha]), torch.tensor([0.99]))
        log_vol = log_vol + 0.5 * log_var[:, 0, length:]
    return (torch.exp(log_vol) * eps).double().numpy().T


def summary(real: np.ndarray, paths: np.ndarray) -> dict:
    def lags_1_5(x, f):
        a = metrics.acf(f(x), 5)[1:]
        return float(a.mean())

    kurt = pd.DataFrame(paths).kurt()
    return {
        "acf_abs": metrics.acf_score(real, paths, "abs"),
        "acf_sq": metrics.acf_score(real, paths, "square"),
        "excess_kurtosis": float(kurt.median()),
        "acf_abs_lags_1_5": lags_1_5(paths, np.abs),
        "acf_sq_lags_1_5": lags_1_5(paths, np.square),
    }


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-paths", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", action="append", default=[], help="a saved default WGAN")
    args = parser.parse_args(argv)

    returns = qg.log_returns(qg.load_sp500()).loc["1999":"2018"].to_numpy()
    x = (returns - returns.mean()) / returns.std()
    starts = {
        "fixed": np.full(len(MEMORY), 0.5 / np.sqrt(len(MEMORY))),
        "moments": log_volatility_weights(x[:, None], MEMORY)[0],
        "acf-moments": log_volatility_weights(x[:, None], MEMORY, method="acf")[0],
    }
    real = {
        "acf_abs": 0.0,
        "acf_sq": 0.0,
        "excess_kurtosis": float(pd.Series(returns).kurt()),
        "acf_abs_lags_1_5": float(metrics.acf(np.abs(returns), 5)[1:].mean()),
        "acf_sq_lags_1_5": float(metrics.acf(returns**2, 5)[1:].mean()),
    }
    joint, alpha = garch_volatility_start(x[:, None], MEMORY, weights=starts["acf-moments"][None])
    rows = {"real": {**real, **{f"w_{int(t)}": np.nan for t in MEMORY}, "alpha": np.nan}}
    for name, w, a in [
        *((name, w, 0.0) for name, w in starts.items()),
        ("acf-moments + garch", joint[0], float(alpha[0])),
    ]:
        paths = factor_alone(w, args.n_paths, len(returns), args.seed, alpha=a)
        rows[f"factor alone, {name} start"] = {
            **summary(returns, paths),
            **{f"w_{int(t)}": v for t, v in zip(MEMORY, w, strict=True)},
            "alpha": a,
        }
    table = pd.DataFrame(rows).T
    print(f"S&P 500 1999-2018, {len(returns)} days; {args.n_paths} simulated paths per start")
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    print("(w_k: the log-volatility std that time constant k contributes; alpha: the GARCH")
    print(" volatility's, garch=True, fitted jointly by garch_volatility_start)")

    for path in args.model:
        model = qg.WGANAugmenter.load(path)
        kept = model.generator_.tcn.log_volatility().double().numpy()
        print(f"\n{path}: memory_init={model.memory_init!r}, kept step {model.best_step_}")
        print("  start:", np.round(model.log_volatility_start_, 3).tolist())
        print("  kept: ", np.round(kept, 3).tolist())
    return table


if __name__ == "__main__":
    main()
