"""PyTorch backend of the engine (CPU or CUDA), same problems and stopping rules as the Numba
kernels, with the arithmetic written in the same order so that float64 results agree with them
to rounding.  Finished points leave the batch (the active set is compacted every step).

Needs the ``torch`` extra: ``pip install gdchaos[torch]``.
"""

from __future__ import annotations

import numpy as np

from ..errors import GdchaosInputError
from ..status import CONVERGED, DIVERGED, OUTSIDE, SADDLE, UNDECIDED


def _import_torch():
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise GdchaosInputError("the torch backend needs the 'torch' extra: "
                                "pip install 'gdchaos[torch]'")
    import torch

    return torch


def _scalar(X, c, lam):
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
    g = _cat(gu, gv)
    g2 = gu[:, 0] * gu[:, 0] + gv[:, 0] * gv[:, 0]
    for j in range(1, d):
        g2 = g2 + (gu[:, j] * gu[:, j] + gv[:, j] * gv[:, j])
    return loss, g, g2


def _cat(*ts):
    import torch

    return torch.cat(ts, dim=1)


def _seqsum(terms):
    s = terms[0]
    for t in terms[1:]:
        s = s + t
    return s


def _matrix(X, c, lam):
    dy = int(c[0])
    P = X.shape[1]
    d = P // (2 * dy)
    m = d * dy
    Y = c[1:].reshape(dy, dy)
    U = lambda r, a: X[:, r * dy + a]  # noqa: E731
    V = lambda r, a: X[:, m + r * dy + a]  # noqa: E731
    R = [[_seqsum([U(r, a) * V(r, b) for r in range(d)]) - float(Y[a, b]) for b in range(dy)]
         for a in range(dy)]
    rr = _seqsum([R[a][b] * R[a][b] for a in range(dy) for b in range(dy)])
    nn = _seqsum([X[:, j] * X[:, j] for j in range(P)])
    loss = 0.5 * rr + 0.5 * lam * nn
    gcols = [None] * P
    for r in range(d):
        for a in range(dy):
            gu = _seqsum([V(r, b) * R[a][b] for b in range(dy)]) + lam * U(r, a)
            gv = _seqsum([U(r, b) * R[b][a] for b in range(dy)]) + lam * V(r, a)
            gcols[r * dy + a] = gu
            gcols[m + r * dy + a] = gv
    g2 = _seqsum([gcols[r * dy + a] * gcols[r * dy + a] + gcols[m + r * dy + a] * gcols[m + r * dy + a]
                  for r in range(d) for a in range(dy)])
    import torch

    return loss, torch.stack(gcols, dim=1), g2


def _mm(A, B, n):
    return [[_seqsum([A[a][c] * B[c][b] for c in range(n)]) for b in range(n)] for a in range(n)]


def _deep(X, c, lam):
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
        pre.append(_mm(pre[-1], W[j], n))
    suf = [None] * (k + 2)
    suf[k + 1] = eye
    for j in range(k, 0, -1):
        suf[j] = _mm(W[j - 1], suf[j + 1], n)
    R = [[pre[k][a][b] - float(Y[a, b]) for b in range(n)] for a in range(n)]
    rr = _seqsum([R[a][b] * R[a][b] for a in range(n) for b in range(n)])
    nrm = _seqsum([X[:, j] * X[:, j] for j in range(X.shape[1])])
    loss = 0.5 * rr + 0.5 * lam * nrm
    gcols = []
    for j in range(1, k + 1):
        A = pre[j - 1]
        B = suf[j + 1]
        T = [[_seqsum([R[a][cc] * B[b][cc] for cc in range(n)]) for b in range(n)]
             for a in range(n)]
        for a in range(n):
            for b in range(n):
                s = _seqsum([A[cc][a] * T[cc][b] for cc in range(n)])
                gcols.append(s + lam * W[j - 1][a][b])
    g2 = _seqsum([gc * gc for gc in gcols])
    return loss, torch.stack(gcols, dim=1), g2


_LOSS_GRAD = {"scalar": _scalar, "matrix": _matrix, "deep": _deep}


def _scalar_sharpness(X, c, lam):
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


