"""Fit windows and intervals of the basin-entropy and uncertainty exponents (issue 23)."""

import numpy as np
import pytest

from gdchaos.analysis import basin_entropy_scaling, box_sampler, uncertainty_exponent
from gdchaos.analysis.basin_entropy import scaling_boxes
from gdchaos.analysis.calibration import cantor_labels, cantor_outcome


@pytest.mark.parametrize("n", [600, 1200])
def test_basin_entropy_exponent_of_smooth_boundaries_covers_one(n):
    yy, xx = np.mgrid[0:n, 0:n]
    disk = (np.hypot(xx - n / 2.1, yy - n / 1.9) < n / 3).astype(np.int16)
    half = ((yy - n / 2) * np.cos(0.3) - (xx - n / 2) * np.sin(0.3) > 0).astype(np.int16)
    for L in (disk, half):
        r = basin_entropy_scaling(L)
        assert r.fit.ci[0] <= 1.0 <= r.fit.ci[1] and abs(r.fit.slope - 1) < 0.015, r.fit
        assert r.curve["fit_box"][0] == 2 and r.curve["fit_box"][-1] <= n / 8
        assert r.box == 5 and len(r.curve["Sb"]) == len(r.curve["box"])


def test_basin_entropy_exponent_of_cantor_basin():
    r = basin_entropy_scaling(cantor_labels(729))
    truth = 1 - np.log(2) / np.log(3)
    assert r.fit.ci[0] <= truth <= r.fit.ci[1]


def test_basin_entropy_small_map_has_no_fit():
    r = basin_entropy_scaling(np.eye(24, dtype=np.int16), box=3, boxes=(2, 3, 4))
    assert r.fit is None and r.curve["warnings"]
    assert scaling_boxes((24, 24)) == [] and scaling_boxes((600, 600))[-1] <= 75


@pytest.mark.parametrize("seed", [0, 1])
def test_uncertainty_exponent_cantor_basin_interval_covers(seed):
    r = uncertainty_exponent(cantor_outcome, box_sampler([0, 0], [1, 1]),
                             np.geomspace(1e-1, 1e-6, 16), 200_000, seed=seed)
    truth = 1 - np.log(2) / np.log(3)
    assert r.ci[0] <= truth <= r.ci[1], (r.alpha, r.ci)
    assert r.info["sys"] > 0 and r.ci[1] - r.ci[0] >= r.info["ci_stat"][1] - r.info["ci_stat"][0]
    # coarse sizes where the uncertain fraction exceeds 0.1 are outside the window
    assert np.all(r.fraction[r.fit_mask] <= 0.1) and not r.fit_mask[0]
