"""Tests for quantgan.overfitting (PSR, DSR, MinTRL, MinBTL and CSCV PBO)."""

from __future__ import annotations

import ast
import doctest
import math
from itertools import combinations
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

import quantgan.overfitting as of
from quantgan.overfitting import (
    PBOResult,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    min_backtest_length,
    min_track_record_length,
    pbo,
    probabilistic_sharpe_ratio,
    sharpe_ratio,
)

EULER_GAMMA = 0.5772156649015329  # written out: independent of numpy's constant
PHI = NormalDist().cdf
PHI_INV = NormalDist().inv_cdf


def hand_expected_max(n: int, var: float) -> float:
    """E[max SR] of the DSR paper, recomputed with the standard library only."""
    z = (1 - EULER_GAMMA) * PHI_INV(1 - 1 / n) + EULER_GAMMA * PHI_INV(1 - 1 / (n * math.e))
    return math.sqrt(var) * z


# ----------------------------------------------------------------------------- Sharpe


def test_sharpe_ratio_1d_2d_dataframe_and_ddof():
    x = np.array([0.01, 0.02, 0.03, -0.01])
    mean = 0.0125
    sd1 = math.sqrt(sum((v - mean) ** 2 for v in x) / 3)
    sd0 = math.sqrt(sum((v - mean) ** 2 for v in x) / 4)
    assert sharpe_ratio(x) == pytest.approx(mean / sd1, rel=1e-12)
    assert sharpe_ratio(x, ddof=0) == pytest.approx(mean / sd0, rel=1e-12)
    m = np.column_stack([x, -2 * x])
    np.testing.assert_allclose(sharpe_ratio(m), [mean / sd1, -mean / sd1], rtol=1e-12)
    df = pd.DataFrame(m, columns=["a", "b"])
    np.testing.assert_allclose(sharpe_ratio(df), sharpe_ratio(m), rtol=0)
    assert isinstance(sharpe_ratio(pd.Series(x)), float)


def test_sharpe_ratio_zero_variance_names_column():
    with pytest.raises(ValueError, match="returns has zero variance"):
        sharpe_ratio([0.001] * 10)
    m = np.column_stack([np.arange(5.0), np.full(5, 0.1), np.arange(5.0) ** 2])
    with pytest.raises(ValueError, match=r"returns.*\['column 1'\]"):
        sharpe_ratio(m)
    df = pd.DataFrame(m, columns=["mom", "flat", "carry"])
    with pytest.raises(ValueError, match=r"returns.*\['flat'\]"):
        sharpe_ratio(df)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"returns": [0.1, np.nan, 0.2]}, "returns"),
        ({"returns": [0.1, np.inf, 0.2]}, "returns"),
        ({"returns": [0.1]}, "returns"),
        ({"returns": np.zeros((3, 2, 2))}, "returns"),
        ({"returns": [0.1, 0.2], "ddof": -1}, "ddof"),
        ({"returns": [0.1, 0.2], "ddof": 0.5}, "ddof"),
    ],
)
def test_sharpe_ratio_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        sharpe_ratio(**kwargs)


# ----------------------------------------------------------------------------- PSR / DSR


def test_psr_known_case_by_hand():
    sr, n, skew, kurt, bench = 0.1, 250, -1.0, 6.0, 0.02
    # z = (0.1 - 0.02) * sqrt(249) / sqrt(1 + 0.1 + 5/4 * 0.01)
    z = 0.08 * math.sqrt(249) / math.sqrt(1.1125)
    assert z == pytest.approx(1.196850, abs=1e-6)
    psr = probabilistic_sharpe_ratio(sr, n, skew=skew, kurtosis=kurt, sr_benchmark=bench)
    assert psr == pytest.approx(PHI(z), abs=1e-12)
    # Normal returns, zero benchmark: z = SR * sqrt(n - 1) / sqrt(1 + SR^2 / 2).
    assert probabilistic_sharpe_ratio(0.1, 250) == pytest.approx(
        PHI(0.1 * math.sqrt(249) / math.sqrt(1.005)), abs=1e-12
    )
    # At the benchmark the PSR is exactly one half; arrays broadcast.
    assert probabilistic_sharpe_ratio(0.05, 100, sr_benchmark=0.05) == 0.5
    out = probabilistic_sharpe_ratio(np.array([0.0, 0.1]), 250)
    np.testing.assert_allclose(out, [0.5, probabilistic_sharpe_ratio(0.1, 250)])


