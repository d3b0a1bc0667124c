"""Matrix factorization ``L(U, V) = 1/2 ||U^T V - Y||_F^2 + lam/2 (||U||^2 + ||V||^2)``
(SPEC sections 1-2, appendices C and G)."""

from __future__ import annotations

import numpy as np

from ..errors import GdchaosInputError
from . import scalar as _scalar

__all__ = [
    "svd_reduce",
    "reduce_init",
    "in_orthogonal_subspace",
    "column_pairs",
    "eta_star_matrix",
    "orthogonal_init",
]


def svd_reduce(Y):
    """``Y = P diag(s) Q^T``; returns ``(P, s, Q)``."""
    Y = np.asarray(Y, dtype=float)
    if Y.ndim != 2 or Y.shape[0] != Y.shape[1]:
        raise GdchaosInputError(f"Y must be a square matrix, got shape {Y.shape}")
    P, s, Qt = np.linalg.svd(Y)
    return P, s, Qt.T


def reduce_init(U, V, Y):
    """Rotate ``(U, V) -> (U P, V Q)`` so that the target becomes ``diag(s)``.

    GD on the rotated problem is GD on the original one conjugated by this rotation (appendix C).
    Returns ``(U P, V Q, s, P, Q)``.
    """
    U, V = _check_uv(U, V, Y)
    P, s, Q = svd_reduce(Y)
    return U @ P, V @ Q, s, P, Q


def _check_uv(U, V, Y=None):
    U = np.asarray(U, dtype=float)
    V = np.asarray(V, dtype=float)
    if U.shape != V.shape or U.ndim < 2:
        raise GdchaosInputError(f"U and V must be matrices of the same shape, got {U.shape}, {V.shape}")
    if Y is not None:
        Y = np.asarray(Y)
        if Y.shape != (U.shape[-1], U.shape[-1]):
            raise GdchaosInputError(f"Y must be {U.shape[-1]}x{U.shape[-1]} for U of shape {U.shape}")
    return U, V


def in_orthogonal_subspace(U, V, tol=1e-10):
    """Whether ``(U, V)`` lies in ``W = {<u_i,u_j> = <u_i,v_j> = <v_i,v_j> = 0, i != j}``.

    Columns ``u_i, v_i``.  Off-diagonal inner products are compared to ``tol`` times the product of
    the column norms (with a floor of 1), so the test is scale-aware.  Vectorized over leading axes.
    """
    U, V = _check_uv(U, V)
    dy = U.shape[-1]
    C = np.concatenate([U, V], axis=-1)
    G = np.swapaxes(C, -1, -2) @ C  # Gram matrix of all 2 dy columns
    n = np.sqrt(np.maximum(np.diagonal(G, axis1=-2, axis2=-1), 0.0))
    scale = np.maximum(n[..., :, None] * n[..., None, :], 1.0)
    idx = np.arange(dy)
    mask = np.ones((2 * dy, 2 * dy), dtype=bool)
    mask[idx, idx] = False
    mask[idx + dy, idx + dy] = False
    mask[idx, idx + dy] = False  # <u_i, v_i> is free
    mask[idx + dy, idx] = False
    viol = np.where(mask, np.abs(G) / scale, 0.0)
    return np.max(viol, axis=(-2, -1)) <= tol


def column_pairs(U, V):
    """List of ``(u_i, v_i)`` column pairs."""
    U, V = _check_uv(U, V)
    return [(U[..., :, i], V[..., :, i]) for i in range(U.shape[-1])]


def eta_star_matrix(U, V, Y, tol=1e-10):
    """``eta*(U, V) = min_i eta*(u_i, v_i; y_i)`` on the orthogonal subspace (section 4.1).

    ``Y`` is reduced by SVD first; raises if the rotated init is not in ``W``.
    """
    Ur, Vr, s, _, _ = reduce_init(U, V, Y)
    if not np.all(in_orthogonal_subspace(Ur, Vr, tol)):
        raise GdchaosInputError("initialization is not in the orthogonal subspace W (after SVD "
                                "reduction of Y); eta* has no closed form there")
    return np.min(np.stack([_scalar.eta_star(u, v, yi) for (u, v), yi in
                            zip(column_pairs(Ur, Vr), s)], axis=-1), axis=-1)


def orthogonal_init(d, scales_u, scales_v, rng=None):
    """A random point of ``W``: column ``i`` of U and V are multiples of one of ``dy`` orthonormal
    directions of ``R^d`` (``d >= dy``), with the given signed lengths."""
    su = np.asarray(scales_u, dtype=float)
    sv = np.asarray(scales_v, dtype=float)
    dy = su.shape[0]
    if d < dy:
        raise GdchaosInputError("orthogonal_init needs d >= dy")
    rng = np.random.default_rng(rng)
    E, _ = np.linalg.qr(rng.standard_normal((d, dy)))
    return E * su, E * sv
