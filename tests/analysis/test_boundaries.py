"""Boundaries of outcome maps and the figure-3 convergence region (SPEC section 5)."""

import numpy as np
import pytest
from scipy import ndimage

from gdchaos.errors import GdchaosInputError
from gdchaos import Slice2D
from gdchaos.analysis import (FIGURE3, boundary_mask, box_dimension,
                              erosion_boundary, mask_points, outcome_labels, paper_box_dimension,
                              quotient_boundary, quotient_boundary_tiled, quotient_edge_gap,
                              quotient_region)
from gdchaos.engine import CONVERGED, DIVERGED, NOT_RUN, OUTSIDE, UNDECIDED


def test_boundary_mask_two_and_three_outcomes():
    L = np.zeros((40, 60), dtype=np.int16)
    L[:, 30:] = 1
    b = boundary_mask(L, side="both")
    assert b[5:-5, 29].all() and b[5:-5, 30].all() and b.sum() == 2 * 38
    thin = boundary_mask(L)  # the default: one pixel, on the smaller label's side
    assert thin[1:-1, 29].all() and thin.sum() == 38
    assert b[0].sum() == 0 and b[-1].sum() == 0  # grid edge left out
    one = boundary_mask(L, side=1)
    assert one[1:-1, 30].all() and one.sum() == 38
    L3 = L.copy()
    L3[20:, :] = 2
    b3 = boundary_mask(L3, side="both")
    assert b3[19, 5] and b3[20, 5] and b3[10, 29] and not b3[30, 29]


def test_invalid_pixels_make_no_boundary_and_exclusion():
    L = np.ones((30, 30), dtype=np.int16)
    L[:, :10] = -1  # outside the state space
    assert not boundary_mask(L).any()
    L[15:, 10:] = 0
    b = boundary_mask(L, side="both")
    assert b[14, 12] and b[15, 12] and not b[5, 10]  # pixel next to the invalid band
    excl = np.zeros_like(b)
    excl[:, :14] = True
    assert not (boundary_mask(L, exclude=excl) & excl).any()
    with pytest.raises(GdchaosInputError):
        boundary_mask(np.zeros(5))


def test_erosion_boundary_is_scipy_default_and_keeps_grid_edge():
    rng = np.random.default_rng(0)
    R = ndimage.binary_opening(rng.random((50, 50)) < 0.6)
    e = erosion_boundary(R)
    np.testing.assert_array_equal(e, R & ~ndimage.binary_erosion(R))
    full = np.ones((10, 10), bool)
    assert erosion_boundary(full).sum() == 36  # the grid edge ring


def test_outcome_labels_modes():
    st = np.array([CONVERGED, CONVERGED, DIVERGED, UNDECIDED, OUTSIDE, NOT_RUN], dtype=np.int8)
    mi = np.array([1, 2, 0, 0, 0, 0], dtype=np.int8)
    co = np.array([-0.5, 0.5, 0, 0, 0, 0.0])
    np.testing.assert_array_equal(outcome_labels(st, mode="converged"), [1, 1, 0, 0, -1, -1])
    np.testing.assert_array_equal(outcome_labels(st, mode="status"), [1, 1, 2, 0, -1, -1])
    np.testing.assert_array_equal(outcome_labels(st, mi, "status+minimizer"),
                                  [11, 12, 2, 0, -1, -1])
    np.testing.assert_array_equal(outcome_labels(st, mode="status+sign", coordinate=co),
                                  [10, 11, 2, 0, -1, -1])
    with pytest.raises(GdchaosInputError):
        outcome_labels(st, mode="nope")


def test_edge_gap():
    assert quotient_edge_gap(0.0, 3.0, 0.5) == pytest.approx(2.0)
    assert quotient_edge_gap(-1.0, 0.5, 0.5) == pytest.approx(-0.5)


def test_engine_region_equals_the_papers_w_criterion():
    F = FIGURE3
    g = Slice2D.axes(2, F["zrange"], F["wrange"], 500)
    r1, v1 = quotient_region(F["y"], F["lam"], F["eta"], g, F["steps"], criterion="engine")
    r2, v2 = quotient_region(F["y"], F["lam"], F["eta"], g, F["steps"], criterion="w")
    assert np.array_equal(v1, v2)
    # they may differ only on the state-space edge itself (orbits through the image of the
    # origin), which the margin leaves out; the boundaries agree
    diff = r1 != r2
    gap = quotient_edge_gap(g.xs[None, :], g.ys[:, None], F["y"])
    assert not (diff & (gap >= F["margin"])).any()
    for proc in ("paper", "clean"):
        np.testing.assert_array_equal(quotient_boundary(r1, v1, g, F["y"], procedure=proc),
                                      quotient_boundary(r2, v2, g, F["y"], procedure=proc))


def test_figure3_paper_procedure_reproduces_1_249():
    """Figure 3 right: the paper's procedure on its 2000 x 2000 grid gives 1.249."""
    tb = quotient_boundary_tiled(2000, 200, procedure="paper")
    r = paper_box_dimension(tb.points())
    assert abs(r.dimension - 1.249) < 0.03
    assert r.method == "paper" and list(r.eps) == list(2.0 ** -np.arange(2, 9))
    # the same number without the grid-edge pixels the erosion adds
    tc = quotient_boundary_tiled(2000, 200, procedure="clean")
    rc = paper_box_dimension(tc.points())
    assert abs(rc.dimension - 1.249) < 0.03
    assert tb.n_boundary - tc.n_boundary == np.count_nonzero(tb.rows == 1999)
    # the automatic estimator runs on the same boundary and returns its curve
    a = box_dimension(tc.mask(), xs=tc.grid.xs, ys=tc.grid.ys)
    assert 1.0 < a.dimension < 1.4 and a.counts.size == a.eps.size


def test_tiled_boundary_equals_full_grid():
    F = FIGURE3
    g = Slice2D.axes(2, F["zrange"], F["wrange"], 400)
    reg, val = quotient_region(F["y"], F["lam"], F["eta"], g, 100)
    for proc in ("paper", "clean"):
        full = quotient_boundary(reg, val, g, F["y"], procedure=proc)
        tb = quotient_boundary_tiled(400, 100, procedure=proc, tile_points=400 * 37)
        np.testing.assert_array_equal(tb.mask(), full)
        np.testing.assert_allclose(tb.points(), mask_points(full, g.xs, g.ys))
    assert tb.region_pixels == int(reg.sum())
