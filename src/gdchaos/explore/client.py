"""A simulated viewer of ``gdchaos explore``: a Bokeh client session that pans as a browser does.

Used by the tests and by ``benchmarks/load_explore.py``.  :class:`Viewer` opens a real session
on the server (``bokeh.client.pull_session``: the server builds the same page as for a
browser) and pans by sending what BokehJS sends at the end of a pan or zoom: the plot's new
``x_range``/``y_range`` start and end and one ``rangesupdate`` event (the event HoloViews'
``RangeXY`` stream listens to).  :meth:`Viewer.run` pans through a list of windows and records how
long each new image takes to arrive (the image the server pushes back covers the requested
window).  Like BokehJS, the viewer first announces
``document_ready`` (Panel holds a page's updates until then).  The page's machine-readable view
(:meth:`Viewer.meta`) carries ``computed``, the number of maps the server computed for this
page, so a caller can check that each pan really recomputed.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time

_VIEW = re.compile(r"data-view='([^']*)'")


def _ranges_event(plot, x0, x1, y0, y1):
    """A ``rangesupdate`` event as BokehJS serializes it (Bokeh's Python ``RangesUpdate``
    serializes its plot only, not the four coordinates)."""
    from bokeh.core.serialization import Serializable

    class RangesEvent(Serializable):
        def to_serializable(self, serializer):
            return {"type": "event", "name": "rangesupdate", "values": serializer.encode(
                dict(model=plot, x0=x0, x1=x1, y0=y0, y1=y1))}

    return RangesEvent()


class Viewer:
    """One page of the explorer at ``url``, opened as a Bokeh client session."""

    def __init__(self, url):
        import panel.models  # noqa: F401 - the client document needs Panel's Bokeh models
        from bokeh.client import pull_session
        from bokeh.events import DocumentReady
        from bokeh.models import GlyphRenderer, Image, Plot

        try:
            asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:  # a thread of its own: give it an event loop
            asyncio.set_event_loop(asyncio.new_event_loop())
        self.session = pull_session(url=url)
        doc = self.session.document
        # the models pulled from the server are known to it: send references, not copies
        doc.models.flush_synced()
        # as BokehJS does once the page is rendered: Panel holds a page's updates until then
        doc.callbacks.send_event(DocumentReady())
        plots = [m for m in doc.models if isinstance(m, Plot) and len(m.renderers) > 1]
        if not plots:
            raise RuntimeError("the page has no map (busy server or an error page)")
        self.plot = plots[0]
        self.source = [r.data_source for r in self.plot.renderers
                       if isinstance(r, GlyphRenderer) and isinstance(r.glyph, Image)][0]
        self.view = [m for m in doc.models if isinstance(getattr(m, "text", None), str)
                     and "gdchaos-view" in m.text][0]

    def meta(self):
        """The page's machine-readable view (window, state, ``computed``, ...)."""
        text = self.view.text
        if "&lt;" in text:  # escaped once more by the pane
            text = html.unescape(text)
        m = _VIEW.search(text)
        return json.loads(html.unescape(m.group(1))) if m else {}

    def image_window(self):
        """(x0, x1, y0, y1) of the image the page shows now."""
        d = self.source.data
        x0, y0 = float(d["x"][0]), float(d["y"][0])
        return x0, x0 + float(d["dw"][0]), y0, y0 + float(d["dh"][0])

    def image(self):
        import numpy as np

        return np.asarray(self.source.data["image"][0])

    def pan(self, x0, x1, y0, y1):
        """Send a new window, as the browser does at the end of a pan or zoom."""
        r = self.plot
        r.x_range.start, r.x_range.end = x0, x1
        r.y_range.start, r.y_range.end = y0, y1
        self.session.document.callbacks.send_event(_ranges_event(r, x0, x1, y0, y1))

    def shows(self, window, rel=1e-9):
        got = self.image_window()
        scale = max(window[1] - window[0], window[3] - window[2])
        return all(abs(a - b) <= rel * scale for a, b in zip(got, window))

    def run(self, windows, burst=False, spacing=0.02, timeout=60.0):
        """Drive the page, then close it.  ``windows``: an iterable of (x0, x1, y0, y1).

        Sequential (``burst=False``): pan to a window, wait until the image of that window
        arrives, record the latency, pan to the next.  ``burst=True``: send all windows
        ``spacing`` seconds apart without waiting, then wait for the last one.  Returns
        ``{"latency": [s, ...], "shown": [windows of the images received], "error": str|None,
        "meta": the page's view at the end}``.  Runs the session's event loop (Bokeh's client
        applies the server's messages only while it runs), so the timings include reading
        and applying each image, as a browser does."""
        doc = self.session.document
        it = iter(windows)
        res = {"latency": [], "shown": [], "error": None, "meta": None}
        cur = {"w": None, "t": 0.0, "timer": None}

        def finish(error=None):
            res["error"] = error
            res["meta"] = self.meta()
            self.session.close()

        def timed_out():
            cur["timer"] = None
            finish(f"no image of {cur['w']} within {timeout} s (shown: {self.image_window()})")

        def wait_for(w):
            cur["w"], cur["t"] = w, time.perf_counter()
            cur["timer"] = doc.add_timeout_callback(timed_out, int(timeout * 1000))

        def send_next():
            w = next(it, None)
            if w is None:
                if burst and last["w"] is not None:
                    return wait_for(last["w"])
                return finish()
            self.pan(*w)
            if burst:
                last["w"] = w
                doc.add_timeout_callback(send_next, max(1, int(spacing * 1000)))
            else:
                wait_for(w)

        last = {"w": None}

        def changed(_event):
            shown = self.image_window()
            if not res["shown"] or res["shown"][-1] != shown:
                res["shown"].append(shown)
            w = cur["w"]
            if w is not None and self.shows(w):
                res["latency"].append(time.perf_counter() - cur["t"])
                cur["w"] = None
                if cur["timer"] is not None:
                    doc.remove_timeout_callback(cur["timer"])
                    cur["timer"] = None
                if burst:
                    finish()
                else:
                    doc.add_next_tick_callback(send_next)

        doc.on_change(changed)
        doc.add_next_tick_callback(send_next)
        # Bokeh keeps this loop for testing (the only way its client applies patches)
        self.session._loop_until_closed()
        if res["meta"] is None:
            res["error"] = res["error"] or "the server closed the connection"
        return res

    def close(self):
        self.session.close()
