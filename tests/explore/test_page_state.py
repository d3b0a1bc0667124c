"""The page's state without a browser: widgets = URL = reproduce command = the map shown,
navigation at the float64 and double-double limits, the measured work of double-double maps,
the labelled PNG export."""

import numpy as np
import pytest

from gdchaos.explore import compute_map, state_from_query
from gdchaos.explore._navigate import ULP_PIXELS, navigate
from gdchaos.explore._state import MAX_WORK, make_problem

pn = pytest.importorskip("panel", reason="the explorer needs the 'explore' extra")


def _page(query=None, frame=(120, 100)):
    from gdchaos.explore.app import Explorer

    return Explorer(state_from_query(query or {}), frame=frame)


def test_switching_problem_and_back_keeps_widgets_url_and_command_on_the_map():
    ex = _page()
    ex.widgets["problem"].value = "scalar"
    ex._image(version=ex.version)
    assert ex.widgets["y"].value == "1.0" == repr(make_problem(ex.view.state).y)
    ex.widgets["problem"].value = "quotient"
    ex._image(version=ex.version)
    y = make_problem(ex.view.state).y
    assert float(ex.widgets["y"].value) == y == 0.5
    assert "--y 0.5" in ex.command.value
    assert state_from_query(ex.view.state.to_query()) == ex.view.state  # the URL = the map
    # a refused value: the widget goes back to the map's value, the page says why
    ex.widgets["eta"].value = "-1"
    assert ex.widgets["eta"].value == repr(ex.view.state.eta) and ex.alert.visible


def test_distance_needs_a_click_and_then_colours_by_it():
    ex = _page()
    ex.widgets["color"].value = "distance"
    assert "click the map first" in ex.alert.object and ex.widgets["color"].value == "status"
    ex._on_tap(0.25, 5.0)
    assert (ex.state.px, ex.state.py) == (0.25, 5.0)
    ex.widgets["color"].value = "distance"
    ex._image(version=ex.version)
    v = ex.view
    assert v.state.color == "distance" and np.nanmin(v.values) >= 0
    assert np.nanmax(v.values) > np.nanmin(v.values)


def test_a_refused_first_view_says_why():
    ex = _page({"problem": "deep", "iters": "20000"})
    assert ex.alert.visible and "lower the iterations to at most" in ex.alert.object


def test_navigation_never_keeps_a_broken_window():
    st = state_from_query({})
    for bad in [(np.nan, 1.0, 0.0, 1.0), (1.0, 1.0, 0.0, 1.0), (0.0, np.inf, 0.0, 1.0)]:
        step = navigate(st, bad, 100, 100)
        assert step.state == st and step.push and step.message
    c, w = 1.2806248474865698, 4.724695047554424
    step = navigate(st, (c - 1e-14, c + 1e-14, w - 1e-14, w + 1e-14), 560, 460)
    assert step.state.precision == "dd" and "double-double" in step.message and step.push
    assert step.state.az == c and abs(step.state.x1 - 1e-14) < 1e-16
    sc = state_from_query({"problem": "scalar"})
    step = navigate(sc, (0.5 - 1e-14, 0.5 + 1e-14, 0.5 - 1e-14, 0.5 + 1e-14), 100, 100)
    s2 = step.state
    assert s2.precision == "float64" and "no double-double" in step.message
    assert (s2.x1 - s2.x0) / 100 >= ULP_PIXELS * np.spacing(0.5) * 0.999
    assert navigate(s2, (0.0, 1.0, 0.0, 1.0), 100, 100).state.x1 == 1.0  # zooming out works


def test_dd_recentres_the_anchor_and_stops_where_precision_runs_out():
    dd = state_from_query({"precision": "dd", "az": "1.28", "aw": "4.72", "x0": "-1e-3",
                           "x1": "1e-3", "y0": "-1e-3", "y1": "1e-3"})
    # a window of width 1.3e-15 off the anchor by 0.274: float64 offsets would be blocky
    step = navigate(dd, (0.274, 0.274 + 1.3e-15, 0.1, 0.1 + 1.3e-15), 246, 202)
    s = step.state
    assert "re-centred" in step.message and step.push
    assert abs(s.x0 + s.x1) < 1e-30 and s.az + s.az_lo == pytest.approx(1.28 + 0.274)
    xs = s.x0 + (np.arange(246) + 0.5) * (s.x1 - s.x0) / 246
    assert len(np.unique(xs)) == 246  # every column its own offset
    step = navigate(dd, (-1e-40, 1e-40, -1e-40, 1e-40), 100, 100)
    assert "precision runs out" in step.message and step.state.x1 - step.state.x0 > 1e-40


def test_dd_maps_render_at_full_resolution_when_the_measured_work_allows():
    c, w = 1.2806248474865698, 4.724695047554424
    base = {"precision": "dd", "az": repr(c), "aw": repr(w), "x0": "-1e-3", "x1": "1e-3",
            "y0": "-1e-3", "y1": "1e-3"}
    v = compute_map(state_from_query(base), 560, 460)
    assert (v.nx, v.ny) == (560, 460) and not v.notes
    v2 = compute_map(state_from_query(dict(base, iters="2000")), 560, 460)
    steps = float(np.mean(v2.status >= 0))  # all computed
    assert steps == 1.0 and v2.nx > 78  # the worst-case bound allowed 78 x 64
    assert v2.nx * v2.ny * 2000 * 6 > MAX_WORK  # more than the worst case would allow


def test_export_is_a_labelled_png():
    from gdchaos.explore._export import figure

    ex = _page()
    fig = figure(ex.view, ex.command.value)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("z = u.v - y") and ax.get_ylabel()
    assert "eta = 1" in ax.get_title() and "lam = 0.2" in ax.get_title()
    assert any("gdchaos basin" in t.get_text() for t in fig.texts)
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "converged" in names
    assert ex._png().getvalue()[:4] == b"\x89PNG"
    dd = _page({"precision": "dd", "az": "1.28", "aw": "4.72", "x0": "-1e-3", "x1": "1e-3",
                "y0": "-1e-3", "y1": "1e-3", "color": "iterations"})
    fig = figure(dd.view, dd.command.value)
    assert "offset from z0 = 1.28" in fig.axes[0].get_xlabel()
    assert any("steps" in a.get_ylabel() for a in fig.axes[1:])  # the colour bar


def test_a_refused_edit_leaves_the_page_on_the_map_it_shows():
    ex = _page({"problem": "deep"})
    shown = ex.view.state
    ex.widgets["iters"].value = "20000"  # a valid value, but over the work bound
    ex._image(version=ex.version)
    assert ex.alert.visible and "too much work" in ex.alert.object
    assert ex.state == ex.view.state == shown
    assert ex.widgets["iters"].value == "200"
