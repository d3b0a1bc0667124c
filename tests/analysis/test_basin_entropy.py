"""Basin entropy (Daza et al. 2016) and Wada tests (Daza et al. 2015, 2018)."""

import numpy as np
import pytest

from gdchaos.errors import GdchaosInputError
from gdchaos.analysis import basin_entropy, basin_entropy_scaling, wada_grid, wada_merging

ROOTS = np.exp(2j * np.pi * np.arange(3) / 3)


def newton_outcome(X, steps=60):
    """Basins of the three roots of z^3 - 1 under Newton's method: a Wada boundary (the Julia
    set of the Newton map is the common boundary of the three basins)."""
    z = X[:, 0] + 1j * X[:, 1]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            z = z - (z ** 3 - 1) / (3 * z ** 2)
    d = np.abs(z[:, None] - ROOTS[None, :])
    return np.where(d.min(1) < 1e-3, d.argmin(1), -1).astype(np.int16)


def sectors_outcome(X):
    a = np.arctan2(X[:, 1], X[:, 0])
    return (np.floor((a + np.pi) / (2 * np.pi / 3)).astype(np.int16) % 3)


def grid(n=500, lim=2.0):
    xs = np.linspace(-lim, lim, n)
    X, Y = np.meshgrid(xs, xs)
    return xs, np.stack([X.ravel(), Y.ravel()], 1)


def test_exact_values():
    L = np.zeros((10, 10), dtype=np.int16)
    L[:, 1::2] = 1  # every 2x2 box holds two of each outcome
    r = basin_entropy(L, box=2)
    assert r.Sb == pytest.approx(np.log(2)) and r.Sbb == pytest.approx(np.log(2))
    assert r.n_boxes == 25 and r.n_boundary_boxes == 25 and not r.log2_test
    L3 = np.zeros((6, 6), dtype=np.int16)
    L3[:3, :3] = 1
    r3 = basin_entropy(L3, box=3)
    assert r3.Sb == 0 and r3.Sbb == 0 and r3.n_boundary_boxes == 0
    Lm = np.array([[0, 1, 2], [0, 1, 2], [0, 1, 2]], dtype=np.int16)
    assert basin_entropy(Lm, box=3).Sb == pytest.approx(np.log(3))
    Li = Lm.copy()
    Li[:, 2] = -1  # invalid pixels do not count
    assert basin_entropy(Li, box=3).Sb == pytest.approx(np.log(2))
    with pytest.raises(GdchaosInputError):
        basin_entropy(L, box=1)


def test_log2_criterion_fractal_vs_smooth():
    _, P = grid(600)
    newton = newton_outcome(P).reshape(600, 600)
    smooth = (np.hypot(P[:, 0], P[:, 1]) < 1.3).astype(np.int16).reshape(600, 600)
    rn, rs = basin_entropy(newton), basin_entropy(smooth)
    assert rn.log2_test and rn.Sbb > np.log(2)
    assert not rs.log2_test and rs.Sbb < 0.6
    # S_b ~ box^alpha: alpha about 1 for the smooth boundary, below 1 for Newton's
    ss, sn = basin_entropy_scaling(smooth), basin_entropy_scaling(newton)
    assert abs(ss.fit.slope - 1) < 0.2 and sn.fit.slope < 0.85
    assert ss.box == 5 and len(ss.curve["Sb"]) == len(ss.curve["box"])


def test_wada_merging_and_grid_methods():
    xs, P = grid(500)
    newton = newton_outcome(P).reshape(500, 500)
    sectors = sectors_outcome(P).reshape(500, 500)
    wn, ws = wada_merging(newton), wada_merging(sectors)
    assert wn.is_wada and wn.W[3] > 0.95 and np.all(np.diff(wn.W) >= 0)
    assert not ws.is_wada and ws.W[3] < 0.1
    gn = wada_grid(newton_outcome, xs, xs, newton, max_level=5)
    gs = wada_grid(sectors_outcome, xs, xs, sectors, max_level=5)
    assert gn.is_wada and gn.W[-1] > 0.95 and gn.W[-1] > gn.W[0]
    assert not gs.is_wada and gs.W[-1] < 0.05
    with pytest.raises(GdchaosInputError):
        wada_merging((np.arange(100).reshape(10, 10) % 2).astype(np.int16))


def test_wada_merging_ignores_rare_outcomes():
    _, P = grid(300)
    L = newton_outcome(P).reshape(300, 300)
    L[150, 150] = 7  # one stray pixel of a fourth outcome
    assert not wada_merging(L).is_wada
    r = wada_merging(L, min_share=1e-3)
    assert r.is_wada and r.info["ignored_outcomes"] == [7]
