"""Bad and edge input from outside (issue 8): every case exits 2 with one line on stderr, no
traceback, before anything is written or computed; library calls refuse the same input.

Commands run in-process through ``gdchaos.cli.main``.  The ``no_compute`` fixture makes the
engine raise, so a check that comes only after the computation (or never) fails the test
quickly instead of running it.  Imports of library names sit inside the tests so that each
test fails on its own against code without the checks.
"""

import json
import os
import re

import numpy as np
import pytest

from gdchaos.cli import main

ERROR_LINE = re.compile(r"^gdchaos( [a-z-]+)*: error: \S")


class ComputationStarted(AssertionError):
    pass


@pytest.fixture
def no_compute(monkeypatch):
    """The engine raises: bad input must be refused before any run."""
    import gdchaos.engine

    def boom(*a, **k):
        raise ComputationStarted("computation started before the input was checked")

    monkeypatch.setattr(gdchaos.engine, "basin", boom)
    monkeypatch.setattr(gdchaos.engine, "run_points", boom)


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A scratch folder as the working directory; returns it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def read_only(work, monkeypatch):
    """A folder ``ro`` that os.access reports as not writable (tests run as root, where chmod
    would not stop a write)."""
    ro = work / "ro"
    ro.mkdir()
    real = os.access

    def access(path, mode, *a, **k):
        p = os.path.abspath(os.fspath(path))
        if mode & os.W_OK and (p == str(ro) or p.startswith(str(ro) + os.sep)):
            return False
        return real(path, mode, *a, **k)

    monkeypatch.setattr(os, "access", access)
    return ro


def tree(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, ds, fs in os.walk(root) for f in fs + ds)


def refused(argv, capsys, root, word=None):
    """Run ``gdchaos argv``: exit 2, one error line (containing ``word``), no traceback, and
    the folder ``root`` unchanged."""
    before = tree(root)
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse errors
        rc = exc.code
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert rc == 2, (rc, out.err)
    assert len(lines) == 1 and ERROR_LINE.match(lines[0]), out.err
    assert "Traceback" not in out.err
    assert tree(root) == before, "something was written"
    if word is not None:
        assert word.lower() in lines[0].lower(), lines[0]
    return lines[0]


B = ["basin", "--problem", "scalar", "--eta", "0.1", "--grid", "4", "--out", "b.zarr"]
FIG1 = ["figure", "1", "--preset", "tiny", "--out", "fig"]
SCALAR = ["--problem", "scalar", "--y", "0.5", "--lam", "0.2", "--range=-4,4,-4,4"]

