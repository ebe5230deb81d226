"""Temporal convolutional generator and critic (Quant GANs, Wiese et al. 2020).

The generator is fully convolutional: noise ``(batch, noise_channels, T + rf - 1)``
maps to returns ``(batch, n_assets, T)`` for ANY ``T``, so a path of 5000 days is
generated in one pass from one noise sequence (no chained windows, no fake
periodicity at window joins). Output step ``t`` depends on the noise at
``t .. t + rf - 1`` only: dependence in generated paths ends at lag ``rf - 1``.

Blocks (one per dilation ``1, 2, 4, ...``)::

    h -> dilated causal Conv1d(kernel 2, no padding) -> PReLU -> Conv1d(1x1) -> PReLU = y
    skip_i = y (cropped to the last T steps);  h <- crop(h) + y      (residual)
    output = Conv1d(1x1)(PReLU(sum_i skip_i))

Convolutions are unpadded ("valid"), so each block shortens the sequence by its
dilation and the receptive field is ``1 + sum(dilations)``; the last dilation is
trimmed so that the receptive field is exactly the one asked for.

With ``memory`` (time constants in steps), extra noise channels are filtered into
stationary AR(1) processes (:func:`ar1_filter`, exact and FFT-based) that drive a
log-volatility factor multiplied onto the output: ``out_t = tcn_t * exp(w . slow_t)``,
while the TCN body sees the channels' white innovations (``slow_input``), so that a
return can move with the state's innovation but not follow its level (which made
spurious momentum). That is a latent stochastic volatility
whose autocorrelation is a sum of exponentials (16, 64, 256 days by default in
:class:`quantgan.WGANAugmenter`), so volatility clustering reaches past the receptive
field. With ``garch``, a GARCH(1,1) volatility driven by the network's own output
multiplies the output too (:func:`garch_log_variance`: bursts of large days, the
short-lag clustering of ``r^2`` that a log-normal factor cannot reach). The critic must
see magnitudes for the generator to learn clustering:
``TCNCritic(magnitude=True)`` scores ``(x, |x|)`` (measured in docs/model.md: with
``x`` alone, training removed the clustering the factor started with).

Initialisation follows :mod:`quantgan.nn.conv` (measured there): zero biases and
an output layer rescaled to unit output standard deviation across noise draws.

The training loop (:class:`quantgan.training.WGANTrainer`) draws flat latents
``(batch, latent_dim)``; :class:`TCNWindowGenerator` reshapes a flat standard
normal vector into the noise sequence of one training window, which is exactly
i.i.d. noise of the right shape, so the trainer needs no change.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from quantgan.nn.lipschitz import LIPSCHITZ_METHODS, spectral_norm
from quantgan.preprocessing import (
    GARCH_ALPHA,
    GARCH_CLIP,
    GARCH_PERSISTENCE,
    SHARED_VOLATILITY,
)

_SLOPE = 0.2
#: Gain on the log-volatility weights of a TCN with memory (see TCNGenerator).
_LOG_VOL_GAIN = 10.0


def ar1_filter(noise: torch.Tensor, timescales) -> torch.Tensor:
    """Stationary unit-variance AR(1) processes from i.i.d. standard normal ``noise``.

    ``noise`` is ``(batch, len(timescales), L)``; channel ``k`` becomes
    ``x_0 = e_0``, ``x_t = rho_k x_{t-1} + sqrt(1 - rho_k^2) e_t`` with
    ``rho_k = exp(-1 / timescales[k])``, so every ``x_t`` is standard normal and
    ``corr(x_t, x_{t+h}) = exp(-h / timescale)``. Computed in closed form
    (``x_t = rho^t e_0 + sqrt(1 - rho^2) sum_{s=1..t} rho^{t-s} e_s``) as one FFT
    convolution, so the cost is ``O(L log L)`` with no Python loop over time, and
    the result for one path does not depend on the others in the batch.
    """
    length = noise.shape[-1]
    if length == 1:
        return noise
    rho = torch.tensor(
        [math.exp(-1.0 / float(t)) for t in timescales], dtype=torch.float64, device=noise.device
    )
    lags = torch.arange(length, dtype=torch.float64, device=noise.device)
    powers = rho[:, None] ** lags  # (K, L): rho^j
    kernel = torch.sqrt(1 - rho * rho)[:, None] * powers[:, : length - 1]
    n_fft = 1 << (2 * (length - 1) - 1).bit_length()
    e = noise[..., 1:].to(torch.float64)
    spectrum = torch.fft.rfft(e, n=n_fft) * torch.fft.rfft(kernel, n=n_fft)
    conv = torch.fft.irfft(spectrum, n=n_fft)[..., : length - 1]
    x = torch.cat([torch.zeros_like(noise[..., :1], dtype=torch.float64), conv], dim=-1)
    x = x + powers * noise[..., :1].to(torch.float64)
    return x.to(noise.dtype)


def garch_log_variance(
    shocks: torch.Tensor,
    alpha: torch.Tensor,
    persistence: torch.Tensor,
    clip: float = GARCH_CLIP,
    gamma: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Log of a unit-mean GARCH(1,1) variance driven by ``shocks``, without a loop over time.

    ``shocks`` is ``(batch, n_assets, L)``, ``alpha``, ``persistence`` and ``gamma``
    (default 0) are ``(n_assets,)``; with ``beta = persistence - alpha - gamma / 2``
    and ``omega = 1 - persistence`` (so the variance has mean 1 for symmetric unit
    shocks; Bollerslev 1986; ``gamma`` is the extra weight of negative shocks of the
    GJR-GARCH, Glosten, Jagannathan and Runkle 1993)

    .. math:: \sigma^2_0 = 1, \qquad
              \sigma^2_t = \omega + \sigma^2_{t-1} A_{t-1}, \quad
              A_t = (\alpha + \gamma 1_{u_t < 0}) \min(u_t^2, c^2) + \beta .

    This linear recursion with random coefficients (a Kesten process, whose
    stationary law has a power-law right tail) has the closed form
    ``sigma^2_t = P_t (1 + omega sum_{s=1..t} 1 / P_s)`` with ``P_t = prod_{i<t} A_i``,
    evaluated in logs with a cumulative sum and ``torch.logcumsumexp`` (stable for
    any length, differentiable, ``O(L)`` with no Python loop) in double precision.
    ``sigma^2_t`` depends on ``u_{<t}`` only. ``clip`` bounds each shock's
    contribution: a heavy-tailed generator output cannot blow the variance up.
    Returns ``log sigma^2``, ``(batch, n_assets, L)``, in the dtype of ``shocks``.
    """
    u = shocks.to(torch.float64)
    alpha = alpha.to(torch.float64)[:, None]
    persistence = persistence.to(torch.float64)[:, None]
    squares = torch.clamp(u * u, max=clip * clip)
    coeff = alpha * squares + (persistence - alpha)
    if gamma is not None:
        gamma = gamma.to(torch.float64)[:, None]
        coeff = coeff + gamma * (squares * (u < 0) - 0.5)
    log_p = torch.cumsum(torch.log(coeff), dim=-1)
    log_p = torch.cat([torch.zeros_like(log_p[..., :1]), log_p[..., :-1]], dim=-1)
    inner = torch.log1p(-persistence) + torch.logcumsumexp(-log_p[..., 1:], dim=-1)
    inner = torch.cat([torch.full_like(inner[..., :1], -math.inf), inner], dim=-1)
    return (log_p + torch.logaddexp(torch.zeros_like(log_p), inner)).to(shocks.dtype)


