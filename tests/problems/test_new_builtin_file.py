"""A new built-in problem is one new file: a copy of the package with only
``problems/ring.py`` added (a problem with its own option ``radius``) runs it through
``basin``, ``map``, ``--help`` and the explorer's state, with no other file touched."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import gdchaos

RING = '''
"""Scalar factorization with its target named ``radius`` (a test's new built-in problem)."""

from dataclasses import dataclass

from ._base import Option
from .scalar import ScalarFactorization


@dataclass(frozen=True)
class Ring(ScalarFactorization):
    radius: float = 1.0
    name = "ring"
    OPTIONS = {"radius": Option("number", "the ring's radius (default 1)"),
               "lam": ScalarFactorization.OPTIONS["lam"]}

    def __post_init__(self):
        object.__setattr__(self, "y", float(self.radius))
        super().__post_init__()

    def params(self):
        return dict(super().params(), problem="ring", radius=float(self.radius))
'''

SCRIPT = '''
import contextlib, io, json
from gdchaos import cli
from gdchaos.explore._state import PROBLEMS, make_problem, state_from_query
from gdchaos.explore._view import reproduce

out = {}
for name, argv in {
        "basin": ["basin", "--problem", "ring", "--radius", "2", "--eta", "0.1", "--grid", "8",
                  "--iters", "50", "--out", "r.zarr", "--json"],
        "map": ["map", "--problem", "ring", "--radius", "2", "--x-axis", "eta:log:1e-2,1",
                "--y-axis", "lam:lin:0,0.5", "--grid", "6", "--iters", "30", "--out",
                "m.zarr", "--json"]}.items():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = cli.main(argv)
    out[name] = [rc, json.loads(buf.getvalue())["problem"]]
buf = io.StringIO()
with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
    cli.main(["basin", "--help"])
out["help"] = buf.getvalue()
st = state_from_query({"problem": "ring", "radius": "2"})
out["explore"] = [list(PROBLEMS), make_problem(st).params(), reproduce(st, 8, 8)[0],
                  st.to_query()]
print(json.dumps(out))
'''


def test_a_new_builtin_problem_is_one_file(tmp_path):
    pkg = tmp_path / "pkg"
    src = Path(gdchaos.__file__).resolve().parent
    shutil.copytree(src, pkg / "gdchaos", ignore=shutil.ignore_patterns("__pycache__"))
    (pkg / "gdchaos" / "problems" / "ring.py").write_text(textwrap.dedent(RING))
    added = {p.relative_to(pkg / "gdchaos") for p in (pkg / "gdchaos").rglob("*.py")} - \
        {p.relative_to(src) for p in src.rglob("*.py")}
    assert added == {Path("problems/ring.py")}
    env = dict(os.environ, PYTHONPATH=str(pkg))
    res = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    for name in ("basin", "map"):
        rc, problem = out[name]
        assert rc == 0 and problem["problem"] == "ring" and problem["radius"] == 2.0
    assert "ring: the ring's radius" in out["help"]
    problems, params, command, query = out["explore"]
    assert "ring" in problems and params["radius"] == 2.0
    assert "--problem ring" in command and "--radius 2" in command
    assert query["radius"] == "2"
