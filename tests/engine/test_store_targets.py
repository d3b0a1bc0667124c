"""Where a store may be written (issue 18): nothing the program did not create is ever deleted,
no store in an odd place, every check before anything is written or computed."""

import dataclasses
import os

import numpy as np
import pytest
import xarray as xr

import gdchaos as gc
from gdchaos.engine import TiledStore, _run
from gdchaos.errors import GdchaosInputError

P = gc.QuotientMap(y=0.5, lam=0.2)
GRID = gc.Slice2D.axes(2, (-2.5, 3), (0, 10), 6, 8)
KW = dict(eta=1.0, max_iter=10, tol=1e-10, tile_rows=4)


def _basin(path, **kw):
    return gc.basin(P, GRID, store=str(path), **{**KW, **kw})


def _tree(root):
    out = {}
    for d, ds, fs in os.walk(root):
        for f in fs:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = open(p, "rb").read()
        for x in ds:
            out[os.path.relpath(os.path.join(d, x), root) + "/"] = None
    return out


@pytest.fixture
def no_compute(monkeypatch):
    """A tile computed is a failure: the refusal must come first."""
    monkeypatch.setattr(_run, "_tile", _boom)


@pytest.fixture
def read_only(monkeypatch):
    """Paths that os.access reports as not writable (tests run as root)."""
    paths = set()
    real = os.access

    def access(path, mode, *a, **k):
        p = os.path.abspath(os.fspath(path))
        if mode & os.W_OK and any(p == r or p.startswith(r + os.sep) for r in paths):
            return False
        return real(path, mode, *a, **k)

    monkeypatch.setattr(os, "access", access)
    return paths


@pytest.mark.parametrize("name", [os.path.join("gdchaos", "my_notes.txt"), "results.partial",
                                  os.path.join("status", "notes.txt"),
                                  os.path.join("status", "c", "readme"),
                                  os.path.join("gdchaos", "tiles", "mine.txt")])
def test_overwrite_refuses_a_users_file_anywhere_in_the_store(tmp_path, name, monkeypatch):
    s = tmp_path / "o.zarr"
    _basin(s)
    (s / name).write_text("mine")
    before = _tree(tmp_path)
    monkeypatch.setattr(_run, "_tile", _boom)
    with pytest.raises(GdchaosInputError, match=os.path.basename(name).replace(".", r"\.")):
        _basin(s, overwrite=True)
    assert _tree(tmp_path) == before


def _boom(*a, **k):
    raise AssertionError("a tile was computed before the target was checked")


def test_overwrite_replaces_a_store_with_only_our_partial_files(tmp_path):
    s = tmp_path / "o.zarr"
    _basin(s, max_iter=5)
    (s / f"zarr.json.{'a' * 32}.partial").write_text("{")  # our atomic write, cut short
    (s / "status" / "c" / "0" / f"0.{'b' * 32}.partial").write_bytes(b"x")  # zarr's
    _basin(s, overwrite=True)
    assert not [f for f in os.listdir(s) if f.endswith(".partial")]
    assert sorted(os.listdir(tmp_path)) == ["o.zarr"]


def test_empty_read_only_folder_is_refused(tmp_path, read_only, no_compute):
    ro = tmp_path / "ro"
    ro.mkdir()
    read_only.add(str(ro))
    for overwrite in (False, True):
        with pytest.raises(GdchaosInputError, match="not writable"):
            _basin(ro, overwrite=overwrite)
    assert os.listdir(ro) == [] and sorted(os.listdir(tmp_path)) == ["ro"]


def test_read_only_store_is_refused(tmp_path, read_only):
    s = tmp_path / "o.zarr"
    _basin(s)
    read_only.add(str(s))
    with pytest.raises(GdchaosInputError, match="not writable"):
        _basin(s)


@pytest.mark.parametrize("inner", ["inner.zarr", "gdchaos/x.zarr", "status/x.zarr"])
def test_store_inside_a_store_is_refused(tmp_path, inner):
    s = tmp_path / "o.zarr"
    _basin(s)
    before = _tree(tmp_path)
    with pytest.raises(GdchaosInputError, match="inside the store"):
        _basin(s / inner)
    assert _tree(tmp_path) == before


def test_path_below_a_file_says_it_is_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.txt").write_text("x")
    for out in ("f.txt/o.zarr", "f.txt/a/o.zarr"):
        with pytest.raises(GdchaosInputError, match=r"f\.txt is a file, not a folder"):
            TiledStore.check_target(out)
    with pytest.raises(GdchaosInputError, match="does not exist"):
        TiledStore.check_target("nodir/o.zarr")
    assert TiledStore.check_target("nodir/o.zarr", create_parents=True) == "absent"
    assert os.listdir(tmp_path) == ["f.txt"]


