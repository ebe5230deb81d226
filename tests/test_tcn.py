"""quantgan.nn.tcn: receptive field, causality, any-length output, critic, init."""

import numpy as np
import pytest
import torch

from quantgan.nn import TCNCritic, TCNGenerator, TCNWindowGenerator
from quantgan.nn.lipschitz import gradient_penalty
from quantgan.nn.tcn import dilations_for
from quantgan.training import TrainingConfig, WGANTrainer


@pytest.mark.parametrize(
    "rf, expected",
    [
        (2, [1]),
        (8, [1, 2, 4]),
        (127, [1, 2, 4, 8, 16, 32, 63]),
        (128, [1, 2, 4, 8, 16, 32, 64]),
        (255, [1, 2, 4, 8, 16, 32, 64, 127]),
    ],
)
def test_dilations_give_the_exact_receptive_field(rf, expected):
    assert dilations_for(rf) == expected
    assert TCNGenerator(2, 1, 4, rf).receptive_field == rf


@pytest.mark.parametrize("rf", [1, 0, 2.5, True])
def test_bad_receptive_field(rf):
    with pytest.raises(ValueError, match="receptive_field must be"):
        dilations_for(rf)


@pytest.mark.parametrize("n_timesteps", [1, 7, 100, 1000])
def test_generator_makes_any_length_in_one_pass(n_timesteps):
    torch.manual_seed(0)
    g = TCNGenerator(3, 2, 8, receptive_field=31)
    out = g(torch.randn(4, 3, g.noise_length(n_timesteps)))
    assert out.shape == (4, 2, n_timesteps)
    assert torch.isfinite(out).all()


def test_output_step_depends_on_exactly_receptive_field_noise_steps():
    torch.manual_seed(0)
    g = TCNGenerator(2, 1, 8, receptive_field=13)
    t_len = 30
    noise = torch.randn(1, 2, g.noise_length(t_len), requires_grad=True)
    out = g(noise)
    t = 10
    (grad,) = torch.autograd.grad(out[0, 0, t], noise)
    touched = grad[0].abs().sum(dim=0).nonzero().flatten()
    # Output step t sees noise steps t .. t + rf - 1 and nothing else (causal, no leak).
    assert touched.min().item() == t
    assert touched.max().item() == t + g.receptive_field - 1


def test_generator_init_is_centred_with_unit_std_and_latent_dependent():
    torch.manual_seed(0)
    g = TCNGenerator(3, 1, 32, receptive_field=127).eval()
    out = g(torch.randn(256, 3, g.noise_length(200)))
    assert abs(out.mean().item()) < 0.15
    assert 0.8 < out.std().item() < 1.2
    # Different noise gives different paths: not a bias pattern (see quantgan.nn.conv).
    corr = np.corrcoef(out[:, 0, :].detach().numpy())
    assert np.abs(corr[~np.eye(256, dtype=bool)]).mean() < 0.2


def test_generator_rejects_bad_noise():
    g = TCNGenerator(3, 1, 4, receptive_field=9)
    with pytest.raises(ValueError, match="at least receptive_field = 9"):
        g(torch.randn(2, 3, 8))
    with pytest.raises(ValueError, match="noise must have shape"):
        g(torch.randn(2, 5, 40))


def test_window_adapter_reshapes_flat_latents():
    torch.manual_seed(0)
    tcn = TCNGenerator(3, 1, 8, receptive_field=15)
    g = TCNWindowGenerator(tcn, window=40)
    assert g.latent_dim == 3 * (40 + 14)
    assert g.receptive_field == 15
    z = torch.randn(5, g.latent_dim)
    torch.testing.assert_close(g(z), tcn(z.view(5, 3, 54)))
    assert g(z).shape == (5, 1, 40)


@pytest.mark.parametrize("lipschitz", ["gp", "sn", "sn+gp", "clip"])
def test_critic_scores_windows(lipschitz):
    torch.manual_seed(0)
    c = TCNCritic(window=64, n_assets=2, hidden=8, receptive_field=31, lipschitz=lipschitz)
    assert c(torch.randn(6, 2, 64)).shape == (6,)
    has_sn = any("parametrizations" in name for name, _ in c.named_parameters())
    assert has_sn == ("sn" in lipschitz)


