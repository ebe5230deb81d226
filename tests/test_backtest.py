"""Tests of the numpy backtest engine (quantgan/backtest.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import quantgan as qg
from quantgan.backtest import BacktestResult, backtest, sma_crossover
from quantgan.stress import METRIC_COLUMNS, ohlcv_from_returns, to_ohlcv_paths


def bars(open_, close) -> pd.DataFrame:
    """A small OHLCV frame from opens and closes."""
    open_, close = np.asarray(open_, float), np.asarray(close, float)
    return pd.DataFrame(
        {
            "Open": open_,
            "High": np.maximum(open_, close) + 1,
            "Low": np.minimum(open_, close) - 1,
            "Close": close,
            "Volume": 1.0,
        },
        index=pd.bdate_range("2021-01-04", periods=len(close)),
    )


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return qg.load_sp500()


@pytest.fixture(scope="module")
def paths(prices) -> pd.DataFrame:
    return qg.BootstrapAugmenter().fit(qg.log_returns(prices)).sample(40, 400, random_state=2)


# -- accounting by hand -------------------------------------------------------------------------
def test_units_fill_at_the_next_open_with_costs():
    frame = bars([10, 11, 12, 13, 14], [10.5, 11.5, 12.5, 13.5, 14.5])
    # decided at the close of bars 0 and 2, filled at the opens of bars 1 and 3; the
    # position asked for on the last bar never fills
    positions = np.array([[2.0], [2.0], [0.0], [0.0], [5.0]])
    result = backtest(positions, [frame], cash=100.0, commission=0.01)
    cash_after_buy = 100 - 2 * 11 - 0.01 * 2 * 11
    cash_after_sell = cash_after_buy + 2 * 13 - 0.01 * 2 * 13
    expected = [
        100,
        cash_after_buy + 2 * 11.5,
        cash_after_buy + 2 * 12.5,
        cash_after_sell,
        cash_after_sell,
    ]
    np.testing.assert_allclose(result.equity[0], expected)
    assert result.positions[0].tolist() == [0, 2, 2, 0, 0]
    row = result.metrics.loc[0]
    assert row["n_trades"] == 1 and row["win_rate"] == 1.0 and row["exposure"] == 0.4
    assert result.orders["bar"].tolist() == [1, 3]
    assert result.orders["size"].tolist() == [2, -2]
    np.testing.assert_allclose(result.orders["commission"], [0.22, 0.26])


def test_reversals_close_one_trade_and_open_the_next():
    frame = bars([10, 10, 12, 11, 9, 9], [10, 10, 12, 11, 9, 9])
    positions = np.array([[1.0], [-1.0], [-1.0], [0.0], [0.0], [0.0]])
    result = backtest(positions, [frame], cash=100.0, commission=0.0)
    # long 1 at 10 (bar 1), reversed at 12 (bar 2): +2, won; short 1 at 12, covered at 9: +3, won
    assert result.positions[0].tolist() == [0, 1, -1, -1, 0, 0]
    assert result.metrics.loc[0, "n_trades"] == 2 and result.metrics.loc[0, "win_rate"] == 1.0
    assert result.metrics.loc[0, "final_value"] == pytest.approx(105.0)
    # a losing short: short at 10 (bar 1), covered at 11 (bar 3)
    losing = backtest(np.array([[-1.0], [-1.0], [0.0], [0], [0], [0]]), [frame], cash=100.0)
    assert losing.metrics.loc[0, "win_rate"] == 0.0
    assert losing.metrics.loc[0, "final_value"] == pytest.approx(99.0)


def test_scaling_in_and_out_is_one_trade():
    frame = bars([10, 10, 11, 12, 13, 13], [10, 10, 11, 12, 13, 13])
    positions = np.array([[1.0], [3.0], [2.0], [0.0], [0.0], [0.0]])
    result = backtest(positions, [frame], cash=100.0, commission=0.001)
    assert result.metrics.loc[0, "n_trades"] == 1
    flows = -(1 * 10) - (2 * 11) + (1 * 12) + (2 * 13)
    costs = 0.001 * (10 + 22 + 12 + 26)
    assert result.metrics.loc[0, "final_value"] == pytest.approx(100 + flows - costs)


def test_fraction_sizing_at_the_deciding_close():
    frame = bars([10, 20, 20, 25, 25], [10, 20, 25, 25, 30])
    targets = np.array([[0.5], [0.5], [0.5], [1.0], [1.0]])
    result = backtest(targets, [frame], cash=1000.0, sizing="fraction")
    # bar 0: 0.5 * 1000 / 10 = 50 units, filled at 20 -> cash 0; bar 3: equity 1250,
    # target 1.0 -> 1250 / 25 = 50 units: no change
    assert result.positions[0].tolist() == [0, 50, 50, 50, 50]
    assert result.equity[0].tolist() == [1000, 1000, 1250, 1250, 1500]
    halves = backtest(np.full((5, 1), 0.5), [frame], cash=1000.0, sizing="fraction")
    assert halves.positions[0].tolist() == [0, 50, 50, 50, 50]  # held, not rebalanced


def test_borrowing_is_flagged():
    frame = bars([10, 11, 12], [10, 11, 12])
    with pytest.warns(UserWarning, match="cash went negative on 1 of 1"):
        result = backtest(np.full((3, 1), 20.0), [frame], cash=100.0)
    assert result.metrics.loc[0, "min_cash"] == 100 - 20 * 11


def test_nan_positions_mean_flat_and_signal_cannot_touch_prices():
    frame = bars([10, 11, 12], [10, 11, 12])

    def signal(close):
        with pytest.raises(ValueError, match="read-only"):
            close[0, 0] = 0.0
        out = np.full(close.shape, np.nan)
        out[1] = 1.0
        return out

    result = backtest(signal, [frame], cash=100.0)
    assert result.positions[0].tolist() == [0, 0, 1]


# -- SMA crossover --------------------------------------------------------------------------------
def sma_reference(close: np.ndarray, fast: int, slow: int, size: float) -> np.ndarray:
    """backtrader's SmaCross logic, bar by bar in plain Python."""
    n = len(close)
    sma = lambda p, t: math.fsum(close[t - p + 1 : t + 1]) / p  # noqa: E731
    out = np.zeros(n)
    nzd = sma(fast, slow - 1) - sma(slow, slow - 1)
    long = False
    for t in range(slow, n):
        d = sma(fast, t) - sma(slow, t)
        if not long and nzd < 0 and d > 0:
            long = True
        elif long and nzd > 0 and d < 0:
            long = False
        nzd = d if d != 0 else nzd
        out[t] = size if long else 0.0
    return out


