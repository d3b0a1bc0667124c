"""Boundaries of convergence in hyperparameter planes for scalar factorization (exact where known).

Problem: ``L(u, v) = 1/2 (u.v - y)^2 + lam/2 (|u|^2 + |v|^2)`` with ``u, v`` in R^d (SPEC section 1).
The closed forms of the paper (Theorem 1; Theorems 4-5) live in :mod:`gdchaos.theory.scalar`; this
module turns them into curves and regions in planes of hyperparameters.  Every "converges" below
is "GD converges to a global minimizer", and every statement about an initialization holds for
almost every initialization (a null set of the init space is excluded, as in the theorems).

**(a) Step size against the scale of the initialization** (``lam = 0``, one step size ``eta``).
Theorem 1: GD converges for a.e. init iff ``eta < eta*(u, v) = min(1/|y|, 8/Q(u, v))``.  For
``eta |y| < 2`` the condition ``Q(u, v) < 8/eta`` is *equivalent* to the quadratic inequality

    eta (|u|^2 + |v|^2) + eta^2 y (y - u.v) < 4                                        (E)

(write ``c = 8/eta``: ``w + sqrt(w^2 - 16 y z) < c`` iff ``w < c`` and
``2 c w - 16 y u.v < c^2 - 16 y^2``; the quadratic form ``2 c w - 16 y u.v`` is positive definite
iff ``c > 4|y|``, and then the second inequality already bounds ``w < (c + 4|y|)/2 <= c``), an
ellipsoid centred at the origin.  Along the ray ``x0 = s p``, ``p = (u0, v0)``, ``s > 0``, (E) reads
``s^2 eta (w_p - eta y u0.v0) < 4 - eta^2 y^2``, so for ``0 < eta < 1/|y|``

    s*(eta) = sqrt( (4 - eta^2 y^2) / (eta (|u0|^2 + |v0|^2 - eta y u0.v0)) )

and GD converges iff ``s < s*(eta)``; for ``eta |y| >= 1`` it converges for no ``s`` (a.e.).  A
caveat that is not a gap in the proof but in the sampling: Theorem 1 is about a.e. init in
R^{2d}, and a ray is itself a null set.  The exceptional set of Theorem 1 is a countable union of
preimages of lower-dimensional sets (stable sets of the saddle and of unstable minimizers), which
a generic ray meets in isolated points only; a pixel hits one with probability zero, and the maps
confirm it (``p`` must avoid the invariant lines ``u = -sign(y) v`` of d = 1, which lead to
the saddle or away).

**(b) Two step sizes** ``(eta_u, eta_v) = (a, b)`` (GD ``u+ = u - a z v``, ``v+ = v - b z u``,
``z = u.v - y``, ``lam = 0``, any d).  *Proven here (exact conjugacy):* with
``u' = (b/a)^(1/4) u`` and ``v' = (a/b)^(1/4) v`` one has ``u'.v' = u.v`` and

    u'+ = (b/a)^(1/4) (u - a z v) = u' - a (b/a)^(1/4) (a/b)^(-1/4) z v' = u' - sqrt(ab) z v'

and likewise ``v'+ = v' - sqrt(ab) z u'``: GD with step sizes ``(a, b)`` on ``1/2 (u.v - y)^2`` *is*
GD with the common step size ``sqrt(ab)`` on the same loss, in the coordinates ``(u', v')``.  (The
substitution ``u/sqrt(a), v/sqrt(b)`` works too: it gives step ``ab`` on target ``y/sqrt(ab)``;
the two differ by the loss's symmetry ``(u, v) -> (c u, v/c)``.)  The change of variables is linear
and invertible, so it maps null sets to null sets and Theorem 1 transfers verbatim: GD converges
for a.e. init iff ``sqrt(ab) < eta*((b/a)^(1/4) u, (a/b)^(1/4) v)``, i.e. iff

    a b y^2 < 1   and   b |u|^2 + a |v|^2 + a b y (y - u.v) < 4                         (E2)

(by (E) in the primed variables, ``sqrt(ab) (|u'|^2 + |v'|^2) = b |u|^2 + a |v|^2``).  At a = b
this is (E).  For fixed ``(u0, v0)`` and ``a``, (E2) is linear in ``b``: with
``N = 4 - a |v0|^2`` and ``D = |u0|^2 + a y (y - u0.v0)`` the region is ``b D < N`` intersected with
``b < 1/(a y^2)``; it is always an interval ``0 < b < b*(a)`` (:func:`eta_v_critical`).
*Not covered:* weight decay with two step sizes (the conjugacy gives GD on a loss with unequal
decays ``lam sqrt(a/b)`` on u' and ``lam sqrt(b/a)`` on v', outside Theorems 4-5); matrix or deep
factorization with per-factor step sizes beyond the orthogonal invariant set.

**(c) Step size against weight decay** (``lam > 0``, init ``(u0, v0)`` fixed).  Theorems 4-5
(paper; sufficient conditions, not iff): where ``0 < lam < min(1/eta - |y|, 1/(2 eta))``
(admissible), ``eta < 8/(4 lam + Q)`` implies convergence to a global minimizer and
``eta < 4/(4 lam + Q)`` to the closest one ``p-``.  Solved for ``lam``:
``lam < (8/eta - Q)/4`` and ``lam < (4/eta - Q)/4``.  Beyond the bound the theorems claim nothing
(the region is fractal there, Theorem 4).  The converse used in the maps is *standard, not from
the paper*: where ``eta`` exceeds ``2/sharpness`` at every global minimizer (d = 1: for
``0 < lam < |y|`` the Hessian's eigenvalues there are ``2(|y| - lam)`` and ``2 lam``; for
``lam >= |y|`` at the origin ``lam +- |y|``), every minimizer is linearly unstable and GD
reaches one only from a null set of inits (stable-manifold argument; the GD map is a polynomial
map with a Jacobian that vanishes on a null set only, so preimages of null sets are null).
"""

