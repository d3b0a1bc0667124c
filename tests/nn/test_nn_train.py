"""Full-batch GD / heavy ball: batched engine against the per-network reference, statuses,
edge of stability, reproducibility."""

import numpy as np
import pytest
import torch

from gdchaos.status import CONVERGED, DIVERGED, UNDECIDED
from gdchaos.nn import init_params, load_pair, mlp_loss, n_params, train, train_batch
from gdchaos.nn._batched import NetProblem


@pytest.fixture(scope="module")
def digits():
    return load_pair("digits", (0, 1), 10, seed=0)


@pytest.mark.parametrize("loss", ["mse", "ce"])
@pytest.mark.parametrize("reduce", [True, False])
def test_manual_batched_gradient_equals_autograd(pair_small, loss, reduce):
    d = pair_small
    widths = (d.dim, 7, 6, 1)
    P = torch.stack([init_params(widths, seed=s) * (1 + s) for s in range(4)])
    pr = NetProblem(d.X, d.y, widths, loss, reduce=reduce)
    assert pr.reduced == reduce and pr.n == (n_params((20, 7, 6, 1)) if reduce else P.shape[1])
    Pr, _ = pr.reduce_params(P)
    L, G = pr.value_and_grad(Pr)
    f = lambda p: mlp_loss(p, d.X, d.y, widths, loss)
    Lref = torch.stack([f(p) for p in P])
    Gref, _ = pr.reduce_params(torch.stack([torch.func.grad(f)(p) for p in P]))
    assert torch.allclose(L, Lref, rtol=1e-13, atol=0)
    assert torch.allclose(G, Gref, rtol=0, atol=1e-13 * float(Gref.abs().max()))
    # the reduction is exact: expanding the reduced parameters gives back the full ones
    assert torch.allclose(pr.expand_params(Pr, P, torch.ones(4, dtype=torch.float64)), P,
                          rtol=0, atol=1e-15)


def test_batch_equals_per_network_reference(pair_small):
    """Batched engine (pool, reduced coordinates, manual backward) vs one network at a time
    (full parameters, torch.func): same statuses and step counts, values to 1e-10."""
    d = pair_small
    widths = (d.dim, 12, 12, 1)
    p0 = init_params(widths, seed=0)
    etas = np.array([0.02, 0.05, 0.1, 0.5, 3.0, 0.05])
    moms = np.array([0.0, 0.0, 0.9, 0.0, 0.0, 0.5])
    res = train_batch(p0[None], d.X, d.y, widths, etas, n_networks=6, momentum=moms,
                      weight_decay=1e-3, iters=150, tol=1e-3, record_loss=True,
                      return_params=True, pool=4)
    assert set(res.status.tolist()) >= {UNDECIDED, DIVERGED}
    for i, (e, b) in enumerate(zip(etas, moms)):
        r = train(p0, d.X, d.y, widths, e, momentum=b, weight_decay=1e-3, iters=150, tol=1e-3)
        assert res.status[i] == r.status and res.steps[i] == r.steps
        assert res.final_loss[i] == pytest.approx(r.final_loss, rel=1e-10)
        assert res.final_norm[i] == pytest.approx(r.final_norm, rel=1e-10)
        h = res.loss_history[i, :r.steps + 1]
        assert np.allclose(h, r.loss_history, rtol=1e-10, atol=0)
        assert np.all(np.isnan(res.loss_history[i, r.steps + 1:]))
        if r.status != DIVERGED:
            assert torch.allclose(res.params[i], r.params, rtol=0, atol=1e-10)
            assert res.final_sharpness[i] == pytest.approx(r.final_sharpness, rel=1e-8)
        else:
            assert np.isnan(res.final_sharpness[i])


def test_statuses_and_no_raise(digits):
    widths = (64, 8, 8, 1)
    p = init_params(widths, seed=0)
    P = torch.stack([p, p, p, p.clone().fill_(float("nan"))])
    res = train_batch(P, digits.X, digits.y, widths, [0.3, 1e-4, 1e3, 0.1], iters=3000)
    assert res.status.tolist() == [CONVERGED, UNDECIDED, DIVERGED, DIVERGED]
    assert res.final_loss[0] < 1e-6 and res.steps[1] == 3000
    assert res.steps[3] == 0 and np.isnan(res.final_sharpness[3])
    assert res.fractions() == {"converged": 0.25, "diverged": 0.5, "undecided": 0.25}
    r = train(p, digits.X, digits.y, widths, 1e3, iters=10)
    assert r.status == DIVERGED and r.status_name == "diverged"
    ce = train_batch(p[None], digits.X, digits.y, widths, 2.0, loss="ce", iters=2000)
    assert ce.status[0] == CONVERGED and ce.final_loss[0] < 1e-2  # CE default tol 1e-2


