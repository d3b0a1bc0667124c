"""The theory's curves over a view (SPEC sections 2-3, ``gdchaos.theory``), in slice coordinates.

Quotient map (the (z, w) plane): the edge of the state space ``w = 2|z + y|``, the image of the
minimizers ``T(M)``, and the levels ``Q(z, w) = w + sqrt(w^2 - 16 y z) = 8/eta - 4 lam`` (Theorem 4:
below it GD converges to a global minimizer; for lam = 0 the boundary of D0, Theorem 1) and
``Q = 4/eta - 4 lam`` (Theorem 5: converges to the closest minimizer).  Scalar factorization:
the same two levels of ``Q(u, v)`` over the slice and, for lam = 0, the minimizers ``u.v = y``
(for d = 1 on the axes and lam > 0, the two minimizers).  Other problems have none.
"""

from __future__ import annotations

import numpy as np

OVERLAY_N = 240  # raster on which level curves are traced
#: every curve :func:`overlays` can return, (label, colour): the page draws all of them in every
#: frame (empty where absent) so that the overlay keeps its elements from frame to frame
OVERLAY_KEYS = (("boundary of D0 (Thm 1)", "#000000"), ("Q = 8/eta - 4 lam (Thm 4)", "#000000"),
                ("Q = 4/eta - 4 lam (Thm 5)", "#7b3294"),
                ("edge of the state space w = 2|z + y|", "#555555"), ("T(M)", "#2ca02c"),
                ("minimizers u.v = y", "#2ca02c"), ("minimizers", "#2ca02c"))


def _levels(x, y, F, level):
    from contourpy import contour_generator

    if not np.isfinite(level):
        return []
    F = np.where(np.isfinite(F), F, np.nan)
    gen = contour_generator(x, y, F)
    return [(ln[:, 0], ln[:, 1]) for ln in gen.lines(level) if len(ln) > 1]


def overlays(st, problem):
    """``[(label, colour, [(xs, ys), ...]), ...]`` for the view's window (empty when the problem
    has no closed-form curves or the slice is not one they live on)."""
    from ..theory import quotient as thq
    from ..theory import scalar as ths

    if st.precision == "dd":
        return []  # curves computed in float64 mean nothing at double-double depths
    lam, eta = problem.lam, st.eta
    x = np.linspace(st.x0, st.x1, OVERLAY_N)
    y = np.linspace(st.y0, st.y1, OVERLAY_N)
    out = []
    l4, l5 = 8.0 / eta - 4.0 * lam, 4.0 / eta - 4.0 * lam
    name4 = "boundary of D0 (Thm 1)" if lam == 0 else "Q = 8/eta - 4 lam (Thm 4)"
    from ..problems import QuotientMap, ScalarFactorization

    if isinstance(problem, QuotientMap):  # the theory of section 3 (Theorems 4-5 over (z, w))
        yy = problem.y
        Z, W = np.meshgrid(x, y)
        with np.errstate(invalid="ignore"):
            Q = W + np.sqrt(W * W - 16.0 * yy * Z)
        Q = np.where(thq.in_state_space(Z, W, yy), Q, np.nan)
        out.append((name4, "#000000", _levels(x, y, Q, l4)))
        if lam > 0:
            out.append(("Q = 4/eta - 4 lam (Thm 5)", "#7b3294", _levels(x, y, Q, l5)))
        zz = np.linspace(min(st.x0, -yy) - 1, max(st.x1, -yy) + 1, 3)
        edge = [(np.array([-yy, zz[-1]]), 2 * np.abs(np.array([-yy, zz[-1]]) + yy)),
                (np.array([zz[0], -yy]), 2 * np.abs(np.array([zz[0], -yy]) + yy))]
        out.append(("edge of the state space w = 2|z + y|", "#555555", edge))
        mz, mw = thq.minimizer_image(yy, lam)
        if lam == 0:
            top = max(st.y1, 2 * abs(yy)) + 1
            out.append(("T(M)", "#2ca02c", [(np.array([0.0, 0.0]), np.array([2 * abs(yy), top]))]))
        else:
            out.append(("T(M)", "#2ca02c", [(np.array([mz]), np.array([mw]))]))
        return out
    if not isinstance(problem, ScalarFactorization):
        return out
    from ._view import slice_for

    g = slice_for(st, problem, xs=x, ys=y)
    P = g.points().reshape(len(y), len(x), -1)
    u, v = P[..., :problem.d], P[..., problem.d:]
    with np.errstate(all="ignore"):
        Q = ths.q_value(u, v, problem.y)
    out.append((name4, "#000000", _levels(x, y, Q, l4)))
    if lam > 0:
        out.append(("Q = 4/eta - 4 lam (Thm 5)", "#7b3294", _levels(x, y, Q, l5)))
    if lam == 0:
        out.append(("minimizers u.v = y", "#2ca02c",
                    _levels(x, y, np.sum(u * v, axis=-1) - problem.y, 0.0)))
    elif problem.d == 1 and np.allclose(g.directions, np.eye(2)) and lam < abs(problem.y):
        m = ths.minimizer_set(problem.y, lam)
        r = np.sqrt(m.radius_sq)
        out.append(("minimizers", "#2ca02c", [(np.array([r, -r]), np.array([m.sign * r,
                                                                            -m.sign * r]))]))
    return out


def has_overlays(problem) -> bool:
    """Whether the theory draws curves on this problem's maps (the quotient map over (z, w) and
    scalar factorization's slices)."""
    from ..problems import QuotientMap, ScalarFactorization

    return isinstance(problem, (QuotientMap, ScalarFactorization))
