"""WGANAugmenter: the scikit-learn contract, reproducibility, persistence, bad input."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import quantgan as qg
from quantgan import augmenters
from quantgan.base import DataWarning

TINY = dict(
    window=20,
    hidden=8,
    latent_dim=8,
    batch_size=16,
    n_critic=2,
    time_budget=None,
    verbose=False,
    validation_every=5,
)


def tiny(**kw):
    return qg.WGANAugmenter(**{**TINY, "max_steps": 10, "random_state": 0, **kw})


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    r = pd.Series(
        rng.standard_t(4, 600) * 0.01, index=pd.bdate_range("2015-01-01", periods=600), name="r"
    )
    return tiny().fit(r), r


def test_sample_shape_index_and_finiteness(fitted):
    aug, r = fitted
    paths = aug.sample(7)
    assert paths.shape == (600, 7)
    assert paths.index.equals(r.index)
    assert list(paths.columns) == list(range(7))
    assert np.isfinite(paths.to_numpy()).all()
    longer = aug.sample(3, n_timesteps=650)
    assert longer.shape == (650, 3)
    assert longer.index[0] == r.index[0]
    assert longer.index.equals(pd.bdate_range(r.index[0], periods=650))
    assert aug.sample(2, 5).shape == (5, 2)


def test_fitted_attributes_and_history(fitted):
    aug, _ = fitted
    assert aug.window_ == 20 and aug.n_assets_ == 1 and aug.n_timesteps_ == 600
    h = aug.history_
    assert len(h) == 10 and list(h.index) == list(range(1, 11))
    for col in [
        "loss_critic",
        "loss_generator",
        "wasserstein",
        "gradient_penalty",
        "grad_norm_input",
        "grad_norm_critic",
        "grad_norm_generator",
        "val_score",
    ]:
        assert col in h.columns
    assert np.isfinite(h[["loss_critic", "loss_generator", "wasserstein"]].to_numpy()).all()
    # The kept model is the best validation score, not the last step.
    scores = h["val_score"].dropna()
    assert aug.best_step_ == scores.idxmin()
    assert aug.best_score_ == pytest.approx(scores.min())
    assert aug.stop_reason_ == "step limit reached"
    assert len(aug.training_samples_) == 2  # steps 5 and 10
    step, fixed, fresh = aug.training_samples_[0]
    assert step == 5 and fixed.shape == (4, 20, 1) and fresh.shape == (4, 20, 1)


def test_same_seed_same_samples_and_seeds_differ(fitted):
    aug, r = fitted
    a = aug.sample(5, random_state=1)
    pd.testing.assert_frame_equal(a, aug.sample(5, random_state=1))
    assert not np.allclose(a.to_numpy(), aug.sample(5, random_state=2).to_numpy())
    # A refit with the same random_state and a step limit reproduces the model exactly.
    again = tiny().fit(r)
    pd.testing.assert_frame_equal(a, again.sample(5, random_state=1))


def test_sampling_stream_does_not_depend_on_chunk_size(fitted, monkeypatch):
    aug, _ = fitted
    big = aug.sample(40, 50, random_state=3)
    monkeypatch.setattr(augmenters, "_SAMPLE_CHUNK", 7)
    pd.testing.assert_frame_equal(big, aug.sample(40, 50, random_state=3))


def test_sample_many_paths_in_bounded_chunks(fitted):
    aug, _ = fitted
    paths = aug.sample(100_000, 10, random_state=0)
    assert paths.shape == (10, 100_000)
    assert np.isfinite(paths.to_numpy()).all()
    assert paths.attrs["n_tail_extrapolated"] >= 0


def test_save_load_gives_identical_samples(fitted, tmp_path):
    aug, _ = fitted
    path = aug.save(tmp_path / "model.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temp file left
    loaded = qg.WGANAugmenter.load(path)
    pd.testing.assert_frame_equal(aug.sample(6, random_state=4), loaded.sample(6, random_state=4))
    pd.testing.assert_frame_equal(aug.history_, loaded.history_, check_dtype=False)
    assert loaded.get_params()["window"] == 20
    assert loaded.best_step_ == aug.best_step_


def test_load_rejects_corrupt_foreign_and_missing_files(fitted, tmp_path):
    aug, _ = fitted
    good = aug.save(tmp_path / "m.safetensors").read_bytes()
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        qg.WGANAugmenter.load(corrupt)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, str(foreign))
    with pytest.raises(ValueError, match="not a quantgan WGANAugmenter model"):
        qg.WGANAugmenter.load(foreign)
    with pytest.raises(FileNotFoundError):
        qg.WGANAugmenter.load(tmp_path / "nope.safetensors")


def test_several_assets_give_path_asset_columns():
    rng = np.random.default_rng(1)
    x = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=300) * 0.01
    frame = pd.DataFrame(x, columns=["SPX", "NDX"], index=pd.bdate_range("2020-01-01", periods=300))
    aug = tiny(max_steps=3).fit(frame)
    paths = aug.sample(4)
    assert paths.columns.names == ["path", "asset"]
    assert list(paths.columns[:2]) == [(0, "SPX"), (0, "NDX")]
    assert paths.shape == (300, 8)


def test_windows_3d_input_like_the_seed_arma_set():
    x = np.random.default_rng(2).standard_normal((64, 24, 1))
    aug = qg.WGANAugmenter(**{**TINY, "window": None, "max_steps": 3}).fit(x)
    assert aug.window_ == 24
    paths = aug.sample(5)
    assert paths.shape == (24, 5)
    assert isinstance(paths.index, pd.RangeIndex)
    with pytest.raises(ValueError, match="window must equal the length"):
        tiny(window=12).fit(x)


@pytest.mark.parametrize("lipschitz", ["gp", "sn", "sn+gp", "clip"])
def test_each_lipschitz_option_trains(lipschitz):
    x = np.random.default_rng(3).standard_normal(200) * 0.01
    aug = tiny(lipschitz=lipschitz, max_steps=4, optimizer="adam", lr=1e-4).fit(x)
    h = aug.history_
    assert np.isfinite(h["loss_critic"]).all()
    assert h["gradient_penalty"].notna().all() == ("gp" in lipschitz)
    if lipschitz == "clip":
        assert max(p.abs().max().item() for p in aug.critic_.parameters()) <= 0.01 + 1e-12


def test_sklearn_conventions():
    aug = qg.WGANAugmenter(window=50, lr=1e-4)
    assert aug.get_params()["window"] == 50
    assert clone(aug).get_params() == aug.get_params()
    assert not hasattr(aug, "window_")  # __init__ only stores parameters
    with pytest.raises(NotFittedError, match="call fit"):
        aug.sample(3)


def test_caller_data_is_not_mutated():
    r = pd.Series(np.random.default_rng(4).standard_normal(200) * 0.01)
    before = r.copy()
    tiny(max_steps=2).fit(r)
    pd.testing.assert_series_equal(r, before)


# -- bad input: each error names the parameter, the rule, the value and the fix -----------
@pytest.mark.parametrize(
    "X, match",
    [
        (pd.Series([0.01, np.nan] + [0.0, 0.01] * 100), r"1 NaN or infinite values .*dropna"),
        (np.r_[np.inf, np.random.default_rng(0).standard_normal(300)], "infinite"),
        (np.random.default_rng(0).standard_normal(15), r"too short.*needs at least 21.*got 15"),
        (
            pd.DataFrame({"r": np.ones(100), "name": ["x"] * 100}),
            r"non-numeric columns: \['name'\]",
        ),
        (np.array(["a", "b"] * 50), "does not convert to float"),
        (np.zeros(300), "constant"),
        (np.zeros((2, 3, 4, 5)), "4 dimensions"),
    ],
)
def test_bad_input(X, match):
    with pytest.raises(ValueError, match=match):
        tiny().fit(X)


def test_bad_dates():
    r = pd.Series(
        np.random.default_rng(0).standard_normal(100) * 0.01,
        index=pd.bdate_range("2020-01-01", periods=100),
    )
    with pytest.raises(ValueError, match=r"sort_index"):
        tiny().fit(r.iloc[::-1])
    with pytest.raises(ValueError, match="duplicated dates"):
        tiny().fit(pd.concat([r, r.iloc[:1]]))


def test_prices_warn():
    prices = pd.Series(
        100 * np.exp(np.cumsum(np.random.default_rng(0).standard_normal(300) * 0.01))
    )
    with pytest.warns(DataWarning, match="log_returns"):
        tiny(max_steps=1).fit(prices)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        tiny(max_steps=1).fit(qg.log_returns(prices))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(lipschitz="spectral"), r"lipschitz must be one of .* got 'spectral'"),
        (dict(optimizer="sgd"), "optimizer must be one of"),
        (dict(lr=-1.0), "lr must be a positive number, got -1.0"),
        (dict(window=0), "window must be a positive int, got 0"),
        (dict(n_critic=0), "n_critic must be a positive int"),
        (dict(max_steps=None, time_budget=None), "never stop"),
        (dict(time_budget=-5), "time_budget must be a positive"),
        (dict(device="tpu:9"), "device must be"),
        (dict(random_state="a"), "random_state must be"),
    ],
)
def test_bad_parameters(params, match):
    x = np.random.default_rng(0).standard_normal(300) * 0.01
    with pytest.raises(ValueError, match=match):
        tiny(**params).fit(x)


@pytest.mark.parametrize("n_paths", [0, -3, 2.5, True])
def test_bad_n_paths(fitted, n_paths):
    aug, _ = fitted
    with pytest.raises(ValueError, match=f"n_paths must be a positive int, got {n_paths!r}"):
        aug.sample(n_paths)


def test_sp500_done_criterion(sp500_returns):
    """The issue's acceptance check: a 20 s fit, 1000 paths on the returns' index."""
    aug = qg.WGANAugmenter(time_budget=20, random_state=0, verbose=False).fit(sp500_returns)
    paths = aug.sample(1000)
    assert paths.shape == (5030, 1000)
    assert paths.index.equals(sp500_returns.index)
    assert np.isfinite(paths.to_numpy()).all()
    pd.testing.assert_frame_equal(paths.iloc[:, :3], aug.sample(3))
