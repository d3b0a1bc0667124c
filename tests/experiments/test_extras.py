"""Beyond the paper at tiny size: dimension study, weight-decay continuum, deep zoom."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(scope="module")
def extras(tmp_path_factory):
    from gdchaos.experiments.extras import run_extras

    out = tmp_path_factory.mktemp("extras")
    return dict(run_extras("tiny", str(out), progress=lambda s: None))


def test_zoom_resolves_structure_over_ten_decades_in_float64(extras):
    from PIL import Image

    rec = next(v for k, v in extras.items() if k.startswith("Zoom"))
    n = rec["numbers"]
    assert n["centre_return_error_ulps"] <= 4  # a periodic point known to full precision
    assert n["centre_multiplier_modulus"] > 1  # repelling: on the boundary, not in a basin
    frames = n["frames"]
    widths = [f["width"] for f in frames]
    assert widths[0] == 1.0 and widths[-1] <= 1e-10 and len(frames) >= 11
    for f in frames:
        assert f["both_outcomes"], f  # a boundary point: both outcomes at every scale
        assert f["distinct_columns_float64"] == 1.0 and f["distinct_rows_float64"] == 1.0
        assert f["agreement_with_longdouble"] >= 0.97, f
    assert n["smallest_faithful_width"] <= 1e-10
    with Image.open(rec["gifs"][0]) as gif:
        assert gif.n_frames == len(frames)


def test_float64_runs_out_where_pixels_reach_the_ulp():
    """At a width where the pixel is below the spacing of float64 numbers at the centre, the
    engine's grid collapses: this is where the zoom must stop."""
    from gdchaos.engine import Slice2D

    c = np.array([1.2806248474865698, 4.724695047554424])
    for width, expect_distinct in ((1e-10, True), (1e-15, False)):
        g = Slice2D(c, np.eye(2), (-width / 2, width / 2), (-width / 2, width / 2), 40, 40)
        cols = np.unique(g.points()[:40, 0]).size
        assert (cols == 40) is expect_distinct


def test_lam_continuum_gif_and_growth(extras):
    from PIL import Image

    rec = next(v for k, v in extras.items() if k.startswith("Figure 8"))
    per = rec["numbers"]["per_lam"]
    assert [p["lam"] for p in per] == [0.0, 0.1, 0.3]
    assert per[-1]["converged_fraction"] > per[0]["converged_fraction"]
    with Image.open(rec["gifs"][0]) as gif:
        assert gif.n_frames == 3


def test_dimension_study_and_uncertainty_exponent(extras):
    rec = next(v for k, v in extras.items() if k.startswith("Figure 3"))
    n = rec["numbers"]
    rows = n["convergence_study"]
    assert [r["n"] for r in rows] == [300, 600]
    assert all(1.0 < r["paper"] < 1.5 for r in rows)
    u = n["uncertainty"]
    assert 1.0 < u["dimension"] < 1.6 and u["dimension_ci"][0] < u["dimension_ci"][1]
