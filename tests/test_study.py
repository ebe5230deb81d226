"""Tests of the overfitting study and the augmented-forecaster experiment (quantgan/study.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from sklearn.exceptions import NotFittedError

import quantgan as qg
from quantgan.backtest import sma_crossover
from quantgan.study import (
    RESULT_COLUMNS,
    OverfittingStudy,
    StudySummary,
    _pbo_synthetic,
    augmented_forecaster_experiment,
    momentum,
)

NOISE_GRID = {"lookback": [3, 5, 10, 20, 40, 60, 80, 120], "skip": [0, 2, 5], "long_only": [False]}


def noise(n: int, seed: int, drift: float = 0.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(
        rng.normal(drift, 0.01, n), index=pd.bdate_range("2000-01-03", periods=n), name="r"
    )


def fixed(kind: str):
    """A signal factory with one planted winner on an up-trending market: "long"."""

    def signal(close: np.ndarray) -> np.ndarray:
        n, m = close.shape
        if kind == "long":
            return np.ones((n, m))
        if kind == "rarely":  # long one bar in ten
            return np.where(np.arange(n)[:, None] % 10 == 0, 1.0, 0.0) * np.ones((n, m))
        if kind == "alternate":  # long on even bars, short on odd ones
            return np.where(np.arange(n)[:, None] % 2 == 0, 1.0, -1.0) * np.ones((n, m))
        return np.where(np.arange(n)[:, None] % 3 == 0, 1.0, 0.0) * np.ones((n, m))

    return signal


def small_study(augmenter=None, **kwargs) -> OverfittingStudy:
    params = {
        "split": 400,
        "holdout": 200,
        "n_splits": 2,
        "n_paths": 30,
        "random_state": 0,
    }
    params.update(kwargs)
    return OverfittingStudy(
        momentum,
        {"lookback": [5, 20, 60], "long_only": [True, False]},
        augmenter if augmenter is not None else qg.GaussianAugmenter(),
        **params,
    )


class SpyAugmenter(qg.GaussianAugmenter):
    """Records what each (cloned) instance was fitted on, in a class-level list."""

    seen: list = []  # noqa: RUF012 - shared across clones on purpose

    def fit(self, X, y=None):
        type(self).seen.append(X.copy())
        return super().fit(X)


# -- momentum signal -------------------------------------------------------------------------
def test_momentum_by_hand():
    close = np.array([[10.0], [11.0], [12.0], [11.5], [10.0], [10.5], [12.0]])
    # lookback 2: compare close[t] with close[t-2]
    assert momentum(2)(close).ravel().tolist() == [0, 0, 1, 1, 0, 0, 1]
    assert momentum(2, long_only=False)(close).ravel().tolist() == [0, 0, 1, 1, -1, -1, 1]
    # skip 1: compare close[t-1] with close[t-3]; flat until bar 3
    assert momentum(2, skip=1, long_only=False)(close).ravel().tolist() == [0, 0, 0, 1, 1, -1, -1]
    # several paths at once, and too short a panel stays flat
    panel = np.column_stack([close[:, 0], close[::-1, 0]])
    assert momentum(2)(panel)[:, 1].tolist() == [0, 0, 0, 1, 1, 0, 0]
    assert not momentum(10)(close).any()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"lookback": 0}, "lookback must be a positive int"), ({"skip": -1}, "skip must be")],
)
def test_momentum_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        momentum(**kwargs)


# -- the results table -----------------------------------------------------------------------
def test_results_table_columns_and_split_layout():
    r = noise(1000, 1)
    study = small_study().fit(r)
    res = study.results_
    assert tuple(res.columns) == RESULT_COLUMNS
    assert len(res) == 4 and res["method"].tolist() == ["history", "augmented"] * 2
    # rolling windows of 400 + 200 bars; the last hold-out ends with the data
    assert study.splits_[["selection_start", "holdout_start", "holdout_end"]].values.tolist() == [
        [200, 600, 800],
        [400, 800, 1000],
    ]
    assert res["holdout_end"].iloc[-1] == r.index[-1]
    assert (res["selection_end"] < res["holdout_start"]).all()
    np.testing.assert_allclose(res["gap"], res["is_sharpe"] - res["oos_sharpe"])
    assert res["oos_percentile"].between(0, 1).all()
    assert res["dsr"].dropna().between(0, 1).all()
    assert res[["pbo_history", "pbo_synthetic"]].stack().between(0, 1).all()
    # the two choices are what they claim: best IS Sharpe, best robust synthetic score
    grid = study.grid_results_
    assert len(grid) == 2 * 6
    for split, sub in grid.groupby("split"):
        rows = res[res["split"] == split].set_index("method")
        assert rows.loc["history", "config"] == sub.loc[sub["is_sharpe"].idxmax(), "config"]
        assert rows.loc["augmented", "config"] == sub.loc[sub["synthetic_score"].idxmax(), "config"]
        assert rows.loc["augmented", "synthetic_score"] == sub["synthetic_score"].max()
    assert set(study.timings_.columns) >= {"fit_augmenter", "backtest_synthetic", "pbo"}
    # the paths check: Gaussian paths keep the selection period's drift and volatility
    sp = study.splits_
    np.testing.assert_allclose(sp["synthetic_vol"], sp["selection_vol"], rtol=0.05)
    np.testing.assert_allclose(sp["synthetic_drift"], sp["selection_drift"], atol=0.1)
    real = r.iloc[400:800]  # the selection period of split 1
    assert sp["selection_vol"].iloc[1] == pytest.approx(real.std() * np.sqrt(252))


def test_quantile_score_is_the_lower_quantile_of_path_sharpes():
    r = noise(700, 2, drift=0.0005)
    med = small_study(n_splits=1, split=500, holdout=None).fit(r)
    low = small_study(n_splits=1, split=500, holdout=None, score="quantile", quantile=0.1).fit(r)
    # same seed, same paths: a 10% quantile is below the median for every configuration
    assert (low.grid_results_["synthetic_score"] < med.grid_results_["synthetic_median"]).all()
    np.testing.assert_allclose(
        low.grid_results_["synthetic_median"], med.grid_results_["synthetic_median"]
    )
    assert med.results_["holdout_start"].iloc[0] == r.index[500]


# -- it measures what it should --------------------------------------------------------------
def test_planted_edge_is_found_by_both_methods():
    # a strong up-drift: always long is the best configuration, on history and on the
    # Gaussian paths fitted to it; the others lose or break even
    r = noise(900, 3, drift=0.0015)
    study = OverfittingStudy(
        fixed,
        {"kind": ["rarely", "alternate", "long", "sometimes"]},
        qg.GaussianAugmenter(),
        split=400,
        holdout=250,
        n_splits=2,
        n_paths=40,
        random_state=0,
    ).fit(r)
    res = study.results_
    assert (res["config"] == "kind=long").all()
    assert (res["oos_sharpe"] > 1).all() and (res["is_sharpe"] > 2).all()  # true SR 2.4
    assert (res["oos_percentile"] >= 2 / 3).all()
    assert (res["dsr"] > 0.95).all()  # significant even after 4 trials
    # every draw of paths agrees on the winner: the augmented choice is not overfit
    assert (res["pbo_synthetic"] == 0).all() and (res["pbo_history"] < 0.1).all()


def test_pure_noise_history_choice_is_inflated_in_sample():
    # 24 momentum configurations on i.i.d. noise: the best in-sample Sharpe is luck, so it
    # does not carry over to the hold-out (positive IS-OOS gap) and the DSR discounts it
    study = OverfittingStudy(
        momentum,
        NOISE_GRID,
        qg.GaussianAugmenter(),
        split=500,
        holdout=250,
        n_splits=6,
        n_paths=40,
        random_state=0,
    ).fit(noise(2000, 0))
    res = study.results_
    hist = res[res["method"] == "history"]
    aug = res[res["method"] == "augmented"]
    assert hist["gap"].mean() > 0.5  # measured 0.77 (0.59-1.38 over seeds 0-5)
    assert (hist["gap"] > 0).sum() >= 4
    assert hist["is_sharpe"].mean() > 0.9  # E[max] of 24 noisy Sharpes, each s.d. ~0.7
    assert abs(hist["oos_sharpe"].mean()) < 0.6  # no skill out of sample
    assert hist["dsr"].mean() < 0.8
    # selection on the paths is not fooled by the history's luck: smaller gap
    assert aug["is_sharpe"].mean() < hist["is_sharpe"].mean() - 0.5
    assert aug["gap"].mean() < hist["gap"].mean()
    assert 0.2 < hist["pbo_history"].mean() < 0.8


def test_short_wgan_fits_warn_once_for_the_whole_study():
    wgan = qg.WGANAugmenter(
        generator="conv", window=20, hidden=8, latent_dim=8, n_critic=1,
        time_budget=0.3, validation_every=5, verbose=False,
    )  # fmt: skip
    with pytest.warns(qg.TrainingWarning) as caught:
        study = small_study(wgan).fit(noise(900, 1))
    short = [w for w in caught if issubclass(w.category, qg.TrainingWarning)]
    assert len(short) == 1  # a summary, not one warning a split
    steps = [len(aug.history_) for aug in study.augmenters_]
    message = str(short[0].message)
    assert "2 of 2 augmenter fits (splits 0, 1)" in message
    assert f"after {min(steps)}-{max(steps)} generator steps" in message
    assert short[0].filename == __file__  # the user's call, not the library's loop


def test_pbo_synthetic_helper():
    rng = np.random.default_rng(0)
    assert 0.35 < _pbo_synthetic(rng.normal(size=(320, 20)), 16, "median", 0.25, rng) < 0.65
    dominated = rng.normal(size=(320, 20))
    dominated[:, 7] += 3.0
    assert _pbo_synthetic(dominated, 16, "quantile", 0.25, rng) == 0.0
    # 8 blocks: all 70 CSCV splits; fewer paths than blocks: fewer blocks
    assert _pbo_synthetic(dominated[:40], 8, "median", 0.25, rng) == 0.0
    assert np.isnan(_pbo_synthetic(dominated[:1], 8, "median", 0.25, rng))


# -- leakage and reproducibility -------------------------------------------------------------
def test_augmenter_is_cloned_and_fitted_on_each_selection_period_only():
    r = noise(1000, 4)
    SpyAugmenter.seen.clear()
    spy = SpyAugmenter()
    study = OverfittingStudy(
        momentum,
        {"lookback": [5, 20]},
        spy,
        split=300,
        holdout=200,
        n_splits=3,
        n_paths=10,
        random_state=0,
    ).fit(r)
    assert len(SpyAugmenter.seen) == 3
    assert not hasattr(spy, "mean_")  # the caller's augmenter is left unfitted
    assert all(a is not spy for a in study.augmenters_)
    for seen, (_, split) in zip(SpyAugmenter.seen, study.splits_.iterrows(), strict=True):
        a, b = split["selection_start"], split["holdout_start"]
        pd.testing.assert_series_equal(seen, r.iloc[a:b])
        assert seen.index.max() < split["holdout_first"]


def test_ohlcv_history_uses_real_bars_and_fits_on_selection_returns():
    prices = qg.load_sp500().iloc[:900]
    SpyAugmenter.seen.clear()
    study = OverfittingStudy(
        sma_crossover,
        [{"fast": [5], "slow": [20, 50]}, {"fast": [10], "slow": [50]}],
        SpyAugmenter(),
        split="2001-06-01",
        n_paths=20,
        random_state=0,
    ).fit(prices)
    (seen,) = SpyAugmenter.seen
    b = int(np.searchsorted(prices.index, pd.Timestamp("2001-06-01")))
    assert study.results_["holdout_start"].iloc[0] == prices.index[b]
    expected = np.log(prices["Close"]).diff().iloc[1:b]
    np.testing.assert_allclose(seen.to_numpy(), expected.to_numpy())
    assert seen.index.max() < pd.Timestamp("2001-06-01")
    # the history's Sharpe is the numpy engine's on the real bars
    from quantgan.backtest import backtest

    first = study.results_.iloc[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # cash < 0 by a commission-free rounding
        result = backtest(sma_crossover(**first["params"]), [prices.iloc[:b]], sizing="fraction")
    np.testing.assert_allclose(first["is_sharpe"], result.metrics["sharpe"].iloc[0], rtol=1e-9)


def test_same_seed_same_results_other_seed_other_paths():
    r = noise(800, 5)
    a = small_study(random_state=7).fit(r)
    b = small_study(random_state=7).fit(r)
    c = small_study(random_state=8).fit(r)
    pd.testing.assert_frame_equal(a.results_, b.results_)
    pd.testing.assert_frame_equal(a.grid_results_, b.grid_results_)
    assert not np.allclose(a.grid_results_["synthetic_score"], c.grid_results_["synthetic_score"])
    # history figures do not depend on the seed
    np.testing.assert_allclose(a.grid_results_["is_sharpe"], c.grid_results_["is_sharpe"])


# -- summary, plot, html ---------------------------------------------------------------------
def test_summary_plot_and_html(tmp_path):
    study = small_study(n_splits=3, split=300, holdout=200).fit(noise(1000, 6))
    summary = study.summary()
    assert isinstance(summary, StudySummary)
    assert list(summary.table.index) == ["history", "augmented"]
    res = study.results_
    hist = res[res["method"] == "history"]
    assert summary.table.loc["history", "oos_sharpe_mean"] == pytest.approx(
        hist["oos_sharpe"].mean()
    )
    assert summary.n_better + summary.n_same + summary.n_worse == 3
    diff = (
        res[res["method"] == "augmented"]["oos_sharpe"].to_numpy() - hist["oos_sharpe"].to_numpy()
    )
    np.testing.assert_allclose(summary.oos_difference.to_numpy(), diff)
    assert "augmented minus history" in str(summary)
    fig = study.plot()
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    out = study.to_html(tmp_path / "study.html")
    text = out.read_text()
    assert "Overfitting study" in text and "data:image/png;base64" in text
    assert "pbo_synthetic" in text


def test_results_before_fit():
    with pytest.raises(NotFittedError, match="fit"):
        small_study().summary()


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"param_grid": {"lookback": []}}, ValueError, r"param_grid\['lookback'\] is empty"),
        ({"param_grid": {}}, ValueError, "at least 2 configurations"),
        ({"param_grid": {"lookback": [5]}}, ValueError, "at least 2 configurations"),
        ({"param_grid": {"lookback": 5}}, ValueError, "dict of lists"),
        ({"split": 5000}, ValueError, "inside the data"),
        ({"split": 1.5}, ValueError, "strictly between 0 and 1"),
        ({"split": 5}, ValueError, "at least 16 bars"),
        ({"split": "2030-01-01", "n_splits": 1}, ValueError, "outside the data"),
        ({"split": "2001-01-01", "n_splits": 2}, ValueError, "one split"),
        ({"n_splits": 20}, ValueError, "do not fit"),
        ({"holdout": 0}, ValueError, "holdout must be a positive int"),
        ({"n_paths": 0}, ValueError, "n_paths must be a positive int, got 0"),
        ({"n_paths": -3}, ValueError, "n_paths must be a positive int, got -3"),
        ({"n_splits": 0}, ValueError, "n_splits must be a positive int"),
        ({"augmenter": object()}, TypeError, r"lacks \['fit', 'sample'\]"),
        ({"strategy": "momentum"}, TypeError, "signal factory"),
        ({"engine": "backtrader"}, NotImplementedError, "2 hours"),
        ({"engine": "zipline"}, ValueError, "engine must be"),
        ({"score": "mean"}, ValueError, "score must be"),
        ({"quantile": 1.0}, ValueError, "quantile must lie"),
        ({"sizing": "shares"}, ValueError, "sizing must be"),
        ({"n_blocks": 7}, ValueError, "n_blocks must be an even int"),
    ],
)
def test_bad_parameters(kwargs, error, match):
    params = {
        "strategy": momentum,
        "param_grid": {"lookback": [5, 20]},
        "augmenter": qg.GaussianAugmenter(),
        "split": 400,
        "holdout": 200,
        "n_splits": 2,
        "n_paths": 10,
    }
    params.update(kwargs)
    study = OverfittingStudy(
        params.pop("strategy"), params.pop("param_grid"), params.pop("augmenter"), **params
    )
    with pytest.raises(error, match=match):
        study.fit(noise(1000, 0))


def test_strategy_that_raises_names_the_configuration():
    # sma_crossover refuses fast >= slow: a plain dict grid makes that combination
    study = OverfittingStudy(
        sma_crossover, {"fast": [5, 50], "slow": [20, 50]}, qg.GaussianAugmenter(), split=400
    )
    with pytest.raises(ValueError, match=r"strategy\(\*\*\{'fast': 50, 'slow': 20\}\) raised"):
        study.fit(noise(800, 0))

    def broken(k):
        def signal(close):
            raise ZeroDivisionError("boom")

        return signal

    study = OverfittingStudy(broken, {"k": [1, 2]}, qg.GaussianAugmenter(), split=400)
    with pytest.raises(ValueError, match="configuration k=1 raised ZeroDivisionError: boom"):
        study.fit(noise(800, 0))

    def wrong_shape(k):
        return lambda close: np.ones(3)

    study = OverfittingStudy(wrong_shape, {"k": [1, 2]}, qg.GaussianAugmenter(), split=400)
    with pytest.raises(
        ValueError, match=r"configuration k=1: .*close panel's shape \(800, 1\).*got \(3, 1\)"
    ):
        study.fit(noise(800, 0))
    study = OverfittingStudy(lambda k: 3.0, {"k": [1, 2]}, qg.GaussianAugmenter(), split=400)
    with pytest.raises(TypeError, match="must return a signal"):
        study.fit(noise(800, 0))


def test_bad_history():
    study = small_study()
    r = noise(1000, 0)
    r.iloc[10] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite returns"):
        study.fit(r)
    with pytest.raises(ValueError, match="lacks \\['Open'\\]"):
        study.fit(pd.DataFrame({"Close": np.linspace(1, 2, 1000), "Volume": 1.0}))
    with pytest.raises(TypeError, match="Series of log returns"):
        study.fit([0.01, 0.02])
    prices = pd.Series(100 * np.exp(noise(1000, 0).cumsum()))
    with pytest.warns(qg.base.DataWarning, match="looks like prices"):
        with pytest.raises(ValueError, match="compound to non-finite prices"):
            small_study(n_splits=1, split=500, holdout=None).fit(prices)


# -- the forecaster experiment ---------------------------------------------------------------
def ar1(n: int, phi: float, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    eps = rng.normal(0, 0.01, n)
    out = np.empty(n)
    out[0] = eps[0]
    for t in range(1, n):
        out[t] = phi * out[t - 1] + eps[t]
    return pd.Series(out, index=pd.bdate_range("2000-01-03", periods=n))


@pytest.mark.parametrize("model", ["ridge", "gbm"])
def test_forecaster_finds_a_planted_signal(model):
    # AR(1) with phi = 0.3: the sign of the next return follows today's, P ~ 0.6
    table = augmented_forecaster_experiment(
        ar1(2500, 0.3, 0),
        qg.BootstrapAugmenter(),
        model=model,
        window=5,
        n_paths=3,
        split=0.6,
        random_state=0,
    )
    assert list(table.index) == ["history", "history+synthetic", "always_long"]
    assert list(table.columns) == ["accuracy", "auc", "sharpe", "n_train", "n_test"]
    assert (table["n_test"] == 1000).all()
    assert table.loc["history", "n_train"] == 1500 - 5
    assert table.loc["history+synthetic", "n_train"] == 4 * (1500 - 5)
    for name in ("history", "history+synthetic"):
        assert table.loc[name, "accuracy"] > 0.56
        assert table.loc[name, "auc"] > 0.58
        assert table.loc[name, "sharpe"] > 2.0
    assert table.loc["always_long", "auc"] == 0.5
    assert 0.4 < table.loc["always_long", "accuracy"] < 0.6
    again = augmented_forecaster_experiment(
        ar1(2500, 0.3, 0),
        qg.BootstrapAugmenter(),
        model=model,
        window=5,
        n_paths=3,
        split=0.6,
        random_state=0,
    )
    pd.testing.assert_frame_equal(table, again)


def test_forecaster_augmenter_sees_the_training_part_only():
    r = ar1(600, 0.3, 1)
    SpyAugmenter.seen.clear()
    augmented_forecaster_experiment(r, SpyAugmenter(), n_paths=2, split=400, random_state=0)
    (seen,) = SpyAugmenter.seen
    pd.testing.assert_series_equal(seen, r.iloc[:400])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"model": "lstm"}, ValueError, "model must be"),
        ({"augmenter": object()}, TypeError, "lacks"),
        ({"window": 0}, ValueError, "window must be a positive int"),
        ({"window": 500}, ValueError, "shorter window"),
        ({"n_paths": 0}, ValueError, "n_paths must be a positive int"),
        ({"split": 2.0}, ValueError, "strictly between 0 and 1"),
        ({"returns": pd.DataFrame({"a": [0.1] * 50})}, TypeError, "one asset"),
    ],
)
def test_forecaster_bad_input(kwargs, error, match):
    params = {"returns": ar1(600, 0.3, 1), "augmenter": qg.GaussianAugmenter()}
    params.update(kwargs)
    with pytest.raises(error, match=match):
        augmented_forecaster_experiment(params.pop("returns"), params.pop("augmenter"), **params)


def test_fitted_augmenters_are_reused_not_refitted():
    r = noise(1000, 8)
    first = small_study(n_splits=2).fit(r)
    SpyAugmenter.seen.clear()
    again = small_study(n_splits=2, augmenter=SpyAugmenter()).fit(
        r, fitted_augmenters=first.augmenters_
    )
    assert SpyAugmenter.seen == []  # nothing refitted
    assert all(a is b for a, b in zip(again.augmenters_, first.augmenters_, strict=True))
    # same seed, same fitted models: the same paths, hence the same study
    pd.testing.assert_frame_equal(again.results_, first.results_)
    with pytest.raises(ValueError, match="one augmenter per split \\(2\\), got 1"):
        small_study(n_splits=2).fit(r, fitted_augmenters=first.augmenters_[:1])


def test_a_ruined_run_loses_everything_then_stays_flat():
    from quantgan.study import _equity_returns

    equity = np.array([[100.0], [50.0], [-10.0], [5.0]])
    np.testing.assert_allclose(_equity_returns(equity, 100.0)[:, 0], [0.0, -0.5, -1.0, 0.0])


def test_docstring_examples():
    import doctest

    import quantgan.study

    assert doctest.testmod(quantgan.study, optionflags=doctest.ELLIPSIS).failed == 0
