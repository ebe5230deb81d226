"""Tests for quantgan.metrics: known processes, cross-checks against scipy/statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from quantgan import metrics as M

N = 20_000
TOL = 4.0 / np.sqrt(N)  # four standard errors of a sample autocorrelation


# --------------------------------------------------------------------------- #
# Data
# --------------------------------------------------------------------------- #
def simulate_garch(
    n: int,
    n_paths: int = 1,
    omega: float = 0.05,
    alpha: float = 0.1,
    beta: float = 0.85,
    gamma: float = 0.0,
    seed: int = 0,
    burn: int = 500,
) -> np.ndarray:
    """GJR-GARCH(1,1): s2' = omega + (alpha + gamma 1[r<0]) r^2 + beta s2; (n, n_paths)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n + burn, n_paths))
    s2 = np.full(n_paths, omega / (1.0 - alpha - beta - gamma / 2.0))
    out = np.empty_like(z)
    for t in range(n + burn):
        out[t] = np.sqrt(s2) * z[t]
        s2 = omega + (alpha + gamma * (out[t] < 0)) * out[t] ** 2 + beta * s2
    return out[burn:]


def block_bootstrap(x: np.ndarray, n_paths: int, block: int = 20, seed: int = 0) -> np.ndarray:
    """Paths of len(x) made of randomly chosen blocks of `block` consecutive values of x."""
    rng = np.random.default_rng(seed)
    n_blocks = -(-x.size // block)
    starts = rng.integers(0, x.size - block + 1, size=(n_blocks, n_paths))
    idx = (starts[:, None, :] + np.arange(block)[None, :, None]).reshape(-1, n_paths)
    return x[idx[: x.size]]


@pytest.fixture(scope="module")
def sp500() -> pd.Series:
    import arch.data.sp500

    df = arch.data.sp500.load()
    return np.log(df["Adj Close"]).diff().dropna()


@pytest.fixture(scope="module")
def iid() -> np.ndarray:
    return np.random.default_rng(1).standard_normal(N)


@pytest.fixture(scope="module")
def garch() -> np.ndarray:
    return simulate_garch(N, seed=2)[:, 0]


# --------------------------------------------------------------------------- #
# i.i.d. Gaussian: no stylized facts
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("transform", ["identity", "abs", "square"])
def test_iid_gaussian_acf_is_zero(iid, transform):
    rho = M.acf(iid, max_lag=20, transform=transform)
    assert rho.shape == (21,)
    assert rho[0] == pytest.approx(1.0)
    assert np.max(np.abs(rho[1:])) < TOL


def test_iid_gaussian_moments_and_leverage(iid):
    s = M.summary_statistics(iid)
    assert abs(s["excess_kurtosis"]) < 4 * np.sqrt(24 / N)
    assert abs(s["skew"]) < 4 * np.sqrt(6 / N)
    assert s["std"] == pytest.approx(1.0, abs=0.03)
    lev = M.leverage_effect(iid, max_lag=20)
    assert lev.shape == (21,)
    assert np.max(np.abs(lev[1:])) < TOL
    # Gaussian quantiles: VaR_5% = 1.645, ES_5% = phi(1.645)/0.05 = 2.063.
    assert s["var_5pct"] == pytest.approx(1.645, abs=0.05)
    assert s["es_5pct"] == pytest.approx(2.063, abs=0.06)


# --------------------------------------------------------------------------- #
# Tails
# --------------------------------------------------------------------------- #
def test_hill_recovers_pareto_index_both_tails():
    rng = np.random.default_rng(3)
    pareto = rng.pareto(3.0, size=50_000) + 1.0  # P(X > u) = u^-3 exactly
    assert M.hill_estimator(pareto, tail="right") == pytest.approx(3.0, abs=0.2)
    assert M.hill_estimator(-pareto, tail="left") == pytest.approx(3.0, abs=0.2)


def test_hill_student_t3():
    t3 = np.random.default_rng(4).standard_t(3, size=(50_000, 4))
    small_k = M.hill_estimator(t3, tail="left", k=0.01)
    assert small_k.shape == (4,)
    assert np.mean(small_k) == pytest.approx(3.0, abs=0.35)
    # Default k = 5% of the sample: the documented downward bias for t(3) (about 2.4).
    default = M.hill_estimator(t3, tail="right")
    assert 2.2 < np.mean(default) < 2.7
    assert np.all(default < small_k + 0.3)


def test_hill_default_k_is_five_percent(iid):
    k = int(0.05 * iid.size)
    assert M.HILL_FRACTION == 0.05
    assert M.hill_estimator(iid) == M.hill_estimator(iid, k=k)
    # Hand computation of the formula.
    losses = np.sort(-iid)[::-1]
    expected = 1.0 / np.mean(np.log(losses[:k] / losses[k]))
    assert M.hill_estimator(iid, tail="left", k=k) == pytest.approx(expected, rel=1e-12)


def test_var_es_hand_computed():
    x = np.arange(1, 201) / 100.0 - 1.0  # -0.99 .. 1.00, n = 200
    s = M.summary_statistics(np.random.default_rng(0).permutation(x))
    # 1%: m = ceil(2) = 2 worst returns; 5%: m = 10.
    assert s["var_1pct"] == pytest.approx(0.98)
    assert s["es_1pct"] == pytest.approx(0.985)
    assert s["var_5pct"] == pytest.approx(0.90)
    assert s["es_5pct"] == pytest.approx(np.mean(0.99 - np.arange(10) / 100))
    assert s["es_5pct"] >= s["var_5pct"] > 0


def test_summary_statistics_per_path_matches_1d():
    X = simulate_garch(3000, n_paths=3, seed=5)
    table = M.summary_statistics(pd.DataFrame(X, columns=["a", "b", "c"]))
    assert list(table.index) == ["a", "b", "c"]
    for j, name in enumerate("abc"):
        one = M.summary_statistics(X[:, j])
        pd.testing.assert_series_equal(table.loc[name], one, check_names=False, rtol=1e-12)


# --------------------------------------------------------------------------- #
# Volatility clustering and leverage
# --------------------------------------------------------------------------- #
def test_garch_volatility_clustering(garch, iid):
    rho_abs = M.acf(garch, max_lag=10, transform="abs")
    rho_iid = M.acf(iid, max_lag=10, transform="abs")
    assert rho_abs[1] > 0.1
    assert rho_abs[1] > rho_iid[1] + 5 / np.sqrt(N)
    assert np.all(rho_abs[1:] > TOL)  # positive, slowly decaying
    # Theory for this GARCH: rho_{r^2}(1) = a(1 - ab - b^2)/(1 - 2ab - b^2) = 0.179.
    assert M.acf(garch, max_lag=1, transform="square")[1] == pytest.approx(0.179, abs=0.06)
    # Returns themselves are uncorrelated.
    assert np.max(np.abs(M.acf(garch, max_lag=10)[1:])) < TOL


def test_gjr_gives_negative_leverage(garch):
    gjr = simulate_garch(N, omega=0.05, alpha=0.02, beta=0.85, gamma=0.15, seed=6)[:, 0]
    lev = M.leverage_effect(gjr, max_lag=10)
    assert np.mean(lev[1:6]) < -2 * TOL
    assert lev[1] < -0.05
    assert abs(M.leverage_effect(garch, max_lag=1)[1]) < TOL
    # A symmetric GARCH misses the effect: larger leverage score than GJR paths.
    gjr_paths = simulate_garch(5000, 10, alpha=0.02, beta=0.85, gamma=0.15, seed=7)
    garch_paths = simulate_garch(5000, 10, seed=8)
    good = M.leverage_score(gjr, gjr_paths, max_lag=20)
    bad = M.leverage_score(gjr, garch_paths, max_lag=20)
    assert bad > 2 * good


# --------------------------------------------------------------------------- #
# Cross-checks on the S&P 500
# --------------------------------------------------------------------------- #
def test_sp500_acf_matches_statsmodels(sp500):
    from statsmodels.tsa.stattools import acf as sm_acf

    r = sp500.to_numpy()
    for transform, values in (("identity", r), ("abs", np.abs(r)), ("square", r**2)):
        ours = M.acf(sp500, max_lag=250, transform=transform)
        ref = sm_acf(values, nlags=250, fft=False)
        np.testing.assert_allclose(ours, ref, atol=1e-12)
    assert M.acf(sp500, 1, "abs")[1] == pytest.approx(0.24426, abs=1e-5)


def test_sp500_leverage_matches_statsmodels_ccf(sp500):
    from statsmodels.tsa.stattools import ccf

    r = sp500.to_numpy()
    ref = ccf(r**2, r, adjusted=False, fft=False)[:251]  # k-th value: corr(r_t, r_{t+k}^2)
    np.testing.assert_allclose(M.leverage_effect(r, 250), ref, atol=1e-12)
    assert M.leverage_effect(r, 1)[1] == pytest.approx(-0.11346, abs=1e-5)


def test_sp500_variance_ratio_matches_arch(sp500):
    from arch.unitroot import VarianceRatio

    prices = np.concatenate([[0.0], np.cumsum(sp500.to_numpy())])  # log price level
    vr = M.variance_ratio(sp500, lags=(2, 5, 20, 100))
    assert list(vr.index) == [2, 5, 20, 100]
    for lag in vr.index:  # arch's overlapping, debiased estimator on the price level
        assert vr[lag] == pytest.approx(VarianceRatio(prices, lags=lag).vr, rel=1e-12)
    # The index mean-reverts over weeks: 1999-2018 sums of 20 days vary 28% less.
    assert vr[20] == pytest.approx(0.7174, abs=1e-4)


def test_variance_ratio_sees_summed_autocorrelation():
    rng = np.random.default_rng(4)
    noise = rng.standard_normal((5000, 200))
    vr = M.variance_ratio(noise, lags=(5, 100))
    assert vr.shape == (200, 2)
    # Unbiased under i.i.d. returns, with the standard error of Lo and MacKinlay.
    se = np.sqrt(2 * (2 * 100 - 1) * (100 - 1) / (3 * 100 * 5000))
    assert vr[100].std() == pytest.approx(se, rel=0.15)
    assert abs(vr[100].mean() - 1) < 3 * se / np.sqrt(200)
    # AR(1) with phi: VR(q) = 1 + 2 sum_k (1 - k/q) phi^k; momentum above 1, reversion below.
    for phi in (0.1, -0.1):
        x = np.empty_like(noise)
        x[0] = noise[0]
        for t in range(1, x.shape[0]):
            x[t] = phi * x[t - 1] + noise[t]
        k = np.arange(1, 5)
        expected = 1 + 2 * np.sum((1 - k / 5) * phi**k)
        assert M.variance_ratio(x, lags=5)[5].mean() == pytest.approx(expected, abs=0.01)
    # A DataFrame keeps its column labels; a drift changes nothing.
    frame = pd.DataFrame(noise[:, :3], columns=["a", "b", "c"])
    out = M.variance_ratio(frame + 0.5, lags=[20])
    assert list(out.index) == ["a", "b", "c"]
    np.testing.assert_allclose(out[20], M.variance_ratio(noise[:, :3], lags=[20])[20])
    with pytest.raises(ValueError, match="at least 2"):
        M.variance_ratio(noise, lags=(1, 5))
    with pytest.raises(ValueError, match="smaller than the length"):
        M.variance_ratio(noise[:50], lags=50)
    with pytest.raises(ValueError, match="constant"):
        M.variance_ratio(np.ones(100), lags=5)
    with pytest.raises(ValueError, match="at least one lag"):
        M.variance_ratio(noise, lags=[])


def test_sp500_moments_match_scipy(sp500):
    s = M.summary_statistics(sp500)
    assert s["excess_kurtosis"] == pytest.approx(scipy.stats.kurtosis(sp500), rel=1e-10)
    assert s["skew"] == pytest.approx(scipy.stats.skew(sp500), rel=1e-10)
    assert s["std"] == pytest.approx(np.std(sp500.to_numpy(), ddof=1), rel=1e-12)
    assert s["excess_kurtosis"] == pytest.approx(8.1692, abs=1e-4)
    assert 2.0 < s["hill_left"] < 4.0 and 2.0 < s["hill_right"] < 4.0


def test_sp500_emd_matches_scipy(sp500):
    r = sp500.to_numpy()
    rng = np.random.default_rng(9)
    synthetic = np.column_stack([rng.permutation(r)[:1500] for _ in range(4)])
    synthetic[:, 0] = simulate_garch(1500, seed=10)[:, 0] * r.std()
    lags = (1, 5, 20, 100)
    ours = M.emd(r, synthetic, lags=lags)
    assert list(ours) == list(lags)
    for lag in lags:
        real_w = np.lib.stride_tricks.sliding_window_view(r, lag).sum(axis=1)
        syn_w = np.lib.stride_tricks.sliding_window_view(synthetic, lag, axis=0).sum(axis=-1)
        ref = scipy.stats.wasserstein_distance(real_w, syn_w.ravel())
        assert ours[lag] == pytest.approx(ref, rel=1e-10, abs=1e-13)
    # Longer horizons spread further apart (scale of cumulative returns).
    assert ours[1] < ours[20] < ours[100]


def test_emd_subsampling_is_reproducible_and_close(sp500):
    r = sp500.to_numpy()
    synthetic = simulate_garch(2000, 20, seed=11) * r.std()
    exact = M.emd(r, synthetic, lags=(5,), max_samples=None)[5]
    a = M.emd(r, synthetic, lags=(5,), max_samples=5000, random_state=1)[5]
    b = M.emd(r, synthetic, lags=(5,), max_samples=5000, random_state=1)[5]
    assert a == b
    assert a == pytest.approx(exact, rel=0.25)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.integers(1, 40), elements=st.floats(-1e3, 1e3)),
    arrays(np.float64, st.integers(1, 40), elements=st.floats(-1e3, 1e3)),
)
def test_wasserstein1_equals_scipy(u, v):
    ref = scipy.stats.wasserstein_distance(u, v)
    assert M.wasserstein1(u, v) == pytest.approx(ref, rel=1e-10, abs=1e-9)


