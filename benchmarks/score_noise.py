"""How much of a clustering score is the history's own sampling noise?

``benchmarks/quality.py`` compares the mean ACF of many synthetic paths with the ACF
of *one* history. That history is itself one draw: even a model that were the true
law of returns would not score 0, because the history's sample ACF (and leverage
curve) scatter around the law's. This script measures that floor. For each model it
simulates ``--n-paths`` paths as long as the history, treats each of the first
``--n-real`` of them as if it were the history, scores it against the remaining paths
exactly as the benchmark scores the real series (:func:`quantgan.metrics.acf_score`
for ``r``, ``|r|``, ``r^2`` over lags 1-250, :func:`quantgan.metrics.leverage_score`,
:func:`quantgan.metrics.emd` of 1-, 5-, 20- and 100-day sums),
and prints the median and the 10% / 90% quantiles of those scores: what a history
drawn from the model itself would score. Next to them: the real history's score
against the same paths, and its rank among the self-scores (the share of the model's
own paths that score worse than the real history does). A real score far below the
model's own median says this history's sample curve lies closer to the model's mean
curve than a fresh draw of the model typically does: by chance, or because the model
was fitted to that curve, noise included. Two more rows give the per-path skew and
excess kurtosis of all the paths (the statistic itself, not a gap) and the share of
paths above the history's value: a share near 0 or 1 says the history's value is an
unlikely draw from the model. A last table gives the mean ACF of ``|r|`` and ``r^2``
over lag bands (1-5, 6-20, 21-100, 101-250) for the history (and, with
``--train-until``, the training days) and for each model's paths: where a gap sits.
With ``--train-until``, a last table scores, against the days after, the training
days' own curves (noise included), zero curves (i.i.d. returns), the default WGAN's
volatility start fitted to the training days (simulated without the network: a
smooth fit of their ACFs) and each model's mean curves: whether the training years'
clustering forecasts the next years' at all.

Models: GARCH(1,1) with normal and Student-t innovations (fitted by maximum
likelihood, ``qg.GARCHAugmenter``) and, with ``--wgan-budget`` or ``--model``, the
default WGAN.

    python benchmarks/score_noise.py                          # both periods, about 10 s
    python benchmarks/score_noise.py --period 1999-2018 --wgan-budget 300 --seed 0
    python benchmarks/score_noise.py --model fitted.safetensors --period 2009-2018
    python benchmarks/score_noise.py --period 1999-2018 --train-until 2013-12-31
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.stats

import quantgan as qg
from quantgan import metrics
from quantgan.preprocessing import garch_volatility_start, log_volatility_weights

sys.path.insert(0, str(Path(__file__).resolve().parent))
from log_volatility_start import MEMORY, factor_alone  # benchmarks/log_volatility_start.py
from quality import PERIODS, markdown, split_at  # benchmarks/quality.py

#: score -> (per-column curves over lags 0..250, how a gap curve becomes the score): the
#: conventions of metrics.acf_score (RMS) and metrics.leverage_score (L2 norm).
SCORES = {
    "acf_r": (lambda x: metrics.acf(x, 250, "identity"), lambda g: np.sqrt(np.mean(g**2, 0))),
    "acf_abs": (lambda x: metrics.acf(x, 250, "abs"), lambda g: np.sqrt(np.mean(g**2, 0))),
    "acf_sq": (lambda x: metrics.acf(x, 250, "square"), lambda g: np.sqrt(np.mean(g**2, 0))),
    "leverage": (lambda x: metrics.leverage_effect(x, 250), lambda g: np.linalg.norm(g, axis=0)),
}


#: Lags of the EMD rows (those of quality.py).
EMD_LAGS = (1, 5, 20, 100)


def self_scores(paths: np.ndarray, real: np.ndarray, n_real: int) -> pd.DataFrame:
    """One row per score: the self-scores' quantiles, the real score and its rank.

    ``paths`` (T, n): the first ``n_real`` columns play the history in turn, each
    scored against the mean curve of columns ``n_real:``; the real series is scored
    against the same mean curve (equal to ``metrics.acf_score`` / ``leverage_score``).
    The EMD rows score each stand-in history's k-day sums against the pooled sums of
    the same columns (``metrics.emd``, equal to the benchmark's EMD rows).
    """
    if not 1 <= n_real < paths.shape[1] - 1:
        raise ValueError(f"n_real must be in [1, {paths.shape[1] - 2}], got {n_real}")
    rows = {}
    for name, (curves, norm) in SCORES.items():
        mean = curves(paths[:, n_real:])[1:].mean(axis=1, keepdims=True)
        own = norm(curves(paths[:, :n_real])[1:] - mean)
        rows[name] = _row(own, float(norm(curves(real[:, None])[1:] - mean)[0]))
    # EMD of k-day sums (metrics.emd, as the benchmark): each stand-in history against
    # the pooled windows of the other paths.
    pool = paths[:, n_real:]
    for lag in EMD_LAGS:
        own = np.array([metrics.emd(paths[:, i], pool, lags=(lag,))[lag] for i in range(n_real)])
        rows[f"emd_{lag}"] = _row(own, metrics.emd(real, pool, lags=(lag,))[lag])
    # Per-path statistics (not gaps): is the history's value a plausible draw?
    for name, stat in (("skew", scipy.stats.skew), ("excess_kurtosis", scipy.stats.kurtosis)):
        rows[name] = _row(stat(paths, axis=0), float(stat(real)))
    return pd.DataFrame(rows).T


#: Lag bands of the ACF table (the days of a week, a month, a season, a year).
BANDS = ((1, 5), (6, 20), (21, 100), (101, 250))


def band_means(series: dict[str, np.ndarray]) -> pd.DataFrame:
    """Mean ACF of ``|r|`` and ``r^2`` over each lag band of :data:`BANDS`.

    ``series``: name -> one series (T,) or paths (T, n), whose ACFs are averaged over
    the paths (as the benchmark averages them). Where a gap sits: short lags are
    bursts, long ones the persistence of volatility regimes.
    """
    rows = {}
    for name, x in series.items():
        for tr, label in (("abs", "acf_abs"), ("square", "acf_sq")):
            curve = metrics.acf(np.asarray(x, dtype=float), 250, tr)[1:]
            curve = curve.mean(axis=1) if curve.ndim == 2 else curve
            rows[f"{name}: {label}"] = {
                f"lags {a}-{b}": float(curve[a - 1 : b].mean()) for a, b in BANDS
            }
    return pd.DataFrame(rows).T


def transfer_scores(
    real: np.ndarray, train: np.ndarray, paths: dict[str, np.ndarray]
) -> pd.DataFrame:
    """Out of sample: how each candidate's curves score against the scored days.

    Candidates: the training days' own sample curves ("training days": one
    history's curves, its noise included); with more training days than scored days,
    the mean curve of 8 evenly spaced training windows as long as the scored days
    ("training windows", the same estimator length as the paths); zero curves
    ("i.i.d.": no clustering, no leverage); each model's mean curve over its
    ``paths``. Scores as :data:`SCORES` (those of ``quality.py``).
    """
    candidates: dict[str, np.ndarray] = {"training days": train[:, None]}
    if train.size > real.size:
        starts = np.linspace(0, train.size - real.size, 8).astype(int)
        candidates["training windows"] = np.stack([train[s : s + real.size] for s in starts], 1)
    candidates.update(paths)
    rows = {}
    for name, (curves, norm) in SCORES.items():
        target = curves(real[:, None])[1:]
        rows.setdefault("i.i.d.", {})[name] = float(norm(target)[0])
        for cand, x in candidates.items():
            mean = curves(x)[1:].mean(axis=1, keepdims=True)
            rows.setdefault(cand, {})[name] = float(norm(mean - target)[0])
    return pd.DataFrame(rows).T


def start_paths(
    train: np.ndarray, n_paths: int, length: int, seed: int, shrink: tuple[float, ...] | None = None
) -> np.ndarray:
    """(length, n_paths) paths of the default WGAN's volatility start fitted to ``train``.

    The log-volatility factor and GARCH(1,1) volatility that ``WGANAugmenter()`` starts
    from (:func:`quantgan.preprocessing.garch_volatility_start` on the standardised
    training days), driving Gaussian shocks, no network: a smooth model fitted to the
    training days' ACFs of ``|r|`` and ``r^2``, without their per-lag noise. With
    ``shrink`` (a tuple of factors), one set of paths per factor, the factor's weights
    times it (the GARCH part, fitted jointly with the unshrunk factor, kept; 0: that
    GARCH volatility alone), all from the same noise: ``(len(shrink), length, n_paths)``.
    """
    if shrink is not None and len(shrink) == 0:
        raise ValueError("shrink needs at least one factor")
    x = ((train - train.mean()) / train.std())[:, None]
    w0 = log_volatility_weights(x, MEMORY, method="acf")
    weights, alpha = garch_volatility_start(x, MEMORY, weights=w0, seed=seed)
    paths = [
        factor_alone(k * weights[0], n_paths, length, seed, alpha=float(alpha[0]))
        for k in ((1.0,) if shrink is None else shrink)
    ]
    return paths[0] if shrink is None else np.stack(paths)


def _row(own: np.ndarray, real: float) -> dict[str, float]:
    return {
        "self 10%": np.quantile(own, 0.1),
        "self median": np.median(own),
        "self 90%": np.quantile(own, 0.9),
        "real": real,
        "share of paths above real": float(np.mean(own > real)),
    }


def main(argv: list[str] | None = None) -> dict[tuple[str, str], pd.DataFrame]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--period", choices=sorted(PERIODS), action="append")
    parser.add_argument("--n-paths", type=int, default=500)
    parser.add_argument("--n-real", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wgan-budget", type=float, help="also fit the default WGAN (seconds)")
    parser.add_argument("--model", help="also a saved WGANAugmenter (fitted on that period)")
    parser.add_argument("--train-until", metavar="DATE",
                        help="fit on the days up to DATE; the days after play the history "
                        "and set the paths' length (as quality.py --train-until)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.n_paths < args.n_real + 2:
        parser.error(f"--n-paths must exceed --n-real + 1, got {args.n_paths}, {args.n_real}")
    returns = qg.log_returns(qg.load_sp500())
    out = {}
    for label in args.period or sorted(PERIODS):
        first, last = PERIODS[label]
        r = train = returns.loc[first:last]
        if args.train_until:
            train, r = split_at(r, args.train_until)
        models: dict[str, object] = {
            "GARCH-normal": qg.GARCHAugmenter(dist="normal").fit(train),
            "GARCH-t": qg.GARCHAugmenter(dist="t").fit(train),
        }
        if args.wgan_budget:
            models["WGAN"] = qg.WGANAugmenter(
                time_budget=args.wgan_budget, random_state=args.seed, verbose=False
            ).fit(train)
        if args.model:
            models["WGAN (saved)"] = qg.WGANAugmenter.load(args.model)
        fitted = f"; fitted on the {train.size} days before" if args.train_until else ""
        print(f"## S&P 500 {label}: {len(r)} daily log returns from {r.index[0]:%Y-%m-%d}"
              f"{fitted}, {args.n_paths} paths per model")  # fmt: skip
        series = {"real": r.to_numpy()}
        if args.train_until:
            series["real, training days"] = train.to_numpy()
        for name, model in models.items():
            start = time.perf_counter()
            paths = model.sample(args.n_paths, n_timesteps=len(r), random_state=args.seed)
            table = self_scores(paths.to_numpy(), r.to_numpy(), args.n_real)
            out[(label, name)] = table
            series[name] = paths.to_numpy()
            if isinstance(model, qg.WGANAugmenter):
                steps = len(getattr(model, "history_", ()))
                print(f"\n{name}: {steps} generator steps, kept step {model.best_step_}")
            print(f"\n{name} ({args.n_real} of its paths as the history, against the other "
                  f"{args.n_paths - args.n_real}; {time.perf_counter() - start:.0f} s):\n")  # fmt: skip
            print(markdown(table))
        print(f"\nMean ACF by lag band ({label}; models: {args.n_paths} paths as long as the "
              "scored days):\n")  # fmt: skip
        out[(label, "bands")] = bands = band_means(series)
        print(markdown(bands, fmt="{:.3f}"))
        if args.train_until:
            paths = {
                "WGAN start (fitted to the training days, no network)": start_paths(
                    train.to_numpy(), args.n_paths, len(r), args.seed
                ),
                **{k: v for k, v in series.items() if not k.startswith("real")},
            }
            out[(label, "transfer")] = moved = transfer_scores(
                r.to_numpy(), train.to_numpy(), paths
            )
            print(f"\nScores against the {len(r)} days after {args.train_until} of the "
                  "training days' own curves, of zero curves and of each model's:\n")  # fmt: skip
            print(markdown(moved))
        print()
    sys.stdout.flush()
    return out


if __name__ == "__main__":
    main()
