"""How real is a synthetic market? One table, the pictures and one HTML file.

:func:`evaluate` takes the historical returns and any number of synthetic path sets
or augmenters (fitted or not), computes the stylized facts of
:mod:`quantgan.metrics` for each and returns a :class:`Report`::

    import quantgan as qg

    returns = qg.log_returns(qg.load_sp500())
    report = qg.evaluate(returns, wgan_paths, qg.GARCHAugmenter(), qg.BootstrapAugmenter(),
                         names=["WGAN", "GARCH-t", "bootstrap"])
    report.to_frame()          # metrics x (real, models)
    report.best()              # which model wins each row
    report.to_html("report.html")
"""

from __future__ import annotations

import html
import numbers
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from quantgan import metrics
from quantgan.report import HTMLPage

__all__ = ["Report", "evaluate"]

# Row name -> (which value is best, plain-words meaning). "lower": smallest value wins;
# "closer": closest to the real column wins; None: shown, not ranked. {L} = max_lag.
_ROWS: dict[str, tuple[str | None, str]] = {
    "acf_r": ("lower", "Gap (RMS over lags 1-{L}) between the autocorrelation of returns in "
              "history and averaged over synthetic paths. Real daily returns are almost "
              "uncorrelated: yesterday says little about today's direction."),
    "acf_abs": ("lower", "The same gap for absolute returns |r|: volatility clustering, calm "
                "and turbulent spells that last for months."),
    "acf_sq": ("lower", "The same gap for squared returns r^2 (clustering, weighted to big days)."),
    "leverage": ("lower", "Gap (L2 norm over lags 1-{L}) in the leverage effect "
                 "corr(r_t, r_(t+k)^2): falling prices raise future volatility."),
    "drawdown_emd": ("lower", "Distance between the distributions of the worst peak-to-trough "
                     "loss within one year (252 days), in fractions of the peak."),
    "mean": ("closer", "Mean daily log return (mean over paths): the drift that a buy-and-hold "
             "backtest earns."),
    "std": ("closer", "Standard deviation of daily returns (mean over paths)."),
    "skew": ("closer", "Skewness: negative when big losses are more common than big gains."),
    "excess_kurtosis": ("closer", "Excess kurtosis, the weight of the tails: 0 for a normal law."),
    "hill_left": ("closer", "Hill tail index of losses (largest 5%): smaller means fatter; "
                  "daily equity returns give 2-5."),
    "hill_right": ("closer", "Hill tail index of gains."),
    "var_1pct": ("closer", "1% Value-at-Risk: the daily loss exceeded one day in a hundred."),
    "es_1pct": ("closer", "1% Expected Shortfall: the average loss on those worst days."),
    "diversity_collapse_share": ("lower", "Share of pairs of paths that move almost in lockstep "
                                 "(|corr| > 0.95): mode collapse."),
    "diversity_mean_abs_corr": (None, "Mean |correlation| between paths; about 0.8/sqrt(days) "
                                "for independent paths (not ranked)."),
    "memorization_copy_share": ("lower", "Share of synthetic 20-day windows that are near-exact "
                                "copies of a stretch of history."),
    "memorization_ratio": (None, "Distance from synthetic 20-day windows to the nearest real "
                           "one, over the same distance between distinct real stretches; below "
                           "1 hints at copying, or at more calm windows than history has "
                           "(not ranked)."),
    "memorization_ratio_shape": (None, "The same ratio on windows scaled to unit root mean "
                                 "square: their shapes, free of the volatility level; below 1 "
                                 "hints at copying (not ranked)."),
    "discriminative": ("lower", "|accuracy - 0.5| of a classifier telling real from synthetic "
                       "20-day windows: 0 = indistinguishable."),
    "predictive": ("lower", "Train on synthetic, test on real: mean absolute error of a "
                   "next-day |r| forecast; the real column trains on real data."),
}  # fmt: skip
_EMD_TEXT = (
    "Earth mover's distance between the real and synthetic distributions of {lag}-day "
    "cumulative log returns (log-return units)."
)
_VR_TEXT = (
    "Variance of {lag}-day sums over {lag} times the daily variance (Lo-MacKinlay variance "
    "ratio; mean over paths): 1 when returns are uncorrelated, above 1 with momentum, "
    "below 1 with mean reversion, which decide how trend and reversal strategies fare."
)
# Figure key -> (heading, what to look for).
_FIGURES = {
    "distribution": ("Distribution of daily returns", "Histogram in units of the real "
                     "standard deviation. Left: the body; right: the same on a log scale, "
                     "where fat tails show as lines above the normal parabola."),
    "qq": ("QQ plot", "Each model's quantiles against history's: on the diagonal the laws "
           "agree; ends flatter than the diagonal mean thinner tails, steeper mean fatter."),
    "acf": ("Autocorrelation: volatility clustering", "ACF of r, |r| and r^2, averaged over "
            "synthetic paths. Grey: 95% band of the real estimate (stationary block "
            "bootstrap of the history, centred on it)."),
    "leverage": ("Leverage effect", "corr(r_t, r_(t+k)^2): negative in real markets, where "
                 "falls raise later volatility. Grey: 95% bootstrap band of the real curve."),
    "fan": ("Fan chart of cumulative returns", "Cumulative log returns: median, 25-75% and "
            "5-95% bands over paths; black: history."),
    "drawdowns": ("Drawdowns", "Left: worst loss within one-year windows. Right: worst loss "
                  "over each whole path; black line: history's."),
}  # fmt: skip
_BAND_BLOCK = 100  # mean block length (days) of the bootstrap behind the ACF bands
_BAND_RESAMPLES = 200


