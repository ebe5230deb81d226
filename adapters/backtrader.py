"""Stress-test a backtrader strategy over many synthetic paths, in parallel.

Installed as ``quantgan.adapters.backtrader`` (extra ``[backtrader]``; backtrader is
GPL-3.0 and only this module imports it). A strategy written for plain
backtrader runs unchanged::

    import quantgan as qg
    from quantgan.adapters.backtrader import stress_test

    prices = qg.load_sp500()
    paths = qg.GARCHAugmenter().fit(qg.log_returns(prices)).sample(500, random_state=0)
    result = stress_test(MyStrategy, paths, historical=prices, commission=0.001, n_jobs=-1)
    print(result.summary())            # quantiles, P(loss), ES of the Sharpe, historical percentile
    result.to_html("stress.html")

One :class:`backtrader.Cerebro` runs per path (``optstrategy`` cannot vary the
data feed), in a process pool (joblib/loky) or on a Dask cluster. What
backtrader 1.9.78 does on numpy 2 / pandas 3 that this module works around:

- ``PandasData`` crashes on non-string column names and needs a DatetimeIndex:
  :func:`to_feed` checks and normalises frames first;
- the ``SharpeRatio`` analyzer returns None on short runs: Sharpe comes from the
  daily returns of the broker value instead, recorded at each bar (on daily bars
  these are exactly the values of the daily ``TimeReturn`` analyzer, which is not
  attached because it costs about a fifth of the run time; the tests compare them);
- a path can raise inside the strategy (e.g. ``RSI`` dividing by zero): it is
  recorded with its traceback and the other paths go on;
- orders it cannot pay for are rejected silently (``Margin``): they are counted in
  the ``n_rejected`` column and a warning says how many;
- a strategy class defined in ``__main__`` or a notebook loses its params in loky
  workers: :func:`stress_test` refuses it with the fix;
- ``bindlines`` uses ``collections.Iterable``, gone since Python 3.10: patched in
  backtrader's ``lineiterator`` module only.
"""

from __future__ import annotations

import collections
import collections.abc
import math
import sys
import traceback
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

try:
    import backtrader as bt
    import backtrader.lineiterator as _bt_lineiterator
    from backtrader.utils import date2num, num2date
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "quantgan.adapters.backtrader needs backtrader: pip install 'quantgan[backtrader]'"
    ) from exc

from quantgan._stack import _external_stacklevel
from quantgan.stress import (
    PathRun,
    StressResult,
    _looks_like_ohlcv,
    parallel_map,
    to_ohlcv_paths,
)

__all__ = ["SmaCross", "load_strategy", "run_backtrader", "stress_test", "to_feed"]


class _CollectionsCompat:
    """``collections`` as backtrader's ``bindlines`` expects it (``collections.Iterable``)."""

    def __getattr__(self, name: str) -> Any:
        if hasattr(collections.abc, name):
            return getattr(collections.abc, name)
        return getattr(collections, name)


if not hasattr(collections, "Iterable"):
    _bt_lineiterator.collections = _CollectionsCompat()

_TRANSPORT_FIX = (
    "define it in an importable module (e.g. a file my_strategies.py next to your script, "
    "then `from my_strategies import {name}`), or run with backend='multiprocessing' "
    "(fork, Linux) or n_jobs=1"
)


# ----------------------------------------------------------------------------- feeds
class _ArrayPandasData(bt.feeds.PandasData):
    """``PandasData`` reading pre-extracted columns instead of ``iloc`` per field per bar.

    Same values as ``PandasData`` on the same frame (the columns as float64, the
    dates through the same ``date2num(timestamp.to_pydatetime())``), about 1.6x faster.
    """

    def start(self):
        super().start()
        frame = self.p.dataname
        self._columns = [
            (getattr(self.lines, field), frame.iloc[:, col].to_numpy(dtype=float).tolist())
            for field, col in self._colmapping.items()
            if field != "datetime" and col is not None
        ]
        self._dates = [date2num(ts.to_pydatetime()) for ts in frame.index]

    def _load(self):
        self._idx += 1
        if self._idx >= len(self._dates):
            return False
        i = self._idx
        for line, values in self._columns:
            line[0] = values[i]
        self.lines.datetime[0] = self._dates[i]
        return True


