"""End to end: a real headless Chromium (Debian's, driven by Playwright) against `gdchaos explore`.

Opens the page, zooms three times into the convergence boundary with the mouse wheel, checks
that the displayed map (the pixels of the Bokeh image, read from the page) equals the engine's
map for that window, clicks a point and sees its trajectory, changes eta and sees the map
change, reopens the view from its URL, saves a screenshot, and checks that the pages asked
nothing of any host but the server (loopback): every resource is served locally.
"""

import json
import os
import shutil
import time
import urllib.parse

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

FRAME_JS = """() => {
  let fig = null;
  for (const d of Bokeh.documents) for (const m of d._all_models.values())
    if (m.type && m.type.includes('Figure') && m.x_range && m.renderers.length > 1) fig = m;
  const walk = (v) => { if (v.model === fig) return v;
    for (const c of (v.child_views || [])) { const r = walk(c); if (r) return r; } return null; };
  let v = null; for (const r of Bokeh.index.roots) { v = walk(r); if (v) break; }
  const bb = v.frame.bbox, cr = v.canvas_view.el.getBoundingClientRect();
  return {left: cr.left + bb.x0, top: cr.top + bb.y0, width: bb.width, height: bb.height,
          xr: [fig.x_range.start, fig.x_range.end], yr: [fig.y_range.start, fig.y_range.end]};
}"""
IMAGE_JS = """() => {
  for (const d of Bokeh.documents) for (const m of d._all_models.values())
    if (m.data && m.data.image && m.data.image[0].shape && m.data.image[0].length > 16) {
      const im = m.data.image[0];
      return {shape: im.shape, values: Array.from(im), x: m.data.x[0], y: m.data.y[0],
              dw: m.data.dw[0], dh: m.data.dh[0]}; }
  return null;
}"""


@pytest.fixture(scope="module")
def server(explore_url):
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        pytest.skip("chromium is not installed (apt-get install -y chromium); the explorer's "
                    "browser test needs Debian's /usr/bin/chromium")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (test extra)")
    return explore_url


