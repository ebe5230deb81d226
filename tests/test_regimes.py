"""Tests of stress regimes and overlay (quantgan/regimes.py)."""

from __future__ import annotations

import runpy
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from sklearn.exceptions import NotFittedError

import quantgan as qg
from quantgan.base import DataWarning
from quantgan.regimes import (
    ANCHORS,
    Condition,
    Crash,
    HighVolatility,
    MemorizationWarning,
    OverlaidPaths,
    RareConditionError,
    RareEvent,
    _LatentSearch,
    compare_to_crises,
    crisis_windows,
    overlay,
)

FAST = {"batch_steps": 20_000, "max_batches": 20}


# --------------------------------------------------------------------------- #
# Fixtures and independent checks
# --------------------------------------------------------------------------- #
@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return qg.load_sp500()


@pytest.fixture(scope="module")
def returns(prices) -> pd.Series:
    return qg.log_returns(prices)


@pytest.fixture(scope="module")
def augmenters(returns) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wgan = qg.WGANAugmenter(
            generator="conv",
            window=20,
            hidden=8,
            latent_dim=8,
            n_critic=2,
            max_steps=10,
            time_budget=None,
            verbose=False,
            random_state=0,
            lr=5e-5,  # pinned: the latent-search tests rely on this model's rare events
        ).fit(returns)
        return {
            "gaussian": qg.GaussianAugmenter().fit(returns),
            "bootstrap": qg.BootstrapAugmenter().fit(returns),
            "garch": qg.GARCHAugmenter(dist="normal").fit(returns),
            "garch_t": qg.GARCHAugmenter().fit(returns),
            "wgan": wgan,
        }


def max_drawdown(window: np.ndarray) -> float:
    """Largest peak-to-trough fall of exp(cumsum(window)), the start level included."""
    price = np.exp(np.concatenate([[0.0], np.cumsum(window)]))
    return float(np.max(1 - price / np.maximum.accumulate(price)))


def satisfies(scenario, window: np.ndarray, attrs: dict) -> bool:
    if isinstance(scenario, HighVolatility):
        vol = np.std(window, ddof=1)
        return abs(vol / attrs["target_vol"] - 1) <= scenario.tolerance + 1e-9
    if isinstance(scenario, Crash):
        return max_drawdown(window) >= scenario.drawdown - 1e-12
    if isinstance(scenario, RareEvent):
        low = window.min() <= attrs["lower"]
        high = window.max() >= attrs["upper"]
        return {"left": low, "right": high, "both": low or high}[scenario.tail]
    return bool(scenario.predicate(window))


def down_day(w):
    return bool(w.sum() < 0)


COMMON = {
    "high_vol": lambda: HighVolatility(factor=1.0, length=10, tolerance=0.2, **FAST),
    "crash": lambda: Crash(drawdown=0.05, within=10, **FAST),
    "rare": lambda: RareEvent(quantile=0.01, length=10, tail="both", **FAST),
    "condition": lambda: Condition(down_day, length=10, **FAST),
}


# --------------------------------------------------------------------------- #
# Scenarios: the contract over every augmenter
# --------------------------------------------------------------------------- #
@pytest.mark.filterwarnings("ignore::quantgan.regimes.MemorizationWarning")  # the bootstrap
@pytest.mark.parametrize("name", ["gaussian", "bootstrap", "garch", "wgan"])
@pytest.mark.parametrize("regime", list(COMMON))
def test_every_regime_works_with_every_augmenter(augmenters, name, regime):
    scenario = COMMON[regime]()
    frame = scenario.sample(augmenters[name], 30, n_timesteps=15, random_state=3)
    assert frame.shape == (15, 30)
    assert frame.index.equals(pd.RangeIndex(15, name="step"))
    assert list(frame.columns) == list(range(30)) and frame.columns.name == "path"
    attrs = frame.attrs
    assert 0 < attrs["acceptance_rate"] <= 1
    assert attrs["method"] == "reject" and attrs["n_accepted"] == 30
    assert all(satisfies(scenario, frame[c].to_numpy()[:10], attrs) for c in frame)
    assert scenario.stats_ == attrs
    again = COMMON[regime]().sample(augmenters[name], 30, n_timesteps=15, random_state=3)
    pd.testing.assert_frame_equal(frame, again)
    other = COMMON[regime]().sample(augmenters[name], 30, n_timesteps=15, random_state=4)
    assert not np.array_equal(frame.to_numpy(), other.to_numpy())


