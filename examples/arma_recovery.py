"""The seed's sanity check: can the WGAN learn a process whose parameters we know?

Train on 2000 ARMA(1,1) series of length 100 (AR 0.7, MA 0.2) given as a 3-D array
of independent windows, sample 500 series, fit ARMA(1,1) to each with statsmodels
and compare the recovered AR and MA coefficients with the same fit on real series.
Also compares the diversity of the series (mean absolute pairwise correlation): a
collapsed generator makes near-identical series.

    python examples/arma_recovery.py --time-budget 300

Runs on the CPU in about `time-budget` seconds plus ~1-2 minutes of ARMA fits.
"""

import argparse
import time
import warnings

import numpy as np
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.arima_process import arma_generate_sample

import quantgan as qg
from quantgan.metrics import path_diversity

AR, MA, LENGTH = 0.7, 0.2, 100


def make_series(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, LENGTH))
    for i in range(n):
        out[i] = arma_generate_sample(
            [1, -AR], [1, MA], LENGTH, burnin=LENGTH // 10, distrvs=rng.standard_normal
        )
    return out


def fit_arma(series: np.ndarray) -> np.ndarray:
    """(AR, MA) of an ARMA(1,1) with constant, fitted to each row."""
    coefs = np.empty((len(series), 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short series
        for i, y in enumerate(series):
            res = ARIMA(y, order=(1, 0, 1), trend="c").fit()
            coefs[i] = res.params[1], res.params[2]
    return coefs


def describe(name: str, coefs: np.ndarray, series: np.ndarray) -> dict:
    q25, med, q75 = np.percentile(coefs, [25, 50, 75], axis=0)
    diversity = path_diversity(series.T)["mean_abs_corr"]
    print(
        f"{name:10s} AR median {med[0]:.3f} (IQR {q25[0]:.3f}-{q75[0]:.3f})   "
        f"MA median {med[1]:.3f} (IQR {q25[1]:.3f}-{q75[1]:.3f})   "
        f"mean |pairwise corr| {diversity:.3f}"
    )
    return {"ar": med[0], "ma": med[1], "diversity": diversity}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-budget", type=float, default=300.0, help="training seconds")
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-eval", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    train = make_series(args.n_train, args.seed)[:, :, None]  # (n_windows, window, n_assets)
    # The seed's experiment with the seed's model: independent 100-step windows, no
    # volatility clustering to learn (the default TCN's volatility state is for that).
    aug = qg.WGANAugmenter(
        generator="conv", time_budget=args.time_budget, random_state=args.seed,
        verbose=not args.quiet,
    )  # fmt: skip
    start = time.perf_counter()
    aug.fit(train)
    print(
        f"trained {len(aug.history_)} generator steps in {time.perf_counter() - start:.0f}s; "
        f"kept step {aug.best_step_}"
    )
    fake = aug.sample(args.n_eval, random_state=args.seed + 1).to_numpy().T  # (n_eval, 100)
    real = make_series(args.n_eval, args.seed + 12345)
    r = describe("real", fit_arma(real), real)
    f = describe("synthetic", fit_arma(fake), fake)
    print(
        f"gap: AR {f['ar'] - r['ar']:+.3f} (target within 0.05), "
        f"MA {f['ma'] - r['ma']:+.3f} (target within 0.1)"
    )
    return {"real": r, "synthetic": f}


if __name__ == "__main__":
    main()
