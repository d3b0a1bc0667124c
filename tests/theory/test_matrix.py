"""Matrix factorization: SVD reduction and decoupling on W (Prop. 31, appendix C, G)."""

import numpy as np
import pytest

from gdchaos.errors import GdchaosInputError
from gdchaos.problems import MatrixFactorization, ScalarFactorization
from gdchaos.theory import matrix as tm
from gdchaos.theory import scalar as ts


def test_prop31_orthogonal_init_decouples_into_scalar_gd():
    rng = np.random.default_rng(0)
    d, dy = 5, 2
    Y = np.diag([0.9, 0.6])
    lam, eta = 0.1, 0.3
    p = MatrixFactorization(Y=Y, d=d, lam=lam)
    E, _ = np.linalg.qr(rng.normal(size=(d, 2 * dy)))
    U = E[:, :dy] * rng.normal(size=dy) + 0 * E[:, dy:]
    # u_i, v_i in span(e_i, e_{i+dy}): columns of different pairs orthogonal
    U = np.stack([E[:, i] * rng.normal() + E[:, i + dy] * rng.normal() for i in range(dy)], 1)
    V = np.stack([E[:, i] * rng.normal() + E[:, i + dy] * rng.normal() for i in range(dy)], 1)
    assert tm.in_orthogonal_subspace(U, V)
    x = p.join(U, V)
    cols = [(U[:, i].copy(), V[:, i].copy()) for i in range(dy)]
    sp = [ScalarFactorization(d=d, y=Y[i, i], lam=lam) for i in range(dy)]
    for _ in range(30):
        x = p.step(x[None], eta)[0]
        cols = [tuple(np.split(s.step(np.concatenate(c)[None], eta)[0], 2)) for s, c in zip(sp, cols)]
        Ux, Vx = p.split(x)
        assert tm.in_orthogonal_subspace(Ux, Vx, tol=1e-12)
        for i in range(dy):
            np.testing.assert_allclose(Ux[:, i], cols[i][0], atol=1e-12)
            np.testing.assert_allclose(Vx[:, i], cols[i][1], atol=1e-12)


def test_general_init_leaves_W():
    rng = np.random.default_rng(1)
    p = MatrixFactorization(Y=np.diag([0.9, 0.6]), d=2)
    U, V = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
    assert not tm.in_orthogonal_subspace(U, V)
    x = p.step(p.join(U, V)[None], 0.2)[0]
    assert not tm.in_orthogonal_subspace(*p.split(x))


def test_svd_reduction_conjugates_gd():
    rng = np.random.default_rng(2)
    Y = rng.normal(size=(3, 3))
    U, V = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    Ur, Vr, s, P, Q = tm.reduce_init(U, V, Y)
    pf = MatrixFactorization(Y=Y, d=4, lam=0.05)
    pr = MatrixFactorization(Y=np.diag(s), d=4, lam=0.05)
    x, xr = pf.join(U, V), pr.join(Ur, Vr)
    for _ in range(10):
        x, xr = pf.step(x[None], 0.05)[0], pr.step(xr[None], 0.05)[0]
    U1, V1 = pf.split(x)
    Ur1, Vr1 = pr.split(xr)
    np.testing.assert_allclose(U1 @ P, Ur1, atol=1e-10)
    np.testing.assert_allclose(V1 @ Q, Vr1, atol=1e-10)
    np.testing.assert_allclose(pf.loss(x), pr.loss(xr), rtol=1e-10)


def test_eta_star_matrix_is_min_over_columns_and_identity_init():
    Y = np.diag([0.9, 0.5])
    U = V = np.eye(2)
    es = tm.eta_star_matrix(U, V, Y)
    assert es == pytest.approx(min(ts.eta_star([1.0], [1.0], 0.9), ts.eta_star([1.0], [1.0], 0.5)))
    with pytest.raises(GdchaosInputError):
        tm.eta_star_matrix(np.array([[1.0, 1.0], [0.0, 1.0]]), np.eye(2), Y)


def test_matrix_hessian_exact_vs_finite_differences_and_min_value():
    rng = np.random.default_rng(3)
    p = MatrixFactorization(Y=rng.normal(size=(2, 2)), d=3, lam=0.2)
    X = rng.normal(size=(5, p.n_params))
    from gdchaos.problems import Problem

    np.testing.assert_allclose(p.hessian(X), Problem.hessian(p, X), atol=1e-8)
    # brute-force: GD from random inits never goes below the stated minimum, and reaches it
    from gdchaos.engine import run_points

    r = run_points(p, rng.normal(size=(200, p.n_params)) * 0.5, 0.05, max_iter=20000, tol=1e-12)
    assert np.all(r.final_loss >= p.min_value - 1e-12)
    assert np.mean(r.status == 1) > 0.5
