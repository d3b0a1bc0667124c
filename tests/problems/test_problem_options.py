"""A problem's command-line options are declared once, by the problem (``OPTIONS``): every
command that takes a problem gets a flag for each, and a new built-in problem's option works
everywhere without touching the command line (issue 19).  Flags are never abbreviated, so a
one-letter option cannot be read as a prefix of another flag."""

import json
from dataclasses import dataclass

import pytest

import gdchaos as gc
from gdchaos import cli
from gdchaos.problems import BUILTIN, Option, registry


@dataclass(frozen=True)
class Ring(gc.ScalarFactorization):
    """Scalar factorization with its target named ``r``: a stand-in for a new built-in problem
    with an option of its own."""

    radius: float = 1.0
    name = "ring"
    OPTIONS = {"radius": Option("number", "the ring's radius (default 1)"),
               "lam": gc.ScalarFactorization.OPTIONS["lam"]}

    def __post_init__(self):
        object.__setattr__(self, "y", float(self.radius))
        super().__post_init__()

    def params(self):
        return dict(super().params(), problem="ring", radius=float(self.radius))


@pytest.fixture
def ring(monkeypatch):
    monkeypatch.setitem(BUILTIN, "ring", Ring)
    return Ring


def test_every_builtin_declares_its_options():
    opts = registry.problem_options()
    assert set(opts) == {"d", "y", "Y", "k"}
    assert [n for n, _ in opts["y"][1]] == ["quotient", "scalar"]
    assert opts["d"][0] == "int" and opts["Y"][0] == "matrix"


def test_a_new_problem_option_is_a_flag_of_basin_map_and_explore(ring, tmp_path, capsys):
    rc = cli.main(["basin", "--problem", "ring", "--radius", "2", "--eta", "0.1", "--grid", "8",
                   "--iters", "50", "--out", str(tmp_path / "r.zarr"), "--json"])
    assert rc == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["problem"]["radius"] == 2.0 and rec["problem"]["problem"] == "ring"
    rc = cli.main(["map", "--problem", "ring", "--radius", "2", "--x-axis", "eta:log:1e-2,1",
                   "--y-axis", "lam:lin:0,0.5", "--grid", "6", "--iters", "30",
                   "--out", str(tmp_path / "m.zarr"), "--json"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["problem"]["radius"] == 2.0
    parser = cli.build_parser()
    args = parser.parse_args(["explore", "--problem", "ring", "--radius", "2"])
    assert args.problem == "ring" and args.radius == "2"
    assert "ring: the ring's radius" in parser._subparsers._group_actions[0].choices[
        "basin"].format_help()


def test_an_option_another_problem_has_is_refused_naming_who_has_it(ring, tmp_path, capsys):
    rc = cli.main(["basin", "--problem", "scalar", "--radius", "2", "--eta", "0.1", "--grid",
                   "4", "--out", str(tmp_path / "s.zarr")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "--radius is not an option of --problem scalar (it applies to ring)" in err
    assert not (tmp_path / "s.zarr").exists()


def test_no_abbreviations(tmp_path, capsys):
    """``--ran`` is not ``--range`` (a typo is an error, not another flag), so a problem's
    option ``--r`` could never be read as a prefix of ``--range`` or ``--records``."""
    with pytest.raises(SystemExit) as e:
        cli.main(["basin", "--problem", "scalar", "--eta", "0.1", "--ran", "-1,1,-1,1",
                  "--png", str(tmp_path / "a.png")])
    assert e.value.code == 2
    assert "unrecognized arguments: --ran" in capsys.readouterr().err


def test_two_problems_must_read_one_option_alike(monkeypatch):
    @dataclass(frozen=True)
    class Odd(Ring):
        name = "odd"
        OPTIONS = {"d": Option("number", "a different d")}

    monkeypatch.setitem(BUILTIN, "odd", Odd)
    with pytest.raises(TypeError, match="option 'd'"):
        registry.problem_options()
