"""Overfitting study on the S&P 500: pick parameters on history or on synthetic markets?

For an SMA-crossover grid and a time-series momentum grid, on rolling splits of the
bundled S&P 500 (1999-2018: by default 3-year selection windows, each followed by a
1-year hold-out, 16 splits), the script chooses parameters two ways:

* history: the best Sharpe ratio on the selection window;
* augmented: the best median Sharpe ratio over synthetic paths drawn from an
  augmenter fitted on that selection window only;

and prints, per split and over all splits, the hold-out Sharpe and in-sample minus
hold-out gap of both choices, the PBO of the grid on history and on the synthetic
paths, and a buy-and-hold reference. It then runs the De Meer Pardo & Cobo López
(2020) forecaster experiment (next-day sign from the last 20 returns, trained on
history vs history + synthetic paths). Whatever the numbers say is printed as is.

The default augmenter is GARCH(1, 1) with normal innovations (seconds per split);
``--augmenter wgan --wgan-budget 60`` trains a WGAN (TCN generator) per split
instead, once for both grids (about a minute per split, and a short budget gives a
poor model).

    python examples/overfitting_study.py                        # GARCH, ~1-2 minutes
    python examples/overfitting_study.py --augmenter bootstrap
    python examples/overfitting_study.py --augmenter wgan --wgan-budget 60 --n-splits 4
    python examples/overfitting_study.py --html overfitting.html
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

import quantgan as qg
from quantgan.backtest import sma_crossover
from quantgan.study import OverfittingStudy, augmented_forecaster_experiment, momentum

SMA_GRID = [
    {"fast": [fast], "slow": [s for s in (50, 100, 150, 200, 250) if s > fast]}
    for fast in (5, 10, 20, 30, 50)
]
MOMENTUM_GRID = {
    "lookback": [10, 20, 40, 60, 120, 180, 250],
    "skip": [0, 20],
    "long_only": [True, False],
}


def make_augmenter(name: str, budget: float, seed: int):
    if name == "garch":
        return qg.GARCHAugmenter(dist="normal")
    if name == "bootstrap":
        return qg.BootstrapAugmenter()
    return qg.WGANAugmenter(
        generator="tcn", time_budget=budget, verbose=False, n_threads=1, random_state=seed
    )


def buy_and_hold(returns: pd.Series, splits: pd.DataFrame) -> pd.Series:
    """Annualised Sharpe of holding the index over each hold-out (a reference)."""
    out = {}
    for i, row in splits.iterrows():
        r = np.expm1(returns.loc[row["holdout_first"] : row["holdout_last"]])
        out[i] = r.mean() / r.std(ddof=1) * math.sqrt(252)
    return pd.Series(out, name="buy_and_hold")


def per_split_table(study: OverfittingStudy, reference: pd.Series) -> pd.DataFrame:
    res = study.results_
    wide = res.pivot(index="split", columns="method")
    table = pd.DataFrame(
        {
            "holdout_from": [f"{d:%Y-%m-%d}" for d in wide[("holdout_start", "history")]],
            "history_pick": wide[("config", "history")],
            "hist_IS": wide[("is_sharpe", "history")],
            "hist_OOS": wide[("oos_sharpe", "history")],
            "augmented_pick": wide[("config", "augmented")],
            "aug_IS": wide[("is_sharpe", "augmented")],
            "aug_OOS": wide[("oos_sharpe", "augmented")],
            "buy&hold": reference,
            "PBO_hist": wide[("pbo_history", "history")],
            "PBO_synth": wide[("pbo_synthetic", "history")],
        }
    )
    return table


def report(name: str, study: OverfittingStudy, reference: pd.Series) -> None:
    print(f"\n=== {name}: {len(study.grid_)} configurations, {len(study.splits_)} splits ===")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(per_split_table(study, reference).round(2).to_string())
    s = study.summary()
    t = s.table
    print()
    for method in ("history", "augmented"):
        row = t.loc[method]
        print(
            f"{method:>9}: hold-out Sharpe mean {row['oos_sharpe_mean']:+.2f} "
            f"(median {row['oos_sharpe_median']:+.2f}, s.d. {row['oos_sharpe_std']:.2f}); "
            f"IS-OOS gap mean {row['gap_mean']:+.2f} (median {row['gap_median']:+.2f}); "
            f"in-sample Sharpe mean {row['is_sharpe_mean']:+.2f}; DSR mean {row['dsr_mean']:.2f}; "
            f"hold-out rank in grid {row['oos_percentile_mean']:.2f}"
        )
    print(
        f"PBO over splits: history (time blocks) mean {t.loc['history', 'pbo_history_mean']:.2f}, "
        f"synthetic (groups of paths) mean {t.loc['history', 'pbo_synthetic_mean']:.2f}"
    )
    print(
        f"augmented minus history, hold-out Sharpe: {s.mean_difference:+.3f} "
        f"(s.e. {s.se_difference:.3f}); augmented better in {s.n_better}, tie in {s.n_same}, "
        f"worse in {s.n_worse} of {len(s.oos_difference)} splits; buy & hold mean "
        f"{reference.mean():+.2f}"
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--augmenter", choices=["garch", "bootstrap", "wgan"], default="garch")
    parser.add_argument("--wgan-budget", type=float, default=60.0, help="WGAN seconds per split")
    parser.add_argument("--n-paths", type=int, default=200)
    parser.add_argument("--n-splits", type=int, default=16)
    parser.add_argument("--selection", type=int, default=756, help="selection window, bars")
    parser.add_argument("--holdout", type=int, default=252, help="hold-out, bars")
    parser.add_argument("--score", choices=["median", "quantile"], default="median")
    parser.add_argument("--commission", type=float, default=0.0005, help="0.0005 = 5 bp")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--html", type=Path, default=None, help="write both studies' pages")
    args = parser.parse_args(argv)

    prices = qg.load_sp500()
    returns = qg.log_returns(prices)
    augmenter = make_augmenter(args.augmenter, args.wgan_budget, args.seed)
    common = {
        "split": args.selection,
        "holdout": args.holdout,
        "n_splits": args.n_splits,
        "n_paths": args.n_paths,
        "score": args.score,
        "commission": args.commission,
        "progress": True,
        "random_state": args.seed,
    }
    print(
        f"S&P 500 {prices.index[0]:%Y-%m-%d} to {prices.index[-1]:%Y-%m-%d}; augmenter "
        f"{type(augmenter).__name__}; {args.n_paths} paths per split; selection "
        f"{args.selection} bars, hold-out {args.holdout} bars; commission {args.commission}"
    )
    studies = {}
    fitted = None
    for name, strategy, grid in (
        ("SMA crossover", sma_crossover, SMA_GRID),
        ("momentum", momentum, MOMENTUM_GRID),
    ):
        start = time.perf_counter()
        study = OverfittingStudy(strategy, grid, augmenter, **common)
        study.fit(prices, fitted_augmenters=fitted)
        elapsed = time.perf_counter() - start
        if fitted is None:
            moments = ["selection_drift", "synthetic_drift", "selection_vol", "synthetic_vol"]
            check = study.splits_[["holdout_first", *moments]].set_index("holdout_first")
            print("\npaths check (annualised; synthetic = median over paths):")
            print(check.round(3).to_string())
        fitted = study.augmenters_  # the second grid reuses the fitted augmenters
        reference = buy_and_hold(returns, study.splits_)
        report(name, study, reference)
        print(f"({elapsed:.0f} s; per split: {study.timings_.mean().round(2).to_dict()})")
        studies[name] = study
        if args.html is not None:
            stem = args.html.with_suffix("")
            out = study.to_html(f"{stem}_{name.split()[0].lower()}.html")
            print(f"wrote {out}")

    n_train = round(0.7 * len(returns))
    print(
        f"\n=== forecaster (De Meer Pardo & Cobo Lopez 2020): next-day sign from 20 lags; "
        f"train {returns.index[0]:%Y}-{returns.index[n_train - 1]:%Y}, "
        f"hold-out {returns.index[n_train]:%Y}-{returns.index[-1]:%Y} ==="
    )
    for model in ("ridge", "gbm"):
        start = time.perf_counter()
        table = augmented_forecaster_experiment(
            returns, augmenter, model=model, window=20, n_paths=10, split=0.7,
            random_state=args.seed,
        )  # fmt: skip
        print(f"-- {model} ({time.perf_counter() - start:.0f} s)")
        print(table.round(3).to_string())
        studies[f"forecaster_{model}"] = table
    return studies


if __name__ == "__main__":
    main()
