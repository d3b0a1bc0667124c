"""Matrix factorization ``L(U, V) = 1/2 ||U^T V - Y||_F^2 + lam/2 (||U||^2 + ||V||^2)``,
``U, V`` in ``R^{d x dy}``.  Flat layout ``x = [U.ravel(), V.ravel()]`` (row-major)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import GdchaosInputError
from ..theory import matrix as thm
from ..theory import scalar as ths
from ._base import (LAM, Option, Problem, check_lam, check_square_target, numba_source_of,
                    seqsum)


# Numba-compilable Python (the engine compiles it: gdchaos.engine._kernelgen): the gradient
# written once, into g, for one point; returns (loss, |g|^2).
def matrix_grad_into(x, consts, lam, g, work):
    """``x = [U.ravel(), V.ravel()]``, U, V ``(d, dy)``; ``consts = [dy, Y.ravel()]``."""
    P = x.shape[0]
    dy = int(consts[0])
    d = P // (2 * dy)
    m = d * dy
    rr = 0.0
    for a in range(dy):  # R = U^T V - Y, stored in work[:dy*dy]
        for b in range(dy):
            s = 0.0
            for r in range(d):
                s += x[r * dy + a] * x[m + r * dy + b]
            rab = s - consts[1 + a * dy + b]
            work[a * dy + b] = rab
            rr += rab * rab
    nn = 0.0
    for j in range(P):
        nn += x[j] * x[j]
    loss = 0.5 * rr + 0.5 * lam * nn
    g2 = 0.0
    for r in range(d):
        for a in range(dy):
            gu = 0.0  # (V R^T)[r, a]
            gv = 0.0  # (U R)[r, a]
            for b in range(dy):
                gu += x[m + r * dy + b] * work[a * dy + b]
                gv += x[r * dy + b] * work[b * dy + a]
            gu += lam * x[r * dy + a]
            gv += lam * x[m + r * dy + a]
            g[r * dy + a] = gu
            g[m + r * dy + a] = gv
            g2 += gu * gu + gv * gv
    return loss, g2


@dataclass(frozen=True)
class MatrixFactorization(Problem):
    Y: tuple = field(default=((1.0, 0.0), (0.0, 1.0)))
    d: int | None = None
    lam: float = 0.0

    name = "matrix"
    OPTIONS = {"Y": Option("matrix", "the target 'a,b;c,d' (default identity)"),
               "d": Option("int", "U, V in R^{d x dy} (default dy)"), "lam": LAM}

    def __post_init__(self):
        object.__setattr__(self, "Y", check_square_target(self.Y))
        if self.d is None:
            object.__setattr__(self, "d", len(self.Y))
        if int(self.d) != self.d or self.d < 1:
            raise GdchaosInputError(f"d must be a positive integer, got {self.d!r}")
        check_lam(self.lam)

    @property
    def Ymat(self):
        return np.asarray(self.Y, dtype=float)

    @property
    def dy(self):
        return len(self.Y)

    @property
    def n_params(self):
        return 2 * self.d * self.dy

    @property
    def param_groups(self):
        m = self.d * self.dy
        return {"U": np.arange(m), "V": np.arange(m, 2 * m)}

    def split(self, X):
        X = np.asarray(X, dtype=float)
        m = self.d * self.dy
        shp = X.shape[:-1] + (self.d, self.dy)
        return X[..., :m].reshape(shp), X[..., m:].reshape(shp)

    def join(self, U, V):
        U = np.asarray(U, dtype=float)
        V = np.asarray(V, dtype=float)
        lead = U.shape[:-2]
        return np.concatenate([U.reshape(lead + (-1,)), V.reshape(lead + (-1,))], axis=-1)

    @property
    def min_value(self):
        # min over M = U^T V (rank <= d) of 1/2||M - Y||^2 + lam ||M||_*: soft-thresholding of the
        # top d singular values; the others cannot be fitted.
        s = np.linalg.svd(self.Ymat, compute_uv=False)
        fit = sum(ths.global_min_value(si, self.lam) for si in s[: self.d])
        return float(fit + 0.5 * np.sum(s[self.d:] ** 2))

    @property
    def minimizers(self):
        s = np.linalg.svd(self.Ymat, compute_uv=False)
        if self.lam == 0:
            return f"M = {{U^T V = Y}} (unbounded), minimum 0; singular values {s.round(6).tolist()}"
        return (f"balanced minimizers with U^T V = P diag(max(s_i - lam, 0)) Q^T, minimum "
                f"{self.min_value:g}; singular values {s.round(6).tolist()}")

    def consts(self):
        return np.concatenate([[float(self.dy)], self.Ymat.ravel()])

    # -- the engine's definitions ------------------------------------------------------------
    def numba_source(self):
        return numba_source_of(matrix_grad_into)

    def numba_work_size(self):
        return self.dy ** 2

    def torch_loss_grad(self, X, c, lam):
        dy = int(c[0])
        P = X.shape[1]
        d = P // (2 * dy)
        m = d * dy
        Y = c[1:].reshape(dy, dy)
        U = lambda r, a: X[:, r * dy + a]  # noqa: E731
        V = lambda r, a: X[:, m + r * dy + a]  # noqa: E731
        R = [[seqsum([U(r, a) * V(r, b) for r in range(d)]) - float(Y[a, b]) for b in range(dy)]
             for a in range(dy)]
        rr = seqsum([R[a][b] * R[a][b] for a in range(dy) for b in range(dy)])
        nn = seqsum([X[:, j] * X[:, j] for j in range(P)])
        loss = 0.5 * rr + 0.5 * lam * nn
        gcols = [None] * P
        for r in range(d):
            for a in range(dy):
                gu = seqsum([V(r, b) * R[a][b] for b in range(dy)]) + lam * U(r, a)
                gv = seqsum([U(r, b) * R[b][a] for b in range(dy)]) + lam * V(r, a)
                gcols[r * dy + a] = gu
                gcols[m + r * dy + a] = gv
        g2 = seqsum([gcols[r * dy + a] * gcols[r * dy + a] + gcols[m + r * dy + a] * gcols[m + r * dy + a]
                      for r in range(d) for a in range(dy)])
        import torch

        return loss, torch.stack(gcols, dim=1), g2

    def params(self):
        return {"problem": "matrix", "d": int(self.d), "Y": [list(r) for r in self.Y],
                "lam": float(self.lam)}

    def loss(self, X):
        U, V = self.split(X)
        R = np.swapaxes(U, -1, -2) @ V - self.Ymat
        return 0.5 * np.sum(R * R, axis=(-2, -1)) + 0.5 * self.lam * np.sum(np.asarray(X) ** 2, -1)

    def grad(self, X):
        U, V = self.split(X)
        R = np.swapaxes(U, -1, -2) @ V - self.Ymat
        gU = V @ np.swapaxes(R, -1, -2) + self.lam * U
        gV = U @ R + self.lam * V
        return self.join(gU, gV)

    def hvp(self, X, D):
        """Exact Hessian-vector product at ``X`` in direction ``D`` (same layout)."""
        U, V = self.split(X)
        dU, dV = self.split(D)
        Ut = np.swapaxes(U, -1, -2)
        R = Ut @ V - self.Ymat
        dR = np.swapaxes(dU, -1, -2) @ V + Ut @ dV
        hU = dV @ np.swapaxes(R, -1, -2) + V @ np.swapaxes(dR, -1, -2) + self.lam * dU
        hV = dU @ R + U @ dR + self.lam * dV
        return self.join(hU, hV)

    def hessian(self, X):
        X = np.atleast_2d(np.asarray(X, dtype=float))
        n, P = X.shape
        H = np.empty((n, P, P))
        for j in range(P):
            e = np.zeros((n, P))
            e[:, j] = 1.0
            H[:, :, j] = self.hvp(X, e)
        return 0.5 * (H + np.swapaxes(H, 1, 2))

    def imbalance(self, X):
        U, V = self.split(X)
        D = U @ np.swapaxes(U, -1, -2) - V @ np.swapaxes(V, -1, -2)
        return np.sum(D * D, axis=(-2, -1))

    def in_orthogonal_subspace(self, X, tol=1e-10):
        U, V = self.split(X)
        return thm.in_orthogonal_subspace(U, V, tol)
