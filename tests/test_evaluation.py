"""Tests for quantgan.evaluation: evaluate -> Report (table, best per row, figures, HTML)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import quantgan as qg
from quantgan import metrics
from quantgan.evaluation import Report, evaluate

N, P, MAX_LAG = 2000, 16, 60
ROOT = Path(__file__).resolve().parents[1]


def garch_paths(n: int, n_paths: int, seed: int) -> np.ndarray:
    """GARCH(1,1) with normal innovations, unit unconditional variance: (n, n_paths)."""
    rng = np.random.default_rng(seed)
    omega, alpha, beta, burn = 0.05, 0.1, 0.85, 300
    z = rng.standard_normal((n + burn, n_paths))
    s2 = np.full(n_paths, omega / (1 - alpha - beta))
    out = np.empty_like(z)
    for t in range(n + burn):
        out[t] = np.sqrt(s2) * z[t]
        s2 = omega + alpha * out[t] ** 2 + beta * s2
    return 0.01 * out[burn:]


@pytest.fixture(scope="module")
def real() -> pd.Series:
    return pd.Series(
        garch_paths(N, 1, seed=1)[:, 0], index=pd.bdate_range("2000-01-03", periods=N), name="r"
    )


@pytest.fixture(scope="module")
def report(real) -> Report:
    garch = garch_paths(N, P, seed=2)
    iid = np.random.default_rng(3).normal(0, real.std(), size=(N, P))
    return evaluate(real, garch, iid, names=["garch", "iid"], max_lag=MAX_LAG)


# --------------------------------------------------------------------------- #
# The table and the best model per row
# --------------------------------------------------------------------------- #
def test_to_frame_rows_columns_and_values(report, real):
    table = report.to_frame()
    assert list(table.columns) == ["real", "garch", "iid"]
    assert list(table.index) == [
        "emd_1", "emd_5", "emd_20", "emd_100", "acf_r", "acf_abs", "acf_sq", "leverage",
        "variance_ratio_5", "variance_ratio_20", "variance_ratio_100", "drawdown_emd", "mean", "std", "skew", "excess_kurtosis", "hill_left", "hill_right",
        "var_1pct", "es_1pct", "diversity_collapse_share", "diversity_mean_abs_corr",
        "memorization_copy_share", "memorization_ratio", "memorization_ratio_shape",
    ]  # fmt: skip
    # The real column: independent computations; distances have no real value.
    assert table.at["excess_kurtosis", "real"] == pytest.approx(scipy.stats.kurtosis(real))
    assert table.at["std", "real"] == pytest.approx(real.std(ddof=1))
    assert table.at["mean", "real"] == pytest.approx(real.mean())
    assert table.loc[["emd_1", "acf_abs", "leverage"], "real"].isna().all()
    # Model columns are metrics.stylized_facts, unchanged.
    garch = report.paths["garch"]
    facts = metrics.stylized_facts(real, garch, max_lag=MAX_LAG)
    for row in ("emd_20", "acf_abs", "leverage", "drawdown_emd"):
        assert table.at[row, "garch"] == pytest.approx(facts[row])
    assert table.at["hill_left", "garch"] == pytest.approx(facts["hill_left_synthetic"])
    vr_real = metrics.variance_ratio(real, lags=[20])[20]
    assert table.at["variance_ratio_20", "real"] == pytest.approx(vr_real)
    vr_garch = metrics.variance_ratio(garch, lags=[100])[100].mean()
    assert table.at["variance_ratio_100", "garch"] == pytest.approx(vr_garch)
    # The caller gets a copy.
    table.loc["acf_abs"] = -1.0
    assert report.to_frame().at["acf_abs", "garch"] > 0


def test_best_per_row_garch_beats_iid_on_clustering_and_tails(report):
    table, best = report.to_frame(), report.best()
    assert table.at["acf_abs", "garch"] < 0.03 < table.at["acf_abs", "iid"]
    assert best["acf_abs"] == "garch"
    assert best["acf_sq"] == "garch"
    assert best["excess_kurtosis"] == "garch"  # GARCH-normal has fat tails, iid has none
    assert best["memorization_ratio"] is None  # informational rows are not ranked
    assert best["memorization_ratio_shape"] is None
    mask = report.best_mask()
    assert mask.loc["acf_abs"].tolist() == [True, False]
    assert report.wins()["garch"] == int(mask["garch"].sum())


def test_statistics_rows_pick_the_value_closest_to_real_not_the_lowest(real):
    rng = np.random.default_rng(0)
    sd = real.std()
    small = rng.normal(0, 0.5 * sd, size=(N, 4))  # lowest std, far from real
    near = rng.normal(0, 1.05 * sd, size=(N, 4))
    rep = evaluate(real, small, near, names=["small", "near"], max_lag=MAX_LAG)
    table = rep.to_frame()
    assert table.at["std", "small"] < table.at["std", "near"]
    assert rep.best()["std"] == "near"
    assert rep.best()["var_1pct"] == "near"


def test_rows_that_every_model_ties_on_have_no_winner(report):
    # No collapsed paths in either model: a tie everywhere, so no one wins the row.
    assert report.to_frame().loc["diversity_collapse_share", ["garch", "iid"]].eq(0).all()
    assert report.best()["diversity_collapse_share"] is None
    assert not report.best_mask().loc["diversity_collapse_share"].any()


def test_summary_is_readable_text(report):
    text = report.summary()
    assert "2 model(s) against 2000 historical returns from 2000-01-03" in text
    assert re.search(r"acf_abs\s+\S+\*\s+\S+\s+lower", text)  # garch starred, iid not
    assert "rows won: garch" in text
    assert "Report: 2 model(s)" in repr(report)


def test_same_seed_same_table(real):
    paths = garch_paths(N, 4, seed=5)
    a = evaluate(real, paths, max_lag=MAX_LAG, random_state=3).to_frame()
    b = evaluate(real, paths, max_lag=MAX_LAG, random_state=3).to_frame()
    pd.testing.assert_frame_equal(a, b)


def test_classifier_scores_add_rows_with_a_real_baseline(real):
    rep = evaluate(real, garch_paths(N, 4, seed=6), max_lag=MAX_LAG, classifier_scores=True)
    table = rep.to_frame()
    assert 0 <= table.at["discriminative", "model 1"] <= 0.5
    assert table.at["predictive", "real"] > 0  # train-on-real forecast error
    assert np.isnan(table.at["discriminative", "real"])


def test_single_path_is_allowed_and_diversity_is_nan(real):
    rep = evaluate(real, garch_paths(N, 1, seed=7)[:, 0], max_lag=MAX_LAG)
    table = rep.to_frame()
    assert np.isnan(table.at["diversity_mean_abs_corr", "model 1"])
    assert np.isfinite(table.at["acf_abs", "model 1"])


# --------------------------------------------------------------------------- #
# Augmenters: fitted ones are sampled, unfitted ones fitted first
# --------------------------------------------------------------------------- #
def test_unfitted_augmenters_are_fitted_on_real_and_timed(garch_returns):
    gauss, boot, garch = qg.GaussianAugmenter(), qg.BootstrapAugmenter(), qg.GARCHAugmenter()
    rep = evaluate(garch_returns, gauss, boot, garch, n_paths=7, max_lag=50)
    assert rep.names == ["GaussianAugmenter", "BootstrapAugmenter", "GARCHAugmenter"]
    assert gauss.mean_[0] == pytest.approx(garch_returns.mean())
    assert boot.block_length_ >= 1
    assert "omega" in garch.params_.columns
    assert rep.fit_seconds.notna().all() and (rep.fit_seconds >= 0).all()
    assert rep.sample_seconds.notna().all()
    for X in rep.paths.values():
        assert X.shape == (len(garch_returns), 7)


def test_fitted_augmenter_is_sampled_not_refitted(garch_returns):
    aug = qg.GaussianAugmenter().fit(3 * garch_returns)  # fitted on other data
    before = aug.mean_.copy()
    rep = evaluate(garch_returns, aug, n_paths=20, max_lag=50, random_state=4)
    np.testing.assert_array_equal(aug.mean_, before)
    assert np.isnan(rep.fit_seconds["GaussianAugmenter"])
    X = rep.paths["GaussianAugmenter"]
    expected = aug.sample(20, n_timesteps=len(garch_returns), random_state=4).to_numpy()
    np.testing.assert_array_equal(X, expected)
    assert rep.to_frame().at["std", "GaussianAugmenter"] == pytest.approx(
        3 * garch_returns.std(), rel=0.05
    )


def test_default_names_number_duplicates_and_paths(garch_returns):
    paths = np.random.default_rng(0).normal(0, 0.01, (len(garch_returns), 3))
    rep = evaluate(
        garch_returns, qg.GaussianAugmenter(), paths, qg.GaussianAugmenter(), n_paths=3, max_lag=50
    )
    assert rep.names == ["GaussianAugmenter (1)", "model 2", "GaussianAugmenter (2)"]


# --------------------------------------------------------------------------- #
# Bad input
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"names": ["a"]}, "names has 1 entries but 2 models"),
        ({"names": ["a", "a"]}, "names must be unique"),
        ({"names": ["a", "real"]}, "other than 'real'"),
        ({"names": "ab"}, "list of strings"),
        ({"n_paths": 0}, "n_paths must be a positive int"),
    ],
)
def test_bad_arguments(real, kwargs, message):
    paths = garch_paths(N, 2, seed=8)
    with pytest.raises(ValueError, match=message):
        evaluate(real, paths, paths, max_lag=MAX_LAG, **kwargs)


def test_nothing_to_evaluate(real):
    with pytest.raises(ValueError, match="nothing to evaluate"):
        evaluate(real)


def test_nan_paths_are_named(real):
    paths = garch_paths(N, 3, seed=9)
    paths[10, 1] = np.nan
    paths[20, 1] = np.inf
    with pytest.raises(ValueError, match=r"'bad' has 2 NaN or infinite value\(s\) in 1 of 3 paths"):
        evaluate(real, paths, names=["bad"], max_lag=MAX_LAG)


def test_nan_in_real(real):
    broken = real.copy()
    broken.iloc[5] = np.nan
    with pytest.raises(ValueError, match=r"real has 1 NaN.*dropna"):
        evaluate(broken, garch_paths(N, 2, seed=1), max_lag=MAX_LAG)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: garch_paths(N, 3, seed=1).T, "looks transposed"),
        (lambda: garch_paths(40, 3, seed=1), "paths of 40 steps"),
        (lambda: np.zeros((N, 2, 2)), "must be 2-D"),
        (lambda: np.ones((N, 2)), "constant paths"),
        (
            lambda: pd.DataFrame(garch_paths(N, 2, seed=1), index=pd.date_range("1900", periods=N, freq="MS")),
            "sampled every 31 days but real every 1 days",
        ),
        (
            lambda: pd.DataFrame(
                garch_paths(N, 4, seed=1), columns=pd.MultiIndex.from_product([[0, 1], ["A", "B"]])
            ),
            "holds 2 assets",
        ),
    ],
)  # fmt: skip
def test_bad_paths(real, make, message):
    with pytest.raises(ValueError, match=message):
        evaluate(real, make(), max_lag=MAX_LAG)


def test_bad_real(real):
    paths = garch_paths(N, 2, seed=1)
    with pytest.raises(ValueError, match="one asset at a time"):
        evaluate(pd.DataFrame({"a": real, "b": real}), paths, max_lag=MAX_LAG)
    with pytest.raises(ValueError, match="real has 50 returns"):
        evaluate(real.iloc[:50], paths, max_lag=MAX_LAG)
    with pytest.raises(ValueError, match="looks like prices"):
        evaluate(100 + real.cumsum(), paths, max_lag=MAX_LAG)


# --------------------------------------------------------------------------- #
# Figures and HTML
# --------------------------------------------------------------------------- #
def test_plot_returns_figures_with_data(report, real):
    figs = report.plot()
    assert set(figs) == {"distribution", "qq", "acf", "leverage", "fan", "drawdowns"}
    acf_axes = [ax for ax in figs["acf"].axes if ax.get_visible()]
    assert len(acf_axes) == 3
    for ax in acf_axes:
        labels = [line.get_label() for line in ax.get_lines()]
        assert {"real", "garch", "iid"} <= set(labels)
        assert ax.collections, "bootstrap band missing"
    # The |r| panel's real line is the ACF of the real data; the band contains it.
    ax = acf_axes[1]
    real_line = next(line for line in ax.get_lines() if line.get_label() == "real")
    np.testing.assert_allclose(real_line.get_ydata(), metrics.acf(real, MAX_LAG, "abs")[1:])
    real_curve, lo, hi = report._bands()["abs"]
    assert np.all(lo <= real_curve + 1e-12) and np.all(real_curve <= hi + 1e-12)
    assert np.mean(hi[1:] - lo[1:]) > 0.01
    # The garch model's mean |r| ACF sits inside the band more often than the iid one.
    inside = {
        line.get_label(): np.mean((line.get_ydata() >= lo[1:]) & (line.get_ydata() <= hi[1:]))
        for line in ax.get_lines()
        if line.get_label() in ("garch", "iid")
    }
    assert inside["garch"] > inside["iid"]
    fan_axes = [ax for ax in figs["fan"].axes if ax.get_visible()]
    assert [ax.get_title() for ax in fan_axes] == ["garch", "iid"]
    assert all(len(ax.get_lines()) == 2 and len(ax.collections) == 2 for ax in fan_axes)
    for key in ("distribution", "qq", "leverage", "drawdowns"):
        assert any(ax.get_lines() or ax.patches or ax.collections for ax in figs[key].axes), key


def test_to_html_is_self_contained_and_highlights_best(report, tmp_path):
    path = report.to_html(tmp_path / "sub" / "report.html")
    assert path == tmp_path / "sub" / "report.html"
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temp files left
    text = path.read_text(encoding="utf-8")
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', text)) >= 6
    assert not re.search(r"(src|href)=\"(?!data:)", text)  # nothing fetched from elsewhere
    assert "http://" not in text and "https://" not in text
    for row in report.to_frame().index:
        assert f"<th>{row}</th>" in text
    assert text.count('class="best"') == int(report.best_mask().to_numpy().sum())
    # In the acf_abs row the highlighted cell is garch's (columns: metric, real, garch, iid).
    row = re.search(r"<tr><th>acf_abs</th>(.*?)</tr>", text).group(1)
    cells = re.findall(r"<td( class=\"best\")?>", row)
    assert cells[:3] == ["", ' class="best"', ""]
    assert "volatility clustering" in text  # the plain-words meaning of the rows


# --------------------------------------------------------------------------- #
# The quality benchmark's smoke run
# --------------------------------------------------------------------------- #
def load_quality():
    """benchmarks/quality.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("quality", ROOT / "benchmarks" / "quality.py")
    quality = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(quality)
    return quality


