"""Users' problem files that are malformed, or well-formed but defined only where their user runs
them (issue 18): every failure is one line naming the user's file, class, method and line, before
anything is written; what the docs allow (``math`` in ``loss_grad``, user problems on ``gdchaos
map``, a loss defined only on the user's own window) works.

The malformed files are the fuzz's ``tests/fuzz_cases/problems/*.py`` (its cases:
``tests/fuzz_cases/user_problems.txt``); the well-formed ones are written here.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

import gdchaos
from gdchaos import GdchaosInputError, load_problem
from gdchaos.cli import main

FILES = Path(__file__).resolve().parents[1] / "fuzz_cases" / "problems"

GOOD = textwrap.dedent('''
    import math

    import numpy as np
    from gdchaos import NumbaProblem


    class Sine(NumbaProblem):
        """L = 1/2 sin(u)^2 + 1/2 v^2, written with math (the docs allow np and math)."""
        n_params = 2

        @staticmethod
        def loss_grad(x, c, g):
            s = math.sin(x[0])
            g[0] = s * math.cos(x[0])
            g[1] = x[1]
            return 0.5 * s * s + 0.5 * x[1] * x[1]


    class AboveOne(NumbaProblem):
        """Defined only for u, v > 1: L = 1/2 (log(u - 1)^2 + log(v - 1)^2)."""
        n_params = 2

        @staticmethod
        def loss_grad(x, c, g):
            a = np.log(x[0] - 1.0)
            b = np.log(x[1] - 1.0)
            g[0] = a / (x[0] - 1.0)
            g[1] = b / (x[1] - 1.0)
            return 0.5 * (a * a + b * b)


    class ThreeFactor(NumbaProblem):
        """The example of docs/problems.md."""
        name = "three-factor"
        n_params = 3
        default_window = (-2.0, 2.0, -2.0, 2.0)

        def __init__(self, y=1.0):
            self.y = float(y)

        def consts(self):
            return np.array([self.y])

        @staticmethod
        def loss_grad(x, c, g):
            r = x[0] * x[1] * x[2] - c[0]
            g[0] = r * x[1] * x[2]
            g[1] = r * x[0] * x[2]
            g[2] = r * x[0] * x[1]
            return 0.5 * r * r


    class RaisesPastThree(NumbaProblem):
        """Raises where u > 3 (a domain error of the user's)."""
        n_params = 2

        @staticmethod
        def loss_grad(x, c, g):
            if x[0] > 3.0:
                raise ValueError("u > 3 is outside the model")
            g[0] = x[0]
            g[1] = x[1]
            return 0.5 * (x[0] * x[0] + x[1] * x[1])
''')


@pytest.fixture
def good(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "good.py").write_text(GOOD)
    return tmp_path


def _refused(capsys, argv):
    rc = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def _listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if "__pycache__" not in p.parts)


# ------------------------------------------------------------------ one line with file and line
@pytest.mark.parametrize("name,where", [
    ("init_raises", "init_raises.py, line 10, in Bad.__init__: RuntimeError"),
    ("init_sys_exit", "init_sys_exit.py, line 10, in Bad.__init__: SystemExit"),
    ("consts_raises", "consts_raises.py, line 9, in Bad.consts: AttributeError"),
    ("n_params_property_raises", "n_params_property_raises.py, line 8, in Bad.n_params"),
    ("n_params_negative", "n_params_negative.py, line 6, in Bad: n_params must be"),
    ("n_params_float", "n_params_float.py, line 6, in Bad: n_params must be"),
    ("n_params_string", "n_params_string.py, line 6, in Bad: n_params must be"),
    ("n_params_none", "n_params_none.py, line 6, in Bad: n_params must be"),
    ("loss_grad_global", "loss_grad_global.py, line 12, in Bad.loss_grad: it uses the global"),
    ("loss_grad_not_static", "loss_grad_not_static.py, line 8, in Bad: loss_grad must be a "
                             "@staticmethod"),
    ("loss_grad_missing", "loss_grad_missing.py, line 5, in Bad: defines no loss_grad"),
    ("loss_grad_raises", "loss_grad_raises.py, line 12, in Bad.loss_grad"),
    ("loss_grad_returns_array", "loss_grad_returns_array.py, line 8, in Bad.loss_grad: it must "
                                "return the loss"),
    ("loss_grad_not_numba", "loss_grad_not_numba.py, line 10, in Bad.loss_grad: Numba cannot"),
    ("min_value_nan", "min_value_nan.py, line 7, in Bad: min_value must be a finite number"),
    ("import_sys_exit", "importing import_sys_exit.py failed (line 6): SystemExit"),
])
def test_errors_in_a_users_file_name_file_class_method_and_line(name, where, tmp_path,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / f"{name}.py").write_text((FILES / f"{name}.py").read_text())
    with pytest.raises(GdchaosInputError) as info:
        load_problem(f"{name}.py:Bad")
    msg = str(info.value)
    assert "\n" not in msg and where in msg, msg


def test_errors_at_the_points_name_the_line_of_the_users_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, word in [("loss_grad_zero_division", "line 8, in Bad.loss_grad: ZeroDivisionError"),
                       ("loss_grad_index_error", "line 12, in Bad.loss_grad: IndexError")]:
        (tmp_path / f"{name}.py").write_text((FILES / f"{name}.py").read_text())
        p = load_problem(f"{name}.py:Bad")  # nothing wrong until it runs at a point
        with pytest.raises(GdchaosInputError, match=f"{name}.py, {word}"):
            gdchaos.run_points(p, np.ones((4, 2)), eta=0.1, max_iter=5)


def test_a_keyboard_interrupt_in_a_users_file_is_not_swallowed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ki.py").write_text("raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        load_problem("ki.py:Bad")


def test_min_value_above_the_losses_reached_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.py").write_text((FILES / "min_value_too_high.py").read_text())
    p = load_problem("m.py:Bad")
    with pytest.raises(GdchaosInputError, match="below min_value = 100: min_value must be"):
        gdchaos.run_points(p, np.ones((4, 2)), eta=0.1, max_iter=5)


def test_a_users_code_raising_mid_run_is_one_line(good):
    """A domain error raised inside the compiled kernel, past the points checked."""
    p = load_problem("good.py:RaisesPastThree")
    X = np.array([[2.9, 0.0]] * 3)
    gdchaos.run_points(p, X, eta=0.1, max_iter=0)  # checked and fine at the start
    with pytest.raises(GdchaosInputError, match=r"good\.py.*RaisesPastThree\.loss_grad"):
        gdchaos.run_points(p, X, eta=3.0, max_iter=5)  # the steps take u past 3


# ------------------------------------------------------------------ what the docs allow works
def test_loss_grad_may_use_math_in_the_kernel(good, capsys):
    assert main(["basin", "--problem", "good.py:Sine", "--eta", "0.5", "--grid", "6",
                 "--iters", "300", "--range=-1,1,-1,1", "--out", "s.zarr", "--quiet"]) == 0
    st = np.asarray(gdchaos.open_store("s.zarr").status)
    assert np.all(st == gdchaos.CONVERGED)


def test_a_loss_defined_only_on_the_users_window_runs_there(good, capsys):
    """Validated at the user's own first grid point, not at a warm-up point of the engine's."""
    assert main(["basin", "--problem", "good.py:AboveOne", "--eta", "0.5", "--grid", "4",
                 "--iters", "300", "--range", "2,4,2,4", "--slice", "axes", "--out", "a.zarr",
                 "--quiet"]) == 0
    cli = np.asarray(gdchaos.open_store("a.zarr").status)
    p = load_problem("good.py:AboveOne")
    ds = gdchaos.basin(p, gdchaos.Slice2D.axes(2, (2, 4), (2, 4), 4), eta=0.5, max_iter=300)
    assert np.all(np.asarray(ds.status) == gdchaos.CONVERGED)
    np.testing.assert_array_equal(cli, np.asarray(ds.status))


def test_the_docs_example_runs_on_gdchaos_map_and_a_lam_axis_is_one_line(good, capsys):
    assert main(["map", "--problem", "good.py:ThreeFactor", "--param", "y=1", "--x-axis",
                 "eta:log:0.01,1", "--y-axis", "init_scale:lin:0.5,1.5", "--grid", "4",
                 "--iters", "50", "--out", "m.zarr", "--quiet"]) == 0
    assert np.asarray(gdchaos.open_store("m.zarr").status).shape == (4, 4)
    line = _refused(capsys, ["map", "--problem", "good.py:ThreeFactor", "--x-axis",
                             "eta:log:0.01,1", "--y-axis", "lam:lin:0,1", "--grid", "4",
                             "--out", "m2.zarr"])
    assert "lam" in line and not Path("m2.zarr").exists()


def test_a_backend_the_problem_lacks_is_refused_before_a_store(good, capsys):
    pytest.importorskip("torch")
    before = _listing(good)
    line = _refused(capsys, ["basin", "--problem", "good.py:Sine", "--eta", "0.1", "--grid", "4",
                             "--iters", "5", "--out", "t.zarr", "--backend", "torch"])
    assert "torch" in line and _listing(good) == before
    p = load_problem("good.py:Sine")
    with pytest.raises(GdchaosInputError, match="no torch definition"):
        gdchaos.basin(p, gdchaos.Slice2D.axes(2, (-1, 1), (-1, 1), 4), eta=0.1, max_iter=5,
                      store="t.zarr", backend="torch")
    assert _listing(good) == before


def test_the_generated_kernel_is_syntax_checked_before_it_is_written(tmp_path, monkeypatch):
    from gdchaos.engine import _kernelgen

    monkeypatch.setenv("GDCHAOS_KERNEL_CACHE", str(tmp_path / "k"))
    with pytest.raises(GdchaosInputError, match="generated kernel of broken is not valid"):
        _kernelgen._module("def _grad(x, consts, lam, g, work:\n    return 0.0, 0.0\n", "broken")
    assert not (tmp_path / "k").exists()
