"""Backtest-overfitting statistics of Bailey & López de Prado.

Conventions used throughout this module:

* Sharpe ratios are **per period** (per row of the returns) and **not
  annualised**.  Convert annualised figures before calling: with ``P`` periods
  per year, ``SR = SR_annual / sqrt(P)`` and a variance of annualised Sharpe
  ratios becomes ``var / P``.
* ``kurtosis`` is **Pearson** kurtosis (a normal distribution has 3, not 0).

Functions: :func:`sharpe_ratio`, :func:`probabilistic_sharpe_ratio`,
:func:`expected_max_sharpe`, :func:`deflated_sharpe_ratio`,
:func:`min_track_record_length`, :func:`min_backtest_length` and :func:`pbo`
(combinatorially symmetric cross-validation, returning a :class:`PBOResult`).

The experiments that use them live in :mod:`quantgan.study` and are re-exported here:
:class:`OverfittingStudy` (does selecting parameters on synthetic markets generalise
better than selecting them on the one history?), :func:`augmented_forecaster_experiment`
(De Meer Pardo & Cobo Lopez 2020) and the :func:`momentum` signal.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from itertools import combinations, islice
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

if TYPE_CHECKING:  # re-exported lazily by __getattr__ below
    from quantgan.study import (
        OverfittingStudy,
        StudySummary,
        augmented_forecaster_experiment,
        momentum,
    )

__all__ = [
    "OverfittingStudy",
    "PBOResult",
    "PerformanceDegradation",
    "StudySummary",
    "augmented_forecaster_experiment",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "min_backtest_length",
    "min_track_record_length",
    "momentum",
    "pbo",
    "probabilistic_sharpe_ratio",
    "sharpe_ratio",
]

# Relative threshold below which a subset variance counts as exactly zero
# (rounding noise of the sum-of-squares formula is ~1e-16 of the variance).
_ZERO_VAR_RTOL = 1e-12
# Cap on the number of (split x configuration) cells processed at once in pbo().
_CHUNK_CELLS = 2_000_000


def _scalar(name: str, value: Any) -> float:
    """Return ``value`` as a finite float or raise a ValueError naming ``name``."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a finite real number, got the bool {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite real number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be a finite real number, got {out!r}; pass a finite value")
    return out


def _array(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as a float ndarray of finite values."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, got {type(value).__name__}") from None
    if not np.all(np.isfinite(arr)):
        bad = float(arr[~np.isfinite(arr)].ravel()[0])
        raise ValueError(
            f"{name} must contain only finite values, got {bad!r}; "
            "drop or fill NaN/inf before calling"
        )
    return arr


def _out(arr: np.ndarray) -> float | np.ndarray:
    return float(arr) if arr.ndim == 0 else arr


def _column_labels(data: Any, n_cols: int) -> list[str]:
    columns = getattr(data, "columns", None)
    if columns is not None and len(columns) == n_cols:
        return [str(c) for c in columns]
    return [f"column {j}" for j in range(n_cols)]


def sharpe_ratio(returns: Any, *, ddof: int = 1) -> float | np.ndarray:
    """Per-period (non-annualised) Sharpe ratio ``mean / std``.

    Parameters
    ----------
    returns : array-like or pandas Series/DataFrame
        1-D returns, or 2-D with time in rows and one strategy per column.
    ddof : int, default 1
        Delta degrees of freedom of the standard deviation.

    Returns
    -------
    float or ndarray
        A float for 1-D input, one value per column for 2-D input.

    Raises
    ------
    ValueError
        On NaN/inf, too few rows, or a zero-variance column (named).

    Examples
    --------
    >>> round(sharpe_ratio([0.01, 0.02, 0.03]), 6)
    2.0
    """
    if isinstance(ddof, bool) or not isinstance(ddof, (int, np.integer)) or ddof < 0:
        raise ValueError(f"ddof must be a non-negative integer, got {ddof!r}; use ddof=1")
    x = _array("returns", returns)
    if x.ndim not in (1, 2):
        raise ValueError(
            f"returns must be 1-D or 2-D (time x strategies), got {x.ndim}-D with shape {x.shape}"
        )
    if x.shape[0] <= ddof:
        raise ValueError(
            f"returns must have more than ddof={ddof} observations, got {x.shape[0]}; "
            "pass a longer sample"
        )
    x2 = x.reshape(x.shape[0], -1)
    constant = np.ptp(x2, axis=0) == 0
    if np.any(constant):
        if x.ndim == 1:
            raise ValueError(
                f"returns has zero variance (every value is {float(x[0])!r}); "
                "the Sharpe ratio is undefined - pass a non-constant series"
            )
        labels = _column_labels(returns, x2.shape[1])
        names = [labels[j] for j in np.flatnonzero(constant)]
        raise ValueError(
            f"returns has zero-variance column(s) {names}; the Sharpe ratio is undefined - "
            "drop constant columns before calling"
        )
    sr = x2.mean(axis=0) / x2.std(axis=0, ddof=ddof)
    return float(sr[0]) if x.ndim == 1 else sr