def to_feed(
    ohlcv: pd.DataFrame | pd.Series,
    *,
    name: str | None = None,
    reference: pd.DataFrame | None = None,
    random_state: int | np.random.Generator | None = None,
) -> bt.feeds.PandasData:
    """A backtrader ``PandasData`` feed from an OHLCV frame (or a returns Series).

    Parameters
    ----------
    ohlcv : DataFrame or Series
        OHLCV bars with string column names in any case (``close``, ``Adj Close``...)
        and a DatetimeIndex; a frame with only Close gets Open/High/Low rebuilt
        around its closes; a Series (or a one-column frame without Close) is read as
        daily log returns and rebuilt with :func:`quantgan.stress.ohlcv_from_returns`.
    name : str, optional
        The feed's name in the strategy (``self.getdatabyname``).
    reference : DataFrame, optional
        Real OHLCV bars whose intraday shapes the rebuilding borrows (default: the
        bundled S&P 500).
    random_state : int, Generator or None
        Seeds the rebuilding.

    Examples
    --------
    >>> import backtrader as bt, quantgan as qg
    >>> cerebro = bt.Cerebro()
    >>> _ = cerebro.adddata(to_feed(qg.load_sp500().iloc[:100]))
    """
    if isinstance(ohlcv, pd.DataFrame) and _looks_like_ohlcv(ohlcv.columns):
        ohlcv = {0: ohlcv}
    paths = to_ohlcv_paths(ohlcv, reference=reference, random_state=random_state)
    if len(paths) != 1:
        raise ValueError(f"to_feed makes one feed, got {len(paths)} paths; call it once per path")
    feeds = next(iter(paths.values()))
    frame = next(iter(feeds.values()))
    return _ArrayPandasData(dataname=frame, name=name)


# ----------------------------------------------------------------------------- strategy
class SmaCross(bt.Strategy):
    """Long ``stake`` units from a fast-over-slow SMA cross up to the next cross down.

    The reference strategy of the engine cross-check; its numpy twin is
    :func:`quantgan.backtest.sma_crossover`. Market orders, filled at the next open.
    """

    params = (("fast", 10), ("slow", 30), ("stake", 1))

    def __init__(self):
        fast = bt.ind.SMA(self.data.close, period=self.p.fast)
        slow = bt.ind.SMA(self.data.close, period=self.p.slow)
        self.crossover = bt.ind.CrossOver(fast, slow)

    def next(self):
        if not self.position:
            if self.crossover[0] > 0:
                self.buy(size=self.p.stake)
        elif self.crossover[0] < 0:
            self.close()


class _Recorder(bt.Analyzer):
    """Value per bar, bars holding a position, closed trades, wins, fills, rejections."""

    def start(self):
        strategy = self.strategy
        self.values: list[float] = []
        self.dates: list[float] = []
        self.n_exposed = 0
        self.n_next = 0
        self.n_trades = 0
        self.n_won = 0
        self.n_rejected = 0
        self.fills: list[tuple] = []
        self._getvalue = strategy.broker.getvalue
        # the broker updates these Position objects in place
        self._positions = [strategy.getposition(d) for d in strategy.datas]
        self._several = len(strategy.datas) > 1

    def notify_order(self, order):
        if order.status in (order.Margin, order.Rejected):
            self.n_rejected += 1
        elif order.status == order.Completed:
            ex = order.executed
            self.fills.append((len(order.data) - 1, ex.dt, ex.size, ex.price, ex.comm))

    def notify_trade(self, trade):
        if trade.isclosed:
            self.n_trades += 1
            # backtrader's TradeAnalyzer counts a trade as won when pnlcomm >= 0
            self.n_won += int(trade.pnlcomm >= 0.0)

    def _record(self):
        self.values.append(self._getvalue())
        for position in self._positions:
            if position.size:
                self.n_exposed += 1
                break
        if self._several:  # feeds may have different calendars: keep the clock's dates
            self.dates.append(self.strategy.datetime[0])

    def prenext(self):
        self._record()

    def next(self):
        self.n_next += 1
        self._record()


