"""Numba CPU kernels, registered by problem name.

Every kernel has the same signature and takes only arrays and scalars::

    kernel(X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
           Xout, status, iters, loss_out)

``X0`` is ``(n, P)`` flat initial parameters, ``consts`` a float64 array of problem constants
(scalar: ``[y]``; matrix: ``[dy, Y.ravel()]``; deep: ``[k, n, Y.ravel()]``; quotient: ``[y]``).
Points are independent (``prange``), so results do not depend on the thread count.  Each point
stops at the first of: converged (``loss - lmin <= tol``, with momentum ``beta > 0`` also a
step of squared length ``<= tol``, *and* the minimizer there linearly stable: top Hessian
eigenvalue ``< (2 + 2 beta)/eta``, or the iterate exactly fixed; an orbit that only passes close
to an unstable minimizer goes on), saddle (squared gradient norm ``<= gtol^2`` without
convergence), diverged (loss ``> div`` or not finite), undecided (``max_iter`` steps).  The
verdict is taken *before* a step, so ``iters`` is the number of steps actually taken and
``Xout``/``loss_out`` are the parameters and loss at which the verdict was taken.

Arithmetic is float64; with ``f32`` true every iterate is rounded to float32 after each step
(float32 storage of the state, the way a float32 run loses accuracy).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..status import CONVERGED, DIVERGED, OUTSIDE, SADDLE, UNDECIDED

_OPTS = dict(parallel=True, cache=True, nogil=True)
# Points are dealt to threads interleaved (point i goes to block i mod _NBLK): neighbouring grid
# points cost alike, so contiguous halves of a grid would leave one thread with all the
# slow-converging points.  Each point is computed independently, so the result is the same.
_NBLK = 4096
_LANES = 8
# The quotient kernel instead deals chunks of _CHUNK contiguous points, in an order spread over
# the grid (k -> k * m mod n_chunks): the same balance, but each thread reads and writes whole
# cache lines and pages (the per-point pass costs a third of the interleaved one).
_CHUNK = 1024


SCALAR, MATRIX, DEEP = 0, 1, 2


@njit(inline="always")
def _scalar_grad(x, consts, lam, g, work):
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


@njit(inline="always")
def _scalar_sharpness(x, consts, lam):
    """Prop. 22: top Hessian eigenvalue, closed form."""
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


@njit(inline="always")
def _matrix_grad(x, consts, lam, g, work):
    """``x = [U.ravel(), V.ravel()]``, U, V ``(d, dy)``; ``consts = [dy, Y.ravel()]``."""
    P = x.shape[0]
    dy = int(consts[0])
    d = P // (2 * dy)
    m = d * dy
    rr = 0.0
    for a in range(dy):  # R = U^T V - Y, stored in work[:dy*dy]
        for b in range(dy):
            s = 0.0
            for r in range(d):
                s += x[r * dy + a] * x[m + r * dy + b]
            rab = s - consts[1 + a * dy + b]
            work[a * dy + b] = rab
            rr += rab * rab
    nn = 0.0
    for j in range(P):
        nn += x[j] * x[j]
    loss = 0.5 * rr + 0.5 * lam * nn
    g2 = 0.0
    for r in range(d):
        for a in range(dy):
            gu = 0.0  # (V R^T)[r, a]
            gv = 0.0  # (U R)[r, a]
            for b in range(dy):
                gu += x[m + r * dy + b] * work[a * dy + b]
                gv += x[r * dy + b] * work[b * dy + a]
            gu += lam * x[r * dy + a]
            gv += lam * x[m + r * dy + a]
            g[r * dy + a] = gu
            g[m + r * dy + a] = gv
            g2 += gu * gu + gv * gv
    return loss, g2


@njit(inline="always")
def _deep_grad(x, consts, lam, g, work):
    """``x = [W1.ravel(), ..., Wk.ravel()]`` (``n x n`` each); ``consts = [k, n, Y.ravel()]``.

    ``work`` holds prefix products ``pre[j] = W1 ... Wj`` (j = 0..k), suffix products
    ``suf[j] = Wj ... Wk`` (j = 1..k+1), the residual and one temporary.
    """
    k = int(consts[0])
    n = int(consts[1])
    nn_ = n * n
    pre = work[: (k + 1) * nn_].reshape((k + 1, n, n))
    suf = work[(k + 1) * nn_: (2 * k + 3) * nn_].reshape((k + 2, n, n))
    R = work[(2 * k + 3) * nn_: (2 * k + 4) * nn_].reshape((n, n))
    T = work[(2 * k + 4) * nn_: (2 * k + 5) * nn_].reshape((n, n))
    for a in range(n):
        for b in range(n):
            pre[0, a, b] = 1.0 if a == b else 0.0
            suf[k + 1, a, b] = 1.0 if a == b else 0.0
    for j in range(1, k + 1):
        base = (j - 1) * nn_
        for a in range(n):
            for b in range(n):
                s = 0.0
                for c in range(n):
                    s += pre[j - 1, a, c] * x[base + c * n + b]
                pre[j, a, b] = s
    for j in range(k, 0, -1):
        base = (j - 1) * nn_
        for a in range(n):
            for b in range(n):
                s = 0.0
                for c in range(n):
                    s += x[base + a * n + c] * suf[j + 1, c, b]
                suf[j, a, b] = s
    rr = 0.0
    for a in range(n):
        for b in range(n):
            R[a, b] = pre[k, a, b] - consts[2 + a * n + b]
            rr += R[a, b] * R[a, b]
    nrm = 0.0
    for j in range(x.shape[0]):
        nrm += x[j] * x[j]
    loss = 0.5 * rr + 0.5 * lam * nrm
    g2 = 0.0
    for j in range(1, k + 1):  # grad_j = pre[j-1]^T R suf[j+1]^T
        for a in range(n):
            for b in range(n):
                s = 0.0
                for c in range(n):
                    s += R[a, c] * suf[j + 1, b, c]
                T[a, b] = s
        for a in range(n):
            for b in range(n):
                s = 0.0
                for c in range(n):
                    s += pre[j - 1, c, a] * T[c, b]
                idx = (j - 1) * nn_ + a * n + b
                s += lam * x[idx]
                g[idx] = s
                g2 += s * s
    return loss, g2


@njit(inline="always")
def _grad(kind, x, consts, lam, g, work):
    if kind == SCALAR:
        return _scalar_grad(x, consts, lam, g, work)
    if kind == MATRIX:
        return _matrix_grad(x, consts, lam, g, work)
    return _deep_grad(x, consts, lam, g, work)


def work_size(kind, consts, P):
    if kind == DEEP:
        k, n = int(consts[0]), int(consts[1])
        return (2 * k + 5) * n * n
    if kind == MATRIX:
        return int(consts[0]) ** 2
    return 1


@njit
def _power_sharpness(kind, x, consts, lam, work):
    """Top Hessian eigenvalue near a minimizer (where the Hessian is positive semi-definite):
    power iteration on central-difference Hessian-vector products of the analytic gradient."""
    P = x.shape[0]
    v = np.empty(P)
    hv = np.empty(P)
    gp = np.empty(P)
    gm = np.empty(P)
    xp = np.empty(P)
    scale = 1.0
    for j in range(P):
        scale = max(scale, abs(x[j]))
        v[j] = 1.0 + 0.1 * j
    h = 1e-5 * scale
    nv = 0.0
    for j in range(P):
        nv += v[j] * v[j]
    nv = np.sqrt(nv)
    for j in range(P):
        v[j] /= nv
    lam_top = 0.0
    for it in range(300):
        for j in range(P):
            xp[j] = x[j] + h * v[j]
        _grad(kind, xp, consts, lam, gp, work)
        for j in range(P):
            xp[j] = x[j] - h * v[j]
        _grad(kind, xp, consts, lam, gm, work)
        rq = 0.0
        nh = 0.0
        for j in range(P):
            hv[j] = (gp[j] - gm[j]) / (2.0 * h)
            rq += v[j] * hv[j]
            nh += hv[j] * hv[j]
        nh = np.sqrt(nh)
        if nh == 0.0:
            return rq
        for j in range(P):
            v[j] = hv[j] / nh
        if it > 20 and abs(rq - lam_top) <= 1e-12 * max(1.0, abs(rq)):
            return rq
        lam_top = rq
    return lam_top


@njit(**_OPTS)
def gd_kernel(kind, X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32, wsize,
              Xout, status, iters, loss_out):
    """GD / heavy ball for problem ``kind`` (SCALAR, MATRIX, DEEP); see the module docstring."""
    n, P = X0.shape
    stable_below = (2.0 + 2.0 * beta) / eta
    nblk = min(n, _NBLK)
    for blk in prange(nblk):
      for i in range(blk, n, nblk):  # noqa: E111 - interleaved points balance the threads
        x = np.empty(P, dtype=np.float64)
        xp = np.empty(P, dtype=np.float64)
        g = np.empty(P, dtype=np.float64)
        work = np.empty(wsize, dtype=np.float64)
        for j in range(P):
            x[j] = X0[i, j]
            xp[j] = x[j]
        st = UNDECIDED
        t = 0
        loss = 0.0
        while True:
            loss, g2 = _grad(kind, x, consts, lam, g, work)
            if not np.isfinite(loss) or loss > div:
                st = DIVERGED
                break
            s2 = 0.0
            for j in range(P):
                s2 += (x[j] - xp[j]) * (x[j] - xp[j])
            if loss - lmin <= tol and (beta == 0.0 or s2 <= tol):
                # a minimizer is reached only if it is linearly stable (or exactly fixed)
                if g2 == 0.0:
                    st = CONVERGED
                    break
                if kind == SCALAR:
                    sh = _scalar_sharpness(x, consts, lam)
                else:
                    sh = _power_sharpness(kind, x, consts, lam, work)
                if sh < stable_below:
                    st = CONVERGED
                    break
            elif g2 <= gtol * gtol:
                st = SADDLE
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
def _q_verdict(z, w, y, lam, eta, lmin, tol, div, gtol, saddle_is_min):
    loss = 0.5 * z * z + 0.5 * lam * w
    if not np.isfinite(loss) or loss > div:
        return DIVERGED, loss
    if loss - lmin <= tol:
        uv = z + y
        sh = 0.5 * (w + np.sqrt(max(w * w + 4.0 * z * z + 8.0 * z * uv, 0.0)))
        if abs(z) > sh:
            sh = abs(z)
        if sh + lam < 2.0 / eta or (lam == 0.0 and z == 0.0):  # stable, or fixed
            return CONVERGED, loss
    if (not saddle_is_min) and abs(z + y) + w <= gtol:
        return SADDLE, loss
    return -1, loss


@njit(inline="always")
def _q_take(X0, y, lam, start, stride, Xout, status, iters, loss_out):
    """Next point of this block inside the state space (points outside are recorded as OUTSIDE
    on the way); returns its index or -1."""
    n = X0.shape[0]
    i = start
    while i < n:
        z = np.float64(X0[i, 0])
        w = np.float64(X0[i, 1])
        if w < 2.0 * abs(z + y) or not (np.isfinite(z) and np.isfinite(w)):
            status[i] = OUTSIDE
            iters[i] = 0
            loss_out[i] = 0.5 * z * z + 0.5 * lam * w
            Xout[i, 0] = z
            Xout[i, 1] = w
            i += stride
            continue
        return i
    return -1


@njit(nogil=True, cache=True)
def _q_load(lane, nxt, nblk, X0, y, lam, zs, ws, ts, idx, Xout, status, iters, loss_out):
    """Put the block's next point inside the state space into ``lane`` (``idx[lane] = -1`` when
    the block is exhausted); returns where the search goes on."""
    j = _q_take(X0, y, lam, nxt, nblk, Xout, status, iters, loss_out)
    idx[lane] = j
    if j < 0:
        return np.int64(X0.shape[0])
    zs[lane] = X0[j, 0]
    ws[lane] = X0[j, 1]
    ts[lane] = 0
    return j + nblk


@njit(**_OPTS)
def quotient_kernel(X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
                    Xout, status, iters, loss_out):
    """Planar map on ``(z, w)`` (Prop. 3); ``consts = [y]``.  ``beta`` must be 0.

    The loss is ``z^2/2 + lam w/2``; saddle means ``|z + y| + w <= gtol`` (the image of the
    origin) when the origin is not a minimizer; points with ``w < 2|z + y|`` are OUTSIDE.
    Each thread advances ``_LANES`` independent points in turn (refilling a lane when its point
    stops), so that the processor overlaps their dependency chains; every point's arithmetic is
    the same as iterating it alone.
    """
    n = X0.shape[0]
    nchunk = (n + _CHUNK - 1) // _CHUNK
    mult = _spread(nchunk)
    for k in prange(nchunk):
        lo = ((k * mult) % nchunk) * _CHUNK
        hi = min(n, lo + _CHUNK)
        _quotient_block(np.int64(0), np.int64(1), X0[lo:hi], consts[0], eta, lam, max_iter, tol,
                        lmin, div, gtol, f32, Xout[lo:hi], status[lo:hi], iters[lo:hi],
                        loss_out[lo:hi])


@njit(cache=True)
def _spread(n):
    """A multiplier coprime with ``n`` near ``0.618 n``: ``k -> k * m mod n`` is a permutation
    that deals chunks spread over the whole grid to each thread's contiguous range of ``k``."""
    if n <= 2:
        return 1
    m = max(1, int(0.6180339887 * n))
    while True:
        a, b = m, n
        while b:
            a, b = b, a % b
        if a == 1:
            return m
        m += 1