def _variance_term(sr: Any, skew: Any, kurt: Any) -> Any:
    """``1 - skew*SR + (kurt-1)/4*SR^2`` after checking that kurtosis is Pearson."""
    if np.any(np.less(kurt, 1)):
        raise ValueError(
            f"kurtosis must be Pearson kurtosis (>= 1, normal = 3), got {float(np.min(kurt))!r}; "
            "if you have excess kurtosis, add 3"
        )
    var_term = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2
    if np.any(np.less_equal(var_term, 0)):
        raise ValueError(
            "sharpe, skew and kurtosis give a non-positive variance term "
            f"1 - skew*SR + (kurtosis-1)/4*SR^2 (min {float(np.min(var_term))!r}); check that "
            "kurtosis is Pearson (>= 1 + skew^2) and that sharpe is per period, not annualised"
        )
    return var_term


def _psr_core(
    sr: Any, n_obs: Any, skew: Any, kurtosis: Any, sr_benchmark: Any
) -> float | np.ndarray:
    sr = _array("sharpe", sr)
    n = _array("n_obs", n_obs)
    skew = _array("skew", skew)
    kurt = _array("kurtosis", kurtosis)
    if np.any(n <= 1):
        raise ValueError(
            f"n_obs must be > 1 (the formula uses n_obs - 1), got {float(n.min())!r}; "
            "pass the number of return observations"
        )
    z = (sr - sr_benchmark) * np.sqrt(n - 1.0) / np.sqrt(_variance_term(sr, skew, kurt))
    return _out(stats.norm.cdf(z))


def probabilistic_sharpe_ratio(
    sharpe: Any,
    n_obs: Any,
    skew: Any = 0.0,
    kurtosis: Any = 3.0,
    sr_benchmark: Any = 0.0,
) -> float | np.ndarray:
    r"""Probabilistic Sharpe ratio: probability that the true SR exceeds a benchmark.

    .. math::

        PSR = \Phi\left(\frac{(\widehat{SR} - SR^*)\sqrt{n-1}}
                        {\sqrt{1 - \gamma_3 \widehat{SR} + \frac{\gamma_4 - 1}{4}\widehat{SR}^2}}\right)

    Bailey & López de Prado (2012), "The Sharpe Ratio Efficient Frontier",
    Journal of Risk 15(2).

    Parameters
    ----------
    sharpe : float or array-like
        Observed per-period Sharpe ratio.
    n_obs : float or array-like
        Number of return observations (> 1).
    skew : float, default 0.0
        Skewness of the returns.
    kurtosis : float, default 3.0
        **Pearson** kurtosis of the returns (normal = 3).
    sr_benchmark : float, default 0.0
        Per-period benchmark Sharpe ratio ``SR*``.

    Returns
    -------
    float or ndarray
        Probability in [0, 1]; arrays broadcast.

    Examples
    --------
    >>> round(probabilistic_sharpe_ratio(0.1, 250), 4)
    0.9423
    """
    bench = _array("sr_benchmark", sr_benchmark)
    return _psr_core(sharpe, n_obs, skew, kurtosis, bench)