CASES = {
    # negative seeds
    "basin-seed": (B + ["--d", "2", "--seed", "-1"], "seed"),
    "lyapunov-seed": (["lyapunov", "--problem", "scalar", "--d", "2", "--grid", "4", "--iters",
                       "2", "--seed", "-1"], "seed"),
    "uncertainty-seed": (["uncertainty", "--points", "10", "--seed", "-1"], "seed"),
    "basin-entropy-seed": (["basin-entropy", "--problem", "scalar", "--d", "2", "--grid", "5",
                            "--seed", "-1"], "seed"),
    "entropy-seed": (["entropy", "--map", "quotient", "--samples", "10", "--seed", "-1"], "seed"),
    "periodic-orbits-seed": (["periodic-orbits", "--gd", "--periods", "1", "--seed", "-1"],
                             "seed"),
    "figure-seed": (FIG1 + ["--set", "seed=-1"], "seed"),
    "figure-grid-0": (["figure", "3", "--preset", "tiny", "--set", "grid=0", "--out", "fig"],
                      ">= 1"),
    # step counts beyond the int32 counter
    "basin-iters-huge": (B + ["--iters", "99999999999999999999"], "iters"),
    "uncertainty-iters-huge": (["uncertainty", "--iters", "99999999999999999999"], "iters"),
    # devices
    "device-banana": (B + ["--backend", "torch", "--device", "banana"], "banana"),
    "device-with-numba": (B + ["--device", "cpu"], "--device"),
    # pictures: unknown type, refused before the computation
    "basin-png-type": (B + ["--png", "x.xyz"], "xyz"),
    "dimension-png-type": (["dimension", "--grid", "50", "--png", "x.xyz"], "xyz"),
    "uncertainty-png-type": (["uncertainty", "--points", "10", "--png", "x.xyz"], "xyz"),
    # output folders that are files
    "figure-out-file": (["figure", "3", "--preset", "tiny", "--out", "afile"], "afile"),
    "demo-out-file": (["demo", "--out", "afile"], "afile"),
    "reproduce-out-file": (["reproduce", "--preset", "tiny", "--figures", "3", "--out", "afile"],
                           "afile"),
    "extras-out-file": (["extras", "--preset", "tiny", "--out", "afile"], "afile"),
    # counts that cannot give a result
    "uncertainty-n-eps-0": (["uncertainty", "--points", "10", "--n-eps", "0"], "n-eps"),
    "uncertainty-n-eps-1": (["uncertainty", "--points", "10", "--n-eps", "1", "--json"], "n-eps"),
    "entropy-samples-0": (["entropy", "--map", "quotient", "--samples", "0", "--json"],
                          "samples"),
    # memory
    "basin-huge-d": (B + ["--d", str(10**12)], "memory"),
    "uncertainty-huge-d": (["uncertainty", "--problem", "scalar", "--d", str(10**12)], "memory"),
    # ranges that overflow float64
    "basin-range-overflow": (B + ["--range=-1e308,1e308,0,1e308", "--json"], "overflow"),
    # negative radius
    "wada-r-negative": (["wada", "--r", "-3", "--grid", "20", "--iters", "20",
                         "--outcome", "status+sign"] + SCALAR, "--r"),
    # values silently changed before
    "basin-grid-float": (B[:-4] + ["--grid", "2.5", "--out", "b.zarr"], "grid"),
    "basin-d-0": (B + ["--d", "0"], "--d"),
    "wada-d-0": (["wada", "--grid", "20", "--iters", "20", "--outcome", "status+sign", "--d", "0"]
                 + SCALAR, "--d"),
    "periodic-orbits-float": (["periodic-orbits", "--periods", "2.5"], "periods"),
    "convergence-study-float": (["convergence-study", "--resolutions", "50.5"], "resolutions"),
    "reproduce-figures-empty": (["reproduce", "--preset", "tiny", "--figures", "", "--out", "r"],
                                "figures"),
    "reproduce-figures-float": (["reproduce", "--preset", "tiny", "--figures", "3.5", "--out",
                                 "r"], "figures"),
    # options the problem does not use
    "basin-Y-scalar": (B + ["--Y", "1,0;0,1"], "--Y"),
    "basin-k-scalar": (B + ["--k", "4"], "--k"),
    "basin-d-quotient": (["basin", "--problem", "quotient", "--eta", "1", "--grid", "4", "--d",
                          "3", "--out", "b.zarr"], "--d"),
    "basin-slice-random-quotient": (["basin", "--problem", "quotient", "--eta", "1", "--grid",
                                     "4", "--slice", "random", "--out", "b.zarr"], "slice"),
    "uncertainty-Y-scalar": (["uncertainty", "--problem", "scalar", "--Y", "1,0;0,1"], "--Y"),
    # validation before the store exists
    "basin-coordinate-quotient": (["basin", "--problem", "quotient", "--eta", "1", "--grid",
                                   "4", "--coordinate", "7", "--out", "b.zarr"], "coordinate"),
    "basin-momentum-quotient": (["basin", "--problem", "quotient", "--eta", "1", "--grid", "4",
                                 "--momentum", "0.5", "--out", "b.zarr"], "momentum"),
    # sizes
    "basin-grid-100000": (B[:-4] + ["--grid", "100000", "--out", "b.zarr"], "--allow-large"),
    "dimension-n-huge": (["dimension", "--grid", "40000"], "--allow-large"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_refused_before_anything(name, work, capsys, no_compute):
    argv, word = CASES[name]
    (work / "afile").write_text("a file, not a folder")
    refused(argv, capsys, work, word)


def test_device_cuda_without_cuda(work, capsys, no_compute):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    refused(B + ["--backend", "torch", "--device", "cuda"], capsys, work, "cuda")


@pytest.mark.parametrize("argv", [
    ["uncertainty", "--points", "10", "--png", "ro/f.png"],
    ["dimension", "--grid", "50", "--png", "ro/f.png"],
    ["lyapunov", "--grid", "4", "--iters", "2", "--png", "ro/f.png"],
    ["lyapunov", "--grid", "4", "--iters", "2", "--out", "ro/f.npy"],
], ids=["uncertainty", "dimension", "lyapunov-png", "lyapunov-out"])
def test_unwritable_picture_refused_before_computing(argv, work, read_only, capsys, no_compute,
                                                     monkeypatch):
    import gdchaos.analysis

    def boom(*a, **k):
        raise ComputationStarted("computation started before the input was checked")

    monkeypatch.setattr(gdchaos.analysis, "lyapunov_map", boom)
    monkeypatch.setattr(gdchaos.analysis, "lyapunov_points", boom)
    refused(argv, capsys, work, "ro")


def test_nn_png_unwritable_refused_before_training(work, read_only, capsys):
    refused(["nn", "slice", "--dataset", "digits", "--grid", "2", "--iters", "5", "--width", "2",
             "--workers", "1", "--out", "s.zarr", "--png", "ro/s.png"], capsys, work, "ro")


@pytest.mark.parametrize("cmd", [
    ["figure", "3", "--preset", "tiny"], ["demo"], ["extras", "--preset", "tiny"],
    ["reproduce", "--preset", "tiny", "--figures", "3"]], ids=lambda c: c[0])
def test_out_in_read_only_folder(cmd, work, read_only, capsys, no_compute):
    refused(cmd + ["--out", "ro/new"], capsys, work, "not writable")
    refused(cmd + ["--out", "ro"], capsys, work, "not writable")


def test_allow_large_lets_a_large_basin_through(work, capsys, no_compute, monkeypatch):
    from gdchaos._cli import _common

    monkeypatch.setattr(_common, "_free_disk", lambda path: 2**50)  # a disk of 1 PiB free
    with pytest.raises(ComputationStarted):
        main(B[:-4] + ["--grid", "100000", "--allow-large", "--out", "b.zarr"])


def test_corrected_command_runs_after_a_refused_one(work, capsys):
    base = ["basin", "--problem", "quotient", "--eta", "1", "--grid", "6", "--iters", "20",
            "--out", "q.zarr", "--quiet"]
    refused(base + ["--coordinate", "7"], capsys, work, "coordinate")
    refused(base + ["--momentum", "0.5"], capsys, work, "momentum")
    assert not (work / "q.zarr").exists()
    assert main(base + ["--coordinate", "1"]) == 0


def test_wada_many_levels_refused_quickly(work, capsys, monkeypatch):
    """wada --levels 9 on an 80 x 80 map: the outcome map is computed (6400 points), the
    refinement (up to ~1e8 evaluations) is refused before it starts."""
    import gdchaos.analysis

    real = gdchaos.analysis.engine_outcome
    count = [0]

    def counted(*a, **k):
        f = real(*a, **k)

        def g(X):
            count[0] += len(X)
            if count[0] > 2_000_000:
                raise ComputationStarted("the refinement ran")
            return f(X)

        return g

    monkeypatch.setattr(gdchaos.analysis.uncertainty, "engine_outcome", counted)
    refused(["wada", "--method", "grid", "--eta", "1", "--grid", "80", "--iters", "100",
             "--outcome", "status+sign", "--levels", "9"] + SCALAR, capsys, work,
            "--allow-large")
    assert count[0] == 80 * 80


def test_wada_grid_shows_progress(capsys):
    from gdchaos.analysis import wada_grid

    def outcome(X):  # six sectors, labels 0 1 2 0 1 2
        return (np.floor((np.arctan2(X[:, 1], X[:, 0]) + np.pi) / (np.pi / 3)) % 3).astype(int)

    xs = ys = np.linspace(-1, 1, 21)
    r = wada_grid(outcome, xs, ys, max_level=3, progress=True)
    assert r.W.size == 4
    assert "wada grid level 3/3" in capsys.readouterr().err


def test_critical_step_json_is_strict(capsys):
    assert main(["critical-step", "--y", "0", "--u", "1", "--v", "1", "--json"]) == 0
    out = capsys.readouterr().out

    def bad_constant(c):
        raise ValueError(f"non-standard JSON constant {c}")

    rec = json.loads(out, parse_constant=bad_constant)
    assert rec["eta_star_terms"]["1/|y|"] is None
    assert "y = 0" in rec["eta_star_terms"]["1/|y|_reason"]
    assert main(["critical-step", "--y", "0", "--u", "0", "--v", "0", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out, parse_constant=bad_constant)
    assert rec["eta_star"] is None and rec["eta_star_reason"]


def test_nn_slice_max_tiles_fractions_sum_to_one():
    from gdchaos.nn.slices import _fractions

    st = np.array([[1, 2], [0, 1], [-1, -1], [-1, -1]], dtype=np.int8)
    fr = _fractions(st)
    assert sum(fr.values()) == pytest.approx(1.0)
    assert fr["not_run"] == pytest.approx(0.5) and fr["converged"] == pytest.approx(0.25)


def test_nn_slice_max_tiles_cli(work, capsys):
    rc = main(["nn", "slice", "--dataset", "digits", "--grid", "4", "--tile-rows", "1",
               "--max-tiles", "2", "--iters", "5", "--width", "2", "--workers", "1",
               "--sharpness", "none", "--no-png", "--out", "s.zarr", "--json"])
    assert rc == 0
    fr = json.loads(capsys.readouterr().out)["fractions"]
    assert sum(fr.values()) == pytest.approx(1.0) and fr["not_run"] == pytest.approx(0.5)


# ------------------------------------------------------------------ the library refuses too
def test_library_refuses_the_same_input(tmp_path):
    from gdchaos import GdchaosInputError
    from gdchaos.analysis import (gd_periodic_orbit, separated_set_entropy,
                                  uncertainty_exponent, wada_merging)
    from gdchaos.engine import RunConfig, Slice2D, basin, check_device
    from gdchaos.experiments.runner import check_output_dir
    from gdchaos.experiments.report import reproduce
    from gdchaos.problems import QuotientMap, ScalarFactorization

    with pytest.raises(GdchaosInputError, match="int32"):
        RunConfig(eta=1.0, max_iter=2**31)
    with pytest.raises(GdchaosInputError, match="seed"):
        Slice2D.random(4, (-1, 1), (-1, 1), 4, seed=-1)
    with pytest.raises(GdchaosInputError, match="overflow"):
        Slice2D.axes(2, (-1e308, 1e308), (0, 1e308), 4)
    with pytest.raises(GdchaosInputError):
        Slice2D.axes(2, (-1e308, 1e308), (0, 1), 4)  # the (z, w) grids of the analysis too
    with pytest.raises(GdchaosInputError, match="torch"):
        check_device("numba", "cpu")
    with pytest.raises(GdchaosInputError, match="banana"):
        check_device("torch", "banana")
    store = tmp_path / "s.zarr"
    grid = Slice2D.axes(2, (-2.5, 3), (0, 10), 4)
    for kw in ({"coordinate": 7}, {"momentum": 0.5}, {"device": "banana"}, {"tile_rows": 0}):
        with pytest.raises(GdchaosInputError):
            basin(QuotientMap(y=0.5, lam=0.2), grid, 1.0, store=str(store), **kw)
        assert not store.exists()

    def outcome(X):
        return np.zeros(len(X), dtype=int)

    def sampler(rng, n):
        return rng.random((n, 2))

    with pytest.raises(GdchaosInputError, match="2"):
        uncertainty_exponent(outcome, sampler, [0.1], 100)
    with pytest.raises(GdchaosInputError, match="seed"):
        uncertainty_exponent(outcome, sampler, [0.1, 0.01], 100, seed=-1)
    with pytest.raises(GdchaosInputError):
        separated_set_entropy(lambda X: X, np.zeros((0, 2)), [1, 2], 0.1)
    with pytest.raises(GdchaosInputError, match="seed"):
        gd_periodic_orbit(3, seed=-1)
    with pytest.raises(GdchaosInputError):
        gd_periodic_orbit(2.5)
    L = np.arange(36).reshape(6, 6) % 3
    with pytest.raises(GdchaosInputError, match="radius"):
        wada_merging(L, r_wada=-3)
    with pytest.raises(GdchaosInputError):
        ScalarFactorization(d=0)
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(GdchaosInputError, match="file"):
        check_output_dir(f)
    with pytest.raises(GdchaosInputError, match="figures"):
        reproduce("tiny", str(tmp_path / "r"), figures=[])
    assert not (tmp_path / "r").exists()
