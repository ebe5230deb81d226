"""Does selecting parameters on synthetic markets generalise better than on history?

:class:`OverfittingStudy` answers it for one strategy and one parameter grid. The
history is cut into a selection period and a later hold-out (once, or in rolling
windows). On each split the grid is backtested on the selection period and a
configuration is chosen two ways:

* ``"history"``: the best Sharpe ratio on the selection period (the usual way);
* ``"augmented"``: the best robust score (median, or a lower quantile, of the
  Sharpe ratio) over synthetic paths drawn from an augmenter fitted on the
  selection period **only** (a fresh :func:`sklearn.base.clone` per split).

Both choices are then run on the hold-out. Per split and method the study reports
the in-sample and hold-out Sharpe, their gap, the deflated Sharpe ratio of the
choice, and the probability of backtest overfitting (PBO) of the grid on the
history and on the synthetic paths.

:func:`augmented_forecaster_experiment` is the experiment of De Meer Pardo & Cobo
López (2020), "Mitigating overfitting on financial datasets with generative
adversarial networks": a forecaster of the next day's return sign trained on
history alone vs history plus synthetic paths, both scored on a hold-out.

:func:`momentum` is a time-series momentum signal for :func:`quantgan.backtest.backtest`.

Example
-------
>>> import quantgan as qg
>>> from quantgan.backtest import sma_crossover
>>> from quantgan.study import OverfittingStudy
>>> study = OverfittingStudy(
...     sma_crossover,
...     [{"fast": [5, 10], "slow": [50, 100]}],
...     qg.GARCHAugmenter(dist="normal"),
...     split=756, holdout=252, n_splits=4, n_paths=100, random_state=0,
... ).fit(qg.load_sp500())                                    # doctest: +SKIP
>>> print(study.summary())                                    # doctest: +SKIP
"""

from __future__ import annotations

import math
import numbers
import os
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import ParameterGrid

from quantgan._stack import _external_stacklevel
from quantgan.base import (
    DataWarning,
    TrainingWarning,
    _check_positive_int,
    check_random_state,
)
from quantgan.overfitting import deflated_sharpe_ratio, pbo

__all__ = [
    "RESULT_COLUMNS",
    "OverfittingStudy",
    "StudySummary",
    "augmented_forecaster_experiment",
    "momentum",
]

#: Columns of :attr:`OverfittingStudy.results_` (one row per split and method).
RESULT_COLUMNS = (
    "split",
    "method",
    "config",
    "params",
    "selection_start",
    "selection_end",
    "holdout_start",
    "holdout_end",
    "is_sharpe",
    "oos_sharpe",
    "gap",
    "synthetic_score",
    "oos_percentile",
    "dsr",
    "pbo_history",
    "pbo_synthetic",
)
_METHODS = ("history", "augmented")
#: At most this many CSCV splits of the synthetic paths (a seeded random subset):
#: a robust score (a median) over half the paths does not decompose into block sums,
#: so each split costs a partition; 500 splits give the PBO to about +/-0.02.
_MAX_SYNTHETIC_SPLITS = 500
#: The numpy engine warns that cash goes negative whenever a fully invested target
#: meets a higher next open; irrelevant to a study of return series.
_CASH_WARNING = "cash went negative"
#: Starting cash of every backtest (Sharpe ratios do not depend on it).
_CASH = 100_000.0


# ----------------------------------------------------------------------------- signals
def momentum(
    lookback: int = 60, skip: int = 0, long_only: bool = True, size: float = 1.0
) -> Callable[[np.ndarray], np.ndarray]:
    """Time-series momentum: long after a rise over ``lookback`` bars, else flat or short.

    At the close of bar ``t`` the signal compares ``close[t - skip]`` with
    ``close[t - skip - lookback]``: a rise gives ``+size``, a fall ``-size`` (or 0 when
    ``long_only``). Flat until bar ``lookback + skip``. With ``sizing="fraction"`` in
    :func:`quantgan.backtest.backtest`, ``size=1`` is fully invested.

    Returns
    -------
    callable
        ``signal(close) -> positions`` for :func:`quantgan.backtest.backtest`.

    Examples
    --------
    >>> import numpy as np
    >>> momentum(2)(np.array([[1.0], [2.0], [3.0], [2.5], [1.0]])).ravel().tolist()
    [0.0, 0.0, 1.0, 1.0, 0.0]
    """
    lookback = _check_positive_int("lookback", lookback, "; use e.g. 60 (about 3 months)")
    if isinstance(skip, bool) or not isinstance(skip, numbers.Integral) or skip < 0:
        raise ValueError(f"skip must be a non-negative int, got {skip!r}; use 0 to skip nothing")
    skip = int(skip)

    def signal(close: np.ndarray) -> np.ndarray:
        close = np.asarray(close, dtype=float)
        if close.ndim == 1:
            close = close[:, None]
        positions = np.zeros(close.shape)
        first = lookback + skip
        if close.shape[0] > first:
            now = close[lookback : close.shape[0] - skip]
            change = now - close[: close.shape[0] - skip - lookback]
            side = np.sign(change)
            positions[first:] = (np.maximum(side, 0.0) if long_only else side) * float(size)
        return positions

    signal.__name__ = f"momentum_{lookback}_{skip}"
    return signal


# ----------------------------------------------------------------------------- helpers
def _sharpe(returns: np.ndarray, periods_per_year: float) -> np.ndarray:
    """Annualised Sharpe per column; 0 for a flat column (no position, no return)."""
    mean = returns.mean(axis=0)
    std = returns.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sr = mean / std * math.sqrt(periods_per_year)
    return np.where(std > 0, sr, np.where(mean == 0, 0.0, np.nan))


