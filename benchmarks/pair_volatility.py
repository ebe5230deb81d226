"""Where two assets' volatility co-movement goes: the history, the paths, the factor.

Each asset's volatility in the default two-asset WGAN is a log-volatility factor (slow
channels shared by both assets, and each asset's own) times a GARCH(1,1) volatility
driven by that asset's own output. With weakly correlated returns (the S&P 500 with
WTI crude oil, correlation 0.19), the GARCH parts share few shocks and dilute the
factors' co-movement: with the factors split evenly between shared and own channels
(the start before the sixteenth session), the paths' 20-day volatilities co-moved
half as much as in history (docs/model.md). Since then ``fit`` picks the shared
share by simulating the start (:func:`quantgan.preprocessing.shared_volatility_share`).
This script fits the default on a pair and prints:

* the correlation of the two assets' log rolling volatilities (20, 60, 120 days) in
  history and in the paths (mean over paths);
* the correlation of the two assets' log-volatility factors implied by the kept
  generator's weights (the slow channels are independent and of equal variance, so it
  is the cosine of the two weight vectors), each asset's GARCH alpha and the shared
  share the fit started at.

``--start`` trains nothing: it prints what the share's pick compared, the simulated
start's log-variance correlations at each share of the grid next to the data's (the
default's start: the assets' joint ACF fit of the factor, the GARCH alpha of the
grid, symmetric; one common alpha when that reaches the co-movement and the assets'
own do not).

    python benchmarks/pair_volatility.py --pair sp500,wti --max-steps 700 --seed 0
    python benchmarks/pair_volatility.py --pair sp500,wti --start --seed 0
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


def start_table(returns: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The default start's simulated log-variance correlations at each shared share.

    Rows: the data, then each share of the grid (the pick marked); columns: the
    rolling windows. The start is the one ``fit`` builds for the default TCN on the
    whole history (``WGANAugmenter._start``, which stops before training): the assets'
    joint ACF fit of the factor, the GARCH grid with persistence 0.99 and, when that
    start's pick misses the history's co-movement by more than
    ``WGANAugmenter._SHARED_REACH``, one common GARCH alpha, kept if it reaches.
    """
    wgan = qg.WGANAugmenter(random_state=seed)
    wgan._start(wgan._validate_data(returns))
    table, share = wgan._shared_start_table, wgan.shared_volatility_start_
    reaches = wgan._shared_start_reaches
    which = "each asset's own GARCH alpha"
    if wgan._shared_start_common:
        which = "one GARCH alpha for both (their own missed the co-movement)"
    columns = [f"log {w}-day vol corr" for w in table["windows"]]
    rows = {"history": table["data"][0]}
    for s, corr in table["simulated"].items():
        rows[f"share {s:.2f}{' (pick)' if s == share else ''}"] = corr[0]
    alpha, weights = wgan.garch_start_[:, 0], wgan.log_volatility_start_
    alphas = ", ".join(f"{n} {a:.3f}" for n, a in zip(returns.columns, alpha, strict=True))
    print(f"start ({which}): GARCH alpha {alphas}; factor weights {np.round(weights, 3).tolist()}")
    print(f"the pick {'reaches' if reaches else 'misses'} the history: weights "
          f"{'trained' if wgan.train_memory_ else 'held'} by default")  # fmt: skip
    return pd.DataFrame(rows, index=columns).T


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", default="sp500,wti", help=f"two of {', '.join(PRICES)}")
    parser.add_argument("--max-steps", type=int, default=700)
    parser.add_argument("--n-paths", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-memory", choices=("none", "true", "false"), default="none",
                        help="WGANAugmenter(train_memory=...); none: the default's rule")  # fmt: skip
    parser.add_argument("--start", action="store_true",
                        help="train nothing: the start's simulated co-movement at each share")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        returns = pair_returns(args.pair)
    except ValueError as exc:
        parser.error(str(exc))
    pair = list(returns.columns)
    if args.start:
        frame = start_table(returns, args.seed)
        print(f"{' + '.join(pair)}, {len(returns)} days; the start, seed {args.seed}")
        print(frame.round(3).to_string())
        return frame
    train_memory = {"none": None, "true": True, "false": False}[args.train_memory]
    wgan = qg.WGANAugmenter(
        time_budget=None,
        max_steps=args.max_steps,
        random_state=args.seed,
        verbose=False,
        train_memory=train_memory,
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
    print(
        f"shared share at the start: {wgan.shared_volatility_start_}; factor weights "
        f"{'trained' if wgan.train_memory_ else 'held'}"
    )
    return frame


if __name__ == "__main__":
    main()
