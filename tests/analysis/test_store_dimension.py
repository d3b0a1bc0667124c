"""`gdchaos dimension --store` and `store_dimension`: the boundary dimension of any stored map
(issue 22): basin, hyperparameter map, nn map and nn slice stores, warnings, refusals."""

import json
import warnings

import numpy as np
import pytest
import xarray as xr

from gdchaos.analysis import (DimensionWarning, boundary_mask, box_dimension, outcome_labels,
                              plot_dimensions, quotient_edge_gap, store_dimension,
                              store_dimensions, thin_boundary)
from gdchaos.analysis.calibration import cantor_labels
from gdchaos.analysis.storedim import store_labels
from gdchaos.cli import main
from gdchaos.errors import GdchaosInputError

CANTOR_X_INTERVAL = 1.0 + np.log(2) / np.log(3)


def cli(argv, capsys):
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own refusals
        rc = exc.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def dataset(status, xs, ys, **extra):
    """A map dataset as a user would build one (no gdchaos_run attribute)."""
    v = {"status": (("y", "x"), np.asarray(status, dtype=np.int8))}
    v.update({k: (("y", "x"), a) for k, a in extra.items()})
    return xr.Dataset(v, coords={"x": xs, "y": ys})


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """Tiny stores of each kind, made by the commands a user runs."""
    d = tmp_path_factory.mktemp("maps")
    s = {k: d / f"{k}.zarr" for k in ("basin", "map", "nn_map", "nn_slice")}
    runs = {
        "basin": ["basin", "--problem", "quotient", "--y", "0.5", "--lam", "0.2", "--eta", "1",
                  "--grid", "256", "--range=-2.5,3,0,10", "--iters", "200", "--tol", "1e-10"],
        "map": ["map", "--problem", "scalar", "--y", "1", "--x-axis", "eta_u:log:1e-2,1e1",
                "--y-axis", "eta_v:log:1e-2,1e1", "--init", "1.5,0.3", "--grid", "64",
                "--iters", "200"],
        "nn_map": ["nn", "map", "--grid", "32", "--iters", "20", "--width", "4"],
        "nn_slice": ["nn", "slice", "--dataset", "digits", "--n-per-class", "5", "--width", "4",
                     "--iters", "20", "--grid", "8", "--sharpness", "none", "--no-png"],
    }
    for k, argv in runs.items():
        assert main(argv + ["--out", str(s[k]), "--quiet"]) == 0, k
    return s


# ----------------------------------------------------------------------- known dimensions
def test_straight_boundary_reads_one_with_its_interval():
    xs = np.linspace(-1, 1, 600)
    X, Y = np.meshgrid(xs, xs)
    r = store_dimension(dataset(np.where(Y < 0.37 * X + 0.1, 1, 2), xs, xs))
    assert abs(r.dimension - 1.0) < 0.03 and r.ci[0] < 1.0 < r.ci[1]
    assert r.warnings == [] and r.n_points == r.frame["n_boundary"] > 500
    a, b = r.frame["fit_box_pixels"]
    assert 4.0 - 1e-9 <= a < b and b > 30 * a  # more than 1.5 decades, in pixels


def test_cantor_times_interval_boundary():
    """A basin whose boundary is the middle-thirds Cantor set times an interval."""
    n = 729
    xs = (np.arange(n) + 0.5) / n
    r = store_dimension(dataset(np.where(cantor_labels(n) == 1, 1, 2), xs, xs))
    assert r.ci[0] < CANTOR_X_INTERVAL < r.ci[1] and abs(r.dimension - CANTOR_X_INTERVAL) < 0.05
    assert r.warnings == []


def test_a_computed_mask_is_ignored_and_not_run_pixels_are_warned():
    xs = np.linspace(-1, 1, 600)
    X, Y = np.meshgrid(xs, xs)
    st = np.where(X ** 2 + Y ** 2 < 0.5, 1, 2)
    ref = store_dimension(dataset(st, xs, xs), warn=False)
    refined = dataset(st, xs, xs, computed=(np.arange(600)[:, None] % 2 == 0) | (X < 0))
    r = store_dimension(refined, warn=False)  # a refined map: the status at full resolution
    assert r.dimension == ref.dimension and r.ci == ref.ci and r.n_points == ref.n_points
    st2 = st.copy()
    st2[:100] = -1  # an interrupted store read as it is
    with pytest.warns(DimensionWarning) as rec:
        r2 = store_dimension(dataset(st2, xs, xs))
    assert any("60000 pixels were not run" in str(w.message) for w in rec)
    assert r2.frame["n_not_run"] == 60000 and r2.n_points < ref.n_points