def test_quality_benchmark_quick_run(tmp_path, capsys):
    quality = load_quality()
    out = tmp_path / "quality.html"
    argv = ["--quick", "--period", "2009-2018", "--wgan-budget", "2", "--n-paths", "20"]
    reports = quality.main([*argv, "--output", str(out)])
    printed = capsys.readouterr().out
    rep = reports["2009-2018"]
    assert rep.names == ["WGAN", "GARCH-t", "GARCH-normal", "bootstrap", "Gaussian"]
    assert rep.real.index[0] == pd.Timestamp("2009-05-01")
    assert rep.fit_seconds.notna().all()
    assert all(X.shape == (rep.real.size, 20) for X in rep.paths.values())
    assert "| acf_abs |" in printed and "Quant GANs GARCH(1,1)" in printed
    assert "| WGAN | " in printed and "generator steps" in printed
    assert out.exists() and out.read_text(encoding="utf-8").count("<img") >= 6


def test_quality_benchmark_model_choice(capsys):
    quality = load_quality()
    argv = ["--quick", "--period", "2009-2018", "--wgan-budget", "2", "--n-paths", "20",
            "--models", "wgan-conv,wgan-held,wgan-moments,wgan-gjr,gjr-t,gaussian"]  # fmt: skip
    rep = quality.main(argv)["2009-2018"]
    assert rep.names == [
        "WGAN-conv", "WGAN-held", "WGAN-moments", "WGAN-GJR", "GJR-GARCH-t", "Gaussian",
    ]  # fmt: skip
    printed = capsys.readouterr().out
    assert "WGAN-conv: " in printed and "generator steps" in printed
    assert "WGAN-held: " in printed and "WGAN-moments: " in printed
    assert "Quant GANs GARCH(1,1)" not in printed  # needs the WGAN and both GARCH rows
    with pytest.raises(SystemExit, match="unknown model 'arima'"):
        quality.main(["--quick", "--models", "arima"])


