"""The explorer's page: a Panel app around a HoloViews ``DynamicMap`` driven by the plot's range.

Pattern of the HoloViews Mandelbrot example: ``hv.streams.RangeXY`` on the map; each pan or zoom
calls :func:`gdchaos.explore._view.compute_map` for the new window at the plot's pixel size.
On a Bokeh server HoloViews queues range events while a callback runs and then processes only
the latest one, so stale requests are dropped and the previous image stays until the new one
arrives.  Every computation runs under one process-wide lock (two cores: views queue rather
than compete), and nothing here reads or writes a file.
"""

from __future__ import annotations

import html
import json
import threading
import urllib.parse
from dataclasses import replace

import numpy as np

from ..errors import GdchaosInputError
from ..status import status_fractions

from ._busy import add_busy_indicator, clear_busy
from ._export import axis_labels
from ._export import png as export_png
from ._legend import colorbar_title, image_options
from ._navigate import navigate, recentred, to_dd, to_float64
from ._overlays import has_overlays
from ._state import COLORS, PRECISIONS, PROBLEMS, ViewState, make_problem, state_from_query
from ._view import compute_map, reproduce, trajectory

FRAME = (560, 460)  # plot frame in screen pixels = the map's resolution
MAX_SESSIONS = 64  # viewers at once; more get a "busy" page (memory stays bounded)
_LOCK = threading.Lock()  # one computation at a time, process-wide
_SESSIONS = {"n": 0}
_SESSION_LOCK = threading.Lock()
#: process-wide counters: maps computed, requests for a map (the page's own count is in its
#: machine-readable view, ``computed``); read by the tests and the load benchmark
STATS = {"maps": 0, "requests": 0}


def _import():
    try:
        import holoviews as hv
        import panel as pn
    except ImportError as exc:  # the explorer needs its extra
        raise GdchaosInputError(f"the explorer needs the 'explore' extra (pip install "
                                f"'gdchaos[explore]'): {exc}") from None
    return pn, hv



