"""Tests of the backtrader adapter (adapters/backtrader.py, quantgan.adapters.backtrader)."""

from __future__ import annotations

import os
import threading

import backtrader as bt
import numpy as np
import pandas as pd
import pytest
from strategies_for_tests import AllIn, BuyAndHold, FailAbove, PairReader, RsiStrategy

import quantgan as qg
from quantgan.adapters.backtrader import (
    SmaCross,
    load_strategy,
    run_backtrader,
    stress_test,
    to_feed,
)
from quantgan.backtest import backtest, sma_crossover
from quantgan.stress import METRIC_COLUMNS, StressResult, ohlcv_from_returns

N_BARS = 300


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return qg.load_sp500()


@pytest.fixture(scope="module")
def history(prices) -> pd.DataFrame:
    """The last 600 real bars."""
    return prices.iloc[-600:]


@pytest.fixture(scope="module")
def returns_paths(prices) -> pd.DataFrame:
    aug = qg.BootstrapAugmenter().fit(qg.log_returns(prices))
    return aug.sample(4, N_BARS, random_state=0)


def plain_backtrader(frame, strategy, *, cash=100_000, commission=0.0, sizer=None, **params):
    """What a user gets from plain backtrader, all defaults (stdstats, PandasData)."""
    cerebro = bt.Cerebro()
    cerebro.adddata(bt.feeds.PandasData(dataname=frame))
    cerebro.addstrategy(strategy, **params)
    cerebro.broker.setcash(cash)
    cerebro.broker.setcommission(commission=commission)
    if sizer is not None:
        cerebro.addsizer(sizer[0], **sizer[1])
    cerebro.run()
    return cerebro.broker.getvalue()


# -- the done-when criteria ---------------------------------------------------------------
@pytest.mark.parametrize(
    "strategy, params, sizer",
    [
        (SmaCross, {"fast": 5, "slow": 20, "stake": 20}, None),
        (BuyAndHold, {}, (bt.sizers.PercentSizer, {"percents": 50})),
    ],
)
def test_historical_final_value_is_exactly_plain_backtraders(history, strategy, params, sizer):
    expected = plain_backtrader(history, strategy, commission=0.001, sizer=sizer, **params)
    result = stress_test(
        strategy,
        [history.iloc[:200]],
        strategy_params=params,
        commission=0.001,
        sizer=None if sizer is None else sizer[0],
        sizer_params=None if sizer is None else sizer[1],
        historical=history,
        progress=False,
    )
    assert result.historical["final_value"] == expected  # exactly, not approximately
    assert result.historical["final_value"] != 100_000  # it traded
    assert result.historical_equity.index.equals(history.index)


def test_same_trades_and_values_as_numpy_engine(prices, returns_paths):
    params = {"fast": 10, "slow": 30, "stake": 10}
    bars = ohlcv_from_returns(returns_paths, prices, random_state=5)
    bt_result = stress_test(
        SmaCross, bars, strategy_params=params, commission=0.001, progress=False
    )
    np_result = backtest(
        sma_crossover(10, 30, size=10), returns_paths, commission=0.001, random_state=5
    )
    a, b = bt_result.metrics, np_result.metrics
    assert (a["n_rejected"] == 0).all()
    np.testing.assert_array_equal(a["n_trades"], b["n_trades"])
    np.testing.assert_array_equal(a["win_rate"], b["win_rate"])
    np.testing.assert_array_equal(a["exposure"], b["exposure"])
    # summation order differs (backtrader adds cash, value and commission separately)
    np.testing.assert_allclose(a["final_value"], b["final_value"], rtol=1e-12)
    np.testing.assert_allclose(a["sharpe"], b["sharpe"], rtol=1e-8)
    orders_bt = bt_result.orders.sort_values(["path", "bar"], ignore_index=True)
    assert len(orders_bt) == len(np_result.orders) > 0
    np.testing.assert_array_equal(orders_bt["bar"], np_result.orders["bar"])
    np.testing.assert_array_equal(orders_bt["size"], np_result.orders["size"])
    np.testing.assert_allclose(orders_bt["price"], np_result.orders["price"], rtol=1e-14)
    np.testing.assert_allclose(orders_bt["commission"], np_result.orders["commission"], rtol=1e-12)


