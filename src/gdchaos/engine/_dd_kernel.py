"""Double-double kernels of the quotient map (imported lazily by :mod:`._dd`, which has the
public function and the documentation).  Dekker / Knuth error-free transformations; Numba
compiles without fastmath, so no operation is reassociated or fused."""

import numpy as np
from numba import njit, prange

_SPLIT = 134217729.0  # 2^27 + 1 (Dekker's splitter)

@njit(inline="always")
def two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)

@njit(inline="always")
def quick_two_sum(a, b):
    s = a + b
    return s, b - (s - a)

@njit(inline="always")
def split(a):
    t = _SPLIT * a
    hi = t - (t - a)
    return hi, a - hi

@njit(inline="always")
def two_prod(a, b):
    p = a * b
    ah, al = split(a)
    bh, bl = split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl

@njit(inline="always")
def add(ah, al, bh, bl):
    s, e = two_sum(ah, bh)
    t, f = two_sum(al, bl)
    e += t
    s, e = quick_two_sum(s, e)
    e += f
    return quick_two_sum(s, e)

@njit(inline="always")
def mul(ah, al, bh, bl):
    p, e = two_prod(ah, bh)
    e += ah * bl + al * bh
    return quick_two_sum(p, e)

@njit(inline="always")
def verdict(zh, zl, wh, wl, y, lam, eta, lmin, tol, div, gtol, saddle_is_min):
    # loss = z^2/2 + lam w/2 in double-double; thresholds on its leading part
    q0, q1 = mul(zh, zl, zh, zl)
    l0, l1 = mul(wh, wl, lam, 0.0)
    s0, s1 = add(q0, q1, l0, l1)
    loss = 0.5 * s0 + 0.5 * s1
    if not np.isfinite(loss) or loss > div:
        return 2, loss
    d0, d1 = add(0.5 * s0, 0.5 * s1, -lmin, 0.0)
    if d0 <= tol:
        z = zh
        w = wh
        sh = 0.5 * (w + np.sqrt(max(w * w + 4.0 * z * z + 8.0 * z * (z + y), 0.0)))
        if abs(z) > sh:
            sh = abs(z)
        if sh + lam < 2.0 / eta or (lam == 0.0 and zh == 0.0 and zl == 0.0):
            return 1, loss
    if (not saddle_is_min) and abs(zh + y) + wh <= gtol:
        return 3, loss
    return -1, loss

@njit(parallel=True, cache=True)
def grid_kernel(czh, czl, cwh, cwl, xs, ys, y, eta, lam, max_iter, tol, lmin, div, gtol,
                status, iters, loss_out, zf, wf):
    ny = ys.shape[0]
    nx = xs.shape[0]
    a0, a1 = add(1.0, 0.0, -eta * lam, 0.0)  # eta * lam rounded once, as in float64
    ea0, ea1 = mul(eta, 0.0, a0, a1)
    aa0, aa1 = mul(a0, a1, a0, a1)
    e2 = eta * eta
    saddle_is_min = lam >= abs(y)
    for j in prange(ny):
        for i in range(nx):
            zh, zl = add(czh, czl, xs[i], 0.0)
            wh, wl = add(cwh, cwl, ys[j], 0.0)
            # outside the state space: w < 2 |z + y|
            p0, p1 = add(zh, zl, y, 0.0)
            if p0 < 0.0:
                p0, p1 = -p0, -p1
            o0, o1 = add(wh, wl, -2.0 * p0, -2.0 * p1)
            if o0 < 0.0 or not (np.isfinite(zh) and np.isfinite(wh)):
                status[j, i] = 4
                iters[j, i] = 0
                loss_out[j, i] = 0.5 * zh * zh + 0.5 * lam * wh
                zf[j, i] = zh
                wf[j, i] = wh
                continue
            t = 0
            while True:
                v, loss = verdict(zh, zl, wh, wl, y, lam, eta, lmin, tol, div, gtol,
                                  saddle_is_min)
                if v >= 0 or t >= max_iter:
                    status[j, i] = v if v >= 0 else 0
                    iters[j, i] = t
                    loss_out[j, i] = loss
                    zf[j, i] = zh
                    wf[j, i] = wh
                    break
                # c = a^2 + eta^2 z^2
                q0, q1 = mul(zh, zl, zh, zl)
                q0, q1 = mul(q0, q1, e2, 0.0)
                c0, c1 = add(aa0, aa1, q0, q1)
                # zy = z + y
                s0, s1 = add(zh, zl, y, 0.0)
                # ez = eta a z
                g0, g1 = mul(ea0, ea1, zh, zl)
                # zn = c (z + y) - eta a z w - y
                m0, m1 = mul(c0, c1, s0, s1)
                k0, k1 = mul(g0, g1, wh, wl)
                n0, n1 = add(m0, m1, -k0, -k1)
                zn0, zn1 = add(n0, n1, -y, 0.0)
                # wn = c w - 4 eta a z (z + y)
                m0, m1 = mul(c0, c1, wh, wl)
                k0, k1 = mul(g0, g1, s0, s1)
                wn0, wn1 = add(m0, m1, -4.0 * k0, -4.0 * k1)
                zh, zl, wh, wl = zn0, zn1, wn0, wn1
                t += 1