def test_quality_benchmark_on_the_nasdaq(capsys):
    quality = load_quality()
    argv = ["--quick", "--series", "nasdaq", "--period", "2009-2018", "--n-paths", "20",
            "--models", "garch-normal,garch-t,gaussian"]  # fmt: skip
    rep = quality.main(argv)["2009-2018"]
    nasdaq = qg.log_returns(qg.load_nasdaq()).loc["2009-05-01":"2018-12-31"]
    np.testing.assert_allclose(np.asarray(rep.real).ravel(), nasdaq.to_numpy())
    printed = capsys.readouterr().out
    assert "## NASDAQ Composite 2009-2018" in printed and "S&P 500" not in printed
    assert "Quant GANs GARCH(1,1)" not in printed  # the paper's table is the S&P 500's


def test_quality_benchmark_spread_over_seeds(capsys):
    quality = load_quality()
    argv = ["--quick", "--period", "2009-2018", "--n-paths", "20",
            "--models", "bootstrap,gaussian", "--seeds", "0,1"]  # fmt: skip
    reports = quality.main(argv)
    assert set(reports) == {("2009-2018", 0), ("2009-2018", 1)}
    printed = capsys.readouterr().out
    assert "spread over seeds [0, 1]" in printed
    # The spread row of the Gaussian's emd_1: mean [min, max] of the two seeds' values.
    values = [reports["2009-2018", s].to_frame().at["emd_1", "Gaussian"] for s in (0, 1)]
    expected = f"{np.mean(values):.4g} [{min(values):.4g}, {max(values):.4g}]"
    spread = printed.split("spread over seeds")[1]
    row = next(line for line in spread.splitlines() if line.startswith("| emd_1 |"))
    assert expected in row


