"""Tiled stores: never destructive, self-checking (checksums per tile), one writer at a time."""

import json
import os
import threading
import warnings

import numpy as np
import pytest
import xarray as xr

import gdchaos as gc
from gdchaos.errors import GdchaosInputError
from gdchaos.engine import TiledStore, VarSpec, open_store, verify_store
from gdchaos.engine import _run

P = gc.QuotientMap(y=0.5, lam=0.2)
GRID = gc.Slice2D.axes(2, (-2.5, 3), (0, 10), 24, 30)
KW = dict(eta=1.0, max_iter=60, tol=1e-10)


def _basin(path, **kw):
    return gc.basin(P, GRID, store=str(path), **{"tile_rows": 4, **KW, **kw})


@pytest.fixture(scope="module")
def reference():
    """The uninterrupted run, in memory."""
    return gc.basin(P, GRID, **KW).load()


def _same(ds, ref):
    for v in ("status", "iterations", "final_loss", "sq_norm", "imbalance", "sharpness",
              "minimizer"):
        assert np.array_equal(ds[v].values, ref[v].values, equal_nan=True), v
    assert int((ds.status < 0).sum()) == 0


def _chunk(path, var, tile):
    return os.path.join(path, var, "c", str(tile), "0")


def test_user_folder_is_never_written_or_deleted(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "notes.txt").write_text("x")
    for overwrite in (False, True):
        with pytest.raises(GdchaosInputError, match="not a gdchaos store"):
            _basin(d, overwrite=overwrite)
    assert os.listdir(d) == ["notes.txt"] and (d / "notes.txt").read_text() == "x"
    assert os.listdir(tmp_path) == ["d"]  # no temporary folder left either


def test_empty_folder_becomes_the_store(tmp_path, reference):
    (tmp_path / "e").mkdir()
    _same(_basin(tmp_path / "e"), reference)


def test_overwrite_refuses_a_store_holding_foreign_files(tmp_path):
    s = tmp_path / "s.zarr"
    _basin(s)
    (s / "mine.txt").write_text("keep")
    with pytest.raises(GdchaosInputError, match="did not write"):
        _basin(s, overwrite=True)
    assert (s / "mine.txt").read_text() == "keep"


def test_overwrite_replaces_only_our_store(tmp_path, reference):
    s = tmp_path / "s.zarr"
    _basin(s, max_iter=5)
    (tmp_path / "neighbour.txt").write_text("n")
    _same(_basin(s, overwrite=True), reference)
    assert sorted(os.listdir(tmp_path)) == ["neighbour.txt", "s.zarr"]


def test_leftover_of_a_killed_creation_is_removed_and_the_run_starts(tmp_path, reference):
    """What a kill during creation leaves (a partial sibling of ours) never blocks the command."""
    s = tmp_path / "s.zarr"
    tmp = tmp_path / ".s.zarr.gdchaos-tmp-99999999-deadbeef"
    (tmp / "gdchaos").mkdir(parents=True)
    (tmp / ".gdchaos-building").write_text("")
    (tmp / "zarr.json").write_text('{"zarr_fo')
    other = tmp_path / ".s.zarr.gdchaos-tmp-1-notours"  # not ours: no marker, left alone
    other.mkdir()
    (other / "x").write_text("")
    _same(_basin(s), reference)
    assert sorted(os.listdir(tmp_path)) == [".s.zarr.gdchaos-tmp-1-notours", "s.zarr"]


def test_interrupted_run_resumed_with_other_tile_rows(tmp_path, monkeypatch, reference):
    s = tmp_path / "s.zarr"
    real, calls = _run._tile, []

    def dying(*a, **k):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(_run, "_tile", dying)
    with pytest.raises(KeyboardInterrupt):
        _basin(s, tile_rows=4)
    monkeypatch.setattr(_run, "_tile", real)
    assert verify_store(s)["pending"] == [3, 4, 5, 6, 7]
    with pytest.raises(GdchaosInputError, match="incomplete"):
        open_store(s)
    ds = _basin(s, tile_rows=7)  # the store's layout (4 rows) wins
    _same(ds, reference)
    assert ds.status.encoding["chunks"][0] == 4
    assert verify_store(s)["ok"]


def test_deleted_chunk_is_recomputed(tmp_path, reference):
    s = tmp_path / "s.zarr"
    _basin(s)
    os.remove(_chunk(s, "status", 2))
    rep = verify_store(s)
    assert rep["pending"] == [2] and not rep["ok"]
    with pytest.raises(GdchaosInputError, match="incomplete: 1 of 8 tiles"):
        open_store(s)
    assert int((open_store(s, allow_incomplete=True).status < 0).sum()) == 4 * 24
    _same(_basin(s), reference)
    assert verify_store(s)["ok"]