def test_critic_receptive_field_is_capped_at_the_window():
    c = TCNCritic(window=20, hidden=4, receptive_field=127)
    assert c.receptive_field == 20
    assert c(torch.randn(3, 1, 20)).shape == (3,)


def test_critic_bad_lipschitz():
    with pytest.raises(ValueError, match="lipschitz must be one of"):
        TCNCritic(window=20, lipschitz="spectral")


def test_sn_critic_is_sane_in_eval_before_training():
    """The pitfall in DESIGN.md: an SN model in eval() before a training pass."""
    torch.manual_seed(0)
    c = TCNCritic(window=64, hidden=16, receptive_field=31, lipschitz="sn+gp").eval()
    x = torch.randn(32, 1, 64)
    assert c(x).abs().max().item() < 10.0
    gp, norm = gradient_penalty(c, x, torch.randn(32, 1, 64))
    assert torch.isfinite(gp) and 0 < norm.item() < 10.0


def test_trainer_runs_unchanged_with_the_adapter():
    torch.manual_seed(0)
    window = 32
    g = TCNWindowGenerator(TCNGenerator(3, 1, 8, receptive_field=15), window)
    c = TCNCritic(window, 1, 8, 15, "gp")
    real = np.random.default_rng(0).standard_normal((200, 1, window))
    cfg = TrainingConfig(lipschitz="gp", n_critic=2, batch_size=8, time_budget=None,
                         max_steps=6, validation_every=3, n_validation=16)  # fmt: skip
    trainer = WGANTrainer(g, c, real, cfg, score=lambda x: float(np.abs(x.std() - 1)), seed=0)
    trainer.fit()
    assert trainer.step == 6
    assert [s for s, _, _ in trainer.snapshots] == [3, 6]
    assert trainer.snapshots[0][1].shape == (4, window, 1)
    assert all(np.isfinite(h["loss_critic"]) for h in trainer.history)


