"""Numba kernels for the per-point records of the scalar and quotient problems.

They compute, in one parallel pass over the final parameters, the records a run asked for
(``want`` = ``[sq_norm, imbalance, sharpness, minimizer]`` as 0/1 flags; outputs not asked for
may be empty arrays), with the formulas of the problems' NumPy methods (tested against them to
1e-12).  Matrix and deep problems use their NumPy ``records`` (Hessians, eigenvalues).
Like the GD kernels they take only arrays and scalars and never raise per point: overflowing
values come out as inf or NaN.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..problems.scalar import MINIMIZER_RTOL
from ..theory import scalar as th

_OPTS = dict(parallel=True, cache=True, nogil=True)


@njit(**_OPTS)
def scalar_records_kernel(X0, Xf, y, lam, want, r, sign, scale, sq, imb, sh, mini):
    """Scalar factorization ``x = [u, v]``.  ``r > 0``: minimizers form the sphere
    ``{u = sign v, |u| = r}`` and ``mini`` labels 1 (within ``scale`` of ``p-(X0)``) or 2 (of
    ``p+(X0)``); otherwise every label is 0."""
    n, P = Xf.shape
    d = P // 2
    for i in prange(n):
        nu = 0.0
        nv = 0.0
        uv = 0.0
        for j in range(d):
            u = Xf[i, j]
            v = Xf[i, d + j]
            nu += u * u
            nv += v * v
            uv += u * v
        w = nu + nv
        if want[0]:
            s = 0.0
            for j in range(P):
                s += Xf[i, j] * Xf[i, j]
            sq[i] = s
        if want[1]:
            imb[i] = nu * nu + nv * nv - 2.0 * uv * uv
        if want[2]:
            z = uv - y
            top = 0.5 * (w + np.sqrt(max(w * w + 4.0 * z * z + 8.0 * z * uv, 0.0)))
            if d > 1 and abs(z) > top:
                top = abs(z)
            sh[i] = top + lam
        if want[3]:
            lab = 0
            if r > 0.0:
                na = 0.0
                for j in range(d):
                    a = X0[i, j] + sign * X0[i, d + j]
                    na += a * a
                na = np.sqrt(na)
                dm = 0.0
                dp = 0.0
                for j in range(d):
                    a = X0[i, j] + sign * X0[i, d + j]
                    c = a / na if na > 0.0 else np.nan
                    pu = r * c
                    pv = sign * pu
                    dm += (Xf[i, j] - pu) ** 2 + (Xf[i, d + j] - pv) ** 2
                    dp += (Xf[i, j] + pu) ** 2 + (Xf[i, d + j] + pv) ** 2
                if np.sqrt(dm) <= scale:
                    lab = 1
                if np.sqrt(dp) <= scale:
                    lab = 2
            mini[i] = lab


@njit(**_OPTS)
def quotient_records_kernel(Xf, y, lam, want, sq, imb, sh):
    """Quotient map ``x = [z, w]``: ``w``, ``w^2 - 4 (z + y)^2`` and the top Hessian eigenvalue of
    the fibre's loss (Prop. 22, d = 1 part)."""
    for i in prange(Xf.shape[0]):
        z = Xf[i, 0]
        w = Xf[i, 1]
        uv = z + y
        if want[0]:
            sq[i] = w
        if want[1]:
            imb[i] = w * w - 4.0 * uv * uv
        if want[2]:
            sh[i] = 0.5 * (w + np.sqrt(max(w * w + 4.0 * z * z + 8.0 * z * uv, 0.0))) + lam


def kernel_records(problem, X0, Xf, names):
    """Records ``names`` by a kernel where the problem has one, else ``None``."""
    if problem.kernel not in ("scalar", "quotient"):
        return None
    n = Xf.shape[0]
    want = np.array([k in names for k in ("sq_norm", "imbalance", "sharpness", "minimizer")],
                    dtype=np.int8)
    out = {k: np.empty(n if k in names else 0) for k in ("sq_norm", "imbalance", "sharpness")}
    Xf = np.ascontiguousarray(Xf, dtype=np.float64)
    y, lam = float(problem.y), float(problem.lam)
    if problem.kernel == "quotient":
        if n:
            quotient_records_kernel(Xf, y, lam, want, out["sq_norm"], out["imbalance"],
                                    out["sharpness"])
        out["minimizer"] = np.zeros(n if "minimizer" in names else 0, dtype=np.int8)
    else:
        m = th.minimizer_set(y, lam)
        r = float(np.sqrt(m.radius_sq)) if m.kind == "sphere" else 0.0
        scale = MINIMIZER_RTOL * np.sqrt(2.0 * m.radius_sq) if m.kind == "sphere" else 0.0
        out["minimizer"] = np.empty(n if "minimizer" in names else 0, dtype=np.int8)
        if n:
            scalar_records_kernel(np.ascontiguousarray(X0, dtype=np.float64), Xf, y, lam, want,
                                  r, float(m.sign), float(scale), out["sq_norm"],
                                  out["imbalance"], out["sharpness"], out["minimizer"])
    return {k: out[k] for k in names}
