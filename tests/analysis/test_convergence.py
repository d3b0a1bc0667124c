"""Convergence study of the figure-3 dimension (tiled, incremental box counts)."""

import json

import numpy as np
import pytest

from gdchaos.analysis import box_counts, convergence_study, quotient_boundary_tiled


def test_convergence_study_small():
    r = convergence_study((300, 600), (50, 100))
    assert [(row["n"], row["steps"]) for row in r.rows] == [(300, 50), (600, 50), (300, 100),
                                                          (600, 100)]
    for row in r.rows:
        assert row["n_boundary"] > 100
        assert 0.8 < row["paper"] < 1.6 and row["auto_ci"][0] <= row["auto"] <= row["auto_ci"][1]
    # incremental counts in the fixed frame equal a one-shot count of the final points
    tb = quotient_boundary_tiled(600, 100)
    c = np.asarray(r.frame_counts["n=600,steps=100"])
    ok = np.isfinite(c)
    want = box_counts(tb.points(), r.frame_eps[ok], origin=[-2.5, 0.0])
    np.testing.assert_array_equal(c[ok], want)
    assert np.all(np.diff(c[ok]) >= 0)
    json.dumps(r.as_dict())
    assert "paper" in r.table()


def test_convergence_to_high_resolution_and_agreement_with_uncertainty():
    """Box counting at 8000^2 (tiled) and the uncertainty exponent agree on D within 0.05.

    Two independent estimates: the paper's procedure on an 8000 x 8000 grid and 2 - alpha from
    the uncertainty exponent (10^6 points per eps, no grid at all)."""
    from gdchaos.analysis import engine_outcome, quotient_sampler, uncertainty_exponent
    from gdchaos.problems import QuotientMap

    r = convergence_study((2000, 8000), (200,))
    d8000 = r.rows[-1]["paper"]
    out = engine_outcome(QuotientMap(0.5, 0.2), 1.0, "converged", max_iter=200, tol=1e-12,
                         gtol=0.0)
    u = uncertainty_exponent(out, quotient_sampler((-2.5, 3), (0, 10), 0.5, 1e-2),
                             np.geomspace(1e-1, 1e-5, 8), 1_000_000, seed=0)
    assert abs((2 - u.alpha) - d8000) < 0.05
    assert r.rows[-1]["n_boundary"] > 4 * r.rows[0]["n_boundary"]


@pytest.mark.slow
def test_full_convergence_study_settles_at_high_resolution():
    """500^2 .. 16000^2 and 100 / 200 steps (docs/analysis.md): 100 steps already decide every
    pixel, and from 4000^2 on the paper's procedure stays within +-0.03."""
    r = convergence_study((500, 1000, 2000, 4000, 8000, 16000), (100, 200))
    by = {(row["n"], row["steps"]): row for row in r.rows}
    for n in (500, 2000, 16000):
        assert by[(n, 100)]["n_boundary"] == by[(n, 200)]["n_boundary"]
        assert by[(n, 100)]["paper"] == by[(n, 200)]["paper"]
    hi = [by[(n, 200)]["paper"] for n in (4000, 8000, 16000)]
    assert max(hi) - min(hi) < 0.06
    # counts at a fixed box size never decrease when the resolution grows
    c8 = np.asarray(r.frame_counts["n=8000,steps=200"])
    c16 = np.asarray(r.frame_counts["n=16000,steps=200"])
    ok = np.isfinite(c8)
    assert np.all(c16[ok] >= c8[ok])