def test_ar1_filter_is_the_stationary_recursion():
    from scipy.signal import lfilter

    from quantgan.nn.tcn import ar1_filter

    e = torch.randn(3, 2, 700, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x = ar1_filter(e, (10, 300)).numpy()
    for k, tau in enumerate((10, 300)):
        rho = np.exp(-1 / tau)
        ref = np.empty((3, 700))
        ref[:, 0] = e[:, k, 0]
        zi = (rho * e[:, k, 0].numpy())[:, None]
        ref[:, 1:] = lfilter([np.sqrt(1 - rho**2)], [1, -rho], e[:, k, 1:].numpy(), zi=zi)[0]
        np.testing.assert_allclose(x[:, k], ref, atol=1e-10)
    # Stationary: unit variance from the first step on; correlation exp(-lag / tau).
    big = ar1_filter(torch.randn(4000, 1, 60, generator=torch.Generator().manual_seed(1)), (20,))
    assert big.std(dim=0).squeeze().sub(1).abs().max() < 0.06
    corr = (big[:, 0, 10] * big[:, 0, 50]).mean()
    assert abs(corr - np.exp(-40 / 20)) < 0.05


def test_memory_carries_dependence_past_the_receptive_field():
    rf = 9
    g = TCNGenerator(2, 1, 8, receptive_field=rf, memory=(100.0,)).eval()
    noise = torch.randn(1, 3, 300 + rf - 1)
    bumped = noise.clone()
    bumped[0, 2, 0] += 5.0  # the slow channel's first step
    with torch.no_grad():
        gap = (g(bumped) - g(noise)).abs()[0, 0]
    assert gap[200:].min() > 0  # far past lag rf - 1 = 8
    # Without memory, the same bump on a fast channel reaches the first output only.
    plain = TCNGenerator(3, 1, 8, receptive_field=rf).eval()
    with torch.no_grad():
        gap = (plain(bumped) - plain(noise)).abs()[0, 0]
    assert gap[0] > 0 and gap[1:].max() == 0


def test_memory_must_be_positive():
    with pytest.raises(ValueError, match="positive numbers"):
        TCNGenerator(3, 1, 8, receptive_field=9, memory=(0,))


def test_magnitude_critic_sees_x_and_abs_x():
    torch.manual_seed(0)
    c = TCNCritic(window=64, n_assets=2, hidden=8, receptive_field=31, lipschitz="gp",
                  magnitude=True)  # fmt: skip
    assert c.input.in_channels == 4
    x = torch.randn(6, 2, 64)
    assert c(x).shape == (6,)
    # |x| is an input: a critic of (x, |x|) can tell x from -x only through its x part;
    # zero that part's weights and flipping the sign changes nothing.
    with torch.no_grad():
        c.input.weight[:, :2] = 0
    torch.testing.assert_close(c(x), c(-x))
    gp, norm = gradient_penalty(c, x, torch.randn(6, 2, 64))
    assert torch.isfinite(gp) and norm.item() > 0


def test_memory_log_volatility_factor_scales_the_output():
    from quantgan.nn.tcn import ar1_filter

    g = TCNGenerator(2, 1, 8, receptive_field=9, memory=(50.0, 200.0)).eval()
    assert g.log_vol.weight.shape == (1, 2, 1)
    noise = torch.randn(4, 4, 200 + 8)
    with torch.no_grad():
        out = g(noise)
        g.log_vol.weight.zero_()
        flat = g(noise)
    slow = ar1_filter(noise[:, 2:], (50.0, 200.0))[..., -200:]
    w = torch.full((2,), 0.5 / np.sqrt(2))  # the documented start: log-vol std ~0.5
    factor = torch.exp(torch.einsum("k,bkt->bt", w, slow))[:, None]
    torch.testing.assert_close(out, flat * factor, rtol=1e-4, atol=1e-6)


def test_asset_memory_gives_each_asset_its_own_volatility():
    torch.manual_seed(0)
    kw = dict(receptive_field=9, memory=(50.0, 200.0))
    shared = TCNGenerator(2, 2, 8, **kw).eval()
    own = TCNGenerator(2, 2, 8, asset_memory=True, **kw).eval()
    assert shared.noise_channels == 2 + 2 and own.noise_channels == 2 + 2 * 3
    # Same start log-volatility std (0.5) per asset; asset 0 does not load on
    # asset 1's own channels.
    w_shared, w_own = (10.0 * g.log_vol.weight[..., 0] for g in (shared, own))
    torch.testing.assert_close(w_own.pow(2).sum(1), w_shared.pow(2).sum(1))
    torch.testing.assert_close(w_own.pow(2).sum(1), torch.full((2,), 0.25))
    assert (w_own[0, 4:] == 0).all() and (w_own[1, 2:4] == 0).all()

    # On long paths, the assets' volatilities co-move less with their own channels.
    def vol_corr(g):
        with torch.no_grad():
            x = g(torch.randn(8, g.noise_channels, 4000 + 8)).numpy()
        v = np.log(np.lib.stride_tricks.sliding_window_view(np.abs(x), 20, axis=-1).mean(-1))
        return np.mean([np.corrcoef(v[i, 0], v[i, 1])[0, 1] for i in range(8)])

    assert vol_corr(own) < vol_corr(shared) - 0.2
    # One asset: nothing changes.
    assert TCNGenerator(2, 1, 8, asset_memory=True, **kw).noise_channels == 4


def test_set_log_volatility_round_trips_and_keeps_unit_output_std():
    kw = dict(receptive_field=9, memory=(16.0, 64.0, 256.0))
    w = torch.tensor([[0.2, 0.0, 0.4], [0.1, 0.3, 0.0]])
    for asset_memory in (False, True):
        torch.manual_seed(0)
        g = TCNGenerator(2, 2, 8, asset_memory=asset_memory, **kw)
        g.set_log_volatility(w)
        torch.testing.assert_close(g.log_volatility(), w)
        if asset_memory:  # half the variance shared, half the asset's own
            shared = 10.0 * g.log_vol.weight[:, :3, 0]
            torch.testing.assert_close(shared.pow(2), w.pow(2) / 2)
            assert (g.log_vol.weight[0, 6:] == 0).all()
        with torch.no_grad():
            out = g(torch.randn(64, g.noise_channels, 64 + 8))
        assert 0.8 < out.std().item() < 1.25
    with pytest.raises(ValueError, match="shape"):
        g.set_log_volatility(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="memory"):
        TCNGenerator(2, 1, 8, receptive_field=9).set_log_volatility(torch.zeros(1, 0))


def test_set_log_volatility_puts_the_given_share_on_the_shared_channels():
    kw = dict(receptive_field=9, memory=(16.0, 64.0, 256.0), asset_memory=True)
    w = torch.tensor([[0.2, 0.0, 0.4], [0.1, 0.3, 0.2]])
    torch.manual_seed(0)
    g = TCNGenerator(2, 2, 8, **kw)
    for share in (0.0, 0.3, 0.9, 1.0):
        g.set_log_volatility(w, shared=share)
        torch.testing.assert_close(g.log_volatility(), w)  # each asset's factor unchanged
        weight = 10.0 * g.log_vol.weight[..., 0]
        torch.testing.assert_close(weight[:, :3].pow(2), share * w.pow(2))
        torch.testing.assert_close(weight[0, 3:6].pow(2), (1 - share) * w[0].pow(2))
        torch.testing.assert_close(weight[1, 6:].pow(2), (1 - share) * w[1].pow(2))
        assert (weight[0, 6:] == 0).all() and (weight[1, 3:6] == 0).all()
    # Equal weights: the two factors correlate exactly as much as the share.
    same = torch.tensor([[0.3, 0.2, 0.4]] * 2)
    g.set_log_volatility(same, shared=0.7)
    a, b = g.log_vol.weight.detach()[:, :, 0].double()
    assert abs(float(a @ b / (a.norm() * b.norm())) - 0.7) < 1e-6
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"shared must be in \[0, 1\]"):
            g.set_log_volatility(w, shared=bad)
    # Without asset channels the share has nothing to split.
    plain = TCNGenerator(2, 2, 8, receptive_field=9, memory=(16.0, 64.0, 256.0))
    plain.set_log_volatility(w, shared=0.9)
    torch.testing.assert_close(10.0 * plain.log_vol.weight[..., 0], w)