def _rule(row: str) -> str | None:
    if row.startswith("emd_"):
        return "lower"
    if row.startswith("variance_ratio_"):
        return "closer"
    return _ROWS.get(row, (None, ""))[0]


def _describe(row: str, max_lag: int) -> str:
    if row.startswith("emd_"):
        return _EMD_TEXT.format(lag=row[4:])
    if row.startswith("variance_ratio_"):
        return _VR_TEXT.format(lag=row[len("variance_ratio_") :])
    return _ROWS.get(row, (None, ""))[1].format(L=max_lag)


def _is_augmenter(item: Any) -> bool:
    if isinstance(item, (pd.DataFrame, pd.Series, np.ndarray, list, tuple)):
        return False
    return callable(getattr(item, "fit", None)) and callable(getattr(item, "sample", None))


def _is_fitted(augmenter: Any) -> bool:
    try:
        check_is_fitted(augmenter)
    except NotFittedError:
        return False
    return True


# --------------------------------------------------------------------------- #
# Input checks
# --------------------------------------------------------------------------- #
def _check_real(real: Any, min_length: int) -> pd.Series:
    if isinstance(real, pd.DataFrame):
        if real.shape[1] != 1:
            raise ValueError(
                f"real must be one return series; got a DataFrame with {real.shape[1]} "
                "columns. evaluate compares one asset at a time: pick a column, e.g. "
                "returns['SPY']."
            )
        real = real.iloc[:, 0]
    if isinstance(real, pd.Series):
        values, index, name = real.to_numpy(dtype=float), real.index, real.name
    else:
        values = np.asarray(real, dtype=float)
        if values.ndim != 1:
            raise ValueError(f"real must be 1-D (time); got an array of shape {values.shape}.")
        index, name = pd.RangeIndex(values.size), None
    bad = int(np.count_nonzero(~np.isfinite(values)))
    if bad:
        raise ValueError(
            f"real has {bad} NaN or infinite value(s); drop them first, e.g. returns.dropna()."
        )
    if values.size <= min_length:
        raise ValueError(
            f"real has {values.size} returns, but the metrics look up to {min_length} days "
            "ahead; pass a longer history or lower max_lag / lags."
        )
    if np.all(values > 0):
        # Not just suspicious: without a single loss the left-tail statistics are undefined.
        raise ValueError(
            "real is all positive: it looks like prices, but evaluate expects returns; "
            "pass qg.log_returns(prices)."
        )
    return pd.Series(values, index=index, name=name if name is not None else "returns")


def _spacing_days(index: pd.Index) -> float | None:
    if isinstance(index, pd.DatetimeIndex) and len(index) > 2:
        return float((index[1:] - index[:-1]).median() / pd.Timedelta(days=1))
    return None


