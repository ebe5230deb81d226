"""Engine-agnostic stress tests: run one strategy over many market paths.

An adapter (``quantgan.adapters.backtrader``) or the numpy engine
(:mod:`quantgan.backtest`) turns each path into an equity curve; this module does
the rest, the same way for every engine:

- :func:`to_ohlcv_paths` turns what users have (a returns frame from ``sample``, a
  list or dict of OHLCV frames, ``regimes.overlay`` output) into validated OHLCV
  frames, rebuilding Open/High/Low/Volume for returns-only paths with
  :func:`ohlcv_from_returns`;
- :func:`parallel_map` runs one function per path with joblib (loky by default) or
  on a Dask cluster, with a progress bar;
- :func:`compute_metrics` gives per-path performance figures from equity curves;
- :class:`StressResult` holds the per-path metrics and equity curves and offers
  ``summary()``, ``plot()`` and ``to_html()``.

Example
-------
>>> import quantgan as qg
>>> from quantgan.backtest import backtest, sma_crossover
>>> paths = qg.GaussianAugmenter().fit(qg.log_returns(qg.load_sp500())).sample(20, random_state=0)
>>> result = backtest(sma_crossover(10, 30), paths, random_state=0)
>>> result.metrics.shape[0]
20
"""

from __future__ import annotations

import math
import numbers
import os
import traceback as _traceback
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from quantgan._stack import _external_stacklevel
from quantgan.data import _CANONICAL, _canonical_columns, _key

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Worker processes import this module (through the adapters) for every stress test:
# it imports only numpy and pandas at the top; sklearn (via quantgan.base) and
# matplotlib are imported where they are used, in the parent process.


def _check_random_state(seed):
    """``quantgan.base.check_random_state``, imported when first needed."""
    from quantgan.base import check_random_state as check

    return check(seed)


__all__ = [
    "METRIC_COLUMNS",
    "PathRun",
    "StressResult",
    "StressSummary",
    "check_n_jobs",
    "compute_metrics",
    "ohlcv_from_returns",
    "parallel_map",
    "to_ohlcv_paths",
]

#: The per-path metrics every engine reports, in this order.
METRIC_COLUMNS = (
    "final_value",
    "total_return",
    "sharpe",
    "sortino",
    "cagr",
    "max_drawdown",
    "volatility",
    "n_trades",
    "win_rate",
    "exposure",
)
OHLCV = ("Open", "High", "Low", "Close", "Volume")
PRICE_COLUMNS = ("Open", "High", "Low", "Close")
#: How many reference days, nearest in close-to-close return, a synthetic day draws from.
_NEIGHBOURS = 25