def _output_corr(g, n=64, length=512):
    with torch.no_grad():
        out = g._network(torch.randn(n, g.noise_channels, g.noise_length(length)))[0]
    return np.corrcoef(out.transpose(0, 1).reshape(g.n_assets, -1).double().numpy())


def test_set_output_correlation_gives_the_network_output_that_correlation():
    target = np.array([[1.0, 0.9, 0.2], [0.9, 1.0, 0.1], [0.2, 0.1, 1.0]])
    torch.manual_seed(0)
    g = TCNGenerator(3, 3, 16, receptive_field=9, memory=(16.0, 64.0), asset_memory=True,
                     garch=True)  # fmt: skip
    before = _output_corr(g)
    assert np.abs(before - target).max() > 0.3  # a fresh network: random correlations
    g.set_output_correlation(target)
    after = _output_corr(g)
    assert np.abs(after - target).max() < 0.05, after
    with torch.no_grad():  # still unit shocks
        out = g._network(torch.randn(64, g.noise_channels, g.noise_length(256)))[0]
    assert 0.9 < out.std().item() < 1.1 and abs(out.mean().item()) < 0.1
    # Independent outputs too.
    g.set_output_correlation(np.eye(3))
    independent = _output_corr(g)
    assert np.abs(independent - np.eye(3)).max() < 0.05
    # From a known correlation, nothing is measured: the output moves by the change.
    moved = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    g.set_output_correlation(moved, current=np.eye(3))
    after = _output_corr(g)
    assert abs(after[0, 1] - 0.5) < 0.05 and np.abs(after[2, :2]).max() < 0.05


