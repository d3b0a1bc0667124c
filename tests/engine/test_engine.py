"""Batched engine: brute-force agreement, statuses, theorems on grids, backends, threads."""

import numpy as np
import pytest

from gdchaos.engine import (CONVERGED, DIVERGED, OUTSIDE, SADDLE, UNDECIDED, RunConfig, Slice2D,
                            basin, run_points)
from gdchaos.problems import (DeepMatrixFactorization, MatrixFactorization, QuotientMap,
                              ScalarFactorization)
from gdchaos.theory import scalar as th

PROBLEMS = [
    (ScalarFactorization(d=3, y=0.7, lam=0.1), 0.3),
    (MatrixFactorization(Y=np.array([[0.9, 0.2], [0.1, 0.8]]), d=3, lam=0.05), 0.2),
    (DeepMatrixFactorization(Y=np.diag([0.9, 0.5]), k=3, lam=0.01), 0.1),
]


@pytest.mark.parametrize("problem,eta", PROBLEMS, ids=lambda p: getattr(p, "name", ""))
@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_kernel_equals_plain_numpy_gd(problem, eta, momentum):
    """With a tiny tolerance nothing stops early: after K steps the kernel's iterate equals a
    plain NumPy loop of the problem's GD (or heavy-ball) update."""
    rng = np.random.default_rng(0)
    X0 = rng.normal(size=(64, problem.n_params)) * 0.6
    K = 25
    r = run_points(problem, X0, eta, momentum=momentum, max_iter=K, tol=1e-300, gtol=0.0,
                   keep_params=True)
    init, update = problem.gd(eta, momentum)
    st = init(X0)
    for _ in range(K):
        st = update(st)
    ok = r.status == UNDECIDED
    assert ok.mean() > 0.9
    np.testing.assert_allclose(r.params[ok], st.x[ok], rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(r.final_loss[ok], problem.loss(st.x[ok]), rtol=1e-11, atol=1e-14)
    assert np.all(r.iterations[ok] == K)


def test_quotient_kernel_equals_planar_map():
    from gdchaos.theory.quotient import planar_map

    q = QuotientMap(y=0.5, lam=0.2)
    rng = np.random.default_rng(1)
    z = rng.uniform(-1, 1, 500)
    w = 2 * np.abs(z + 0.5) + rng.uniform(0, 2, 500)
    r = run_points(q, np.stack([z, w], 1), 0.6, max_iter=7, tol=1e-300, gtol=0, keep_params=True)
    for _ in range(7):
        z, w = planar_map(z, w, 0.6, 0.5, 0.2)
    ok = r.status == UNDECIDED
    # the comparison covers the points: all ran the 7 steps (none stopped, none diverged)
    assert ok.sum() == 500 and np.all(r.iterations == 7)
    np.testing.assert_allclose(r.params[ok], np.stack([z, w], 1)[ok], rtol=1e-12, atol=1e-12)


def test_statuses_saddle_diverged_undecided_outside_and_nan():
    p = ScalarFactorization(d=1, y=1.0)
    X = np.array([[0.5, -0.5],  # antidiagonal u = -v: invariant, GD goes to the saddle
                  [4.0, 4.0],  # outside D0 at eta = 0.2 (Q = 60 > 40): diverges
                  [1.3, 0.9],  # converges
                  [np.nan, 1.0]])  # not finite: diverged, the run goes on
    r = run_points(p, X, 0.2, max_iter=5000)
    assert list(r.status) == [SADDLE, DIVERGED, CONVERGED, DIVERGED]
    r = run_points(p, X[2:3], 0.2, max_iter=2)
    assert r.status[0] == UNDECIDED and r.iterations[0] == 2
    q = QuotientMap(0.5, 0.2)
    r = run_points(q, np.array([[1.0, 0.1]]), 1.0)
    assert r.status[0] == OUTSIDE


def test_passing_near_an_unstable_minimizer_is_not_convergence():
    """Above eta = 1/|y| no minimizer is stable (Theorem 1): nothing may be called converged."""
    p = ScalarFactorization(d=2, y=0.8)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(2000, 4)) * 0.4
    r = run_points(p, X, 1.3 / 0.8, max_iter=20000, tol=1e-8)
    assert not np.any(r.status == CONVERGED)


def test_theorem2_norms_fill_2_to_10_on_figure2_box():
    """Theorem 2 / figure 2 right: converged squared norms fill (2, 2/eta) = (2, 10)."""
    p = ScalarFactorization(d=1, y=1.0)
    g = Slice2D.axes(2, (-0.9, -0.6), (4.25, 4.55), 800, 800)
    ds = basin(p, g, 0.2, max_iter=250, tol=1e-8)
    conv = np.asarray(ds.status) == CONVERGED
    sq = np.asarray(ds.sq_norm)[conv]
    counts, _ = np.histogram(sq, bins=np.arange(2.5, 10.0, 0.5))
    assert np.all(counts > 0), counts
    assert sq.max() < 10.0 and sq.min() > 2.0 - 1e-3


