"""Three assets in one model: every pair's return correlation and volatility co-movement.

Fits the default WGAN on the S&P 500, the NASDAQ Composite and WTI crude oil together
(daily log returns on the days all three have; all bundled, offline) and prints, for
each pair, the history's and the paths' (mean over paths):

* return correlation;
* co-movement: the correlation of the two assets' 20-day rolling volatilities;
* the correlation of their log 60-day rolling volatilities;

then each asset's ACF scores of |r| and r^2, leverage score and excess kurtosis
(mean over paths; the history's beside it), and what the start was (GARCH alphas, the
shared share, factor weights held or trained). ``--correlation-start`` fits with
``WGANAugmenter(correlation_start=True)``: the network's output starts mixed to the
history's return correlations (docs/model.md, "Eighteenth session").
``--match-correlation true|false`` sets ``match_correlation`` (default: the
estimator's), which mixes the output to the history's correlations after training
("Nineteenth session"). ``--assets`` takes any two or more of the bundled series.

    python benchmarks/three_assets.py --max-steps 700 --seed 0
    python benchmarks/three_assets.py --max-steps 700 --seed 0 --correlation-start
    python benchmarks/three_assets.py --seed 0 --match-correlation false
    python benchmarks/three_assets.py --seed 0 --assets sp500,wti
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import quantgan as qg
from quantgan.metrics import acf_score, leverage_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from two_assets import PRICES, vol_comovement  # examples/two_assets.py

ASSETS = ("sp500", "nasdaq", "wti")


def log_vol_correlation(frame: pd.DataFrame, window: int = 60) -> float:
    """Correlation of two columns' log ``window``-day rolling standard deviations."""
    return float(np.log(frame.rolling(window).std().dropna()).corr().iloc[0, 1])


def pair_table(returns: pd.DataFrame, paths: pd.DataFrame) -> pd.DataFrame:
    """One row per pair of assets: history and paths side by side."""
    ids = paths.columns.unique("path")
    rows = {}
    for a, b in itertools.combinations(returns.columns, 2):
        history = returns[[a, b]]
        each = [paths[p][[a, b]] for p in ids]
        rows[f"{a}-{b}"] = {
            "corr history": float(history.corr().iloc[0, 1]),
            "corr paths": float(np.mean([f.corr().iloc[0, 1] for f in each])),
            "co-move history": vol_comovement(history),
            "co-move paths": float(np.mean([vol_comovement(f) for f in each])),
            "log-vol 60 history": log_vol_correlation(history),
            "log-vol 60 paths": float(np.mean([log_vol_correlation(f) for f in each])),
        }
    return pd.DataFrame(rows).T


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-steps", type=int, default=700)
    parser.add_argument("--n-paths", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--correlation-start", action="store_true",
                        help="WGANAugmenter(correlation_start=True)")  # fmt: skip
    parser.add_argument("--match-correlation", choices=("none", "true", "false"), default="none",
                        help="WGANAugmenter(match_correlation=...); none: the default")  # fmt: skip
    parser.add_argument("--assets", default=",".join(ASSETS),
                        help=f"two or more of {', '.join(PRICES)} (default: all three)")  # fmt: skip
    args = parser.parse_args(argv)
    assets = args.assets.split(",")
    if len(assets) < 2 or len(set(assets)) < len(assets) or not set(assets) <= set(PRICES):
        parser.error(f"--assets takes two or more different names of {', '.join(PRICES)}")
    prices = pd.concat({name: PRICES[name]() for name in assets}, axis=1, join="inner")
    returns = qg.log_returns(prices)
    wgan = qg.WGANAugmenter(
        time_budget=None,
        max_steps=args.max_steps,
        random_state=args.seed,
        verbose=False,
        correlation_start=args.correlation_start,
        match_correlation={"none": None, "true": True, "false": False}[args.match_correlation],
    ).fit(returns)
    paths = wgan.sample(args.n_paths, random_state=args.seed)
    table = pair_table(returns, paths)
    alphas = ", ".join(
        f"{n} {a:.3f}" for n, a in zip(returns.columns, wgan.garch_start_[:, 0], strict=True)
    )
    print(
        f"{' + '.join(returns.columns)}, {len(returns)} days; WGAN seed {args.seed}, "
        f"{len(wgan.history_)} steps, kept step {wgan.best_step_}, correlation start "
        f"{'on' if args.correlation_start else 'off'}, match_correlation "
        f"{'on' if wgan._param('match_correlation') else 'off'}"
    )
    print(
        f"start: GARCH alpha {alphas}; shared share {wgan.shared_volatility_start_}; "
        f"factor weights {'trained' if wgan.train_memory_ else 'held'}"
    )
    print(table.round(3).to_string())
    for kind, label in (("abs", "|r|"), ("square", "r^2")):
        scores = {
            a: round(acf_score(returns[a], paths.xs(a, axis=1, level="asset"), kind), 4)
            for a in returns
        }
        print(f"ACF {label} score: {scores}")
    each = {a: paths.xs(a, axis=1, level="asset") for a in returns}
    lev = {a: round(leverage_score(returns[a], p), 4) for a, p in each.items()}
    print(f"leverage score: {lev}")
    kurt = {a: f"{p.kurt().mean():.2f} (history {returns[a].kurt():.2f})" for a, p in each.items()}
    print(f"excess kurtosis: {kurt}")
    return table


if __name__ == "__main__":
    main()
