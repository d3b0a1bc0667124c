"""Boundaries in hyperparameter planes (theory/hyper.py) against plain NumPy gradient descent."""

import numpy as np
import pytest

from gdchaos.theory import hyper, scalar

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

Y = 0.5


def _gd_two_steps(u, v, a, b, y, steps, lam=0.0):
    """Plain GD with step sizes (a, b) on 1/2 (u.v - y)^2 + lam/2 (|u|^2 + |v|^2); every iterate."""
    out = [(u.copy(), v.copy())]
    for _ in range(steps):
        z = u @ v - y
        u, v = (1 - a * lam) * u - a * z * v, (1 - b * lam) * v - b * z * u
        out.append((u.copy(), v.copy()))
    return out


@pytest.mark.parametrize("d", [1, 3])
def test_two_step_sizes_are_a_common_step_in_rescaled_coordinates(d):
    """GD with (eta_u, eta_v) = (a, b) equals GD with sqrt(ab) in u' = (b/a)^(1/4) u,
    v' = (a/b)^(1/4) v, step by step to 1e-12 (relative), and the substitution of the issue's hint
    (u/sqrt(a), v/sqrt(b)) is GD with step ab on target y/sqrt(ab)."""
    rng = np.random.default_rng(d)
    for _ in range(20):
        a, b = np.exp(rng.uniform(-3, 0.5, 2))
        u, v = rng.normal(size=(2, d))
        y = rng.uniform(-1, 1)
        ref = _gd_two_steps(u, v, a, b, y, 40)
        up, vp, e = hyper.rescale_two_steps(u, v, a, b)
        assert e == pytest.approx(np.sqrt(a * b), rel=1e-15)
        conj = _gd_two_steps(up, vp, e, e, y, 40)
        hint = _gd_two_steps(u / np.sqrt(a), v / np.sqrt(b), a * b, a * b, y / np.sqrt(a * b), 40)
        r = (b / a) ** 0.25
        for (u1, v1), (u2, v2), (u3, v3) in zip(ref, conj, hint):
            if not np.abs(np.r_[u1, v1]).max() < 1e3:  # compare while the orbit is bounded
                break
            scale = max(1.0, np.abs(u1).max(), np.abs(v1).max())
            assert np.abs(u2 / r - u1).max() <= 1e-12 * scale
            assert np.abs(v2 * r - v1).max() <= 1e-12 * scale
            assert np.abs(u3 * np.sqrt(a) - u1).max() <= 1e-12 * scale
            assert np.abs(v3 * np.sqrt(b) - v1).max() <= 1e-12 * scale
    # not a conjugacy with weight decay and a != b: the decays differ
    u, v = np.array([0.7]), np.array([0.4])
    ref = _gd_two_steps(u, v, 0.3, 0.9, 1.0, 5, lam=0.2)[-1]
    up, vp, e = hyper.rescale_two_steps(u, v, 0.3, 0.9)
    conj = _gd_two_steps(up, vp, e, e, 1.0, 5, lam=0.2)[-1]
    assert abs(conj[0][0] / (0.9 / 0.3) ** 0.25 - ref[0][0]) > 1e-3


