"""The explorer's server driven by simulated viewers (Bokeh client sessions that pan as BokehJS
does: new ranges and a ``rangesupdate`` event): each pan recomputes the window once and the
image that comes back is the engine's map of it; a burst of range changes ends on the last
window with fewer maps computed than requests (stale ones are dropped)."""

import numpy as np
import pytest

import gdchaos as gc

pytest.importorskip("panel", reason="the explorer needs the 'explore' extra")


def _engine(meta):
    st = meta["state"]
    prob = gc.QuotientMap(y=float(st.get("y", 0.5)), lam=float(st.get("lam", 0.2)))
    grid = gc.Slice2D.axes(2, tuple(meta["xs"]), tuple(meta["ys"]), meta["nx"], meta["ny"])
    cfg = gc.RunConfig(eta=float(st.get("eta", 1.0)), max_iter=int(st.get("iters", 200)),
                       tol=float(st.get("tol", 1e-10)), div_threshold=float(st.get("div", 1e8)))
    return np.clip(np.asarray(gc.basin(prob, grid, config=cfg, records=[]).status), 0, 4)


def test_each_pan_recomputes_and_shows_the_engines_map(explore_url):
    from gdchaos.explore.app import STATS
    from gdchaos.explore.client import Viewer

    v = Viewer(explore_url)
    first = v.meta()["computed"]
    maps0 = STATS["maps"]
    windows = [(-1.0, 1.0, 0.0, 2.0), (-0.8, 1.2, 0.1, 2.1), (-0.3, 0.2, 0.9, 1.4)]
    res = v.run(windows, timeout=60)
    assert res["error"] is None, res["error"]
    assert len(res["latency"]) == 3
    meta = res["meta"]
    assert meta["computed"] == first + 3  # one map per pan, none skipped, none repeated
    assert STATS["maps"] - maps0 >= 3
    assert (meta["x0"], meta["x1"], meta["y0"], meta["y1"]) == windows[-1]
    shown = v.image()  # the image the page received (bottom row first) = the engine's map
    assert np.array_equal(shown, _engine(meta))


def test_a_burst_of_range_changes_ends_on_the_last_window(explore_url):
    from gdchaos.explore.client import Viewer

    v = Viewer(explore_url)
    first = v.meta()["computed"]
    windows = [(-1.0 + 0.01 * i, 1.0 + 0.01 * i, 0.0 + 0.02 * i, 2.0 + 0.02 * i)
               for i in range(12)]
    res = v.run(windows, burst=True, spacing=0.02, timeout=60)
    assert res["error"] is None, res["error"]
    meta = res["meta"]
    assert (meta["x0"], meta["x1"], meta["y0"], meta["y1"]) == windows[-1]
    assert v.shows(windows[-1])
    computed = meta["computed"] - first
    assert 1 <= computed < len(windows)  # stale requests were dropped, the last one shown
