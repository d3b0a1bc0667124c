"""Many MLPs on one shared training set, trained in the exact reduction of the first layer to
the span of the training inputs (the loss and gradient are those of :mod:`gdchaos.nn.models`:
:func:`~gdchaos.nn.models.batched_value_and_grad` on the reduced inputs).

**Input-span reduction (exact).**  With N training inputs in dimension d > N, the data loss depends
on the first-layer weights ``W`` only through ``W Q`` where ``Q`` (d, r) is an orthonormal basis of
the span of the inputs (r <= N).  The data gradient of ``W`` is ``G Q^T``, orthogonal to
``W_perp = W - W Q Q^T``, so under GD, heavy ball and weight decay ``W_perp(t) = c(t) W_perp(0)``
with the scalar recurrence ``c+ = c - eta lam c + beta (c - c_prev)``, ``c(0) = c(-1) = 1``, and the
reduced weights ``W Q`` follow GD on the reduced network with inputs ``X Q``.  This is the same
dynamics (in exact arithmetic) with r instead of d input columns: for CIFAR-10 with 50 images,
3072 -> 50.  Norms: ``|theta|^2 = |theta_red|^2 + c^2 |W_perp(0)|^2``.  Hessian of the data loss:
the reduced Hessian plus zeros in the ``W_perp`` directions, so the top eigenvalue is
``max(lambda_red, 0)`` when ``r < d``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..errors import GdchaosInputError
from .models import (batched_value_and_grad, check_loss, check_widths, loss_from_output,
                     mlp_forward, n_params)


class NetProblem:
    """Loss of a ReLU MLP with scalar output on a fixed training set ``(X, y)``.

    ``reduce=True`` trains in the reduced coordinates (see the module docstring) when the input
    dimension exceeds the rank of ``X``; ``reduce=False`` keeps the full parameters.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, widths: Sequence[int], loss: str = "mse",
                 reduce: bool = True):
        widths = check_widths(widths)
        if widths[-1] != 1:
            raise GdchaosInputError(f"training needs a scalar output (last width 1), got {widths}")
        if X.ndim != 2 or X.shape[1] != widths[0] or y.shape != X.shape[:1]:
            raise GdchaosInputError(
                f"data shapes X {tuple(X.shape)}, y {tuple(y.shape)} do not fit widths {widths}")
        if not X.is_floating_point():
            raise GdchaosInputError("X must be a floating-point tensor")
        self.loss = check_loss(loss)
        self.dtype = X.dtype
        self.X = X.contiguous()
        self.y = y.to(self.dtype).contiguous()
        self.widths = widths
        self.n_full = n_params(widths)
        d = widths[0]
        self.reduced = False
        if reduce and X.shape[0] < d:
            _, S, Vh = torch.linalg.svd(self.X, full_matrices=False)
            tol = S[0] * max(X.shape) * torch.finfo(self.dtype).eps if S.numel() else 0.0
            r = int((S > tol).sum())
            if 0 < r < d:
                self.reduced = True
                self.Q = Vh[:r].T.contiguous()  # (d, r), orthonormal columns
                self.Xr = (self.X @ self.Q).contiguous()  # (N, r)
        if not self.reduced:
            self.Q = None
            self.Xr = self.X
        self.rwidths = (self.Xr.shape[1],) + widths[1:]
        self.n = n_params(self.rwidths)
        self.h1 = widths[1]

    # ------------------------------------------------------------------ coordinates
    def reduce_params(self, P: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Full parameters (B, n_full) -> (reduced parameters (B, n), |W_perp|^2 (B,))."""
        P = P.to(self.dtype)
        if not self.reduced:
            return P.clone(), torch.zeros(P.shape[0], dtype=self.dtype)
        B, d, h1 = P.shape[0], self.widths[0], self.h1
        W = P[:, :h1 * d].reshape(B, h1, d)
        Wr = W @ self.Q  # (B, h1, r)
        perp = W - Wr @ self.Q.T
        out = torch.cat([Wr.reshape(B, -1), P[:, h1 * d:]], dim=1)
        return out, (perp * perp).sum(dim=(1, 2))

    def expand_params(self, Pr: torch.Tensor, P0: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Reduced parameters (B, n), initial full parameters (B, n_full) and perpendicular
        coefficients (B,) -> full parameters (B, n_full)."""
        if not self.reduced:
            return Pr.clone()
        B, d, h1, r = Pr.shape[0], self.widths[0], self.h1, self.Xr.shape[1]
        W0 = P0[:, :h1 * d].reshape(B, h1, d).to(self.dtype)
        perp = W0 - (W0 @ self.Q) @ self.Q.T
        W = Pr[:, :h1 * r].reshape(B, h1, r) @ self.Q.T + c[:, None, None] * perp
        return torch.cat([W.reshape(B, -1), Pr[:, h1 * r:]], dim=1)

    # ------------------------------------------------------------------ loss and gradient
    def value_and_grad(self, P: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Losses (B,) and gradients (B, n) of the data loss at reduced parameters ``P``
        (:func:`gdchaos.nn.models.batched_value_and_grad` on the reduced inputs)."""
        return batched_value_and_grad(P, self.Xr, self.y, self.rwidths, self.loss)

    def losses(self, P: torch.Tensor) -> torch.Tensor:
        """Losses (B,) at reduced parameters (no gradient)."""
        f = torch.func.vmap(lambda p: mlp_forward(p, self.Xr, self.rwidths))(P)
        return loss_from_output(f, self.y, self.loss)
