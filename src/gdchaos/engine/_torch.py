"""PyTorch backend of the engine (CPU or CUDA): the optimizer runner on a problem's
``torch_loss_grad``/``torch_sharpness`` (or a map problem's own ``torch_run``), with the stopping
rules of the Numba kernels and the steps derived from the optimizer's definition; built-in problems write their arithmetic in the Numba loops' order,
so float64 results agree to rounding.  Finished points leave the batch (the active set is
compacted every step).  float32 means what it means on Numba: float64 arithmetic, the state
rounded to float32 after every step.

Needs the ``torch`` extra: ``pip install gdchaos[torch]``.
"""

from __future__ import annotations

import numpy as np

from ..errors import GdchaosInputError
from ..problems import seqsum, torch_retire
from ..status import CONVERGED, DIVERGED, SADDLE, UNDECIDED
from ._progress import report


def _import_torch():
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise GdchaosInputError("the torch backend needs the 'torch' extra: "
                                "pip install 'gdchaos[torch]'")
    import torch

    return torch


def run_torch(problem, X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
              device=None):
    """A map problem's own torch runner (``torch_run``: the quotient map), with the contract of
    its Numba kernel; returns ``(Xf, status, iters, loss)`` as NumPy.  Gradient problems run on
    :func:`run_torch_opt`."""
    _import_torch()
    whole = problem.torch_run(X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
                              device=device)
    if whole is None:
        raise GdchaosInputError(f"problem {problem.name!r} has no torch runner of its own")
    return whole


