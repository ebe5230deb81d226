"""Tests of the engine-agnostic stress-test tools (quantgan/stress.py)."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import quantgan as qg
from quantgan.base import DataWarning
from quantgan.stress import (
    METRIC_COLUMNS,
    PathRun,
    StressResult,
    check_n_jobs,
    compute_metrics,
    ohlcv_from_returns,
    parallel_map,
    to_ohlcv_paths,
)


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return qg.load_sp500()


@pytest.fixture(scope="module")
def paths(prices) -> pd.DataFrame:
    return qg.GaussianAugmenter().fit(qg.log_returns(prices)).sample(5, 250, random_state=0)


def square(x):
    return x * x


# -- ohlcv_from_returns ---------------------------------------------------------------------
def test_rebuilt_bars_are_consistent_and_follow_the_returns(prices, paths):
    bars = ohlcv_from_returns(paths, prices, random_state=0)
    assert list(bars) == list(paths.columns)
    for name, frame in bars.items():
        assert list(frame.columns) == ["Open", "High", "Low", "Close", "Volume"]
        assert frame.index.equals(paths.index)
        o, h, lo, c = (frame[k].to_numpy() for k in ("Open", "High", "Low", "Close"))
        assert np.all(h >= np.maximum(o, c)) and np.all(lo <= np.minimum(o, c)) and np.all(lo > 0)
        start = prices["Close"][prices.index < paths.index[0]].iloc[-1]
        np.testing.assert_allclose(np.log(c / np.r_[start, c[:-1]]), paths[name], atol=1e-12)
        assert (frame["Volume"] > 0).all()


def test_rebuilt_bars_borrow_the_shape_of_similar_real_days(prices):
    # a -7 % day must get the wide range of a real crash day, a quiet day a narrow one
    index = pd.bdate_range("2030-01-01", periods=400)
    r = pd.Series(np.tile([-0.07, 0.0005], 200), index=index)
    bars = ohlcv_from_returns(r, prices, random_state=1)
    spread = np.log(bars["High"] / bars["Low"]).to_numpy()
    assert np.median(spread[::2]) > 3 * np.median(spread[1::2])
    # dates after the reference: start from its last close
    assert bars["Close"].iloc[0] == pytest.approx(prices["Close"].iloc[-1] * math.exp(-0.07))


def test_rebuild_is_reproducible_and_keeps_the_caller_data(prices, paths):
    before = paths.copy()
    a = ohlcv_from_returns(paths.iloc[:, 0], prices, random_state=3)
    b = ohlcv_from_returns(paths.iloc[:, 0], prices, random_state=3)
    c = ohlcv_from_returns(paths.iloc[:, 0], prices, random_state=4, start_price=50.0)
    pd.testing.assert_frame_equal(a, b)
    assert c["Close"].iloc[0] == pytest.approx(50.0 * math.exp(paths.iloc[0, 0]))
    pd.testing.assert_frame_equal(paths, before)


@pytest.mark.parametrize(
    "returns, reference, kwargs, match",
    [
        (pd.Series([0.01, np.nan]), None, {}, "NaN"),
        (pd.Series([0.01, 0.02]), "no-high", {}, "missing"),
        (pd.Series([0.01, 0.02]), None, {"start_price": -1.0}, "start_price"),
        (pd.Series([800.0, 900.0]), None, {}, "compound"),
        ([0.01], None, {}, "Series or DataFrame"),
    ],
)
def test_rebuild_bad_input(prices, returns, reference, kwargs, match):
    ref = prices.drop(columns="High") if reference == "no-high" else prices
    with pytest.raises((ValueError, TypeError), match=match):
        ohlcv_from_returns(returns, ref, **kwargs)


# -- to_ohlcv_paths ---------------------------------------------------------------------------
class OverlayLike:
    """Stands in for regimes.overlay output: iterable, indexable, with to_dict()."""

    def __init__(self, frames):
        self.frames = frames

    def __iter__(self):
        return iter(self.frames)

    def __getitem__(self, i):
        return self.frames[i]

    def to_dict(self):
        return {f"p{i}": f for i, f in enumerate(self.frames)}


def test_every_container_of_paths_is_understood(prices, paths):
    frames = [prices.iloc[:60], prices.iloc[60:120]]
    from_returns = to_ohlcv_paths(paths, random_state=0)
    assert list(from_returns) == list(paths.columns)
    assert list(to_ohlcv_paths(frames)) == [0, 1]
    assert list(to_ohlcv_paths({"a": frames[0]})) == ["a"]
    assert list(to_ohlcv_paths(OverlayLike(frames))) == ["p0", "p1"]
    assert list(to_ohlcv_paths(prices.iloc[:60])) == [0]
    panel = pd.concat({"x": frames[0], "y": frames[0] * 2}, axis=1)
    out = to_ohlcv_paths(panel)
    assert list(out) == ["x", "y"]
    np.testing.assert_array_equal(out["y"]["data"]["Close"], 2 * frames[0]["Close"])
    lower = frames[0].rename(columns=str.lower)
    assert list(to_ohlcv_paths([lower])[0]["data"].columns) == [
        "Open",
        "High",
        "Low",
        "Close",
        "Volume",
    ]
    two = to_ohlcv_paths([{"a": frames[0], "b": frames[1]}])
    assert list(two[0]) == ["a", "b"]


def test_close_only_frames_get_open_high_low(prices):
    frame = prices[["Close"]].iloc[:80]
    out = to_ohlcv_paths([frame], reference=prices, random_state=0)[0]["data"]
    np.testing.assert_array_equal(out["Close"], frame["Close"])
    assert np.all(out["High"] >= out[["Open", "Close"]].max(axis=1))
    assert np.all(out["Low"] <= out[["Open", "Close"]].min(axis=1))


def test_prices_passed_as_returns_warn(prices):
    closes = pd.DataFrame({"a": prices["Close"].iloc[:50].to_numpy()}, index=prices.index[:50])
    with pytest.warns(DataWarning, match="look like prices"), pytest.raises(ValueError):
        to_ohlcv_paths(closes)


def test_unknown_containers_are_refused():
    with pytest.raises(TypeError, match="paths must be"):
        to_ohlcv_paths(42)
    with pytest.raises(ValueError, match="empty"):
        to_ohlcv_paths([])
    with pytest.raises(TypeError, match="OHLCV DataFrame"):
        to_ohlcv_paths([np.ones(5)])


# -- compute_metrics --------------------------------------------------------------------------
def test_metrics_by_hand():
    equity = np.array([110.0, 99.0, 121.0, 108.9])
    m = compute_metrics(equity, 100.0, n_trades=4, n_won=1, exposure=0.5, periods_per_year=4)
    r = np.array([0.1, -0.1, 121 / 99 - 1, 108.9 / 121 - 1])
    row = m.iloc[0]
    assert list(m.columns) == list(METRIC_COLUMNS)
    assert row["final_value"] == 108.9
    assert row["total_return"] == pytest.approx(0.089)
    assert row["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * 2)
    assert row["sortino"] == pytest.approx(r.mean() / np.sqrt(np.mean(np.minimum(r, 0) ** 2)) * 2)
    assert row["volatility"] == pytest.approx(r.std(ddof=1) * 2)
    assert row["cagr"] == pytest.approx(0.089)  # four periods = one year
    assert row["max_drawdown"] == pytest.approx(0.1)  # 110 -> 99
    assert row["win_rate"] == 0.25 and row["exposure"] == 0.5


def test_metrics_edge_cases():
    flat = compute_metrics(np.full(5, 100.0), 100.0, n_trades=0, n_won=0)
    assert flat.loc[0, "sharpe"] == 0 and flat.loc[0, "sortino"] == 0
    assert flat.loc[0, "max_drawdown"] == 0 and np.isnan(flat.loc[0, "win_rate"])
    rising = compute_metrics(np.array([101.0, 102.0]), 100.0)
    assert np.isnan(rising.loc[0, "sortino"])  # no losing bar
    ruined = compute_metrics(np.array([50.0, -10.0]), 100.0)
    assert ruined.loc[0, "cagr"] == -1 and ruined.loc[0, "max_drawdown"] == pytest.approx(1.1)
    # the initial value is the first peak
    assert compute_metrics(np.array([90.0, 95.0]), 100.0).loc[0, "max_drawdown"] == pytest.approx(
        0.1
    )
    panel = compute_metrics(np.column_stack([np.full(3, 100.0), [101.0, 99.0, 103.0]]), 100.0)
    assert len(panel) == 2 and panel.loc[1, "final_value"] == 103.0


# -- parallel_map, n_jobs ---------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sequential", "threading", "loky"])
def test_parallel_map_keeps_order(backend):
    assert parallel_map(square, range(7), n_jobs=2, backend=backend, progress=False) == [
        i * i for i in range(7)
    ]


def test_parallel_map_on_dask():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert parallel_map(square, range(9), backend="dask", progress=False) == [
            i * i for i in range(9)
        ]
        assert parallel_map(square, [3], backend=client, progress=False) == [9]


def test_check_n_jobs():
    cores = os.cpu_count() or 1
    assert check_n_jobs(None) == 1 and check_n_jobs(1) == 1 and check_n_jobs(-1) == cores
    with pytest.warns(UserWarning, match=f"exceeds the {cores} CPU cores"):
        assert check_n_jobs(cores + 3) == cores
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="n_jobs"):
            check_n_jobs(bad)
    with pytest.raises(ValueError, match="backend"):
        parallel_map(square, [1, 2], n_jobs=2, backend="spark", progress=False)


# -- StressResult -----------------------------------------------------------------------------
def make_result(with_history: bool = True) -> StressResult:
    index = pd.bdate_range("2020-01-01", periods=50)
    rng = np.random.default_rng(0)
    runs = {}
    for k in range(20):
        values = 100_000 * np.exp(np.cumsum(rng.normal(0.0005 * (k - 10), 0.01, 50)))
        runs[k] = PathRun(equity=pd.Series(values, index=index), n_trades=3, n_won=k % 4)
    runs[20] = PathRun.failed(ZeroDivisionError("float division by zero"))
    hist = PathRun(equity=pd.Series(np.linspace(100_000, 104_000, 50), index=index), n_trades=2)
    return StressResult.from_runs(runs, 100_000, historical=hist if with_history else None)


def test_summary_figures():
    result = make_result()
    summary = result.summary(alpha=0.1)
    ok = result.metrics[result.metrics["error"].isna()]
    assert summary.n_paths == 21 and summary.n_failed == 1
    assert summary.prob_loss == pytest.approx((ok["total_return"] < 0).mean())
    assert summary.sharpe_es == pytest.approx(np.sort(ok["sharpe"])[:2].mean())
    table = summary.table
    assert table.loc["final_value", "q50"] == pytest.approx(ok["final_value"].median())
    share = 100 * (ok["final_value"] < 104_000).mean()
    assert table.loc["final_value", "historical_pct"] == pytest.approx(share)
    assert "ZeroDivisionError" in result.errors[20]
    text = str(summary)
    assert "21 paths (1 failed)" in text and "historical_pct" in text


def test_plot_and_html(tmp_path):
    result = make_result()
    fig = result.plot()
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    html = result.to_html(tmp_path / "stress.html")
    assert (tmp_path / "stress.html").read_text() == html
    assert html.count("<img") == 1 and "Failed paths (1)" in html
    assert make_result(with_history=False).summary().table.columns[-1] == "q95"


def test_plot_with_paths_on_different_dates():
    runs = {
        "a": PathRun(
            equity=pd.Series([1.0, 2.0, 3.0], index=pd.bdate_range("2020-01-01", periods=3))
        ),
        "b": PathRun(equity=pd.Series([1.0, 2.0], index=pd.bdate_range("2021-01-01", periods=2))),
    }
    result = StressResult.from_runs(runs, 1.0)
    assert result.equity.shape == (5, 2)
    assert len(result.plot().axes) == 3