def expected_max_sharpe(n_trials: float, sr_variance: float, sr_mean: float = 0.0) -> float:
    r"""Expected maximum Sharpe ratio among ``n_trials`` independent trials.

    .. math::

        E[\max SR] \approx \mu + \sigma\left((1-\gamma)\Phi^{-1}(1 - 1/N)
                   + \gamma\Phi^{-1}(1 - 1/(N e))\right)

    with :math:`\gamma` the Euler-Mascheroni constant (Bailey, Borwein,
    López de Prado & Zhu 2014, "Pseudo-mathematics and financial charlatanism",
    Notices of the AMS; Bailey & López de Prado 2014, "The Deflated Sharpe
    Ratio", J. Portfolio Management).

    Parameters
    ----------
    n_trials : float
        Number of independent trials ``N`` (>= 1; non-integer effective counts
        are allowed).  ``N == 1`` returns ``sr_mean`` (one trial: no selection).
    sr_variance : float
        Variance across trials of their Sharpe ratios (>= 0), in the same units
        as ``sr_mean`` (per period for use with :func:`deflated_sharpe_ratio`).
    sr_mean : float, default 0.0
        Mean of the trial Sharpe ratios under the null.

    Examples
    --------
    >>> round(expected_max_sharpe(100, 1.0), 4)
    2.5306
    """
    n = _scalar("n_trials", n_trials)
    var = _scalar("sr_variance", sr_variance)
    mu = _scalar("sr_mean", sr_mean)
    if n < 1:
        raise ValueError(
            f"n_trials must be >= 1 (the number of strategies tried), got {n_trials!r}; use 1 or more"
        )
    if var < 0:
        raise ValueError(
            f"sr_variance must be >= 0 (a variance of Sharpe ratios), got {sr_variance!r}"
        )
    if n == 1:
        return mu
    g = np.euler_gamma
    z = (1.0 - g) * stats.norm.ppf(1.0 - 1.0 / n) + g * stats.norm.ppf(1.0 - 1.0 / (n * math.e))
    return float(mu + math.sqrt(var) * z)


def deflated_sharpe_ratio(
    sharpe: Any,
    n_obs: Any,
    n_trials: float,
    sr_variance: float,
    skew: Any = 0.0,
    kurtosis: Any = 3.0,
) -> float | np.ndarray:
    r"""Deflated Sharpe ratio: PSR against the expected maximum SR of ``n_trials``.

    .. math::

        DSR = PSR\left(SR^* = E[\max SR]\right),\quad
        E[\max SR] = \sqrt{V}\left((1-\gamma)\Phi^{-1}(1-1/N)+\gamma\Phi^{-1}(1-1/(Ne))\right)

    Bailey & López de Prado (2014), "The Deflated Sharpe Ratio: Correcting for
    Selection Bias, Backtest Overfitting and Non-Normality", J. Portfolio
    Management 40(5).

    Parameters
    ----------
    sharpe, n_obs, skew, kurtosis
        As in :func:`probabilistic_sharpe_ratio` (per-period SR, Pearson kurtosis).
    n_trials : float
        Number of independent trials behind the selected strategy (>= 1).
    sr_variance : float
        Variance of the trials' **per-period** Sharpe ratios (annualised
        variance divided by periods per year).

    Examples
    --------
    The paper's numerical example (annualised SR 2.5, 5 years of daily data,
    100 trials, annualised-SR variance 0.5, skew -3, kurtosis 10):

    >>> round(deflated_sharpe_ratio(2.5 / 250**0.5, 1250, 100, 0.5 / 250, -3, 10), 4)
    0.9004
    """
    bench = expected_max_sharpe(n_trials, sr_variance)
    return _psr_core(sharpe, n_obs, skew, kurtosis, np.asarray(bench))


def min_track_record_length(
    sharpe: float,
    skew: float = 0.0,
    kurtosis: float = 3.0,
    sr_benchmark: float = 0.0,
    alpha: float = 0.05,
) -> float:
    r"""Minimum track record length, in observations, for ``PSR >= 1 - alpha``.

    .. math::

        MinTRL = 1 + \left(1 - \gamma_3 SR + \frac{\gamma_4-1}{4}SR^2\right)
                 \left(\frac{z_{1-\alpha}}{SR - SR^*}\right)^2

    Bailey & López de Prado (2012), "The Sharpe Ratio Efficient Frontier".
    Returns ``inf`` when ``sharpe <= sr_benchmark`` (no track record suffices).
    At ``n_obs = MinTRL`` the PSR equals exactly ``1 - alpha``.

    Parameters
    ----------
    sharpe : float
        Observed per-period Sharpe ratio.
    skew, kurtosis : float
        Skewness and **Pearson** kurtosis of the returns.
    sr_benchmark : float, default 0.0
        Per-period benchmark Sharpe ratio.
    alpha : float, default 0.05
        Significance level in (0, 1).

    Examples
    --------
    >>> round(min_track_record_length(0.1), 1)
    272.9
    """
    sr = _scalar("sharpe", sharpe)
    sk = _scalar("skew", skew)
    kurt = _scalar("kurtosis", kurtosis)
    bench = _scalar("sr_benchmark", sr_benchmark)
    a = _scalar("alpha", alpha)
    if not 0 < a < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}; use e.g. 0.05")
    var_term = _variance_term(sr, sk, kurt)
    if sr <= bench:
        return math.inf
    z = stats.norm.ppf(1.0 - a)
    return float(1.0 + var_term * (z / (sr - bench)) ** 2)