@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_damaged_root_metadata_means_recompute(tmp_path, reference, damage):
    s = tmp_path / "s.zarr"
    _basin(s)
    text = (s / "zarr.json").read_text()
    (s / "zarr.json").write_text("" if damage == "empty" else text[: len(text) // 2])
    assert verify_store(s)["problem"]
    with pytest.raises(GdchaosInputError, match="damaged"):
        open_store(s)
    _same(_basin(s), reference)
    assert verify_store(s)["ok"]


def test_damaged_array_metadata_means_recompute(tmp_path, reference):
    s = tmp_path / "s.zarr"
    _basin(s)
    (s / "sq_norm" / "zarr.json").write_text("{")
    _same(_basin(s), reference)


@pytest.mark.parametrize("var", ["status", "final_loss"])
def test_truncated_chunk_is_recomputed(tmp_path, reference, var):
    s = tmp_path / "s.zarr"
    _basin(s)
    c = _chunk(s, var, 5)
    data = open(c, "rb").read()
    open(c, "wb").write(data[: len(data) // 2])
    assert verify_store(s)["pending"] == [5]
    _same(_basin(s), reference)


def test_chunk_with_other_values_fails_its_checksum(tmp_path, reference):
    s = tmp_path / "s.zarr"
    _basin(s)
    import shutil

    shutil.copy(_chunk(s, "final_loss", 1), _chunk(s, "final_loss", 2))  # readable, wrong
    assert verify_store(s)["pending"] == [2]
    _same(_basin(s), reference)


def test_second_writer_is_refused_and_lock_released_after(tmp_path, reference):
    s = tmp_path / "s.zarr"
    first = _store(s)
    first.open()
    with pytest.raises(GdchaosInputError, match=rf"being written by pid {os.getpid()} on host"):
        _store(s).open()
    first.close()
    second = _store(s)
    assert second.open() == list(range(3))
    second.close()


def test_lock_of_a_dead_writer_is_taken_over(tmp_path):
    s = tmp_path / "s.zarr"
    st = _store(s)
    st.open()
    st.close()
    (s / "gdchaos" / ".lock").write_text('{"pid": 99999999, "host": "h", "since": "then"}')
    again = _store(s)
    assert again.open() == list(range(3))
    again.close()


def _store(path, tile_rows=2, **info):
    return TiledStore(path, {"y": np.arange(5.0), "x": np.arange(3.0)},
                      {"a": VarSpec(("y", "x"), "float64", np.nan),
                       "s": VarSpec(("y", "x"), "int8", -1)},
                      {"k": 1, **info}, tile_rows)


def test_write_tile_from_a_writer_thread(tmp_path):
    st = _store(tmp_path / "t.zarr", tile_rows=1)
    pending = st.open()
    threads = [threading.Thread(target=st.write_tile,
                                args=(i, {"a": np.full((1, 3), -np.nan) if i % 2 else
                                          np.full((1, 3), float(i)), "s": np.full((1, 3), i)}))
               for i in pending]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    st.close()
    assert verify_store(tmp_path / "t.zarr")["ok"]  # NaN payloads included
    ds = open_store(tmp_path / "t.zarr")
    assert ds.s.values.tolist() == [[i] * 3 for i in range(5)]


def test_bad_input_leaves_nothing_behind(tmp_path):
    s = tmp_path / "s.zarr"
    for kw in ({"coordinate": 2}, {"momentum": 0.5}, {"points": [[1.0, 2.0, 3.0]]},
               {"max_iter": 2**31}):
        with pytest.raises(GdchaosInputError):
            _basin(s, **kw)
        assert os.listdir(tmp_path) == []


def test_store_opens_without_warnings(tmp_path):
    _basin(tmp_path / "s.zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        open_store(tmp_path / "s.zarr").load()
        xr.open_zarr(tmp_path / "s.zarr", consolidated=False).load()  # our files hide in a group


def test_summary_is_kept_out_of_the_dataset(tmp_path):
    st = _store(tmp_path / "t.zarr", tile_rows=5)
    st.open()
    st.write_tile(0, {"a": np.zeros((5, 3)), "s": np.zeros((5, 3))})
    st.finish(summary={"seconds": 1.5})
    st.close()
    assert "seconds" not in str(open_store(tmp_path / "t.zarr").attrs)
    assert (tmp_path / "t.zarr" / "gdchaos" / "last_run.json").is_file()


def test_other_parameters_refused_untouched(tmp_path):
    st = _store(tmp_path / "t.zarr")
    st.open()
    st.close()
    with pytest.raises(GdchaosInputError, match="different parameters"):
        _store(tmp_path / "t.zarr", k2=3).open()


def test_older_store_is_read_but_not_resumed_without_overwrite(tmp_path, reference):
    import zarr

    s = tmp_path / "old.zarr"
    g = zarr.open_group(s, mode="w")
    g.create_array("status", shape=(2, 2), dtype="int8", fill_value=-1,
                   dimension_names=["y", "x"])[...] = 1
    g.create_array("tile_done", shape=(1,), dtype="int8", fill_value=0,
                   dimension_names=["tile"])[...] = 1
    g.attrs["gdchaos_run"] = "{}"
    assert int(open_store(s).status.sum()) == 4
    with pytest.raises(GdchaosInputError, match="older gdchaos"):
        _basin(s)
    _same(_basin(s, overwrite=True), reference)


def test_a_store_recorded_before_a_key_was_added_is_resumed(tmp_path):
    """A store whose record lacks a key added since (basin's ``optimizer``) is the same run:
    resumed with its own record, not refused; another value of a key still is."""
    path = tmp_path / "old.zarr"
    old = _store(path, tile_rows=1)
    assert old.open() == list(range(5))
    old.write_tile(0, {"a": np.zeros((1, 3)), "s": np.zeros((1, 3), dtype=np.int8)})
    old.close()
    new = _store(path, tile_rows=1, optimizer={"kind": "gd"})
    assert new.open() == [1, 2, 3, 4]
    for i in range(1, 5):
        new.write_tile(i, {"a": np.full((1, 3), float(i)), "s": np.full((1, 3), i)})
    new.close()
    assert verify_store(path)["ok"]
    assert "optimizer" not in json.loads(open_store(path).attrs["gdchaos_run"])
    with pytest.raises(GdchaosInputError, match="different parameters"):
        _store(path, tile_rows=1, k=2).open()
