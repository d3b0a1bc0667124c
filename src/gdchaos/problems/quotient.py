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
from ._base import LAM, GDState, Option, Problem, check_lam, torch_retire


@dataclass(frozen=True)
class QuotientMap(Problem):
    y: float = 1.0
    lam: float = 0.0

    name = "quotient"
    OPTIONS = {"y": Option("number", "the target y (default 1)"), "lam": LAM}
    supports_momentum = False  # the quotient map is exact for plain GD only
    supports_double_double = True  # engine.quotient_grid_dd
    slice_kinds = ("axes",)  # the plane (z, w) itself
    dense_hessian_records = False
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

    # -- the engine's definitions (kernels in _quotient_numba.py, loaded on first use) --------
    def numba_kernel(self):
        from ._quotient_numba import quotient_kernel

        return quotient_kernel

    def fast_records(self, X0, Xf, names):
        from ._quotient_numba import quotient_records

        return quotient_records(self, Xf, names)

    def step_jacobian(self, X, eta):
        return thq.planar_jacobian(X, eta, self.y, self.lam)

    def edge_gap(self, X):
        """``w - 2|z + y|``: how far inside the state space ``w >= 2|z + y|`` a point is."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        return X[:, 1] - 2.0 * np.abs(X[:, 0] + self.y)

    def in_state_space(self, X, slack=0.0):
        X = np.atleast_2d(np.asarray(X, dtype=float))
        return X[:, 1] >= 2.0 * np.abs(X[:, 0] + self.y) - slack * (1 + np.abs(X[:, 1]))

    def torch_run(self, X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
                  device=None):
        """The planar map on the torch backend (same arithmetic and verdicts as the kernel)."""
        import torch

        from ..status import CONVERGED, DIVERGED, OUTSIDE, SADDLE, UNDECIDED

        dev = torch.device(device or "cpu")
        n = X0.shape[0]
        X = torch.as_tensor(np.asarray(X0), dtype=torch.float64, device=dev)
        Xf = X.clone()
        status = torch.full((n,), UNDECIDED, dtype=torch.int8, device=dev)
        iters = torch.zeros(n, dtype=torch.int32, device=dev)
        loss_out = torch.zeros(n, dtype=torch.float64, device=dev)
        idx = torch.arange(n, device=dev)
        y = float(consts[0])
        _retire = torch_retire
        a = 1.0 - eta * lam
        saddle_is_min = lam >= abs(y)
        z = X[:, 0].clone()
        w = X[:, 1].clone()
        outside = (w < 2.0 * torch.abs(z + y)) | ~(torch.isfinite(z) & torch.isfinite(w))
        status[outside] = OUTSIDE
        loss_out[:] = 0.5 * z * z + 0.5 * lam * w
        keep = ~outside
        idx, z, w = idx[keep], z[keep], w[keep]
        for t in range(max_iter + 1):
            if idx.numel() == 0:
                break
            loss = 0.5 * z * z + 0.5 * lam * w
            verdict = torch.full(loss.shape, -1, dtype=torch.int8, device=loss.device)
            if not saddle_is_min:
                verdict = torch.where(torch.abs(z + y) + w <= gtol, torch.full_like(verdict, SADDLE),
                                      verdict)
            uv = z + y
            sh = 0.5 * (w + (w * w + 4.0 * z * z + 8.0 * z * uv).clamp(min=0.0).sqrt())
            sh = sh.maximum(z.abs())
            ok = (sh + lam < 2.0 / eta) | ((z == 0.0) & (lam == 0.0))
            verdict = torch.where((loss - lmin <= tol) & ok, torch.full_like(verdict, CONVERGED),
                                  verdict)
            verdict = torch.where(~torch.isfinite(loss) | (loss > div),
                                  torch.full_like(verdict, DIVERGED), verdict)
            keep = _retire(torch, t, max_iter, verdict, loss,
                           lambda m: torch.stack([z[m], w[m]], 1), idx, status, iters, loss_out, Xf)
            if keep is not None:
                idx, z, w = idx[keep], z[keep], w[keep]
                if idx.numel() == 0:
                    break
            c = a * a + eta * eta * z * z
            zn = c * (z + y) - eta * a * z * w - y
            w = c * w - 4.0 * eta * a * z * (z + y)
            z = zn
            if f32:  # float32 state, float64 arithmetic (as the Numba kernel)
                z = z.to(torch.float32).to(torch.float64)
                w = w.to(torch.float32).to(torch.float64)
        return (Xf.to(torch.float64).cpu().numpy(), status.cpu().numpy(), iters.cpu().numpy(),
                loss_out.to(torch.float64).cpu().numpy())

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
        """Top Hessian eigenvalue of the fibre's loss, from ``(z, w)`` (Prop. 22): the larger of
        ``(w + sqrt(w^2 + 4 z^2 + 8 z (z + y)))/2`` and ``|z|`` (a branch of d > 1), plus lam;
        the kernel's stopping rule uses the same formula (``_quotient_numba.quotient_sharpness``)."""
        X = np.asarray(X, dtype=float)
        z, w = X[..., 0], X[..., 1]
        uv = z + self.y
        disc = np.sqrt(np.maximum(w * w + 4 * z * z + 8 * z * uv, 0.0))
        return np.maximum(0.5 * (w + disc), np.abs(z)) + self.lam

    RECORD_DOCS = {
        "sq_norm": "w = |u|^2 + |v|^2 at the end",
        "imbalance": "w^2 - 4 (z + y)^2 at the end: the imbalance (u^2 - v^2)^2 when d = 1; for "
                     "d > 1 the largest imbalance |u u^T - v v^T|_F^2 over the fibre of (z, w)",
        "sharpness": "top Hessian eigenvalue of the fibre's loss from (z, w) (Prop. 22): "
                     "max((w + sqrt(w^2 + 4 z^2 + 8 z (z + y)))/2, |z|) + lam",
        "minimizer": "always 0 (labels p-/p+ need (u, v))",
    }
