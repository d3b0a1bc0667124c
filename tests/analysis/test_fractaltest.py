"""gdchaos.analysis.fractal_test and `gdchaos fractal-test` (issue 23)."""

import json

import numpy as np
import pytest

from gdchaos.analysis.fractaltest import MAX_TEST_PIXELS, fractal_test
from gdchaos.engine import Slice2D, basin, open_store
from gdchaos.errors import GdchaosInputError
from gdchaos.problems import BUILTIN, QuotientMap


@pytest.fixture(scope="module")
def fig3_store(tmp_path_factory):
    # figure 3's quotient map on a small grid (256 x 256; the test refines to 1024 x 1024)
    path = tmp_path_factory.mktemp("ft") / "fig3.zarr"
    win = QuotientMap.default_window
    basin(QuotientMap(y=0.5, lam=0.2), Slice2D.axes(2, win[:2], win[2:], 256), eta=1.0,
          max_iter=200, tol=1e-12, gtol=0.0, records=(), store=str(path))
    return str(path)


@pytest.fixture(scope="module")
def smooth_store(tmp_path_factory):
    # scalar factorization, lam = 0, eta |y| < 1: the region is the analytic set D0 (SPEC 2)
    path = tmp_path_factory.mktemp("ft") / "smooth.zarr"
    basin(BUILTIN["scalar"](d=1, y=1.0, lam=0.0), Slice2D.axes(2, (-4.5, 4.5), (-4.5, 4.5), 256),
          eta=0.5, max_iter=1000, records=(), store=str(path))
    return str(path)


def test_figure3_store_is_fractal(fig3_store):
    r = fractal_test(fig3_store)
    assert r.verdict == "fractal", r.table()
    names = [row["name"] for row in r.rows]
    assert names == ["data x1", "data x2", "data x4", "smooth control", "random control"]
    assert r.row("data x4")["n"] == "1024 x 1024"
    sm = r.row("smooth control")
    assert sm["ci"][0] <= 1 <= sm["ci"][1]
    assert abs(sm["n_boundary"] - r.row("data x4")["n_boundary"]) < 0.02 * sm["n_boundary"]
    assert r.row("random control")["n_boundary"] == r.row("data x4")["n_boundary"]
    assert "verdict: fractal" in r.table()


def test_smooth_basin_is_smooth(smooth_store):
    # the basin of infinity: its boundary is that of D0 (the converged region also holds the
    # saddle's stable line u = -v, a null set of dotted pixels that box counting reads as dust)
    r = fractal_test(open_store(smooth_store), mode="diverged")
    assert r.verdict == "smooth", r.table()
    assert all(row["ci"][0] <= 1 <= row["ci"][1] for row in r.rows[1:3])
    assert r.info["mode"] == "diverged"


def test_bad_input_and_size_guard(fig3_store, tmp_path):
    ds = open_store(fig3_store)
    with pytest.raises(GdchaosInputError):
        fractal_test(ds, levels=(1,))
    with pytest.raises(GdchaosInputError, match="gdchaos_run"):
        fractal_test(ds[["status"]].assign_attrs({}).drop_attrs()
                     if hasattr(ds, "drop_attrs") else object())
    with pytest.raises(GdchaosInputError, match="allow_large"):
        fractal_test(ds, levels=(1, 2, 4, 32))
    assert 4096 ** 2 == MAX_TEST_PIXELS


def _main(monkeypatch, argv):
    from gdchaos.cli import main

    return main(argv)


def test_cli_table_json_and_errors(monkeypatch, capsys, fig3_store, tmp_path):
    assert _main(monkeypatch, ["fractal-test", fig3_store, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "| data x4 | 1024 x 1024 |" in out and "verdict: fractal" in out
    assert _main(monkeypatch, ["fractal-test", fig3_store, "--json", "--quiet"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["verdict"] == "fractal" and len(d["rows"]) == 5
    before = sorted(p.name for p in tmp_path.iterdir())
    rc = _main(monkeypatch, ["fractal-test", str(tmp_path / "missing.zarr")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "error" in err[0] and "Traceback" not in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
