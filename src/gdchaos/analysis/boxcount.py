"""Box-counting dimension of point sets and boundary masks (SPEC section 4, figure 3 right).

Two estimators:

- :func:`box_dimension`, the automatic one: box sizes from the set's extent down to a few times
  its resolution (nearest-neighbour spacing, or the pixel size of a mask), ``per_octave`` sizes
  per factor 2, counts averaged over several shifted box grids, boxes clipped at the bounding
  box on both axes when the set fills the faces of one, the model ``N = A eps^-D + C`` fitted
  over a window set by a stated rule (:mod:`._dimfit`), a 95% interval from the regression, the
  grid offsets and the spread over sub-ranges, and ``warnings`` when the scaling range is too
  short to support a dimension (:data:`SCALING_RULE`).
- :func:`paper_box_dimension`, the paper's fixed procedure: points normalized into ``[0, 1]^2``
  (shift by the minimum, divide by the largest side), ``eps = 2^-2 ... 2^-8``, boxes
  ``[k eps, (k+1) eps)`` with the last one closed (what ``numpy.histogram2d`` on the edges
  ``0, eps, ..., 1`` does), least-squares slope.

Both return a :class:`BoxCountResult` holding the raw curve ``(eps, counts)`` beside the fit.
:class:`BoxCounter` counts boxes incrementally, tile by tile, in a fixed frame.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import GdchaosInputError
from ._boxgrid import _count_unique, _edge_deficit, _filled_edges, _ladder_counts
from ._fit import LinearFit, fit_line

__all__ = ["BoxCountResult", "box_counts", "box_dimension", "paper_box_dimension",
           "normalize_unit_square", "mask_points", "BoxCounter", "plot_box_counts",
           "DimensionWarning"]


class DimensionWarning(UserWarning):
    """A dimension was estimated on too short a scaling range or too few pixels to support it
    (:data:`SCALING_RULE`): the estimate is returned, its reasons are in ``result.warnings``."""


@dataclass
class BoxCountResult:
    """A box-counting dimension with the curve it was fitted on.

    ``eps`` (decreasing) and ``counts`` are the raw curve; ``fit_range`` the inclusive indices of
    the fitted part; ``ci`` the 95% interval of the dimension; ``ci_stat`` the regression-only
    interval; ``sys`` the systematic half-width (spread of sub-range slopes; 0 for the paper's
    fixed procedure).
    """

    dimension: float
    ci: tuple
    eps: np.ndarray
    counts: np.ndarray
    fit_range: tuple
    fit: LinearFit
    method: str
    n_points: int
    ci_stat: tuple = (np.nan, np.nan)
    sys: float = 0.0
    frame: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    @property
    def fit_eps(self):
        return self.eps[self.fit_range[0]:self.fit_range[1] + 1]

    @property
    def fit_counts(self):
        return self.counts[self.fit_range[0]:self.fit_range[1] + 1]

    def as_dict(self):
        return {"dimension": float(self.dimension), "ci": [float(c) for c in self.ci],
                "ci_stat": [float(c) for c in self.ci_stat], "sys": float(self.sys),
                "eps": self.eps.tolist(), "counts": np.asarray(self.counts, float).tolist(),
                "fit_range": list(self.fit_range), "method": self.method,
                "n_points": int(self.n_points), "fit": self.fit.as_dict(), "frame": self.frame,
                "warnings": list(self.warnings)}

    def plot(self, ax=None, **kw):
        return plot_box_counts(self, ax=ax, **kw)


def _as_points(points):
    P = np.asarray(points, dtype=float)
    if P.ndim == 1:
        P = P[:, None]
    if P.ndim != 2 or P.shape[0] == 0:
        raise GdchaosInputError(f"points must be a non-empty (n, D) array, got shape {P.shape}")
    P = P[np.all(np.isfinite(P), axis=1)]
    if P.shape[0] == 0:
        raise GdchaosInputError("points has no finite row")
    return P


def mask_points(mask, xs=None, ys=None):
    """Coordinates ``(x, y)`` of the true pixels of a 2-D mask indexed ``[row(y), col(x)]``;
    without ``xs``/``ys`` the pixel indices (column, row)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise GdchaosInputError(f"a mask must be 2-D, got shape {mask.shape}")
    r, c = np.nonzero(mask)
    if xs is None:
        return np.stack([c, r], axis=1).astype(float)
    return np.stack([np.asarray(xs, float)[c], np.asarray(ys, float)[r]], axis=1)


