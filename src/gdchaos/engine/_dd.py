"""The quotient map in double-double arithmetic (about 106 bits of mantissa), for deep zooms.

float64 resolves figure 3's convergence boundary down to a window a few hundred ulp of the
centre wide (``experiments/extras.py``, zoom item: faithful to width 1e-12 at 300 pixels around
``(1.28, 4.72)``).  Past that, neighbouring pixels are the same float64 number.  Here every
state ``z, w`` is an unevaluated sum ``hi + lo`` of two float64 numbers (Dekker / Knuth
error-free transformations, no FMA needed), the window's centre is given as such a pair and
each pixel's offset is added exactly, so pixels stay distinct down to offsets of 1e-300; the
arithmetic keeps about 32 significant digits, so the picture stays faithful to widths of about
1e-28 around an O(1) centre (measured in docs/explore.md).  Cost: about 6x a float64 step (measured).

Public entry: :func:`quotient_grid_dd`.  Same stopping rules as the engine's quotient kernel
(outside, diverged, converged at a linearly stable point, saddle, undecided), evaluated on the
double-double state (thresholds compared with its leading part).
"""

from __future__ import annotations

import numpy as np

from ..errors import GdchaosInputError, check_nonneg, check_positive


def _kernel():
    from ._dd_kernel import grid_kernel

    return grid_kernel


def _as_dd(v, name):
    """A float or a pair (hi, lo) -> normalized (hi, lo)."""
    if np.ndim(v) == 0:
        hi, lo = float(v), 0.0
    else:
        if len(v) != 2:
            raise GdchaosInputError(f"{name} must be a number or a pair (hi, lo), got {v!r}")
        hi, lo = float(v[0]), float(v[1])
    if not (np.isfinite(hi) and np.isfinite(lo)):
        raise GdchaosInputError(f"{name} must be finite, got {v!r}")
    s = hi + lo
    return s, lo - (s - hi)


def quotient_grid_dd(y, lam, eta, center, xs, ys, *, max_iter=1000, tol=1e-8, div_threshold=1e8,
                     gtol=1e-10):
    """The quotient map's outcome on the grid ``center + (xs[i], ys[j])`` in double-double.

    ``center`` is ``(z, w)``, each a float or a pair ``(hi, lo)`` (value ``hi + lo``); ``xs``,
    ``ys`` are float64 offsets from it (added exactly).  Returns a dict of ``(ny, nx)`` arrays
    ``status`` (the engine's codes), ``iterations``, ``final_loss``, ``z``, ``w`` (leading parts
    of the final state).  Never raises per point.
    """
    from ..problems import QuotientMap

    if int(max_iter) != max_iter or not 0 <= max_iter <= 2**31 - 1:
        raise GdchaosInputError(f"max_iter must be an integer in [0, 2^31 - 1], got {max_iter}")
    eta = check_positive("step size eta", eta)
    for name, v in (("tol", tol), ("divergence threshold", div_threshold)):
        check_positive(name, v)
    check_nonneg("gtol", gtol)
    prob = QuotientMap(y=float(y), lam=float(lam))  # validates y and lam
    if len(center) != 2:
        raise GdchaosInputError(f"center must be (z, w), got {center!r}")
    cz = _as_dd(center[0], "center z")
    cw = _as_dd(center[1], "center w")
    xs = np.ascontiguousarray(xs, dtype=np.float64)
    ys = np.ascontiguousarray(ys, dtype=np.float64)
    if xs.ndim != 1 or ys.ndim != 1 or not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise GdchaosInputError("xs and ys must be 1-D arrays of finite offsets")
    shape = (ys.size, xs.size)
    out = {"status": np.empty(shape, np.int8), "iterations": np.empty(shape, np.int32),
           "final_loss": np.empty(shape), "z": np.empty(shape), "w": np.empty(shape)}
    if xs.size and ys.size:
        _kernel()(cz[0], cz[1], cw[0], cw[1], xs, ys, float(y), float(eta), float(lam),
                  int(max_iter), float(tol), float(prob.min_value), float(div_threshold),
                  float(gtol), out["status"], out["iterations"], out["final_loss"], out["z"],
                  out["w"])
    return out
