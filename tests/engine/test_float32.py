"""float32 means one thing on both backends: float64 arithmetic, the state rounded to float32
after every step (and the initial point rounded once)."""

import numpy as np
import pytest

import gdchaos
from gdchaos import QuotientMap, ScalarFactorization


@pytest.mark.parametrize("problem", [ScalarFactorization(d=2, y=1.0, lam=0.1),
                                     QuotientMap(y=0.5, lam=0.2)], ids=repr)
def test_float32_is_the_same_on_numba_and_torch(problem):
    pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    X0 = rng.uniform(-2, 2, size=(3000, problem.n_params))
    if problem.name == "quotient":  # noqa: name test of the test's own problem list
        X0[:, 1] = 2 * np.abs(X0[:, 0] + 0.5) + rng.uniform(0, 4, 3000)
    kw = dict(eta=0.9, max_iter=300, tol=1e-8, dtype="float32", keep_params=True)
    a = gdchaos.run_points(problem, X0, **kw)
    b = gdchaos.run_points(problem, X0, backend="torch", **kw)
    assert np.mean(a.status == b.status) >= 0.999
    same = (a.status == b.status) & (a.iterations == b.iterations)
    assert same.mean() >= 0.99
    # every state is a float32 number, on both backends
    for r in (a, b):
        P = r.params[np.all(np.isfinite(r.params), axis=1)]
        np.testing.assert_array_equal(P, P.astype(np.float32).astype(np.float64))
    np.testing.assert_allclose(a.params[same & (a.status == gdchaos.CONVERGED)],
                               b.params[same & (b.status == gdchaos.CONVERGED)], rtol=1e-6,
                               atol=1e-6)
    # and it differs from float64 (the rounding is really applied)
    c = gdchaos.run_points(problem, X0, **dict(kw, dtype="float64"))
    assert not np.array_equal(c.params, a.params)
