"""Closed forms of scalar factorization against brute force (SPEC sections 1-2)."""

import numpy as np
import pytest

from gdchaos.engine import run_points
from gdchaos.problems import ScalarFactorization
from gdchaos.theory import scalar as th


def _converges(p, x, eta):
    r = run_points(p, x[None], eta, max_iter=1_000_000, tol=1e-10, div_threshold=1e12)
    return r.status[0] == 1


def test_theorem1_eta_star_matches_bisection_with_brute_force_gd():
    """Theorem 1: eta* is the largest converging step size (1e-4 relative), both terms exercised."""
    rng = np.random.default_rng(7)
    seen_terms = set()
    for trial in range(12):
        d = int(rng.integers(1, 6))
        y = float(rng.uniform(-1, 1))
        scale = [0.3, 1.0, 2.0][trial % 3]
        u, v = rng.normal(size=d) * scale, rng.normal(size=d) * scale
        es = float(th.eta_star(u, v, y))
        seen_terms.add("1/|y|" if np.isclose(es, 1 / abs(y)) else "8/Q")
        p = ScalarFactorization(d=d, y=y)
        x = np.concatenate([u, v])
        lo, hi = 0.5 * es, 1.5 * es
        assert _converges(p, x, lo) and not _converges(p, x, hi)
        while hi - lo > 2e-6 * es:
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if _converges(p, x, mid) else (lo, mid)
        assert abs(lo - es) / es < 1e-4, (d, y, es, lo)
    assert seen_terms == {"1/|y|", "8/Q"}


def test_eta_star_special_cases():
    assert th.eta_star([0.0], [0.0], 0.0) == np.inf
    assert th.eta_star([1.0], [0.0], 0.0) == pytest.approx(4.0)  # y = 0: 8 / (2w)
    assert th.eta_star([0.0], [0.0], 0.5) == pytest.approx(min(2.0, 8 / 4.0))


def test_d0_membership_is_eta_below_eta_star():
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=(500, 3)), rng.normal(size=(500, 3))
    y, eta = 0.4, 0.7  # eta |y| < 1
    assert np.array_equal(th.in_d0(u, v, y, eta), eta < th.eta_star(u, v, y))


def test_wang_bound_is_below_eta_star():
    """Figure 7: the region of Wang et al. (2022) lies inside D0."""
    rng = np.random.default_rng(1)
    for y in (0.3, 0.9, -0.6):
        u, v = rng.normal(size=(2000, 1)) * 2, rng.normal(size=(2000, 1)) * 2
        assert np.all(th.wang_bound(u, v, y) <= th.eta_star(u, v, y) + 1e-15)


def test_hessian_eigenvalues_closed_form_vs_numeric():
    """Prop. 22 eigenvalues equal those of the Hessian built by differencing the gradient."""
    rng = np.random.default_rng(2)
    for d in (1, 2, 4):
        for lam in (0.0, 0.3):
            p = ScalarFactorization(d=d, y=0.7, lam=lam)
            X = rng.normal(size=(20, 2 * d))
            H = super(ScalarFactorization, p).hessian(X)  # finite-difference Hessian of the base class
            ev_num = np.linalg.eigvalsh(H)
            u, v = p.split(X)
            ev = th.hessian_eigenvalues(u, v, p.y, lam)
            np.testing.assert_allclose(ev, ev_num, atol=1e-8)
            np.testing.assert_allclose(th.sharpness(u, v, p.y, lam), ev_num[:, -1], atol=1e-8)
            np.testing.assert_allclose(np.linalg.eigvalsh(p.hessian(X)), ev_num, atol=1e-8)


def test_sharpness_at_minimizer_is_squared_norm_and_imbalance_bound():
    rng = np.random.default_rng(3)
    y = 0.8
    u = rng.normal(size=(100, 3))
    v0 = rng.normal(size=(100, 3))
    # project v0 to u.v = y
    v = v0 + ((y - np.sum(u * v0, 1)) / np.sum(u * u, 1))[:, None] * u
    w = np.sum(u * u, 1) + np.sum(v * v, 1)
    np.testing.assert_allclose(th.sharpness(u, v, y), w, rtol=1e-12)
    imb = th.imbalance(u, v)
    np.testing.assert_allclose(imb, np.sum((u[:, :, None] * u[:, None] - v[:, :, None] * v[:, None]) ** 2, (1, 2)), rtol=1e-10)
    assert np.all(imb >= th.min_imbalance_at_minimizer(w, y) - 1e-10)
    assert np.all(w >= 2 * abs(y) - 1e-12)  # minimal squared norm on M is 2|y|


def test_minimizer_sets_and_extreme_minimizers_by_brute_force():
    rng = np.random.default_rng(4)
    y, lam, d = -0.9, 0.25, 3
    m = th.minimizer_set(y, lam)
    assert m.kind == "sphere" and m.radius_sq == pytest.approx(0.65)
    assert th.minimizer_set(0.5, 0.0).kind == "hyperbola"
    assert th.minimizer_set(0.5, 0.6).kind == "origin"
    p = ScalarFactorization(d=d, y=y, lam=lam)
    # the global minimum value is attained on M and nowhere lower
    a = rng.normal(size=(1000, d))
    a = a / np.linalg.norm(a, axis=1, keepdims=True) * np.sqrt(m.radius_sq)
    on_m = np.concatenate([a, m.sign * a], 1)
    np.testing.assert_allclose(p.loss(on_m), p.min_value, rtol=1e-12)
    assert np.all(p.loss(rng.normal(size=(5000, 2 * d))) >= p.min_value)
    np.testing.assert_allclose(np.linalg.norm(p.grad(on_m), axis=1), 0, atol=1e-12)
    for _ in range(5):
        u, v = rng.normal(size=d), rng.normal(size=d)
        dist = np.linalg.norm(on_m - np.concatenate([u, v]), axis=1)
        pm = np.concatenate(th.closest_minimizer(u, v, y, lam))
        pp = np.concatenate(th.farthest_minimizer(u, v, y, lam))
        assert np.linalg.norm(pm - np.concatenate([u, v])) <= dist.min() + 1e-12
        assert np.linalg.norm(pp - np.concatenate([u, v])) >= dist.max() - 1e-12


def test_theorem4_admissibility_and_theorem5_bounds():
    assert th.theorem4_admissible(1.0, 0.5, 0.2)
    assert not th.theorem4_admissible(1.0, 0.5, 0.6)
    assert not th.theorem4_admissible(1.0, 0.5, 0.0)
    eg, ec = th.theorem5_bounds([1.0], [0.5], 0.5, 0.2)
    q = th.q_value([1.0], [0.5], 0.5)
    assert eg == pytest.approx(8 / (0.8 + q)) and ec == pytest.approx(eg / 2)


def test_bad_shapes_raise_clear_error():
    from gdchaos.errors import GdchaosInputError

    with pytest.raises(GdchaosInputError):
        th.q_value([1.0, 2.0], [1.0], 0.5)
    with pytest.raises(GdchaosInputError):
        th.minimizer_set(1.0, -0.1)
