"""Command-line registration of the analysis commands (gdchaos._cli.analysis)."""

import argparse
import json

import numpy as np
import pytest

from gdchaos._cli import analysis as cli
from gdchaos.errors import GdchaosInputError

COMMANDS = ["dimension", "uncertainty", "basin-entropy", "wada", "lyapunov", "entropy",
            "periodic-orbits", "branches", "convergence-study"]


def parser():
    p = argparse.ArgumentParser(prog="gdchaos")
    sub = p.add_subparsers(dest="command")
    cli.register(sub)
    return p, sub


def run(argv, capsys):
    """Like gdchaos.cli.main: GdchaosInputError -> exit code 2."""
    p, _ = parser()
    args = p.parse_args(argv)
    try:
        code = args.func(args)
    except GdchaosInputError as exc:
        return 2, "", str(exc)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_every_command_registered_with_examples_json_quiet():
    _, sub = parser()
    for name in COMMANDS:
        sp = sub.choices[name]
        assert "examples" in (sp.epilog or "") and "gdchaos " + name in sp.epilog
        opts = {o for a in sp._actions for o in a.option_strings}
        assert {"--json", "--quiet"} <= opts, name
        assert callable(sp.get_default("func"))


@pytest.mark.parametrize("argv,key", [
    (["dimension", "--n", "600", "--json", "--quiet"], "paper"),
    (["uncertainty", "--points", "20000", "--eps-range", "1e-1,1e-3", "--n-eps", "3",
      "--json", "--quiet"], "alpha"),
    (["basin-entropy", "--n", "300", "--scaling", "--json", "--quiet"], "Sbb"),
    (["wada", "--problem", "scalar", "--y", "0.5", "--lam", "0.2", "--n", "300", "--steps",
      "100", "--outcome", "status+sign", "--json", "--quiet"], "W"),
    (["lyapunov", "--grid", "30", "--steps", "20", "--json", "--quiet"], "n_finite"),
    (["entropy", "--map", "boundary", "--n-max", "8", "--json"], "entropy"),
    (["periodic-orbits", "--periods", "1,5,12", "--gd", "--d", "3", "--json"], "orbits"),
    (["branches", "--n", "500", "--json", "--quiet"], "invariance"),
    (["convergence-study", "--resolutions", "300,600", "--json", "--quiet"], "rows"),
])
def test_commands_json(argv, key, capsys):
    code, out, err = run(argv, capsys)
    assert code == 0, err
    obj = json.loads(out)
    assert key in obj


def test_text_output_and_values(capsys):
    code, out, _ = run(["entropy", "--map", "tent3", "--n-max", "10"], capsys)
    assert code == 0 and "h = 1.098612" in out
    code, out, _ = run(["dimension", "--method", "paper", "--json", "--quiet"], capsys)
    assert abs(json.loads(out)["paper"]["dimension"] - 1.249) < 0.03
    code, out, _ = run(["periodic-orbits", "--periods", "3"], capsys)
    assert code == 0 and "verified" in out and "NOT" not in out


def test_pngs(tmp_path, capsys):
    for argv in (["dimension", "--n", "500", "--quiet", "--png", str(tmp_path / "d.png")],
                 ["branches", "--n", "500", "--quiet", "--png", str(tmp_path / "b.png")]):
        code, _, err = run(argv, capsys)
        assert code == 0, err
    assert (tmp_path / "d.png").stat().st_size > 1000 and (tmp_path / "b.png").exists()


def test_labels_file(tmp_path, capsys):
    xs = np.linspace(-1, 1, 200)
    X, Y = np.meshgrid(xs, xs)
    L = (np.floor((np.arctan2(Y, X) + np.pi) / (2 * np.pi / 3)) % 3).astype(np.int16)
    np.save(tmp_path / "l.npy", L)
    code, out, _ = run(["wada", "--labels", str(tmp_path / "l.npy"), "--json"], capsys)
    assert code == 0 and json.loads(out)["is_wada"] is False


@pytest.mark.parametrize("argv", [
    ["uncertainty", "--eps-range", "1,2"],
    ["dimension", "--n", "2"],
    ["periodic-orbits", "--gd", "--y", "2"],
    ["periodic-orbits", "--periods", "4", "--word", "1010"],
    ["wada", "--n", "100"],  # the quotient map has two outcomes
    ["entropy", "--map", "logistic", "--r", "5"],
    ["lyapunov", "--eta", "-1"],
    ["basin-entropy", "--labels", "/nonexistent/x.npy"],
    ["dimension", "--points", "/nonexistent/p.npy"],
])
def test_bad_input_is_one_clear_line(argv, capsys):
    p, _ = parser()
    args = p.parse_args(argv)
    with pytest.raises(GdchaosInputError) as e:
        args.func(args)
    assert "\n" not in str(e.value)