def _check_paths(item: Any, label: str, real: pd.Series, min_length: int) -> np.ndarray:
    """Synthetic input -> float array (n_timesteps, n_paths) with clear errors."""
    index = item.index if isinstance(item, (pd.Series, pd.DataFrame)) else None
    if isinstance(item, pd.DataFrame) and item.columns.nlevels > 1:
        assets = pd.unique(item.columns.get_level_values(-1))
        if len(assets) > 1:
            raise ValueError(
                f"{label!r} holds {len(assets)} assets ({list(assets)[:5]}); evaluate compares "
                "one asset: select it, e.g. paths.xs(asset, axis=1, level=1)."
            )
    try:
        X = np.asarray(item, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label!r} must hold numeric returns: {exc}") from None
    if X.ndim == 1:
        X = X[:, None]
    elif X.ndim == 3 and X.shape[2] == 1:
        X = X[:, :, 0]
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(
            f"{label!r} must be 2-D, rows = time and columns = paths; got shape {X.shape}."
        )
    n = real.size
    if X.shape[1] == n and X.shape[0] != n:
        raise ValueError(
            f"{label!r} has shape {X.shape}: it looks transposed (rows must be time, "
            f"columns paths, like the {n} real returns); pass paths.T."
        )
    bad = ~np.isfinite(X)
    if bad.any():
        n_bad_paths = int(np.count_nonzero(bad.any(axis=0)))
        raise ValueError(
            f"{label!r} has {int(bad.sum())} NaN or infinite value(s) in {n_bad_paths} of "
            f"{X.shape[1]} paths; drop those paths (paths.dropna(axis=1)) or fix the model."
        )
    if X.shape[0] <= min_length:
        raise ValueError(
            f"{label!r} has paths of {X.shape[0]} steps, but the metrics look up to "
            f"{min_length} days ahead; sample longer paths or lower max_lag / lags."
        )
    if np.any(X.std(axis=0) == 0):
        raise ValueError(f"{label!r} has constant paths; their autocorrelation is undefined.")
    ours, theirs = _spacing_days(real.index), _spacing_days(index) if index is not None else None
    if ours and theirs and not 0.5 <= theirs / ours <= 2:
        raise ValueError(
            f"{label!r} is sampled every {theirs:g} days but real every {ours:g} days; "
            "compare returns of the same frequency."
        )
    return X


