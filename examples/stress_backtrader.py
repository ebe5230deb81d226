"""Stress-test a backtrader strategy on synthetic S&P 500 histories.

    python examples/stress_backtrader.py [--n-paths 200] [--n-bars 504] [--n-jobs 2]
                                         [--output stress_backtrader.html]

1. fit a GARCH(1,1)-t to the daily S&P 500 log returns (any augmenter works the same
   way, the WGAN included) and sample alternative 2-year histories;
2. run an SMA crossover written for plain backtrader on every path, in parallel, and
   once on the last 2 real years; OHLC bars of the synthetic paths are rebuilt from
   real days (``quantgan.stress.ohlcv_from_returns``);
3. print where the real run ranks among the synthetic ones and write an HTML report;
4. run the same strategy on the numpy engine and compare.

Your own strategy: put the class in an importable module (e.g. ``my_strategies.py``
next to this script) and pass it instead of ``SmaCross``. A class defined in the
script itself (``__main__``) loses its params in loky worker processes; ``stress_test``
refuses it and says so (``backend="multiprocessing"`` works there on Linux).
"""

from __future__ import annotations

import argparse
import time

import quantgan as qg
from quantgan.adapters.backtrader import SmaCross, stress_test
from quantgan.backtest import backtest, sma_crossover


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-paths", type=int, default=200)
    parser.add_argument("--n-bars", type=int, default=504, help="bars per path (504 = 2 years)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="stress_backtrader.html")
    args = parser.parse_args(argv)

    prices = qg.load_sp500()
    history = prices.iloc[-args.n_bars :]
    aug = qg.GARCHAugmenter(dist="t").fit(qg.log_returns(prices))
    paths = aug.sample(args.n_paths, args.n_bars, random_state=args.seed)
    params = {"fast": 10, "slow": 50, "stake": 20}
    print(f"{args.n_paths} GARCH(1,1)-t paths of {args.n_bars} days; SMA crossover {params}")

    start = time.perf_counter()
    result = stress_test(
        SmaCross,
        paths,
        strategy_params=params,
        cash=100_000,
        commission=0.001,
        n_jobs=args.n_jobs,
        historical=history,
        random_state=args.seed,
    )
    print(f"backtrader: {time.perf_counter() - start:.1f}s with n_jobs={args.n_jobs}\n")
    summary = result.summary()
    print(summary)
    pct = summary.table.loc["sharpe", "historical_pct"]
    print(
        f"\nThe real {history.index[0].date()} - {history.index[-1].date()} run has a Sharpe "
        f"of {result.historical['sharpe']:.2f}, above {pct:.0f}% of the synthetic paths."
    )
    result.to_html(args.output, title="SMA crossover on synthetic S&P 500 histories")
    print(f"report written to {args.output}")

    start = time.perf_counter()
    fast = backtest(
        sma_crossover(10, 50, size=20),
        paths,
        cash=100_000,
        commission=0.001,
        historical=history,
        random_state=args.seed,  # the same seed: the same rebuilt bars as above
    )
    diff = (fast.metrics["final_value"] - result.metrics["final_value"]).abs().max()
    print(
        f"numpy engine: {time.perf_counter() - start:.3f}s for the same {args.n_paths} paths; "
        f"max |final value difference| with backtrader: {diff:.2g}"
    )


if __name__ == "__main__":
    main()
