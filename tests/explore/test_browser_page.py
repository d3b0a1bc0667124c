"""The page's behaviour in a real headless Chromium (Debian's, through Playwright): clicks after
zooms and edits, the clicked point for colour ``distance``, the legend and hover of each
colouring, a view the work bound refuses, deep zoom past float64 (switch to double-double,
never a NaN range, zooming out recovers) and the "computing" state."""

import json
import time

import numpy as np
import pytest

from test_browser import ARGS, CHROMIUM, IMAGE_JS, server  # noqa: F401 - same browser, server

MAP_JS = """() => {
  let fig = null;
  for (const d of Bokeh.documents) for (const m of d._all_models.values())
    if (m.type && m.type.includes('Figure') && m.renderers.some(r => r.glyph &&
        r.glyph.type === 'Image')) fig = m;
  const walk = (v) => { if (v.model === fig) return v;
    for (const c of (v.child_views || [])) { const r = walk(c); if (r) return r; } return null; };
  let v = null; for (const r of Bokeh.index.roots) { v = walk(r); if (v) break; }
  const bb = v.frame.bbox, cr = v.canvas_view.el.getBoundingClientRect();
  const bars = fig.right.filter(m => m.type === 'ColorBar');
  const busy = fig.center.filter(m => m.name === 'gdchaos-busy');
  const hover = fig.toolbar.tools.filter(t => t.type === 'HoverTool').map(t => t.tooltips);
  return {left: cr.left + bb.x0, top: cr.top + bb.y0, width: bb.width, height: bb.height,
          xr: [fig.x_range.start, fig.x_range.end], yr: [fig.y_range.start, fig.y_range.end],
          xlabel: fig.below.find(m => m.type.includes('Axis')).axis_label,
          ylabel: fig.left.find(m => m.type.includes('Axis')).axis_label,
          bar: bars.length ? {title: bars[0].title,
                              labels: Object.fromEntries(bars[0].major_label_overrides)} : null,
          busy: busy.length ? busy[0].visible : null, hover: hover};
}"""

MAP_IMAGE_JS = """() => {
  let out = null;
  for (const d of Bokeh.documents) for (const m of d._all_models.values())
    if (m.type && m.type.includes('Figure')) for (const r of m.renderers)
      if (r.glyph && r.glyph.type === 'Image') out = Array.from(r.data_source.data.image[0]);
  return {values: out};
}"""


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def open_page(browser, server):
    pages = []

    def _open(query=""):
        page = browser.new_page(viewport={"width": 1300, "height": 1150})
        pages.append(page)
        page.goto(server + query)
        page.wait_for_selector("#gdchaos-view", state="attached", timeout=30000)
        return page

    yield _open
    for page in pages:
        page.close()


def _meta(page):
    return json.loads(page.locator("#gdchaos-view").get_attribute("data-view"))


def _until(page, predicate, timeout=25):
    t0 = time.time()
    while time.time() - t0 < timeout:
        got = predicate()
        if got:
            return got
        time.sleep(0.15)
    raise AssertionError(f"not within {timeout} s: {_meta(page)}")


def _image_shown(page):
    """The window of the image the page shows equals the page's state window."""
    m, img = _meta(page), page.evaluate(IMAGE_JS)
    return img is not None and m["nx"] and img["shape"] == [m["ny"], m["nx"]] and abs(
        img["x"] - m["x0"]) <= 1e-9 * max(abs(m["x1"] - m["x0"]), 1e-300)


def _click(page, fx, fy):
    fr = page.evaluate(MAP_JS)
    page.mouse.click(fr["left"] + fr["width"] * fx, fr["top"] + fr["height"] * fy)


def _trajectory(page):
    loc = page.locator("#gdchaos-trajectory")
    return loc.inner_text() if loc.count() else ""


def _zoom(page, fx, fy, clicks=4, dy=-240):
    fr = page.evaluate(MAP_JS)
    page.mouse.move(fr["left"] + fr["width"] * fx, fr["top"] + fr["height"] * fy)
    for _ in range(clicks):
        page.mouse.wheel(0, dy)
        time.sleep(0.05)


def test_every_click_shows_its_trajectory_and_keeps_the_point(open_page):
    page = open_page()
    _until(page, lambda: _image_shown(page))
    seen = []
    for k, (fx, fy) in enumerate([(0.5, 0.5), (0.4, 0.45), (0.55, 0.6)]):
        before = _trajectory(page)
        _click(page, fx, fy)
        text = _until(page, lambda b=before: _trajectory(page) != b and _trajectory(page))
        seen.append(text)
        st = _meta(page)["state"]
        assert "px" in st and "py" in st  # the click stored the point (URL included)
        assert f"{float(st['px']):.6g}" in text
        if k == 0:  # zoom, then click again
            old = _meta(page)["x0"]
            _zoom(page, 0.5, 0.5)
            _until(page, lambda o=old: _meta(page)["x0"] != o and _image_shown(page))
        if k == 1:  # change eta, then click again
            box = page.locator(".gdchaos-eta input")
            box.fill("0.8")
            box.press("Enter")
            _until(page, lambda: _meta(page)["state"].get("eta") == "0.8" and _image_shown(page))
    assert len(set(seen)) == 3, seen
    # colour by distance to the stored point: the map changes, its colour bar says so
    page.locator(".gdchaos-color select").select_option("distance")
    _until(page, lambda: _meta(page)["state"].get("color") == "distance" and _image_shown(page))
    fr = page.evaluate(MAP_JS)
    assert fr["bar"]["title"].startswith("distance")
    img = page.evaluate(MAP_IMAGE_JS)
    vals = np.array([np.nan if v is None else v for v in img["values"]], dtype=float)
    assert np.nanmax(vals) > np.nanmin(vals) >= 0


