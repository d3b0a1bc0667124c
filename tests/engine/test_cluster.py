"""Maps on a Dask cluster: the same store bit for bit (1 worker, 2 workers, one process),
nothing lost when a worker dies, one writer per store, device checked where the tiles run;
the convergence study and the network figures on the cluster equal one process."""

import fcntl
import json
import os
import threading
import time

import numpy as np
import pytest

import gdchaos as gc
from gdchaos.errors import GdchaosInputError
from gdchaos.engine import verify_store

distributed = pytest.importorskip("distributed", reason="needs the 'dask' extra")
cluster = pytest.importorskip("gdchaos.engine.cluster")

P = gc.QuotientMap(y=0.5, lam=0.2)
GRID = gc.Slice2D.axes(2, (-2.5, 3), (0, 10), 160, 120)
KW = dict(eta=1.0, max_iter=200, tol=1e-10, tile_rows=8, records="all")  # 15 tiles


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50) as lc, \
            distributed.Client(lc) as cl:
        yield cl


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """The single-process store."""
    path = tmp_path_factory.mktemp("single") / "s.zarr"
    gc.basin(P, GRID, store=str(path), **KW)
    return path


def assert_same_store(a, b):
    """Every array (variables, coordinates, static arrays, tile_done), every tile record and the
    marker equal, byte for byte."""
    import zarr

    A, B = zarr.open_group(str(a), mode="r"), zarr.open_group(str(b), mode="r")
    assert sorted(A.array_keys()) == sorted(B.array_keys())
    for k in A.array_keys():
        x, y = A[k][...], B[k][...]
        assert x.dtype == y.dtype and x.shape == y.shape, k
        assert x.tobytes() == y.tobytes(), k
    ta, tb = (os.path.join(str(p), "gdchaos", "tiles") for p in (a, b))
    assert sorted(os.listdir(ta)) == sorted(os.listdir(tb))
    for f in os.listdir(ta):
        with open(os.path.join(ta, f)) as fa, open(os.path.join(tb, f)) as fb:
            assert json.load(fa) == json.load(fb), f
    for p in (a, b):
        assert verify_store(p)["ok"]
    ma, mb = (json.load(open(os.path.join(str(p), "gdchaos", "zarr.json"))) for p in (a, b))
    assert ma == mb


# ------------------------------------------------------------------------- parsing
@pytest.mark.parametrize("text, kind, n", [("local:3", "local", 3), ("local:1", "local", 1),
                                            ("tcp://10.0.0.2:8786", "address", 0),
                                            ("tcp://sched:8786", "address", 0)])
def test_parse_scheduler(text, kind, n):
    s = cluster.parse_scheduler(text)
    assert s.kind == kind and s.workers == n
    assert cluster.parse_scheduler("local").workers == cluster.usable_cores()
    assert cluster.parse_scheduler(None) is None
    assert cluster.parse_scheduler("local:2", "2GB").memory_limit == 2 * 10**9
    assert cluster.parse_scheduler("local:2", "1.5GiB").memory_limit == int(1.5 * 2**30)


@pytest.mark.parametrize("text, memory", [("local:0", None), ("local:x", None), ("lokal", None),
                                          ("http://h:1", None), ("tcp://h:1", "2GB"),
                                          (None, "2GB"), ("local:2", "lots"), ("local:2", "1kB")])
def test_parse_scheduler_refuses(text, memory):
    with pytest.raises(GdchaosInputError):
        cluster.parse_scheduler(text, memory)


def test_cluster_run_needs_a_store(client):
    with pytest.raises(GdchaosInputError, match="store"):
        gc.basin(P, GRID, client=client, **KW)


