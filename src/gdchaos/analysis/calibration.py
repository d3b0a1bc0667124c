"""Sets of known dimension, to calibrate the box-counting and exponent estimators (issue 23).

:func:`dimension_family` lists cases ``(name, kind, truth, make)``: self-similar sets at several
angles and samplings (deterministic cover points, natural-measure samples, pixel masks), smooth
closed and open curves at random angles (points and one-pixel digital boundaries), products with
Cantor sets, filled regions, and smooth basins computed by the engine (scalar factorization with
``lam = 0`` and ``eta |y| < 1``, whose convergence region is the analytic set ``D0`` up to a null
set: SPEC section 2; outcome ``"diverged"``, so that the stable line of the saddle inside the
region, a null set that shows as dotted pixels, is not part of the boundary).  :func:`calibrate_dimension` runs the estimator on each and returns one
row per case; :func:`summary` the coverage of the 95% intervals and the median absolute error.
``benchmarks/calibrate_dimension.py`` prints the table of docs/analysis.md; the exponent study
(:func:`exponent_family`) is ``benchmarks/calibrate_exponents.py``.
"""

from __future__ import annotations

import warnings

import numpy as np

from .boundaries import dataset_labels, thin_boundary
from .selfsimilar import random_ifs

__all__ = ["dimension_family", "calibrate_dimension", "exponent_family", "calibrate_exponents",
           "summary", "cantor_labels", "cantor_outcome"]

LOG = np.log


def _rot(P, th):
    c, s = np.cos(th), np.sin(th)
    return P @ np.array([[c, s], [-s, c]])


def _ifs_points(maps, ratio, level):
    """All level-``level`` images of the first map's fixed point under ``x -> ratio x + t``."""
    t = np.asarray(maps, float)
    p = t[0] / (1 - ratio)
    pts = p[None]
    for _ in range(level):
        pts = (ratio * pts[None] + t[:, None]).reshape(-1, 2)
    return pts


def _ifs_chaos(maps, ratio, n, seed):
    rng = np.random.default_rng(seed)
    t = np.asarray(maps, float)
    x = np.zeros((n, 2))
    for _ in range(int(np.ceil(np.log(1e-12) / np.log(ratio)))):
        x = ratio * x + t[rng.integers(0, len(t), n)]
    return x


SIERPINSKI = ([0, 0], [0.5, 0], [0.25, np.sqrt(3) / 4])
VICSEK = tuple([a / 3, b / 3] for a, b in ((0, 0), (2, 0), (1, 1), (0, 2), (2, 2)))
CARPET = tuple([a / 3, b / 3] for a in range(3) for b in range(3) if (a, b) != (1, 1))
DUST = ([0, 0], [0.7, 0], [0, 0.7], [0.7, 0.7])  # ratio 0.3


def _koch(level, th):
    pts = np.array([0.0 + 0j, 1.0 + 0j])
    rot = np.exp(1j * np.pi / 3)
    for _ in range(level):
        a, b = pts[:-1], pts[1:]
        d = (b - a) / 3
        new = np.empty(4 * a.size + 1, dtype=complex)
        new[0:-1:4], new[1::4], new[2::4], new[3::4] = a, a + d, a + d + d * rot, a + 2 * d
        new[-1] = pts[-1]
        pts = new
    f = np.linspace(0, 1, 4, endpoint=False)
    a, b = pts[:-1], pts[1:]
    z = np.append((a[:, None] + (b - a)[:, None] * f).ravel(), pts[-1])
    return _rot(np.stack([z.real, z.imag], 1), th)


def _cantor_points(level):
    x = np.array([0.0, 1.0])
    for _ in range(level):
        x = np.concatenate([x / 3, 2 / 3 + x / 3])
    return np.unique(x)


