"""The box-counting model fit ``N(eps) = A eps^-D + C`` and its interval (issue 23).

Why this model.  The mean number of occupied boxes over uniformly random grid offsets is the
area of the set's Minkowski sausage by a box, divided by the box area (:func:`box_counts`).  For
every compact set the sausage has, besides its leading term ``A eps^-D``, a term independent of
``eps`` (Steiner's formula for convex pieces, the tube formulas of Lapidus and Pearse for
self-similar sets): an open segment of projected length ``L`` has exactly ``L / eps + 1`` boxes,
the two endpoints adding half a box each at every scale; the Sierpinski triangle has about
``+1.7``.  A pure power law fitted on such counts is biased low by about ``C / N`` at the coarse
end (-0.02 on a tilted segment, -0.02 on the triangle).  Terms between ``eps^-D`` and ``eps^0``
come from where a set is cut by its window (a Cantor x interval set cut by the frame has
``eps^-(D-1)``): those are removed by clipping boxes at the window (the edge rule of
:func:`box_dimension`), not by the fit.  A third power (``B eps^-1``) was tried and rejected:
for ``D`` near 1 it is degenerate with the leading term and doubles the interval.

The fit minimizes the relative residuals ``sum ((N_i - A eps_i^-D - C) / N_i)^2`` (the log
residuals of the usual fit, to first order): for fixed ``D`` it is linear in ``(A, C)``, so the
profile over ``D`` is a one-dimensional bounded minimization.

Interval (combined in quadrature, then ``t`` quantile):

- regression: the slope's standard error from the Jacobian of the three-parameter fit, inflated
  by ``sqrt(n / n_eff)`` (one independent point per octave: counts closer than a factor 2 share
  most of their boxes);
- grid offset: the counts of each box-grid offset (or group of offsets) are fitted on their own
  and the standard error of the mean of those estimates is added (the mean curve averages the
  offsets, so this is the offset noise left in it);
- systematic: the half-range of the slopes of ``log(N - C)`` fitted on every sub-range of at least
  half the window (log-periodic oscillation and curvature), added in quadrature to the
  ``t``-scaled statistical half-width.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from ._fit import LinearFit

__all__ = ["fit_power_constant", "subrange_spread"]


def _profile(D, x, N, res_term=False):
    """Best ``(A, C)`` (or ``(A, B, C)``) and relative r.s.s. at fixed ``D`` (``x = 1 / eps``,
    in units of the resolution when ``res_term``)."""
    w = 1.0 / N
    cols = [x ** D * w, w] if not res_term else [x ** D * w, x ** (D + 1) * w, w]
    M = np.stack(cols, axis=1)
    coef, *_ = np.linalg.lstsq(M, np.ones_like(N), rcond=None)
    if res_term and coef[1] > 0:  # a sampled set misses boxes, never adds: B <= 0
        c2, *_ = np.linalg.lstsq(M[:, [0, 2]], np.ones_like(N), rcond=None)
        coef = np.array([c2[0], 0.0, c2[1]])
    r = 1.0 - M @ coef
    return coef, float(r @ r)


def _fit_D(x, N, D_max, constant=True, res_term=False):
    if not constant:
        return float(np.polyfit(np.log(x), np.log(N), 1)[0]), 0.0, 0.0
    lo, hi = 1e-3, float(D_max)
    grid = np.linspace(lo, hi, 41)
    vals = [_profile(d, x, N, res_term)[1] for d in grid]
    k = int(np.argmin(vals))
    a, b = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
    res = optimize.minimize_scalar(lambda d: _profile(d, x, N, res_term)[1], bounds=(a, b),
                                   method="bounded", options={"xatol": 1e-7})
    D = float(res.x)
    coef, _ = _profile(D, x, N, res_term)
    B = float(coef[1]) if res_term else 0.0
    return D, float(coef[-1]), B


def subrange_spread(x, y):
    """Half-range of the least-squares slopes over every sub-range of at least half the points
    (0 for fewer than 4 points)."""
    m = x.size
    k = max(3, (m + 1) // 2)
    if m < 4:
        return 0.0
    slopes = []
    for a in range(0, m - k + 1):
        for b in range(a + k, m + 1):
            slopes.append(np.polyfit(x[a:b], y[a:b], 1)[0])
    return float((max(slopes) - min(slopes)) / 2.0)


MODELS = ("power", "power+constant", "power+constant+resolution")


def fit_power_constant(eps, counts, per_offset=None, *, per_octave=4, level=0.95, D_max=3.5,
                       model="power+constant", resolution=None, n_groups=8):
    """Fit ``N = A eps^-D + C`` (``model="power"``: ``C = 0``, the plain log-log slope;
    ``"power+constant+resolution"``: ``+ B eps^-(D+1)``, the relative ``res / eps`` deficit of a
    set sampled at spacing ``res``).

    ``counts``: the mean curve; ``per_offset``: ``(n_offsets, m)`` counts of each grid offset
    (for the offset term of the interval).  Returns ``(D, ci, fit, info)``: ``info`` holds the
    parts of the interval and the fitted terms, ``fit`` a :class:`LinearFit` whose slope is ``D``.
    """
    eps = np.asarray(eps, dtype=float)
    N = np.asarray(counts, dtype=float)
    scale = float(resolution) if resolution else float(eps.min())
    x = scale / eps
    constant = model != "power"
    rt = model == "power+constant+resolution"
    D, C, B = _fit_D(x, N, D_max, constant, rt)
    lx = np.log(x)
    A = float(np.exp(np.median(np.log(np.maximum(N - C - B * x ** (D + 1), 1e-300)) - D * lx)))
    if constant:
        coef, _ = _profile(D, x, N, rt)
        A = float(coef[0])
    beta = B / A if A else 0.0
    Nc = (N - C) / (1.0 + beta * x)
    if np.any(Nc <= 0) or not np.isfinite(A) or A <= 0:  # no model: fall back to the power law
        D, C, B, beta, Nc, rt, constant = _fit_D(x, N, D_max, False)[0], 0.0, 0.0, 0.0, N, False, False
        A = float(np.exp(np.mean(np.log(N) - D * lx)))
    ly = np.log(Nc)
    n = x.size
    n_eff = min(float(n), (n - 1) / float(per_octave) + 1.0)
    # regression: Jacobian of the relative residual in (log A, D[, B], C)
    lead = A * x ** D + B * x ** (D + 1)
    r = (N - lead - C) / N
    cols = [A * x ** D / N, lead * lx / N]
    if rt:
        cols.append(x ** (D + 1) / N)
    if constant:
        cols.append(1.0 / N)
    J = np.stack(cols, axis=1)
    p = J.shape[1]
    dof = n - p
    se_reg = np.inf
    if dof > 0:
        cov = float(r @ r) / dof * np.linalg.pinv(J.T @ J)
        se_reg = float(np.sqrt(max(cov[1, 1], 0.0)) * np.sqrt(n / n_eff))
    # grid offsets: fit each group of offsets on its own
    se_off = 0.0
    if per_offset is not None and np.shape(per_offset)[0] >= 2:
        po = np.asarray(per_offset, dtype=float)
        groups = np.array_split(np.arange(po.shape[0]), int(min(n_groups, po.shape[0])))
        Ds = [_fit_D(x, po[i].mean(axis=0), D_max, constant, rt)[0] for i in groups
              if np.all(po[i].mean(axis=0) > 0)]
        if len(Ds) >= 2:
            se_off = float(np.std(Ds, ddof=1) / np.sqrt(len(Ds)))
    se = float(np.hypot(se_reg, se_off))
    t = float(stats.t.ppf(0.5 + level / 2.0, max(1.0, n_eff - p)))
    sys = subrange_spread(lx, ly)
    half = float(np.hypot(t * se, sys))
    res_l = ly - (np.mean(ly) + D * (lx - np.mean(lx)))
    fit = LinearFit(float(D), float(np.mean(ly) - D * np.mean(np.log(1.0 / eps))), se,
                    (D - t * se, D + t * se), float(level), int(n),
                    float(np.sqrt(np.mean(res_l ** 2))))
    info = {"C": float(C), "B_rel": float(beta), "se_regression": se_reg, "se_offsets": se_off,
            "sys": sys, "t": t, "n_eff": n_eff, "model": model}
    return float(D), (float(D - half), float(D + half)), fit, info
