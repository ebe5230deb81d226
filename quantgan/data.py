"""Market data: the bundled S&P 500, CSV files, yfinance downloads, log returns.

Everything here works offline except :func:`download`, which needs yfinance and a
network and caches what it gets on disk.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from quantgan._io import atomic_path
from quantgan._stack import _external_stacklevel

__all__ = ["download", "load_nasdaq", "load_sp500", "load_wti", "log_returns", "read_csv"]

#: Canonical OHLCV column names, keyed by their lower-case, separator-free spelling.
_CANONICAL = {
    "open": "Open",
    "high": "High",
    "low": "Low",
    "close": "Close",
    "adjclose": "Adj Close",
    "adjustedclose": "Adj Close",
    "volume": "Volume",
}
_DATE_NAMES = ("date", "datetime", "timestamp", "time", "day")


def _key(name: object) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def _canonical_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename OHLCV columns to canonical case ("adj_close" -> "Adj Close"); keep others."""
    mapping = {col: _CANONICAL[_key(col)] for col in frame.columns if _key(col) in _CANONICAL}
    targets = list(mapping.values())
    dupes = sorted({t for t in targets if targets.count(t) > 1})
    if dupes:
        raise ValueError(
            f"columns {[c for c in mapping if mapping[c] in dupes]} all map to {dupes}; "
            "keep one of them (e.g. frame.drop(columns=[...]))"
        )
    return frame.rename(columns=mapping)


def _arch_bars(dataset) -> pd.DataFrame:
    """One of ``arch.data``'s bundled daily bar sets, in this package's columns."""
    frame = dataset.load().copy()
    frame.index = pd.DatetimeIndex(frame.index, name="Date")
    return _canonical_columns(frame)


def load_sp500() -> pd.DataFrame:
    """Daily S&P 500 bars, 1999-01-04 to 2018-12-31, bundled with ``arch`` (offline).

    Returns
    -------
    DataFrame
        Columns ``Open, High, Low, Close, Adj Close, Volume``; a ``DatetimeIndex``
        named ``Date`` (5031 rows).

    Examples
    --------
    >>> prices = load_sp500()
    >>> prices.shape
    (5031, 6)
    """
    from arch.data import sp500

    return _arch_bars(sp500)


def load_nasdaq() -> pd.DataFrame:
    """Daily NASDAQ Composite bars, 1999-01-04 to 2018-12-31, bundled with ``arch``.

    The same dates as :func:`load_sp500`: a second real series, offline, for models of
    several assets at once.

    Examples
    --------
    >>> prices = load_nasdaq()
    >>> prices.shape, bool(prices.index.equals(load_sp500().index))
    ((5031, 6), True)
    """
    from arch.data import nasdaq

    return _arch_bars(nasdaq)


def load_wti() -> pd.DataFrame:
    """Daily WTI crude oil spot prices, 1999-01-04 to 2018-12-28, bundled with ``arch``.

    FRED's series DCOILWTICO (dollars per barrel, Cushing, Oklahoma): a commodity
    next to the two stock indices, with about twice their volatility and its own
    shocks (its returns correlate about 0.19 with the S&P 500's). Only a closing
    price is published, so the frame has one column, ``Close``. Days without a
    price (197, mostly holidays) are dropped, so a return may span them; the dates
    are not those of :func:`load_sp500` (align with ``pd.concat(..., join="inner")``).

    Examples
    --------
    >>> prices = load_wti()
    >>> prices.shape, list(prices.columns)
    ((5020, 1), ['Close'])
    """
    from arch.data import wti

    prices = wti.load()["DCOILWTICO"].dropna().loc["1999-01-01":"2018-12-31"]
    frame = prices.astype(float).to_frame("Close")
    frame.index = pd.DatetimeIndex(frame.index, name="Date")
    return frame


def _validate_dates(index: pd.DatetimeIndex, source: str) -> None:
    if index.hasnans:
        raise ValueError(f"{source} has {int(index.isna().sum())} unparseable or missing dates")
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise ValueError(
            f"{source} has duplicated dates (first: {dup.date()}); "
            "drop them, e.g. frame[~frame.index.duplicated()]"
        )


