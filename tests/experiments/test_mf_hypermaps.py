"""The extras item mf_maps: engine maps over hyperparameters against the theory's boundaries."""

import json
import os

import numpy as np
import pytest

from gdchaos.experiments import mf_hypermaps as mf

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

TINY = dict(grid=40, iters=5000)


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    from gdchaos.experiments.extras import run_extras

    out = tmp_path_factory.mktemp("mf_maps")
    recs = dict(run_extras("tiny", str(out), only=["mf_maps"], progress=lambda s: None))
    (rec,) = recs.values()
    return out, rec


def test_item_numbers_in_range(record):
    """Each map has a boundary inside (both outcomes, both predictions scored) and agrees with
    the theory on >= 99% of the pixels off the 2-pixel band; the closest-minimizer claim holds."""
    out, rec = record
    n = rec["numbers"]
    assert n["grid"] == 40 and n["band_pixels"] == 2
    for key in ("scale", "steps", "lam"):
        m = n[key]
        assert m["agreement"] >= 0.99, (key, m)
        assert 0.1 < m["converged_fraction"] < 0.9, key
        assert m["scored"] > 0.5 * 40 * 40 if key != "lam" else m["scored"] > 300
        for lab in ("predicted_converges", "predicted_fails"):
            assert m["per_label"][lab]["pixels"] > 50, (key, lab)
    assert n["lam"]["closest_minimizer"]["pixels"] > 30
    assert n["lam"]["closest_minimizer"]["agreement"] >= 0.99
    # beyond Theorem 5's sufficient bound a part converges, a part does not
    assert 0.05 < n["lam"]["converged_fraction_where_no_claim"] < 0.95
    assert len(rec["images"]) == 3 and all(os.path.getsize(p) > 10000 for p in rec["images"])
    with open(os.path.join(out, "mf_maps.json")) as fh:
        assert json.load(fh)["numbers"]["scale"]["agreement"] == n["scale"]["agreement"]


@pytest.mark.parametrize("which", ["scale", "steps"])
def test_engine_map_refutes_a_boundary_off_by_ten_percent(which):
    """The engine's map agrees with the exact boundary and not with one 10% off (on windows
    where 10% spans more than the excluded band)."""
    s = {**mf.DEFAULTS, **TINY}
    if which == "scale":
        s["scale"] = dict(s["scale"], eta=[0.8, 1.2], s=[1.1, 1.6])
        run = mf.scale_map
    else:
        s["steps"] = dict(s["steps"], eta_u=[0.05, 4.0], eta_v=[1.0, 3.0])
        run = mf.steps_map
    ds, lab = run(s)
    conv = ds.status.values == 1
    assert mf.agreement(conv, lab, 2)["agreement"] >= 0.99
    for f in (1.1, 1 / 1.1):
        _, wrong = run(s, eta_scale=f)
        assert mf.agreement(conv, wrong, 2)["agreement"] < 0.99, f


def test_band_and_agreement():
    lab = np.zeros((10, 10), int)
    lab[:, 5:] = 1
    lab[0, 0] = mf.NO_CLAIM
    band = mf.band_mask(lab, 2)
    assert band[:, 3:7].all() and band[:3, :3].all()
    assert not band[3:, :2].any() and not band[:, 8:].any()
    conv = lab == 1
    conv[9, 9] = False  # one wrong pixel off the band
    conv[5, 4] = True  # one wrong pixel inside the band: not scored
    a = mf.agreement(conv, lab, 2)
    assert a["scored"] == (~band & (lab != mf.NO_CLAIM)).sum()
    assert a["agreement"] == pytest.approx(1 - 1 / a["scored"])
    assert a["per_label"]["predicted_fails"]["agreement"] == 1.0
