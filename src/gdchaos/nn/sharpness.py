"""Sharpness: the largest eigenvalue of the Hessian of the training loss, from Hessian-vector
products (forward-over-reverse: ``torch.func.jvp`` of ``torch.func.grad``).

Two batched eigensolvers act on a ``matvec`` mapping a batch of vectors (B, n) to (B, n):

- :func:`lanczos_top` -- Lanczos with full reorthogonalization, returning the largest *algebraic*
  eigenvalue; a network stops when the residual bound ``|beta_j s_j|`` of its top Ritz pair falls
  below ``tol * |theta|``.  Used for every reported sharpness.
- :func:`power_iteration` -- the paper's method (at most 100 iterations, relative tolerance
  1e-3); returns the eigenvalue of largest *magnitude*.  By default a row stops when its residual
  ``|Hv - lam v|`` is below ``rtol |lam|`` (accurate to ``rtol``); ``criterion="paper"`` stops on
  the change of successive estimates instead, as the paper's code did.  Cheap with a warm
  start, used to log sharpness during training.  With ``early_exit=False`` it is a fixed
  sequence of tensor operations and can itself be wrapped in ``torch.func.vmap``.

Both start from a deterministic vector drawn from ``seed`` (the same for every network).  The
Hessian is that of the data loss, without the weight-decay term (which would add ``lam`` to every
eigenvalue).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..errors import GdchaosInputError
from ._common import threaded
from .models import as_arch, check_loss, mlp_loss

Matvec = Callable[[torch.Tensor], torch.Tensor]


def start_vector(n: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Unit vector of length ``n`` drawn from a generator seeded with ``seed``."""
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed))
    v = torch.randn(n, dtype=torch.float64, generator=g)
    return (v / torch.linalg.vector_norm(v)).to(dtype)


