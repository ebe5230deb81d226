"""Quickstart: fit a WGAN on the bundled S&P 500 and sample alternative histories.

    python examples/quickstart.py --time-budget 60

Runs offline (the data ship with `arch`). Prints a few stylized facts of the real
returns next to the synthetic ones and saves the model. A minute is a first look: the
fit warns (``quantgan.TrainingWarning``) that it trained fewer steps than the measured
default; ``--time-budget 300`` trains that model.
"""

import argparse

import numpy as np

import quantgan as qg
from quantgan.metrics import acf, summary_statistics


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-budget", type=float, default=60.0, help="training seconds")
    parser.add_argument("--n-paths", type=int, default=200)
    parser.add_argument("--model", default="sp500-wgan.safetensors", help="where to save")
    args = parser.parse_args(argv)

    prices = qg.load_sp500()  # daily OHLCV, 1999-2018, offline
    returns = qg.log_returns(prices)  # Series of 5030 daily log returns
    aug = qg.WGANAugmenter(time_budget=args.time_budget, random_state=0).fit(returns)
    paths = aug.sample(args.n_paths)  # DataFrame: 5030 days x n_paths paths

    real, fake = summary_statistics(returns), summary_statistics(paths).mean()
    print(f"{'':22s}{'real':>10s}{'synthetic (mean over paths)':>30s}")
    for key in ["std", "skew", "excess_kurtosis"]:
        print(f"{key:22s}{real[key]:10.4f}{fake[key]:30.4f}")
    acf_real = acf(returns, 10, transform="abs")[1]
    acf_fake = acf(paths, 10, transform="abs")[1].mean()
    print(f"{'ACF |r| at lag 1':22s}{acf_real:10.4f}{acf_fake:30.4f}")
    print(f"trained {len(aug.history_)} generator steps; kept step {aug.best_step_}")
    aug.save(args.model)
    again = qg.WGANAugmenter.load(args.model)
    same = np.array_equal(again.sample(5, random_state=1), aug.sample(5, random_state=1))
    print(f"saved to {args.model}; reloaded model gives identical samples: {same}")


if __name__ == "__main__":
    main()