def test_symbolic_link_is_not_replaced(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    with pytest.raises(GdchaosInputError, match="symbolic link"):
        _basin(tmp_path / "link")
    assert os.path.islink(tmp_path / "link") and os.listdir(tmp_path / "real") == []


def test_basin_checks_the_target_before_any_tile(tmp_path, no_compute):
    (tmp_path / "u").mkdir()
    (tmp_path / "u" / "a.txt").write_text("a")
    with pytest.raises(GdchaosInputError, match="not a gdchaos store"):
        _basin(tmp_path / "u")


# ----------------------------------------------------------------------------- figures
def _spec(calls):
    from gdchaos.experiments.runner import FigureData, FigureSpec

    def compute(params, out, progress):
        calls.append(1)
        ds = xr.Dataset({"a": (("y", "x"), np.arange(6.0).reshape(2, 3)), "k": ((), 2.0)},
                        coords={"x": np.arange(3.0)})
        return FigureData(datasets={"left": ds}, numbers={"n": 1})

    def plot(data, params):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        return plt.figure(figsize=(1, 1))

    return FigureSpec(number=3, title="t", caption="c", presets={"tiny": {"g": 1}},
                      compute=compute, plot=plot)


def _user_folder(p):
    (p / "sub").mkdir(parents=True)
    (p / "thesis.txt").write_text("chapter 1\n")
    (p / "sub" / "data.csv").write_text("a,b\n")


def test_figure_refuses_a_users_folder_at_its_store_before_any_work(tmp_path):
    from gdchaos.experiments.runner import run_figure

    calls = []
    _user_folder(tmp_path / "figs" / "fig03_left.zarr")
    before = _tree(tmp_path)
    with pytest.raises(GdchaosInputError, match="fig03_left.zarr"):
        run_figure(_spec(calls), "tiny", out=str(tmp_path / "figs"), formats=("png",))
    assert calls == [] and _tree(tmp_path) == before


def test_the_real_figure_3_refuses_before_computing(tmp_path):
    from gdchaos.experiments.registry import get_figure
    from gdchaos.experiments.runner import run_figure

    def boom(*a, **k):
        raise AssertionError("computed before the check")

    spec = dataclasses.replace(get_figure(3), compute=boom)
    _user_folder(tmp_path / "figs" / "fig03_middle.zarr")
    before = _tree(tmp_path)
    with pytest.raises(GdchaosInputError, match="fig03_middle.zarr"):
        run_figure(spec, "tiny", out=str(tmp_path / "figs"))
    assert _tree(tmp_path) == before


def test_figure_rerun_replaces_its_own_store_only(tmp_path):
    from gdchaos.engine import open_store
    from gdchaos.experiments.runner import run_figure

    calls, figs = [], tmp_path / "figs"
    spec = _spec(calls)
    for _ in range(2):  # the second run replaces the first's store
        run_figure(spec, "tiny", out=str(figs), formats=("png",))
    assert open_store(figs / "fig03_left.zarr")["a"].values.sum() == 15
    assert sorted(os.listdir(figs)) == ["fig03.json", "fig03.png", "fig03_left.zarr"]
    (figs / "fig03_left.zarr" / "notes.txt").write_text("mine")
    with pytest.raises(GdchaosInputError, match="notes.txt"):
        run_figure(spec, "tiny", out=str(figs), formats=("png",))
    assert (figs / "fig03_left.zarr" / "notes.txt").read_text() == "mine" and len(calls) == 2


def test_figure_leftover_of_a_killed_write_is_removed(tmp_path):
    from gdchaos.experiments.runner import run_figure

    figs = tmp_path / "figs"
    left = figs / ".fig03_left.zarr.gdchaos-tmp-99999999-deadbeef"
    (left / "store").mkdir(parents=True)
    (left / ".gdchaos-building").write_text("")
    run_figure(_spec([]), "tiny", out=str(figs), formats=("png",))
    assert sorted(os.listdir(figs)) == ["fig03.json", "fig03.png", "fig03_left.zarr"]


@pytest.mark.parametrize("out", ["o.zarr", "o.zarr/figs"])
def test_figure_output_folder_in_a_store_is_refused(tmp_path, out):
    from gdchaos.experiments.runner import run_figure

    _basin(tmp_path / "o.zarr")
    before = _tree(tmp_path)
    with pytest.raises(GdchaosInputError, match="zarr store"):
        run_figure(_spec([]), "tiny", out=str(tmp_path / out), formats=("png",))
    assert _tree(tmp_path) == before


def test_reproduce_checks_every_figure_before_any_runs(tmp_path, monkeypatch):
    from gdchaos.experiments import runner
    from gdchaos.experiments.report import reproduce

    def boom(*a, **k):
        raise AssertionError("a figure ran before the targets were checked")

    monkeypatch.setattr(runner, "run_figure", boom)
    _user_folder(tmp_path / "r" / "fig03_left.zarr")
    before = _tree(tmp_path)
    with pytest.raises(GdchaosInputError, match="fig03_left.zarr"):
        reproduce("tiny", out=str(tmp_path / "r"), figures=[1, 3], progress=lambda *a: None)
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("name", ["fig3_quotient.zarr", "fig1_slice.zarr"])
def test_demo_refuses_before_computing(tmp_path, monkeypatch, name):
    import gdchaos.engine
    from gdchaos.experiments.demo import run_demo

    def boom(*a, **k):
        raise AssertionError("computed before the check")

    monkeypatch.setattr(gdchaos.engine, "basin", boom)
    _user_folder(tmp_path / "d" / name)
    before = _tree(tmp_path)
    with pytest.raises(GdchaosInputError, match=name):
        run_demo(str(tmp_path / "d"), quiet=True)
    assert _tree(tmp_path) == before
