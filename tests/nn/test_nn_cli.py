"""``gdchaos nn sweep`` / ``gdchaos nn slice`` registered on a stand-alone parser."""

import argparse
import json

import numpy as np
import pytest

from gdchaos._cli.nn import register
from gdchaos.errors import GdchaosInputError


def _parser():
    p = argparse.ArgumentParser(prog="gdchaos")
    register(p.add_subparsers(dest="command", required=True))
    return p


def _run(argv):
    args = _parser().parse_args(argv)
    return args.func(args)


@pytest.mark.parametrize("sub", ["sweep", "slice"])
def test_help_has_examples(sub, capsys):
    with pytest.raises(SystemExit) as e:
        _parser().parse_args(["nn", sub, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"gdchaos nn {sub} --preset quick" in out
    for flag in ("--preset", "--iters", "--loss", "--width", "--weight-decay", "--seed",
                 "--data-dir", "--out", "--png", "--json", "--quiet", "--momentum"):
        assert flag in out


@pytest.mark.parametrize("argv", [
    ["nn", "slice", "--grid", "0"],
    ["nn", "slice", "--grid", "3x"],
    ["nn", "slice", "--grid", "3x4"],
    ["nn", "slice", "--grid", "3,4,5"],
    ["nn", "slice", "--range", "1,0,0,1"],
    ["nn", "slice", "--range", "1,2,3"],
    ["nn", "slice", "--zoom", "--range", "0,1,0,1"],
    ["nn", "slice", "--eta", "-1"],
    ["nn", "sweep", "--momentum", "1.5"],
    ["nn", "sweep", "--eta-min", "0.2", "--eta-max", "0.1"],
    ["nn", "sweep", "--n-eta", "0"],
    ["nn", "sweep", "--width", "10,0"],
    ["nn", "sweep", "--classes", "0"],
    ["nn", "sweep", "--loss", "ce", "--targets", "pm1"],
    ["nn", "sweep", "--dataset", "digits", "--classes", "0,11", "--out", "/nonexistent/x.zarr"],
    ["nn", "sweep", "--out", "/nonexistent/dir/x.zarr", "--dataset", "digits"],
    ["nn", "sweep", "--threads", "0"],
    ["nn", "sweep", "--data-seed", "-1"],
    ["nn", "slice", "--pool", "0"],
    ["nn", "slice", "--iters", "0"],
])
def test_bad_input_is_one_clear_error(argv):
    with pytest.raises(GdchaosInputError) as e:
        _run(argv)
    assert "\n" not in str(e.value)


def test_old_grid_form_is_refused_with_the_new_one():
    with pytest.raises(GdchaosInputError, match=r"NX,NY.*--grid 300,200$"):
        _run(["nn", "slice", "--grid", "200x300"])


def _png(path):
    """The image's RGB pixels, after checking that it is a real plot (not blank)."""
    from PIL import Image

    im = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert im.shape[0] > 300 and im.shape[1] > 500, im.shape
    assert len(np.unique(im.reshape(-1, 3), axis=0)) > 50  # not uniform
    return im


def _pixels_of(im, hex_colour, tol=8):
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int(np.sum(np.all(np.abs(im - rgb) <= tol, axis=-1)))


def test_slice_json(tmp_path, capsys):
    out = tmp_path / "s.zarr"
    rc = _run(["nn", "slice", "--dataset", "digits", "--width", "4", "--grid", "4,3",
               "--iters", "30", "--range", "0,60,0,60", "--tol", "1e-3", "--json", "--quiet",
               "--workers", "1", "--out", str(out)])
    assert rc == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["grid"] == [4, 3] and rec["preset"] == "quick"
    assert rec["convergence_rule"] == "loss_below_tol"
    assert rec["seconds"] > 0 and rec["network_steps_per_second"] > 0
    assert rec["outputs"]["store"] == str(out)
    # the JSON's numbers are the store's: 3 rows (y) by 4 columns (x), fractions of its statuses
    from gdchaos import open_store
    from gdchaos.plotting.style import DIVERGED_GREY

    ds = open_store(out)
    st = ds["status"].values
    assert st.shape == (3, 4) and ds["x"].size == 4
    assert np.array_equal(ds["x"].values, np.linspace(0, 60, 4))
    for code, name in ((1, "converged"), (2, "diverged"), (0, "undecided")):
        assert rec["fractions"][name] == np.count_nonzero(st == code) / 12
    assert rec["network_steps"] == int(ds["steps"].values.sum())
    im = _png(tmp_path / "s.png")
    grey = _pixels_of(im, DIVERGED_GREY, tol=3)
    # diverged points are grey in both maps: a cell of this 4 x 3 grid is thousands of pixels
    assert 0 < np.count_nonzero(st == 2) < 12 and grey > 2000, (st, grey)


def test_sweep_json(tmp_path, capsys):
    rc = _run(["nn", "sweep", "--dataset", "digits", "--width", "8", "--n-eta", "3",
               "--iters", "50", "--momentum", "0", "--eta-min", "0.1", "--eta-max", "0.3",
               "--json", "--no-png", "--workers", "1", "--sharpness-every", "10",
               "--out", str(tmp_path / "w.zarr")])
    assert rc == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["arms"][0]["momentum"] == 0.0 and rec["arms"][0]["eta_range"] == [0.1, 0.3]
    assert "png" not in rec["outputs"] and not (tmp_path / "w.png").exists()
    from gdchaos import open_store

    ds = open_store(tmp_path / "w.zarr")
    assert np.allclose(ds["eta"].values, [[0.1, 0.2, 0.3]])
    assert rec["network_steps"] == int(ds["steps"].values.sum()) > 0
    st = ds["status"].values
    assert rec["fractions"]["converged"] == np.count_nonzero(st == 1) / 3
    assert ds.attrs["convergence_rule"] == rec["convergence_rule"] == "loss_below_tol"
    assert np.all(ds["sq_norm"].values > 0)


def test_slice_refine_prints_and_records_the_measured_error(tmp_path, capsys):
    out = tmp_path / "s.zarr"
    rc = _run(["nn", "slice", "--dataset", "digits", "--width", "4", "--grid", "20,12",
               "--iters", "30", "--range", "0,60,0,60", "--tol", "1e-3", "--workers", "1",
               "--refine", "2", "--quiet", "--out", str(out)])
    assert rc == 0
    from gdchaos import open_store

    ds = open_store(out)
    assert ds.attrs["refine_pixels"] == 240 and "computed" in ds
    rc = _run(["nn", "slice", "--dataset", "digits", "--width", "4", "--grid", "20,12",
               "--iters", "30", "--range", "0,60,0,60", "--tol", "1e-3", "--workers", "1",
               "--refine", "2", "--out", str(out)])
    assert rc == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(s.startswith("refined: ") and "of 240 pixels computed" in s for s in lines)
    with pytest.raises(GdchaosInputError, match="--refine-check needs --refine"):
        _run(["nn", "slice", "--dataset", "digits", "--grid", "4", "--refine-check", "0.5",
              "--out", str(tmp_path / "x.zarr")])


def test_an_nn_map_store_records_its_command_and_a_rerun_the_new_one(tmp_path, monkeypatch):
    """As basin and map stores do (issue 22): the command that made the store, less --out; a
    rerun with more steps records that command with the new value."""
    from gdchaos import cli, open_store

    monkeypatch.chdir(tmp_path)
    assert cli.main(["nn", "map", "--grid", "6", "--iters", "20", "--out", "a.zarr",
                     "--quiet"]) == 0
    assert open_store("a.zarr").attrs["command"] == "gdchaos nn map --grid 6 --iters 20 --quiet"
    assert cli.main(["rerun", "a.zarr", "--out", "b.zarr", "--iters", "30", "--quiet"]) == 0
    assert open_store("b.zarr").attrs["command"] == "gdchaos nn map --grid 6 --iters 30 --quiet"