def cantor_labels(n, levels=14, ny=None):
    """``ny x n`` outcome map of a Cantor x interval basin: a column's label is the parity of the
    level of the middle-third gap holding its centre (0 outside every gap to ``levels``); the
    boundary is the middle-thirds Cantor set times an interval (dimension 1 + log 2 / log 3)."""
    x = (np.arange(n) + 0.5) / n
    return np.tile(cantor_outcome(np.stack([x, x], 1), levels), (ny or n, 1))


def cantor_outcome(X, levels=40):
    """Outcome function of the same basin at points ``X`` (``(m, 2)``, first coordinate in
    [0, 1])."""
    u = np.clip(np.asarray(X, float)[:, 0], 0.0, 1.0 - 1e-16).copy()
    lev = np.full(u.size, -1)
    for k in range(levels):
        d = np.floor(u * 3)
        lev[(d == 1) & (lev < 0)] = k
        u = u * 3 - d
    return np.where(lev < 0, 0, lev % 2).astype(np.int16)


def _grid(n):
    yy, xx = np.mgrid[0:n, 0:n].astype(float)
    return xx, yy


def _digital(kind, n, th):
    xx, yy = _grid(n)
    x, y = xx - n / 2.1, yy - n / 1.9
    c, s = np.cos(th), np.sin(th)
    if kind == "disk":
        lab = np.hypot(x, y) < n / 3
    elif kind == "ellipse":
        lab = (x * c + y * s) ** 2 / (0.42 * n) ** 2 + (y * c - x * s) ** 2 / (0.2 * n) ** 2 < 1
    else:  # half-plane: an open segment cut by the frame
        lab = y * c - x * s > 0
    return thin_boundary(lab.astype(np.int16))


def _engine_basin(eta, n, window=(-4.5, 4.5)):
    from ..engine import Slice2D, basin
    from ..problems import BUILTIN

    prob = BUILTIN["scalar"](d=1, y=1.0, lam=0.0)
    grid = Slice2D.axes(2, window, window, n)
    ds = basin(prob, grid, eta=eta, max_iter=1000, records=())
    return thin_boundary(dataset_labels(ds, "diverged")), grid


def _segment(n, th, seed):
    t = np.random.default_rng(seed).random(n)
    return np.stack([t * np.cos(th), t * np.sin(th)], 1)


def _sine(n, th):
    x = np.linspace(0, 1, n)
    return _rot(np.stack([x, 0.15 * np.sin(7 * x)], 1), th)


def _ellipse_pts(n, th):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return _rot(np.stack([np.cos(t), 0.4 * np.sin(t)], 1), th)


def _cantor_x_interval(level, m):
    cx = _cantor_points(level)
    y = np.linspace(0, 1, m)
    return np.stack(np.meshgrid(cx, y), -1).reshape(-1, 2)