def test_high_volatility_done_when_figure(augmenters, returns):
    # Done when: median realised vol of HighVolatility(2.5, 60) within 15% of 2.5x the
    # historical median 60-day volatility.
    hist_median = returns.rolling(60).std().median()
    scenario = HighVolatility(factor=2.5, length=60, reference=returns)
    frame = scenario.sample(augmenters["garch"], 200, random_state=0)
    vols = frame.std(ddof=1)
    assert frame.attrs["median_vol"] == pytest.approx(hist_median, rel=1e-9)
    assert frame.attrs["level_source"] == "reference"
    assert abs(vols.median() / (2.5 * hist_median) - 1) < 0.15
    assert np.all(np.abs(vols / (2.5 * hist_median) - 1) <= 0.1 + 1e-9)
    assert 0.001 < frame.attrs["acceptance_rate"] < 0.2


def test_crash_done_when_every_window_falls_30_percent(augmenters, returns):
    frame = Crash(drawdown=0.3, within=20, reference=returns).sample(
        augmenters["garch_t"], 100, n_timesteps=40, random_state=0
    )
    assert frame.shape == (40, 100)
    assert min(max_drawdown(frame[c].to_numpy()[:20]) for c in frame) >= 0.3
    assert frame.attrs["copy_share"] == 0.0
    assert frame.attrs["memorization_ratio"] > 1


def test_rare_event_tails(augmenters, returns):
    q_low, q_high = returns.quantile(0.001), returns.quantile(0.999)
    left = RareEvent(0.001, 20, reference=returns).sample(augmenters["garch"], 50, random_state=0)
    assert left.attrs["lower"] == pytest.approx(q_low)
    assert (left.min() <= q_low).all()
    right = RareEvent(0.001, 20, tail="right", reference=returns).sample(
        augmenters["garch"], 50, random_state=0
    )
    assert (right.max() >= q_high).all()


def test_accepted_paths_are_distinct_and_disjoint(augmenters):
    frame = COMMON["high_vol"]().sample(augmenters["garch"], 200, n_timesteps=30, random_state=0)
    values = frame.to_numpy()
    # continuous returns: a shared generated return would show up as a repeated value
    assert np.unique(values).size == values.size


def test_condition_vectorized_and_plain_agree(augmenters):
    plain = Condition(lambda w: bool(w.sum() < -0.02), length=10, **FAST)
    fast = Condition(lambda w: w.sum(axis=1) < -0.02, length=10, vectorized=True, **FAST)
    a = plain.sample(augmenters["garch"], 40, random_state=1)
    b = fast.sample(augmenters["garch"], 40, random_state=1)
    pd.testing.assert_frame_equal(a, b)
    assert (a.sum() < -0.02).all()


def test_continuation_after_the_window_is_the_models_path(augmenters):
    # GARCH volatility persists: the steps right after a high-vol window stay volatile
    # (less than in the window, part of whose volatility was lucky shocks).
    frame = HighVolatility(factor=2.0, length=20, **FAST).sample(
        augmenters["garch"], 200, n_timesteps=40, random_state=0
    )
    window_vol = frame.iloc[:20].std().median()
    after_vol = frame.iloc[20:].std().median()
    base = augmenters["garch"].sample(200, 2000, random_state=0).std().median()
    assert window_vol > after_vol > 1.15 * base


class _Chained:
    """Chained independent blocks of 10 steps, increasing inside each block."""

    def __init__(self, generator: bool):
        if generator:
            self.generator_ = object()
            self.window_ = 10

    def sample(self, n_paths, n_timesteps=None, *, random_state=None):
        rng = np.random.default_rng(random_state)
        t = np.arange(n_timesteps)
        values = 0.001 * (t % 10)[:, None] + 1e-6 * rng.random((n_timesteps, n_paths))
        return pd.DataFrame(values, columns=pd.RangeIndex(n_paths, name="path"))


def test_chained_generators_are_only_scanned_inside_one_window():
    crosses = Condition(
        lambda w: np.any(np.diff(w, axis=1) < 0, axis=1),
        length=5,
        vectorized=True,
        batch_steps=20_000,
        max_batches=3,
    )
    frame = crosses.sample(_Chained(generator=False), 5, random_state=0)
    assert frame.shape == (5, 5)
    with pytest.raises(RareConditionError, match="acceptance rate 0"):
        crosses.sample(_Chained(generator=True), 5, random_state=0)


def test_multi_asset_scenarios_keep_the_asset_columns(returns):
    two = pd.concat([returns.rename("a"), (0.5 * returns).rename("b")], axis=1)
    aug = qg.GaussianAugmenter().fit(two)
    frame = Crash(0.05, 10, **FAST).sample(aug, 20, random_state=0)
    assert frame.columns.names == ["path", "asset"]
    assert frame.shape == (10, 40)
    market = frame.T.groupby(level="path").mean().T
    assert all(max_drawdown(market[c].to_numpy()) >= 0.05 for c in market)