# --------------------------------------------------------------------------- #
# Score conventions: RMS for ACF, L2 norm for leverage
# --------------------------------------------------------------------------- #
def _hand_acf(x: np.ndarray, k: int) -> float:
    d = x - x.mean()
    return float(np.sum(d[:-k] * d[k:]) / np.sum(d * d))


def _hand_leverage(x: np.ndarray, k: int) -> float:
    a = x - x.mean()
    b = x**2 - np.mean(x**2)
    return float(np.sum(a[:-k] * b[k:]) / x.size / (a.std() * b.std()))


def test_acf_score_is_root_mean_square():
    rng = np.random.default_rng(12)
    real = rng.standard_t(4, size=60)
    synthetic = rng.standard_t(4, size=(60, 3))
    K = 5
    for transform, f in (("identity", lambda z: z), ("abs", np.abs), ("square", np.square)):
        syn = [
            np.mean([_hand_acf(f(synthetic[:, j]), k) for j in range(3)]) for k in range(1, K + 1)
        ]
        gap = np.array(syn) - np.array([_hand_acf(f(real), k) for k in range(1, K + 1)])
        expected = np.sqrt(np.mean(gap**2))
        score = M.acf_score(real, synthetic, transform=transform, max_lag=K)
        assert score == pytest.approx(expected, rel=1e-10)
        assert score != pytest.approx(np.linalg.norm(gap), rel=1e-3)  # not the L2 norm