def dimension_family(quick=False, seed=2026):
    """The calibration cases ``(name, kind, truth, make)``; ``make()`` returns the data and the
    keywords of :func:`box_dimension`.  ``quick``: a fast subset (a few seconds) for the tests."""
    ang = np.random.default_rng(seed).uniform(0, np.pi / 2, 8)
    ds, dv, dc, dd = LOG(3) / LOG(2), LOG(5) / LOG(3), LOG(8) / LOG(3), LOG(4) / -LOG(0.3)
    dk, dci = LOG(4) / LOG(3), 1 + LOG(2) / LOG(3)
    cases = [
        ("sierpinski cover 0 rad", "points", ds, lambda: (_ifs_points(SIERPINSKI, .5, 11), {})),
        ("sierpinski chaos %.2f rad" % ang[0], "points", ds,
         lambda: (_rot(_ifs_chaos(SIERPINSKI, .5, 200_000, 1), ang[0]), {})),
        ("koch %.2f rad" % ang[1], "points", dk, lambda: (_koch(7, ang[1]), {})),
        ("vicsek cover %.2f rad" % ang[2], "points", dv,
         lambda: (_rot(_ifs_points(VICSEK, 1 / 3, 7), ang[2]), {})),
        ("carpet cover 0 rad", "points", dc, lambda: (_ifs_points(CARPET, 1 / 3, 6), {})),
        ("cantor dust %.2f rad" % ang[3], "points", dd,
         lambda: (_rot(_ifs_points(DUST, 0.3, 8), ang[3]), {})),
        ("random IFS 1001 cover", "points", random_ifs(1001).dimension,
         lambda: (random_ifs(1001).cover_points(200_000 ** (-1 / random_ifs(1001).dimension)),
                  {})),
        ("random IFS 1002 chaos", "points", random_ifs(1002).dimension,
         lambda: (random_ifs(1002).chaos_points(200_000, seed=2), {})),
        ("random IFS 1003 mask 1024", "mask", random_ifs(1003).dimension,
         lambda: (random_ifs(1003).mask(1024), {})),
        ("ellipse points %.2f rad" % ang[4], "points", 1.0,
         lambda: (_ellipse_pts(200_000, ang[4]), {})),
        ("segment random %.2f rad" % ang[5], "points", 1.0,
         lambda: (_segment(20_000, ang[5], 5), {})),
        ("sine arc %.2f rad" % ang[6], "points", 1.0, lambda: (_sine(100_000, ang[6]), {})),
        ("digital disk 1500", "mask", 1.0, lambda: (_digital("disk", 1500, 0), {})),
        ("digital ellipse 1200 %.2f rad" % ang[7], "mask", 1.0,
         lambda: (_digital("ellipse", 1200, ang[7]), {})),
        ("digital half-plane 1200 %.2f rad" % ang[5], "mask", 1.0,
         lambda: (_digital("half", 1200, ang[5]), {})),
        ("cantor x interval points", "points", dci,
         lambda: (_cantor_x_interval(9, 300), {})),
        ("cantor x interval basin 2187", "mask", dci,
         lambda: (thin_boundary(cantor_labels(2187)), {})),
        ("filled square points", "points", 2.0,
         lambda: (np.stack(np.meshgrid(*[np.arange(600) / 600] * 2), -1).reshape(-1, 2), {})),
        ("filled square mask", "mask", 2.0, lambda: (np.ones((800, 800), bool), {})),
    ]
    for eta, n in ((0.2, 1200), (0.5, 1200), (0.8, 1600)):
        def make(eta=eta, n=n):
            m, g = _engine_basin(eta, n)
            return m, {"xs": g.xs, "ys": g.ys}
        cases.append((f"engine scalar lam=0 eta={eta} {n}", "engine", 1.0, make))
    if quick:
        keep = ("sierpinski cover 0 rad", "segment random", "digital half-plane", "cantor dust")
        cases = [c for c in cases if c[0].startswith(keep)]
        cases = [c if not c[0].startswith("sierpinski") else
                 (c[0].replace("cover 0 rad", "cover 0 rad (level 9)"), c[1], c[2],
                  lambda: (_ifs_points(SIERPINSKI, .5, 9), {})) for c in cases]
        cases.append(("engine scalar lam=0 eta=0.5 600", "engine", 1.0,
                      lambda: (lambda m_g: (m_g[0], {"xs": m_g[1].xs, "ys": m_g[1].ys}))(
                          _engine_basin(0.5, 600))))
    return cases


def calibrate_dimension(cases, **kw):
    """One row per case: truth, estimate, interval, covered, error, octaves, warnings."""
    from .boxcount import box_dimension

    rows = []
    for name, kind, truth, make in cases:
        data, extra = make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = box_dimension(data, **{**extra, **kw}, warn=False)
        lo, hi = (float(c) for c in r.ci)
        rows.append({"name": name, "kind": kind, "truth": float(truth),
                     "estimate": float(r.dimension), "ci": [lo, hi],
                     "covered": bool(lo <= truth <= hi), "error": float(r.dimension - truth),
                     "octaves": float(r.frame["octaves"]), "n": int(r.n_points),
                     "model": r.frame.get("model"), "warnings": list(r.warnings)})
    return rows


