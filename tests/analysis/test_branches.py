"""Inverse branches G0, G1, G2 of the planar map (Prop. 14) and figure 3 left."""

import numpy as np
import pytest

from gdchaos.analysis import (FIGURE3, branch_index, branch_invariance, decompose_boundary,
                              inverse_branches, inverse_branches_zw, quintic_coefficients,
                              quotient_boundary_tiled)
from gdchaos.theory import quotient as tq


def _random_states(alpha, n, seed):
    rng = np.random.default_rng(seed)
    Z, W = rng.uniform(-3, 3, n), rng.uniform(0, 12, n)
    ok = W >= 2 * np.abs(Z + alpha)
    return Z[ok], W[ok]


@pytest.mark.parametrize("alpha,beta", [(0.5, 0.2), (0.3, 0.0), (-0.6, 0.1)])
def test_three_preimages_on_B_one_per_strip(alpha, beta):
    Z, W = _random_states(alpha, 40000, 0)
    inB = tq.q_scaled(Z, W, alpha) > 6 - 4 * beta
    G = inverse_branches(Z, W, alpha, beta)
    has = np.isfinite(G[..., 0])
    assert has[:, inB].all()
    for i in range(3):
        m = has[i]
        Zf, Wf = tq.scaled_map(G[i, m, 0], G[i, m, 1], alpha, beta)
        np.testing.assert_allclose(Zf, Z[m], atol=1e-9)
        np.testing.assert_allclose(Wf, W[m], atol=1e-9)
        assert np.all(branch_index(G[i, m, 0], beta) == i)
        assert np.all(G[i, m, 1] >= 2 * np.abs(G[i, m, 0] + alpha) - 1e-9)


def test_quintic_roots_are_the_preimages():
    alpha, beta = 0.5, 0.2
    Z, W = tq.scaled_map(np.array([0.3]), np.array([4.1]), alpha, beta)
    coef = quintic_coefficients(Z, W, alpha, beta)[0]
    assert coef[0] == 1.0
    assert abs(np.polyval(coef, 0.3)) < 1e-10
    G = inverse_branches(Z, W, alpha, beta)
    np.testing.assert_allclose(G[1, 0], [0.3, 4.1], atol=1e-12)
    # unscaled wrapper
    Gz = inverse_branches_zw(Z / 0.5, W / 0.5, 0.5, alpha / 0.5, beta / 0.5)
    np.testing.assert_allclose(Gz, G / 0.5, atol=1e-12)


def test_branches_map_the_figure3_boundary_to_itself():
    F = FIGURE3
    tb = quotient_boundary_tiled(1000, F["steps"])
    m = tb.mask()
    chk = branch_invariance(m, tb.grid.xs, tb.grid.ys, F["eta"], F["y"], F["lam"])
    for i in range(3):
        assert chk.n_points[f"G{i}"] > 500
        assert chk.fractions[f"G{i}"]["2"] > 0.8, chk.fractions
    # control: a random set of states of about the same size is not mapped into itself
    Z, W = _random_states(F["y"], 20000, 6)
    fake = np.zeros_like(m)
    cz = np.clip(np.round((Z + 2.5) / 5.5 * 999).astype(int), 0, 999)
    rw = np.clip(np.round(W / 10 * 999).astype(int), 0, 999)
    fake[rw[:3000], cz[:3000]] = True
    ctl = branch_invariance(fake, tb.grid.xs, tb.grid.ys, F["eta"], F["y"], F["lam"])
    assert all(ctl.fractions[f"G{i}"]["2"] < 0.3 for i in range(3)), ctl.fractions
    dec = decompose_boundary(m, tb.grid.xs, tb.grid.ys, F["eta"], F["y"], F["lam"])
    assert dec.fractions["F"]["5"] > 0.9
    counts = np.bincount(dec.labels, minlength=3)
    assert np.all(counts > 0) and counts.sum() == tb.n_boundary
    np.testing.assert_array_equal(dec.labels, branch_index(tb.points()[:, 0], 0.2))
