"""Every warning quantgan raises points at the user's line, however deep it is raised."""

import warnings

import numpy as np
import pandas as pd
import pytest

import quantgan as qg


@pytest.fixture
def prices():
    rng = np.random.default_rng(0)
    index = pd.bdate_range("2020-01-01", periods=600)
    return pd.Series(100 * np.exp(np.cumsum(0.01 * rng.standard_normal(600))), index=index)


def _caught(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return caught


def test_a_direct_fit_on_prices_points_at_the_fit_call(prices):
    caught = _caught(lambda: qg.BootstrapAugmenter().fit(prices))
    data = [w for w in caught if issubclass(w.category, qg.DataWarning)]
    assert len(data) == 1 and "looks like prices" in str(data[0].message)
    assert data[0].filename == __file__


def test_the_same_check_reached_through_evaluate_points_at_evaluate(prices):
    # evaluate fits the unfitted augmenter itself: the rescale check below sits a
    # frame deeper than in a direct fit, where a fixed stacklevel pointed inside quantgan.
    returns = qg.log_returns(prices)
    caught = _caught(lambda: qg.evaluate(returns, qg.GARCHAugmenter(rescale=False), n_paths=2))
    data = [w for w in caught if issubclass(w.category, qg.DataWarning)]
    assert len(data) == 1 and "rescale=True" in str(data[0].message)
    assert data[0].filename == __file__


def test_log_returns_of_prices_with_nan_points_at_the_call(prices):
    prices.iloc[10] = np.nan
    caught = _caught(lambda: qg.log_returns(prices))
    assert len(caught) == 1 and "NaN" in str(caught[0].message)
    assert caught[0].filename == __file__


def test_log_returns_of_an_ohlcv_frame_with_nan_points_at_the_call(prices):
    # An OHLCV frame recurses into the Close series: one frame deeper than a Series.
    frame = pd.DataFrame({"Open": prices, "Close": prices})
    frame.iloc[10, 1] = np.nan
    caught = _caught(lambda: qg.log_returns(frame))
    assert len(caught) == 1 and "NaN" in str(caught[0].message)
    assert caught[0].filename == __file__


def test_a_garch_fit_far_from_arch_s_scale_points_at_the_fit_call(prices):
    returns = qg.log_returns(prices)
    caught = _caught(lambda: qg.GARCHAugmenter(rescale=False).fit(returns))
    data = [w for w in caught if issubclass(w.category, qg.DataWarning)]
    assert len(data) == 1 and "rescale=True" in str(data[0].message)
    assert data[0].filename == __file__
