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
    (["dimension", "--grid", "600", "--json", "--quiet"], "paper"),
    (["uncertainty", "--points", "20000", "--eps-range", "1e-1,1e-3", "--n-eps", "3",
      "--json", "--quiet"], "alpha"),
    (["basin-entropy", "--grid", "300", "--scaling", "--json", "--quiet"], "Sbb"),
    (["wada", "--problem", "scalar", "--y", "0.5", "--lam", "0.2", "--grid", "300", "--iters",
      "100", "--outcome", "status+sign", "--json", "--quiet"], "W"),
    (["lyapunov", "--grid", "30", "--iters", "20", "--json", "--quiet"], "n_finite"),
    (["entropy", "--map", "boundary", "--n-max", "8", "--json"], "entropy"),
    (["periodic-orbits", "--periods", "1,5,12", "--gd", "--d", "3", "--json"], "orbits"),
    (["branches", "--grid", "500", "--json", "--quiet"], "invariance"),
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
    from PIL import Image

    for argv in (["dimension", "--grid", "500", "--quiet", "--png", str(tmp_path / "d.png")],
                 ["branches", "--grid", "500", "--quiet", "--json", "--png",
                  str(tmp_path / "b.png")]):
        code, out, err = run(argv, capsys)
        assert code == 0, err
    assert (tmp_path / "d.png").stat().st_size > 1000
    # b.png: the boundary split into the three branch strips, each drawn in its own colour
    counts = json.loads(out)["decomposition"]
    im = np.asarray(Image.open(tmp_path / "b.png").convert("RGB")).astype(int)
    assert im.shape == (480, 600, 3)  # 5 x 4 inches at 120 dpi
    assert len(np.unique(im.reshape(-1, 3), axis=0)) > 20  # not blank
    for colour in ("#1f77b4", "#ff7f0e", "#2ca02c"):  # tab:blue, orange, green = G0, G1, G2
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        n = np.sum(np.all(np.abs(im - rgb) <= 10, axis=-1))
        assert n > 30, (colour, n)
    c = counts["label_counts"]
    assert len(c) == 3 and min(c) > 0 and sum(c) == counts["n_points"]["boundary"]


def test_labels_file(tmp_path, capsys):
    xs = np.linspace(-1, 1, 200)
    X, Y = np.meshgrid(xs, xs)
    L = (np.floor((np.arctan2(Y, X) + np.pi) / (2 * np.pi / 3)) % 3).astype(np.int16)
    np.save(tmp_path / "l.npy", L)
    code, out, _ = run(["wada", "--labels", str(tmp_path / "l.npy"), "--json"], capsys)
    assert code == 0 and json.loads(out)["is_wada"] is False


