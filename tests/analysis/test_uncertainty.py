"""Uncertainty exponent (Grebogi, McDonald, Ott, Yorke 1983)."""

import numpy as np
import pytest

from gdchaos.errors import GdchaosInputError
from gdchaos.analysis import (box_sampler, engine_outcome, quotient_sampler,
                              uncertainty_exponent)
from gdchaos.problems import QuotientMap, ScalarFactorization


def weierstrass_outcome(lx, ly, steps=80):
    """Basins of y -> +inf / -inf of the map x' = lx x mod 1, y' = ly y + cos(2 pi x).

    McDonald, Grebogi, Ott, Yorke, "Fractal basin boundaries", Physica D 17 (1985) 125-153,
    section 4 (and Grebogi et al. 1983): the basin boundary is the Weierstrass curve
    y = -sum_j ly^-(j+1) cos(2 pi lx^j x), of box-counting dimension D = 2 - ln ly / ln lx
    (Kaplan, Mallet-Paret, Yorke 1984), so the uncertainty exponent is alpha = ln ly / ln lx.
    """

    def outcome(X):
        x = X[:, 0] % 1.0
        y = X[:, 1].copy()
        for _ in range(steps):
            y = ly * y + np.cos(2 * np.pi * x)
            x = (lx * x) % 1.0
        return (y > 0).astype(np.int16)

    return outcome


@pytest.mark.parametrize("lx,ly", [(3.0, 1.5), (2.0, 1.2)])
def test_published_fractal_basin_weierstrass_map(lx, ly):
    r = uncertainty_exponent(weierstrass_outcome(lx, ly), box_sampler([0, -2.5], [1, 2.5]),
                             np.geomspace(1e-1, 1e-5, 9), 60_000, seed=2)
    theory = np.log(ly) / np.log(lx)
    assert abs(r.alpha - theory) < 0.05, (r.alpha, theory)
    assert abs(r.dimension - (2 - theory)) < 0.05
    assert r.ci[0] < r.alpha < r.ci[1] and r.ci[1] - r.ci[0] < 0.1


def test_smooth_boundary_gives_one():
    """Scalar factorization, d = 1, y = 1, lam = 0, eta = 0.2: eta |y| < 1, so the
    convergence region is the smooth D0 (Theorem 1) and alpha = 1."""
    out = engine_outcome(ScalarFactorization(d=1, y=1.0, lam=0.0), 0.2, "converged",
                         max_iter=1000, tol=1e-8, div_threshold=1e6)
    r = uncertainty_exponent(out, box_sampler([-4, -4], [4, 4]), np.geomspace(1e-1, 3e-4, 6),
                             300_000, seed=0)
    assert abs(r.alpha - 1.0) < 0.1, r.alpha
    assert r.D == 2 and r.fit_mask.all()


def test_one_outcome_call_per_eps_with_all_pairs():
    calls = []

    def outcome(X):
        calls.append(X.shape)
        return (X[:, 0] > 0.5).astype(np.int16)

    eps = [0.1, 0.01, 0.001]
    r = uncertainty_exponent(outcome, box_sampler([0, 0], [1, 1]), eps, 200_000, seed=1)
    assert calls == [(400_000, 2)] * 3
    # half-plane boundary: f(eps) = (mean |u_x|) eps = (2 / pi) eps exactly in expectation
    np.testing.assert_allclose(r.fraction, 2 / np.pi * np.array(eps), rtol=0.3)
    assert abs(r.alpha - 1) < 0.05
    r2 = uncertainty_exponent(outcome, box_sampler([0, 0], [1, 1]), eps, 200_000, seed=1)
    np.testing.assert_array_equal(r.n_uncertain, r2.n_uncertain)


def test_invalid_outcomes_are_dropped_and_quotient_sampler():
    s = quotient_sampler((-2.5, 3), (0, 10), 0.5, margin=0.01)
    X = s(np.random.default_rng(0), 10000)
    assert X.shape == (10000, 2) and np.all(X[:, 1] - 2 * np.abs(X[:, 0] + 0.5) >= 0.01)
    out = engine_outcome(QuotientMap(0.5, 0.2), 1.0, "converged", max_iter=50, tol=1e-12)
    r = uncertainty_exponent(out, box_sampler([-2.5, 0], [3, 10]), [0.5, 0.25], 20000, seed=0)
    assert r.n_valid[0] < 20000  # pairs with a point outside the state space are dropped
    with pytest.raises(GdchaosInputError):
        uncertainty_exponent(out, s, [0.1, -1.0], 100)