def test_expected_max_sharpe_paper_value():
    got = expected_max_sharpe(100, 1.0)
    assert got == pytest.approx(2.5306, abs=1e-4)
    assert got == pytest.approx(hand_expected_max(100, 1.0), abs=1e-6)
    assert expected_max_sharpe(100, 4.0, sr_mean=0.5) == pytest.approx(0.5 + 2 * got, abs=1e-12)
    assert expected_max_sharpe(1, 2.0, sr_mean=0.3) == 0.3  # one trial: no selection bias
    assert expected_max_sharpe(50, 0.0, sr_mean=0.1) == 0.1
    assert expected_max_sharpe(1000, 1.0) > expected_max_sharpe(100, 1.0)


def test_deflated_sharpe_ratio_paper_numerical_example():
    # Bailey & Lopez de Prado (2014), JPM, "A numerical example": annualised SR 2.5,
    # T = 1250 daily observations, N = 100 trials, V[annualised SR_n] = 0.5, skew -3,
    # kurtosis 10 -> DSR ~ 0.9004.  Convert to daily units with 250 days per year.
    sr = 2.5 / math.sqrt(250)  # 0.1581
    sr0_annual = math.sqrt(0.5) * hand_expected_max(100, 1.0)  # 1.7894
    sr0 = sr0_annual / math.sqrt(250)  # 0.1132
    assert sr0_annual == pytest.approx(1.7894, abs=1e-4)
    assert sr0 == pytest.approx(0.1132, abs=1e-4)
    assert expected_max_sharpe(100, 0.5 / 250) == pytest.approx(sr0, abs=1e-12)
    z = (sr - sr0) * math.sqrt(1250 - 1) / math.sqrt(1 - (-3) * sr + (10 - 1) / 4 * sr**2)
    by_hand = PHI(z)
    dsr = deflated_sharpe_ratio(sr, 1250, 100, 0.5 / 250, skew=-3, kurtosis=10)
    assert dsr == pytest.approx(0.9004, abs=1e-4)
    assert dsr == pytest.approx(by_hand, abs=1e-6)
    # DSR is the PSR with the expected maximum as benchmark.
    psr = probabilistic_sharpe_ratio(sr, 1250, -3, 10, sr_benchmark=sr0)
    assert dsr == pytest.approx(psr, abs=1e-12)


@pytest.mark.parametrize(
    ("sr", "skew", "kurt", "bench", "alpha"),
    [(0.1, 0.0, 3.0, 0.0, 0.05), (0.15, -1.5, 9.0, 0.03, 0.01), (0.05, 0.5, 4.0, -0.02, 0.1)],
)
def test_min_track_record_length_consistent_with_psr(sr, skew, kurt, bench, alpha):
    mintrl = min_track_record_length(sr, skew, kurt, bench, alpha)
    psr = probabilistic_sharpe_ratio(sr, mintrl, skew, kurt, sr_benchmark=bench)
    assert psr == pytest.approx(1 - alpha, abs=1e-6)
    assert probabilistic_sharpe_ratio(sr, 2 * mintrl, skew, kurt, bench) > 1 - alpha


def test_min_track_record_length_value_and_infinity():
    z = PHI_INV(0.95)
    assert min_track_record_length(0.1) == pytest.approx(1 + 1.005 * (z / 0.1) ** 2, rel=1e-12)
    assert min_track_record_length(0.05, sr_benchmark=0.05) == math.inf
    assert min_track_record_length(-0.1) == math.inf


def test_min_backtest_length_paper_example_and_units():
    # "Pseudo-mathematics...": with 5 years of data, no more than 45 independent
    # configurations before the best one shows an annualised IS Sharpe of 1 by chance.
    assert min_backtest_length(45) < 5 < min_backtest_length(46)
    assert min_backtest_length(100) == pytest.approx(hand_expected_max(100, 1) ** 2, abs=1e-9)
    assert min_backtest_length(100, sr_target=2.0) == pytest.approx(
        min_backtest_length(100) / 4, rel=1e-12
    )
    assert min_backtest_length(1) == 0.0