class Explorer:
    """One viewer's page.  ``layout`` is the Panel object (serve it, or show it in Jupyter).

    The page always shows one state: the map's (``self.view.state``), the widgets' values, the
    URL and the reproduce command describe it.  Every callback catches its own failures (a
    failure escaping into HoloViews' stream callback would leave that stream waiting forever:
    no later click or zoom would be processed)."""

    def __init__(self, state: ViewState | None = None, frame=FRAME, sync_url=False):
        pn, hv = _import()
        hv.extension("bokeh", logo=False)
        self.pn, self.hv = pn, hv
        self.state = state or ViewState()
        self.frame = frame
        self.sync_url = sync_url
        self.view = None
        self.version = 0
        self.computed = 0  # maps this page computed (fewer than range events: stale ones drop)
        self.notice = None  # what the last navigation did (re-centred, switched, stopped)
        self._key = self._element = None
        self._syncing = False
        self.alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.info = pn.pane.HTML("", sizing_mode="stretch_width")
        self.data = pn.pane.HTML("", width=0, height=0, margin=0)  # machine-readable view
        self.traj_text = pn.pane.HTML("<i>click the map to follow one point's trajectory</i>")
        self.traj_plots = pn.Row(visible=False, name="trajectory")
        self.command = pn.widgets.TextAreaInput(name="reproduce", height=130,
                                                sizing_mode="stretch_width", disabled=True)
        self._build_widgets()
        # the first map now, before the page's models exist: a refusal is in the page from
        # its first message (an alert changed while the page is being built never shows)
        self._render(self.state)
        self.plot = pn.pane.HoloViews(self._dmap(), linked_axes=False)
        self.download = pn.widgets.FileDownload(callback=self._png, filename="gdchaos_view.png",
                                                label="export PNG", button_type="primary")
        side = pn.Column(*self.widgets.values(), self.download, width=250)
        self.layout_side = side
        self.layout = pn.Row(side, pn.Column(self.alert, self.plot, self.info, self.traj_text,
                                             self.traj_plots, self.command, self.data))

    # ------------------------------------------------------------------ widgets
    def _build_widgets(self):
        pn, st = self.pn, self.state
        w = {"problem": pn.widgets.Select(name="problem", options=list(PROBLEMS), value=st.problem),
             "y": pn.widgets.TextInput(name="y (scalar, quotient)"),
             "Y": pn.widgets.TextInput(name="Y (matrix, deep: 'a,b;c,d')"),
             "d": pn.widgets.TextInput(name="d"),
             "k": pn.widgets.TextInput(name="k (deep)"),
             "lam": pn.widgets.TextInput(name="lam"),
             "eta": pn.widgets.TextInput(name="eta"),
             "momentum": pn.widgets.TextInput(name="momentum"),
             "iters": pn.widgets.TextInput(name="iterations"),
             "slice": pn.widgets.Select(name="slice", options=["", "axes", "random"]),
             "seed": pn.widgets.TextInput(name="slice seed"),
             "color": pn.widgets.Select(name="colour", options=list(COLORS)),
             "precision": pn.widgets.Select(name="precision (quotient)", options=list(PRECISIONS))}
        for name, widget in w.items():
            widget.width = 230
            widget.css_classes = [f"gdchaos-{name}"]
            widget.param.watch(lambda ev, n=name: self._on_widget(n, ev.new), "value")
        self.widgets = w
        self._sync_widgets()
        self.recentre = pn.widgets.Button(name="re-centre (dd)", button_type="default")
        self.recentre.on_click(lambda ev: self._recentre())
        w["recentre"] = self.recentre

    def widget_values(self, st=None):
        """What each widget shows for the state ``st``: its values, the problem's options as
        the problem uses them (an option left to the problem shows the problem's value)."""
        st = st or self.state
        try:
            params = make_problem(st).params()
        except GdchaosInputError:
            params = {}
        out = {}
        for name in ("y", "Y", "d", "k"):
            v = getattr(st, name)
            if v is None and params.get(name) is not None:
                v = params[name]
                if isinstance(v, (np.ndarray, list, tuple)):
                    v = ";".join(",".join(repr(float(x)) for x in row) for row in v)
            out[name] = "" if v is None else str(v)
        out.update(problem=st.problem, lam=st.lam, eta=repr(st.eta), momentum=repr(st.momentum),
                   iters=str(st.iters), slice=st.slice or "", seed=str(st.seed), color=st.color,
                   precision=st.precision)
        return out

    def _sync_widgets(self):
        """Set every widget to the shown state (without acting on those changes)."""
        self._syncing = True
        try:
            for name, value in self.widget_values().items():
                if self.widgets[name].value != value:
                    self.widgets[name].value = value
        finally:
            self._syncing = False

    def _on_widget(self, name, value):
        if self._syncing:
            return
        if name in ("y", "Y", "d", "k") and value == self.widget_values()[name]:
            return  # the widget shows the problem's own value: nothing changed
        q = {name: value}
        if name == "precision" and value != self.state.precision:
            return self._set_state(lambda st: (to_dd(st) if value == "dd" else to_float64(st)),
                                   rebuild=True)
        if name in ("slice", "seed"):
            q.update(px="", py="")
        # a new colouring needs a new colour bar: HoloViews keeps a plot's colour bar
        self._apply(q, rebuild=name in ("problem", "slice", "seed", "color"))

    def _recentre(self):
        """dd mode: move the anchor to the window's centre (exactly, in double-double) so that
        the plot's float64 axes keep resolving the offsets (done automatically as well)."""
        if self.state.precision != "dd":
            return self._error("re-centre applies to precision dd")
        self._set_state(recentred, rebuild=True)

    def _set_state(self, change, rebuild=False):
        try:
            new = change(self.state)
            new = state_from_query({}, new)  # validated
        except GdchaosInputError as exc:
            self._sync_widgets()
            return self._error(str(exc))
        self._show(new, rebuild)

    def _apply(self, query, rebuild=False):
        try:
            new = state_from_query(query, self.state)
        except GdchaosInputError as exc:
            self._sync_widgets()  # the widgets go back to the map they describe
            return self._error(str(exc))
        self._show(new, rebuild)

    def _show(self, new, rebuild):
        self.state = new
        self._sync_widgets()
        try:
            if rebuild:
                self.plot.object = self._dmap()
            else:
                self.ctrl.event(version=self.version + 1)
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback
            self._error(f"the page could not redraw ({type(exc).__name__})")

    def _error(self, msg):
        self.alert.object = html.escape(f"Not computed: {msg}")
        self.alert.visible = True
        self._write_meta(error=msg)

    # ------------------------------------------------------------------ the map
    def _dmap(self):
        hv = self.hv
        st = self.state
        self.ctrl = hv.streams.Stream.define("Ctrl", version=0)(version=self.version)
        self.range = hv.streams.RangeXY(x_range=(st.x0, st.x1), y_range=(st.y0, st.y1))
        img = hv.DynamicMap(self._image, streams=[self.range, self.ctrl])
        lines = hv.DynamicMap(self._overlay, streams=[self.range, self.ctrl])
        self.tap = hv.streams.Tap(source=img, x=None, y=None)
        self.tap.add_subscriber(self._on_tap)
        pw, ph = self.frame
        return (img * lines).opts(
            hv.opts.Image(frame_width=pw, frame_height=ph, tools=["hover", "tap"],
                          active_tools=["wheel_zoom"], framewise=False,
                          hooks=[add_busy_indicator]),
            hv.opts.Overlay(show_legend=False))

    def _image(self, x_range=None, y_range=None, version=0):
        """The DynamicMap's callback: the element of the requested window (computed, or the
        last one when nothing changed)."""
        try:
            self.version = version
            st = self.state
            self.notice = None
            if x_range is not None and y_range is not None:
                step = navigate(st, (*x_range, *y_range), *self.frame)
                st, self.notice = step.state, step.message
                if step.push:
                    self._push_range(st)
            return self._render(st)
        except Exception as exc:  # noqa: BLE001 - a page shows one line, never a traceback
            self._error(f"the view failed ({type(exc).__name__}: {str(exc)[:120]})")
            return self._element if self._element is not None else self._blank(self.state)

    def _render(self, st):
        """Compute (or reuse) the map of ``st``; on a refusal keep the last map and say why."""
        try:
            return self._render_map(st)
        finally:
            clear_busy(list(getattr(getattr(self, "plot", None), "_plots", {}).values()))

    def _render_map(self, st):
        hv = self.hv
        STATS["requests"] += 1
        key = st if st.color == "distance" else replace(st, px=None, py=None)
        if key == self._key and self._element is not None:
            self.state = st
            self._describe(self.view)
            return self._element
        try:
            with _LOCK:
                view = compute_map(st, *self.frame)
                STATS["maps"] += 1
                self.computed += 1
        except Exception as exc:  # noqa: BLE001 - a page shows one line, never a traceback
            if self.view is not None:  # the page goes on describing the map it shows
                self.state = self.view.state
                self._later(self._sync_widgets)
            self._error(str(exc) if isinstance(exc, GdchaosInputError) else
                        f"the computation failed ({type(exc).__name__})")
            return self._element if self._element is not None else self._blank(st)
        self.alert.visible = False
        self.state = st
        self.view = view
        self._describe(view)
        vs = view.state
        xl, yl = axis_labels(vs)
        vals = np.clip(view.values, 0, 4) if vs.color == "status" else view.values
        img = hv.Image(np.flipud(vals), bounds=(vs.x0, vs.y0, vs.x1, vs.y1),
                       kdims=[hv.Dimension("x", label=xl), hv.Dimension("y", label=yl)],
                       vdims=[hv.Dimension(vs.color, label=colorbar_title(vs.color, vs))],
                       rtol=1.0)
        self._element = img.opts(**image_options(vs.color, vs, xl, yl))
        self._key = key
        self._later(self._sync_widgets)
        return self._element

    def _later(self, fn):
        """Run ``fn`` on the page's next tick (widget changes made inside HoloViews' stream
        callback do not reach the browser), or now when there is no server session."""
        doc = self.pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            doc.add_next_tick_callback(fn)
        else:
            fn()

    def _blank(self, st):
        xl, yl = axis_labels(st) if st.problem else ("x", "y")
        return self.hv.Image(np.full((2, 2), np.nan), bounds=(st.x0, st.y0, st.x1, st.y1),
                             kdims=[self.hv.Dimension("x", label=xl),
                                    self.hv.Dimension("y", label=yl)],
                             vdims=["not computed"]).opts(colorbar=False)

    def _push_range(self, st):
        """Set the plot's ranges to ``st``'s window (the browser's went past what the explorer
        computes, or the axes changed to offsets)."""
        self.range.update(x_range=(st.x0, st.x1), y_range=(st.y0, st.y1))
        for plot, _ in list(getattr(self.plot, "_plots", {}).values()):
            fig = getattr(plot, "state", None)
            if fig is not None and hasattr(fig, "x_range"):
                fig.x_range.update(start=st.x0, end=st.x1)
                fig.y_range.update(start=st.y0, end=st.y1)

    def _overlay(self, x_range=None, y_range=None, version=0):
        """The theory's curves and the clicked point: always the same elements (an overlay
        whose length changes from frame to frame is not redrawn by HoloViews)."""
        from ._overlays import OVERLAY_KEYS, overlays

        hv = self.hv
        found = {}
        try:
            st = self.state
            found = {label: (colour, paths) for label, colour, paths in
                     overlays(st, make_problem(st))}
        except Exception:  # noqa: BLE001 - no curves rather than no page
            found = {}
        parts = []
        for label, colour in OVERLAY_KEYS:
            _, paths = found.get(label, (colour, []))
            pts = [p for p in paths if len(p[0]) == 1]
            lines = [np.column_stack(p) for p in paths if len(p[0]) > 1]
            parts.append(hv.Path(lines, label=label).opts(color=colour, line_width=1.5,
                                                          apply_ranges=False, show_legend=False))
            parts.append(hv.Points(np.vstack([np.column_stack(p) for p in pts]) if pts else
                                   np.zeros((0, 2)), label=label).opts(
                color=colour, size=9, apply_ranges=False, show_legend=False))
        st = self.state
        mark = [(st.px, st.py)] if st.px is not None and st.py is not None else np.zeros((0, 2))
        parts.append(hv.Points(mark, label="clicked point").opts(
            color="#d62728", marker="x", size=12, line_width=2, apply_ranges=False,
            show_legend=False))
        return hv.Overlay(parts)

    def _describe(self, view):
        st = self.state
        width = st.x1 - st.x0
        where = (f" around ({st.az + st.az_lo!r}, {st.aw + st.aw_lo!r})"
                 if st.precision == "dd" else "")
        frac = status_fractions(view.status)
        txt = (f"<b>width {width:.3g}</b>{html.escape(where)} &nbsp; {view.nx} x {view.ny} pixels, "
               f"{view.seconds:.2f} s, precision {st.precision}; "
               + ", ".join(f"{k} {100 * v:.1f}%" for k, v in frac.items() if v))
        if has_overlays(make_problem(st)) and st.precision == "float64":
            txt += ("<br><small>curves: black = Q = 8/eta - 4 lam (Thm 4; boundary of D0 when "
                    "lam = 0), purple = Q = 4/eta - 4 lam (Thm 5), grey = edge of the state "
                    "space, green = minimizers (T(M)); red x = the clicked point</small>")
        for note in view.notes:
            txt += f"<br>{html.escape(note)}"
        if self.notice:
            txt += (f"<br><span id='gdchaos-notice' style='color:#1f5fa8'>&#9432; "
                    f"{html.escape(self.notice)}</span>")
        if view.warning:
            txt += f"<br><span style='color:#b00020'>&#9888; {html.escape(view.warning)}</span>"
        self.info.object = txt
        cli, py = reproduce(st, view.nx, view.ny)
        self.command.value = cli + "\n\n# Python\n" + py
        self._write_meta()

    def _write_meta(self, error=None):
        """The page's machine-readable view (read by the tests and the simulated viewers) and
        the URL: both describe the map shown."""
        view = self.view
        st = view.state if view is not None and error else self.state
        q = st.to_query()
        meta = {"state": q, "x0": st.x0, "x1": st.x1, "y0": st.y0, "y1": st.y1,
                "computed": self.computed, "url": "?" + urllib.parse.urlencode(q),
                "notice": self.notice, "error": error, "nx": None, "ny": None}
        if view is not None:
            meta.update(nx=view.nx, ny=view.ny, xs=[float(view.xs[0]), float(view.xs[-1])],
                        ys=[float(view.ys[0]), float(view.ys[-1])], warning=view.warning)
        self.data.object = (f"<div id='gdchaos-view' data-view='{html.escape(json.dumps(meta))}'>"
                            "</div>")
        if self.sync_url and self.pn.state.location is not None and view is not None:
            self.pn.state.location.search = meta["url"]

    # ------------------------------------------------------------------ a clicked point
    def _on_tap(self, x=None, y=None):
        """A click: the point's trajectory, and the point kept for colour ``distance``."""
        if x is None or y is None:
            return
        try:
            self._tap(float(x), float(y))
        except Exception as exc:  # noqa: BLE001 - the next click must still work
            self._error(f"the trajectory failed ({type(exc).__name__})")

    def _tap(self, x, y):
        from ._trajectory_panel import trajectory_plots

        try:
            with _LOCK:
                tr = trajectory(self.state, x, y)
        except GdchaosInputError as exc:
            return self._error(str(exc))
        self.alert.visible = False
        self.traj_plots.objects = [self.pn.pane.HoloViews(p, linked_axes=False)
                                   for p in trajectory_plots(self.hv, self.state, tr)]
        self.traj_plots.visible = True
        self.traj_text.object = (
            f"<div id='gdchaos-trajectory'>start ({x:.6g}, {y:.6g}): <b>{tr['status']}</b> after "
            f"{tr['iterations']} steps, final loss {tr['final_loss']:.3g}</div>")
        self._show(replace(self.state, px=x, py=y), rebuild=False)  # marker; distance map

    # ------------------------------------------------------------------ export
    def _png(self):
        """The labelled PNG of the map shown (axes, legend, parameters, reproduce command)."""
        import io

        if self.view is None:
            return io.BytesIO()
        return export_png(self.view, self.command.value)
