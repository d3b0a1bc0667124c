"""``gdchaos explore STORE`` in a real headless Chromium (Debian's, through Playwright): a map
store and an nn map store open, zoom three times (each image the store's run over the window
the page reports), and two clicks give two points' own runs."""

import json
import socket
import time

import numpy as np
import pytest

import gdchaos as gc
from gdchaos import cli
from gdchaos.explore import StoreView

from test_browser import ARGS, CHROMIUM  # noqa: F401 - the same browser
from test_browser_page import MAP_IMAGE_JS, _click, _until, _zoom

MAP = ["map", "--problem", "scalar", "--y", "1", "--x-axis", "eta_u:log:1e-2,1e1",
       "--y-axis", "eta_v:log:1e-2,1e1", "--init", "1.5,0.3", "--grid", "40", "--iters", "60",
       "--quiet"]
NN_MAP = ["nn", "map", "--grid", "12", "--iters", "20", "--quiet"]


@pytest.fixture(scope="module")
def browser(server):  # noqa: F811 - test_browser's server fixture: skips without chromium
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


from test_browser import server  # noqa: E402,F401 - the skip rules of the browser tests


def _serve(store):
    from gdchaos.explore import serve

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return serve(port=port, threaded=True, store=str(store)), f"http://127.0.0.1:{port}/"


def _meta(page):
    return json.loads(page.locator("#gdchaos-view").get_attribute("data-view"))


@pytest.mark.parametrize("args", [MAP, NN_MAP], ids=["map", "nn map"])
def test_a_store_opens_zooms_and_clicks_in_the_browser(tmp_path, browser, args):
    if args is NN_MAP:
        pytest.importorskip("torch")
    src = tmp_path / "s.zarr"
    assert cli.main([*args, "--out", str(src)]) == 0
    view = StoreView(src)
    srv, url = _serve(src)
    try:
        page = browser.new_page(viewport={"width": 1000, "height": 1100})
        page.goto(url)
        page.wait_for_selector("#gdchaos-view", state="attached", timeout=60000)
        m = _until(page, lambda: _meta(page), timeout=60)
        mixed = []
        for k, (fx, fy) in enumerate([(0.5, 0.5), (0.4, 0.6), (0.6, 0.4)]):
            before = m["computed"]
            _zoom(page, fx, fy, clicks=1)
            m = _until(page, lambda: (lambda q: q if q["computed"] > before else None)(
                _meta(page)), timeout=60)
            assert m, f"zoom {k}: no new map"
            time.sleep(1.0)  # the last wheel event's map
            m = _meta(page)
            want = view.compute(tuple(m["window"]), m["nx"], m["ny"]).status
            shown = _until(page, lambda: (lambda v: v if v and len(v) == want.size else None)(
                page.evaluate(MAP_IMAGE_JS)["values"]), timeout=30)
            # Bokeh's image rows run from the bottom: the store's row order
            img = np.asarray(shown, float).reshape(m["ny"], m["nx"])
            mixed.append(len(np.unique(img)) > 1)
            assert np.array_equal(img, np.clip(want, 0, 4).astype(float)), f"zoom {k}"
            assert m["command"].startswith(f"gdchaos rerun {src}")
        assert any(mixed), "every zoom showed one status: the comparison has no teeth"
        texts = []
        for fx, fy in [(0.3, 0.3), (0.7, 0.7)]:
            _click(page, fx, fy)
            t = _until(page, lambda: (lambda loc: loc.inner_text() if loc.count() and
                                      loc.inner_text() not in texts else None)(
                page.locator("#gdchaos-point")), timeout=30)
            assert t and ("converged" in t or "diverged" in t or "undecided" in t
                          or "saddle" in t or "outside" in t), t
            texts.append(t)
        assert len(set(texts)) == 2
    finally:
        srv.stop()
