"""Numba CPU kernels: one per problem, registered by name.

Every kernel has the same signature and takes only arrays and scalars::

    kernel(X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
           Xout, status, iters, loss_out)

``X0`` is ``(n, P)`` flat initial parameters, ``consts`` a float64 array of problem constants
(scalar: ``[y]``; matrix: ``[dy, Y.ravel()]``; deep: ``[k, n, Y.ravel()]``; quotient: ``[y]``).
Points are independent (``prange``), so results do not depend on the thread count.  Each point
stops at the first of: converged (``loss - lmin <= tol``, and with momentum ``beta > 0`` also a
step of squared length ``<= tol``), saddle (squared gradient norm ``<= gtol^2`` without
convergence), diverged (loss ``> div`` or not finite), undecided (``max_iter`` steps).  The
verdict is taken *before* a step, so ``iters`` is the number of steps actually taken and
``Xout``/``loss_out`` are the parameters and loss at which the verdict was taken.

Arithmetic is float64; with ``f32`` true every iterate is rounded to float32 after each step
(float32 storage of the state, the way a float32 run loses accuracy).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._status import CONVERGED, DIVERGED, OUTSIDE, SADDLE, UNDECIDED

_OPTS = dict(parallel=True, cache=True, nogil=True)


@njit(inline="always")
def _verdict(loss, lmin, tol, g2, gtol, div, step2, beta):
    if not np.isfinite(loss) or loss > div:
        return DIVERGED
    if loss - lmin <= tol and (beta == 0.0 or step2 <= tol):
        return CONVERGED
    if g2 <= gtol * gtol:
        return SADDLE
    return -1


@njit(**_OPTS)
def scalar_kernel(X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
                  Xout, status, iters, loss_out):
    n, P = X0.shape
    d = P // 2
    y = consts[0]
    for i in prange(n):
        x = np.empty(P, dtype=np.float64)
        xp = np.empty(P, dtype=np.float64)
        g = np.empty(P, dtype=np.float64)
        for j in range(P):
            x[j] = X0[i, j]
            xp[j] = x[j]
        st = UNDECIDED
        t = 0
        loss = 0.0
        while True:
            uv = 0.0
            nn = 0.0
            for j in range(d):
                uv += x[j] * x[d + j]
                nn += x[j] * x[j] + x[d + j] * x[d + j]
            z = uv - y
            loss = 0.5 * z * z + 0.5 * lam * nn
            g2 = 0.0
            s2 = 0.0
            for j in range(d):
                gu = z * x[d + j] + lam * x[j]
                gv = z * x[j] + lam * x[d + j]
                g[j] = gu
                g[d + j] = gv
                g2 += gu * gu + gv * gv
            for j in range(P):
                s2 += (x[j] - xp[j]) * (x[j] - xp[j])
            v = _verdict(loss, lmin, tol, g2, gtol, div, s2, beta)
            if v >= 0:
                st = v
                break
            if t >= max_iter:
                break
            for j in range(P):
                xn = x[j] - eta * g[j] + beta * (x[j] - xp[j])
                xp[j] = x[j]
                x[j] = xn
            if f32:
                for j in range(P):
                    x[j] = np.float32(x[j])
            t += 1
        status[i] = st
        iters[i] = t
        loss_out[i] = loss
        for j in range(P):
            Xout[i, j] = x[j]


@njit(**_OPTS)
def matrix_kernel(X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
                  Xout, status, iters, loss_out):
    """``X = [U.ravel(), V.ravel()]`` with U, V of shape ``(d, dy)``; ``consts = [dy, Y.ravel()]``."""
    n, P = X0.shape
    dy = int(consts[0])
    d = P // (2 * dy)
    m = d * dy
    for i in prange(n):
        x = np.empty(P, dtype=np.float64)
        xp = np.empty(P, dtype=np.float64)
        g = np.empty(P, dtype=np.float64)
        R = np.empty((dy, dy), dtype=np.float64)
        for j in range(P):
            x[j] = X0[i, j]
            xp[j] = x[j]
        st = UNDECIDED
        t = 0
        loss = 0.0
        while True:
            # R = U^T V - Y
            rr = 0.0
            for a in range(dy):
                for b in range(dy):
                    s = 0.0
                    for r in range(d):
                        s += x[r * dy + a] * x[m + r * dy + b]
                    R[a, b] = s - consts[1 + a * dy + b]
                    rr += R[a, b] * R[a, b]
            nn = 0.0
            for j in range(P):
                nn += x[j] * x[j]
            loss = 0.5 * rr + 0.5 * lam * nn
            g2 = 0.0
            for r in range(d):
                for a in range(dy):
                    gu = 0.0  # (V R^T)[r, a] = sum_b V[r, b] R[a, b]
                    gv = 0.0  # (U R)[r, a] = sum_b U[r, b] R[b, a]
                    for b in range(dy):
                        gu += x[m + r * dy + b] * R[a, b]
                        gv += x[r * dy + b] * R[b, a]
                    gu += lam * x[r * dy + a]
                    gv += lam * x[m + r * dy + a]
                    g[r * dy + a] = gu
                    g[m + r * dy + a] = gv
                    g2 += gu * gu + gv * gv
            s2 = 0.0
            for j in range(P):
                s2 += (x[j] - xp[j]) * (x[j] - xp[j])
            v = _verdict(loss, lmin, tol, g2, gtol, div, s2, beta)
            if v >= 0:
                st = v
                break
            if t >= max_iter:
                break
            for j in range(P):
                xn = x[j] - eta * g[j] + beta * (x[j] - xp[j])
                xp[j] = x[j]
                x[j] = xn
            if f32:
                for j in range(P):
                    x[j] = np.float32(x[j])
            t += 1
        status[i] = st
        iters[i] = t
        loss_out[i] = loss
        for j in range(P):
            Xout[i, j] = x[j]


@njit(inline="always")
def _matmul_into(A, B, C, n):
    for a in range(n):
        for b in range(n):
            s = 0.0
            for c in range(n):
                s += A[a, c] * B[c, b]
            C[a, b] = s


@njit(**_OPTS)
def deep_kernel(X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
                Xout, status, iters, loss_out):
    """``X = [W1.ravel(), ..., Wk.ravel()]``, each ``n x n``; loss ``1/2 ||W1 ... Wk - Y||^2``.

    ``consts = [k, n, Y.ravel()]``.
    """
    N, P = X0.shape
    k = int(consts[0])
    n = int(consts[1])
    nn_ = n * n
    for i in prange(N):
        x = np.empty(P, dtype=np.float64)
        xp = np.empty(P, dtype=np.float64)
        g = np.empty(P, dtype=np.float64)
        pre = np.empty((k + 1, n, n), dtype=np.float64)  # pre[j] = W1 ... Wj
        suf = np.empty((k + 2, n, n), dtype=np.float64)  # suf[j] = Wj ... Wk (1-based j)
        R = np.empty((n, n), dtype=np.float64)
        T = np.empty((n, n), dtype=np.float64)
        for j in range(P):
            x[j] = X0[i, j]
            xp[j] = x[j]
        st = UNDECIDED
        t = 0
        loss = 0.0
        while True:
            for a in range(n):
                for b in range(n):
                    pre[0, a, b] = 1.0 if a == b else 0.0
                    suf[k + 1, a, b] = 1.0 if a == b else 0.0
            for j in range(1, k + 1):
                W = x[(j - 1) * nn_: j * nn_].reshape((n, n))
                _matmul_into(pre[j - 1], W, pre[j], n)
            for j in range(k, 0, -1):
                W = x[(j - 1) * nn_: j * nn_].reshape((n, n))
                _matmul_into(W, suf[j + 1], suf[j], n)
            rr = 0.0
            for a in range(n):
                for b in range(n):
                    R[a, b] = pre[k, a, b] - consts[2 + a * n + b]
                    rr += R[a, b] * R[a, b]
            nrm = 0.0
            for j in range(P):
                nrm += x[j] * x[j]
            loss = 0.5 * rr + 0.5 * lam * nrm
            g2 = 0.0
            for j in range(1, k + 1):
                # grad_j = pre[j-1]^T R suf[j+1]^T
                A = pre[j - 1]
                B = suf[j + 1]
                for a in range(n):
                    for b in range(n):
                        s = 0.0
                        for c in range(n):
                            s += R[a, c] * B[b, c]
                        T[a, b] = s
                for a in range(n):
                    for b in range(n):
                        s = 0.0
                        for c in range(n):
                            s += A[c, a] * T[c, b]
                        idx = (j - 1) * nn_ + a * n + b
                        s += lam * x[idx]
                        g[idx] = s
                        g2 += s * s
            s2 = 0.0
            for j in range(P):
                s2 += (x[j] - xp[j]) * (x[j] - xp[j])
            v = _verdict(loss, lmin, tol, g2, gtol, div, s2, beta)
            if v >= 0:
                st = v
                break
            if t >= max_iter:
                break
            for j in range(P):
                xn = x[j] - eta * g[j] + beta * (x[j] - xp[j])
                xp[j] = x[j]
                x[j] = xn
            if f32:
                for j in range(P):
                    x[j] = np.float32(x[j])
            t += 1
        status[i] = st
        iters[i] = t
        loss_out[i] = loss
        for j in range(P):
            Xout[i, j] = x[j]


@njit(**_OPTS)
def quotient_kernel(X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
                    Xout, status, iters, loss_out):
    """Planar map on ``(z, w)`` (Prop. 3); ``consts = [y]``.  ``beta`` must be 0.

    The loss is ``z^2/2 + lam w/2``; saddle means ``|z + y| + w <= gtol`` (the image of the
    origin) when the origin is not a minimizer; points with ``w < 2|z + y|`` are OUTSIDE.
    """
    n = X0.shape[0]
    y = consts[0]
    a = 1.0 - eta * lam
    saddle_is_min = lam >= abs(y)
    for i in prange(n):
        z = np.float64(X0[i, 0])
        w = np.float64(X0[i, 1])
        t = 0
        st = UNDECIDED
        loss = 0.5 * z * z + 0.5 * lam * w
        if w < 2.0 * abs(z + y) or not (np.isfinite(z) and np.isfinite(w)):
            st = OUTSIDE
        else:
            while True:
                loss = 0.5 * z * z + 0.5 * lam * w
                if not np.isfinite(loss) or loss > div:
                    st = DIVERGED
                    break
                if loss - lmin <= tol:
                    st = CONVERGED
                    break
                if (not saddle_is_min) and abs(z + y) + w <= gtol:
                    st = SADDLE
                    break
                if t >= max_iter:
                    break
                c = a * a + eta * eta * z * z
                zn = c * (z + y) - eta * a * z * w - y
                w = c * w - 4.0 * eta * a * z * (z + y)
                z = zn
                if f32:
                    z = np.float64(np.float32(z))
                    w = np.float64(np.float32(w))
                t += 1
        status[i] = st
        iters[i] = t
        loss_out[i] = loss
        Xout[i, 0] = z
        Xout[i, 1] = w


KERNELS = {
    "scalar": scalar_kernel,
    "matrix": matrix_kernel,
    "deep": deep_kernel,
    "quotient": quotient_kernel,
}


@njit(parallel=True, cache=True)
def slice_points_kernel(center, D, xs, ys, out):
    """``out[j * nx + i] = center + xs[i] D[0] + ys[j] D[1]`` (row-major grid)."""
    nx = xs.shape[0]
    ny = ys.shape[0]
    P = center.shape[0]
    for j in prange(ny):
        for i in range(nx):
            r = j * nx + i
            for p in range(P):
                out[r, p] = center[p] + xs[i] * D[0, p] + ys[j] * D[1, p]


@njit(parallel=True, cache=True)
def quotient_records_kernel(Xf, y, lam, sq_norm, sharp):
    """Squared norm ``w`` and top Hessian eigenvalue (Prop. 22, d = 1 part) from ``(z, w)``."""
    for i in prange(Xf.shape[0]):
        z = Xf[i, 0]
        w = Xf[i, 1]
        uv = z + y
        disc = w * w + 4.0 * z * z + 8.0 * z * uv
        sq_norm[i] = w
        sharp[i] = 0.5 * (w + np.sqrt(max(disc, 0.0))) + lam
