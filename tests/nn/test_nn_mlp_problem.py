"""The MLP defined once (nn/models.py) and as an engine problem (nn/mlp.py): architectures,
the batched manual backward against autograd, Sohl-Dickstein's mean-field formula, minibatches,
and every optimizer against the step-by-step NumPy reference on a small network."""

import math

import numpy as np
import pytest
import torch

import gdchaos as gc
from gdchaos.engine.hypermap import run_optimizer
from gdchaos.engine.optim import Optimizer, reference_run
from gdchaos.nn.mlp import MLP
from gdchaos.nn.models import Arch, batched_value_and_grad, init_params, mlp_loss, n_params

ARCHS = [Arch((5, 4, 3, 1), "relu", True), Arch((5, 4, 1), "tanh", False),
         Arch((5, 6, 1), "identity", True, (0.5, 0.25)), Arch.mean_field((5, 4, 4, 1), "tanh"),
         Arch.mean_field((6, 3, 1), "relu", bias=True)]


@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: f"{a.activation}-{a.bias}-{a.scales}")
@pytest.mark.parametrize("loss", ["mse", "ce"])
def test_batched_backward_equals_autograd(arch, loss):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(7, arch.widths[0], dtype=torch.float64, generator=g)
    y = (torch.rand(7, dtype=torch.float64, generator=g) > 0.5).double()
    P = torch.randn(5, n_params(arch), dtype=torch.float64, generator=g)
    L, G = batched_value_and_grad(P, X, y, arch, loss)
    ref = torch.func.vmap(torch.func.grad_and_value(lambda p: mlp_loss(p, X, y, arch, loss)))(P)
    torch.testing.assert_close(G, ref[0], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(L, ref[1], rtol=1e-13, atol=0)


def test_mean_field_forward_is_sohl_dickstein_formula():
    """His notebook: Z0 = X W0 / sqrt(16); tanh(sqrt 2 Z0), sqrt 2 relu(Z0), Z0; yhat = H W1 / 16
    (our weight W0 is his transposed)."""
    p = MLP.synthetic(width=16, activation="tanh", n_points=20)
    theta = torch.as_tensor(p.init(3))
    W0, W1 = theta[:256].reshape(16, 16), theta[256:]
    Z0 = p.X @ W0.T / 4.0
    for act, H in (("tanh", torch.tanh(math.sqrt(2) * Z0)),
                   ("relu", math.sqrt(2) * torch.relu(Z0)), ("identity", Z0)):
        q = MLP.synthetic(width=16, activation=act, n_points=20)
        yhat = H @ W1 / 16.0
        want = ((yhat - q.y) ** 2).mean()
        got = q.loss(theta.numpy()[None])[0]
        assert got == pytest.approx(float(want), rel=1e-13), act
    assert p.n_params == 272 and MLP.synthetic().X.shape == (272, 16)
    assert p.arch.bias is False and p.arch.scales == (math.sqrt(2 / 16), 1 / 16)
    assert MLP.synthetic(activation="identity").arch.scales[0] == pytest.approx(0.25)


def test_init_schemes_and_defaults():
    a = Arch.mean_field((16, 16, 1), "tanh")
    x = init_params(a, 0, "normal").numpy()
    assert x.size == 272 and abs(x.std() - 1) < 0.15 and abs(x.mean()) < 0.15
    # the default init of the standard parameterization is nn.Linear's (unchanged by Arch)
    torch.manual_seed(5)
    ref = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    flat = torch.nn.utils.parameters_to_vector(ref.parameters()).double()
    assert torch.equal(init_params((4, 3, 1), 5), flat)
    assert MLP.synthetic(parameterization="standard").init(0).size == 289  # with biases


def test_problem_groups_loss_and_sharpness():
    p = MLP.synthetic(width=4, activation="tanh", n_points=6, lam=0.1, d_in=3)
    groups = p.param_groups
    assert list(groups) == ["in", "out"]
    idx = np.concatenate(list(groups.values()))
    assert sorted(idx.tolist()) == list(range(p.n_params))  # disjoint, covering
    X = np.stack([p.init(s) for s in range(3)])
    f = lambda q: mlp_loss(q, p.X, p.y, p.arch) + 0.05 * (q * q).sum()  # noqa: E731
    np.testing.assert_allclose(p.loss(X), [float(f(torch.as_tensor(x))) for x in X], rtol=1e-13)
    H = torch.func.hessian(f)(torch.as_tensor(X[0]))
    assert p.sharpness(X[:1])[0] == pytest.approx(float(torch.linalg.eigvalsh(H)[-1]), rel=1e-10)
    assert p.min_value == 0.0 and "interpolat" in p.minimizers


def test_minibatches_same_sequence_and_full_batch_loss():
    p = MLP.synthetic(width=4, d_in=3, n_points=10, batch_size=4, batch_seed=7)
    b0, b1 = p.batch_indices(0), p.batch_indices(1)
    assert b0.shape == (4,) and not torch.equal(b0, b1)
    assert torch.equal(b0, MLP.synthetic(width=4, d_in=3, n_points=10, batch_size=4,
                                         batch_seed=7).batch_indices(0))
    X = torch.as_tensor(np.stack([p.init(s) for s in range(2)]))
    L, G, _ = p.torch_loss_grad_at(X, None, 0.0, 1)
    Lf, Gf, _ = p.torch_loss_grad(X, None, 0.0)
    assert torch.equal(L, Lf)  # the full-batch loss, as his notebook tracks it
    Gb = torch.func.vmap(torch.func.grad(lambda q: mlp_loss(q, p.X[b1], p.y[b1], p.arch)))(X)
    torch.testing.assert_close(G, Gb, rtol=1e-12, atol=1e-14)
    assert not torch.allclose(G, Gf)


SETTINGS = {"gd": {}, "heavy_ball": {"momentum": 0.7}, "nesterov": {"momentum": 0.6},
            "adam": {"momentum": 0.85, "beta2": 0.99}, "adamw": {"momentum": 0.9,
                                                                 "weight_decay": 0.3}}


@pytest.mark.parametrize("kind", list(SETTINGS))
def test_optimizers_match_reference_on_a_network(kind):
    """Each optimizer, per-layer step sizes, on a small tanh network: the torch runner equals
    the NumPy (init, update) reference step by step (40 steps, 1e-12)."""
    p = MLP.synthetic(width=5, d_in=3, n_points=8, activation="tanh", lam=0.01)
    eta = 0.01 if kind.startswith("adam") else 2.0
    opt = Optimizer(kind, eta=eta, group_eta={"out": 3 * eta}, **SETTINGS[kind])
    X0 = np.stack([p.init(s) for s in range(3)])
    ref = reference_run(p, opt, X0, 40)
    res = run_optimizer(p, X0, opt, backend="torch", max_iter=40, tol=1e-300, gtol=0.0,
                        div_threshold=1e300)
    assert np.all(res["iterations"] == 40)
    np.testing.assert_allclose(res["params"], ref, rtol=1e-12, atol=1e-12)
    assert not np.allclose(reference_run(p, Optimizer(kind, eta=eta, **SETTINGS[kind]), X0, 40),
                           ref)


def test_loss_below_tol_rule_stops_without_stability_test():
    p = MLP.synthetic(width=4, d_in=2, n_points=2, activation="identity")
    x0 = p.init(0)[None]
    strict = run_optimizer(p, x0, Optimizer("gd", eta=5.0), backend="torch", max_iter=3000,
                           tol=1e-6)
    loose = run_optimizer(p, x0, Optimizer("gd", eta=5.0, rule="loss_below_tol"),
                          backend="torch", max_iter=3000, tol=1e-6)
    assert loose["status"][0] == gc.CONVERGED and loose["final_loss"][0] <= 1e-6
    assert strict["iterations"][0] >= loose["iterations"][0]
    with pytest.raises(gc.GdchaosInputError, match="convergence rule"):
        Optimizer("adam", rule="loss_below_tol_and_stable")