def box_counts(points, eps, *, origin=None, n_offsets=1, seed=0, reduce="mean", window=None):
    """Number of boxes of side ``eps`` (each entry) that contain at least one point.

    Box grids are anchored at ``origin`` (default the points' minimum); with ``n_offsets > 1``
    further grids shifted by uniform random fractions of the largest box are counted and the
    counts combined by ``reduce`` (``"mean"`` or ``"min"``; ``"none"``: the
    ``(n_offsets, len(eps))`` counts of every grid).  The mean over uniformly random
    shifts estimates ``|A + [0, eps]^D| / eps^D`` without bias; the minimum is closer to the
    minimal cover but is biased low by an amount that shrinks (relatively) as the number of boxes
    grows, which steepens the curve at coarse sizes.  ``window = (lo, hi)`` (or ``"bbox"`` for
    the points' bounding box) counts each occupied box by the fraction of its volume inside the
    window: a filled square then has exactly ``(side / eps)^2`` boxes at every shift, where
    plain counting gives about ``(side / eps + 1)^2``.  Sizes related by powers of 2 share one
    sort (boxes of ``2 eps`` are unions of boxes of ``eps`` on the same grid), so a long list of
    sizes costs a few sorts of the points.
    """
    P = _as_points(points)
    eps = np.atleast_1d(np.asarray(eps, dtype=float))
    if np.any(~(eps > 0)) or not np.all(np.isfinite(eps)):
        raise GdchaosInputError("box sizes must be positive and finite")
    if reduce not in ("mean", "min", "none"):
        raise GdchaosInputError(f"reduce must be 'mean', 'min' or 'none', got {reduce!r}")
    lo = P.min(axis=0) if origin is None else np.asarray(origin, dtype=float)
    if np.any(P < lo):
        raise GdchaosInputError("box-count origin must lie below every point")
    if isinstance(window, str):
        if window != "bbox":
            raise GdchaosInputError(f"window must be 'bbox' or (lo, hi), got {window!r}")
        window = (P.min(axis=0), P.max(axis=0))
    if window is not None:
        wlo, whi = (np.asarray(w, dtype=float) for w in window)
        order = [np.argsort(P[:, j], kind="stable") for j in range(P.shape[1])]
    rng = np.random.default_rng(seed)
    n_offsets = max(1, int(n_offsets))
    shifts = [np.zeros(P.shape[1])] + [rng.random(P.shape[1]) for _ in range(n_offsets - 1)]
    # ladders eps0 * 2^j: exactly nested grids, one sort each
    ladders, todo = [], list(np.argsort(eps))
    while todo:
        i = todo[0]
        r = np.log2(eps[todo] / eps[i])
        members = [todo[j] for j in range(len(todo)) if abs(r[j] - round(r[j])) < 1e-9]
        todo = [t for t in todo if t not in members]
        ladders.append((eps[i], members))
    out = np.empty((n_offsets, eps.size))
    emax = float(eps.max())
    for o, sh in enumerate(shifts):
        org = lo - sh * emax
        for e0, members in ladders:
            idx = np.floor((P - org) / e0).astype(np.int64)
            pws = [int(round(np.log2(eps[m] / e0))) for m in members]
            for m, c in zip(members, _ladder_counts(idx, pws)):
                out[o, m] = c
                if window is not None:
                    out[o, m] -= _edge_deficit(P, order, org, eps[m], wlo, whi)
    if reduce == "none":
        return out
    return out.mean(axis=0) if reduce == "mean" else out.min(axis=0)


def normalize_unit_square(points):
    """The paper's normalization: shift by the minimum, divide by the largest side."""
    P = _as_points(points)
    lo = P.min(axis=0)
    side = float(np.max(P.max(axis=0) - lo))
    if side <= 0:
        raise GdchaosInputError("cannot normalize a single point (zero extent)")
    return (P - lo) / side, {"shift": lo.tolist(), "scale": side}