def test_sma_crossover_matches_a_bar_by_bar_reference(paths, prices):
    panel = ohlcv_from_returns(paths.iloc[:, :6], prices, random_state=0)
    close = np.column_stack([f["Close"].to_numpy() for f in panel.values()])
    got = sma_crossover(5, 20, size=3)(close)
    for j in range(close.shape[1]):
        np.testing.assert_array_equal(got[:, j], sma_reference(close[:, j], 5, 20, 3))


def test_sma_crossover_on_exact_ties():
    # flat stretches make the two averages exactly equal: a cross compares with the
    # last non-zero difference, as backtrader's CrossOver does
    close = np.r_[
        np.full(25, 100.0),
        np.linspace(100, 90, 10),
        np.full(30, 90.0),
        np.linspace(90, 99, 10),
        np.full(30, 99.0),
        np.linspace(99, 80, 10),
    ]
    close = close + np.arange(len(close)) % 3 * 0.1  # rounding noise in the sums
    got = sma_crossover(3, 8)(close)
    np.testing.assert_array_equal(got[:, 0], sma_reference(close, 3, 8, 1.0))
    assert got.any()


def test_sma_crossover_bad_input():
    with pytest.raises(ValueError, match="shorter"):
        sma_crossover(30, 10)
    with pytest.raises(ValueError, match="positive int"):
        sma_crossover(0, 10)
    assert not sma_crossover(3, 50)(np.linspace(1, 2, 40)).any()  # too short: flat