def min_backtest_length(n_trials: float, sr_target: float = 1.0) -> float:
    r"""Minimum backtest length, in **years**, for ``n_trials`` trials.

    .. math::

        MinBTL \approx \left(\frac{(1-\gamma)\Phi^{-1}(1-1/N)
                 + \gamma\Phi^{-1}(1-1/(Ne))}{E[\max SR]}\right)^2

    Bailey, Borwein, López de Prado & Zhu (2014), "Pseudo-mathematics and
    financial charlatanism", Notices of the AMS 61(5).  With a backtest shorter
    than this, the best of ``n_trials`` skill-less strategies (true SR 0) is
    expected to show an in-sample **annualised** Sharpe ratio of at least
    ``sr_target``.  ``n_trials == 1`` returns 0.

    Parameters
    ----------
    n_trials : float
        Number of independent trials (>= 1).
    sr_target : float, default 1.0
        Annualised Sharpe ratio ``E[max SR]`` to guard against (> 0).

    Examples
    --------
    >>> round(min_backtest_length(45), 2)   # 45 trials fit in a 5-year backtest
    5.0
    """
    target = _scalar("sr_target", sr_target)
    if target <= 0:
        raise ValueError(
            f"sr_target must be > 0 (an annualised Sharpe ratio), got {sr_target!r}; use e.g. 1.0"
        )
    return expected_max_sharpe(n_trials, 1.0) ** 2 / target**2


@dataclass(frozen=True, eq=False)
class PerformanceDegradation:
    """In-sample vs out-of-sample Sharpe of each split's IS winner.

    ``slope`` and ``intercept`` are the OLS fit ``oos = intercept + slope * is``
    over the splits with finite values (NaN when fewer than two distinct IS values).
    """

    is_sharpe: np.ndarray
    oos_sharpe: np.ndarray
    slope: float
    intercept: float


@dataclass(frozen=True, eq=False, repr=False)
class PBOResult:
    """Result of :func:`pbo` (combinatorially symmetric cross-validation).

    Attributes
    ----------
    pbo : float
        Probability of backtest overfitting, the share of logits <= 0.
    logits : ndarray
        ``ln(w / (1 - w))`` per split, ``w`` = OOS relative rank of the IS winner.
    degradation : PerformanceDegradation
        IS and OOS Sharpe of each split's IS winner, plus their OLS fit.
    prob_oos_loss : float
        Share of splits whose IS winner has an OOS Sharpe ratio < 0.
    n_splits : int
        Number of splits, ``C(n_blocks, n_blocks / 2)``.
    n_blocks, n_configs : int
        Blocks used and configurations compared.
    winners : ndarray
        Column index of the IS winner in each split.
    config_names : tuple of str
        Column labels (DataFrame names, else ``"column j"``).
    """

    pbo: float
    logits: np.ndarray
    degradation: PerformanceDegradation
    prob_oos_loss: float
    n_splits: int
    n_blocks: int
    n_configs: int
    winners: np.ndarray
    config_names: tuple[str, ...]

    def summary(self) -> str:
        """Readable multi-line summary of the CSCV result."""
        top = Counter(self.winners.tolist()).most_common(3)
        chosen = ", ".join(f"{self.config_names[j]} ({c / self.n_splits:.0%})" for j, c in top)
        d = self.degradation
        return "\n".join(
            [
                f"PBO (CSCV): {self.pbo:.3f}",
                f"  splits: {self.n_splits} ({self.n_blocks} blocks), "
                f"configurations: {self.n_configs}",
                f"  median logit: {np.median(self.logits):+.3f}",
                f"  P(OOS Sharpe < 0 | IS winner): {self.prob_oos_loss:.3f}",
                f"  degradation OLS: oos = {d.intercept:+.4f} + {d.slope:+.4f} * is",
                f"  most frequent IS winners: {chosen}",
            ]
        )

    def __repr__(self) -> str:
        return (
            f"PBOResult(pbo={self.pbo:.4f}, prob_oos_loss={self.prob_oos_loss:.4f}, "
            f"n_splits={self.n_splits}, n_blocks={self.n_blocks}, n_configs={self.n_configs})"
        )

    def plot(self, *, bins: int = 30) -> Any:
        """Histogram of logits and OOS-vs-IS scatter; returns a matplotlib Figure."""
        import matplotlib.pyplot as plt

        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
        ax1.hist(self.logits, bins=bins, color="tab:blue", alpha=0.8)
        ax1.axvline(0.0, color="k", lw=1, ls="--")
        ax1.set(xlabel="logit of OOS rank of IS winner", ylabel="splits",
                title=f"PBO = {self.pbo:.3f}")  # fmt: skip
        d = self.degradation
        ax2.scatter(d.is_sharpe, d.oos_sharpe, s=6, alpha=0.4, color="tab:orange")
        if np.isfinite(d.slope):
            finite = np.isfinite(d.is_sharpe)
            xs = np.linspace(d.is_sharpe[finite].min(), d.is_sharpe[finite].max(), 2)
            ax2.plot(xs, d.intercept + d.slope * xs, color="k", lw=1,
                     label=f"OLS slope {d.slope:+.3f}")  # fmt: skip
            ax2.legend(loc="best")
        ax2.axhline(0.0, color="grey", lw=0.8)
        ax2.set(xlabel="IS Sharpe (per period)", ylabel="OOS Sharpe (per period)",
                title=f"P(OOS loss) = {self.prob_oos_loss:.3f}")  # fmt: skip
        fig.tight_layout()
        return fig


