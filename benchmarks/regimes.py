"""Benchmark of stress regimes on the bundled S&P 500: acceptance rates, cost, done-when checks.

For each augmenter and regime it samples ``--n-windows`` windows and prints

* the acceptance rate (the probability of the event under the model: per checked
  window for rejection, per generated window of the WGAN for the latent search),
* seconds per 1000 windows, and the same as a ratio to drawing 1000 unconditional
  windows of the same length from the same augmenter (timings on a shared machine
  are noisy; the ratio is measured in the same run),
* the share of windows that are near-copies of history (memorization_score),
* the issue's done-when figures: ``HighVolatility(factor=2.5, length=60)`` median
  realised volatility within 15% of 2.5x the historical median; every
  ``Crash(drawdown=0.3, within=20)`` window falls by 30% or more.

A regime too rare for the budget prints the rate achieved instead. The exit status is
1 when a done-when check fails.

    python benchmarks/regimes.py                               # baselines only
    python benchmarks/regimes.py --wgan-budget 60              # and a WGAN trained 60 s
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import quantgan as qg
from quantgan.regimes import (
    Condition,
    Crash,
    HighVolatility,
    MemorizationWarning,
    RareConditionError,
    RareEvent,
)


def max_drawdowns(frame) -> np.ndarray:
    log_price = np.vstack([np.zeros((1, frame.shape[1])), np.cumsum(frame.to_numpy(), axis=0)])
    return 1 - np.exp((log_price - np.maximum.accumulate(log_price, axis=0)).min(axis=0))


def regimes(returns, max_batches: int) -> list:
    kw = {"reference": returns, "max_batches": max_batches}
    return [
        HighVolatility(factor=2.5, length=60, **kw),
        Crash(drawdown=0.3, within=20, **kw),
        RareEvent(quantile=0.001, length=20, tail="both", **kw),
        Condition(lambda w: w.sum(axis=1) < -0.1, length=20, vectorized=True, **kw),
    ]


def check(scenario, frame, hist_median: float) -> tuple[str, bool | None]:
    if isinstance(scenario, HighVolatility) and scenario.factor == 2.5 and scenario.length == 60:
        ratio = frame.iloc[:60].std(ddof=1).median() / (2.5 * hist_median)
        return f"median vol / (2.5 x hist median) = {ratio:.3f}", abs(ratio - 1) <= 0.15
    if isinstance(scenario, Crash) and scenario.drawdown == 0.3 and scenario.within == 20:
        dd = max_drawdowns(frame.iloc[:20])
        return f"min drawdown {dd.min():.3f}, all >= 0.3: {bool(np.all(dd >= 0.3))}", bool(
            np.all(dd >= 0.3)
        )
    return "", None


def unconditional_seconds(aug, length: int, n: int, seed: int) -> float:
    start = time.perf_counter()
    aug.sample(n, length, random_state=seed)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-windows", type=int, default=1000)
    parser.add_argument("--max-batches", type=int, default=300)
    parser.add_argument("--wgan-budget", type=float, default=0.0, help="0: no WGAN")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--augmenters",
        default="garch-normal,garch-t,bootstrap,gaussian",
        help="comma-separated among garch-normal, garch-t, bootstrap, gaussian",
    )
    args = parser.parse_args(argv)

    prices = qg.load_sp500()
    returns = qg.log_returns(prices)
    hist_median = float(returns.rolling(60).std().median())
    print(
        f"S&P 500 {returns.index[0].date()} to {returns.index[-1].date()}: median 60-day "
        f"volatility {hist_median:.5f}, target 2.5x = {2.5 * hist_median:.5f}\n"
    )
    makers = {
        "garch-normal": lambda: qg.GARCHAugmenter(dist="normal"),
        "garch-t": lambda: qg.GARCHAugmenter(dist="t"),
        "bootstrap": lambda: qg.BootstrapAugmenter(),
        "gaussian": lambda: qg.GaussianAugmenter(),
    }
    fitted = {}
    for name in args.augmenters.split(","):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted[name] = makers[name.strip()]().fit(returns)
    if args.wgan_budget > 0:
        start = time.perf_counter()
        wgan = qg.WGANAugmenter(time_budget=args.wgan_budget, verbose=False, random_state=0)
        fitted[f"wgan-{args.wgan_budget:g}s"] = wgan.fit(returns)
        print(
            f"WGAN trained {time.perf_counter() - start:.0f} s: {wgan.history_.shape[0]} "
            f"generator steps, best step {wgan.best_step_}, window {wgan.window_}\n"
        )

    header = (
        f"{'augmenter':<14} {'regime':<38} {'method':<7} {'accept':>9} {'s/1000':>8} "
        f"{'x uncond':>9} {'copies':>7}  check"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for name, aug in fitted.items():
        methods = ["reject", "latent"] if name.startswith("wgan") else ["reject"]
        for scenario in regimes(returns, args.max_batches):
            for method in methods:
                scenario.set_params(method=method)
                label = f"{type(scenario).__name__}({_short_params(scenario)})"
                start = time.perf_counter()
                try:
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always", MemorizationWarning)
                        frame = scenario.sample(
                            aug, args.n_windows, n_timesteps=scenario.length, random_state=args.seed
                        )
                except RareConditionError as exc:
                    elapsed = time.perf_counter() - start
                    print(
                        f"{name:<14} {label:<38} {method:<7} {exc.acceptance_rate:>9.2e} "
                        f"{'-':>8} {'-':>9} {'-':>7}  too rare for the budget: "
                        f"{exc.n_accepted}/{args.n_windows} found in {elapsed:.0f} s"
                    )
                    continue
                elapsed = time.perf_counter() - start
                per_1000 = elapsed / args.n_windows * 1000
                base = unconditional_seconds(aug, scenario.length, args.n_windows, args.seed)
                text, ok = check(scenario, frame, hist_median)
                if ok is False:
                    failed = True
                copies = frame.attrs["copy_share"]
                note = " (memorization warning)" if caught else ""
                print(
                    f"{name:<14} {label:<38} {method:<7} {frame.attrs['acceptance_rate']:>9.2e} "
                    f"{per_1000:>8.2f} {per_1000 / (base / args.n_windows * 1000):>9.0f} "
                    f"{copies:>7.1%}  {text}{' PASS' if ok else ' FAIL' if ok is False else ''}"
                    f"{note}"
                )
    return 1 if failed else 0


def _short_params(scenario) -> str:
    if isinstance(scenario, HighVolatility):
        return f"factor={scenario.factor}, length={scenario.length}"
    if isinstance(scenario, Crash):
        return f"drawdown={scenario.drawdown}, within={scenario.within}"
    if isinstance(scenario, RareEvent):
        return f"quantile={scenario.quantile}, {scenario.tail}"
    return "20-day return < -10%"


if __name__ == "__main__":
    raise SystemExit(main())
