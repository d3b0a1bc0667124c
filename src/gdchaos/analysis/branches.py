"""Inverse branches ``G0, G1, G2`` of the planar map (Prop. 14) and the self-similar
decomposition of the projected boundary (figure 3 left).

In scaled coordinates (``Z = eta z``, ``W = eta w``, ``alpha = eta y``, ``beta = eta lam``,
``b = 1 - beta``, ``c = b^2 + Z^2``) the preimages of ``(Z0, W0)`` under
``F_{alpha, beta}`` solve

    W = (W0 + 4 b Z (Z + alpha)) / c                     (the W-equation)
    P(Z) = c^2 (Z + alpha) - c (alpha + Z0) - 4 b^2 Z^2 (Z + alpha) - b W0 Z = 0,

a monic quintic in ``Z`` (substitute the W-equation into the Z-equation and multiply by
``c``).  On ``B = {Q > 6 - 4 beta}`` exactly three real roots give states, one in each of
``{Z < -b}`` (``G0``), ``{|Z| < b}`` (``G1``), ``{Z > b}`` (``G2``).  Roots are taken from
batched companion matrices, then polished by Newton's method on ``F(X) = X0``.

Since ``F o G_i = id`` and ``G_i`` maps into the ``i``-th strip, a point ``X`` of the boundary in
strip ``i`` is ``G_i(F(X))``: colouring the boundary by strip *is* its decomposition into the
images ``G_i(boundary)``, provided ``F`` maps the boundary into itself
(:func:`decompose_boundary` checks that at grid resolution, :func:`branch_invariance` checks
that every ``G_i`` maps boundary points near boundary points).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import GdchaosInputError, check_positive
from ..theory import quotient as tq
from .lyapunov import quotient_jacobian

__all__ = ["quintic_coefficients", "inverse_branches", "inverse_branches_zw", "branch_index",
           "decompose_boundary", "branch_invariance", "BranchCheck"]


def quintic_coefficients(Z0, W0, alpha, beta=0.0):
    """Coefficients ``(n, 6)`` (highest degree first) of the preimage quintic ``P``."""
    Z0 = np.atleast_1d(np.asarray(Z0, dtype=float))
    W0 = np.atleast_1d(np.asarray(W0, dtype=float))
    b = 1.0 - beta
    Pz = np.poly1d([1.0, alpha])          # Z + alpha
    c = np.poly1d([1.0, 0.0, b * b])      # b^2 + Z^2
    A = c * c * Pz - alpha * c - 4.0 * b * b * np.poly1d([1.0, 0.0, 0.0]) * Pz
    A = np.asarray(A.coeffs, dtype=float)  # degree 5
    C = np.concatenate([[0.0, 0.0, 0.0], c.coeffs])
    Zc = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    return A[None, :] - Z0[:, None] * C[None, :] - b * W0[:, None] * Zc[None, :]


def branch_index(Z, beta=0.0):
    """0 on ``{Z < -(1 - beta)}``, 1 on ``{|Z| < 1 - beta}``, 2 on ``{Z > 1 - beta}`` (scaled)."""
    Z = np.asarray(Z, dtype=float)
    b = 1.0 - beta
    return np.where(Z < -b, 0, np.where(Z > b, 2, 1)).astype(np.int8)


def _polish(Z, W, Z0, W0, alpha, beta, iters=3):
    for _ in range(iters):
        Zf, Wf = tq.scaled_map(Z, W, alpha, beta)
        J = quotient_jacobian(np.stack([Z, W], 1), 1.0, alpha, beta)
        r = np.stack([Zf - Z0, Wf - W0], 1)
        ok = np.isfinite(r).all(1) & (np.abs(np.linalg.det(J)) > 1e-300)
        dx = np.zeros_like(r)
        dx[ok] = np.linalg.solve(J[ok], -r[ok][..., None])[..., 0]
        Z, W = Z + dx[:, 0], W + dx[:, 1]
    return Z, W


def inverse_branches(Z0, W0, alpha, beta=0.0, *, rtol=1e-9):
    """``G0, G1, G2`` at the points ``(Z0, W0)`` (scaled coordinates).

    Returns an array ``(3, n, 2)``: ``out[i]`` is ``G_i(Z0, W0)``, NaN where that branch has no
    preimage (outside ``B`` a branch may not exist).  Every returned preimage satisfies
    ``|F(G_i(X)) - X| <= rtol (1 + |X|)`` and lies in the state space.
    """
    Z0 = np.atleast_1d(np.asarray(Z0, dtype=float))
    W0 = np.atleast_1d(np.asarray(W0, dtype=float))
    n = Z0.size
    out = np.full((3, n, 2), np.nan)
    if n == 0:
        return out
    coef = quintic_coefficients(Z0, W0, alpha, beta)
    comp = np.zeros((n, 5, 5))
    comp[:, 0, :] = -coef[:, 1:]
    comp[:, np.arange(1, 5), np.arange(0, 4)] = 1.0
    roots = np.linalg.eigvals(comp)  # (n, 5)
    scale = 1.0 + np.abs(roots)
    real = np.abs(roots.imag) <= 1e-7 * scale
    Zr = roots.real
    b = 1.0 - beta
    best = np.full((3, n), np.inf)
    for k in range(5):
        cand = real[:, k]
        Z = Zr[:, k]
        W = (W0 + 4.0 * b * Z * (Z + alpha)) / (b * b + Z * Z)
        Z, W = _polish(Z, W, Z0, W0, alpha, beta)
        Zf, Wf = tq.scaled_map(Z, W, alpha, beta)
        res = np.maximum(np.abs(Zf - Z0), np.abs(Wf - W0)) / (1.0 + np.abs(Z0) + np.abs(W0))
        cand &= np.isfinite(res) & (res <= rtol)
        cand &= W >= 2.0 * np.abs(Z + alpha) - 1e-9 * (1.0 + np.abs(W))
        br = branch_index(Z, beta)
        for i in range(3):
            take = cand & (br == i) & (res < best[i])
            out[i, take, 0] = Z[take]
            out[i, take, 1] = W[take]
            best[i, take] = res[take]
    return out


def inverse_branches_zw(z, w, eta, y, lam=0.0, **kw):
    """:func:`inverse_branches` in unscaled ``(z, w)`` coordinates: ``(3, n, 2)``."""
    check_positive("step size eta", eta)
    Z, W, a, b = tq.to_scaled(np.asarray(z, float), np.asarray(w, float), eta, y, lam)
    return inverse_branches(Z, W, a, b, **kw) / eta


@dataclass
class BranchCheck:
    """Fractions of mapped boundary points that land within ``radii`` pixels of the boundary."""

    radii: list
    fractions: dict
    n_points: dict
    labels: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def as_dict(self):
        return {"radii": list(self.radii), "fractions": self.fractions,
                "n_points": self.n_points, "info": self.info,
                "label_counts": None if self.labels is None else
                np.bincount(self.labels, minlength=3).tolist()}


def _pixel_distance(mask, zs, ws):
    from scipy import ndimage

    dist = ndimage.distance_transform_edt(~np.asarray(mask, bool))
    dz = (zs[-1] - zs[0]) / (zs.size - 1)
    dw = (ws[-1] - ws[0]) / (ws.size - 1)

    def at(P, margin_gap, y):
        cz = (P[:, 0] - zs[0]) / dz
        rw = (P[:, 1] - ws[0]) / dw
        inside = np.isfinite(cz) & np.isfinite(rw) & (cz >= 0) & (cz <= zs.size - 1) & \
            (rw >= 0) & (rw <= ws.size - 1)
        inside &= P[:, 1] - 2.0 * np.abs(P[:, 0] + y) >= margin_gap
        d = np.full(P.shape[0], np.inf)
        ci = np.round(cz[inside]).astype(int)
        ri = np.round(rw[inside]).astype(int)
        d[inside] = dist[ri, ci]
        return d, inside

    return at


def decompose_boundary(mask, zs, ws, eta, y, lam, radii=(1, 2, 3, 5), margin=1e-2):
    """Colour the boundary pixels of a quotient outcome map by branch (strip of ``Z = eta z``)
    and check ``F(boundary) ~ boundary``: fraction of boundary points whose image lands within
    each radius (pixels) of a boundary pixel (images outside the grid or within ``margin`` of
    the state-space edge are not counted)."""
    zs = np.asarray(zs, float)
    ws = np.asarray(ws, float)
    r, c = np.nonzero(mask)
    P = np.stack([zs[c], ws[r]], 1)
    labels = branch_index(eta * P[:, 0], eta * lam)
    at = _pixel_distance(mask, zs, ws)
    Fz, Fw = tq.planar_map(P[:, 0], P[:, 1], eta, y, lam)
    d, inside = at(np.stack([Fz, Fw], 1), margin, y)
    fr = {str(rr): float(np.mean(d[inside] <= rr)) if inside.any() else np.nan for rr in radii}
    return BranchCheck(list(radii), {"F": fr},
                       {"F": int(inside.sum()), "boundary": int(P.shape[0])},
                       labels, {"eta": eta, "y": y, "lam": lam})


def branch_invariance(mask, zs, ws, eta, y, lam, radii=(1, 2, 3, 5), margin=1e-2,
                      max_points=50_000, seed=0) -> BranchCheck:
    """Check that each ``G_i`` maps boundary points to (near) boundary points.

    For boundary pixels in ``B = {Q > 6 - 4 beta}`` (at most ``max_points``, a random subset),
    compute ``G_i`` and the distance (pixels) from each image to the nearest boundary pixel;
    images outside the grid or within ``margin`` of the state-space edge are not counted.
    Returns, per branch, the fraction within each radius.  The images shrink distances
    (``G_i`` are contractions near the boundary), so a faithful boundary gives fractions near 1
    already at 1-2 pixels.
    """
    zs = np.asarray(zs, float)
    ws = np.asarray(ws, float)
    r, c = np.nonzero(mask)
    if r.size == 0:
        raise GdchaosInputError("the boundary mask is empty")
    P = np.stack([zs[c], ws[r]], 1)
    alpha, beta = eta * y, eta * lam
    Q = tq.q_scaled(eta * P[:, 0], eta * P[:, 1], alpha)
    P = P[Q > 6.0 - 4.0 * beta]
    if P.shape[0] > max_points:
        P = P[np.random.default_rng(seed).choice(P.shape[0], max_points, replace=False)]
    G = inverse_branches_zw(P[:, 0], P[:, 1], eta, y, lam)
    at = _pixel_distance(mask, zs, ws)
    fr, npts = {}, {}
    for i in range(3):
        d, inside = at(G[i], margin, y)
        npts[f"G{i}"] = int(inside.sum())
        fr[f"G{i}"] = {str(rr): float(np.mean(d[inside] <= rr)) if inside.any() else np.nan
                       for rr in radii}
    return BranchCheck(list(radii), fr, npts, None,
                       {"eta": eta, "y": y, "lam": lam, "n_in_B": int(P.shape[0])})
