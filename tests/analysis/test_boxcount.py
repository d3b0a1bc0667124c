"""Box counting (SPEC section 4; figure 3 right)."""

import numpy as np
import pytest
from _anasets import circle, filled_square, koch_curve, sierpinski_triangle

from gdchaos.errors import GdchaosInputError
from gdchaos.analysis import (BoxCounter, boundary_mask, box_counts, box_dimension, fit_line,
                              largest_linear_region, mask_points, normalize_unit_square,
                              paper_box_dimension)

KNOWN = [
    ("koch", koch_curve, np.log(4) / np.log(3)),
    ("sierpinski", sierpinski_triangle, np.log(3) / np.log(2)),
    ("circle", circle, 1.0),
    ("square", filled_square, 2.0),
]


@pytest.mark.parametrize("name,make,truth", KNOWN, ids=[k[0] for k in KNOWN])
def test_automatic_estimator_on_known_sets(name, make, truth):
    r = box_dimension(make())
    assert abs(r.dimension - truth) < 0.03, (name, r.dimension)
    assert r.ci[0] <= truth <= r.ci[1], (name, r.ci)
    # the raw curve comes with the fit, sizes decreasing, counts increasing
    assert np.all(np.diff(r.eps) < 0) and np.all(np.diff(r.counts) >= 0)
    i0, i1 = r.fit_range
    assert i1 - i0 + 1 >= 8 and r.method == "auto"
    assert r.fit_eps[0] / r.fit_eps[-1] >= 4  # at least two octaves


def test_automatic_estimator_is_deterministic_and_seed_robust():
    P = sierpinski_triangle(10)
    a, b = box_dimension(P, seed=1), box_dimension(P, seed=1)
    assert a.dimension == b.dimension and np.array_equal(a.counts, b.counts)
    c = box_dimension(P, seed=7)
    assert abs(c.dimension - a.dimension) < 0.02


def test_mask_input_uses_pixel_resolution():
    n = 1200
    yy, xx = np.mgrid[0:n, 0:n]
    disk = (np.hypot(xx - n / 2, yy - n / 2) < n / 3).astype(np.int16)
    ring = boundary_mask(disk, side=1)  # the disk's one-pixel digital boundary
    res = box_dimension(ring)
    assert res.frame["resolution"] == 1.0
    assert abs(res.dimension - 1.0) < 0.03 and res.ci[0] <= 1.0 <= res.ci[1]
    xs = np.linspace(0, 2, n)
    res2 = box_dimension(ring, xs=xs, ys=xs)
    assert res2.frame["resolution"] == pytest.approx(2 / (n - 1))
    assert abs(res2.dimension - res.dimension) < 0.02


def test_paper_procedure_fixed_sizes_and_closed_last_box():
    # points j / 1024 on a unit segment: with the last box closed, N(2^-k) = 2^k exactly
    x = np.arange(1025) / 1024.0
    P = np.stack([x, np.zeros_like(x)], 1)
    r = paper_box_dimension(P)
    np.testing.assert_array_equal(r.eps, 2.0 ** -np.arange(2, 9))
    np.testing.assert_array_equal(r.counts, 2.0 ** np.arange(2, 9))
    assert r.dimension == pytest.approx(1.0, abs=1e-12)
    # normalization: shift by the minimum, divide by the largest side
    Pn, frame = normalize_unit_square(np.array([[2.0, 5.0], [4.0, 6.0], [3.0, 5.5]]))
    np.testing.assert_allclose(Pn, [[0, 0], [1, 0.5], [0.5, 0.25]])
    assert frame["scale"] == 2.0


def test_paper_procedure_on_sierpinski():
    r = paper_box_dimension(sierpinski_triangle(12))
    assert abs(r.dimension - np.log(3) / np.log(2)) < 0.03


def test_box_counts_ladders_match_brute_force(rng):
    for D in (1, 2, 3):
        P = rng.random((20000, D)) ** 2
        eps = [0.5, 0.3, 0.25, 0.15, 0.125, 0.07, 0.0625, 0.03, 0.01]
        got = box_counts(P, eps)
        lo = P.min(0)
        want = [len(np.unique(np.floor((P - lo) / e).astype(np.int64), axis=0)) for e in eps]
        np.testing.assert_array_equal(got, want)


