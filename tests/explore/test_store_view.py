"""A store as an explorer view (``gdchaos.explore.StoreView``, no browser): the recorded run of
a basin, map or nn map store over any window, and the ``gdchaos rerun`` command whose store
equals the view's pixels."""

import shlex

import numpy as np
import pytest

import gdchaos as gc
from gdchaos import cli
from gdchaos.explore import StoreView

MAP = ["map", "--problem", "scalar", "--y", "1", "--x-axis", "eta_u:log:1e-2,1e1",
       "--y-axis", "eta_v:log:1e-2,1e1", "--init", "1.5,0.3", "--grid", "16", "--iters", "50",
       "--quiet"]
BASIN = ["basin", "--problem", "scalar", "--d", "1", "--y", "1", "--eta", "0.9", "--grid", "12",
         "--range=-2,2,-2,2", "--iters", "60", "--quiet"]
NN_MAP = ["nn", "map", "--grid", "4", "--iters", "8", "--quiet"]


def _made(tmp_path, args, name):
    path = tmp_path / name
    assert cli.main([*args, "--out", str(path)]) == 0
    return path


def _zoom(w, f=(0.2, 0.6, 0.3, 1.0)):
    return (w[0] + (w[1] - w[0]) * f[0], w[0] + (w[1] - w[0]) * f[1],
            w[2] + (w[3] - w[2]) * f[2], w[2] + (w[3] - w[2]) * f[3])


@pytest.mark.parametrize("args, log", [(MAP, (True, True)), (BASIN, (False, False)),
                                       (NN_MAP, (True, True))], ids=["map", "basin", "nn map"])
def test_a_store_view_is_its_recorded_run_over_the_window(tmp_path, args, log):
    if args is NN_MAP:
        pytest.importorskip("torch")
    src = _made(tmp_path, args, "s.zarr")
    v = StoreView(src)
    assert v.log == log
    stored = np.asarray(gc.open_store(src).status.values)
    full = v.compute(v.window, v.nx, v.ny)  # the store's own window: the store's pixels
    assert np.array_equal(full.status, stored)
    w = _zoom(v.window)
    m = v.compute(w, 9, 7)
    assert m.status.shape == (7, 9)
    argv = shlex.split(m.command)[1:]  # the reproduce command writes the view's pixels
    argv[argv.index("view.zarr")] = str(tmp_path / "view.zarr")
    assert cli.main(argv) == 0
    assert np.array_equal(np.asarray(gc.open_store(tmp_path / "view.zarr").status.values),
                          m.status)
    # and they are that window's, not the store's: the centres are inside the zoom
    assert w[0] < m.xs[0] < m.xs[-1] < w[1] and w[2] < m.ys[0] < m.ys[-1] < w[3]


def test_store_views_refuse_in_one_line(tmp_path):
    with pytest.raises(gc.GdchaosInputError, match="no store at"):
        StoreView(tmp_path / "none.zarr")
    v = StoreView(_made(tmp_path, BASIN, "b.zarr"))
    with pytest.raises(gc.GdchaosInputError, match="x0 < x1"):
        v.compute((1.0, 0.0, 0.0, 1.0), 4, 4)
