"""Closed forms for scalar factorization L(u, v) = 1/2 (u.v - y)^2 + lam/2 (|u|^2 + |v|^2).

Every function is vectorized: ``u`` and ``v`` are arrays of shape ``(..., d)`` (a 1-D array is one
point) and results have the leading shape ``(...)``.  References are to SPEC.md section 1-2 and the
paper's theorems.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GdchaosInputError

__all__ = [
    "ScalarMinimizers",
    "q_value",
    "eta_star",
    "in_d0",
    "wang_bound",
    "minimizer_set",
    "global_min_value",
    "closest_minimizer",
    "farthest_minimizer",
    "theorem5_bounds",
    "theorem4_admissible",
    "hessian_eigenvalues",
    "sharpness",
    "imbalance",
    "min_imbalance_at_minimizer",
]


def _uv(u, v):
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    if u.ndim == 0:
        u = u[None]
    if v.ndim == 0:
        v = v[None]
    if u.shape != v.shape:
        raise GdchaosInputError(f"u and v must have the same shape, got {u.shape} and {v.shape}")
    return u, v


def _zw(u, v, y):
    u, v = _uv(u, v)
    uv = np.sum(u * v, axis=-1)
    w = np.sum(u * u, axis=-1) + np.sum(v * v, axis=-1)
    return uv - y, w, uv


def q_value(u, v, y):
    """``Q(u, v) = w + sqrt(w^2 - 16 y (u.v - y))`` with ``w = |u|^2 + |v|^2`` (Theorem 1).

    Where the plain formula overflows (``w^2`` past float64, for |u|, |v| above about 1e77)
    it is evaluated on ``u / s, v / s, y / s^2`` (``s`` the largest magnitude) and scaled back
    by ``s^2``, so that Q is the correctly rounded huge value (or ``inf`` past float64's range,
    where ``8 / Q = 0``) instead of ``inf - inf = NaN``."""
    u, v = _uv(u, v)
    with np.errstate(over="ignore", invalid="ignore"):
        z, w, _ = _zw(u, v, y)
        disc = np.maximum(w * w - 16.0 * y * z, 0.0)  # >= 0 analytically: (2 u.v - 4 y)^2 <= disc
        q = w + np.sqrt(disc)
    bad = ~np.isfinite(q) & np.all(np.isfinite(u), axis=-1) & np.all(np.isfinite(v), axis=-1)
    if np.any(bad) and np.isfinite(y):
        q = np.array(q, dtype=float)
        q[bad] = _q_scaled(u[bad], v[bad], float(y))
    return q


def _q_scaled(u, v, y):
    """Q of finite points whose plain evaluation overflows: computed on the rescaled point."""
    s = np.maximum(np.max(np.abs(u), axis=-1), np.max(np.abs(v), axis=-1))
    s = np.maximum(s, np.sqrt(abs(y)))
    us, vs = u / s[..., None], v / s[..., None]
    ys = y / s / s
    zs = np.sum(us * vs, axis=-1) - ys
    ws = np.sum(us * us, axis=-1) + np.sum(vs * vs, axis=-1)
    qs = ws + np.sqrt(np.maximum(ws * ws - 16.0 * ys * zs, 0.0))
    with np.errstate(over="ignore"):
        return qs * s * s


def eta_star(u, v, y):
    """Critical step size of Theorem 1: ``min(1/|y|, 8/Q(u, v))`` with ``1/0 = inf``."""
    q = q_value(u, v, y)
    first = np.inf if y == 0 else 1.0 / abs(float(y))
    second = np.where(q > 0, 8.0 / np.where(q > 0, q, 1.0), np.inf)
    return np.minimum(first, second)


def in_d0(u, v, y, eta):
    """Membership of ``D0 = {Q(u, v) < 8/eta}``; for ``eta |y| < 1`` it is the convergence region
    up to a null set (Theorem 1)."""
    return q_value(u, v, y) < 8.0 / eta


def wang_bound(u, v, y):
    """Sufficient step size of Wang et al. (2022): ``min(1/(3|y|), 4/(|u|^2 + |v|^2 + 4|y|))``."""
    _, w, _ = _zw(u, v, y)
    first = np.inf if y == 0 else 1.0 / (3.0 * abs(y))
    with np.errstate(divide="ignore"):
        second = 4.0 / (w + 4.0 * abs(y))
    return np.minimum(first, second)


@dataclass(frozen=True)
class ScalarMinimizers:
    """Description of the global minimizers ``M`` of scalar factorization.

    kind: ``"hyperbola"`` (lam = 0: ``{u.v = y}``, unbounded), ``"sphere"`` (0 < lam < |y|:
    ``{u = sign(y) v, |u|^2 = |y| - lam}``; two points when d = 1) or ``"origin"`` (lam >= |y|).
    """

    kind: str
    y: float
    lam: float
    radius_sq: float  # |u|^2 on M for kind "sphere"; 0 for "origin"; nan for "hyperbola"
    sign: float  # sign(y)
    min_value: float
    saddle_at_origin: bool

    def __str__(self) -> str:
        if self.kind == "hyperbola":
            return f"M = {{u.v = {self.y:g}}} (unbounded), minimum 0; saddle at the origin"
        if self.kind == "sphere":
            s = "+" if self.sign > 0 else "-"
            return (f"M = {{u = {s}v, |u|^2 = {self.radius_sq:g}}}, minimum {self.min_value:g}; "
                    "saddle at the origin")
        return f"M = {{(0, 0)}}, minimum {self.min_value:g}"


def global_min_value(y, lam):
    """Global minimum of the loss (SPEC section 1)."""
    y = float(y)
    lam = float(lam)
    if lam == 0:
        return 0.0
    if lam < abs(y):
        return lam * abs(y) - 0.5 * lam * lam
    return 0.5 * y * y


def minimizer_set(y, lam=0.0) -> ScalarMinimizers:
    y = float(y)
    lam = float(lam)
    if lam < 0:
        raise GdchaosInputError(f"weight decay must be >= 0, got {lam}")
    sign = 1.0 if y >= 0 else -1.0
    mv = global_min_value(y, lam)
    if lam == 0:
        return ScalarMinimizers("hyperbola", y, lam, float("nan"), sign, mv, y != 0)
    if lam < abs(y):
        return ScalarMinimizers("sphere", y, lam, abs(y) - lam, sign, mv, True)
    return ScalarMinimizers("origin", y, lam, 0.0, sign, mv, False)


def _extreme_minimizer(u, v, y, lam, which):
    u, v = _uv(u, v)
    m = minimizer_set(y, lam)
    if m.kind == "hyperbola":
        raise GdchaosInputError("closest/farthest minimizers are defined for lam > 0 only")
    if m.kind == "origin":
        z = np.zeros_like(u)
        return z, z.copy()
    r = np.sqrt(m.radius_sq)
    a = u + m.sign * v
    na = np.linalg.norm(a, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        direction = np.where(na > 0, a / np.where(na > 0, na, 1.0), np.nan)
    pa = which * r * direction
    return pa, m.sign * pa


def closest_minimizer(u, v, y, lam):
    """``p-(u, v) = argmin_{p in M} |p - (u, v)|`` for ``lam > 0``; returns ``(u*, v*)``.

    On M (a sphere ``{(a, s a): |a| = r}``) the distance is minimized by ``a = r (u + s v)/|u + s v|``.
    Where ``u + s v = 0`` every point of M is equidistant and NaN is returned.
    """
    return _extreme_minimizer(u, v, y, lam, +1.0)


def farthest_minimizer(u, v, y, lam):
    """``p+(u, v)``: the point of M farthest from ``(u, v)`` (the antipode of ``p-``)."""
    return _extreme_minimizer(u, v, y, lam, -1.0)


def theorem4_admissible(eta, y, lam):
    """Admissibility of Theorems 4-5: ``0 < lam < min(1/eta - |y|, 1/(2 eta))``."""
    return (lam > 0) & (lam < np.minimum(1.0 / eta - abs(y), 1.0 / (2.0 * eta)))


def theorem5_bounds(u, v, y, lam):
    """Step-size bounds of Theorems 4-5 for ``lam > 0``.

    Returns ``(eta_global, eta_closest) = (8/(4 lam + Q), 4/(4 lam + Q))``: below the first GD
    converges to a global minimizer, below the second to the closest one ``p-`` (a.e. init).
    """
    q = q_value(u, v, y)
    return 8.0 / (4.0 * lam + q), 4.0 / (4.0 * lam + q)


def hessian_eigenvalues(u, v, y, lam=0.0):
    """All ``2d`` Hessian eigenvalues, ascending (Prop. 22, shifted by ``lam``).

    ``+-(u.v - y)`` with multiplicity ``d - 1`` each and
    ``1/2 (w +- sqrt(w^2 + 4 z^2 + 8 z u.v))``.
    """
    u, v = _uv(u, v)
    d = u.shape[-1]
    z, w, uv = _zw(u, v, y)
    disc = np.sqrt(np.maximum(w * w + 4.0 * z * z + 8.0 * z * uv, 0.0))
    parts = [0.5 * (w - disc)[..., None], 0.5 * (w + disc)[..., None]]
    if d > 1:
        parts.append(np.repeat(z[..., None], d - 1, axis=-1))
        parts.append(np.repeat(-z[..., None], d - 1, axis=-1))
    ev = np.concatenate(parts, axis=-1) + lam
    return np.sort(ev, axis=-1)


def sharpness(u, v, y, lam=0.0):
    """Largest Hessian eigenvalue. At an unregularized minimizer it equals ``|u|^2 + |v|^2``."""
    u, v = _uv(u, v)
    z, w, uv = _zw(u, v, y)
    disc = np.sqrt(np.maximum(w * w + 4.0 * z * z + 8.0 * z * uv, 0.0))
    top = 0.5 * (w + disc)
    if u.shape[-1] > 1:
        top = np.maximum(top, np.abs(z))
    return top + lam


def imbalance(u, v):
    """``||u u^T - v v^T||_F^2 = |u|^4 + |v|^4 - 2 (u.v)^2``."""
    u, v = _uv(u, v)
    nu = np.sum(u * u, axis=-1)
    nv = np.sum(v * v, axis=-1)
    uv = np.sum(u * v, axis=-1)
    return nu * nu + nv * nv - 2.0 * uv * uv


def min_imbalance_at_minimizer(sq_norm, y):
    """Lower bound ``(|u|^2+|v|^2)^2 / 2 - 2 y^2`` of the imbalance at a minimizer (lam = 0)."""
    return 0.5 * np.asarray(sq_norm) ** 2 - 2.0 * y * y