# ------------------------------------------------------------------------- determinism
def test_two_workers_one_worker_and_one_process_write_the_same_store(tmp_path, client, single):
    two = tmp_path / "two.zarr"
    ds = gc.basin(P, GRID, store=str(two), client=client, **KW)
    assert_same_store(single, two)
    assert int((ds.status < 0).sum()) == 0
    with open(two / "gdchaos" / "last_run.json") as f:
        run = json.load(f)
    assert run["tiles_computed"] == 15 and run["workers"] == 2
    assert cluster.store_fractions(two) == gc.status_fractions(ds.status.values)
    # one worker of the same cluster (every task pinned to it): the same store again
    import dask

    w = sorted(client.scheduler_info(n_workers=-1)["workers"])[0]
    one = tmp_path / "one.zarr"
    with dask.annotate(workers=[w]):
        gc.basin(P, GRID, store=str(one), client=client, **KW)
    held = client.run(lambda: [str(k[0]) for k in cluster._ATTACHED])  # store of each worker
    assert held[w] == [str(one)] and all(v != [str(one)] for k, v in held.items() if k != w)
    assert_same_store(single, one)


def test_resume_on_the_cluster_computes_only_missing_tiles(tmp_path, client, single):
    path = tmp_path / "r.zarr"
    gc.basin(P, GRID, store=str(path), client=client, **KW)
    for i in (2, 9):  # two tiles lost: record gone
        os.remove(path / "gdchaos" / "tiles" / f"{i}.json")
    gc.basin(P, GRID, store=str(path), client=client, **KW)
    with open(path / "gdchaos" / "last_run.json") as f:
        assert json.load(f)["tiles_computed"] == 2
    assert_same_store(single, path)


def test_torch_backend_on_workers_matches_one_process(tmp_path, client):
    pytest.importorskip("torch")
    kw = dict(KW, backend="torch", device="cpu", records=None, max_iter=60)
    grid = gc.Slice2D.axes(2, (-2.5, 3), (0, 10), 40, 24)
    a, b = tmp_path / "a.zarr", tmp_path / "b.zarr"
    gc.basin(P, grid, store=str(a), **kw)
    gc.basin(P, grid, store=str(b), client=client, **kw)
    assert_same_store(a, b)


def test_device_is_checked_on_the_workers_before_the_store(tmp_path, client):
    pytest.importorskip("torch")
    path = tmp_path / "d.zarr"
    with pytest.raises(GdchaosInputError, match="banana"):
        gc.basin(P, GRID, store=str(path), client=client, backend="torch", device="banana", **KW)
    assert not path.exists()


