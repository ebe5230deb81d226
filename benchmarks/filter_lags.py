"""How many lags should the WGAN's filter impose? One trained model, refiltered.

After training, the default WGAN passes its output through a linear filter
(``match_acf=5``): the generator's own autocorrelation of returns up to lag 250 is
removed and the training returns' autocorrelation at lags 1-5 imposed (an AR(5) fitted
by Yule-Walker). Five lags were chosen on the S&P 500 in sample (docs/model.md, tenth
session); on the NASDAQ Composite the 100-day variance ratio wants more (fourteenth
session). This script trains one WGAN per origin and refits only its filter (and the
moments after it) at every ``--lags`` count, so the rows differ by the filter alone,
and scores each against the days after ``--origins`` (out of sample) or, with
``--origins none``, against the training days themselves (in sample), next to
GARCH(1,1) with normal and Student-t innovations fitted on the same days.

It also prints, for the training days, the AR order an automatic rule would pick (the
Gaussian AIC and BIC of the Yule-Walker fits) and the lags whose autocorrelation is
significant at 5% with a heteroskedasticity-robust standard error (daily returns are
GARCH-like, so the textbook 1/sqrt(n) band flags too many lags).

    python benchmarks/filter_lags.py --series sp500 --origins 2008-12-31,2013-12-31
    python benchmarks/filter_lags.py --series nasdaq --origins none --seed 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.linalg import solve_toeplitz

import quantgan as qg
from quantgan import metrics

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import PERIODS, SERIES, markdown, split_at  # benchmarks/quality.py

LAGS = (0, 1, 2, 3, 5, 10, 20, 50, 100)
ROWS = ("emd_1", "emd_5", "emd_20", "emd_100", "acf_r", "acf_abs", "acf_sq", "leverage")
RATIOS = (5, 20, 100)


def scores(real: np.ndarray, paths: np.ndarray) -> dict[str, float]:
    facts = metrics.stylized_facts(real, paths)
    out = {row: float(facts[row]) for row in ROWS}
    for lag in RATIOS:
        out[f"vr_{lag}"] = float(facts[f"variance_ratio_{lag}_synthetic"])
    return out


def ar_orders(returns: np.ndarray, max_order: int = 20) -> dict[str, object]:
    """What an automatic rule reads in ``returns`` (one asset), up to lag ``max_order``.

    ``aic`` / ``bic``: the order minimising the Gaussian information criterion of the
    Yule-Walker AR fits (the innovation variance from the Toeplitz solve). ``robust``:
    the lags whose sample autocorrelation exceeds 1.96 heteroskedasticity-consistent
    standard errors, ``sqrt(sum x_t^2 x_{t-k}^2) / sum x_t^2`` for the demeaned ``x``
    (Lo and MacKinlay 1989); with 20 lags tested, one false flag is expected by chance.
    """
    x = np.asarray(returns, dtype=float) - np.mean(returns)
    n = x.size
    acf = metrics.acf(x, max_order)
    aic, bic = [0.0], [0.0]  # order 0: the variance itself
    for k in range(1, max_order + 1):
        phi = solve_toeplitz(acf[:k], acf[1 : k + 1])
        log_resid = np.log(1.0 - float(phi @ acf[1 : k + 1]))  # innovation / total variance
        aic.append(n * log_resid + 2 * k)
        bic.append(n * log_resid + k * np.log(n))
    total = float(np.sum(x**2))
    robust = [
        k
        for k in range(1, max_order + 1)
        if abs(acf[k]) > 1.96 * np.sqrt(np.sum(x[k:] ** 2 * x[:-k] ** 2)) / total
    ]
    return {"aic": int(np.argmin(aic)), "bic": int(np.argmin(bic)), "robust": robust}


def run_origin(origin: str | None, returns: pd.Series, args) -> pd.DataFrame:
    if origin is None:
        train = test = returns
        where = "in sample"
    else:
        train, test = split_at(returns, origin)
        where = f"out of sample after {origin}"
    print(f"\n## {args.series_name} {args.period}, {where}: fitted on {train.size} days "
          f"to {train.index[-1]:%Y-%m-%d}, scored on {test.size}")  # fmt: skip
    print("automatic AR orders of the training days (max 20):", ar_orders(train.to_numpy()))
    real = test.to_numpy()
    tic = time.perf_counter()
    aug = qg.WGANAugmenter(
        time_budget=None, max_steps=args.max_steps, random_state=args.seed,
        n_threads=1, verbose=False,
    ).fit(train)  # fmt: skip
    print(f"WGAN: {len(aug.history_)} steps in {time.perf_counter() - tic:.0f} s, kept "
          f"step {aug.best_step_}", flush=True)  # fmt: skip
    values = train.to_numpy()[:, None]
    table = {}
    for lags in args.lags:
        aug.match_acf = lags
        aug._fit_output(values, args.seed)
        paths = aug.sample(args.n_paths, n_timesteps=real.size, random_state=args.seed)
        table[f"WGAN L={lags}"] = scores(real, paths.to_numpy())
        print(f"  L={lags}: " + ", ".join(f"{k} {v:.4g}" for k, v in table[f"WGAN L={lags}"].items()),
              flush=True)  # fmt: skip
    for name, dist in (("GARCH-normal", "normal"), ("GARCH-t", "t")):
        garch = qg.GARCHAugmenter(dist=dist).fit(train)
        paths = garch.sample(args.n_paths, n_timesteps=real.size, random_state=args.seed)
        table[name] = scores(real, paths.to_numpy())
    ratio = metrics.variance_ratio(real, RATIOS)
    real_vr = {f"vr_{lag}": float(ratio[lag]) for lag in RATIOS}
    table["history"] = {row: np.nan for row in ROWS} | real_vr
    frame = pd.DataFrame(table)
    frame.index.name = "row"
    print()
    print(markdown(frame, fmt="{:.4g}"))
    return frame


def main(argv: list[str] | None = None) -> dict[str, pd.DataFrame]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", choices=list(SERIES), default="sp500")
    parser.add_argument("--period", choices=sorted(PERIODS), default="1999-2018")
    parser.add_argument("--origins", default="2008-12-31,2013-12-31",
                        help="comma-separated --train-until dates; 'none': in sample")  # fmt: skip
    parser.add_argument("--lags", default=",".join(map(str, LAGS)), metavar="L1,L2,...")
    parser.add_argument("--max-steps", type=int, default=650,
                        help="generator steps per fit (no time budget: deterministic)")  # fmt: skip
    parser.add_argument("--n-paths", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=None, help="CSV of every table")
    args = parser.parse_args(argv)
    try:
        args.lags = [int(v) for v in args.lags.split(",")]
    except ValueError:
        parser.error(f"--lags must be comma-separated integers, got {args.lags!r}")
    args.series_name, load = SERIES[args.series]
    start, end = PERIODS[args.period]
    returns = qg.log_returns(load()).loc[start:end]
    origins = [None] if args.origins == "none" else args.origins.split(",")
    frames = {origin or "in sample": run_origin(origin, returns, args) for origin in origins}
    if args.output is not None:
        pd.concat(frames, names=["origin"]).to_csv(args.output)
        print(f"\nwrote {args.output}")
    return frames


if __name__ == "__main__":
    main()