def test_set_output_correlation_checks_its_argument():
    g = TCNGenerator(2, 2, 8, receptive_field=9)
    bad = {
        "have shape": np.eye(3),
        "be finite": np.array([[1.0, np.nan], [np.nan, 1.0]]),
        "be symmetric": np.array([[1.0, 0.5], [0.2, 1.0]]),
        "be symmetric with a unit diagonal": np.array([[2.0, 0.5], [0.5, 1.0]]),
        "be positive definite": np.array([[1.0, 1.0], [1.0, 1.0]]),
    }
    for message, corr in bad.items():
        with pytest.raises(ValueError, match=f"corr must {message}"):
            g.set_output_correlation(corr)
        with pytest.raises(ValueError, match=f"current must {message}"):
            g.set_output_correlation(np.eye(2), current=corr)


def test_tcn_body_sees_slow_innovations_not_levels():
    rf = 9
    noise = torch.randn(1, 3, 300 + rf - 1)
    bumped = noise.clone()
    bumped[0, 2, 0] += 5.0  # the slow channel's first innovation
    gaps = {}
    for slow_input in ("innovations", "state"):
        torch.manual_seed(0)
        g = TCNGenerator(2, 1, 8, receptive_field=rf, memory=(100.0,), slow_input=slow_input)
        g.eval()
        with torch.no_grad():
            g.log_vol.weight.zero_()  # the body alone
            gaps[slow_input] = (g(bumped) - g(noise)).abs()[0, 0]
    # Innovations: like any noise, the bump reaches the first output only.
    assert gaps["innovations"][0] > 0 and gaps["innovations"][1:].max() == 0
    # Levels: it persists in the AR(1) state, and so in the body's output.
    assert gaps["state"][200:].min() > 0
    with pytest.raises(ValueError, match="slow_input must be"):
        TCNGenerator(2, 1, 8, receptive_field=rf, memory=(100.0,), slow_input="levels")


def _garch_loop(u, alpha, persistence, clip=4.0, gamma=0.0):
    """The (GJR-)GARCH(1,1) recursion written as a loop (reference for the closed form)."""
    out = np.empty_like(u)
    s2 = np.ones(u.shape[:-1])
    for t in range(u.shape[-1]):
        out[..., t] = s2
        arch = alpha + gamma * (u[..., t] < 0)
        s2 = (1 - persistence) + s2 * (
            arch * np.minimum(u[..., t] ** 2, clip**2) + persistence - alpha - gamma / 2
        )
    return out


