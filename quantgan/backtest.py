"""A numpy backtest engine: one signal strategy over thousands of paths at once.

For the workloads of overfitting studies (a grid of parameters x hundreds of
synthetic paths) an event-driven engine is far too slow. Here a strategy is a
function of the close panel::

    positions = signal(close)          # close: ndarray (n_timesteps, n_paths)

``positions[t]`` is decided at the close of bar ``t`` and executed at the open of
bar ``t + 1`` (as a backtrader market order issued in ``next``); an order issued
on the last bar never fills. Costs are proportional: ``commission * |traded
notional|``. There is no cash check (orders are never rejected, cash may go
negative), unlike backtrader, which rejects orders it cannot pay for.

:func:`sma_crossover` is the numpy twin of
:class:`quantgan.adapters.backtrader.SmaCross`; on the same bars the two engines
make the same trades and end with the same values (``benchmarks/stress.py``).

Example
-------
>>> import quantgan as qg
>>> from quantgan.backtest import backtest, sma_crossover
>>> paths = qg.GaussianAugmenter().fit(qg.log_returns(qg.load_sp500())).sample(100, random_state=0)
>>> result = backtest(sma_crossover(10, 30, size=10), paths, commission=0.001, random_state=0)
>>> result.summary().table.loc["sharpe", "q50"]  # doctest: +SKIP
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from quantgan._stack import _external_stacklevel
from quantgan.base import check_random_state
from quantgan.stress import (
    StressResult,
    _load_reference,
    _looks_like_ohlcv,
    _metric_arrays,
    _rebuild_panel,
    _warn_if_prices,
    to_ohlcv_paths,
)

__all__ = ["BacktestResult", "backtest", "sma_crossover"]

Signal = Callable[[np.ndarray], Any]


@dataclass
class BacktestResult(StressResult):
    """A :class:`~quantgan.stress.StressResult` with the held positions.

    ``positions`` holds the units held during each bar (after the open's fill),
    rows = bars, columns = paths.
    """

    positions: pd.DataFrame | None = None


# ----------------------------------------------------------------------------- input
def _panel_fields(frame: pd.DataFrame) -> dict[str, pd.DataFrame] | None:
    """``{field: time x paths}`` from MultiIndex ``(path, field)`` columns with Open and Close."""
    from quantgan.data import _CANONICAL, _key

    fields = {c: _CANONICAL.get(_key(c)) for c in frame.columns.get_level_values(-1).unique()}
    wanted = {v: k for k, v in fields.items() if v in ("Open", "Close")}
    if len(wanted) < 2 or frame.columns.nlevels != 2:
        return None
    return {name: frame.xs(col, axis=1, level=-1) for name, col in wanted.items()}


def _field_panels(paths: Mapping) -> dict[str, pd.DataFrame] | None:
    """``{"Open": frame, "Close": frame}`` when ``paths`` maps OHLCV fields to time x paths frames."""
    from quantgan.data import _CANONICAL, _key

    fields = {_CANONICAL.get(_key(k)): v for k, v in paths.items() if isinstance(k, str)}
    if not {"Open", "Close"} <= set(fields):
        return None
    panels = {k: fields[k] for k in ("Open", "Close")}
    if not all(
        isinstance(v, pd.DataFrame) and not _looks_like_ohlcv(v.columns) for v in panels.values()
    ):
        return None
    return panels


def _check_panel(values: np.ndarray, what: str) -> np.ndarray:
    if not np.all(np.isfinite(values) & (values > 0)):
        bad = np.argwhere(~(np.isfinite(values) & (values > 0)))[0]
        raise ValueError(
            f"{what} has NaN or non-positive prices (first at bar {bad[0]}, path "
            f"position {bad[1]}: {values[tuple(bad)]!r}); prices must be positive and finite"
        )
    return values


def _from_field_frames(
    fields: dict[str, pd.DataFrame],
) -> tuple[pd.Index, list, np.ndarray, np.ndarray]:
    open_frame, close_frame = fields["Open"], fields["Close"]
    if not (
        open_frame.columns.equals(close_frame.columns)
        and open_frame.index.equals(close_frame.index)
    ):
        raise ValueError("the Open and Close panels must have the same dates and the same paths")
    if len(close_frame) < 2 or close_frame.shape[1] == 0:
        raise ValueError(
            f"an OHLCV panel needs at least 2 rows and 1 path, got {close_frame.shape}"
        )
    close = _check_panel(close_frame.to_numpy(dtype=float), "Close")
    open_ = _check_panel(open_frame.to_numpy(dtype=float), "Open")
    return close_frame.index, list(close_frame.columns), open_, close


def _panels(paths: Any, reference, random_state) -> tuple[pd.Index, list, np.ndarray, np.ndarray]:
    """(index, names, open, close) panels of shape (n_timesteps, n_paths)."""
    if isinstance(paths, pd.DataFrame) and isinstance(paths.columns, pd.MultiIndex):
        fields = _panel_fields(paths)
        if fields is not None:  # fast path: an OHLCV panel with (path, field) columns
            return _from_field_frames(fields)
    if isinstance(paths, Mapping):
        fields = _field_panels(paths)
        if fields is not None:  # fast path: {"Open": time x paths, "Close": time x paths, ...}
            return _from_field_frames(fields)
    plain_returns = (
        isinstance(paths, pd.DataFrame)
        and not isinstance(paths.columns, pd.MultiIndex)
        and not _looks_like_ohlcv(paths.columns)
    )
    if plain_returns:
        # fast path: no per-path frames; the same bars as to_ohlcv_paths for the same seed
        try:
            values = paths.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"paths must be numeric log returns ({exc})") from exc
        if len(paths.columns) == 0 or len(paths) < 2:
            raise ValueError(f"paths must have at least 2 rows and 1 column, got {paths.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError("paths holds NaN or infinite returns; drop or fill them first")
        _warn_if_prices(paths)
        bars = _rebuild_panel(
            values, paths.index, _load_reference(reference), None, check_random_state(random_state)
        )
        return paths.index, list(paths.columns), bars["Open"], bars["Close"]
    frames = to_ohlcv_paths(paths, reference=reference, random_state=random_state)
    for name, feeds in frames.items():
        if len(feeds) != 1:
            raise ValueError(
                f"path {name!r} has {len(feeds)} data feeds; the numpy engine runs "
                "single-asset paths"
            )
    flat = {name: next(iter(feeds.values())) for name, feeds in frames.items()}
    lengths = {len(f) for f in flat.values()}
    if len(lengths) != 1:
        raise ValueError(
            f"the numpy engine needs paths of one length, got lengths {sorted(lengths)}; "
            "trim them to a common length or use the backtrader adapter"
        )
    first = next(iter(flat.values())).index
    same = all(f.index.equals(first) for f in flat.values())
    index = first if same else pd.RangeIndex(lengths.pop(), name="bar")
    open_ = np.column_stack([f["Open"].to_numpy(dtype=float) for f in flat.values()])
    close = np.column_stack([f["Close"].to_numpy(dtype=float) for f in flat.values()])
    return index, list(flat), open_, close


def _positions(signal: Signal | Any, close: np.ndarray) -> np.ndarray:
    if callable(signal):
        view = close.view()
        view.flags.writeable = False  # a signal must not change the prices it is given
        raw = signal(view)
    else:
        raw = signal
    if isinstance(raw, pd.DataFrame | pd.Series):
        raw = raw.to_numpy()
    try:
        pos = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"signal must give numeric positions ({exc})") from exc
    if pos.ndim == 1 and close.shape[1] == 1:
        pos = pos[:, None]
    if pos.shape != close.shape:
        raise ValueError(
            f"signal must give positions of the close panel's shape {close.shape} "
            f"(n_timesteps, n_paths), got {pos.shape}"
        )
    finite = np.isfinite(pos)
    if not finite.all():
        if np.isinf(pos).any():
            raise ValueError("signal gave infinite positions")
        pos = np.where(finite, pos, 0.0)  # NaN (e.g. indicator warm-up) means flat
    return pos


# ----------------------------------------------------------------------------- engine
def _hold_fraction(
    target: np.ndarray, open_: np.ndarray, close: np.ndarray, cash: float, commission: float
) -> np.ndarray:
    """Units held per bar when positions are target fractions of equity.

    A new target (a change from the previous bar's) is sized at the deciding close,
    ``units = fraction * equity / close`` (backtrader's ``order_target_percent``
    with fractional units) and filled at the next open; otherwise units are kept.
    The loop runs over time only; every step is vectorised over paths.
    """
    n, m = close.shape
    held = np.zeros((n, m))
    units = np.zeros(m)
    desired = np.zeros(m)
    money = np.full(m, float(cash))
    last = np.zeros(m)
    for t in range(n):
        if t:
            delta = desired - units
            money -= delta * open_[t] + commission * np.abs(delta) * open_[t]
            units = desired
        held[t] = units
        equity = money + units * close[t]
        changed = target[t] != last
        desired = np.where(changed, target[t] * equity / close[t], units)
        last = target[t]
    return held


def _simulate(
    pos: np.ndarray,
    open_: np.ndarray,
    close: np.ndarray,
    *,
    cash: float,
    commission: float,
    sizing: str,
) -> dict[str, Any]:
    """Fills, equity and trade counts from target positions.

    Fills are sparse, so the trade accounting runs on the list of fills (ordered by
    path, then bar), not on the whole panel. A trade runs from a fill that leaves a
    flat position to the fill that returns to flat; a fill that reverses the
    position closes one trade and opens the next (backtrader's convention). A
    trade's net P&L (``pnlcomm``) is the sum of the cash flows of its fills,
    commissions included, the reversing fill split between the two trades; it is won
    when that is >= 0, as backtrader's TradeAnalyzer counts.
    """
    n, m = pos.shape
    if sizing == "units":
        held = np.empty_like(pos)
        held[0] = 0.0
        held[1:] = pos[:-1]
    else:
        held = _hold_fraction(pos, open_, close, cash, commission)
    delta = np.diff(held, axis=0, prepend=0.0)
    bar, path = np.nonzero(delta)
    order = np.argsort(path, kind="stable")  # path-major: each path's fills in time order
    bar, path = bar[order], path[order]
    size = delta[bar, path]
    new = held[bar, path]
    prev = np.where(bar > 0, held[np.maximum(bar - 1, 0), path], 0.0)
    price = open_[bar, path]
    comm = commission * np.abs(size) * price
    flow = -size * price - comm

    flows = np.zeros((n, m))
    flows[bar, path] = flow
    equity = cash + np.cumsum(flows, axis=0)
    min_cash = equity.min(axis=0)  # the cash account, before adding the positions' value
    equity += held * close

    flip = prev * new < 0
    close_part = prev * price - commission * np.abs(prev) * price
    to_current = np.where(flip, close_part, np.where(prev != 0, flow, 0.0))
    open_part = np.where(flip, flow - close_part, np.where(prev == 0, flow, 0.0))
    opens = (new != 0) & ((prev == 0) | flip)
    closes = (prev != 0) & ((new == 0) | flip)
    k = np.arange(len(flow))
    last_open = np.maximum.accumulate(np.where(opens, k, -1)) if len(k) else k
    k_close = np.flatnonzero(closes)
    # the trade a fill closes was opened strictly before it (a reversal opens the next one)
    k_open = last_open[k_close - 1]
    if len(k_close):
        # sum of to_current over fills k_open+1 .. k_close, segment by segment
        bounds = np.column_stack([k_open + 1, k_close + 1]).ravel()
        sums = np.add.reduceat(np.append(to_current, 0.0), bounds)[::2]
        pnl = open_part[k_open] + sums
    else:
        pnl = np.zeros(0)
    return {
        "held": held,
        "equity": equity,
        "n_trades": np.bincount(path[k_close], minlength=m).astype(float),
        "n_won": np.bincount(path[k_close], weights=(pnl >= 0).astype(float), minlength=m),
        "exposure": np.count_nonzero(held, axis=0) / n,
        "min_cash": min_cash,
        "fills": (path, bar, size, price, comm),
    }


#: Paths per block: the arrays of one block stay in the CPU cache (about 2x faster
#: than whole-panel operations for 1000 paths x 2520 bars).
_BLOCK = 64


def _run_blocks(
    pos: np.ndarray,
    open_: np.ndarray,
    close: np.ndarray,
    cash: float,
    commission: float,
    sizing: str,
    periods_per_year: float,
) -> dict[str, Any]:
    """:func:`_simulate` and the metrics, block of paths by block of paths."""
    n, m = close.shape
    equity = np.empty((n, m))
    held = np.empty((n, m))
    parts, fills = [], []
    for j in range(0, m, _BLOCK):
        cols = slice(j, min(j + _BLOCK, m))
        sim = _simulate(
            np.ascontiguousarray(pos[:, cols]),
            np.ascontiguousarray(open_[:, cols]),
            np.ascontiguousarray(close[:, cols]),
            cash=cash,
            commission=commission,
            sizing=sizing,
        )
        equity[:, cols] = sim["equity"]
        held[:, cols] = sim["held"]
        metrics = _metric_arrays(
            sim["equity"],
            cash,
            n_trades=sim["n_trades"],
            n_won=sim["n_won"],
            exposure=sim["exposure"],
            periods_per_year=periods_per_year,
        )
        metrics["min_cash"] = sim["min_cash"]
        parts.append(metrics)
        path, *rest = sim["fills"]
        fills.append((path + j, *rest))
    return {
        "metrics": pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in parts[0]}),
        "equity": equity,
        "held": held,
        "fills": tuple(np.concatenate(parts) for parts in zip(*fills, strict=True)),
    }


def backtest(
    signal: Signal | np.ndarray | pd.DataFrame,
    paths: Any,
    *,
    cash: float = 100_000.0,
    commission: float = 0.0,
    sizing: str = "units",
    historical: pd.DataFrame | None = None,
    periods_per_year: float = 252.0,
    random_state: int | np.random.Generator | None = None,
) -> BacktestResult:
    """Backtest a signal strategy over all paths at once.

    Parameters
    ----------
    signal : callable or array
        ``signal(close) -> positions`` with ``close`` an ndarray ``(n_timesteps,
        n_paths)`` of closes; or the positions themselves (array or DataFrame of
        that shape). ``positions[t]`` is decided at the close of bar ``t`` and filled
        at the open of bar ``t + 1``; NaN means flat.
    paths : DataFrame, list, dict or overlay result
        As for :func:`quantgan.stress.to_ohlcv_paths`: a returns frame from
        ``augmenter.sample`` (OHLC rebuilt against ``historical``, default the bundled
        S&P 500), OHLCV frames, or ``regimes.overlay`` output, all of one length. For
        thousands of paths, OHLCV panels skip the per-path frames: a DataFrame with
        ``(path, field)`` MultiIndex columns, or ``{"Open": frame, "Close": frame, ...}``
        with one column per path. Only Open and Close are used.
    cash : float
        Starting cash per path.
    commission : float
        Proportional cost per unit of traded notional (0.001 = 0.1 %), charged at
        every fill, like ``broker.setcommission(commission=...)`` in backtrader.
    sizing : {"units", "fraction"}
        ``"units"``: positions are units held (shares; negative = short).
        ``"fraction"``: positions are target fractions of equity (1 = fully long);
        a new target is sized at the deciding close on that close's equity and held
        until the target changes (backtrader's ``order_target_percent`` with
        fractional units).
    historical : DataFrame, optional
        Real OHLCV bars: also backtested (``result.historical``) and the reference for
        rebuilding OHLC of returns-only paths.
    periods_per_year : float
        For annualising Sharpe, Sortino, volatility and CAGR.
    random_state : int, Generator or None
        Seeds the OHLC rebuilding of returns-only paths.

    Returns
    -------
    BacktestResult
        ``.metrics`` (one row per path: the stress-test metrics and ``min_cash``, the
        lowest cash balance; negative means the engine lent money where backtrader
        would have rejected the order, and a warning says so), ``.equity``,
        ``.positions``, ``.orders``, ``.historical``; ``summary()``, ``plot()``,
        ``to_html()`` as for stress tests.
    """
    if sizing not in ("units", "fraction"):
        raise ValueError(f"sizing must be 'units' or 'fraction', got {sizing!r}")
    for name, value in (("cash", cash), ("commission", commission)):
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if cash <= 0:
        raise ValueError(f"cash must be positive, got {cash!r}")
    if commission < 0:
        raise ValueError(f"commission must be >= 0 (0.001 = 0.1 %), got {commission!r}")
    index, names, open_, close = _panels(paths, historical, random_state)
    pos = _positions(signal, close)
    sim = _run_blocks(pos, open_, close, float(cash), commission, sizing, periods_per_year)
    metrics = sim["metrics"]
    metrics.index = pd.Index(names, name="path")
    metrics["error"] = None
    short_of_cash = int((metrics["min_cash"] < 0).sum())
    if short_of_cash:
        warnings.warn(
            f"cash went negative on {short_of_cash} of {len(names)} paths (see the min_cash "
            "column): this engine borrows freely where backtrader would reject the orders "
            "(Margin); lower the size, raise cash, or use sizing='fraction' with targets <= 1",
            UserWarning,
            stacklevel=_external_stacklevel(),
        )
    columns = pd.Index(names, name="path")
    path, bar, size, price, comm = sim["fills"]
    orders = pd.DataFrame(
        {
            "path": np.asarray(names, dtype=object)[path],
            "bar": bar,
            "date": np.asarray(index)[bar],
            "size": size,
            "price": price,
            "commission": comm,
        }
    )

    hist_metrics = hist_equity = None
    if historical is not None:
        _, _, h_open, h_close = _panels([historical], historical, None)
        h_pos = _positions(signal, h_close)
        h = _run_blocks(h_pos, h_open, h_close, float(cash), commission, sizing, periods_per_year)
        hist_metrics = h["metrics"].iloc[0].rename("historical")
        hist_equity = pd.Series(h["equity"][:, 0], index=historical.index.copy(), name="historical")
    return BacktestResult(
        metrics=metrics,
        equity=pd.DataFrame(sim["equity"], index=index.copy(), columns=columns, copy=False),
        historical=hist_metrics,
        historical_equity=hist_equity,
        orders=orders,
        initial_value=float(cash),
        engine="numpy",
        settings={"cash": cash, "commission": commission, "sizing": sizing},
        positions=pd.DataFrame(sim["held"], index=index.copy(), columns=columns, copy=False),
    )


# ----------------------------------------------------------------------------- signals
def sma_crossover(
    fast: int = 10, slow: int = 30, size: float = 1.0
) -> Callable[[np.ndarray], np.ndarray]:
    """Long ``size`` from a fast-over-slow SMA cross up to the next cross down.

    The numpy twin of :class:`quantgan.adapters.backtrader.SmaCross`, bar for bar:
    backtrader's ``CrossOver`` (a cross compares with the last non-zero
    difference), first signal on bar ``slow`` (0-based), flat until the first
    cross up. The SMAs come from cumulative sums; wherever the fast and slow
    averages are close enough for that rounding to matter, they are recomputed
    exactly as backtrader does (``math.fsum(window) / period``), so the signs of
    the differences, hence the trades, are backtrader's.

    Returns
    -------
    callable
        ``signal(close) -> positions`` for :func:`backtest`.
    """
    for name, value in (("fast", fast), ("slow", slow)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if fast >= slow:
        raise ValueError(f"fast must be shorter than slow, got fast={fast}, slow={slow}")
    eps = np.finfo(float).eps

    def block(close: np.ndarray) -> np.ndarray:
        n = close.shape[0]
        positions = np.zeros(close.shape)
        lo = slow - 1  # the first bar with both averages
        cum = np.cumsum(close, axis=0)
        sum_slow = cum[lo:].copy()
        sum_slow[1:] -= cum[: n - slow]
        sum_fast = cum[lo:] - cum[lo - fast : n - fast]  # lo >= fast as fast < slow
        diff = sum_fast / fast - sum_slow / slow
        # |rounding error of a cumsum difference| <= 2 n eps sum|x|, prices being positive
        tol = 4 * n * eps * cum[-1] * (1 / fast + 1 / slow) + 4 * eps * close.max(axis=0)
        for t, j in zip(*np.nonzero(np.abs(diff) <= tol), strict=True):
            bar = t + lo
            diff[t, j] = (
                math.fsum(close[bar - fast + 1 : bar + 1, j]) / fast
                - math.fsum(close[bar - slow + 1 : bar + 1, j]) / slow
            )
        if (diff == 0).any():
            # the last non-zero difference, seeded with the first (NonZeroDifference)
            rows = np.arange(diff.shape[0])[:, None]
            keep = (diff != 0) | (rows == 0)
            last = np.maximum.accumulate(np.where(keep, rows, 0), axis=0)
            diff = np.take_along_axis(diff, last, axis=0)
        # long iff the last non-zero difference is positive and was negative at some
        # bar before: the switch to positive was a cross up, and no cross down followed
        long = (diff > 0) & np.logical_or.accumulate(diff < 0, axis=0)
        positions[lo:] = long * float(size)
        return positions

    def signal(close: np.ndarray) -> np.ndarray:
        close = np.asarray(close, dtype=float)
        if close.ndim == 1:
            close = close[:, None]
        n, m = close.shape
        if n <= slow:
            return np.zeros((n, m))
        positions = np.empty((n, m))
        for j in range(0, m, _BLOCK):  # paths are independent: cache-sized blocks
            cols = slice(j, min(j + _BLOCK, m))
            positions[:, cols] = block(np.ascontiguousarray(close[:, cols]))
        return positions

    signal.__name__ = f"sma_crossover_{fast}_{slow}"
    return signal