# -- metrics --------------------------------------------------------------------------------
def test_metrics_columns_and_values(returns_paths, history):
    result = stress_test(
        SmaCross,
        returns_paths,
        strategy_params={"stake": 10},
        historical=history,
        analyzers=[bt.analyzers.TimeReturn, (bt.analyzers.DrawDown, {"_name": "dd"})],
        random_state=0,
        progress=False,
    )
    assert isinstance(result, StressResult)
    assert list(result.metrics.columns[: len(METRIC_COLUMNS)]) == list(METRIC_COLUMNS)
    assert result.metrics["error"].isna().all()
    assert result.metrics.index.tolist() == list(returns_paths.columns)
    assert result.equity.shape == (N_BARS, 4)
    for path in returns_paths.columns:
        row = result.metrics.loc[path]
        equity = result.equity[path]
        assert row["final_value"] == equity.iloc[-1]
        assert row["total_return"] == pytest.approx(equity.iloc[-1] / 100_000 - 1)
        # Sharpe from the daily TimeReturn analyzer, annualised with sqrt(252)
        daily = np.array(list(result.analyzers[path]["timereturn"].values()))
        assert len(daily) == N_BARS
        values = equity.to_numpy()
        np.testing.assert_array_equal(daily, np.r_[values[0] / 1e5, values[1:] / values[:-1]] - 1)
        assert row["sharpe"] == pytest.approx(daily.mean() / daily.std(ddof=1) * np.sqrt(252))
        assert row["volatility"] == pytest.approx(daily.std(ddof=1) * np.sqrt(252))
        # max drawdown agrees with backtrader's DrawDown analyzer (in percent)
        assert row["max_drawdown"] * 100 == pytest.approx(
            result.analyzers[path]["dd"]["max"]["drawdown"], rel=1e-9
        )
        assert 0 <= row["exposure"] <= 1 and row["n_bars"] == N_BARS
    assert result.historical["n_bars"] == len(history)


def test_summary_ranks_history(returns_paths, history):
    result = stress_test(
        SmaCross, returns_paths, historical=history, random_state=0, progress=False
    )
    table = result.summary().table
    sharpes = result.metrics["sharpe"].to_numpy()
    hist = result.historical["sharpe"]
    expected = 100 * (np.sum(sharpes < hist) + 0.5 * np.sum(sharpes == hist)) / len(sharpes)
    assert table.loc["sharpe", "historical_pct"] == pytest.approx(expected)
    assert "<img" in result.to_html()


# -- failures per path ------------------------------------------------------------------------
def test_a_failing_path_is_recorded_and_the_rest_go_on(history):
    flat = history.iloc[:100].copy()
    flat[["Open", "High", "Low", "Close"]] = 100.0  # RSI divides by zero on flat prices
    paths = [history.iloc[:100], flat, history.iloc[100:200]]
    with pytest.warns(UserWarning, match="1 of 3 paths failed"):
        result = stress_test(RsiStrategy, paths, progress=False)
    errors = result.metrics["error"]
    assert errors.isna().tolist() == [True, False, True]
    assert errors[1].startswith("ZeroDivisionError")
    assert "Traceback" in result.errors[1] and "backtrader" in result.errors[1]
    assert np.isnan(result.metrics.loc[1, "sharpe"])
    assert result.metrics.loc[[0, 2], "final_value"].notna().all()
    assert result.summary().n_failed == 1


def test_strategy_exception_keeps_its_traceback(history):
    paths = {"low": history.iloc[:50] * 0 + 10, "high": history.iloc[:50] * 0 + 1000}
    with pytest.warns(UserWarning, match="failed"):
        result = stress_test(FailAbove, paths, strategy_params={"limit": 100}, progress=False)
    assert pd.isna(result.metrics.loc["low", "error"])
    assert "above the limit" in result.metrics.loc["high", "error"]
    assert "strategies_for_tests.py" in result.errors["high"]  # the strategy's own frame


def test_path_shorter_than_warm_up_is_reported_per_path(history):
    paths = [history.iloc[:20], history.iloc[:100]]
    with pytest.warns(UserWarning, match="1 of 2 paths failed"):
        result = stress_test(SmaCross, paths, strategy_params={"slow": 30}, progress=False)
    assert result.metrics.loc[0, "error"].startswith("PathTooShort")
    assert (
        "20 bars" in result.metrics.loc[0, "error"] and "needs 31" in result.metrics.loc[0, "error"]
    )
    assert pd.isna(result.metrics.loc[1, "error"])