def dilations_for(receptive_field: int) -> list[int]:
    """Dilations ``1, 2, 4, ...`` (the last one trimmed) with ``1 + sum = receptive_field``."""
    if isinstance(receptive_field, bool) or not isinstance(receptive_field, int):
        raise ValueError(f"receptive_field must be an int >= 2, got {receptive_field!r}")
    if receptive_field < 2:
        raise ValueError(f"receptive_field must be >= 2, got {receptive_field}")
    dilations, left, d = [], receptive_field - 1, 1
    while left > 0:
        step = min(d, left)
        dilations.append(step)
        left -= step
        d *= 2
    return dilations


class _Block(nn.Module):
    """Dilated causal conv (kernel 2, valid) + 1x1 conv; returns (residual, skip)."""

    def __init__(self, channels: int, dilation: int, sn: bool, act: str):
        super().__init__()
        self.dilation = dilation
        dil = nn.Conv1d(channels, channels, kernel_size=2, dilation=dilation)
        point = nn.Conv1d(channels, channels, kernel_size=1)
        self.dilated = spectral_norm(dil) if sn else dil
        self.point = spectral_norm(point) if sn else point
        if act == "prelu":
            self.act1, self.act2 = nn.PReLU(channels), nn.PReLU(channels)
        else:
            self.act1, self.act2 = nn.LeakyReLU(_SLOPE), nn.LeakyReLU(_SLOPE)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.act2(self.point(self.act1(self.dilated(h))))
        return h[..., self.dilation :] + y, y