def _plain(obj: Any) -> Any:
    """Analyzer output (AutoOrderedDict, nested) as plain dicts and lists."""
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_plain(v) for v in obj)
    return obj


def _analyzer_specs(analyzers: Any) -> list[tuple[type, dict]]:
    if analyzers is None:
        return []
    if isinstance(analyzers, type) or (
        isinstance(analyzers, tuple) and len(analyzers) == 2 and isinstance(analyzers[1], Mapping)
    ):
        analyzers = [analyzers]
    specs = []
    for item in analyzers:
        cls, kwargs = (item[0], dict(item[1])) if isinstance(item, tuple) else (item, {})
        if not (isinstance(cls, type) and issubclass(cls, bt.Analyzer)):
            raise TypeError(
                "analyzers must be backtrader Analyzer classes or (class, kwargs) pairs, "
                f"e.g. (bt.analyzers.DrawDown, {{'_name': 'dd'}}); got {item!r}"
            )
        kwargs.setdefault("_name", cls.__name__.lower())
        specs.append((cls, kwargs))
    names = [kw["_name"] for _, kw in specs]
    if len(set(names)) != len(names) or any(n.startswith("_qg_") for n in names):
        raise ValueError(f"analyzer names must be unique and not start with '_qg_', got {names}")
    return specs


def _cerebro(task: Mapping[str, Any], **overrides: Any) -> bt.Cerebro:
    cerebro = bt.Cerebro(**{"stdstats": False, **task["cerebro_kwargs"], **overrides})
    for name, frame in task["feeds"].items():
        cerebro.adddata(_ArrayPandasData(dataname=frame, name=name))
    cerebro.addstrategy(task["strategy"], **task["strategy_params"])
    cerebro.broker.setcash(task["cash"])
    cerebro.broker.setcommission(commission=task["commission"])
    if task["sizer"] is not None:
        cerebro.addsizer(task["sizer"], **task["sizer_params"])
    cerebro.addanalyzer(_Recorder, _name="_qg_rec")
    for cls, kwargs in task["analyzers"]:
        cerebro.addanalyzer(cls, **kwargs)
    return cerebro