def test_quality_benchmark_out_of_sample(capsys):
    quality = load_quality()
    argv = ["--quick", "--period", "2009-2018", "--n-paths", "20",
            "--models", "gaussian,bootstrap", "--train-until", "2016-06-30"]  # fmt: skip
    rep = quality.main(argv)["2009-2018"]
    printed = capsys.readouterr().out
    returns = qg.log_returns(qg.load_sp500()).loc["2009-05-01":"2018-12-31"]
    train, test = returns.loc[:"2016-06-30"], returns.loc["2016-07-01":]
    # Scored against the days after the cut only, with paths as long as them ...
    assert rep.real.index[0] == test.index[0] and rep.real.size == test.size
    assert all(X.shape == (test.size, 20) for X in rep.paths.values())
    # ... by models fitted on the days up to it (the Gaussian's mean is the train mean).
    gaussian = qg.GaussianAugmenter().fit(train)
    assert np.allclose(rep.paths["Gaussian"], gaussian.sample(20, test.size, random_state=0))
    assert rep.fit_seconds.notna().all()
    assert f"fitted on {train.size} days" in printed and "out of sample" in printed
    with pytest.raises(SystemExit, match="both parts need at least 500"):
        quality.main([*argv[:-1], "2018-06-30"])


def test_quality_benchmark_wgan_params():
    quality = load_quality()
    params = quality.parse_params(["validation_fraction=0.2", "memory=(16.0, 64.0)",
                                   "generator=tcn", "patience=None"])  # fmt: skip
    assert params == {"validation_fraction": 0.2, "memory": (16.0, 64.0),
                      "generator": "tcn", "patience": None}  # fmt: skip
    models = quality.make_models(2, 0, "wgan,wgan-held,gaussian", params)
    for name in ("WGAN", "WGAN-held"):
        got = models[name].get_params()
        assert got["validation_fraction"] == 0.2 and got["memory"] == (16.0, 64.0)
        assert got["time_budget"] == 2 and got["random_state"] == 0
    # The pinned parameters of an earlier default survive the ones not named.
    assert models["WGAN-held"].get_params()["memory_init"] == "acf-moments"
    assert "validation_fraction" not in models["Gaussian"].get_params()
    with pytest.raises(SystemExit, match="NAME=VALUE"):
        quality.parse_params(["validation_fraction"])
    with pytest.raises(SystemExit, match="no parameter"):
        quality.main(["--quick", "--wgan-param", "learning_rate=1e-3"])


