"""Topological entropy (appendix B.1)."""

import numpy as np

from gdchaos.analysis import (critical_points, lap_entropy, lap_numbers, periodic_point_entropy,
                              periodic_points, separated_set_entropy)
from gdchaos.theory import quotient as tq

LOG3 = np.log(3.0)


def test_boundary_map_lap_entropy_log3():
    r = lap_entropy(tq.boundary_map, (-2, 2), 12)
    assert abs(r.entropy - LOG3) < 1e-3 and abs(r.last - LOG3) < 1e-3
    np.testing.assert_array_equal(r.counts, 3.0 ** np.arange(1, 13))  # L(f^n) = 3^n


def test_conjugates_have_the_same_lap_entropy():
    t = lap_entropy(tq.tent3_map, (-1, 1), 12, crit=[-1 / 3, 1 / 3])
    assert abs(t.entropy - LOG3) < 1e-3
    c = lap_entropy(tq.chebyshev_map, (-1, 1), 10)  # turning points found numerically
    assert abs(c.entropy - LOG3) < 1e-3
    np.testing.assert_allclose(critical_points(tq.boundary_map, (-2, 2)), [-1, 1], atol=1e-7)


def test_logistic_lap_entropy():
    r = lap_entropy(lambda x: 4 * x * (1 - x), (0, 1), 12)
    assert abs(r.entropy - np.log(2)) < 1e-3
    # r = 3.83 is in the period-3 window, where h = log of the golden mean (Milnor-Thurston)
    w = lap_entropy(lambda x: 3.83 * x * (1 - x), (0, 1), 16)
    assert abs(w.entropy - np.log((1 + np.sqrt(5)) / 2)) < 0.01
    _, L = lap_numbers(lambda x: 3.2 * x * (1 - x), (0, 1), 8)  # periodic regime: h = 0
    assert L[-1] <= 2 * 8


def test_planar_separated_sets_on_the_invariant_segment():
    a = 0.5
    Z = np.random.default_rng(0).uniform(-2, 2, 30000)

    def F(X):
        return np.stack(tq.scaled_map(X[:, 0], X[:, 1], a, 0.0), 1)

    r = separated_set_entropy(F, np.stack([Z, a * Z + 4], 1), range(1, 7), 0.05, fit_from=1)
    assert abs(r.entropy - LOG3) < 0.08 and r.ci[0] < LOG3 < r.ci[1]
    assert np.all(np.diff(r.counts) > 0)


def test_planar_periodic_points_of_a_product_map():
    """(Z, v) -> (Z^3 - 3Z, v / 2): Fix(F^n) = 3^n points on v = 0."""

    def F(X):
        return np.stack([tq.boundary_map(X[:, 0]), 0.5 * X[:, 1]], 1)

    def J(X):
        out = np.zeros((len(X), 2, 2))
        out[:, 0, 0] = 3 * X[:, 0] ** 2 - 3
        out[:, 1, 1] = 0.5
        return out

    rng = np.random.default_rng(1)
    seeds = np.stack([rng.uniform(-2, 2, 6000), rng.uniform(-1, 1, 6000)], 1)

    def dom(X):
        return np.abs(X[:, 0]) <= 2 + 1e-9

    P3 = periodic_points(F, J, 3, seeds, domain=dom)
    assert P3.shape[0] == 27 and np.allclose(P3[:, 1], 0)
    np.testing.assert_allclose(np.sort(P3[:, 0]), np.sort(P3[:, 0]))
    r = periodic_point_entropy(F, J, seeds, range(1, 5), domain=dom)
    np.testing.assert_array_equal(r.counts, [3, 9, 27, 81])
    assert abs(r.entropy - LOG3) < 1e-3
