"""Quotient dynamics (SPEC section 3)."""

import numpy as np
import pytest

from gdchaos.problems import QuotientMap, ScalarFactorization
from gdchaos.theory import quotient as tq


def test_prop3_planar_map_equals_T_of_a_gd_step():
    rng = np.random.default_rng(0)
    for _ in range(200):
        d = int(rng.integers(1, 6))
        eta, lam, y = rng.uniform(0.05, 1.0), rng.uniform(0, 0.5), rng.uniform(-1.5, 1.5)
        p = ScalarFactorization(d=d, y=y, lam=lam)
        x = rng.normal(size=2 * d)
        x1 = p.step(x[None], eta)[0]
        z1, w1 = tq.quotient_T(x1[:d], x1[d:], y)
        z0, w0 = tq.quotient_T(x[:d], x[d:], y)
        zq, wq = tq.planar_map(z0, w0, eta, y, lam)
        assert abs(zq - z1) <= 1e-12 * max(1, abs(z1)) and abs(wq - w1) <= 1e-12 * max(1, abs(w1))


def test_scaled_map_is_the_planar_map_in_scaled_coordinates():
    rng = np.random.default_rng(1)
    z, w = rng.normal(size=100), rng.uniform(0, 5, 100)
    eta, y, lam = 0.7, 0.4, 0.1
    Z, W, a, b = tq.to_scaled(z, w, eta, y, lam)
    Z1, W1 = tq.scaled_map(Z, W, a, b)
    z1, w1 = tq.planar_map(z, w, eta, y, lam)
    np.testing.assert_allclose(tq.from_scaled(Z1, W1, eta), (z1, w1), rtol=1e-12, atol=1e-12)


def test_invariant_segment_and_boundary_map():
    for alpha in (0.2, 0.5, 0.9):
        Z, W = tq.invariant_segment(alpha, 401)
        np.testing.assert_allclose(tq.q_scaled(Z, W, alpha), 8.0, atol=1e-12)
        Z1, W1 = tq.scaled_map(Z, W, alpha, 0.0)
        np.testing.assert_allclose(Z1, tq.boundary_map(Z), atol=1e-12)
        np.testing.assert_allclose(W1, alpha * Z1 + 4.0, atol=1e-11)  # stays on the segment


def test_conjugacies_chebyshev_and_piecewise_linear():
    s = np.linspace(-1, 1, 1001)
    x = tq.tent_to_chebyshev(s)
    np.testing.assert_allclose(tq.chebyshev_to_tent(tq.chebyshev_map(x)), tq.tent3_map(s), atol=1e-9)
    Z = np.linspace(-2, 2, 1001)
    np.testing.assert_allclose(tq.chebyshev_to_boundary(tq.chebyshev_map(tq.boundary_to_chebyshev(Z))),
                               tq.boundary_map(Z), atol=1e-12)
    orbit = [5 / 7]
    for _ in range(3):
        orbit.append(float(tq.tent3_map(orbit[-1])))
    np.testing.assert_allclose(orbit, [5 / 7, 1 / 7, -3 / 7, 5 / 7], atol=1e-12)


def test_minimizer_image_is_a_fixed_point():
    y, lam, eta = 0.5, 0.2, 1.0
    z, w = tq.minimizer_image(y, lam)
    assert (z, w) == pytest.approx((-0.2, 0.6))
    assert tq.planar_map(z, w, eta, y, lam) == pytest.approx((z, w), abs=1e-14)
    q = QuotientMap(y, lam)
    assert q.loss(np.array([[z, w]]))[0] == pytest.approx(q.min_value)
