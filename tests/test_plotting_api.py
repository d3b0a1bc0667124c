"""Pictures and records for Python users (issue 22): ``gdchaos.plot``, coordinate names,
``run_info`` of a path, ``gdchaos basin --png`` without a store, the ``command`` attribute."""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gdchaos
from gdchaos.cli import main

D1 = ["basin", "--problem", "scalar", "--d", "1", "--y", "0.5", "--eta", "0.3", "--momentum",
      "0.2", "--grid", "24", "--iters", "40", "--slice", "axes", "--range", "-3,3,-3,3",
      "--quiet"]


@pytest.fixture(scope="module")
def quotient_ds():
    """A small quotient map: converged, diverged and outside points (white in the picture)."""
    q = gdchaos.QuotientMap(y=0.5, lam=0.2)
    grid = gdchaos.Slice2D.axes(2, (-2.5, 3.0), (0.0, 10.0), 40, 40)
    return gdchaos.basin(q, grid, config=gdchaos.RunConfig(eta=1.0, max_iter=100, tol=1e-10))


def _close(ax):
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


def test_status_legend_entries_are_the_status_names_present(quotient_ds):
    ax = gdchaos.plot(quotient_ds)
    present = [int(c) for c in np.unique(quotient_ds.status)]
    assert 4 in present  # outside: the swatch that was invisible
    leg = ax.get_legend()
    assert [t.get_text() for t in leg.get_texts()] == [gdchaos.STATUS_NAMES[c] for c in present]
    from matplotlib.colors import to_rgba

    for patch in leg.get_patches():  # every swatch has a visible (non-white) edge
        edge = to_rgba(patch.get_edgecolor())
        assert edge[3] > 0 and edge[:3] != (1.0, 1.0, 1.0) and patch.get_linewidth() > 0
    _close(ax)


def test_plot_basin_legend_shows_outside_too(quotient_ds):
    from matplotlib.colors import to_rgba

    from gdchaos.plotting import plot_basin

    fig, ax = plot_basin(quotient_ds, xlabel="z", ylabel="w", title="fig. 3")
    patches = {t.get_text(): p for t, p in zip(ax.get_legend().get_texts(),
                                               ax.get_legend().get_patches())}
    edge = to_rgba(patches["outside"].get_edgecolor())
    assert edge[3] > 0 and edge[:3] != to_rgba(patches["outside"].get_facecolor())[:3]
    assert ax.get_title() == "fig. 3"
    _close(ax)


def test_record_colorbar_label_has_its_name_and_units(quotient_ds):
    ds = quotient_ds.copy()
    ds["final_loss"].attrs.update(long_name="loss at the end", units="nats")
    ax = gdchaos.plot(ds, "final_loss")
    label = ax.figure.axes[-1].get_ylabel()
    assert label == "final_loss: loss at the end [nats]"
    _close(ax)
    ax = gdchaos.plot(ds, var="iterations")  # no attributes: the package's own name
    assert ax.figure.axes[-1].get_ylabel().startswith("iterations: ")
    _close(ax)


def test_plot_names_axes_from_coordinates_and_titles_the_run(quotient_ds):
    ax = gdchaos.plot(quotient_ds)
    assert ax.get_xlabel() == "z = u.v - y" and ax.get_ylabel() == "w = |u|^2 + |v|^2"
    title = ax.get_title()
    for part in ("quotient", "y = 0.5", "lam = 0.2", "eta = 1", "momentum = 0", "iters = 100"):
        assert part in title, title
    _close(ax)


def test_plot_refuses_an_unknown_variable_in_one_line(quotient_ds):
    with pytest.raises(gdchaos.GdchaosInputError, match="no variable 'nope'"):
        gdchaos.plot(quotient_ds, "nope")


def test_accessor_is_registered_by_gdchaos_plotting_only():
    code = ("import sys, gdchaos, xarray as xr; a = hasattr(xr.Dataset, 'gdchaos'); "
            "m = 'matplotlib' in sys.modules; import gdchaos.plotting; "
            "print(a, m, hasattr(xr.Dataset, 'gdchaos'), hasattr(xr.DataArray, 'gdchaos'))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False", "True", "True"]


