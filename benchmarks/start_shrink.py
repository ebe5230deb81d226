"""Out of sample against in sample: the WGAN's volatility start with its factor shrunk.

Out of sample (``quality.py --train-until``) the default WGAN loses the ACF score of
``|r|`` to GARCH(1,1) at every origin, and sits next to its volatility start there
(docs/model.md, eleventh session): the start is a smooth fit of the training years'
ACFs of ``|r|`` and ``r^2``, a long-memory log-volatility factor times a GARCH(1,1)
volatility, and one decade's long memory forecasts the next decade's poorly. A start
shrunk toward a generic shape would cluster less at long lags. This script measures
that before any training: the start fitted to the training days
(``score_noise.start_paths``: no network, Gaussian shocks) with the factor's weights
times each ``--shrink`` factor (1: the default start; 0: its GARCH volatility alone),
scored by the ACF of ``|r|`` and of ``r^2`` against the days after each
``--train-until`` origin and, fitted on the whole period, against the whole period
(in sample), next to GARCH(1,1) with normal and Student-t innovations fitted on the
same days. A shrink that helps out of sample must not lose the in-sample rows.
The shrunk starts keep the GARCH alpha fitted jointly with the whole factor (factor
x 0 is that volatility alone, not a GARCH fitted to the data on its own) and draw
Gaussian shocks (GARCH-t draws t shocks).

    python benchmarks/start_shrink.py                  # 4 origins + in sample, about 1 min
    python benchmarks/start_shrink.py --shrink 1,0.9,0.8 --origins 2008-12-31
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

import quantgan as qg
from quantgan import metrics

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import PERIODS, markdown, split_at  # benchmarks/quality.py
from score_noise import start_paths  # benchmarks/score_noise.py

ORIGINS = ("2005-12-31", "2008-12-31", "2011-12-31", "2013-12-31")


def scores(real, paths) -> dict[str, float]:
    return {
        "acf_abs": metrics.acf_score(real, paths, "abs"),
        "acf_sq": metrics.acf_score(real, paths, "square"),
    }


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", choices=sorted(PERIODS), default="1999-2018")
    parser.add_argument("--origins", default=",".join(ORIGINS),
                        help="comma-separated --train-until dates; 'none': in sample only")  # fmt: skip
    parser.add_argument("--shrink", default="1,0.75,0.5,0.25,0", metavar="K1,K2,...")
    parser.add_argument("--n-paths", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        shrink = tuple(float(k) for k in args.shrink.split(","))
    except ValueError:
        parser.error(f"--shrink takes comma-separated numbers, got {args.shrink!r}")
    if any(not 0 <= k <= 1 for k in shrink) or args.n_paths < 2:
        parser.error("--shrink factors must lie in [0, 1] and --n-paths be >= 2")
    first, last = PERIODS[args.period]
    returns = qg.log_returns(qg.load_sp500()).loc[first:last]
    origins = [] if args.origins == "none" else args.origins.split(",")
    rows = {}
    for origin in [*origins, None]:
        train, test = split_at(returns, origin) if origin else (returns, returns)
        label = f"after {origin}" if origin else "in sample"
        real = test.to_numpy()
        starts = start_paths(train.to_numpy(), args.n_paths, real.size, args.seed, shrink)
        for k, paths in zip(shrink, starts, strict=True):
            for row, v in scores(real, paths).items():
                rows.setdefault((label, row), {})[f"start, factor x {k:g}"] = v
        for name, dist in (("GARCH-normal", "normal"), ("GARCH-t", "t")):
            model = qg.GARCHAugmenter(dist=dist).fit(train)
            paths = model.sample(args.n_paths, real.size, random_state=args.seed).to_numpy()
            for row, v in scores(real, paths).items():
                rows.setdefault((label, row), {})[name] = v
        print(f"{label}: {train.size} training days, {real.size} scored", flush=True)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index = [f"{label}: {row}" for label, row in table.index]
    print(f"\nS&P 500 {args.period}, {args.n_paths} paths per model (lower is better):\n")
    print(markdown(table.rename_axis("scored days: score")))
    return table


if __name__ == "__main__":
    main()