def test_box_counter_incremental_equals_one_shot(rng):
    P = rng.normal(size=(50000, 2))
    eps = 8.0 * 2.0 ** -np.arange(1, 12)
    origin = P.min(0) - 0.1
    bc = BoxCounter(origin, eps, flush=7000)
    for chunk in np.array_split(P, 17):
        bc.add(chunk)
    np.testing.assert_array_equal(bc.counts(), box_counts(P, eps, origin=origin))
    assert bc.n_points == P.shape[0]
    with pytest.raises(GdchaosInputError):
        bc.add(origin[None, :] - 1.0)


def test_largest_linear_region_finds_the_straight_part():
    x = np.linspace(0, 10, 41)
    y = np.where(x < 3, 0.2 * x, 0.6 + 1.3 * (x - 3))
    y = np.where(x > 8, 0.6 + 1.3 * 5 + 0.1 * (x - 8), y)
    i0, i1 = largest_linear_region(x, y, span=2, tol=0.05)
    assert x[i0] == pytest.approx(3.0) and x[i1] == pytest.approx(8.0)


def test_fit_line_exact_and_interval():
    x = np.arange(10.0)
    f = fit_line(x, 2 * x + 1)
    assert f.slope == pytest.approx(2) and f.intercept == pytest.approx(1)
    assert f.ci[1] - f.ci[0] < 1e-9
    rng = np.random.default_rng(3)
    cover = 0
    for _ in range(400):
        yv = 0.5 * x + rng.normal(size=x.size)
        g = fit_line(x, yv)
        cover += g.ci[0] <= 0.5 <= g.ci[1]
    assert 0.92 <= cover / 400 <= 0.98  # a 95% interval covers about 95% of the time


def test_bad_input():
    with pytest.raises(GdchaosInputError):
        box_dimension(np.zeros((0, 2)))
    with pytest.raises(GdchaosInputError):
        box_dimension(np.ones((100, 2)))
    with pytest.raises(GdchaosInputError):
        box_counts(np.random.default_rng(0).random((10, 2)), [0.1, -1])
    with pytest.raises(GdchaosInputError):
        box_dimension(np.zeros((5, 5), dtype=bool))


def test_plot_helper():
    import matplotlib

    matplotlib.use("Agg")
    r = box_dimension(circle(100_000))
    ax = r.plot()
    assert len(ax.lines) == 2
    assert "slope" in ax.get_legend().get_texts()[1].get_text()
    assert mask_points(np.eye(3, dtype=bool)).shape == (3, 2)


def test_box_counts_window_weights_and_edge_rule(rng):
    # each occupied box counts by its area fraction inside the window (brute force)
    Q = rng.random((3000, 2)) ** 2
    lo, hi = Q.min(0), Q.max(0)
    for e in (0.3, 0.07, 0.01):
        idx = np.unique(np.floor((Q - lo) / e).astype(int), axis=0)
        left = lo + idx * e
        w = np.prod((np.minimum(hi, left + e) - np.maximum(lo, left)) / e, axis=1)
        assert box_counts(Q, [e], window="bbox")[0] == pytest.approx(w.sum(), rel=1e-12)
    # a filled square has exactly (side / eps)^2 boxes at every shift once clipped
    P = filled_square(200)
    eps = 0.9 * 2.0 ** -np.arange(1, 6)
    side = P.max(0) - P.min(0)
    np.testing.assert_allclose(box_counts(P, eps, n_offsets=5, window="bbox"),
                               np.prod(side) / eps ** 2, rtol=1e-9)
    # the automatic estimator clips only sets that fill both faces of an axis
    r = box_dimension(P)
    assert r.dimension == pytest.approx(2.0, abs=1e-9)
    C = circle(20000)
    rc = box_dimension(C)
    np.testing.assert_array_equal(rc.counts, box_counts(C, rc.eps, n_offsets=16))