def run_torch_opt(problem, X0, consts, HP, gidx, ncol, optimizer, max_iter, tol, div, gtol, f32,
                  window, device=None, rule=None):
    """The optimizer kernel of :mod:`gdchaos.engine._kernelgen` (``opt_kernel``) in torch: the
    same per-point hyperparameters ``HP``, update (the definition ``optimizer``, an
    :class:`gdchaos.OptimizerDef` subclass, its functions on tensors), stopping rule (``rule``:
    the optimizer's ``stop_rule``) and trainability score; returns ``(Xf, status, iters, loss,
    score)`` as NumPy.  The weight decay ``lam`` must be one number for the whole batch."""
    from ._optgen import steps, torch_ops

    torch = _import_torch()
    dev = torch.device(device or "cpu")
    dt = torch.float64
    n, P = X0.shape
    nh = len(optimizer.hyper)
    H = torch.as_tensor(np.asarray(HP, dtype=np.float64), device=dev)
    lams = np.unique(np.asarray(HP)[:, ncol + nh])
    if lams.size > 1:
        raise GdchaosInputError("the torch backend runs one weight decay lam per batch (a map "
                                "over lam runs on backend='numba')")
    lam = float(lams[0]) if lams.size else 0.0
    E = H[:, torch.as_tensor(np.asarray(gidx), device=dev)]
    hyp = [H[:, ncol + k] for k in range(nh)]
    lmin = H[:, ncol + nh + 1]
    update, threshold, step_test = steps(optimizer, torch_ops(torch))
    equal = (E == E[:, :1]).all(dim=1)
    linear = threshold is not None
    loss_only = rule == "loss_below_tol"
    thr = torch.as_tensor(threshold(*hyp) if linear else 2.0, dtype=dt, device=dev).expand(n)
    at_rest = ~torch.as_tensor(step_test(*hyp), dtype=torch.bool, device=dev).expand(n)
    below = thr / E[:, 0]
    X = torch.as_tensor(np.asarray(X0), dtype=dt, device=dev)
    Xf = X.clone()
    status = torch.full((n,), UNDECIDED, dtype=torch.int8, device=dev)
    iters = torch.zeros(n, dtype=torch.int32, device=dev)
    loss_out = torch.zeros(n, dtype=dt, device=dev)
    score = torch.zeros(n, dtype=dt, device=dev)
    idx = torch.arange(n, device=dev)
    Xp = X.clone()
    S = tuple(torch.full_like(X, float(v)) for v in optimizer.state.values())
    ring = torch.zeros((n, window), dtype=dt, device=dev)
    loss0 = None
    c = np.asarray(consts, dtype=np.float64)
    for t in range(max_iter + 1):
        report(t, max_iter + 1)  # progress within the tile (engine/_progress.py)
        loss, g, g2 = problem.torch_loss_grad_at(X, c, lam, t)
        if t == 0:
            loss0 = loss.clone()
        ring[:, t % window] = loss
        s2 = _sq_step(X, Xp)
        near = (loss - lmin <= tol) & (at_rest | (s2 <= tol) | loss_only)
        conv = near.clone()
        if linear and not loss_only:
            cand = near & (g2 != 0.0)
            eq, ne = cand & equal, cand & ~equal
            if bool(eq.any()):
                conv[eq] = problem.torch_sharpness(X[eq], c, lam) < below[eq]
            if bool(ne.any()):
                conv[ne] = _pre_sharpness(problem, X[ne], E[ne], c, lam) < thr[ne]
        verdict = torch.full_like(status[idx], -1)
        verdict = torch.where((g2 <= gtol * gtol) & ~near, torch.full_like(verdict, SADDLE), verdict)
        verdict = torch.where(conv, torch.full_like(verdict, CONVERGED), verdict)
        bad = ~torch.isfinite(loss) | (loss > div)
        verdict = torch.where(bad, torch.full_like(verdict, DIVERGED), verdict)
        stop = (verdict >= 0) | torch.full_like(bad, t == max_iter)
        if bool(stop.any()):
            cnt = min(t + 1, window)
            s = seqsum([ring[stop][:, k % window] for k in range(t + 1 - cnt, t + 1)])
            l0 = loss0[stop]
            sc = torch.where(l0 != 0.0, (s / cnt) / l0, torch.full_like(s, float("nan")))
            score[idx[stop]] = torch.where(verdict[stop] == DIVERGED,
                                           torch.full_like(s, float("inf")), sc)
        keep = torch_retire(torch, t, max_iter, verdict, loss, lambda m: X[m], idx, status, iters,
                            loss_out, Xf)
        if keep is not None:
            idx, X, Xp, g, E, lmin, equal, thr, below, ring, loss0, at_rest = (
                a[keep] for a in (idx, X, Xp, g, E, lmin, equal, thr, below, ring, loss0,
                                  at_rest))
            S = tuple(a[keep] for a in S)
            hyp = [a[keep] for a in hyp]
            if idx.numel() == 0:
                break
        Xn, S = update(X, Xp, g, E, S, [h[:, None] for h in hyp])
        if f32:
            Xn = Xn.to(torch.float32).to(torch.float64)
        Xp = X
        X = Xn
    return (Xf.cpu().numpy(), status.cpu().numpy(), iters.cpu().numpy(),
            loss_out.cpu().numpy(), score.cpu().numpy())


#: above this many parameters the squared step is summed by torch (below: left to right, the
#: order of the Numba loops, so that the two backends round alike)
SEQSUM_MAX_PARAMS = 64


def _sq_step(X, Xp):
    """``|x_t - x_{t-1}|^2`` per row."""
    diff = X - Xp
    if X.shape[1] > SEQSUM_MAX_PARAMS:
        return (diff * diff).sum(1)
    return seqsum([diff[:, j] * diff[:, j] for j in range(X.shape[1])])


def _pre_sharpness(problem, X, E, c, lam):
    """Top eigenvalue of ``D^1/2 H D^1/2`` per row (``D = diag(E)``, exact Hessian)."""
    import torch
    from torch.func import hessian, vmap

    def loss(x):
        return problem.torch_loss_grad(x[None], c, lam)[0][0]

    se = torch.sqrt(E)
    Hs = vmap(hessian(loss))(X)
    return torch.linalg.eigvalsh(se[:, :, None] * Hs * se[:, None, :])[:, -1]
