"""Stress regimes: conditional scenarios from any augmenter, spliced into real prices.

Two halves.

**Scenarios.** :class:`HighVolatility`, :class:`Crash`, :class:`RareEvent` and
:class:`Condition` draw windows of returns from a fitted augmenter *conditioned* on an
event, through the public ``augmenter.sample`` API, so that they work with the WGAN
and with every baseline (GARCH, bootstrap, Gaussian)::

    shock = HighVolatility(factor=2.5, length=60, reference=returns).sample(aug, 200)
    shock.attrs["acceptance_rate"]        # how rare the event is under the model

Sampling is honest: what comes back is what the model generates when the event
happens, not a distortion of ordinary paths.

* ``method="reject"`` (default, any augmenter): batches of long paths are generated
  and every window (stride 1) is checked; windows that satisfy the condition are cut
  out at random among the hits, never overlapping, with the path that follows them
  (the model's own dynamics after the event). For the WGAN, whose long paths are
  independent windows chained end to end, only windows inside one generated window
  are used. The acceptance rate is the share of checked windows that satisfied the
  condition: the probability of the event under the model.
* ``method="latent"`` (WGANAugmenter only): subset simulation in the generator's
  Gaussian latent space (Au & Beck 2001) with preconditioned Crank-Nicolson MCMC,
  which leaves the latent prior invariant: samples of the generator's law restricted
  to the event, and an estimate of its probability, for events far too rare to hit
  by rejection.
* ``method="scale"`` (:class:`HighVolatility` only): an explicit fallback that draws
  unconditional windows and rescales them, ``r * target / realised``. It always
  succeeds, but the result is an ordinary window played louder, not a high-volatility
  regime of the model (no change in clustering or tails, an abrupt end of the window).

When a condition is too rare for the budget (``max_batches`` batches of
``batch_steps`` generated returns) a :class:`RareConditionError` says the achieved
acceptance rate and what to change. Generated windows are checked against the history
(:func:`quantgan.metrics.memorization_score`): a :class:`MemorizationWarning` says when
they are copies of real stretches (a block bootstrap replays history by design).

**Overlay.** :func:`overlay` splices scenario returns into an OHLCV history at a date
or a named crisis (:data:`ANCHORS`): history is unchanged before ``at``, the synthetic
returns drive Close through the window, then the historical returns continue from the
new level; Open, High and Low are rebuilt from the intraday ratios of historical days
with a similar move. The result, :class:`OverlaidPaths`, is a list of OHLCV frames
ready for a backtest engine. :func:`crisis_windows` and :func:`compare_to_crises` put a
synthetic regime next to the real crises.
"""

from __future__ import annotations

import inspect
import math
import numbers
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator

from quantgan._stack import _external_stacklevel
from quantgan.base import DataWarning, _check_positive_int, check_random_state
from quantgan.metrics import memorization_score
from quantgan.stress import _ohlcv_from_close, _reference_days

__all__ = [
    "ANCHORS",
    "Anchor",
    "Condition",
    "Crash",
    "HighVolatility",
    "MemorizationWarning",
    "OverlaidPaths",
    "RareConditionError",
    "RareEvent",
    "Scenario",
    "compare_to_crises",
    "crisis_windows",
    "overlay",
]


# --------------------------------------------------------------------------- #
# Historical crises
# --------------------------------------------------------------------------- #
class Anchor(NamedTuple):
    """A named historical crisis day, usable as ``overlay(..., at=name)``."""

    name: str
    date: pd.Timestamp
    description: str


#: Built-in crisis anchors (all inside the bundled S&P 500 data, 1999-2018).
ANCHORS: dict[str, Anchor] = {
    a.name: a
    for a in (
        Anchor("lehman", pd.Timestamp("2008-09-15"), "Lehman Brothers files for bankruptcy"),
        Anchor("flash_crash", pd.Timestamp("2010-05-06"), "Flash crash: -9% intraday in minutes"),
        Anchor(
            "us_downgrade", pd.Timestamp("2011-08-05"), "S&P downgrades US debt (after the close)"
        ),
        Anchor("china_2015", pd.Timestamp("2015-08-24"), "Yuan devaluation sell-off"),
        Anchor("volmageddon", pd.Timestamp("2018-02-05"), "VIX spike, short-volatility unwind"),
    )
}


def _anchor(name: object) -> Anchor | None:
    if not isinstance(name, str):
        return None
    return ANCHORS.get(name.strip().lower().replace("-", "_").replace(" ", "_"))


# --------------------------------------------------------------------------- #
# Errors and warnings
# --------------------------------------------------------------------------- #
class RareConditionError(RuntimeError):
    """A scenario's condition is too rare for the sampling budget.

    Attributes ``acceptance_rate``, ``n_accepted`` (distinct windows found) and
    ``n_candidates`` (windows checked) say how far the sampler got.
    """

    def __init__(self, message: str, acceptance_rate: float, n_accepted: int, n_candidates: int):
        super().__init__(message)
        self.acceptance_rate = acceptance_rate
        self.n_accepted = n_accepted
        self.n_candidates = n_candidates


class MemorizationWarning(UserWarning):
    """Generated scenario windows are near-copies of historical windows."""


# --------------------------------------------------------------------------- #
# Window statistics, vectorised over (paths, time)
# --------------------------------------------------------------------------- #
#: Returns generated per path scanned by the rejection sampler (amortises burn-ins).
_SCAN_STEPS = 2000
#: Bound on the (paths, windows, length) blocks built for rolling statistics.
_BLOCK_ENTRIES = 4_000_000
#: Copies: share of windows within memorization_score's threshold that triggers a warning.
_COPY_WARN_SHARE = 0.1


def _rolling_std(x: np.ndarray, length: int) -> np.ndarray:
    """Sample std (ddof=1) of every window of ``length`` along axis 1: (B, T-length+1)."""
    pad = np.zeros((x.shape[0], 1))
    c1 = np.concatenate([pad, np.cumsum(x, axis=1)], axis=1)
    c2 = np.concatenate([pad, np.cumsum(x * x, axis=1)], axis=1)
    s1 = c1[:, length:] - c1[:, :-length]
    s2 = c2[:, length:] - c2[:, :-length]
    var = (s2 - s1 * s1 / length) / (length - 1)
    return np.sqrt(np.clip(var, 0.0, None))


def _chunks(n_rows: int, per_row: int) -> Iterator[slice]:
    step = max(1, _BLOCK_ENTRIES // max(1, per_row))
    for start in range(0, n_rows, step):
        yield slice(start, min(n_rows, start + step))


def _rolling_log_drawdown(x: np.ndarray, length: int) -> np.ndarray:
    """Worst peak-to-trough fall of log price inside every window of ``length`` returns.

    The price level before a window's first return counts as a possible peak. Values
    are <= 0; the fall in price is ``1 - exp(value)``. Shape (B, T-length+1).
    """
    n_windows = x.shape[1] - length + 1
    log_price = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x, axis=1)], axis=1)
    out = np.empty((x.shape[0], n_windows))
    for rows in _chunks(x.shape[0], n_windows * (length + 1)):
        view = sliding_window_view(log_price[rows], length + 1, axis=1)
        out[rows] = (view - np.maximum.accumulate(view, axis=2)).min(axis=2)
    return out


def _rolling_extreme(x: np.ndarray, length: int, how: str) -> np.ndarray:
    n_windows = x.shape[1] - length + 1
    out = np.empty((x.shape[0], n_windows))
    for rows in _chunks(x.shape[0], n_windows * length):
        view = sliding_window_view(x[rows], length, axis=1)
        out[rows] = view.min(axis=2) if how == "min" else view.max(axis=2)
    return out


def _window_table(windows: np.ndarray) -> pd.DataFrame:
    """Per-window statistics of (n, length) log returns."""
    log_dd = _rolling_log_drawdown(windows, windows.shape[1])[:, 0]
    return pd.DataFrame(
        {
            "realised_vol": windows.std(axis=1, ddof=1) if windows.shape[1] > 1 else np.nan,
            "max_drawdown": -np.expm1(log_dd),
            "worst_day": windows.min(axis=1),
            "total_return": np.expm1(windows.sum(axis=1)),
        }
    )


