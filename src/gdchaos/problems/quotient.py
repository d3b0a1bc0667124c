"""The planar quotient map on ``(z, w) = (u.v - y, |u|^2 + |v|^2)`` (SPEC section 3).

Flat layout ``x = [z, w]``.  "Loss" is ``z^2/2 + lam w/2``, the scalar-factorization loss on the
fibre; GD on (u, v) converges to M iff (z, w) converges to T(M).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GdchaosInputError, check_finite, check_positive
from ..theory import quotient as thq
from ..theory import scalar as ths
from ._base import GDState, Problem, check_lam


@dataclass(frozen=True)
class QuotientMap(Problem):
    y: float = 1.0
    lam: float = 0.0

    kernel = "quotient"
    name = "quotient"
    #: figure 3's window of the (z, w) plane
    default_window = (-2.5, 3.0, 0.0, 10.0)
    axis_labels = ("z = u.v - y", "w = |u|^2 + |v|^2")

    def __post_init__(self):
        check_finite("target y", self.y)
        check_lam(self.lam)

    @property
    def n_params(self):
        return 2

    @property
    def min_value(self):
        return ths.global_min_value(self.y, self.lam)

    @property
    def minimizers(self):
        z, w = thq.minimizer_image(self.y, self.lam)
        if self.lam == 0:
            return f"T(M) = {{z = 0, w >= {2 * abs(self.y):g}}}"
        return f"T(M) = ({z:g}, {w:g})"

    def consts(self):
        return np.array([self.y], dtype=np.float64)

    def params(self):
        return {"problem": "quotient", "y": float(self.y), "lam": float(self.lam)}

    def loss(self, X):
        X = np.asarray(X, dtype=float)
        return 0.5 * X[..., 0] ** 2 + 0.5 * self.lam * X[..., 1]

    def grad(self, X):
        raise GdchaosInputError("the quotient map is not a gradient map; use step()")

    def step(self, X, eta, X_prev=None, momentum=0.0):
        if momentum:
            raise GdchaosInputError("the quotient map is exact for plain GD only (momentum = 0)")
        X = np.asarray(X, dtype=float)
        z, w = thq.planar_map(X[..., 0], X[..., 1], eta, self.y, self.lam)
        return np.stack([z, w], axis=-1)

    def gd(self, eta, momentum=0.0):
        eta = check_positive("step size eta", eta)
        if momentum:
            raise GdchaosInputError("the quotient map is exact for plain GD only (momentum = 0)")

        def init(x0):
            x0 = np.array(x0, dtype=float)
            return GDState(x0, x0.copy(), 0)

        def update(state):
            return GDState(self.step(state.x, eta), state.x, state.step + 1)

        return init, update

    def sq_norm(self, X):
        return np.asarray(X, dtype=float)[..., 1].copy()

    def imbalance(self, X):
        """``w^2 - 4 (z + y)^2``: the imbalance ``(u^2 - v^2)^2`` of the fibre's points when
        ``d = 1``.  For ``d > 1`` the imbalance ``|u u^T - v v^T|_F^2`` is not a function of
        ``(z, w)``: over one fibre it ranges over ``[w^2/2 - 2 (z + y)^2, w^2 - 4 (z + y)^2]``,
        and this is the top of that range (attained where ``u`` and ``v`` are parallel)."""
        X = np.asarray(X, dtype=float)
        uv = X[..., 0] + self.y
        return X[..., 1] ** 2 - 4.0 * uv * uv

    def sharpness(self, X):
        """Top Hessian eigenvalue of the fibre's loss, from ``(z, w)`` (Prop. 22, d = 1 part)."""
        X = np.asarray(X, dtype=float)
        z, w = X[..., 0], X[..., 1]
        uv = z + self.y
        disc = np.sqrt(np.maximum(w * w + 4 * z * z + 8 * z * uv, 0.0))
        return 0.5 * (w + disc) + self.lam

    RECORD_DOCS = {
        "sq_norm": "w = |u|^2 + |v|^2 at the end",
        "imbalance": "w^2 - 4 (z + y)^2 at the end: the imbalance (u^2 - v^2)^2 when d = 1; for "
                     "d > 1 the largest imbalance |u u^T - v v^T|_F^2 over the fibre of (z, w)",
        "sharpness": "top Hessian eigenvalue of the fibre's loss from (z, w) (Prop. 22, d = 1 part)",
        "minimizer": "always 0 (labels p-/p+ need (u, v))",
    }
