"""The contract every augmenter shares: ``fit(X)`` then ``sample(n_paths)``.

:class:`BaseAugmenter` does the input checks, the bookkeeping of what was fitted
(index, asset names) and the shaping of samples into DataFrames, so that a model
only implements ``_fit(values)`` and ``_sample(n_paths, n_timesteps, rng)``. The
WGAN and the baselines (GARCH, bootstrap, Gaussian) all derive from it and the same
contract tests run over all of them.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from quantgan._stack import _external_stacklevel

__all__ = ["BaseAugmenter", "DataWarning", "TrainingWarning", "check_random_state"]


class DataWarning(UserWarning):
    """Suspicious but legal input, e.g. prices where returns are expected."""


class TrainingWarning(UserWarning):
    """A fit that stopped before its model was trained as far as its quality was measured.

    Filter it like any warning once you know why (``warnings.filterwarnings("ignore",
    category=quantgan.TrainingWarning)``).
    """


def check_random_state(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A ``numpy.random.Generator`` from None, an int seed or a Generator."""
    if seed is None or isinstance(seed, np.random.Generator):
        return np.random.default_rng(seed)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ValueError(
        f"random_state must be None, a non-negative int or a numpy Generator, got {seed!r}"
    )


def _check_positive_int(name: str, value: object, fix: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}{fix}")
    return int(value)


def _first_bad(values: np.ndarray, index: pd.Index | None) -> str:
    flat = np.argwhere(~np.isfinite(values))[0]
    if index is not None and values.ndim == 2:
        return f"row {index[flat[0]]!r}"
    return f"position {tuple(int(i) for i in flat)}"


