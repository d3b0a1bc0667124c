"""Issue 18's silent results and messages that the fuzz cases (tests/fuzz_cases) do not cover:
values computed correctly or refused, and warnings never printed before the error line."""

import json
import numpy as np
import pytest

from gdchaos.cli import main


@pytest.mark.parametrize("a", [1e100, 1e154, 1e200])
def test_q_value_does_not_overflow_into_nan(a):
    """Q at huge |u|, |v| is the huge value (or inf past float64), never NaN; so eta* = 8/Q is
    tiny (or 0), never the 1/|y| = 1 that a NaN Q gave."""
    from gdchaos.theory import scalar as th

    q = float(th.q_value([a], [a], 1.0))
    assert not np.isnan(q)
    # Q = w + sqrt(w^2 - 16 y (uv - y)) with w = 2 a^2, uv = a^2: about 2 w = 4 a^2
    exact = 4.0 * a * a if np.isfinite(4.0 * a * a) else np.inf
    assert q == pytest.approx(exact, rel=1e-12)
    assert float(th.eta_star([a], [a], 1.0)) < 1e-199


def test_q_value_unchanged_for_ordinary_points():
    from gdchaos.theory import scalar as th

    u, v, y = np.array([1.2, -0.4]), np.array([0.3, 2.0]), 0.7
    w, uv = u @ u + v @ v, u @ v
    assert th.q_value(u, v, y) == w + np.sqrt(w * w - 16 * y * (uv - y))  # bit for bit


def test_critical_step_huge_inputs_refused_not_wrong(capsys):
    rc = main(["critical-step", "--y", "1", "--u", "1e200", "--v", "1e200", "--json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "overflow" in err[0]
    rc = main(["critical-step", "--y", "1", "--u", "1e70", "--v", "1e70", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["eta_star"] == pytest.approx(8 / (4e140), rel=1e-12)


NOISY = r"""
import sys, warnings
import gdchaos._cli.core as core
real = core.grid_from_args
def noisy(args, problem):
    warnings.warn("a warning on the way", RuntimeWarning)
    return real(args, problem)
core.grid_from_args = noisy
from gdchaos.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_warning_before_a_refusal_is_not_printed(tmp_path):
    """A warning raised while a command checks its input does not precede the one error line
    (in a subprocess: pytest's own warning capture would hide it); a command that runs still
    shows its warnings, at its end."""
    import subprocess
    import sys

    base = ["basin", "--problem", "scalar", "--eta", "0.1", "--grid", "4", "--iters", "3",
            "--quiet"]
    run = [sys.executable, "-c", NOISY]
    r = subprocess.run(run + base + ["--out", "a.zarr", "--points", "1,2,3"], cwd=tmp_path,
                       capture_output=True, text=True)
    err = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(err) == 1 and err[0].startswith("gdchaos: error:"), r.stderr
    r = subprocess.run(run + base + ["--out", "b.zarr"], cwd=tmp_path, capture_output=True,
                       text=True)
    assert r.returncode == 0 and "a warning on the way" in r.stderr, r.stderr