def _resolve_names(items: Sequence[Any], names: Iterable[str] | None) -> list[str]:
    if names is None:
        base = [
            type(it).__name__ if _is_augmenter(it) else f"model {i}"
            for i, it in enumerate(items, 1)
        ]
        seen = {b: base.count(b) for b in base}
        count: dict[str, int] = {}
        out = []
        for b in base:
            count[b] = count.get(b, 0) + 1
            out.append(f"{b} ({count[b]})" if seen[b] > 1 else b)
        return out
    if isinstance(names, str):
        raise ValueError(
            f"names must be a list of strings, one per model; got the string {names!r}"
        )
    out = list(names)
    if len(out) != len(items):
        raise ValueError(
            f"names has {len(out)} entries but {len(items)} models were given; pass one "
            "name per synthetic input or augmenter."
        )
    for name in out:
        if not isinstance(name, str) or not name or name == "real":
            raise ValueError(
                f"each name must be a non-empty string other than 'real'; got {name!r}"
            )
    if len(set(out)) != len(out):
        raise ValueError(f"names must be unique; got {out}")
    return out


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #
class Report:
    """Stylized facts of several synthetic markets next to history; made by :func:`evaluate`.

    Attributes
    ----------
    real : Series
        The historical returns.
    paths : dict of str -> ndarray (n_timesteps, n_paths)
        The synthetic returns of each model, by name.
    fit_seconds, sample_seconds : Series
        Wall time of each model's fit (NaN when it came fitted or as paths) and sampling.
    """

    def __init__(
        self,
        real: pd.Series,
        paths: dict[str, np.ndarray],
        *,
        fit_seconds: dict[str, float] | None = None,
        sample_seconds: dict[str, float] | None = None,
        lags: Iterable[int] = (1, 5, 20, 100),
        max_lag: int = 250,
        classifier_scores: bool = False,
        random_state: Any = 0,
    ) -> None:
        self.real = real
        self.paths = dict(paths)
        self.names = list(self.paths)
        self.fit_seconds = pd.Series(fit_seconds or {}, index=self.names, dtype=float)
        self.sample_seconds = pd.Series(sample_seconds or {}, index=self.names, dtype=float)
        self.lags = tuple(lags)
        self._vr_rows = [f"variance_ratio_{lag}" for lag in self.lags if lag >= 2]
        self.max_lag = max_lag
        self.random_state = random_state
        self._table = self._compute(classifier_scores)
        self._bands_cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    def _compute(self, classifier_scores: bool) -> pd.DataFrame:
        r = self.real.to_numpy()
        real_stats = metrics.summary_statistics(r)
        columns: dict[str, dict[str, float]] = {"real": {}}
        for name, X in self.paths.items():
            facts = metrics.stylized_facts(
                r, X, lags=self.lags, max_lag=self.max_lag,
                classifier_scores=classifier_scores, random_state=self.random_state,
            )  # fmt: skip
            stats = metrics.summary_statistics(X).mean()
            col: dict[str, float] = {f"emd_{lag}": facts[f"emd_{lag}"] for lag in self.lags}
            for row in self._vr_rows:
                col[row] = facts[f"{row}_synthetic"]
                columns["real"][row] = facts[f"{row}_real"]
            for row in _ROWS:
                if row in ("mean", "std", "skew", "var_1pct", "es_1pct"):
                    col[row] = stats[row]
                    columns["real"][row] = real_stats[row]
                elif f"{row}_synthetic" in facts:
                    col[row] = facts[f"{row}_synthetic"]
                    columns["real"][row] = facts[f"{row}_real"]
                elif row == "predictive" and classifier_scores:
                    col[row] = facts["predictive_tstr"]
                    columns["real"][row] = facts["predictive_trtr"]
                elif row in facts:
                    col[row] = facts[row]
            columns[name] = col
        table = pd.DataFrame(columns, dtype=float)
        ranked = [r for r in _ROWS if r in table.index]
        # The variance ratios follow the dependence rows (ACF, leverage).
        at = ranked.index("leverage") + 1 if "leverage" in ranked else 0
        ranked[at:at] = self._vr_rows
        order = [f"emd_{lag}" for lag in self.lags] + ranked
        table = table.reindex(order)
        table.index.name = "metric"
        return table

    # -- the table ---------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """Metrics x ("real", models): scores (lower is better) and statistics.

        The "real" column holds the historical value where a row has one (statistics,
        the train-on-real forecast error); distances to history leave it NaN.
        """
        return self._table.copy()

    def best_mask(self) -> pd.DataFrame:
        """Booleans metrics x models: True where a model is best on that row.

        Distances and scores: the lowest value; statistics (kurtosis, tail indices,
        VaR, ...): the value closest to the real one. Tied models are all marked, unless
        every model ties (then nobody wins that row); informational rows: none.
        """
        mask = pd.DataFrame(False, index=self._table.index, columns=self.names)
        for row in self._table.index:
            rule = _rule(row)
            values = self._table.loc[row, self.names].to_numpy(dtype=float)
            if rule == "closer":
                values = np.abs(values - self._table.at[row, "real"])
            if rule is None or not np.isfinite(values).any():
                continue
            winners = np.isclose(values, np.nanmin(values), rtol=1e-9, atol=0.0)
            # A row that every model ties on (e.g. no collapsed paths anywhere) has no winner.
            if len(self.names) == 1 or not winners.all():
                mask.loc[row] = winners
        return mask

    def best(self) -> pd.Series:
        """The best model per row (ties joined by ", "; None for unranked rows)."""
        mask = self.best_mask()
        return pd.Series(
            {row: ", ".join(mask.columns[mask.loc[row]]) or None for row in mask.index},
            name="best",
            dtype=object,
        )

    def wins(self) -> pd.Series:
        """Number of ranked rows each model wins (a tie counts for each)."""
        return self.best_mask().sum().rename("rows won")

    def summary(self) -> str:
        """Readable text: the table with the best value per row starred, timings, wins."""
        mask = self.best_mask()
        cells = self._table.map(lambda v: "" if pd.isna(v) else f"{v:.4g}")
        cells[self.names] = cells[self.names].where(~mask, cells[self.names] + "*")
        cells["better"] = [_rule(r) or "-" for r in cells.index]
        lines = [
            f"{len(self.names)} model(s) against {self._history()}.",
            "",
            cells.to_string(),
            "",
            "* best on the row: lowest value, or closest to real for statistics.",
            "paths per model: "
            + ", ".join(f"{n} {X.shape[1]} x {X.shape[0]}" for n, X in self.paths.items()),
        ]
        if self.fit_seconds.notna().any():
            lines.append(
                "fit time: "
                + ", ".join(f"{n} {s:.1f} s" for n, s in self.fit_seconds.dropna().items())
            )
        lines.append("rows won: " + ", ".join(f"{n} {w}" for n, w in self.wins().items()))
        return "\n".join(lines)

    def _history(self) -> str:
        r, text = self.real, f"{self.real.size} historical returns"
        if isinstance(r.index, pd.DatetimeIndex):
            text += f" from {r.index[0]:%Y-%m-%d} to {r.index[-1]:%Y-%m-%d}"
        return text

    def __repr__(self) -> str:
        return f"<Report: {len(self.names)} model(s) x {len(self._table)} metrics; .summary()>"

    # -- pictures ----------------------------------------------------------------------
    def plot(self) -> dict[str, Figure]:
        """Figures keyed "distribution", "qq", "acf", "leverage", "fan", "drawdowns"."""
        return {
            "distribution": self._plot_distribution(),
            "qq": self._plot_qq(),
            "acf": self._plot_acf(),
            "leverage": self._plot_leverage(),
            "fan": self._plot_fan(),
            "drawdowns": self._plot_drawdowns(),
        }

    def _series(self, real: bool = True) -> list[tuple[str, np.ndarray, Any]]:
        """(name, (n_timesteps, n_paths) array, colour) for real (black) and each model."""
        from matplotlib import colormaps

        cmap = colormaps["tab10"]
        out = [(n, X, cmap(i % 10)) for i, (n, X) in enumerate(self.paths.items())]
        return [("real", self.real.to_numpy()[:, None], "black"), *out] if real else out

    def _plot_distribution(self) -> Figure:
        r = self.real.to_numpy()
        mu, sd = r.mean(), r.std()
        bins = np.linspace(-12, 12, 97)
        fig = Figure(figsize=(11, 4), layout="constrained")
        body, tails = fig.subplots(1, 2)
        for name, X, color in self._series():
            density, _ = np.histogram((X.ravel() - mu) / sd, bins=bins, density=True)
            for ax in (body, tails):
                ax.stairs(density, bins, color=color, label=name, lw=1.8 if name == "real" else 1.2)
        body.set_xlim(-5, 5)
        tails.set_yscale("log")
        body.set_title("body", fontsize=10)
        tails.set_title("tails (log scale; |z| > 12 not shown)", fontsize=10)
        for ax in (body, tails):
            ax.set_xlabel("return / real std")
        body.set_ylabel("density")
        body.legend(fontsize=8)
        return fig

    def _plot_qq(self) -> Figure:
        p = np.linspace(0.0005, 0.9995, 400)
        real_q = np.quantile(self.real.to_numpy(), p)
        fig = Figure(figsize=(5.5, 5.5), layout="constrained")
        ax = fig.subplots()
        for name, X, color in self._series(real=False):
            ax.plot(real_q, np.quantile(X, p), ".", ms=3, color=color, label=name)
        lim = np.abs(real_q).max() * 1.1
        ax.plot([-lim, lim], [-lim, lim], color="black", lw=1, label="real = synthetic")
        ax.set_xlabel("real quantile (log return)")
        ax.set_ylabel("synthetic quantile")
        ax.set_title("QQ plot, probabilities 0.05% to 99.95%", fontsize=10)
        ax.legend(fontsize=8)
        return fig

    def _bands(self) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Real curves and 95% bands from a stationary bootstrap of the history.

        A block bootstrap shortens long-range dependence, so its curves sag below the
        real ones at long lags; the bands are its 2.5-97.5% spread centred on the real
        curve (a "basic" bootstrap band) rather than its raw percentiles.
        """
        if self._bands_cache is not None:
            return self._bands_cache
        from quantgan.baselines import BootstrapAugmenter

        r = self.real.reset_index(drop=True)
        block = float(min(_BAND_BLOCK, max(1, r.size // 10)))
        boot = BootstrapAugmenter(block_length=block).fit(r)
        B = boot.sample(_BAND_RESAMPLES, random_state=self.random_state).to_numpy()
        out = {}
        for key in ("identity", "abs", "square", "leverage"):
            if key == "leverage":
                real, sims = (metrics.leverage_effect(x, self.max_lag) for x in (r.to_numpy(), B))
            else:
                real, sims = (metrics.acf(x, self.max_lag, key) for x in (r.to_numpy(), B))
            spread = np.quantile(sims - sims.mean(axis=1, keepdims=True), [0.025, 0.975], axis=1)
            out[key] = (real, real + spread[0], real + spread[1])
        self._bands_cache = out
        return out

    def _plot_acf(self) -> Figure:
        bands = self._bands()
        k = np.arange(1, self.max_lag + 1)
        fig = Figure(figsize=(13, 4), layout="constrained")
        axes = fig.subplots(1, 3)
        panels = (("identity", "r"), ("abs", "|r|"), ("square", "r^2"))
        for ax, (t, title) in zip(axes, panels, strict=True):
            real, lo, hi = bands[t]
            ax.fill_between(k, lo[1:], hi[1:], color="0.85", label="real 95% band")
            ax.plot(k, real[1:], color="black", lw=1, label="real")
            for name, X, c in self._series(real=False):
                ax.plot(k, metrics.acf(X, self.max_lag, t)[1:].mean(axis=1), color=c, label=name)
            ax.axhline(0, color="0.5", lw=0.5)
            ax.set_title(f"ACF of {title}", fontsize=10)
            ax.set_xlabel("lag (days)")
        axes[0].legend(fontsize=8)
        return fig

    def _plot_leverage(self) -> Figure:
        real, lo, hi = self._bands()["leverage"]
        k = np.arange(1, self.max_lag + 1)
        fig = Figure(figsize=(7, 4), layout="constrained")
        ax = fig.subplots()
        ax.fill_between(k, lo[1:], hi[1:], color="0.85", label="real 95% band")
        ax.plot(k, real[1:], color="black", lw=1, label="real")
        for name, X, c in self._series(real=False):
            curve = metrics.leverage_effect(X, self.max_lag)[1:].mean(axis=1)
            ax.plot(k, curve, color=c, label=name)
        ax.axhline(0, color="0.5", lw=0.5)
        ax.set_xscale("log")
        ax.set_xlabel("lag k (days, log scale)")
        ax.set_ylabel("corr(r_t, r_(t+k)^2)")
        ax.set_title("Leverage effect", fontsize=10)
        ax.legend(fontsize=8)
        return fig

    def _plot_fan(self) -> Figure:
        n = len(self.names)
        ncols = min(3, n)
        fig = Figure(figsize=(4.3 * ncols, 3.4 * -(-n // ncols)), layout="constrained")
        axes = fig.subplots(-(-n // ncols), ncols, sharey=True, squeeze=False).ravel()
        real_cum = np.cumsum(self.real.to_numpy())
        low, high = real_cum.min(), real_cum.max()
        for ax, (name, X, c) in zip(axes, self._series(real=False), strict=False):
            q = np.quantile(np.cumsum(X, axis=0), [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
            # Dates on the x-axis when the paths are as long as the history, else steps.
            same = X.shape[0] == real_cum.size
            x_real = self.real.index if same else np.arange(real_cum.size)
            x = x_real if same else np.arange(X.shape[0])
            ax.fill_between(x, q[0], q[4], color=c, alpha=0.2, lw=0, label="5-95%")
            ax.fill_between(x, q[1], q[3], color=c, alpha=0.4, lw=0, label="25-75%")
            ax.plot(x, q[2], color=c, lw=1, label="median")
            ax.plot(x_real, real_cum, color="black", lw=1, label="real")
            low, high = min(low, q[0].min()), max(high, q[4].max())
            ax.set_title(name, fontsize=10)
            ax.tick_params(axis="x", labelsize=8)
        for ax in axes[n:]:
            ax.set_visible(False)
        pad = 0.05 * (high - low)
        axes[0].set_ylim(low - pad, high + pad)
        axes[0].set_ylabel("cumulative log return")
        axes[0].legend(fontsize=7, loc="upper left")
        return fig

    def _plot_drawdowns(self, window: int = 252, stride: int = 21, max_paths: int = 100) -> Figure:
        fig = Figure(figsize=(11, 4), layout="constrained")
        rolling, whole = fig.subplots(1, 2)
        real = self.real.to_numpy()
        bins = np.linspace(0, 1, 51)

        def windows(X: np.ndarray) -> np.ndarray:
            view = np.lib.stride_tricks.sliding_window_view(X[:, :max_paths], window, axis=0)
            return metrics.drawdowns(view[::stride].reshape(-1, window).T)

        for name, X, color in self._series():
            lw = 1.6 if name == "real" else 1.1
            if X.shape[0] >= window:
                density, _ = np.histogram(windows(X), bins=bins, density=True)
                rolling.stairs(density, bins, color=color, label=name, lw=lw)
            if name != "real":
                counts, _ = np.histogram(metrics.drawdowns(X), bins=bins)
                whole.stairs(counts, bins, color=color, label=name, lw=lw)
        whole.axvline(metrics.drawdowns(real), color="black", lw=1.5, label="real")
        rolling.set_title(f"max drawdown within {window}-day windows", fontsize=10)
        whole.set_title("max drawdown of each whole path", fontsize=10)
        for ax in (rolling, whole):
            ax.set_xlabel("loss from running peak (fraction)")
        rolling.set_ylabel("density")
        whole.set_ylabel("paths")
        rolling.legend(fontsize=8)
        return fig

    # -- HTML --------------------------------------------------------------------------
    def _table_html(self) -> str:
        mask = self.best_mask()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in ["metric", *self._table.columns])
        rows = [f"<tr>{head}<th>better</th></tr>"]
        for row, values in self._table.iterrows():
            cells = [f"<th>{html.escape(str(row))}</th>"]
            for col, v in values.items():
                best = col != "real" and bool(mask.at[row, col])
                text = "" if pd.isna(v) and col == "real" else "n/a" if pd.isna(v) else f"{v:.4g}"
                cells.append(f'<td class="best">{text}</td>' if best else f"<td>{text}</td>")
            rule = {"lower": "lower", "closer": "closer to real"}.get(_rule(str(row)) or "", "-")
            cells.append(f"<td>{rule}</td>")
            rows.append(f"<tr>{''.join(cells)}</tr>")
        return "<table>\n" + "\n".join(rows) + "\n</table>"

    def to_html(self, path: str | os.PathLike, title: str = "Synthetic market evaluation") -> Path:
        """Write one self-contained HTML file: the table (best per row highlighted),
        what each row means, the timings and every figure (embedded PNGs)."""
        return self.to_page(title).write(path)

    def to_page(self, title: str = "Synthetic market evaluation") -> HTMLPage:
        """The report as an :class:`~quantgan.report.HTMLPage`, to extend before writing."""
        page = HTMLPage(title)
        page.add_text(
            f"{len(self.names)} synthetic market(s) against {self._history()}. "
            "Each row of the table is one stylized fact; the highlighted cell is the model "
            "that reproduces it best (the lowest distance, or for statistics the value "
            "closest to the real column)."
        )
        page.add_heading("Scorecard")
        page.add_html(self._table_html())
        wins = self.wins()
        page.add_text("Rows won: " + ", ".join(f"{n}: {w}" for n, w in wins.items()) + ".")
        models = pd.DataFrame(
            {
                "paths": [X.shape[1] for X in self.paths.values()],
                "days per path": [X.shape[0] for X in self.paths.values()],
                "fit (s)": self.fit_seconds.map(lambda s: "" if pd.isna(s) else f"{s:.2f}"),
                "sample (s)": self.sample_seconds.map(lambda s: "" if pd.isna(s) else f"{s:.2f}"),
            },
            index=pd.Index(self.names, name="model"),
        )
        page.add_table(models)
        page.add_text("Fit time is blank for models passed as paths or already fitted.", note=True)
        page.add_heading("What the rows mean")
        page.add_table(
            pd.DataFrame(
                {"meaning": [_describe(str(row), self.max_lag) for row in self._table.index]},
                index=self._table.index,
            ),
            text=True,
        )
        for key, fig in self.plot().items():
            heading, text = _FIGURES[key]
            page.add_heading(heading)
            page.add_text(text)
            page.add_figure(fig, alt=key)
        return page


# --------------------------------------------------------------------------- #
# Entry point
# --------------------------------------------------------------------------- #
def evaluate(
    real: Any,
    *synthetic_or_augmenters: Any,
    names: Iterable[str] | None = None,
    n_paths: int = 500,
    random_state: Any = 0,
    classifier_scores: bool = False,
    lags: Iterable[int] = (1, 5, 20, 100),
    max_lag: int = 250,
) -> Report:
    """Compare synthetic markets with history: stylized facts, a table, figures, HTML.

    Parameters
    ----------
    real : Series, 1-D array or one-column DataFrame
        Historical returns (log returns, not prices).
    *synthetic_or_augmenters
        Each is either synthetic returns, rows = time and columns = paths (DataFrame,
        2-D array; a Series or 1-D array is one path), or an augmenter with
        ``fit``/``sample``. A fitted augmenter is sampled (``n_paths`` paths as long as
        ``real``); an unfitted one is first fitted on ``real`` (in place, and timed).
        Paths may be longer or shorter than ``real``: the metrics compare
        distributions, not dates; they must exceed ``max_lag`` and the largest lag.
    names : list of str, optional
        One per model. Default: the augmenter's class name, or "model <i>" for paths
        (position i), with "(1)", "(2)"... added to repeated names.
    n_paths : int, default 500
        Paths drawn from each augmenter.
    random_state : int or None, default 0
        Seed for sampling, metric subsampling and the bootstrap bands.
    classifier_scores : bool, default False
        Add the discriminative and predictive (train-synthetic-test-real) scores
        (scikit-learn; a few seconds per model).
    lags, max_lag
        EMD horizons and the largest ACF / leverage lag (see :mod:`quantgan.metrics`).

    Returns
    -------
    Report
        ``.to_frame()``, ``.best()``, ``.summary()``, ``.plot()``, ``.to_html(path)``.

    Notes
    -----
    A single path is allowed: the path-diversity rows are then NaN.

    Examples
    --------
    >>> import quantgan as qg
    >>> returns = qg.log_returns(qg.load_sp500())
    >>> report = qg.evaluate(returns, qg.GARCHAugmenter(), qg.GaussianAugmenter(), n_paths=100)
    >>> report.best()["acf_abs"]
    'GARCHAugmenter'
    """
    items = list(synthetic_or_augmenters)
    if not items:
        raise ValueError(
            "nothing to evaluate: pass synthetic paths or augmenters after the real returns, "
            "e.g. evaluate(returns, paths, qg.GARCHAugmenter())."
        )
    if isinstance(n_paths, bool) or not isinstance(n_paths, numbers.Integral) or n_paths < 1:
        raise ValueError(f"n_paths must be a positive int, got {n_paths!r}")
    lags = tuple(lags)
    min_length = max(int(max_lag), *map(int, lags))
    r = _check_real(real, min_length)
    labels = _resolve_names(items, names)
    paths: dict[str, np.ndarray] = {}
    fit_s: dict[str, float] = {}
    sample_s: dict[str, float] = {}
    for label, item in zip(labels, items, strict=True):
        if _is_augmenter(item):
            if not _is_fitted(item):
                start = time.perf_counter()
                item.fit(r)
                fit_s[label] = time.perf_counter() - start
            start = time.perf_counter()
            item = item.sample(int(n_paths), n_timesteps=r.size, random_state=random_state)
            sample_s[label] = time.perf_counter() - start
        paths[label] = _check_paths(item, label, r, min_length)
    return Report(
        r, paths, fit_seconds=fit_s, sample_seconds=sample_s, lags=lags, max_lag=max_lag,
        classifier_scores=classifier_scores, random_state=random_state,
    )  # fmt: skip