@pytest.mark.parametrize("argv", [
    ["uncertainty", "--eps-range", "1,2"],
    ["dimension", "--grid", "2"],
    ["periodic-orbits", "--gd", "--y", "2"],
    ["periodic-orbits", "--periods", "4", "--word", "1010"],
    ["wada", "--grid", "100"],  # the quotient map has two outcomes
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


# ----------------------------------------------------------- issues 18 and 23 (analysis CLI)
USER_PROBLEMS = '''
import numpy as np
from gdchaos import NumbaProblem
from gdchaos.errors import GdchaosInputError


class Logistic(NumbaProblem):
    """GD with eta = 1 on L(x) = 4x^3/3 - 3x^2/2 is the logistic map x -> 4x(1 - x)."""
    name = "logistic-loss"
    n_params = 1
    min_value = -1e9
    default_window = (0.01, 0.99, 0.0, 1.0)

    @staticmethod
    def loss_grad(x, c, g):
        g[0] = 4.0 * x[0] * x[0] - 3.0 * x[0]
        return 4.0 * x[0] ** 3 / 3.0 - 1.5 * x[0] * x[0]


class Quartic(NumbaProblem):
    """GD with eta = 1 on x^4/4: x -> x - x^3, converging to 0 only algebraically."""
    name = "quartic"
    n_params = 1
    default_window = (0.2, 0.6, 0.0, 1.0)

    @staticmethod
    def loss_grad(x, c, g):
        g[0] = x[0] ** 3
        return 0.25 * x[0] ** 4


class Refused(NumbaProblem):
    """Its definition check fails: every command must refuse before computing."""
    n_params = 2

    @staticmethod
    def loss_grad(x, c, g):
        g[0] = x[0]
        g[1] = x[1]
        return 0.5 * (x[0] ** 2 + x[1] ** 2)

    def validate(self, X):
        raise GdchaosInputError(f"refused at {len(X)} points of shape {X.shape}")
'''


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    (tmp_path / "mine.py").write_text(USER_PROBLEMS)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def main_run(argv, capsys):
    from gdchaos.cli import main

    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_lyapunov_one_parameter_user_problem_ln2_in_the_interval(user_dir, capsys):
    code, out, err = main_run(["lyapunov", "--problem", "mine.py:Logistic", "--range",
                               "0.01,0.99", "--grid", "200", "--iters", "2000", "--transient",
                               "100", "--json", "--quiet", "--out", "ftle.npy"], capsys)
    assert code == 0, err
    s = json.loads(out)
    assert s["points"] == "line" and s["n"] == 200 and s["n_finite"] == 200
    assert s["ci"][0] < np.log(2) < s["ci"][1] and abs(s["mean"] - np.log(2)) < 1e-4
    assert s["transient"] == 100 and set(s["quantiles"]) == {"0.05", "0.25", "0.5", "0.75",
                                                             "0.95"}
    assert np.load(user_dir / "ftle.npy").shape == (200,)


def test_lyapunov_transient_changes_a_slowly_converging_estimate(user_dir, capsys):
    means = []
    for tr in ("0", "5000"):
        code, out, err = main_run(["lyapunov", "--problem", "mine.py:Quartic", "--grid", "10",
                                   "--iters", "200", "--transient", tr, "--json", "--quiet"],
                                  capsys)
        assert code == 0, err
        means.append(json.loads(out)["mean"])
    assert means[0] < -0.01 and abs(means[1]) < abs(means[0]) / 10


def test_lyapunov_out_writes_exactly_the_named_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = main_run(["lyapunov", "--grid", "6", "--iters", "5", "--quiet",
                               "--out", "f.npy", "--spectrum", "--json"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.npy"]
    assert np.load(tmp_path / "f.npy").shape == (6, 6, 2)
    s = json.loads(out)
    assert len(s["spectrum"]) == 2 and s["spectrum"][0]["mean"] >= s["spectrum"][1]["mean"]
    code, _, err = main_run(["lyapunov", "--grid", "6", "--iters", "5", "--out", "g.txt"],
                            capsys)
    assert code == 2 and ".npy" in err and not (tmp_path / "g.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.npy"]


@pytest.mark.parametrize("argv", [
    ["lyapunov", "--grid", "4", "--iters", "2"],
    ["uncertainty", "--points", "10", "--box=-1,1", "--n-eps", "2"],
    ["wada", "--grid", "5", "--iters", "3", "--outcome", "status+sign"],
    ["basin-entropy", "--grid", "5", "--iters", "3"],
], ids=["lyapunov", "uncertainty", "wada", "basin-entropy"])
def test_commands_validate_a_user_problem_at_their_points_first(argv, user_dir, capsys,
                                                                monkeypatch):
    import gdchaos.engine

    def boom(*a, **k):
        raise AssertionError("computed before the problem was validated")

    monkeypatch.setattr(gdchaos.engine, "run_points", boom)
    code, _, err = main_run(argv + ["--problem", "mine.py:Refused"], capsys)
    assert code == 2 and "refused at" in err and "Traceback" not in err


def _two_outcome_labels(a, b):
    L = np.full((20, 20), a, dtype=np.int64)
    L[:, 12:] = b
    return L


def test_basin_entropy_keeps_labels_distinct(tmp_path, capsys):
    """70000 and 4464 are two outcomes (an int16 cast made them one: Sb = 0)."""
    got = []
    for a, b in ((0, 1), (4464, 70000), (-1, -1)):
        if a < 0:
            L = _two_outcome_labels(0, 1).astype(float) + 0.0  # integral floats are labels
        else:
            L = _two_outcome_labels(a, b)
        np.save(tmp_path / "l.npy", L)
        code, out, err = run(["basin-entropy", "--labels", str(tmp_path / "l.npy"), "--json"],
                             capsys)
        assert code == 0, err
        got.append(json.loads(out))
    assert got[0]["Sb"] > 0 and got[0]["n_outcomes"] == 2
    assert got[1]["Sb"] == pytest.approx(got[0]["Sb"]) and got[1]["n_outcomes"] == 2
    assert got[2]["Sb"] == pytest.approx(got[0]["Sb"])


def test_labels_from_array_codes():
    from gdchaos.analysis import labels_from_array

    L = np.array([[70000, 4464, -3], [2**40, 4464, 70000]], dtype=np.int64)
    np.testing.assert_array_equal(labels_from_array(L), [[1, 0, -1], [2, 0, 1]])
    u = np.array([[2**63 + 5, 0]], dtype=np.uint64)
    np.testing.assert_array_equal(labels_from_array(u), [[1, 0]])
    for bad, word in ((np.array([[1.0, np.nan]]), "NaN"), (np.array([[0.5, 1.0]]), "integers"),
                      (np.array([["a", "b"]]), "integers"), (-np.ones((2, 2)), "valid"),
                      (np.zeros((2, 2, 2)), "2-D"), (np.zeros((0, 3)), "empty")):
        with pytest.raises(GdchaosInputError, match=word):
            labels_from_array(bad)


def test_entropy_refuses_before_computing(monkeypatch, capsys):
    import gdchaos.analysis as ga

    def boom(*a, **k):
        raise AssertionError("computed before the input was checked")

    monkeypatch.setattr(ga, "map_entropy", boom)
    for argv, word in ((["entropy", "--n-max", "60"], "memory"),
                       (["entropy", "--map", "quotient", "--n-max", "1000"], "--allow-large"),
                       (["entropy", "--alpha", "-1"], "alpha"),
                       (["entropy", "--map", "boundary", "--samples", "10"], "--samples")):
        code, _, err = main_run(argv, capsys)
        assert code == 2 and word in err, err


def test_entropy_alpha_range_in_the_library():
    from gdchaos.analysis import map_entropy

    for a in (-1.0, 1.0, 2.0, float("nan")):
        with pytest.raises(GdchaosInputError, match="alpha"):
            map_entropy("quotient", 3, alpha=a, samples=100)
    r = map_entropy("quotient", 3, alpha=-0.5, samples=2000)  # the mirror image of 0.5
    assert r.counts[0] > 0


def test_periodic_orbits_work_estimate_and_words(capsys):
    from gdchaos.analysis import boundary_periodic_orbit
    from gdchaos.analysis.symbolic import periodic_orbit_cost

    ops, mem = periodic_orbit_cost([100000])
    assert ops > 1e16 and mem < 2**30  # the work, not a K x K table, is what explodes
    for periods in ("1000", "100000"):
        code, _, err = main_run(["periodic-orbits", "--periods", periods], capsys)
        assert code == 2 and "--allow-large" in err
    for w in ("abc", "1.5", "-1", "", [3], [True]):
        with pytest.raises(GdchaosInputError, match="word"):
            boundary_periodic_orbit(3, word=w)
    assert boundary_periodic_orbit(3, word="012").verified