def _equity_returns(equity: np.ndarray, cash: float) -> np.ndarray:
    """Per-bar returns of equity curves (backtrader's TimeReturn).

    A run whose equity reaches zero (a short through a doubling, say) is ruined:
    -100 % on that bar and flat afterwards, instead of the meaningless ratios of
    negative equity.
    """
    previous = np.vstack([np.full((1, equity.shape[1]), cash), equity[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = equity / previous - 1.0
    ruined = np.logical_or.accumulate(equity <= 0, axis=0)
    if ruined.any():
        first = ruined & ~np.vstack([np.zeros((1, equity.shape[1]), dtype=bool), ruined[:-1]])
        returns = np.where(ruined, 0.0, returns)
        returns[first] = -1.0
    return returns


def _robust_score(sharpes: np.ndarray, score: str, quantile: float, axis: int = 0) -> np.ndarray:
    if score == "median":
        return np.median(sharpes, axis=axis)
    return np.quantile(sharpes, quantile, axis=axis)


def _relative_rank(values: np.ndarray, j: int) -> float:
    """Where ``values[j]`` ranks among ``values``: 0 = worst, 1 = best, ties averaged."""
    below = np.count_nonzero(values < values[j])
    equal = np.count_nonzero(values == values[j])
    return float((below + (equal - 1) / 2) / max(len(values) - 1, 1))


def _label(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "(defaults)"


def _pbo_history(is_returns: np.ndarray, n_blocks: int) -> float:
    """CSCV PBO of the grid's selection-period returns; flat configurations left out.

    :func:`quantgan.overfitting.pbo` refuses constant columns (a configuration
    that never trades in the window has no Sharpe); with fewer than 2 others: NaN.
    """
    keep = np.ptp(is_returns, axis=0) > 0
    if keep.sum() < 2:
        return math.nan
    return pbo(is_returns[:, keep], n_blocks=n_blocks).pbo


def _pbo_synthetic(
    sharpes: np.ndarray,
    n_blocks: int,
    score: str,
    quantile: float,
    rng: np.random.Generator,
) -> float:
    """CSCV over groups of synthetic paths, with the study's robust score.

    The paths (rows of ``sharpes``, one Sharpe per configuration) are cut into
    ``n_blocks`` groups of equal size (the remainder left out); each half of the
    groups selects the configuration with the best robust score, and the other half
    ranks that choice. PBO is the share of splits where the choice ranks in the lower
    half (logit <= 0), as in :func:`quantgan.overfitting.pbo`. This is the PBO of the
    augmented selection with respect to the draw of the paths, not to reality.
    """
    n_paths, n_cfg = sharpes.shape
    blocks = min(n_blocks, n_paths - n_paths % 2)
    if blocks < 2 or n_cfg < 2:
        return math.nan
    size = n_paths // blocks
    groups = sharpes[: blocks * size].reshape(blocks, size, n_cfg)
    n_splits = math.comb(blocks, blocks // 2)
    if n_splits <= _MAX_SYNTHETIC_SPLITS:
        chosen = np.array(list(combinations(range(blocks), blocks // 2)))
    else:
        picks: set[tuple[int, ...]] = set()
        while len(picks) < _MAX_SYNTHETIC_SPLITS:
            picks.add(tuple(sorted(rng.choice(blocks, blocks // 2, replace=False).tolist())))
        chosen = np.array(sorted(picks))
    mask = np.zeros((len(chosen), blocks), dtype=bool)
    mask[np.arange(len(chosen))[:, None], chosen] = True
    others = np.array([np.flatnonzero(~row) for row in mask])
    logits = np.empty(len(chosen))
    for start in range(0, len(chosen), 64):
        sl = slice(start, start + 64)
        ins = groups[chosen[sl]].reshape(len(chosen[sl]), -1, n_cfg)
        outs = groups[others[sl]].reshape(len(chosen[sl]), -1, n_cfg)
        score_in = _robust_score(ins, score, quantile, axis=1)
        score_out = _robust_score(outs, score, quantile, axis=1)
        rows = np.arange(len(score_in))
        win = np.argmax(score_in, axis=1)
        w_out = score_out[rows, win][:, None]
        below = np.count_nonzero(score_out < w_out, axis=1)
        equal = np.count_nonzero(score_out == w_out, axis=1)
        w = (below + (equal + 1) / 2.0) / (n_cfg + 1.0)
        logits[sl] = np.log(w / (1.0 - w))
    return float(np.mean(logits <= 0))


def _dsr(is_returns: np.ndarray, j: int, periods_per_year: float, n_trials: int) -> float:
    """Deflated Sharpe of configuration ``j``; NaN when undefined (a flat configuration)."""
    chosen = is_returns[:, j]
    if np.ptp(chosen) == 0:
        return math.nan
    per_period = _sharpe(is_returns, periods_per_year) / math.sqrt(periods_per_year)
    finite = per_period[np.isfinite(per_period)]
    variance = float(np.var(finite, ddof=1)) if len(finite) > 1 else 0.0
    try:
        return float(
            deflated_sharpe_ratio(
                per_period[j],
                len(chosen),
                n_trials,
                variance,
                skew=float(stats.skew(chosen)),
                kurtosis=float(stats.kurtosis(chosen, fisher=False)),
            )
        )
    except ValueError:  # a non-positive variance term for extreme skew and kurtosis
        return math.nan


# ----------------------------------------------------------------------------- data
@dataclass(frozen=True)
class _History:
    """Bars and returns of the history, one asset."""

    index: pd.Index
    open: np.ndarray
    close: np.ndarray
    returns: pd.Series  # the returns the augmenter learns; row t = the move into bar t
    ohlcv: pd.DataFrame | None  # real bars (for OHLC of synthetic paths), else None


def _read_history(X: Any) -> _History:
    from quantgan.data import _canonical_columns

    if isinstance(X, pd.DataFrame) and X.shape[1] == 1:
        X = X.iloc[:, 0]
    if isinstance(X, np.ndarray) and X.ndim == 1:
        X = pd.Series(X, name="returns")
    if isinstance(X, pd.DataFrame):
        frame = _canonical_columns(X)
        missing = [c for c in ("Open", "Close") if c not in frame.columns]
        if missing:
            raise ValueError(
                f"X must be a returns Series or an OHLCV frame with Open and Close; the frame "
                f"lacks {missing} (columns: {list(X.columns)}). Pass qg.load_sp500()-like bars "
                "or a Series of log returns"
            )
        bars = frame[["Open", "Close"]].to_numpy(dtype=float)
        if not np.all(np.isfinite(bars) & (bars > 0)):
            bad = frame.index[np.flatnonzero(~np.all(np.isfinite(bars) & (bars > 0), axis=1))[0]]
            raise ValueError(
                f"X has a NaN or non-positive Open/Close at {bad!r}; drop or fill those rows"
            )
        open_, close = bars[:, 0].copy(), bars[:, 1].copy()
        returns = pd.Series(np.log(close[1:] / close[:-1]), index=frame.index[1:], name="returns")
        # the returns of row 0 has no previous close: NaN, never given to the augmenter
        returns = pd.concat([pd.Series([np.nan], index=frame.index[:1]), returns])
        return _History(frame.index, open_, close, returns.rename("returns"), frame)
    if not isinstance(X, pd.Series):
        raise TypeError(
            "X must be a pandas Series of log returns, a 1-D array, or an OHLCV DataFrame "
            f"with Open and Close, got {type(X).__name__}"
        )
    try:
        values = X.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"X must hold numeric log returns ({exc})") from exc
    if not np.all(np.isfinite(values)):
        bad = X.index[np.flatnonzero(~np.isfinite(values))[0]]
        raise ValueError(f"X holds NaN or infinite returns (first at {bad!r}); drop or fill them")
    if len(values) and values.min() > 0 and np.median(np.abs(values)) > 0.5:
        warnings.warn(
            "X looks like prices, not returns (all positive, median > 0.5); pass "
            "qg.log_returns(prices) or the OHLCV frame itself",
            DataWarning,
            stacklevel=_external_stacklevel(),
        )
    with np.errstate(over="ignore"):
        close = np.exp(np.cumsum(values))
    if not np.all(np.isfinite(close) & (close > 0)):
        raise ValueError(
            "X's returns compound to non-finite prices; X must hold daily log returns "
            "(e.g. qg.log_returns(prices)), not prices or returns in percent"
        )
    open_ = np.concatenate([[1.0], close[:-1]])  # no bars: trade at the previous close
    return _History(X.index, open_, close, X.astype(float), None)


def _split_bounds(
    n: int, index: pd.Index, split: Any, holdout: Any, n_splits: int, n_blocks: int
) -> list[tuple[int, int, int]]:
    """``(selection_start, holdout_start, holdout_end)`` bar positions per split."""
    if isinstance(split, bool):
        raise ValueError(f"split must be a fraction, a number of bars or a date, got {split!r}")
    if isinstance(split, numbers.Integral):
        length = int(split)
    elif isinstance(split, numbers.Real):
        if not 0 < split < 1:
            raise ValueError(
                f"split as a fraction must lie strictly between 0 and 1, got {split!r}; use "
                "e.g. 0.7 (70% selection) or an int number of bars"
            )
        length = round(split * n)
    else:
        if n_splits != 1:
            raise ValueError(
                f"split as a date ({split!r}) defines one split; with n_splits={n_splits} give "
                "the selection length as an int number of bars or a fraction"
            )
        if not isinstance(index, pd.DatetimeIndex):
            raise ValueError(
                f"split={split!r} is a date but the data have no DatetimeIndex; give the "
                "selection length as an int number of bars or a fraction"
            )
        try:
            when = pd.Timestamp(split)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"split must be a fraction, an int or a date, got {split!r}") from exc
        if not index[0] < when <= index[-1]:
            raise ValueError(
                f"split date {when.date()} is outside the data ({index[0].date()} to "
                f"{index[-1].date()}); pick a date inside it"
            )
        length = int(np.searchsorted(index, when, side="left"))
    min_length = max(n_blocks, 10)
    if not min_length <= length < n - 1:
        raise ValueError(
            f"split gives a selection period of {length} bars; it must hold at least "
            f"{min_length} bars (n_blocks={n_blocks}) and leave 2 or more for the hold-out "
            f"out of the {n} bars of data; choose a split inside the data"
        )
    if holdout is None:
        hold = (n - length) // n_splits
    else:
        hold = _check_positive_int("holdout", holdout, "; give the hold-out length in bars")
    if hold < 2 or length + n_splits * hold > n:
        raise ValueError(
            f"{n_splits} split(s) of {length} selection bars and {hold} hold-out bars do not "
            f"fit in {n} bars of data (they need {length} + {n_splits} x {hold}, and hold-outs "
            "of 2 or more bars); use fewer splits, a shorter selection or hold-out"
        )
    out = []
    for i in range(n_splits):
        end = n - (n_splits - 1 - i) * hold
        out.append((end - hold - length, end - hold, end))
    return out


def _check_augmenter(augmenter: Any) -> None:
    missing = [m for m in ("fit", "sample") if not callable(getattr(augmenter, m, None))]
    if missing:
        raise TypeError(
            f"augmenter must have fit(returns) and sample(n_paths, n_timesteps, *, "
            f"random_state) methods; {type(augmenter).__name__} lacks {missing}. Pass e.g. "
            "qg.GARCHAugmenter(), qg.BootstrapAugmenter() or qg.WGANAugmenter()"
        )


def _seeded_clone(augmenter: Any, seed: int) -> Any:
    est = clone(augmenter, safe=False)  # a deep copy for objects without get_params
    if hasattr(est, "get_params") and "random_state" in est.get_params(deep=False):
        est.set_params(random_state=seed)
    return est


# ----------------------------------------------------------------------------- summary
@dataclass
class StudySummary:
    """Per-method distribution over splits, and the paired comparison.

    Attributes
    ----------
    table : DataFrame
        One row per method; mean, median and std over splits of ``is_sharpe``,
        ``oos_sharpe``, ``gap``, ``dsr``, ``oos_percentile``, and the mean PBOs.
    oos_difference : Series
        Per split, hold-out Sharpe of the augmented choice minus that of the
        history choice.
    n_better, n_same, n_worse : int
        Splits where the augmented choice had the higher, the same, the lower
        hold-out Sharpe.
    """

    table: pd.DataFrame
    oos_difference: pd.Series

    @property
    def n_better(self) -> int:
        return int((self.oos_difference > 0).sum())

    @property
    def n_same(self) -> int:
        return int((self.oos_difference == 0).sum())

    @property
    def n_worse(self) -> int:
        return int((self.oos_difference < 0).sum())

    @property
    def mean_difference(self) -> float:
        return float(self.oos_difference.mean())

    @property
    def se_difference(self) -> float:
        d = self.oos_difference.dropna()
        return float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else math.nan

    def __str__(self) -> str:
        with pd.option_context("display.width", 160, "display.max_columns", 30):
            table = self.table.T.round(3).to_string()
        return (
            f"{table}\n"
            f"hold-out Sharpe, augmented minus history: mean {self.mean_difference:+.3f} "
            f"(s.e. {self.se_difference:.3f}) over {len(self.oos_difference)} splits; "
            f"augmented better in {self.n_better}, same choice or tie in {self.n_same}, "
            f"worse in {self.n_worse}"
        )


# ----------------------------------------------------------------------------- study
class OverfittingStudy(BaseEstimator):
    """Parameter selection on history vs on synthetic markets, scored on a hold-out.

    Parameters
    ----------
    strategy : callable
        A signal factory: ``strategy(**params) -> signal`` with ``signal(close) ->
        positions`` as in :func:`quantgan.backtest.backtest` (e.g.
        :func:`~quantgan.backtest.sma_crossover`, :func:`momentum`).
    param_grid : dict or list of dicts
        Parameter values, as for :class:`sklearn.model_selection.ParameterGrid`; a
        list of dicts leaves out invalid combinations, e.g.
        ``[{"fast": [5], "slow": [20, 50]}, {"fast": [20], "slow": [50]}]``. At
        least 2 configurations.
    augmenter : augmenter
        Any object with ``fit(returns)`` and ``sample(n_paths, n_timesteps, *,
        random_state)``. It is cloned and fitted on each selection period only; a
        ``random_state`` parameter is set from the study's ``random_state``.
    split : float, int or date, default 0.7
        Length of the selection period: a fraction of the bars, a number of bars,
        or (one split only) the first date of the hold-out.
    holdout : int, optional
        Hold-out length in bars. Default: the bars after the selection period,
        shared out over the ``n_splits`` splits.
    n_splits : int, default 1
        Rolling splits: selection windows of a fixed length, each followed by its
        hold-out; the hold-outs are consecutive and the last ends with the data.
    n_paths : int, default 200
        Synthetic paths per split, each as long as the selection period.
    engine : {"numpy"}, default "numpy"
        :func:`quantgan.backtest.backtest`. ``"backtrader"`` raises
        NotImplementedError: the study needs a signal strategy over many paths at
        once, and a grid of 100 configurations x 500 paths x 3 years is about 38
        million bars, some 2 hours for one process at the 4-6 thousand bars/s
        measured for backtrader here; and backtrader runs strategy classes, not the
        signal factories the study takes. The numpy engine's ``sma_crossover`` matches backtrader's
        ``SmaCross`` trade for trade (``benchmarks/stress.py``).
    score : {"median", "quantile"}, default "median"
        Robust score of a configuration over the synthetic paths: the median of
        the path Sharpe ratios, or their ``quantile``.
    quantile : float, default 0.25
        For ``score="quantile"``.
    sizing : {"fraction", "units"}, default "fraction"
        How positions are read (``backtest``'s ``sizing``): with "fraction" a
        position of 1 is fully invested.
    commission : float, default 0.0
        Proportional cost per unit of traded notional (0.001 = 0.1 %).
    n_blocks : int, default 16
        CSCV blocks for the PBOs (time blocks on history, groups of paths on the
        synthetic paths).
    periods_per_year : float, default 252
        For annualising Sharpe ratios.
    progress : bool, default False
        Show a progress bar over the splits.
    random_state : int, Generator or None
        Seeds the augmenters, their samples and the synthetic OHLC; same seed, same
        results.

    Attributes
    ----------
    results_ : DataFrame
        One row per split and method, columns :data:`RESULT_COLUMNS`. Sharpe ratios
        are annualised (the :mod:`quantgan.overfitting` statistics take them per
        period; the DSR here is computed from per-period values):

        - ``is_sharpe``: the chosen configuration on the history's selection period;
        - ``oos_sharpe``: the same on the hold-out (the strategy runs from the
          selection start, so indicators are warm at the hold-out's start);
        - ``gap``: ``is_sharpe - oos_sharpe``;
        - ``synthetic_score``: its robust score over the synthetic paths;
        - ``oos_percentile``: where its hold-out Sharpe ranks in the grid's
          (1 = best, 0 = worst);
        - ``dsr``: deflated Sharpe ratio of its selection-period returns, with
          ``n_trials`` = the grid size and the variance of the grid's per-period
          Sharpes (NaN for a configuration that never trades);
        - ``pbo_history``: CSCV PBO of the grid on the selection period (time
          blocks; configurations that never trade left out);
        - ``pbo_synthetic``: CSCV PBO of the augmented selection over groups of
          synthetic paths (at most 500 random CSCV splits): how stable the
          augmented choice is across draws of the paths, not whether it transfers
          to real markets.

        Both PBOs belong to the split and repeat on both of its rows.
    grid_results_ : DataFrame
        One row per split and configuration: ``is_sharpe``, ``oos_sharpe``,
        ``synthetic_score``, ``synthetic_median``.
    splits_ : DataFrame
        Bar positions and dates of each split, and a check of the paths: annualised
        drift and volatility of the selection period's returns and of the synthetic
        paths (medians over paths). A drift far from the history's moves the
        augmented choice towards or away from long exposure.
    augmenters_ : list
        The fitted augmenter of each split.
    timings_ : DataFrame
        Seconds per split spent fitting, sampling, backtesting and in the PBOs.

    Examples
    --------
    >>> from quantgan.backtest import sma_crossover
    >>> study = OverfittingStudy(sma_crossover, {"fast": [5, 10], "slow": [50, 100]},
    ...                          qg.BootstrapAugmenter(), n_splits=3, n_paths=50,
    ...                          random_state=0).fit(qg.load_sp500())  # doctest: +SKIP
    >>> study.results_.groupby("method")["oos_sharpe"].mean()   # doctest: +SKIP
    """

    def __init__(
        self,
        strategy: Callable[..., Any],
        param_grid: Mapping[str, Any] | list[Mapping[str, Any]],
        augmenter: Any,
        *,
        split: Any = 0.7,
        holdout: int | None = None,
        n_splits: int = 1,
        n_paths: int = 200,
        engine: str = "numpy",
        score: str = "median",
        quantile: float = 0.25,
        sizing: str = "fraction",
        commission: float = 0.0,
        n_blocks: int = 16,
        periods_per_year: float = 252.0,
        progress: bool = False,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.strategy = strategy
        self.param_grid = param_grid
        self.augmenter = augmenter
        self.split = split
        self.holdout = holdout
        self.n_splits = n_splits
        self.n_paths = n_paths
        self.engine = engine
        self.score = score
        self.quantile = quantile
        self.sizing = sizing
        self.commission = commission
        self.n_blocks = n_blocks
        self.periods_per_year = periods_per_year
        self.progress = progress
        self.random_state = random_state

    # -- validation --------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.engine == "backtrader":
            raise NotImplementedError(
                "engine='backtrader' is not implemented for OverfittingStudy: a grid of 100 "
                "configurations x 500 paths x 756 bars is ~38 million bars, about 2 hours for "
                "one process at the 4-6k bars/s measured for backtrader, and backtrader runs "
                "strategy classes, not signal factories. Use engine='numpy' "
                "(its sma_crossover matches backtrader's SmaCross trade for trade), or check "
                "the chosen configurations with quantgan.adapters.backtrader.stress_test"
            )
        if self.engine != "numpy":
            raise ValueError(f"engine must be 'numpy' (or 'backtrader'), got {self.engine!r}")
        if not callable(self.strategy):
            raise TypeError(
                "strategy must be a signal factory, strategy(**params) -> signal (e.g. "
                f"quantgan.backtest.sma_crossover), got {type(self.strategy).__name__}"
            )
        _check_augmenter(self.augmenter)
        _check_positive_int("n_paths", self.n_paths, "; use e.g. 200 synthetic paths")
        _check_positive_int("n_splits", self.n_splits, "; use 1, or e.g. 8 rolling splits")
        if self.score not in ("median", "quantile"):
            raise ValueError(f"score must be 'median' or 'quantile', got {self.score!r}")
        q = self.quantile
        if isinstance(q, bool) or not isinstance(q, numbers.Real) or not 0 < q < 1:
            raise ValueError(f"quantile must lie strictly between 0 and 1, got {q!r}; e.g. 0.25")
        if self.sizing not in ("fraction", "units"):
            raise ValueError(f"sizing must be 'fraction' or 'units', got {self.sizing!r}")
        nb = self.n_blocks
        if isinstance(nb, bool) or not isinstance(nb, numbers.Integral) or nb < 2 or nb % 2:
            raise ValueError(f"n_blocks must be an even int >= 2, got {nb!r}; use e.g. 16")
        ppy = self.periods_per_year
        if isinstance(ppy, bool) or not isinstance(ppy, numbers.Real) or not ppy > 0:
            raise ValueError(f"periods_per_year must be a positive number, got {ppy!r}")

    def _grid(self) -> list[dict[str, Any]]:
        grids = self.param_grid if isinstance(self.param_grid, list) else [self.param_grid]
        for g in grids:
            for name, values in g.items() if isinstance(g, Mapping) else ():
                if hasattr(values, "__len__") and not isinstance(values, str) and not len(values):
                    raise ValueError(
                        f"param_grid[{name!r}] is empty; every parameter needs at least one "
                        "value, e.g. {'fast': [5, 10], 'slow': [50, 100]}"
                    )
        try:
            grid = list(ParameterGrid(self.param_grid))
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"param_grid must be a dict of lists or a list of such dicts ({exc}); e.g. "
                "{'fast': [5, 10], 'slow': [50, 100]}"
            ) from exc
        if len(grid) < 2:
            raise ValueError(
                f"param_grid must hold at least 2 configurations, got {len(grid)} "
                f"(param_grid={self.param_grid!r}); an empty list of values gives none, and "
                "one configuration leaves nothing to select"
            )
        return grid

    def _signals(self, grid: list[dict[str, Any]]) -> list[Callable]:
        signals = []
        for params in grid:
            try:
                signal = self.strategy(**params)
            except Exception as exc:
                raise ValueError(
                    f"strategy(**{params!r}) raised {type(exc).__name__}: {exc}; fix the factory "
                    "or leave this combination out of param_grid (a list of dicts can, e.g. "
                    "[{'fast': [5], 'slow': [20, 50]}, {'fast': [20], 'slow': [50]}])"
                ) from exc
            if not callable(signal):
                raise TypeError(
                    f"strategy(**{params!r}) must return a signal, signal(close) -> positions; "
                    f"got {type(signal).__name__}"
                )
            signals.append(signal)
        return signals

    # -- backtests ---------------------------------------------------------------------
    def _positions(self, signal: Callable, close: np.ndarray, params: dict) -> np.ndarray:
        # The engine's own checks (shape, NaN = flat, read-only prices), with the
        # configuration named in the error.
        from quantgan.backtest import _positions

        try:
            return _positions(signal, close)
        except ValueError as exc:  # the engine's checks of what the signal gave
            raise ValueError(f"the signal of configuration {_label(params)}: {exc}") from exc
        except Exception as exc:
            raise ValueError(
                f"the signal of configuration {_label(params)} raised {type(exc).__name__}: "
                f"{exc} on a close panel of shape {close.shape} (n_timesteps, n_paths)"
            ) from exc

    def _run(self, positions: np.ndarray, open_: np.ndarray, close: np.ndarray) -> np.ndarray:
        """Equity curves (n_timesteps, n_columns) of positions on bars (one column each)."""
        from quantgan.backtest import backtest

        index = pd.RangeIndex(close.shape[0])
        panels = {
            "Open": pd.DataFrame(open_, index=index),
            "Close": pd.DataFrame(close, index=index),
        }
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_CASH_WARNING)
            result = backtest(
                positions, panels, cash=_CASH, sizing=self.sizing, commission=self.commission
            )
        return result.equity.to_numpy()

    def _synthetic_bars(
        self, hist: _History, sel: slice, values: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Open and close panels of returns paths, from the selection start's close."""
        start = float(hist.close[sel.start])
        if hist.ohlcv is None:
            close = start * np.exp(np.cumsum(values, axis=0))
            open_ = np.vstack([np.full((1, values.shape[1]), start), close[:-1]])
            return open_, close
        from quantgan.stress import _rebuild_panel

        # overnight gaps and wicks borrowed from real days of the selection period only
        bars = _rebuild_panel(values, pd.RangeIndex(len(values)), hist.ohlcv.iloc[sel], start, rng)
        return bars["Open"], bars["Close"]

    # -- fit ---------------------------------------------------------------------------
    def _sample_paths(
        self, aug: Any, hist: _History, a: int, b: int, seeds: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Returns, open and close panels of ``n_paths`` paths as long as the selection."""
        n_paths, length = int(self.n_paths), b - a
        values = np.asarray(aug.sample(n_paths, length, random_state=int(seeds[1])), dtype=float)
        if values.shape != (length, n_paths):
            raise ValueError(
                f"augmenter.sample({n_paths}, {length}) must return {length} rows x "
                f"{n_paths} paths of one asset, got shape {values.shape}"
            )
        if not np.all(np.isfinite(values)):
            raise ValueError("augmenter.sample returned NaN or infinite returns")
        open_, close = self._synthetic_bars(
            hist, slice(a, b), values, np.random.default_rng(seeds[2])
        )
        return values, open_, close

    def _history_returns(
        self, hist: _History, signals: list, grid: list, a: int, c: int
    ) -> np.ndarray:
        """Per-bar returns (bars a..c-1 x configurations), every run starting flat at ``a``."""
        close = hist.close[a:c, None]
        pos = np.column_stack(
            [self._positions(s, close, p)[:, 0] for s, p in zip(signals, grid, strict=True)]
        )
        k = len(grid)
        equity = self._run(pos, np.tile(hist.open[a:c, None], k), np.tile(close, k))
        return _equity_returns(equity, _CASH)

    def _synthetic_sharpes(
        self, signals: list, grid: list, open_: np.ndarray, close: np.ndarray
    ) -> np.ndarray:
        """Annualised Sharpe per path (rows) and configuration (columns)."""
        out = np.empty((close.shape[1], len(grid)))
        for j, (signal, params) in enumerate(zip(signals, grid, strict=True)):
            equity = self._run(self._positions(signal, close, params), open_, close)
            out[:, j] = _sharpe(_equity_returns(equity, _CASH), self.periods_per_year)
        return np.nan_to_num(out, nan=0.0)

    def fit(
        self, X: Any, y: Any = None, *, fitted_augmenters: list | None = None
    ) -> OverfittingStudy:
        """Run the study on a history.

        Parameters
        ----------
        X : Series, 1-D array or DataFrame
            Daily log returns of one asset, or its OHLCV bars (Open and Close are
            used; the augmenter learns the log returns of Close).
        y : ignored
        fitted_augmenters : list, optional
            Augmenters already fitted on each split's selection period, e.g. the
            ``augmenters_`` of a study of another grid with the same history and
            splits: a slow model (the WGAN) is then trained once for both grids.
            You vouch that each saw its selection period only.

        Returns
        -------
        self
        """
        self._check_params()
        grid = self._grid()
        signals = self._signals(grid)
        hist = _read_history(X)
        bounds = _split_bounds(
            len(hist.close), hist.index, self.split, self.holdout, self.n_splits, self.n_blocks
        )
        if fitted_augmenters is not None and len(fitted_augmenters) != len(bounds):
            raise ValueError(
                f"fitted_augmenters must hold one augmenter per split ({len(bounds)}), got "
                f"{len(fitted_augmenters)}; pass the augmenters_ of a study with the same splits"
            )
        rng = check_random_state(self.random_state)
        k, idx = len(grid), hist.index
        rows, grid_rows, timings, augmenters, moments = [], [], [], [], []
        short: list[tuple[int, int]] = []  # (split, generator steps) of short WGAN fits
        iterator: Any = enumerate(bounds)
        if self.progress:
            from tqdm.auto import tqdm

            iterator = tqdm(iterator, total=len(bounds), desc="splits", unit="split")
        for i, (a, b, c) in iterator:
            clock = {"split": i, "start": time.perf_counter()}
            seeds = rng.integers(0, 2**31 - 1, size=3)
            # 1. the augmenter learns from the selection period only
            if fitted_augmenters is None:
                aug = _seeded_clone(self.augmenter, int(seeds[0]))
                with warnings.catch_warnings():  # one summary after the loop, not one a split
                    warnings.simplefilter("ignore", TrainingWarning)
                    aug.fit(hist.returns.iloc[a:b].dropna())
                if hasattr(aug, "_short_training") and aug._short_training():
                    short.append((i, len(aug.history_)))
            else:
                aug = fitted_augmenters[i]
            augmenters.append(aug)
            clock["fit_augmenter"] = time.perf_counter()
            s_values, s_open, s_close = self._sample_paths(aug, hist, a, b, seeds)
            clock["sample"] = time.perf_counter()
            real = hist.returns.iloc[a:b].dropna().to_numpy()
            ppy = float(self.periods_per_year)
            moments.append(
                {
                    "selection_drift": real.mean() * ppy,
                    "synthetic_drift": float(np.median(s_values.mean(axis=0))) * ppy,
                    "selection_vol": real.std(ddof=1) * math.sqrt(ppy),
                    "synthetic_vol": float(np.median(s_values.std(axis=0, ddof=1)))
                    * math.sqrt(ppy),
                }
            )
            # 2. the grid on history (selection then hold-out, in one run) and on the paths
            h_ret = self._history_returns(hist, signals, grid, a, c)
            is_ret, oos_ret = h_ret[: b - a], h_ret[b - a :]
            is_sr = _sharpe(is_ret, self.periods_per_year)
            oos_sr = _sharpe(oos_ret, self.periods_per_year)
            clock["backtest_history"] = time.perf_counter()
            synth = self._synthetic_sharpes(signals, grid, s_open, s_close)
            score = _robust_score(synth, self.score, self.quantile)
            clock["backtest_synthetic"] = time.perf_counter()
            # 3. the two choices, and the overfitting statistics of the grid
            pbo_h = _pbo_history(is_ret, self.n_blocks)
            pbo_s = _pbo_synthetic(synth, self.n_blocks, self.score, self.quantile, rng)
            clock["pbo"] = time.perf_counter()
            picks = {"history": int(np.nanargmax(is_sr)), "augmented": int(np.argmax(score))}
            oos_ranked = np.nan_to_num(oos_sr, nan=-np.inf)
            for method, j in picks.items():
                rows.append(
                    {
                        "split": i,
                        "method": method,
                        "config": _label(grid[j]),
                        "params": dict(grid[j]),
                        "selection_start": idx[a],
                        "selection_end": idx[b - 1],
                        "holdout_start": idx[b],
                        "holdout_end": idx[c - 1],
                        "is_sharpe": float(is_sr[j]),
                        "oos_sharpe": float(oos_sr[j]),
                        "gap": float(is_sr[j] - oos_sr[j]),
                        "synthetic_score": float(score[j]),
                        "oos_percentile": _relative_rank(oos_ranked, j),
                        "dsr": _dsr(is_ret, j, self.periods_per_year, k),
                        "pbo_history": pbo_h,
                        "pbo_synthetic": pbo_s,
                    }
                )
            grid_rows.extend(
                {
                    "split": i,
                    "config": _label(params),
                    "is_sharpe": float(is_sr[j]),
                    "oos_sharpe": float(oos_sr[j]),
                    "synthetic_score": float(score[j]),
                    "synthetic_median": float(np.median(synth[:, j])),
                }
                for j, params in enumerate(grid)
            )
            stamps = list(clock.values())[1:]
            timings.append({"split": i, **dict(zip(list(clock)[2:], np.diff(stamps), strict=True))})
        self.grid_ = grid
        self.results_ = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
        self.grid_results_ = pd.DataFrame(grid_rows)
        self.splits_ = pd.DataFrame(
            [
                {
                    "selection_start": a,
                    "holdout_start": b,
                    "holdout_end": c,
                    "selection_first": idx[a],
                    "holdout_first": idx[b],
                    "holdout_last": idx[c - 1],
                    **moment,
                }
                for (a, b, c), moment in zip(bounds, moments, strict=True)
            ]
        )
        self.augmenters_ = augmenters
        self.timings_ = pd.DataFrame(timings).set_index("split")
        if short:
            steps = [n for _, n in short]
            warnings.warn(
                f"{len(short)} of {len(bounds)} augmenter fits (splits "
                f"{', '.join(str(i) for i, _ in short)}) were stopped by their time budget "
                f"after {min(steps)}-{max(steps)} generator steps, below the steps the "
                "WGAN's quality was measured from (docs/model.md): their paths come from an "
                "undertrained model. Give the augmenter a larger time_budget, or max_steps "
                "with time_budget=None.",
                TrainingWarning,
                stacklevel=_external_stacklevel(),
            )
        return self

    run = fit

    # -- results -----------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "results_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                "this OverfittingStudy has not been run yet; call study.fit(history) first"
            )

    def summary(self) -> StudySummary:
        """Distribution over splits per method, and augmented-minus-history on the hold-out."""
        self._check_fitted()
        res = self.results_
        cols = ["is_sharpe", "oos_sharpe", "gap", "dsr", "oos_percentile"]
        parts = {}
        for method in _METHODS:
            sub = res[res["method"] == method]
            row: dict[str, float] = {"n_splits": float(len(sub))}
            for col in cols:
                row[f"{col}_mean"] = float(sub[col].mean())
                row[f"{col}_median"] = float(sub[col].median())
                row[f"{col}_std"] = float(sub[col].std(ddof=1)) if len(sub) > 1 else math.nan
            row["pbo_history_mean"] = float(sub["pbo_history"].mean())
            row["pbo_synthetic_mean"] = float(sub["pbo_synthetic"].mean())
            parts[method] = row
        table = pd.DataFrame(parts).T
        table.index.name = "method"
        wide = res.pivot(index="split", columns="method", values="oos_sharpe")
        return StudySummary(table=table, oos_difference=wide["augmented"] - wide["history"])

    def plot(self) -> Figure:
        """Hold-out Sharpe per split, IS-OOS gaps, IS vs hold-out Sharpe and the PBOs."""
        self._check_fitted()
        res = self.results_
        fig = Figure(figsize=(11, 7.5))
        ax = fig.subplots(2, 2)
        colours = {"history": "tab:blue", "augmented": "tab:orange"}
        for method, colour in colours.items():
            sub = res[res["method"] == method]
            ax[0, 0].plot(sub["split"], sub["oos_sharpe"], "o-", color=colour, label=method)
            ax[1, 0].scatter(sub["is_sharpe"], sub["oos_sharpe"], color=colour, label=method)
        ax[0, 0].axhline(0.0, color="grey", lw=0.8)
        ax[0, 0].set(xlabel="split", ylabel="hold-out Sharpe (annualised)",
                     title="Hold-out Sharpe of the chosen configuration")  # fmt: skip
        ax[0, 0].legend(fontsize=8)
        gaps = [res.loc[res["method"] == m, "gap"].dropna().to_numpy() for m in colours]
        ax[0, 1].boxplot(gaps, tick_labels=list(colours))
        ax[0, 1].axhline(0.0, color="grey", lw=0.8)
        ax[0, 1].set(ylabel="in-sample minus hold-out Sharpe",
                     title="IS-OOS gap over splits")  # fmt: skip
        lim = np.nanmax(np.abs(res[["is_sharpe", "oos_sharpe"]].to_numpy())) * 1.05
        if np.isfinite(lim) and lim > 0:
            ax[1, 0].plot([-lim, lim], [-lim, lim], color="grey", lw=0.8, ls="--")
        ax[1, 0].set(xlabel="in-sample Sharpe (history)", ylabel="hold-out Sharpe",
                     title="In-sample vs hold-out")  # fmt: skip
        ax[1, 0].legend(fontsize=8)
        per_split = res.drop_duplicates("split")
        width = 0.4
        x = per_split["split"].to_numpy()
        ax[1, 1].bar(x - width / 2, per_split["pbo_history"], width, label="history (time blocks)")
        ax[1, 1].bar(x + width / 2, per_split["pbo_synthetic"], width, label="synthetic (paths)")
        ax[1, 1].axhline(0.5, color="grey", lw=0.8, ls="--")
        ax[1, 1].set(xlabel="split", ylabel="PBO", ylim=(0, 1),
                     title="Probability of backtest overfitting")  # fmt: skip
        ax[1, 1].legend(fontsize=8)
        fig.tight_layout()
        return fig

    def to_html(self, path: str | os.PathLike) -> Path:
        """A self-contained HTML page: setup, summary, results per split, figures."""
        from quantgan.report import HTMLPage

        self._check_fitted()
        summary = self.summary()
        page = HTMLPage("Overfitting study: selection on history vs on synthetic markets")
        aug = type(self.augmenter).__name__
        page.add_text(
            f"{len(self.grid_)} configurations of {getattr(self.strategy, '__name__', 'strategy')}"
            f", {len(self.splits_)} split(s), {self.n_paths} synthetic paths per split from "
            f"{aug} fitted on each selection period only; robust score: {self.score}"
            + (f" (q={self.quantile})" if self.score == "quantile" else "")
            + f"; sizing={self.sizing}, commission={self.commission}."
        )
        page.add_heading("Summary over splits")
        page.add_table(summary.table)
        page.add_text(str(summary).splitlines()[-1])
        page.add_heading("Per split")
        shown = self.results_.drop(columns=["params"])
        page.add_table(shown)
        page.add_heading("Figures")
        page.add_figure(self.plot(), "overfitting study")
        page.add_text(
            "Sharpe ratios are annualised. pbo_synthetic measures how stable the augmented "
            "choice is across draws of synthetic paths; it says nothing about whether the "
            "augmenter's market resembles the hold-out.",
            note=True,
        )
        return page.write(path)


# ----------------------------------------------------------------------------- forecaster
def _windows(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lagged-return features, next-return sign labels and the next returns."""
    view = np.lib.stride_tricks.sliding_window_view(values, window)[:-1]
    nxt = values[window:]
    return view, (nxt > 0).astype(int), nxt


def _make_model(model: str, seed: int):
    if model == "ridge":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=100, max_depth=3, learning_rate=0.05, early_stopping=False, random_state=seed
    )


def augmented_forecaster_experiment(
    returns: Any,
    augmenter: Any,
    *,
    model: str = "ridge",
    window: int = 20,
    n_paths: int = 10,
    split: float | int = 0.7,
    periods_per_year: float = 252.0,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Forecast the next day's return sign, trained on history vs history + synthetic paths.

    The experiment of De Meer Pardo & Cobo López (2020), "Mitigating overfitting on
    financial datasets with generative adversarial networks". The returns are cut
    at ``split``; the augmenter (a clone) is fitted on the training part only and
    samples ``n_paths`` paths as long as it. Features are the last ``window``
    returns, the label whether the next return is positive. One model learns from
    the training windows, the other from those plus every window of the synthetic
    paths; both predict the hold-out.

    Parameters
    ----------
    returns : Series or 1-D array
        Daily log returns of one asset.
    augmenter : augmenter
        Anything with ``fit(returns)`` and ``sample(n_paths, n_timesteps, *, random_state)``.
    model : {"ridge", "gbm"}
        ``"ridge"``: L2-penalised logistic regression on standardised features;
        ``"gbm"``: a small ``HistGradientBoostingClassifier``.
    window : int
        Lagged returns per sample.
    n_paths : int
        Synthetic paths added to the training set (each as long as the training part).
    split : float or int
        Training share (in (0, 1)) or number of training returns.
    random_state : int, Generator or None

    Returns
    -------
    DataFrame
        Rows ``"history"``, ``"history+synthetic"`` and the reference
        ``"always_long"``; columns ``accuracy``, ``auc`` (of the predicted
        probability; 0.5 for always long), ``sharpe`` (annualised, of the long-short
        strategy ``+1`` if P(up) > 0.5 else ``-1``, held over the next day; long only
        for ``always_long``), ``n_train`` and ``n_test`` (samples).

    Examples
    --------
    >>> table = augmented_forecaster_experiment(
    ...     qg.log_returns(qg.load_sp500()), qg.BootstrapAugmenter(), random_state=0
    ... )  # doctest: +SKIP
    """
    from sklearn.metrics import roc_auc_score

    if model not in ("ridge", "gbm"):
        raise ValueError(f"model must be 'ridge' or 'gbm', got {model!r}")
    _check_augmenter(augmenter)
    window = _check_positive_int("window", window, "; use e.g. 20 lagged returns")
    n_paths = _check_positive_int("n_paths", n_paths, "; use e.g. 10 synthetic paths")
    if isinstance(returns, pd.DataFrame):
        raise TypeError(
            "returns must be one asset's log returns (a Series or 1-D array), got a "
            "DataFrame; pass e.g. qg.log_returns(prices)"
        )
    series = pd.Series(returns) if not isinstance(returns, pd.Series) else returns
    hist = _read_history(series)
    values = hist.returns.to_numpy()
    n = len(values)
    if isinstance(split, numbers.Real) and not isinstance(split, numbers.Integral | bool):
        if not 0 < split < 1:
            raise ValueError(
                f"split as a fraction must lie strictly between 0 and 1, got {split!r}; use "
                "e.g. 0.7 (70% training) or an int number of training returns"
            )
        n_train = round(split * n)
    elif isinstance(split, numbers.Integral) and not isinstance(split, bool):
        n_train = int(split)
    else:
        raise ValueError(f"split must be a fraction or an int number of returns, got {split!r}")
    if not window + 1 < n_train < n - 1:
        raise ValueError(
            f"split={split!r} leaves {n_train} training and {n - n_train} hold-out returns "
            f"out of {n}; training needs more than window + 1 = {window + 1} and the hold-out "
            "2 or more; use a longer series, a shorter window or another split"
        )
    rng = check_random_state(random_state)
    seeds = rng.integers(0, 2**31 - 1, size=3)
    train = hist.returns.iloc[:n_train]
    aug = _seeded_clone(augmenter, int(seeds[0])).fit(train)
    paths = np.asarray(aug.sample(n_paths, n_train, random_state=int(seeds[1])), dtype=float)
    if paths.shape != (n_train, n_paths) or not np.all(np.isfinite(paths)):
        raise ValueError(
            f"augmenter.sample({n_paths}, {n_train}) must return {n_train} x {n_paths} finite "
            f"returns of one asset, got shape {paths.shape}"
        )

    x_train, y_train, _ = _windows(values[:n_train], window)
    # hold-out samples: labels in the hold-out, features may reach back into training
    x_all, y_all, next_all = _windows(values, window)
    test = slice(n_train - window, None)
    x_test, y_test, next_test = x_all[test], y_all[test], next_all[test]
    synth = [_windows(paths[:, j], window) for j in range(n_paths)]
    x_aug = np.vstack([x_train, *[s[0] for s in synth]])
    y_aug = np.concatenate([y_train, *[s[1] for s in synth]])

    def scores(prob: np.ndarray, position: np.ndarray) -> dict[str, float]:
        pnl = position * next_test
        return {
            "accuracy": float(np.mean((prob > 0.5).astype(int) == y_test)),
            "auc": float(roc_auc_score(y_test, prob)) if len(set(y_test)) == 2 else math.nan,
            "sharpe": float(_sharpe(pnl[:, None], periods_per_year)[0]),
        }

    rows = {}
    for name, (x, y) in {
        "history": (x_train, y_train),
        "history+synthetic": (x_aug, y_aug),
    }.items():
        if len(set(y)) < 2:
            raise ValueError(f"the {name} training labels are all one class; use more data")
        est = _make_model(model, int(seeds[2])).fit(x, y)
        prob = est.predict_proba(x_test)[:, 1]
        rows[name] = {**scores(prob, np.where(prob > 0.5, 1.0, -1.0)), "n_train": len(y)}
    always = scores(np.full(len(y_test), 0.75), np.ones(len(y_test)))
    always["auc"] = 0.5
    rows["always_long"] = {**always, "n_train": 0}
    table = pd.DataFrame(rows).T
    table["n_test"] = len(y_test)
    table[["n_train", "n_test"]] = table[["n_train", "n_test"]].astype(int)
    table.index.name = "trained_on"
    table.attrs.update(model=model, window=window, n_paths=n_paths, n_train_returns=n_train)
    return table