@njit(nogil=True, cache=True)
def _quotient_block(blk, nblk, X0, y, eta, lam, max_iter, tol, lmin, div, gtol, f32,
                    Xout, status, iters, loss_out):
    """Points ``blk, blk + nblk, ...`` of the quotient kernel, ``_LANES`` at a time."""
    a = 1.0 - eta * lam
    saddle_is_min = lam >= abs(y)
    zs = np.empty(_LANES)
    ws = np.empty(_LANES)
    ts = np.zeros(_LANES, dtype=np.int64)
    idx = np.full(_LANES, -1, dtype=np.int64)
    nxt = np.int64(blk)
    active = 0
    for lane in range(_LANES):
        nxt = _q_load(lane, nxt, nblk, X0, y, lam, zs, ws, ts, idx, Xout, status, iters,
                      loss_out)
        if idx[lane] >= 0:
            active += 1
    while active > 0:
        for lane in range(_LANES):
            i = idx[lane]
            if i < 0:
                continue
            z = zs[lane]
            w = ws[lane]
            t = ts[lane]
            v, loss = _q_verdict(z, w, y, lam, eta, lmin, tol, div, gtol, saddle_is_min)
            if v >= 0 or t >= max_iter:
                status[i] = v if v >= 0 else UNDECIDED
                iters[i] = t
                loss_out[i] = loss
                Xout[i, 0] = z
                Xout[i, 1] = w
                nxt = _q_load(lane, nxt, nblk, X0, y, lam, zs, ws, ts, idx, Xout, status,
                              iters, loss_out)
                if idx[lane] < 0:
                    active -= 1
                continue
            c = a * a + eta * eta * z * z
            zn = c * (z + y) - eta * a * z * w - y
            wn = c * w - 4.0 * eta * a * z * (z + y)
            if f32:
                zn = np.float64(np.float32(zn))
                wn = np.float64(np.float32(wn))
            zs[lane] = zn
            ws[lane] = wn
            ts[lane] = t + 1


def _gd_entry(kind):
    """Registry entry for problem ``kind`` of :func:`gd_kernel` (sizes its scratch space)."""

    def run(X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
            Xout, status, iters, loss_out):
        gd_kernel(kind, X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
                  work_size(kind, consts, X0.shape[1]), Xout, status, iters, loss_out)

    return run


#: problem name -> kernel, all with the signature of the module docstring
KERNELS = {"scalar": _gd_entry(SCALAR), "matrix": _gd_entry(MATRIX), "deep": _gd_entry(DEEP),
           "quotient": quotient_kernel}


@njit(parallel=True, cache=True)
def slice_points_kernel(base, d1, ys, out):
    """``out[j * nx + i] = base[i] + ys[j] * d1`` (row-major rows of a slice; ``base[i]`` is
    ``center + xs[i] * d0``): the same arithmetic, in the same order, as the NumPy expression of
    ``Slice2D.points``, so both give identical bits."""
    nx, P = base.shape
    for j in prange(ys.shape[0]):
        y = ys[j]
        for i in range(nx):
            r = j * nx + i
            for p in range(P):
                out[r, p] = base[i, p] + y * d1[p]
