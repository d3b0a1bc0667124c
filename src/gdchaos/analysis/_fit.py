"""Straight-line fits of scaling curves and the choice of their largest linear region.

Every scaling law of the analysis package (box counting, uncertainty exponent, entropy growth)
is a slope of ``y`` against ``x`` on some range.  :func:`fit_line` is ordinary or weighted least
squares with a Student-t interval; :func:`largest_linear_region` picks the longest range over
which the curve is straight (in the spirit of Attractors.jl / FractalDimensions.jl
``linear_region``): local slopes measured over a fixed span must stay within ``tol`` of the
slope fitted on the whole range.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from ..errors import GdchaosInputError

__all__ = ["LinearFit", "fit_line", "largest_linear_region"]


@dataclass(frozen=True)
class LinearFit:
    """``y ~ intercept + slope x``; ``ci`` is the ``level`` interval of the slope."""

    slope: float
    intercept: float
    stderr: float
    ci: tuple
    level: float
    n: int
    rms: float

    def as_dict(self):
        d = asdict(self)
        d["ci"] = [float(c) for c in self.ci]
        return d


def fit_line(x, y, weights=None, level=0.95, scale_by_residuals=True, n_eff=None) -> LinearFit:
    """Least-squares line through ``(x, y)``.

    ``weights`` are inverse variances (weighted least squares).  With weights the slope's standard
    error is the one implied by the weights, multiplied by ``sqrt(chi2 / dof)`` when that exceeds
    1 and ``scale_by_residuals`` (a fit worse than its error bars widens its interval).  Without
    weights it is the usual residual-based standard error.  The interval uses Student's t with
    ``n - 2`` degrees of freedom.

    ``n_eff`` (< n) declares the points serially correlated (box counts at sizes closer than a
    factor 2 share most of their boxes): the standard error is multiplied by ``sqrt(n / n_eff)``
    and the t quantile uses ``n_eff - 2`` degrees of freedom (at least 1).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise GdchaosInputError("fit_line needs two 1-D arrays of the same length")
    ok = np.isfinite(x) & np.isfinite(y)
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        ok &= np.isfinite(weights) & (weights > 0)
    x, y = x[ok], y[ok]
    n = x.size
    if n < 2 or np.ptp(x) == 0:
        raise GdchaosInputError(f"a line fit needs at least 2 distinct x values, got {n}")
    w = np.ones(n) if weights is None else weights[ok]
    W = w.sum()
    xm = np.sum(w * x) / W
    ym = np.sum(w * y) / W
    sxx = np.sum(w * (x - xm) ** 2)
    slope = float(np.sum(w * (x - xm) * (y - ym)) / sxx)
    intercept = float(ym - slope * xm)
    res = y - intercept - slope * x
    dof = n - 2
    infl = 1.0
    if n_eff is not None and 2 <= n_eff < n:
        infl = float(np.sqrt(n / n_eff))
    if dof > 0:
        chi2 = float(np.sum(w * res * res))
        if weights is None:
            se = np.sqrt(chi2 / dof / sxx)
        else:
            factor = max(1.0, chi2 / dof) if scale_by_residuals else 1.0
            se = np.sqrt(factor / sxx)
        se = se * infl
        t = stats.t.ppf(0.5 + level / 2.0, max(1.0, (n_eff - 2.0) if infl > 1 else dof))
    else:
        se = 0.0 if weights is None else np.sqrt(1.0 / sxx)
        t = stats.norm.ppf(0.5 + level / 2.0)
    half = float(t * se) if dof > 0 or weights is not None else float("inf")
    return LinearFit(slope, intercept, float(se), (slope - half, slope + half), float(level),
                     int(n),
                     float(np.sqrt(np.mean(res * res))))


def largest_linear_region(x, y, *, span=4, tol=0.1, min_points=None):
    """Index range ``(i0, i1)`` (inclusive) of the longest straight part of ``y(x)``.

    ``x`` must be increasing.  Local slopes are taken between points ``span`` indices apart
    (``s_i = (y[i+span] - y[i]) / (x[i+span] - x[i])``), which averages out the log-periodic
    wiggles of lacunar sets.  A range qualifies when every local slope inside it is within
    ``tol`` (absolute) of the least-squares slope of the range.  Among qualifying ranges of at
    least ``min_points`` points (default ``2 span + 1``) the one spanning the longest ``x``
    interval wins, ties broken by the smaller r.m.s. residual.  Returns ``None`` when none
    qualifies.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    span = max(1, int(span))
    if min_points is None:
        min_points = 2 * span + 1
    if n < max(min_points, span + 1) or np.any(np.diff(x) <= 0):
        return None
    loc = (y[span:] - y[:-span]) / (x[span:] - x[:-span])  # loc[i] uses points i .. i+span
    best = None
    for i0 in range(n):
        for i1 in range(n - 1, i0 + min_points - 2, -1):
            if best is not None and x[i1] - x[i0] < best[0] - 1e-12:
                break
            xs, ys = x[i0:i1 + 1], y[i0:i1 + 1]
            A = np.vstack([xs, np.ones_like(xs)]).T
            coef, *_ = np.linalg.lstsq(A, ys, rcond=None)
            s = coef[0]
            li = loc[i0:i1 - span + 1]
            if li.size and np.max(np.abs(li - s)) > tol:
                continue
            rms = float(np.sqrt(np.mean((ys - A @ coef) ** 2)))
            key = (x[i1] - x[i0], -rms)
            if best is None or key[0] > best[0] + 1e-12 or (
                    abs(key[0] - best[0]) <= 1e-12 and key[1] > best[1]):
                best = (key[0], key[1], i0, i1)
            break
    if best is None:
        return None
    return int(best[2]), int(best[3])