def test_quality_benchmark_recentred_emd(capsys):
    quality = load_quality()
    rng = np.random.default_rng(3)
    real = pd.Series(rng.standard_t(4, 1500) * 0.01 + 0.0004,
                     index=pd.bdate_range("2001-01-01", periods=1500))  # fmt: skip
    X = rng.standard_t(4, (1500, 30)) * 0.01
    rep = evaluate(real, X, X + 0.002, names=["A", "A drifting"], n_paths=30)
    table = rep.to_frame()
    assert table.at["emd_100", "A drifting"] > 3 * table.at["emd_100", "A"]
    fixed = quality.recentred_emd(rep)
    # Without the drift the two are one model: the same EMD on every lag.
    assert np.allclose(fixed["A"].iloc[:4], fixed["A drifting"].iloc[:4], rtol=1e-6)
    assert fixed.at["drift gap", "A drifting"] - fixed.at["drift gap", "A"] == pytest.approx(0.002)
    assert fixed.at["drift gap", "A"] == pytest.approx(X.mean() - real.mean())
    argv = ["--quick", "--period", "2009-2018", "--n-paths", "20",
            "--models", "gaussian", "--recentre"]  # fmt: skip
    quality.main(argv)
    printed = capsys.readouterr().out
    assert "without the drift" in printed and "| drift gap |" in printed