def paper_box_dimension(points, k_min=2, k_max=8, level=0.95) -> BoxCountResult:
    """The paper's fixed procedure (appendix H, figure 3 right).

    Points normalized into ``[0, 1]^2`` (shift by the minimum, divide by the largest side);
    ``eps = 2^-k`` for ``k = k_min .. k_max``; ``N(eps)`` = number of boxes
    ``[i eps, (i+1) eps) x [j eps, (j+1) eps)`` holding a point, the last box of each axis closed
    (a point at 1 falls in the last box, as with ``numpy.histogram2d`` on the edges
    ``0, eps, ..., 1``); least-squares slope of ``log N`` against ``log(1/eps)``.  The interval
    is the regression's t-interval only: the procedure has no other error model.
    """
    Pn, frame = normalize_unit_square(points)
    ks = np.arange(int(k_min), int(k_max) + 1)
    if ks.size < 2:
        raise GdchaosInputError("need at least two box sizes (k_min < k_max)")
    eps = 2.0 ** -ks.astype(float)
    counts = np.empty(ks.size)
    for i, k in enumerate(ks):
        idx = np.minimum(np.floor(Pn * 2.0 ** k).astype(np.int64), 2 ** int(k) - 1)
        counts[i] = _count_unique(idx)
    fit = fit_line(np.log(1.0 / eps), np.log(counts), level=level)
    frame.update({"k_min": int(k_min), "k_max": int(k_max), "boxes": "half-open, last closed"})
    return BoxCountResult(fit.slope, fit.ci, eps, counts, (0, ks.size - 1), fit, "paper",
                          int(Pn.shape[0]), fit.ci, 0.0, frame)


