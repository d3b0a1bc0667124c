"""``gdchaos nn sweep`` / ``gdchaos nn slice`` registered on a stand-alone parser."""

import argparse
import json

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


def test_slice_json(tmp_path, capsys):
    out = tmp_path / "s.zarr"
    rc = _run(["nn", "slice", "--dataset", "digits", "--width", "4", "--grid", "3x4",
               "--iters", "30", "--range", "0,5,0,5", "--tol", "1e-3", "--json", "--quiet",
               "--workers", "1", "--out", str(out)])
    assert rc == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["grid"] == [3, 4] and rec["preset"] == "quick"
    assert set(rec["fractions"]) >= {"converged", "diverged", "undecided"}
    assert rec["seconds"] > 0 and rec["network_steps_per_second"] > 0
    assert rec["outputs"]["store"] == str(out) and (tmp_path / "s.png").is_file()


def test_sweep_json(tmp_path, capsys):
    rc = _run(["nn", "sweep", "--dataset", "digits", "--width", "8", "--n-eta", "3",
               "--iters", "50", "--momentum", "0", "--eta-min", "0.1", "--eta-max", "0.3",
               "--json", "--no-png", "--workers", "1", "--sharpness-every", "10",
               "--out", str(tmp_path / "w.zarr")])
    assert rc == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["arms"][0]["momentum"] == 0.0 and rec["arms"][0]["eta_range"] == [0.1, 0.3]
    assert "png" not in rec["outputs"] and rec["network_steps"] > 0