def test_margin_rejections_are_counted(history):
    with pytest.warns(UserWarning, match="rejected"):
        result = stress_test(AllIn, [history.iloc[:200]], commission=0.001, progress=False)
    assert result.metrics.loc[0, "n_rejected"] > 0


# -- parallel backends ------------------------------------------------------------------------
def test_loky_gives_identical_results(returns_paths):
    kwargs = {"strategy_params": {"stake": 10}, "random_state": 1, "progress": False}
    seq = stress_test(SmaCross, returns_paths, **kwargs)
    par = stress_test(SmaCross, returns_paths, n_jobs=2, backend="loky", **kwargs)
    pd.testing.assert_frame_equal(seq.metrics, par.metrics)
    pd.testing.assert_frame_equal(seq.equity, par.equity)


def test_dask_gives_identical_results(returns_paths):
    distributed = pytest.importorskip("distributed")
    kwargs = {"strategy_params": {"stake": 10}, "random_state": 1, "progress": False}
    seq = stress_test(SmaCross, returns_paths, **kwargs)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        on_dask = stress_test(SmaCross, returns_paths, backend="dask", **kwargs)
    pd.testing.assert_frame_equal(seq.metrics, on_dask.metrics)
    pd.testing.assert_frame_equal(seq.equity, on_dask.equity)


def test_dask_without_a_client_says_how_to_connect(returns_paths):
    pytest.importorskip("distributed")
    with pytest.raises(RuntimeError, match="Client"):
        stress_test(SmaCross, returns_paths, backend="dask", progress=False)


# -- bad input --------------------------------------------------------------------------------
def test_strategy_must_be_a_strategy_class(history):
    with pytest.raises(TypeError, match="Strategy class"):
        stress_test(object, [history])
    with pytest.raises(TypeError, match="Strategy class"):
        stress_test(lambda: None, [history])


def test_unknown_strategy_params_are_named(history):
    with pytest.raises(ValueError, match=r"unknown strategy params \['period'\].*'fast'"):
        stress_test(SmaCross, [history], strategy_params={"period": 3})


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda f: f.drop(columns=["Close", "Adj Close"]), "no Close column"),
        (lambda f: f.assign(Close=f["Close"].where(f.index != f.index[5])), "NaN or non-positive"),
        (lambda f: f.assign(Low=-f["Low"]), "NaN or non-positive"),
        (lambda f: f.reset_index(drop=True), "DatetimeIndex"),
        (lambda f: f.set_axis(range(f.shape[1]), axis=1), "column names must be strings"),
    ],
)
def test_bad_frames_are_refused_before_running(history, mutate, match):
    frame = history.iloc[:50]
    before = frame.copy()
    with pytest.raises(ValueError, match=match):
        stress_test(SmaCross, [history.iloc[:50], mutate(frame)])
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is untouched


def test_n_jobs_above_the_cores_warns(returns_paths):
    with pytest.warns(UserWarning, match="exceeds") as caught:
        stress_test(
            SmaCross, returns_paths.iloc[:, :1], n_jobs=(os.cpu_count() or 1) + 1, progress=False
        )
    # Raised in quantgan.stress, reached through the adapter (which a source checkout
    # keeps outside the quantgan folder): it still points at this call.
    assert [w.filename for w in caught if "exceeds" in str(w.message)] == [__file__]


def test_a_strategy_defined_in_a_function_is_refused_for_loky(history):
    class Local(bt.Strategy):
        params = (("x", 1),)

    with pytest.raises(ValueError, match="importable module"):
        stress_test(Local, [history.iloc[:50]], n_jobs=2)
    Local.__module__ = "__main__"
    with pytest.raises(ValueError, match=r"__main__ or a notebook.*multiprocessing"):
        stress_test(Local, [history.iloc[:50]], n_jobs=2)
    # sequential runs need no pickling: fine
    result = stress_test(Local, [history.iloc[:50]], n_jobs=1, progress=False)
    assert result.metrics.loc[0, "final_value"] == 100_000


def test_unpicklable_params_get_a_clear_message(history):
    with pytest.raises(TypeError, match=r"cannot be pickled .*lock"):
        stress_test(
            SmaCross, [history.iloc[:50]], strategy_params={"stake": threading.Lock()}, n_jobs=2
        )