def test_garch_log_variance_is_the_recursion_in_closed_form():
    from quantgan.nn.tcn import garch_log_variance
    from quantgan.preprocessing import garch_log_variance as np_garch

    u = torch.randn(3, 2, 3000, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    alpha, pers = torch.tensor([0.05, 0.2], dtype=torch.float64), torch.tensor([0.99, 0.9])
    log_var = garch_log_variance(u, alpha, pers).numpy()
    for j in range(2):
        ref = _garch_loop(u[:, j].numpy(), alpha[j].item(), pers[j].item())
        np.testing.assert_allclose(np.exp(log_var[:, j]), ref, rtol=1e-9)
        np.testing.assert_allclose(
            np_garch(u[:, j].numpy(), alpha[j].item(), pers[j].item()), np.log(ref), atol=1e-9
        )
    # sigma_t depends on shocks before t only; a huge shock is clipped at 4 sigma.
    bumped = u.clone()
    bumped[0, 0, 100] = 1e6
    gap = garch_log_variance(bumped, alpha, pers) - garch_log_variance(u, alpha, pers)
    assert gap[0, 0, :101].abs().max() == 0 and gap[0, 0, 101] > 0
    clipped = u.clone()
    clipped[0, 0, 100] = 4.0
    torch.testing.assert_close(
        garch_log_variance(bumped, alpha, pers), garch_log_variance(clipped, alpha, pers)
    )
    # Differentiable in the shocks (the generator's output drives it).
    v = u[:1, :1, :200].clone().requires_grad_(True)
    garch_log_variance(v, alpha[:1], pers[:1]).sum().backward()
    assert torch.isfinite(v.grad).all() and v.grad[0, 0, :-1].abs().min() > 0


def test_garch_generator_multiplies_by_a_volatility_driven_by_its_output():
    rf = 9
    torch.manual_seed(0)
    g = TCNGenerator(2, 1, 8, receptive_field=rf, memory=(50.0,), garch=True).eval()
    assert g.noise_channels == 2 + 1 + 1  # fast, slow, one burn-in channel per asset
    noise = torch.randn(256, g.noise_channels, 400 + rf - 1)
    with torch.no_grad():
        z = g._network(noise)[0]
        out = g(noise)
        g.log_vol.weight.zero_()
        plain = g(noise)
    # The network's own output is calibrated to a unit shock; volatility and factor
    # have mean square 1, so the output keeps about unit scale.
    assert abs(z.mean().item()) < 0.1 and 0.9 < z.std().item() < 1.1
    assert 0.8 < out.std().item() < 1.25
    # sigma^2 from the loop over the burn-in shocks, then the network's output.
    unit = z / z.pow(2).mean(dim=-1, keepdim=True).sqrt()  # each path's unit mean square
    shocks = torch.cat([noise[:4, -1:], unit[:4]], dim=-1).double().numpy()
    ref = np.sqrt(_garch_loop(shocks, 0.05, 0.99)[:, 0, -400:])
    np.testing.assert_allclose((plain / z)[:4, 0].numpy(), ref, rtol=1e-4)

    def acf1(x):
        x = x - x.mean(dim=-1, keepdim=True)
        return ((x[..., 1:] * x[..., :-1]).mean() / (x * x).mean()).item()

    # Squared outputs cluster where the network's own output does not.
    assert acf1(plain**2) > acf1(z**2) + 0.02
    # Whatever the network's scale, the volatility stays stationary (no explosion).
    with torch.no_grad():
        g.output.weight.mul_(5.0)
        g.output.bias.add_(3.0)  # mean square about 34
        big = (
            g(torch.randn(2, g.noise_channels, 20000 + rf - 1))
            / g._network(torch.randn(2, g.noise_channels, 20000 + rf - 1))[0].std()
        )
    assert torch.isfinite(big).all() and big.abs().max() < 1e3
    # The burn-in channel moves the volatility only; with alpha 0 there is none.
    bumped = noise.clone()
    bumped[:, -1] *= 3.0
    with torch.no_grad():
        assert not torch.equal(g(bumped), g(noise))
        g.set_garch(0.0, 0.99)
        torch.testing.assert_close(g(bumped), g._network(noise)[0])


def test_gjr_log_variance_weighs_down_days_more():
    from quantgan.nn.tcn import garch_log_variance
    from quantgan.preprocessing import garch_log_variance as np_garch

    u = torch.randn(3, 2, 2000, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    alpha = torch.tensor([0.0, 0.03], dtype=torch.float64)
    pers = torch.tensor([0.99, 0.95], dtype=torch.float64)
    gamma = torch.tensor([0.15, 0.04], dtype=torch.float64)
    log_var = garch_log_variance(u, alpha, pers, gamma=gamma).numpy()
    for j in range(2):
        a, p, g = alpha[j].item(), pers[j].item(), gamma[j].item()
        ref = _garch_loop(u[:, j].numpy(), a, p, gamma=g)
        np.testing.assert_allclose(np.exp(log_var[:, j]), ref, rtol=1e-9)
        np.testing.assert_allclose(np_garch(u[:, j].numpy(), a, p, gamma=g), np.log(ref), atol=1e-9)
    # gamma = 0 is the symmetric recursion; a down day raises the next variance, an
    # up day of the same size (with alpha = 0) does not.
    torch.testing.assert_close(
        garch_log_variance(u, alpha, pers, gamma=torch.zeros(2, dtype=torch.float64)),
        garch_log_variance(u, alpha, pers),
    )
    for sign, moves in ((-3.0, True), (3.0, False)):
        bumped = u.clone()
        bumped[0, 0, 100] = sign
        base = u.clone()
        base[0, 0, 100] = 0.0
        jump = garch_log_variance(bumped, alpha, pers, gamma=gamma)[0, 0, 101]
        still = garch_log_variance(base, alpha, pers, gamma=gamma)[0, 0, 101]
        assert (jump > still + 0.1) if moves else torch.isclose(jump, still)


def test_gjr_generator_makes_a_leverage_effect():
    rf = 9
    torch.manual_seed(0)
    g = TCNGenerator(2, 1, 8, receptive_field=rf, garch="gjr").eval()
    assert g.garch and g.garch_asymmetric and "garch_gamma" in g.state_dict()
    noise = torch.randn(64, g.noise_channels, 3000 + rf - 1)

    def after_down_over_up(x):  # mean square of the next day after a down / an up day
        x = x[:, 0].double()
        nxt, down = x[:, 1:] ** 2, x[:, :-1] < 0
        return (nxt[down].mean() / nxt[~down].mean()).item()

    with torch.no_grad():
        g.set_garch(0.0, 0.99, 0.15)
        down = g(noise)
        g.set_garch(0.075, 0.99, 0.0)  # the same ARCH weight alpha + gamma / 2, symmetric
        sym = g(noise)
    # The untrained network is lopsided itself (its ratio is 0.84 with the symmetric
    # volatility here); down days only raise the next day's volatility by about
    # (0.15 + 0.915) / 0.915 = 1.16 for Gaussian shocks (1.27 measured here).
    assert after_down_over_up(down) > 1.1 * after_down_over_up(sym)
    # However lopsided the output, the volatility stays stationary.
    with torch.no_grad():
        g.set_garch(0.0, 0.99, 0.3)
        g.output.bias.sub_(3.0)  # nearly every output negative
        far = g(torch.randn(2, g.noise_channels, 20000 + rf - 1))
    assert torch.isfinite(far).all() and far.abs().max() < 1e3
    with pytest.raises(ValueError, match="garch must be"):
        TCNGenerator(2, 1, 8, receptive_field=rf, garch="egarch")


def test_set_garch_checks_its_arguments():
    g = TCNGenerator(2, 2, 8, receptive_field=9, garch=True)
    g.set_garch([0.05, 0.1], 0.98)
    torch.testing.assert_close(g.garch_alpha, torch.tensor([0.05, 0.1]))
    torch.testing.assert_close(g.garch_persistence, torch.tensor([0.98, 0.98]))
    for alpha, pers in [(-0.1, 0.9), (0.5, 0.4), (0.05, 1.0), (float("nan"), 0.9)]:
        with pytest.raises(ValueError, match="alpha"):
            g.set_garch(alpha, pers)
    with pytest.raises(ValueError, match="garch=True"):
        TCNGenerator(2, 1, 8, receptive_field=9).set_garch(0.05, 0.99)
    with pytest.raises(ValueError, match="gamma needs a generator built with garch='gjr'"):
        g.set_garch(0.0, 0.99, 0.1)
    # The buffers are saved with the weights (gamma only for "gjr").
    assert {"garch_alpha", "garch_persistence"} <= set(g.state_dict())
    assert "garch_gamma" not in g.state_dict()
    gjr = TCNGenerator(2, 2, 8, receptive_field=9, garch="gjr")
    gjr.set_garch([0.0, 0.02], 0.98, [0.15, 0.1])
    torch.testing.assert_close(gjr.garch_gamma, torch.tensor([0.15, 0.1]))
    gjr.set_garch(0.05, 0.99)  # gamma omitted: 0
    torch.testing.assert_close(gjr.garch_gamma, torch.zeros(2))
    for alpha, pers, gamma in [(0.0, 0.99, -0.1), (0.5, 0.99, 1.0), (0.0, 0.9, float("inf"))]:
        with pytest.raises(ValueError, match="gamma"):
            gjr.set_garch(alpha, pers, gamma)
