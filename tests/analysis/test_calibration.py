"""Fast subset of the calibration studies (benchmarks/calibrate_dimension.py and
calibrate_exponents.py; the full tables are in docs/analysis.md)."""

import numpy as np

from gdchaos.analysis.calibration import (calibrate_dimension, calibrate_exponents,
                                          dimension_family, exponent_family, summary)


def test_dimension_calibration_fast_subset():
    cases = dimension_family(quick=True)
    kinds = {c[1] for c in cases}
    assert len(cases) >= 5 and {"points", "mask", "engine"} <= kinds
    rows = calibrate_dimension(cases)
    s = summary(rows)
    assert s["coverage"] >= 0.9, rows
    assert s["median_abs_error"] <= 0.01, rows


def test_full_family_is_large_and_spans_kinds():
    cases = dimension_family()
    assert len(cases) >= 12 + 3
    assert sum(c[1] == "engine" for c in cases) >= 3
    truths = [c[2] for c in cases]
    assert min(truths) == 1.0 and max(truths) == 2.0 and any(1.1 < t < 1.9 for t in truths)


def test_exponent_calibration_fast_subset():
    rows = calibrate_exponents(exponent_family(quick=True))
    assert {r["kind"] for r in rows} == {"entropy", "uncertainty"}
    assert any(abs(r["truth"] - 1) < 1e-12 for r in rows)
    assert any(abs(r["truth"] - (1 - np.log(2) / np.log(3))) < 1e-12 for r in rows)
    assert all(r["covered"] for r in rows), rows
    assert summary(rows)["median_abs_error"] <= 0.02, rows
