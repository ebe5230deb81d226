import sys

import numpy as np
import pandas as pd
import pytest

import quantgan as qg
from quantgan import data


def test_load_sp500_is_the_bundled_daily_ohlcv():
    prices = qg.load_sp500()
    assert list(prices.columns) == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    assert isinstance(prices.index, pd.DatetimeIndex)
    assert prices.index[0] == pd.Timestamp("1999-01-04")
    assert prices.index[-1] == pd.Timestamp("2018-12-31")
    assert len(prices) == 5031
    assert prices.index.is_monotonic_increasing


def test_log_returns_of_ohlcv_uses_adj_close(sp500_returns):
    prices = qg.load_sp500()
    expected = np.log(prices["Adj Close"].to_numpy()[1:] / prices["Adj Close"].to_numpy()[:-1])
    np.testing.assert_allclose(sp500_returns.to_numpy(), expected, rtol=0, atol=1e-14)
    assert len(sp500_returns) == 5030
    assert sp500_returns.index[0] == pd.Timestamp("1999-01-05")


def test_log_returns_falls_back_to_close_and_handles_frames_of_closes():
    idx = pd.bdate_range("2020-01-01", periods=4)
    ohlc = pd.DataFrame({"close": [100.0, 110.0, 99.0, 99.0]}, index=idx)
    r = qg.log_returns(ohlc)
    np.testing.assert_allclose(r.to_numpy(), np.log([1.1, 0.9, 1.0]))
    closes = pd.DataFrame({"A": [1.0, 2.0, 4.0], "B": [1.0, 1.0, 0.5]}, index=idx[:3])
    rr = qg.log_returns(closes)
    assert list(rr.columns) == ["A", "B"]
    np.testing.assert_allclose(rr.to_numpy(), np.log([[2, 1], [2, 0.5]]))


def test_log_returns_does_not_mutate_and_rejects_bad_prices():
    s = pd.Series([1.0, 2.0, 3.0])
    before = s.copy()
    qg.log_returns(s)
    pd.testing.assert_series_equal(s, before)
    with pytest.raises(ValueError, match="positive"):
        qg.log_returns(pd.Series([1.0, -2.0, 3.0]))
    with pytest.raises(TypeError, match="Series or DataFrame"):
        qg.log_returns(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="at least 2"):
        qg.log_returns(pd.Series([1.0]))
    with pytest.warns(UserWarning, match="NaN"):
        qg.log_returns(pd.Series([1.0, np.nan, 2.0]))


def test_read_csv_detects_columns_any_case_and_sorts(tmp_path):
    path = tmp_path / "bars.csv"
    path.write_text(
        "TIMESTAMP,OPEN,high,Low,close,ADJ_CLOSE,vol,volume\n"
        "2020-01-03,3,4,2,3.5,3.4,1,100\n"
        "2020-01-02,2,3,1,2.5,2.4,1,200\n"
    )
    frame = qg.read_csv(path)
    assert list(frame.columns) == ["Open", "High", "Low", "Close", "Adj Close", "vol", "Volume"]
    assert list(frame.index) == [pd.Timestamp("2020-01-02"), pd.Timestamp("2020-01-03")]
    assert frame.loc["2020-01-02", "Adj Close"] == 2.4


def test_read_csv_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a file"):
        qg.read_csv(tmp_path / "missing.csv")
    dup = tmp_path / "dup.csv"
    dup.write_text("date,close\n2020-01-02,1\n2020-01-02,2\n")
    with pytest.raises(ValueError, match="duplicated dates"):
        qg.read_csv(dup)
    bad = tmp_path / "bad.csv"
    bad.write_text("when,close\nyesterday,1\nnever,2\n")
    with pytest.raises(ValueError, match="date_column"):
        qg.read_csv(bad)
    with pytest.raises(ValueError, match="date_column 'x'"):
        qg.read_csv(dup, date_column="x")


class _FakeYF:
    def __init__(self, frame):
        self.frame, self.calls = frame, 0

    def download(self, *args, **kwargs):
        self.calls += 1
        return self.frame


def test_download_offline_empty_frame_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "yfinance", _FakeYF(pd.DataFrame()))
    with pytest.raises(ConnectionError, match=r"no data for 'SPY'.*empty frame"):
        data.download("SPY", "2020-01-01", "2020-02-01", cache_dir=tmp_path)


def test_download_flattens_multiindex_and_caches(monkeypatch, tmp_path):
    idx = pd.DatetimeIndex(["2020-01-02", "2020-01-03"], name="Date")
    cols = pd.MultiIndex.from_product(
        [["Adj Close", "Close", "High", "Low", "Open", "Volume"], ["SPY"]]
    )
    frame = pd.DataFrame(np.arange(12.0).reshape(2, 6) + 1, index=idx, columns=cols)
    fake = _FakeYF(frame)
    monkeypatch.setitem(sys.modules, "yfinance", fake)
    first = data.download("SPY", "2020-01-01", "2020-02-01", cache_dir=tmp_path)
    assert list(first.columns) == ["Adj Close", "Close", "High", "Low", "Open", "Volume"]
    second = data.download("SPY", "2020-01-01", "2020-02-01", cache_dir=tmp_path)
    assert fake.calls == 1  # served from the on-disk cache
    np.testing.assert_allclose(second.to_numpy(), first.to_numpy())
    data.download("SPY", "2020-01-01", "2020-02-01", cache_dir=tmp_path, refresh=True)
    assert fake.calls == 2


def test_download_without_yfinance_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "yfinance", None)
    with pytest.raises(ImportError, match=r"quantgan\[yfinance\]"):
        data.download("SPY", cache_dir=tmp_path)


def test_load_wti_is_the_bundled_oil_spot_price_without_missing_days():
    wti = qg.load_wti()
    assert list(wti.columns) == ["Close"] and wti.index.name == "Date"
    assert wti.index[0] == pd.Timestamp("1999-01-04")
    assert wti.index[-1] == pd.Timestamp("2018-12-28")
    assert wti.index.is_monotonic_increasing and not wti.index.has_duplicates
    assert len(wti) == 5020 and wti["Close"].notna().all() and (wti["Close"] > 0).all()
    # Aligned on the days both have, oil and stocks hardly co-move.
    prices = {"sp500": qg.load_sp500()["Adj Close"], "wti": wti["Close"]}
    returns = qg.log_returns(pd.concat(prices, axis=1, join="inner"))
    assert returns.notna().all().all()
    assert 0.1 < returns.corr().iloc[0, 1] < 0.3


def test_load_nasdaq_is_a_second_bundled_series_on_the_same_dates():
    nasdaq, sp500 = qg.load_nasdaq(), qg.load_sp500()
    assert list(nasdaq.columns) == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    assert nasdaq.index.equals(sp500.index) and nasdaq.index.name == "Date"
    both = pd.DataFrame({"sp500": qg.log_returns(sp500), "nasdaq": qg.log_returns(nasdaq)})
    # Two US equity indices: strongly but not perfectly correlated daily returns.
    assert 0.8 < both.corr().iloc[0, 1] < 0.95
