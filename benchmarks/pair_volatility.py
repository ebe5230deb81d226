"""Where two assets' volatility co-movement goes: the history, the paths, the factor.

On the S&P 500 with WTI crude oil (returns correlated 0.19), the default two-asset WGAN
keeps the return correlation but its 20-day volatilities co-move half as much as in
history (docs/model.md, fifteenth session; ``examples/two_assets.py --pair sp500,wti``).
Each asset's volatility is a log-volatility factor (slow channels shared by both
assets, and each asset's own) times a GARCH(1,1) volatility driven by that asset's own
output. This script fits the default on a pair and prints:

* the correlation of the two assets' log rolling volatilities (20, 60, 120 days) in
  history and in the paths (mean over paths);
* the correlation of the two assets' log-volatility factors implied by the kept
  generator's weights (the slow channels are independent and of equal variance, so it
  is the cosine of the two weight vectors), and each asset's GARCH alpha.

A factor correlation near the history's while the paths' is far below it points at
the per-asset GARCH part.

    python benchmarks/pair_volatility.py --pair sp500,wti --max-steps 700 --seed 0
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import quantgan as qg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from two_assets import PRICES, pair_returns  # examples/two_assets.py

WINDOWS = (20, 60, 120)


def log_vol_correlation(frame: pd.DataFrame, window: int) -> float:
    """Correlation of two columns' log ``window``-day rolling standard deviations."""
    vol = np.log(frame.rolling(window).std().dropna())
    return float(vol.corr().iloc[0, 1])


def factor_correlation(weights: np.ndarray) -> float:
    """Correlation of two assets' log-volatility factors from their weights (assets x
    channels) on independent unit-variance channels: the cosine of the two rows."""
    a, b = weights
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", default="sp500,wti", help=f"two of {', '.join(PRICES)}")
    parser.add_argument("--max-steps", type=int, default=700)
    parser.add_argument("--n-paths", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        returns = pair_returns(args.pair)
    except ValueError as exc:
        parser.error(str(exc))
    pair = list(returns.columns)
    wgan = qg.WGANAugmenter(
        time_budget=None, max_steps=args.max_steps, random_state=args.seed, verbose=False
    ).fit(returns)
    paths = wgan.sample(args.n_paths, random_state=args.seed)
    table = {}
    for window in WINDOWS:
        per_path = [log_vol_correlation(paths[p], window) for p in paths.columns.unique("path")]
        table[f"log {window}-day vol corr"] = {
            "history": log_vol_correlation(returns, window),
            "WGAN paths": float(np.mean(per_path)),
        }
    frame = pd.DataFrame(table).T
    print(f"{' + '.join(pair)}, {len(returns)} days; WGAN seed {args.seed}, "
          f"{len(wgan.history_)} steps, kept step {wgan.best_step_}")  # fmt: skip
    print(frame.round(3).to_string())
    tcn = wgan.generator_.tcn
    weights = tcn.log_vol.weight.detach().cpu().numpy()[:, :, 0]
    print(f"log-volatility factor correlation (kept weights): {factor_correlation(weights):.3f}")
    if wgan.garch_start_ is not None:
        alphas = ", ".join(
            f"{n} {a:.3f}" for n, a in zip(pair, wgan.garch_start_[:, 0], strict=True)
        )
        print(f"GARCH alpha per asset: {alphas}")
    return frame


if __name__ == "__main__":
    main()
