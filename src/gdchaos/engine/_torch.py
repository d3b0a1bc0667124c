"""PyTorch backend of the engine (CPU or CUDA): the generic GD runner on a problem's
``torch_loss_grad``/``torch_sharpness`` (or the problem's own ``torch_run``), with the stopping
rules of the Numba kernels; built-in problems write their arithmetic in the Numba loops' order,
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


def _import_torch():
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise GdchaosInputError("the torch backend needs the 'torch' extra: "
                                "pip install 'gdchaos[torch]'")
    import torch

    return torch


def run_torch(problem, X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
              device=None):
    """Same contract as the Numba kernels; returns ``(Xf, status, iters, loss)`` as NumPy.

    The stability test at a candidate minimizer uses the exact Hessian (``torch.func``) where the
    Numba kernels use power iteration on finite-difference Hessian-vector products; the two differ
    only for minimizers whose sharpness is within about 1e-8 of ``(2 + 2 beta)/eta``."""
    torch = _import_torch()
    whole = problem.torch_run(X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
                              device=device)
    if whole is not None:  # a map problem's own runner
        return whole
    dev = torch.device(device or "cpu")
    dt = torch.float64  # float32 runs keep a float32 state, rounded after each step
    n, P = X0.shape
    X = torch.as_tensor(np.asarray(X0), dtype=dt, device=dev)
    Xf = X.clone()
    status = torch.full((n,), UNDECIDED, dtype=torch.int8, device=dev)
    iters = torch.zeros(n, dtype=torch.int32, device=dev)
    loss_out = torch.zeros(n, dtype=dt, device=dev)
    idx = torch.arange(n, device=dev)
    f = problem.torch_loss_grad
    c = np.asarray(consts, dtype=np.float64)
    Xp = X.clone()
    for t in range(max_iter + 1):
        if idx.numel() == 0:
            break
        loss, g, g2 = f(X, c, lam)
        diff = X - Xp
        s2 = seqsum([diff[:, j] * diff[:, j] for j in range(P)])
        verdict = torch.full_like(status[idx], -1)
        near = (loss - lmin <= tol) & ((s2 <= tol) if beta != 0.0 else torch.ones_like(s2, dtype=torch.bool))
        conv = near.clone()
        cand = near & (g2 != 0.0)
        if bool(cand.any()):  # a minimizer counts only when linearly stable (or exactly fixed)
            sh = problem.torch_sharpness(X[cand], c, lam)
            conv[cand] = sh < (2.0 + 2.0 * beta) / eta
        verdict = torch.where((g2 <= gtol * gtol) & ~near, torch.full_like(verdict, SADDLE), verdict)
        verdict = torch.where(conv, torch.full_like(verdict, CONVERGED), verdict)
        bad = ~torch.isfinite(loss) | (loss > div)
        verdict = torch.where(bad, torch.full_like(verdict, DIVERGED), verdict)
        keep = torch_retire(torch, t, max_iter, verdict, loss, lambda m: X[m], idx, status, iters,
                       loss_out, Xf)
        if keep is not None:
            idx, X, Xp, g = idx[keep], X[keep], Xp[keep], g[keep]
            if idx.numel() == 0:
                break
        Xn = X - eta * g + beta * (X - Xp)
        if f32:
            Xn = Xn.to(torch.float32).to(torch.float64)
        Xp = X
        X = Xn
    return (Xf.to(torch.float64).cpu().numpy(), status.cpu().numpy(), iters.cpu().numpy(),
            loss_out.to(torch.float64).cpu().numpy())