# ----------------------------------------------------------------------------- OHLC
def _reference_days(reference_ohlcv: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per real day: log return, gap Open/prevClose, wick ratios, volume; sorted by return."""
    if not isinstance(reference_ohlcv, pd.DataFrame):
        raise TypeError(
            "reference_ohlcv must be an OHLCV DataFrame (e.g. qg.load_sp500()), got "
            f"{type(reference_ohlcv).__name__}"
        )
    ref = _canonical_columns(reference_ohlcv)
    missing = [c for c in PRICE_COLUMNS if c not in ref.columns]
    if missing:
        raise ValueError(
            f"reference_ohlcv needs columns Open, High, Low, Close; missing {missing} "
            f"(columns: {list(reference_ohlcv.columns)})"
        )
    prices = ref[list(PRICE_COLUMNS)].to_numpy(dtype=float)
    volume = ref["Volume"].to_numpy(dtype=float) if "Volume" in ref.columns else np.zeros(len(ref))
    ok = np.all(np.isfinite(prices) & (prices > 0), axis=1) & np.isfinite(volume)
    o, h, lo, c = prices.T
    # a day is usable when it and the day before are clean (the gap needs the previous close)
    usable = ok[1:] & ok[:-1]
    if usable.sum() < 2:
        raise ValueError(
            "reference_ohlcv needs at least 3 consecutive rows of positive, finite "
            f"Open/High/Low/Close, got {int(usable.sum()) + 1}"
        )
    o, h, lo, c, v, prev_c = o[1:], h[1:], lo[1:], c[1:], volume[1:], c[:-1]
    o, h, lo, c, v, prev_c = (a[usable] for a in (o, h, lo, c, v, prev_c))
    day_return = np.log(c / prev_c)
    order = np.argsort(day_return, kind="stable")
    return {
        "return": day_return[order],
        "gap": (o / prev_c)[order],
        # wicks relative to the real body, clipped so bad ticks cannot invert a bar
        "up_wick": np.maximum(h / np.maximum(o, c), 1.0)[order],
        "down_wick": np.minimum(lo / np.minimum(o, c), 1.0)[order],
        "volume": v[order],
    }


def _draw_days(day_returns: np.ndarray, ref: dict, rng: np.random.Generator) -> np.ndarray:
    """For each return, a reference day among the ``_NEIGHBOURS`` nearest in return."""
    n_ref = len(ref["return"])
    k = min(_NEIGHBOURS, n_ref)
    pos = np.searchsorted(ref["return"], day_returns)
    lo = np.clip(pos - k // 2, 0, n_ref - k)
    return lo + rng.integers(0, k, size=np.shape(day_returns))


def _ohlcv_from_close(
    close: np.ndarray,
    prev_close: np.ndarray,
    ref: dict,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Open/High/Low/Volume around given closes (any shape, time first)."""
    day = _draw_days(np.log(close / prev_close), ref, rng)
    open_ = prev_close * ref["gap"][day]
    high = np.maximum(open_, close) * ref["up_wick"][day]
    low = np.minimum(open_, close) * ref["down_wick"][day]
    return {"Open": open_, "High": high, "Low": low, "Close": close, "Volume": ref["volume"][day]}


def _default_start_price(index: pd.Index, reference_ohlcv: pd.DataFrame) -> float:
    close = _canonical_columns(reference_ohlcv)["Close"]
    if isinstance(index, pd.DatetimeIndex) and isinstance(close.index, pd.DatetimeIndex):
        before = close[close.index < index[0]]
        if len(before):
            return float(before.iloc[-1])
    return float(close.iloc[0])


def _rebuild_panel(
    values: np.ndarray,
    index: pd.Index,
    reference_ohlcv: pd.DataFrame,
    start_price: float | None,
    random_state: int | np.random.Generator | None,
) -> dict[str, np.ndarray]:
    """The arrays behind :func:`ohlcv_from_returns`: ``(n_timesteps, n_paths)`` per field.

    The numpy engine calls this directly (no per-path frames); for the same inputs
    and seed it gives exactly the bars :func:`ohlcv_from_returns` gives.
    """
    ref = _reference_days(reference_ohlcv)
    if start_price is None:
        start_price = _default_start_price(index, reference_ohlcv)
    if not (isinstance(start_price, numbers.Real) and math.isfinite(start_price)) or (
        start_price <= 0
    ):
        raise ValueError(f"start_price must be a positive finite number, got {start_price!r}")
    rng = _check_random_state(random_state)
    with np.errstate(over="ignore"):
        close = float(start_price) * np.exp(np.cumsum(values, axis=0))
    if not np.all(np.isfinite(close) & (close > 0)):
        raise ValueError(
            "returns compound to non-finite or zero prices; they look like simple returns "
            "in percent or like prices, not daily log returns"
        )
    prev_close = np.vstack([np.full((1, close.shape[1]), float(start_price)), close[:-1]])
    return _ohlcv_from_close(close, prev_close, ref, rng)


def ohlcv_from_returns(
    returns: pd.Series | pd.DataFrame,
    reference_ohlcv: pd.DataFrame,
    *,
    start_price: float | None = None,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame | dict[Any, pd.DataFrame]:
    """OHLCV bars whose closes follow ``returns``, shaped like real days of ``reference_ohlcv``.

    Close follows the log returns from ``start_price``:
    ``Close_t = start_price * exp(r_1 + ... + r_t)``. Each synthetic day ``t``
    borrows the intraday shape of one real day ``j`` of the reference, drawn at
    random among the 25 real days whose close-to-close log return is nearest to
    ``r_t`` (so a -6 % synthetic day gets the gap, range and volume of a real
    -6 % day, not of a quiet one):

    - ``Open_t = Close_{t-1} * Open_j / Close_{j-1}`` (the real overnight gap);
    - ``High_t = max(Open_t, Close_t) * High_j / max(Open_j, Close_j)``;
    - ``Low_t = min(Open_t, Close_t) * Low_j / min(Open_j, Close_j)``;
    - ``Volume_t = Volume_j`` (0 when the reference has no Volume).

    The wick ratios are those of the real day measured from its body (clipped to
    >= 1 above and <= 1 below), hence ``High >= max(Open, Close)`` and
    ``Low <= min(Open, Close)`` hold on every bar, and all prices stay positive.

    Parameters
    ----------
    returns : Series or DataFrame
        Daily log returns (as from ``qg.log_returns`` or ``augmenter.sample``); a
        DataFrame holds one path per column. The index is kept.
    reference_ohlcv : DataFrame
        Real bars with Open, High, Low, Close (any case) and optionally Volume.
    start_price : float, optional
        The close before the first return. Default: the reference close on the last
        reference date before the first return date, or the first reference close
        when the returns do not start after the reference's first date.
    random_state : int, Generator or None
        Seeds the choice of real days; same seed, same bars.

    Returns
    -------
    DataFrame or dict
        Columns ``Open, High, Low, Close, Volume`` for a Series; for a DataFrame a
        dict ``{column: OHLCV frame}`` in column order.

    Examples
    --------
    >>> import quantgan as qg
    >>> prices = qg.load_sp500()
    >>> bars = ohlcv_from_returns(qg.log_returns(prices).iloc[:50], prices, random_state=0)
    >>> bool((bars["High"] >= bars[["Open", "Close"]].max(axis=1)).all())
    True
    """
    if isinstance(returns, pd.Series):
        frame, single = returns.to_frame(), True
    elif isinstance(returns, pd.DataFrame):
        frame, single = returns, False
    else:
        raise TypeError(
            f"returns must be a pandas Series or DataFrame of log returns, got "
            f"{type(returns).__name__}"
        )
    if isinstance(frame.columns, pd.MultiIndex):
        raise ValueError(
            "returns has MultiIndex columns (several assets per path); rebuild one asset "
            "at a time, e.g. ohlcv_from_returns(paths.xs('SPY', axis=1, level=1), ...)"
        )
    if len(frame) == 0:
        raise ValueError("returns is empty")
    try:
        values = frame.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"returns must be numeric log returns ({exc})") from exc
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"returns holds {int((~np.isfinite(values)).sum())} NaN or infinite values; "
            "drop or fill them first"
        )
    bars = _rebuild_panel(values, frame.index, reference_ohlcv, start_price, random_state)
    out = {
        name: pd.DataFrame({k: bars[k][:, j] for k in OHLCV}, index=frame.index.copy())
        for j, name in enumerate(frame.columns)
    }
    return next(iter(out.values())) if single else out