def _outside(url, server):
    """A request that leaves the server (loopback) and the page itself (data:, blob:)."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme in ("data", "blob", "about"):
        return False
    return parsed.hostname not in ("127.0.0.1", "localhost", "::1")


def _meta(page):
    return json.loads(page.locator("#gdchaos-view").get_attribute("data-view"))


def _wait_view(page, predicate, timeout=25):
    t0 = time.time()
    while time.time() - t0 < timeout:
        meta = _meta(page)
        img = page.evaluate(IMAGE_JS)
        if predicate(meta) and img and abs(img["x"] - meta["x0"]) <= 1e-12 * max(
                1.0, abs(meta["x0"])) and img["shape"] == [meta["ny"], meta["nx"]]:
            return meta, img
        time.sleep(0.2)
    raise AssertionError(f"the view did not update within {timeout} s: {_meta(page)}")


def _engine_status(meta):
    import gdchaos as gc

    st = meta["state"]
    prob = gc.QuotientMap(y=float(st.get("y", 0.5)), lam=float(st.get("lam", 0.2)))
    grid = gc.Slice2D.axes(2, tuple(meta["xs"]), tuple(meta["ys"]), meta["nx"], meta["ny"])
    cfg = gc.RunConfig(eta=float(st.get("eta", 1.0)), max_iter=int(st.get("iters", 200)),
                       tol=float(st.get("tol", 1e-10)), div_threshold=float(st.get("div", 1e8)))
    return np.asarray(gc.basin(prob, grid, config=cfg, records=[]).status)


def _boundary_pixel(status):
    """A pixel near the centre where converged meets diverged."""
    ny, nx = status.shape
    conv = status == 1
    edge = np.zeros_like(conv)
    edge[:, 1:] |= conv[:, 1:] != conv[:, :-1]
    edge[1:, :] |= conv[1:, :] != conv[:-1, :]
    edge &= (status == 1) | (status == 2)
    edge[:ny // 6] = edge[-ny // 6:] = False
    edge[:, :nx // 6] = edge[:, -nx // 6:] = False
    j, i = np.nonzero(edge)
    k = np.argmin((j - ny / 2) ** 2 + (i - nx / 2) ** 2)
    return j[k], i[k]


def test_explore_in_chromium(server, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        requests = []
        page = browser.new_page(viewport={"width": 1300, "height": 1150})
        page.on("request", lambda r: requests.append(r.url))
        page.goto(server)
        page.wait_for_selector("#gdchaos-view", state="attached", timeout=30000)
        meta, img = _wait_view(page, lambda m: True)
        widths = [meta["x1"] - meta["x0"]]
        for _ in range(3):  # zoom into the boundary, three times
            status = np.array(img["values"]).reshape(img["shape"])
            j, i = _boundary_pixel(status)
            fr = page.evaluate(FRAME_JS)
            px = fr["left"] + (i + 0.5) * fr["width"] / meta["nx"]
            py = fr["top"] + fr["height"] - (j + 0.5) * fr["height"] / meta["ny"]
            page.mouse.move(px, py)
            old = meta["x0"], meta["x1"]
            for _ in range(4):
                page.mouse.wheel(0, -240)
                time.sleep(0.05)
            meta, img = _wait_view(page, lambda m, old=old: (m["x0"], m["x1"]) != old)
            meta, img = _wait_view(page, lambda m: True)  # settled on the latest range
            widths.append(meta["x1"] - meta["x0"])
        assert widths[-1] < widths[0] / 2, widths
        # the displayed pixels are the engine's map of that window
        shown = np.array(img["values"]).reshape(img["shape"])
        assert img["dw"] == pytest.approx(meta["x1"] - meta["x0"], rel=1e-9)
        expected = np.clip(_engine_status(meta), 0, 4).astype(float)
        assert shown.shape == expected.shape
        assert np.array_equal(shown, expected), f"{np.mean(shown != expected):.4f} differ"
        assert 0 < np.mean(expected == 1) < 1  # the boundary is in the window

        # click a point: its trajectory appears
        fr = page.evaluate(FRAME_JS)
        page.mouse.click(fr["left"] + fr["width"] * 0.5, fr["top"] + fr["height"] * 0.5)
        page.wait_for_selector("#gdchaos-trajectory", timeout=20000)
        text = page.locator("#gdchaos-trajectory").inner_text()
        assert "steps" in text and any(s in text for s in ("converged", "diverged", "undecided"))

        # change eta: the map changes
        before = shown
        box = page.locator(".gdchaos-eta input")
        box.fill("0.8")
        box.press("Enter")
        meta2, img2 = _wait_view(page, lambda m: m["state"].get("eta") == "0.8")
        shown2 = np.array(img2["values"]).reshape(img2["shape"])
        assert not np.array_equal(shown2, before)
        assert np.array_equal(shown2, np.clip(_engine_status(meta2), 0, 4))

        # the URL carries the state: a new page opens the same view
        page2 = browser.new_page(viewport={"width": 1300, "height": 1150})
        page2.on("request", lambda r: requests.append(r.url))
        page2.goto(server + meta2["url"])
        page2.wait_for_selector("#gdchaos-view", state="attached", timeout=30000)
        meta3, _ = _wait_view(page2, lambda m: m["state"].get("eta") == "0.8")
        assert meta3["state"] == meta2["state"]

        shot = tmp_path / "explore.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10000
        out = os.environ.get("GDCHAOS_EXPLORE_SCREENSHOT")
        if out:
            shutil.copy(shot, out)
        browser.close()
    # every resource (scripts, stylesheets, fonts) came from the server itself
    assert requests and not [u for u in requests if _outside(u, server)], \
        sorted({u for u in requests if _outside(u, server)})