def test_leverage_score_is_l2_norm():
    rng = np.random.default_rng(13)
    real = rng.standard_t(4, size=60)
    synthetic = rng.standard_t(4, size=(60, 3))
    K = 5
    syn = [np.mean([_hand_leverage(synthetic[:, j], k) for j in range(3)]) for k in range(1, K + 1)]
    gap = np.array(syn) - np.array([_hand_leverage(real, k) for k in range(1, K + 1)])
    score = M.leverage_score(real, synthetic, max_lag=K)
    assert score == pytest.approx(np.linalg.norm(gap), rel=1e-10)
    assert score != pytest.approx(np.sqrt(np.mean(gap**2)), rel=1e-3)  # not the RMS


def test_acf_2d_is_per_path():
    X = simulate_garch(2000, 3, seed=14)
    out = M.acf(X, max_lag=7, transform="abs")
    assert out.shape == (8, 3)
    for j in range(3):
        np.testing.assert_allclose(out[:, j], M.acf(X[:, j], 7, "abs"), atol=1e-13)
    lev = M.leverage_effect(X, max_lag=7)
    np.testing.assert_allclose(lev[:, 1], M.leverage_effect(X[:, 1], 7), atol=1e-13)


# --------------------------------------------------------------------------- #
# Drawdowns
# --------------------------------------------------------------------------- #
def test_drawdowns_hand_computed():
    x = np.array([0.1, -0.2, 0.05, -0.1, 0.3])  # cumulative: .1 -.1 -.05 -.15 .15
    assert M.drawdowns(x) == pytest.approx(1 - np.exp(-0.25))
    paths = np.column_stack([x, np.full(5, 0.01), -np.full(5, 0.1)])
    np.testing.assert_allclose(M.drawdowns(paths), [1 - np.exp(-0.25), 0.0, 1 - np.exp(-0.5)])