def test_accessor_plots(quotient_ds):
    import gdchaos.plotting  # noqa: F401 - registers ds.gdchaos

    ax = quotient_ds.gdchaos.plot()
    assert ax.get_legend() is not None
    _close(ax)
    ax = quotient_ds.status.gdchaos.plot()
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == "outside"
    _close(ax)


def test_run_info_of_a_path(tmp_path):
    store = tmp_path / "s.zarr"
    p = gdchaos.ScalarFactorization(d=1, y=1.0)
    gdchaos.basin(p, gdchaos.Slice2D.axes(2, (-1, 1), (-1, 1), 6, 6), eta=0.2, max_iter=10,
                  store=store)
    expected = gdchaos.run_info(gdchaos.open_store(store))
    assert gdchaos.run_info(str(store)) == expected == gdchaos.run_info(Path(store))
    assert expected["problem"] == {"problem": "scalar", "d": 1, "y": 1.0, "lam": 0.0}
    with pytest.raises(gdchaos.GdchaosInputError, match="not a gdchaos store"):
        gdchaos.run_info(tmp_path / "missing.zarr")


def test_coordinate_long_names_in_a_store(tmp_path):
    import xarray as xr

    store = tmp_path / "s.zarr"
    p = gdchaos.ScalarFactorization(d=1, y=1.0)
    gdchaos.basin(p, gdchaos.Slice2D.axes(2, (-1, 1), (-1, 1), 6, 6), eta=0.2, max_iter=10,
                  store=store)
    for ds in (gdchaos.open_store(store), xr.open_zarr(store, consolidated=False)):
        assert ds.x.attrs["long_name"] == "u" and ds.y.attrs["long_name"] == "v"
    rnd = gdchaos.basin(gdchaos.ScalarFactorization(d=3, y=1.0),
                        gdchaos.Slice2D.random(6, (-1, 1), (-1, 1), 4, 4), eta=0.2, max_iter=5)
    assert rnd.x.attrs["long_name"].startswith("a (along slice direction e1")


def test_a_store_without_coordinate_names_is_the_same_run(tmp_path):
    """Coordinate names are metadata: a store made before them resumes, not 'other params'."""
    store = tmp_path / "s.zarr"
    p = gdchaos.ScalarFactorization(d=1, y=1.0)
    grid = gdchaos.Slice2D.axes(2, (-1, 1), (-1, 1), 6, 6)
    first = gdchaos.basin(p, grid, eta=0.2, max_iter=10, store=store).load()
    for c in ("x", "y"):  # as an older gdchaos wrote it
        doc_path = store / c / "zarr.json"
        doc = json.loads(doc_path.read_text())
        doc["attributes"] = {}
        doc_path.write_text(json.dumps(doc))
    again = gdchaos.basin(p, grid, eta=0.2, max_iter=10, store=store).load()
    assert again.x.attrs == {}
    assert again.drop_vars(["x", "y"]).identical(first.drop_vars(["x", "y"]))


def test_map_coordinates_are_named(tmp_path):
    from gdchaos.engine.hypermap import Axis

    ds = gdchaos.hyper_map(gdchaos.ScalarFactorization(d=1, y=1.0), Axis("eta_u", 0.1, 1, True),
                           Axis("momentum", 0.0, 0.5), 3, max_iter=5, store=tmp_path / "m.zarr",
                           optimizer=gdchaos.Optimizer("heavy_ball"))
    assert ds.x.attrs["long_name"] == "eta_u (step size of parameter group u)"
    assert ds.x.attrs["scale"] == "log" and ds.y.attrs["long_name"].startswith("momentum (")


def test_basin_with_only_png_writes_the_picture_and_no_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(D1 + ["--png", "map.png"]) == 0
    assert os.listdir(tmp_path) == ["map.png"] and os.path.getsize("map.png") > 0


