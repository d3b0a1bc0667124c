"""Stores through the command line (issue 8): never destructive, self-checking, locked."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from gdchaos.cli import main

GDCHAOS = [sys.executable, "-m", "gdchaos.cli"]
Q = ["basin", "--problem", "quotient", "--eta", "1", "--iters", "50", "--grid", "20", "--quiet"]
# a command of 15 tiles, for the writer held at its gate (kills and second writers)
SLOW = Q + ["--grid", "60", "--tile-rows", "4"]
from _gate import at_gate as _at_gate  # noqa: E402 - tests/ is on sys.path
from _gate import gated as _gated  # noqa: E402
from _gate import release as _release  # noqa: E402


def run_cli(args, **kw):
    return subprocess.run(GDCHAOS + args, capture_output=True, text=True, **kw)


def _one_line(r, word):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert word in lines[0], lines[0]


def _load(path):
    from gdchaos.engine import open_store

    return open_store(path).load()


def _tiles_done(store):
    d = os.path.join(store, "gdchaos", "tile_done", "c")
    if not os.path.isdir(d):
        return 0
    return sum(1 for f in os.listdir(d) if open(os.path.join(d, f), "rb").read() not in (b"",))


def _wait(cond, proc):
    """Wait until ``cond()`` (a state the writer held at its gate reaches for certain)."""
    while not cond():
        assert proc.poll() is None, "the writer ended before the test could act"
        time.sleep(0.01)


@pytest.mark.parametrize("extra", [[], ["--overwrite"]])
def test_user_folder_survives_basin_out(tmp_path, extra):
    d = tmp_path / "d"
    d.mkdir()
    (d / "notes.txt").write_text("x\n")
    r = run_cli(Q + ["--out", str(d)] + extra)
    _one_line(r, "not a gdchaos store")
    assert os.listdir(d) == ["notes.txt"] and (d / "notes.txt").read_text() == "x\n"


@pytest.mark.parametrize("name", [os.path.join("gdchaos", "my_notes.txt"), "results.partial"])
def test_overwrite_refuses_a_store_holding_a_users_file(tmp_path, capsys, name):
    store = tmp_path / "o.zarr"
    assert main(Q + ["--out", str(store)]) == 0
    (store / name).write_text("mine\n")
    assert main(Q + ["--out", str(store), "--overwrite"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and os.path.basename(name) in err[0], err
    assert (store / name).read_text() == "mine\n"


def test_out_dot_and_nn_sweep_never_wipe_the_working_folder(tmp_path, monkeypatch, capsys):
    (tmp_path / "notes.txt").write_text("x\n")
    monkeypatch.chdir(tmp_path)
    sweep = ["nn", "sweep", "--dataset", "digits", "--width", "4", "--n-eta", "2", "--iters", "5",
             "--momentum", "0", "--no-png", "--workers", "1", "--quiet"]
    for argv in (Q + ["--out", "."], sweep + ["--out", "."], sweep + ["--out", ".", "--overwrite"]):
        assert main(argv) == 2
        assert os.listdir(tmp_path) == ["notes.txt"]
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "a.txt").write_text("a")
    assert main(sweep + ["--out", "user"]) == 2
    assert os.listdir(tmp_path / "user") == ["a.txt"]
    err = capsys.readouterr().err
    assert "not a gdchaos store" in err and "Traceback" not in err


@pytest.mark.timeout(300)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_kill_during_creation_then_same_command_succeeds(tmp_path, sig):
    out, gate = tmp_path / "out", tmp_path / "gate"
    out.mkdir()
    store = out / "k.zarr"
    proc = _gated(SLOW + ["--out", str(store)], gate, "build")  # held while the template is made
    try:
        _at_gate(gate, proc)
        assert not store.exists() and len(os.listdir(out)) == 1  # only our sibling, half made
        proc.send_signal(sig)
        if sig == signal.SIGINT:  # KeyboardInterrupt in the main thread; the writer thread
            _release(gate)  # (held at the gate) may then go on
    finally:
        if proc.poll() is None and sig != signal.SIGINT:
            proc.kill()
        proc.wait()
    assert main(SLOW + ["--out", str(store)]) == 0
    assert main(SLOW + ["--out", str(out / "full.zarr")]) == 0
    assert _load(store).identical(_load(out / "full.zarr"))
    assert sorted(os.listdir(out)) == ["full.zarr", "k.zarr"]


@pytest.mark.timeout(300)
def test_resume_with_other_tile_rows(tmp_path, capsys):
    store = str(tmp_path / "r.zarr")
    gate = tmp_path / "gate"
    proc = _gated(SLOW + ["--out", store], gate, "tile:4")  # tiles 0-2 written, 3 in flight
    try:
        _at_gate(gate, proc)
        _wait(lambda: _tiles_done(store) >= 3, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert 3 <= _tiles_done(store) < 15
    other = [a if a != "4" else "7" for a in SLOW]
    assert main(other + ["--out", store, "--json"]) == 0
    assert sum(json.loads(capsys.readouterr().out)["fractions"].values()) == pytest.approx(1.0)
    ds = _load(store)
    assert int((ds.status < 0).sum()) == 0 and ds.status.encoding["chunks"][0] == 4
    assert main(SLOW + ["--out", str(tmp_path / "full.zarr")]) == 0
    assert ds.identical(_load(tmp_path / "full.zarr"))


def _damage_chunk(store):
    os.remove(os.path.join(store, "status", "c", "1", "0"))


def _damage_root(store):
    open(os.path.join(store, "zarr.json"), "w").close()


def _truncate_root(store):
    p = os.path.join(store, "zarr.json")
    text = open(p).read()
    open(p, "w").write(text[:200])


def _truncate_chunk(store):
    p = os.path.join(store, "final_loss", "c", "2", "0")
    data = open(p, "rb").read()
    open(p, "wb").write(data[:40])


@pytest.mark.parametrize("damage", [_damage_chunk, _damage_root, _truncate_root, _truncate_chunk])
def test_damaged_store_is_recomputed_by_the_same_command(tmp_path, capsys, damage):
    store = str(tmp_path / "s.zarr")
    args = Q + ["--grid", "40", "--tile-rows", "10", "--json"]
    assert main(args + ["--out", store]) == 0
    first = json.loads(capsys.readouterr().out)["fractions"]
    full = _load(store)
    damage(store)
    assert main(args + ["--out", store]) == 0
    fr = json.loads(capsys.readouterr().out)["fractions"]
    assert sum(fr.values()) == pytest.approx(1.0) and fr == first
    assert _load(store).identical(full)


@pytest.mark.parametrize("bad,good", [
    (["--coordinate", "7"], ["--coordinate", "1"]),
    (["--momentum", "0.5"], ["--momentum", "0"]),
    (["--iters", "99999999999999999999"], ["--iters", "50"]),
])
def test_bad_input_leaves_no_store_that_blocks_the_corrected_command(tmp_path, capsys, bad, good):
    store = str(tmp_path / "v.zarr")
    try:
        rc = main(Q + bad + ["--out", store])
    except SystemExit as exc:  # refused while parsing (argparse exits with 2)
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert os.listdir(tmp_path) == []
    assert main(Q + good + ["--out", store]) == 0


@pytest.mark.timeout(300)
def test_second_writer_refused_and_killed_writer_leaves_no_stuck_lock(tmp_path):
    store = str(tmp_path / "w.zarr")
    gate = tmp_path / "gate"
    proc = _gated(SLOW + ["--out", store], gate, "tile:4")  # holds the lock until released
    try:
        _at_gate(gate, proc)
        _wait(lambda: _tiles_done(store) >= 1, proc)
        r = run_cli(SLOW + ["--out", store])
        assert proc.poll() is None  # held at its gate: it cannot have ended
        _one_line(r, f"is being written by pid {proc.pid} on host")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert main(SLOW + ["--out", store]) == 0  # the dead writer's lock is taken over
    assert main(SLOW + ["--out", str(tmp_path / "full.zarr")]) == 0
    assert _load(store).identical(_load(tmp_path / "full.zarr"))


def test_basin_entropy_store_prints_no_warning(tmp_path):
    store = str(tmp_path / "e.zarr")
    assert main(Q + ["--out", store]) == 0
    r = run_cli(["basin-entropy", "--store", store])
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_nn_slice_resume_identical_to_uninterrupted(tmp_path):
    from gdchaos.nn.slices import run_slice, slice_preset

    s = slice_preset("quick", dataset="digits", hidden=(4,), grid=(3, 4), iters=30,
                     range=(0.0, 5.0, 0.0, 5.0), tol=1e-3, tile_rows=1)
    run_slice(s, out=tmp_path / "a.zarr", max_tiles=1)
    run_slice(s, out=tmp_path / "a.zarr")
    run_slice(s, out=tmp_path / "b.zarr")
    a, b = _load(tmp_path / "a.zarr"), _load(tmp_path / "b.zarr")
    assert a.identical(b)
    assert np.all(a.status.values >= 0)
