"""Quotient dynamics of scalar factorization (SPEC section 3, appendix D).

``T(u, v) = (z, w) = (u.v - y, |u|^2 + |v|^2)`` maps GD on ``(u, v)`` to an exact planar map on
``(z, w)`` (Prop. 3/9).  In scaled coordinates ``Z = eta z, W = eta w, alpha = eta y,
beta = eta lam`` it is the two-parameter map ``F_{alpha, beta}`` on ``Omega = {W >= 2 |Z + alpha|}``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "quotient_T",
    "planar_map",
    "scaled_map",
    "to_scaled",
    "from_scaled",
    "q_scaled",
    "in_state_space",
    "minimizer_image",
    "invariant_segment",
    "boundary_map",
    "chebyshev_map",
    "tent3_map",
    "boundary_to_chebyshev",
    "chebyshev_to_boundary",
    "chebyshev_to_tent",
    "tent_to_chebyshev",
]


def quotient_T(u, v, y):
    """``T(u, v) = (u.v - y, |u|^2 + |v|^2)`` over the last axis."""
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    return np.sum(u * v, axis=-1) - y, np.sum(u * u, axis=-1) + np.sum(v * v, axis=-1)


def planar_map(z, w, eta, y, lam=0.0):
    """One step of the induced map on ``(z, w)`` (Prop. 3)."""
    z = np.asarray(z, dtype=float)
    w = np.asarray(w, dtype=float)
    a = 1.0 - eta * lam
    c = a * a + eta * eta * z * z
    return c * (z + y) - eta * a * z * w - y, c * w - 4.0 * eta * a * z * (z + y)


def scaled_map(Z, W, alpha, beta=0.0):
    """``F_{alpha, beta}`` in scaled coordinates ``Z = eta z, W = eta w``."""
    Z = np.asarray(Z, dtype=float)
    W = np.asarray(W, dtype=float)
    b = 1.0 - beta
    c = b * b + Z * Z
    return c * (Z + alpha) - b * Z * W - alpha, c * W - 4.0 * b * Z * (Z + alpha)


def to_scaled(z, w, eta, y, lam=0.0):
    """``(z, w, y, lam) -> (Z, W, alpha, beta)``."""
    return eta * np.asarray(z), eta * np.asarray(w), eta * y, eta * lam


def from_scaled(Z, W, eta):
    return np.asarray(Z) / eta, np.asarray(W) / eta


def q_scaled(Z, W, alpha):
    """Lyapunov-like ``Q(Z, W) = W + sqrt(W^2 - 16 alpha Z)``; ``{Q = 8}`` is invariant for beta = 0."""
    Z = np.asarray(Z, dtype=float)
    W = np.asarray(W, dtype=float)
    return W + np.sqrt(np.maximum(W * W - 16.0 * alpha * Z, 0.0))


def in_state_space(z, w, y, atol=0.0):
    """``w >= 2 |z + y|`` (the image of T); works equally in scaled coordinates with ``y -> alpha``."""
    return np.asarray(w) >= 2.0 * np.abs(np.asarray(z) + y) - atol


def minimizer_image(y, lam):
    """``T(M)``: for lam = 0 the ray ``{z = 0, w >= 2|y|}`` (returned as ``(0, nan)``), for
    ``0 < lam < |y|`` the point ``(-sign(y) lam, 2(|y| - lam))``, for ``lam >= |y|`` ``(-y, 0)``."""
    if lam == 0:
        return 0.0, float("nan")
    if lam < abs(y):
        s = 1.0 if y >= 0 else -1.0
        return -s * lam, 2.0 * (abs(y) - lam)
    return -float(y), 0.0


def invariant_segment(alpha, n=201):
    """Points of ``{Q = 8}``: ``W = alpha Z + 4``, ``Z in [-2, 2]`` (beta = 0)."""
    Z = np.linspace(-2.0, 2.0, n)
    return Z, alpha * Z + 4.0


def boundary_map(Z):
    """``Z -> Z^3 - 3Z``: ``F`` restricted to the invariant segment (beta = 0)."""
    Z = np.asarray(Z, dtype=float)
    return Z * Z * Z - 3.0 * Z


def chebyshev_map(x):
    """``x -> 4x^3 - 3x`` on ``[-1, 1]`` (conjugate to the boundary map by ``x = Z/2``)."""
    x = np.asarray(x, dtype=float)
    return 4.0 * x * x * x - 3.0 * x


def tent3_map(s):
    """Piecewise-linear map with slopes +-3 on ``[-1, 1]``: ``3s + 2``, ``-3s``, ``3s - 2``."""
    s = np.asarray(s, dtype=float)
    return np.where(s <= -1.0 / 3.0, 3.0 * s + 2.0, np.where(s < 1.0 / 3.0, -3.0 * s, 3.0 * s - 2.0))


def boundary_to_chebyshev(Z):
    return np.asarray(Z, dtype=float) / 2.0


def chebyshev_to_boundary(x):
    return 2.0 * np.asarray(x, dtype=float)


def chebyshev_to_tent(x):
    """``s = (2/pi) arcsin(x)``: conjugacy ``tent3 = h o chebyshev o h^-1``, ``h^-1(s) = sin(pi s/2)``."""
    return (2.0 / np.pi) * np.arcsin(np.clip(np.asarray(x, dtype=float), -1.0, 1.0))


def tent_to_chebyshev(s):
    return np.sin(0.5 * np.pi * np.asarray(s, dtype=float))


def planar_jacobian(X, eta, y, lam=0.0):
    """Closed-form Jacobian ``(n, 2, 2)`` of the planar map on ``(z, w)`` (Prop. 3)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    z, w = X[:, 0], X[:, 1]
    a = 1.0 - eta * lam
    c = a * a + eta * eta * z * z
    J = np.empty((X.shape[0], 2, 2))
    J[:, 0, 0] = 2.0 * eta * eta * z * (z + y) + c - eta * a * w
    J[:, 0, 1] = -eta * a * z
    J[:, 1, 0] = 2.0 * eta * eta * z * w - 4.0 * eta * a * (2.0 * z + y)
    J[:, 1, 1] = c
    return J
