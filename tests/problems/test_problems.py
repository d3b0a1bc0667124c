"""Problems: gradients against finite differences, minimum values against brute-force GD."""

import numpy as np
import pytest

from gdchaos.engine import CONVERGED, run_points
from gdchaos.problems import (DeepMatrixFactorization, MatrixFactorization, QuotientMap,
                              ScalarFactorization)

ALL = [ScalarFactorization(d=3, y=-0.6, lam=0.2),
       MatrixFactorization(Y=np.array([[0.9, 0.3], [-0.2, 0.5]]), d=3, lam=0.1),
       DeepMatrixFactorization(Y=np.diag([0.9, 0.5]), k=3, lam=0.05),
       DeepMatrixFactorization(Y=np.array([[1.0, 0.2], [0.0, 0.7]]), k=4, lam=0.0)]


@pytest.mark.parametrize("p", ALL, ids=lambda p: f"{p.name}")
def test_gradient_matches_central_differences(p):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, p.n_params)) * 0.7
    h = 1e-6
    G = np.stack([(p.loss(X + h * e) - p.loss(X - h * e)) / (2 * h) for e in np.eye(p.n_params)], 1)
    np.testing.assert_allclose(p.grad(X), G, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("p", ALL, ids=lambda p: f"{p.name}")
def test_min_value_is_a_lower_bound_attained_by_gd(p):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, p.n_params)) * 0.6
    r = run_points(p, X, 0.05, max_iter=40000, tol=1e-10)
    assert np.all(r.final_loss >= p.min_value - 1e-10)
    conv = r.status == CONVERGED
    assert conv.mean() > 0.5
    np.testing.assert_allclose(r.final_loss[conv], p.min_value, atol=2e-10)


def test_gd_pair_is_pure_and_momentum_is_heavy_ball():
    p = ScalarFactorization(d=2, y=1.0)
    init, update = p.gd(0.1, momentum=0.9)
    x0 = np.array([[0.3, -0.2, 0.5, 0.1]])
    s0 = init(x0)
    s1 = update(s0)
    s2 = update(s1)
    assert np.array_equal(s0.x, x0) and s0.step == 0 and s2.step == 2
    np.testing.assert_allclose(s1.x, x0 - 0.1 * p.grad(x0))
    np.testing.assert_allclose(s2.x, s1.x - 0.1 * p.grad(s1.x) + 0.9 * (s1.x - x0))
    assert np.array_equal(update(s1).x, s2.x)  # no hidden state


def test_momentum_convergence_requires_rest():
    p = ScalarFactorization(d=1, y=1.0)
    r = run_points(p, np.array([[1.5, 0.2]]), 0.1, momentum=0.9, max_iter=100000, tol=1e-10,
                   keep_params=True)
    assert r.status[0] == CONVERGED
    np.testing.assert_allclose(r.params[0, 0] * r.params[0, 1], 1.0, atol=1e-4)


def test_quotient_map_rejects_momentum_and_gradient():
    from gdchaos.errors import GdchaosInputError

    q = QuotientMap(0.5, 0.2)
    with pytest.raises(GdchaosInputError):
        q.gd(0.5, momentum=0.5)
    with pytest.raises(GdchaosInputError):
        run_points(q, np.array([[0.0, 1.0]]), 0.5, momentum=0.5)