def test_theorem5_small_steps_reach_the_closest_minimizer():
    """Theorem 5: with lam > 0 and eta < 4/(4 lam + Q) every converged point reaches p-."""
    rng = np.random.default_rng(2)
    for d, y, lam in [(1, 1.0, 0.1), (3, -0.8, 0.2)]:
        p = ScalarFactorization(d=d, y=y, lam=lam)
        X = rng.normal(size=(20000, 2 * d)) * 1.5
        u, v = p.split(X)
        _, ec = th.theorem5_bounds(u, v, y, lam)
        for frac in (0.5, 0.95):
            # a common step size below each selected point's bound
            eta = 1.0
            sel = ec * frac > 0.3
            r = run_points(p, X[sel], 0.3, max_iter=20000, tol=1e-12)
            conv = r.status == CONVERGED
            assert conv.mean() > 0.99
            assert np.all(r.minimizer[conv] == 1)
            del eta
    # and above the bound both minimizers occur (Theorem 4/5's general case), figure 3 middle
    p = ScalarFactorization(d=1, y=0.5, lam=0.2)
    ds = basin(p, Slice2D.axes(2, (-4, 4), (-4, 4), 200, 200), 1.0, max_iter=2000, tol=1e-10)
    m = np.asarray(ds.minimizer)[np.asarray(ds.status) == CONVERGED]
    assert (m == 1).any() and (m == 2).any()


def _slice_fixture():
    p = ScalarFactorization(d=2, y=1.0, lam=0.05)
    g = Slice2D.random(4, (-3, 3), (-3, 3), 512, 512, seed=3)
    return p, g


@pytest.mark.torch
def test_numba_and_torch_backends_agree_on_512_slice():
    pytest.importorskip("torch")
    p, g = _slice_fixture()
    cfg = dict(max_iter=400, tol=1e-10)
    a = basin(p, g, 0.45, backend="numba", **cfg)
    b = basin(p, g, 0.45, backend="torch", **cfg)
    sa, sb = np.asarray(a.status), np.asarray(b.status)
    assert (sa == sb).mean() >= 0.999
    both = (sa == CONVERGED) & (sb == CONVERGED)
    for v in ("sq_norm", "final_loss", "sharpness"):
        np.testing.assert_allclose(np.asarray(a[v])[both], np.asarray(b[v])[both], rtol=1e-9,
                                   atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("problem,eta", PROBLEMS[1:] + [(QuotientMap(0.5, 0.2), 1.0)],
                         ids=["matrix", "deep", "quotient"])
def test_torch_backend_other_problems(problem, eta):
    pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    if problem.name == "quotient":
        X = np.stack([rng.uniform(-2.5, 3, 3000), rng.uniform(0, 10, 3000)], 1)
    else:
        X = rng.normal(size=(3000, problem.n_params)) * 0.8
    a = run_points(problem, X, eta, max_iter=600, tol=1e-10)
    b = run_points(problem, X, eta, max_iter=600, tol=1e-10, backend="torch")
    assert (a.status == b.status).mean() >= 0.999
    both = (a.status == CONVERGED) & (b.status == CONVERGED)
    np.testing.assert_allclose(a.sq_norm[both], b.sq_norm[both], rtol=1e-9)


def test_identical_with_one_and_two_threads():
    import numba

    p, g = _slice_fixture()
    g = Slice2D.random(4, (-3, 3), (-3, 3), 128, 128, seed=3)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = basin(p, g, 0.45, max_iter=400)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        b = basin(p, g, 0.45, max_iter=400)
    finally:
        numba.set_num_threads(old)
    for v in a.data_vars:
        np.testing.assert_array_equal(np.asarray(a[v]), np.asarray(b[v]))


def test_float32_error_is_measured_and_small_on_converged_points():
    p = ScalarFactorization(d=1, y=1.0, lam=0.1)
    g = Slice2D.axes(2, (-2, 2), (-2, 2), 64, 64)
    a = basin(p, g, 0.3, max_iter=2000, tol=1e-6)
    b = basin(p, g, 0.3, max_iter=2000, tol=1e-6, dtype="float32")
    both = (np.asarray(a.status) == CONVERGED) & (np.asarray(b.status) == CONVERGED)
    assert both.mean() > 0.3
    err = np.abs(np.asarray(a.sq_norm)[both] - np.asarray(b.sq_norm)[both])
    assert err.max() < 1e-3  # float32 rounding every step: about 1e-6 relative per step
    assert (np.asarray(a.status) == np.asarray(b.status)).mean() > 0.97


def test_records_coordinate_distances_and_params():
    p = ScalarFactorization(d=1, y=1.0, lam=0.2)
    X = np.array([[1.2, 0.7], [-0.9, -1.1]])
    pts = np.array([[np.sqrt(0.8), np.sqrt(0.8)], [-np.sqrt(0.8), -np.sqrt(0.8)]])
    r = run_points(p, X, 0.3, coordinate=0, points=pts, keep_params=True, tol=1e-14,
                   max_iter=100000)
    assert np.all(r.status == CONVERGED)
    np.testing.assert_allclose(r.coordinate, r.params[:, 0])
    assert r.distances.shape == (2, 2)
    np.testing.assert_allclose(r.distances[[0, 1], [0, 1]], 0, atol=1e-6)
    assert list(r.minimizer) == [1, 1]
    np.testing.assert_allclose(r.sharpness, th.sharpness(r.params[:, :1], r.params[:, 1:], 1.0, 0.2))


def test_bad_config_raises_clear_errors():
    from gdchaos.errors import GdchaosInputError

    for kw in (dict(eta=0), dict(eta=-1), dict(eta=float("nan")), dict(eta=1, momentum=1.0),
               dict(eta=1, max_iter=-3), dict(eta=1, backend="jax"), dict(eta=1, dtype="f16")):
        with pytest.raises(GdchaosInputError):
            RunConfig(**kw)
    with pytest.raises(GdchaosInputError):
        run_points(ScalarFactorization(d=2), np.zeros((3, 3)), 0.1)
    with pytest.raises(GdchaosInputError):
        ScalarFactorization(d=1, lam=-0.1)
