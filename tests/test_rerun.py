"""``gdchaos rerun`` / :func:`gdchaos.rerun` (issue 22): a store recomputed or extended from its
recorded run equals, bit for bit, a fresh run of its command with the new values; no change
gives the store itself; bad input is one line, exit code 2, nothing written."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import gdchaos as gc
from gdchaos.cli import main
from _tree import snapshot  # noqa: E402 - tests/ is on sys.path

BASIN = ["basin", "--problem", "scalar", "--d", "2", "--y", "1", "--lam", "0.1", "--eta", "0.6",
         "--grid", "8", "--range", "-2,2,-2,2", "--iters", "60", "--tile-rows", "3", "--quiet"]
MAP = ["map", "--problem", "scalar", "--y", "1", "--x-axis", "eta_u:log:1e-2,1e1",
       "--y-axis", "eta_v:log:1e-2,1e1", "--init", "1.5,0.3", "--grid", "6", "--iters", "50",
       "--quiet"]
NN_MAP = ["nn", "map", "--grid", "4", "--iters", "8", "--quiet"]
NN_SLICE = ["nn", "slice", "--dataset", "digits", "--grid", "4,3", "--iters", "6", "--no-png",
            "--workers", "1", "--quiet"]


def _rc(args):
    """``gdchaos ARGS`` in this process: its exit code (argparse's refusals exit)."""
    try:
        return main([str(a) for a in args])
    except SystemExit as exc:
        return exc.code


def _run(args):
    assert _rc(args) == 0, args


def _store(path):
    return gc.open_store(path).load()


def _assert_same(a, b):
    """Two stores hold the same data, bit for bit, and the same attributes (the command too)."""
    A, B = _store(a), _store(b)
    assert sorted(A.data_vars) == sorted(B.data_vars)
    for name in A.data_vars:
        assert np.array_equal(A[name].values, B[name].values, equal_nan=True), name
    assert A.identical(B)
    assert A.attrs == B.attrs


def _with(argv, flag, value):
    """``argv`` with ``flag``'s value replaced (as a user would edit the command)."""
    i = argv.index(flag)
    return argv[:i + 1] + [value] + argv[i + 2:]


@pytest.mark.parametrize("cmd", [BASIN, MAP], ids=["basin", "map"])
def test_rerun_equals_the_store_or_a_fresh_run(tmp_path, cmd, capsys):
    a, b, c, d = (tmp_path / f"{n}.zarr" for n in "abcd")
    _run(cmd + ["--out", a])
    _run(["rerun", a, "--out", b, "--quiet"])  # no change: the store itself
    _assert_same(a, b)
    assert _store(a)["status"].values.min() >= 0  # every point computed
    _run(["rerun", a, "--out", c, "--iters", "130", "--quiet"])
    _run(_with(cmd, "--iters", "130") + ["--out", tmp_path / "fresh_iters.zarr"])
    _assert_same(c, tmp_path / "fresh_iters.zarr")
    assert not _store(a)["iterations"].equals(_store(c)["iterations"])  # the test has teeth
    _run(["rerun", a, "--out", d, "--grid", "11,9", "--quiet"])
    _run(_with(cmd, "--grid", "11,9") + ["--out", tmp_path / "fresh_grid.zarr"])
    _assert_same(d, tmp_path / "fresh_grid.zarr")
    assert _store(d)["status"].shape == (9, 11)
    assert "--grid 11,9" in _store(d).attrs["command"]
    capsys.readouterr()
    _run(["rerun", a])  # no change, no --out: verified in place, nothing to do
    assert "complete and verified" in capsys.readouterr().out
    _assert_same(a, b)


def _replaced(argv, old, new):
    """``argv`` with the words ``old`` (a list) replaced by ``new``."""
    i = next(i for i in range(len(argv)) if argv[i:i + len(old)] == old)
    return argv[:i] + new + argv[i + len(old):]


@pytest.mark.parametrize("cmd, old, new, window", [
    (BASIN, ["--range", "-2,2,-2,2"], ["--range=-1.0,1.5,-0.5,2.0"], (-1.0, 1.5, -0.5, 2.0)),
    (MAP, ["--x-axis", "eta_u:log:1e-2,1e1", "--y-axis", "eta_v:log:1e-2,1e1"],
     ["--x-axis", "eta_u:log:0.1,1.0", "--y-axis", "eta_v:log:0.5,2.0"], (0.1, 1.0, 0.5, 2.0))],
    ids=["basin", "map"])
def test_rerun_over_another_window_equals_the_command_with_it(tmp_path, cmd, old, new, window,
                                                              capsys):
    """``gdchaos rerun STORE --range`` (the explorer's reproduce command of a store's view): the
    store its command with that window writes, bit for bit, its command attribute included."""
    a, b, f = (tmp_path / f"{n}.zarr" for n in ("a", "b", "fresh"))
    _run(cmd + ["--out", a])
    rng = ",".join(map(repr, window))
    _run(["rerun", a, "--out", b, f"--range={rng}", "--grid", "7,5", "--quiet"])
    _run(_with(_replaced(cmd, old, new), "--grid", "7,5") + ["--out", f])
    _assert_same(b, f)
    st = _store(b)
    assert st["status"].shape == (5, 7)
    assert not np.array_equal(_store(a)["status"].values[:5, :7], st["status"].values) or \
        not np.array_equal(_store(a)["iterations"].values[:5, :7], st["iterations"].values)
    res = gc.rerun(a, out=tmp_path / "c.zarr", window=window)
    assert res.changes["range"][1] == list(window)


def test_rerun_window_is_checked_before_anything_is_written(tmp_path, capsys):
    a = tmp_path / "a.zarr"
    _run(BASIN + ["--out", a])
    for bad in ("1,0,0,1", "0,1,0", "0,1,nan,1"):
        capsys.readouterr()
        assert _rc(["rerun", a, "--out", tmp_path / "b.zarr", f"--range={bad}"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--range" in err, err
        assert not (tmp_path / "b.zarr").exists()


def test_overwrite_in_place_and_json(tmp_path, capsys):
    a = tmp_path / "a.zarr"
    _run(BASIN + ["--out", a])
    capsys.readouterr()
    _run(["rerun", a, "--iters", "90", "--overwrite", "--json"])
    rep = json.loads(capsys.readouterr().out)
    assert rep["changes"] == {"iters": {"recorded": 60, "new": 90}} and rep["in_place"]
    assert rep["kind"] == "basin" and abs(sum(rep["fractions"].values()) - 1) < 1e-12
    _run(_with(BASIN, "--iters", "90") + ["--out", tmp_path / "fresh.zarr"])
    _assert_same(a, tmp_path / "fresh.zarr")


def test_resume_in_place_recomputes_a_damaged_tile(tmp_path):
    p = gc.ScalarFactorization(d=1, y=1.0)
    grid = gc.Slice2D.axes(2, (-3, 3), (-3, 3), 6, 6)
    a, ref = tmp_path / "a.zarr", tmp_path / "ref.zarr"
    gc.basin(p, grid, eta=0.9, max_iter=40, store=str(a), tile_rows=2)
    shutil.copytree(a, ref)
    chunks = sorted((a / "final_loss" / "c" / "1").iterdir())
    assert chunks, "the chunk of tile 1"
    chunks[0].write_bytes(b"not a chunk")
    with pytest.warns(UserWarning, match="recomputed"):
        res = gc.rerun(a)
    assert res.in_place and res.pending_before == [1] and res.n_tiles == 3
    _assert_same(a, ref)
    assert gc.verify_store(a)["ok"]


def test_python_api_extends_a_store_made_in_python(tmp_path):
    p = gc.ScalarFactorization(d=1, y=1.0, lam=0.2)
    kw = dict(eta=1.1, tol=1e-9, records="all", coordinate=1)
    grid = gc.Slice2D.axes(2, (-3, 3), (-2, 2), 7, 5)
    a = tmp_path / "a.zarr"
    gc.basin(p, grid, max_iter=30, store=str(a), **kw)
    res = gc.rerun(a, out=tmp_path / "b.zarr", iters=70, grid=(9, 4))
    assert res.kind == "basin" and not res.in_place and res.command is None
    assert res.changes == {"iters": (30, 70), "grid": ([7, 5], [9, 4])}
    fresh = gc.Slice2D.axes(2, (-3, 3), (-2, 2), 9, 4)
    gc.basin(p, fresh, max_iter=70, store=str(tmp_path / "f.zarr"), **kw)
    _assert_same(tmp_path / "b.zarr", tmp_path / "f.zarr")


def test_nn_map_rerun(tmp_path):
    pytest.importorskip("torch")
    a = tmp_path / "a.zarr"
    _run(NN_MAP + ["--out", a])
    _run(["rerun", a, "--out", tmp_path / "b.zarr", "--quiet"])
    _assert_same(a, tmp_path / "b.zarr")
    _run(["rerun", a, "--out", tmp_path / "c.zarr", "--iters", "13", "--grid", "5", "--quiet"])
    _run(_with(_with(NN_MAP, "--iters", "13"), "--grid", "5")
         + ["--out", tmp_path / "fresh.zarr"])
    _assert_same(tmp_path / "c.zarr", tmp_path / "fresh.zarr")
    assert not np.array_equal(_store(a)["score"].values, _store(tmp_path / "c.zarr")["score"]
                              .values[:4, :4])
    new = ["--x-axis", "eta_in:log:1.0,100.0", "--y-axis", "eta_out:log:10.0,1000.0"]
    _run(["rerun", a, "--out", tmp_path / "w.zarr", "--range=1.0,100.0,10.0,1000.0", "--quiet"])
    _run(NN_MAP[:2] + new + NN_MAP[2:] + ["--out", tmp_path / "fresh_w.zarr"])
    w, fw = _store(tmp_path / "w.zarr"), _store(tmp_path / "fresh_w.zarr")
    for name in w.data_vars:  # the values; the commands differ in where the axes stand
        assert np.array_equal(w[name].values, fw[name].values, equal_nan=True), name
    assert "--x-axis eta_in:log:1.0,100.0" in w.attrs["command"]


def test_nn_slice_rerun(tmp_path):
    pytest.importorskip("torch")
    a = tmp_path / "a.zarr"
    _run(NN_SLICE + ["--out", a])
    _run(["rerun", a, "--out", tmp_path / "b.zarr", "--grid", "5,3", "--iters", "9",
          "--workers", "1", "--quiet"])
    _run(_with(_with(NN_SLICE, "--grid", "5,3"), "--iters", "9")
         + ["--out", tmp_path / "fresh.zarr"])
    _assert_same(tmp_path / "b.zarr", tmp_path / "fresh.zarr")
    assert _rc(["rerun", a, "--out", tmp_path / "w.zarr", "--range=0,1,0,1"]) == 2
    from gdchaos.experiments.rerun import recompute

    with pytest.raises(gc.GdchaosInputError, match="recompute takes basin, map and nn map"):
        recompute(a)


def test_recompute_is_the_rerun_store_in_memory(tmp_path):
    """``recompute`` (the explorer's views of a store): the variables ``rerun --out`` writes,
    computed in memory, nothing written."""
    from gdchaos.experiments.rerun import recompute

    a, b = tmp_path / "a.zarr", tmp_path / "b.zarr"
    _run(BASIN + ["--out", a])
    before = sorted(os.listdir(tmp_path))
    ds = recompute(a, window=(-1.0, 1.5, -0.5, 2.0), grid=(7, 5), iters=80)
    assert sorted(os.listdir(tmp_path)) == before
    _run(["rerun", a, "--out", b, "--range=-1.0,1.5,-0.5,2.0", "--grid", "7,5", "--iters", "80",
          "--quiet"])
    B = _store(b)
    assert sorted(ds.data_vars) == sorted(B.data_vars)
    for name in B.data_vars:
        assert np.array_equal(ds[name].values, B[name].values, equal_nan=True), name


MINE = '''
import numpy as np
from gdchaos import NumbaProblem


class ThreeFactor(NumbaProblem):
    name = "three-factor"
    n_params = 3

    def __init__(self, y=1.0):
        self.y = float(y)

    def consts(self):
        return np.array([self.y])

    @staticmethod
    def loss_grad(x, c, g):
        r = x[0] * x[1] * x[2] - c[0]
        g[0] = r * x[1] * x[2]
        g[1] = r * x[0] * x[2]
        g[2] = r * x[0] * x[1]
        return 0.5 * r * r
'''


def test_user_problem_from_the_recorded_command(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("mine.py").write_text(MINE)
    cmd = ["basin", "--problem", "mine.py:ThreeFactor", "--param", "y=0.7", "--eta", "0.6",
           "--grid", "5", "--range", "-2,2,-2,2", "--iters", "30", "--quiet"]
    _run(cmd + ["--out", "a.zarr"])
    _run(["rerun", "a.zarr", "--out", "b.zarr", "--iters", "45", "--quiet"])
    _run(_with(cmd, "--iters", "45") + ["--out", "f.zarr"])
    _assert_same("b.zarr", "f.zarr")
    os.mkdir("elsewhere")
    monkeypatch.chdir("elsewhere")  # the problem's file is named as the command named it
    capsys.readouterr()
    assert _rc(["rerun", "../a.zarr", "--out", "c.zarr", "--iters", "45"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "user's problem" in err[0] and "no file" in err[0], err
    assert not os.path.exists("c.zarr")


# ------------------------------------------------------------------------------ bad input


def _fake_store(path: Path, attrs):
    path.mkdir()
    (path / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "group",
                                                "attributes": attrs}))


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """A finished basin store, one of another run, one without a run record."""
    root = tmp_path_factory.mktemp("rerun_stores")
    _run(BASIN + ["--out", root / "a.zarr"])
    _run(_with(BASIN, "--iters", "61") + ["--out", root / "other.zarr"])
    shutil.copytree(root / "a.zarr", root / "old.zarr")
    doc = json.loads((root / "old.zarr" / "zarr.json").read_text())
    del doc["attributes"]["gdchaos_run"]  # as a store of a gdchaos before runs were recorded
    (root / "old.zarr" / "zarr.json").write_text(json.dumps(doc))
    shutil.copytree(root / "a.zarr", root / "v0.zarr")  # as a store of another version
    doc = json.loads((root / "v0.zarr" / "zarr.json").read_text())
    run = json.loads(doc["attributes"]["gdchaos_run"])
    doc["attributes"]["gdchaos_run"] = json.dumps(dict(run, gdchaos_version="0.0.1"))
    (root / "v0.zarr" / "zarr.json").write_text(json.dumps(doc))
    return root


BAD = [
    (["nope.zarr"], "no store at nope.zarr"),
    (["notes.txt"], "is a file"),
    (["mine"], "not a gdchaos store"),
    (["old.zarr"], "records no run"),
    (["fig.zarr"], "figure 3"),
    (["sweep.zarr"], "nn sweep"),
    (["broken.zarr", "--out", "b.zarr"], "cannot rebuild"),
    (["v0.zarr"], "written by gdchaos 0.0.1"),
    (["a.zarr", "--iters", "-1"], "--iters"),
    (["a.zarr", "--iters", "2.5"], "--iters"),
    (["a.zarr", "--out", "b.zarr", "--iters", "2147483648"], "--iters"),
    (["a.zarr", "--out", "b.zarr", "--grid", "0"], "--grid"),
    (["a.zarr", "--out", "b.zarr", "--grid", "4,4,4"], "--grid"),
    (["a.zarr", "--out", "b.zarr", "--grid", "2.5"], "--grid"),
    (["a.zarr", "--out", "b.zarr", "--tile-rows", "0"], "--tile-rows"),
    (["a.zarr", "--iters", "99"], "--overwrite"),
    (["a.zarr", "--grid", "16"], "--out"),
    (["a.zarr", "--tile-rows", "2"], "--tile-rows"),
    (["a.zarr", "--out", "mine", "--iters", "99"], "not a gdchaos store"),
    (["a.zarr", "--out", "a.zarr/inner.zarr", "--iters", "99"], "inside the store"),
    (["a.zarr", "--out", "other.zarr"], "different parameters"),
    (["a.zarr", "--out", "b.zarr", "--workers", "2"], "nn slice"),
    (["a.zarr", "--out", "b.zarr", "--data-dir", "mine"], "data"),
    (["a.zarr", "--out", "b.zarr", "--device", "cpu"], "torch"),
    (["a.zarr", "--out", "b.zarr", "--grid", "20000"], "--allow-large"),
]


@pytest.mark.parametrize("argv, word", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, monkeypatch, capsys, stores,
                                                      argv, word):
    for name in ("a.zarr", "other.zarr", "old.zarr", "v0.zarr"):
        shutil.copytree(stores / name, tmp_path / name)
    (tmp_path / "notes.txt").write_text("x\n")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("chapter 1\n")
    _fake_store(tmp_path / "fig.zarr", {"gdchaos_version": gc.__version__, "figure": 3})
    _fake_store(tmp_path / "sweep.zarr", {"gdchaos_version": gc.__version__,
                                          "gdchaos_run": json.dumps({"kind": "nn_sweep"})})
    _fake_store(tmp_path / "broken.zarr", {"gdchaos_version": gc.__version__,
                                           "gdchaos_run": json.dumps({"grid": {"nx": 4}})})
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    capsys.readouterr()
    assert _rc(["rerun"] + argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(("gdchaos: error: ", "gdchaos rerun: error: ")), lines[0]
    assert word in lines[0], lines[0]
    assert snapshot(tmp_path) == before