from __future__ import annotations

import numpy as np

from . import scalar

__all__ = [
    "rescale_two_steps",
    "critical_scale",
    "scale_converges",
    "two_steps_converges",
    "two_steps_form",
    "eta_v_critical",
    "lam_bound_curves",
    "lam_admissible_max",
    "lam_theorem5",
    "minimizer_stability_limit",
]


def _p(u0, v0):
    u0 = np.atleast_1d(np.asarray(u0, dtype=float))
    v0 = np.atleast_1d(np.asarray(v0, dtype=float))
    return u0, v0


def rescale_two_steps(u, v, eta_u, eta_v):
    """The conjugacy of (b): ``(u', v', eta') = ((b/a)^(1/4) u, (a/b)^(1/4) v, sqrt(ab))``.

    GD with step sizes ``(eta_u, eta_v)`` from ``(u, v)`` on ``1/2 (u.v - y)^2`` equals, step by
    step, GD with step ``eta'`` from ``(u', v')`` on the same loss mapped back by the inverse
    scaling.  ``u, v`` have shape ``(..., d)``; ``eta_u, eta_v`` broadcast against ``(...)``."""
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    a = np.asarray(eta_u, dtype=float)
    b = np.asarray(eta_v, dtype=float)
    r = (b / a) ** 0.25
    return u * r[..., None], v / r[..., None], np.sqrt(a * b)


# ------------------------------------------------------------------ (a) eta against init scale
def critical_scale(eta, u0, v0, y):
    """``s*(eta)``: GD with step ``eta`` from ``s (u0, v0)`` converges (a.e.) iff ``s < s*``.

    Closed form of (a) for ``0 < eta < 1/|y|``; 0 where ``eta |y| >= 1`` (no scale converges)."""
    u0, v0 = _p(u0, v0)
    eta = np.asarray(eta, dtype=float)
    w = float(u0 @ u0 + v0 @ v0)
    uv = float(u0 @ v0)
    y = float(y)
    ok = eta * abs(y) < 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = (4.0 - eta * eta * y * y) / (eta * (w - eta * y * uv))
    return np.where(ok, np.sqrt(np.where(ok, s2, 0.0)), 0.0)


def scale_converges(eta, s, u0, v0, y):
    """Theorem 1 at ``x0 = s (u0, v0)``: ``eta < eta*(s u0, s v0)`` (``eta``, ``s`` broadcast)."""
    u0, v0 = _p(u0, v0)
    eta, s = np.broadcast_arrays(np.asarray(eta, float), np.asarray(s, float))
    es = scalar.eta_star(s[..., None] * u0, s[..., None] * v0, y)
    return eta < es


# ----------------------------------------------------------------------- (b) two step sizes
def two_steps_converges(eta_u, eta_v, u0, v0, y):
    """(b): GD with ``(eta_u, eta_v)`` from ``(u0, v0)`` converges (a.e.) iff
    ``sqrt(eta_u eta_v) < eta*`` at the rescaled init (Theorem 1 through the conjugacy)."""
    u0, v0 = _p(u0, v0)
    a, b = np.broadcast_arrays(np.asarray(eta_u, float), np.asarray(eta_v, float))
    up, vp, e = rescale_two_steps(np.broadcast_to(u0, a.shape + u0.shape),
                                  np.broadcast_to(v0, a.shape + v0.shape), a, b)
    return e < scalar.eta_star(up, vp, y)


