"""Finite-time Lyapunov exponents."""

import numpy as np
import pytest

from gdchaos.analysis import (finite_time_lyapunov, gd_jacobian, lyapunov_1d, lyapunov_map,
                              lyapunov_spectrum, quotient_jacobian)
from gdchaos.engine import Slice2D
from gdchaos.problems import (DeepMatrixFactorization, MatrixFactorization, QuotientMap,
                              ScalarFactorization)
from gdchaos.theory import quotient as tq


def test_logistic_map_log2():
    rng = np.random.default_rng(0)
    r = lyapunov_1d(lambda x: 4 * x * (1 - x), lambda x: 4 - 8 * x,
                    rng.uniform(0.01, 0.99, 500), 20000, interval=(0, 1))
    assert abs(r.summary()["mean"] - np.log(2)) < 0.01
    assert r.history.shape[0] == r.steps.size and r.steps[-1] == 20000


def test_boundary_map_typical_points_log3():
    rng = np.random.default_rng(1)
    r = lyapunov_1d(tq.boundary_map, lambda Z: 3 * Z * Z - 3, rng.uniform(-2, 2, 500), 20000,
                    interval=(-2, 2))
    s = r.summary()
    assert abs(s["mean"] - np.log(3)) < 0.02 and abs(s["median"] - np.log(3)) < 0.02
    # a float orbit sitting exactly on the repelling fixed point Z = 2 is not a typical orbit
    c = lyapunov_1d(tq.boundary_map, lambda Z: 3 * Z * Z - 3, [2.0, 0.3], 1000,
                    interval=(-2, 2))
    assert c.info["collapsed"] == 1 and not c.valid[0] and c.valid[1]
    assert c.exponents[0, 0] == pytest.approx(np.log(9))


def test_spectrum_of_a_linear_map_is_exact():
    A = np.array([[2.0, 1.0, 0.0], [0.0, 0.5, 3.0], [0.0, 0.0, -1.5]])
    r = lyapunov_spectrum(lambda X: X @ A.T, lambda X: np.broadcast_to(A, (len(X), 3, 3)),
                          np.ones((4, 3)), 400)
    np.testing.assert_allclose(r.exponents, np.tile(np.log([2, 1.5, 0.5]), (4, 1)), atol=1e-2)


def test_quotient_jacobian_matches_finite_differences():
    rng = np.random.default_rng(2)
    X = np.stack([rng.uniform(-1, 1, 20), rng.uniform(1, 5, 20)], 1)
    J = quotient_jacobian(X, 0.8, 0.5, 0.2)
    h = 1e-6
    cols = []
    for e in np.eye(2):
        fp = np.stack(tq.planar_map(*(X + h * e).T, 0.8, 0.5, 0.2), 1)
        fm = np.stack(tq.planar_map(*(X - h * e).T, 0.8, 0.5, 0.2), 1)
        cols.append((fp - fm) / (2 * h))
    np.testing.assert_allclose(J, np.stack(cols, -1), atol=1e-7)


@pytest.mark.parametrize("prob", [ScalarFactorization(d=2, y=1.0, lam=0.1),
                                  MatrixFactorization(Y=np.diag([0.9, 0.8]), lam=0.2),
                                  DeepMatrixFactorization(k=3, lam=0.1)],
                         ids=["scalar", "matrix", "deep"])
def test_gd_jacobian_is_derivative_of_the_step(prob):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3, prob.n_params)) * 0.7
    eta = 0.3
    J = gd_jacobian(prob, X, eta)
    h = 1e-5
    num = np.stack([(prob.step(X + h * e, eta) - prob.step(X - h * e, eta)) / (2 * h)
                    for e in np.eye(prob.n_params)], -1)
    np.testing.assert_allclose(J, num, atol=1e-6)


def test_converging_gd_orbit_gets_the_minimizer_exponents():
    """d = 1, y = 0.5, lam = 0.2: an isolated minimizer; exponents -> log |1 - eta h|."""
    p = ScalarFactorization(d=1, y=0.5, lam=0.2)
    eta = 0.5
    r = finite_time_lyapunov(p, [[0.6, 0.5]], eta, 4000, k=2)
    m = np.sqrt(0.3)
    h = np.linalg.eigvalsh(p.hessian(np.array([[m, m]]))[0])
    want = np.sort(np.log(np.abs(1 - eta * h)))[::-1]
    np.testing.assert_allclose(r.exponents[0], want, atol=5e-3)


def test_divergent_orbits_are_nan_and_map():
    q = QuotientMap(0.5, 0.2)
    r = finite_time_lyapunov(q, [[2.5, 9.0], [-0.2, 0.61]], 1.0, 100)
    assert np.isnan(r.exponents[0, 0]) and not r.valid[0]
    assert r.valid[1] and r.exponents[1, 0] < 0
    g = Slice2D.axes(2, (-2.5, 3), (0, 10), 40, 30)
    da = lyapunov_map(q, g, 1.0, 30)
    assert da.shape == (30, 40) and np.isfinite(da.values).any() and np.isnan(da.values).any()
