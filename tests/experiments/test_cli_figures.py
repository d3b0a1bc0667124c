"""``gdchaos figure``, ``gdchaos reproduce`` and ``gdchaos extras`` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def gd(*args):
    return subprocess.run([sys.executable, "-m", "gdchaos.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_figure_with_overrides(tmp_path):
    r = gd("figure", "7", "--preset", "tiny", "--set", "grid=40", "--set", "ys=0.3",
           "--out", str(tmp_path), "--quiet")
    assert r.returncode == 0, r.stderr
    rec = json.loads((tmp_path / "fig07.json").read_text())
    assert rec["params"]["grid"] == 40 and rec["params"]["ys"] == [0.3]
    assert list(rec["numbers"]) == ["eta", "y=0.3"]
    assert (tmp_path / "fig07.png").exists() and (tmp_path / "fig07.pdf").exists()


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    for args in (["figure", "14"], ["figure", "3", "--set", "nope=1"],
                 ["figure", "3", "--preset", "huge"],
                 ["reproduce", "--figures", "2,99", "--out", str(tmp_path)],
                 ["reproduce", "--figures", "7", "--set", "grid=3", "--out", str(tmp_path)],
                 ["reproduce", "--figures", "7", "--set", "8:grid=3", "--out", str(tmp_path)],
                 ["extras", "--only", "spiral", "--out", str(tmp_path)]):
        r = gd(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.count("\n") == 1 and "error" in r.stderr, r.stderr


def test_reproduce_subset_writes_report(tmp_path):
    r = gd("reproduce", "--preset", "tiny", "--figures", "7", "--set", "7:grid=30",
           "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "[ 1/1] figure  7 (tiny) done" in r.stdout
    html = (tmp_path / "report.html").read_text()
    assert "Theorem 1 (critical step size)" in html and "not run" in html
    rec = json.loads((tmp_path / "fig07.json").read_text())
    assert rec["params"]["grid"] == 30