# --------------------------------------------------------------------------- #
# Budget, fallback, latent search
# --------------------------------------------------------------------------- #
def test_too_rare_raises_with_the_achieved_rate(augmenters, returns):
    scenario = HighVolatility(2.5, 60, reference=returns, batch_steps=20_000, max_batches=3)
    with pytest.raises(RareConditionError) as info:
        scenario.sample(augmenters["gaussian"], 100, random_state=0)
    err = info.value
    assert err.acceptance_rate == 0 and err.n_accepted == 0 and err.n_candidates > 0
    for part in ("too rare", "acceptance rate 0", "max_batches", "method='scale'"):
        assert part in str(err)


def test_too_rare_suggests_a_budget_when_some_were_found(augmenters):
    scenario = Crash(0.3, 20, batch_steps=20_000, max_batches=2)
    with pytest.raises(RareConditionError, match=r"pass max_batches=\d+") as info:
        scenario.sample(augmenters["garch_t"], 1000, random_state=0)
    assert 0 < info.value.acceptance_rate < 0.1 and 0 < info.value.n_accepted < 1000


def test_scale_fallback_rescales_the_window_only(augmenters, returns):
    aug = augmenters["gaussian"]
    scenario = HighVolatility(2.5, 60, method="scale", reference=returns)
    frame = scenario.sample(aug, 50, n_timesteps=80, random_state=7)
    raw = aug.sample(50, 80, random_state=7).to_numpy()
    target = 2.5 * returns.rolling(60).std().median()
    np.testing.assert_allclose(frame.iloc[:60].std(ddof=1), target, rtol=1e-10)
    factor = target / raw[:60].std(axis=0, ddof=1)
    np.testing.assert_allclose(frame.to_numpy()[:60], raw[:60] * factor, rtol=1e-12)
    np.testing.assert_array_equal(frame.to_numpy()[60:], raw[60:])
    assert frame.attrs["method"] == "scale" and frame.attrs["acceptance_rate"] == 1.0
    assert frame.attrs["median_scale"] == pytest.approx(np.median(factor))


def test_latent_search_samples_rare_events_of_the_wgan(augmenters):
    wgan = augmenters["wgan"]
    scenario = Crash(0.5, 10, method="latent")
    frame = scenario.sample(wgan, 100, n_timesteps=30, random_state=1)
    assert frame.shape == (30, 100)
    assert min(max_drawdown(frame[c].to_numpy()[:10]) for c in frame) >= 0.5
    attrs = frame.attrs
    assert attrs["n_levels"] >= 1 and attrs["n_duplicates"] == 0
    assert attrs["acceptance_unit"] == "generator window"
    assert 0.1 < attrs["mcmc_acceptance"] < 0.9
    assert np.unique(frame.iloc[:10].to_numpy(), axis=1).shape[1] == 100
    # the subset-simulation estimate against brute force over 100k latents
    rng = np.random.default_rng(0)
    search = _LatentSearch(scenario, wgan, wgan.window_, rng)
    search.levels = scenario._levels(None)
    brute = np.mean(search.score(rng.standard_normal((100_000, wgan.latent_dim))) >= 0)
    assert 0.5 < attrs["acceptance_rate"] / brute < 2
    again = Crash(0.5, 10, method="latent").sample(wgan, 100, n_timesteps=30, random_state=1)
    pd.testing.assert_frame_equal(frame, again)


def test_latent_search_windows_get_the_augmenters_scale_and_shift(augmenters):
    wgan = augmenters["wgan"]
    search = _LatentSearch(Crash(0.5, 10, method="latent"), wgan, wgan.window_, None)
    z = np.random.default_rng(3).standard_normal((5, wgan.latent_dim))
    plain = search.generate(z)
    scale, drift = wgan.scale_, wgan.drift_
    try:
        wgan.scale_, wgan.drift_ = np.full_like(scale, 2.0), drift + 0.01
        scaled = search.generate(z)
    finally:
        wgan.scale_, wgan.drift_ = scale, drift
    # match_std / match_mean apply to conditioned windows as to sample().
    np.testing.assert_allclose(scaled, 2.0 * (plain - drift) + drift + 0.01, atol=1e-12)
    # So does match_acf's filter, before them, from the window's first day.
    n = wgan.n_assets_
    filt = {"whiten": np.full((n, 250), 0.001), "colour": np.full((n, 2), -0.1),
            "mean": np.full(n, 0.0002), "gain": np.full(n, 1.1)}  # fmt: skip
    try:
        wgan.acf_filter_ = filt
        filtered = search.generate(z)
        expected = wgan._apply_acf_filter((plain - drift) / scale) * scale + drift
    finally:
        wgan.acf_filter_ = None
    np.testing.assert_allclose(filtered, expected, atol=1e-12)
    assert not np.allclose(filtered, plain)
    # And match_correlation's mix, after the filter (a 1 x 1 "mix" on one asset).
    mix = {"mean": np.full(n, 0.001), "matrix": 1.2 * np.eye(n)}
    try:
        wgan.acf_filter_, wgan.correlation_mix_ = filt, mix
        mixed = search.generate(z)
        raw = (plain - drift) / scale
        expected = wgan._apply_correlation_mix(wgan._apply_acf_filter(raw)) * scale + drift
    finally:
        wgan.acf_filter_, wgan.correlation_mix_ = None, None
    np.testing.assert_allclose(mixed, expected, atol=1e-12)
    assert not np.allclose(mixed, plain)
    try:  # the other order differs (the filter does not keep a level other than its mean)
        wgan.acf_filter_, wgan.correlation_mix_ = filt, mix
        reversed_order = wgan._apply_acf_filter(wgan._apply_correlation_mix(raw))
    finally:
        wgan.acf_filter_, wgan.correlation_mix_ = None, None
    assert not np.allclose(mixed, reversed_order * scale + drift, atol=1e-9)