def _subset_sharpe(
    s1: np.ndarray, c1: np.ndarray, c2: np.ndarray, n: np.ndarray, tol: np.ndarray
) -> np.ndarray:
    """Sharpe (ddof=1) from raw sums ``s1`` and centred sums ``c1``, ``c2`` of ``n`` rows."""
    n = n[:, None]
    mean = s1 / n
    var = (c2 - c1 * c1 / n) / (n - 1.0)
    var = np.where(var <= tol, 0.0, var)
    with np.errstate(divide="ignore", invalid="ignore"):
        sr = mean / np.sqrt(var)
    # Zero variance over a subset (e.g. a flat strategy): 0 if flat at 0, else +/-inf.
    return np.where(var == 0.0, np.where(mean == 0.0, 0.0, np.copysign(np.inf, mean)), sr)


def pbo(returns_matrix: Any, n_blocks: int = 16) -> PBOResult:
    r"""Probability of backtest overfitting by combinatorially symmetric cross-validation.

    Rows of ``returns_matrix`` are time, columns are the ``N`` configurations
    tried.  Rows are cut into ``n_blocks`` contiguous blocks
    (``np.array_split``); each of the :math:`\binom{S}{S/2}` ways to pick half
    the blocks gives an in-sample (IS) set and the complementary out-of-sample
    (OOS) set.  Performance is the per-period Sharpe ratio (ddof=1).  The IS
    winner (first argmax) gets its OOS rank among the ``N`` configurations
    (1 = worst, ties averaged), :math:`w = rank/(N+1)` and
    :math:`\lambda = \ln(w/(1-w))`; ``PBO`` is the share of :math:`\lambda \le 0`.

    Bailey, Borwein, López de Prado & Zhu (2017), "The probability of backtest
    overfitting", Journal of Computational Finance 20(4).

    The computation is vectorised: per-block sums and sums of squares are formed
    once and combined with a 0/1 split matrix by matrix products, in chunks.
    Cost grows as :math:`\binom{S}{S/2} N` (12,870 splits for ``S = 16``).  A
    configuration constant over a whole IS/OOS subset gets Sharpe 0 there if
    flat at 0, else +/-inf (such splits are left out of the OLS fit).

    Parameters
    ----------
    returns_matrix : array-like or pandas DataFrame, shape (T, N)
        Per-period returns, finite, ``N >= 2``, no constant column.
    n_blocks : int, default 16
        Even number ``S >= 2`` of contiguous blocks; needs ``T >= max(S, 4)``.

    Returns
    -------
    PBOResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> res = pbo(rng.standard_normal((500, 20)), n_blocks=8)
    >>> res.n_splits
    70
    """
    if (
        isinstance(n_blocks, bool)
        or not isinstance(n_blocks, (int, np.integer))
        or n_blocks < 2
        or n_blocks % 2
    ):
        fix = int(n_blocks) + 1 if isinstance(n_blocks, (int, np.integer)) and n_blocks > 2 else 16
        raise ValueError(f"n_blocks must be an even integer >= 2, got {n_blocks!r}; use {fix}")
    n_blocks = int(n_blocks)
    x = _array("returns_matrix", returns_matrix)
    if x.ndim != 2:
        raise ValueError(
            f"returns_matrix must be 2-D (rows = time, columns = configurations), got "
            f"{x.ndim}-D with shape {x.shape}; reshape or stack the configurations as columns"
        )
    t, n_cfg = x.shape
    if n_cfg < 2:
        raise ValueError(
            f"returns_matrix must hold at least 2 configurations (columns), got {n_cfg}; "
            "PBO compares the selected configuration against the alternatives"
        )
    if t < max(n_blocks, 4):
        raise ValueError(
            f"returns_matrix must have at least n_blocks rows (and >= 4), got {t} rows with "
            f"n_blocks={n_blocks}; use fewer blocks or a longer sample"
        )
    names = _column_labels(returns_matrix, n_cfg)
    constant = np.ptp(x, axis=0) == 0
    if np.any(constant):
        bad = [names[j] for j in np.flatnonzero(constant)]
        raise ValueError(
            f"returns_matrix has zero-variance column(s) {bad}; their Sharpe ratio is "
            "undefined - drop constant configurations before calling"
        )

    # Per-block sums (raw for means; centred on the column mean for stable variances).
    xc = x - x.mean(axis=0)
    bounds = np.cumsum([0] + [len(b) for b in np.array_split(np.arange(t), n_blocks)])
    starts = bounds[:-1]
    s1 = np.add.reduceat(x, starts, axis=0)
    c1 = np.add.reduceat(xc, starts, axis=0)
    c2 = np.add.reduceat(xc * xc, starts, axis=0)
    counts = np.diff(bounds).astype(float)
    tol = _ZERO_VAR_RTOL * x.var(axis=0, ddof=1)

    n_splits = math.comb(n_blocks, n_blocks // 2)
    chunk = max(1, _CHUNK_CELLS // n_cfg)
    combo_iter = combinations(range(n_blocks), n_blocks // 2)
    logits = np.empty(n_splits)
    winners = np.empty(n_splits, dtype=np.intp)
    is_best = np.empty(n_splits)
    oos_best = np.empty(n_splits)
    done = 0
    while done < n_splits:
        idx = np.array(list(islice(combo_iter, chunk)), dtype=np.intp)
        m = np.zeros((len(idx), n_blocks))
        m[np.arange(len(idx))[:, None], idx] = 1.0
        sl = slice(done, done + len(idx))
        rows = np.arange(len(idx))
        sr_is = _subset_sharpe(m @ s1, m @ c1, m @ c2, m @ counts, tol)
        oos = 1.0 - m
        sr_oos = _subset_sharpe(oos @ s1, oos @ c1, oos @ c2, oos @ counts, tol)
        win = np.argmax(sr_is, axis=1)  # first argmax
        winners[sl] = win
        is_best[sl] = sr_is[rows, win]
        oos_best[sl] = w_oos = sr_oos[rows, win]
        # OOS rank of the IS winner: 1 = worst, ties share their average rank.
        below = np.count_nonzero(sr_oos < w_oos[:, None], axis=1)
        equal = np.count_nonzero(sr_oos == w_oos[:, None], axis=1)
        w = (below + (equal + 1) / 2.0) / (n_cfg + 1.0)
        logits[sl] = np.log(w / (1.0 - w))
        done += len(idx)

    for arr in (logits, winners, is_best, oos_best):
        arr.setflags(write=False)  # the result is frozen, its arrays too
    finite = np.isfinite(is_best) & np.isfinite(oos_best)
    slope = intercept = math.nan
    if np.count_nonzero(finite) >= 2 and np.ptp(is_best[finite]) > 0:
        slope, intercept = (float(v) for v in np.polyfit(is_best[finite], oos_best[finite], 1))
    return PBOResult(
        pbo=float(np.mean(logits <= 0)),
        logits=logits,
        degradation=PerformanceDegradation(is_best, oos_best, slope, intercept),
        prob_oos_loss=float(np.mean(oos_best < 0)),
        n_splits=n_splits,
        n_blocks=n_blocks,
        n_configs=n_cfg,
        winners=winners,
        config_names=tuple(names),
    )


_STUDY_NAMES = ("OverfittingStudy", "StudySummary", "augmented_forecaster_experiment", "momentum")


def __getattr__(name: str):
    # Imported lazily: quantgan.study imports this module (no cycle at import time).
    if name in _STUDY_NAMES:
        from quantgan import study

        return getattr(study, name)
    raise AttributeError(f"module 'quantgan.overfitting' has no attribute {name!r}")