# --------------------------------------------------------------------------- #
# Input checks
# --------------------------------------------------------------------------- #
def _check_number(name: str, value: object, rule: str, ok: Callable[[float], bool], fix: str):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or not ok(float(value))
    ):
        raise ValueError(f"{name} must be {rule}, got {value!r}{fix}")
    return float(value)


def _returns_matrix(x: object, name: str) -> np.ndarray:
    """Returns as (n_timesteps, n_assets) floats (a copy), checked finite."""
    if isinstance(x, (pd.Series, pd.DataFrame)):
        values = x.to_numpy(dtype=float, copy=True)
    else:
        try:
            values = np.array(x, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric returns, got {type(x).__name__}") from exc
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[0] == 0:
        raise ValueError(
            f"{name} must be a Series, a DataFrame (time x assets) or a 1-D / 2-D array of "
            f"returns, got shape {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        bad = int(values.size - np.count_nonzero(np.isfinite(values)))
        raise ValueError(f"{name} contains {bad} NaN or infinite values; drop them first")
    return values


def _paths_from_frame(frame: object, n_paths: int, n_timesteps: int) -> tuple[np.ndarray, list]:
    """An augmenter's sample frame -> (n_paths, n_timesteps, n_assets) and asset names."""
    if not isinstance(frame, pd.DataFrame) or frame.shape[0] != n_timesteps:
        raise TypeError(
            "augmenter.sample(n_paths, n_timesteps, random_state=...) must return a DataFrame "
            f"with n_timesteps rows, got {type(frame).__name__} of shape "
            f"{getattr(frame, 'shape', None)}"
        )
    values = frame.to_numpy(dtype=float, copy=True)  # writable, never the caller's
    if isinstance(frame.columns, pd.MultiIndex):
        assets = list(frame.columns.get_level_values(-1).unique())
    else:
        assets = []
    n_assets = max(1, len(assets))
    if values.shape[1] != n_paths * n_assets:
        raise TypeError(
            f"augmenter.sample returned {values.shape[1]} columns for {n_paths} paths and "
            f"{n_assets} asset(s)"
        )
    paths = values.reshape(n_timesteps, n_paths, n_assets).transpose(1, 0, 2)
    return np.array(paths, order="C"), assets


def _generator_window(augmenter: object) -> int | None:
    """The window of a generator that chains independent windows (the WGAN), if any."""
    window = getattr(augmenter, "window_", None)
    if hasattr(augmenter, "generator_") and isinstance(window, numbers.Integral):
        return int(window)
    return None


# --------------------------------------------------------------------------- #
# Scenarios
# --------------------------------------------------------------------------- #
_METHODS = ("reject", "latent", "scale")


class Scenario(BaseEstimator):
    """Base class of conditional scenarios; subclasses define the event.

    A subclass implements ``_length()`` (the window the condition is checked on),
    ``_levels(market)`` (thresholds learned from reference returns, e.g. the median
    volatility; ``market`` is ``(n_series, n_timesteps)``) and
    ``_window_scores(values, levels)``: for ``values`` of shape ``(B, T, n_assets)``
    a ``(B, T - length + 1)`` array, ``>= 0`` where the window starting there satisfies
    the condition. The score's size says how far a window is from the event, which
    subset simulation (``method="latent"``) climbs.

    Common parameters
    -----------------
    method : {"reject", "latent", "scale"}
        See the module docstring.
    reference : Series, DataFrame or array of returns, optional
        The history that relative levels refer to ("2.5x the historical median
        volatility", "beyond the historical 0.1% quantile"), and against which windows
        are checked for copies. Default: the augmenter's training returns when it keeps
        them (``returns_``, e.g. BootstrapAugmenter), else the model's own unconditional
        windows from the first batch (``attrs["level_source"] == "model"``; no copy check).
    batch_steps : int
        Returns generated per batch (rejection) or per budget unit (latent search).
    max_batches : int
        Budget: batches generated before giving up with a :class:`RareConditionError`.
    """

    # -- hooks -------------------------------------------------------------------------
    def _length(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_params(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _levels(self, market: np.ndarray) -> dict[str, float]:
        return {}

    def _window_scores(
        self, values: np.ndarray, levels: dict[str, float]
    ) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        # Parameters that differ from the defaults; a reference shows as its shape only.
        defaults = {
            k: p.default for k, p in inspect.signature(type(self).__init__).parameters.items()
        }
        shown = []
        for name, value in self.get_params(deep=False).items():
            if name == "reference" and value is not None:
                shown.append(f"reference=<{type(value).__name__} {np.shape(value)}>")
            elif name == "predicate":
                shown.append(f"predicate={getattr(value, '__name__', type(value).__name__)}")
            elif defaults.get(name, inspect.Parameter.empty) is not value and not (
                isinstance(value, (int, float, str)) and value == defaults.get(name)
            ):
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    # -- checks ------------------------------------------------------------------------
    def _check_common(self) -> None:
        if self.method not in _METHODS:
            raise ValueError(
                f"method must be one of {_METHODS}, got {self.method!r}; 'reject' works with "
                "every augmenter"
            )
        if self.method == "scale" and not isinstance(self, HighVolatility):
            raise ValueError(
                f"method='scale' (volatility scaling) is only defined for HighVolatility, not "
                f"{type(self).__name__}; use method='reject', or 'latent' with a WGANAugmenter"
            )
        _check_positive_int("batch_steps", self.batch_steps, "; e.g. batch_steps=100_000")
        _check_positive_int("max_batches", self.max_batches, "; e.g. max_batches=100")

    def _reference(self, augmenter: object) -> tuple[np.ndarray | None, str]:
        if self.reference is not None:
            ref = _returns_matrix(self.reference, "reference")
            if np.all(ref > 0):
                warnings.warn(
                    "reference is all positive: it looks like prices, but scenarios expect "
                    "returns; pass qg.log_returns(prices)",
                    DataWarning,
                    stacklevel=_external_stacklevel(),
                )
            source = "reference"
        else:
            ref = getattr(augmenter, "returns_", None)
            if not isinstance(ref, np.ndarray) or ref.ndim != 2:
                return None, "model"
            source = "training"
        if ref.shape[0] < self._length() + 1:
            raise ValueError(
                f"reference has {ref.shape[0]} returns, fewer than the window "
                f"({self._length()}) + 1: pass a longer history"
            )
        return ref, source

    # -- sampling ----------------------------------------------------------------------
    def sample(
        self, augmenter: Any, n_paths: int, *, n_timesteps: int | None = None, random_state=None
    ) -> pd.DataFrame:
        """Draw ``n_paths`` return paths whose first window satisfies the condition.

        Parameters
        ----------
        augmenter : fitted augmenter
            Anything with ``sample(n_paths, n_timesteps, random_state=...)`` returning a
            DataFrame like :meth:`quantgan.base.BaseAugmenter.sample`.
        n_paths : int
            Number of distinct paths (no two share a generated return).
        n_timesteps : int, optional
            Path length, at least the scenario's window (the default). Steps after the
            window are the model's own continuation of the same generated path.
        random_state : None, int or numpy Generator
            The same seed gives identical scenarios.

        Returns
        -------
        DataFrame
            Rows = steps (a RangeIndex named ``step``: the windows come from arbitrary
            points of simulated paths, so any calendar would be fictitious; overlay
            gives them dates), columns = paths (a ``(path, asset)`` MultiIndex for
            several assets). ``attrs`` holds the sampling report, also kept in
            ``self.stats_``:

            - ``acceptance_rate``: the probability of the event under the model. For
              ``"reject"`` the share of checked windows (stride 1) that satisfied the
              condition (``acceptance_unit == "window"``); for ``"latent"`` the
              subset-simulation estimate of the probability that one generated window
              of ``window_`` steps contains a satisfying window (``"generator
              window"``); 1.0 for ``"scale"``;
            - ``n_candidates`` (windows checked or generated), ``n_accepted``,
              ``n_generated`` (returns generated), ``n_batches``, ``elapsed_s``;
            - ``level_source`` (``"reference"``, ``"training"`` or ``"model"``) and the
              levels used (e.g. ``median_vol``, ``target_vol``);
            - ``copy_share`` and ``memorization_ratio`` of
              :func:`quantgan.metrics.memorization_score` against the reference (None
              without one);
            - ``"latent"`` also: ``n_levels``, ``mcmc_acceptance``, ``n_duplicates``.

        Raises
        ------
        RareConditionError
            When fewer than ``n_paths`` windows are found within ``max_batches``.
        """
        self._check_params()
        self._check_common()
        if not callable(getattr(augmenter, "sample", None)):
            raise TypeError(
                f"augmenter must have a sample(n_paths, n_timesteps, random_state=...) method, "
                f"got {type(augmenter).__name__}; pass a fitted quantgan augmenter"
            )
        n_paths = _check_positive_int("n_paths", n_paths)
        length = self._length()
        if n_timesteps is None:
            n_timesteps = length
        n_timesteps = _check_positive_int("n_timesteps", n_timesteps)
        if n_timesteps < length:
            raise ValueError(
                f"n_timesteps must be at least the scenario's window ({length}), got "
                f"{n_timesteps}; leave n_timesteps=None for just the window"
            )
        rng = check_random_state(random_state)
        reference, source = self._reference(augmenter)
        levels = self._levels(reference.mean(axis=1)[None, :]) if reference is not None else None
        start = time.perf_counter()
        sampler = {
            "reject": self._sample_reject,
            "latent": self._sample_latent,
            "scale": self._sample_scale,
        }[self.method]
        paths, assets, stats = sampler(augmenter, n_paths, n_timesteps, rng, levels)
        stats = {
            "scenario": repr(self),
            "method": self.method,
            **stats,
            "elapsed_s": time.perf_counter() - start,
            "level_source": source,
        }
        stats.update(self._copy_check(paths[:, :length].mean(axis=2), reference))
        frame = _scenario_frame(paths, assets)
        frame.attrs.update(stats)
        self.stats_ = stats
        return frame

    def _sample_reject(self, augmenter, n_paths, n_timesteps, rng, levels):
        length = self._length()
        window = _generator_window(augmenter)
        if window is not None and length > window:
            window = None  # the condition spans chained windows: nothing to restrict
        scan = max(_SCAN_STEPS, 2 * n_timesteps)
        if window is not None:
            scan = window * math.ceil(scan / window)
        per_batch = max(1, math.ceil(self.batch_steps / scan))
        starts = np.arange(scan - length + 1)
        valid = starts <= scan - n_timesteps
        if window is not None:
            valid &= starts % window <= window - length
        kept: list[np.ndarray] = []
        n_candidates = n_hits = n_batches = 0
        assets: list = []
        while len(kept) < n_paths and n_batches < self.max_batches:
            n_batches += 1
            frame = augmenter.sample(per_batch, scan, random_state=rng)
            values, assets = _paths_from_frame(frame, per_batch, scan)
            if levels is None:  # no history: the model's own unconditional windows
                levels = self._levels(values.mean(axis=2))
            with np.errstate(invalid="ignore", over="ignore"):
                hits = (self._window_scores(values, levels) >= 0) & valid
            n_candidates += per_batch * int(valid.sum())
            n_hits += int(hits.sum())
            for b in range(per_batch):
                occupied = np.zeros(scan, dtype=bool)
                # Random order among the hits: the event sits anywhere in the window,
                # not always at its end (as taking the first hit of a run would give).
                for s in rng.permutation(np.flatnonzero(hits[b])):
                    if occupied[s : s + n_timesteps].any():
                        continue
                    occupied[s : s + n_timesteps] = True
                    kept.append(values[b, s : s + n_timesteps])
                    if len(kept) == n_paths:
                        break
                if len(kept) == n_paths:
                    break
        rate = n_hits / n_candidates if n_candidates else 0.0
        level_stats = dict(levels or {})
        if len(kept) < n_paths:
            self._raise_rare(n_paths, len(kept), n_batches, n_candidates, rate, level_stats)
        stats = {
            "acceptance_rate": rate,
            "acceptance_unit": "window",
            "n_candidates": n_candidates,
            "n_accepted": n_paths,
            "n_generated": n_batches * per_batch * scan,
            "n_batches": n_batches,
            **level_stats,
        }
        return np.stack(kept), assets, stats

    def _raise_rare(self, n_paths, n_found, n_batches, n_candidates, rate, levels, spent=""):
        spent = spent or f"{n_batches} batch(es) of {self.batch_steps} returns"
        if n_found:
            need = math.ceil(n_batches * n_paths / n_found * 1.2)
            hint = f"at this rate about {need} batches are needed: pass max_batches={need}"
        else:
            hint = "no window satisfied it: relax the condition or raise max_batches"
        if self.method == "reject" and not isinstance(self, Condition):
            hint += "; with a WGANAugmenter, method='latent' searches the latent space"
        if isinstance(self, HighVolatility):
            hint += (
                "; method='scale' (rescaled ordinary windows) is the explicit fallback, see "
                "the HighVolatility docstring"
            )
        shown = ", ".join(f"{k}={v:.4g}" for k, v in levels.items())
        rate_text = f"{rate:.3g}" if rate > 0 else f"0, below {1 / max(1, n_candidates):.1e}"
        raise RareConditionError(
            f"{self!r} is too rare for the budget: {n_found} of {n_paths} windows found in "
            f"{spent} ({n_candidates:,} candidate windows, acceptance rate {rate_text}{'; ' + shown if shown else ''}). {hint}.",
            rate,
            n_found,
            n_candidates,
        )

    def _sample_scale(self, augmenter, n_paths, n_timesteps, rng, levels):
        raise NotImplementedError  # pragma: no cover - only HighVolatility scales

    def _sample_latent(self, augmenter, n_paths, n_timesteps, rng, levels):
        window = _generator_window(augmenter)
        if window is None or not hasattr(augmenter, "scaler_"):
            raise ValueError(
                f"method='latent' searches a generator's Gaussian latent space and needs a "
                f"fitted WGANAugmenter, got {type(augmenter).__name__}; use method='reject'"
            )
        length = self._length()
        if length > window:
            raise ValueError(
                f"method='latent' needs the scenario window ({length}) to fit in the "
                f"generator's window ({window}); use method='reject' or a WGAN with "
                f"window >= {length}"
            )
        search = _LatentSearch(self, augmenter, window, rng)
        return search.run(n_paths, n_timesteps, levels)

    # -- copies of history -------------------------------------------------------------
    def _copy_check(self, windows: np.ndarray, reference: np.ndarray | None) -> dict:
        length = windows.shape[1]
        if reference is None or reference.shape[0] < 3 * length:
            return {"copy_share": None, "memorization_ratio": None}
        m = memorization_score(
            reference.mean(axis=1), windows.T, window=length, max_windows=2000, random_state=0
        )
        if m["copy_share"] > _COPY_WARN_SHARE:
            warnings.warn(
                f"{m['copy_share']:.0%} of the {type(self).__name__} windows are near-copies "
                f"of historical windows (distance <= {m['threshold']:.3g}; memorization ratio "
                f"{m['ratio']:.2f}): the stress replays history rather than generating new "
                "markets. A block bootstrap does this by design; a generative model should not",
                MemorizationWarning,
                stacklevel=_external_stacklevel(),
            )
        return {"copy_share": m["copy_share"], "memorization_ratio": m["ratio"]}


def _scenario_frame(paths: np.ndarray, assets: list) -> pd.DataFrame:
    n_paths, n_timesteps, n_assets = paths.shape
    index = pd.RangeIndex(n_timesteps, name="step")
    if n_assets == 1:
        return pd.DataFrame(
            paths[:, :, 0].T, index=index, columns=pd.RangeIndex(n_paths, name="path")
        )
    assets = assets if len(assets) == n_assets else list(range(n_assets))
    columns = pd.MultiIndex.from_product([range(n_paths), assets], names=["path", "asset"])
    data = paths.transpose(1, 0, 2).reshape(n_timesteps, n_paths * n_assets)
    return pd.DataFrame(data, index=index, columns=columns)


class HighVolatility(Scenario):
    """Windows whose realised volatility is about ``factor`` times the historical median.

    The realised volatility of a window is the sample standard deviation (ddof=1) of
    its daily returns (of the equally weighted average return for several assets); the
    historical level is the median over all windows of ``length`` days of the
    reference. A window is accepted when its volatility is within ``tolerance`` of
    ``factor`` times that median, so the returned windows keep the fat tails and
    clustering of the model in a high-volatility state.

    ``method="scale"`` is an explicit fallback for models that rarely or never reach
    the level (a Gaussian model has one volatility): unconditional windows are
    multiplied by ``target / realised``. Every window then has exactly the target
    volatility, but it is an ordinary window played louder: the steps after the
    window are not rescaled (an abrupt calm), and nothing about tails or clustering
    changes. ``attrs["acceptance_rate"]`` is 1.0 and ``attrs["median_scale"]`` the
    median factor applied.

    Parameters
    ----------
    factor : float
        Target volatility as a multiple of the historical median (> 0).
    length : int
        Window length in steps (>= 2).
    tolerance : float
        Relative half-width of the accepted band, in (0, 1).
    method, reference, batch_steps, max_batches : see :class:`Scenario`.

    Examples
    --------
    >>> import quantgan as qg
    >>> from quantgan.baselines import GARCHAugmenter
    >>> returns = qg.log_returns(qg.load_sp500())
    >>> aug = GARCHAugmenter().fit(returns)
    >>> shock = HighVolatility(factor=2.5, length=60, reference=returns).sample(
    ...     aug, 200, random_state=0)
    >>> shock.shape
    (60, 200)
    """

    def __init__(
        self,
        factor: float = 2.0,
        length: int = 60,
        *,
        tolerance: float = 0.1,
        method: str = "reject",
        reference=None,
        batch_steps: int = 100_000,
        max_batches: int = 100,
    ):
        self.factor = factor
        self.length = length
        self.tolerance = tolerance
        self.method = method
        self.reference = reference
        self.batch_steps = batch_steps
        self.max_batches = max_batches

    def _length(self) -> int:
        return self.length

    def _check_params(self) -> None:
        _check_number(
            "factor", self.factor, "a positive number", lambda v: v > 0, "; e.g. factor=2.0"
        )
        _check_number(
            "tolerance",
            self.tolerance,
            "a number in (0, 1)",
            lambda v: 0 < v < 1,
            "; e.g. tolerance=0.1 for +-10%",
        )
        length = _check_positive_int("length", self.length, "; e.g. length=60")
        if length < 2:
            raise ValueError(f"length must be >= 2 for a volatility, got {length}")

    def _levels(self, market: np.ndarray) -> dict[str, float]:
        median = float(np.nanmedian(_rolling_std(market, self.length)))
        return {"median_vol": median, "target_vol": float(self.factor) * median}

    def _window_scores(self, values, levels):
        vol = _rolling_std(values.mean(axis=2), self.length)
        return self.tolerance - np.abs(vol / levels["target_vol"] - 1.0)

    def _sample_scale(self, augmenter, n_paths, n_timesteps, rng, levels):
        frame = augmenter.sample(n_paths, n_timesteps, random_state=rng)
        values, assets = _paths_from_frame(frame, n_paths, n_timesteps)
        if levels is None:
            levels = self._levels(values.mean(axis=2))
        realised = _rolling_std(values[:, : self.length].mean(axis=2), self.length)[:, 0]
        if np.any(realised <= 0):
            raise ValueError(
                "method='scale' met a window with zero volatility, which no factor can scale; "
                "check the augmenter's output"
            )
        scale = levels["target_vol"] / realised
        values[:, : self.length] *= scale[:, None, None]
        stats = {
            "acceptance_rate": 1.0,
            "acceptance_unit": "window",
            "n_candidates": n_paths,
            "n_accepted": n_paths,
            "n_generated": n_paths * n_timesteps,
            "n_batches": 1,
            "median_scale": float(np.median(scale)),
            **levels,
        }
        return values, assets, stats


class Crash(Scenario):
    """Windows with a peak-to-trough fall of at least ``drawdown`` inside ``within`` steps.

    The fall is measured on the price path ``exp(cumsum(r))`` of the window (of the
    equally weighted average return for several assets), the level before the first
    return included. With ``n_timesteps > within`` the path continues with the
    model's own dynamics after the crash: rebound or not.

    Parameters
    ----------
    drawdown : float
        The fall, a fraction in (0, 1): 0.3 is a 30% fall.
    within : int
        Window length in steps; the scenario's ``length``.
    method, reference, batch_steps, max_batches : see :class:`Scenario` (no level
        depends on the reference; it is used for the copy check only).

    Examples
    --------
    >>> crash = Crash(drawdown=0.3, within=20).sample(aug, 100, n_timesteps=60)
    """

    def __init__(
        self,
        drawdown: float = 0.3,
        within: int = 20,
        *,
        method: str = "reject",
        reference=None,
        batch_steps: int = 100_000,
        max_batches: int = 100,
    ):
        self.drawdown = drawdown
        self.within = within
        self.method = method
        self.reference = reference
        self.batch_steps = batch_steps
        self.max_batches = max_batches

    @property
    def length(self) -> int:  # type: ignore[override]
        """The scenario's window: ``within``."""
        return self.within

    def _length(self) -> int:
        return self.within

    def _check_params(self) -> None:
        _check_number(
            "drawdown",
            self.drawdown,
            "a fraction in (0, 1) (a fall of 100% or more is impossible for positive prices)",
            lambda v: 0 < v < 1,
            "; e.g. drawdown=0.3 for a 30% fall",
        )
        _check_positive_int("within", self.within, "; e.g. within=20")

    def _levels(self, market: np.ndarray) -> dict[str, float]:
        return {"log_drawdown": math.log1p(-float(self.drawdown))}

    def _window_scores(self, values, levels):
        mdd = _rolling_log_drawdown(values.mean(axis=2), self.within)
        return math.log1p(-float(self.drawdown)) - mdd


_TAILS = ("left", "right", "both")


class RareEvent(Scenario):
    """Windows with at least one daily return beyond the historical ``quantile``.

    ``tail="left"``: a return at or below the ``quantile`` quantile of the reference;
    ``"right"``: at or above its ``1 - quantile`` quantile; ``"both"``: either. For
    several assets the condition is on the equally weighted average return.

    Parameters
    ----------
    quantile : float
        Tail probability in (0, 0.5); 0.001 is a one-in-a-thousand day.
    length : int
        Window length in steps.
    tail : {"left", "right", "both"}
    method, reference, batch_steps, max_batches : see :class:`Scenario`.

    Examples
    --------
    >>> tail = RareEvent(quantile=0.001, length=20, reference=returns).sample(aug, 100)
    """

    def __init__(
        self,
        quantile: float = 0.001,
        length: int = 20,
        *,
        tail: str = "left",
        method: str = "reject",
        reference=None,
        batch_steps: int = 100_000,
        max_batches: int = 100,
    ):
        self.quantile = quantile
        self.length = length
        self.tail = tail
        self.method = method
        self.reference = reference
        self.batch_steps = batch_steps
        self.max_batches = max_batches

    def _length(self) -> int:
        return self.length

    def _check_params(self) -> None:
        _check_number(
            "quantile",
            self.quantile,
            "a tail probability in (0, 0.5)",
            lambda v: 0 < v < 0.5,
            "; e.g. quantile=0.001",
        )
        _check_positive_int("length", self.length, "; e.g. length=20")
        if self.tail not in _TAILS:
            raise ValueError(f"tail must be one of {_TAILS}, got {self.tail!r}")

    def _levels(self, market: np.ndarray) -> dict[str, float]:
        flat = market[np.isfinite(market)]
        q = float(self.quantile)
        return {"lower": float(np.quantile(flat, q)), "upper": float(np.quantile(flat, 1 - q))}

    def _window_scores(self, values, levels):
        m = values.mean(axis=2)
        left = levels["lower"] - _rolling_extreme(m, self.length, "min")
        if self.tail == "left":
            return left
        right = _rolling_extreme(m, self.length, "max") - levels["upper"]
        return right if self.tail == "right" else np.maximum(left, right)


class Condition(Scenario):
    """Windows that satisfy any user function ``predicate(window) -> bool``.

    Parameters
    ----------
    predicate : callable
        Receives one window of returns, an array of shape ``(length,)`` for one asset
        or ``(length, n_assets)``, and returns True to accept it. With
        ``vectorized=True`` it receives all windows of a batch at once, shape
        ``(n_windows, length)`` or ``(n_windows, length, n_assets)``, and returns a
        boolean array of ``n_windows`` (much faster).
    length : int
        Window length in steps.
    vectorized : bool
    method, reference, batch_steps, max_batches : see :class:`Scenario`. With
        ``method="latent"`` the search has no distance to climb: it needs hits among
        the first latent draws.

    Examples
    --------
    >>> down = Condition(lambda w: w.sum() < -0.1, length=20)   # a 10% fall over 20 days
    >>> fast = Condition(lambda w: w.sum(axis=1) < -0.1, length=20, vectorized=True)
    """

    def __init__(
        self,
        predicate: Callable[[np.ndarray], Any],
        length: int = 20,
        *,
        vectorized: bool = False,
        method: str = "reject",
        reference=None,
        batch_steps: int = 100_000,
        max_batches: int = 100,
    ):
        self.predicate = predicate
        self.length = length
        self.vectorized = vectorized
        self.method = method
        self.reference = reference
        self.batch_steps = batch_steps
        self.max_batches = max_batches

    def _length(self) -> int:
        return self.length

    def _check_params(self) -> None:
        if not callable(self.predicate):
            raise ValueError(
                f"predicate must be a function of a window returning True or False, got "
                f"{type(self.predicate).__name__}; e.g. Condition(lambda w: w.sum() < -0.1)"
            )
        _check_positive_int("length", self.length, "; e.g. length=20")
        if not isinstance(self.vectorized, bool):
            raise ValueError(f"vectorized must be True or False, got {self.vectorized!r}")

    def _window_scores(self, values, levels):
        n_paths, _, n_assets = values.shape
        view = sliding_window_view(values, self.length, axis=1)  # (B, W, n_assets, length)
        windows = view.transpose(0, 1, 3, 2).reshape(-1, self.length, n_assets)
        if n_assets == 1:
            windows = windows[:, :, 0]
        if self.vectorized:
            ok = np.asarray(self.predicate(windows))
            if ok.shape != (windows.shape[0],):
                raise ValueError(
                    f"predicate (vectorized=True) must return one bool per window, shape "
                    f"({windows.shape[0]},), got shape {ok.shape}; or pass vectorized=False"
                )
        else:
            ok = np.fromiter((self._call(w) for w in windows), dtype=bool, count=len(windows))
        return np.where(ok.astype(bool), 1.0, -1.0).reshape(n_paths, -1)

    def _call(self, window: np.ndarray) -> bool:
        out = self.predicate(window)
        if not isinstance(out, (bool, np.bool_)):
            raise ValueError(
                f"predicate must return True or False for one window, got "
                f"{type(out).__name__} {out!r}; for a batch of windows pass vectorized=True"
            )
        return bool(out)


# --------------------------------------------------------------------------- #
# Latent-space search for the WGAN: subset simulation with pCN MCMC
# --------------------------------------------------------------------------- #
class _LatentSearch:
    """Sample a WGAN's windows conditioned on a scenario, in latent space.

    The generator maps ``z ~ N(0, I)`` to a window; a window's score is the best
    window-score of the scenario over positions inside it (the event happens when it
    is >= 0). Subset simulation (Au & Beck 2001) estimates ``P(score >= 0)`` as a
    product of conditional probabilities ``p0`` through rising intermediate levels,
    each level repopulated by preconditioned Crank-Nicolson moves
    ``z' = rho z + sqrt(1 - rho^2) xi`` accepted when the score stays above the level:
    pCN leaves ``N(0, I)`` invariant, so the chains sample the generator's law
    restricted to the level, not an optimiser's favourite corner.
    """

    population = 1000
    p0 = 0.1
    final_steps = 10
    max_extra_steps = 50

    def __init__(self, scenario: Scenario, augmenter, window: int, rng: np.random.Generator):
        self.scenario, self.aug, self.window, self.rng = scenario, augmenter, window, rng
        self.budget = scenario.max_batches * max(1, math.ceil(scenario.batch_steps / window))
        self.used = 0
        self.beta = 0.6
        self.levels: dict | None = None

    def generate(self, z: np.ndarray) -> np.ndarray:
        import torch

        gen = self.aug.generator_
        device = next(gen.parameters()).device
        out = []
        for start in range(0, len(z), 4096):
            chunk = torch.from_numpy(z[start : start + 4096].astype(np.float32)).to(device)
            with torch.inference_mode():
                out.append(gen(chunk).transpose(1, 2).cpu().numpy().astype(np.float64))
        self.used += len(z)
        returns, _ = self.aug.scaler_.inverse_transform(np.concatenate(out))
        if getattr(self.aug, "acf_filter_", None) is not None:
            # match_acf: the same linear filter as sample(), started at the mean level
            # (a window has no past; its first days are filtered only in part).
            returns = self.aug._apply_acf_filter(returns)
        if getattr(self.aug, "correlation_mix_", None) is not None:
            returns = self.aug._apply_correlation_mix(returns)  # match_correlation
        return returns * self.aug.scale_ + self.aug.drift_  # (n, window, n_assets)

    def window_scores(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore"):
            ws = self.scenario._window_scores(x, self.levels)
        return np.where(np.isnan(ws), -np.inf, ws)

    def score(self, z: np.ndarray) -> np.ndarray:
        return self.window_scores(self.generate(z)).max(axis=1)

    def pcn(self, z, s, level, n_steps, keep_all):
        """Run chains from ``z`` (scores ``s``) at ``level``; all states or the last."""
        z, s = z.copy(), s.copy()
        states, scores = [z.copy()], [s.copy()]
        moved = np.zeros(len(z), dtype=bool)
        n_acc = 0
        for _ in range(n_steps):
            rho = math.sqrt(1 - self.beta**2)
            proposal = rho * z + self.beta * self.rng.standard_normal(z.shape)
            sp = self.score(proposal)
            acc = sp >= level
            z[acc], s[acc] = proposal[acc], sp[acc]
            moved |= acc
            n_acc += int(acc.sum())
            if keep_all:
                states.append(z.copy())
                scores.append(s.copy())
        rate = n_acc / max(1, n_steps * len(z))
        # Aim at the usual 0.2-0.5 acceptance of random-walk-like MCMC.
        if rate < 0.2:
            self.beta = max(0.05, self.beta * 0.6)
        elif rate > 0.5:
            self.beta = min(1.0, self.beta * 1.4)
        if keep_all:
            return np.concatenate(states), np.concatenate(scores), moved, rate
        return z, s, moved, rate

    def _fail(self, n_paths: int, n_found: int, rate: float) -> None:
        batches = math.ceil(self.used * self.window / self.scenario.batch_steps)
        self.scenario._raise_rare(
            n_paths,
            n_found,
            batches,
            self.used,
            rate,
            self.levels or {},
            spent=f"a latent search over {self.used:,} generated windows",
        )

    def _over_budget(self, log_p: float, n_found: int, n_paths: int) -> None:
        if self.used > self.budget:
            self._fail(n_paths, n_found, math.exp(log_p))

    def run(self, n_paths, n_timesteps, levels):
        d, w = self.aug.generator_.latent_dim, self.window
        n = self.population
        z = self.rng.standard_normal((n, d))
        x = self.generate(z)
        self.levels = levels if levels is not None else self.scenario._levels(x.mean(axis=2))
        s = self.window_scores(x).max(axis=1)
        log_p, n_levels, rates, previous = 0.0, 0, [], -math.inf
        while np.mean(s >= 0) < self.p0:
            level = float(np.quantile(s, 1 - self.p0, method="higher"))
            keep = s >= level
            if not np.isfinite(level) or level <= previous or keep.all():
                # No higher level to climb to (a yes/no Condition): the hits we have, if
                # any, seed the final chains.
                if np.any(s >= 0):
                    break
                self._fail(n_paths, 0, math.exp(log_p) * float(np.mean(s >= 0)))
            log_p += math.log(keep.mean())
            n_steps = math.ceil(n / keep.sum()) - 1
            z, s, _, rate = self.pcn(z[keep], s[keep], level, n_steps, keep_all=True)
            pick = self.rng.permutation(len(z))[:n]
            z, s = z[pick], s[pick]
            rates.append(rate)
            previous = level
            n_levels += 1
            self._over_budget(log_p, 0, n_paths)
        p_event = math.exp(log_p) * float(np.mean(s >= 0))
        # Final draws: chains at the event level from resampled hits, run until each moved.
        hits = np.flatnonzero(s >= 0)
        start = hits[self.rng.integers(len(hits), size=n_paths)]
        zf, sf, moved, rate = self.pcn(z[start], s[start], 0.0, self.final_steps, keep_all=False)
        rates.append(rate)
        for _ in range(self.max_extra_steps):
            if moved.all():
                break
            self._over_budget(log_p, int(moved.sum()), n_paths)
            idx = np.flatnonzero(~moved)
            zi, si, mi, _ = self.pcn(zf[idx], sf[idx], 0.0, 1, keep_all=False)
            zf[idx], sf[idx], moved[idx] = zi, si, mi
        xf = self.generate(zf)
        ws = self.window_scores(xf)
        out = np.empty((n_paths, n_timesteps, xf.shape[2]))
        starts = np.empty(n_paths, dtype=int)
        for i in range(n_paths):
            hit = np.flatnonzero(ws[i] >= 0)
            # float32 batches of another size can move a borderline score by an ulp
            starts[i] = self.rng.choice(hit) if hit.size else int(np.argmax(ws[i]))
        tail = max(0, n_timesteps - int((w - starts).min()))
        extra = math.ceil(tail / w)
        more = (
            self.generate(self.rng.standard_normal((n_paths * extra, d))).reshape(
                n_paths, extra * w, -1
            )
            if extra
            else np.empty((n_paths, 0, xf.shape[2]))
        )
        for i in range(n_paths):
            out[i] = np.concatenate([xf[i, starts[i] :], more[i]])[:n_timesteps]
        n_distinct = len(np.unique(zf, axis=0))
        stats = {
            "acceptance_rate": p_event,
            "acceptance_unit": "generator window",
            "n_candidates": self.used,
            "n_accepted": n_paths,
            "n_generated": self.used * w,
            "n_batches": math.ceil(self.used * w / self.scenario.batch_steps),
            "n_levels": n_levels,
            "mcmc_acceptance": float(np.mean(rates)) if rates else float("nan"),
            "n_duplicates": n_paths - n_distinct,
            **self.levels,
        }
        assets = list(getattr(self.aug, "asset_names_", [])) if out.shape[2] > 1 else []
        return out, assets, stats


# --------------------------------------------------------------------------- #
# Overlay onto real prices
# --------------------------------------------------------------------------- #
_OHLC = ("Open", "High", "Low", "Close")
_OHLC_MODES = ("historical-ratios", "flat")
_VOLUME_MODES = ("historical", "scaled")


def _check_prices(prices: object) -> pd.DataFrame:
    if not isinstance(prices, pd.DataFrame):
        raise TypeError(
            f"prices must be an OHLCV DataFrame (columns {', '.join(_OHLC)}, optional "
            f"Adj Close, Volume), got {type(prices).__name__}; e.g. qg.load_sp500()"
        )
    missing = [c for c in _OHLC if c not in prices.columns]
    if missing:
        raise ValueError(
            f"prices lacks the column(s) {missing}; overlay needs {list(_OHLC)} (Volume and "
            "Adj Close optional). Rename them, e.g. prices.rename(columns=str.title), or "
            "read files with qg.read_csv, which canonicalises the names"
        )
    if len(prices) < 2:
        raise ValueError(f"prices needs at least 2 rows, got {len(prices)}")
    index = prices.index
    if index.has_duplicates:
        raise ValueError(
            f"prices has duplicated dates (first: {_label(index[index.duplicated()][0])}); drop them, "
            "e.g. prices[~prices.index.duplicated()]"
        )
    if not index.is_monotonic_increasing:
        raise ValueError(
            "prices' dates are not in increasing order; sort them: prices.sort_index()"
        )
    checked = [c for c in (*_OHLC, "Adj Close", "Volume") if c in prices.columns]
    for column in checked:
        try:
            values = prices[column].to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"prices[{column!r}] must be numeric ({exc})") from exc
        bad = ~np.isfinite(values)
        if bad.any():
            raise ValueError(
                f"prices[{column!r}] has {int(bad.sum())} NaN or infinite value(s) (first at "
                f"{_label(index[np.argmax(bad)])}); fill or drop them first, e.g. prices.ffill()"
            )
        positive = column != "Volume"
        wrong = values <= 0 if positive else values < 0
        if wrong.any():
            rule = "positive" if positive else "non-negative"
            raise ValueError(
                f"prices[{column!r}] must be {rule}; found {values[np.argmax(wrong)]:g} at "
                f"{_label(index[np.argmax(wrong)])}. Clean the data (a split or a bad tick?) first"
            )
    o, h, lo, c = (prices[col].to_numpy(dtype=float) for col in _OHLC)
    tol = 1e-9 * c
    broken = (h < np.maximum(o, c) - tol) | (lo > np.minimum(o, c) + tol)
    if broken.any():
        warnings.warn(
            f"prices has {int(broken.sum())} bar(s) with High < max(Open, Close) or Low > "
            f"min(Open, Close) (first at {_label(index[np.argmax(broken)])}); they are kept as they "
            "are in the history, and their ratios are clipped when used as donors",
            DataWarning,
            stacklevel=_external_stacklevel(),
        )
    return prices


def _check_scenario(scenario_returns: object) -> tuple[np.ndarray, list]:
    if isinstance(scenario_returns, pd.DataFrame):
        if isinstance(scenario_returns.columns, pd.MultiIndex):
            raise ValueError(
                "scenario_returns has (path, asset) columns, but an OHLCV history is one "
                "asset; select it, e.g. scenario.xs('SPY', axis=1, level='asset')"
            )
        labels = list(scenario_returns.columns)
    elif isinstance(scenario_returns, pd.Series):
        labels = [scenario_returns.name if scenario_returns.name is not None else 0]
    else:
        labels = None
    values = _returns_matrix(scenario_returns, "scenario_returns")
    if labels is None:
        labels = list(range(values.shape[1]))
    if np.any(np.abs(values) > 1):
        warnings.warn(
            f"scenario_returns has daily log returns beyond +-100% (max |r| "
            f"{np.abs(values).max():.3g}): are these prices or percent returns, or is the "
            "model explosive (a nearly integrated GARCH)? overlay expects daily log returns",
            DataWarning,
            stacklevel=_external_stacklevel(),
        )
    return values, labels


def _label(value: object) -> str:
    """A date without its midnight time; anything else as repr."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return str(value.date())
    return str(value) if isinstance(value, pd.Timestamp) else repr(value)


def _resolve_at(index: pd.Index, at: object) -> int:
    """Row position of ``at``: an anchor name, or a date (the first row on or after it)."""
    anchor = _anchor(at)
    names = ", ".join(ANCHORS)
    if isinstance(index, pd.DatetimeIndex):
        if anchor is not None:
            at_ts = anchor.date
        elif isinstance(at, (numbers.Number, bool)):
            raise ValueError(
                f"at must be a date or an anchor name ({names}) for dated prices, got {at!r}"
            )
        else:
            try:
                at_ts = pd.Timestamp(at)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"at={at!r} is neither a date nor an anchor name ({names})"
                ) from exc
        if index.tz is not None and at_ts.tzinfo is None:
            at_ts = at_ts.tz_localize(index.tz)
        if at_ts < index[0] or at_ts > index[-1]:
            raise ValueError(
                f"at={at!r} ({at_ts.date()}) is outside prices' dates {index[0].date()} to "
                f"{index[-1].date()}; pick a date inside the data"
            )
        pos = int(index.searchsorted(at_ts, side="left"))
    else:
        if anchor is not None or at not in index:
            raise ValueError(
                f"at={at!r} is not a label of prices' index ({type(index).__name__} from "
                f"{index[0]!r} to {index[-1]!r}); anchor names need a DatetimeIndex"
            )
        pos = index.get_loc(at)
        if not isinstance(pos, numbers.Integral):
            raise ValueError(f"at={at!r} matches several rows of prices")
        pos = int(pos)
    if pos == 0:
        raise ValueError(
            f"at={at!r} is the first row of prices: the window starts from the previous "
            "close, so at must leave at least one row of history before it"
        )
    return pos


def _ohlc_from_historical_ratios(
    prices: pd.DataFrame, prev_close: np.ndarray, close: np.ndarray, rng
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open, High, Low for synthetic days from the intraday ratios of similar real days.

    The same rebuild as :func:`quantgan.stress.ohlcv_from_returns`: each synthetic day
    borrows the gap ``Open / previous Close`` and the wicks beyond the body
    (``High / max(Open, Close)``, ``Low / min(Open, Close)``) of a real day drawn
    among those nearest in close-to-close return, so a -8% day gets the range of a
    real -8% day and ``High >= max(Open, Close)``, ``Low <= min(Open, Close)`` hold by
    construction. Volume is not taken from the donor: overlay keeps each date's own.
    """
    bars = _ohlcv_from_close(close, prev_close, _reference_days(prices), rng)
    return bars["Open"], bars["High"], bars["Low"]


def overlay(
    prices: pd.DataFrame,
    scenario_returns: pd.DataFrame | pd.Series | np.ndarray,
    at: object,
    *,
    length: int | None = None,
    ohlc: str = "historical-ratios",
    volume: str = "historical",
    random_state=None,
) -> OverlaidPaths:
    """Splice synthetic returns into an OHLCV history: one stressed history per path.

    For every path (column of ``scenario_returns``):

    * rows before ``at`` are the history, unchanged;
    * from ``at``, for ``length`` rows, Close follows the synthetic log returns from the
      last historical close: ``Close[at + k] = Close[at - 1] * exp(r_0 + ... + r_k)``;
      Open, High and Low are rebuilt (``ohlc``); Adj Close keeps each date's
      ``Adj Close / Close`` ratio;
    * after the window the historical returns continue from the new level: every
      price column is the history times ``Close_new / Close_hist`` at the window's
      last row, so there is no jump and the intraday shape of every later bar is the
      real one.

    Dates (and the index's ``freq``) are preserved, Volume comes from history, other
    columns are copied. ``OHLC`` consistency holds on every synthetic bar, and after
    the window wherever the history has it. The caller's frames are not modified.

    Parameters
    ----------
    prices : DataFrame
        OHLCV history: columns Open, High, Low, Close, optionally Adj Close and Volume;
        no NaN, positive prices, unique increasing index (a DatetimeIndex for dates and
        anchor names).
    scenario_returns : DataFrame, Series or array
        Log returns, rows = steps, columns = paths (one asset), e.g. a
        :class:`Scenario`'s sample.
    at : str, date or index label
        Where the window starts: an anchor name of :data:`ANCHORS` (``"lehman"``), or a
        date (the first row on or after it), or a label of a non-date index.
    length : int, optional
        Rows of the scenario to splice in; default all of them.
    ohlc : {"historical-ratios", "flat"}
        ``"historical-ratios"``: gap and wicks of historical days with a similar move
        (see ``_ohlc_from_historical_ratios``); ``"flat"``: Open = previous Close,
        High / Low = the larger / smaller of Open and Close (no intraday range).
    volume : {"historical", "scaled"}
        ``"scaled"`` multiplies the window's historical volumes by the ratio of the
        path's realised volatility (root mean square return) to the history's over the
        same rows: busier markets in a stressed window.
    random_state : None, int or numpy Generator
        Seeds the choice of donor days.

    Returns
    -------
    OverlaidPaths
        One OHLCV DataFrame per path, iterable and indexable, with ``to_dict()``,
        ``panel()`` and a fan chart ``plot()``.

    Examples
    --------
    >>> prices = qg.load_sp500()
    >>> shock = HighVolatility(2.5, 60, reference=qg.log_returns(prices)).sample(aug, 200)
    >>> stressed = overlay(prices, shock, at="2015-08-17")
    >>> stressed[0].loc["2015-08-14":"2015-08-20"]
    """
    frame = _check_prices(prices)
    returns, labels = _check_scenario(scenario_returns)
    if ohlc not in _OHLC_MODES:
        raise ValueError(f"ohlc must be one of {_OHLC_MODES}, got {ohlc!r}")
    if volume not in _VOLUME_MODES:
        raise ValueError(f"volume must be one of {_VOLUME_MODES}, got {volume!r}")
    n_steps = returns.shape[0]
    if length is None:
        length = n_steps
    length = _check_positive_int("length", length, f"; e.g. length={n_steps}")
    if length > n_steps:
        raise ValueError(
            f"length={length} is longer than scenario_returns ({n_steps} rows); pass "
            f"length <= {n_steps} or sample longer scenarios (n_timesteps={length})"
        )
    pos = _resolve_at(frame.index, at)
    n_rows = len(frame)
    if pos + length > n_rows:
        raise ValueError(
            f"at={at!r} is too close to the end of prices: {n_rows - pos} row(s) from "
            f"{_label(frame.index[pos])} to the end, but the window needs length={length}; choose an "
            f"earlier at or a shorter length (<= {n_rows - pos})"
        )
    rng = check_random_state(random_state)
    end = pos + length
    r = returns[:length]
    close_hist = frame["Close"].to_numpy(dtype=float)
    with np.errstate(over="ignore"):
        close = close_hist[pos - 1] * np.exp(np.cumsum(r, axis=0))
    if not np.all(np.isfinite(close) & (close > 0)):
        raise ValueError(
            "scenario_returns drive Close to 0 or to overflow (cumulated log returns of "
            f"{np.cumsum(r, axis=0).min():.3g} to {np.cumsum(r, axis=0).max():.3g}); "
            "check that they are daily log returns"
        )
    prev_close = np.vstack([np.full((1, r.shape[1]), close_hist[pos - 1]), close[:-1]])
    if ohlc == "historical-ratios":
        open_, high, low = _ohlc_from_historical_ratios(frame, prev_close, close, rng)
    else:
        open_ = prev_close
        high, low = np.maximum(open_, close), np.minimum(open_, close)
    window = {"Open": open_, "High": high, "Low": low, "Close": close}
    if "Adj Close" in frame.columns:
        adjustment = frame["Adj Close"].to_numpy(dtype=float)[pos:end] / close_hist[pos:end]
        window["Adj Close"] = close * adjustment[:, None]
    level = close[-1] / close_hist[end - 1]  # (n_paths,): the new level after the window
    volume_factor = np.ones(r.shape[1])
    if volume == "scaled" and "Volume" in frame.columns:
        hist_r = np.log(close_hist[pos:end] / close_hist[pos - 1 : end - 1])
        hist_rms = float(np.sqrt(np.mean(hist_r**2)))
        if hist_rms > 0:
            volume_factor = np.sqrt(np.mean(r**2, axis=0)) / hist_rms
    columns = {c: frame[c].to_numpy(copy=True) for c in frame.columns}
    frames = []
    for j in range(r.shape[1]):
        data = {}
        for name, hist in columns.items():
            if name in window:
                col = hist.astype(float)  # a copy
                col[pos:end] = window[name][:, j]
                col[end:] *= level[j]
            elif name == "Volume" and volume == "scaled":
                col = hist.copy()
                scaled = hist[pos:end] * volume_factor[j]
                col[pos:end] = np.round(scaled) if np.issubdtype(hist.dtype, np.integer) else scaled
            else:
                col = hist.copy()
            data[name] = col
        frames.append(pd.DataFrame(data, index=frame.index.copy(), columns=frame.columns))
    return OverlaidPaths(
        frames,
        labels,
        start=pos,
        length=length,
        history_close=frame["Close"].copy(),
    )


class OverlaidPaths(Sequence):
    """Stressed OHLCV histories from :func:`overlay`: a sequence of DataFrames.

    ``paths[i]`` is the i-th frame (a slice gives another ``OverlaidPaths``),
    ``len(paths)``, ``for frame in paths``. ``labels`` are the scenario's column labels,
    ``at`` the first date of the window, ``window`` its dates, ``length`` its rows.
    """

    def __init__(
        self,
        frames: list[pd.DataFrame],
        labels: list,
        *,
        start: int,
        length: int,
        history_close: pd.Series,
    ):
        self._frames = list(frames)
        self.labels = list(labels)
        self.start = start
        self.length = length
        self.history_close = history_close

    @property
    def at(self):
        """The first index label (date) of the synthetic window."""
        return self.history_close.index[self.start]

    @property
    def window(self) -> pd.Index:
        """Index labels (dates) of the synthetic window."""
        return self.history_close.index[self.start : self.start + self.length]

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, key):
        if isinstance(key, slice):
            return OverlaidPaths(
                self._frames[key],
                self.labels[key],
                start=self.start,
                length=self.length,
                history_close=self.history_close,
            )
        return self._frames[key]

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return iter(self._frames)

    def __repr__(self) -> str:
        first, last = self.window[0], self.window[-1]
        fmt = (lambda d: str(d.date())) if isinstance(first, pd.Timestamp) else repr
        return (
            f"OverlaidPaths({len(self)} paths x {len(self.history_close)} rows, synthetic "
            f"window {fmt(first)} to {fmt(last)} ({self.length} rows))"
        )

    def to_dict(self) -> dict:
        """``{label: OHLCV frame}``."""
        return dict(zip(self.labels, self._frames, strict=True))

    def panel(self, field: str | None = None) -> pd.DataFrame:
        """All paths in one frame.

        ``field=None``: columns ``(path, field)`` (a MultiIndex, like a multi-ticker
        download); ``field="Close"``: one column per path.
        """
        if field is not None:
            if self._frames and field not in self._frames[0].columns:
                raise ValueError(
                    f"field must be one of {list(self._frames[0].columns)}, got {field!r}"
                )
            data = {label: f[field] for label, f in zip(self.labels, self._frames, strict=True)}
            out = pd.DataFrame(data, index=self.history_close.index.copy())
            out.columns.name = "path"
            return out
        return pd.concat(self._frames, axis=1, keys=self.labels, names=["path", "field"])

    def plot(
        self,
        *,
        before: int = 60,
        after: int = 60,
        field: str = "Close",
        quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
        n_lines: int = 5,
        logy: bool = False,
        ax=None,
    ):
        """Fan chart of the paths around the window: quantile bands, a few paths, history.

        ``before`` / ``after`` rows around the window are shown; ``quantiles`` are paired
        from the outside in (5%-95%, 25%-75%), an odd middle one drawn as a line;
        ``n_lines`` individual paths in grey; the historical Close in black.
        Returns the matplotlib Figure (no pyplot state): ``fig.savefig("fan.png")``.
        """
        from matplotlib.figure import Figure

        qs = sorted(float(q) for q in quantiles)
        if not qs or any(not 0 <= q <= 1 for q in qs):
            raise ValueError(f"quantiles must be numbers in [0, 1], got {quantiles!r}")
        lo = max(0, self.start - _check_nonnegative("before", before))
        hi = min(
            len(self.history_close), self.start + self.length + _check_nonnegative("after", after)
        )
        values = self.panel(field).iloc[lo:hi]
        x = values.index
        if ax is None:
            fig = Figure(figsize=(10, 5), layout="constrained")
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        bands = np.quantile(values.to_numpy(), qs, axis=1)
        for i in range(len(qs) // 2):
            alpha = 0.15 + 0.2 * i / max(1, len(qs) // 2)
            label = f"{qs[i]:.0%}-{qs[-1 - i]:.0%} of paths"
            ax.fill_between(
                x, bands[i], bands[-1 - i], color="tab:blue", alpha=alpha, lw=0, label=label
            )
        if len(qs) % 2:
            ax.plot(
                x, bands[len(qs) // 2], color="tab:blue", lw=1.5, label=f"{qs[len(qs) // 2]:.0%}"
            )
        for j in range(min(n_lines, values.shape[1])):
            ax.plot(x, values.iloc[:, j], color="tab:gray", lw=0.6, alpha=0.8)
        if field in ("Close", "Open", "High", "Low"):
            hist = self.history_close.iloc[lo:hi] if field == "Close" else None
            if hist is not None:
                ax.plot(x, hist, color="black", lw=1.5, label="history")
        ax.axvspan(
            self.window[0], self.window[-1], color="tab:red", alpha=0.08, label="synthetic window"
        )
        ax.axvline(self.at, color="tab:red", lw=1, ls="--")
        ax.set_title(f"{len(self)} stressed paths from {self.at!s:.10} ({self.length} rows)")
        ax.set_ylabel(field)
        if logy:
            ax.set_yscale("log")
        ax.legend(loc="best", fontsize="small")
        return fig


def _check_nonnegative(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- #
# Historical crises as reference regimes
# --------------------------------------------------------------------------- #
def _history_returns(data: object) -> pd.Series:
    if isinstance(data, pd.DataFrame) and "Close" in data.columns:
        from quantgan.data import log_returns

        return log_returns(data)
    if isinstance(data, pd.Series) and isinstance(data.index, pd.DatetimeIndex):
        return data.astype(float)
    raise TypeError(
        "data must be an OHLCV DataFrame or a Series of returns with a DatetimeIndex, got "
        f"{type(data).__name__}; e.g. qg.load_sp500() or qg.log_returns(prices)"
    )


def crisis_windows(
    data: pd.DataFrame | pd.Series, length: int = 20, *, anchors: Sequence[str] | None = None
) -> pd.DataFrame:
    """The historical log returns of ``length`` days from each crisis anchor.

    Parameters
    ----------
    data : OHLCV DataFrame or Series of log returns with a DatetimeIndex
    length : int
    anchors : names of :data:`ANCHORS`, default all that fit in the data.

    Returns
    -------
    DataFrame
        Rows = steps (0 is the anchor day's return), columns = anchor names.

    Examples
    --------
    >>> crisis_windows(qg.load_sp500(), 20)["lehman"].sum()   # log return, 15 Sep-10 Oct 2008
    """
    r = _history_returns(data)
    length = _check_positive_int("length", length, "; e.g. length=20")
    chosen = list(ANCHORS) if anchors is None else list(anchors)
    out = {}
    for name in chosen:
        anchor = _anchor(name)
        if anchor is None:
            raise ValueError(f"unknown anchor {name!r}; choose from {list(ANCHORS)}")
        pos = int(r.index.searchsorted(anchor.date, side="left"))
        fits = r.index[0] <= anchor.date <= r.index[-1] and pos + length <= len(r)
        if not fits:
            if anchors is not None:
                raise ValueError(
                    f"anchor {anchor.name!r} ({anchor.date.date()}) with length={length} does "
                    f"not fit in the data ({r.index[0].date()} to {r.index[-1].date()})"
                )
            continue
        out[anchor.name] = r.to_numpy()[pos : pos + length]
    if not out:
        raise ValueError(
            f"no crisis anchor fits in the data ({r.index[0].date()} to {r.index[-1].date()}) "
            f"with length={length}; anchors: {[(a.name, str(a.date.date())) for a in ANCHORS.values()]}"
        )
    return pd.DataFrame(out, index=pd.RangeIndex(length, name="step"))


def compare_to_crises(
    scenario_returns: pd.DataFrame | np.ndarray,
    data: pd.DataFrame | pd.Series,
    *,
    length: int | None = None,
    anchors: Sequence[str] | None = None,
) -> pd.DataFrame:
    """A synthetic regime next to the real crises: volatility, drawdown, worst day, return.

    Each historical crisis window (:func:`crisis_windows`) and the 5%, 50% and 95%
    quantiles over the synthetic paths of the same statistics, computed on the first
    ``length`` rows (default: all rows of ``scenario_returns``).

    Returns
    -------
    DataFrame
        Rows: the anchors, then ``synthetic 5%``, ``synthetic median``,
        ``synthetic 95%``; columns ``realised_vol`` (daily std), ``max_drawdown``
        (fraction), ``worst_day`` (log return), ``total_return``.
    """
    values, _ = _check_scenario(scenario_returns)
    if length is None:
        length = values.shape[0]
    length = _check_positive_int("length", length)
    if length > values.shape[0]:
        raise ValueError(
            f"length={length} is longer than scenario_returns ({values.shape[0]} rows)"
        )
    real = crisis_windows(data, length, anchors=anchors)
    table = _window_table(real.to_numpy().T)
    table.index = pd.Index(real.columns, name="window")
    synthetic = _window_table(values[:length].T)
    summary = synthetic.quantile([0.05, 0.5, 0.95])
    summary.index = pd.Index(["synthetic 5%", "synthetic median", "synthetic 95%"], name="window")
    return pd.concat([table, summary])
