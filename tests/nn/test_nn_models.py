"""Functional ReLU MLPs: layout, PyTorch-default initialization, vmap."""

import pytest
import torch

from gdchaos.errors import GdchaosInputError
from gdchaos.nn import (
    from_module,
    init_params,
    mlp_forward,
    mlp_loss,
    n_params,
    to_module,
    unflatten,
)


def test_parameter_counts_of_the_paper_networks():
    assert n_params((3072, 100, 100, 1)) == 3072 * 100 + 100 + 100 * 100 + 100 + 100 + 1
    assert n_params((3072, 25, 25, 1)) == 77501


def test_init_matches_pytorch_default_linear_init():
    widths = (12, 7, 5, 1)
    p = init_params(widths, seed=123)
    torch.manual_seed(123)
    mod = torch.nn.Sequential(torch.nn.Linear(12, 7), torch.nn.ReLU(), torch.nn.Linear(7, 5),
                              torch.nn.ReLU(), torch.nn.Linear(5, 1)).double()
    assert p.dtype == torch.float64
    assert torch.equal(p, from_module(mod))
    assert torch.equal(init_params(widths, seed=123), p)
    assert not torch.equal(init_params(widths, seed=124), p)
    for (W, b), fan_in in zip(unflatten(p, widths), widths[:-1]):
        assert float(W.abs().max()) <= fan_in ** -0.5 and float(b.abs().max()) <= fan_in ** -0.5


def test_gaussian_init():
    p = init_params((400, 300, 1), seed=0, scheme="gaussian", scale=2.0)
    (W, b), _ = unflatten(p, (400, 300, 1))
    assert float(W.std()) == pytest.approx(2.0 / 400 ** 0.5, rel=0.02)
    assert float(b.abs().max()) == 0.0


def test_forward_matches_module_and_vmaps():
    widths = (6, 5, 4, 1)
    X = torch.rand(9, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    P = torch.stack([init_params(widths, seed=s) for s in range(3)])
    for p in P:
        assert torch.allclose(mlp_forward(p, X, widths), to_module(p, widths)(X).squeeze(-1),
                              rtol=0, atol=1e-15)
    batched = torch.func.vmap(lambda q: mlp_forward(q, X, widths))(P)
    assert torch.allclose(batched, torch.stack([mlp_forward(p, X, widths) for p in P]), rtol=0,
                          atol=1e-15)
    y = torch.arange(9, dtype=torch.float64) % 2
    assert float(mlp_loss(P[0], X, y, widths)) == pytest.approx(
        float(torch.nn.functional.mse_loss(mlp_forward(P[0], X, widths), y)), rel=1e-14)
    assert float(mlp_loss(P[0], X, y, widths, "ce")) == pytest.approx(float(
        torch.nn.functional.binary_cross_entropy_with_logits(mlp_forward(P[0], X, widths), y)),
        rel=1e-12)
    assert mlp_forward(init_params((6, 3, 2)), X, (6, 3, 2)).shape == (9, 2)


def test_bad_input():
    with pytest.raises(GdchaosInputError):
        n_params((5,))
    with pytest.raises(GdchaosInputError):
        n_params((5, 0, 1))
    with pytest.raises(GdchaosInputError, match="need 11"):
        mlp_forward(torch.zeros(10, dtype=torch.float64), torch.zeros(2, 3), (3, 2, 1))
    with pytest.raises(GdchaosInputError, match="need 11"):
        mlp_forward(torch.zeros(2, dtype=torch.float64), torch.zeros(2, 3), (3, 2, 1))
    with pytest.raises(GdchaosInputError):
        init_params((3, 2, 1), scheme="xavier")