@pytest.mark.parametrize(
    ("func", "kwargs", "name"),
    [
        (probabilistic_sharpe_ratio, {"sharpe": 0.1, "n_obs": 1}, "n_obs"),
        (probabilistic_sharpe_ratio, {"sharpe": np.nan, "n_obs": 100}, "sharpe"),
        (probabilistic_sharpe_ratio, {"sharpe": 0.1, "n_obs": 100, "kurtosis": 0.0}, "kurtosis"),
        (probabilistic_sharpe_ratio, {"sharpe": 0.1, "n_obs": 100, "skew": "x"}, "skew"),
        (
            probabilistic_sharpe_ratio,
            {"sharpe": 0.1, "n_obs": 100, "sr_benchmark": np.inf},
            "sr_benchmark",
        ),
        (probabilistic_sharpe_ratio, {"sharpe": 3.0, "n_obs": 100, "skew": 5.0}, "kurtosis"),
        (expected_max_sharpe, {"n_trials": 0, "sr_variance": 1.0}, "n_trials"),
        (expected_max_sharpe, {"n_trials": 0.5, "sr_variance": 1.0}, "n_trials"),
        (expected_max_sharpe, {"n_trials": np.nan, "sr_variance": 1.0}, "n_trials"),
        (expected_max_sharpe, {"n_trials": True, "sr_variance": 1.0}, "n_trials"),
        (expected_max_sharpe, {"n_trials": 10, "sr_variance": -1.0}, "sr_variance"),
        (expected_max_sharpe, {"n_trials": 10, "sr_variance": 1.0, "sr_mean": None}, "sr_mean"),
        (
            deflated_sharpe_ratio,
            {"sharpe": 0.1, "n_obs": 100, "n_trials": 0, "sr_variance": 0.01},
            "n_trials",
        ),
        (
            deflated_sharpe_ratio,
            {"sharpe": 0.1, "n_obs": 1, "n_trials": 10, "sr_variance": 0.01},
            "n_obs",
        ),
        (min_track_record_length, {"sharpe": 0.1, "alpha": 0.0}, "alpha"),
        (min_track_record_length, {"sharpe": 0.1, "alpha": 1.5}, "alpha"),
        (min_track_record_length, {"sharpe": 0.1, "kurtosis": 0.0}, "kurtosis"),
        (min_track_record_length, {"sharpe": np.nan}, "sharpe"),
        (min_backtest_length, {"n_trials": 10, "sr_target": 0.0}, "sr_target"),
        (min_backtest_length, {"n_trials": 0}, "n_trials"),
    ],
)
def test_statistics_bad_input(func, kwargs, name):
    with pytest.raises(ValueError, match=name):
        func(**kwargs)


# ----------------------------------------------------------------------------- PBO


def plain_sharpe(v: np.ndarray) -> float:
    if np.ptp(v) == 0:  # module convention for a subset where the column is constant
        return 0.0 if v[0] == 0 else math.copysign(math.inf, v[0])
    return float(v.mean() / np.std(v, ddof=1))