def test_quality_benchmark_rolling_origins(capsys):
    quality = load_quality()
    argv = ["--quick", "--period", "2009-2018", "--n-paths", "20", "--models",
            "gaussian,bootstrap", "--train-until", "2015-12-31,2016-06-30"]  # fmt: skip
    reports = quality.main(argv)
    assert set(reports) == {("2009-2018", "2015-12-31", 0), ("2009-2018", "2016-06-30", 0)}
    starts = [reports["2009-2018", o, 0].real.index[0] for o in ("2015-12-31", "2016-06-30")]
    assert [f"{d:%Y-%m-%d}" for d in starts] == ["2016-01-04", "2016-07-01"]
    printed = capsys.readouterr().out
    assert "rows won over 2 runs" in printed
    # Each row's cell counts the runs in which that model had the lowest distance.
    frames = [rep.to_frame() for rep in reports.values()]
    for row in ("emd_1", "acf_abs"):
        wins = sum(f.at[row, "bootstrap"] < f.at[row, "Gaussian"] for f in frames)
        line = next(
            x for x in printed.split("rows won over")[1].splitlines() if x.startswith(f"| {row} |")
        )
        assert line.split("|")[2:4] == [f" {2 - wins}/2 ", f" {wins}/2 "]
    # With the WGAN and both GARCH fits, a last column counts the runs the WGAN beat both.
    # Here its paths have the right shape but a drift, GARCH-normal's the right drift but
    # 1.3x the scale: the drift decides the raw 100-day EMD, not the recentred one.
    rng = np.random.default_rng(5)
    real = pd.Series(rng.normal(0, 0.01, 1200), index=pd.bdate_range("2001-01-01", periods=1200))
    X = rng.normal(0, 0.01, (1200, 20))
    fake = evaluate(
        real, X + 0.003, X * 1.3, X * 2, names=["WGAN", "GARCH-normal", "GARCH-t"], n_paths=20
    )
    lines = quality.tally({0: fake}, recentre=True).splitlines()
    raw = next(x for x in lines if x.startswith("| emd_100 |"))
    assert raw.split("|")[2:6] == [" 0/1 ", " 1/1 ", " 0/1 ", " 0/1 "]
    fixed = next(x for x in lines if x.startswith("| emd_100 drift out |"))
    assert fixed.split("|")[2:6] == [" 1/1 ", " 0/1 ", " 0/1 ", " 1/1 "]
