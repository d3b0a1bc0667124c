"""Scalar factorization ``L(u, v) = 1/2 (u.v - y)^2 + lam/2 (|u|^2 + |v|^2)``, u, v in R^d.

Flat layout ``x = [u, v]`` (length ``2d``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GdchaosInputError, check_finite
from ..theory import scalar as th
from ._base import LAM, Option, Problem, check_lam, numba_source_of

MINIMIZER_NAMES = {0: "none", 1: "p-", 2: "p+"}
#: a final point within MINIMIZER_RTOL |p| of p- (or p+) is labelled 1 (or 2)
MINIMIZER_RTOL = 0.05


# Numba-compilable Python (the engine compiles it: gdchaos.engine._kernelgen): the gradient
# written once, into g, for one point; returns (loss, |g|^2).
def scalar_grad_into(x, consts, lam, g, work):
    P = x.shape[0]
    d = P // 2
    y = consts[0]
    uv = 0.0
    nn = 0.0
    for j in range(d):
        uv += x[j] * x[d + j]
        nn += x[j] * x[j] + x[d + j] * x[d + j]
    z = uv - y
    loss = 0.5 * z * z + 0.5 * lam * nn
    g2 = 0.0
    for j in range(d):
        gu = z * x[d + j] + lam * x[j]
        gv = z * x[j] + lam * x[d + j]
        g[j] = gu
        g[d + j] = gv
        g2 += gu * gu + gv * gv
    return loss, g2


def scalar_sharpness_at(x, consts, lam):
    """Prop. 22: top Hessian eigenvalue, closed form (Numba-compilable; one point)."""
    P = x.shape[0]
    d = P // 2
    uv = 0.0
    w = 0.0
    for j in range(d):
        uv += x[j] * x[d + j]
        w += x[j] * x[j] + x[d + j] * x[d + j]
    z = uv - consts[0]
    top = 0.5 * (w + np.sqrt(max(w * w + 4.0 * z * z + 8.0 * z * uv, 0.0)))
    if d > 1 and abs(z) > top:
        top = abs(z)
    return top + lam


@dataclass(frozen=True)
class ScalarFactorization(Problem):
    d: int = 1
    y: float = 1.0
    lam: float = 0.0

    name = "scalar"
    OPTIONS = {"d": Option("int", "u, v in R^d (default 1)"),
               "y": Option("number", "the target y (default 1)"), "lam": LAM}
    dense_hessian_records = False  # closed-form sharpness (Prop. 22)

    def __post_init__(self):
        if int(self.d) != self.d or self.d < 1:
            raise GdchaosInputError(f"dimension d must be a positive integer, got {self.d!r}")
        check_finite("target y", self.y)
        check_lam(self.lam)

    @property
    def n_params(self):
        return 2 * int(self.d)

    @property
    def param_groups(self):
        d = int(self.d)
        return {"u": np.arange(d), "v": np.arange(d, 2 * d)}

    def split(self, X):
        X = np.asarray(X, dtype=float)
        return X[..., : self.d], X[..., self.d:]

    def join(self, u, v):
        return np.concatenate([np.atleast_1d(u), np.atleast_1d(v)], axis=-1)

    @property
    def min_value(self):
        return th.global_min_value(self.y, self.lam)

    @property
    def minimizers(self):
        return str(th.minimizer_set(self.y, self.lam))

    def consts(self):
        return np.array([self.y], dtype=np.float64)

    # -- the engine's definitions (Numba: the functions above; torch: below) ------------------
    def numba_source(self):
        return numba_source_of(scalar_grad_into, scalar_sharpness_at)

    def fast_records(self, X0, Xf, names):
        from ._scalar_numba import scalar_records

        return scalar_records(self, X0, Xf, names)

    def torch_loss_grad(self, X, c, lam):
        import torch

        P = X.shape[1]
        d = P // 2
        y = float(c[0])
        uv = X[:, 0] * X[:, d]
        nn = X[:, 0] * X[:, 0] + X[:, d] * X[:, d]
        for j in range(1, d):
            uv = uv + X[:, j] * X[:, d + j]
            nn = nn + (X[:, j] * X[:, j] + X[:, d + j] * X[:, d + j])
        z = uv - y
        loss = 0.5 * z * z + 0.5 * lam * nn
        zc = z[:, None]
        gu = zc * X[:, d:] + lam * X[:, :d]
        gv = zc * X[:, :d] + lam * X[:, d:]
        g = torch.cat((gu, gv), dim=1)
        g2 = gu[:, 0] * gu[:, 0] + gv[:, 0] * gv[:, 0]
        for j in range(1, d):
            g2 = g2 + (gu[:, j] * gu[:, j] + gv[:, j] * gv[:, j])
        return loss, g, g2

    def torch_sharpness(self, X, c, lam):
        P = X.shape[1]
        d = P // 2
        uv = X[:, 0] * X[:, d]
        w = X[:, 0] * X[:, 0] + X[:, d] * X[:, d]
        for j in range(1, d):
            uv = uv + X[:, j] * X[:, d + j]
            w = w + (X[:, j] * X[:, j] + X[:, d + j] * X[:, d + j])
        z = uv - float(c[0])
        disc = w * w + 4.0 * z * z + 8.0 * z * uv
        top = 0.5 * (w + disc.clamp(min=0.0).sqrt())
        if d > 1:
            top = top.maximum(z.abs())
        return top + lam

    def params(self):
        return {"problem": "scalar", "d": int(self.d), "y": float(self.y), "lam": float(self.lam)}

    def loss(self, X):
        u, v = self.split(X)
        z = np.sum(u * v, axis=-1) - self.y
        return 0.5 * z * z + 0.5 * self.lam * (np.sum(u * u, axis=-1) + np.sum(v * v, axis=-1))

    def grad(self, X):
        u, v = self.split(X)
        z = (np.sum(u * v, axis=-1) - self.y)[..., None]
        return np.concatenate([z * v + self.lam * u, z * u + self.lam * v], axis=-1)

    def hessian(self, X):
        """Closed-form Hessian ``[[v v^T + lam, z I + v u^T], [z I + u v^T, u u^T + lam]]``."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        u, v = self.split(X)
        d = self.d
        z = np.sum(u * v, axis=-1) - self.y
        I = np.eye(d)
        H = np.empty((X.shape[0], 2 * d, 2 * d))
        H[:, :d, :d] = v[:, :, None] * v[:, None, :] + self.lam * I
        H[:, d:, d:] = u[:, :, None] * u[:, None, :] + self.lam * I
        H[:, :d, d:] = z[:, None, None] * I + v[:, :, None] * u[:, None, :]
        H[:, d:, :d] = np.swapaxes(H[:, :d, d:], 1, 2)
        return H

    def sharpness(self, X):
        u, v = self.split(X)
        return th.sharpness(u, v, self.y, self.lam)

    def imbalance(self, X):
        u, v = self.split(X)
        return th.imbalance(u, v)

    def eta_star(self, X):
        u, v = self.split(X)
        if self.lam != 0:
            raise GdchaosInputError("eta* of Theorem 1 is for lam = 0; use theorem5_bounds for lam > 0")
        return th.eta_star(u, v, self.y)

    def minimizer_label(self, X0, Xf, rtol=MINIMIZER_RTOL):
        """1 where ``Xf`` is the closest minimizer ``p-(X0)``, 2 where the farthest ``p+(X0)``,
        0 otherwise (lam = 0, origin minimizer, or farther than ``rtol |p|`` from both).

        The direction of ``u + sign(y) v`` is invariant under GD, so a limit on M is p- or p+."""
        X0 = np.atleast_2d(X0)
        Xf = np.atleast_2d(Xf)
        lab = np.zeros(X0.shape[0], dtype=np.int8)
        m = th.minimizer_set(self.y, self.lam)
        if m.kind != "sphere":
            return lab
        u0, v0 = self.split(X0)
        with np.errstate(all="ignore"):
            pm = self.join(*th.closest_minimizer(u0, v0, self.y, self.lam))
            pp = self.join(*th.farthest_minimizer(u0, v0, self.y, self.lam))
            scale = rtol * np.sqrt(2.0 * m.radius_sq)
            dm = np.linalg.norm(Xf - pm, axis=-1)
            dp = np.linalg.norm(Xf - pp, axis=-1)
        lab[dm <= scale] = 1
        lab[dp <= scale] = 2
        return lab
