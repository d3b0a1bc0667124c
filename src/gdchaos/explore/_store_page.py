"""``gdchaos explore STORE``: the page of a store (basin, map, nn map, user problems).

Every pan and zoom recomputes the window with the store's recorded run
(:class:`gdchaos.explore.StoreView`, through :func:`gdchaos.rerun`) at the store's own
resolution (at most the plot frame's), so a view costs what the store cost per pixel.  A click
computes that one point (its status, steps and final loss).  The reproduce command under the
map is the ``gdchaos rerun`` whose store holds the pixels shown.
"""

from __future__ import annotations

import html
import json

import numpy as np

from ..errors import GdchaosInputError
from ..status import STATUS_NAMES, status_fractions
from ._legend import colorbar_title, image_options
from ._store_view import StoreView

FRAME = (560, 460)


class StorePage:
    """One viewer's page of the store ``view`` (a :class:`StoreView`); ``layout`` is the Panel
    object.  Every callback catches its own failures (one line on the page, never a
    traceback)."""

    def __init__(self, view: StoreView, frame=FRAME):
        from .app import _LOCK, _import

        pn, hv = _import()
        self._lock = _LOCK  # one computation at a time, process-wide (with the problem pages)
        hv.extension("bokeh", logo=False)
        self.pn, self.hv, self.view, self.frame = pn, hv, view, frame
        self.nx, self.ny = min(view.nx, frame[0]), min(view.ny, frame[1])
        self.window = tuple(view.window)
        self.map = None
        self.computed = 0
        self._element = None
        self.alert = pn.pane.Alert("", alert_type="danger", visible=False,
                                   sizing_mode="stretch_width")
        self.info = pn.pane.HTML("", sizing_mode="stretch_width")
        self.point = pn.pane.HTML("<i>click the map to run one point</i>")
        self.data = pn.pane.HTML("", width=0, height=0, margin=0)  # machine-readable view
        self.command = pn.widgets.TextAreaInput(label="reproduce", height=80, disabled=True,
                                                sizing_mode="stretch_width")
        self.range = hv.streams.RangeXY(x_range=self.window[:2], y_range=self.window[2:])
        img = hv.DynamicMap(self._image, streams=[self.range])
        self.tap = hv.streams.Tap(source=img, x=None, y=None)
        self.tap.add_subscriber(self._on_tap)
        self.plot = pn.pane.HoloViews(img.opts(hv.opts.Image(
            frame_width=frame[0], frame_height=frame[1], tools=["hover", "tap"],
            active_tools=["wheel_zoom"], framewise=False)), linked_axes=False)
        title = pn.pane.HTML(f"<b>{html.escape(view.kind)} store</b> "
                             f"{html.escape(view.store)}")
        self.layout = pn.Column(title, self.alert, self.plot, self.info, self.point,
                                self.command, self.data)

    def _error(self, msg):
        self.alert.object = html.escape(f"Not computed: {msg}")
        self.alert.visible = True

    def _image(self, x_range=None, y_range=None):
        """The map of the requested window (the last one on a refusal)."""
        try:
            window = self.window
            if x_range is not None and y_range is not None:
                window = (*map(float, x_range), *map(float, y_range))
            with self._lock:
                m = self.view.compute(window, self.nx, self.ny)
            self.window = window  # the page describes the map it shows
            self.computed += 1
        except Exception as exc:  # noqa: BLE001 - a page shows one line, never a traceback
            self._error(str(exc) if isinstance(exc, GdchaosInputError) else
                        f"the view failed ({type(exc).__name__}: {str(exc)[:120]})")
            if self._element is not None:
                return self._element
            return self.hv.Image(np.full((2, 2), np.nan), bounds=self._bounds())
        self.alert.visible = False
        self.map = m
        self._describe()
        xl, yl = self.view.labels
        img = self.hv.Image(np.flipud(np.clip(m.status, 0, 4).astype(float)),
                            bounds=self._bounds(),
                            kdims=[self.hv.Dimension("x", label=xl),
                                   self.hv.Dimension("y", label=yl)],
                            vdims=[self.hv.Dimension("status", label=colorbar_title("status"))])
        self._element = img.opts(**image_options("status", None, xl, yl))
        return self._element

    def _bounds(self):
        x0, x1, y0, y1 = self.window
        return (x0, y0, x1, y1)

    def _describe(self):
        m = self.map
        frac = status_fractions(m.status)
        self.info.object = (f"{self.nx} x {self.ny} pixels, {self.view.iters} steps; "
                            + ", ".join(f"{k} {100 * v:.1f}%" for k, v in frac.items() if v))
        self.command.value = m.command
        meta = {"window": list(self.window), "nx": self.nx, "ny": self.ny,
                "computed": self.computed, "command": m.command}
        self.data.object = (f"<div id='gdchaos-view' data-view='{html.escape(json.dumps(meta))}'>"
                            "</div>")

    def _on_tap(self, x=None, y=None):
        """A click: that one point computed with the recorded run."""
        if x is None or y is None:
            return
        try:
            x, y = float(x), float(y)
            d = 1e-9 * max(1.0, abs(x), abs(y))
            with self._lock:
                p = self.view.compute((x - d, x + d, y - d, y + d), 1, 1)
            ds = p.dataset
            steps = int(ds.iterations.values.ravel()[0]) if "iterations" in ds else None
            loss = (float(ds.final_loss.values.ravel()[0]) if "final_loss" in ds else None)
            name = STATUS_NAMES[int(p.status.ravel()[0])]
            self.point.object = (
                f"<div id='gdchaos-point'>({x:.6g}, {y:.6g}): <b>{name}</b>"
                + (f" after {steps} steps" if steps is not None else "")
                + (f", final loss {loss:.3g}" if loss is not None else "") + "</div>")
        except Exception as exc:  # noqa: BLE001 - the next click must still work
            self._error(f"the point failed ({type(exc).__name__}: {str(exc)[:120]})")
