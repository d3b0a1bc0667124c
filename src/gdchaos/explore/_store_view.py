"""A store as an explorer view: the run it records, over any window (no web code here).

A store of ``gdchaos basin``, ``map`` or ``nn map`` records its run (``gdchaos_run``).
:class:`StoreView` reads that record and computes the map of another window in memory with
:func:`gdchaos.experiments.rerun.recompute` (``window=``, the recorded run over it), so a view of
a store is, bit for bit, what ``gdchaos rerun STORE --range=... --grid NX,NY`` writes:
:meth:`StoreView.reproduce` prints that command.  Windows are in display coordinates: an axis's values, log10 of them for a
log axis, and are the map's outer edges (as a plot's ranges are); the store's ``--range`` is its
first and last pixels' centres.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass

import numpy as np

from ..errors import GdchaosInputError


@dataclass
class StoreMap:
    """A computed view: ``status`` (ny, nx), the pixel centres in display coordinates, the
    store's variables (``dataset``, loaded) and the reproduce command."""

    status: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    dataset: object  # the run's variables (in memory)
    command: str


class StoreView:
    """The recorded run of the store at ``store`` as a view over any window."""

    def __init__(self, store):
        from ..engine import open_store
        from ..experiments.rerun import plan_rerun

        self.store = os.fspath(store)
        plan = plan_rerun(self.store)  # one line for anything that is not a rerunnable store
        if plan.kind == "nn slice":
            raise GdchaosInputError(f"store {self.store}: an nn slice store keeps its recorded "
                                    "window; the explorer opens basin, map and nn map stores")
        self.kind = plan.kind
        self.nx, self.ny = plan.grid
        self.iters = plan.iters
        ds = open_store(self.store)  # its coordinates: a log axis has scale "log"
        self.log = tuple(ds[c].attrs.get("scale") == "log" for c in ("x", "y"))
        self.labels = tuple(_label(ds[c], log) for c, log in zip(("x", "y"), self.log))
        cx, cy = self._display(np.asarray(ds.x.values, float), 0), \
            self._display(np.asarray(ds.y.values, float), 1)
        self.window = _edges(cx, self.nx) + _edges(cy, self.ny)

    def _display(self, v, i):
        return np.log10(v) if self.log[i] else v

    def _value(self, v, i):
        return 10.0 ** v if self.log[i] else v

    def centres(self, window, nx, ny):
        """The pixel centres of ``window`` (``x0, x1, y0, y1``: edges, display coordinates) at
        ``nx x ny`` pixels, in display coordinates."""
        x0, x1, y0, y1 = (float(v) for v in window)
        if not (np.isfinite([x0, x1, y0, y1]).all() and x0 < x1 and y0 < y1):
            raise GdchaosInputError(f"a window needs finite x0 < x1 and y0 < y1, got {window!r}")
        dx, dy = (x1 - x0) / nx, (y1 - y0) / ny
        return x0 + (np.arange(nx) + 0.5) * dx, y0 + (np.arange(ny) + 0.5) * dy

    def store_range(self, window, nx, ny):
        """The ``--range`` (first and last pixels' centres, the store's coordinate values)."""
        xs, ys = self.centres(window, nx, ny)
        x0, x1 = float(self._value(xs[0], 0)), float(self._value(xs[-1], 0))
        y0, y1 = float(self._value(ys[0], 1)), float(self._value(ys[-1], 1))
        # one pixel: its centre, and the next float above it as the range's end (the store's
        # coordinate of a single pixel is the range's start)
        return (x0, x1 if nx > 1 else float(np.nextafter(x0, np.inf)),
                y0, y1 if ny > 1 else float(np.nextafter(y0, np.inf)))

    def reproduce(self, window, nx, ny, out="view.zarr"):
        """The ``gdchaos rerun`` command whose store is this view's map."""
        rng = ",".join(repr(v) for v in self.store_range(window, nx, ny))
        return (f"gdchaos rerun {shlex.quote(self.store)} --range={rng} --grid {nx},{ny} "
                f"--out {shlex.quote(out)}")

    def compute(self, window, nx, ny, threads=None) -> StoreMap:
        """The recorded run over ``window`` at ``nx x ny`` pixels (in memory)."""
        from ..experiments.rerun import recompute

        xs, ys = self.centres(window, nx, ny)
        ds = recompute(self.store, window=self.store_range(window, nx, ny), grid=(nx, ny),
                       threads=threads)
        return StoreMap(np.asarray(ds.status.values, np.int8), xs, ys, ds,
                        self.reproduce(window, nx, ny))


def _edges(c, n):
    """The outer edges of ``n`` pixel centres ``c`` (evenly spaced)."""
    if n < 2:
        return (float(c[0]) - 0.5, float(c[0]) + 0.5)
    d = (float(c[-1]) - float(c[0])) / (n - 1)
    return (float(c[0]) - d / 2, float(c[-1]) + d / 2)


def _label(coord, log):
    name = str(coord.attrs.get("long_name") or coord.name).split(" (")[0]
    return f"log10 {name}" if log else str(name)