class BaseAugmenter(BaseEstimator):
    """Base class of augmenters: validation, fitted metadata, DataFrame output.

    Subclasses implement ``_fit(values)`` with ``values`` of shape
    ``(n_timesteps, n_assets)`` (one long series) or ``(n_windows, window,
    n_assets)`` (independent samples, ``self.windowed_`` is True), and
    ``_sample(n_paths, n_timesteps, rng)`` returning an array of shape
    ``(n_paths, n_timesteps, n_assets)``. ``_min_length()`` says how many
    observations ``fit`` needs.
    """

    #: Whether ``fit`` accepts a 3-D array of independent windows.
    _accepts_windows = True

    # -- hooks -------------------------------------------------------------------------
    def _fit(self, values: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sample(
        self, n_paths: int, n_timesteps: int, rng: np.random.Generator
    ) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _min_length(self) -> int:
        return 2

    # -- fit ---------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Learn the law of the returns ``X``.

        Parameters
        ----------
        X : Series, DataFrame or ndarray
            Returns, not prices. A Series, a DataFrame (time x assets) or a 1-D / 2-D
            array is one long series with time first; a 3-D array of shape
            ``(n_windows, window, n_assets)`` is a set of independent samples.
        y : ignored

        Returns
        -------
        self
        """
        values = self._validate_data(X)
        self._fit(values)
        return self

    def _validate_data(self, X) -> np.ndarray:
        index = None
        names: list = []
        if isinstance(X, pd.Series):
            index, names = X.index, [X.name if X.name is not None else "returns"]
            frame = X.to_frame()
        elif isinstance(X, pd.DataFrame):
            index, names, frame = X.index, list(X.columns), X
        else:
            frame = None
        if frame is not None:
            bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
            if bad or frame.shape[1] == 0:
                raise ValueError(
                    f"X must hold numeric returns; non-numeric columns: {bad}. Select the "
                    "return columns, e.g. X[['SPY']], or compute qg.log_returns(prices)"
                )
            values = frame.to_numpy(dtype=float, copy=True)
            self._check_index(index)
        else:
            try:
                values = np.array(X, dtype=float)  # a copy: never touch the caller's data
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"X must be numeric returns (Series, DataFrame or array), got "
                    f"{type(X).__name__} that does not convert to float: {exc}"
                ) from exc
            if values.ndim == 0 or values.ndim > 3:
                raise ValueError(
                    f"X must be 1-D, 2-D (time x assets) or 3-D (n_windows, window, "
                    f"n_assets), got an array with {values.ndim} dimensions"
                )
            if values.ndim == 1:
                values = values[:, None]
        windowed = values.ndim == 3
        if windowed and not self._accepts_windows:
            raise ValueError(
                f"{type(self).__name__} needs one long series (time x assets), not a 3-D "
                "array of independent windows"
            )
        if not np.all(np.isfinite(values)):
            n_bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
            raise ValueError(
                f"X contains {n_bad} NaN or infinite values (first at "
                f"{_first_bad(values, index)}); drop or fill them first, e.g. X.dropna()"
            )
        length = values.shape[1] if windowed else values.shape[0]
        self.windowed_ = windowed  # _min_length may depend on it
        need = self._min_length()
        if windowed and values.shape[0] < 2:
            raise ValueError(f"X must hold at least 2 windows, got {values.shape[0]}")
        if length < need:
            raise ValueError(
                f"X is too short: {type(self).__name__} needs at least {need} time steps "
                f"with these parameters, got {length}; pass a longer history or lower the "
                "window"
            )
        flat = values.reshape(-1, values.shape[-1])
        std = flat.std(axis=0)
        if np.any(std == 0):
            raise ValueError(
                f"X is constant for asset(s) {[names[i] if names else i for i in np.flatnonzero(std == 0)]}: "
                "a constant series has no law to learn"
            )
        self._warn_if_prices(flat)
        self.n_assets_ = values.shape[-1]
        self.n_features_in_ = self.n_assets_
        self.asset_names_ = names if names else list(range(self.n_assets_))
        self.n_timesteps_ = length
        self.train_index_ = index if index is not None else pd.RangeIndex(length)
        return values

    @staticmethod
    def _check_index(index: pd.Index) -> None:
        if not isinstance(index, pd.DatetimeIndex):
            return
        if index.has_duplicates:
            dup = index[index.duplicated()][0]
            raise ValueError(
                f"X has duplicated dates (first: {dup}); drop them, e.g. X[~X.index.duplicated()]"
            )
        if not index.is_monotonic_increasing:
            raise ValueError("X's dates are not in increasing order; sort them: X.sort_index()")

    @staticmethod
    def _warn_if_prices(flat: np.ndarray) -> None:
        # Prices are positive and nearly a random walk in levels: lag-1 autocorrelation ~ 1.
        for j in range(flat.shape[1]):
            x = flat[:, j]
            if x.size > 10 and np.all(x > 0):
                c = x - x.mean()
                rho = float(np.dot(c[:-1], c[1:]) / np.dot(c, c))
                if rho > 0.9:
                    warnings.warn(
                        "X looks like prices (all positive, lag-1 autocorrelation "
                        f"{rho:.2f}), but augmenters expect returns; pass "
                        "qg.log_returns(prices) instead",
                        DataWarning,
                        stacklevel=_external_stacklevel(),
                    )
                    return

    # -- sample ------------------------------------------------------------------------
    def _check_is_fitted(self) -> None:
        if not hasattr(self, "n_assets_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(returns) before sample()"
            )

    def sample(self, n_paths: int, n_timesteps: int | None = None, *, random_state=None):
        """Draw ``n_paths`` synthetic return histories.

        Parameters
        ----------
        n_paths : int
            Number of paths (positive).
        n_timesteps : int, optional
            Length of each path; default the length of the training data.
        random_state : None, int or numpy Generator
            The same seed gives identical paths.

        Returns
        -------
        DataFrame
            Rows = time, columns = paths (a ``(path, asset)`` MultiIndex for several
            assets). The index is the training index when the lengths match, else
            business days from the training start (a RangeIndex for array input).
        """
        self._check_is_fitted()
        n_paths = _check_positive_int("n_paths", n_paths)
        if n_timesteps is None:
            n_timesteps = self.n_timesteps_
        n_timesteps = _check_positive_int("n_timesteps", n_timesteps)
        rng = check_random_state(random_state)
        paths = self._sample(n_paths, n_timesteps, rng)
        return self._to_frame(paths)

    def _output_index(self, n_timesteps: int) -> pd.Index:
        index = self.train_index_
        if len(index) == n_timesteps and not self.windowed_:
            return index.copy()
        if isinstance(index, pd.DatetimeIndex) and len(index):
            return pd.bdate_range(index[0], periods=n_timesteps, name=index.name)
        return pd.RangeIndex(n_timesteps)

    def _to_frame(self, paths: np.ndarray) -> pd.DataFrame:
        n_paths, n_timesteps, n_assets = paths.shape
        index = self._output_index(n_timesteps)
        if n_assets == 1:
            columns = pd.RangeIndex(n_paths, name="path")
            data = paths[:, :, 0].T
        else:
            columns = pd.MultiIndex.from_product(
                [range(n_paths), self.asset_names_], names=["path", "asset"]
            )
            data = paths.transpose(1, 0, 2).reshape(n_timesteps, n_paths * n_assets)
        return pd.DataFrame(data, index=index, columns=columns, copy=False)