def run_backtrader(task: Mapping[str, Any]) -> PathRun:
    """Run one Cerebro on one path; never raises for errors inside the run.

    ``task`` holds ``strategy``, ``strategy_params``, ``param_keys``, ``feeds``
    (``{name: OHLCV frame}``), ``cash``, ``commission``, ``sizer``, ``sizer_params``,
    ``analyzers`` (``[(class, kwargs)]``) and ``cerebro_kwargs``. Module-level so that
    process pools can pickle it.
    """
    strategy = task["strategy"]
    keys = tuple(strategy.params._getkeys())
    if keys != tuple(task["param_keys"]):
        return PathRun(
            error=(
                f"StrategyTransportError: {strategy.__name__} lost its params in this worker "
                f"(has {list(keys)}, expected {list(task['param_keys'])}); "
                + _TRANSPORT_FIX.format(name=strategy.__name__)
            )
        )
    feeds = task["feeds"]
    first = next(iter(feeds.values()))
    n_bars = len(first)
    try:
        strat = _cerebro(task).run()[0]
    except Exception as exc:
        failed = PathRun(
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(),
            extra={"n_bars": n_bars, "n_rejected": np.nan},
        )
        if not isinstance(exc, IndexError):
            return failed
        # with runonce, a path shorter than the indicators' warm-up raises IndexError;
        # bar-by-bar mode tells whether that was the cause
        try:
            strat = _cerebro(task, runonce=False).run()[0]
        except Exception:
            return failed
        if strat.analyzers.getbyname("_qg_rec").n_next:
            return failed
    rec = strat.analyzers.getbyname("_qg_rec")
    if rec.n_next == 0:
        return PathRun(
            error=(
                f"PathTooShort: the path has {n_bars} bars but the strategy needs "
                f"{strat._minperiod} bars of warm-up before its first next(); use longer "
                "paths or shorter indicator periods"
            ),
            extra={"n_bars": n_bars, "n_rejected": rec.n_rejected},
        )
    index = (
        pd.DatetimeIndex([num2date(d) for d in rec.dates])
        if rec.dates
        else first.index[: len(rec.values)]
    )
    fills = pd.DataFrame(rec.fills, columns=["bar", "date", "size", "price", "commission"])
    fills["date"] = [num2date(d) for d in fills["date"]]
    return PathRun(
        equity=pd.Series(rec.values, index=index, dtype=float),
        n_trades=rec.n_trades,
        n_won=rec.n_won,
        exposure=rec.n_exposed / len(rec.values),
        extra={"n_bars": n_bars, "n_rejected": rec.n_rejected},
        orders=fills,
        analyzers={
            kwargs["_name"]: _plain(strat.analyzers.getbyname(kwargs["_name"]).get_analysis())
            for _, kwargs in task["analyzers"]
        },
    )


# ----------------------------------------------------------------------------- checks
def _check_strategy(strategy: Any, strategy_params: Mapping | None) -> dict:
    if not (isinstance(strategy, type) and issubclass(strategy, bt.Strategy)):
        kind = "an instance" if isinstance(strategy, bt.Strategy) else type(strategy).__name__
        raise TypeError(
            f"strategy must be a backtrader Strategy class (a subclass of bt.Strategy, not an "
            f"instance), got {kind}: {strategy!r}"
        )
    params = dict(strategy_params or {})
    known = list(strategy.params._getkeys())
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(
            f"unknown strategy params {unknown} for {strategy.__name__}; its params are {known}"
        )
    return params


def _defined_by_value(cls: type) -> bool:
    """Whether pickling ships the class by value (loky/dask then lose backtrader params)."""
    module = sys.modules.get(cls.__module__)
    if cls.__module__ == "__main__" or module is None or "<locals>" in cls.__qualname__:
        return True
    obj: Any = module
    for part in cls.__qualname__.split("."):
        obj = getattr(obj, part, None)
    return obj is not cls


def _check_transport(classes: Sequence[type], payload: Any, backend: Any, n_jobs: Any) -> None:
    """Refuse, with the fix, what would break in worker processes."""
    sequential = backend in ("sequential", "threading") or (
        backend != "dask" and isinstance(backend, str) and n_jobs in (1, None)
    )
    if sequential or backend == "multiprocessing":
        return
    for cls in classes:
        if _defined_by_value(cls) and getattr(cls, "params", None) is not None:
            where = "__main__ or a notebook" if cls.__module__ == "__main__" else "a function"
            raise ValueError(
                f"{cls.__name__} is defined in {where}: worker processes (backend="
                f"{backend!r}) would receive a copy without its params; "
                + _TRANSPORT_FIX.format(name=cls.__name__)
            )
    try:
        import cloudpickle  # what loky and dask pickle with (a dependency of joblib)

        cloudpickle.dumps(payload)
    except Exception as exc:
        raise TypeError(
            f"the strategy, its params, sizer or analyzers cannot be pickled for worker "
            f"processes ({type(exc).__name__}: {exc}); keep unpicklable objects (open "
            "files, locks, connections) out of params and create them in the strategy's "
            "__init__, or run with n_jobs=1"
        ) from exc