def test_basin_without_out_or_png_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(D1) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out" in err[0] and "--png" in err[0]
    assert os.listdir(tmp_path) == []


def test_command_attribute_has_the_arguments(tmp_path):
    store = str(tmp_path / "s.zarr")
    assert main(D1 + ["--out", store, "--json"]) == 0
    ds = gdchaos.open_store(store)
    assert ds.attrs["command"] == "gdchaos " + shlex.join(D1 + ["--json"])  # less --out


def test_map_command_attribute_has_the_arguments(tmp_path, capsys):
    store = str(tmp_path / "m.zarr")
    args = ["map", "--problem", "scalar", "--x-axis", "eta:log:0.1,1", "--y-axis",
            "momentum:lin:0,0.5", "--optimizer", "heavy_ball", "--grid", "3", "--iters", "5",
            "--quiet"]
    assert main(args + [f"--out={store}"]) == 0
    assert gdchaos.open_store(store).attrs["command"] == "gdchaos " + shlex.join(args)


@pytest.fixture
def saved(monkeypatch):
    """The figures ``gdchaos basin --png`` saves (instead of their files)."""
    import gdchaos.plotting

    figs = []
    monkeypatch.setattr(gdchaos.plotting, "save_figure", lambda fig, path, pdf=False:
                        figs.append(fig) or [path])
    return figs


def test_basin_png_title_carries_every_parameter_and_axes_are_u_v(tmp_path, saved):
    assert main(D1 + ["--png", str(tmp_path / "m.png")]) == 0
    ax = saved[-1].axes[0]
    title = ax.get_title()
    for part in ("scalar", "d = 1", "y = 0.5", "lam = 0", "eta = 0.3", "momentum = 0.2",
                 "iters = 40"):
        assert part in title, title
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("u", "v")


def test_basin_png_colorbar_names_the_colour_variable(tmp_path, saved):
    assert main(D1 + ["--png", str(tmp_path / "m.png"), "--color", "sharpness"]) == 0
    assert saved[-1].axes[-1].get_ylabel() == \
        "sharpness: top Hessian eigenvalue at the final parameters"
    assert main(D1 + ["--png", str(tmp_path / "m.png"), "--color", "coordinate",
                      "--coordinate", "1"]) == 0
    assert saved[-1].axes[-1].get_ylabel() == "coordinate: final value of parameter 1 (v)"


def test_large_status_map_is_drawn_as_coloured_bytes_at_the_axes_resolution():
    """A map larger than the picture is drawn from an RGBA byte image thinned to the saved axes'
    pixels (nearest: each drawn pixel is a computed one), with the categories' own colours."""
    import xarray as xr
    from matplotlib.colors import to_rgba

    from gdchaos.plotting.style import STATUS_COLORS

    ny, nx = 3000, 2400
    st = np.zeros((ny, nx), dtype=np.int8)
    st[:, nx // 2:] = 2
    st[ny // 2:, :] = 1
    ds = xr.Dataset({"status": (("y", "x"), st)},
                    coords={"y": np.linspace(0, 1, ny), "x": np.linspace(0, 1, nx)})
    ax = gdchaos.plot(ds)
    img = ax.get_images()[0].get_array()
    assert img.dtype == np.uint8 and img.shape[2] == 4
    assert img.shape[0] < ny and img.shape[1] < nx
    fig = ax.figure
    import matplotlib as mpl

    dpi = mpl.rcParams["savefig.dpi"]
    dpi = fig.dpi if dpi == "figure" else float(dpi)
    assert img.shape[1] >= ax.get_position().width * fig.get_figwidth() * dpi - 1
    for code, (r, c) in {0: (0, 0), 2: (0, -1), 1: (-1, 0)}.items():
        want = np.round(np.asarray(to_rgba(STATUS_COLORS[code])) * 255)
        np.testing.assert_array_equal(img[r, c], want)
    _close(ax)