def test_a_worker_that_lost_the_params_says_how_to_fix(history):
    task = {
        "strategy": SmaCross,
        "param_keys": ("fast", "slow", "stake", "extra"),
        "feeds": {},
    }
    run = run_backtrader(task)
    assert run.error.startswith("StrategyTransportError") and "importable module" in run.error


def test_sizer_and_analyzer_types_are_checked(history):
    with pytest.raises(TypeError, match="Sizer"):
        stress_test(SmaCross, [history], sizer=dict)
    with pytest.raises(TypeError, match="Analyzer"):
        stress_test(SmaCross, [history], analyzers=[dict])
    with pytest.raises(ValueError, match="cash"):
        stress_test(SmaCross, [history], cash=-1)


# -- feeds ------------------------------------------------------------------------------------
def test_to_feed_reads_any_case_and_runs(history):
    frame = history.iloc[:120].rename(columns=str.lower)
    cerebro = bt.Cerebro()
    cerebro.adddata(to_feed(frame, name="spx"))
    cerebro.addstrategy(SmaCross, stake=10)
    cerebro.broker.setcash(100_000)
    cerebro.run()
    expected = plain_backtrader(history.iloc[:120], SmaCross, stake=10)
    assert cerebro.broker.getvalue() == expected
    assert isinstance(to_feed(frame), bt.feeds.PandasData)


def test_to_feed_rebuilds_returns_and_close_only(prices):
    r = qg.log_returns(prices).iloc[:100]
    feed = to_feed(r, reference=prices, random_state=0)
    close_only = to_feed(prices[["Close"]].iloc[:100], reference=prices, random_state=0)
    for f in (feed, close_only):
        cerebro = bt.Cerebro()
        cerebro.adddata(f)
        cerebro.addstrategy(SmaCross, fast=3, slow=8)
        cerebro.run()
        data = cerebro.datas[0]
        high = np.array(data.high.array)
        assert len(high) == 100
        assert np.all(high >= np.maximum(np.array(data.open.array), np.array(data.close.array)))
    np.testing.assert_array_equal(
        np.array(cerebro.datas[0].close.array), prices["Close"].iloc[:100].to_numpy()
    )


def test_paths_with_several_feeds(history):
    a = history.iloc[:100]
    b = a.assign(Close=a["Close"].rolling(5, min_periods=1).mean())
    b = b.assign(High=b[["High", "Close"]].max(axis=1), Low=b[["Low", "Close"]].min(axis=1))
    result = stress_test(PairReader, [{"a": a, "b": b}, {"a": b, "b": a}], progress=False)
    assert result.metrics["error"].isna().all()
    assert (result.metrics["n_trades"] > 0).all()


# -- strategies named on the command line ---------------------------------------------------
def test_load_strategy_from_a_module_or_a_file(tmp_path, history):
    assert load_strategy("quantgan.adapters.backtrader:SmaCross") is SmaCross
    assert load_strategy("strategies_for_tests:RsiStrategy") is RsiStrategy
    source = (
        "import backtrader as bt\n\n\n"
        "class Holder(bt.Strategy):\n"
        "    params = (('stake', 3),)\n\n"
        "    def next(self):\n"
        "        if not self.position:\n"
        "            self.buy(size=self.p.stake)\n"
    )
    (tmp_path / "qg_user_strategies.py").write_text(source)
    holder = load_strategy(f"{tmp_path / 'qg_user_strategies.py'}:Holder")
    result = stress_test(holder, [history.iloc[:30]], strategy_params={"stake": 2}, progress=False)
    assert result.metrics.loc[0, "n_trades"] == 0 and result.metrics.loc[0, "exposure"] > 0.9


@pytest.mark.parametrize(
    "spec, error, match",
    [
        ("SmaCross", ValueError, "module:Class"),
        ("no_such_module_qg:X", ValueError, "cannot import"),
        ("quantgan.adapters.backtrader:Nope", ValueError, "no attribute"),
        ("quantgan.adapters.backtrader:to_feed", TypeError, "not a backtrader Strategy"),
        ("/no/such/file.py:X", FileNotFoundError, "does not exist"),
    ],
)
def test_load_strategy_errors(spec, error, match):
    with pytest.raises(error, match=match):
        load_strategy(spec)