def reference_cscv(x: np.ndarray, n_blocks: int):
    """Slow CSCV written plainly from the paper, one split and one column at a time."""
    n_cfg = x.shape[1]
    blocks = np.array_split(np.arange(x.shape[0]), n_blocks)
    logits, winners, is_best, oos_best = [], [], [], []
    for chosen in combinations(range(n_blocks), n_blocks // 2):
        is_rows = np.concatenate([blocks[b] for b in chosen])
        oos_rows = np.concatenate([blocks[b] for b in range(n_blocks) if b not in chosen])
        sr_is = [plain_sharpe(x[is_rows, j]) for j in range(n_cfg)]
        sr_oos = [plain_sharpe(x[oos_rows, j]) for j in range(n_cfg)]
        best = 0
        for j in range(1, n_cfg):
            if sr_is[j] > sr_is[best]:  # strict: the first maximum wins
                best = j
        target = sr_oos[best]
        below = sum(1 for v in sr_oos if v < target)
        tied = sum(1 for v in sr_oos if v == target)  # includes the winner itself
        rank = below + (tied + 1) / 2  # 1 = worst, average rank over ties
        w = rank / (n_cfg + 1)
        logits.append(math.log(w / (1 - w)))
        winners.append(best)
        is_best.append(sr_is[best])
        oos_best.append(target)
    return np.array(logits), np.array(winners), np.array(is_best), np.array(oos_best)


def small_matrix_with_ties() -> np.ndarray:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((203, 6)) * 0.01  # 203 rows: uneven blocks
    x[:, :2] += [0.0005, 0.001]  # small edges so the duplicated columns often win
    x[:, 4] = x[:, 1]  # duplicate configuration -> exact ties in IS and OOS
    x[:, 3] = x[:, 0]
    half = sum(len(b) for b in np.array_split(np.arange(203), 8)[:4])
    x[:half, 5] = 0.0  # flat (exactly 0) over the first four of eight blocks
    return x


def test_pbo_matches_loop_reference_including_ties():
    x = small_matrix_with_ties()
    res = pbo(x, n_blocks=8)
    logits, winners, is_best, oos_best = reference_cscv(x, 8)
    assert res.n_splits == 70 == len(res.logits)
    np.testing.assert_array_equal(res.winners, winners)
    np.testing.assert_allclose(res.logits, logits, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.degradation.is_sharpe, is_best, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.degradation.oos_sharpe, oos_best, rtol=1e-10, atol=1e-12)
    assert res.pbo == np.mean(logits <= 0)
    assert res.prob_oos_loss == np.mean(oos_best < 0)
    slope, intercept = np.polyfit(is_best, oos_best, 1)
    assert res.degradation.slope == pytest.approx(slope, abs=1e-9)
    assert res.degradation.intercept == pytest.approx(intercept, abs=1e-9)
    # The ties really were exercised: some OOS ranks are half-integers.
    ranks = (x.shape[1] + 1) / (1 + np.exp(-res.logits))
    assert np.any(np.abs(ranks - np.round(ranks)) > 0.4)
    assert not np.any(np.isin(res.winners, [3, 4]))  # duplicates never beat the first copy


def test_pbo_subset_constant_columns_follow_documented_convention():
    # Column 2 is constant at a nonzero value over the last four of eight blocks: its
    # Sharpe there is +inf (0 would be used if flat at 0, as column 5 is over the
    # first half); the +inf split is left out of the OLS fit.
    x = small_matrix_with_ties()
    half = sum(len(b) for b in np.array_split(np.arange(203), 8)[:4])
    x[half:, 2] = 0.0013
    res = pbo(x, n_blocks=8)
    logits, winners, is_best, oos_best = reference_cscv(x, 8)
    np.testing.assert_array_equal(res.winners, winners)
    np.testing.assert_allclose(res.logits, logits, rtol=0, atol=1e-12)
    assert np.isposinf(res.degradation.is_sharpe).sum() == np.isposinf(is_best).sum() == 1
    assert res.winners[-1] == 2  # the last split has IS = the last four blocks
    ok = np.isfinite(is_best)
    slope, intercept = np.polyfit(is_best[ok], oos_best[ok], 1)
    assert res.degradation.slope == pytest.approx(slope, abs=1e-9)
    assert res.degradation.intercept == pytest.approx(intercept, abs=1e-9)


def test_pbo_chunked_equals_unchunked(monkeypatch):
    x = small_matrix_with_ties()
    full = pbo(x, n_blocks=8)
    monkeypatch.setattr(of, "_CHUNK_CELLS", 25)  # 4 splits per chunk, last chunk partial
    chunked = pbo(x, n_blocks=8)
    np.testing.assert_array_equal(chunked.logits, full.logits)
    np.testing.assert_array_equal(chunked.winners, full.winners)


def test_pbo_n_splits_for_16_blocks_and_dataframe_names():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.standard_normal((64, 3)), columns=["fast", "mid", "slow"])
    res = pbo(df)
    assert isinstance(res, PBOResult)
    assert res.n_splits == 12870 == math.comb(16, 8) == len(res.logits)
    assert res.n_blocks == 16 and res.n_configs == 3
    assert res.config_names == ("fast", "mid", "slow")
    np.testing.assert_array_equal(res.logits, pbo(df.to_numpy()).logits)
    text = res.summary()
    assert f"{res.pbo:.3f}" in text and "12870" in text
    assert any(name in text for name in res.config_names)
    assert repr(res).startswith("PBOResult(pbo=")


