"""Stylized-fact metrics: compare synthetic return paths with historical returns.

Conventions used by every function in this module:

* ``real`` is a 1-D array or :class:`pandas.Series` of (log) returns ordered in
  time. Functions about several assets (:func:`cross_correlation`,
  :func:`cross_correlation_gap`) take a 2-D ``(n_timesteps, n_assets)`` array or
  DataFrame instead.
* ``synthetic`` is a 2-D array or DataFrame of shape ``(n_timesteps, n_paths)``:
  rows are time, columns are paths, which is what ``augmenter.sample(n)``
  returns. A 1-D input is read as a single path. For several assets, a DataFrame
  with MultiIndex columns ``(path, asset)`` (or a 3-D array
  ``(n_timesteps, n_paths, n_assets)``) is accepted; single-asset metrics accept
  it only when it holds one asset and otherwise raise a ``ValueError`` that says
  how to select one.
* Inputs may be numpy arrays or pandas objects; they are never modified.
  Non-finite values (NaN, inf) raise ``ValueError``.
* Returns are treated as log returns: cumulative returns are sums, and drawdowns
  are measured on the cumulative log-return path.

:func:`stylized_facts` bundles the scalar scores used by the evaluation report.

References
----------
.. [Cont2001] R. Cont, "Empirical properties of asset returns: stylized facts and
   statistical issues", Quantitative Finance 1 (2001) 223-236.
.. [Bouchaud2001] J.-P. Bouchaud, A. Matacz, M. Potters, "Leverage effect in
   financial markets: the retarded volatility model", Phys. Rev. Lett. 87 (2001).
.. [Lo1988] A. W. Lo, A. C. MacKinlay, "Stock market prices do not follow random
   walks: evidence from a simple specification test", Review of Financial Studies 1
   (1988) 41-66.
.. [Hill1975] B. M. Hill, "A simple general approach to inference about the tail
   of a distribution", Annals of Statistics 3 (1975) 1163-1174.
.. [Wiese2020] M. Wiese, R. Knobloch, R. Korn, P. Kretschmer, "Quant GANs: deep
   generation of financial time series", Quantitative Finance 20 (2020) 1419-1440.
.. [Yoon2019] J. Yoon, D. Jarrett, M. van der Schaar, "Time-series generative
   adversarial networks", NeurIPS 2019.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import fft as sp_fft

__all__ = [
    "HILL_FRACTION",
    "acf",
    "acf_score",
    "cross_correlation",
    "cross_correlation_gap",
    "discriminative_score",
    "drawdown_distance",
    "drawdowns",
    "emd",
    "hill_estimator",
    "leverage_effect",
    "leverage_score",
    "memorization_score",
    "path_diversity",
    "predictive_score",
    "stylized_facts",
    "summary_statistics",
    "variance_ratio",
    "wasserstein1",
]

#: Default share of the sample used as tail size ``k`` by :func:`hill_estimator`.
HILL_FRACTION = 0.05

Transform = Literal["identity", "abs", "square"]
_TRANSFORMS = ("identity", "abs", "square")
# Number of columns pushed through one FFT; bounds peak memory for many paths.
_FFT_CHUNK = 256


# --------------------------------------------------------------------------- #
# Input handling
# --------------------------------------------------------------------------- #
def _to_float(x: Any, name: str) -> np.ndarray:
    """Convert ``x`` to a float64 array without modifying it."""
    try:
        if isinstance(x, (pd.Series, pd.DataFrame)):
            arr = x.to_numpy(dtype=float, na_value=np.nan)
        else:
            arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must contain numbers (returns); could not convert it to floats "
            f"({exc}). Pass a numeric numpy array, Series or DataFrame."
        ) from exc
    return arr


def _check_finite(arr: np.ndarray, name: str) -> None:
    finite = np.isfinite(arr)
    if not finite.all():
        bad = np.argwhere(~finite)
        first = tuple(int(i) for i in bad[0])
        position = first[0] if len(first) == 1 else first
        raise ValueError(
            f"{name} must contain only finite values, but it has {len(bad)} NaN or "
            f"infinite value(s) (first at position {position}: {arr[first]!r}). "
            "Drop or fill missing values first, e.g. returns.dropna()."
        )


def _check_length(n: int, minimum: int, name: str) -> None:
    if n < minimum:
        raise ValueError(
            f"{name} needs at least {minimum} time steps; got {n}. Pass a longer series."
        )


def _as_series(x: Any, name: str = "real", min_length: int = 3) -> np.ndarray:
    """A single return series as a 1-D float array (a one-column 2-D input is accepted)."""
    arr = _to_float(x, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D series of returns (or a single column); got an array "
            f"of shape {arr.shape}. For several assets evaluate one asset column at a "
            "time, or use cross_correlation for cross-asset structure."
        )
    _check_finite(arr, name)
    _check_length(arr.shape[0], min_length, name)
    return arr


def _multiindex_to_3d(df: pd.DataFrame, name: str) -> tuple[np.ndarray, list[Any]]:
    """DataFrame with MultiIndex columns (path, asset) -> (T, P, A) array and asset labels."""
    if df.columns.nlevels != 2:
        raise ValueError(
            f"{name} has {df.columns.nlevels} column levels; expected 2 levels (path, asset)."
        )
    paths = list(pd.unique(df.columns.get_level_values(0)))
    assets = list(pd.unique(df.columns.get_level_values(1)))
    full = pd.MultiIndex.from_product([paths, assets])
    if len(full) != df.shape[1] or not full.isin(df.columns).all():
        raise ValueError(
            f"{name} must hold every (path, asset) column exactly once; found "
            f"{df.shape[1]} columns for {len(paths)} paths x {len(assets)} assets."
        )
    arr = _to_float(df.reindex(columns=full), name)
    return arr.reshape(df.shape[0], len(paths), len(assets)), assets


def _as_paths(x: Any, name: str = "synthetic", min_length: int = 3) -> np.ndarray:
    """Synthetic paths as a (T, P) float array; a 1-D input is one path."""
    if isinstance(x, pd.DataFrame) and x.columns.nlevels > 1:
        arr, assets = _multiindex_to_3d(x, name)
    else:
        arr = _to_float(x, name)
        assets = None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim == 3:
        if arr.shape[2] != 1:
            labels = f" {assets!r}" if assets is not None else ""
            raise ValueError(
                f"{name} holds {arr.shape[2]} assets{labels}, but this metric compares "
                "a single asset. Select one asset first, e.g. "
                "synthetic.xs(asset, axis=1, level=1) for MultiIndex columns (path, asset) "
                "or synthetic[:, :, j] for a 3-D array."
            )
        arr = arr[:, :, 0]
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_timesteps, n_paths); got an array "
            f"of shape {arr.shape}."
        )
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must contain at least one path (column); got none.")
    _check_finite(arr, name)
    _check_length(arr.shape[0], min_length, name)
    return arr


def _as_assets(x: Any, name: str) -> tuple[np.ndarray, list[Any] | None]:
    """Multi-asset returns as a (T, P, A) array (P = 1 for a single history) and labels."""
    if isinstance(x, pd.DataFrame) and x.columns.nlevels > 1:
        arr, assets = _multiindex_to_3d(x, name)
    else:
        arr = _to_float(x, name)
        assets = list(x.columns) if isinstance(x, pd.DataFrame) else None
        if arr.ndim == 2:
            arr = arr[:, None, :]
    if arr.ndim != 3:
        raise ValueError(
            f"{name} must be 2-D (n_timesteps, n_assets), a DataFrame with MultiIndex "
            "columns (path, asset), or a 3-D array (n_timesteps, n_paths, n_assets); "
            f"got an array of shape {arr.shape}."
        )
    if arr.shape[2] < 2:
        raise ValueError(
            f"{name} must hold at least 2 assets to compute cross-asset correlations; "
            f"got {arr.shape[2]}."
        )
    _check_finite(arr, name)
    _check_length(arr.shape[0], 3, name)
    return arr, assets


def _check_int(
    value: Any, name: str, minimum: int, maximum: int | None = None, hint: str = ""
) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer; got {value!r}.")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise ValueError(f"{name} must be >= {minimum}{upper}; got {value}.{hint}")
    return value


def _check_lag(value: Any, name: str, length: int, what: str) -> int:
    """A lag must satisfy 1 <= lag < length of the series it is applied to."""
    return _check_int(
        value,
        name,
        1,
        length - 1,
        hint=f" It must be smaller than the length of {what} ({length}); use a smaller "
        f"{name} or a longer series.",
    )


def _lag_list(lags: Any) -> list[Any]:
    """``lags`` (one lag or an iterable of them) as a non-empty list, unchecked."""
    out = [lags] if isinstance(lags, (int, np.integer)) else list(lags)
    if not out:
        raise ValueError("lags must contain at least one lag; got an empty sequence.")
    return out


def _check_fraction(value: Any, name: str, low: float = 0.0, high: float = 1.0) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in ({low}, {high}); got {value!r}.") from None
    if not (low < v < high):
        raise ValueError(f"{name} must lie strictly between {low} and {high}; got {value!r}.")
    return v


def _check_transform(transform: str) -> str:
    if transform not in _TRANSFORMS:
        raise ValueError(f"transform must be one of {_TRANSFORMS}; got {transform!r}.")
    return transform


def _apply_transform(x: np.ndarray, transform: str) -> np.ndarray:
    if transform == "abs":
        return np.abs(x)
    if transform == "square":
        return np.square(x)
    return x


def _rng(random_state: Any) -> np.random.Generator:
    return np.random.default_rng(random_state)


def _seed(random_state: Any) -> int:
    """An integer seed for libraries that do not accept numpy Generators."""
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    return int(_rng(random_state).integers(0, 2**31 - 1))


def _check_no_constant(X: np.ndarray, name: str, what: str) -> None:
    constant = np.all(X == X[:1], axis=0)
    if np.any(constant):
        idx = np.flatnonzero(constant)
        raise ValueError(
            f"{name} has {idx.size} constant column(s) (first: column {int(idx[0])}); "
            f"{what} is undefined for a series with zero variance."
        )


def _windows(X: np.ndarray, window: int, stride: int = 1) -> np.ndarray:
    """Rolling windows of a (T, P) array -> (n_windows, P, window) read-only view."""
    view = np.lib.stride_tricks.sliding_window_view(X, window, axis=0)
    return view[::stride]


# --------------------------------------------------------------------------- #
# Distribution
# --------------------------------------------------------------------------- #
def _hill_k(k: Any, n: int) -> int:
    if k is None:
        k = max(1, int(HILL_FRACTION * n))
    elif isinstance(k, float) and not isinstance(k, bool):
        k = max(1, int(_check_fraction(k, "k") * n))
    return _check_int(
        k,
        "k",
        1,
        n - 1,
        hint=f" k is the number of tail observations and must be smaller than the sample "
        f"size ({n}); use a smaller k (default: {HILL_FRACTION:.0%} of the sample).",
    )


def _hill_columns(X: np.ndarray, tail: str, k: int, name: str) -> np.ndarray:
    losses = -X if tail == "left" else X
    # Top k+1 order statistics per column without a full sort: after partitioning
    # -losses at index k, entry k is the (k+1)-th largest loss and entries < k the k largest.
    part = np.partition(-losses, k, axis=0)
    threshold = -part[k]
    if np.any(threshold <= 0):
        raise ValueError(
            f"k={k} is too large for the {tail} tail of {name}: fewer than k+1 observations "
            f"lie in that tail (the (k+1)-th largest {'loss' if tail == 'left' else 'gain'} "
            "is not positive). Use a smaller k."
        )
    top = -part[:k]
    return 1.0 / np.mean(np.log(top / threshold), axis=0)


def hill_estimator(
    x: npt.ArrayLike, tail: Literal["left", "right"] = "left", k: int | float | None = None
) -> float | np.ndarray:
    r"""Hill (1975) estimator of the tail index of the left or right tail.

    With :math:`L_{(1)} \ge L_{(2)} \ge \dots` the order statistics of the losses
    :math:`L = -r` (``tail="left"``) or gains :math:`L = r` (``tail="right"``),

    .. math:: \hat\alpha_k = \Big(\frac1k \sum_{i=1}^{k} \ln\frac{L_{(i)}}{L_{(k+1)}}\Big)^{-1}.

    :math:`\hat\alpha` estimates the exponent of a power-law tail,
    :math:`P(L > u) \sim u^{-\alpha}` (Student-t with :math:`\nu` degrees of freedom
    has :math:`\alpha = \nu`; daily equity returns typically give 2-5, see
    [Cont2001]_). The returns are not demeaned.

    The estimate depends on ``k``: it is exact in expectation for a pure Pareto tail
    but biased when the tail is only asymptotically a power law. For Student-t(3)
    data the default (5% of the sample) gives about 2.4, 1% gives about 2.8. Compare
    real and synthetic data with the same ``k`` fraction, as :func:`stylized_facts`
    does.

    Parameters
    ----------
    x : array-like, shape (n,) or (n, n_paths)
        Returns; 2-D input is estimated per column (path).
    tail : {"left", "right"}
        Left tail (losses) or right tail (gains).
    k : int, float or None
        Number of upper order statistics used. ``None`` uses
        ``floor(HILL_FRACTION * n)`` = 5% of the sample; a float in (0, 1) is a
        fraction of the sample.

    Returns
    -------
    float or ndarray of shape (n_paths,)

    References
    ----------
    B. M. Hill, Annals of Statistics 3 (1975) 1163-1174.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pareto = rng.pareto(3.0, size=100_000) + 1.0  # P(X > u) = u**-3
    >>> round(hill_estimator(pareto, tail="right"), 1)
    3.0
    """
    if tail not in ("left", "right"):
        raise ValueError(f"tail must be 'left' or 'right'; got {tail!r}.")
    one_d = np.ndim(x) == 1
    X = _as_paths(x, "x")
    kk = _hill_k(k, X.shape[0])
    alpha = _hill_columns(X, tail, kk, "x")
    return float(alpha[0]) if one_d else alpha


def _summary_columns(X: np.ndarray, k: int | float | None) -> dict[str, np.ndarray]:
    n = X.shape[0]
    mean = X.mean(axis=0)
    dev = X - mean
    m2 = np.mean(dev**2, axis=0)
    m3 = np.mean(dev**3, axis=0)
    m4 = np.mean(dev**4, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = m3 / m2**1.5
        kurt = m4 / m2**2 - 3.0
    kk = _hill_k(k, n)
    out: dict[str, np.ndarray] = {
        "mean": mean,
        "std": np.sqrt(m2 * n / (n - 1)),
        "skew": skew,
        "excess_kurtosis": kurt,
        "hill_left": _hill_columns(X, "left", kk, "x"),
        "hill_right": _hill_columns(X, "right", kk, "x"),
    }
    srt = np.sort(X, axis=0)
    for p in (0.01, 0.05):
        m = max(1, math.ceil(round(p * n, 9)))
        tag = f"{round(p * 100)}pct"
        out[f"var_{tag}"] = -srt[m - 1]
        out[f"es_{tag}"] = -srt[:m].mean(axis=0)
    return out


def summary_statistics(x: npt.ArrayLike, k: int | float | None = None) -> pd.Series | pd.DataFrame:
    r"""Moments, Hill tail indices and historical VaR / ES of a return series.

    * ``mean``; ``std`` (sample, ``ddof=1``);
    * ``skew`` :math:`= m_3 / m_2^{3/2}` and ``excess_kurtosis``
      :math:`= m_4 / m_2^2 - 3` with biased central moments :math:`m_j`
      (identical to ``scipy.stats.skew`` / ``scipy.stats.kurtosis`` defaults);
    * ``hill_left`` / ``hill_right``: :func:`hill_estimator` tail indices with
      tail size ``k`` (default 5% of the sample);
    * ``var_1pct``, ``es_1pct``, ``var_5pct``, ``es_5pct``: historical
      Value-at-Risk and Expected Shortfall at levels :math:`p = 1\%, 5\%`, reported
      as **positive losses** in return units. With sorted returns
      :math:`r_{(1)} \le \dots \le r_{(n)}` and :math:`m = \lceil p n \rceil`,
      :math:`\mathrm{VaR}_p = -r_{(m)}` and
      :math:`\mathrm{ES}_p = -\frac1m \sum_{i \le m} r_{(i)}` (so ES >= VaR).

    Parameters
    ----------
    x : array-like, shape (n,) or (n, n_paths)
    k : int, float or None
        Hill tail size, see :func:`hill_estimator`.

    Returns
    -------
    pandas.Series for 1-D input; pandas.DataFrame with one row per path for 2-D.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = summary_statistics(rng.normal(0, 0.01, 10_000))
    >>> round(float(s["var_5pct"]), 4), round(float(s["es_5pct"]), 4)
    (0.0163, 0.0207)
    """
    one_d = np.ndim(x) == 1 or isinstance(x, pd.Series)
    X = _as_paths(x, "x")
    stats = _summary_columns(X, k)
    if one_d:
        return pd.Series({key: float(val[0]) for key, val in stats.items()}, name="summary")
    index = x.columns if isinstance(x, pd.DataFrame) and x.columns.nlevels == 1 else None
    return pd.DataFrame(stats, index=index)


# --------------------------------------------------------------------------- #
# Wasserstein distance of cumulative returns
# --------------------------------------------------------------------------- #
def wasserstein1(u: npt.ArrayLike, v: npt.ArrayLike) -> float:
    r"""Wasserstein-1 (earth mover's) distance between two 1-D empirical distributions.

    .. math:: W_1(u, v) = \int_{-\infty}^{\infty} |F_u(x) - F_v(x)|\,dx
              = \int_0^1 |F_u^{-1}(q) - F_v^{-1}(q)|\,dq,

    evaluated exactly for unequal sample sizes by integrating the difference of the
    two empirical CDFs over the merged sorted sample (same value as
    ``scipy.stats.wasserstein_distance``).

    Examples
    --------
    >>> wasserstein1([0.0, 1.0], [0.0, 1.0, 2.0])
    0.5
    """
    a = np.sort(_as_series(u, "u", min_length=1))
    b = np.sort(_as_series(v, "v", min_length=1))
    return _w1_sorted(a, b)


def _w1_sorted(a: np.ndarray, b: np.ndarray) -> float:
    merged = np.sort(np.concatenate([a, b]), kind="mergesort")
    deltas = np.diff(merged)
    cdf_a = np.searchsorted(a, merged[:-1], side="right") / a.size
    cdf_b = np.searchsorted(b, merged[:-1], side="right") / b.size
    return float(np.sum(np.abs(cdf_a - cdf_b) * deltas))


def _rolling_sums(X: np.ndarray, lag: int) -> np.ndarray:
    """Sums over rolling windows of length ``lag`` (stride 1) of each column of (T, P)."""
    c = np.concatenate([np.zeros((1, X.shape[1])), np.cumsum(X, axis=0)], axis=0)
    return c[lag:] - c[:-lag]


def _subsample(values: np.ndarray, cap: int | None, rng: np.random.Generator) -> np.ndarray:
    if cap is None or values.size <= cap:
        return values
    return values[rng.choice(values.size, size=cap, replace=False)]


def emd(
    real: npt.ArrayLike,
    synthetic: npt.ArrayLike,
    lags: Iterable[int] = (1, 5, 20, 100),
    max_samples: int | None = 200_000,
    random_state: Any = 0,
) -> dict[int, float]:
    r"""Wasserstein-1 distance between real and synthetic ``lag``-day cumulative returns.

    For each lag :math:`t`, the cumulative log returns
    :math:`r_{s,t} = \sum_{i=s}^{s+t-1} r_i` over all rolling windows (stride 1) of
    the historical series form one sample, the same windows of every synthetic path
    (pooled over paths) the other, and

    .. math:: \mathrm{EMD}(t) = W_1\big(\{r^{\text{real}}_{s,t}\}_s,\;
              \{r^{\text{syn}}_{s,t}\}_{s,\text{path}}\big),

    as in Table 1 of Quant GANs [Wiese2020]_. Distances are in log-return units.

    Parameters
    ----------
    real : array-like, shape (n,)
    synthetic : array-like, shape (n_timesteps, n_paths)
    lags : iterable of int
        Window lengths; each must be smaller than both series lengths.
    max_samples : int or None
        If a pooled sample has more windows than this, a random subset of this size
        (drawn with ``random_state``, without replacement) is used; ``None`` uses all.
        The default keeps 500 paths x 5030 steps well under a second per lag.
    random_state : int, Generator or None
        Seed for the subsampling.

    Returns
    -------
    dict mapping lag -> distance.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(0, 0.01, size=5000)
    >>> d = emd(real, rng.standard_t(3, size=(5000, 20)) * 0.01 / np.sqrt(3), lags=(1, 5))
    >>> {lag: round(v, 4) for lag, v in d.items()}
    {1: 0.0023, 5: 0.0027}
    """
    r = _as_series(real, "real")
    X = _as_paths(synthetic, "synthetic")
    lag_list = _lag_list(lags)
    length = min(r.size, X.shape[0])
    checked = [_check_lag(lag, "lags", length, "real and synthetic") for lag in lag_list]
    if max_samples is not None:
        max_samples = _check_int(max_samples, "max_samples", 2)
    rng = _rng(random_state)
    out: dict[int, float] = {}
    for lag in checked:
        real_w = _subsample(_rolling_sums(r[:, None], lag).ravel(), max_samples, rng)
        syn_w = _subsample(_rolling_sums(X, lag).ravel(), max_samples, rng)
        out[lag] = _w1_sorted(np.sort(real_w), np.sort(syn_w))
    return out


# --------------------------------------------------------------------------- #
# Autocorrelation and leverage
# --------------------------------------------------------------------------- #
def _fft_cross(A: np.ndarray, B: np.ndarray | None, max_lag: int) -> np.ndarray:
    """sum_t A[t] * B[t + k] for k = 0..max_lag, per column (B=None: autocorrelation)."""
    n = A.shape[0]
    nfft = sp_fft.next_fast_len(2 * n - 1, real=True)
    out = np.empty((max_lag + 1, A.shape[1]))
    for start in range(0, A.shape[1], _FFT_CHUNK):
        sl = slice(start, start + _FFT_CHUNK)
        fa = sp_fft.rfft(A[:, sl], n=nfft, axis=0)
        if B is None:
            spec = fa.real**2 + fa.imag**2
        else:
            spec = np.conj(fa) * sp_fft.rfft(B[:, sl], n=nfft, axis=0)
        out[:, sl] = sp_fft.irfft(spec, n=nfft, axis=0)[: max_lag + 1]
    return out


def _acf_columns(X: np.ndarray, max_lag: int) -> np.ndarray:
    dev = X - X.mean(axis=0)
    ac = _fft_cross(dev, None, max_lag)
    return ac / ac[0]


def _leverage_columns(X: np.ndarray, max_lag: int) -> np.ndarray:
    a = X - X.mean(axis=0)
    sq = X**2
    b = sq - sq.mean(axis=0)
    n = X.shape[0]
    cross = _fft_cross(a, b, max_lag) / n
    return cross / (a.std(axis=0) * b.std(axis=0))


def acf(x: npt.ArrayLike, max_lag: int = 250, transform: Transform = "identity") -> np.ndarray:
    r"""Sample autocorrelation function at lags 0..max_lag (computed with FFTs).

    With :math:`y_t = f(x_t)` (``transform``: identity, :math:`|x_t|` or
    :math:`x_t^2`) and :math:`\bar y` its mean over the :math:`n` observations,

    .. math:: \hat\rho(k) = \frac{\sum_{t=1}^{n-k} (y_t - \bar y)(y_{t+k} - \bar y)}
                               {\sum_{t=1}^{n} (y_t - \bar y)^2},

    the usual biased estimator (``statsmodels.tsa.stattools.acf`` with
    ``adjusted=False``). Returns show :math:`\rho_r(k) \approx 0` but slowly decaying
    positive :math:`\rho_{|r|}(k)` (volatility clustering) [Cont2001]_.

    Parameters
    ----------
    x : array-like, shape (n,) or (n, n_paths)
        A 2-D input is processed per column (path), vectorised.
    max_lag : int
        Largest lag, ``1 <= max_lag < n``.
    transform : {"identity", "abs", "square"}

    Returns
    -------
    ndarray of shape (max_lag + 1,) for 1-D input, (max_lag + 1, n_paths) for 2-D;
    row ``k`` is lag ``k`` (row 0 is 1).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> rho = acf(rng.normal(size=10_000), max_lag=5, transform="abs")
    >>> rho.shape, bool(abs(rho[1:]).max() < 0.05)
    ((6,), True)
    """
    one_d = np.ndim(x) == 1
    X = _apply_transform(_as_paths(x, "x"), _check_transform(transform))
    lag = _check_lag(max_lag, "max_lag", X.shape[0], "x")
    _check_no_constant(X, "x", "the autocorrelation")
    out = _acf_columns(X, lag)
    return out[:, 0] if one_d else out


def acf_score(
    real: npt.ArrayLike,
    synthetic: npt.ArrayLike,
    transform: Transform = "identity",
    max_lag: int = 250,
) -> float:
    r"""Root-mean-square gap between mean synthetic and historical ACF.

    .. math:: \mathrm{ACF\ score} = \Big(\frac{1}{K}\sum_{k=1}^{K}
              \big(\overline{\rho}^{\,\text{syn}}_f(k) - \rho^{\text{real}}_f(k)\big)^2
              \Big)^{1/2},

    where :math:`K` = ``max_lag``, :math:`\rho_f` is :func:`acf` of :math:`f(r)` with
    ``transform`` :math:`f`, and :math:`\overline{\rho}^{\,\text{syn}}` is the ACF
    averaged over synthetic paths (each path's ACF computed on its own). This
    RMS convention reproduces the ACF rows of Quant GANs [Wiese2020]_.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = acf_score(rng.normal(size=5000), rng.normal(size=(5000, 20)), "abs", 50)
    >>> bool(s < 0.03)
    True
    """
    tr = _check_transform(transform)
    r = _apply_transform(_as_series(real, "real"), tr)[:, None]
    X = _apply_transform(_as_paths(synthetic, "synthetic"), tr)
    lag = _check_lag(max_lag, "max_lag", min(r.shape[0], X.shape[0]), "real and synthetic")
    _check_no_constant(r, "real", "the autocorrelation")
    _check_no_constant(X, "synthetic", "the autocorrelation")
    gap = _acf_columns(X, lag)[1:].mean(axis=1) - _acf_columns(r, lag)[1:, 0]
    return float(np.sqrt(np.mean(gap**2)))


def leverage_effect(x: npt.ArrayLike, max_lag: int = 250) -> np.ndarray:
    r"""Leverage-effect curve :math:`L(k) = \mathrm{corr}(r_t, r_{t+k}^2)`, k = 0..max_lag.

    Estimated as a sample cross-correlation with the same biased normalisation as
    :func:`acf`: with :math:`a_t = r_t - \bar r`, :math:`b_t = r_t^2 - \overline{r^2}`,

    .. math:: \hat L(k) = \frac{\frac1n\sum_{t=1}^{n-k} a_t\, b_{t+k}}
                               {\sigma_a\, \sigma_b},

    where :math:`\sigma_a, \sigma_b` are population standard deviations over the
    full sample (equals ``statsmodels.tsa.stattools.ccf(r**2, r, adjusted=False)``).
    Negative values at small :math:`k > 0` mean that falling prices raise future
    volatility [Bouchaud2001]_, [Cont2001]_. This is the Pearson-correlation
    normalisation; Bouchaud et al. divide instead by :math:`\langle r^2\rangle^2`.

    Returns
    -------
    ndarray of shape (max_lag + 1,) for 1-D input, (max_lag + 1, n_paths) for 2-D.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> bool(abs(leverage_effect(rng.normal(size=10_000), 10)[1:]).max() < 0.05)
    True
    """
    one_d = np.ndim(x) == 1
    X = _as_paths(x, "x")
    lag = _check_lag(max_lag, "max_lag", X.shape[0], "x")
    _check_no_constant(X, "x", "the leverage effect")
    _check_no_constant(X**2, "x", "the leverage effect (of squared returns)")
    out = _leverage_columns(X, lag)
    return out[:, 0] if one_d else out


def leverage_score(real: npt.ArrayLike, synthetic: npt.ArrayLike, max_lag: int = 250) -> float:
    r"""Euclidean (L2) norm of the gap between mean synthetic and historical leverage curves.

    .. math:: \mathrm{Leverage\ score} = \Big(\sum_{k=1}^{K}
              \big(\overline{L}^{\text{syn}}(k) - L^{\text{real}}(k)\big)^2\Big)^{1/2},

    with :math:`K` = ``max_lag`` and :math:`L` from :func:`leverage_effect`
    (synthetic curves averaged over paths). Note: a plain L2 norm, *not* the RMS used
    by :func:`acf_score`, following [Wiese2020]_; it grows like
    :math:`\sqrt{K}` for a constant gap.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> bool(leverage_score(rng.normal(size=5000), rng.normal(size=(5000, 20)), 50) < 0.2)
    True
    """
    r = _as_series(real, "real")[:, None]
    X = _as_paths(synthetic, "synthetic")
    lag = _check_lag(max_lag, "max_lag", min(r.shape[0], X.shape[0]), "real and synthetic")
    _check_no_constant(r, "real", "the leverage effect")
    _check_no_constant(X, "synthetic", "the leverage effect")
    gap = _leverage_columns(X, lag)[1:].mean(axis=1) - _leverage_columns(r, lag)[1:, 0]
    return float(np.linalg.norm(gap))


def _variance_ratio_columns(X: np.ndarray, lags: list[int]) -> dict[int, np.ndarray]:
    n = X.shape[0]
    dev = X - X.mean(axis=0)
    var_1 = np.sum(dev**2, axis=0) / (n - 1)
    csum = np.vstack([np.zeros((1, X.shape[1])), np.cumsum(dev, axis=0)])
    out = {}
    for lag in lags:
        sums = csum[lag:] - csum[:-lag]
        m = lag * (n - lag + 1) * (1 - lag / n)
        out[lag] = np.sum(sums**2, axis=0) / m / var_1
    return out


def variance_ratio(
    x: npt.ArrayLike, lags: Iterable[int] = (5, 20, 100)
) -> pd.Series | pd.DataFrame:
    r"""Variance ratio of ``lag``-day sums: 1 for uncorrelated returns.

    The overlapping, bias-corrected estimator of Lo and MacKinlay [Lo1988]_ (their
    :math:`\overline{M}_r(q)` plus one): with :math:`n` returns of mean
    :math:`\hat\mu`,

    .. math:: \mathrm{VR}(q) = \frac{\hat\sigma^2_c(q)}{\hat\sigma^2_a}, \quad
              \hat\sigma^2_a = \frac{1}{n-1} \sum_t (r_t - \hat\mu)^2, \quad
              \hat\sigma^2_c(q) = \frac{1}{m} \sum_{t=q}^{n}
              \Big(\sum_{i=0}^{q-1} r_{t-i} - q\hat\mu\Big)^2,

    :math:`m = q (n - q + 1)(1 - q/n)`. Since
    :math:`\mathrm{VR}(q) - 1 \approx 2 \sum_{k=1}^{q-1} (1 - k/q)\,\rho_k`, it adds
    up the autocorrelations :math:`\rho_k` of returns that the ACF score, a root mean
    square over single lags, barely sees: above 1, ``lag``-day moves are wider than
    daily volatility implies (momentum: trend-following strategies gain); below 1,
    narrower (mean reversion). Under i.i.d. returns its standard error is about
    :math:`\sqrt{2(2q-1)(q-1) / (3qn)}` (0.16 for :math:`q = 100` and 20 years of
    days), so one history pins it down only roughly. The drift is taken out (each
    series around its own mean).

    Parameters
    ----------
    x : array-like, shape (n,) or (n, n_paths)
    lags : iterable of int
        Horizons :math:`q` in steps, each at least 2 and below the series length.

    Returns
    -------
    pandas.Series indexed by lag for 1-D input; pandas.DataFrame (paths x lags) for 2-D.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.normal(size=20_000)
    >>> round(float(variance_ratio(noise, lags=[10])[10]), 1)
    1.0
    >>> trend = noise + 0.5 * np.convolve(noise, np.ones(5), "same")  # momentum
    >>> bool(variance_ratio(trend, lags=[10])[10] > 1.5)
    True
    """
    one_d = np.ndim(x) == 1 or isinstance(x, pd.Series)
    X = _as_paths(x, "x")
    lag_list = _lag_list(lags)
    checked = [_check_lag(lag, "lags", X.shape[0], "the series") for lag in lag_list]
    if min(checked) < 2:
        raise ValueError(f"variance ratio lags must be at least 2 (VR(1) = 1), got {lag_list}")
    _check_no_constant(X, "x", "a variance ratio")
    values = _variance_ratio_columns(X, checked)
    if one_d:
        return pd.Series({lag: float(v[0]) for lag, v in values.items()}, name="variance_ratio")
    index = x.columns if isinstance(x, pd.DataFrame) and x.columns.nlevels == 1 else None
    return pd.DataFrame(values, index=index)


# --------------------------------------------------------------------------- #
# Drawdowns
# --------------------------------------------------------------------------- #
def _max_drawdown_log(X: np.ndarray) -> np.ndarray:
    """Largest peak-to-trough fall of the cumulative log-return path, per column."""
    c = np.concatenate([np.zeros((1, X.shape[1])), np.cumsum(X, axis=0)], axis=0)
    return np.max(np.maximum.accumulate(c, axis=0) - c, axis=0)


def drawdowns(x: npt.ArrayLike) -> float | np.ndarray:
    r"""Maximum drawdown of each path, as a positive fraction of the running peak.

    With cumulative log returns :math:`c_t = \sum_{i \le t} r_i` (:math:`c_0 = 0`),

    .. math:: \mathrm{MDD} = 1 - \exp\big(-\max_t\,[\max_{s \le t} c_s - c_t]\big),

    i.e. the largest loss from a running peak of the price path
    :math:`P_t = P_0 e^{c_t}` (0 = never below the peak, 0.5 = halved).

    Returns
    -------
    float for 1-D input, ndarray of shape (n_paths,) for 2-D.

    Examples
    --------
    >>> round(drawdowns([0.1, -0.2, 0.05, -0.1, 0.3]), 4)
    0.2212
    """
    one_d = np.ndim(x) == 1
    X = _as_paths(x, "x", min_length=1)
    out = -np.expm1(-_max_drawdown_log(X))
    return float(out[0]) if one_d else out


def _rolling_max_drawdowns(X: np.ndarray, window: int, stride: int) -> np.ndarray:
    c = np.concatenate([np.zeros((1, X.shape[1])), np.cumsum(X, axis=0)], axis=0)
    n_win = (c.shape[0] - (window + 1)) // stride + 1
    # Bound the materialised (n_win, chunk, window + 1) block to ~4M floats.
    chunk = max(1, 4_000_000 // (n_win * (window + 1)))
    parts = []
    for start in range(0, X.shape[1], chunk):
        w = _windows(c[:, start : start + chunk], window + 1, stride)
        parts.append(np.max(np.maximum.accumulate(w, axis=-1) - w, axis=-1).ravel())
    return -np.expm1(-np.concatenate(parts))


def drawdown_distance(
    real: npt.ArrayLike,
    synthetic: npt.ArrayLike,
    window: int = 252,
    stride: int = 21,
    max_samples: int | None = 200_000,
    random_state: Any = 0,
) -> float:
    r"""Wasserstein-1 distance between real and synthetic distributions of max drawdowns.

    The maximum drawdown (see :func:`drawdowns`) is computed on every window of
    ``window`` returns starting every ``stride`` steps, in the historical series and
    in each synthetic path (pooled), and the two samples are compared with
    :func:`wasserstein1`. Units: fractions of the peak (0.1 = 10 points of drawdown).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = drawdown_distance(rng.normal(0, 0.01, 3000), rng.normal(0, 0.02, (3000, 10)))
    >>> round(d, 2)
    0.1
    """
    r = _as_series(real, "real")[:, None]
    X = _as_paths(synthetic, "synthetic")
    w = _check_int(
        window,
        "window",
        1,
        min(r.shape[0], X.shape[0]),
        hint=" window must not exceed the length of real and synthetic.",
    )
    s = _check_int(stride, "stride", 1)
    rng = _rng(random_state)
    a = _subsample(_rolling_max_drawdowns(r, w, s), max_samples, rng)
    b = _subsample(_rolling_max_drawdowns(X, w, s), max_samples, rng)
    return _w1_sorted(np.sort(a), np.sort(b))


# --------------------------------------------------------------------------- #
# Cross-asset correlation
# --------------------------------------------------------------------------- #
def _mean_corr(arr: np.ndarray, name: str) -> np.ndarray:
    """Mean over paths of the per-path (A x A) correlation matrices of a (T, P, A) array."""
    dev = arr - arr.mean(axis=0)
    std = dev.std(axis=0)
    if np.any(std == 0):
        p, a = np.argwhere(std == 0)[0]
        raise ValueError(
            f"{name} has a constant asset (path {int(p)}, asset {int(a)}); its "
            "correlation is undefined."
        )
    z = dev / std
    corr = np.einsum("tpa,tpb->pab", z, z) / arr.shape[0]
    return corr.mean(axis=0)


def cross_correlation(x: Any) -> np.ndarray | pd.DataFrame:
    r"""Correlation matrix across assets, averaged over paths for synthetic input.

    For one history :math:`r_{t,a}` this is the Pearson matrix
    :math:`C_{ab} = \mathrm{corr}(r_{\cdot,a}, r_{\cdot,b})`. For synthetic paths
    (DataFrame with MultiIndex columns ``(path, asset)``, or a 3-D array
    ``(n_timesteps, n_paths, n_assets)``) each path's matrix is computed over time
    and the matrices are averaged: :math:`\bar C = \frac1P \sum_p C^{(p)}`.

    Parameters
    ----------
    x : array-like, shape (n_timesteps, n_assets); or (path, asset) MultiIndex
        DataFrame; or 3-D array (n_timesteps, n_paths, n_assets).

    Returns
    -------
    DataFrame labelled by asset when the asset names are known, else ndarray.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(5000, 2))
    >>> c = cross_correlation(np.column_stack([z[:, 0], 0.6 * z[:, 0] + 0.8 * z[:, 1]]))
    >>> round(float(c[0, 1]), 1)
    0.6
    """
    arr, assets = _as_assets(x, "x")
    corr = _mean_corr(arr, "x")
    if assets is not None:
        return pd.DataFrame(corr, index=assets, columns=assets)
    return corr


def cross_correlation_gap(real: Any, synthetic: Any) -> float:
    r"""L2 distance between historical and mean synthetic cross-asset correlations.

    .. math:: \Big(\sum_{a < b} \big(\bar C^{\text{syn}}_{ab} - C^{\text{real}}_{ab}\big)^2
              \Big)^{1/2}

    over the distinct asset pairs (see :func:`cross_correlation`). Assets are
    matched by label when both inputs are labelled (DataFrames), else by position.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(2000, 3))
    >>> bool(cross_correlation_gap(real, rng.normal(size=(2000, 10, 3))) < 0.1)
    True
    """
    r_arr, r_assets = _as_assets(real, "real")
    s_arr, s_assets = _as_assets(synthetic, "synthetic")
    if r_arr.shape[1] != 1:
        raise ValueError(
            f"real must be a single history (n_timesteps, n_assets); got {r_arr.shape[1]} paths."
        )
    if r_arr.shape[2] != s_arr.shape[2]:
        raise ValueError(
            f"real has {r_arr.shape[2]} assets but synthetic has {s_arr.shape[2]}; "
            "pass the same assets."
        )
    if r_assets is not None and s_assets is not None:
        if set(r_assets) != set(s_assets):
            raise ValueError(
                f"synthetic assets {s_assets!r} do not match real assets {r_assets!r}."
            )
        s_arr = s_arr[:, :, [s_assets.index(a) for a in r_assets]]
    c_real = _mean_corr(r_arr, "real")
    c_syn = _mean_corr(s_arr, "synthetic")
    iu = np.triu_indices(c_real.shape[0], k=1)
    return float(np.linalg.norm(c_syn[iu] - c_real[iu]))


# --------------------------------------------------------------------------- #
# Diversity and memorisation
# --------------------------------------------------------------------------- #
def path_diversity(
    synthetic: npt.ArrayLike,
    threshold: float = 0.95,
    max_paths: int = 1000,
    random_state: Any = 0,
) -> dict[str, float]:
    r"""Mode-collapse check: how correlated synthetic paths are with one another.

    With :math:`\rho_{ij}` the Pearson correlation over time between the returns of
    paths :math:`i` and :math:`j`, returns

    * ``mean_abs_corr`` :math:`= \operatorname{mean}_{i<j} |\rho_{ij}|`; about
      :math:`\sqrt{2/\pi}/\sqrt{T}` for independent paths of length :math:`T`;
    * ``collapse_share``: share of pairs with :math:`|\rho_{ij}| >` ``threshold``
      (1.0 when all paths are the same).

    Above ``max_paths`` paths a random subset of that many paths (all pairs among
    them) is used.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = path_diversity(rng.normal(size=(1000, 50)))
    >>> bool(d["mean_abs_corr"] < 0.05), d["collapse_share"]
    (True, 0.0)
    """
    X = _as_paths(synthetic, "synthetic")
    thr = _check_fraction(threshold, "threshold", 0.0, 1.0)
    cap = _check_int(max_paths, "max_paths", 2)
    if X.shape[1] < 2:
        raise ValueError(
            f"synthetic must contain at least 2 paths to compare them; got {X.shape[1]}."
        )
    if X.shape[1] > cap:
        X = X[:, np.sort(_rng(random_state).choice(X.shape[1], size=cap, replace=False))]
    _check_no_constant(X, "synthetic", "the correlation between paths")
    dev = X - X.mean(axis=0)
    z = dev / np.linalg.norm(dev, axis=0)
    corr = np.abs(z.T @ z)[np.triu_indices(X.shape[1], k=1)]
    return {
        "mean_abs_corr": float(corr.mean()),
        "collapse_share": float(np.mean(corr > thr)),
    }


def _nearest_distances(
    queries: np.ndarray,
    reference: np.ndarray,
    query_starts: np.ndarray | None = None,
    exclusion: int = 0,
) -> np.ndarray:
    """Euclidean distance from each query row to its nearest reference row.

    With ``query_starts`` (queries taken from ``reference`` itself, reference row ``j``
    starting at time ``j``), reference rows with ``|j - start| < exclusion`` are skipped.
    """
    ref_sq = np.einsum("ij,ij->i", reference, reference)
    ref_idx = np.arange(reference.shape[0])
    out = np.empty(queries.shape[0])
    # Bound the (chunk, n_reference) distance block to about 2M entries.
    chunk = max(1, min(512, 2_000_000 // reference.shape[0]))
    for start in range(0, queries.shape[0], chunk):
        q = queries[start : start + chunk]
        d2 = np.einsum("ij,ij->i", q, q)[:, None] + ref_sq[None, :] - 2.0 * q @ reference.T
        if query_starts is not None:
            qs = query_starts[start : start + chunk, None]
            d2[np.abs(ref_idx[None, :] - qs) < exclusion] = np.inf
        nearest = np.argmin(d2, axis=1)
        # Recompute the winning distance directly: exact zero for exact copies.
        out[start : start + chunk] = np.linalg.norm(q - reference[nearest], axis=1)
    return out


def _sample_index(total: int, cap: int | None, rng: np.random.Generator) -> np.ndarray:
    if cap is None or total <= cap:
        return np.arange(total)
    return np.sort(rng.choice(total, size=cap, replace=False))


def _sample_windows(
    X: np.ndarray, window: int, cap: int | None, rng: np.random.Generator
) -> np.ndarray:
    """Stride-1 windows pooled over the columns of (T, P) -> (m, window), subsampled to cap."""
    idx = _sample_index((X.shape[0] - window + 1) * X.shape[1], cap, rng)
    start, path = np.divmod(idx, X.shape[1])
    return X[start[:, None] + np.arange(window), path[:, None]]


def _unit_rms(windows: np.ndarray) -> np.ndarray:
    """Rows of ``windows`` divided by their root mean square (all-zero rows unchanged)."""
    rms = np.sqrt(np.mean(windows * windows, axis=1, keepdims=True))
    return windows / np.where(rms > 0, rms, 1.0)


def memorization_score(
    real: npt.ArrayLike,
    synthetic: npt.ArrayLike,
    window: int = 20,
    threshold: float | None = None,
    max_windows: int | None = 2000,
    random_state: Any = 0,
    normalize: bool = False,
) -> dict[str, Any]:
    r"""Does the generator copy stretches of history? Distance to the closest real window.

    The reference set is every window of ``window`` consecutive historical returns
    (stride 1). For each synthetic window (stride 1, pooled over paths)
    :math:`d^{\text{syn}}` is the Euclidean distance, on the raw returns, to the
    nearest reference window. The baseline :math:`d^{\text{real}}` is the same
    distance for real windows, excluding the reference windows that overlap them in
    time (:math:`|s - s'| < w`): how close *distinct* stretches of the same market
    come to each other. This uses the whole history, so every volatility regime is
    in both the baseline and the reference (a last-20%-vs-first-80% split would
    compare, e.g., a calm 2015-2018 against 1999-2014 and bias the ratio). Reported:

    * ``ratio`` :math:`= \operatorname{median} d^{\text{syn}} /
      \operatorname{median} d^{\text{real}}`: below 1 means synthetic windows sit
      closer to the history than distinct real stretches do (copying); 1 or above is
      healthy (independent noise or a GARCH fit of the S&P 500 give about 1.3);
    * ``copy_share``: share of synthetic windows with :math:`d^{\text{syn}} \le`
      ``threshold`` (near-exact copies); ``baseline_copy_share`` the same for real
      windows (about 0 unless the history repeats itself, e.g. stale prices);
    * ``threshold`` used (default 5% of the median baseline distance) and the two
      distance arrays ``synthetic_distances``, ``baseline_distances``.

    A 20-day block bootstrap of the S&P 500 gives ``copy_share`` of about 0.05 with
    ``window=20`` (every window aligned with a block is an exact copy; about 0.55 with
    ``window=10``) and a ratio near 0.8; independent noise gives ``copy_share`` = 0.
    This is the distance-to-closest-record test of synthetic-data privacy, applied
    to windows of a time series.

    On raw returns the ratio also measures the volatility law: distances shrink with
    the windows' scale, so a model with more calm windows than the history scores
    below 1 without copying anything. ``normalize=True`` divides every window (real
    and synthetic) by its own root mean square first: the ratio then compares the
    windows' shapes, free of their volatility level, while an exact copy stays at
    distance 0.

    Parameters
    ----------
    window : int
        Window length (days); ``real`` must hold at least ``3 * window`` returns.
    threshold : float or None
        Absolute copy threshold in return units (in root-mean-square units with
        ``normalize``); ``None``: 0.05 x median baseline distance.
    max_windows : int or None
        Cap on the number of synthetic windows and of baseline real windows (random
        subsets drawn with ``random_state``); the reference set is never subsampled.
    normalize : bool, default False
        Scale every window to unit root mean square (an all-zero window stays zero).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> m = memorization_score(rng.normal(size=3000), rng.normal(size=(3000, 5)))
    >>> m["copy_share"], bool(0.8 < m["ratio"] < 1.2)
    (0.0, True)
    """
    r = _as_series(real, "real")
    X = _as_paths(synthetic, "synthetic")
    w = _check_int(window, "window", 1, X.shape[0], hint=" window must fit in synthetic.")
    if r.size < 3 * w:
        raise ValueError(
            f"window={w} is too long for real of length {r.size}: the baseline needs "
            f"non-overlapping real windows, so real must hold at least 3 * window = {3 * w} "
            "returns. Use a smaller window or a longer series."
        )
    if max_windows is not None:
        max_windows = _check_int(max_windows, "max_windows", 1)
    if threshold is not None:
        thr = float(threshold)
        if not (np.isfinite(thr) and thr >= 0):
            raise ValueError(f"threshold must be a finite number >= 0; got {threshold!r}.")
    rng = _rng(random_state)
    scale = _unit_rms if normalize else (lambda windows: windows)
    reference = scale(_sample_windows(r[:, None], w, None, rng))
    base_idx = _sample_index(reference.shape[0], max_windows, rng)
    d_base = _nearest_distances(reference[base_idx], reference, base_idx, w)
    d_syn = _nearest_distances(scale(_sample_windows(X, w, max_windows, rng)), reference)
    med_base = float(np.median(d_base))
    if threshold is None:
        thr = 0.05 * med_base
    return {
        "ratio": float(np.median(d_syn) / med_base) if med_base > 0 else float("nan"),
        "copy_share": float(np.mean(d_syn <= thr)),
        "baseline_copy_share": float(np.mean(d_base <= thr)),
        "threshold": thr,
        "synthetic_distances": d_syn,
        "baseline_distances": d_base,
    }


# --------------------------------------------------------------------------- #
# Classifier-based scores (TimeGAN)
# --------------------------------------------------------------------------- #
def discriminative_score(
    real: npt.ArrayLike,
    synthetic: npt.ArrayLike,
    window: int = 20,
    n_splits: int = 5,
    random_state: Any = 0,
) -> float:
    r"""Post-hoc classifier accuracy of real vs synthetic windows, as :math:`|\text{acc} - 0.5|`.

    Non-overlapping windows of ``window`` returns are cut from ``real``
    (:math:`m = \lfloor n / w \rfloor` windows); the same number of non-overlapping
    synthetic windows is drawn at random from all paths. Each window is described
    by its raw returns and its sorted absolute returns; a gradient-boosted tree
    classifier (``sklearn`` ``HistGradientBoostingClassifier``) is scored by
    stratified ``n_splits``-fold cross-validated accuracy (every window is tested
    once, by a model that never saw it). The score is
    :math:`|\overline{\text{acc}} - 0.5|`: 0 means indistinguishable, 0.5 perfectly
    separable (TimeGAN's discriminative score, [Yoon2019]_). Non-overlapping windows
    keep overlapping copies of a real window out of the test folds.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> bool(discriminative_score(rng.normal(size=5000), 3 * rng.normal(size=(5000, 5))) > 0.3)
    True
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from threadpoolctl import threadpool_limits

    r = _as_series(real, "real")
    X = _as_paths(synthetic, "synthetic")
    w = _check_int(
        window, "window", 1, min(r.size, X.shape[0]), hint=" window must fit in both inputs."
    )
    folds = _check_int(n_splits, "n_splits", 2)
    rng = _rng(random_state)
    real_w = r[: (r.size // w) * w].reshape(-1, w)
    syn_all = _windows(X, w, w).reshape(-1, w)
    m = min(real_w.shape[0], syn_all.shape[0])
    if m < folds:
        raise ValueError(
            f"window={w} leaves only {m} non-overlapping windows per class, fewer than "
            f"n_splits={folds}; use a smaller window or longer series."
        )
    real_w = real_w[np.sort(rng.choice(real_w.shape[0], size=m, replace=False))]
    syn_w = syn_all[rng.choice(syn_all.shape[0], size=m, replace=False)]
    windows = np.concatenate([real_w, syn_w])
    features = np.hstack([windows, np.sort(np.abs(windows), axis=1)])
    labels = np.repeat([1, 0], m)
    seed = _seed(rng)
    clf = HistGradientBoostingClassifier(
        max_iter=100, max_leaf_nodes=15, learning_rate=0.1, random_state=seed
    )
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    # A few hundred windows: one thread is fastest, and OpenMP threads spinning on a
    # busy machine can make the fit 50x slower.
    with threadpool_limits(limits=1, user_api="openmp"):
        acc = cross_val_score(clf, features, labels, cv=cv, scoring="accuracy")
    return float(abs(np.mean(acc) - 0.5))


def _supervised(
    X: np.ndarray,
    window: int,
    target: str,
    cap: int | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Features [r_{t-w..t-1}, |r_{t-w..t-1}|] and target f(r_t), t >= w, pooled over paths.

    Rows are ordered by (t, path); above ``cap`` rows a random subset is built.
    """
    idx = _sample_index((X.shape[0] - window) * X.shape[1], cap, rng or _rng(0))
    start, path = np.divmod(idx, X.shape[1])
    past = X[start[:, None] + np.arange(window), path[:, None]]
    y = X[start + window, path]
    feats = np.hstack([past, np.abs(past)])
    return feats, (np.abs(y) if target == "abs" else y**2)


def _ridge_fit_predict(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, alpha: float
) -> np.ndarray:
    mu = x_train.mean(axis=0)
    sd = x_train.std(axis=0)
    sd[sd == 0] = 1.0
    a = (x_train - mu) / sd
    y_mu = y_train.mean()
    beta = np.linalg.solve(a.T @ a + alpha * np.eye(a.shape[1]), a.T @ (y_train - y_mu))
    return ((x_test - mu) / sd) @ beta + y_mu


def predictive_score(
    real: npt.ArrayLike,
    synthetic: npt.ArrayLike,
    window: int = 20,
    target: Literal["abs", "square"] = "abs",
    test_size: float = 0.2,
    alpha: float = 1.0,
    max_windows: int | None = 50_000,
    random_state: Any = 0,
    return_baseline: bool = False,
) -> float | tuple[float, float]:
    r"""Train on synthetic, test on real (TSTR): MAE of a volatility forecast.

    A ridge regression (features standardised on the training set, penalty
    ``alpha``) predicts the next day's :math:`|r_t|` (``target="abs"``) or
    :math:`r_t^2` (``"square"``) from the previous ``window`` returns and their
    absolute values. It is trained on windows from the synthetic paths (pooled,
    at most ``max_windows`` drawn with ``random_state``) and tested on the last
    ``test_size`` of ``real``:

    .. math:: \mathrm{MAE}_{\text{TSTR}} = \frac{1}{|\mathcal T|}
              \sum_{t \in \mathcal T} |\hat y_t - y_t|.

    TimeGAN's predictive score [Yoon2019]_ (lower is better). With
    ``return_baseline=True`` the same model trained on the first ``1 - test_size``
    of ``real`` (train on real, test on real) is returned too, as
    ``(tstr_mae, trtr_mae)``: TSTR close to TRTR means the synthetic data carry the
    forecastable volatility structure of the real data. Units: return units
    (``"abs"``) or squared return units (``"square"``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> tstr, trtr = predictive_score(rng.normal(size=5000), rng.normal(size=(5000, 5)),
    ...                               return_baseline=True)
    >>> bool(abs(tstr - trtr) < 0.02)
    True
    """
    from threadpoolctl import threadpool_limits

    if target not in ("abs", "square"):
        raise ValueError(f"target must be 'abs' or 'square'; got {target!r}.")
    r = _as_series(real, "real")
    X = _as_paths(synthetic, "synthetic")
    w = _check_int(
        window,
        "window",
        1,
        min(r.size, X.shape[0]) - 1,
        hint=" window must be shorter than both inputs.",
    )
    ts = _check_fraction(test_size, "test_size")
    a = float(alpha)
    if not (np.isfinite(a) and a >= 0):
        raise ValueError(f"alpha must be a finite number >= 0; got {alpha!r}.")
    if max_windows is not None:
        max_windows = _check_int(max_windows, "max_windows", 2)
    feats_real, y_real = _supervised(r[:, None], w, target)
    n_test = round(ts * r.size)
    if n_test < 1 or y_real.size - n_test < 2 * w:
        raise ValueError(
            f"test_size={ts} leaves {n_test} test and {y_real.size - n_test} training "
            f"targets in real (length {r.size}); need at least 1 and {2 * w}."
        )
    x_test, y_test = feats_real[-n_test:], y_real[-n_test:]
    feats_syn, y_syn = _supervised(X, w, target, max_windows, _rng(random_state))
    # Small (40 x 40) normal equations: one BLAS thread avoids spin-wait slowdowns.
    with threadpool_limits(limits=1, user_api="blas"):
        tstr_pred = _ridge_fit_predict(feats_syn, y_syn, x_test, a)
        trtr_pred = _ridge_fit_predict(feats_real[:-n_test], y_real[:-n_test], x_test, a)
    tstr = float(np.mean(np.abs(tstr_pred - y_test)))
    if not return_baseline:
        return tstr
    return tstr, float(np.mean(np.abs(trtr_pred - y_test)))


# --------------------------------------------------------------------------- #
# Bundle
# --------------------------------------------------------------------------- #
def stylized_facts(
    real: npt.ArrayLike,
    synthetic: npt.ArrayLike,
    lags: Iterable[int] = (1, 5, 20, 100),
    max_lag: int = 250,
    window: int = 20,
    drawdown_window: int = 252,
    classifier_scores: bool = False,
    random_state: Any = 0,
) -> pd.Series:
    """All scalar stylized-fact scores for a report table, in one call.

    Entries (gaps: lower is better; ``*_real`` / ``*_synthetic``: compare the two):

    * ``emd_<lag>``: :func:`emd` at each lag in ``lags``;
    * ``acf_r``, ``acf_abs``, ``acf_sq``: :func:`acf_score` (RMS) of
      :math:`r`, :math:`|r|`, :math:`r^2` up to ``max_lag``;
    * ``leverage``: :func:`leverage_score` (L2 norm) up to ``max_lag``;
    * ``variance_ratio_<lag>_real`` / ``_synthetic``: :func:`variance_ratio` at each
      lag in ``lags`` from 2 up (synthetic: the mean over paths);
    * ``excess_kurtosis_*``, ``hill_left_*``, ``hill_right_*``: from
      :func:`summary_statistics`; synthetic values are means over paths of per-path
      estimates;
    * ``drawdown_emd``: :func:`drawdown_distance` with ``drawdown_window`` (skipped
      if a series is shorter than that);
    * ``diversity_mean_abs_corr``, ``diversity_collapse_share``: :func:`path_diversity`
      (NaN for a single path);
    * ``memorization_ratio``, ``memorization_copy_share``: :func:`memorization_score`
      with ``window``; ``memorization_ratio_shape``: the same ratio with
      ``normalize=True`` (windows scaled to unit RMS: shapes, not volatility levels);
    * with ``classifier_scores=True`` also ``discriminative`` and ``predictive_tstr`` /
      ``predictive_trtr`` (:func:`discriminative_score`, :func:`predictive_score`);
      these need scikit-learn and take a few seconds more.

    Takes a few seconds for 500 paths x 5030 steps.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = stylized_facts(rng.normal(size=3000), rng.normal(size=(3000, 10)), max_lag=50)
    >>> bool(s["acf_abs"] < 0.05)
    True
    """
    r = _as_series(real, "real")
    X = _as_paths(synthetic, "synthetic")
    out: dict[str, float] = {}
    for lag, value in emd(r, X, lags=lags, random_state=random_state).items():
        out[f"emd_{lag}"] = value
    for key, tr in (("acf_r", "identity"), ("acf_abs", "abs"), ("acf_sq", "square")):
        out[key] = acf_score(r, X, transform=tr, max_lag=max_lag)
    out["leverage"] = leverage_score(r, X, max_lag=max_lag)
    vr_lags = [lag for lag in _lag_list(lags) if lag >= 2]
    if vr_lags:
        vr_real = variance_ratio(r, vr_lags)
        vr_syn = variance_ratio(X, vr_lags).mean()
        for lag in vr_lags:
            out[f"variance_ratio_{lag}_real"] = float(vr_real[lag])
            out[f"variance_ratio_{lag}_synthetic"] = float(vr_syn[lag])
    stats_real = _summary_columns(r[:, None], None)
    stats_syn = _summary_columns(X, None)
    for key in ("excess_kurtosis", "hill_left", "hill_right"):
        out[f"{key}_real"] = float(stats_real[key][0])
        out[f"{key}_synthetic"] = float(np.mean(stats_syn[key]))
    if min(r.size, X.shape[0]) >= drawdown_window:
        out["drawdown_emd"] = drawdown_distance(
            r, X, window=drawdown_window, random_state=random_state
        )
    else:
        out["drawdown_emd"] = float("nan")
    if X.shape[1] >= 2:
        div = path_diversity(X, random_state=random_state)
        out["diversity_mean_abs_corr"] = div["mean_abs_corr"]
        out["diversity_collapse_share"] = div["collapse_share"]
    else:
        out["diversity_mean_abs_corr"] = out["diversity_collapse_share"] = float("nan")
    mem = memorization_score(r, X, window=window, random_state=random_state)
    out["memorization_ratio"] = mem["ratio"]
    out["memorization_copy_share"] = mem["copy_share"]
    shape = memorization_score(r, X, window=window, random_state=random_state, normalize=True)
    out["memorization_ratio_shape"] = shape["ratio"]
    if classifier_scores:
        out["discriminative"] = discriminative_score(r, X, window=window, random_state=random_state)
        tstr, trtr = predictive_score(
            r, X, window=window, random_state=random_state, return_baseline=True
        )
        out["predictive_tstr"] = tstr
        out["predictive_trtr"] = trtr
    return pd.Series(out, name="stylized_facts", dtype=float)