class TCNGenerator(nn.Module):
    """Noise ``(batch, noise_channels, T + receptive_field - 1)`` -> ``(batch, n_assets, T)``.

    Parameters
    ----------
    noise_channels : int, default 3
        Noise values per time step (Quant GANs use 3).
    n_assets : int, default 1
    hidden : int, default 32
        Channels of every block.
    receptive_field : int, default 127
        Noise steps that one output step sees (>= 2). Without ``memory``, also the
        longest lag with any dependence in generated paths, plus one.
    memory : tuple of float, default ()
        Time constants (in steps) of extra, slowly varying noise channels: each is
        a stationary AR(1) process with autocorrelation ``exp(-lag / timescale)``
        (see :func:`ar1_filter`), computed from the last ``len(memory)`` channels of
        the input noise. They carry dependence past the receptive field, the way a
        latent volatility state does: through a learned linear map, they make a
        log-volatility factor that multiplies the output, ``out_t = tcn_t *
        exp(w . slow_t)`` (their innovations also enter the TCN, see
        ``slow_input``): a stochastic volatility with the autocorrelations of a sum
        of AR(1) processes, so volatility clustering persists over hundreds of steps.
    slow_input : {"innovations", "state"}, default "innovations"
        What the TCN body receives from the slow channels. "innovations": their
        white-noise innovations, so the volatility *level* reaches the output only
        through the log-volatility factor, while a return can still move with the
        state's recent innovations (a leverage effect, as in stochastic
        volatility models with correlated innovations). "state": the AR(1) levels
        themselves (the second session's model): the TCN's mean could then follow
        the slow state, which made persistent drifts (mean ACF of r over lags 1-20
        0.012 against the real -0.008, 100-day sums 1.9x too dispersed; measured in
        docs/model.md).
    asset_memory : bool, default False
        With ``memory`` and several assets: one set of slow channels shared by all
        assets (a market volatility) plus one set per asset (its own volatility), so
        ``len(memory) * (1 + n_assets)`` slow channels. Each asset's log-volatility
        starts with half its variance from the shared set and half from its own
        (:meth:`set_log_volatility` moves the split); training may move the mix
        (:class:`quantgan.WGANAugmenter` fits the split and trains the weights only
        when that start cannot reach the assets' volatility co-movement).
        Without it every asset's volatility is driven by the same slow channels.
        Measured on S&P 500 + NASDAQ after 5 minutes (docs/model.md): 20-day
        volatility co-movement 0.94 with shared channels only, 0.74 and 0.91 in
        two runs with these, 0.84 real.
    garch : bool, default False
        Multiply the output by ``sigma_t``, a GARCH(1,1) volatility driven by the
        network's own output (:func:`garch_log_variance`, one per asset, with
        ``garch_alpha`` and ``garch_persistence``, default 0.05 and 0.99, set by
        :meth:`set_garch`): ``out_t = sigma_t * tcn_t * exp(w . slow_t - var(w . slow))``
        with ``sigma_t^2 = omega + sigma_{t-1}^2 (alpha min(u_{t-1}^2, 16) + beta)``,
        ``u`` the path's ``tcn`` output scaled to unit mean square (so the recursion is
        stationary whatever the network makes: ``E log(alpha u^2 + beta) <=
        log(alpha + beta) < 0``). A
        large output raises the volatility of the days after it, and the
        volatility gets the power-law right tail of a GARCH variance, which a
        log-normal factor lacks: bursts of extreme days, the short-lag clustering of
        ``r^2``. The recursion starts at ``sigma^2 = 1`` and runs first over
        ``n_assets`` extra noise channels (the last ones; as many steps as the
        noise) as Gaussian shocks, so the first output step already has a
        (nearly) stationary volatility.
        ``garch="gjr"``: the GJR-GARCH(1,1) recursion (Glosten, Jagannathan and
        Runkle 1993), ``sigma_t^2 = omega + sigma_{t-1}^2 ((alpha + gamma
        1[u_{t-1} < 0]) min(u_{t-1}^2, 16) + beta)``, ``beta = persistence - alpha -
        gamma / 2``: a down day raises the volatility more than an up day of the
        same size (the leverage effect); ``garch_gamma`` (default 0) is set by
        :meth:`set_garch` too.

    Examples
    --------
    >>> g = TCNGenerator(3, 1, 32, receptive_field=127)
    >>> g(torch.randn(8, 3, 1000 + g.receptive_field - 1)).shape
    torch.Size([8, 1, 1000])
    """

    def __init__(
        self,
        noise_channels: int = 3,
        n_assets: int = 1,
        hidden: int = 32,
        receptive_field: int = 127,
        memory: tuple = (),
        asset_memory: bool = False,
        slow_input: str = "innovations",
        garch: bool | str = False,
    ):
        super().__init__()
        memory = tuple(float(t) for t in memory)
        if any(not (math.isfinite(t) and t > 0) for t in memory):
            raise ValueError(f"memory time constants must be positive numbers, got {memory}")
        if slow_input not in ("innovations", "state"):
            raise ValueError(f"slow_input must be 'innovations' or 'state', got {slow_input!r}")
        self.memory = memory
        self.slow_input = slow_input
        self.asset_memory = bool(asset_memory and memory and n_assets > 1)
        # Time constant of every slow channel: the shared set, then one set per asset.
        self._timescales = memory * (1 + n_assets) if self.asset_memory else memory
        self.fast_channels = noise_channels
        # The TCN body sees fast + slow channels; GARCH burn-in channels come last.
        body_channels = noise_channels + len(self._timescales)
        if garch not in (False, True, "gjr"):
            raise ValueError(f"garch must be False, True or 'gjr', got {garch!r}")
        self.garch = bool(garch)
        self.garch_asymmetric = garch == "gjr"
        self.noise_channels = body_channels + (n_assets if self.garch else 0)
        self.n_assets, self.hidden = n_assets, hidden
        self.dilations = dilations_for(receptive_field)
        self.receptive_field = 1 + sum(self.dilations)
        self.input = nn.Conv1d(body_channels, hidden, kernel_size=1)
        self.blocks = nn.ModuleList(_Block(hidden, d, False, "prelu") for d in self.dilations)
        self.act = nn.PReLU(hidden)
        self.output = nn.Conv1d(hidden, n_assets, kernel_size=1)
        if memory:
            # log-volatility = (gain * w) . slow state: a stochastic-volatility factor
            # multiplied onto the output. The gain lets Adam move the weights at a
            # useful speed; the start gives a log-volatility std of about 0.5 (daily
            # equity returns: 0.5-0.6) spread over the time constants.
            k = len(memory)
            self.log_vol = nn.Conv1d(len(self._timescales), n_assets, kernel_size=1, bias=False)
            self._put_log_volatility(
                torch.full((n_assets, k), 0.5 / math.sqrt(k), dtype=torch.float64)
            )
        if self.garch:
            self.register_buffer("garch_alpha", torch.full((n_assets,), GARCH_ALPHA))
            self.register_buffer("garch_persistence", torch.full((n_assets,), GARCH_PERSISTENCE))
        if self.garch_asymmetric:
            self.register_buffer("garch_gamma", torch.zeros(n_assets))
        self._calibrate()

    @torch.no_grad()
    def set_garch(self, alpha, persistence, gamma=None) -> None:
        """Set the GARCH volatility's ``alpha``, ``persistence`` and (``"gjr"``) ``gamma``.

        Each is ``(n_assets,)`` (or a scalar); ``persistence = alpha + gamma / 2 +
        beta`` with ``0 <= alpha``, ``0 <= gamma``, ``alpha + gamma / 2 <= persistence
        < 1``; ``gamma`` (the extra weight of negative shocks) needs a generator built
        with ``garch="gjr"`` and defaults to 0. The output layer is then rescaled to
        unit output std again.
        """
        if not self.garch:
            raise ValueError("set_garch needs a generator built with garch=True or 'gjr'")
        if gamma is not None and not self.garch_asymmetric:
            raise ValueError("gamma needs a generator built with garch='gjr'")
        a = torch.as_tensor(alpha, dtype=torch.float32).expand(self.n_assets).clone()
        p = torch.as_tensor(persistence, dtype=torch.float32).expand(self.n_assets).clone()
        g = torch.as_tensor(0.0 if gamma is None else gamma, dtype=torch.float32)
        g = g.expand(self.n_assets).clone()
        if not (torch.isfinite(a).all() and torch.isfinite(p).all() and torch.isfinite(g).all()):
            raise ValueError(
                f"alpha, persistence and gamma must be finite, got {a.tolist()}, "
                f"{p.tolist()}, {g.tolist()}"
            )
        if (a < 0).any() or (g < 0).any() or (a + g / 2 > p).any() or (p >= 1).any():
            raise ValueError(
                f"need 0 <= alpha, 0 <= gamma and alpha + gamma / 2 <= persistence < 1, got "
                f"alpha {a.tolist()}, gamma {g.tolist()}, persistence {p.tolist()}"
            )
        self.garch_alpha.copy_(a)
        self.garch_persistence.copy_(p)
        if self.garch_asymmetric:
            self.garch_gamma.copy_(g)
        self._calibrate()

    @torch.no_grad()
    def set_log_volatility(self, weights, shared: float = SHARED_VOLATILITY) -> None:
        """Start the log-volatility factor at given weights, then recalibrate the output.

        ``weights`` is ``(n_assets, len(memory))``: the standard deviation that each
        time constant adds to an asset's log-volatility (e.g. the moment estimate of
        :func:`quantgan.preprocessing.log_volatility_weights`). With ``asset_memory``,
        the share ``shared`` (in [0, 1]) of each asset's log-volatility variance goes on
        the shared channels and the rest on its own (default 0.5, the even split of the
        constructor's start; :func:`quantgan.preprocessing.shared_volatility_share`
        fits it to the data); without ``asset_memory`` it is ignored. The output layer
        is then rescaled to unit output std again.
        """
        if not self.memory:
            raise ValueError("set_log_volatility needs a generator with memory")
        w = torch.as_tensor(weights, dtype=self.log_vol.weight.dtype)
        k = len(self.memory)
        if w.shape != (self.n_assets, k) or not torch.isfinite(w).all():
            raise ValueError(
                f"weights must be finite with shape ({self.n_assets}, {k}), got {tuple(w.shape)}"
            )
        if not 0 <= shared <= 1:  # also rejects NaN
            raise ValueError(f"shared must be in [0, 1], got {shared!r}")
        self._put_log_volatility(w, float(shared))
        self._calibrate()

    @torch.no_grad()
    def _put_log_volatility(self, w: torch.Tensor, shared: float = SHARED_VOLATILITY) -> None:
        """Write ``(n_assets, len(memory))`` log-volatility stds into the factor's weights.

        With ``asset_memory``, the share ``shared`` of the log-variance goes on the
        shared channels and the rest on the asset's own; none on the other assets' own
        channels.
        """
        k = len(self.memory)
        w = w.double() / _LOG_VOL_GAIN  # in double, cast once on assignment
        self.log_vol.weight.zero_()
        if self.asset_memory:
            for a in range(self.n_assets):
                self.log_vol.weight[a, :k, 0] = w[a] * math.sqrt(shared)
                self.log_vol.weight[a, k * (1 + a) : k * (2 + a), 0] = w[a] * math.sqrt(1 - shared)
        else:
            self.log_vol.weight[:, :, 0] = w

    @torch.no_grad()
    def set_output_correlation(self, corr, current=None, n: int = 64, length: int = 1024) -> None:
        """Mix the output layer so that the network's output has correlation ``corr``.

        ``corr`` is an ``(n_assets, n_assets)`` correlation matrix (symmetric, unit
        diagonal, positive definite); so is ``current``, the output's present
        correlation, if known. The network's output is its unit shocks, before any
        GARCH volatility or log-volatility factor. Without ``current`` the output is
        measured on ``n`` fresh noise paths of ``length`` steps and its covariance
        ``C = L_C L_C^T`` across assets whitened; the output weights ``W`` become
        ``L_R L_C^{-1} W`` (``L_R`` the Cholesky factor of ``corr``). With
        ``current``, ``L_C`` is its Cholesky factor and nothing is measured: the map
        that takes ``current`` to ``corr`` is applied (exact when the output's
        correlation is ``current``). The output layer is then rescaled to unit output
        std again, every asset's alike; like :meth:`set_garch`, that recalibration
        zeroes the network's biases, so this is a start for a freshly built network,
        not an edit of a trained one. A freshly built network's outputs are random
        mixtures of the same features, with correlations of about +-0.3 whatever the
        data's; this starts training at the data's instead.
        """
        target = self._cholesky(corr, "corr")
        if current is not None:
            measured = self._cholesky(current, "current")
        else:
            noise = torch.randn(n, self.noise_channels, length + self.receptive_field - 1)
            out = self._network(noise)[0].double()
            c = out - out.mean(dim=(0, 2), keepdim=True)
            cov = torch.einsum("nat,nbt->ab", c, c) / (c.shape[0] * c.shape[2])
            measured, info = torch.linalg.cholesky_ex(cov)
            if info:  # outputs linearly dependent: nothing to whiten
                raise ValueError("the network's outputs are linearly dependent; cannot mix them")
        mix = target @ torch.linalg.inv(measured)
        weight = self.output.weight[:, :, 0].double()
        self.output.weight[:, :, 0] = (mix @ weight).to(self.output.weight.dtype)
        self._calibrate()

    def _cholesky(self, corr, name: str) -> torch.Tensor:
        """The Cholesky factor of an ``(n_assets, n_assets)`` correlation matrix."""
        r = torch.as_tensor(corr, dtype=torch.float64)
        k = self.n_assets
        if r.shape != (k, k):
            raise ValueError(f"{name} must have shape ({k}, {k}), got {tuple(r.shape)}")
        if not torch.isfinite(r).all():
            raise ValueError(f"{name} must be finite")
        if not torch.allclose(r, r.T) or not torch.allclose(
            torch.diagonal(r), torch.ones(k, dtype=r.dtype)
        ):
            raise ValueError(f"{name} must be symmetric with a unit diagonal")
        factor, info = torch.linalg.cholesky_ex(r)
        if info:
            raise ValueError(f"{name} must be positive definite")
        return factor

    @torch.no_grad()
    def log_volatility(self) -> torch.Tensor:
        """``(n_assets, len(memory))``: the std each time constant adds to log-volatility.

        With ``asset_memory``, shared and own channels of the same time constant are
        combined (root sum of squares): the inverse of :meth:`set_log_volatility`.
        """
        if not self.memory:
            raise ValueError("log_volatility needs a generator with memory")
        w = self.log_vol.weight.detach()[:, :, 0] * _LOG_VOL_GAIN
        k = len(self.memory)
        if not self.asset_memory:
            return w.clone()
        own = torch.stack([w[a, k * (1 + a) : k * (2 + a)] for a in range(self.n_assets)])
        return torch.sqrt(w[:, :k] ** 2 + own**2)

    @torch.no_grad()
    def _calibrate(self, n: int = 64, length: int = 64) -> None:
        """Zero the biases; set the output layer to zero mean, unit std across noise.

        PReLU outputs are not centred, so zero biases alone give a mean of ~1.8 std.
        """
        for module in self.modules():
            if isinstance(module, nn.Conv1d) and module.bias is not None:
                module.bias.zero_()
        was_training = self.training
        noise = torch.randn(n, self.noise_channels, length + self.receptive_field - 1)
        # With garch, the network's own output is the GARCH shock: unit std there (the
        # volatility and the factor have mean square 1 on their own).
        out = self._network(noise)[0] if self.garch else self(noise)
        std = out.std()
        if std > 0:
            self.output.weight.div_(std)
            self.output.bias.sub_(out.mean() / std)
        self.train(was_training)

    def noise_length(self, n_timesteps: int) -> int:
        """Noise steps needed for ``n_timesteps`` output steps."""
        return n_timesteps + self.receptive_field - 1

    def _network(self, noise: torch.Tensor):
        """(network output, AR(1) states over the output steps or None, burn-in shocks
        or None) for a full noise tensor."""
        if noise.dim() != 3 or noise.shape[1] != self.noise_channels:
            raise ValueError(
                f"noise must have shape (batch, {self.noise_channels}, T + "
                f"{self.receptive_field - 1}), got {tuple(noise.shape)}"
            )
        length = noise.shape[-1] - self.receptive_field + 1
        if length < 1:
            raise ValueError(
                f"noise must be at least receptive_field = {self.receptive_field} steps long, "
                f"got {noise.shape[-1]}"
            )
        burn_in = None
        if self.garch:
            burn_in, noise = noise[:, -self.n_assets :], noise[:, : -self.n_assets]
        slow = None
        if self.memory:
            # noise keeps the slow channels' white innovations for the TCN body.
            fast, slow = noise[:, : self.fast_channels], noise[:, self.fast_channels :]
            slow = ar1_filter(slow, self._timescales)
            if self.slow_input == "state":
                noise = torch.cat([fast, slow], dim=1)
        h = self.input(noise)
        skips = None
        for block in self.blocks:
            h, y = block(h)
            y = y[..., -length:]
            skips = y if skips is None else skips + y
        out = self.output(self.act(skips))
        return out, (None if slow is None else slow[..., -length:]), burn_in

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        out, slow, burn_in = self._network(noise)
        if burn_in is not None:
            # Each path's output scaled to unit mean square: then E log(alpha u^2 + beta)
            # <= log(alpha + beta) < 0 and the variance cannot explode, whatever the
            # network makes (the test's distorted one has mean square 34). That scalar
            # is the one way sigma_t depends on the path after t.
            square = out.pow(2)
            if self.garch_asymmetric:
                # "gjr": scaled so that the shocks' weighted mean square
                # mean((alpha + gamma 1[u < 0]) u^2) is alpha + gamma / 2 on every path,
                # whence E A = persistence and the same bound, however lopsided the
                # output (plain mean square when the output is symmetric).
                arch = (self.garch_alpha + self.garch_gamma / 2)[:, None]
                weight = self.garch_alpha[:, None] + self.garch_gamma[:, None] * (out < 0)
                square = torch.where(arch > 0, weight * square / arch.clamp_min(1e-12), square)
            unit = out / square.mean(dim=-1, keepdim=True).clamp_min(1e-12).sqrt()
            shocks = torch.cat([burn_in, unit], dim=-1)
            log_var = garch_log_variance(
                shocks,
                self.garch_alpha,
                self.garch_persistence,
                gamma=self.garch_gamma if self.garch_asymmetric else None,
            )
            out = out * torch.exp(0.5 * log_var[..., -out.shape[-1] :])
        if slow is not None:
            log_vol = _LOG_VOL_GAIN * self.log_vol(slow)
            if self.garch:
                # exp(L - var L) has mean square 1 (L Gaussian), like the GARCH variance's
                # mean: the network's output keeps unit scale and stays a unit shock.
                var = (_LOG_VOL_GAIN * self.log_vol.weight[:, :, 0]).pow(2).sum(dim=1)
                log_vol = log_vol - var[:, None]
            out = out * torch.exp(log_vol)
        return out


