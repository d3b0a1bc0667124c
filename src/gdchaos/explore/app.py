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

import numpy as np

from ..errors import GdchaosInputError
from ..status import status_fractions
from dataclasses import replace

from ._busy import add_busy_indicator
from ._export import axis_labels
from ._export import png as export_png
from ._legend import image_options
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
    """One viewer's page.  ``layout`` is the Panel object (serve it, or show it in Jupyter)."""

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
        self.alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.info = pn.pane.HTML("", sizing_mode="stretch_width")
        self.data = pn.pane.HTML("", width=0, height=0, margin=0)  # machine-readable view
        self.traj_text = pn.pane.HTML("<i>click the map to follow one point's trajectory</i>")
        self.traj_plots = pn.Row(visible=False, name="trajectory")
        self.command = pn.widgets.TextAreaInput(name="reproduce", height=130,
                                                sizing_mode="stretch_width", disabled=True)
        self._build_widgets()
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
             "y": pn.widgets.TextInput(name="y (scalar, quotient)", value=st.y or ""),
             "Y": pn.widgets.TextInput(name="Y (matrix, deep: 'a,b;c,d')", value=st.Y or ""),
             "d": pn.widgets.TextInput(name="d", value="" if st.d is None else str(st.d)),
             "k": pn.widgets.TextInput(name="k (deep)", value="" if st.k is None else str(st.k)),
             "lam": pn.widgets.TextInput(name="lam", value=st.lam),
             "eta": pn.widgets.TextInput(name="eta", value=repr(st.eta)),
             "momentum": pn.widgets.TextInput(name="momentum", value=repr(st.momentum)),
             "iters": pn.widgets.TextInput(name="iterations", value=str(st.iters)),
             "slice": pn.widgets.Select(name="slice", options=["", "axes", "random"],
                                        value=st.slice or ""),
             "seed": pn.widgets.TextInput(name="slice seed", value=str(st.seed)),
             "color": pn.widgets.Select(name="colour", options=list(COLORS), value=st.color),
             "precision": pn.widgets.Select(name="precision (quotient)", options=list(PRECISIONS),
                                            value=st.precision)}
        for name, widget in w.items():
            widget.width = 230
            widget.css_classes = [f"gdchaos-{name}"]
            widget.param.watch(lambda ev, n=name: self._on_widget(n, ev.new), "value")
        self.widgets = w
        self.recentre = pn.widgets.Button(name="re-centre (dd)", button_type="default")
        self.recentre.on_click(lambda ev: self._recentre())
        w["recentre"] = self.recentre

    def _on_widget(self, name, value):
        q = {name: value}
        if name == "precision" and value != self.state.precision:
            q.update(self._switch_precision(value))
        if name in ("problem", "slice", "seed"):
            q.pop("x0", None)
        self._apply(q, rebuild=name in ("problem", "precision", "slice", "seed"))

    def _switch_precision(self, value):
        """Window in absolute coordinates <-> offsets from a double-double anchor."""
        st = self.state
        if value == "dd":
            cx, cy = (st.x0 + st.x1) / 2, (st.y0 + st.y1) / 2
            return dict(az=repr(cx), az_lo="0.0", aw=repr(cy), aw_lo="0.0", x0=repr(st.x0 - cx),
                        x1=repr(st.x1 - cx), y0=repr(st.y0 - cy), y1=repr(st.y1 - cy))
        return dict(x0=repr(st.az + st.x0), x1=repr(st.az + st.x1), y0=repr(st.aw + st.y0),
                    y1=repr(st.aw + st.y1), az="0.0", az_lo="0.0", aw="0.0", aw_lo="0.0")

    def _recentre(self):
        """dd mode: move the anchor to the window's centre (exactly, in double-double) so that
        the plot's float64 axes keep resolving the offsets."""
        st = self.state
        if st.precision != "dd":
            return self._error("re-centre applies to precision dd")
        cx, cy = (st.x0 + st.x1) / 2, (st.y0 + st.y1) / 2
        hz, lz = _dd_add(st.az, st.az_lo, cx)
        hw, lw = _dd_add(st.aw, st.aw_lo, cy)
        hx, hy = (st.x1 - st.x0) / 2, (st.y1 - st.y0) / 2
        self._apply(dict(az=repr(hz), az_lo=repr(lz), aw=repr(hw), aw_lo=repr(lw),
                         x0=repr(-hx), x1=repr(hx), y0=repr(-hy), y1=repr(hy)), rebuild=True)

    def _apply(self, query, rebuild=False):
        try:
            new = state_from_query(query, self.state)
        except GdchaosInputError as exc:
            return self._error(str(exc))
        self.state = new
        if rebuild:
            self.plot.object = self._dmap()
        else:
            self.ctrl.event(version=self.version + 1)

    def _error(self, msg):
        self.alert.object = html.escape(f"Not computed: {msg}")
        self.alert.visible = True

    # ------------------------------------------------------------------ the map
    def _dmap(self):
        hv = self.hv
        st = self.state
        self.ctrl = hv.streams.Stream.define("Ctrl", version=0)()
        self.range = hv.streams.RangeXY(x_range=(st.x0, st.x1), y_range=(st.y0, st.y1))
        img = hv.DynamicMap(self._image, streams=[self.range, self.ctrl])
        lines = hv.DynamicMap(self._overlay, streams=[self.range, self.ctrl])
        self.tap = hv.streams.Tap(source=img, x=None, y=None)
        self.tap.add_subscriber(self._on_tap)
        pw, ph = self.frame
        labels = make_problem(st).axis_labels
        return (img * lines).opts(
            hv.opts.Image(frame_width=pw, frame_height=ph, tools=["hover", "tap"],
                          active_tools=["wheel_zoom"], colorbar=True, framewise=False,
                          xlabel=labels[0] or "slice x", ylabel=labels[1] or "slice y"),
            hv.opts.Overlay(legend_position="top_right"))

    def _image(self, x_range=None, y_range=None, version=0):
        hv = self.hv
        self.version = version
        if x_range is not None and y_range is not None:
            try:
                self.state = state_from_query(dict(x0=x_range[0], x1=x_range[1],
                                                   y0=y_range[0], y1=y_range[1]), self.state)
            except GdchaosInputError as exc:
                self._error(str(exc))
        st = self.state
        STATS["requests"] += 1
        try:
            with _LOCK:
                view = compute_map(st, *self.frame)
                STATS["maps"] += 1
                self.computed += 1
        except GdchaosInputError as exc:
            self._error(str(exc))
            view = self.view
        except Exception as exc:  # noqa: BLE001 - a page shows one line, never a traceback
            self._error(f"the computation failed ({type(exc).__name__})")
            view = self.view
        else:
            self.alert.visible = False
        if view is None:
            return hv.Image(np.zeros((2, 2)), bounds=(st.x0, st.y0, st.x1, st.y1))
        self.view = view
        self._describe(view)
        vs = view.state
        cmap = STATUS_CMAP if vs.color == "status" else "viridis"
        vals = np.clip(view.values, 0, 4) if vs.color == "status" else view.values
        img = hv.Image(np.flipud(vals), bounds=(vs.x0, vs.y0, vs.x1, vs.y1),
                       label=vs.color).opts(cmap=cmap, clim=(-0.5, 4.5) if vs.color == "status"
                                            else (None, None), clipping_colors={"NaN": "#bdbdbd"})
        return img

    def _overlay(self, x_range=None, y_range=None, version=0):
        from ._overlays import overlays

        hv = self.hv
        parts = []
        try:
            st = self.state
            for label, colour, paths in overlays(st, make_problem(st)):
                pts = [p for p in paths if len(p[0]) == 1]
                lines = [np.column_stack(p) for p in paths if len(p[0]) > 1]
                if lines:
                    parts.append(hv.Path(lines, label=label).opts(color=colour, line_width=1.5,
                                                                  apply_ranges=False))
                if pts:
                    parts.append(hv.Points(np.vstack([np.column_stack(p) for p in pts]),
                                           label=label).opts(color=colour, size=9,
                                                             apply_ranges=False))
        except GdchaosInputError:
            pass
        if not parts:
            return hv.Overlay([hv.Path([]).opts(apply_ranges=False)])
        return hv.Overlay(parts)

    def _describe(self, view):
        st = view.state
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
                    "space, green = minimizers (T(M))</small>")
        for note in view.notes:
            txt += f"<br>{html.escape(note)}"
        if view.warning:
            txt += f"<br><span style='color:#b00020'>&#9888; {html.escape(view.warning)}</span>"
        self.info.object = txt
        cli, py = reproduce(st, view.nx, view.ny)
        self.command.value = cli + "\n\n# Python\n" + py
        q = st.to_query()
        meta = {"state": q, "nx": view.nx, "ny": view.ny, "x0": st.x0, "x1": st.x1, "y0": st.y0,
                "y1": st.y1, "xs": [float(view.xs[0]), float(view.xs[-1])],
                "ys": [float(view.ys[0]), float(view.ys[-1])], "warning": view.warning,
                "computed": self.computed,
                "url": "?" + urllib.parse.urlencode(q)}
        self.data.object = (f"<div id='gdchaos-view' data-view='{html.escape(json.dumps(meta))}'>"
                            "</div>")
        if self.sync_url and self.pn.state.location is not None:
            self.pn.state.location.search = meta["url"]

    # ------------------------------------------------------------------ a clicked point
    def _on_tap(self, x=None, y=None):
        if x is None or y is None:
            return
        hv, pn = self.hv, self.pn
        try:
            with _LOCK:
                tr = trajectory(self.state, x, y)
        except GdchaosInputError as exc:
            return self._error(str(exc))
        except Exception as exc:  # noqa: BLE001
            return self._error(f"the trajectory failed ({type(exc).__name__})")
        steps = np.arange(len(tr["loss"]))
        opts = dict(frame_width=260, frame_height=200, tools=["hover"])
        path = hv.Path([np.column_stack([tr["a"], tr["b"]])]).opts(color="#d62728", **opts,
                                                                     title="in the slice")
        plots = [path * hv.Points([tr["start"]]).opts(color="black", size=6)]
        if tr["zw"] is not None:
            plots.append(hv.Path([np.column_stack(tr["zw"])]).opts(
                color="#1f77b4", xlabel="z", ylabel="w", title="in (z, w)", **opts))
        gap = tr["loss"] - make_problem(self.state).min_value
        loss = np.where(gap > 0, gap, np.nan)
        plots.append(hv.Curve((steps, loss), "step", "loss - min").opts(
            logy=True, title="loss - global minimum", **opts))
        plots.append((hv.Curve((steps, tr["sharpness"]), "step", "sharpness")
                      * hv.HLine(2 / self.state.eta).opts(color="grey", line_dash="dashed"))
                     .opts(title="sharpness (dashed: 2/eta)"))
        self.traj_plots.objects = [pn.pane.HoloViews(p, linked_axes=False) for p in plots]
        self.traj_plots.visible = True
        self.traj_text.object = (
            f"<div id='gdchaos-trajectory'>start ({x:.6g}, {y:.6g}): <b>{tr['status']}</b> after "
            f"{tr['iterations']} steps, final loss {tr['final_loss']:.3g}</div>")

    # ------------------------------------------------------------------ export
    def _png(self):
        from ..plotting import use_style

        plt = use_style()
        v = self.view
        if v is None:
            return io.BytesIO()
        st = v.state
        fig, ax = plt.subplots(figsize=(6, 5))
        if st.color == "status":
            from matplotlib.colors import ListedColormap

            ax.imshow(np.clip(v.values, 0, 4), origin="lower", cmap=ListedColormap(STATUS_CMAP),
                      vmin=-0.5, vmax=4.5, extent=(st.x0, st.x1, st.y0, st.y1), aspect="auto")
        else:
            im = ax.imshow(v.values, origin="lower", extent=(st.x0, st.x1, st.y0, st.y1),
                           aspect="auto")
            fig.colorbar(im, ax=ax, label=st.color)
        ax.set_title(f"{st.problem}, eta = {st.eta:g}, lam = {st.lam}, width {st.x1 - st.x0:.3g}",
                     fontsize=9)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        buf.seek(0)
        return buf


def _dd_add(hi, lo, x):
    s = hi + x
    bb = s - hi
    e = (hi - (s - bb)) + (x - bb) + lo
    t = s + e
    return t, e - (t - s)