def summary(rows):
    """Coverage of the intervals, median and largest absolute error, mean half-width."""
    err = np.abs([r["error"] for r in rows])
    return {"cases": len(rows), "coverage": float(np.mean([r["covered"] for r in rows])),
            "median_abs_error": float(np.median(err)), "max_abs_error": float(err.max()),
            "mean_half_width": float(np.mean([(r["ci"][1] - r["ci"][0]) / 2 for r in rows]))}


def _disk_outcome(X):
    return (np.hypot(X[:, 0], X[:, 1]) < 0.6).astype(np.int16)


def exponent_family(quick=False):
    """Cases ``(name, measure, truth, make)`` for the basin-entropy and uncertainty exponents:
    ``measure`` is ``"entropy"`` (``make()`` returns an outcome map) or ``"uncertainty"``
    (``make()`` returns ``(outcome, sampler, eps, n_points)``)."""
    from .uncertainty import box_sampler, engine_outcome

    a_c = 1 - LOG(2) / LOG(3)
    xx, yy = _grid(1200)
    cases = [
        ("entropy disk 1200", "entropy", 1.0,
         lambda: (np.hypot(xx - 571, yy - 632) < 400).astype(np.int16)),
        ("entropy half-plane 1200", "entropy", 1.0,
         lambda: ((yy - 600) * np.cos(.3) - (xx - 600) * np.sin(.3) > 0).astype(np.int16)),
        ("entropy cantor basin 2187", "entropy", a_c, lambda: cantor_labels(2187)),
        ("entropy engine scalar lam=0 eta=0.5 1200", "entropy", 1.0,
         lambda: _engine_labels(0.5, 1200)),
        ("uncertainty disk", "uncertainty", 1.0,
         lambda: (_disk_outcome, box_sampler([-1, -1], [1, 1]), np.geomspace(1e-1, 1e-6, 16),
                  200_000)),
        ("uncertainty cantor basin", "uncertainty", a_c,
         lambda: (cantor_outcome, box_sampler([0, 0], [1, 1]), np.geomspace(1e-1, 1e-6, 16),
                  200_000)),
        ("uncertainty engine scalar lam=0 eta=0.5", "uncertainty", 1.0,
         lambda: (engine_outcome(_scalar0(), 0.5, "diverged", max_iter=1000), box_sampler([-3, -3], [3, 3]),
                  np.geomspace(1e-1, 1e-5, 9), 50_000)),
    ]
    if quick:
        cases = [c for c in cases if "engine" not in c[0] and "2187" not in c[0]]
        cases.append(("entropy cantor basin 729", "entropy", a_c, lambda: cantor_labels(729)))
    return cases


def _scalar0():
    from ..problems import BUILTIN

    return BUILTIN["scalar"](d=1, y=1.0, lam=0.0)


def _engine_labels(eta, n):
    from ..engine import Slice2D, basin

    ds = basin(_scalar0(), Slice2D.axes(2, (-4.5, 4.5), (-4.5, 4.5), n), eta=eta, max_iter=1000,
               records=())
    return dataset_labels(ds, "diverged")


def calibrate_exponents(cases, seed=0):
    """One row per case of :func:`exponent_family` (``estimate`` = the exponent alpha)."""
    from .basin_entropy import basin_entropy_scaling
    from .uncertainty import uncertainty_exponent

    rows = []
    for name, measure, truth, make in cases:
        if measure == "entropy":
            r = basin_entropy_scaling(make())
            est, ci = r.fit.slope, r.fit.ci
        else:
            fn, sampler, eps, n = make()
            u = uncertainty_exponent(fn, sampler, eps, n, seed=seed)
            est, ci = u.alpha, u.ci
        lo, hi = float(ci[0]), float(ci[1])
        rows.append({"name": name, "kind": measure, "truth": float(truth),
                     "estimate": float(est), "ci": [lo, hi], "covered": bool(lo <= truth <= hi),
                     "error": float(est - truth)})
    return rows
