"""A store run reuses its tiles' output buffers only once their write is done, and a build
killed at its very start leaves nothing that blocks the next run."""

import os
import threading
import time

import numpy as np

from gdchaos.engine import TiledStore, VarSpec, open_store
from gdchaos.engine import _run, _tiles


def _store(path, ny=23, nx=5, tile_rows=2):
    variables = {"v": VarSpec(("y", "x"), "float64", np.nan),
                 "s": VarSpec(("y", "x"), "int8", -1)}
    return TiledStore(path, {"y": np.arange(ny), "x": np.arange(nx)}, variables, {"t": 1},
                      tile_rows)


def test_buffers_reused_only_after_their_write(tmp_path, monkeypatch):
    ts = _store(tmp_path / "s.zarr")
    made = []
    write = TiledStore.write_tile

    def slow_write(self, i, data):  # the writer lags: a buffer reused too early shows here
        time.sleep(0.01)
        assert np.all(data["v"] == i) and np.all(data["s"] == i % 100), i
        return write(self, i, data)

    monkeypatch.setattr(TiledStore, "write_tile", slow_write)

    def buffers():
        made.append(threading.get_ident())
        return {"v": np.empty(ts.tile_rows * ts.nx), "s": np.empty(ts.tile_rows * ts.nx, np.int8)}

    def compute(sl, buffers):
        rows = sl.stop - sl.start
        i = sl.start // ts.tile_rows
        out = {k: b[:rows * ts.nx].reshape(rows, ts.nx) for k, b in buffers.items()}
        out["v"][...] = i
        out["s"][...] = i % 100
        return out

    ds = _tiles.tiles_into_store(ts, compute, buffers=buffers)
    assert ts.n_tiles == 12 and 2 <= len(made) <= 2 + _tiles._EARLY_TILES
    expect = np.repeat(np.arange(12), 2)[:23]
    np.testing.assert_array_equal(ds["v"].values[:, 0], expect)
    np.testing.assert_array_equal(open_store(tmp_path / "s.zarr")["s"].values[:, 3], expect)


def test_build_killed_before_its_marker_file_is_cleaned(tmp_path):
    start = tmp_path / ".s.zarr.gdchaos-tmp-1-0123abcd"  # killed after mkdir and the lock
    os.makedirs(start / "gdchaos")
    open(start / "gdchaos" / ".lock", "w").close()
    other = tmp_path / ".s.zarr.gdchaos-tmp-2-0123abcd"  # not only ours: left alone
    os.makedirs(other / "gdchaos")
    open(other / "notes.txt", "w").close()
    ts = _store(tmp_path / "s.zarr")
    assert ts.open() == list(range(12))
    ts.close()
    assert sorted(os.listdir(tmp_path)) == [other.name, "s.zarr"]


def test_slice_points_into_a_buffer_are_the_slice_points():
    from gdchaos.engine import Slice2D

    for grid in (Slice2D.axes(2, (-2.5, 3), (0, 10), 37, 11),
                 Slice2D.random(10, (-4, 4), (-3, 4), 13, 9, seed=3, center=np.arange(10.0))):
        buf = np.full((4 * grid.nx + 5, grid.n_params), np.nan)
        for sl in (slice(0, 4), slice(3, 7), slice(grid.ny - 1, grid.ny)):
            n = (sl.stop - sl.start) * grid.nx
            got = _run._slice_points(grid, sl, buf[:n])
            assert np.shares_memory(got, buf)
            np.testing.assert_array_equal(got, grid.points(sl))
