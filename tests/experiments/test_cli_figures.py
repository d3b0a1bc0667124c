"""``gdchaos figure``, ``gdchaos reproduce`` and ``gdchaos extras`` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
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
    # the numbers are measurements of the 40 x 40 grid: D0 is part of the window, Wang's region
    # a strict part of D0, and the engine converges exactly on D0 (Theorem 1)
    n = rec["numbers"]["y=0.3"]
    assert 0.1 < n["D0_area_fraction"] < 0.9 and n["wang_inside_D0_fraction"] == 1.0
    assert 0 < n["wang_to_D0_area_ratio"] < 1
    assert n["engine_agrees_with_D0_outside_saddle_basin"] > 0.99
    assert {f.rsplit(".", 1)[-1] for f in rec["files"]} == {"zarr", "png", "pdf"}
    assert (tmp_path / "fig07.pdf").read_bytes()[:5] == b"%PDF-"
    # the PNG shows both regions: light blue D0 and red Wang et al. over a white background
    from PIL import Image

    im = np.asarray(Image.open(tmp_path / "fig07.png").convert("RGB")).astype(int)
    assert im.shape[0] > 400 and im.shape[1] > 400
    r, g, b = im[..., 0], im[..., 1], im[..., 2]
    blue = np.mean((b > r + 40) & (b > 150))
    red = np.mean((r > g + 80) & (r > b + 60))
    white = np.mean(im.min(axis=-1) > 245)
    assert blue > 0.05 and red > 0.02 and 0.1 < white < 0.9, (blue, red, white)


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    for args in (["figure", "14"], ["figure", "3", "--set", "nope=1"],
                 ["figure", "3", "--preset", "huge"],
                 ["reproduce", "--figures", "2,99", "--out", str(tmp_path)],
                 ["reproduce", "--figures", "7", "--set", "grid=3", "--out", str(tmp_path)],
                 ["reproduce", "--figures", "7", "--set", "8:grid=3", "--out", str(tmp_path)],
                 ["extras", "--only", "spiral", "--out", str(tmp_path)],
                 ["extras", "--only", "trainability", "--set", "trainability:gird=3",
                  "--out", str(tmp_path / "e")],
                 ["extras", "--only", "trainability", "--set", "trainability:grid=x",
                  "--out", str(tmp_path / "e")],
                 ["extras", "--only", "trainability", "--set", "lam:grid=3",
                  "--out", str(tmp_path / "e")],
                 ["extras", "--only", "trainability", "--set", "grid=3",
                  "--out", str(tmp_path / "e")]):
        r = gd(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.count("\n") == 1 and "error" in r.stderr, r.stderr
    assert not (tmp_path / "e").exists()  # refused before anything is written


def test_extras_settings_override_the_preset():
    """``gdchaos extras --set trainability:grid=512`` is ``settings(...)`` in Python: text values
    in the preset's types."""
    from gdchaos.experiments.extras import PRESETS, settings

    s = settings("tiny", "trainability", {"grid": "24", "refine": "1", "conditions": '["tanh"]'})
    assert s["grid"] == 24 and s["refine"] == 1 and s["conditions"] == ["tanh"]
    assert {k: v for k, v in s.items() if k not in ("grid", "refine", "conditions")} == {
        k: v for k, v in PRESETS["tiny"]["trainability"].items()
        if k not in ("grid", "refine", "conditions")}


def test_reproduce_subset_writes_report(tmp_path):
    r = gd("reproduce", "--preset", "tiny", "--figures", "7", "--set", "7:grid=30",
           "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "[ 1/1] figure  7 (tiny) done" in r.stdout
    html = (tmp_path / "report.html").read_text()
    assert "Theorem 1 (critical step size)" in html and "not run" in html
    rec = json.loads((tmp_path / "fig07.json").read_text())
    assert rec["params"]["grid"] == 30
    # the report's claims as data: those of figure 7 evaluated, the others not run
    claims = {c["id"]: c for c in json.loads((tmp_path / "claims.json").read_text())["claims"]}
    assert claims["thm1_critical_step"]["verdict"] == "agrees"
    assert claims["thm1_critical_step"]["measured"] == min(
        rec["numbers"][k]["engine_agrees_with_D0_outside_saddle_basin"] for k in ("y=0.3", "y=0.9"))
    assert claims["fractal_dimension"]["verdict"] == "not run"


# ------------------------------------------------------------------------- no CIFAR-10
def test_network_figure_without_cifar_is_drawn_on_the_digits_stand_in(tmp_path, no_cifar_env):
    """``gdchaos figure 4 --preset tiny`` without CIFAR-10 (and no download): exit 0, drawn on
    the digits with step sizes that suit them, labelled in its record; one line on how to get
    the data."""
    env, cwd = no_cifar_env(tmp_path)
    r = subprocess.run([sys.executable, "-m", "gdchaos.cli", "figure", "4", "--preset", "tiny",
                        "--out", "out", "--quiet"], capture_output=True, text=True, timeout=300,
                       env=env, cwd=cwd)
    assert r.returncode == 0, r.stderr
    lines = [s for s in r.stderr.splitlines() if "CIFAR-10" in s]
    assert len(lines) == 1 and "digits" in lines[0] and "GDCHAOS_DATA" in lines[0], r.stderr
    assert "urlopen" not in r.stderr and "Traceback" not in r.stderr
    rec = json.loads((cwd / "out" / "fig04.json").read_text())
    assert rec["numbers"]["data"].startswith("digits stand-in (CIFAR-10 not available: ")
    assert "GDCHAOS_OFFLINE" in rec["numbers"]["data"]
    assert rec["params"]["dataset"] == "digits" and rec["params"]["eta_gd"] == [0.1, 1.2]
    assert rec["numbers"]["standin_settings"] == {"eta_gd": [0.1, 1.2],
                                                  "eta_momentum": [0.02, 0.7], "tol": 1e-4}
    assert (cwd / "out" / "fig04.png").is_file()


@pytest.mark.parametrize("args", [
    ["figure", "4", "--preset", "tiny", "--set", "dataset=cifar10", "--out", "out"],
    ["reproduce", "--preset", "tiny", "--figures", "5,7", "--set", "5:dataset=cifar10",
     "--out", "out"],
    ["figure", "13", "--preset", "tiny", "--set", "dataset=mnist", "--out", "out"],
    ["reproduce", "--preset", "tiny", "--figures", "7,12", "--set", "12:dataset=mnist",
     "--out", "out"]])
def test_cifar10_asked_without_it_is_refused_in_one_line(tmp_path, no_cifar_env, args):
    """``dataset=cifar10`` is CIFAR-10 or nothing: without it, one line naming how to get it,
    exit 2, nothing written (nor for a dataset that does not exist)."""
    env, cwd = no_cifar_env(tmp_path)
    r = subprocess.run([sys.executable, "-m", "gdchaos.cli", *args], capture_output=True,
                       text=True, timeout=300, env=env, cwd=cwd)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("gdchaos: error: figure "), r.stderr
    if "dataset=cifar10" in args[-3]:
        assert "dataset=cifar10 asked but not found in " in r.stderr
        assert "GDCHAOS_DATA" in r.stderr and "GDCHAOS_OFFLINE" in r.stderr
    else:
        assert "must be one of auto, cifar10, digits, got 'mnist'" in r.stderr
    assert not (cwd / "out").exists() and r.stdout == ""
