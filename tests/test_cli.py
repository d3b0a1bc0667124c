"""The `gdchaos` command line: JSON outputs, stores, bad input, SIGKILL resume."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from gdchaos.cli import main

GDCHAOS = [sys.executable, "-m", "gdchaos.cli"]


def run_cli(args, **kw):
    return subprocess.run(GDCHAOS + args, capture_output=True, text=True, **kw)


def test_critical_step_json(capsys):
    assert main(["critical-step", "--y", "1", "--u", "1.2", "--v", "0.3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    w, z = 1.2**2 + 0.3**2, 1.2 * 0.3 - 1
    assert out["eta_star"] == pytest.approx(min(1.0, 8 / (w + np.sqrt(w * w - 16 * z))))
    assert main(["critical-step", "--y", "0.5", "--u", "1,0.2", "--v", "0.4,-1", "--lam", "0.1",
                 "--eta", "0.3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"eta_star", "eta_closest", "theorem4_admissible", "in_D0"} <= set(out)


def test_basin_json_and_store(tmp_path, capsys):
    store = tmp_path / "q.zarr"
    png = tmp_path / "q.png"
    rc = main(["basin", "--problem", "quotient", "--y", "0.5", "--lam", "0.2", "--eta", "1",
               "--grid", "120", "--range", "-2.5,3,0,10", "--iters", "200", "--tol", "1e-10",
               "--out", str(store), "--png", str(png), "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["fractions"]) == {"undecided", "converged", "diverged", "saddle", "outside"}
    assert sum(out["fractions"].values()) == pytest.approx(1.0)
    assert 0.1 < out["fractions"]["converged"] < 0.4
    assert out["seconds"] > 0 and out["point_steps_per_second"] > 0
    from gdchaos.engine import open_store, run_info

    ds = open_store(store)
    for v in ("status", "iterations", "final_loss", "minimizer"):  # the default records
        assert ds[v].shape == (120, 120)
    assert "sq_norm" not in ds and "sharpness" not in ds  # only the records asked for
    assert "codes" in ds.status.attrs
    info = run_info(ds)
    assert info["config"]["eta"] == 1.0 and info["problem"]["lam"] == 0.2
    assert ds.attrs["gdchaos_version"]
    assert png.stat().st_size > 1000


def test_basin_scalar_options(tmp_path, capsys):
    rc = main(["basin", "--problem", "scalar", "--d", "2", "--y", "1", "--lam", "0.1",
               "--eta", "0.5", "--grid", "40,30", "--range", "-2,2,-2,2", "--iters", "300",
               "--coordinate", "0", "--points", "1,0,1,0;0,0,0,0", "--keep-params",
               "--out", str(tmp_path / "s.zarr"), "--json"])
    assert rc == 0
    from gdchaos.engine import open_store

    ds = open_store(tmp_path / "s.zarr")
    assert ds.status.shape == (30, 40) and ds.params.shape == (30, 40, 4)
    assert ds.distance.shape == (30, 40, 2)


BAD = [
    (["--eta", "0"], "eta"),
    (["--eta", "-1"], "eta"),
    (["--eta", "nan"], "finite"),
    (["--eta", "0.1", "--lam", "-0.5"], "lam"),
    (["--eta", "0.1", "--range", "1,2,3"], "range"),
    (["--eta", "0.1", "--center", "1,2,3"], "center"),
    (["--eta", "0.1", "--grid", "0"], "grid"),
]


@pytest.mark.parametrize("extra,word", BAD)
def test_bad_input_one_line_exit_2(tmp_path, extra, word):
    r = run_cli(["basin", "--problem", "scalar", "--d", "1", "--grid", "8",
                 "--out", str(tmp_path / "x.zarr")] + extra)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr and word in lines[0].lower()
    assert not (tmp_path / "x.zarr").exists()


def test_unknown_problem_and_unwritable_output(tmp_path):
    r = run_cli(["basin", "--problem", "cubic", "--eta", "1", "--out", str(tmp_path / "a")])
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    r = run_cli(["basin", "--problem", "scalar", "--eta", "1", "--grid", "8",
                 "--out", "/nonexistent/dir/a.zarr"])
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = run_cli(["critical-step", "--y", "1", "--u", "1,2", "--v", "1", "--json"])
    assert r.returncode == 2 and "same length" in r.stderr


def test_existing_store_with_other_parameters_is_not_damaged(tmp_path):
    store = str(tmp_path / "s.zarr")
    base = ["basin", "--problem", "scalar", "--grid", "16", "--iters", "50", "--out", store]
    assert main(base + ["--eta", "0.2", "--quiet"]) == 0
    from gdchaos.engine import open_store

    before = open_store(store).load()
    r = run_cli(base + ["--eta", "0.3"])
    assert r.returncode == 2 and "different parameters" in r.stderr
    after = open_store(store).load()
    assert before.identical(after)


def _tiles_done(store):
    d = os.path.join(store, "gdchaos", "tile_done", "c")
    return len(os.listdir(d)) if os.path.isdir(d) else 0


def test_sigkill_halfway_then_resume_gives_identical_store(tmp_path):
    """A 2048 x 2048 run killed with SIGKILL half-way and started again ends identical."""
    args = ["basin", "--problem", "scalar", "--d", "1", "--y", "1", "--eta", "0.2",
            "--grid", "2048", "--range", "-4.5,4.5,-4.5,4.5", "--iters", "1500",
            "--tile-rows", "64", "--quiet", "--threads", "1"]
    from _gate import at_gate, gated

    killed = str(tmp_path / "killed.zarr")
    gate = tmp_path / "gate"
    proc = gated(args + ["--out", killed], gate, "tile:12")  # held computing its 13th tile
    at_gate(gate, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = _tiles_done(killed)
    assert 0 < n_before < 32
    r = run_cli(args + ["--out", killed])
    assert r.returncode == 0, r.stderr
    full = str(tmp_path / "full.zarr")
    r = run_cli(args + ["--out", full])
    assert r.returncode == 0, r.stderr
    from gdchaos.engine import open_store

    a, b = open_store(killed).load(), open_store(full).load()
    assert a.identical(b)
    assert int((a.status < 0).sum()) == 0
