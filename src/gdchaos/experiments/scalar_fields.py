"""Finite-step fields of GD on scalar factorization (d = 1), shared by figures 2 and 8 and the
extras: the iterates after a few steps, the saddle's stable-line field and its sign changes."""

from __future__ import annotations

import numpy as np


def finite_step_fields(y, eta, lam, U, V, steps):
    """Iterate GD ``steps`` times from every grid point (d = 1); returns the final ``(u, v)``
    (non-finite values replaced by NaN)."""
    from ..problems import ScalarFactorization

    prob = ScalarFactorization(d=1, y=y, lam=lam)
    X = np.stack([np.ravel(U), np.ravel(V)], 1)
    with np.errstate(all="ignore"):
        for _ in range(int(steps)):
            X = prob.step(X, eta)
            X[~np.all(np.isfinite(X), axis=1) | (np.abs(X).max(axis=1) > 1e150)] = np.nan
    return X[:, 0].reshape(np.shape(U)), X[:, 1].reshape(np.shape(U))


def saddle_line_field(y, eta, lam, Uf, Vf, settle=200):
    """``u + sign(y) v`` at the iterates ``(Uf, Vf)``, NaN where the point's projection onto the
    saddle's stable line ``u = -sign(y) v`` does not converge to the origin along that line
    (the 1-D map ``t -> t (1 - eta lam - eta (t^2 + |y|))``).  Its zero set is the saddle's
    basin (SPEC section 1; the line is invariant and attracts to (0, 0) locally)."""
    s = 1.0 if y >= 0 else -1.0
    t = 0.5 * (Uf - s * Vf)
    with np.errstate(all="ignore"):
        tt = t.copy()
        for _ in range(int(settle)):
            tt = tt * (1.0 - eta * lam - eta * (tt * tt + abs(y)))
            tt[~np.isfinite(tt) | (np.abs(tt) > 1e6)] = np.nan
        ok = np.isfinite(tt) & (np.abs(tt) < 1e-3)
    return np.where(ok, Uf + s * Vf, np.nan)


def sign_change_pixels(field):
    """Pixels next to a sign change of ``field`` (horizontal or vertical neighbour), both finite."""
    f = np.asarray(field, dtype=float)
    out = np.zeros(f.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        h = np.isfinite(f[:, 1:]) & np.isfinite(f[:, :-1]) & (np.sign(f[:, 1:]) != np.sign(f[:, :-1]))
        v = np.isfinite(f[1:]) & np.isfinite(f[:-1]) & (np.sign(f[1:]) != np.sign(f[:-1]))
    out[:, 1:] |= h
    out[:, :-1] |= h
    out[1:] |= v
    out[:-1] |= v
    return out
