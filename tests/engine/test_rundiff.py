"""A store of other parameters is refused naming what differs; `gdchaos map` and
`gdchaos.hyper_map` share one default step size (issue 22)."""
import os

import numpy as np

import gdchaos as gc
from gdchaos.cli import main
from gdchaos.engine._rundiff import describe_differences, run_differences
from gdchaos.engine.hypermap import Axis, hyper_map
from gdchaos.engine.optim import DEFAULT_ETA, Optimizer

MAP = ["map", "--problem", "scalar", "--y", "1", "--x-axis", "eta_u:log:1e-2,1e1",
       "--y-axis", "eta_v:log:1e-2,1e1", "--init", "1.5,0.3", "--grid", "6", "--iters", "50"]


def _files(path):
    return {os.path.join(d, f): open(os.path.join(d, f), "rb").read()
            for d, _, fs in os.walk(path) for f in fs}


def test_differences_of_nested_dicts():
    a = {"grid": [256, 256], "optimizer": {"eta": 1.0, "kind": "gd"}, "seed": 0, "old": 1}
    b = {"grid": [128, 128], "optimizer": {"eta": 0.1, "kind": "gd"}, "seed": 0, "new": 2}
    assert run_differences(a, b) == [("grid", [256, 256], [128, 128]), ("new", "(absent)", 2),
                                     ("old", 1, "(absent)"), ("optimizer.eta", 1.0, 0.1)]
    assert describe_differences(a, b, limit=2) == \
        "grid: stored [256, 256], asked [128, 128]; new: stored (absent), asked 2; and 2 more"
    assert run_differences({"x": 1}, {"x": 1.0}) == [("x", 1, 1.0)]  # different JSON, hash
    assert describe_differences(a, a) == ""
    long = describe_differences({"d": list(range(50))}, {"d": []})
    assert len(long) < 100 and long.endswith("asked []")


def test_a_store_of_other_parameters_is_refused_naming_them(tmp_path, capsys):
    out = str(tmp_path / "lr.zarr")
    assert main(MAP + ["--out", out]) == 0
    before = _files(out)
    capsys.readouterr()
    assert main(MAP[:-1] + ["60", "--eta", "0.2", "--out", out]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "holds a run with different parameters" in err
    assert "config.max_iter: stored 50, asked 60" in err
    assert "optimizer.eta: stored 0.1, asked 0.2" in err
    assert _files(out) == before


def test_one_default_step_size_for_the_command_and_python(tmp_path):
    """The command's default --eta is Optimizer's: a map written by `gdchaos map` is the one
    `hyper_map` with the default optimizer asks for (reopened, not refused)."""
    assert Optimizer().eta == DEFAULT_ETA
    out = str(tmp_path / "lr.zarr")
    assert main(MAP + ["--out", out]) == 0
    ds = hyper_map(gc.ScalarFactorization(d=1, y=1.0), Axis("eta_u", 1e-2, 10, log=True),
                   Axis("eta_v", 1e-2, 10, log=True), grid=6, init=[1.5, 0.3],
                   max_iter=50, store=out)
    cli = gc.open_store(out)
    assert np.array_equal(ds.status.values, cli.status.values)
    assert cli.attrs["gdchaos_run"] == ds.attrs["gdchaos_run"]