# ----------------------------------------------------------------------------- paths
def _load_reference(reference: pd.DataFrame | None) -> pd.DataFrame:
    if reference is not None:
        return reference
    from quantgan.data import load_sp500

    return load_sp500()


def _looks_like_ohlcv(columns: Iterable) -> bool:
    return any(_CANONICAL.get(_key(c)) == "Close" for c in columns)


def _validate_ohlcv(
    frame: pd.DataFrame,
    name: object,
    reference: Callable[[], pd.DataFrame],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Canonical OHLCV copy of one path's frame, or a ValueError naming the path."""
    where = f"path {name!r}"
    if isinstance(frame.columns, pd.MultiIndex) or not all(
        isinstance(c, str) for c in frame.columns
    ):
        # backtrader's PandasData(nocase=True) calls .lower() on every column name
        raise ValueError(
            f"{where}: column names must be strings like 'Close', got {list(frame.columns)[:6]}; "
            "flatten a yfinance MultiIndex with frame.droplevel(1, axis=1) or rename the columns"
        )
    frame = _canonical_columns(frame)
    if "Close" not in frame.columns:
        raise ValueError(
            f"{where} has no Close column (columns: {list(frame.columns)}); an OHLCV frame "
            "needs at least Close, any case"
        )
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise ValueError(
            f"{where}: the index must be a DatetimeIndex (backtrader needs dates), got "
            f"{type(frame.index).__name__}; e.g. frame.index = pd.bdate_range('2020-01-01', "
            "periods=len(frame))"
        )
    if len(frame) < 2:
        raise ValueError(f"{where} has {len(frame)} rows; a backtest needs at least 2 bars")
    if frame.index.has_duplicates or not frame.index.is_monotonic_increasing:
        raise ValueError(f"{where}: dates must be unique and increasing; sort and deduplicate")
    present = [c for c in PRICE_COLUMNS if c in frame.columns]
    try:
        prices = frame[present].to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: prices must be numeric ({exc})") from exc
    bad = ~(np.isfinite(prices) & (prices > 0))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"{where} has {int(bad.sum())} NaN or non-positive prices (first: "
            f"{present[col]} on {frame.index[row]}: {prices[row, col]!r}); prices must be "
            "positive and finite, drop or fill the bad rows"
        )
    out = pd.DataFrame(index=frame.index.copy())
    if len(present) < len(PRICE_COLUMNS):
        # Close only (or partial): rebuild the missing prices around the given closes
        close = frame["Close"].to_numpy(dtype=float)
        prev = np.concatenate([[close[0]], close[:-1]])
        bars = _ohlcv_from_close(close, prev, _reference_days(reference()), rng)
        for col in PRICE_COLUMNS:
            out[col] = frame[col].to_numpy(dtype=float) if col in present else bars[col]
        if any(c in present for c in ("Open", "High", "Low")):
            out["High"] = np.maximum(out["High"], out[["Open", "Close"]].max(axis=1))
            out["Low"] = np.minimum(out["Low"], out[["Open", "Close"]].min(axis=1))
        volume = frame["Volume"] if "Volume" in frame.columns else bars["Volume"]
    else:
        for col in PRICE_COLUMNS:
            out[col] = frame[col]
        volume = frame["Volume"] if "Volume" in frame.columns else 0.0
    out["Volume"] = volume
    if not np.all(np.isfinite(out["Volume"].to_numpy(dtype=float))):
        raise ValueError(f"{where} has NaN or infinite Volume; fill it, e.g. with 0")
    return out


def _warn_if_prices(frame: pd.DataFrame) -> None:
    values = frame.to_numpy(dtype=float)
    if values.size and np.all(values > 0) and np.nanmedian(np.abs(values)) > 0.5:
        from quantgan.base import DataWarning

        warnings.warn(
            "paths look like prices (all positive, median above 0.5) but a frame without a "
            "Close column is read as daily log returns; pass OHLCV frames, or "
            "qg.log_returns(prices)",
            DataWarning,
            stacklevel=_external_stacklevel(),
        )