# ------------------------------------------------------------------------------ the stores
def test_basin_store_of_figure3_window(stores, capsys):
    rc, out, err = cli(["dimension", "--store", stores["basin"], "--json"], capsys)
    assert rc == 0
    obj = json.loads(out)
    auto = obj["auto"]
    assert set(obj) == {"info", "auto"} and obj["info"]["kind"] == "basin"
    assert obj["info"]["outcome"] == "converged" and obj["info"]["margin"] == 0.01
    assert 1.0 < auto["dimension"] < 1.4 and auto["ci"][0] < auto["dimension"] < auto["ci"][1]
    # 256 pixels a side: fewer than 1.5 decades of boxes, said in one line each
    lines = err.strip().splitlines()
    assert lines and all(s.startswith("gdchaos dimension: warning: ") for s in lines)
    assert any("decades" in s for s in lines) and auto["warnings"]
    # the same as the documented three-step route, with figure 3's edge margin
    ds = xr.open_zarr(stores["basin"])
    lab = outcome_labels(ds.status.values, mode="converged")
    z, w = np.meshgrid(ds.x.values, ds.y.values)
    mask = boundary_mask(lab, exclude=quotient_edge_gap(z, w, 0.5) < 1e-2)
    with pytest.warns(DimensionWarning):
        ref = box_dimension(mask, xs=ds.x.values, ys=ds.y.values)
    assert auto["n_points"] == int(mask.sum()) and auto["dimension"] == ref.dimension
    # without the margin the edge of the state space is kept: more boundary pixels
    wide = store_dimension(stores["basin"], margin=0.0, warn=False)
    assert wide.n_points >= auto["n_points"]


def test_basin_store_text_png_and_both_methods(stores, tmp_path, capsys):
    png = tmp_path / "d.png"
    rc, out, err = cli(["dimension", "--store", stores["basin"], "--method", "both",
                        "--png", png], capsys)
    assert rc == 0 and png.stat().st_size > 1000
    lines = out.strip().splitlines()
    assert lines[0].startswith("paper: D = ") and lines[1].startswith("auto: D = ")
    assert "95% CI [" in lines[1] and "pixels" in lines[1] and "decades" in lines[1]
    assert lines[2].startswith("boundary: ") and "256 x 256 basin" in lines[2]
    assert "paper's finest box" in err  # 2^-8 of the side is below 4 pixels at 256


def test_plot_title_and_one_box_unit(stores):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = store_dimensions(stores["basin"], methods=("paper", "auto"), warn=False)
    fig, ax = plt.subplots()
    plot_dimensions(res, ax=ax, title=res["auto"].frame["title"])
    title = ax.get_title()
    assert "basin.zarr" in title and "quotient" in title and "eta=1" in title
    assert "converged" in title
    # both curves on one unit: the paper's coarsest box (1/4 of the side) sits at x = 4
    x_paper = ax.lines[0].get_xdata()
    x_auto = ax.lines[2].get_xdata()
    assert np.isclose(x_paper.min(), 4.0)
    assert np.isclose(x_auto.min(), 2.0)  # the automatic sizes start at half the extent
    plt.close(fig)


def test_hyperparameter_map_store_counts_boxes_in_log_axes(stores):
    with pytest.warns(DimensionWarning, match="pixels"):
        r = store_dimension(stores["map"])
    assert r.frame["kind"] == "map" and r.frame["axes"] == ["log10 eta_u", "log10 eta_v"]
    ds = xr.open_zarr(stores["map"])
    xs, ys = np.log10(ds.x.values), np.log10(ds.y.values)
    mask = thin_boundary(outcome_labels(ds.status.values, mode="converged"))
    ref = box_dimension(mask, xs=xs, ys=ys, warn=False)
    assert r.n_points == int(mask.sum()) and r.dimension == ref.dimension
    assert r.frame["pixel"] == pytest.approx(3.0 / 63)  # three decades over 64 pixels


def test_nn_map_store_measures_trainability(stores, capsys):
    rc, out, err = cli(["dimension", "--store", stores["nn_map"], "--json"], capsys)
    assert rc == 0
    obj = json.loads(out)
    assert obj["info"]["kind"] == "nn map" and obj["info"]["outcome"] == "trainable"
    ds = xr.open_zarr(stores["nn_map"])
    trainable = (ds.score.values < 1).astype(np.int16)
    assert obj["auto"]["n_points"] == int(thin_boundary(trainable).sum())
    assert np.isfinite(obj["auto"]["dimension"])
    assert "only" in err and "pixels" in err  # a 32 x 32 map: warned


