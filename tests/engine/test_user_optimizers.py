"""Users' optimizers (``--optimizer path.py:Class``, ``gdchaos.OptimizerDef``): defined once,
run by every backend; user files with the built-ins' arithmetic give the built-ins' maps bit
for bit; every bad definition is one line naming its file and line, before anything is
written."""

import hashlib
import importlib.util
import textwrap

import numpy as np
import pytest
import xarray as xr

import gdchaos as gc
from gdchaos.cli import main
from gdchaos.engine.hypermap import run_optimizer
from gdchaos.engine.optim import Optimizer, reference_run

HAS_TORCH = importlib.util.find_spec("torch") is not None
BACKENDS = ["numba"] + (["torch"] if HAS_TORCH else [])

MINE = '''
from gdchaos import Hyper, OptimizerDef
from gdchaos.engine.optimizers import sign


class MyGD(OptimizerDef):
    @staticmethod
    def update(x, x_prev, g, eta):
        return x - eta * g

    @staticmethod
    def threshold():
        return 2.0

    @staticmethod
    def step_test():
        return False


class MyHB(OptimizerDef):
    hyper = {"beta": Hyper(0.5, "momentum", 0.0, 1.0, hi_open=True)}

    @staticmethod
    def update(x, x_prev, g, eta, beta):
        return x - eta * g + beta * (x - x_prev)

    @staticmethod
    def threshold(beta):
        return 2.0 + 2.0 * beta

    @staticmethod
    def step_test(beta):
        return beta != 0.0


class Lion(OptimizerDef):
    hyper = {"b1": Hyper(0.9, "interpolation", 0.0, 1.0),
             "b2": Hyper(0.99, "momentum decay", 0.0, 1.0)}
    state = {"m": 0.0}

    @staticmethod
    def update(x, x_prev, g, eta, m, b1, b2):
        c = b1 * m + (1.0 - b1) * g
        return x - eta * sign(c), b2 * m + (1.0 - b2) * g
'''