class TCNWindowGenerator(nn.Module):
    """Adapter for the training loop: flat latents ``(batch, latent_dim)`` -> windows.

    ``latent_dim = noise_channels * (window + receptive_field - 1)``; a flat latent is
    reshaped into the noise sequence of one window. Sampling long paths uses
    :attr:`tcn` directly.
    """

    def __init__(self, tcn: TCNGenerator, window: int):
        super().__init__()
        self.tcn, self.window = tcn, window
        self.noise_shape = (tcn.noise_channels, tcn.noise_length(window))
        self.latent_dim = self.noise_shape[0] * self.noise_shape[1]

    @property
    def receptive_field(self) -> int:
        return self.tcn.receptive_field

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.tcn(z.view(z.shape[0], *self.noise_shape))


class TCNCritic(nn.Module):
    """Windows ``(batch, n_assets, window)`` -> one score per window.

    A TCN (non-causal is irrelevant for a critic; the same unpadded dilated blocks)
    whose receptive field is ``min(receptive_field, window)``, then the mean over
    time of the last features and of the skip sum, then ``Linear -> LeakyReLU ->
    Linear``. The mean pooling makes the score a window average of local features
    over ``receptive_field`` steps: it sees dependence up to that lag, like the
    generator can produce. ``lipschitz`` containing ``"sn"`` puts spectral
    normalisation on every convolution and linear layer (as :class:`ConvCritic`);
    activations are LeakyReLU (1-Lipschitz; PReLU's learned slope is not bounded).
    ``magnitude=True`` feeds ``(x, |x|)`` instead of ``x`` (``|x|`` is 1-Lipschitz, so
    the gradient penalty still applies; volatility becomes a linear feature).
    """

    def __init__(
        self,
        window: int = 256,
        n_assets: int = 1,
        hidden: int = 32,
        receptive_field: int = 127,
        lipschitz: str = "sn+gp",
        magnitude: bool = False,
    ):
        super().__init__()
        if lipschitz not in LIPSCHITZ_METHODS:
            raise ValueError(f"lipschitz must be one of {LIPSCHITZ_METHODS}, got {lipschitz!r}")
        if window < 2:
            raise ValueError(f"window must be >= 2 for the critic, got {window}")
        sn = "sn" in lipschitz
        self.window = window
        self.dilations = dilations_for(min(receptive_field, window))
        self.receptive_field = 1 + sum(self.dilations)

        def wrap(layer: nn.Module) -> nn.Module:
            return spectral_norm(layer) if sn else layer

        self.magnitude = magnitude
        inputs = 2 * n_assets if magnitude else n_assets
        self.input = wrap(nn.Conv1d(inputs, hidden, kernel_size=1))
        self.blocks = nn.ModuleList(_Block(hidden, d, sn, "leaky") for d in self.dilations)
        self.act = nn.LeakyReLU(_SLOPE)
        self.head = nn.Sequential(wrap(nn.Linear(2 * hidden, hidden)), self.act)
        self.out = wrap(nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[-1] - self.receptive_field + 1
        if self.magnitude:
            x = torch.cat([x, x.abs()], dim=1)
        h = self.input(x)
        skips = None
        for block in self.blocks:
            h, y = block(h)
            y = y[..., -length:]
            skips = y if skips is None else skips + y
        pooled = torch.cat([h.mean(dim=-1), self.act(skips).mean(dim=-1)], dim=1)
        return self.out(self.head(pooled)).squeeze(-1)
