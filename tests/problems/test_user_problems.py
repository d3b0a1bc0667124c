"""Users' own problems, both routes, through the Python API, `gdchaos basin` and a measure.

The problem: three-factor scalar factorization ``L(u, v, w) = 1/2 (u v w - y)^2``, written once
as Numba-compilable Python and once as a PyTorch loss, in a file of the test's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import gdchaos
from gdchaos import GdchaosInputError, load_problem

SOURCE = textwrap.dedent('''
    import numpy as np
    from gdchaos import NumbaProblem, TorchProblem


    class ThreeFactor(NumbaProblem):
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


    class ThreeFactorTorch(TorchProblem):
        name = "three-factor"
        n_params = 3

        def __init__(self, y=1.0):
            self.y = float(y)

        def torch_loss(self, x):
            return 0.5 * (x[0] * x[1] * x[2] - self.y) ** 2


    class WrongGradient(ThreeFactor):
        @staticmethod
        def loss_grad(x, c, g):
            r = x[0] * x[1] * x[2] - c[0]
            g[0] = r * x[1]
            g[1] = r * x[0] * x[2]
            g[2] = r * x[0] * x[1]
            return 0.5 * r * r


    class NaNStart(ThreeFactorTorch):
        def torch_loss(self, x):
            return (x[0] * x[1] * x[2] - self.y).log()


    class NotAProblem:
        pass
''')


@pytest.fixture(scope="module")
def mine(tmp_path_factory):
    path = tmp_path_factory.mktemp("user") / "mine.py"
    path.write_text(SOURCE)
    return path


def _X(n=4000, seed=0):
    return np.random.default_rng(seed).uniform(-2.0, 2.0, size=(n, 3))


def _brute_force(X, eta, iters, y=1.0):
    """Plain NumPy GD for the three-factor loss (the oracle)."""
    X = X.copy()
    with np.errstate(all="ignore"):
        for _ in range(iters):
            r = X[:, 0] * X[:, 1] * X[:, 2] - y
            G = np.stack([r * X[:, 1] * X[:, 2], r * X[:, 0] * X[:, 2], r * X[:, 0] * X[:, 1]], 1)
            X = X - eta * G
    return X


def test_numba_route_matches_brute_force_gd(mine):
    p = load_problem(f"{mine}:ThreeFactor", {"y": 1.0})
    X0 = _X()
    res = gdchaos.run_points(p, X0, eta=0.6, max_iter=400, tol=1e-12, keep_params=True)
    fr = res.fractions()
    assert fr["converged"] > 0.3 and fr["diverged"] > 0.05  # both outcomes occur
    ref = _brute_force(X0, 0.6, 400)
    conv = res.status == gdchaos.CONVERGED
    # every converged run ends on u v w = y, where plain GD from the same start also ends
    r = np.prod(ref[conv], axis=1) - 1.0
    assert np.all(np.abs(r) < 1e-5)
    div = res.status == gdchaos.DIVERGED
    assert np.all(~np.isfinite(np.prod(ref[div], axis=1)) | (np.abs(ref[div]).max(1) > 1e3))


def test_numba_and_torch_routes_agree(mine):
    pytest.importorskip("torch")
    pn = load_problem(f"{mine}:ThreeFactor", {"y": 1.0})
    pt = load_problem(f"{mine}:ThreeFactorTorch", {"y": 1.0})
    X0 = _X(3000, 1)
    a = gdchaos.run_points(pn, X0, eta=0.6, max_iter=400, tol=1e-12)
    b = gdchaos.run_points(pt, X0, eta=0.6, max_iter=400, tol=1e-12, backend="torch")
    assert a.status.size == 3000
    assert np.mean(a.status == b.status) >= 0.999
    np.testing.assert_allclose(pn.grad(X0[:50]), pt.grad(X0[:50]), rtol=1e-12, atol=1e-12)
    # torch route runs on the numba backend only with a Numba definition: one clear error
    with pytest.raises(GdchaosInputError, match="no Numba definition"):
        gdchaos.run_points(pt, X0[:5], eta=0.6, max_iter=10)


def test_wrong_user_problems_are_refused_before_the_run(mine):
    with pytest.raises(GdchaosInputError, match="gradient does not match the loss"):
        gdchaos.run_points(load_problem(f"{mine}:WrongGradient"), _X(10), eta=0.1, max_iter=5)
    pytest.importorskip("torch")
    with pytest.raises(GdchaosInputError, match="NaN or infinite at the start"):
        gdchaos.run_points(load_problem(f"{mine}:NaNStart"), -np.abs(_X(10)), eta=0.1,
                           max_iter=5, backend="torch")
    with pytest.raises(GdchaosInputError, match="not a gdchaos Problem"):
        load_problem(f"{mine}:NotAProblem")
    with pytest.raises(GdchaosInputError, match="takes no parameter|unexpected keyword|failed"):
        load_problem(f"{mine}:ThreeFactor", {"z": 2.0})


def _cli(*args, check=True):
    r = subprocess.run([sys.executable, "-m", "gdchaos.cli", *args], capture_output=True,
                       text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_cli_basin_and_a_measure_on_a_user_problem(mine, tmp_path):
    pytest.importorskip("torch")
    common = ["basin", "--param", "y=1", "--eta", "0.6", "--grid", "40", "--iters", "400",
              "--tol", "1e-12", "--seed", "3", "--range=-2,2,-2,2", "--json"]
    a = json.loads(_cli(*common, "--problem", f"{mine}:ThreeFactor",
                        "--out", str(tmp_path / "n.zarr")).stdout)
    b = json.loads(_cli(*common, "--problem", f"{mine}:ThreeFactorTorch", "--backend", "torch",
                        "--out", str(tmp_path / "t.zarr")).stdout)
    sn = np.asarray(gdchaos.open_store(tmp_path / "n.zarr").status)
    st = np.asarray(gdchaos.open_store(tmp_path / "t.zarr").status)
    assert sn.shape == (40, 40) and a["problem"]["problem"] == "three-factor"
    assert np.mean(sn == st) >= 0.999
    assert 0.05 < a["fractions"]["converged"] < 0.95
    assert abs(a["fractions"]["converged"] - b["fractions"]["converged"]) <= 0.001
    u = json.loads(_cli("uncertainty", "--problem", f"{mine}:ThreeFactor", "--param", "y=1",
                        "--eta", "0.6", "--iters", "300", "--box=-2,2", "--points", "400",
                        "--eps-range", "1e-1,1e-3", "--n-eps", "3", "--json").stdout)
    assert "alpha" in json.dumps(u)
    bad = _cli("basin", "--problem", f"{mine}:ThreeFactor", "--y", "1", "--eta", "0.6",
               "--grid", "4", "--out", str(tmp_path / "x.zarr"), check=False)
    assert bad.returncode == 2 and "--param" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "x.zarr").exists()
