"""Stores follow the xarray/CF conventions (issue 22): a plain ``xarray.open_zarr`` opens them
silently (consolidated metadata, kept in step with later attributes), ``status`` carries CF
``flag_values``/``flag_meanings``, every variable a ``long_name``, and the per-tile bookkeeping
lives outside the dataset.  A store of the earlier layout is still read, and recomputed when a
run resumes it."""

import json
import os
import shutil
import warnings

import numpy as np
import pytest
import xarray as xr

import gdchaos as gc
from gdchaos.cli import main
from gdchaos.engine import open_store, verify_store
from gdchaos.status import STATUS_NAMES

P = gc.QuotientMap(y=0.5, lam=0.2)
GRID = gc.Slice2D.axes(2, (-2.5, 3), (0, 10), 12, 10)
KW = dict(eta=1.0, max_iter=40, tol=1e-10, tile_rows=4)


def _plain_open(path):
    """``xr.open_zarr`` as a user calls it; any warning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return xr.open_zarr(os.fspath(path)).load()


def _check_conventions(ds):
    assert "tile_done" not in ds.variables
    st = ds.status.attrs
    meanings = st["flag_meanings"].split()
    assert len(st["flag_values"]) == len(meanings)
    named = dict(zip(st["flag_values"], meanings))
    assert named[-1] == "not_run"
    assert all(named[k] == v for k, v in STATUS_NAMES.items())
    assert set(np.unique(ds.status.values)) <= set(st["flag_values"])
    for v in ("status", "iterations", "final_loss"):
        assert ds[v].attrs.get("long_name"), v


def test_basin_store_opens_silently_with_cf_flags(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["basin", "--problem", "quotient", "--y", "0.5", "--lam", "0.2", "--grid", "12",
                 "--eta", "1", "--iters", "40", "--out", "b.zarr"]) == 0
    ds = _plain_open("b.zarr")
    _check_conventions(ds)
    assert ds.attrs["command"].startswith("gdchaos basin --problem quotient")  # set at finish
    assert ds.minimizer.attrs["flag_meanings"].split()[0] == "not_run"
    assert ds.x.attrs["long_name"] and ds.y.attrs["long_name"]  # as written, consolidated too
    assert ds.x.attrs == open_store("b.zarr").x.attrs
    root = json.load(open(tmp_path / "b.zarr" / "zarr.json"))
    assert "gdchaos/tile_done" in root["consolidated_metadata"]["metadata"]
    ours = open_store("b.zarr")
    for v in ds.data_vars:
        np.testing.assert_array_equal(ours[v].values, ds[v].values)


def test_hyper_map_store_opens_silently(tmp_path):
    ds = gc.hyper_map(gc.ScalarFactorization(d=1), gc.Axis("eta", 0.1, 1.5),
                      gc.Axis("init_scale", 0.5, 2.0), grid=8, max_iter=30,
                      store=str(tmp_path / "m.zarr"))
    plain = _plain_open(tmp_path / "m.zarr")
    _check_conventions(plain)
    np.testing.assert_array_equal(plain.status.values, ds.status.values)


def test_in_memory_map_has_the_same_attributes(tmp_path):
    mem = gc.basin(P, GRID, **KW)
    disk = gc.basin(P, GRID, store=str(tmp_path / "s.zarr"), **KW)
    _check_conventions(mem)
    for v in mem.data_vars:
        assert mem[v].attrs == disk[v].attrs, v


def _to_format_1(path):
    """Rewrite a store as the earlier layout wrote it: ``tile_done`` beside the data variables,
    marker format 1, no consolidated metadata."""
    shutil.move(os.path.join(path, "gdchaos", "tile_done"), os.path.join(path, "tile_done"))
    mpath = os.path.join(path, "gdchaos", "zarr.json")
    marker = json.load(open(mpath))
    marker["attributes"]["gdchaos_store"] = 1
    marker["attributes"]["arrays"].append("tile_done")
    json.dump(marker, open(mpath, "w"))
    root = json.load(open(os.path.join(path, "zarr.json")))
    root.pop("consolidated_metadata")
    json.dump(root, open(os.path.join(path, "zarr.json"), "w"))


def test_store_of_the_earlier_layout_is_read_then_recomputed_on_resume(tmp_path):
    ref = gc.basin(P, GRID, **KW).load()
    path = str(tmp_path / "old.zarr")
    gc.basin(P, GRID, store=path, **KW)
    _to_format_1(path)
    assert verify_store(path)["ok"]
    old = open_store(path)
    np.testing.assert_array_equal(old.status.values, ref.status.values)
    again = gc.basin(P, GRID, store=path, **KW).load()  # resumed: rebuilt in the new layout
    np.testing.assert_array_equal(again.status.values, ref.status.values)
    assert not os.path.exists(os.path.join(path, "tile_done"))
    _check_conventions(_plain_open(path))


@pytest.mark.parametrize("bad", ["status", "gdchaos/tile_done"])
def test_damaged_array_document_is_seen_despite_consolidated_metadata(tmp_path, bad):
    """gdchaos reads the per-node documents, not the consolidated copy: a damaged document is
    found and the store recomputed."""
    ref = gc.basin(P, GRID, **KW).load()
    path = str(tmp_path / "d.zarr")
    gc.basin(P, GRID, store=path, **KW)
    with open(os.path.join(path, bad, "zarr.json"), "w") as f:
        f.write("{")
    again = gc.basin(P, GRID, store=path, **KW).load()
    np.testing.assert_array_equal(again.status.values, ref.status.values)
    json.load(open(os.path.join(path, bad, "zarr.json")))  # rebuilt
    _check_conventions(_plain_open(path))


def test_repairs_on_reopening_are_said(tmp_path, capsys, monkeypatch):
    """A store found damaged when a run reopens it is repaired and the command says so."""
    monkeypatch.chdir(tmp_path)
    argv = ["basin", "--problem", "scalar", "--grid", "16", "--eta", "1", "--tile-rows", "4",
            "--out", "r.zarr"]
    assert main(argv) == 0
    with open(tmp_path / "r.zarr" / "status" / "c" / "2" / "0", "wb") as f:
        f.write(b"x")
    capsys.readouterr()
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "gdchaos basin: warning: store r.zarr: 1 tile(s) failing their checksums (2)" in err
    with open(tmp_path / "r.zarr" / "status" / "zarr.json", "w") as f:
        f.write("{")
    assert main(argv) == 0
    assert "recomputing it whole" in capsys.readouterr().err
    assert main(argv) == 0
    assert "warning" not in capsys.readouterr().err
