"""``--scheduler`` on the command line: a killed ``gdchaos basin`` client resumes; bad schedulers
are refused in one line by every command that takes the flag; the commands hand it down."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from gdchaos.engine import verify_store

pytest.importorskip("distributed", reason="needs the 'dask' extra")

ARGS = ["basin", "--problem", "quotient", "--y", "0.5", "--lam", "0.2", "--eta", "1",
        "--grid", "600", "--range", "-2.5,3,0,10", "--iters", "200", "--tol", "1e-10",
        "--tile-rows", "6", "--quiet"]  # 100 tiles


def assert_same_store(a, b):
    """Every array and every tile record equal, byte for byte; both verified."""
    import zarr

    A, B = zarr.open_group(str(a), mode="r"), zarr.open_group(str(b), mode="r")
    assert sorted(A.array_keys()) == sorted(B.array_keys())
    for k in A.array_keys():
        assert A[k].dtype == B[k].dtype and A[k][...].tobytes() == B[k][...].tobytes(), k
    ta, tb = (os.path.join(str(p), "gdchaos", "tiles") for p in (a, b))
    assert sorted(os.listdir(ta)) == sorted(os.listdir(tb))
    for f in os.listdir(ta):
        with open(os.path.join(ta, f)) as fa, open(os.path.join(tb, f)) as fb:
            assert json.load(fa) == json.load(fb), f
    assert verify_store(a)["ok"] and verify_store(b)["ok"]


def gdchaos(*args, **kw):
    env = dict(os.environ, DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT="2s")
    return subprocess.run([sys.executable, "-m", "gdchaos.cli", *args], capture_output=True,
                          text=True, env=env, **kw)


def main(capsys, *args):
    """``gdchaos ARGS`` in this process: (exit code, stdout, stderr)."""
    from gdchaos.cli import main as cli_main

    capsys.readouterr()
    rc = cli_main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_killed_client_resumes_to_the_single_process_store(tmp_path, capsys):
    single = tmp_path / "single.zarr"
    rc, _, err = main(capsys, *ARGS, "--out", single)
    assert rc == 0, err
    path = tmp_path / "c.zarr"
    cmd = [sys.executable, "-m", "gdchaos.cli", *ARGS, "--out", str(path), "--scheduler",
           "local:2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    tiles = path / "gdchaos" / "tiles"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if tiles.is_dir() and len([f for f in os.listdir(tiles) if f.endswith(".json")]) >= 2:
                break
            time.sleep(0.005)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)  # the client only: its workers follow it
        proc.wait()
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # nothing of ours left behind in any case
        except ProcessLookupError:
            pass
    rep = verify_store(path)
    assert rep["done"] and rep["pending"], rep  # killed mid-run
    rc, out, err = main(capsys, *ARGS, "--out", path, "--scheduler", "local:2", "--json")
    assert rc == 0, err
    out = json.loads(out)
    with open(path / "gdchaos" / "last_run.json") as f:
        assert json.load(f)["tiles_computed"] == len(rep["pending"])
    assert_same_store(single, path)
    from gdchaos import open_store, status_fractions

    assert out["fractions"] == status_fractions(open_store(single).status.values)


CS = ["convergence-study", "--resolutions", "20,30", "--iters-list", "5", "--quiet"]
FIG = ["figure", "13", "--preset", "tiny", "--quiet"]
REPRO = ["reproduce", "--preset", "tiny", "--figures", "13", "--quiet"]


@pytest.mark.parametrize("command", [ARGS, CS, FIG, REPRO], ids=["basin", "convergence-study",
                                                                 "figure", "reproduce"])
@pytest.mark.parametrize("extra, msg", [
    (["--scheduler", "local:0"], "local:N needs N >= 1"),
    (["--scheduler", "sched:8786"], "--scheduler must be"),
    (["--worker-memory", "2GB"], "--worker-memory applies"),
    (["--scheduler", "local:2", "--worker-memory", "much"], "worker memory must be"),
])
def test_bad_scheduler_is_refused_in_one_line_before_anything_is_written(tmp_path, capsys,
                                                                         command, extra, msg):
    path = tmp_path / "x"
    rc, _, err = main(capsys, *command, "--out" if command is not CS else "--png",
                      str(path) + (".png" if command is CS else ""), *extra)
    assert rc == 2
    assert msg in err and err.count("\n") == 1, err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("command", [ARGS, FIG])
def test_an_unreachable_scheduler_is_refused_in_one_line(tmp_path, capsys, command):
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        rc, _, err = main(capsys, *command, "--out", tmp_path / "x",
                          "--scheduler", "tcp://127.0.0.1:9")
    assert rc == 2
    assert "cannot reach the Dask scheduler" in err and err.count("\n") == 1, err
    assert os.listdir(tmp_path) == []


def test_a_figure_without_a_cluster_path_is_refused(tmp_path, capsys):
    rc, _, err = main(capsys, "figure", "3", "--preset", "tiny", "--out", tmp_path / "f",
                      "--scheduler", "local:2")
    assert rc == 2 and "figure 3 does not run on a cluster" in err and err.count("\n") == 1
    assert os.listdir(tmp_path) == []


def test_the_commands_hand_the_scheduler_down(tmp_path, capsys, monkeypatch):
    """convergence-study, figure and reproduce pass the parsed --scheduler to the library
    (whose cluster paths are checked against one process in tests/engine/test_cluster.py)."""
    import gdchaos.analysis
    import gdchaos.experiments.report
    import gdchaos.experiments.runner
    from gdchaos.engine.cluster import Scheduler

    seen = {}

    def spy(name):
        def f(*a, scheduler=None, **kw):
            seen[name] = scheduler
            raise KeyboardInterrupt  # stop here: nothing computed
        return f

    monkeypatch.setattr(gdchaos.analysis, "convergence_study", spy("cs"))
    monkeypatch.setattr(gdchaos.experiments.runner, "run_figure", spy("figure"))
    monkeypatch.setattr(gdchaos.experiments.report, "reproduce", spy("reproduce"))
    want = Scheduler("local", workers=3, memory_limit=10**9)
    for name, cmd in (("cs", CS), ("figure", FIG), ("reproduce", REPRO)):
        rc, _, _ = main(capsys, *cmd, *(["--out", tmp_path / name] if cmd is not CS else []),
                        "--scheduler", "local:3", "--worker-memory", "1GB")
        assert rc == 130 and seen[name] == want, (name, seen)


@pytest.mark.slow
def test_nn_slice_on_the_cluster_writes_the_store_of_one_process(tmp_path):
    args = ["nn", "slice", "--dataset", "digits", "--grid", "8", "--iters", "200", "--no-png",
            "--tile-rows", "2", "--quiet"]
    a, b = tmp_path / "a.zarr", tmp_path / "b.zarr"
    assert gdchaos(*args, "--out", str(a), "--workers", "1").returncode == 0
    r = gdchaos(*args, "--out", str(b), "--scheduler", "local:2")
    assert r.returncode == 0, r.stderr
    assert_same_store(a, b)