def _exact_sharpness(kernel, X, c, lam):
    """Top Hessian eigenvalue from the exact Hessian (``torch.func.hessian``, vmapped)."""
    import torch
    from torch.func import hessian, vmap

    if kernel == "matrix":
        dy = int(c[0])
        d = X.shape[1] // (2 * dy)
        Y = torch.as_tensor(c[1:].reshape(dy, dy), dtype=X.dtype, device=X.device)

        def loss(x):
            U = x[: d * dy].reshape(d, dy)
            V = x[d * dy:].reshape(d, dy)
            R = U.T @ V - Y
            return 0.5 * (R * R).sum() + 0.5 * lam * (x * x).sum()
    else:
        k, n = int(c[0]), int(c[1])
        Y = torch.as_tensor(c[2:].reshape(n, n), dtype=X.dtype, device=X.device)

        def loss(x):
            Pm = x[: n * n].reshape(n, n)
            for j in range(1, k):
                Pm = Pm @ x[j * n * n:(j + 1) * n * n].reshape(n, n)
            R = Pm - Y
            return 0.5 * (R * R).sum() + 0.5 * lam * (x * x).sum()

    H = vmap(hessian(loss))(X)
    return torch.linalg.eigvalsh(H)[:, -1]


def _retire(torch, t, max_iter, verdict, loss, state_of, idx, status, iters, loss_out, Xf):
    """Record the points that have a verdict (every point at the step limit) and return the mask
    of those going on, or None when none stopped."""
    stop = verdict >= 0
    if t == max_iter:
        stop = torch.ones_like(stop)
        verdict = torch.where(stop & (verdict < 0), torch.full_like(verdict, UNDECIDED), verdict)
    if not bool(stop.any()):
        return None
    sid = idx[stop]
    status[sid] = verdict[stop]
    iters[sid] = t
    loss_out[sid] = loss[stop]
    Xf[sid] = state_of(stop)
    return ~stop


def run_torch(kernel, X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
              device=None):
    """Same contract as the Numba kernels; returns ``(Xf, status, iters, loss)`` as NumPy.

    The stability test at a candidate minimizer uses the exact Hessian (``torch.func``) where the
    Numba kernels use power iteration on finite-difference Hessian-vector products; the two differ
    only for minimizers whose sharpness is within about 1e-8 of ``(2 + 2 beta)/eta``."""
    torch = _import_torch()
    dev = torch.device(device or "cpu")
    dt = torch.float32 if f32 else torch.float64
    n, P = X0.shape
    X = torch.as_tensor(np.asarray(X0), dtype=dt, device=dev)
    Xf = X.clone()
    status = torch.full((n,), UNDECIDED, dtype=torch.int8, device=dev)
    iters = torch.zeros(n, dtype=torch.int32, device=dev)
    loss_out = torch.zeros(n, dtype=dt, device=dev)
    idx = torch.arange(n, device=dev)
    if kernel == "quotient":
        return _run_quotient(torch, X, Xf, status, iters, loss_out, idx, float(consts[0]), eta,
                             lam, max_iter, tol, lmin, div, gtol)
    f = _LOSS_GRAD[kernel]
    c = np.asarray(consts, dtype=np.float64)
    Xp = X.clone()
    for t in range(max_iter + 1):
        if idx.numel() == 0:
            break
        loss, g, g2 = f(X, c, lam)
        diff = X - Xp
        s2 = _seqsum([diff[:, j] * diff[:, j] for j in range(P)])
        verdict = torch.full_like(status[idx], -1)
        near = (loss - lmin <= tol) & ((s2 <= tol) if beta != 0.0 else torch.ones_like(s2, dtype=torch.bool))
        conv = near.clone()
        cand = near & (g2 != 0.0)
        if bool(cand.any()):  # a minimizer counts only when linearly stable (or exactly fixed)
            sh = (_scalar_sharpness(X[cand], c, lam) if kernel == "scalar"
                  else _exact_sharpness(kernel, X[cand], c, lam))
            conv[cand] = sh < (2.0 + 2.0 * beta) / eta
        verdict = torch.where((g2 <= gtol * gtol) & ~near, torch.full_like(verdict, SADDLE), verdict)
        verdict = torch.where(conv, torch.full_like(verdict, CONVERGED), verdict)
        bad = ~torch.isfinite(loss) | (loss > div)
        verdict = torch.where(bad, torch.full_like(verdict, DIVERGED), verdict)
        keep = _retire(torch, t, max_iter, verdict, loss, lambda m: X[m], idx, status, iters,
                       loss_out, Xf)
        if keep is not None:
            idx, X, Xp, g = idx[keep], X[keep], Xp[keep], g[keep]
            if idx.numel() == 0:
                break
        Xn = X - eta * g + beta * (X - Xp)
        if f32:
            Xn = Xn.to(torch.float32)
        Xp = X
        X = Xn
    return (Xf.to(torch.float64).cpu().numpy(), status.cpu().numpy(), iters.cpu().numpy(),
            loss_out.to(torch.float64).cpu().numpy())


def _run_quotient(torch, X, Xf, status, iters, loss_out, idx, y, eta, lam, max_iter, tol, lmin,
                  div, gtol):
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
    return (Xf.to(torch.float64).cpu().numpy(), status.cpu().numpy(), iters.cpu().numpy(),
            loss_out.to(torch.float64).cpu().numpy())