def test_drawdown_distance_matches_manual_windows():
    rng = np.random.default_rng(15)
    real = rng.normal(0, 0.01, 400)
    synthetic = rng.normal(0, 0.02, (300, 3))
    window, stride = 50, 7
    real_dd = [M.drawdowns(real[s : s + window]) for s in range(0, 400 - window + 1, stride)]
    syn_dd = [
        M.drawdowns(synthetic[s : s + window, j])
        for s in range(0, 300 - window + 1, stride)
        for j in range(3)
    ]
    expected = scipy.stats.wasserstein_distance(real_dd, syn_dd)
    got = M.drawdown_distance(real, synthetic, window=window, stride=stride)
    assert got == pytest.approx(expected, rel=1e-10)
    same = M.drawdown_distance(real, rng.normal(0, 0.01, (300, 3)), window=window, stride=stride)
    assert same < got


# --------------------------------------------------------------------------- #
# Cross-asset correlation
# --------------------------------------------------------------------------- #
def _correlated(n: int, rho: float, rng: np.random.Generator) -> np.ndarray:
    z = rng.standard_normal((n, 2))
    return np.column_stack([z[:, 0], rho * z[:, 0] + np.sqrt(1 - rho**2) * z[:, 1]])


def test_cross_correlation_multiindex_paths():
    rng = np.random.default_rng(16)
    paths = {p: _correlated(2000, 0.6, rng) for p in range(8)}
    columns = pd.MultiIndex.from_product([range(8), ["SPX", "NDX"]], names=["path", "asset"])
    synthetic = pd.DataFrame(np.hstack([paths[p] for p in range(8)]), columns=columns)
    corr = M.cross_correlation(synthetic)
    assert list(corr.columns) == ["SPX", "NDX"]
    expected = np.mean([np.corrcoef(paths[p], rowvar=False)[0, 1] for p in range(8)])
    assert corr.loc["SPX", "NDX"] == pytest.approx(expected, rel=1e-10)
    assert corr.loc["SPX", "NDX"] == pytest.approx(0.6, abs=0.03)
    # 3-D array (time, path, asset) gives the same matrix.
    arr = np.stack([paths[p] for p in range(8)], axis=1)
    np.testing.assert_allclose(M.cross_correlation(arr), corr.to_numpy(), atol=1e-12)

    real_same = pd.DataFrame(_correlated(3000, 0.6, rng), columns=["SPX", "NDX"])
    real_neg = pd.DataFrame(_correlated(3000, -0.2, rng), columns=["NDX", "SPX"])  # reordered
    assert M.cross_correlation_gap(real_same, synthetic) < 0.05
    gap = M.cross_correlation_gap(real_neg, synthetic)
    c_real = np.corrcoef(real_neg.to_numpy(), rowvar=False)[0, 1]
    assert gap == pytest.approx(expected - c_real, rel=1e-10)
    assert gap == pytest.approx(0.8, abs=0.06)