def two_steps_form(eta_u, eta_v, u0, v0, y):
    """The left side of (E2): ``eta_v |u0|^2 + eta_u |v0|^2 + eta_u eta_v y (y - u0.v0)``
    (convergence iff it is < 4 and ``eta_u eta_v y^2 < 1``)."""
    u0, v0 = _p(u0, v0)
    a = np.asarray(eta_u, dtype=float)
    b = np.asarray(eta_v, dtype=float)
    return b * (u0 @ u0) + a * (v0 @ v0) + a * b * y * (y - u0 @ v0)


def eta_v_critical(eta_u, u0, v0, y):
    """For each ``eta_u``, the critical ``eta_v``: GD from ``(u0, v0)`` converges (a.e.) iff
    ``0 < eta_v < eta_v_critical`` (0: for no ``eta_v``).

    From (E2): ``eta_v D < N`` and ``eta_v < 1/(eta_u y^2)`` with ``N = 4 - eta_u |v0|^2`` and
    ``D = |u0|^2 + eta_u y (y - u0.v0)``.  For ``D > 0`` this is ``eta_v < min(N/D, 1/(eta_u y^2))``.
    For ``D <= 0`` it is ``eta_v < 1/(eta_u y^2)`` if ``N > 0`` and empty otherwise: the candidate
    interval ``(N/D, 1/(eta_u y^2))`` of ``D < 0, N <= 0`` is always empty: it needs
    ``N eta_u y^2 > D``, but ``D < 0`` means ``eta_u y^2 < eta_u y u0.v0 - |u0|^2``, so
    ``N eta_u y^2 - D = 3 eta_u y^2 - eta_u^2 y^2 |v0|^2 - |u0|^2 + eta_u y u0.v0
    < 4 eta_u y u0.v0 - 4 |u0|^2 - eta_u^2 y^2 |v0|^2 <= -(2 |u0| - eta_u |y| |v0|)^2 <= 0``
    (Cauchy-Schwarz)."""
    u0, v0 = _p(u0, v0)
    a = np.asarray(eta_u, dtype=float)
    y = float(y)
    n = 4.0 - a * (v0 @ v0)
    d = (u0 @ u0) + a * y * (y - u0 @ v0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cap = np.broadcast_to(np.inf if y == 0 else 1.0 / (a * y * y), a.shape)
        nd = n / d
    return np.where(d > 0, np.minimum(np.maximum(nd, 0.0), cap), np.where(n > 0, cap, 0.0))


# -------------------------------------------------------------- (c) step size against lam
def lam_theorem5(eta, lam, u0, v0, y):
    """Theorems 4-5 at the init ``(u0, v0)``: ``(admissible, global, closest)`` boolean arrays
    (``global``: ``eta < 8/(4 lam + Q)``; ``closest``: ``eta < 4/(4 lam + Q)``; both only claim
    something where ``admissible``)."""
    u0, v0 = _p(u0, v0)
    eta, lam = np.broadcast_arrays(np.asarray(eta, float), np.asarray(lam, float))
    adm = scalar.theorem4_admissible(eta, y, lam)
    g, c = scalar.theorem5_bounds(u0, v0, y, lam)
    return adm, eta < g, eta < c


def lam_bound_curves(eta, u0, v0, y):
    """The bounds of Theorem 5 solved for ``lam`` at each ``eta``:
    ``((8/eta - Q)/4, (4/eta - Q)/4)`` with ``Q = Q(u0, v0)`` (below: global / closest)."""
    u0, v0 = _p(u0, v0)
    eta = np.asarray(eta, dtype=float)
    q = float(scalar.q_value(u0, v0, y))
    return (8.0 / eta - q) / 4.0, (4.0 / eta - q) / 4.0


def lam_admissible_max(eta, y):
    """Upper end of the admissible ``lam`` of Theorems 4-5: ``min(1/eta - |y|, 1/(2 eta))``."""
    eta = np.asarray(eta, dtype=float)
    return np.minimum(1.0 / eta - abs(float(y)), 1.0 / (2.0 * eta))


def minimizer_stability_limit(lam, y, d=1):
    """``2 / sharpness`` at the global minimizers (all share one Hessian spectrum): above this step
    size every global minimizer is linearly unstable (the standard converse used in (c))."""
    lam = np.atleast_1d(np.asarray(lam, dtype=float))
    out = np.empty(lam.shape)
    for i, l in np.ndenumerate(lam):
        m = scalar.minimizer_set(y, float(l))
        if m.kind == "hyperbola":  # lam = 0: the smallest sharpness on M is 2|y|
            out[i] = np.inf if y == 0 else 1.0 / abs(float(y))
            continue
        u = np.zeros(d)
        u[0] = np.sqrt(m.radius_sq)
        top = scalar.sharpness(u, m.sign * u, y, float(l))
        out[i] = 2.0 / float(top)
    return out