def to_ohlcv_paths(
    paths: Any,
    *,
    reference: pd.DataFrame | None = None,
    random_state: int | np.random.Generator | None = None,
) -> dict[Any, dict[str, pd.DataFrame]]:
    """Validated OHLCV frames, one entry per path, from whatever holds the paths.

    Parameters
    ----------
    paths : DataFrame, Series, list, dict or overlay result
        - a returns DataFrame from ``augmenter.sample`` (rows = time, one column per
          path; log returns) or a returns Series: OHLCV rebuilt with
          :func:`ohlcv_from_returns` against ``reference``;
        - one OHLCV DataFrame (a column named Close, any case): one path;
        - a DataFrame with MultiIndex columns ``(path, field)``;
        - a list / tuple of OHLCV frames (paths 0, 1, ...), a dict ``{name: frame}``,
          or anything with ``.to_dict()`` returning such a dict (``regimes.overlay``);
        - a path may itself be a dict ``{data_name: OHLCV frame}`` for strategies that
          read several feeds.
        Frames with Close but no Open/High/Low get those rebuilt around their closes.
    reference : DataFrame, optional
        Real OHLCV bars for rebuilding; default the bundled S&P 500.
    random_state : int, Generator or None
        Seeds the rebuilding; same seed, same bars.

    Returns
    -------
    dict
        ``{path_name: {data_name: frame}}`` with columns Open, High, Low, Close, Volume.
        The data name is ``"data"`` for single-feed paths. The caller's frames are not
        modified.
    """
    rng = _check_random_state(random_state)
    cache: dict[str, pd.DataFrame] = {}

    def ref() -> pd.DataFrame:
        if "ref" not in cache:
            cache["ref"] = _load_reference(reference)
        return cache["ref"]

    if isinstance(paths, pd.Series):
        paths = paths.to_frame(name=paths.name if paths.name is not None else 0)
    if isinstance(paths, pd.DataFrame):
        cols = paths.columns
        if isinstance(cols, pd.MultiIndex):
            if not _looks_like_ohlcv(cols.get_level_values(-1)):
                raise ValueError(
                    "paths has MultiIndex columns without OHLCV fields in the last level "
                    "(several assets per path?); pass a list of {asset: OHLCV frame} dicts"
                )
            items = {name: paths[name] for name in cols.get_level_values(0).unique()}
        elif _looks_like_ohlcv(cols):
            items = {0: paths}
        else:
            if len(cols) == 0:
                raise ValueError("paths has no columns")
            _warn_if_prices(paths)
            items = ohlcv_from_returns(paths, ref(), random_state=rng)
    elif isinstance(paths, Mapping):
        items = dict(paths)
    elif hasattr(paths, "to_dict") and callable(paths.to_dict):
        items = dict(paths.to_dict())
    elif isinstance(paths, Iterable) and not isinstance(paths, str | bytes):
        items = dict(enumerate(paths))
    else:
        raise TypeError(
            "paths must be a returns DataFrame from augmenter.sample, an OHLCV DataFrame, a "
            f"list or dict of OHLCV frames, or overlay output; got {type(paths).__name__}"
        )
    if not items:
        raise ValueError("paths is empty: there is nothing to test")
    out: dict[Any, dict[str, pd.DataFrame]] = {}
    for name, item in items.items():
        feeds = item if isinstance(item, Mapping) else {"data": item}
        checked = {}
        for data_name, frame in feeds.items():
            if isinstance(frame, pd.Series):
                frame = ohlcv_from_returns(frame, ref(), random_state=rng)
            elif not isinstance(frame, pd.DataFrame):
                raise TypeError(
                    f"path {name!r}: expected an OHLCV DataFrame, got {type(frame).__name__}"
                )
            checked[str(data_name)] = _validate_ohlcv(frame, name, ref, rng)
        out[name] = checked
    return out


# ----------------------------------------------------------------------------- parallel
def check_n_jobs(n_jobs: int | None) -> int:
    """Worker count from a joblib-style ``n_jobs``; warns and caps above the CPU count."""
    cores = os.cpu_count() or 1
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(
            f"n_jobs must be a non-zero int (1 = sequential, -1 = all {cores} cores), "
            f"got {n_jobs!r}"
        )
    if n_jobs < 0:
        return max(1, cores + 1 + int(n_jobs))
    if n_jobs > cores:
        warnings.warn(
            f"n_jobs={n_jobs} exceeds the {cores} CPU cores of this machine; backtests are "
            f"CPU-bound, so extra processes only add overhead; using n_jobs={cores}",
            UserWarning,
            stacklevel=_external_stacklevel(),
        )
        return cores
    return int(n_jobs)


def _dask_client(backend: Any):
    try:
        from distributed import Client, get_client
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "backend='dask' needs dask.distributed: pip install 'quantgan[dask]'"
        ) from exc
    if isinstance(backend, Client):
        return backend
    try:
        return get_client()
    except ValueError as exc:
        raise RuntimeError(
            "backend='dask' runs on the current dask.distributed Client, and there is none; "
            "connect first: `from dask.distributed import Client; client = "
            "Client('tcp://scheduler:8786')` (or Client() for a local cluster), or pass "
            "backend=client"
        ) from exc


