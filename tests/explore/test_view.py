"""The explorer's state, maps, trajectories, overlays and reproduce command (no browser)."""

import shlex

import numpy as np
import pytest

import gdchaos as gc
from gdchaos import cli
from gdchaos.explore import (ViewState, compute_map, reproduce, resolution_warning,
                             state_from_query, trajectory)
from gdchaos.explore._overlays import overlays
from gdchaos.explore._state import MAX_WORK, make_problem
from gdchaos.explore._view import fit_resolution


def test_query_round_trip_and_defaults():
    st = state_from_query({"eta": "0.8", "x0": "-1", "x1": "1", "color": "iterations"})
    assert st.eta == 0.8 and st.color == "iterations"
    assert state_from_query(st.to_query()) == st
    assert state_from_query({}) == ViewState()
    sc = state_from_query({"problem": "scalar"})
    assert (sc.x0, sc.x1, sc.y) == (-4.0, 4.0, None)  # the problem's default window and y


@pytest.mark.parametrize("query, words", [
    ({"eta": "-1"}, "eta"), ({"eta": "abc"}, "eta must be a number"),
    ({"problem": "banana"}, "problem must be one of"), ({"iters": "100000000"}, "iterations"),
    ({"iters": "2.5"}, "integer"), ({"Y": "1,0;0,1"}, "--Y is not an option"),
    ({"x0": "2", "x1": "1"}, "x0 < x1"), ({"x1": "inf"}, "finite"), ({"foo": "1"}, "unknown"),
    ({"color": "distance"}, "click"), ({"precision": "dd", "problem": "scalar"}, "quotient"),
    ({"momentum": "0.5"}, "plain GD"), ({"lam": "-1"}, "lam"), ({"d": "1000",
                                                                "problem": "scalar"}, "d must"),
    ({"eta": "1" * 300}, "too long"), ({"x0": "-1e300"}, "1e12"),
])
def test_bad_parameters_give_one_clear_line(query, words):
    with pytest.raises(gc.GdchaosInputError) as e:
        state_from_query(query)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_map_is_the_engines_map():
    st = state_from_query({"x0": "0.2", "x1": "1.4", "y0": "3.5", "y1": "5.5"})
    v = compute_map(st, 120, 90)
    assert (v.ny, v.nx) == (90, 120)
    g = gc.Slice2D.axes(2, (v.xs[0], v.xs[-1]), (v.ys[0], v.ys[-1]), 120, 90)
    ds = gc.basin(gc.QuotientMap(0.5, 0.2), g, eta=1.0, max_iter=200, tol=1e-10, records=[])
    assert np.array_equal(v.status, np.asarray(ds.status))
    assert 0 < np.mean(v.status == 1) < 1
    # colouring by a record: NaN where not converged
    v2 = compute_map(state_from_query({"color": "sq_norm"}, st), 60, 40)
    assert np.all(np.isnan(v2.values[v2.status != 1]))
    assert np.all(np.isfinite(v2.values[v2.status == 1]))


def test_reproduce_command_gives_the_same_map(tmp_path, capsys):
    st = state_from_query({"problem": "scalar", "d": "2", "lam": "0.1", "eta": "0.9",
                           "x0": "-2", "x1": "2", "y0": "-1.5", "y1": "1.5", "iters": "300"})
    v = compute_map(st, 64, 48)
    cmd, py = reproduce(st, v.nx, v.ny)
    argv = shlex.split(cmd)[1:]
    argv[argv.index("view.zarr")] = str(tmp_path / "v.zarr")
    argv[argv.index("view.png")] = str(tmp_path / "v.png")
    assert cli.main(argv) == 0
    ds = gc.open_store(str(tmp_path / "v.zarr"))
    assert np.array_equal(np.asarray(ds.status), v.status)
    ns = {}
    exec(py, ns)  # the Python call computes the same map
    assert np.array_equal(np.asarray(ns["ds"].status), v.status)


def test_work_bound_and_deep_zoom_warning():
    st = state_from_query({"iters": "20000"})
    nx, ny, note = fit_resolution(st, make_problem(st), 1000, 800)
    assert nx * ny * 20000 <= MAX_WORK and note
    with pytest.raises(gc.GdchaosInputError, match="too much work"):
        fit_resolution(state_from_query({"problem": "deep", "k": "4", "Y": "1,0,0;0,1,0;0,0,1",
                                         "iters": "20000"}), None or make_problem(
            state_from_query({"problem": "deep", "k": "4", "Y": "1,0,0;0,1,0;0,0,1"})), 500, 500)
    c = 1.2806248474865698
    shallow = state_from_query({"x0": repr(c - 1e-9), "x1": repr(c + 1e-9), "y0": "4.7",
                                "y1": repr(4.7 + 2e-9)})
    deep = state_from_query({"x0": repr(c - 1e-14), "x1": repr(c + 1e-14), "y0": "4.7",
                             "y1": repr(4.7 + 2e-14)})
    assert resolution_warning(shallow, 300, 300) is None
    assert "float64 stops resolving" in resolution_warning(deep, 300, 300)
    dd = state_from_query({"precision": "dd", "az": repr(c), "aw": "4.7", "x0": "-1e-20",
                           "x1": "1e-20", "y0": "-1e-20", "y1": "1e-20"})
    assert resolution_warning(dd, 300, 300) is None
    v = compute_map(dd, 40, 40)
    assert v.status.shape == (40, 40)


def test_trajectory_and_overlays():
    st = ViewState()
    tr = trajectory(st, 1.0, 4.0)
    res = gc.run_points(gc.QuotientMap(0.5, 0.2), np.array([[1.0, 4.0]]), eta=1.0, max_iter=200,
                        tol=1e-10, records=[])
    assert tr["status"] == gc.STATUS_NAMES[int(res.status[0])]
    assert (tr["a"][0], tr["b"][0]) == (1.0, 4.0) and tr["zw"] is not None
    assert len(tr["loss"]) == len(tr["sharpness"]) == len(tr["a"])
    labels = [lab for lab, _, paths in overlays(st, make_problem(st)) if paths]
    assert any("Thm 4" in lab for lab in labels) and any("T(M)" in lab for lab in labels)
    sc = state_from_query({"problem": "scalar", "lam": "0", "eta": "0.5"})
    labels = [lab for lab, _, paths in overlays(sc, make_problem(sc)) if paths]
    assert any("D0" in lab for lab in labels) and any("minimizers" in lab for lab in labels)
    trs = trajectory(sc, 0.3, 0.2)
    assert trs["zw"] is not None and trs["status"] in gc.STATUS_NAMES.values()
