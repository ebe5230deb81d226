"""Linear dependence of returns: the WGAN's spurious momentum, and a linear filter for it.

The ACF score of returns (RMS of the gap over lags 1-250) weighs each lag alone, and
single-lag autocorrelations of daily returns are tiny next to their noise. Summed over
a horizon they are not: the variance ratio (:func:`quantgan.metrics.variance_ratio`)
of the S&P 500 1999-2018 is 0.84 / 0.72 / 0.71 at 5 / 20 / 100 days (mean reversion;
significant at 5 and 20 days), GARCH(1,1) has none (about 1), and the WGAN as trained
can have positive autocorrelation spread over weeks (momentum), which widens its
100-day sums and flatters trend-following strategies.

This script is the measurement behind docs/model.md's "Tenth session": it fits (or
loads) the default WGAN without its own filter (``match_acf=False``; since that
session the default applies the second filter below itself, ``match_acf=5``) and
GARCH(1,1), samples paths as long as the scored history and prints the stylized-fact
table (``quantgan.evaluate``) of the WGAN's paths as sampled and after two linear
filters fitted once, after training, each followed by a rescaling to the paths' own
mean and std (so the drift and volatility level are the model's):

* "whitened": the WGAN's output minus its linear prediction from the last
  ``--white-lags`` values (an AR fitted by Yule-Walker to the mean ACF of 2^20
  generated steps): no linear dependence left, as in GARCH;
* "whitened + AR(p)": then an AR(``--order``) fitted by Yule-Walker to the training
  returns' ACF at lags 1..p: the data's short-horizon reversal put back.

    python benchmarks/momentum.py --period 1999-2018 --wgan-budget 300 --seed 0
    python benchmarks/momentum.py --period 1999-2018 --train-until 2008-12-31 --seed 0
    python benchmarks/momentum.py --model fitted.safetensors --period 2009-2018
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter

import quantgan as qg
from quantgan import metrics

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import PERIODS, markdown, split_at  # benchmarks/quality.py

#: Generated steps behind the whitening filter (the ACF's noise is about 0.001 a lag).
WHITE_STEPS = 1 << 20


def yule_walker(acf: np.ndarray, order: int) -> np.ndarray:
    """AR coefficients phi_1..phi_order whose ACF at lags 1..order is ``acf[1:order+1]``
    (``acf[0]`` = 1); a Toeplitz solve, so the AR is stationary."""
    return solve_toeplitz(acf[:order], acf[1 : order + 1])


def whiten(X: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """``x_t - sum_k phi_k x_(t-k)`` along axis 0 (the first len(phi) steps see zeros)."""
    return lfilter(np.r_[1.0, -phi], [1.0], X, axis=0)


def colour(X: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """The AR(p) recursion ``y_t = x_t + sum_k phi_k y_(t-k)`` along axis 0."""
    return lfilter([1.0], np.r_[1.0, -phi], X, axis=0)


def rematch(Y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``Y`` shifted and scaled to the pooled mean and std of ``X``."""
    return (Y - Y.mean()) / Y.std() * X.std() + X.mean()


def filtered_paths(
    model: qg.WGANAugmenter,
    train: np.ndarray,
    n_paths: int,
    length: int,
    white_lags: int,
    order: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """The WGAN's paths as sampled, whitened, and whitened then coloured (see above).

    Paths are generated ``burn`` steps longer and the first ``burn`` dropped, so the
    filters start from their stationary state.
    """
    burn = white_lags + 250
    fit_len = max(length, 32 * white_lags)  # long: a short path's ACF is biased low
    pool = np.asarray(model.sample(max(2, WHITE_STEPS // fit_len), fit_len, random_state=seed + 1))
    own = metrics.acf(pool, white_lags).mean(axis=1)
    phi_white = yule_walker(own, white_lags)
    phi_real = yule_walker(metrics.acf(train, order), order)
    raw = np.asarray(model.sample(n_paths, length + burn, random_state=seed))
    full = whiten(raw, phi_white)
    white, coloured, raw = full[burn:], colour(full, phi_real)[burn:], raw[burn:]
    return {
        "WGAN": raw,
        "WGAN whitened": rematch(white, raw),
        f"WGAN whitened + AR({order})": rematch(coloured, raw),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--period", choices=sorted(PERIODS), default="1999-2018")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wgan-budget", type=float, default=300.0)
    parser.add_argument("--model", help="a saved WGANAugmenter instead of a fresh fit")
    parser.add_argument("--train-until", metavar="DATE",
                        help="fit on the days up to DATE, score against the days after")  # fmt: skip
    parser.add_argument("--n-paths", type=int, default=500)
    parser.add_argument("--white-lags", type=int, default=250)
    parser.add_argument("--order", type=int, default=5,
                        help="AR order fitted to the training returns' ACF")  # fmt: skip
    args = parser.parse_args(argv)
    if not 1 <= args.order <= 250 or not 1 <= args.white_lags <= 250:
        raise SystemExit("--order and --white-lags must be in 1..250")

    first, last = PERIODS[args.period]
    r = qg.log_returns(qg.load_sp500()).loc[first:last]
    train = r
    if args.train_until:
        train, r = split_at(r, args.train_until)
    print(f"quantgan {qg.__version__}; S&P 500 {args.period}: fitted on {train.size} days "
          f"to {train.index[-1]:%Y-%m-%d}, scored against {r.size} days from "
          f"{r.index[0]:%Y-%m-%d}" + (" (out of sample)" if args.train_until else ""))  # fmt: skip
    tic = time.perf_counter()
    if args.model:
        model = qg.WGANAugmenter.load(args.model)
        if model.acf_filter_ is not None:
            print("the saved model's own filter (match_acf) is set aside: the first column "
                  "is the network as trained")  # fmt: skip
            model.acf_filter_ = None
    else:
        # The default since the tenth session filters its output (match_acf=5); here the
        # network as trained is the first column and the filters are applied below.
        model = qg.WGANAugmenter(
            time_budget=args.wgan_budget, random_state=args.seed, match_acf=False, verbose=False
        ).fit(train)
        print(f"WGAN: {len(model.history_)} steps in {model.fit_time_:.0f} s, "
              f"kept step {model.best_step_}")  # fmt: skip
    paths = filtered_paths(
        model, train.to_numpy(), args.n_paths, r.size, args.white_lags, args.order, args.seed
    )
    for dist in ("normal", "t"):
        garch = qg.GARCHAugmenter(dist=dist).fit(train)
        sampled = garch.sample(args.n_paths, r.size, random_state=args.seed)
        paths[f"GARCH-{dist}"] = np.asarray(sampled)
    report = qg.evaluate(r, *paths.values(), names=list(paths), random_state=args.seed)
    rows = [x for x in report.to_frame().index if x.startswith(("emd", "acf", "lev", "variance"))]
    table = report.to_frame().loc[[*rows, "mean", "std", "excess_kurtosis"]]
    print()
    print(markdown(table, report.best_mask().reindex(table.index)))
    print("\n`*` best on the row; variance_ratio rows: closest to real.")
    print(f"took {time.perf_counter() - tic:.0f} s")
    return {"table": table, "paths": paths, "train": train, "model": model}


if __name__ == "__main__":
    main()
