"""Deep matrix factorization ``L = 1/2 ||W1 W2 ... Wk - Y||_F^2 + lam/2 sum ||Wi||^2``
with ``k >= 2`` square ``n x n`` factors (appendix I uses k = 3, n = 2).
Flat layout ``x = [W1.ravel(), ..., Wk.ravel()]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce

import numpy as np

from ..errors import GdchaosInputError
from ._base import (LAM, Option, Problem, check_lam, check_square_target, numba_source_of,
                    seqsum)


def _scalar_deep_min(s, k, lam):
    """``min_{t >= 0} 1/2 (t^k - s)^2 + k lam/2 t^2`` (balanced factor singular value ``t``)."""
    if lam == 0:
        return 0.0
    from scipy.optimize import minimize_scalar  # a heavy import, only where needed

    f = lambda t: 0.5 * (t**k - s) ** 2 + 0.5 * k * lam * t * t  # noqa: E731
    grid = np.linspace(0.0, max(1.0, s) ** (1.0 / k) * 1.5, 2001)
    t0 = grid[np.argmin(f(grid))]
    h = grid[1] - grid[0]
    res = minimize_scalar(f, bounds=(max(t0 - h, 0.0), t0 + h), method="bounded",
                          options={"xatol": 1e-14})
    return float(min(res.fun, f(0.0)))


# Numba-compilable Python (the engine compiles it: gdchaos.engine._kernelgen): the gradient
# written once, into g, for one point; returns (loss, |g|^2).
def deep_grad_into(x, consts, lam, g, work):
    """``x = [W1.ravel(), ..., Wk.ravel()]`` (``n x n`` each); ``consts = [k, n, Y.ravel()]``.

    ``work`` holds prefix products ``pre[j] = W1 ... Wj`` (j = 0..k), suffix products
    ``suf[j] = Wj ... Wk`` (j = 1..k+1), the residual and one temporary.
    """
    k = int(consts[0])
    n = int(consts[1])
    nn_ = n * n
    pre = work[: (k + 1) * nn_].reshape((k + 1, n, n))
    suf = work[(k + 1) * nn_: (2 * k + 3) * nn_].reshape((k + 2, n, n))
    R = work[(2 * k + 3) * nn_: (2 * k + 4) * nn_].reshape((n, n))
    T = work[(2 * k + 4) * nn_: (2 * k + 5) * nn_].reshape((n, n))
    for a in range(n):
        for b in range(n):
            pre[0, a, b] = 1.0 if a == b else 0.0
            suf[k + 1, a, b] = 1.0 if a == b else 0.0
    for j in range(1, k + 1):
        base = (j - 1) * nn_
        for a in range(n):
            for b in range(n):
                s = 0.0
                for c in range(n):
                    s += pre[j - 1, a, c] * x[base + c * n + b]
                pre[j, a, b] = s
    for j in range(k, 0, -1):
        base = (j - 1) * nn_
        for a in range(n):
            for b in range(n):
                s = 0.0
                for c in range(n):
                    s += x[base + a * n + c] * suf[j + 1, c, b]
                suf[j, a, b] = s
    rr = 0.0
    for a in range(n):
        for b in range(n):
            R[a, b] = pre[k, a, b] - consts[2 + a * n + b]
            rr += R[a, b] * R[a, b]
    nrm = 0.0
    for j in range(x.shape[0]):
        nrm += x[j] * x[j]
    loss = 0.5 * rr + 0.5 * lam * nrm
    g2 = 0.0
    for j in range(1, k + 1):  # grad_j = pre[j-1]^T R suf[j+1]^T
        for a in range(n):
            for b in range(n):
                s = 0.0
                for c in range(n):
                    s += R[a, c] * suf[j + 1, b, c]
                T[a, b] = s
        for a in range(n):
            for b in range(n):
                s = 0.0
                for c in range(n):
                    s += pre[j - 1, c, a] * T[c, b]
                idx = (j - 1) * nn_ + a * n + b
                s += lam * x[idx]
                g[idx] = s
                g2 += s * s
    return loss, g2


@dataclass(frozen=True)
class DeepMatrixFactorization(Problem):
    Y: tuple = field(default=((0.9, 0.0), (0.0, 0.5)))
    k: int = 3
    lam: float = 0.0

    name = "deep"
    OPTIONS = {"Y": Option("matrix", "the target 'a,b;c,d' (default identity)"),
               "k": Option("int", "the number of factors (default 3)"), "lam": LAM}
    OPTION_DEFAULTS = {"Y": ((1.0, 0.0), (0.0, 1.0))}  # the command line's default target

    def __post_init__(self):
        object.__setattr__(self, "Y", check_square_target(self.Y))
        if int(self.k) != self.k or self.k < 2:
            raise GdchaosInputError(f"number of factors k must be an integer >= 2, got {self.k!r}")
        check_lam(self.lam)

    @property
    def Ymat(self):
        return np.asarray(self.Y, dtype=float)

    @property
    def n(self):
        return len(self.Y)

    @property
    def n_params(self):
        return self.k * self.n * self.n

    @property
    def param_groups(self):
        nn = self.n * self.n
        return {f"W{i + 1}": np.arange(i * nn, (i + 1) * nn) for i in range(int(self.k))}

    def split(self, X):
        X = np.asarray(X, dtype=float)
        nn = self.n * self.n
        return [X[..., i * nn:(i + 1) * nn].reshape(X.shape[:-1] + (self.n, self.n))
                for i in range(self.k)]

    def join(self, Ws):
        lead = np.asarray(Ws[0]).shape[:-2]
        return np.concatenate([np.asarray(W, dtype=float).reshape(lead + (-1,)) for W in Ws], -1)

    @property
    def min_value(self):
        """Sum over singular values of the balanced one-dimensional problem (minimum of the
        regularized deep linear problem is attained at balanced factors)."""
        s = np.linalg.svd(self.Ymat, compute_uv=False)
        return float(sum(_scalar_deep_min(si, self.k, self.lam) for si in s))

    @property
    def minimizers(self):
        if self.lam == 0:
            return "M = {W1 ... Wk = Y} (unbounded), minimum 0"
        return f"balanced minimizers, minimum {self.min_value:.12g}"

    def consts(self):
        return np.concatenate([[float(self.k), float(self.n)], self.Ymat.ravel()])

    # -- the engine's definitions ------------------------------------------------------------
    def numba_source(self):
        return numba_source_of(deep_grad_into)

    def numba_work_size(self):
        return (2 * int(self.k) + 5) * self.n * self.n

    def torch_loss_grad(self, X, c, lam):
        import torch

        k = int(c[0])
        n = int(c[1])
        Y = c[2:].reshape(n, n)
        nn_ = n * n
        W = [[[X[:, j * nn_ + a * n + b] for b in range(n)] for a in range(n)] for j in range(k)]
        one = torch.ones_like(X[:, 0])
        zero = torch.zeros_like(X[:, 0])
        eye = [[one if a == b else zero for b in range(n)] for a in range(n)]
        pre = [eye]
        for j in range(k):
            pre.append(_torch_mm(pre[-1], W[j], n))
        suf = [None] * (k + 2)
        suf[k + 1] = eye
        for j in range(k, 0, -1):
            suf[j] = _torch_mm(W[j - 1], suf[j + 1], n)
        R = [[pre[k][a][b] - float(Y[a, b]) for b in range(n)] for a in range(n)]
        rr = seqsum([R[a][b] * R[a][b] for a in range(n) for b in range(n)])
        nrm = seqsum([X[:, j] * X[:, j] for j in range(X.shape[1])])
        loss = 0.5 * rr + 0.5 * lam * nrm
        gcols = []
        for j in range(1, k + 1):
            A = pre[j - 1]
            B = suf[j + 1]
            T = [[seqsum([R[a][cc] * B[b][cc] for cc in range(n)]) for b in range(n)]
                 for a in range(n)]
            for a in range(n):
                for b in range(n):
                    s = seqsum([A[cc][a] * T[cc][b] for cc in range(n)])
                    gcols.append(s + lam * W[j - 1][a][b])
        g2 = seqsum([gc * gc for gc in gcols])
        return loss, torch.stack(gcols, dim=1), g2

    def params(self):
        return {"problem": "deep", "k": int(self.k), "Y": [list(r) for r in self.Y],
                "lam": float(self.lam)}

    def product(self, X):
        return reduce(np.matmul, self.split(X))

    def loss(self, X):
        R = self.product(X) - self.Ymat
        return 0.5 * np.sum(R * R, axis=(-2, -1)) + 0.5 * self.lam * np.sum(np.asarray(X) ** 2, -1)

    def grad(self, X):
        Ws = self.split(X)
        R = reduce(np.matmul, Ws) - self.Ymat
        eye = np.broadcast_to(np.eye(self.n), Ws[0].shape)
        grads = []
        for i in range(self.k):
            A = reduce(np.matmul, Ws[:i], eye)
            B = reduce(np.matmul, Ws[i + 1:], eye)
            grads.append(np.swapaxes(A, -1, -2) @ R @ np.swapaxes(B, -1, -2) + self.lam * Ws[i])
        return self.join(grads)

    def imbalance(self, X):
        """``sum_i ||W_i^T W_i - W_{i+1} W_{i+1}^T||_F^2`` (zero for balanced factors)."""
        Ws = self.split(X)
        out = 0.0
        for A, B in zip(Ws[:-1], Ws[1:]):
            D = np.swapaxes(A, -1, -2) @ A - B @ np.swapaxes(B, -1, -2)
            out = out + np.sum(D * D, axis=(-2, -1))
        return out


def _torch_mm(A, B, n):
    return [[seqsum([A[a][c] * B[c][b] for c in range(n)]) for b in range(n)] for a in range(n)]
