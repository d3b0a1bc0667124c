"""Convergence study of box-counting dimensions of the quotient map's convergence boundary.

:func:`quotient_boundary_tiled` computes the convergence region band by band with the engine
(one halo row above and below each band, so the boundary is exactly that of the full grid),
keeps only the boundary pixels (sparse indices: memory grows like the boundary, ~``n^1.3``, not
like the grid) and feeds an incremental :class:`BoxCounter` in a fixed frame.

:func:`convergence_study` repeats it over resolutions and step counts and reports, for each, the
paper's fixed procedure, the automatic estimator, and the raw counts ``N(eps)`` at box sizes
fixed in the (z, w) plane: a count at a fixed size settles once the pixel is much smaller than
the box, and the local slopes between fixed sizes say whether the dimension has settled at
those scales.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..engine import Slice2D
from ..errors import GdchaosInputError
from .boundaries import FIGURE3, quotient_boundary, quotient_region
from .boxcount import BoxCounter, box_dimension, paper_box_dimension

__all__ = ["TiledBoundary", "quotient_boundary_tiled", "ConvergenceResult",
           "convergence_study"]


@dataclass
class TiledBoundary:
    """Boundary pixels (``rows``, ``cols`` int32) of an ``n x n`` quotient grid."""

    grid: object  #: the engine's Slice2D of the (z, w) window
    rows: np.ndarray
    cols: np.ndarray
    region_pixels: int
    seconds: float
    counter: BoxCounter | None = None

    @property
    def n_boundary(self):
        return int(self.rows.size)

    def points(self):
        return np.stack([self.grid.xs[self.cols], self.grid.ys[self.rows]], axis=1)

    def mask(self):
        m = np.zeros((self.grid.ny, self.grid.nx), dtype=bool)
        m[self.rows, self.cols] = True
        return m


def quotient_boundary_tiled(n, steps, *, y=FIGURE3["y"], lam=FIGURE3["lam"],
                            eta=FIGURE3["eta"], zrange=FIGURE3["zrange"],
                            wrange=FIGURE3["wrange"], procedure="clean", criterion="engine",
                            margin=FIGURE3["margin"], wtol=FIGURE3["wtol"], tol=1e-12,
                            tile_points=1 << 22, counter=None, progress=False, scheduler=None,
                            client=None) -> TiledBoundary:
    """Boundary of the quotient convergence region on an ``n x n`` grid, band by band.

    Defaults are the figure-3 setting.  ``procedure``/``criterion``/``margin``: see
    :func:`quotient_boundary` and :func:`quotient_region`.  ``counter``: a
    :class:`BoxCounter` fed with each band's boundary points (in band order).
    ``scheduler`` (``"local:N"``, ``"tcp://HOST:PORT"``) or ``client`` (a
    ``dask.distributed.Client``): each band is one task on a Dask cluster (docs/cluster.md);
    the same pixels, region count and box counts as one process.
    """
    kw = _band_settings(y=y, lam=lam, eta=eta, zrange=zrange, wrange=wrange,
                        procedure=procedure, criterion=criterion, margin=margin, wtol=wtol,
                        tol=tol)
    n, steps = _check_case(n, steps)
    if scheduler is not None or client is not None:
        bands = _cluster_bands([(n, steps)], kw, tile_points, progress, scheduler, client)
        return _assemble(n, kw, bands[(n, steps)], counter)
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    out = [boundary_band(kw, (n, steps, r0, r1))
           for r0, r1 in tqdm(_bands(n, tile_points), disable=not progress,
                              desc=f"boundary {n}^2", unit="band", leave=False)]
    tb = _assemble(n, kw, out, counter)
    tb.seconds = time.perf_counter() - t0
    return tb


def _band_settings(**kw):
    """Check the settings every band uses, before any band runs (on a cluster: before it
    starts)."""
    from ..errors import check_positive

    check_positive("step size eta", kw["eta"])
    if kw["procedure"] not in ("paper", "clean"):
        raise GdchaosInputError(f"procedure must be 'paper' or 'clean', got {kw['procedure']!r}")
    if kw["criterion"] not in ("engine", "w"):
        raise GdchaosInputError(f"criterion must be 'engine' or 'w', got {kw['criterion']!r}")
    if kw["criterion"] == "w" and not 0 < kw["lam"] < abs(kw["y"]):
        raise GdchaosInputError("the w criterion needs 0 < lam < |y| (an isolated minimizer)")
    Slice2D.axes(2, kw["zrange"], kw["wrange"], 3)  # the window
    return kw


def _check_case(n, steps):
    n = int(n)
    if n < 3:
        raise GdchaosInputError(f"grid resolution must be >= 3, got {n}")
    return n, int(steps)


def _bands(n, tile_points):
    band = max(1, int(tile_points) // n)
    return [(r0, min(n, r0 + band)) for r0 in range(0, n, band)]


def boundary_band(kw, job) -> dict:
    """Boundary pixels of rows ``r0:r1`` of the ``n x n`` grid (``job = (n, steps, r0, r1)``),
    computed with one halo row above and below: a pure function of its arguments (one band of
    the single-process loop, or one task on a cluster)."""
    n, steps, r0, r1 = job
    t0 = time.perf_counter()
    grid = Slice2D.axes(2, kw["zrange"], kw["wrange"], n)
    a, b = max(0, r0 - 1), min(n, r1 + 1)
    sl = slice(a, b)
    reg, val = quotient_region(kw["y"], kw["lam"], kw["eta"], grid, steps, rows=sl,
                               criterion=kw["criterion"], wtol=kw["wtol"], tol=kw["tol"])
    bd = quotient_boundary(reg, val, grid, kw["y"], procedure=kw["procedure"],
                           margin=kw["margin"], rows=sl, halo=(a < r0, b > r1))
    core = slice(r0 - a, r0 - a + (r1 - r0))
    rr, cc = np.nonzero(bd[core])
    return {"case": (n, steps), "r0": r0, "rows": (rr + r0).astype(np.int32),
            "cols": cc.astype(np.int32), "region": int(reg[core].sum()),
            "seconds": time.perf_counter() - t0}


def _band_task(kw, job):
    from ..engine.threads import set_threads

    set_threads(1)  # one core per task: the cluster's workers are the parallelism
    return boundary_band(kw, job)


def _cluster_bands(cases, kw, tile_points, progress, scheduler, client) -> dict:
    """Every band of every ``(n, steps)`` case, one task each on a Dask cluster; returns
    ``{case: [band results]}`` (only boundary pixels travel back, never a band's map)."""
    from ..engine.cluster import connect, run_tasks

    jobs = [(n, st, r0, r1) for n, st in cases for r0, r1 in _bands(n, tile_points)]
    out = {case: [] for case in cases}
    with connect(scheduler, client) as cl:
        run_tasks(cl, _band_task, kw, jobs, on_result=lambda r: out[r["case"]].append(r),
                  progress=progress, desc="boundary bands")
    return out


def _assemble(n, kw, bands, counter) -> TiledBoundary:
    """The bands in row order: pixels concatenated, the counter fed band by band; ``seconds``
    = the bands' compute time (summed over tasks on a cluster)."""
    grid = Slice2D.axes(2, kw["zrange"], kw["wrange"], n)
    bands = sorted(bands, key=lambda r: r["r0"])
    if counter is not None:
        for r in bands:
            if r["rows"].size:
                counter.add(np.stack([grid.xs[r["cols"]], grid.ys[r["rows"]]], axis=1))
    return TiledBoundary(grid, np.concatenate([r["rows"] for r in bands]),
                         np.concatenate([r["cols"] for r in bands]),
                         sum(r["region"] for r in bands), sum(r["seconds"] for r in bands),
                         counter)


@dataclass
class ConvergenceResult:
    """Rows (one per resolution and step count) and the fixed-frame raw curves."""

    rows: list
    frame_eps: np.ndarray
    frame_counts: dict
    info: dict = field(default_factory=dict)

    def local_slopes(self, key):
        c = np.asarray(self.frame_counts[key], float)
        e = self.frame_eps
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.diff(np.log(c)) / np.diff(np.log(1.0 / e))

    def as_dict(self):
        return {"rows": self.rows, "frame_eps": self.frame_eps.tolist(),
                "frame_counts": {k: np.asarray(v).tolist() for k, v in self.frame_counts.items()},
                "frame_local_slopes": {k: self.local_slopes(k).tolist()
                                       for k in self.frame_counts},
                "info": self.info}

    def table(self):
        head = (f"{'n':>6} {'steps':>5} {'boundary':>9} {'paper':>7} {'auto':>7} "
                f"{'auto 95% CI':>17} {'auto eps range':>19} {'s':>6}")
        lines = [head]
        for r in self.rows:
            lines.append(f"{r['n']:>6} {r['steps']:>5} {r['n_boundary']:>9} "
                         f"{r['paper']:>7.4f} {r['auto']:>7.4f} "
                         f"[{r['auto_ci'][0]:.3f}, {r['auto_ci'][1]:.3f}] "
                         f"[{r['auto_eps'][1]:.2e}, {r['auto_eps'][0]:.2e}] "
                         f"{r['seconds']:>6.1f}")
        return "\n".join(lines)

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        x = np.sqrt(self.frame_eps[1:] * self.frame_eps[:-1])
        for k in self.frame_counts:
            ax.semilogx(x, self.local_slopes(k), "o-", ms=3, label=k)
        ax.invert_xaxis()
        ax.set_xlabel("box size eps (z, w units)")
        ax.set_ylabel("local slope of log N")
        ax.legend(fontsize=7)
        return ax


def convergence_study(resolutions=(500, 1000, 2000, 4000, 8000), steps=(200,), *,
                      procedure="clean", frame_k=(1, 12), progress=False, scheduler=None,
                      client=None, **kwargs) -> ConvergenceResult:
    """Dimension estimates of the figure-3 boundary (or another quotient setting through
    ``kwargs`` of :func:`quotient_boundary_tiled`) as resolution and step count grow.

    For each ``(n, steps)``: the paper's fixed procedure, the automatic estimator (on the
    boundary pixels' coordinates, pixel-size resolution), and incremental counts at the fixed
    sizes ``eps = side 2^-k``, ``k`` in ``frame_k`` (``side`` = the larger side of the window),
    boxes anchored at the window's corner.

    ``scheduler`` / ``client``: every band of every ``(n, steps)`` is one task on a Dask
    cluster, all submitted at once (docs/cluster.md); the same rows as one process (``seconds``:
    the bands' compute time summed over tasks).
    """
    zr = kwargs.get("zrange", FIGURE3["zrange"])
    wr = kwargs.get("wrange", FIGURE3["wrange"])
    side = max(zr[1] - zr[0], wr[1] - wr[0])
    ks = np.arange(int(frame_k[0]), int(frame_k[1]) + 1)
    frame_eps = side * 2.0 ** -ks.astype(float)
    rows, counts = [], {}
    cases = [_check_case(n, st) for st in steps for n in resolutions]
    pre = None
    if scheduler is not None or client is not None:
        import inspect

        names = ("y", "lam", "eta", "zrange", "wrange", "criterion", "margin", "wtol", "tol",
                 "tile_points")
        bad = sorted(set(kwargs) - set(names))
        if bad:
            raise GdchaosInputError(f"convergence_study: unknown settings {bad}")
        sig = inspect.signature(quotient_boundary_tiled).parameters
        kw = {k: kwargs.get(k, sig[k].default) for k in names}
        tile_points = kw.pop("tile_points")
        kw = _band_settings(procedure=procedure, **kw)
        pre = _cluster_bands(cases, kw, tile_points, progress, scheduler, client)
    for n, st in cases:
        counter = BoxCounter([zr[0], wr[0]], frame_eps)
        if pre is None:
            tb = quotient_boundary_tiled(n, st, procedure=procedure, counter=counter,
                                         progress=progress, **kwargs)
        else:
            tb = _assemble(n, kw, pre[(n, st)], counter)
        P = tb.points()
        t1 = time.perf_counter()
        pap = paper_box_dimension(P)
        auto = box_dimension(tb.mask(), xs=tb.grid.xs, ys=tb.grid.ys)
        key = f"n={n},steps={st}"
        c = counter.counts()
        # a box smaller than 2 pixels is not resolved: leave it out of the raw curve
        px = max((zr[1] - zr[0]), (wr[1] - wr[0])) / (int(n) - 1)
        counts[key] = np.where(frame_eps >= 2 * px, c, np.nan)
        rows.append({"n": int(n), "steps": int(st), "n_boundary": tb.n_boundary,
                     "region_pixels": tb.region_pixels, "paper": pap.dimension,
                     "paper_ci": list(pap.ci), "paper_counts": pap.counts.tolist(),
                     "auto": auto.dimension, "auto_ci": list(auto.ci),
                     "auto_eps": [float(auto.fit_eps[0]), float(auto.fit_eps[-1])],
                     "auto_method": auto.method,
                     "seconds": tb.seconds + time.perf_counter() - t1})
    info = {"procedure": procedure, "frame_side": side, "frame_k": [int(k) for k in ks]}
    info.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()})
    return ConvergenceResult(rows, frame_eps, counts, info)
