"""Records on request, records kernels = NumPy records, overflow statuses, the background store
writer, slice points, and what `import gdchaos` / the light commands import."""

import json
import subprocess
import sys

import numpy as np
import pytest

from gdchaos.errors import GdchaosInputError
from gdchaos.engine import DIVERGED, RECORDS, Slice2D, basin, open_store, run_points
from gdchaos.problems import (DeepMatrixFactorization, MatrixFactorization, QuotientMap,
                              ScalarFactorization)
from gdchaos.theory import scalar as th

HEAVY = ("numba", "xarray", "zarr", "torch", "matplotlib", "scipy")


def _imported_heavy(code):
    probe = (f"{code}\nimport sys, json\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_import_and_light_commands_do_not_import_heavy_modules():
    assert _imported_heavy("import gdchaos") == []
    assert _imported_heavy("import gdchaos.cli; gdchaos.cli.build_parser()") == []
    code = ("import gdchaos.cli as c, contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert c.main(['critical-step', '--y', '1', '--u', '1.2', '--v', '0.3',"
            " '--json']) == 0")
    assert _imported_heavy(code) == []


def _finals(problem, n, rng):
    X0 = rng.normal(size=(n, problem.n_params)) * 1.5
    Xf = X0 + 0.1 * rng.normal(size=X0.shape)
    Xf[:5] = X0[:5]
    Xf[5] = np.nan
    Xf[6] = 1e200  # overflows
    Xf[7] = 0.0
    return X0, Xf


@pytest.mark.parametrize("problem", [
    ScalarFactorization(d=1, y=1.0, lam=0.2), ScalarFactorization(d=3, y=-0.8, lam=0.3),
    ScalarFactorization(d=5, y=1.0, lam=0.0), ScalarFactorization(d=2, y=0.5, lam=0.7),
    QuotientMap(y=0.5, lam=0.2), QuotientMap(y=-1.0, lam=0.0)], ids=repr)
def test_records_kernels_equal_numpy_records(problem):
    rng = np.random.default_rng(7)
    X0, Xf = _finals(problem, 4000, rng)
    if problem.name == "scalar" and problem.lam > 0 and problem.lam < abs(problem.y):
        # final points on the minimizer sphere near p- and p+, so that labels 1 and 2 occur
        u0, v0 = problem.split(X0[8:400])
        pm = problem.join(*th.closest_minimizer(u0, v0, problem.y, problem.lam))
        Xf[8:200] = pm[:192] + 1e-3 * rng.normal(size=pm[:192].shape)
        Xf[200:400] = -pm[192:]
    want = problem.records(X0, Xf, RECORDS)
    got = problem.fast_records(X0, Xf, RECORDS)
    assert list(got) == list(RECORDS)
    for k in ("sq_norm", "imbalance", "sharpness"):
        a, b = got[k], want[k]
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        ok = np.isfinite(b)
        np.testing.assert_array_equal(a[~ok & ~np.isnan(b)], b[~ok & ~np.isnan(b)])
        with np.errstate(over="ignore"):
            scale = np.maximum(np.abs(b[ok]), np.sum(Xf[ok] ** 2, axis=1) ** 2)
        assert np.all(np.abs(a[ok] - b[ok]) <= 1e-12 * np.maximum(scale, 1.0)), k
    np.testing.assert_array_equal(got["minimizer"], want["minimizer"])
    if problem.name == "scalar" and 0 < problem.lam < abs(problem.y):
        assert {0, 1, 2} <= set(got["minimizer"].tolist())
    sub = problem.fast_records(X0, Xf, ("sharpness",))
    assert list(sub) == ["sharpness"]
    np.testing.assert_array_equal(sub["sharpness"], got["sharpness"])


def test_quotient_imbalance_is_the_d1_imbalance_and_bounds_the_fibre():
    rng = np.random.default_rng(3)
    y, q = 0.5, QuotientMap(y=0.5, lam=0.2)
    u, v = rng.normal(size=(2, 500, 1))
    zw = np.stack([np.sum(u * v, -1) - y, np.sum(u * u + v * v, -1)], 1)
    np.testing.assert_allclose(q.imbalance(zw), th.imbalance(u, v), rtol=1e-10, atol=1e-10)
    u, v = rng.normal(size=(2, 500, 3))
    zw = np.stack([np.sum(u * v, -1) - y, np.sum(u * u + v * v, -1)], 1)
    imb = th.imbalance(u, v)
    assert np.all(imb <= q.imbalance(zw) + 1e-9)
    assert np.all(imb >= 0.5 * zw[:, 1] ** 2 - 2 * (zw[:, 0] + y) ** 2 - 1e-9)


def test_records_are_computed_only_when_asked():
    p = ScalarFactorization(d=2, y=1.0, lam=0.1)
    X = np.random.default_rng(0).normal(size=(50, 4))
    r = run_points(p, X, 0.3, records=("sq_norm",))
    assert r.sq_norm is not None and r.sharpness is None and r.minimizer is None
    assert set(r.as_dict()) == {"status", "iterations", "final_loss", "sq_norm"}
    full = run_points(p, X, 0.3)
    np.testing.assert_array_equal(full.sq_norm, r.sq_norm)
    assert all(getattr(full, k) is not None for k in RECORDS)
    assert set(run_points(p, X, 0.3, records="none").as_dict()) == {"status", "iterations",
                                                                    "final_loss"}
    ds = basin(p, Slice2D.axes(4, (-2, 2), (-2, 2), 8, 6), 0.3, records="sharpness,minimizer")
    assert {"sharpness", "minimizer"} <= set(ds.data_vars)
    assert not {"sq_norm", "imbalance"} & set(ds.data_vars)
    assert ds.sharpness.attrs["description"]
    with pytest.raises(GdchaosInputError, match="unknown record"):
        run_points(p, X, 0.3, records=("sq_norm", "loss"))


@pytest.mark.parametrize("problem", [MatrixFactorization(), DeepMatrixFactorization()],
                         ids=["matrix", "deep"])
@pytest.mark.parametrize("kw", [dict(eta=1e300), dict(eta=1.0, div_threshold=1e300)],
                         ids=["eta1e300", "div1e300"])
def test_overflow_gives_statuses_not_exceptions(problem, kw):
    g = Slice2D.random(problem.n_params, (-4, 4), (-4, 4), 12, 10, seed=0)
    ds = basin(problem, g, max_iter=50, **kw)
    st = np.asarray(ds.status)
    assert np.all(st >= 0)
    if kw["eta"] == 1e300:
        assert np.mean(st == DIVERGED) > 0.9


def test_overflow_cli_exit_0_and_every_point_has_a_status(tmp_path):
    from gdchaos.cli import main

    out = tmp_path / "m.zarr"
    rc = main(["basin", "--problem", "matrix", "--eta", "1e300", "--iters", "50", "--grid", "20",
               "--out", str(out), "--records", "all", "--quiet"])
    assert rc == 0
    st = np.asarray(open_store(out).status)
    assert np.all(st == DIVERGED)


def test_store_is_identical_to_in_memory_run(tmp_path):
    """Tiles written by the background thread (7 tiles) = the in-memory run, bit for bit."""
    p = ScalarFactorization(d=2, y=1.0, lam=0.05)
    g = Slice2D.random(4, (-3, 3), (-3, 3), 37, 41, seed=3)
    kw = dict(max_iter=300, coordinate=1, points=np.zeros((2, 4)) + [[0], [1]],
              keep_params=True, tile_rows=6)
    a = basin(p, g, 0.45, **kw)
    b = basin(p, g, 0.45, store=tmp_path / "s.zarr", **kw).load()
    assert set(a.data_vars) <= set(b.data_vars)
    for v in a.data_vars:
        np.testing.assert_array_equal(np.asarray(a[v]), np.asarray(b[v]), err_msg=v)
    assert _flags(tmp_path / "s.zarr").sum() == 7


def test_writer_errors_surface_and_finished_tiles_stay(tmp_path, monkeypatch):
    from gdchaos.engine import _store

    real = _store.TiledStore.write_tile

    def failing(self, i, data):
        if i == 3:
            raise OSError("disk full (test)")
        return real(self, i, data)

    monkeypatch.setattr(_store.TiledStore, "write_tile", failing)
    p = ScalarFactorization(d=1, y=1.0)
    g = Slice2D.axes(2, (-2, 2), (-2, 2), 16, 40)
    with pytest.raises(OSError, match="disk full"):
        basin(p, g, 0.2, max_iter=50, store=tmp_path / "f.zarr", tile_rows=5)
    monkeypatch.setattr(_store.TiledStore, "write_tile", real)
    done = _flags(tmp_path / "f.zarr")
    assert done[:3].tolist() == [1, 1, 1] and done[3] == 0
    again = basin(p, g, 0.2, max_iter=50, store=tmp_path / "f.zarr", tile_rows=5)
    ref = basin(p, g, 0.2, max_iter=50)
    np.testing.assert_array_equal(np.asarray(again.status), np.asarray(ref.status))


def test_slice_points_are_center_plus_combination_of_directions():
    g = Slice2D.random(5, (-1, 2), (-3, 0.5), 7, 9, seed=4, center=np.arange(5.0))
    P = g.points()
    a, b = np.meshgrid(g.xs, g.ys)
    ref = g.center + a.reshape(-1, 1) * g.directions[0] + b.reshape(-1, 1) * g.directions[1]
    np.testing.assert_allclose(P, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(g.points(slice(2, 5)), P[2 * 7:5 * 7])


def _flags(path):
    """The per-tile flags of a store (bookkeeping in ``gdchaos/tile_done``)."""
    import zarr

    return np.asarray(zarr.open_group(path, mode="r", use_consolidated=False)
                      ["gdchaos/tile_done"][...])