def read_csv(path: str | os.PathLike, *, date_column: str | None = None, **kwargs) -> pd.DataFrame:
    """Read OHLCV bars from a CSV file.

    The date column is ``date_column`` or the first column called date / datetime /
    timestamp / time (any case), else the first column. OHLCV columns are detected
    case-insensitively ("close", "Adj_Close", "ADJ CLOSE") and renamed to
    ``Open, High, Low, Close, Adj Close, Volume``; other columns are kept. Rows are
    returned in increasing date order (files listed newest first are common).

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    date_column : str, optional
        Name of the date column, when it cannot be guessed.
    **kwargs
        Passed to :func:`pandas.read_csv`.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing file, no parseable date column, duplicated dates.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path {str(path)!r} is not a file")
    frame = pd.read_csv(path, **kwargs)
    if frame.empty:
        raise ValueError(f"{path} has no rows")
    if date_column is None:
        keys = {_key(c): c for c in frame.columns}
        date_column = next((keys[k] for k in _DATE_NAMES if k in keys), frame.columns[0])
    elif date_column not in frame.columns:
        raise ValueError(
            f"date_column {date_column!r} is not a column of {path}; columns are "
            f"{list(frame.columns)}"
        )
    try:
        with warnings.catch_warnings():
            # "Could not infer format" is noise here: a failure is reported below.
            warnings.simplefilter("ignore", UserWarning)
            dates = pd.to_datetime(frame[date_column])
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"column {date_column!r} of {path} does not parse as dates ({exc}); "
            "name the date column with date_column="
        ) from exc
    frame = frame.drop(columns=[date_column])
    frame.index = pd.DatetimeIndex(dates, name="Date")
    _validate_dates(frame.index, str(path))
    frame = _canonical_columns(frame).sort_index(kind="stable")
    return frame


def _cache_dir(cache_dir: str | os.PathLike | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    root = os.environ.get("QUANTGAN_CACHE") or os.environ.get("XDG_CACHE_HOME")
    return Path(root) / "quantgan" if root else Path.home() / ".cache" / "quantgan"


def download(
    ticker: str,
    start: str | None = None,
    end: str | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    refresh: bool = False,
) -> pd.DataFrame:
    """Daily OHLCV bars from Yahoo! Finance through ``yfinance``, cached on disk.

    Needs ``pip install yfinance`` and a network the first time; later calls with the
    same arguments read the cache (``$QUANTGAN_CACHE``, else ``~/.cache/quantgan``).

    Parameters
    ----------
    ticker : str
        One symbol, e.g. ``"SPY"``.
    start, end : str, optional
        Date bounds as understood by yfinance (``"2010-01-01"``).
    cache_dir : path-like, optional
        Where to cache; default as above.
    refresh : bool, default False
        Download again even when cached.

    Raises
    ------
    ImportError
        yfinance is not installed.
    ConnectionError
        yfinance returned no rows (offline, unknown ticker, or rate-limited: yfinance
        does not raise in these cases, it returns an empty frame).
    """
    if not isinstance(ticker, str) or not ticker.strip():
        raise ValueError(f"ticker must be a non-empty string, got {ticker!r}")
    key = hashlib.sha1(f"{ticker}|{start}|{end}".encode()).hexdigest()[:12]
    cache = _cache_dir(cache_dir) / f"yf-{_key(ticker)}-{key}.csv"
    if cache.is_file() and not refresh:
        return read_csv(cache)
    try:
        import yfinance as yf
    except ImportError as exc:
        raise ImportError(
            "download() needs yfinance: pip install 'quantgan[yfinance]'. Offline, use "
            "quantgan.load_sp500() or quantgan.read_csv(path)."
        ) from exc
    frame = yf.download(ticker, start=start, end=end, auto_adjust=False, progress=False)
    if frame is None or len(frame) == 0:
        raise ConnectionError(
            f"yfinance returned no data for {ticker!r} ({start} to {end}): no network, an "
            "unknown ticker, or Yahoo rate-limiting (yfinance reports these as an empty frame, "
            "not an error). Offline, use quantgan.load_sp500() or quantgan.read_csv(path)."
        )
    if isinstance(frame.columns, pd.MultiIndex):
        # yfinance >= 0.2.51 returns (field, ticker) columns even for one ticker.
        frame = frame.copy()
        frame.columns = frame.columns.get_level_values(0)
    frame = _canonical_columns(frame)
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index), name="Date").tz_localize(None)
    with atomic_path(cache) as tmp:
        frame.to_csv(tmp)
    return frame


def _price_column(frame: pd.DataFrame) -> str | None:
    keys = {_key(c): c for c in frame.columns}
    for name in ("adjclose", "adjustedclose", "close"):
        if name in keys:
            return keys[name]
    return None


def log_returns(prices: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    """Log returns ``ln(P_t / P_{t-1})`` of prices; the first row is dropped.

    Parameters
    ----------
    prices : Series or DataFrame
        A price series, a frame of closes (one column per asset), or an OHLCV frame
        (``Adj Close`` is used when present, else ``Close``).

    Returns
    -------
    Series or DataFrame
        A Series for a price series or an OHLCV frame, a DataFrame for a frame of closes.

    Examples
    --------
    >>> r = log_returns(load_sp500())
    >>> len(r)
    5030
    """
    if isinstance(prices, pd.DataFrame):
        column = _price_column(prices)
        if column is not None:
            series = prices[column]
            if isinstance(series, pd.DataFrame):
                raise ValueError(f"prices has several columns named {column!r}; keep one")
            return log_returns(series).rename("log_return")
    elif not isinstance(prices, pd.Series):
        raise TypeError(
            f"prices must be a pandas Series or DataFrame, got {type(prices).__name__}; "
            "wrap arrays with pd.Series(values, index=dates)"
        )
    try:
        values = prices.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"prices must be numeric ({exc})") from exc
    arr = values.to_numpy()
    if len(arr) < 2:
        raise ValueError(f"prices needs at least 2 rows to make a return, got {len(arr)}")
    finite = arr[np.isfinite(arr)]
    if finite.size and finite.min() <= 0:
        raise ValueError(
            f"prices must be positive for log returns, found min {finite.min():g}; "
            "pass prices (not returns), or returns directly to the augmenter"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(values).diff().iloc[1:]
    if out.isna().to_numpy().any():
        warnings.warn(
            "prices contain NaN; the affected returns are NaN. Drop or fill them "
            "(e.g. prices.ffill()) before fitting an augmenter.",
            stacklevel=_external_stacklevel(),
        )
    return out