def _resolution(P, max_sample=20000, seed=0):
    """Median distance (Chebyshev) from a subsample of the points to their nearest *distinct*
    neighbour (coincident points, up to 1e-9 of the extent, are skipped)."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    tree = cKDTree(P)
    sub = P if P.shape[0] <= max_sample else P[rng.choice(P.shape[0], max_sample, replace=False)]
    k = min(9, P.shape[0])
    d, _ = tree.query(sub, k=k, p=np.inf)
    tiny = 1e-9 * float(np.max(np.ptp(P, axis=0)))
    d = np.where(d > tiny, d, np.inf).min(axis=1)
    d = d[np.isfinite(d)]
    return float(np.median(d)) if d.size else 0.0


def _prepare(data, xs, ys, seed):
    arr = np.asarray(data)
    is_mask = arr.dtype == bool
    if is_mask:
        if arr.ndim != 2:
            raise GdchaosInputError("a boundary mask must be a 2-D boolean array")
        P = mask_points(arr, xs, ys)
        if P.shape[0] == 0:
            raise GdchaosInputError("the mask has no true pixel")
        if xs is None:
            res = 1.0
        else:
            res = max(float(np.ptp(xs)) / max(len(xs) - 1, 1),
                      float(np.ptp(ys)) / max(len(ys) - 1, 1))
    else:
        P = _as_points(arr)
        res = None
    n = P.shape[0]
    if n < 10:
        raise GdchaosInputError(f"box counting needs at least 10 points, got {n}")
    extent = float(np.max(P.max(axis=0) - P.min(axis=0)))
    if extent <= 0:
        raise GdchaosInputError("all points coincide: no box-counting dimension")
    if res is None:
        res = _resolution(P, seed=seed)
        if res <= 0:
            res = extent / n
    return arr, is_mask, P, n, extent, res


#: The rule behind the ``warnings`` of :func:`box_dimension` (docs/analysis.md).
SCALING_RULE = {"min_decades": 1.5, "min_points": 500, "min_sizes": 6}
#: Below this many octaves in the fit window the constant of ``A eps^-D + C`` is not
#: identifiable (fewer than 3 degrees of freedom at one effective point per octave): the plain
#: power law is fitted instead (and the window is short enough to be warned about).
CONSTANT_MIN_OCTAVES = 5.0


def box_dimension(data, *, xs=None, ys=None, eps=None, eps_min=None, eps_max=None,
                  per_octave=4, n_offsets=16, reduce="mean", window="edges", top=4.0,
                  points_per_box=30.0, mask_pixels=4.0, min_octaves=2.0, level=0.95,
                  seed=0, model="power+constant", warn=True) -> BoxCountResult:
    """Automatic box-counting dimension of a point set ``(n, D)`` or of a 2-D boolean mask.

    A mask is turned into the coordinates of its true pixels (``xs``/``ys`` give the pixel
    centres; default pixel indices); its resolution is the pixel size.  For points the
    resolution is the median nearest-neighbour distance.  Counts: ``per_octave`` sizes per
    factor 2 from ``eps_max`` (default half the largest side) down to ``eps_min`` (default the
    resolution), unless ``eps`` gives them; each the mean over ``n_offsets`` randomly shifted
    grids of the occupied boxes, boxes that stick out of the window weighted by their fraction
    inside it (see :func:`box_counts`).

    Edge rule (``window="edges"``): a mask is clipped at its bounding box on every face that
    reaches (within 2.5 pixels) the frame of the grid, on both axes alike (the set is cut there
    by the window it was computed on; a line cut by the frame then counts ``L / eps`` boxes, not
    ``L / eps + 1``).  A point set carries no window: it is clipped only on the faces it fills
    (a set with interior).  ``window`` may also be ``None``, ``"bbox"`` or ``(lo, hi)``.

    Fit window (calibrated on random self-similar sets, docs/analysis.md):

    - coarse end: ``eps <= extent / top`` (at least ``top`` boxes across the set);
    - fine end, points: at least ``points_per_box`` points per occupied box on average,
      ``N(eps) <= n_distinct / points_per_box``;
    - fine end, masks: ``eps >= mask_pixels`` pixels.

    Fit (``model="power+constant"``, :mod:`gdchaos.analysis._dimfit`): ``N = A eps^-D + C`` on
    the whole window, the constant taking the endpoint and corner terms every set has;
    ``model="power"`` is the plain least-squares slope of ``log N`` (the estimator before issue
    23).  Interval: regression (three-parameter Jacobian, one effective point per octave) and
    grid-offset spread (each group of offsets fitted on its own) in quadrature, ``t``-scaled, then
    combined in quadrature with the half-range of the slopes over sub-ranges of at least half the
    window.

    Warnings (``result.warnings``, and a :class:`DimensionWarning`, a ``UserWarning``, unless
    ``warn=False``): the fit window
    spans fewer than ``SCALING_RULE["min_decades"]`` decades of box sizes, or fewer than
    ``min_sizes`` sizes, or the set has fewer than ``min_points`` points: too short a scaling range
    to support a dimension (the estimate is still returned).  A window shorter than
    ``min_octaves`` is also marked ``"auto (short window)"``.
    """
    from ._dimfit import fit_power_constant

    from ._dimfit import MODELS

    if model not in MODELS:
        raise GdchaosInputError(f"model must be one of {MODELS}, got {model!r}")
    arr, is_mask, P, n, extent, res = _prepare(data, xs, ys, seed)
    per_octave = max(1, int(per_octave))
    if eps is None:
        hi = extent / 2.0 if eps_max is None else float(eps_max)
        lo = res if eps_min is None else float(eps_min)
        if not (0 < lo < hi):
            raise GdchaosInputError(f"box sizes: need 0 < eps_min < eps_max, got {lo}, {hi}")
        m = int(np.floor(np.log2(hi / lo) * per_octave + 1e-9)) + 1
        eps = hi * 2.0 ** (-np.arange(m) / per_octave)
    else:
        eps = np.sort(np.asarray(eps, dtype=float))[::-1]
    if eps.size < 3:
        raise GdchaosInputError("box counting needs at least 3 box sizes; widen the range")
    if isinstance(window, str) and window == "edges":
        win = _filled_edges(P, max(4.0 * res, extent / 256.0), same_rule=True)
    else:
        win = window
    per = box_counts(P, eps, n_offsets=n_offsets, seed=seed, reduce="none", window=win)
    counts = per.mean(axis=0) if reduce == "mean" else per.min(axis=0)
    n_distinct = box_counts(P, [1e-9 * extent])[0]
    keep = eps <= extent / float(top) * (1 + 1e-9)
    if is_mask:
        keep &= eps >= float(mask_pixels) * res * (1 - 1e-9)
    else:
        keep &= counts <= n_distinct / float(points_per_box)
    if np.count_nonzero(keep) < 3:
        raise GdchaosInputError("fewer than 3 box sizes between extent/top and the resolution "
                                "limit; give more points (or a finer mask) or other eps")
    i0, i1 = (int(i) for i in np.nonzero(keep)[0][[0, -1]])
    sl = slice(i0, i1 + 1)
    octaves = float(np.log2(eps[i0] / eps[i1]))
    if model != "power" and octaves < CONSTANT_MIN_OCTAVES - 1e-9:
        model = "power"  # too few effective points to determine the constant
    D, ci, fit, info = fit_power_constant(
        eps[sl], counts[sl], per[:, sl] if reduce == "mean" else None, per_octave=per_octave,
        level=level, D_max=P.shape[1] + 1.5, model=model, resolution=res)
    method = "auto" if octaves >= min_octaves - 1e-9 else "auto (short window)"
    warns = scaling_warnings(octaves * np.log10(2.0), i1 - i0 + 1, n)
    frame = {"resolution": float(res), "extent": extent, "per_octave": per_octave,
             "n_offsets": int(n_offsets), "reduce": reduce, "window": str(window),
             "top": float(top), "points_per_box": float(points_per_box),
             "mask_pixels": float(mask_pixels), "octaves": octaves,
             "decades": octaves * float(np.log10(2.0)), **info}
    out = BoxCountResult(D, ci, eps, counts, (i0, i1), fit, method, n, fit.ci,
                         float(info["sys"]), frame, warns)
    if warn:
        for w in warns:
            warnings.warn(f"box_dimension: {w}", DimensionWarning, stacklevel=2)
    return out


def scaling_warnings(decades, n_sizes, n_points, rule=None):
    """The reasons (list of str) a scaling range is too short to support a dimension."""
    rule = dict(SCALING_RULE, **(rule or {}))
    out = []
    if decades < rule["min_decades"] - 1e-9:
        out.append(f"the fit spans {decades:.2f} decades of box sizes (fewer than "
                   f"{rule['min_decades']:g}): too short a scaling range for a dimension")
    if n_sizes < rule["min_sizes"]:
        out.append(f"only {n_sizes} box sizes in the fit (fewer than {rule['min_sizes']})")
    if n_points < rule["min_points"]:
        out.append(f"only {n_points} points/pixels in the set (fewer than "
                   f"{rule['min_points']}): too few to support a dimension")
    return out


class BoxCounter:
    """Incremental box counts in a fixed frame: ``add(points)`` tile by tile, then ``counts()``.

    Boxes of side ``eps[i]`` (in data units) on the grid anchored at ``origin``.  Only the
    occupied box indices are kept (sorted unique int64 keys, merged every ``flush`` new keys),
    so memory is the number of occupied boxes at the finest size, never the full grid.
    """

    def __init__(self, origin, eps, flush=1 << 21):
        self.origin = np.asarray(origin, dtype=float)
        self.eps = np.sort(np.atleast_1d(np.asarray(eps, dtype=float)))[::-1]
        if self.origin.ndim != 1 or np.any(~(self.eps > 0)):
            raise GdchaosInputError("BoxCounter needs a 1-D origin and positive box sizes")
        self._keys = [np.empty(0, np.int64) for _ in self.eps]
        self._pending = [[] for _ in self.eps]
        self._n_pending = 0
        self._flush = int(flush)
        self.n_points = 0

    def _key(self, idx):
        bits = 62 // idx.shape[1]
        if np.any(idx < 0) or np.any(idx >= (1 << bits)):
            raise GdchaosInputError("point outside the BoxCounter frame (below its origin, or "
                                    f"more than 2^{bits} boxes from it)")
        k = np.zeros(idx.shape[0], dtype=np.int64)
        for j in range(idx.shape[1]):
            k = (k << bits) | idx[:, j]
        return k

    def add(self, points):
        P = np.asarray(points, dtype=float)
        if P.size == 0:
            return self
        P = P.reshape(-1, self.origin.size)
        self.n_points += P.shape[0]
        for i, e in enumerate(self.eps):
            idx = np.floor((P - self.origin) / e).astype(np.int64)
            self._pending[i].append(np.unique(self._key(idx)))
        self._n_pending += P.shape[0]
        if self._n_pending >= self._flush:
            self._merge()
        return self

    def _merge(self):
        for i in range(self.eps.size):
            if self._pending[i]:
                self._keys[i] = np.unique(np.concatenate([self._keys[i]] + self._pending[i]))
                self._pending[i] = []
        self._n_pending = 0

    def counts(self):
        self._merge()
        return np.array([k.size for k in self._keys], dtype=float)


def plot_box_counts(result: BoxCountResult, ax=None, label=None, color=None):
    """``log N`` against ``log(1/eps)`` with the fitted line over its range (matplotlib)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.5))
    x = 1.0 / result.eps
    line, = ax.loglog(x, result.counts, "o", ms=3, color=color,
                      label=label or f"{result.method}: N(eps)")
    i0, i1 = result.fit_range
    xf = x[i0:i1 + 1]
    yf = np.exp(result.fit.intercept) * xf ** result.fit.slope
    lo, hi = result.ci
    ax.loglog(xf, yf, "-", color=line.get_color(),
              label=f"slope {result.dimension:.3f} [{lo:.3f}, {hi:.3f}]")
    ax.set_xlabel("1 / eps")
    ax.set_ylabel("N(eps)")
    ax.legend(fontsize=8)
    return ax