def test_cross_correlation_gap_is_l2_over_pairs():
    rng = np.random.default_rng(17)
    real = rng.standard_normal((500, 3))
    synthetic = rng.standard_normal((500, 4, 3)) + real[:, None, :] * 0.5
    c_real = np.corrcoef(real, rowvar=False)
    c_syn = np.mean([np.corrcoef(synthetic[:, p], rowvar=False) for p in range(4)], axis=0)
    iu = np.triu_indices(3, 1)
    expected = np.linalg.norm(c_syn[iu] - c_real[iu])
    assert M.cross_correlation_gap(real, synthetic) == pytest.approx(expected, rel=1e-10)


# --------------------------------------------------------------------------- #
# Diversity, memorisation, classifier scores
# --------------------------------------------------------------------------- #
def test_path_diversity_detects_collapse():
    x = np.random.default_rng(18).standard_normal(1000)
    collapsed = M.path_diversity(np.tile(x[:, None], (1, 10)))
    assert collapsed["collapse_share"] == 1.0
    assert collapsed["mean_abs_corr"] == pytest.approx(1.0)
    T = 1000
    healthy = M.path_diversity(np.random.default_rng(19).standard_normal((T, 60)))
    assert healthy["collapse_share"] == 0.0
    assert healthy["mean_abs_corr"] == pytest.approx(np.sqrt(2 / np.pi) / np.sqrt(T), rel=0.2)
    half = np.column_stack(
        [np.tile(x[:, None], (1, 5)), np.random.default_rng(20).normal(size=(T, 5))]
    )
    assert M.path_diversity(half)["collapse_share"] == pytest.approx(10 / 45)