def _is_dask(backend: Any) -> bool:
    return backend == "dask" or type(backend).__name__ == "Client"


def parallel_map(
    func: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    n_jobs: int | None = 1,
    backend: Any = "loky",
    progress: bool | None = None,
    desc: str = "paths",
) -> list[Any]:
    """``[func(item) for item in items]``, in parallel, in order, with a progress bar.

    Parameters
    ----------
    func : callable
        A module-level function (it is pickled to the workers).
    items : sequence
    n_jobs : int
        Worker processes for joblib backends (-1: all cores). Ignored by Dask, whose
        cluster decides.
    backend : str or dask.distributed.Client
        ``"loky"`` (default), ``"multiprocessing"`` (fork on Linux), ``"threading"``,
        ``"sequential"``, ``"dask"`` (the current ``dask.distributed`` client), or a
        ``Client``. A user with a cluster connects a Client to its scheduler and
        passes ``backend="dask"``.
    progress : bool or None
        Show a tqdm bar; None shows it only on a terminal.
    """
    from tqdm.auto import tqdm

    items = list(items)
    disable = None if progress is None else not progress
    bar = tqdm(total=len(items), desc=desc, unit="path", disable=disable)
    try:
        if _is_dask(backend):
            from distributed import as_completed

            client = _dask_client(backend)
            # scatter first: shipping frames inside the task graph is slow and warned about
            data = client.scatter(items, hash=False)
            futures = client.map(func, data, pure=False)
            for _ in as_completed(futures):
                bar.update(1)
            return client.gather(futures)
        if not isinstance(backend, str) or backend not in (
            "loky",
            "multiprocessing",
            "threading",
            "sequential",
        ):
            raise ValueError(
                "backend must be 'loky', 'multiprocessing', 'threading', 'sequential', "
                f"'dask' or a dask.distributed Client, got {backend!r}"
            )
        workers = check_n_jobs(n_jobs)
        if workers == 1 or backend == "sequential" or len(items) <= 1:
            out = []
            for item in items:
                out.append(func(item))
                bar.update(1)
            return out
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=workers, backend=backend, return_as="generator")
        out = []
        for res in parallel(delayed(func)(item) for item in items):
            out.append(res)
            bar.update(1)
        return out
    finally:
        bar.close()


# ----------------------------------------------------------------------------- metrics
def compute_metrics(
    equity: np.ndarray,
    initial_value: float,
    *,
    returns: np.ndarray | None = None,
    n_trades: np.ndarray | float | None = None,
    n_won: np.ndarray | float | None = None,
    exposure: np.ndarray | float | None = None,
    periods_per_year: float = 252.0,
) -> pd.DataFrame:
    """Per-path performance from equity curves marked at each bar's close.

    Parameters
    ----------
    equity : ndarray, shape (n_timesteps,) or (n_timesteps, n_paths)
        Portfolio value after each bar.
    initial_value : float
        Value before the first bar (the cash).
    returns : ndarray, optional
        Per-bar returns, same shape; default ``equity_t / equity_{t-1} - 1`` with
        ``equity_{-1} = initial_value`` (what backtrader's daily TimeReturn gives).
    n_trades, n_won, exposure : array-like, optional
        Closed trades, trades with net P&L >= 0, share of bars holding a position.
    periods_per_year : float
        Bars per year for annualising (252 for daily bars).

    Returns
    -------
    DataFrame
        Columns :data:`METRIC_COLUMNS`, one row per path. ``sharpe`` and ``sortino``
        are annualised with a zero risk-free rate, ``sharpe = mean / std (ddof=1) *
        sqrt(periods_per_year)``, ``sortino`` divides by the root mean square of the
        negative returns; both are 0 for a flat equity curve and ``sortino`` is NaN
        when no return is negative. ``max_drawdown`` is a positive fraction of the
        running peak (the initial value counts as a peak); ``cagr`` compounds over
        ``n_timesteps / periods_per_year`` years; ``win_rate`` is NaN without trades.
    """
    return pd.DataFrame(
        _metric_arrays(
            equity,
            initial_value,
            returns=returns,
            n_trades=n_trades,
            n_won=n_won,
            exposure=exposure,
            periods_per_year=periods_per_year,
        )
    )