def test_nn_slice_store_is_read(stores):
    ds = xr.open_zarr(stores["nn_slice"])
    lab = store_labels(ds, "status")
    assert lab.shape == (8, 8) and np.array_equal(lab, ds.status.values)
    with pytest.raises(GdchaosInputError, match="score") as e:
        store_dimension(stores["nn_slice"], outcome="trainable")
    assert "\n" not in str(e.value)
    # an 8 x 8 map: too small for a box-counting fit (or without a boundary): one line
    with pytest.raises(GdchaosInputError, match="nn_slice.zarr") as e:
        store_dimension(stores["nn_slice"], outcome="status")
    assert "\n" not in str(e.value)


# ---------------------------------------------------------------------------------- warnings
def test_the_python_route_warns_on_too_few_pixels():
    """outcome_labels -> boundary_mask -> box_dimension on a map with ~200 boundary pixels."""
    n = 128
    xs = np.linspace(-1, 1, n)
    X, Y = np.meshgrid(xs, xs)
    status = np.where(X ** 2 + Y ** 2 < 0.3, 1, 2)
    mask = boundary_mask(outcome_labels(status, mode="converged"))
    assert 100 < mask.sum() < 500
    with pytest.warns(DimensionWarning) as rec:
        box_dimension(mask, xs=xs, ys=xs)
    assert any("points/pixels in the set (fewer than 500)" in str(w.message) for w in rec)
    with pytest.warns(DimensionWarning) as rec:
        r = store_dimension(dataset(status, xs, xs))
    assert any(f"the boundary has only {int(mask.sum())} pixels" in str(w.message) for w in rec)
    assert len(rec) == len(r.warnings) == 2  # too few pixels, too few scales
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store_dimension(dataset(status, xs, xs), warn=False)  # silent on request


# --------------------------------------------------------------------------------- refusals
@pytest.fixture
def odd_stores(tmp_path):
    nostatus = tmp_path / "nostatus.zarr"
    xr.Dataset({"a": (("y", "x"), np.zeros((4, 4)))}, coords={"x": np.arange(4.0),
               "y": np.arange(4.0)}, attrs={"gdchaos_run": "{}"}).to_zarr(nostatus,
                                                                     consolidated=False)
    (tmp_path / "plain").mkdir()
    np.save(tmp_path / "p.npy", np.random.default_rng(0).random((50, 2)))
    return tmp_path


@pytest.mark.parametrize("argv,word", [
    (["--store", "{basin}", "--grid", "64"], "--grid"),
    (["--store", "{basin}", "--y", "1", "--iters", "5"], "--y, --iters"),
    (["--store", "{basin}", "--procedure", "clean"], "--procedure"),
    (["--store", "{basin}", "--points", "{tmp}/p.npy"], "not allowed"),
    (["--points", "{tmp}/p.npy", "--margin", "0.1"], "--margin"),
    (["--outcome", "converged", "--grid", "50"], "--outcome"),
    (["--store", "{tmp}/missing.zarr"], "does not exist"),
    (["--store", "{tmp}/plain"], "not a gdchaos store"),
    (["--store", "{tmp}/nostatus.zarr"], "no status variable"),
    (["--store", "{basin}", "--outcome", "status+sign"], "coordinate"),
    (["--store", "{map}", "--margin", "0.1"], "no edge"),
    (["--store", "{basin}", "--margin", "-1"], "--margin"),
    (["--store", "{basin}", "--png", "{tmp}/d.xyz"], "xyz"),
])
def test_bad_input_is_one_line_exit_2(argv, word, stores, odd_stores, capsys):
    subs = {"basin": stores["basin"], "map": stores["map"], "tmp": odd_stores}
    before = sorted(p.name for p in odd_stores.iterdir())
    rc, out, err = cli(["dimension"] + [a.format(**subs) for a in argv], capsys)
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "error:" in err and word in err, err
    assert "Traceback" not in err
    assert sorted(p.name for p in odd_stores.iterdir()) == before


def test_help_describes_the_estimators_that_exist(capsys):
    with pytest.raises(SystemExit):
        main(["dimension", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "largest linear region" not in text
    assert "--store" in text and "N = A eps^-D + C" in text and "nn map" in text