def test_latent_search_with_a_yes_no_condition_rarer_than_a_level(augmenters):
    # Under 10% of generated windows hit: no intermediate level exists, the hits seed
    # the final chains directly.
    scenario = Condition(lambda w: bool(w.sum() < -0.4), 10, method="latent")
    frame = scenario.sample(augmenters["wgan"], 50, random_state=0)
    assert (frame.sum() < -0.4).all()
    assert 0 < frame.attrs["acceptance_rate"] < 0.1 and frame.attrs["n_levels"] == 0


def test_latent_search_respects_the_budget(augmenters):
    with pytest.raises(RareConditionError, match="latent search"):
        Crash(0.99, 10, method="latent", batch_steps=20_000, max_batches=1).sample(
            augmenters["wgan"], 10, random_state=0
        )
    with pytest.raises(RareConditionError, match="acceptance rate 0"):
        Condition(lambda w: False, 10, method="latent").sample(
            augmenters["wgan"], 10, random_state=0
        )


def test_latent_search_needs_a_wgan_and_a_short_window(augmenters):
    with pytest.raises(ValueError, match=r"WGANAugmenter.*method='reject'"):
        Crash(method="latent").sample(augmenters["garch"], 10)
    with pytest.raises(ValueError, match="fit in the generator's window"):
        Crash(0.3, 40, method="latent").sample(augmenters["wgan"], 10)


# --------------------------------------------------------------------------- #
# Copies of history
# --------------------------------------------------------------------------- #
def test_bootstrap_copies_are_reported(returns):
    aug = qg.BootstrapAugmenter(block_length=500, method="circular").fit(returns)
    scenario = HighVolatility(1.0, 20, tolerance=0.3, **FAST)
    with pytest.warns(MemorizationWarning, match="near-copies of historical windows"):
        frame = scenario.sample(aug, 50, random_state=0)
    # no reference given: the bootstrap's own training returns are the history
    assert frame.attrs["level_source"] == "training"
    assert frame.attrs["copy_share"] > 0.5


def test_generated_windows_are_not_copies(augmenters, returns):
    with warnings.catch_warnings():
        warnings.simplefilter("error", MemorizationWarning)
        frame = RareEvent(0.01, 20, reference=returns, **FAST).sample(
            augmenters["garch"], 100, random_state=0
        )
    assert frame.attrs["copy_share"] == 0.0


def test_without_history_levels_come_from_the_model(augmenters):
    frame = COMMON["high_vol"]().sample(augmenters["garch"], 20, random_state=0)
    assert frame.attrs["level_source"] == "model"
    assert frame.attrs["copy_share"] is None


# --------------------------------------------------------------------------- #
# Scenario input errors
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: HighVolatility(factor=0), "factor must be a positive number, got 0"),
        (lambda: HighVolatility(factor=-2.0), "factor must be a positive number, got -2.0"),
        (lambda: HighVolatility(factor=float("nan")), "factor must be a positive number"),
        (lambda: HighVolatility(factor="2"), "factor must be a positive number, got '2'"),
        (lambda: HighVolatility(tolerance=1.0), r"tolerance must be a number in \(0, 1\)"),
        (lambda: HighVolatility(length=1), "length must be >= 2"),
        (lambda: HighVolatility(length=0), "length must be a positive int, got 0"),
        (lambda: Crash(drawdown=1.0), "impossible"),
        (lambda: Crash(drawdown=1.5), r"drawdown must be a fraction in \(0, 1\)"),
        (lambda: Crash(drawdown=0), "drawdown must be a fraction"),
        (lambda: Crash(within=0), "within must be a positive int, got 0"),
        (lambda: RareEvent(quantile=0.5), r"quantile must be a tail probability in \(0, 0.5\)"),
        (lambda: RareEvent(tail="up"), "tail must be one of"),
        (lambda: Condition(predicate=3), "predicate must be a function"),
        (lambda: Condition(down_day, vectorized="yes"), "vectorized must be True or False"),
        (lambda: Crash(method="magic"), "method must be one of"),
        (lambda: Crash(method="scale"), "method='scale'.*only defined for HighVolatility"),
        (lambda: Crash(batch_steps=0), "batch_steps must be a positive int"),
        (lambda: Crash(max_batches=-1), "max_batches must be a positive int"),
    ],
)
def test_bad_scenario_parameters(augmenters, make, message):
    with pytest.raises(ValueError, match=message):
        make().sample(augmenters["gaussian"], 5)


