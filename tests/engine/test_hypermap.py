"""Maps over two hyperparameters (engine/hypermap.py, `gdchaos map`): against basin where the map
degenerates to the same runs, against brute-force NumPy loops, stores, axes, readouts."""

import importlib.util
import json
import os

import numpy as np
import pytest
import xarray as xr

import gdchaos as gc
from gdchaos.cli import main
from gdchaos.engine.hypermap import Axis, hyper_map
from gdchaos.engine.optim import Optimizer

SCALAR = gc.ScalarFactorization(d=1, y=1.0)
INIT = np.array([1.5, 0.3])


def test_equal_step_sizes_equal_basin():
    """GD map over (eta_u, eta_v) on equal linear axes: its diagonal (eta_u = eta_v) is the
    engine's GD with that step size, bit for bit (status, steps, loss, final point)."""
    ax = (0.2, 1.6)
    ds = hyper_map(SCALAR, Axis("eta_u", *ax), Axis("eta_v", *ax), 8, init=INIT, max_iter=300,
                   keep_params=True)
    for i, eta in enumerate(ds.x.values):
        g = gc.Slice2D.axes(2, (INIT[0], INIT[0] + 1), (INIT[1], INIT[1] + 1), 1)
        b = gc.basin(SCALAR, g, eta=float(eta), max_iter=300, keep_params=True, records="none")
        for k in ("status", "iterations", "final_loss", "params"):
            assert np.array_equal(ds[k].values[i, i], b[k].values[0, 0]), (k, eta)
    st = ds.status.values
    assert (st == gc.CONVERGED).any() and (st == gc.DIVERGED).any()  # a boundary inside


def test_slice_axes_equal_basin():
    """A map over the two slice coordinates at fixed step sizes is basin's map, bit for bit."""
    p = gc.ScalarFactorization(d=2, y=1.0, lam=0.1)
    grid = gc.Slice2D.random(4, (-2, 2), (-2, 2), 12, seed=3)
    b = gc.basin(p, grid, eta=0.7, max_iter=200, records="none")
    ds = hyper_map(p, Axis("slice_x", -2, 2), Axis("slice_y", -2, 2), 12,
                   optimizer=Optimizer("gd", eta=0.7), init=np.zeros(4),
                   directions=grid.directions, max_iter=200)
    for k in ("status", "iterations", "final_loss"):
        assert np.array_equal(ds[k].values, b[k].values), k
    assert len(np.unique(b.status.values)) > 1


def _brute_gd(problem, x0, eta_vec, steps):
    x = np.array(x0, dtype=float)
    losses = [problem.loss(x[None])[0]]
    for _ in range(steps):
        x = x - eta_vec * problem.grad(x[None])[0]
        losses.append(problem.loss(x[None])[0])
    return x, np.array(losses)


@pytest.mark.parametrize("problem,axes", [
    (SCALAR, (Axis("eta_u", 0.05, 2.0, log=True), Axis("eta_v", 0.05, 2.0, log=True))),
    (gc.MatrixFactorization(Y=((0.9, 0.0), (0.2, 0.8))),
     (Axis("eta_U", 0.05, 2.0), Axis("eta_V", 0.05, 2.0)))])
def test_map_points_against_numpy_loops(problem, axes):
    """Every point of a small map = a plain NumPy GD loop with its per-group step sizes, run for
    the number of steps the engine took; the status fits the final loss; the score is its
    definition (mean of the last `window` losses over the first)."""
    init = np.linspace(0.9, 0.1, problem.n_params)
    ds = hyper_map(problem, *axes, 5, init=init, max_iter=400, tol=1e-9, keep_params=True,
                   window=7)
    groups = problem.param_groups
    names = list(groups)
    for j, ev in enumerate(ds.y.values):
        for i, eu in enumerate(ds.x.values):
            eta = np.empty(problem.n_params)
            eta[groups[names[0]]] = eu
            eta[groups[names[1]]] = ev
            T = int(ds.iterations.values[j, i])
            x, losses = _brute_gd(problem, init, eta, T)
            st = ds.status.values[j, i]
            if st == gc.DIVERGED:
                assert not losses[-1] <= 1e8 and ds.score.values[j, i] == np.inf
                continue
            np.testing.assert_allclose(ds.params.values[j, i], x, rtol=1e-9, atol=1e-12)
            assert ds.final_loss.values[j, i] == pytest.approx(losses[-1], rel=1e-9, abs=1e-15)
            assert ds.score.values[j, i] == pytest.approx(losses[-7:].mean() / losses[0],
                                                          rel=1e-9, abs=1e-15)
            if st == gc.CONVERGED:
                assert losses[-1] <= 1e-9
    assert {gc.CONVERGED, gc.DIVERGED} <= set(np.unique(ds.status.values))


