"""Numba kernels of the quotient map (the map itself, and its per-point records), beside
:mod:`gdchaos.problems.quotient`, which loads them on first use (importing this module compiles
nothing; numba is imported only here).

The kernel has the engine's kernel signature (see :class:`gdchaos.problems.Problem`,
``numba_kernel``) and takes only arrays and scalars.  Each thread deals chunks of ``_CHUNK``
contiguous points in an order spread over the grid (``k -> k * m mod n_chunks``), and advances
``_LANES`` independent points in turn, so that the processor overlaps their dependency chains;
every point's arithmetic is the same as iterating it alone.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..status import CONVERGED, DIVERGED, OUTSIDE, SADDLE, UNDECIDED

_OPTS = dict(parallel=True, cache=True, nogil=True)
_LANES = 8
_CHUNK = 1024


@njit(inline="always")
def quotient_sharpness(z, w, y):
    """Top Hessian eigenvalue of the fibre's loss over ``(z, w)`` without weight decay (Prop. 22):
    ``max((w + sqrt(w^2 + 4 z^2 + 8 z (z + y)))/2, |z|)``; the ``|z|`` branch exists for d > 1
    and never exceeds the first where z = 0.  The stopping rule and the recorded sharpness both
    use this one formula."""
    uv = z + y
    sh = 0.5 * (w + np.sqrt(max(w * w + 4.0 * z * z + 8.0 * z * uv, 0.0)))
    if abs(z) > sh:
        sh = abs(z)
    return sh


@njit(inline="always")
def _q_verdict(z, w, y, lam, eta, lmin, tol, div, gtol, saddle_is_min):
    loss = 0.5 * z * z + 0.5 * lam * w
    if not np.isfinite(loss) or loss > div:
        return DIVERGED, loss
    if loss - lmin <= tol:
        sh = quotient_sharpness(z, w, y)
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


@njit(**_OPTS)
def quotient_records_kernel(Xf, y, lam, want, sq, imb, sh):
    """Quotient map ``x = [z, w]``: ``w``, ``w^2 - 4 (z + y)^2`` and the top Hessian eigenvalue of
    the fibre's loss (Prop. 22; :func:`quotient_sharpness`)."""
    for i in prange(Xf.shape[0]):
        z = Xf[i, 0]
        w = Xf[i, 1]
        uv = z + y
        if want[0]:
            sq[i] = w
        if want[1]:
            imb[i] = w * w - 4.0 * uv * uv
        if want[2]:
            sh[i] = quotient_sharpness(z, w, y) + lam


def quotient_records(problem, Xf, names):
    """The records ``names`` of a quotient-map run by :func:`quotient_records_kernel`."""
    n = Xf.shape[0]
    want = np.array([k in names for k in ("sq_norm", "imbalance", "sharpness", "minimizer")],
                    dtype=np.int8)
    out = {k: np.empty(n if k in names else 0) for k in ("sq_norm", "imbalance", "sharpness")}
    if n:
        quotient_records_kernel(np.ascontiguousarray(Xf, dtype=np.float64), float(problem.y),
                                float(problem.lam), want, out["sq_norm"], out["imbalance"],
                                out["sharpness"])
    out["minimizer"] = np.zeros(n if "minimizer" in names else 0, dtype=np.int8)
    return {k: out[k] for k in names}