def test_bad_sample_arguments(augmenters, returns):
    aug = augmenters["gaussian"]
    with pytest.raises(ValueError, match="n_paths must be a positive int, got 0"):
        Crash().sample(aug, 0)
    with pytest.raises(
        ValueError, match=r"n_timesteps must be at least the scenario's window \(20\)"
    ):
        Crash(0.1, 20).sample(aug, 5, n_timesteps=10)
    with pytest.raises(TypeError, match="augmenter must have a sample"):
        Crash().sample(object(), 5)
    with pytest.raises(NotFittedError, match="fit"):
        Crash().sample(qg.GaussianAugmenter(), 5)


def test_bad_reference(augmenters, returns):
    aug = augmenters["gaussian"]
    bad = returns.copy()
    bad.iloc[3] = np.nan
    with pytest.raises(ValueError, match="reference contains 1 NaN"):
        HighVolatility(reference=bad).sample(aug, 5)
    with pytest.raises(ValueError, match="reference has 10 returns, fewer than the window"):
        HighVolatility(length=60, reference=returns.iloc[:10]).sample(aug, 5)
    prices = qg.load_sp500()["Close"]
    with pytest.warns(DataWarning, match="looks like prices"), pytest.raises(RareConditionError):
        HighVolatility(reference=prices, batch_steps=20_000, max_batches=1).sample(aug, 5)


def test_bad_predicate_output(augmenters):
    with pytest.raises(ValueError, match=r"must return True or False.*vectorized=True"):
        Condition(lambda w: w.sum(), length=5, **FAST).sample(augmenters["gaussian"], 5)
    with pytest.raises(ValueError, match="one bool per window"):
        Condition(lambda w: True, length=5, vectorized=True, **FAST).sample(
            augmenters["gaussian"], 5
        )


def test_scenarios_do_not_mutate_the_reference(augmenters, returns):
    ref = returns.copy()
    HighVolatility(1.0, 20, tolerance=0.3, reference=ref, **FAST).sample(
        augmenters["garch"], 10, random_state=0
    )
    pd.testing.assert_series_equal(ref, returns)


def test_repr_is_short(returns):
    text = repr(HighVolatility(2.5, 60, reference=returns))
    assert text == "HighVolatility(factor=2.5, reference=<Series (5030,)>)"
    assert repr(Crash()) == "Crash()"


# --------------------------------------------------------------------------- #
# Overlay
# --------------------------------------------------------------------------- #
def normal_scenario(n_steps=30, n_paths=20, scale=0.02, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        scale * rng.standard_normal((n_steps, n_paths)),
        columns=pd.RangeIndex(n_paths, name="path"),
    )


def ohlc_consistent(frame: pd.DataFrame) -> bool:
    o, h, lo, c = (frame[k].to_numpy() for k in ("Open", "High", "Low", "Close"))
    return bool(np.all(h >= np.maximum(o, c)) and np.all(lo <= np.minimum(o, c)))


def test_overlay_splices_the_window_into_history(prices):
    before, scenario_before = prices.copy(), normal_scenario()
    scenario = scenario_before.copy()
    paths = overlay(prices, scenario, at="lehman", random_state=0)
    pd.testing.assert_frame_equal(prices, before)
    pd.testing.assert_frame_equal(scenario, scenario_before)
    assert isinstance(paths, OverlaidPaths) and len(paths) == 20
    pos = prices.index.get_loc(pd.Timestamp("2008-09-15"))
    assert paths.at == pd.Timestamp("2008-09-15") and paths.start == pos and paths.length == 30
    close = prices["Close"].to_numpy()
    for j, frame in enumerate(paths):
        assert frame.index.equals(prices.index) and list(frame.columns) == list(prices.columns)
        assert frame.dtypes.equals(prices.dtypes)
        pd.testing.assert_frame_equal(frame.iloc[:pos], prices.iloc[:pos])
        expected = close[pos - 1] * np.exp(np.cumsum(scenario[j].to_numpy()))
        np.testing.assert_allclose(frame["Close"].to_numpy()[pos : pos + 30], expected)
        # after the window: the historical returns, from the new level
        after = frame.iloc[pos + 29 :]
        np.testing.assert_allclose(
            np.diff(np.log(after["Close"].to_numpy())), np.diff(np.log(close[pos + 29 :]))
        )
        level = expected[-1] / close[pos + 29]
        for column in ("Open", "High", "Low", "Adj Close"):
            np.testing.assert_allclose(
                frame[column].to_numpy()[pos + 30 :], prices[column].to_numpy()[pos + 30 :] * level
            )
        np.testing.assert_array_equal(frame["Volume"], prices["Volume"])
        assert ohlc_consistent(frame)