def _metric_arrays(
    equity: np.ndarray,
    initial_value: float,
    *,
    returns: np.ndarray | None = None,
    n_trades: np.ndarray | float | None = None,
    n_won: np.ndarray | float | None = None,
    exposure: np.ndarray | float | None = None,
    periods_per_year: float = 252.0,
) -> dict[str, np.ndarray]:
    """:func:`compute_metrics` as a dict of arrays (no DataFrame: cheap per block)."""
    equity = np.asarray(equity, dtype=float)
    one_d = equity.ndim == 1
    eq = equity[:, None] if one_d else equity
    if eq.ndim != 2 or eq.shape[0] == 0:
        raise ValueError(f"equity must be 1-D or 2-D with at least one bar, got {equity.shape}")
    n = eq.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        if returns is None:
            rets = np.empty_like(eq)
            np.divide(eq[1:], eq[:-1], out=rets[1:])
            rets[0] = eq[0] / initial_value
            rets -= 1.0  # (value / previous value) - 1, as backtrader's TimeReturn
        else:
            rets = np.asarray(returns, dtype=float)
            rets = rets[:, None] if rets.ndim == 1 else rets
        ann = math.sqrt(periods_per_year)
        mean = rets.mean(axis=0)
        std = rets.std(axis=0, ddof=1) if n > 1 else np.full(eq.shape[1], np.nan)
        losses = np.minimum(rets, 0.0)
        downside = np.sqrt(np.mean(np.square(losses, out=losses), axis=0))
        flat = (mean == 0) & ~(std > 0)  # every return is zero
        sharpe = np.where(flat, 0.0, mean / std * ann)
        sortino = np.where(flat, 0.0, np.where(downside > 0, mean / downside * ann, np.nan))
        final = eq[-1]
        growth = final / initial_value
        cagr = np.where(
            growth > 0, np.power(np.maximum(growth, 1e-300), periods_per_year / n) - 1, -1.0
        )
        peak = np.maximum.accumulate(eq, axis=0)
        np.maximum(peak, initial_value, out=peak)  # the initial value is the first peak
        drawdown = 1.0 - np.min(np.divide(eq, peak, out=peak), axis=0)

    def column(value) -> np.ndarray:
        if value is None:
            return np.full(eq.shape[1], np.nan)
        return np.broadcast_to(np.asarray(value, dtype=float), (eq.shape[1],)).copy()

    trades, won = column(n_trades), column(n_won)
    with np.errstate(divide="ignore", invalid="ignore"):
        win_rate = np.where(trades > 0, won / trades, np.nan)
    return {
        "final_value": final,
        "total_return": growth - 1.0,
        "sharpe": sharpe,
        "sortino": sortino,
        "cagr": cagr,
        "max_drawdown": np.maximum(drawdown, 0.0),
        "volatility": std * ann,
        "n_trades": trades,
        "win_rate": win_rate,
        "exposure": column(exposure),
    }


# ----------------------------------------------------------------------------- results
@dataclass
class PathRun:
    """What an engine returns for one path; the input of :meth:`StressResult.from_runs`.

    ``equity`` is the value after each bar (a Series indexed by date). ``error`` and
    ``traceback`` are set when the run raised; then the other fields are empty.
    """

    equity: pd.Series | None = None
    returns: np.ndarray | None = None
    n_trades: int = 0
    n_won: int = 0
    exposure: float = float("nan")
    extra: dict[str, float] = field(default_factory=dict)
    orders: pd.DataFrame | None = None
    analyzers: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None

    @classmethod
    def failed(cls, exc: BaseException, tb: str | None = None) -> PathRun:
        tb = tb if tb is not None else "".join(_traceback.format_exception(exc))
        return cls(error=f"{type(exc).__name__}: {exc}", traceback=tb)


def _percentile_of(values: np.ndarray, x: float) -> float:
    """Share of ``values`` below ``x`` in percent, ties counted half (mid-rank)."""
    values = values[np.isfinite(values)]
    if not len(values) or not np.isfinite(x):
        return float("nan")
    return float(100.0 * (np.sum(values < x) + 0.5 * np.sum(values == x)) / len(values))


@dataclass
class StressSummary:
    """The distribution of per-path metrics, and where the historical run falls in it.

    Attributes
    ----------
    table : DataFrame
        One row per metric of :data:`METRIC_COLUMNS`; columns mean, std, the
        quantiles, ``historical`` (the historical run's value) and ``historical_pct``
        (its percentile among the paths: share of paths below it, ties counted half).
    n_paths, n_failed : int
    prob_loss : float
        Share of paths that lose money (total_return < 0).
    sharpe_es : float
        Expected shortfall of the Sharpe ratio at ``alpha``: the mean of the worst
        ``ceil(alpha * n)`` path Sharpes.
    alpha : float
    """

    table: pd.DataFrame
    n_paths: int
    n_failed: int
    prob_loss: float
    sharpe_es: float
    alpha: float

    def __str__(self) -> str:
        head = (
            f"Stress test over {self.n_paths} paths ({self.n_failed} failed)\n"
            f"P(loss) = {self.prob_loss:.1%}   ES{self.alpha:.0%}(Sharpe) = {self.sharpe_es:.3f}\n"
        )
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            return head + self.table.to_string(float_format=lambda v: f"{v:.4g}")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return (
            f"<p>Stress test over {self.n_paths} paths ({self.n_failed} failed); "
            f"P(loss) = {self.prob_loss:.1%}; ES{self.alpha:.0%}(Sharpe) = "
            f"{self.sharpe_es:.3f}</p>" + self.table.to_html(float_format="{:.4g}".format)
        )


