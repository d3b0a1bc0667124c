"""Plain NumPy references: the paper's approach (whole arrays, a fixed number of steps).

Used by the benchmarks as the baseline and by tests as an independent implementation.  Points
that meet a stopping rule are frozen with ``np.where`` (the paper's rule "stop when the loss is
below L_min + tol or above the threshold"), but every step still costs the whole array.
"""

from __future__ import annotations

import numpy as np

from ..status import CONVERGED, DIVERGED, OUTSIDE, SADDLE, UNDECIDED


def quotient_reference(z, w, eta, y, lam, steps, tol, div=1e8, gtol=1e-10):
    """Quotient map on whole arrays; returns ``(status, z, w)``."""
    z = np.array(z, dtype=float)
    w = np.array(w, dtype=float)
    outside = w < 2 * np.abs(z + y)
    a = 1.0 - eta * lam
    lmin = (lam * abs(y) - 0.5 * lam * lam) if 0 < lam < abs(y) else (0.0 if lam == 0 else 0.5 * y * y)
    done = outside.copy()
    with np.errstate(all="ignore"):
        for _ in range(steps):
            loss = 0.5 * z * z + 0.5 * lam * w
            done |= ~np.isfinite(loss) | (loss > div) | (loss - lmin <= tol)
            c = a * a + eta * eta * z * z
            zn = c * (z + y) - eta * a * z * w - y
            wn = c * w - 4.0 * eta * a * z * (z + y)
            z = np.where(done, z, zn)
            w = np.where(done, w, wn)
        loss = 0.5 * z * z + 0.5 * lam * w
        sharp = 0.5 * (w + np.sqrt(np.maximum(w * w + 4 * z * z + 8 * z * (z + y), 0))) + lam
        status = np.full(z.shape, UNDECIDED, dtype=np.int8)
        status[(loss - lmin <= tol) & (sharp < 2.0 / eta)] = CONVERGED
        status[(np.abs(z + y) + w <= gtol) & (lam < abs(y))] = SADDLE
        status[~np.isfinite(loss) | (loss > div)] = DIVERGED
        status[outside] = OUTSIDE
    return status, z, w


def scalar_reference(X, eta, y, lam, steps, tol, div=1e8, gtol=1e-10):
    """Scalar factorization on whole arrays ``X = [u, v]``; returns ``(status, X)``."""
    X = np.array(X, dtype=float)
    d = X.shape[1] // 2
    lmin = (lam * abs(y) - 0.5 * lam * lam) if 0 < lam < abs(y) else (0.0 if lam == 0 else 0.5 * y * y)
    done = np.zeros(X.shape[0], dtype=bool)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            u, v = X[:, :d], X[:, d:]
            z = np.einsum("ij,ij->i", u, v) - y
            loss = 0.5 * z * z + 0.5 * lam * np.einsum("ij,ij->i", X, X)
            done |= ~np.isfinite(loss) | (loss > div) | (loss - lmin <= tol)
            G = np.concatenate([z[:, None] * v + lam * u, z[:, None] * u + lam * v], 1)
            X = np.where(done[:, None], X, X - eta * G)
        u, v = X[:, :d], X[:, d:]
        uv = np.einsum("ij,ij->i", u, v)
        z = uv - y
        w = np.einsum("ij,ij->i", X, X)
        loss = 0.5 * z * z + 0.5 * lam * w
        sharp = 0.5 * (w + np.sqrt(np.maximum(w * w + 4 * z * z + 8 * z * uv, 0)))
        if d > 1:
            sharp = np.maximum(sharp, np.abs(z))
        sharp = sharp + lam
        g2 = np.einsum("ij,ij->i", z[:, None] * v + lam * u, z[:, None] * v + lam * u) + \
            np.einsum("ij,ij->i", z[:, None] * u + lam * v, z[:, None] * u + lam * v)
        status = np.full(X.shape[0], UNDECIDED, dtype=np.int8)
        status[(g2 <= gtol * gtol)] = SADDLE
        status[(loss - lmin <= tol) & (sharp < 2.0 / eta)] = CONVERGED
        status[~np.isfinite(loss) | (loss > div)] = DIVERGED
    return status, X
