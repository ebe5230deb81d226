"""Preprocessing of returns for the generator: scaling, Lambert W gaussianising, windows.

numpy and scipy (no torch). The pipeline of Quant GANs (Wiese et al. 2020, section 6) is
``log returns -> standardise -> inverse Lambert W -> standardise``; the generator
learns the (lighter-tailed) result and sampling undoes each step exactly.

The heavy-tail Lambert W x Gaussian model (Goerg 2015, "The Lambert Way to Gaussianize
heavy-tailed data with the inverse of Tukey's h transformation as a special case")
says ``z = u * exp(delta * u**2 / 2)`` with ``u`` Gaussian. Its exponential growth is
a hazard on sampling: with delta ~ 0.4 a 5-sigma generator output becomes a ~950-sigma
return. :class:`LambertWGaussianizer` is therefore *tail-safe*: beyond the largest
``|u|`` seen in training the map continues linearly (at its average slope over the
data), so it stays continuous and exactly invertible and never extrapolates the
exponential.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares, nnls

from quantgan.metrics import _acf_columns, _fft_cross

__all__ = [
    "GaussianizingScaler",
    "LambertWGaussianizer",
    "Standardizer",
    "garch_asymmetry",
    "garch_log_variance",
    "garch_volatility_start",
    "lambert_w",
    "log_volatility_weights",
    "shared_volatility_share",
    "sliding_windows",
]


def lambert_w(x: np.ndarray, *, tol: float = 1e-12, max_iter: int = 50) -> np.ndarray:
    """Principal branch of the Lambert W function for ``x >= 0`` (Halley's method).

    Solves ``w * exp(w) = x``. Vectorised; converges in a few iterations from the
    Winitzki initial guess.
    """
    x = np.asarray(x, dtype=float)
    if np.any(x < 0):
        raise ValueError("lambert_w is implemented for x >= 0 only")
    lx = np.log1p(x)
    w = lx * (1.0 - np.log1p(lx) / (2.0 + lx))
    for _ in range(max_iter):
        ew = np.exp(w)
        f = w * ew - x
        denom = ew * (w + 1.0) - (w + 2.0) * f / (2.0 * w + 2.0)
        step = f / denom
        w = w - step
        if np.all(np.abs(step) <= tol * (1.0 + np.abs(w))):
            break
    return w


def _w_delta(z: np.ndarray, delta: float) -> np.ndarray:
    """Gaussianising map u = W_delta(z) = sign(z) sqrt(W(delta z^2) / delta)."""
    if delta <= 0:
        return np.array(z, dtype=float)
    return np.sign(z) * np.sqrt(lambert_w(delta * z * z) / delta)


def _kurtosis(x: np.ndarray) -> float:
    c = x - x.mean()
    m2 = np.mean(c * c)
    return float(np.mean(c**4) / (m2 * m2))


class Standardizer:
    """Per-column ``(x - mean) / std`` for a ``(n_obs, n_features)`` array."""

    def fit(self, x: np.ndarray) -> Standardizer:
        x = np.asarray(x, dtype=float)
        self.mean_ = x.mean(axis=0)
        self.scale_ = x.std(axis=0)
        if np.any(self.scale_ == 0):
            raise ValueError("cannot standardise a constant column")
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=float) - self.mean_) / self.scale_

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=float) * self.scale_ + self.mean_


class LambertWGaussianizer:
    """Heavy-tail Lambert W x Gaussian transform, fitted per column by IGMM.

    ``transform`` maps heavy-tailed data ``y`` to approximately Gaussian ``u``;
    ``inverse_transform`` maps back. Parameters per column: location ``mu_``, scale
    ``sigma_`` (of the latent Gaussian), tail parameter ``delta_ >= 0`` and
    ``u_max_``, the largest ``|u|`` of the training data, past which both maps are
    linear (see the module docstring).

    Fitting is Goerg's iterative generalised method of moments: given ``(mu, sigma)``
    choose ``delta`` so that ``W_delta((y - mu) / sigma)`` has kurtosis 3, then
    re-estimate ``(mu, sigma)`` from the back-transformed data, until it settles.

    Parameters
    ----------
    tol : float
        Convergence tolerance on the parameters.
    max_iter : int
        Maximum IGMM iterations.
    """

    def __init__(self, tol: float = 1e-7, max_iter: int = 100):
        self.tol = tol
        self.max_iter = max_iter

    @staticmethod
    def _delta_for_gaussian_kurtosis(z: np.ndarray) -> float:
        if _kurtosis(z) <= 3.0:
            return 0.0
        lo, hi = 0.0, 1.0
        while _kurtosis(_w_delta(z, hi)) > 3.0:  # kurtosis decreases in delta
            lo, hi = hi, 2.0 * hi
            if hi > 64:
                return hi
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if _kurtosis(_w_delta(z, mid)) > 3.0:
                lo = mid
            else:
                hi = mid
            if hi - lo < 1e-10:
                break
        return 0.5 * (lo + hi)

    def _fit_column(self, y: np.ndarray) -> tuple[float, float, float]:
        mu, sigma, delta = float(np.median(y)), float(y.std()), 0.0
        for _ in range(self.max_iter):
            z = (y - mu) / sigma
            delta_new = self._delta_for_gaussian_kurtosis(z)
            x = _w_delta(z, delta_new) * sigma + mu
            mu_new, sigma_new = float(x.mean()), float(x.std())
            change = max(abs(mu_new - mu), abs(sigma_new - sigma), abs(delta_new - delta))
            mu, sigma, delta = mu_new, sigma_new, delta_new
            if change < self.tol:
                break
        return mu, sigma, delta

    def fit(self, y: np.ndarray) -> LambertWGaussianizer:
        y = np.asarray(y, dtype=float)
        if y.ndim == 1:
            y = y[:, None]
        params = [self._fit_column(y[:, j]) for j in range(y.shape[1])]
        self.mu_, self.sigma_, self.delta_ = (np.array(p) for p in zip(*params, strict=True))
        u = self._exact_transform(y)
        self.u_max_ = np.abs(u).max(axis=0)
        return self

    def _exact_transform(self, y: np.ndarray) -> np.ndarray:
        z = (y - self.mu_) / self.sigma_
        return np.column_stack([_w_delta(z[:, j], self.delta_[j]) for j in range(z.shape[1])])

    def _tail(self) -> tuple[np.ndarray, np.ndarray]:
        """z at ``u_max`` and the slope of the linear continuation beyond it.

        The slope is the secant ``z(u_max) / u_max`` (the average growth of the map
        over the data), not the tangent: at delta ~ 0.2 the tangent is ~4x steeper
        and, measured on a WGAN fitted to the S&P 500, made the mean per-path
        kurtosis of 5030-day paths 38 instead of 18 (real: 8.2).
        """
        u0, d = self.u_max_, self.delta_
        g0 = u0 * np.exp(0.5 * d * u0 * u0)
        return g0, g0 / u0

    def transform(self, y: np.ndarray) -> np.ndarray:
        """Heavy-tailed ``y`` -> Gaussian-like ``u`` (last axis = columns)."""
        y = np.asarray(y, dtype=float)
        shape = y.shape
        y2 = y.reshape(-1, len(self.delta_))
        z = (y2 - self.mu_) / self.sigma_
        g0, slope = self._tail()
        inner = np.clip(z, -g0, g0)
        u = np.column_stack([_w_delta(inner[:, j], self.delta_[j]) for j in range(inner.shape[1])])
        beyond = np.abs(z) > g0
        u = np.where(beyond, np.sign(z) * (self.u_max_ + (np.abs(z) - g0) / slope), u)
        return u.reshape(shape)

    def inverse_transform(self, u: np.ndarray) -> np.ndarray:
        """Gaussian-like ``u`` -> heavy-tailed ``y``; linear past ``u_max_``."""
        u = np.asarray(u, dtype=float)
        shape = u.shape
        u2 = u.reshape(-1, len(self.delta_))
        g0, slope = self._tail()
        inner = np.clip(u2, -self.u_max_, self.u_max_)
        z = inner * np.exp(0.5 * self.delta_ * inner * inner)
        beyond = np.abs(u2) > self.u_max_
        z = np.where(beyond, np.sign(u2) * (g0 + (np.abs(u2) - self.u_max_) * slope), z)
        return (z * self.sigma_ + self.mu_).reshape(shape)

    def n_extrapolated(self, u: np.ndarray) -> int:
        """How many values of ``u`` lie past ``u_max_`` (mapped by the linear tail)."""
        u = np.asarray(u, dtype=float).reshape(-1, len(self.delta_))
        return int(np.count_nonzero(np.abs(u) > self.u_max_))


class GaussianizingScaler:
    """``standardise -> Lambert W gaussianise -> standardise``, exactly invertible.

    Parameters
    ----------
    gaussianize : bool, default True
        Apply the Lambert W step; without it this is a plain standardisation.
    """

    def __init__(self, gaussianize: bool = True):
        self.gaussianize = gaussianize

    def fit(self, x: np.ndarray) -> GaussianizingScaler:
        """Fit on ``(n_obs, n_assets)`` returns."""
        x = np.asarray(x, dtype=float)
        self.first_ = Standardizer().fit(x)
        z = self.first_.transform(x)
        self.lambert_ = LambertWGaussianizer().fit(z) if self.gaussianize else None
        u = self.lambert_.transform(z) if self.lambert_ is not None else z
        self.second_ = Standardizer().fit(u)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Returns (last axis = assets) -> model space."""
        z = self.first_.transform(x)
        if self.lambert_ is not None:
            z = self.lambert_.transform(z)
        return self.second_.transform(z)

    def inverse_transform(self, v: np.ndarray) -> tuple[np.ndarray, int]:
        """Model space -> returns; also returns how many values took the linear tail."""
        u = self.second_.inverse_transform(v)
        n_tail = 0
        if self.lambert_ is not None:
            n_tail = self.lambert_.n_extrapolated(u)
            u = self.lambert_.inverse_transform(u)
        return self.first_.inverse_transform(u), n_tail

    def get_state(self) -> dict:
        """JSON-serialisable fitted parameters (for save/load without pickle)."""
        state = {
            "gaussianize": self.gaussianize,
            "first": [self.first_.mean_.tolist(), self.first_.scale_.tolist()],
            "second": [self.second_.mean_.tolist(), self.second_.scale_.tolist()],
        }
        if self.lambert_ is not None:
            lw = self.lambert_
            state["lambert"] = [p.tolist() for p in (lw.mu_, lw.sigma_, lw.delta_, lw.u_max_)]
        return state

    @classmethod
    def from_state(cls, state: dict) -> GaussianizingScaler:
        self = cls(gaussianize=bool(state["gaussianize"]))
        self.first_, self.second_ = Standardizer(), Standardizer()
        self.first_.mean_, self.first_.scale_ = (np.array(a) for a in state["first"])
        self.second_.mean_, self.second_.scale_ = (np.array(a) for a in state["second"])
        self.lambert_ = None
        if self.gaussianize:
            self.lambert_ = LambertWGaussianizer()
            lw = self.lambert_
            lw.mu_, lw.sigma_, lw.delta_, lw.u_max_ = (np.array(a) for a in state["lambert"])
        return self


def sliding_windows(x: np.ndarray, window: int, stride: int = 1) -> np.ndarray:
    """All windows of ``window`` consecutive rows of a ``(n_obs, n_assets)`` array.

    Returns a new ``(n_windows, window, n_assets)`` array (a copy, not a view).
    """
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[:, None]
    if window > x.shape[0]:
        raise ValueError(f"window must be <= the series length {x.shape[0]}, got {window}")
    view = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)[::stride]
    return np.ascontiguousarray(view.transpose(0, 2, 1))