def test_overlay_rebuilds_wide_bars_on_big_moves(prices):
    rng = np.random.default_rng(1)
    r = rng.choice([-0.08, -0.002, 0.002, 0.07], size=(200, 10))
    paths = overlay(prices, r, at="2005-01-03", random_state=0)
    pos = paths.start
    window = paths.panel().iloc[pos : pos + 200]
    rng_ratio = (
        window.xs("High", axis=1, level="field") / window.xs("Low", axis=1, level="field")
    ).to_numpy()
    big = np.abs(r) > 0.05
    assert np.median(rng_ratio[big] - 1) > 3 * np.median(rng_ratio[~big] - 1)


def test_overlay_options(prices):
    scenario = normal_scenario(scale=0.05)
    flat = overlay(prices, scenario, at="2015-08-24", ohlc="flat")
    pos = flat.start
    f = flat[0]
    np.testing.assert_allclose(f["Open"].to_numpy()[pos], prices["Close"].to_numpy()[pos - 1])
    assert ohlc_consistent(f)
    scaled = overlay(prices, scenario, at="2015-08-24", volume="scaled", random_state=0)
    hist_r = np.diff(np.log(prices["Close"].to_numpy()[pos - 1 : pos + 30]))
    factor = np.sqrt(np.mean(scenario[0] ** 2)) / np.sqrt(np.mean(hist_r**2))
    np.testing.assert_allclose(
        scaled[0]["Volume"].to_numpy()[pos : pos + 30],
        np.round(prices["Volume"].to_numpy()[pos : pos + 30] * factor),
    )
    assert scaled[0]["Volume"].dtype == prices["Volume"].dtype
    short = overlay(prices, scenario, at="2015-08-24", length=5, random_state=0)
    assert short.length == 5 and len(short.window) == 5
    a = overlay(prices, scenario, at="2015-08-24", random_state=3)
    b = overlay(prices, scenario, at="2015-08-24", random_state=3)
    pd.testing.assert_frame_equal(a.panel(), b.panel())


@pytest.mark.parametrize(
    ("at", "date"),
    [
        ("lehman", "2008-09-15"),
        ("Flash-Crash", "2010-05-06"),
        ("us_downgrade", "2011-08-05"),
        ("china_2015", "2015-08-24"),
        ("volmageddon", "2018-02-05"),
        ("2015-08-22", "2015-08-24"),  # a Saturday: the next trading day
        (pd.Timestamp("2012-03-01"), "2012-03-01"),
    ],
)
def test_overlay_at(prices, at, date):
    paths = overlay(prices, normal_scenario(5, 2), at=at)
    assert paths.at == pd.Timestamp(date)


def test_anchors_are_trading_days_of_the_bundled_data(prices):
    assert all(a.date in prices.index for a in ANCHORS.values())


def test_overlaid_paths_collection(prices, tmp_path):
    paths = overlay(prices, normal_scenario(10, 6), at="lehman", random_state=0)
    assert len(list(paths)) == 6 and isinstance(paths[2], pd.DataFrame)
    sub = paths[1:3]
    assert isinstance(sub, OverlaidPaths) and len(sub) == 2 and sub.labels == [1, 2]
    pd.testing.assert_frame_equal(sub[0], paths[1])
    d = paths.to_dict()
    assert list(d) == list(range(6))
    panel = paths.panel()
    assert panel.shape == (len(prices), 6 * 6) and panel.columns.names == ["path", "field"]
    closes = paths.panel("Close")
    pd.testing.assert_series_equal(closes[4], paths[4]["Close"], check_names=False)
    with pytest.raises(ValueError, match="field must be one of"):
        paths.panel("Nope")
    assert "6 paths" in repr(paths) and "2008-09-15" in repr(paths)
    fig = paths.plot(before=30, after=30)
    assert isinstance(fig, Figure)
    fig.savefig(tmp_path / "fan.png")
    assert (tmp_path / "fan.png").stat().st_size > 10_000


def test_overlay_with_a_non_date_index(prices):
    plain = prices.iloc[:100].reset_index(drop=True)
    paths = overlay(plain, normal_scenario(10, 2), at=50)
    assert paths.start == 50
    with pytest.raises(ValueError, match="not a label of prices' index"):
        overlay(plain, normal_scenario(10, 2), at="lehman")