def test_closed_forms_agree_with_theorem_1():
    """s*(eta) lies on eta = eta*(s p); (E2) equals Theorem 1 at the rescaled init; the interval
    of eta_v equals the region; (E) is Q < 8/eta for eta |y| < 2."""
    rng = np.random.default_rng(0)
    for y in (0.5, -1.3, 2.0):
        for _ in range(10):
            p = rng.normal(size=2)
            eta = np.linspace(0.01, 0.999 / abs(y), 50)
            s = hyper.critical_scale(eta, p[:1], p[1:], y)
            np.testing.assert_allclose(scalar.eta_star(s[:, None] * p[0], s[:, None] * p[1], y),
                                       eta, rtol=1e-12)
            assert np.all(hyper.critical_scale(np.array([1.0, 3.0]) / abs(y), p[0], p[1], y) == 0)
            a = np.exp(rng.uniform(-5, 3, 400))
            b = np.exp(rng.uniform(-5, 3, 400))
            pred = hyper.two_steps_converges(a, b, p[0], p[1], y)
            form = (hyper.two_steps_form(a, b, p[0], p[1], y) < 4) & (a * b * y * y < 1)
            assert np.array_equal(pred, form)
            assert np.array_equal(pred, b < hyper.eta_v_critical(a, p[0], p[1], y))
            uv = rng.normal(size=(400, 2)) * 2
            e = rng.uniform(0.01, 1.99 / abs(y), 400)
            ell = e * (uv ** 2).sum(1) + e * e * y * (y - uv[:, 0] * uv[:, 1]) < 4
            assert np.array_equal(ell, scalar.in_d0(uv[:, :1], uv[:, 1:], y, e))


def test_critical_eta_v_when_the_coefficient_is_negative():
    """D = |u0|^2 + eta_u y (y - u0 v0) < 0 (u0 v0 > y, large eta_u): the converging eta_v are
    still an interval (0, b*), b* = 1/(eta_u y^2) or empty; checked on a dense eta_v grid,
    including d = 3."""
    rng = np.random.default_rng(5)
    hit = 0
    for _ in range(300):
        d = int(rng.choice([1, 3]))
        u0, v0 = rng.normal(size=(2, d)) * 2
        y = float(u0 @ v0) * rng.uniform(0.05, 0.9)
        a = np.array([np.exp(rng.uniform(-2, 3))])
        if u0 @ u0 + a[0] * y * (y - u0 @ v0) >= 0:
            continue
        hit += 1
        bs = np.geomspace(1e-4, 1e3, 3000)
        pred = hyper.two_steps_converges(np.full_like(bs, a[0]), bs, u0, v0, y)
        assert np.array_equal(pred, bs < hyper.eta_v_critical(a, u0, v0, y)[0])
    assert hit > 50


def test_minimizer_stability_limit():
    lam = np.array([0.0, 0.1, 0.3, 0.7])
    lim = hyper.minimizer_stability_limit(lam, Y)
    np.testing.assert_allclose(lim, [2.0, 1 / 0.4, 1 / 0.3, 2 / 1.2], rtol=1e-12)


# ------------------------------------------------------------------ brute force on tiny maps
def _brute(u0, v0, a, b, lam, y, iters):
    """Converged (loss within 1e-9 of the global minimum) after ``iters`` GD steps, per point."""
    u = np.broadcast_to(u0, a.shape).astype(float).copy()
    v = np.broadcast_to(v0, a.shape).astype(float).copy()
    lam = np.broadcast_to(lam, a.shape)
    with np.errstate(all="ignore"):
        for _ in range(iters):
            z = u * v - y
            u, v = (1 - a * lam) * u - a * z * v, (1 - b * lam) * v - b * z * u
            bad = ~(np.abs(u) + np.abs(v) < 1e6)
            u[bad] = np.nan
            v[bad] = np.nan
    mv = np.vectorize(lambda l: scalar.global_min_value(y, l))(lam)
    return 0.5 * (u * v - y) ** 2 + 0.5 * lam * (u * u + v * v) - mv < 1e-9, u, v


def _agree(conv, labels, band=2):
    from gdchaos.experiments.mf_hypermaps import agreement

    return agreement(conv, labels, band)["agreement"]


N = 40


def test_scale_boundary_brute_force():
    """(eta, s): Theorem 1's s*(eta) separates converging from failing inits; off by 10% it
    does not."""
    p = (1.5, 0.3)
    E, S = np.meshgrid(np.linspace(0.05, 2.5, N), np.geomspace(0.1, 10, N))
    conv, _, _ = _brute(S * p[0], S * p[1], E, E, 0.0, Y, 4000)
    assert 0.2 < conv.mean() < 0.8
    assert _agree(conv, hyper.scale_converges(E, S, *p, Y).astype(int)) >= 0.99
    for f in (1.1, 1 / 1.1):
        assert _agree(conv, hyper.scale_converges(E / f, S, *p, Y).astype(int)) < 0.99, f


