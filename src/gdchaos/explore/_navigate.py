"""From the window the plot asks for to the window the explorer computes (no web code here).

The plot's ranges are float64 numbers in the browser; zooming far enough makes them useless
(equal ends, NaN).  :func:`navigate` turns every requested window into a state that can be
computed and that float64 (or double-double) resolves:

* a window that is not finite or not ordered is refused and the last window kept (the page
  puts the plot's ranges back, so zooming out works again at once);
* in float64, a window whose pixel would fall below :data:`ULP_PIXELS` ulp of its coordinates
  switches to double-double where the problem has a kernel for it (anchor = the window's
  centre), else the zoom stops at that width (the centre kept) with a message;
* in double-double, the anchor is re-centred (exactly, as a double-double sum) whenever the
  offsets' own float64 spacing comes within :data:`RECENTRE_ULP` of a pixel, and the zoom stops
  where a pixel would fall below :data:`ULP_PIXELS` ulp of double-double, with a message.

It returns the new state, a message for the page (or ``None``) and whether the plot's ranges
must be set to the new window (``push``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ._state import ViewState, check_state, make_problem

#: faithful down to this many ulp per pixel (experiments/extras.py zoom item; _view.py)
ULP_PIXELS = 16.0
#: dd mode re-centres the anchor when a pixel is fewer than this many ulp of the offsets
RECENTRE_ULP = 4096.0
DD_ULP = 2.0 ** -104  # double-double: about 106 bits


@dataclass
class Step:
    state: ViewState
    message: str | None = None
    push: bool = False  # the plot's ranges must be set to ``state``'s window


def dd_add(hi, lo, x):
    """(hi + lo) + x as a double-double pair (Knuth's two-sum, then renormalised)."""
    s = hi + x
    bb = s - hi
    e = (hi - (s - bb)) + (x - bb) + lo
    t = s + e
    return t, e - (t - s)


def _ulps(lo, hi, n):
    """Pixel size of [lo, hi] on n pixels in ulp of its coordinates."""
    return ((hi - lo) / n) / np.spacing(max(abs(lo), abs(hi), 1e-300))


def _scaled(c, half, f):
    return c - half * f, c + half * f


def recentred(st: ViewState) -> ViewState:
    """dd mode: the anchor moved to the window's centre exactly; offsets symmetric about 0.
    The clicked point (``px, py``, offsets) moves with the anchor."""
    cx, cy = (st.x0 + st.x1) / 2, (st.y0 + st.y1) / 2
    hz, lz = dd_add(st.az, st.az_lo, cx)
    hw, lw = dd_add(st.aw, st.aw_lo, cy)
    hx, hy = (st.x1 - st.x0) / 2, (st.y1 - st.y0) / 2
    kw = {}
    if st.px is not None and st.py is not None:
        kw = dict(px=st.px - cx, py=st.py - cy)
    return replace(st, az=hz, az_lo=lz, aw=hw, aw_lo=lw, x0=-hx, x1=hx, y0=-hy, y1=hy, **kw)


def to_dd(st: ViewState) -> ViewState:
    """The same window as offsets from a double-double anchor at its centre."""
    cx, cy = (st.x0 + st.x1) / 2, (st.y0 + st.y1) / 2
    kw = {}
    if st.px is not None and st.py is not None:
        kw = dict(px=st.px - cx, py=st.py - cy)
    return replace(st, precision="dd", az=cx, az_lo=0.0, aw=cy, aw_lo=0.0, x0=st.x0 - cx,
                   x1=st.x1 - cx, y0=st.y0 - cy, y1=st.y1 - cy, **kw)


def to_float64(st: ViewState) -> ViewState:
    kw = {}
    if st.px is not None and st.py is not None:
        kw = dict(px=st.az + st.px, py=st.aw + st.py)
    return replace(st, precision="float64", x0=st.az + st.x0, x1=st.az + st.x1,
                   y0=st.aw + st.y0, y1=st.aw + st.y1, az=0.0, az_lo=0.0, aw=0.0, aw_lo=0.0,
                   **kw)


def navigate(st: ViewState, window, nx, ny) -> Step:
    """The state for the plot's requested ``window = (x0, x1, y0, y1)`` from the shown state
    ``st`` at ``nx x ny`` pixels (see the module's docstring)."""
    try:
        x0, x1, y0, y1 = (float(v) for v in window)
    except (TypeError, ValueError):
        return Step(st, "the plot sent no usable window; kept the last one", push=True)
    if not all(np.isfinite([x0, x1, y0, y1])) or not (x0 < x1 and y0 < y1):
        return Step(st, "the plot's range broke down (float64 ran out of digits); kept the "
                        "last window", push=True)
    if max(abs(x0), abs(x1), abs(y0), abs(y1)) > 1e12:
        return Step(st, "the window must lie within |coordinate| <= 1e12; kept the last one",
                    push=True)
    new = replace(st, x0=x0, x1=x1, y0=y0, y1=y1)
    cx, cy, hx, hy = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    if new.precision == "float64":
        worst = min(_ulps(x0, x1, nx), _ulps(y0, y1, ny))
        if worst >= ULP_PIXELS:
            return Step(new)
        if make_problem(new).supports_double_double:
            dd = to_dd(new)
            return Step(dd, f"float64 stops resolving at width {x1 - x0:.3g}: switched to "
                            f"double-double (anchor ({dd.az!r}, {dd.aw!r}); the axes are now "
                            "offsets from it)", push=True)
        f = ULP_PIXELS / worst * 1.0001
        c = replace(new, **dict(zip(("x0", "x1"), _scaled(cx, hx, f))),
                    **dict(zip(("y0", "y1"), _scaled(cy, hy, f))))
        return Step(c, f"zoom stopped at width {c.x1 - c.x0:.3g}: float64 resolves no finer "
                       f"here and the {make_problem(new).name} problem has no double-double "
                       "kernel", push=True)
    message, push = None, False
    if min(_ulps(x0, x1, nx), _ulps(y0, y1, ny)) < RECENTRE_ULP:
        new = recentred(new)
        message, push = (f"re-centred the double-double anchor at ({new.az!r} + {new.az_lo!r}, "
                         f"{new.aw!r} + {new.aw_lo!r})"), True
    mag = max(abs(new.az) + abs(new.x0) + abs(new.x1), abs(new.aw) + abs(new.y0) + abs(new.y1))
    limit = ULP_PIXELS * DD_ULP * max(mag, 1e-300)
    pixel = min((new.x1 - new.x0) / nx, (new.y1 - new.y0) / ny)
    if pixel < limit:
        f = limit / pixel * 1.0001
        hx, hy = (new.x1 - new.x0) / 2, (new.y1 - new.y0) / 2
        cx, cy = (new.x0 + new.x1) / 2, (new.y0 + new.y1) / 2
        new = replace(new, **dict(zip(("x0", "x1"), _scaled(cx, hx, f))),
                      **dict(zip(("y0", "y1"), _scaled(cy, hy, f))))
        message, push = (f"zoom stopped at width {new.x1 - new.x0:.3g}: double-double "
                         f"precision runs out here (a pixel must be at least {ULP_PIXELS:g} ulp "
                         "of about 106 bits)"), True
    check_state(new)
    return Step(new, message, push)