def test_other_axes():
    """init_scale, offsets, momentum and lam reach the runs they should."""
    p = gc.ScalarFactorization(d=2, y=1.0)
    init = np.array([0.5, -0.2, 0.3, 0.8])
    ds = hyper_map(p, Axis("init_scale", 0.5, 2.0), Axis("offset_v", -1, 1), 3, init=init,
                   max_iter=0, keep_params=True)
    X = ds.params.values
    np.testing.assert_allclose(X[2, 0], [0.5 * 0.5, -0.2 * 0.5, 0.3 * 0.5 + 1, 0.8 * 0.5 + 1])
    # lam: each row is the problem with that lam (GD, same eta), bit for bit
    ds = hyper_map(p, Axis("eta", 0.2, 0.6), Axis("lam", 0.0, 0.5), 3, init=init, max_iter=300,
                   records="sharpness")
    for j, lam in enumerate(ds.y.values):
        q = gc.ScalarFactorization(d=2, y=1.0, lam=float(lam))
        r = gc.run_points(q, init[None], eta=float(ds.x.values[1]), max_iter=300,
                          records="sharpness")
        assert ds.status.values[j, 1] == r.status[0]
        assert ds.final_loss.values[j, 1] == r.final_loss[0]
        assert ds.sharpness.values[j, 1] == pytest.approx(r.sharpness[0], rel=1e-12)
    # momentum: heavy ball with beta = 0 is GD
    hb = hyper_map(p, Axis("eta", 0.2, 0.6), Axis("momentum", 0.0, 0.9), 3, init=init,
                   optimizer=Optimizer("heavy_ball"), max_iter=300)
    gd = hyper_map(p, Axis("eta", 0.2, 0.6), Axis("offset_u", 0.0, 1.0), 3, init=init,
                   max_iter=300)
    assert np.array_equal(hb.final_loss.values[0], gd.final_loss.values[0])
    assert not np.array_equal(hb.iterations.values[2], gd.iterations.values[0])


def test_store_resume_and_refusal(tmp_path):
    """Store = in-memory map; a rerun resumes (nothing to do); other parameters are refused."""
    kw = dict(init=INIT, max_iter=200, optimizer=Optimizer("adam", eta=0.05))
    axes = (Axis("eta_u", 1e-2, 1.0, log=True), Axis("momentum", 0.0, 0.95))
    mem = hyper_map(SCALAR, *axes, 10, **kw)
    path = str(tmp_path / "m.zarr")
    st = hyper_map(SCALAR, *axes, 10, store=path, tile_rows=3, **kw)
    for k in ("status", "iterations", "final_loss", "score"):
        assert np.array_equal(st[k].values, mem[k].values, equal_nan=True), k
    assert st.attrs["convergence_rule"] == "loss_below_tol_and_still"
    again = hyper_map(SCALAR, *axes, 10, store=path, tile_rows=3, **kw)
    assert np.array_equal(again.status.values, mem.status.values)
    with pytest.raises(gc.GdchaosInputError):
        hyper_map(SCALAR, *axes, 10, store=path, **dict(kw, max_iter=300))


@pytest.mark.parametrize("args,match", [
    ((Axis("eta_w", 0.1, 1), Axis("eta", 0.1, 1)), "no parameter group"),
    ((Axis("eta", 0.1, 1), Axis("eta", 0.2, 1)), "must differ"),
    ((Axis("momentum", 0.0, 0.5), Axis("eta", 0.1, 1)), "gd has none"),
    ((Axis("weight_decay", 0.0, 0.5), Axis("eta", 0.1, 1)), "AdamW"),
    ((Axis("banana", 0.0, 0.5), Axis("eta", 0.1, 1)), "unknown axis"),
    ((Axis("eta", -1.0, 1.0), Axis("eta_u", 0.1, 1)), "step sizes"),
])
def test_bad_axes_refused_before_any_store(tmp_path, args, match):
    path = tmp_path / "bad.zarr"
    with pytest.raises(gc.GdchaosInputError, match=match):
        hyper_map(SCALAR, *args, 4, store=str(path))
    assert not path.exists()


def test_map_problem_and_log_axis_refused():
    with pytest.raises(gc.GdchaosInputError, match="not a gradient problem"):
        hyper_map(gc.QuotientMap(y=0.5), Axis("eta", 0.1, 1), Axis("slice_x", 0, 1), 4)
    with pytest.raises(gc.GdchaosInputError, match="log axis"):
        Axis("eta", 0.0, 1.0, log=True)