# ------------------------------------------------------------------------- failures
def test_a_second_client_is_refused_with_one_line(tmp_path, client, single):
    """While a client holds the store's lock (flock on gdchaos/.lock), another is refused
    before any tile runs; the store is untouched."""
    import shutil

    path = tmp_path / "l.zarr"
    shutil.copytree(single, path)
    before = {p: os.path.getmtime(os.path.join(r, p)) for r, _, fs in os.walk(path) for p in fs}
    fd = os.open(path / "gdchaos" / ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    import distributed

    def no_cluster(*a, **k):  # refused before a cluster starts: starting one fails the test
        raise AssertionError("a LocalCluster was started before the lock was checked")

    try:
        for kw in ({"client": client}, {"scheduler": "local:1"}):
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(distributed, "LocalCluster", no_cluster)
                with pytest.raises(GdchaosInputError, match="is being written by") as e:
                    gc.basin(P, GRID, store=str(path), overwrite=True, **kw, **KW)
            assert "\n" not in str(e.value)
    finally:
        os.close(fd)
    after = {p: os.path.getmtime(os.path.join(r, p)) for r, _, fs in os.walk(path) for p in fs}
    assert before == after


def test_store_fractions_read_chunk_by_chunk(single):
    ds = gc.open_store(single)
    assert cluster.store_fractions(single) == gc.status_fractions(ds.status.values)
    assert abs(sum(cluster.store_fractions(single).values()) - 1) < 1e-12


# ------------------------------------------------------------------------- convergence study
CS = dict(resolutions=(40, 61), steps=(30, 60), tile_points=500)  # 2 to 7 bands per case


def test_convergence_study_on_the_cluster_equals_one_process(client):
    """Every band of every (n, steps) one task: the same boundary pixels, region counts,
    estimates and fixed-size box counts as one process (only the timings differ)."""
    from gdchaos.analysis import BoxCounter, convergence_study, quotient_boundary_tiled

    a = convergence_study(CS["resolutions"], CS["steps"], tile_points=CS["tile_points"])
    b = convergence_study(CS["resolutions"], CS["steps"], tile_points=CS["tile_points"],
                          client=client)
    da, db = a.as_dict(), b.as_dict()
    for r in da["rows"] + db["rows"]:
        assert r.pop("seconds") > 0
    assert da["rows"] == db["rows"] and da["info"] == db["info"]
    assert len({r["n_boundary"] for r in da["rows"]}) == 4  # four different cases
    assert a.frame_counts.keys() == b.frame_counts.keys()
    for k in a.frame_counts:
        np.testing.assert_array_equal(a.frame_counts[k], b.frame_counts[k])
    # the band-level function, paper procedure and the w criterion, with a counter
    kw = dict(procedure="paper", criterion="w", tile_points=300)
    ca, cb = BoxCounter([-2.5, 0.0], [1.0, 0.25]), BoxCounter([-2.5, 0.0], [1.0, 0.25])
    ta = quotient_boundary_tiled(50, 40, counter=ca, **kw)
    tb = quotient_boundary_tiled(50, 40, counter=cb, client=client, **kw)
    assert ta.n_boundary > 0 and ta.region_pixels == tb.region_pixels
    np.testing.assert_array_equal(ta.rows, tb.rows)
    np.testing.assert_array_equal(ta.cols, tb.cols)
    np.testing.assert_array_equal(ca.counts(), cb.counts())


def test_convergence_study_refuses_bad_settings_before_the_cluster(client):
    from gdchaos.analysis import convergence_study

    for kw, msg in ((dict(procedure="other"), "procedure"), (dict(criterion="w", lam=0.9), "w"),
                    (dict(eta=-1.0), "eta"), (dict(resolutions=(2,)), ">= 3"),
                    (dict(banana=1), "unknown settings")):
        kw = dict(dict(resolutions=(20,), steps=(5,)), **kw)
        with pytest.raises(GdchaosInputError, match=msg):
            convergence_study(kw.pop("resolutions"), kw.pop("steps"), client=client, **kw)


# ------------------------------------------------------------------------- figures
FIG13 = {"dataset": "digits", "grid": "5", "zoom_grid": "3", "iters": "200", "eta": "0.5",
         "tol": "1e-2", "range": "2,10,2,10"}  # all three outcomes on the slice


def test_figure_13_through_reproduce_on_the_cluster_equals_one_process(tmp_path, client):
    """``reproduce(client=)`` hands the client to the network figure (figure 13: two nn slices
    on the cluster); its stored data equal the single-process computation bit for bit."""
    import xarray as xr

    from gdchaos.experiments.registry import get_figure
    from gdchaos.experiments.report import reproduce

    spec = get_figure(13)
    ref = spec.compute(spec.params("tiny", FIG13), str(tmp_path), False)
    assert set(np.unique(ref.datasets["slice"].status.values)) == {0, 1, 2}
    info = reproduce("tiny", str(tmp_path / "r"), [13], {13: FIG13}, progress=lambda s: None,
                     client=client)
    rec = info["records"][13]
    assert rec["cluster"] == "client" and not rec.get("error"), rec
    for name in ("slice", "zoom"):
        got = xr.open_zarr(tmp_path / "r" / f"fig13_{name}.zarr", consolidated=False).load()
        want = ref.datasets[name]
        assert sorted(got.data_vars) == sorted(want.data_vars)
        for v in want.data_vars:
            assert got[v].values.tobytes() == want[v].values.tobytes(), (name, v)
    assert rec["numbers"]["slice"] == ref.numbers["slice"]


def test_a_figure_without_a_cluster_path_is_refused_before_anything_is_written(tmp_path):
    from gdchaos.experiments.registry import get_figure
    from gdchaos.experiments.runner import run_figure, runs_on_cluster

    assert [n for n in range(1, 14) if runs_on_cluster(get_figure(n))] == [4, 5, 12, 13]
    with pytest.raises(GdchaosInputError, match=r"figure 3 does not run on a cluster; "
                                                r"--scheduler applies to figures 4, 5, 12, 13"):
        run_figure(get_figure(3), "tiny", None, str(tmp_path / "f"), scheduler="local:2")
    assert not (tmp_path / "f").exists()


def test_a_hyperparameter_map_on_the_cluster_equals_one_process(tmp_path, client):
    from gdchaos.engine.hypermap import Axis
    from gdchaos.engine.optim import Optimizer

    prob = gc.ScalarFactorization(d=1, y=1.0)
    kw = dict(grid=(24, 20), optimizer=Optimizer("adam", eta=0.1), init=[1.5, 0.3],
              max_iter=150, tile_rows=4)
    axes = (Axis("eta_u", 1e-2, 1.0, log=True), Axis("eta_v", 1e-2, 1.0, log=True))
    gc.hyper_map(prob, *axes, store=str(tmp_path / "one.zarr"), **kw)
    ds = gc.hyper_map(prob, *axes, store=str(tmp_path / "two.zarr"), client=client, **kw)
    assert ds.attrs["convergence_rule"] == "loss_below_tol_and_still"
    assert_same_store(tmp_path / "one.zarr", tmp_path / "two.zarr")
    st = np.asarray(ds.status)
    assert st.shape == (20, 24) and len(np.unique(st)) >= 2  # not a uniform map


# ------------------------------------------------------------------------- failures (last)
def test_a_worker_killed_mid_run_loses_nothing(tmp_path, client, single):
    """A worker dies (os._exit) while it holds tiles: they run again elsewhere, the store ends
    identical to the single-process one.  (Last test of the module: it kills a worker of the
    shared cluster; its nanny starts a new one.)"""
    path = tmp_path / "k.zarr"
    killed = {}
    cl = client

    def killer():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            busy = {w: ks for w, ks in cl.processing().items()
                    if any("basin_tile_task" in str(k) for k in ks)}
            if busy and path.joinpath("gdchaos", "tiles").is_dir():
                w = sorted(busy)[0]
                killed["worker"], killed["tasks"] = w, len(busy[w])
                try:
                    cl.run(os._exit, 1, workers=[w])
                except Exception:  # noqa: BLE001 - the worker is gone mid-call
                    pass
                return
            time.sleep(0.005)

    t = threading.Thread(target=killer)
    t.start()
    gc.basin(P, GRID, store=str(path), client=cl, **KW)
    t.join()
    assert killed and killed["tasks"] >= 1
    assert killed["worker"] not in cl.scheduler_info(n_workers=-1)["workers"]
    assert_same_store(single, path)


def test_a_refined_map_on_the_cluster_equals_one_process(tmp_path, client):
    """Boundary refinement works tile by tile: the cluster's store is the single process's,
    bit for bit, with the same measured error in its attributes."""
    one, two = tmp_path / "one.zarr", tmp_path / "two.zarr"
    gc.basin(P, GRID, store=str(one), refine=2, **KW)
    ds = gc.basin(P, GRID, store=str(two), client=client, refine=2, **KW)
    assert_same_store(one, two)
    a = gc.open_store(str(one)).attrs
    assert {k: v for k, v in ds.attrs.items() if k.startswith("refine_")} == \
        {k: v for k, v in a.items() if k.startswith("refine_")}
    assert a["refine_samples"] > 0
