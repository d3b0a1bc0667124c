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


# ------------------------------------------------------------- issue 23: interval, transient,
# spectrum of a user's map

def test_logistic_map_ln2_inside_the_interval():
    """r = 4: lambda = ln 2 (the map is conjugate to the tent map, whose slope is 2)."""
    from gdchaos.analysis import map_lyapunov_spectrum

    x0 = np.random.default_rng(5).uniform(0.01, 0.99, 300)[:, None]
    r = map_lyapunov_spectrum(lambda X: 4 * X * (1 - X), lambda X: (4 - 8 * X)[:, :, None],
                              x0, 3000, transient=100, vectorized=True)
    s = r.summary()
    assert s["n_valid"] == 300 and s["level"] == 0.95
    lo, hi = s["ci"]
    assert lo < np.log(2) < hi and hi - lo < 1e-3
    assert s["quantiles"]["0.05"] <= s["median"] <= s["quantiles"]["0.95"] and s["std"] > 0


def test_exponent_summary_is_the_t_interval():
    from scipy import stats

    from gdchaos.analysis import exponent_summary

    v = np.array([0.1, 0.3, 0.2, 0.4, np.nan, 0.25])
    s = exponent_summary(v)
    w = v[np.isfinite(v)]
    half = stats.t.ppf(0.975, w.size - 1) * w.std(ddof=1) / np.sqrt(w.size)
    assert s["n_valid"] == 5 and s["ci"] == pytest.approx([w.mean() - half, w.mean() + half])
    assert s["quantiles"]["0.5"] == pytest.approx(0.25) and s["fraction_positive"] == 1.0
    assert exponent_summary([0.5])["ci"] is None and exponent_summary([np.nan]) == {"n_valid": 0}


@pytest.mark.parametrize("a,b", [(2.0, 0.5), (-3.0, 0.2), (0.9, -1.1)])
def test_spectrum_of_a_diagonal_linear_map(a, b):
    """diag(a, b): exponents (ln|a|, ln|b|), largest first, exactly once the transient has
    turned the random initial frame onto the axes; plain per-point functions (500 steps in
    all: 3^500 is still a float)."""
    from gdchaos.analysis import map_lyapunov_spectrum

    A = np.diag([a, b])
    r = map_lyapunov_spectrum(lambda x: A @ x, lambda x: A, [[1e-3, 1e-3], [3e-4, -2e-3]], 400,
                              transient=100)
    want = sorted([np.log(abs(a)), np.log(abs(b))], reverse=True)
    assert r.valid.all()
    np.testing.assert_allclose(r.exponents, [want, want], atol=1e-10)
    spec = r.spectrum_summary()
    assert len(spec) == 2 and spec[0]["mean"] == pytest.approx(want[0], abs=1e-10)


def test_henon_spectrum():
    """Henon map a = 1.4, b = 0.3: lambda = (0.41922, -1.62319) (J. C. Sprott, Chaos and
    Time-Series Analysis, Oxford 2003, appendix A.1.2); their sum is ln b exactly (the
    Jacobian's determinant is -b).  Band: 0.01 on each, for 20000 steps from 8 points."""
    from gdchaos.analysis import map_lyapunov_spectrum

    a, b = 1.4, 0.3

    def step(X):
        return np.stack([1 - a * X[:, 0] ** 2 + X[:, 1], b * X[:, 0]], 1)

    def jac(X):
        J = np.zeros((len(X), 2, 2))
        J[:, 0, 0] = -2 * a * X[:, 0]
        J[:, 0, 1] = 1.0
        J[:, 1, 0] = b
        return J

    x0 = 0.1 + 0.01 * np.random.default_rng(0).random((8, 2))
    r = map_lyapunov_spectrum(step, jac, x0, 20000, transient=1000, vectorized=True)
    assert r.valid.all()
    l1, l2 = (s["mean"] for s in r.spectrum_summary())
    assert abs(l1 - 0.41922) < 0.01 and abs(l2 + 1.62319) < 0.01
    np.testing.assert_allclose(r.exponents.sum(axis=1), np.log(b), atol=1e-9)


def test_transient_moves_a_slowly_converging_orbit_towards_its_exponent():
    """x -> x - x^3 (GD on x^4/4, eta = 1) converges to 0 only algebraically: the exponent
    is 0, but the early steps (|1 - 3x^2| well below 1) drag a short average down."""
    from gdchaos.analysis import map_lyapunov_spectrum

    def run(transient):
        return map_lyapunov_spectrum(lambda X: X - X ** 3, lambda X: (1 - 3 * X ** 2)[:, :, None],
                                     [[0.5], [0.3]], 200, transient=transient,
                                     vectorized=True).summary()["mean"]

    early, late = run(0), run(5000)
    assert early < -0.01 and -1e-3 < late < 0 and abs(late) < abs(early) / 10


def test_user_map_shapes_and_transient_are_checked():
    from gdchaos.analysis import map_lyapunov_spectrum
    from gdchaos.errors import GdchaosInputError

    with pytest.raises(GdchaosInputError, match="Jacobian|jacobian"):
        map_lyapunov_spectrum(lambda x: x, lambda x: np.eye(3), [1.0, 2.0], 10)
    with pytest.raises(GdchaosInputError, match="transient"):
        map_lyapunov_spectrum(lambda x: x, lambda x: np.eye(2), [1.0, 2.0], 10, transient=-1)
    with pytest.raises(GdchaosInputError, match="finite"):
        map_lyapunov_spectrum(lambda x: x, lambda x: np.eye(2), [np.nan, 2.0], 10)


def test_finite_time_lyapunov_validates_the_problem_first():
    from gdchaos.errors import GdchaosInputError

    class Refused(QuotientMap):
        def validate(self, X):
            raise GdchaosInputError(f"checked at {len(X)} points")

    with pytest.raises(GdchaosInputError, match="checked at 2 points"):
        finite_time_lyapunov(Refused(0.5, 0.2), [[0.1, 2.0], [0.2, 3.0]], 1.0, 10)