def _check_money(cash: Any, commission: Any) -> None:
    for name, value in (("cash", cash), ("commission", commission)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if cash <= 0:
        raise ValueError(f"cash must be positive, got {cash!r}")
    if commission < 0:
        raise ValueError(f"commission must be >= 0 (0.001 = 0.1 % of notional), got {commission!r}")


def load_strategy(spec: str) -> type:
    """The ``bt.Strategy`` class named by ``"package.module:Class"`` or ``"path/file.py:Class"``.

    For the command line (``quantgan stress``). A file's folder is put first on
    ``sys.path`` and the file imported under its own name, so worker processes can
    import the class too.

    Examples
    --------
    >>> load_strategy("quantgan.adapters.backtrader:SmaCross").__name__
    'SmaCross'
    """
    import importlib
    from pathlib import Path

    module_name, _, attr = str(spec).rpartition(":")
    if not module_name or not attr:
        raise ValueError(
            f"strategy must be given as 'module:Class' or 'file.py:Class', got {spec!r}"
        )
    if module_name.endswith(".py"):
        path = Path(module_name).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"strategy file {path} does not exist")
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        module_name = path.stem
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r} for the strategy: {exc}") from exc
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and issubclass(obj, bt.Strategy)):
        raise TypeError(f"{spec!r} is not a backtrader Strategy class, got {obj!r}")
    return obj


