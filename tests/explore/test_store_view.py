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


def test_the_store_page_zooms_and_clicks_with_the_recorded_run(tmp_path):
    """``gdchaos explore STORE``'s page without a browser: three zooms, each map the
    StoreView's of that window and the store of its reproduce command; two clicks, each that
    point's own run."""
    pytest.importorskip("panel", reason="the explorer needs the 'explore' extra")
    from gdchaos.explore._store_page import StorePage

    src = _made(tmp_path, MAP, "m.zarr")
    page = StorePage(StoreView(src), frame=(120, 100))
    w = page.window
    for k, f in enumerate([(0.1, 0.9, 0.1, 0.9), (0.2, 0.6, 0.3, 0.8), (0.3, 0.4, 0.5, 0.6)]):
        z = _zoom(w, f)
        page._image(x_range=z[:2], y_range=z[2:])
        assert not page.alert.visible and page.window == z
        assert np.array_equal(page.map.status, page.view.compute(z, page.nx, page.ny).status)
        argv = shlex.split(page.command.value)[1:]
        argv[argv.index("view.zarr")] = str(tmp_path / f"v{k}.zarr")
        assert cli.main(argv) == 0
        assert np.array_equal(np.asarray(gc.open_store(tmp_path / f"v{k}.zarr").status.values),
                              page.map.status)
    texts = []
    for x, y in [(-1.5, -1.5), (0.5, 0.8)]:  # log10 eta_u, log10 eta_v
        page._on_tap(x, y)
        assert not page.alert.visible
        texts.append(page.point.object)
        one = gc.hyper_map(gc.ScalarFactorization(d=1, y=1.0),
                           gc.Axis("eta_u", 10 ** x, np.nextafter(10 ** x, np.inf), log=True),
                           gc.Axis("eta_v", 10 ** y, np.nextafter(10 ** y, np.inf), log=True),
                           grid=1, init=[1.5, 0.3], max_iter=50)
        name = gc.STATUS_NAMES[int(one.status.values.ravel()[0])]
        assert f"<b>{name}</b> after {int(one.iterations.values.ravel()[0])} steps" in texts[-1]
    assert texts[0] != texts[1]
    shown = page.window
    page._image(x_range=(1.0, 0.0), y_range=(0.0, 1.0))  # a broken window: one line, kept map
    assert page.alert.visible and "x0 &lt; x1" in page.alert.object and page.window == shown


def test_explore_store_refuses_in_one_line_before_serving(tmp_path):
    import subprocess
    import sys

    src = _made(tmp_path, MAP, "m.zarr")
    for args, words in [([str(tmp_path / "none.zarr")], "no store at"),
                        ([str(src), "--eta", "1"], "--eta set a problem's view")]:
        r = subprocess.run([sys.executable, "-m", "gdchaos.cli", "explore", *args, "--port", "0"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and words in r.stderr, r.stderr


def test_a_served_store_page_shows_its_map(tmp_path):
    """``gdchaos explore STORE``'s server (in a thread): the page of the store is served."""
    pytest.importorskip("panel", reason="the explorer needs the 'explore' extra")
    import socket
    import urllib.request

    from gdchaos.explore import serve

    src = _made(tmp_path, BASIN, "b.zarr")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = serve(port=port, threaded=True, store=str(src))
    try:
        page = ""
        for _ in range(100):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
                break
            except OSError:
                import time

                time.sleep(0.1)
        assert b"gdchaos explore" in page and b"bokeh" in page.lower()
    finally:
        server.stop()


def test_a_user_problems_store_opens_as_a_view(tmp_path, monkeypatch):
    """A store of a user's problem (``--problem mine.py:Class``): its view is its run, the file
    loaded as the recorded command named it (from the folder the command ran in)."""
    from test_rerun import MINE

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.py").write_text(MINE)
    args = ["basin", "--problem", "mine.py:ThreeFactor", "--param", "y=0.7", "--eta", "0.6",
            "--grid", "8", "--range=-2,2,-2,2", "--iters", "30", "--quiet"]
    src = _made(tmp_path, args, "u.zarr")
    v = StoreView(src)
    assert np.array_equal(v.compute(v.window, v.nx, v.ny).status,
                          np.asarray(gc.open_store(src).status.values))
    m = v.compute(_zoom(v.window), 6, 5)
    argv = shlex.split(m.command)[1:]
    argv[argv.index("view.zarr")] = str(tmp_path / "view.zarr")
    assert cli.main(argv) == 0
    assert np.array_equal(np.asarray(gc.open_store(tmp_path / "view.zarr").status.values),
                          m.status)