# -- inputs -----------------------------------------------------------------------------------------
def test_every_input_form_gives_the_same_result(paths, prices):
    signal = sma_crossover(10, 30, size=5)
    from_returns = backtest(signal, paths, commission=0.001, random_state=9)
    frames = {k: v["data"] for k, v in to_ohlcv_paths(paths, random_state=9).items()}
    from_frames = backtest(signal, frames, commission=0.001)
    panel = pd.concat(frames, axis=1)
    from_panel = backtest(signal, panel, commission=0.001)
    fields = {f: pd.DataFrame({k: v[f] for k, v in frames.items()}) for f in ("Open", "Close")}
    from_fields = backtest(signal, fields, commission=0.001)
    for other in (from_frames, from_panel, from_fields):
        pd.testing.assert_frame_equal(from_returns.metrics, other.metrics)
    assert isinstance(from_returns, BacktestResult)
    assert list(from_returns.metrics.columns[: len(METRIC_COLUMNS)]) == list(METRIC_COLUMNS)
    assert from_returns.equity.shape == (400, 40)


def test_historical_run_and_report(paths, prices):
    result = backtest(
        sma_crossover(10, 30, size=5), paths, historical=prices.iloc[-800:], random_state=0
    )
    assert result.historical["n_trades"] > 0
    assert result.historical_equity.index.equals(prices.index[-800:])
    assert 0 <= result.summary().table.loc["sharpe", "historical_pct"] <= 100
    assert "<img" in result.to_html()


def test_blocks_do_not_change_results(paths):
    # 120 paths run in blocks of 64: each path gives what it gives alone
    wide = pd.concat([paths] * 3, axis=1, ignore_index=True)
    frames = {k: v["data"] for k, v in to_ohlcv_paths(wide, random_state=0).items()}
    result = backtest(sma_crossover(10, 30), frames, commission=0.001)
    for k in (0, 63, 64, 119):
        alone = backtest(sma_crossover(10, 30), {k: frames[k]}, commission=0.001)
        pd.testing.assert_series_equal(result.metrics.loc[k], alone.metrics.loc[k])
        pd.testing.assert_series_equal(result.equity[k], alone.equity[k])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sizing": "shares"}, "sizing"),
        ({"cash": 0}, "cash"),
        ({"commission": -0.1}, "commission"),
        ({"cash": float("nan")}, "cash"),
    ],
)
def test_bad_settings(paths, kwargs, match):
    with pytest.raises(ValueError, match=match):
        backtest(sma_crossover(), paths, **kwargs)


def test_bad_signals_and_paths(prices):
    frame = prices.iloc[:50]
    with pytest.raises(ValueError, match="shape"):
        backtest(lambda c: np.zeros((3, 3)), [frame])
    with pytest.raises(ValueError, match="infinite"):
        backtest(lambda c: np.full(c.shape, np.inf), [frame])
    with pytest.raises(ValueError, match="one length"):
        backtest(sma_crossover(), [frame, prices.iloc[:60]])
    with pytest.raises(ValueError, match="no Close column"):
        backtest(sma_crossover(), [frame.drop(columns=["Close", "Adj Close"])])
    bad_panel = pd.concat({"a": frame, "b": frame.assign(Close=-frame["Close"])}, axis=1)
    with pytest.raises(ValueError, match="non-positive"):
        backtest(sma_crossover(), bad_panel)


def test_field_panels_must_line_up(prices):
    frame = prices.iloc[:50]
    close = pd.DataFrame({"a": frame["Close"], "b": frame["Close"]})
    with pytest.raises(ValueError, match="same dates and the same paths"):
        backtest(sma_crossover(), {"Open": close[["a"]], "Close": close})
    with pytest.raises(ValueError, match="same dates"):
        backtest(sma_crossover(), {"Open": close.iloc[1:], "Close": close})
