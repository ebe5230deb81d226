"""Tests of the GARCH, bootstrap and Gaussian baselines (quantgan/baselines.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import optimal_block_length
from arch.univariate import GARCH, ConstantMean, SkewStudent, StudentsT
from scipy import stats
from sklearn.base import clone

import quantgan as qg
from quantgan.base import DataWarning
from quantgan.baselines import (
    BootstrapAugmenter,
    GARCHAugmenter,
    GaussianAugmenter,
    _draw_innovations,
    _negative_moment,
    _ppf_of_normal,
)

# A GARCH(1, 1)-t in decimal returns: daily std 0.7 %, finite fourth moment.
OMEGA, ALPHA, BETA, NU, MU = 1e-6, 0.05, 0.93, 7.0, 3e-4


def simulate_garch(n, omega, alpha, beta, nu, mu=0.0, gamma=0.0, seed=0):
    """A GJR-GARCH(1, 1, 1) path with standardised t innovations, plain numpy."""
    rng = np.random.default_rng(seed)
    z = rng.standard_t(nu, n + 500) * np.sqrt((nu - 2) / nu)
    var = omega / (1 - alpha - gamma / 2 - beta)
    eps = np.empty(n + 500)
    prev = 0.0
    for t in range(n + 500):
        var = omega + (alpha + gamma * (prev < 0)) * prev**2 + beta * var if t else var
        prev = eps[t] = np.sqrt(var) * z[t]
    return pd.Series(mu + eps[500:], index=pd.bdate_range("1990-01-01", periods=n), name="x")


def pearson_kurtosis(x):
    return stats.kurtosis(x.ravel(), fisher=False)


def abs_acf1(paths):
    """Lag-1 autocorrelation of |r|, pooled over paths (columns)."""
    a = np.abs(paths - paths.mean())
    a = a - a.mean()
    return float((a[1:] * a[:-1]).sum() / (a * a).sum())


@pytest.fixture(scope="module")
def garch_series():
    return simulate_garch(8000, OMEGA, ALPHA, BETA, NU, MU, seed=1)


@pytest.fixture(scope="module")
def garch_fitted(garch_series):
    return GARCHAugmenter(dist="t").fit(garch_series)


@pytest.fixture(scope="module")
def sp500():
    return qg.log_returns(qg.load_sp500())


@pytest.fixture(scope="module")
def two_assets():
    rng = np.random.default_rng(7)
    z = rng.standard_t(5, (3000, 2)) @ np.linalg.cholesky([[1.0, 0.6], [0.6, 1.0]]).T
    return pd.DataFrame(
        0.01 * z, columns=["a", "b"], index=pd.bdate_range("2005-01-03", periods=3000)
    )


# -- GARCH -------------------------------------------------------------------------------
def test_garch_recovers_parameters(garch_fitted):
    params = garch_fitted.params_.iloc[0]
    assert abs(params["alpha[1]"] - ALPHA) < 0.02
    assert abs(params["beta[1]"] - BETA) < 0.025
    assert abs(params["nu"] - NU) < 1.5
    scale = garch_fitted.scale_[0]
    assert scale == 1000.0  # daily std 0.7 % -> 7 after scaling
    assert params["omega"] / scale**2 == pytest.approx(OMEGA, rel=0.5)
    assert params["mu"] / scale == pytest.approx(MU, abs=1.5e-4)
    assert garch_fitted.results_[0].params.equals(garch_fitted.params_.iloc[0].rename("params"))
    assert "Student" in str(garch_fitted.results_[0].summary())


def test_gjr_recovers_positive_gamma():
    x = simulate_garch(8000, 1e-6, 0.02, 0.88, 8.0, gamma=0.14, seed=3)
    aug = GARCHAugmenter(vol="gjr", dist="t").fit(x)
    params = aug.params_.iloc[0]
    assert list(aug.params_.columns) == ["mu", "omega", "alpha[1]", "gamma[1]", "beta[1]", "nu"]
    assert 0.07 < params["gamma[1]"] < 0.22
    assert params["alpha[1]"] < 0.06
    # persistence counts the asymmetric term at half weight for a symmetric t
    expected = params["alpha[1]"] + params["gamma[1]"] / 2 + params["beta[1]"]
    assert aug.persistence_[0] == pytest.approx(expected)


def test_o_interacts_with_vol(garch_series):
    with pytest.raises(ValueError, match=r"o must be 0 with vol='garch'.*vol='gjr'"):
        GARCHAugmenter(o=1).fit(garch_series)
    aug = GARCHAugmenter(vol="gjr", o=2, dist="normal").fit(garch_series)
    assert {"gamma[1]", "gamma[2]"} <= set(aug.params_.columns)


def test_vectorised_simulation_agrees_with_arch_in_law(garch_fitted):
    aug = garch_fitted
    params = aug.params_.iloc[0]
    scale = aug.scale_[0]
    ours = aug.sample(400, 2000, random_state=0).to_numpy() * scale
    model = ConstantMean(None, volatility=GARCH(1, 0, 1), distribution=StudentsT(seed=0))
    theirs = np.column_stack([model.simulate(params, 2000)["data"] for _ in range(100)])
    a, b, nu = params["alpha[1]"], params["beta[1]"], params["nu"]
    uncond = params["omega"] / (1 - a - b)
    k_z = 3 + 6 / (nu - 4)  # kurtosis of t innovations, then of GARCH(1, 1) returns
    kurtosis = k_z * (1 - (a + b) ** 2) / (1 - (a + b) ** 2 - (k_z - 1) * a**2)
    assert aug.unconditional_variance_[0] * scale**2 == pytest.approx(uncond)
    assert ours.var() == pytest.approx(uncond, rel=0.06)
    assert theirs.var() == pytest.approx(uncond, rel=0.12)
    assert ours.mean() == pytest.approx(params["mu"], abs=0.03)  # 4 standard errors
    # sample kurtosis of heavy-tailed GARCH is noisy: 6.4-7.9 over seeds for 7.1 here
    assert pearson_kurtosis(ours) == pytest.approx(kurtosis, abs=1.2)
    assert pearson_kurtosis(theirs) == pytest.approx(kurtosis, abs=1.5)
    q = [0.001, 0.01, 0.1, 0.9, 0.99, 0.999]
    np.testing.assert_allclose(
        np.quantile(ours - ours.mean(), q) / ours.std(),
        np.quantile(theirs - theirs.mean(), q) / theirs.std(),
        rtol=0.05,
    )
    assert abs_acf1(ours) == pytest.approx(abs_acf1(theirs), abs=0.03)
    assert abs_acf1(ours) > 0.08  # volatility clustering; i.i.d. t would give ~0


@pytest.mark.parametrize("dist", ["t", "skewt"])
def test_innovations_follow_arch_distributions(dist):
    shape = np.array([6.0, -0.3]) if dist == "skewt" else np.array([6.0])
    arch_dist = SkewStudent() if dist == "skewt" else StudentsT()
    rng = np.random.default_rng(0)
    direct = _draw_innovations(dist, shape, (40_000,), rng)
    copula = _ppf_of_normal(rng.standard_normal(40_000), dist, shape)
    for x in (direct, copula):
        assert stats.kstest(x, lambda v: arch_dist.cdf(v, shape)).pvalue > 0.01
        assert abs(x.mean()) < 0.02
        assert x.var() == pytest.approx(1.0, abs=0.06)
    # the tail-accurate quantile agrees with arch's ppf and stays finite far out
    g = np.array([-6.0, -1.0, 0.0, 1.0, 6.0])
    np.testing.assert_allclose(
        _ppf_of_normal(g, dist, shape), arch_dist.ppf(stats.norm.cdf(g), shape), rtol=1e-6
    )
    assert np.all(np.isfinite(_ppf_of_normal(np.array([-30.0, 30.0]), dist, shape)))


def test_skewt_negative_moment_matches_monte_carlo():
    shape = np.array([6.0, -0.3])
    z = _draw_innovations("skewt", shape, (400_000,), np.random.default_rng(1))
    assert _negative_moment("skewt", shape) == pytest.approx(np.mean(z**2 * (z < 0)), abs=0.01)
    assert _negative_moment("skewt", shape) > 0.55  # lambda < 0: the left tail is heavier
    assert _negative_moment("t", np.array([6.0])) == 0.5


def test_garch_reproducible_and_indexed(garch_fitted, garch_series):
    a = garch_fitted.sample(3, random_state=5)
    pd.testing.assert_frame_equal(a, garch_fitted.sample(3, random_state=5))
    assert not np.allclose(a.to_numpy(), garch_fitted.sample(3, random_state=6).to_numpy())
    assert a.index.equals(garch_series.index)
    assert list(a.columns) == [0, 1, 2]
    short = garch_fitted.sample(2, 250, random_state=5)
    assert short.shape == (250, 2)
    assert short.index[0] == garch_series.index[0]
    long = garch_fitted.sample(2, 9000, random_state=5)
    assert long.shape == (9000, 2) and np.isfinite(long.to_numpy()).all()


@pytest.mark.parametrize("dist", ["normal", "t", "skewt"])
def test_garch_two_assets_keep_correlation(two_assets, dist):
    aug = GARCHAugmenter(dist=dist).fit(two_assets)
    assert aug.correlation_.shape == (2, 2)
    assert aug.correlation_[0, 1] == pytest.approx(0.6, abs=0.05)
    paths = aug.sample(100, random_state=0)
    assert list(paths.columns[:2]) == [(0, "a"), (0, "b")]
    values = paths.to_numpy().reshape(3000, 100, 2)
    real = np.corrcoef(two_assets.to_numpy().T)[0, 1]
    assert np.corrcoef(values[..., 0].ravel(), values[..., 1].ravel())[0, 1] == pytest.approx(
        real, abs=0.05
    )
    assert values.std(axis=(0, 1)) == pytest.approx(two_assets.std().to_numpy(), rel=0.15)


def test_garch_on_sp500(sp500):
    aug = GARCHAugmenter(dist="t").fit(sp500)
    params = aug.params_.iloc[0]
    # measured: alpha 0.0995, beta 0.9002 (persistence 0.9996), nu 6.5
    assert 0.9 < params["alpha[1]"] + params["beta[1]"] < 1
    assert 4 < params["nu"] < 12
    assert aug.scale_[0] == 100.0
    paths = aug.sample(20, random_state=0)
    assert paths.index.equals(sp500.index)
    assert 0.5 < np.median(paths.std()) / sp500.std() < 2


def test_zero_mean_gjr_skewt(garch_series):
    aug = GARCHAugmenter(vol="gjr", dist="skewt", mean="zero").fit(garch_series)
    cols = ["omega", "alpha[1]", "gamma[1]", "beta[1]", "eta", "lambda"]
    assert list(aug.params_.columns) == cols
    paths = aug.sample(200, 1000, random_state=0).to_numpy()
    assert abs(paths.mean()) < 2e-4  # no drift although the series has mu = 3e-4
    assert paths.std() == pytest.approx(garch_series.std(), rel=0.15)


def test_rescale_false_warns_about_scaling(garch_series):
    with pytest.warns(DataWarning, match="rescale=True"):
        aug = GARCHAugmenter(dist="normal", rescale=False).fit(garch_series)
    assert aug.scale_[0] == 1.0


# -- bootstrap ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def noise():
    rng = np.random.default_rng(2)
    return pd.Series(rng.standard_normal(2000) * 0.01, name="n")


def _positions(paths, series):
    lookup = {v: i for i, v in enumerate(series.to_numpy())}
    return np.vectorize(lookup.__getitem__)(paths.to_numpy())


def test_bootstrap_resamples_training_values_in_blocks(noise):
    aug = BootstrapAugmenter(block_length=10).fit(noise)
    paths = aug.sample(50, random_state=0)
    assert np.isin(paths.to_numpy(), noise.to_numpy()).all()
    pos = _positions(paths, noise)  # (time, paths)
    breaks = (np.diff(pos, axis=0) % len(noise)) != 1
    mean_block = pos.size / (breaks.sum() + pos.shape[1])
    assert mean_block == pytest.approx(aug.block_length_, rel=0.1)


def test_bootstrap_circular_has_fixed_blocks(noise):
    aug = BootstrapAugmenter(block_length=7, method="circular").fit(noise)
    assert aug.block_length_ == 7
    pos = _positions(aug.sample(20, 700, random_state=0), noise)
    steps = np.diff(pos, axis=0) % len(noise)
    inside = np.arange(1, 700) % 7 != 0
    assert (steps[inside] == 1).all()
    assert (steps[~inside] != 1).mean() > 0.95  # a new random start at every 7th step


def test_bootstrap_automatic_block_length(two_assets):
    auto = optimal_block_length(two_assets.to_numpy())
    assert BootstrapAugmenter().fit(two_assets).block_length_ == pytest.approx(
        max(1.0, auto["stationary"].max())
    )
    circ = BootstrapAugmenter(method="circular").fit(two_assets)
    assert circ.block_length_ == max(1, round(auto["circular"].max()))


def test_bootstrap_keeps_cross_correlation(two_assets):
    paths = BootstrapAugmenter(block_length=20).fit(two_assets).sample(20, random_state=0)
    values = paths.to_numpy().reshape(3000, 20, 2)
    real = np.corrcoef(two_assets.to_numpy().T)[0, 1]
    assert np.corrcoef(values[..., 0].ravel(), values[..., 1].ravel())[0, 1] == pytest.approx(
        real, abs=0.05
    )
    # rows are historical days: each sampled (a, b) pair occurs in the history
    pairs = set(map(tuple, two_assets.to_numpy()))
    assert all(tuple(row) in pairs for row in values[:100, 0])


def test_bootstrap_reproducible(noise):
    aug = BootstrapAugmenter().fit(noise)
    pd.testing.assert_frame_equal(aug.sample(4, random_state=1), aug.sample(4, random_state=1))
    assert not aug.sample(4, random_state=1).equals(aug.sample(4, random_state=2))


# -- Gaussian ----------------------------------------------------------------------------
def test_gaussian_matches_mean_and_covariance(two_assets):
    aug = GaussianAugmenter().fit(two_assets)
    np.testing.assert_allclose(aug.covariance_, two_assets.cov().to_numpy())
    values = aug.sample(200, random_state=0).to_numpy().reshape(-1, 2)
    np.testing.assert_allclose(values.mean(axis=0), two_assets.mean(), atol=2e-5)
    np.testing.assert_allclose(np.cov(values.T), aug.covariance_, rtol=0.01)
    assert pearson_kurtosis(values[:, 0]) == pytest.approx(3.0, abs=0.03)


def test_gaussian_accepts_windows():
    windows = np.random.default_rng(0).normal(0.001, 0.02, size=(50, 30, 1))
    aug = GaussianAugmenter().fit(windows)
    assert aug.mean_[0] == pytest.approx(windows.mean())
    assert aug.sample(3, random_state=0).shape == (30, 3)


# -- parameters and input ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("aug", "match"),
    [
        (GARCHAugmenter(vol="egarch"), r"vol must be one of \('garch', 'gjr'\), got 'egarch'"),
        (GARCHAugmenter(dist="cauchy"), r"dist must be one of .*got 'cauchy'"),
        (GARCHAugmenter(mean="ar"), r"mean must be one of .*got 'ar'"),
        (GARCHAugmenter(p=0), r"p must be a positive int, got 0"),
        (GARCHAugmenter(q=-1), r"q must be a non-negative int, got -1"),
        (GARCHAugmenter(rescale="yes"), r"rescale must be True or False, got 'yes'"),
        (BootstrapAugmenter(method="moving"), r"method must be one of .*got 'moving'"),
        (BootstrapAugmenter(block_length=0), r"block_length must be .*got 0"),
        (BootstrapAugmenter(block_length=-3.0), r"block_length must be .*got -3.0"),
        (BootstrapAugmenter(block_length=10**6), r"block_length must be .*length 2000"),
    ],
)
def test_bad_parameters_name_themselves(aug, match, noise):
    with pytest.raises(ValueError, match=match):
        aug.fit(noise)


@pytest.mark.parametrize("cls", [GARCHAugmenter, BootstrapAugmenter])
def test_windows_are_refused(cls):
    windows = np.random.default_rng(0).normal(size=(20, 200, 1))
    with pytest.raises(ValueError, match="needs one long series"):
        cls().fit(windows)


def test_garch_needs_100_observations(noise):
    with pytest.raises(ValueError, match="at least 100 time steps"):
        GARCHAugmenter().fit(noise.iloc[:99])


@pytest.mark.parametrize("cls", [GARCHAugmenter, BootstrapAugmenter, GaussianAugmenter])
def test_input_not_mutated_and_clone_works(cls, garch_series):
    before = garch_series.copy()
    aug = cls().fit(garch_series)
    paths = aug.sample(2, random_state=0)
    paths.iloc[:, :] = 0.0  # writing into the output must not reach the model or the input
    pd.testing.assert_series_equal(garch_series, before)
    assert not np.allclose(aug.sample(2, random_state=0).to_numpy(), 0.0)
    params = aug.get_params()
    assert clone(aug).get_params() == params
    assert not hasattr(clone(aug), "n_assets_")