def test_cli_map(tmp_path, capsys):
    out = tmp_path / "m.zarr"
    rc = main(["map", "--problem", "scalar", "--y", "1", "--x-axis", "eta_u:log:1e-2,3",
               "--y-axis", "eta_v:log:1e-2,3", "--init", "1.5,0.3", "--grid", "12", "--iters",
               "300", "--out", str(out), "--json"])
    assert rc == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["fractions"]["converged"] > 0 and rep["fractions"]["diverged"] > 0
    ds = gc.open_store(str(out))
    ref = hyper_map(SCALAR, Axis("eta_u", 1e-2, 3, log=True), Axis("eta_v", 1e-2, 3, log=True),
                    12, init=INIT, max_iter=300, optimizer=Optimizer("gd", eta=0.1))
    assert np.array_equal(ds.status.values, ref.status.values)
    bad = tmp_path / "bad.zarr"
    rc = main(["map", "--problem", "scalar", "--x-axis", "eta_q:log:1e-2,3", "--y-axis",
               "eta_v:log:1e-2,3", "--out", str(bad)])
    assert rc == 2 and not os.path.exists(bad)
    assert "no parameter group" in capsys.readouterr().err
    rc = main(["map", "--problem", "scalar", "--x-axis", "eta_u:cubic:1,2", "--y-axis",
               "eta_v:log:1e-2,3", "--out", str(bad)])
    assert rc == 2 and not os.path.exists(bad)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs the torch extra")
@pytest.mark.parametrize("kind", ["adam", "nesterov"])
def test_torch_map_agrees_with_numba(kind):
    axes = (Axis("eta_u", 1e-2, 2.0, log=True), Axis("eta_v", 1e-2, 2.0, log=True))
    kw = dict(init=INIT, max_iter=300, optimizer=Optimizer(kind, eta=0.1))
    a = hyper_map(SCALAR, *axes, 10, **kw)
    b = hyper_map(SCALAR, *axes, 10, backend="torch", **kw)
    assert np.mean(a.status.values == b.status.values) >= 0.99
    same = a.status.values == b.status.values
    np.testing.assert_allclose(b.final_loss.values[same], a.final_loss.values[same], rtol=1e-9,
                               atol=1e-15)


def test_float32_map_keeps_float32_states():
    ds = hyper_map(SCALAR, Axis("eta", 0.1, 1.0), Axis("init_scale", 0.5, 1.5), 4, init=INIT,
                   max_iter=50, dtype="float32", keep_params=True,
                   optimizer=Optimizer("heavy_ball", momentum=0.5))
    X = ds.params.values
    assert np.array_equal(X, X.astype(np.float32).astype(np.float64))


def test_lam_axis_on_torch_equals_numba():
    """The weight-decay axis on the torch backend (one batch per lam) gives Numba's statuses
    and final points."""
    if importlib.util.find_spec("torch") is None:
        pytest.skip("needs the torch extra")
    p = gc.ScalarFactorization(d=1, y=1.0)
    kw = dict(optimizer=Optimizer("gd", eta=0.5), init=[1.2, 0.4], max_iter=400, keep_params=True)
    a = gc.hyper_map(p, Axis("eta", 0.2, 1.5), Axis("lam", 0.0, 0.6), 12, backend="numba", **kw)
    b = gc.hyper_map(p, Axis("eta", 0.2, 1.5), Axis("lam", 0.0, 0.6), 12, backend="torch", **kw)
    assert len(np.unique(a.status.values)) > 1
    assert (a.status.values == b.status.values).mean() >= 0.99
    np.testing.assert_allclose(a.params.values, b.params.values, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("momentum", [0.0, 0.4])
def test_basin_and_a_slice_map_record_the_run_identically(tmp_path, momentum):
    """``basin`` over a slice and ``map`` over ``slice_x``/``slice_y`` are one computation:
    the same optimizer and stop rule in ``gdchaos_run`` and the same statuses."""
    import json

    from gdchaos.cli import main

    extra = ["--momentum", str(momentum)] if momentum else []
    assert main(["basin", "--problem", "scalar", "--eta", "0.5", "--grid", "8", "--range",
                 "-2,2,-2,2", "--out", str(tmp_path / "b.zarr"), "--quiet", *extra]) == 0
    opt = ["--optimizer", "heavy_ball"] if momentum else []
    assert main(["map", "--problem", "scalar", "--eta", "0.5", "--x-axis", "slice_x:lin:-2,2",
                 "--y-axis", "slice_y:lin:-2,2", "--grid", "8", "--init", "0,0", "--out",
                 str(tmp_path / "m.zarr"), "--quiet", *opt, *extra]) == 0
    b, m = (xr.open_zarr(tmp_path / f"{n}.zarr", consolidated=False) for n in "bm")
    rb, rm = (json.loads(d.attrs["gdchaos_run"]) for d in (b, m))
    assert rb["optimizer"] == rm["optimizer"]
    assert rb["optimizer"]["stop_rule"] == "loss_below_tol_and_stable"
    assert b.attrs["convergence_rule"] == m.attrs["convergence_rule"]
    assert b.attrs["optimizer"] == m.attrs["optimizer"]
    assert np.array_equal(b.status.values, m.status.values)