def test_path_diversity_caps_paths_reproducibly():
    X = np.random.default_rng(21).standard_normal((200, 40))
    a = M.path_diversity(X, max_paths=10, random_state=3)
    b = M.path_diversity(X, max_paths=10, random_state=3)
    assert a == b
    assert a["mean_abs_corr"] == pytest.approx(M.path_diversity(X)["mean_abs_corr"], rel=0.5)


def test_memorization_block_bootstrap_copies_iid_does_not(sp500):
    r = sp500.to_numpy()
    boot = block_bootstrap(r, n_paths=20, block=20, seed=22)
    copied = M.memorization_score(r, boot, window=20)
    # About 1 in 20 windows is aligned with a block and is an exact copy.
    assert 0.02 < copied["copy_share"] < 0.1
    assert copied["baseline_copy_share"] == 0.0
    assert copied["ratio"] < 0.95
    assert np.min(copied["synthetic_distances"]) == 0.0
    shorter = M.memorization_score(r, boot, window=10)
    assert shorter["copy_share"] > 0.4  # 11 of 20 windows fit inside one block

    noise = np.random.default_rng(23).normal(0, r.std(), size=(r.size, 20))
    fresh = M.memorization_score(r, noise, window=20)
    assert fresh["copy_share"] == 0.0
    assert fresh["ratio"] > 1.1
    assert fresh["synthetic_distances"].shape == (2000,)
    assert np.min(fresh["synthetic_distances"]) > fresh["threshold"]


def test_memorization_normalized_separates_copying_from_a_calmer_volatility(sp500):
    r = sp500.to_numpy()
    rng = np.random.default_rng(23)
    # Fresh noise at half the real scale: on raw returns its windows sit close to the
    # calm stretches of history (ratio far below 1) though nothing is copied.
    calm = rng.normal(0, 0.5 * r.std(), size=(r.size, 20))
    raw = M.memorization_score(r, calm)
    shape = M.memorization_score(r, calm, normalize=True)
    assert raw["ratio"] < 0.85 and raw["copy_share"] == 0.0
    assert 0.95 < shape["ratio"] < 1.1 and shape["copy_share"] == 0.0
    # Shapes of fresh noise do not depend on its scale; a copy stays a copy.
    louder = M.memorization_score(r, 3.0 * calm, normalize=True)
    assert louder["ratio"] == pytest.approx(shape["ratio"])
    boot = M.memorization_score(r, block_bootstrap(r, 20, seed=22), normalize=True)
    assert boot["ratio"] < 0.9 and 0.02 < boot["copy_share"] < 0.1
    assert np.min(boot["synthetic_distances"]) == 0.0
    # Windows on the unit-RMS sphere: no distance exceeds its diameter 2 sqrt(window).
    assert np.max(shape["synthetic_distances"]) <= 2 * np.sqrt(20)
    # An all-zero window (a stale price) is left at zero, not divided by zero.
    stale = calm.copy()
    stale[:40, 0] = 0.0
    assert np.isfinite(M.memorization_score(r, stale, normalize=True)["ratio"])


