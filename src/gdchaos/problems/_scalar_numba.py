"""Numba kernel of the scalar factorization's per-point records, beside
:mod:`gdchaos.problems.scalar`, which loads it on first use.  One parallel pass computes the
records a run asked for (``want`` = ``[sq_norm, imbalance, sharpness, minimizer]`` as 0/1 flags;
outputs not asked for may be empty arrays) with the formulas of the problem's NumPy methods
(tested against them to 1e-12); overflowing values come out as inf or NaN, never an exception.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

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


def scalar_records(problem, X0, Xf, names):
    """The records ``names`` of a scalar-factorization run by :func:`scalar_records_kernel`."""
    from ..theory import scalar as th
    from .scalar import MINIMIZER_RTOL

    n = Xf.shape[0]
    want = np.array([k in names for k in ("sq_norm", "imbalance", "sharpness", "minimizer")],
                    dtype=np.int8)
    out = {k: np.empty(n if k in names else 0) for k in ("sq_norm", "imbalance", "sharpness")}
    out["minimizer"] = np.empty(n if "minimizer" in names else 0, dtype=np.int8)
    y, lam = float(problem.y), float(problem.lam)
    m = th.minimizer_set(y, lam)
    r = float(np.sqrt(m.radius_sq)) if m.kind == "sphere" else 0.0
    scale = MINIMIZER_RTOL * np.sqrt(2.0 * m.radius_sq) if m.kind == "sphere" else 0.0
    if n:
        scalar_records_kernel(np.ascontiguousarray(X0, dtype=np.float64),
                              np.ascontiguousarray(Xf, dtype=np.float64), y, lam, want, r,
                              float(m.sign), float(scale), out["sq_norm"], out["imbalance"],
                              out["sharpness"], out["minimizer"])
    return {k: out[k] for k in names}
