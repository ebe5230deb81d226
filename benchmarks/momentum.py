"""Linear dependence of returns: the WGAN's spurious momentum, and a linear filter for it.

The ACF score of returns (RMS of the gap over lags 1-250) weighs each lag alone, and
single-lag autocorrelations of daily returns are tiny next to their noise. Summed over
a horizon they are not: the variance ratio (:func:`quantgan.metrics.variance_ratio`)
of the S&P 500 1999-2018 is 0.84 / 0.72 / 0.71 at 5 / 20 / 100 days (mean reversion;
significant at 5 and 20 days), GARCH(1,1) has none (about 1), and the WGAN as trained
can have positive autocorrelation spread over weeks (momentum), which widens its
100-day sums and flatters trend-following strategies.

This script is the measurement behind docs/model.md's "Tenth session": it fits (or
loads) the default WGAN once, then fits the library's linear filter
(``WGANAugmenter(match_acf=...)``, applied after training) three ways on copies of the
same trained network, and prints the stylized-fact table (``quantgan.evaluate``) of each
next to GARCH(1,1)'s, for paths as long as the scored history:

* "WGAN": no filter (``match_acf=False``), the network as trained;
* "whitened": ``match_acf=0``, the network's output minus its linear prediction from
  the last 250 values (an AR fitted by Yule-Walker to the mean ACF of about a million
  generated steps): no linear dependence left, as in GARCH;
* "whitened + AR(p)": ``match_acf=p`` (the default is 5), then an AR(p) fitted by
  Yule-Walker to the training returns' ACF at lags 1..p: the data's short-horizon
  reversal put back.

Each is then shifted and scaled to the training returns' mean and std as the fit does
(``match_mean``, ``match_std``).

    python benchmarks/momentum.py --period 1999-2018 --wgan-budget 300 --seed 0
    python benchmarks/momentum.py --period 1999-2018 --train-until 2008-12-31 --seed 0
    python benchmarks/momentum.py --model fitted.safetensors --period 2009-2018
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np

import quantgan as qg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import PERIODS, markdown, split_at  # benchmarks/quality.py


def with_filter(model: qg.WGANAugmenter, train: np.ndarray, order: int | bool, seed: int):
    """A copy of the fitted ``model`` whose filter is refitted with ``match_acf=order``
    against the training returns ``train`` (the network itself is shared, not retrained).

    Uses the estimator's own last fitting step (``_fit_output``), so this measures the
    library's filter, not a copy of it.
    """
    refiltered = copy.copy(model)
    refiltered.match_acf = order
    values = np.asarray(train, dtype=float).reshape(len(train), -1)
    refiltered._fit_output(values, seed)
    return refiltered


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--period", choices=sorted(PERIODS), default="1999-2018")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wgan-budget", type=float, default=300.0)
    parser.add_argument("--model", help="a saved WGANAugmenter instead of a fresh fit")
    parser.add_argument("--train-until", metavar="DATE",
                        help="fit on the days up to DATE, score against the days after")  # fmt: skip
    parser.add_argument("--n-paths", type=int, default=500)
    parser.add_argument("--order", type=int, default=5,
                        help="AR order fitted to the training returns' ACF")  # fmt: skip
    args = parser.parse_args(argv)
    if not 1 <= args.order <= 250:
        raise SystemExit("--order must be in 1..250")

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
    else:
        # The default since the tenth session filters its output (match_acf=5); here the
        # network as trained is the first column and the filters are applied below.
        model = qg.WGANAugmenter(
            time_budget=args.wgan_budget, random_state=args.seed, match_acf=False, verbose=False
        ).fit(train)
        print(f"WGAN: {len(model.history_)} steps in {model.fit_time_:.0f} s, "
              f"kept step {model.best_step_}")  # fmt: skip
    values = train.to_numpy()
    variants = {"WGAN": False, "WGAN whitened": 0, f"WGAN whitened + AR({args.order})": args.order}
    paths = {
        name: np.asarray(
            with_filter(model, values, order, args.seed).sample(
                args.n_paths, r.size, random_state=args.seed
            )
        )
        for name, order in variants.items()
    }
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