@pytest.fixture
def mine(tmp_path, monkeypatch):
    (tmp_path / "mine.py").write_text(MINE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _digest(path):
    with xr.open_zarr(path, consolidated=False) as ds:
        return {k: hashlib.sha256(np.ascontiguousarray(ds[k].values).tobytes()).hexdigest()
                for k in ("status", "iterations", "final_loss", "score", "params")}


def _map(out, *extra):
    argv = ["map", "--problem", "scalar", "--grid", "14", "--keep-params", "--out", out,
            "--quiet", *extra]
    assert main(argv) == 0
    return _digest(out)


@pytest.mark.parametrize("backend", BACKENDS)
def test_user_gd_and_heavy_ball_reproduce_the_builtins_bit_for_bit(mine, backend):
    axes = ["--x-axis", "eta_u:log:0.01,2", "--y-axis", "eta_v:log:0.01,2"]
    b = ["--backend", backend]
    assert _map("gd.zarr", *axes, *b) == _map("mygd.zarr", "--optimizer", "mine.py:MyGD",
                                               *axes, *b)
    hb = ["--x-axis", "eta:log:0.01,2", "--y-axis", "momentum:lin:0,0.95"]
    mhb = ["--x-axis", "eta:log:0.01,2", "--y-axis", "beta:lin:0,0.95"]
    assert _map("hb.zarr", "--optimizer", "heavy_ball", *hb, *b) == \
        _map("myhb.zarr", "--optimizer", "mine.py:MyHB", *mhb, *b)
    # a fixed hyperparameter by --opt-param: the built-in's --momentum
    axes = ["--x-axis", "eta_u:log:0.01,2", "--y-axis", "eta_v:log:0.01,2"]
    assert _map("hb2.zarr", "--optimizer", "heavy_ball", "--momentum", "0.3", *axes, *b) == \
        _map("myhb2.zarr", "--optimizer", "mine.py:MyHB", "--opt-param", "beta=0.3", *axes, *b)
    with xr.open_zarr("myhb.zarr", consolidated=False) as ds:
        assert ds.attrs["convergence_rule"] == "loss_below_tol_and_stable"


def test_lion_backends_agree_with_the_numpy_reference(mine):
    lion = gc.Optimizer("mine.py:Lion", eta=0.01, params={"b1": 0.8})
    problem = gc.ScalarFactorization(d=2, y=1.0)
    X0 = np.random.default_rng(0).standard_normal((5, 4))
    ref = reference_run(problem, lion, X0, 30)
    for backend in BACKENDS:
        res = run_optimizer(problem, X0, lion, backend=backend, max_iter=30, tol=1e-300,
                            gtol=0.0, div_threshold=1e300)
        np.testing.assert_allclose(res["params"], ref, rtol=1e-12, atol=1e-14)
    # the sign step: every coordinate moves by exactly eta on the first step
    init, update = lion.pair(problem.param_groups, 4)
    s = update(init(X0), problem.grad(X0))
    np.testing.assert_allclose(np.abs(s.x - X0), 0.01, rtol=1e-12)
    assert lion.stop_rule == "loss_below_tol_and_still"
    assert lion.hyper_values() == {"b1": 0.8, "b2": 0.99}


def test_python_class_and_rerun(mine):
    import sys

    sys.path.insert(0, str(mine))
    try:
        from mine import Lion  # noqa: PLC0415 - the user's module
    finally:
        sys.path.pop(0)
    opt = gc.Optimizer(Lion, eta=0.02)
    assert opt.kind.endswith("mine.py:Lion") and opt.kind.startswith("/")
    argv = ["--optimizer", "mine.py:Lion", "--x-axis", "eta:log:0.001,0.5", "--y-axis",
            "b2:lin:0.5,0.99"]
    first = _map("lion.zarr", *argv)
    assert main(["rerun", "lion.zarr", "--out", "again.zarr", "--quiet"]) == 0
    assert _digest("again.zarr") == first


BAD = {
    "signature": ('''
        class Bad(OptimizerDef):
            hyper = {"b": Hyper(0.5, "b")}

            @staticmethod
            def update(x, g, eta, b):
                return x - eta * g
        ''', "update must take (x, x_prev, g, eta, b), got (x, g, eta, b)"),
    "global": ('''
        import numpy as np

        class Bad(OptimizerDef):
            @staticmethod
            def update(x, x_prev, g, eta):
                return x - eta * np.tanh(g)
        ''', "it uses the global 'np'"),
    "returns": ('''
        class Bad(OptimizerDef):
            state = {"m": 0.0}

            @staticmethod
            def update(x, x_prev, g, eta, m):
                return x - eta * g
        ''', "update must return a tuple of 2"),
    "method": ('''
        class Bad(OptimizerDef):
            def update(self, x, x_prev, g, eta):
                return x - eta * g
        ''', "update must be a @staticmethod"),
    "raises": ('''
        class Bad(OptimizerDef):
            @staticmethod
            def update(x, x_prev, g, eta):
                return x - eta * g[7]
        ''', "in Bad.update: IndexError"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_definitions_are_one_line_before_anything_is_written(tmp_path, monkeypatch,
                                                                 capsys, case):
    text, msg = BAD[case]
    (tmp_path / "bad.py").write_text("from gdchaos import Hyper, OptimizerDef\n"
                                     + textwrap.dedent(text))
    monkeypatch.chdir(tmp_path)
    rc = main(["map", "--problem", "scalar", "--optimizer", "bad.py:Bad", "--x-axis",
               "eta:log:0.01,1", "--y-axis", "eta_u:log:0.01,1", "--grid", "4", "--out",
               "o.zarr"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert msg in err and "bad.py, line" in err, err
    assert not (tmp_path / "o.zarr").exists()


@pytest.mark.parametrize("argv,msg", [
    (["--optimizer", "mine.py:Lion", "--opt-param", "b3=1"], "has no hyperparameter 'b3'"),
    (["--optimizer", "mine.py:Lion", "--opt-param", "b1=2"], "b1 must be in [0, 1], got 2"),
    (["--optimizer", "mine.py:Lion", "--momentum", "0.5"], "takes its hyperparameters as params"),
    (["--optimizer", "heavy_ball", "--opt-param", "momentum=0.5"], "not params"),
    (["--optimizer", "mine.py:Nope"], "Nope is not a subclass of gdchaos.OptimizerDef"),
    (["--optimizer", "sgd"], "optimizer must be one of gd, heavy_ball"),
    (["--optimizer", "mine.py:Lion", "--y-axis", "b2:lin:0.5,1.5"], "axis b2 must be in [0, 1]"),
])
def test_bad_optimizer_flags(mine, capsys, argv, msg):
    base = {"--x-axis": "eta:log:0.01,1", "--y-axis": "eta_u:log:0.01,1"}
    for k in list(base):
        if k in argv:
            base.pop(k)
    rc = main(["map", "--problem", "scalar", "--grid", "4", "--out", "o.zarr", *argv,
               *[t for kv in base.items() for t in kv]])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and msg in err and len(err.splitlines()) == 1, err
    assert not (mine / "o.zarr").exists()
