"""Is a basin boundary fractal?  Box counting against built-in null models (issue 23).

:func:`fractal_test` takes an engine store (a path or an opened dataset with its ``gdchaos_run``
attribute) and puts into one table the box-counting dimension (:func:`boundary_dimension`: the
one-pixel :func:`~gdchaos.analysis.boundaries.thin_boundary`, then
:func:`~gdchaos.analysis.boxcount.box_dimension`) of:

- the data at ``N``, ``2N`` and ``4N`` pixels a side (``levels``), recomputed through the engine
  from the store's recorded run (problem, slice, run configuration) on the same window;
- a smooth control: the analytic closed curve ``r = R (1 + a cos(m theta))`` rasterized on the
  finest grid, ``a`` chosen so that its boundary has as many pixels as the data's there (the
  same length), through the same pipeline;
- a randomized-boundary control: as many pixels as the data's boundary, drawn uniformly from the
  valid pixels of the finest grid (all structure destroyed), through the same pipeline.

Verdict, only where the intervals support one (every reason is listed in ``reasons``):

- ``"fractal"``: the estimates at the two finest levels exceed 1 (lower ends of their intervals
  above 1) and agree with each other (intervals overlap), the finest interval lies above the
  smooth control's estimate and does not hold the random control's, and the smooth control's
  interval holds 1 (the pipeline reads a smooth boundary of this length as smooth);
- ``"smooth"``: the intervals at the two finest levels hold 1, are at most ``smooth_width`` wide
  on either side, and the smooth control's interval holds 1;
- ``"undecided"`` otherwise, and whenever the finest estimate carries a scaling-range warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import GdchaosInputError
from .boundaries import dataset_labels, thin_boundary
from .boxcount import box_dimension

__all__ = ["FractalTestResult", "boundary_dimension", "fractal_test", "smooth_control_labels",
           "MAX_TEST_PIXELS"]

#: Finest grid (pixels) :func:`fractal_test` computes without ``allow_large``.
MAX_TEST_PIXELS = 4096 * 4096


def boundary_dimension(labels, xs=None, ys=None, *, exclude=None, warn=True, **kw):
    """Box-counting dimension of the one-pixel boundary of an outcome map (``labels`` 2-D ints,
    -1 invalid): :func:`~gdchaos.analysis.boundaries.thin_boundary` (``exclude``: pixels left
    out), then :func:`~gdchaos.analysis.boxcount.box_dimension` on its pixel centres ``xs``,
    ``ys``.  Raises :class:`GdchaosInputError` when the boundary has fewer than 10 pixels."""
    mask = thin_boundary(labels, exclude=exclude)
    if np.count_nonzero(mask) < 10:
        raise GdchaosInputError(f"the boundary has {int(np.count_nonzero(mask))} pixels "
                                "(fewer than 10): no dimension")
    return box_dimension(mask, xs=xs, ys=ys, warn=warn, **kw)


def smooth_control_labels(shape, a, m=12, radius=0.3):
    """Labels (1 inside) of ``r < R (1 + a cos(m theta))``, ``R = radius * min(shape)``, centred."""
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
    x, y = xx - (nx - 1) / 2.0, yy - (ny - 1) / 2.0
    R = radius * min(nx, ny)
    return (np.hypot(x, y) < R * (1.0 + a * np.cos(m * np.arctan2(y, x)))).astype(np.int16)


def _smooth_control(shape, target, m=12, a_max=0.6):
    """The smooth control whose thin boundary has about ``target`` pixels (``a`` by bisection;
    capped at ``a_max``)."""
    def count(a):
        return int(np.count_nonzero(thin_boundary(smooth_control_labels(shape, a, m))))

    lo, hi = 0.0, a_max
    if count(hi) <= target:
        return smooth_control_labels(shape, hi, m), hi, True
    if count(lo) >= target:
        return smooth_control_labels(shape, lo, m), lo, False
    for _ in range(20):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if count(mid) < target else (lo, mid)
    return smooth_control_labels(shape, hi, m), hi, False


@dataclass
class FractalTestResult:
    """One row per estimate (``name``, ``n``, ``n_boundary``, ``dimension``, ``ci``,
    ``warnings``, ``note``), the ``verdict`` and the ``reasons`` behind it."""

    rows: list
    verdict: str
    reasons: list
    info: dict = field(default_factory=dict)

    def as_dict(self):
        return {"rows": self.rows, "verdict": self.verdict, "reasons": list(self.reasons),
                "info": self.info}

    def row(self, name):
        return next(r for r in self.rows if r["name"] == name)

    def table(self):
        lines = ["| estimate | grid | boundary px | D | 95% interval | note |",
                 "|---|---|---|---|---|---|"]
        for r in self.rows:
            note = "; ".join([r.get("note") or ""] + list(r["warnings"])).strip("; ")
            lines.append(f"| {r['name']} | {r['n']} | {r['n_boundary']} | {r['dimension']:.4f} |"
                         f" [{r['ci'][0]:.4f}, {r['ci'][1]:.4f}] | {note} |")
        lines.append(f"\nverdict: {self.verdict}")
        lines += [f"  - {x}" for x in self.reasons]
        return "\n".join(lines)


def _row(name, n, res, note=""):
    return {"name": name, "n": n, "n_boundary": int(res.n_points),
            "dimension": float(res.dimension), "ci": [float(res.ci[0]), float(res.ci[1])],
            "warnings": list(res.warnings), "note": note, "fit": {
                "octaves": res.frame["octaves"], "model": res.frame.get("model"),
                "C": res.frame.get("C")}}


def _open(store_or_dataset):
    from ..engine import open_store, run_info

    ds = open_store(store_or_dataset) if isinstance(store_or_dataset, (str, bytes)) or hasattr(
        store_or_dataset, "__fspath__") else store_or_dataset
    if not hasattr(ds, "attrs") or "gdchaos_run" not in ds.attrs:
        raise GdchaosInputError("fractal_test needs an engine store (a dataset with its "
                                "'gdchaos_run' attribute)")
    return ds, run_info(ds)


def _rerun(run, factor):
    """The store's run on a grid ``factor`` times finer: ``(problem, dataset, grid, gap)``
    (``gap``: distance to the edge of the state space, ``None`` where it has none)."""
    from ..engine import RunConfig, Slice2D, basin
    from ..problems import BUILTIN

    params = dict(run["problem"])
    cls = BUILTIN.get(params.pop("problem", None))
    if cls is None:
        raise GdchaosInputError("fractal_test recomputes the store's run: its problem must be a "
                                f"built-in one ({', '.join(BUILTIN)})")
    prob = cls(**params)
    g = run["grid"]
    grid = Slice2D(np.asarray(g["center"], float), np.asarray(g["directions"], float),
                   tuple(g["xrange"]), tuple(g["yrange"]), int(g["nx"]) * factor,
                   int(g["ny"]) * factor, g.get("seed"))
    cfg = RunConfig(**run["config"])
    ds = basin(prob, grid, config=cfg, coordinate=run.get("coordinate"), records=())
    gap = prob.edge_gap(grid.points())
    return prob, ds, grid, None if gap is None else gap.reshape(grid.ny, grid.nx)


def fractal_test(store_or_dataset, *, levels=(1, 2, 4), mode="converged", margin=None,
                 seed=0, smooth_width=0.1, allow_large=False, progress=False):
    """Box-counting dimension of a stored basin boundary beside resolution refinement and two
    null models, with a verdict (see the module docstring).

    ``mode``: the outcome labels (:func:`~gdchaos.analysis.boundaries.outcome_labels`).
    ``margin``: pixels closer than this to the edge of the problem's state space are left out
    (default ``1e-2`` where the problem has such an edge, as in figure 3).  ``levels``:
    refinement factors (increasing; at least two).  The finest grid may hold at most
    :data:`MAX_TEST_PIXELS` pixels unless ``allow_large``.
    """
    from tqdm.auto import tqdm

    levels = sorted({int(v) for v in levels})
    if len(levels) < 2 or levels[0] < 1:
        raise GdchaosInputError(f"levels must hold at least two factors >= 1, got {levels}")
    ds, run = _open(store_or_dataset)
    g = run.get("grid") or {}
    if not {"nx", "ny", "xrange", "yrange"} <= set(g):
        raise GdchaosInputError("the store's run has no 2-D slice to refine")
    finest = int(g["nx"]) * int(g["ny"]) * levels[-1] ** 2
    if finest > MAX_TEST_PIXELS and not allow_large:
        raise GdchaosInputError(f"the finest grid would have {finest} pixels (more than "
                                f"{MAX_TEST_PIXELS}); give allow_large=True (--allow-large)")
    rows, masks = [], {}
    for f in tqdm(levels, disable=not progress, desc="fractal-test", unit="grid", leave=False):
        prob, dsf, grid, gap = _rerun(run, f)
        mg = (1e-2 if gap is not None else 0.0) if margin is None else float(margin)
        excl = None if gap is None else gap < mg
        lab = dataset_labels(dsf, mode)
        res = boundary_dimension(lab, grid.xs, grid.ys, exclude=excl, warn=False, seed=seed)
        rows.append(_row(f"data x{f}", f"{grid.nx} x {grid.ny}", res))
        masks[f] = (lab, excl, grid)
    lab, excl, grid = masks[levels[-1]]
    target = rows[-1]["n_boundary"]
    ctrl, a, capped = _smooth_control(lab.shape, target)
    rs = boundary_dimension(ctrl, grid.xs, grid.ys, warn=False, seed=seed)
    rows.append(_row("smooth control", f"{grid.nx} x {grid.ny}", rs,
                     f"r = R(1 + {a:.3f} cos 12t)" + (" (length capped)" if capped else "")))
    valid = (lab >= 0) if excl is None else (lab >= 0) & ~excl
    idx = np.flatnonzero(valid.ravel())
    rng = np.random.default_rng(seed)
    pick = rng.choice(idx, size=min(target, idx.size), replace=False)
    rnd = np.zeros(lab.size, dtype=bool)
    rnd[pick] = True
    rr = box_dimension(rnd.reshape(lab.shape), xs=grid.xs, ys=grid.ys, warn=False, seed=seed)
    rows.append(_row("random control", f"{grid.nx} x {grid.ny}", rr,
                     "same pixel count, uniform over the valid pixels"))
    verdict, reasons = _verdict(rows[len(levels) - 2], rows[len(levels) - 1], rows[-2], rows[-1],
                                smooth_width)
    info = {"run": run, "mode": mode, "levels": levels, "seed": int(seed),
            "margin": margin, "smooth_width": float(smooth_width)}
    return FractalTestResult(rows, verdict, reasons, info)


def _overlap(a, b):
    return a["ci"][0] <= b["ci"][1] and b["ci"][0] <= a["ci"][1]


def _has(r, v):
    return r["ci"][0] <= v <= r["ci"][1]


def _verdict(prev, fine, smooth, rand, smooth_width):
    reasons = []
    if fine["warnings"]:
        reasons += [f"finest estimate: {w}" for w in fine["warnings"]]
        return "undecided", reasons
    stable = _overlap(prev, fine)
    reasons.append(f"refinement: {prev['name']} and {fine['name']} intervals "
                   f"{'overlap' if stable else 'do not overlap (the estimate still moves)'}")
    smooth_ok = _has(smooth, 1.0)
    reasons.append(f"smooth control {'holds' if smooth_ok else 'does not hold'} 1 "
                   f"({smooth['dimension']:.3f} [{smooth['ci'][0]:.3f}, {smooth['ci'][1]:.3f}])")
    above = prev["ci"][0] > 1.0 and fine["ci"][0] > 1.0
    sep_s = fine["ci"][0] > smooth["dimension"]
    sep_r = not _has(fine, rand["dimension"])
    if above and stable and smooth_ok and sep_s and sep_r:
        reasons.append(f"both finest intervals lie above 1, the finest above the smooth "
                       f"control's estimate and away from the random control's "
                       f"({rand['dimension']:.3f})")
        return "fractal", reasons
    narrow = all(r["ci"][1] - 1.0 <= smooth_width and 1.0 - r["ci"][0] <= smooth_width
                 for r in (prev, fine))
    if _has(prev, 1.0) and _has(fine, 1.0) and narrow and smooth_ok and stable:
        reasons.append(f"both finest intervals hold 1 within +-{smooth_width:g}")
        return "smooth", reasons
    if not above and not (_has(prev, 1.0) and _has(fine, 1.0)):
        reasons.append("the finest intervals neither both exceed 1 nor both hold 1")
    elif above and not sep_s:
        reasons.append("the finest interval is not above the smooth control's estimate")
    elif above and not sep_r:
        reasons.append("the finest interval holds the random control's estimate")
    elif not narrow:
        reasons.append(f"the intervals are wider than +-{smooth_width:g}")
    return "undecided", reasons