def test_edge_of_stability_small_scale(digits):
    """Small step sizes end below 2/eta; in the edge-of-stability regime the final sharpness is
    within 10% of 2/eta (64-64-64-1 MLP on 10 + 10 digits)."""
    widths = (64, 64, 64, 1)
    p0 = init_params(widths, seed=0)
    etas = np.array([0.05, 0.1, 0.3, 0.4, 0.5])
    res = train_batch(p0[None], digits.X, digits.y, widths, etas, n_networks=5, iters=4000)
    ratio = res.final_sharpness * etas / 2
    assert np.all(res.status == CONVERGED)
    assert np.all(ratio[:2] < 0.9)
    assert np.all(np.abs(ratio[2:] - 1) < 0.1)


def test_edge_of_stability_cifar(cifar_small):
    widths = (3072, 16, 16, 1)
    p0 = init_params(widths, seed=0)
    etas = np.array([0.002, 0.02, 0.03, 0.04])
    res = train_batch(p0[None], cifar_small.X, cifar_small.y, widths, etas, n_networks=4,
                      iters=3000)
    ratio = res.final_sharpness * etas / 2
    assert ratio[0] < 0.5
    assert np.all(res.status[1:] == CONVERGED) and np.all(np.abs(ratio[1:] - 1) < 0.1)


def test_sharpness_logging(digits):
    widths = (64, 16, 16, 1)
    p0 = init_params(widths, seed=0)
    res = train_batch(p0[None], digits.X, digits.y, widths, [0.3, 0.5], n_networks=2,
                      iters=400, sharpness_every=50, record_loss=True)
    assert res.sharpness_history.shape == (2, 9) and res.loss_history.shape == (2, 401)
    r = train(p0, digits.X, digits.y, widths, 0.3, iters=400, sharpness_every=50)
    n = r.steps // 50 + 1
    # power iteration to rtol 1e-3 (residual): Rayleigh quotients agree to ~1e-6
    assert np.allclose(res.sharpness_history[0, :n], r.sharpness_history[:n], rtol=1e-5,
                       equal_nan=True)
    # logged values sit near the final (Lanczos) one once training settles
    last = res.sharpness_history[0][np.isfinite(res.sharpness_history[0])][-1]
    assert last == pytest.approx(res.final_sharpness[0], rel=0.2)


def test_reproducible_across_runs_and_threads(pair_small):
    d = pair_small
    widths = (d.dim, 10, 10, 1)
    p0 = init_params(widths, seed=1)
    kw = {"n_networks": 5, "momentum": 0.5, "iters": 200, "record_loss": True,
          "sharpness_every": 40, "pool": 3}
    etas = np.linspace(0.01, 0.2, 5)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        a = train_batch(p0[None], d.X, d.y, widths, etas, **kw)
        s1 = train(p0, d.X, d.y, widths, 0.05, iters=100)
        torch.set_num_threads(2)
        b = train_batch(p0[None], d.X, d.y, widths, etas, **kw)
        s2 = train(p0, d.X, d.y, widths, 0.05, iters=100)
        c = train_batch(p0[None], d.X, d.y, widths, etas, **kw)
    finally:
        torch.set_num_threads(old)
    for x, y in ((a, b), (b, c)):
        for name in ("status", "steps", "final_loss", "final_norm", "final_sharpness",
                     "loss_history", "sharpness_history"):
            assert np.array_equal(getattr(x, name), getattr(y, name), equal_nan=True), name
    assert torch.equal(s1.params, s2.params) and s1.final_sharpness == s2.final_sharpness


def test_bad_input(digits):
    from gdchaos.errors import GdchaosInputError

    widths = (64, 4, 1)
    p = init_params(widths)
    for kw in ({"eta": 0.0}, {"eta": 0.1, "momentum": 1.0}, {"eta": 0.1, "iters": -1},
               {"eta": 0.1, "tol": 1.0, "div": 0.5}, {"eta": [0.1, 0.2]}):
        with pytest.raises(GdchaosInputError):
            train_batch(p[None], digits.X, digits.y, widths, **kw)
    with pytest.raises(GdchaosInputError):
        train_batch(p[None], digits.X, digits.y, (64, 4, 2), 0.1)
    with pytest.raises(GdchaosInputError):
        train(p[:-1], digits.X, digits.y, widths, 0.1)