# --------------------------------------------------------------------------- #
# Overlay input errors
# --------------------------------------------------------------------------- #
def _with(prices, column, row, value):
    out = prices.copy()
    out.iloc[row, out.columns.get_loc(column)] = value
    return out


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"at": "1990-01-01"}, "outside prices' dates 1999-01-04 to 2018-12-31"),
        ({"at": "2019-06-01"}, "outside prices' dates"),
        ({"at": "2018-12-20"}, "too close to the end of prices: 7 row.*length=30"),
        ({"at": "1999-01-04"}, "first row of prices"),
        ({"at": "lehmann"}, "neither a date nor an anchor name"),
        ({"at": 5}, "at must be a date or an anchor name"),
        ({"at": "lehman", "length": 31}, r"length=31 is longer than scenario_returns \(30 rows\)"),
        ({"at": "lehman", "length": 0}, "length must be a positive int"),
        ({"at": "lehman", "ohlc": "magic"}, "ohlc must be one of"),
        ({"at": "lehman", "volume": "loud"}, "volume must be one of"),
    ],
)
def test_overlay_bad_arguments(prices, kwargs, message):
    with pytest.raises(ValueError, match=message):
        overlay(prices, normal_scenario(), **kwargs)


def test_overlay_bad_prices(prices):
    scenario = normal_scenario()
    with pytest.raises(ValueError, match=r"prices\['High'\] has 1 NaN.*first at 2000-01-04\)"):
        overlay(_with(prices, "High", 253, np.nan), scenario, at="lehman")
    with pytest.raises(ValueError, match=r"prices\['Close'\] must be positive; found 0"):
        overlay(_with(prices, "Close", 10, 0.0), scenario, at="lehman")
    with pytest.raises(ValueError, match=r"prices\['Low'\] must be positive; found -1"):
        overlay(_with(prices, "Low", 10, -1.0), scenario, at="lehman")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['Open'\]"):
        overlay(prices.drop(columns="Open"), scenario, at="lehman")
    with pytest.raises(TypeError, match="prices must be an OHLCV DataFrame"):
        overlay(prices["Close"], scenario, at="lehman")
    with pytest.raises(ValueError, match="not in increasing order"):
        overlay(prices.iloc[::-1], scenario, at="lehman")
    with pytest.raises(ValueError, match="duplicated dates"):
        overlay(pd.concat([prices.iloc[:5], prices]), scenario, at="lehman")
    with pytest.warns(DataWarning, match="High < max"):
        overlay(_with(prices, "High", 10, 1.0), scenario, at="lehman")


def test_overlay_bad_scenarios(prices):
    multi = pd.DataFrame(
        np.zeros((30, 4)), columns=pd.MultiIndex.from_product([[0, 1], ["a", "b"]])
    )
    with pytest.raises(ValueError, match=r"\(path, asset\) columns.*xs"):
        overlay(prices, multi, at="lehman")
    bad = normal_scenario()
    bad.iloc[2, 3] = np.nan
    with pytest.raises(ValueError, match="scenario_returns contains 1 NaN"):
        overlay(prices, bad, at="lehman")
    with pytest.warns(DataWarning, match="beyond \\+-100%"):
        overlay(prices, normal_scenario() + 5, at="lehman")
    with (
        pytest.warns(DataWarning, match="beyond"),
        pytest.raises(ValueError, match="drive Close to 0 or to overflow"),
    ):
        overlay(prices, normal_scenario() * 0 + 800, at="lehman")
    series = overlay(prices, normal_scenario()[3].rename("one"), at="lehman")
    assert series.labels == ["one"]


