"""Box counting with the endpoint/corner constant, the one-pixel boundary, the edge rule on both
axes and the scaling-range warnings (issue 23)."""

import warnings

import numpy as np
import pytest
from _anasets import sierpinski_triangle

from gdchaos.analysis import boundary_mask, box_dimension
from gdchaos.analysis.boundaries import thin_boundary
from gdchaos.analysis.boxcount import SCALING_RULE
from gdchaos.analysis.calibration import cantor_labels
from gdchaos.errors import GdchaosInputError


@pytest.mark.parametrize("th", [0.3, 0.5, 1.1])
def test_tilted_open_segment_is_covered(th):
    # 20k random points on a tilted unit segment: N = L'/eps + 1, the +1 biased the pure power
    # law to 0.979 [0.962, 0.995]
    t = np.sort(np.random.default_rng(0).random(20_000))
    r = box_dimension(np.stack([t * np.cos(th), t * np.sin(th)], 1), warn=False)
    assert r.ci[0] <= 1.0 <= r.ci[1] and abs(r.dimension - 1) < 0.01, (r.dimension, r.ci)
    assert r.frame["model"] == "power+constant" and 0.3 < r.frame["C"] < 1.5


@pytest.mark.parametrize("n,th", [(1200, 0.7), (2560, 0.25)])
def test_digital_segment_is_covered(n, th):
    L = np.zeros((n, n), dtype=np.int16)
    yy, xx = np.mgrid[0:n, 0:n]
    L[(yy - 0.1 * n) * np.cos(th) - (xx - 0.1 * n) * np.sin(th) > 0] = 1
    L[:, int(0.9 * n):] = -1  # an open segment ending inside the map
    L[:int(0.05 * n)] = -1
    r = box_dimension(thin_boundary(L), warn=False)
    assert r.ci[0] <= 1.0 <= r.ci[1] and abs(r.dimension - 1) < 0.015, (r.dimension, r.ci)


def test_sierpinski_triangle_interval_covers():
    r = box_dimension(sierpinski_triangle(12), warn=False)
    truth = np.log(3) / np.log(2)
    assert r.ci[0] <= truth <= r.ci[1] and abs(r.dimension - truth) < 0.01, (r.dimension, r.ci)
    assert r.frame["se_offsets"] > 0 and r.frame["se_regression"] > 0


@pytest.mark.parametrize("n", [1200, 2400])
def test_one_pixel_boundary_of_smooth_basin(n):
    yy, xx = np.mgrid[0:n, 0:n]
    disk = (np.hypot(xx - n / 2.1, yy - n / 1.9) < n / 3).astype(np.int16)
    thin = box_dimension(thin_boundary(disk), warn=False)
    assert thin.ci[0] <= 1.0 <= thin.ci[1] and abs(thin.dimension - 1) < 0.01
    # the two-sided boundary is two pixels thick and reads above 1
    two = box_dimension(boundary_mask(disk, side="both"), warn=False)
    assert np.array_equal(boundary_mask(disk), thin_boundary(disk))  # the default is thin
    assert two.dimension > thin.dimension + 0.01


def test_thin_boundary_is_one_pixel_and_four_connected():
    n = 300
    yy, xx = np.mgrid[0:n, 0:n]
    disk = (np.hypot(xx - 150, yy - 150) < 100).astype(np.int16)
    b = thin_boundary(disk)
    assert not np.any(b & (disk == 1))  # one side only
    from scipy import ndimage

    lab, k = ndimage.label(b)  # 4-connectivity by default
    assert k == 1
    # no 2x2 block of boundary pixels: one pixel thick
    assert not np.any(b[:-1, :-1] & b[1:, :-1] & b[:-1, 1:] & b[1:, 1:])
    with pytest.raises(GdchaosInputError):
        boundary_mask(disk, side="thick")


def test_cantor_times_interval_basin_edge_rule_on_both_axes():
    # the outermost columns are full lines and every column is cut by the top and bottom faces:
    # both axes are clipped (one axis only gave 1.737)
    r = box_dimension(thin_boundary(cantor_labels(2187)), warn=False)
    truth = 1 + np.log(2) / np.log(3)
    assert r.ci[0] <= truth <= r.ci[1] and abs(r.dimension - truth) < 0.02, (r.dimension, r.ci)
    assert "inf" not in r.frame["window"]


def test_short_scaling_range_warns():
    n = 48
    yy, xx = np.mgrid[0:n, 0:n]
    L = (np.sin(xx / 3.0) + np.cos(yy / 4.0) > 0.3).astype(np.int16)
    with pytest.warns(UserWarning, match="too short a scaling range"):
        r = box_dimension(thin_boundary(L))
    assert r.warnings and any("decades" in w for w in r.warnings)
    assert r.as_dict()["warnings"] == r.warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r2 = box_dimension(thin_boundary(L), warn=False)  # silent, same reasons
    assert r2.warnings == r.warnings
    # a long range does not warn
    big = box_dimension(sierpinski_triangle(12), warn=False)
    assert big.warnings == [] and big.frame["decades"] >= SCALING_RULE["min_decades"]


def test_power_model_is_the_old_estimator_and_bad_model():
    t = np.sort(np.random.default_rng(0).random(20_000))
    P = np.stack([t * np.cos(0.5), t * np.sin(0.5)], 1)
    r = box_dimension(P, model="power", warn=False)
    assert r.frame["model"] == "power" and r.frame["C"] == 0.0
    assert r.dimension < box_dimension(P, warn=False).dimension
    with pytest.raises(GdchaosInputError):
        box_dimension(P, model="cubic")


def test_diverged_outcome_mode():
    from gdchaos.analysis import outcome_labels
    from gdchaos.engine import CONVERGED, DIVERGED, OUTSIDE, SADDLE, UNDECIDED

    st = np.array([CONVERGED, DIVERGED, SADDLE, UNDECIDED, OUTSIDE])
    np.testing.assert_array_equal(outcome_labels(st, mode="diverged"), [0, 1, 0, 0, -1])