def test_colour_bars_and_hover_name_the_colouring(open_page):
    page = open_page()
    _until(page, lambda: _image_shown(page))
    fr = page.evaluate(MAP_JS)
    assert fr["bar"]["title"] == "status"
    assert set(fr["bar"]["labels"].values()) == {"undecided", "converged", "diverged", "saddle",
                                                 "outside"}
    tips = [t[0] for t in fr["hover"][0]]
    assert tips == [fr["xlabel"], fr["ylabel"], "status"] and "z" not in tips[2:]
    page.locator(".gdchaos-color select").select_option("iterations")
    _until(page, lambda: page.evaluate(MAP_JS)["bar"]["title"].startswith("iterations"))
    fr = page.evaluate(MAP_JS)
    assert "[steps]" in fr["bar"]["title"] and fr["bar"]["labels"] == {}
    assert [t[0] for t in fr["hover"][0]][2] == "iterations"


def test_a_view_over_the_work_bound_says_why(open_page):
    page = open_page("?problem=deep&iters=20000")
    alert = page.get_by_text("Not computed:")
    _until(page, lambda: alert.count() and alert.first.is_visible())
    text = alert.first.inner_text()
    assert "too much work" in text and "lower the iterations" in text
    assert _meta(page)["error"]


def test_deep_zoom_switches_to_double_double_and_zooming_out_recovers(open_page):
    c, w = 1.2806248474865698, 4.724695047554424
    h = 2e-13
    page = open_page(f"?x0={c - h!r}&x1={c + h!r}&y0={w - h!r}&y1={w + h!r}")
    _until(page, lambda: _image_shown(page))
    for _ in range(4):  # far past float64: a wheel notch zooms by about 10%
        _zoom(page, 0.5, 0.5, clicks=10)
        time.sleep(0.5)
    m = _until(page, lambda: _meta(page)["state"].get("precision") == "dd" and _image_shown(page)
               and _meta(page))
    assert "double-double" in (m["notice"] or "") or m["x1"] - m["x0"] < 1e-15
    fr = page.evaluate(MAP_JS)
    assert all(np.isfinite(fr["xr"] + fr["yr"])) and fr["xr"][0] < fr["xr"][1]
    assert "offset" in fr["xlabel"]  # dd axes: offsets from the stated anchor
    assert page.locator(".gdchaos-precision select").input_value() == "dd"
    width = m["x1"] - m["x0"]
    _zoom(page, 0.5, 0.5, clicks=10, dy=240)  # out again
    m2 = _until(page, lambda: _meta(page)["x1"] - _meta(page)["x0"] > 2 * width
                and _image_shown(page) and _meta(page))
    assert m2["error"] is None


def test_a_deep_zoom_without_a_dd_kernel_stops_with_a_message(open_page):
    h = 1e-12
    page = open_page(f"?problem=scalar&x0={0.5 - h!r}&x1={0.5 + h!r}&y0={0.5 - h!r}"
                     f"&y1={0.5 + h!r}")
    _until(page, lambda: _image_shown(page))
    for _ in range(3):
        _zoom(page, 0.5, 0.5, clicks=10)
        time.sleep(0.5)
    m = _until(page, lambda: (_meta(page)["notice"] or "").startswith("zoom stopped")
               and _meta(page))
    assert "no double-double" in page.locator("#gdchaos-notice").inner_text()
    fr = page.evaluate(MAP_JS)
    assert all(np.isfinite(fr["xr"] + fr["yr"])) and fr["xr"][0] < fr["xr"][1]
    assert m["x1"] - m["x0"] > 0


def test_computing_state_shows_until_the_new_image_arrives(open_page):
    page = open_page("?iters=3000")
    _until(page, lambda: _image_shown(page))
    assert page.evaluate(MAP_JS)["busy"] is False
    old = _meta(page)["x0"]
    _zoom(page, 0.5, 0.5, clicks=2)
    # the label shows before the server answers (polled in the page every 10 ms)
    assert page.evaluate("""async (js) => { const f = eval(js);
      for (let i = 0; i < 300; i++) { if (f().busy) return true;
        await new Promise(r => setTimeout(r, 10)); } return false; }""", MAP_JS)
    _until(page, lambda: _meta(page)["x0"] != old and _image_shown(page))
    _until(page, lambda: page.evaluate(MAP_JS)["busy"] is False)