# ----------------------------------------------------------------------------- stress
def stress_test(
    strategy: type,
    paths: Any,
    *,
    strategy_params: Mapping[str, Any] | None = None,
    cash: float = 100_000,
    commission: float = 0.0,
    sizer: type | None = None,
    sizer_params: Mapping[str, Any] | None = None,
    analyzers: Any = (),
    n_jobs: int | None = 1,
    backend: Any = "loky",
    historical: pd.DataFrame | None = None,
    random_state: int | np.random.Generator | None = None,
    progress: bool | None = None,
    cerebro_kwargs: Mapping[str, Any] | None = None,
    periods_per_year: float = 252.0,
) -> StressResult:
    """Run a backtrader strategy on every path; collect per-path metrics.

    Parameters
    ----------
    strategy : bt.Strategy subclass
        Unchanged from plain backtrader. For process backends it must live in an
        importable module (not ``__main__`` or a notebook).
    paths : DataFrame, list, dict or overlay result
        A returns DataFrame from ``augmenter.sample`` (OHLC rebuilt from
        ``historical``, default the bundled S&P 500, see
        :func:`quantgan.stress.ohlcv_from_returns`), a list or dict of OHLCV frames,
        ``regimes.overlay`` output, or paths of several feeds as ``{name: frame}``
        dicts. See :func:`quantgan.stress.to_ohlcv_paths`.
    strategy_params : dict, optional
        Passed to ``cerebro.addstrategy(strategy, **strategy_params)``.
    cash, commission : float
        ``broker.setcash(cash)``, ``broker.setcommission(commission=commission)``
        (0.001 = 0.1 % of notional).
    sizer, sizer_params
        As ``cerebro.addsizer(sizer, **sizer_params)``.
    analyzers : sequence
        Extra analyzers, classes or ``(class, kwargs)`` pairs; their results per path
        are in ``result.analyzers[path][name]`` (name: ``_name`` or the lower-case
        class name).
    n_jobs : int
        Worker processes (-1: all cores); one Cerebro per path.
    backend : str or dask.distributed.Client
        ``"loky"``, ``"multiprocessing"`` (fork), ``"threading"``, ``"sequential"``,
        ``"dask"`` (the current ``dask.distributed`` Client: connect one to your
        cluster's scheduler first), or a Client. Same results on every backend.
    historical : DataFrame, optional
        The real OHLCV history: run once in this process (``result.historical``, the
        percentile ranks in ``summary()``), and the reference for rebuilding OHLC.
    random_state : int, Generator or None
        Seeds the OHLC rebuilding of returns-only paths.
    progress : bool or None
        Progress bar over paths; None shows it on a terminal only.
    cerebro_kwargs : dict, optional
        For ``bt.Cerebro(...)``; default ``stdstats=False`` (observers do not change
        results, they only cost time).
    periods_per_year : float
        For annualising (252 for daily bars).

    Returns
    -------
    StressResult
        ``.metrics`` with columns ``final_value, total_return, sharpe, sortino, cagr,
        max_drawdown, volatility, n_trades, win_rate, exposure, n_bars, n_rejected,
        error``; ``.errors`` (tracebacks of failed paths), ``.analyzers``, ``.equity``,
        ``.orders``; ``summary()``, ``plot()``, ``to_html()``.

    Examples
    --------
    >>> import quantgan as qg
    >>> prices = qg.load_sp500().iloc[-300:]
    >>> paths = qg.GaussianAugmenter().fit(qg.log_returns(prices)).sample(4, random_state=0)
    >>> result = stress_test(SmaCross, paths, historical=prices, random_state=0)
    >>> len(result.metrics)
    4
    """
    params = _check_strategy(strategy, strategy_params)
    _check_money(cash, commission)
    if sizer is not None and not (isinstance(sizer, type) and issubclass(sizer, bt.Sizer)):
        raise TypeError(f"sizer must be a backtrader Sizer class, got {sizer!r}")
    if sizer is None and sizer_params:
        raise ValueError(
            "sizer_params given without a sizer; pass sizer=bt.sizers.PercentSizer ..."
        )
    specs = _analyzer_specs(analyzers)
    common = {
        "strategy": strategy,
        "strategy_params": params,
        "param_keys": tuple(strategy.params._getkeys()),
        "cash": float(cash),
        "commission": float(commission),
        "sizer": sizer,
        "sizer_params": dict(sizer_params or {}),
        "analyzers": specs,
        "cerebro_kwargs": dict(cerebro_kwargs or {}),
    }
    classes = [strategy] + ([sizer] if sizer is not None else []) + [c for c, _ in specs]
    _check_transport(classes, common, backend, n_jobs)
    frames = to_ohlcv_paths(paths, reference=historical, random_state=random_state)

    hist_run = None
    if historical is not None:
        hist_feeds = to_ohlcv_paths({"historical": historical})["historical"]
        hist_run = run_backtrader({**common, "feeds": hist_feeds})
        if hist_run.error is not None:
            raise RuntimeError(
                f"{strategy.__name__} failed on the historical data, so it would fail on the "
                f"paths too: {hist_run.error}\n{hist_run.traceback or ''}"
            )
    tasks = [{**common, "feeds": feeds} for feeds in frames.values()]
    runs = parallel_map(run_backtrader, tasks, n_jobs=n_jobs, backend=backend, progress=progress)
    lost = [r.error for r in runs if r.error and r.error.startswith("StrategyTransportError")]
    if lost:
        raise RuntimeError(lost[0])
    result = StressResult.from_runs(
        dict(zip(frames, runs, strict=True)),
        float(cash),
        historical=hist_run,
        engine="backtrader",
        periods_per_year=periods_per_year,
        settings={
            "strategy": strategy.__name__,
            **{f"param {k}": v for k, v in params.items()},
            "cash": cash,
            "commission": commission,
            "backend": backend if isinstance(backend, str) else "dask",
        },
    )
    n_rejected = int(np.nansum(result.metrics["n_rejected"].to_numpy(dtype=float)))
    if n_rejected:
        warnings.warn(
            f"{n_rejected} orders were rejected by the broker (Margin: not enough cash) on "
            f"{int((result.metrics['n_rejected'] > 0).sum())} paths; size below 100 % of "
            "the value when paying commission, or raise cash (see the n_rejected column)",
            UserWarning,
            stacklevel=_external_stacklevel(),
        )
    if result.n_failed:
        warnings.warn(
            f"{result.n_failed} of {len(runs)} paths failed; see result.errors "
            f"(first: {next(iter(result.errors.values())).strip().splitlines()[-1]})",
            UserWarning,
            stacklevel=_external_stacklevel(),
        )
    return result
