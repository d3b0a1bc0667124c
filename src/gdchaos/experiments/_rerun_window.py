"""A rerun's new window (``gdchaos rerun --range``): checked, recorded as a change, and given to
the recorded axes or slice."""

from __future__ import annotations

import numpy as np

from ..errors import GdchaosInputError, check_finite


def axes(run):
    from ..engine import Axis

    return [Axis(a["name"], a["lo"], a["hi"], a["scale"] == "log")
            for a in (run["x_axis"], run["y_axis"])]


def check_window(window):
    """``(x0, x1, y0, y1)`` of a window given as four finite numbers, x0 < x1, y0 < y1."""
    vals = list(np.ravel(np.asarray(window, dtype=object)))
    if len(vals) != 4:
        raise GdchaosInputError(f"window (--range) must be XMIN,XMAX,YMIN,YMAX, got {window!r}")
    x0, x1, y0, y1 = (check_finite("window (--range)", v) for v in vals)
    if not (x0 < x1 and y0 < y1):
        raise GdchaosInputError(f"window (--range) needs XMIN < XMAX and YMIN < YMAX, got "
                                f"{x0!r},{x1!r},{y0!r},{y1!r}")
    return (x0, x1, y0, y1)


def window_change(changes, old, window):
    """Record a new window in ``changes`` (``range``: recorded -> new); the window in use."""
    old = [float(v) for v in old]
    if window is not None and list(window) != old:
        changes["range"] = (old, list(window))
        return tuple(window)
    return tuple(old)


def axis_flags(x, y):
    """The ``--x-axis`` and ``--y-axis`` words of the axes ``x`` and ``y``."""
    return {"--x-axis": f"{x.name}:{'log' if x.log else 'lin'}:{x.lo!r},{x.hi!r}",
            "--y-axis": f"{y.name}:{'log' if y.log else 'lin'}:{y.lo!r},{y.hi!r}"}


def windowed_axes(run, changes, window):
    """The recorded axes, over ``window`` where one is given (its change in ``changes``)."""
    from ..engine import Axis

    x, y = axes(run)
    lo_hi = window_change(changes, (x.lo, x.hi, y.lo, y.hi), window)
    return Axis(x.name, lo_hi[0], lo_hi[1], x.log), Axis(y.name, lo_hi[2], lo_hi[3], y.log)