def loss_hvp(X: torch.Tensor, y: torch.Tensor, widths: Sequence[int], loss: str = "mse"):
    """``hvp(params, v)``: Hessian-vector product of one network's training loss at ``params``
    (1-D) along ``v`` (1-D), by forward-over-reverse differentiation.  ``vmap``-able."""
    widths = as_arch(widths)
    check_loss(loss)
    grad = torch.func.grad(lambda p: mlp_loss(p, X, y, widths, loss))

    def hvp(params: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return torch.func.jvp(grad, (params,), (v,))[1]

    return hvp


def batched_matvec(P: torch.Tensor, X: torch.Tensor, y: torch.Tensor, widths: Sequence[int],
                   loss: str = "mse") -> Matvec:
    """``matvec(V)``: Hessian-vector products of the networks ``P`` (B, n) along ``V`` (B, n)."""
    hvp = torch.func.vmap(loss_hvp(X, y, widths, loss))
    return lambda V: hvp(P, V)


def hessian_matrix(params: torch.Tensor, X: torch.Tensor, y: torch.Tensor, widths: Sequence[int],
                   loss: str = "mse") -> torch.Tensor:
    """The full Hessian (n, n) of one network's training loss (``torch.func.hessian``); for
    checks on small networks only."""
    widths = as_arch(widths)
    H = torch.func.hessian(lambda p: mlp_loss(p, X, y, widths, loss))(params)
    return 0.5 * (H + H.T)


def power_iteration(matvec: Matvec, v0: torch.Tensor, max_iter: int = 100, rtol: float = 1e-3,
                    early_exit: bool = True, criterion: str = "residual"
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Power iteration on a batch: ``v0`` (B, n) start vectors (normalized here).

    Iterate ``lam = v.Hv``, ``v = Hv / |Hv|``; a row stops (its values freeze) once
    ``|Hv - lam v| <= rtol |lam|`` (``criterion="residual"``, default: then an eigenvalue lies
    within ``rtol |lam|`` of ``lam``, and the Rayleigh quotient's error is of order
    ``rtol^2 lam^2 / gap``) or, with ``criterion="paper"``, once successive estimates satisfy
    ``|lam - lam_prev| < rtol |lam|`` (the paper's rule, which can stop early when the top
    eigenvalues are close).  Returns ``(lam (B,), v (B, n), iterations (B,))``.
    ``early_exit=False`` always runs ``max_iter`` iterations (no data-dependent Python control
    flow), which makes the function ``vmap``-able; the results are the same.
    """
    if criterion not in ("residual", "paper"):
        raise GdchaosInputError(f"criterion must be residual or paper, got {criterion!r}")
    v = v0 / torch.linalg.vector_norm(v0, dim=-1, keepdim=True)
    B = v.shape[0]
    lam = torch.full((B,), float("nan"), dtype=v.dtype)
    lam_prev = torch.full((B,), float("nan"), dtype=v.dtype)
    done = torch.zeros(B, dtype=torch.bool)
    its = torch.zeros(B, dtype=torch.int64)
    for _ in range(int(max_iter)):
        Hv = matvec(v)
        new = (v * Hv).sum(-1)
        if criterion == "residual":
            res = torch.linalg.vector_norm(Hv - new[:, None] * v, dim=-1)
            conv = res <= rtol * new.abs()
        else:
            conv = (new - lam_prev).abs() < rtol * new.abs()
        lam = torch.where(done, lam, new)
        its = its + (~done).to(torch.int64)
        nrm = torch.linalg.vector_norm(Hv, dim=-1, keepdim=True)
        step = ~(done | conv)
        v = torch.where(step[:, None] & (nrm > 0), Hv / torch.where(nrm > 0, nrm, 1.0), v)
        lam_prev = torch.where(done, lam_prev, new)
        done = done | conv
        if early_exit and bool(done.all()):
            break
    return lam, v, its


def lanczos_top(matvec, v0: torch.Tensor, max_iter: int = 100, tol: float = 1e-10
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Largest algebraic eigenvalue of symmetric operators by Lanczos with full
    reorthogonalization, on a batch: ``v0`` (B, n) start vectors; ``matvec(V, rows)`` applies
    the operators of the batch rows ``rows`` (indices into the original batch) to ``V``.

    Returns ``(theta (B,), converged (B,) bool, iterations (B,))``.  Rows that converge (residual
    bound ``|beta_j s_j| <= tol |theta|``, or an invariant subspace) leave the batch.
    """
    B, n = v0.shape
    dtype = v0.dtype
    m = int(min(max_iter, n))
    theta = torch.full((B,), float("nan"), dtype=dtype)
    conv = torch.zeros(B, dtype=torch.bool)
    its = torch.zeros(B, dtype=torch.int64)
    act = torch.arange(B)
    Q = torch.zeros(B, m + 1, n, dtype=dtype)
    Q[:, 0] = v0 / torch.linalg.vector_norm(v0, dim=-1, keepdim=True)
    alpha = torch.zeros(B, m, dtype=dtype)
    beta = torch.zeros(B, m, dtype=dtype)
    eps = torch.finfo(dtype).eps
    for j in range(m):
        q = Q[:, j]
        w = matvec(q, act)
        a = (q * w).sum(-1)
        alpha[:, j] = a
        w = w - a[:, None] * q
        if j > 0:
            w = w - beta[:, j - 1, None] * Q[:, j - 1]
        for _ in range(2):  # full reorthogonalization, twice
            c = torch.einsum("bkn,bn->bk", Q[:, :j + 1], w)
            w = w - torch.einsum("bkn,bk->bn", Q[:, :j + 1], c)
        b = torch.linalg.vector_norm(w, dim=-1)
        beta[:, j] = b
        T = torch.diag_embed(alpha[:, :j + 1])
        if j > 0:
            off = beta[:, :j]
            T = T + torch.diag_embed(off, 1) + torch.diag_embed(off, -1)
        ev, evec = torch.linalg.eigh(T)
        top = ev[:, -1]
        resid = (b * evec[:, -1, -1]).abs()
        scale = torch.maximum(top.abs(), alpha[:, :j + 1].abs().amax(-1))
        ok = (resid <= tol * top.abs()) | (b <= 100 * eps * torch.clamp(scale, min=eps)) \
            | ~torch.isfinite(top)
        theta[act] = top
        its[act] = j + 1
        if j == m - 1:
            conv[act] = ok | (j + 1 == n)
            break
        conv[act] = ok
        keep = ~ok
        Q[:, j + 1] = w / torch.where(b > 0, b, 1.0)[:, None]
        if not bool(keep.all()):
            act, Q, alpha, beta = act[keep], Q[keep], alpha[keep], beta[keep]
            if act.numel() == 0:
                break
    return theta, conv, its


class RowsMatvec:
    """Matvec over a batch of parameter vectors where the eigensolver may drop rows: called with
    ``(V, rows)``, it evaluates the Hessian of the networks ``P[rows]``."""

    def __init__(self, P: torch.Tensor, hvp):
        self.P = P
        self.hvp = torch.func.vmap(hvp)

    def __call__(self, V: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:
        return self.hvp(self.P if rows is None else self.P[rows], V)


@threaded
def top_eigenvalues(P: torch.Tensor, X: torch.Tensor, y: torch.Tensor, widths: Sequence[int],
                    loss: str = "mse", method: str = "lanczos", seed: int = 0,
                    max_iter: int | None = None, tol: float | None = None,
                    chunk: int | None = None, *, threads: int | None = 1) -> np.ndarray:
    """Sharpness of each network of ``P`` (B, n): Lanczos (default; ``max_iter`` 100, ``tol``
    1e-10) or power iteration (``max_iter`` 100, ``tol`` = relative tolerance 1e-3).  Rows with
    non-finite parameters give NaN.  Processed in chunks to bound memory.  ``threads``: torch CPU
    threads during the call (1: results independent of the caller's setting)."""
    widths = as_arch(widths)
    P = torch.as_tensor(P)
    if P.ndim == 1:
        P = P[None]
    B, n = P.shape
    out = np.full(B, np.nan)
    ok = torch.isfinite(P).all(dim=1)
    hvp = loss_hvp(X, y, widths, loss)
    v0 = start_vector(n, seed, P.dtype)
    if method == "lanczos":
        mi = 100 if max_iter is None else int(max_iter)
        tl = 1e-10 if tol is None else float(tol)
        chunk = chunk or max(1, min(128, int(2 ** 24 // ((min(mi, n) + 1) * n))))
    elif method == "power":
        mi = 100 if max_iter is None else int(max_iter)
        tl = 1e-3 if tol is None else float(tol)
        chunk = chunk or max(1, min(256, int(2 ** 25 // n)))
    else:
        raise GdchaosInputError(f"sharpness method must be lanczos or power, got {method!r}")
    rows = torch.nonzero(ok).flatten()
    for s in range(0, rows.numel(), chunk):
        r = rows[s:s + chunk]
        mv = RowsMatvec(P[r], hvp)
        V0 = v0.expand(r.numel(), n).clone()
        if method == "lanczos":
            lam = lanczos_top(mv, V0, mi, tl)[0]
        else:
            lam = power_iteration(mv, V0, mi, tl)[0]
        out[r.numpy()] = lam.numpy()
    return out


def sharpness(params: torch.Tensor, X: torch.Tensor, y: torch.Tensor, widths: Sequence[int],
              loss: str = "mse", method: str = "lanczos", seed: int = 0, **kw) -> float:
    """Sharpness (top Hessian eigenvalue of the training loss) of one network."""
    return float(top_eigenvalues(params[None], X, y, widths, loss, method, seed, **kw)[0])