def test_pbo_is_one_half_on_noise():
    # One noise matrix gives a PBO with a standard deviation of about 0.15 (the
    # splits share data), so average over eight seeds: 0.54 with these seeds.
    values = [pbo(np.random.default_rng(s).standard_normal((1000, 50))).pbo for s in range(8)]
    assert np.mean(values) == pytest.approx(0.5, abs=0.1)
    assert 0.2 < np.median(values) < 0.8


def test_pbo_near_zero_with_a_genuine_edge():
    x = np.random.default_rng(2).standard_normal((1000, 50))
    x[:, 17] += 0.3  # edge in every period
    res = pbo(x)
    assert res.pbo <= 0.05
    assert res.prob_oos_loss == 0.0
    assert np.mean(res.winners == 17) > 0.95
    assert np.all(res.logits[res.winners == 17] == pytest.approx(math.log(50)))


def test_pbo_near_one_when_in_sample_and_out_of_sample_are_mirror_images():
    # Every column has a full-sample mean of exactly 0, so the IS sum of a column is
    # minus its OOS sum: the best IS configuration is among the worst OOS.
    z = np.random.default_rng(3).standard_normal((1000, 50))
    res = pbo(z - z.mean(axis=0))
    assert res.pbo >= 0.95
    assert res.prob_oos_loss >= 0.95
    assert res.degradation.slope < -0.5


def test_pbo_plot_returns_figure():
    plt = pytest.importorskip("matplotlib.pyplot")
    res = pbo(np.random.default_rng(4).standard_normal((200, 10)), n_blocks=8)
    fig = res.plot()
    try:
        assert len(fig.axes) == 2
        assert fig.axes[0].patches  # histogram bars
        assert len(fig.axes[1].collections[0].get_offsets()) == res.n_splits
    finally:
        plt.close(fig)


def _noise(t: int = 100, n: int = 4) -> np.ndarray:
    return np.random.default_rng(5).standard_normal((t, n))


def _with(value, i, j):
    x = _noise()
    x[i, j] = value
    return x


def _flat_column():
    x = _noise()
    x[:, 2] = 0.01
    return x


@pytest.mark.parametrize(
    ("kwargs", "name", "given"),
    [
        ({"returns_matrix": _with(np.nan, 3, 1)}, "returns_matrix", "nan"),
        ({"returns_matrix": _with(np.inf, 0, 0)}, "returns_matrix", "inf"),
        ({"returns_matrix": _noise(10), "n_blocks": 16}, "returns_matrix", "10 rows"),
        ({"returns_matrix": _noise(3), "n_blocks": 2}, "returns_matrix", "3 rows"),
        ({"returns_matrix": _noise(), "n_blocks": 15}, "n_blocks", "got 15; use 16"),
        ({"returns_matrix": _noise(), "n_blocks": 0}, "n_blocks", "got 0"),
        ({"returns_matrix": _noise(), "n_blocks": -4}, "n_blocks", "got -4"),
        ({"returns_matrix": _noise(), "n_blocks": 8.0}, "n_blocks", "got 8.0"),
        ({"returns_matrix": _noise(), "n_blocks": True}, "n_blocks", "got True"),
        ({"returns_matrix": _noise(100, 1)}, "returns_matrix", "got 1"),
        ({"returns_matrix": _noise()[:, 0]}, "returns_matrix", "1-D"),
        ({"returns_matrix": np.zeros((20, 2, 2))}, "returns_matrix", "3-D"),
        ({"returns_matrix": _flat_column()}, "returns_matrix", "['column 2']"),
        ({"returns_matrix": [["a", "b"], ["c", "d"]]}, "returns_matrix", "numeric"),
    ],
)
def test_pbo_bad_input(kwargs, name, given):
    with pytest.raises(ValueError, match=name) as err:
        pbo(**kwargs)
    assert given in str(err.value)


def test_pbo_zero_variance_names_dataframe_column():
    df = pd.DataFrame(_flat_column(), columns=["a", "b", "cash", "d"])
    with pytest.raises(ValueError, match=r"returns_matrix.*\['cash'\]"):
        pbo(df, n_blocks=4)


# ----------------------------------------------------------------------------- module


def test_docstring_examples_hold():
    assert doctest.testmod(of, optionflags=doctest.ELLIPSIS).failed == 0


def test_module_uses_numpy_and_scipy_only():
    tree = ast.parse(Path(of.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "torch" not in imported and "pandas" not in imported
    assert {"numpy", "scipy"} <= imported