@dataclass
class StressResult:
    """Per-path results of one strategy run over many paths.

    Attributes
    ----------
    metrics : DataFrame
        One row per path (index = path names): :data:`METRIC_COLUMNS`, engine extras
        (``n_bars`` and ``n_rejected`` for backtrader, ``min_cash`` for the numpy
        engine), and ``error`` (missing when the path ran, else ``"Type: message"``;
        the metrics of a failed path are NaN).
    equity : DataFrame
        Value after each bar; rows = dates (the union over paths), columns = paths.
    historical : Series or None
        The metrics of the run on the real history, when one was given.
    historical_equity : Series or None
    errors : dict
        ``{path: traceback text}`` for paths whose run raised.
    analyzers : dict
        ``{path: {analyzer name: analysis}}``, user analyzers' results per path.
    orders : DataFrame or None
        Executed orders, columns ``path, bar, date, size, price, commission``.
    initial_value : float
    engine : str
    """

    metrics: pd.DataFrame
    equity: pd.DataFrame
    historical: pd.Series | None = None
    historical_equity: pd.Series | None = None
    errors: dict[Any, str] = field(default_factory=dict)
    analyzers: dict[Any, dict[str, Any]] = field(default_factory=dict)
    orders: pd.DataFrame | None = None
    initial_value: float = 100_000.0
    engine: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    # -- construction ------------------------------------------------------------------
    @staticmethod
    def _metrics_row(run: PathRun, initial_value: float, periods_per_year: float) -> dict:
        if run.error is not None or run.equity is None:
            row = dict.fromkeys(METRIC_COLUMNS, np.nan)
            row.update(dict.fromkeys(run.extra, np.nan))
            row.update(run.extra)
            row["error"] = run.error
            return row
        arrays = _metric_arrays(
            run.equity.to_numpy(dtype=float),
            initial_value,
            returns=run.returns,
            n_trades=run.n_trades,
            n_won=run.n_won,
            exposure=run.exposure,
            periods_per_year=periods_per_year,
        )
        row = {k: float(v[0]) for k, v in arrays.items()}
        row.update(run.extra)
        row["error"] = None
        return row

    @classmethod
    def from_runs(
        cls,
        runs: Mapping[Any, PathRun],
        initial_value: float,
        *,
        historical: PathRun | None = None,
        engine: str = "",
        periods_per_year: float = 252.0,
        settings: Mapping[str, Any] | None = None,
    ) -> StressResult:
        """Assemble a result from one :class:`PathRun` per path (and the historical run)."""
        names = list(runs)
        rows = [cls._metrics_row(runs[k], initial_value, periods_per_year) for k in names]
        metrics = pd.DataFrame(rows, index=pd.Index(names, name="path"))
        curves = {k: r.equity for k, r in runs.items() if r.equity is not None}
        equity = pd.concat(curves, axis=1) if curves else pd.DataFrame()
        if len(equity.columns):
            equity.columns.name = "path"
        orders = [
            r.orders.assign(path=[k] * len(r.orders))
            for k, r in runs.items()
            if r.orders is not None and len(r.orders)
        ]
        hist_metrics = hist_equity = None
        if historical is not None:
            if historical.error is not None:
                raise RuntimeError(
                    f"the run on the historical data failed: {historical.error}\n"
                    f"{historical.traceback}"
                )
            hist_metrics = (
                pd.Series(
                    cls._metrics_row(historical, initial_value, periods_per_year), name="historical"
                )
                .drop("error")
                .astype(float)
            )
            hist_equity = historical.equity
        return cls(
            metrics=metrics,
            equity=equity,
            historical=hist_metrics,
            historical_equity=hist_equity,
            errors={k: r.traceback or r.error for k, r in runs.items() if r.error is not None},
            analyzers={k: r.analyzers for k, r in runs.items() if r.analyzers},
            orders=pd.concat(orders, ignore_index=True)[
                ["path", "bar", "date", "size", "price", "commission"]
            ]
            if orders
            else None,
            initial_value=float(initial_value),
            engine=engine,
            settings=dict(settings or {}),
        )

    # -- reporting ---------------------------------------------------------------------
    @property
    def n_failed(self) -> int:
        return int(self.metrics["error"].notna().sum()) if "error" in self.metrics else 0

    def summary(
        self,
        quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
        alpha: float = 0.05,
    ) -> StressSummary:
        """Quantiles of each metric, P(loss), ES of the Sharpe, the historical percentile.

        Examples
        --------
        >>> s = result.summary()  # doctest: +SKIP
        >>> s.table.loc["sharpe", "historical_pct"]  # doctest: +SKIP
        """
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
        ok = self.metrics[self.metrics["error"].isna()] if "error" in self.metrics else self.metrics
        numeric = [c for c in METRIC_COLUMNS if c in ok.columns]
        data = ok[numeric].astype(float)
        table = pd.DataFrame({"mean": data.mean(), "std": data.std()})
        for q in quantiles:
            table[f"q{q * 100:g}"] = data.quantile(q)
        if self.historical is not None:
            hist = self.historical.reindex(numeric).astype(float)
            table["historical"] = hist
            table["historical_pct"] = [_percentile_of(data[c].to_numpy(), hist[c]) for c in numeric]
        sharpe = np.sort(data["sharpe"].dropna().to_numpy())
        k = max(1, math.ceil(alpha * len(sharpe)))
        return StressSummary(
            table=table,
            n_paths=len(self.metrics),
            n_failed=self.n_failed,
            prob_loss=float((data["total_return"] < 0).mean()) if len(data) else float("nan"),
            sharpe_es=float(sharpe[:k].mean()) if len(sharpe) else float("nan"),
            alpha=alpha,
        )

    def plot(self, *, max_paths: int = 50) -> Figure:
        """Fan chart of the equity curves; histograms of Sharpe and max drawdown.

        The fan shows the 5-95 % and 25-75 % bands and the median over paths, with
        ``max_paths`` individual curves faintly; the historical run, when there is one,
        is drawn in black and marked on the histograms.
        """
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11, 7.5))
        grid = fig.add_gridspec(2, 2, height_ratios=(1.3, 1))
        ax = fig.add_subplot(grid[0, :])
        eq = self.equity
        hist = self.historical_equity
        # by date when every path (and the history) runs on the same dates, e.g. overlay
        # output; else by bar number, e.g. sampled paths next to a later real window
        aligned = len(eq.columns) > 0 and not eq.isna().any().any()
        by_date = aligned and (hist is None or hist.index.equals(eq.index))
        if len(eq.columns):
            if by_date:
                x, panel = eq.index, eq.to_numpy()
            else:
                panel = pd.DataFrame(
                    {c: pd.Series(eq[c].dropna().to_numpy()) for c in eq.columns}
                ).to_numpy()
                x = np.arange(panel.shape[0])
            for j in range(min(max_paths, panel.shape[1])):
                ax.plot(x, panel[:, j], color="tab:blue", lw=0.4, alpha=0.25)
            q = np.nanquantile(panel, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
            ax.fill_between(x, q[0], q[4], color="tab:blue", alpha=0.15, label="5-95 %")
            ax.fill_between(x, q[1], q[3], color="tab:blue", alpha=0.3, label="25-75 %")
            ax.plot(x, q[2], color="tab:blue", lw=1.5, label="median")
            # a few runaway paths must not squash the fan: scale to 0.5-99.5 % of values
            span = [*np.nanquantile(panel, [0.005, 0.995])]
            if hist is not None:
                span += [hist.min(), hist.max()]
            low, high = min(span), max(span)
            pad = 0.05 * (high - low) if high > low else 1.0
            ax.set_ylim(low - pad, high + pad)
        if hist is not None:
            hx = hist.index if by_date else np.arange(len(hist))
            ax.plot(hx, hist.to_numpy(), color="black", lw=1.3, label="historical")
        if not by_date:
            ax.set_xlabel("bar")
        ax.axhline(self.initial_value, color="grey", lw=0.8, ls=":")
        ax.set_title(f"Equity over {len(eq.columns)} paths", fontsize=10)
        ax.set_ylabel("portfolio value")
        ax.legend(fontsize=8, loc="upper left")
        for col, (name, label) in enumerate(
            (("sharpe", "Sharpe ratio (annualised)"), ("max_drawdown", "max drawdown"))
        ):
            ax = fig.add_subplot(grid[1, col])
            values = self.metrics[name].astype(float).dropna().to_numpy()
            if len(values):
                ax.hist(
                    values, bins=min(50, max(10, len(values) // 5)), color="tab:blue", alpha=0.7
                )
            if self.historical is not None and np.isfinite(self.historical[name]):
                pct = _percentile_of(values, float(self.historical[name]))
                ax.axvline(
                    self.historical[name],
                    color="black",
                    lw=1.5,
                    label=f"historical ({pct:.0f}th percentile)",
                )
                ax.legend(fontsize=8)
            ax.set_title(label, fontsize=10)
            ax.set_ylabel("paths")
        fig.tight_layout()
        return fig

    def to_html(self, path: str | os.PathLike | None = None, *, title: str | None = None) -> str:
        """A self-contained HTML page (summary, figures, failures); written to ``path`` if given."""
        from quantgan.report import HTMLPage

        page = HTMLPage(title or f"Stress test ({self.engine or 'engine'})")
        summary = self.summary()
        page.add_text(
            f"{summary.n_paths} paths, {summary.n_failed} failed; initial value "
            f"{self.initial_value:,.0f}; P(loss) = {summary.prob_loss:.1%}; "
            f"ES{summary.alpha:.0%} of the Sharpe = {summary.sharpe_es:.3f}."
        )
        if self.settings:
            page.add_text(
                "Settings: " + ", ".join(f"{k}={v}" for k, v in self.settings.items()), note=True
            )
        page.add_heading("Distribution of per-path metrics")
        page.add_table(summary.table)
        if self.historical is not None:
            page.add_text(
                "historical_pct: the share of synthetic paths whose metric is below the "
                "historical run's (ties count half).",
                note=True,
            )
        page.add_heading("Equity curves and distributions")
        page.add_figure(self.plot(), "equity fan chart and histograms")
        if self.errors:
            page.add_heading(f"Failed paths ({len(self.errors)})")
            import html as _html

            for name, tb in list(self.errors.items())[:10]:
                page.add_html(
                    f"<p>path {_html.escape(repr(name))}</p><pre>{_html.escape(tb)}</pre>"
                )
        text = page.render()
        if path is not None:
            page.write(path)
        return text
