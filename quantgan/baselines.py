"""Honest baselines that share the augmenters' API: GARCH, block bootstrap, Gaussian.

A synthetic-market model is only worth its cost if it beats simple, well understood
generators of returns. Each class here derives from
:class:`~quantgan.base.BaseAugmenter` (``fit(returns)`` then ``sample(n_paths)``),
uses numpy / scipy / arch only and samples all paths at once:

* :class:`GARCHAugmenter` -- GARCH(p, q) or GJR-GARCH(p, o, q) per asset with normal,
  Student's t or Hansen's skew-t innovations; several assets are tied by a constant
  conditional correlation (Bollerslev, 1990).
* :class:`BootstrapAugmenter` -- the stationary (or circular) block bootstrap with an
  automatic block length.
* :class:`GaussianAugmenter` -- i.i.d. multivariate normal: the "no stylized facts"
  reference.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from arch import arch_model
from arch.bootstrap import optimal_block_length
from scipy import integrate, special
from sklearn.exceptions import ConvergenceWarning

from quantgan._stack import _external_stacklevel
from quantgan.base import BaseAugmenter, DataWarning

__all__ = ["BURN_IN", "BootstrapAugmenter", "GARCHAugmenter", "GaussianAugmenter"]

#: Steps simulated and discarded before each GARCH path. They start from the
#: unconditional variance, so that the kept steps are in the stationary regime.
BURN_IN = 500

_VOLS = ("garch", "gjr")
_DISTS = ("normal", "t", "skewt")
_MEANS = ("constant", "zero")
_METHODS = ("stationary", "circular")


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def _check_order(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        rule = "a positive int" if minimum == 1 else "a non-negative int"
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return int(value)


def _factor(corr: np.ndarray) -> np.ndarray:
    """``L`` with ``L @ L.T == corr``: Cholesky, or eigen for a singular matrix."""
    try:
        return np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:  # perfectly collinear assets: only semi-definite
        w, v = np.linalg.eigh(corr)
        return v * np.sqrt(np.clip(w, 0.0, None))


def _hansen_abc(nu: float, lam: float) -> tuple[float, float, float]:
    """Hansen's (1994) constants a, b, c, in arch's ``SkewStudent`` parameterisation."""
    c = np.exp(
        special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2) - 0.5 * np.log(np.pi * (nu - 2))
    )
    a = 4 * lam * c * (nu - 2) / (nu - 1)
    return float(a), float(np.sqrt(1 + 3 * lam**2 - a**2)), float(c)


def _draw_innovations(dist: str, shape: np.ndarray, size: tuple, rng) -> np.ndarray:
    """I.i.d. standardised (mean 0, variance 1) innovations, drawn directly."""
    if dist == "normal":
        return rng.standard_normal(size)
    nu = float(shape[0])
    x = rng.standard_t(nu, size) * np.sqrt((nu - 2) / nu)
    if dist == "skewt":
        # Hansen's skew-t is a two-piece t: the left half-t stretched by (1 - lambda),
        # taken with probability (1 - lambda) / 2, the right one by (1 + lambda).
        lam = float(shape[1])
        a, b, _ = _hansen_abc(nu, lam)
        left = rng.random(size) < (1 - lam) / 2
        x = (np.abs(x) * np.where(left, lam - 1, 1 + lam) - a) / b
    return x


def _ppf_of_normal(g: np.ndarray, dist: str, shape: np.ndarray) -> np.ndarray:
    """The standardised innovation quantile at probability ``Phi(g)``, exact in both tails."""
    if dist == "normal":
        return g
    nu = float(shape[0])
    lam = float(shape[1]) if dist == "skewt" else 0.0
    lower, upper = special.ndtr(g), special.ndtr(-g)  # upper = 1 - Phi(g) without cancelling
    left = lower < (1 - lam) / 2
    x = np.empty_like(g)
    x[left] = (1 - lam) * special.stdtrit(nu, lower[left] / (1 - lam))
    x[~left] = -(1 + lam) * special.stdtrit(nu, upper[~left] / (1 + lam))
    x *= np.sqrt((nu - 2) / nu)
    if dist == "skewt":
        a, b, _ = _hansen_abc(nu, lam)
        x = (x - a) / b
    return x


def _negative_moment(dist: str, shape: np.ndarray) -> float:
    """``E[z^2 1(z < 0)]``: the weight of the GJR terms in the unconditional variance."""
    if dist != "skewt":
        return 0.5
    nu, lam = float(shape[0]), float(shape[1])
    a, b, c = _hansen_abc(nu, lam)

    def integrand(z: float) -> float:
        k = 1 - lam if z < -a / b else 1 + lam
        return z * z * b * c * (1 + ((b * z + a) / k) ** 2 / (nu - 2)) ** (-(nu + 1) / 2)

    return float(integrate.quad(integrand, -np.inf, 0.0)[0])


def _push(lags: list, value: np.ndarray) -> None:
    if lags:
        lags.insert(0, value)
        lags.pop()


def _garch_filter(z, omega, alpha, gamma, beta, start_variance) -> np.ndarray:
    """Turn standardised innovations ``z`` (time, paths, assets) into GARCH residuals.

    ``eps_t = sigma_t z_t`` with ``sigma2_t = omega + sum alpha_i eps2_{t-i} + sum
    gamma_j eps2_{t-j} 1(eps_{t-j} < 0) + sum beta_k sigma2_{t-k}``; a loop over time,
    vectorised over paths and assets. Overwrites and returns ``z``.
    """
    start = np.broadcast_to(start_variance, z.shape[1:])
    e2, neg, s2 = [start] * len(alpha), [0.5 * start] * len(gamma), [start] * len(beta)
    for t in range(z.shape[0]):
        var = omega
        for coef, lag in zip((*alpha, *gamma, *beta), (*e2, *neg, *s2), strict=True):
            var = var + coef * lag
        eps = z[t]
        eps *= np.sqrt(var)
        sq = eps * eps
        _push(e2, sq)
        _push(neg, sq * (eps < 0))
        _push(s2, var)
    return z


class GARCHAugmenter(BaseAugmenter):
    """GARCH / GJR-GARCH with normal, t or skew-t innovations, fitted per asset.

    Each asset's returns follow ``r_t = mu + sigma_t z_t`` with a GARCH(p, q) or
    GJR-GARCH(p, o, q) variance, fitted by maximum likelihood with
    ``arch.arch_model``. Several assets are joined by constant conditional
    correlation (CCC, Bollerslev 1990): innovations are correlated with the
    correlation of the fitted standardised residuals. For t and skew-t innovations
    this is a Gaussian copula: correlated normals are mapped through each asset's
    fitted innovation quantile function, so every marginal stays exact, and the
    correlation is estimated on the normal scores ``Phi^-1(F(z_hat))`` of the
    residuals (plain residual correlation for normal innovations).

    Sampling loops over time only, vectorised over paths (arch's ``simulate`` draws
    one path at a time), and discards a burn-in of :data:`BURN_IN` steps that starts
    from the unconditional variance.

    Parameters
    ----------
    vol : {"garch", "gjr"}
        ``"gjr"`` adds the asymmetric (leverage) terms ``gamma eps^2 1(eps < 0)``.
    p : int
        ARCH lags (>= 1).
    o : int
        Asymmetric lags. Must be 0 with ``vol="garch"``; with ``vol="gjr"`` the
        model uses ``max(o, 1)`` lags, so the default 0 means GJR(p, 1, q).
    q : int
        GARCH lags (>= 0).
    dist : {"normal", "t", "skewt"}
        Innovations: normal, standardised Student's t, or Hansen's (1994) skew-t.
    mean : {"constant", "zero"}
    rescale : bool
        Fit on ``scale * returns``, ``scale`` the power of ten that brings the
        standard deviation into [1, 10) (100 for daily returns), and divide samples
        by it: arch's optimizer struggles with variances far from 1.

    Attributes
    ----------
    params_ : DataFrame
        Fitted parameters, one row per asset, named as in arch (``mu``, ``omega``,
        ``alpha[1]``, ``gamma[1]``, ``beta[1]``, ``nu``, ``eta``, ``lambda``), in the
        units of ``scale_ * returns`` (``mu`` and ``omega`` scale, the rest do not).
    results_ : list of arch ``ARCHModelResult``
        One per asset: ``results_[0].summary()``.
    scale_ : ndarray
        The factor applied to each asset's returns before fitting.
    correlation_ : ndarray (n_assets, n_assets)
        Correlation of the innovations (CCC).
    persistence_ : ndarray
        ``sum alpha + E[z^2 1(z<0)] sum gamma + sum beta`` per asset; below 1 for a
        covariance-stationary model.
    unconditional_variance_ : ndarray
        ``omega / (1 - persistence)`` in the units of the returns (inf if not stationary).

    Notes
    -----
    On the bundled S&P 500 (1999-2018) the GARCH-t fit is nearly integrated
    (alpha + beta = 0.9996): its unconditional daily standard deviation is 5 %, four
    times the sample's, and about one path in five of 5030 days has a day beyond
    +-25 %. arch's own ``simulate`` behaves the same; ``dist="normal"`` is far tamer.

    References
    ----------
    Bollerslev, T. (1986). Generalized autoregressive conditional heteroskedasticity.
    Glosten, L., Jagannathan, R., Runkle, D. (1993). On the relation between the
    expected value and the volatility of the nominal excess return on stocks.
    Hansen, B. E. (1994). Autoregressive conditional density estimation.
    Bollerslev, T. (1990). Modelling the coherence in short-run nominal exchange rates:
    a multivariate generalized ARCH model.

    Examples
    --------
    >>> import quantgan as qg
    >>> from quantgan.baselines import GARCHAugmenter
    >>> returns = qg.log_returns(qg.load_sp500())
    >>> aug = GARCHAugmenter(dist="t").fit(returns)
    >>> paths = aug.sample(1000, random_state=0)  # 5030 days x 1000 paths
    """

    _accepts_windows = False

    def __init__(
        self,
        vol: str = "garch",
        p: int = 1,
        o: int = 0,
        q: int = 1,
        dist: str = "t",
        mean: str = "constant",
        rescale: bool = True,
    ) -> None:
        self.vol = vol
        self.p = p
        self.o = o
        self.q = q
        self.dist = dist
        self.mean = mean
        self.rescale = rescale

    def _min_length(self) -> int:
        return 100

    def _fit(self, values: np.ndarray) -> None:
        vol = _check_choice("vol", self.vol, _VOLS)
        dist = _check_choice("dist", self.dist, _DISTS)
        mean = _check_choice("mean", self.mean, _MEANS)
        p, o, q = (_check_order(n, getattr(self, n), m) for n, m in (("p", 1), ("o", 0), ("q", 0)))
        if vol == "garch" and o > 0:
            raise ValueError(
                f"o must be 0 with vol='garch' (asymmetric lags make it GJR-GARCH), got "
                f"o={o}; pass vol='gjr' for a GJR-GARCH({p}, {o}, {q})"
            )
        o = max(o, 1) if vol == "gjr" else 0
        if not isinstance(self.rescale, bool | np.bool_):
            raise ValueError(f"rescale must be True or False, got {self.rescale!r}")
        std = values.std(axis=0)
        scale = 10.0 ** -np.floor(np.log10(std)) if self.rescale else np.ones_like(std)
        if not self.rescale and np.any((std**2 < 1) | (std**2 > 1000)):
            warnings.warn(
                f"returns have variance {', '.join(f'{v:.3g}' for v in std**2)}, far from "
                "the 1-1000 where arch's optimizer "
                "works best; pass rescale=True (fit on scaled returns, undone on sampling)",
                DataWarning,
                stacklevel=_external_stacklevel(),
            )
        results, scores, kappas = [], [], []
        for j, name in enumerate(self.asset_names_):
            model = arch_model(
                values[:, j] * scale[j], mean=mean, p=p, o=o, q=q, dist=dist, rescale=False
            )
            with warnings.catch_warnings():
                # the optimizer probes infeasible points on its way; we judge the end result
                warnings.simplefilter("ignore", RuntimeWarning)
                res = model.fit(disp="off", show_warning=False)
            if res.convergence_flag != 0:
                warnings.warn(
                    f"GARCH fit for asset {name!r} did not converge "
                    f"({res.optimization_result.message}); its parameters may be "
                    f"unreliable: check results_[{j}].summary(), try dist='normal', "
                    "a simpler model (p=q=1) or a longer history",
                    ConvergenceWarning,
                    stacklevel=_external_stacklevel(),
                )
            shape = res.params.to_numpy()[len(res.params) - model.distribution.num_params :]
            u = model.distribution.cdf(np.asarray(res.std_resid), shape)
            scores.append(special.ndtri(np.clip(u, 1e-12, 1 - 1e-12)))
            kappas.append(_negative_moment(dist, shape))
            results.append(res)
        self.results_ = results
        self.params_ = pd.DataFrame(
            [r.params.to_numpy() for r in results],
            index=pd.Index(self.asset_names_, name="asset"),
            columns=list(results[0].params.index),
        )
        self.scale_ = scale
        self.correlation_ = np.corrcoef(scores).reshape(len(scores), len(scores))
        alpha, gamma, beta = (self._lags(k).sum(axis=0) for k in ("alpha", "gamma", "beta"))
        self.persistence_ = alpha + np.array(kappas) * gamma + beta
        omega = self.params_["omega"].to_numpy()
        with np.errstate(divide="ignore"):
            uncond = np.where(self.persistence_ < 1, omega / (1 - self.persistence_), np.inf)
        self.unconditional_variance_ = uncond / scale**2
        bad = [n for n, v in zip(self.asset_names_, self.persistence_, strict=True) if v >= 1]
        if bad:
            warnings.warn(
                f"fitted GARCH for asset(s) {bad} is not covariance stationary (persistence "
                f"{self.persistence_.max():.4f} >= 1): sampled variance drifts without bound "
                "and the burn-in starts from the sample variance; try vol='gjr' or "
                "dist='t' / 'skewt'",
                UserWarning,
                stacklevel=_external_stacklevel(),
            )
        # the burn-in starts from the unconditional variance (the sample variance if none)
        self._start_variance_ = np.where(np.isfinite(uncond), uncond, (std * scale) ** 2)

    def _lags(self, prefix: str) -> np.ndarray:
        """Coefficients ``prefix[1..k]`` of all assets, shape (k, n_assets)."""
        cols = [c for c in self.params_.columns if c.startswith(prefix + "[")]
        return self.params_[cols].to_numpy().T

    def _sample(self, n_paths: int, n_timesteps: int, rng: np.random.Generator) -> np.ndarray:
        P = self.params_
        dist = "skewt" if "lambda" in P else "t" if "nu" in P else "normal"
        shapes = P[[c for c in ("nu", "eta", "lambda") if c in P]].to_numpy()
        size = (BURN_IN + n_timesteps, n_paths, self.n_assets_)
        if self.n_assets_ == 1:
            z = _draw_innovations(dist, shapes[0], size, rng)
        else:  # CCC: correlated normals, then each asset's quantile function (copula)
            z = rng.standard_normal(size) @ _factor(self.correlation_).T
            for j in range(self.n_assets_):
                z[..., j] = _ppf_of_normal(z[..., j], dist, shapes[j])
        lags = (self._lags("alpha"), self._lags("gamma"), self._lags("beta"))
        eps = _garch_filter(z, P["omega"].to_numpy(), *lags, self._start_variance_)
        mu = P["mu"].to_numpy() if "mu" in P else 0.0
        out = (eps[BURN_IN:] + mu) / self.scale_
        return np.ascontiguousarray(out.transpose(1, 0, 2))


class BootstrapAugmenter(BaseAugmenter):
    """Stationary (or circular) block bootstrap of the historical returns.

    Paths are spliced from blocks of consecutive historical days, wrapping around
    the end of the sample. The stationary bootstrap (Politis & Romano, 1994) starts a
    new block at a uniform random day with probability ``1 / block_length`` each step
    (geometric block lengths, mean ``block_length``); the circular block bootstrap
    uses blocks of exactly ``round(block_length)`` days. All assets are resampled at
    the same days, which keeps their cross-correlation.

    Parameters
    ----------
    block_length : float, optional
        Mean (stationary) or fixed (circular) block length, between 1 and the length
        of the history. Default: the automatic choice of Politis & White (2004) with
        the correction of Patton, Politis & White (2009), from
        ``arch.bootstrap.optimal_block_length``; with several assets the largest
        (the most persistent asset's dependence survives). It targets the
        dependence of the returns themselves (about 9 days on the S&P 500); the
        volatility clustering of squared returns needs far longer blocks (about
        140), so pass a larger ``block_length`` to keep it.
    method : {"stationary", "circular"}

    Attributes
    ----------
    block_length_ : float or int
        The block length used (an int for ``"circular"``).
    method_ : str
        The method used.
    returns_ : ndarray (n_timesteps, n_assets)
        A copy of the training returns.

    References
    ----------
    Politis, D. N., Romano, J. P. (1994). The stationary bootstrap.
    Politis, D. N., White, H. (2004). Automatic block-length selection for the
    dependent bootstrap. Patton, A., Politis, D. N., White, H. (2009). Correction.

    Examples
    --------
    >>> import quantgan as qg
    >>> from quantgan.baselines import BootstrapAugmenter
    >>> returns = qg.log_returns(qg.load_sp500())
    >>> paths = BootstrapAugmenter().fit(returns).sample(1000, random_state=0)
    """

    _accepts_windows = False

    def __init__(self, block_length: float | None = None, method: str = "stationary") -> None:
        self.block_length = block_length
        self.method = method

    def _fit(self, values: np.ndarray) -> None:
        method = _check_choice("method", self.method, _METHODS)
        n = values.shape[0]
        length = self.block_length
        if length is None:
            length = max(1.0, float(optimal_block_length(values)[method].max()))
            length = min(length, float(n))
        elif (
            isinstance(length, bool) or not isinstance(length, numbers.Real) or not 1 <= length <= n
        ):
            raise ValueError(
                f"block_length must be None (automatic) or a number between 1 and the "
                f"history's length {n}, got {length!r}"
            )
        self.block_length_ = max(1, round(length)) if method == "circular" else float(length)
        self.method_ = method
        self.returns_ = values

    def _sample(self, n_paths: int, n_timesteps: int, rng: np.random.Generator) -> np.ndarray:
        n = self.returns_.shape[0]
        t = np.arange(n_timesteps)
        if self.method_ == "circular":
            b = int(self.block_length_)
            starts = rng.integers(0, n, size=(n_paths, -(-n_timesteps // b)))
            idx = starts[:, t // b] + t % b
        else:
            new_block = rng.random((n_paths, n_timesteps)) < 1.0 / self.block_length_
            new_block[:, 0] = True
            starts = rng.integers(0, n, size=(n_paths, n_timesteps))
            block_start = np.maximum.accumulate(np.where(new_block, t, 0), axis=1)
            idx = np.take_along_axis(starts, block_start, axis=1) + (t - block_start)
        return self.returns_[idx % n]


class GaussianAugmenter(BaseAugmenter):
    """I.i.d. multivariate normal returns with the sample mean and covariance.

    The "no stylized facts" reference: no fat tails, no volatility clustering, no
    leverage effect. Accepts one long series or a 3-D array of windows (all
    observations are pooled).

    Attributes
    ----------
    mean_ : ndarray (n_assets,)
    covariance_ : ndarray (n_assets, n_assets)
        Sample covariance (ddof=1).

    Examples
    --------
    >>> import quantgan as qg
    >>> from quantgan.baselines import GaussianAugmenter
    >>> returns = qg.log_returns(qg.load_sp500())
    >>> paths = GaussianAugmenter().fit(returns).sample(100, random_state=0)
    """

    def __init__(self) -> None:
        pass

    def _fit(self, values: np.ndarray) -> None:
        flat = values.reshape(-1, values.shape[-1])
        self.mean_ = flat.mean(axis=0)
        self.covariance_ = np.atleast_2d(np.cov(flat, rowvar=False))

    def _sample(self, n_paths: int, n_timesteps: int, rng: np.random.Generator) -> np.ndarray:
        z = rng.standard_normal((n_paths, n_timesteps, self.n_assets_))
        return z @ _factor(self.covariance_).T + self.mean_