def test_discriminative_score():
    rng = np.random.default_rng(24)
    real = rng.standard_normal(5000)
    same = M.discriminative_score(real, rng.standard_normal((5000, 4)), random_state=0)
    assert same < 0.1
    scaled = M.discriminative_score(real, 3 * rng.standard_normal((5000, 4)), random_state=0)
    assert scaled > 0.3
    again = M.discriminative_score(real, 3 * np.random.default_rng(24).standard_normal((5000, 4)))
    assert 0 <= again <= 0.5


def test_predictive_score_tstr(sp500):
    r = sp500.to_numpy()
    garch_like = simulate_garch(r.size, 20, alpha=0.08, beta=0.9, omega=0.02, seed=25)
    garch_like *= r.std() / garch_like.std()
    noise = np.random.default_rng(26).normal(0, r.std(), (r.size, 20))
    tstr_garch, trtr = M.predictive_score(r, garch_like, return_baseline=True)
    tstr_noise, trtr_again = M.predictive_score(r, noise, return_baseline=True)
    assert trtr == trtr_again
    assert tstr_noise > 1.2 * trtr  # noise carries no volatility forecast
    assert tstr_garch < tstr_noise
    assert M.predictive_score(r, garch_like) == tstr_garch
    sq = M.predictive_score(r, garch_like, target="square")
    assert 0 < sq < tstr_garch  # squared-return units are much smaller


# --------------------------------------------------------------------------- #
# The bundle
# --------------------------------------------------------------------------- #
def test_stylized_facts_bundle(sp500):
    r = sp500.to_numpy()
    good = simulate_garch(r.size, 30, seed=27, alpha=0.09, beta=0.9, omega=0.01)
    good *= r.std() / good.std()
    noise = np.random.default_rng(28).normal(0, r.std(), (r.size, 30))
    s_good = M.stylized_facts(r, good, max_lag=100)
    s_noise = M.stylized_facts(r, pd.DataFrame(noise), max_lag=100)
    expected_keys = {
        "emd_1",
        "emd_5",
        "emd_20",
        "emd_100",
        "acf_r",
        "acf_abs",
        "acf_sq",
        "leverage",
        "variance_ratio_5_real",
        "variance_ratio_5_synthetic",
        "variance_ratio_20_real",
        "variance_ratio_20_synthetic",
        "variance_ratio_100_real",
        "variance_ratio_100_synthetic",
        "excess_kurtosis_real",
        "excess_kurtosis_synthetic",
        "hill_left_real",
        "hill_left_synthetic",
        "hill_right_real",
        "hill_right_synthetic",
        "drawdown_emd",
        "diversity_mean_abs_corr",
        "diversity_collapse_share",
        "memorization_ratio",
        "memorization_copy_share",
        "memorization_ratio_shape",
    }
    assert set(s_good.index) == expected_keys
    assert s_good.dtype == float and np.isfinite(s_good).all()
    assert s_good["acf_abs"] == pytest.approx(M.acf_score(r, good, "abs", 100), rel=1e-12)
    assert s_good["emd_20"] == pytest.approx(M.emd(r, good)[20], rel=1e-12)
    assert s_good["excess_kurtosis_real"] == pytest.approx(8.1692, abs=1e-4)
    assert s_good["acf_abs"] < s_noise["acf_abs"]
    assert s_good["excess_kurtosis_synthetic"] > s_noise["excess_kurtosis_synthetic"]
    assert abs(s_noise["excess_kurtosis_synthetic"]) < 0.2
    assert s_noise["memorization_copy_share"] == 0.0
    full = M.stylized_facts(r, good[:, :5], max_lag=50, classifier_scores=True)
    assert {"discriminative", "predictive_tstr", "predictive_trtr"} <= set(full.index)
    assert 0 <= full["discriminative"] <= 0.5