def test_two_step_boundary_brute_force():
    """(eta_u, eta_v) on log axes: the conjugacy's boundary is exact; scaled by 10% it is not."""
    p = (1.5, 0.3)
    A, B = np.meshgrid(np.geomspace(1e-2, 10, N), np.geomspace(1e-2, 10, N))
    conv, _, _ = _brute(p[0], p[1], A, B, 0.0, Y, 4000)
    assert 0.2 < conv.mean() < 0.9
    assert _agree(conv, hyper.two_steps_converges(A, B, *p, Y).astype(int)) >= 0.99
    # 10% is below a pixel on those log axes: refute a 10% error on a finer window
    A, B = np.meshgrid(np.linspace(0.05, 4.0, N), np.linspace(1.0, 3.0, N))
    conv, _, _ = _brute(p[0], p[1], A, B, 0.0, Y, 4000)
    assert _agree(conv, hyper.two_steps_converges(A, B, *p, Y).astype(int)) >= 0.99
    for f in (1.1, 1 / 1.1):
        lab = hyper.two_steps_converges(A / f, B / f, *p, Y).astype(int)
        assert _agree(conv, lab) < 0.99, f


def _lam_labels(E, L, p, f=1.0, g=1.0):
    adm, glob, _ = hyper.lam_theorem5(E / f, L, *p, Y)
    lab = np.full(E.shape, -1)
    lab[adm & glob] = 1
    lab[E > g * hyper.minimizer_stability_limit(L[:, 0], Y)[:, None]] = 0
    return lab


def test_lam_bounds_brute_force():
    """(eta, lam): where Theorem 5 claims convergence GD converges, and to the closest minimizer
    below 4/(4 lam + Q); where every minimizer is unstable it fails.  At small lam the bound is
    nearly sharp, so a bound 10% higher is refuted; near lam = 1/eta the converse is sharp, so a
    stability limit 10% lower is refuted."""
    p = (2.0, 0.3)
    E, L = np.meshgrid(np.linspace(0.2, 3.0, N), np.linspace(0.01, 0.45, N))
    conv, u, v = _brute(p[0], p[1], E, E, L, Y, 20000)
    lab = _lam_labels(E, L, p)
    assert (lab == 1).sum() > 200 and (lab == 0).sum() > 50
    assert _agree(conv, lab) >= 0.99
    _, _, close = hyper.lam_theorem5(E, L, *p, Y)
    assert (close & conv).sum() > 100
    for j in range(N):  # every converged point of the closest-minimizer claim reached p-
        pu, pv = scalar.closest_minimizer(np.array([p[0]]), np.array([p[1]]), Y, L[j, 0])
        m = close[j] & conv[j]
        np.testing.assert_allclose(u[j, m], pu[0], atol=1e-4)
        np.testing.assert_allclose(v[j, m], pv[0], atol=1e-4)
    # refutations of wrong formulas, each in the window where the true one is sharp
    E, L = np.meshgrid(np.linspace(0.8, 1.3, N), np.linspace(0.001, 0.01, N))
    conv, _, _ = _brute(p[0], p[1], E, E, L, Y, 20000)
    assert _agree(conv, _lam_labels(E, L, p)) >= 0.99
    assert _agree(conv, _lam_labels(E, L, p, f=1.1)) < 0.99
    E, L = np.meshgrid(np.linspace(2.2, 3.4, N), np.linspace(0.28, 0.4, N))
    conv, _, _ = _brute(p[0], p[1], E, E, L, Y, 20000)
    assert _agree(conv, _lam_labels(E, L, p)) >= 0.99
    assert _agree(conv, _lam_labels(E, L, p, g=0.9)) < 0.99
