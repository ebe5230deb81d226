import pytest
import torch

from quantgan.nn import ConvCritic, ConvGenerator, clip_weights, gradient_penalty


@pytest.mark.parametrize("window,n_assets", [(100, 1), (37, 3), (8, 2)])
def test_shapes_for_any_window_and_assets(window, n_assets):
    g = ConvGenerator(latent_dim=10, window=window, n_assets=n_assets, hidden=8)
    c = ConvCritic(window=window, n_assets=n_assets, hidden=8)
    x = g(torch.randn(5, 10))
    assert x.shape == (5, n_assets, window)
    assert c(x).shape == (5,)


def test_seed_architecture_for_window_100():
    g, c = ConvGenerator(), ConvCritic()
    linears = [m for m in g.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(50, 100), (800, 100)]
    c_linears = [m for m in c.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in c_linears] == [(800, 50), (50, 15), (15, 1)]
    assert sum(isinstance(m, torch.nn.MaxPool1d) for m in c.modules()) == 2
    assert sum(isinstance(m, torch.nn.Upsample) for m in g.modules()) == 3


def test_spectral_norm_model_in_eval_before_training_matches_train_mode():
    # The legacy spectral_norm outputs garbage (~1000x) in eval() before any training pass.
    torch.manual_seed(0)
    g = ConvGenerator()
    z = torch.randn(64, 50)
    with torch.no_grad():
        eval_out = g.eval()(z)
        train_out = g.train()(z)
    assert torch.allclose(eval_out, train_out, rtol=0.05, atol=1e-3)


def test_spectral_norm_bounds_each_critic_layer():
    torch.manual_seed(0)
    c = ConvCritic(window=32, hidden=16, lipschitz="sn")
    for _ in range(30):  # power iterations converge during forward passes in train mode
        c(torch.randn(4, 1, 32))
    for layer in [m for m in c.modules() if isinstance(m, torch.nn.Linear)]:
        sigma = torch.linalg.matrix_norm(layer.weight.detach(), ord=2)
        assert sigma == pytest.approx(1.0, abs=0.05)
    plain = ConvCritic(window=32, hidden=16, lipschitz="gp")
    assert not any("parametrizations" in n for n, _ in plain.named_parameters())


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic():
    class Linear(torch.nn.Module):
        def forward(self, x):
            # gradient of sum(w * x) has norm ||w|| = 1
            w = torch.zeros_like(x)
            w[..., 0] = 1.0
            return (w * x).flatten(1).sum(1)

    real, fake = torch.randn(8, 1, 10), torch.randn(8, 1, 10)
    gp, norm = gradient_penalty(Linear(), real, fake)
    assert gp.item() == pytest.approx(0.0, abs=1e-10)
    assert norm.item() == pytest.approx(1.0)


def test_gradient_penalty_is_differentiable():
    c = ConvCritic(window=16, hidden=4, lipschitz="gp")
    gp, _ = gradient_penalty(c, torch.randn(4, 1, 16), torch.randn(4, 1, 16))
    gp.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in c.parameters())


def test_clip_weights():
    c = ConvCritic(window=16, hidden=4, lipschitz="clip")
    with torch.no_grad():
        for p in c.parameters():
            p.mul_(100)
    clip_weights(c, 0.01)
    assert max(p.abs().max().item() for p in c.parameters()) <= 0.01


def test_unknown_lipschitz():
    with pytest.raises(ValueError, match="lipschitz must be one of"):
        ConvCritic(lipschitz="spectral")