# --------------------------------------------------------------------------- #
# Overlay properties (hypothesis)
# --------------------------------------------------------------------------- #
@st.composite
def histories(draw):
    n = draw(st.integers(3, 40))
    floats = st.floats(-0.2, 0.2, allow_nan=False, allow_infinity=False)
    r = np.array(draw(st.lists(floats, min_size=n, max_size=n)))
    gaps = np.array(draw(st.lists(st.floats(-0.05, 0.05), min_size=n, max_size=n)))
    wicks = np.array(draw(st.lists(st.floats(0, 0.1), min_size=2 * n, max_size=2 * n)))
    close = 100 * np.exp(np.cumsum(r))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(gaps)
    high = np.maximum(open_, close) * np.exp(wicks[:n])
    low = np.minimum(open_, close) * np.exp(-wicks[n:])
    frame = pd.DataFrame(
        {
            "Open": open_,
            "High": high,
            "Low": low,
            "Close": close,
            "Volume": draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)),
        },
        index=pd.bdate_range("2020-01-01", periods=n, name="Date"),
    )
    length = draw(st.integers(1, n - 1))
    pos = draw(st.integers(1, n - length))
    n_paths = draw(st.integers(1, 3))
    steps = draw(st.integers(length, length + 3))
    scenario = np.array(
        draw(st.lists(floats, min_size=steps * n_paths, max_size=steps * n_paths))
    ).reshape(steps, n_paths)
    return frame, scenario, pos, length


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=histories(), seed=st.integers(0, 1000), ohlc=st.sampled_from(["historical-ratios", "flat"])
)
def test_overlay_properties(case, seed, ohlc):
    frame, scenario, pos, length = case
    original = frame.copy()
    paths = overlay(frame, scenario, frame.index[pos], length=length, ohlc=ohlc, random_state=seed)
    pd.testing.assert_frame_equal(frame, original)  # the caller's frame is untouched
    close = frame["Close"].to_numpy()
    tol = 1e-12
    for j, out in enumerate(paths):
        o, h, lo, c = (out[k].to_numpy() for k in ("Open", "High", "Low", "Close"))
        # OHLC consistency and positive prices, every row
        assert np.all(h >= np.maximum(o, c) * (1 - tol)) and np.all(
            lo <= np.minimum(o, c) * (1 + tol)
        )
        assert np.all(out[["Open", "High", "Low", "Close"]].to_numpy() > 0)
        # history identical before `at`, dates preserved
        pd.testing.assert_frame_equal(out.iloc[:pos], frame.iloc[:pos])
        assert out.index.equals(frame.index)
        # the window follows the synthetic returns from the last historical close
        np.testing.assert_allclose(
            np.log(c[pos : pos + length] / close[pos - 1]),
            np.cumsum(scenario[:length, j]),
            atol=1e-9,
        )
        # continuity after the window: the historical returns, no jump
        np.testing.assert_allclose(
            np.diff(np.log(c[pos + length - 1 :])),
            np.diff(np.log(close[pos + length - 1 :])),
            atol=1e-9,
        )


# --------------------------------------------------------------------------- #
# Historical crises as reference regimes
# --------------------------------------------------------------------------- #
def test_crisis_windows(prices, returns):
    windows = crisis_windows(prices, 20)
    assert list(windows.columns) == list(ANCHORS)
    np.testing.assert_array_equal(windows["lehman"], returns.loc["2008-09-15":].iloc[:20])
    assert crisis_windows(returns, 5, anchors=["lehman"]).shape == (5, 1)
    with pytest.raises(ValueError, match="unknown anchor 'covid'"):
        crisis_windows(prices, 5, anchors=["covid"])
    with pytest.raises(ValueError, match="does not fit in the data"):
        crisis_windows(prices.loc[:"2018-02-10"], 20, anchors=["volmageddon"])
    with pytest.raises(TypeError, match="OHLCV DataFrame or a Series"):
        crisis_windows(np.zeros(10), 5)


@pytest.mark.filterwarnings("ignore:scenario_returns has daily log returns beyond")  # GARCH-t
def test_compare_to_crises(augmenters, prices, returns):
    crash = Crash(0.3, 20, reference=returns).sample(augmenters["garch_t"], 50, random_state=0)
    table = compare_to_crises(crash, prices)
    assert list(table.index) == [*ANCHORS, "synthetic 5%", "synthetic median", "synthetic 95%"]
    assert list(table.columns) == ["realised_vol", "max_drawdown", "worst_day", "total_return"]
    assert 0.25 < table.loc["lehman", "max_drawdown"] < 0.32  # 15 Sep - 10 Oct 2008
    assert table.loc["synthetic 5%", "max_drawdown"] >= 0.3
    with pytest.raises(ValueError, match="longer than scenario_returns"):
        compare_to_crises(crash, prices, length=21)


# --------------------------------------------------------------------------- #
# The example, and a quality run with a trained WGAN
# --------------------------------------------------------------------------- #
def test_example_runs_and_saves_a_fan_chart(tmp_path, capsys):
    script = Path(__file__).resolve().parents[1] / "examples" / "stress_regimes.py"
    main = runpy.run_path(str(script))["main"]
    out = main(["--regime", "high-vol", "--n-paths", "20", "--output", str(tmp_path / "f.png")])
    assert out.stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "acceptance rate" in printed and "synthetic median" in printed


@pytest.mark.slow
def test_trained_wgan_meets_the_done_when_figures(returns):
    wgan = qg.WGANAugmenter(time_budget=60, verbose=False, random_state=0).fit(returns)
    hist_median = returns.rolling(60).std().median()
    for method in ("reject", "latent"):
        vol = HighVolatility(2.5, 60, method=method, reference=returns).sample(
            wgan, 200, random_state=0
        )
        assert abs(vol.std().median() / (2.5 * hist_median) - 1) < 0.15
        assert vol.attrs["copy_share"] < 0.05
    crash = Crash(0.3, 20, method="latent", reference=returns).sample(wgan, 200, random_state=0)
    assert min(max_drawdown(crash[c].to_numpy()) for c in crash) >= 0.3
    assert crash.attrs["n_duplicates"] == 0