def test_pandas_and_numpy_agree_and_inputs_are_untouched(sp500):
    synthetic = simulate_garch(1500, 4, seed=29) * 0.01
    frame = pd.DataFrame(synthetic, index=pd.RangeIndex(1500), columns=list("abcd"))
    real_copy, frame_copy = sp500.copy(), frame.copy()
    a = M.stylized_facts(sp500, frame, max_lag=50)
    b = M.stylized_facts(sp500.to_numpy(), synthetic, max_lag=50)
    pd.testing.assert_series_equal(a, b)
    pd.testing.assert_series_equal(sp500, real_copy)
    pd.testing.assert_frame_equal(frame, frame_copy)
    # A (path, asset) MultiIndex frame with a single asset is a plain set of paths.
    multi = frame.copy()
    multi.columns = pd.MultiIndex.from_product([list("abcd"), ["SPX"]])
    assert M.acf_score(sp500, multi, "abs", 50) == M.acf_score(sp500, synthetic, "abs", 50)


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #
def _nan_at(x: np.ndarray, i: int) -> np.ndarray:
    y = x.copy()
    y.flat[i] = np.nan
    return y


GOOD_REAL = np.random.default_rng(30).standard_normal(300)
GOOD_SYN = np.random.default_rng(31).standard_normal((300, 4))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: M.acf_score(_nan_at(GOOD_REAL, 5), GOOD_SYN), r"real .*NaN"),
        (
            lambda: M.emd(GOOD_REAL, np.where(GOOD_SYN > 2, np.inf, GOOD_SYN)),
            r"synthetic .*infinite",
        ),
        (lambda: M.acf(GOOD_REAL, max_lag=300), r"max_lag"),
        (lambda: M.acf_score(GOOD_REAL, GOOD_SYN, max_lag=300), r"max_lag"),
        (lambda: M.leverage_effect(GOOD_REAL, max_lag=0), r"max_lag"),
        (lambda: M.leverage_score(GOOD_REAL, GOOD_SYN, max_lag=2.5), r"max_lag must be an integer"),
        (lambda: M.emd(GOOD_REAL, GOOD_SYN, lags=(1, 300)), r"lags"),
        (lambda: M.emd(GOOD_REAL, GOOD_SYN, lags=()), r"lags"),
        (lambda: M.acf_score(GOOD_REAL, GOOD_SYN, transform="log"), r"transform"),
        (lambda: M.hill_estimator(GOOD_REAL, k=300), r"\bk\b"),
        (lambda: M.hill_estimator(GOOD_REAL, tail="middle"), r"tail"),
        (lambda: M.acf_score(GOOD_SYN, GOOD_SYN), r"real must be a 1-D"),
        (lambda: M.acf(np.zeros((10, 2, 2, 2))), r"x must be a 2-D"),
        (lambda: M.acf_score(GOOD_REAL, GOOD_SYN.reshape(300, 2, 2)), r"synthetic holds 2 assets"),
        (lambda: M.memorization_score(GOOD_REAL, GOOD_SYN, window=150), r"window"),
        (lambda: M.discriminative_score(GOOD_REAL, GOOD_SYN, window=400), r"window"),
        (lambda: M.predictive_score(GOOD_REAL, GOOD_SYN, target="log"), r"target"),
        (lambda: M.path_diversity(GOOD_SYN[:, :1]), r"at least 2 paths"),
        (lambda: M.acf(np.ones(50), max_lag=5), r"constant"),
        (lambda: M.cross_correlation(GOOD_REAL), r"x must be 2-D"),
        (lambda: M.cross_correlation_gap(GOOD_SYN[:, :2], GOOD_SYN[:, :3]), r"assets"),
        (lambda: M.summary_statistics(np.array(["a", "b", "c"])), r"x must contain numbers"),
    ],
)
def test_bad_input_raises_naming_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_multi_asset_multiindex_rejected_by_single_asset_metrics():
    columns = pd.MultiIndex.from_product([range(3), ["SPX", "NDX"]])
    frame = pd.DataFrame(GOOD_SYN[:, :1].repeat(6, axis=1) + np.arange(6), columns=columns)
    with pytest.raises(ValueError, match=r"synthetic holds 2 assets \['SPX', 'NDX'\].*xs"):
        M.emd(GOOD_REAL, frame)