_LOG_VOL_METHODS = ("acf", "log")


def log_volatility_weights(
    x: np.ndarray,
    timescales,
    *,
    method: str = "log",
    max_lag: int = 250,
    offset: float = 1e-4,
    max_std: float = 1.0,
    joint: bool = False,
) -> np.ndarray:
    r"""Moment estimate of a log-volatility made of AR(1) components, per asset.

    Model: ``x_t = sigma_t * eps_t`` with ``log sigma_t = sum_k w_k s_{k,t}``, where the
    ``s_k`` are independent unit-variance AR(1) processes with autocorrelation
    ``exp(-h / timescales[k])`` and ``eps`` is i.i.d. standard normal, so that
    ``log sigma`` has autocovariance ``C(h) = sum_k w_k^2 exp(-h / tau_k)``.

    ``method="log"`` (default): ``y_t = log x_t^2`` is ``log sigma_t^2`` plus i.i.d. noise, so
    for every lag ``h >= 1``

    .. math:: \operatorname{cov}(y_t, y_{t+h}) = 4 \sum_k w_k^2 e^{-h / \tau_k},

    which is linear in ``w_k^2 >= 0``: non-negative least squares over lags
    ``1..max_lag`` gives the weights. (The decomposition of log squared returns into
    log-volatility plus noise is the one behind the quasi-likelihood estimator of
    Harvey, Ruiz & Shephard 1994; ``offset`` keeps ``log`` finite at zero returns,
    as in Breidt & Carriquiry 1996.)

    ``method="acf"``: starting there, least squares on the sample ACFs of
    ``|x|`` and ``x^2`` over lags ``1..max_lag``, the volatility-clustering facts the
    generator is judged on. For Gaussian ``eps`` and log-normal ``sigma`` they are
    known in closed form (``E sigma_t^p sigma_{t+h}^p = exp(p^2 (C(0) + C(h)))``):

    .. math:: \rho_{|x|}(h) = \frac{(2/\pi)(e^{C(h)} - 1)}{e^{C(0)} - 2/\pi}, \qquad
              \rho_{x^2}(h) = \frac{e^{4C(h)} - 1}{3 e^{4C(0)} - 1},

    and the fit compares the sample ACFs with their expectation on stretches of the
    data's length (each stretch's own mean removed, which biases a persistent
    series' ACF down; see :func:`_expected_sample_acf`). The log fit sees the bulk of
    the distribution; this one the large days that dominate ``x^2``. On the S&P 500
    1999-2018 with time constants 16, 64, 256 days: log 0.258 / 0 / 0.450, acf
    0 / 0.419 / 0.406, whose factor alone (Gaussian ``eps``, no network) has ACF
    scores of ``|r|`` and ``r^2`` of 0.022 and 0.033 against the log fit's 0.028 and
    0.041 (``benchmarks/log_volatility_start.py``, docs/model.md).

    Parameters
    ----------
    x : array of shape (T, n_assets) or (n_windows, T, n_assets)
        Standardised returns; windows are treated as independent stretches.
    timescales : sequence of float
        Time constants of the AR(1) components, in steps.
    method : {"log", "acf"}, default "log"
        What the weights are fitted to (above).
    max_lag : int, default 250
        Longest lag fitted (capped at a quarter of the series' length).
    offset : float, default 1e-4
        Added to ``x**2`` before the logarithm (in units of the variance).
    max_std : float, default 1.0
        Upper bound on the standard deviation of ``log sigma`` (the weights' norm);
        larger estimates are scaled down to it.
    joint : bool, default False
        With several assets, fit all assets' weights together with the share ``s`` of
        each asset's factor that is common to all (:func:`shared_volatility_share`'s
        model): every pair's cross-moments at lags ``1..max_lag`` (averaged over both
        directions) are fitted next to each asset's own. With ``w_a`` and ``w_b`` the
        two assets' weights, the factors' cross-covariance at lag ``h`` is
        ``s sum_k w_{a,k} w_{b,k} exp(-h / tau_k)``; the cross-ACFs of ``|x|`` and
        ``x^2`` follow as above (``E sigma_{a,t} sigma_{b,t+h} = exp((C_a(0) +
        C_b(0)) / 2 + C_ab(h))``), the log fit's cross-covariance of ``log x^2`` is 4
        times it. Fitted alone, each asset's weights are only weakly identified (the
        components' ACFs overlap), and two assets can land on profiles that no share
        lets co-move as much as their history: the S&P 500 and the NASDAQ 1999-2018
        fitted alone have weights 0 / 0.42 / 0.41 and 0.16 / 0 / 0.59 at 16 / 64 / 256
        days (cosine 0.67; jointly 0.83) while their 20-day volatilities correlate 0.84
        (docs/model.md, "Seventeenth session"). ``s`` is not returned:
        :func:`shared_volatility_share` picks it with the GARCH volatility in place.

    Returns
    -------
    ndarray of shape (n_assets, len(timescales))
        ``w_k``: the standard deviation that component ``k`` adds to ``log sigma``.
        Rows are zero for series too short to estimate anything (under 8 steps).
    """
    if method not in _LOG_VOL_METHODS:
        raise ValueError(f"method must be one of {_LOG_VOL_METHODS}, got {method!r}")
    x = _as_stretches(x)
    taus = np.asarray([float(t) for t in timescales])
    _, length, n_assets = x.shape
    out = np.zeros((n_assets, len(taus)))
    n_lags = min(int(max_lag), length // 4)
    if len(taus) == 0 or n_lags < 2:
        return out
    y = np.log(x * x + offset)
    y = y - y.mean(axis=(0, 1))
    lags = np.arange(1, n_lags + 1)
    design = np.exp(-lags[:, None] / taus[None, :])
    for a in range(n_assets):
        ya = y[..., a]
        acov = np.array([np.mean(ya[:, :-h] * ya[:, h:]) for h in lags])
        variances, _ = nnls(design, acov)
        variances = variances / 4.0
        if method == "acf":
            variances = _fit_acfs(x[..., a], taus, n_lags, variances, max_std)
        out[a] = np.sqrt(variances)
    if joint and n_assets > 1:
        out = _fit_jointly(x, y, taus, n_lags, out, max_std, method)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # max_std = 0: rows of zeros
        return np.where(norms > max_std, out * (max_std / np.maximum(norms, max_std)), out)


def _as_stretches(x) -> np.ndarray:
    """``x`` as ``(n_stretches, T, n_assets)`` floats: a 2-D ``(T, n_assets)`` is one stretch."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(
            f"x must be 2-D (T, n_assets) or 3-D (n_windows, T, n_assets), got {x.ndim}-D"
        )
    return x


def _clustering_acfs(x: np.ndarray, n_lags: int) -> np.ndarray:
    """``(2, n_lags)``: mean sample ACFs of ``|x|`` and ``x^2`` over the rows of ``x``."""
    return np.stack([_mean_sample_acf(np.abs(x), n_lags), _mean_sample_acf(x * x, n_lags)])


def _mean_sample_acf(y: np.ndarray, n_lags: int) -> np.ndarray:
    """Mean over rows of :func:`quantgan.metrics.acf` at lags 1..n_lags (constant rows: 0)."""
    varying = y.std(axis=1) > 0
    if not varying.any():
        return np.zeros(n_lags)
    return _acf_columns(y[varying].T, n_lags)[1:].sum(axis=1) / y.shape[0]


def _expected_sample_acf(variances, taus, length: int, n_lags: int) -> np.ndarray:
    """``(2, n_lags)``: expected sample ACFs of ``|x|`` and ``x^2`` at lags 1..n_lags.

    For ``x_t = exp(log sigma_t) eps_t`` (Gaussian ``eps``, log-normal ``sigma`` with
    autocovariance ``sum_k variances_k exp(-h / taus_k)``) observed on stretches of
    ``length`` steps. The sample ACF divides ``sum_{t <= n-k} (y_t - ybar)(y_{t+k} -
    ybar)`` by ``sum_t (y_t - ybar)^2``; to first order its mean is
    ``(1 - k/n) (gamma(k) - V) / (gamma(0) - V)`` with ``V`` the variance of the
    stretch mean ``ybar`` (the usual bias of the sample autocovariance of a persistent
    series). Ratio and heavy-tail effects are left out: on simulated paths of the S&P
    500's length the sample ACFs come out a few percent lower still.
    """
    h = np.arange(length)
    c = np.exp(-h[None, :] / taus[:, None]).T @ variances  # cov of log sigma at lag h
    gammas = _clustering_autocovariances(c)
    var_mean = _variance_of_mean(gammas)
    k = np.arange(1, n_lags + 1)
    return (
        (1.0 - k / length)
        * (gammas[:, 1 : n_lags + 1] - var_mean[:, None])
        / (gammas[:, :1] - var_mean[:, None])
    )


def _clustering_autocovariances(c: np.ndarray) -> np.ndarray:
    """``(2, length)``: autocovariances of ``|x|`` and ``x^2`` at lags ``0..length-1``
    for a log-volatility with autocovariance ``c`` (Gaussian ``eps``)."""
    c0 = c[0]
    m = 2.0 / np.pi  # (E|eps|)^2
    gammas = np.empty((2, len(c)))
    gammas[0] = m * np.exp(c0) * np.expm1(c)
    gammas[0, 0] = np.exp(2 * c0) - m * np.exp(c0)
    gammas[1] = np.exp(4 * c0) * np.expm1(4 * c)
    gammas[1, 0] = 3 * np.exp(8 * c0) - np.exp(4 * c0)
    return gammas


def _variance_of_mean(gammas: np.ndarray) -> np.ndarray:
    """Covariance of two stretch means from their (cross-)covariances ``gammas[:, h]`` at
    lags ``h = 0..length-1`` (the same at ``-h``), per row."""
    length = gammas.shape[1]
    weights = 1.0 - np.arange(1, length) / length
    return (gammas[:, 0] + 2 * gammas[:, 1:] @ weights) / length


def _fit_acfs(x: np.ndarray, taus, n_lags: int, start: np.ndarray, max_std: float) -> np.ndarray:
    """Log-volatility variances whose expected ACFs of ``|x|``, ``x^2`` fit the sample's.

    ``x`` is ``(n_windows, T)`` for one asset; ``start`` the log fit's variances.
    """
    target = _clustering_acfs(x, n_lags)
    length = x.shape[1]

    def residuals(v):
        with np.errstate(over="ignore", invalid="ignore"):
            r = (_expected_sample_acf(v, taus, length, n_lags) - target).ravel()
        # A huge log-variance overflows exp(): a poor fit, not an error.
        return np.where(np.isfinite(r), r, 1.0)

    upper = max_std**2
    # A start on the bound would leave least_squares nowhere to go on that side.
    v0 = np.clip(start, 0.01 * upper, 0.99 * upper)
    return least_squares(residuals, v0, bounds=(0.0, upper)).x


def _expected_sample_cross(
    c_a: np.ndarray, c_b: np.ndarray, c_ab: np.ndarray, rho: float, n_lags: int
) -> np.ndarray:
    """``(2, n_lags)``: expected sample cross-ACFs of ``|x|`` and ``x^2`` of two assets.

    ``c_a``, ``c_b`` are the assets' log-volatility autocovariances and ``c_ab`` their
    cross-covariance at lags ``0..length-1`` (the same at ``-h``); ``rho`` the
    correlation of their Gaussian shocks (same day only). The stretch-mean bias is
    :func:`_expected_sample_acf`'s, with the cross-covariance of the two means.
    """
    length = c_ab.shape[0]
    m = 2.0 / np.pi
    both = 0.5 * (c_a[0] + c_b[0])
    gammas = np.empty((2, length))
    gammas[0] = m * np.exp(both) * np.expm1(c_ab)
    gammas[1] = np.exp(4 * both) * np.expm1(4 * c_ab)
    # Same day: E|e_a e_b| and E e_a^2 e_b^2 of two standard normals correlated rho.
    abs_moment = m * (np.sqrt(1 - rho * rho) + rho * np.arcsin(rho))
    gammas[0, 0] = np.exp(both + c_ab[0]) * abs_moment - m * np.exp(both)
    gammas[1, 0] = np.exp(4 * both) * (np.exp(4 * c_ab[0]) * (1 + 2 * rho * rho) - 1)
    own = []
    for c in (c_a, c_b):
        gam = _clustering_autocovariances(c)
        own.append(gam[:, 0] - _variance_of_mean(gam))
    k = np.arange(1, n_lags + 1)
    var_mean = _variance_of_mean(gammas)
    return (
        (1.0 - k / length)
        * (gammas[:, 1 : n_lags + 1] - var_mean[:, None])
        / np.sqrt(own[0] * own[1])[:, None]
    )


def _mean_sample_cross(a: np.ndarray, b: np.ndarray, n_lags: int) -> np.ndarray:
    """Mean over rows of the sample cross-correlation of ``a[i]`` and ``b[i]`` at lags
    ``1..n_lags``, averaged with lags ``-1..-n_lags`` (rows without variation: 0)."""
    a = (a - a.mean(axis=1, keepdims=True)).T
    b = (b - b.mean(axis=1, keepdims=True)).T
    den = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    both = _fft_cross(a, b, n_lags)[1:] + _fft_cross(b, a, n_lags)[1:]
    ok = den > 0
    return (0.5 * both[:, ok] / den[ok]).sum(axis=1) / a.shape[1]


def _fit_jointly(
    x: np.ndarray,
    y: np.ndarray,
    taus: np.ndarray,
    n_lags: int,
    start: np.ndarray,
    max_std: float,
    method: str,
) -> np.ndarray:
    """All assets' weights and a common share fitted to own and cross moments together
    (:func:`log_volatility_weights` with ``joint``); ``start``: the weights fitted alone,
    ``y`` the centred ``log x^2``. Returns the weights."""
    n_assets, n_taus = start.shape
    length = x.shape[1]
    pairs = [(a, b) for a in range(n_assets) for b in range(a + 1, n_assets)]
    if method == "acf":
        h = np.arange(length)
        decay = np.exp(-h[:, None] / taus[None, :])
        own = [_clustering_acfs(x[..., a], n_lags) for a in range(n_assets)]
        with np.errstate(divide="ignore", invalid="ignore"):  # a constant asset: 0
            rho = np.corrcoef(x.reshape(-1, n_assets), rowvar=False)
        rho = np.where(np.isfinite(rho), rho, 0.0)
        cross = {
            (a, b): np.stack(
                [
                    _mean_sample_cross(np.abs(x[..., a]), np.abs(x[..., b]), n_lags),
                    _mean_sample_cross(x[..., a] ** 2, x[..., b] ** 2, n_lags),
                ]
            )
            for a, b in pairs
        }
    else:
        lags = np.arange(1, n_lags + 1)
        decay = np.exp(-lags[:, None] / taus[None, :])

        def lagged(u, v):
            return np.array(
                [0.5 * np.mean(u[:, :-k] * v[:, k:] + v[:, :-k] * u[:, k:]) for k in lags]
            )

        own = [lagged(y[..., a], y[..., a]) for a in range(n_assets)]
        cross = {(a, b): lagged(y[..., a], y[..., b]) for a, b in pairs}

    def residuals(theta):
        w = theta[:-1].reshape(n_assets, n_taus)
        share = theta[-1]
        out = []
        with np.errstate(over="ignore", invalid="ignore"):
            if method == "acf":
                c = [decay @ (w[a] * w[a]) for a in range(n_assets)]
                for a in range(n_assets):
                    out.append(_expected_sample_acf(w[a] ** 2, taus, length, n_lags) - own[a])
                for a, b in pairs:
                    c_ab = share * (decay @ (w[a] * w[b]))
                    model = _expected_sample_cross(c[a], c[b], c_ab, rho[a, b], n_lags)
                    out.append(model - cross[a, b])
            else:
                for a in range(n_assets):
                    out.append(4 * decay @ (w[a] * w[a]) - own[a])
                for a, b in pairs:
                    out.append(4 * share * (decay @ (w[a] * w[b])) - cross[a, b])
        r = np.concatenate([np.ravel(o) for o in out])
        # A huge log-variance overflows exp(): a poor fit, not an error.
        return np.where(np.isfinite(r), r, 1.0)

    # A start on a bound would leave least_squares nowhere to go on that side.
    theta0 = np.append(np.clip(start, 0.01 * max_std, 0.99 * max_std).ravel(), 0.5)
    upper = np.append(np.full(start.size, max_std), 1.0)
    theta = least_squares(residuals, theta0, bounds=(0.0, upper)).x
    return theta[:-1].reshape(n_assets, n_taus)


#: GARCH volatility of the TCN (``garch=True``): squared shocks are clipped at
#: ``GARCH_CLIP**2``; persistence (alpha + beta), and alpha when it is not fitted.
GARCH_CLIP = 4.0
GARCH_PERSISTENCE = 0.99
GARCH_ALPHA = 0.05


def garch_log_variance(
    shocks: np.ndarray,
    alpha: float,
    persistence: float,
    clip: float = GARCH_CLIP,
    gamma: float = 0.0,
):
    """numpy twin of :func:`quantgan.nn.tcn.garch_log_variance` for one asset.

    ``shocks`` is ``(..., L)``; returns ``log sigma^2`` of the unit-mean (GJR-)GARCH(1,1)
    recursion ``sigma^2_t = (1 - p) + sigma^2_{t-1} ((alpha + gamma 1[u_{t-1} < 0])
    min(u_{t-1}^2, clip^2) + p - alpha - gamma / 2)`` started at ``sigma^2_0 = 1``, in
    closed form (no loop over time).
    """
    squares = np.minimum(shocks * shocks, clip * clip)
    coeff = (alpha + gamma * (shocks < 0)) * squares + (persistence - alpha - gamma / 2)
    log_p = np.cumsum(np.log(coeff), axis=-1)
    log_p = np.concatenate([np.zeros_like(log_p[..., :1]), log_p[..., :-1]], axis=-1)
    inner = np.full_like(log_p, -np.inf)
    inner[..., 1:] = np.log1p(-persistence) + np.logaddexp.accumulate(-log_p[..., 1:], axis=-1)
    return log_p + np.logaddexp(0.0, inner)


#: Grid of :func:`garch_volatility_start`: scales of the factor and GARCH alphas tried.
_GARCH_SCALES = (0.8, 0.9, 1.0)
_GARCH_ALPHAS = (0.0, 0.03, 0.045, 0.06, 0.075)


def garch_volatility_start(
    x: np.ndarray,
    timescales,
    *,
    weights: np.ndarray | None = None,
    persistence: float = GARCH_PERSISTENCE,
    scales=_GARCH_SCALES,
    alphas=_GARCH_ALPHAS,
    n_paths: int = 256,
    max_lag: int = 250,
    sq_weight: float = 4.0,
    seed: int = 0,
    return_gaps: bool = False,
):
    r"""Joint start of a log-volatility factor and a GARCH(1,1) volatility, per asset.

    Model (the TCN's with ``garch=True``, Gaussian in place of the network's output):
    ``x_t = sigma_t exp(c w . s_t) eps_t``, where ``s`` are the unit AR(1) components
    of :func:`log_volatility_weights` and ``sigma_t^2`` is the unit-mean GARCH(1,1)
    variance driven by the same ``eps`` (:func:`garch_log_variance`). ``w`` is the
    ACF fit of :func:`log_volatility_weights` (or ``weights``); the scale ``c`` and
    ``alpha`` are picked from a grid by the method of simulated moments: for each
    pair, ``n_paths`` paths as long as the data (common random numbers, so the grid
    is compared on the same draws) and the root mean square gaps of the mean sample
    ACFs of ``|x|`` and ``x^2`` to the data's over lags ``1..max_lag``; the pick
    minimises the ``|x|`` gap plus ``sq_weight`` times the ``x^2`` gap.
    ``persistence = alpha + beta`` is held at 0.99, the usual GARCH(1,1) estimate on
    daily equity returns (0.987 on the S&P 500 1999-2018).

    Why: a log-normal volatility with Gaussian noise cannot reach the short-lag ACF
    of ``x^2`` at the kurtosis of daily equity returns (docs/model.md, "Fifth
    session"); GARCH's volatility has a power-law right tail and moves with the
    returns' own shocks. Why ``x^2`` counts 4 times: along the grid's ridge (larger
    ``alpha``, smaller ``c``) the simulated gaps hardly change, but the trained WGAN's
    ACF of ``r^2`` does: the network's output is itself a little heavy-tailed, and a
    larger ``alpha`` turns its large days into bursts. 5-minute fits on the S&P 500
    started at ``alpha`` 0.03 (2 seeds), 0.045 (2), 0.06 (1) and 0.075 (5) reached
    ACF ``r^2`` scores of 0.028-0.033, 0.028-0.029, 0.025 and 0.0245-0.0265
    (GARCH(1,1)-t: 0.028-0.030), while the ACF of ``|r|`` stayed below GARCH-t's
    (docs/model.md, "Eighth session"). 256 paths make the pick stable across seeds (64
    gave ``alpha`` from 0.03 to 0.06 on the same data). On the S&P 500 1999-2018 the
    pick is ``c = 0.8, alpha = 0.075`` on seeds 0-4 (``sq_weight=1``: mostly ``c =
    0.9, alpha = 0.045``, the sixth session's start); on May 2009 - Dec 2018 ``alpha =
    0.03``. Simulated alone (Gaussian noise, no network), the factor with the 1999-2018
    start has ACF scores of ``|x|`` and ``x^2`` of 0.026 and 0.025 (the factor alone
    0.022 and 0.033; ``benchmarks/log_volatility_start.py``; GARCH(1,1)-t fitted: 0.036
    and 0.029).

    Parameters
    ----------
    x : array of shape (T, n_assets) or (n_windows, T, n_assets)
        Standardised returns.
    timescales : sequence of float
        Time constants of the factor's AR(1) components, in steps.
    weights : array of shape (n_assets, len(timescales)), optional
        The factor's weights before scaling; default the ACF fit of
        :func:`log_volatility_weights`.
    persistence : float, default 0.99
    scales, alphas : sequences of float
        The grid.
    n_paths : int, default 256
    max_lag : int, default 250
        Capped at a quarter of the stretch length.
    sq_weight : float, default 4.0
        Weight of the ``x^2`` gap against the ``|x|`` gap in the objective.
    seed : int, default 0
    return_gaps : bool, default False
        Also return the objective at every point of the grid (for
        :func:`common_garch_alpha`).

    Returns
    -------
    weights : ndarray of shape (n_assets, len(timescales))
        ``c w`` per asset.
    alpha : ndarray of shape (n_assets,)
    gaps : ndarray of shape (n_assets, len(scales), len(alphas))
        Only with ``return_gaps``: the objective (``|x|`` gap plus ``sq_weight``
        times the ``x^2`` gap) of each asset at each ``(c, alpha)``; NaN where the
        stretches are too short to compare.
    """
    from scipy.signal import lfilter

    x = _as_stretches(x)
    if not 0 < persistence < 1:
        raise ValueError(f"persistence must be in (0, 1), got {persistence!r}")
    if any(not 0 <= a <= persistence for a in alphas) or any(not c >= 0 for c in scales):
        raise ValueError(
            f"alphas must lie in [0, persistence] and scales be >= 0, got {alphas}, {scales}"
        )
    if not (np.isfinite(sq_weight) and sq_weight >= 0):
        raise ValueError(f"sq_weight must be a finite number >= 0, got {sq_weight!r}")
    taus = np.asarray([float(t) for t in timescales])
    _, length, n_assets = x.shape
    if weights is None:
        weights = log_volatility_weights(x, taus, method="acf", max_lag=max_lag)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (n_assets, len(taus)):
        raise ValueError(f"weights must have shape ({n_assets}, {len(taus)}), got {weights.shape}")
    n_lags = min(int(max_lag), length // 4)
    alpha_out = np.zeros(n_assets)
    table = np.full((n_assets, len(scales), len(alphas)), np.nan)
    if n_lags < 2:
        return (weights.copy(), alpha_out, table) if return_gaps else (weights.copy(), alpha_out)
    rng = np.random.default_rng(seed)
    # Unit AR(1) components with a stationary start, and the shocks (burn-in, then eps).
    slow = np.empty((len(taus), n_paths, length))
    for k, tau in enumerate(taus):
        rho = np.exp(-1.0 / tau)
        e = rng.standard_normal((n_paths, length))
        e[:, 0] /= np.sqrt(1 - rho * rho)
        slow[k] = lfilter([np.sqrt(1 - rho * rho)], [1.0, -rho], e, axis=-1)
    shocks = rng.standard_normal((n_paths, 2 * length))
    eps = shocks[:, length:]
    garch = {a: 0.5 * garch_log_variance(shocks, a, persistence)[:, length:] for a in alphas}
    out = np.empty_like(weights)
    for j in range(n_assets):
        target = _clustering_acfs(x[..., j], n_lags)
        factor = np.einsum("k,knt->nt", weights[j], slow)
        best = (np.inf, 1.0, 0.0)
        for ic, c in enumerate(scales):
            for ia, a in enumerate(alphas):
                y = np.exp(garch[a] + c * factor) * eps
                gaps = np.sqrt(np.mean((_clustering_acfs(y, n_lags) - target) ** 2, axis=1))
                gap = gaps[0] + sq_weight * gaps[1]
                table[j, ic, ia] = gap
                if gap < best[0]:
                    best = (gap, c, a)
        out[j] = best[1] * weights[j]
        alpha_out[j] = best[2]
    return (out, alpha_out, table) if return_gaps else (out, alpha_out)


def common_garch_alpha(gaps: np.ndarray, scales=_GARCH_SCALES, alphas=_GARCH_ALPHAS):
    """One GARCH(1,1) ARCH weight for several assets, from :func:`garch_volatility_start`'s
    grid (``gaps``, ``(n_assets, len(scales), len(alphas))``).

    The pick minimises the sum over assets of each asset's best objective at that
    ``alpha`` relative to its best anywhere on the grid; each asset keeps its best
    scale at that ``alpha``. Why: two assets' GARCH volatilities co-move only as much
    as they respond alike to their (correlated) shocks, and each asset's grid is
    nearly flat along a ridge of ``alpha``. On the S&P 500 with the NASDAQ 1999-2018
    the assets' own picks are ``alpha`` 0.075 and 0 (the NASDAQ's volatility all
    factor); the common pick 0.03 costs them 6% and 2% of their objective and lifts
    the start's simulated co-movement at full share from 0.69 to 0.81-0.83 (history
    0.89-0.90; docs/model.md, "Seventeenth session").

    Returns
    -------
    scale : ndarray of shape (n_assets,)
    alpha : float
        NaN gaps (stretches too short) give scale 1 and ``alpha`` 0.
    """
    gaps = np.asarray(gaps, dtype=float)
    scales, alphas = np.asarray(scales, dtype=float), np.asarray(alphas, dtype=float)
    if gaps.ndim != 3 or gaps.shape[1:] != (len(scales), len(alphas)):
        raise ValueError(
            f"gaps must have shape (n_assets, {len(scales)}, {len(alphas)}), got {gaps.shape}"
        )
    if not np.isfinite(gaps).all():
        return np.ones(gaps.shape[0]), 0.0
    at_alpha = gaps.min(axis=1)  # (n_assets, n_alphas): each asset's best scale
    relative = at_alpha / np.maximum(gaps.min(axis=(1, 2)), 1e-300)[:, None]
    k = int(np.argmin(relative.sum(axis=0)))
    return scales[gaps[:, :, k].argmin(axis=1)], float(alphas[k])


def garch_asymmetry(x: np.ndarray) -> np.ndarray:
    """Share of the ARCH effect that falls on negative shocks only, per asset.

    A GJR-GARCH(1,1) with Student-t innovations (Glosten, Jagannathan and Runkle 1993;
    ``arch``'s ``arch_model(p=1, o=1, q=1)``) is fitted by maximum likelihood to each
    asset's returns ``x`` (``(T, n_assets)`` or ``(n_windows, T, n_assets)``; windows
    are joined end to end), and the share is ``(gamma / 2) / (alpha + gamma / 2)``:
    0 for a symmetric response, 1 when only down days raise the volatility. On the
    S&P 500 the fit has ``alpha = 0`` (1999-2018, 2009-2018 and every training span
    of ``benchmarks/quality.py``'s rolling origins), so the share is 1. A fit that
    fails or has no ARCH effect gives 0 (symmetric).
    """
    from arch import arch_model

    x = _as_stretches(x)
    shares = np.zeros(x.shape[-1])
    for j in range(x.shape[-1]):
        y = x[..., j].reshape(-1)
        std = y.std()
        if not (np.isfinite(std) and std > 0):
            continue
        try:
            res = arch_model(y / std, p=1, o=1, q=1, dist="t").fit(disp="off", show_warning=False)
        except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - arch's own failures
            continue
        a, g = float(res.params["alpha[1]"]), float(res.params["gamma[1]"])
        if np.isfinite(a) and np.isfinite(g) and a + g / 2 > 1e-8:
            shares[j] = float(np.clip((g / 2) / (max(a, 0.0) + g / 2), 0.0, 1.0))
    return shares


#: Share of each asset's log-volatility variance on the shared slow channels when it
#: is not fitted (``memory_init="fixed"``), and the grid and rolling windows of
#: :func:`shared_volatility_share`.
SHARED_VOLATILITY = 0.5
_SHARED_GRID = tuple(round(0.05 * i, 2) for i in range(21))
_SHARED_WINDOWS = (20, 60, 120)


def _log_rolling_variance(x: np.ndarray, window: int) -> np.ndarray:
    """Log of the ``window``-step rolling sample variance along the last axis."""
    zero = np.zeros((*x.shape[:-1], 1))
    c1 = np.concatenate([zero, np.cumsum(x, axis=-1)], axis=-1)
    c2 = np.concatenate([zero, np.cumsum(x * x, axis=-1)], axis=-1)
    s1 = c1[..., window:] - c1[..., :-window]
    s2 = c2[..., window:] - c2[..., :-window]
    var = (s2 - s1 * s1 / window) / (window - 1)
    return np.log(np.maximum(var, 1e-12))


def _mean_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over rows of the correlation of ``a[i]`` and ``b[i]`` (rows with no
    variation are left out)."""
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    ok = den > 0
    if not ok.any():
        return float("nan")
    return float(np.mean((a * b).sum(axis=-1)[ok] / den[ok]))


def _volatility_comovement(x: np.ndarray, windows) -> np.ndarray:
    """``(n_pairs, len(windows))``: mean over stretches of the correlation of two assets'
    log rolling variances, for every pair of assets (``x`` is ``(n, T, n_assets)``)."""
    n_assets = x.shape[-1]
    logs = {w: _log_rolling_variance(np.moveaxis(x, -1, 0), w) for w in windows}
    return np.array(
        [
            [_mean_correlation(logs[w][i], logs[w][j]) for w in windows]
            for i in range(n_assets)
            for j in range(i + 1, n_assets)
        ]
    )


def shared_volatility_share(
    x: np.ndarray,
    timescales,
    weights: np.ndarray,
    *,
    alpha=None,
    gamma=None,
    persistence: float = GARCH_PERSISTENCE,
    shares=_SHARED_GRID,
    windows=_SHARED_WINDOWS,
    n_paths: int = 64,
    seed: int = 0,
    return_table: bool = False,
):
    r"""Share of the assets' log-volatility factors on common slow channels, fitted.

    Model (the TCN's with several assets, ``asset_memory`` and ``garch``, Gaussian in
    place of the network's output): asset ``a`` has
    ``x_{a,t} = sigma_{a,t} exp(f_{a,t}) eps_{a,t}`` with the factor

    .. math:: f_{a,t} = \sum_k w_{a,k} \left(\sqrt{s}\, m_{k,t} + \sqrt{1 - s}\, u_{a,k,t}\right),

    where ``m_k`` (shared by all assets) and ``u_{a,k}`` (asset ``a``'s own) are
    independent unit AR(1) processes with time constants ``timescales[k]``, so every
    asset keeps its factor's variance and autocorrelation for any share ``s``;
    ``sigma_a`` is asset ``a``'s (GJR-)GARCH(1,1) volatility driven by its own
    ``eps_a`` (``alpha``, ``gamma``, ``persistence``; none when ``alpha`` is None) and
    the ``eps`` are Gaussian with the data's correlation matrix. ``s`` is picked from
    ``shares`` by the method of simulated moments: ``n_paths`` paths as long as the
    data (common random numbers across the grid) and the mean square gap between the
    data's and the paths' mean correlations of every pair's log rolling variances over
    ``windows`` (20, 60 and 120 steps; windows longer than a quarter of the stretch
    are left out).

    Why: the GARCH volatilities move with each asset's own shocks, so with weakly
    correlated returns they dilute the co-movement of the factors. On the S&P 500 with
    WTI crude oil 1999-2018 the even split (``s = 0.5``, the earlier start and
    ``SHARED_VOLATILITY``) simulates log-volatility correlations of 0.29-0.31 (seed 0) against
    the data's 0.50-0.58, and trained models kept about that (docs/model.md,
    "Sixteenth session").

    Parameters
    ----------
    x : array of shape (T, n_assets) or (n_windows, T, n_assets)
        Standardised returns of at least two assets.
    timescales : sequence of float
    weights : array of shape (n_assets, len(timescales))
        Each asset's factor weights (the std each time constant adds to ``log sigma``).
    alpha, gamma : arrays of shape (n_assets,), optional
        GARCH(1,1) ARCH weight and GJR weight of negative shocks (default: no GARCH,
        and a symmetric one).
    persistence : float, default 0.99
    shares : sequence of float in [0, 1]
        The grid.
    windows : sequence of int
        Rolling windows (steps, >= 2) of the log-variance correlations matched.
    n_paths : int, default 64
    seed : int, default 0
    return_table : bool, default False
        Also return what the pick compared (``benchmarks/pair_volatility.py
        --start`` prints it).

    Returns
    -------
    share : float
        The share ``s``; ``SHARED_VOLATILITY`` (0.5) when the stretches are too short
        for any window or the data's correlations are undefined (an asset constant
        over every window).
    table : dict or None
        Only with ``return_table``: ``"windows"`` (those used), ``"data"`` (the
        data's log-variance correlations, ``(n_pairs, n_windows)``, pairs in the order
        ``(0, 1), (0, 2), ..., (1, 2), ...``) and ``"simulated"`` (the paths' mean
        correlations, one such array per share); None when the share is the default
        for want of data.
    """
    from scipy.signal import lfilter

    x = _as_stretches(x)
    _, length, n_assets = x.shape
    if n_assets < 2:
        raise ValueError(f"a shared volatility needs at least two assets, got {n_assets}")
    taus = np.asarray([float(t) for t in timescales])
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (n_assets, len(taus)) or not np.isfinite(weights).all():
        raise ValueError(
            f"weights must be finite with shape ({n_assets}, {len(taus)}), got {weights.shape}"
        )
    shares = [float(s) for s in shares]
    if not shares or any(not 0 <= s <= 1 for s in shares):
        raise ValueError(f"shares must be a non-empty sequence in [0, 1], got {shares}")
    if any(int(w) != w or w < 2 for w in windows):
        raise ValueError(f"windows must be integers >= 2, got {tuple(windows)}")
    alpha = np.zeros(n_assets) if alpha is None else np.broadcast_to(alpha, (n_assets,))
    gamma = np.zeros(n_assets) if gamma is None else np.broadcast_to(gamma, (n_assets,))
    windows = [int(w) for w in windows if 4 * w <= length]
    if not windows or len(taus) == 0:
        return (SHARED_VOLATILITY, None) if return_table else SHARED_VOLATILITY
    target = _volatility_comovement(x, windows)
    if not np.isfinite(target).all():  # an asset without variation in every window
        return (SHARED_VOLATILITY, None) if return_table else SHARED_VOLATILITY

    rng = np.random.default_rng(seed)

    def components(n: int) -> np.ndarray:
        """``(n, len(taus), n_paths, length)`` stationary unit AR(1) components."""
        out = np.empty((n, len(taus), n_paths, length))
        for k, tau in enumerate(taus):
            rho = np.exp(-1.0 / tau)
            e = rng.standard_normal((n, n_paths, length))
            e[..., 1:] *= np.sqrt(1 - rho * rho)
            out[:, k] = lfilter([1.0], [1.0, -rho], e, axis=-1)
        return out

    shared, own = components(1)[0], components(n_assets)
    corr = np.corrcoef(x.reshape(-1, n_assets), rowvar=False)
    corr = np.where(np.isfinite(corr), corr, np.eye(n_assets))
    values, vectors = np.linalg.eigh(corr)  # a square root that tolerates a singular matrix
    root = vectors * np.sqrt(np.clip(values, 0, None))
    eps = np.einsum("ab,pbt->pat", root, rng.standard_normal((n_paths, n_assets, length)))
    burn_in = rng.standard_normal((n_paths, n_assets, length))
    vol = np.empty((n_paths, length, n_assets))
    for a in range(n_assets):
        log_var = 0.0
        if alpha[a] > 0 or gamma[a] > 0:
            shocks = np.concatenate([burn_in[:, a], eps[:, a]], axis=-1)
            log_var = garch_log_variance(shocks, alpha[a], persistence, gamma=gamma[a])[:, length:]
        vol[..., a] = 0.5 * log_var
    common = np.einsum("ak,kpt->pta", weights, shared)
    mine = np.stack([np.einsum("k,kpt->pt", weights[a], own[a]) for a in range(n_assets)], -1)
    best = (np.inf, SHARED_VOLATILITY)
    simulated = {}
    for s in shares:
        factor = np.sqrt(s) * common + np.sqrt(1 - s) * mine
        paths = np.exp(vol + factor) * np.moveaxis(eps, 1, -1)
        simulated[s] = _volatility_comovement(paths, windows)
        gap = float(np.mean((simulated[s] - target) ** 2))
        if gap < best[0]:
            best = (gap, s)
    if return_table:
        return best[1], {"windows": windows, "data": target, "simulated": simulated}
    return best[1]
