"""Full-batch gradient descent and Polyak heavy ball on ReLU MLPs, one network or a batch.

Update (``g`` the gradient of the data loss, ``lam`` the weight decay added to the gradient)::

    x+ = x - eta (g + lam x) + beta (x - x_prev),      x_prev = x at the start

Stopping rules (the paper's): the data loss ``L`` is evaluated at every iterate ``x_t``,
``t = 0..iters``; a network *converges* (status 1) at the first ``t`` with ``L <= tol`` -- the
convergence rule :data:`CONVERGENCE_RULE` ``"loss_below_tol"``, with no stability test, unlike the
engine's ``"loss_below_tol_and_stable"``; every result and store names it in its
``convergence_rule`` attribute -- *diverges*
(status 2) at the first ``t`` with ``L > div`` or ``L`` not finite, and is *undecided* (status 0)
if neither happened after ``iters`` updates.  Defaults: ``tol = 1e-6`` for MSE, ``1e-2`` for
cross-entropy; ``div = 1e4``.  Nothing raises per network.

:func:`train` is the straightforward reference (one network, full parameters, ``torch.func``
gradients).  :func:`train_batch` runs many networks -- each its own initialization, step size and
momentum -- as one batch: a pool of at most ``pool`` networks is stepped together with batched
matrix products; networks that stop leave the pool and pending ones take their place.  By default
it trains in the exact input-span coordinates of :mod:`gdchaos.nn._batched`.  Each network's result
does not depend on the others in the pool beyond floating-point rounding of the batched products.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import GdchaosInputError
from ..status import (CONVERGED, DIVERGED, NN_CODES, STATUS_NAMES, UNDECIDED,
                      status_fractions)
from ._batched import NetProblem
from ._common import CONVERGENCE_RULE, check_convergence_rule, threaded
from .models import check_loss, check_widths, mlp_loss, n_params
from .sharpness import (
    RowsMatvec,
    loss_hvp,
    power_iteration,
    start_vector,
    top_eigenvalues,
)

DEFAULT_TOL = {"mse": 1e-6, "ce": 1e-2}
DEFAULT_DIV = 1e4

__all__ = [
    "CONVERGED",
    "DIVERGED",
    "STATUS_NAMES",
    "UNDECIDED",
    "CONVERGENCE_RULE",
    "BatchResult",
    "TrainResult",
    "check_convergence_rule",
    "default_tol",
    "train",
    "train_batch",
]


def default_tol(loss: str) -> float:
    return DEFAULT_TOL[check_loss(loss)]


def _check_common(iters, tol, div, loss, weight_decay, sharpness_every):
    iters = int(iters)
    if iters < 0:
        raise GdchaosInputError(f"iterations must be >= 0, got {iters}")
    tol = default_tol(loss) if tol is None else float(tol)
    div = DEFAULT_DIV if div is None else float(div)
    if not (tol > 0 and math.isfinite(tol)):
        raise GdchaosInputError(f"convergence threshold must be a positive number, got {tol}")
    if not div > tol:
        raise GdchaosInputError(f"divergence threshold {div} must exceed the convergence one {tol}")
    wd = float(weight_decay)
    if not (wd >= 0 and math.isfinite(wd)):
        raise GdchaosInputError(f"weight decay must be >= 0 and finite, got {weight_decay}")
    k = int(sharpness_every or 0)
    if k < 0:
        raise GdchaosInputError(f"sharpness interval must be >= 0, got {sharpness_every}")
    return iters, tol, div, wd, k


def _check_rates(eta, momentum, B):
    try:
        eta = np.broadcast_to(np.asarray(eta, dtype=np.float64), (B,)).copy()
        beta = np.broadcast_to(np.asarray(momentum, dtype=np.float64), (B,)).copy()
    except ValueError:
        raise GdchaosInputError(f"step sizes and momenta must be scalars or have length {B}") from None
    if not np.all((eta > 0) & np.isfinite(eta)):
        raise GdchaosInputError("step sizes must be positive and finite")
    if not np.all((beta >= 0) & (beta < 1)):
        raise GdchaosInputError("momentum must lie in [0, 1)")
    return eta, beta


# ====================================================================================== single
@dataclass
class TrainResult:
    """Outcome of training one network."""

    status: int
    steps: int  # GD updates performed
    final_loss: float
    sq_norm: float  # squared Euclidean norm of the final parameters
    final_sharpness: float
    loss_history: np.ndarray  # (steps + 1,)
    sharpness_history: np.ndarray  # (iters // k + 1,), NaN where not computed
    params: torch.Tensor
    convergence_rule: str = CONVERGENCE_RULE  # what status CONVERGED means

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]


@threaded
def train(params: torch.Tensor, X: torch.Tensor, y: torch.Tensor, widths: Sequence[int],
          eta: float, *, momentum: float = 0.0, weight_decay: float = 0.0, loss: str = "mse",
          iters: int = 5000, tol: float | None = None, div: float | None = None,
          sharpness_every: int = 0, final_sharpness: str | None = "lanczos", seed: int = 0,
          convergence_rule: str = CONVERGENCE_RULE, threads: int | None = 1) -> TrainResult:
    """Train one network from ``params`` (1-D, full parameters): the reference implementation.

    ``sharpness_every=k > 0`` logs the sharpness (power iteration, warm-started) at iterates
    ``0, k, 2k, ...``; ``final_sharpness`` ("lanczos", "power" or None) at the last iterate unless
    the run diverged.  ``convergence_rule``: what status CONVERGED means (only
    :data:`CONVERGENCE_RULE`).  ``threads``: torch CPU threads during the call (1: results
    independent of the caller's setting; None: leave torch's setting).
    """
    check_convergence_rule(convergence_rule)
    widths = check_widths(widths)
    check_loss(loss)
    iters, tol, div, wd, k = _check_common(iters, tol, div, loss, weight_decay, sharpness_every)
    eta_a, beta_a = _check_rates(eta, momentum, 1)
    eta, beta = float(eta_a[0]), float(beta_a[0])
    x = torch.as_tensor(params).detach().clone()
    if x.shape != (n_params(widths),):
        raise GdchaosInputError(f"params must have shape ({n_params(widths)},), got {tuple(x.shape)}")
    x = x.to(X.dtype)
    x_prev = x.clone()
    vg = torch.func.grad_and_value(lambda p: mlp_loss(p, X, y, widths, loss))
    hvp = torch.func.vmap(loss_hvp(X, y, widths, loss))
    hist = []
    sh = np.full(iters // k + 1 if k else 0, np.nan)
    v_pow = start_vector(x.numel(), seed, x.dtype)[None]
    status = UNDECIDED
    t = 0
    for t in range(iters + 1):
        g, L = vg(x)
        L = float(L)
        hist.append(L)
        if L <= tol:
            status = CONVERGED
            break
        if not L <= div:
            status = DIVERGED
            break
        if t == iters:
            break
        if k and t % k == 0:
            lam, v_pow, _ = power_iteration(lambda V, _x=x: hvp(_x[None], V), v_pow)
            sh[t // k] = float(lam[0])
        if wd:
            g = g + wd * x
        x_new = x - eta * g
        if beta:
            x_new = x_new + beta * (x - x_prev)
        x_prev, x = x, x_new
    fs = float("nan")
    if final_sharpness and status != DIVERGED:
        fs = float(top_eigenvalues(x[None], X, y, widths, loss, final_sharpness, seed,
                                   threads=None)[0])
    return TrainResult(status, t, hist[-1], float((x * x).sum()), fs, np.asarray(hist), sh, x)


# ====================================================================================== batch
@dataclass
class BatchResult:
    """Outcome of training a batch of networks (arrays indexed by network)."""

    status: np.ndarray  # int8
    steps: np.ndarray  # int64, GD updates performed
    final_loss: np.ndarray
    sq_norm: np.ndarray  # squared Euclidean norm of the full parameter vector at the end
    final_sharpness: np.ndarray  # NaN for diverged networks or when not asked
    loss_history: np.ndarray | None  # (B, iters + 1), NaN after the stop
    sharpness_history: np.ndarray | None  # (B, iters // k + 1)
    params: torch.Tensor | None  # (B, n_params) final full parameters when asked
    seconds: float = 0.0
    info: dict = field(default_factory=dict)
    convergence_rule: str = CONVERGENCE_RULE  # what status CONVERGED means

    @property
    def network_steps(self) -> int:
        return int(self.steps.sum())

    def fractions(self) -> dict:
        return status_fractions(self.status, NN_CODES)


def _as_init_fn(init, n_networks, n_full, dtype):
    if callable(init):
        if n_networks is None:
            raise GdchaosInputError("n_networks is required when init is a function")
        return init, int(n_networks)
    P0 = torch.as_tensor(init)
    if P0.ndim == 1:
        P0 = P0[None]
    if P0.ndim != 2 or P0.shape[1] != n_full:
        raise GdchaosInputError(f"initializations must have shape (B, {n_full}), got {tuple(P0.shape)}")
    P0 = P0.to(dtype)
    if n_networks is not None and int(n_networks) != P0.shape[0]:
        if P0.shape[0] != 1:
            raise GdchaosInputError("n_networks differs from the number of initializations")
        return (lambda idx: P0.expand(len(idx), -1)), int(n_networks)
    return (lambda idx: P0[torch.as_tensor(idx)]), P0.shape[0]


@threaded
def train_batch(init, X: torch.Tensor, y: torch.Tensor, widths: Sequence[int], eta, *,
                n_networks: int | None = None, momentum=0.0, weight_decay: float = 0.0,
                loss: str = "mse", iters: int = 5000, tol: float | None = None,
                div: float | None = None, record_loss: bool = False, sharpness_every: int = 0,
                final_sharpness: str | None = "lanczos", reduce: bool = True, pool: int = 128,
                return_params: bool = False, seed: int = 0,
                convergence_rule: str = CONVERGENCE_RULE,
                progress: Callable[[float], object] | None = None,
                threads: int | None = 1) -> BatchResult:
    """Train a batch of networks.

    ``init``: initial full parameters (B, n_params) -- or one vector (1, n_params) shared by
    ``n_networks`` networks -- or a function ``init(indices) -> (len(indices), n_params)`` (then
    ``n_networks`` is required; used to generate slice initializations lazily).  ``eta`` and
    ``momentum``: scalars or arrays (B,).  ``record_loss`` keeps every iterate's loss;
    ``sharpness_every=k`` logs the sharpness (warm-started power iteration) every k iterates;
    ``final_sharpness`` ("lanczos", "power" or None) at each non-diverged network's last iterate.
    ``pool``: networks stepped together (64-256 fits the CPU caches best).  ``progress(n)`` is
    called with the work just done, in networks: each network counts ``1 / iters`` per step it
    takes and the rest of its 1 when it stops, so the bar it feeds moves every step (not only
    when networks stop) and the calls add up to the number of networks.  ``convergence_rule`` and
    ``threads`` as in :func:`train`.
    """
    check_convergence_rule(convergence_rule)
    t_start = time.perf_counter()
    widths = check_widths(widths)
    problem = NetProblem(X, y, widths, loss, reduce)
    iters, tol, div, wd, k = _check_common(iters, tol, div, loss, weight_decay, sharpness_every)
    init_fn, B = _as_init_fn(init, n_networks, problem.n_full, problem.dtype)
    eta_all, beta_all = _check_rates(eta, momentum, B)
    pool = int(pool)
    if pool < 1:
        raise GdchaosInputError(f"pool size must be >= 1, got {pool}")
    dt, n = problem.dtype, problem.n
    use_mom = bool(np.any(beta_all > 0))

    status = np.full(B, UNDECIDED, dtype=np.int8)
    steps = np.zeros(B, dtype=np.int64)
    final_loss = np.full(B, np.nan)
    sq_norm = np.full(B, np.nan)
    fs = np.full(B, np.nan)
    Pf = torch.full((B, n), float("nan"), dtype=dt) if return_params else None
    c_final = np.ones(B)
    perp2 = np.zeros(B)
    # finished networks wait here for their final sharpness, computed in chunks of `flush`
    wait_idx: list[np.ndarray] = []
    wait_P: list[torch.Tensor] = []
    flush = max(1, min(pool, 256))
    t_sharp = 0.0

    def sharpen():
        nonlocal t_sharp
        t0 = time.perf_counter()
        ii, PP = np.concatenate(wait_idx), torch.cat(wait_P)
        wait_idx.clear()
        wait_P.clear()
        lam = top_eigenvalues(PP, problem.Xr, problem.y, problem.rwidths, problem.loss,
                              final_sharpness, seed, threads=None)
        # reduced coordinates: the full Hessian adds zero eigenvalues (see _batched)
        fs[ii] = np.maximum(lam, 0.0) if problem.reduced and final_sharpness == "lanczos" else lam
        t_sharp += time.perf_counter() - t0
    loss_hist = np.full((B, iters + 1), np.nan) if record_loss else None
    sharp_hist = np.full((B, iters // k + 1), np.nan) if k else None
    v_start = start_vector(n, seed, dt)
    hvp = loss_hvp(problem.Xr, problem.y, problem.rwidths, problem.loss) if k else None

    # slot state
    P = torch.empty(0, n, dtype=dt)
    Pprev = torch.empty(0, n, dtype=dt)
    Vp = torch.empty(0, n, dtype=dt)
    idx = np.empty(0, dtype=np.int64)
    st = np.empty(0, dtype=np.int64)
    eta_s = torch.empty(0, 1, dtype=dt)
    beta_s = torch.empty(0, 1, dtype=dt)
    c = np.empty(0)
    cprev = np.empty(0)
    nxt = 0
    while True:
        if P.shape[0] < pool and nxt < B:
            take = min(pool - P.shape[0], B - nxt)
            new = np.arange(nxt, nxt + take)
            nxt += take
            P0 = torch.as_tensor(init_fn(new)).to(dt)
            if P0.shape != (take, problem.n_full):
                raise GdchaosInputError(f"init returned shape {tuple(P0.shape)}, expected "
                                        f"({take}, {problem.n_full})")
            Pr, pp = problem.reduce_params(P0)
            perp2[new] = pp.numpy()
            P = torch.cat([P, Pr])
            if use_mom:
                Pprev = torch.cat([Pprev, Pr.clone()])
            if k:
                Vp = torch.cat([Vp, v_start.expand(take, n)])
            idx = np.concatenate([idx, new])
            st = np.concatenate([st, np.zeros(take, dtype=np.int64)])
            eta_s = torch.cat([eta_s, torch.as_tensor(eta_all[new], dtype=dt)[:, None]])
            beta_s = torch.cat([beta_s, torch.as_tensor(beta_all[new], dtype=dt)[:, None]])
            c = np.concatenate([c, np.ones(take)])
            cprev = np.concatenate([cprev, np.ones(take)])
        if P.shape[0] == 0:
            break
        L, G = problem.value_and_grad(P)
        Ln = L.numpy()
        if record_loss:
            loss_hist[idx, st] = Ln
        conv = Ln <= tol
        dive = ~(Ln <= div)
        stop = conv | dive | (st >= iters)
        if stop.any():
            si = idx[stop]
            status[si] = np.where(conv[stop], CONVERGED, np.where(dive[stop], DIVERGED, UNDECIDED))
            steps[si] = st[stop]
            final_loss[si] = Ln[stop]
            ts = torch.as_tensor(stop)
            Ps = P[ts]
            c_final[si] = c[stop]
            sq_norm[si] = (Ps * Ps).sum(1).numpy() + c[stop] ** 2 * perp2[si]
            if return_params:
                Pf[torch.as_tensor(si)] = Ps
            if final_sharpness:
                ok = ~dive[stop]
                if ok.any():
                    wait_idx.append(si[ok])
                    wait_P.append(Ps[torch.as_tensor(ok)])
                if sum(len(w) for w in wait_idx) >= flush:
                    sharpen()
            rest = float(np.sum(1.0 - st[stop] / iters))  # of each stopped network's 1
            keep = ~stop
            tk = torch.as_tensor(keep)
            P, G, eta_s, beta_s = P[tk], G[tk], eta_s[tk], beta_s[tk]
            if use_mom:
                Pprev = Pprev[tk]
            if k:
                Vp = Vp[tk]
            idx, st, c, cprev = idx[keep], st[keep], c[keep], cprev[keep]
            if progress is not None:
                progress(rest)
            if P.shape[0] == 0:
                continue
        if k:
            m = st % k == 0
            if m.any():
                tm = torch.as_tensor(m)
                lam, V, _ = power_iteration(RowsMatvec(P[tm], hvp), Vp[tm])
                sharp_hist[idx[m], st[m] // k] = lam.numpy()
                Vp[tm] = V
        if wd:
            G.add_(P, alpha=wd)
        if use_mom:
            D = P - Pprev
            Pprev.copy_(P)
            P.addcmul_(G, eta_s, value=-1.0).addcmul_(D, beta_s)
        else:
            P.addcmul_(G, eta_s, value=-1.0)
        if problem.reduced and (wd or use_mom):
            e, b = eta_all[idx], beta_all[idx]
            c, cprev = c - e * wd * c + b * (c - cprev), c
        st = st + 1
        if progress is not None:  # one step of every network in the pool
            progress(P.shape[0] / iters)
    if wait_idx:
        sharpen()
    t_train = time.perf_counter() - t_start - t_sharp
    params = None
    if return_params:
        parts = []
        for s in range(0, B, 256):
            r = np.arange(s, min(B, s + 256))
            parts.append(problem.expand_params(
                Pf[torch.as_tensor(r)], torch.as_tensor(init_fn(r)).to(dt),
                torch.as_tensor(c_final[r], dtype=dt)))
        params = torch.cat(parts) if parts else torch.empty(0, problem.n_full, dtype=dt)
    seconds = time.perf_counter() - t_start
    info = {"reduced": problem.reduced, "n_params": problem.n_full, "n_params_trained": n,
            "train_seconds": t_train, "sharpness_seconds": t_sharp, "tol": tol,
            "div": div, "iters": iters, "pool": pool, "convergence_rule": CONVERGENCE_RULE}
    return BatchResult(status, steps, final_loss, sq_norm, fs, loss_hist, sharp_hist, params,
                       seconds, info)

