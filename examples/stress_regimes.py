"""Stress regimes on the S&P 500: synthetic crashes spliced into history, as a fan chart.

Fits an augmenter on the bundled S&P 500 (1999-2018), draws paths that crash by at
least 30% within 20 days (or run at 2.5x the usual volatility), splices them into the
real OHLCV history at a crisis anchor (Lehman by default), compares the synthetic
regime with the real crises and saves a fan chart of the stressed paths around it.

The default augmenter is the GARCH(1, 1) baseline with normal innovations: it runs in
a few seconds. (The Student-t GARCH fit of the S&P 500 is nearly integrated and makes
-90% days once in a while; see quantgan.baselines.) ``--augmenter wgan`` trains the
WGAN for ``--time-budget`` seconds instead (a short budget gives a poor model: it
shows the API, not the model's quality).

    python examples/stress_regimes.py                          # crash at Lehman
    python examples/stress_regimes.py --regime high-vol --at 2015-08-17 --output fan.png
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import quantgan as qg
from quantgan.regimes import ANCHORS, Crash, HighVolatility, compare_to_crises, overlay


def make_augmenter(name: str, time_budget: float):
    if name == "garch":
        return qg.GARCHAugmenter(dist="normal")
    if name == "bootstrap":
        return qg.BootstrapAugmenter()
    return qg.WGANAugmenter(time_budget=time_budget, verbose=False, random_state=0)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--augmenter", choices=["garch", "bootstrap", "wgan"], default="garch")
    parser.add_argument("--time-budget", type=float, default=30.0, help="WGAN training seconds")
    parser.add_argument("--regime", choices=["crash", "high-vol"], default="crash")
    parser.add_argument("--at", default="lehman", help=f"a date or one of {', '.join(ANCHORS)}")
    parser.add_argument("--n-paths", type=int, default=200)
    parser.add_argument("--output", type=Path, default=Path("stress_regimes.png"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    prices = qg.load_sp500()
    returns = qg.log_returns(prices)
    start = time.perf_counter()
    aug = make_augmenter(args.augmenter, args.time_budget).fit(returns)
    print(f"fitted {type(aug).__name__} in {time.perf_counter() - start:.1f} s")

    if args.regime == "crash":
        scenario = Crash(drawdown=0.3, within=20, reference=returns, max_batches=500)
        n_timesteps = 40  # the crash, then 20 days of the model's own dynamics
    else:
        scenario = HighVolatility(factor=2.5, length=60, reference=returns, max_batches=500)
        n_timesteps = 60
    shock = scenario.sample(aug, args.n_paths, n_timesteps=n_timesteps, random_state=args.seed)
    a = shock.attrs
    print(
        f"{a['scenario']}: {args.n_paths} paths in {a['elapsed_s']:.1f} s, acceptance rate "
        f"{a['acceptance_rate']:.3g} per {a['acceptance_unit']}, copies of history: "
        f"{a['copy_share']:.1%} (memorization ratio {a['memorization_ratio']:.2f})"
    )
    print("\nThe synthetic regime next to the real crises (first window):")
    print(compare_to_crises(shock, prices, length=scenario.length).round(4).to_string())

    stressed = overlay(prices, shock, at=args.at, volume="scaled", random_state=args.seed)
    print(f"\n{stressed}")
    fig = stressed.plot(before=60, after=60)
    fig.savefig(args.output, dpi=120)
    print(f"fan chart saved to {args.output}")
    return args.output


if __name__ == "__main__":
    main()
