"""Low-level box counting on integer grids: unique boxes, Morton-key ladders of nested sizes,
and the bounding-box edge weights of :func:`gdchaos.analysis.boxcount.box_counts`."""

from __future__ import annotations

import numpy as np


def _unique_rows(idx):
    """Unique rows of a non-negative integer array ``(n, D)`` (via int64 keys when they fit)."""
    idx = np.asarray(idx, dtype=np.int64)
    if idx.shape[0] == 0:
        return idx
    ext = idx.max(axis=0) + 1
    if np.prod(ext.astype(float)) < 2.0 ** 62:
        shape = tuple(int(e) for e in ext)
        uk = np.unique(np.ravel_multi_index(tuple(idx.T), shape))
        return np.stack(np.unravel_index(uk, shape), axis=1)
    return np.unique(idx, axis=0)


def _count_unique(idx):
    return int(_unique_rows(idx).shape[0])


def _spread_bits(v, D):
    """Spread the low bits of ``v`` (uint64) so that consecutive bits are ``D`` apart."""
    v = v.astype(np.uint64)
    if D == 2:
        v &= np.uint64(0x00000000FFFFFFFF)
        for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF),
                            (4, 0x0F0F0F0F0F0F0F0F), (2, 0x3333333333333333),
                            (1, 0x5555555555555555)):
            v = (v | (v << np.uint64(shift))) & np.uint64(mask)
        return v
    out = np.zeros_like(v)
    for b in range(64 // D):
        out |= ((v >> np.uint64(b)) & np.uint64(1)) << np.uint64(b * D)
    return out


def _ladder_counts(idx, powers):
    """Occupied boxes of sizes ``e0 * 2^p`` (``p`` in ``powers``, increasing) from the box
    indices ``idx`` at size ``e0``: one sort of Morton (Z-order) keys, then coarsening a level is
    a right shift that keeps the keys sorted, so each further count is a linear pass."""
    n, D = idx.shape
    bits = int(np.ceil(np.log2(max(int(idx.max()) + 1, 2))))
    if D * bits > 63:
        u = _unique_rows(idx)
        out, prev = [], 0
        for p in powers:
            if p != prev:
                u = _unique_rows(u >> (p - prev))
                prev = p
            out.append(u.shape[0])
        return out
    key = np.zeros(n, dtype=np.uint64)
    for j in range(D):
        key |= _spread_bits(idx[:, j], D) << np.uint64(j)
    key.sort()
    key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    out, prev = [], 0
    for p in powers:
        if p != prev:
            key = key >> np.uint64(D * (p - prev))
            key = key[np.concatenate(([True], key[1:] != key[:-1]))]
            prev = p
        out.append(key.size)
    return out


def _edge_deficit(P, order, org, e, lo, hi):
    """``sum (1 - w)`` over the occupied boxes of side ``e`` (grid anchored at ``org``) that
    stick out of the window ``[lo, hi]``, ``w`` the fraction of a box's volume inside it.  Only
    points in the first or last box along some axis (a slab, found by bisection in the per-axis
    sorted orders ``order``) can be in such a box; a box on several slabs is taken on the
    first.  Axes with an infinite window bound are not clipped."""
    D = P.shape[1]
    axes = [j for j in range(D) if np.isfinite(lo[j]) and np.isfinite(hi[j])]
    lo = np.where(np.isfinite(lo), lo, org)
    hi = np.where(np.isfinite(hi), hi, org)
    first = np.floor((lo - org) / e).astype(np.int64)
    last = np.floor((hi - org) / e).astype(np.int64)
    wf = np.clip((org + (first + 1) * e - lo) / e, 0.0, 1.0)
    wl = np.clip((hi - (org + last * e)) / e, 0.0, 1.0)
    wf = np.where(first == last, (hi - lo) / e, wf)
    free = np.ones(D, dtype=bool)
    free[axes] = False
    wf[free], wl[free] = 1.0, 1.0
    total = 0.0
    for j in axes:
        col = P[order[j], j]
        for side in (0, 1):
            if side == 1 and last[j] == first[j]:
                continue
            if side == 0:
                sl = order[j][:np.searchsorted(col, org[j] + (first[j] + 1) * e, side="left")]
            else:
                sl = order[j][np.searchsorted(col, org[j] + last[j] * e, side="left"):]
            if sl.size == 0:
                continue
            idx = np.floor((P[sl] - org) / e).astype(np.int64)
            ok = np.ones(sl.size, dtype=bool)
            for k in axes[:axes.index(j)]:
                ok &= (idx[:, k] != first[k]) & (idx[:, k] != last[k])
            idx = idx[ok]
            if idx.shape[0] == 0:
                continue
            base = idx.min(axis=0)
            u = _unique_rows(idx - base) + base
            w = np.full(u.shape[0], wf[j] if side == 0 else wl[j])
            for k in axes:
                if k != j:
                    w *= np.where(u[:, k] == first[k], wf[k],
                                  np.where(u[:, k] == last[k], wl[k], 1.0))
            total += float(np.sum(1.0 - w))
    return total


def _filled_edges(P, e, fill=0.95, same_rule=False):
    """Window ``(lo, hi)`` for :func:`box_counts`: the bounding box along the axes where the set
    covers both faces of its bounding box (at least ``fill`` of the boxes of side ``e`` along
    each face occupied: the edges of a set with interior), unbounded along the others.

    ``same_rule``: clip every axis as soon as one axis has filled faces.  Filled faces of axis
    ``j`` are segments that span the set along the other axes, so the set is cut by the faces of
    those axes too (a Cantor set times an interval whose outermost columns are full lines: its
    top and bottom faces are Cantor sets, yet every column ends there and adds a box at every
    scale unless clipped)."""
    plo, phi = P.min(axis=0), P.max(axis=0)
    D = P.shape[1]
    if D < 2:
        return np.full(D, -np.inf), np.full(D, np.inf)
    idx = np.minimum(np.floor((P - plo) / e).astype(np.int64),
                     np.maximum(np.ceil((phi - plo) / e).astype(np.int64) - 1, 0))
    n_side = idx.max(axis=0) + 1
    lo, hi = np.full(D, -np.inf), np.full(D, np.inf)
    for j in range(D):
        others = [k for k in range(D) if k != j]
        want = float(np.prod(n_side[others]))
        ok = n_side[j] >= 4
        for face in (0, n_side[j] - 1):
            ok = ok and _count_unique(idx[idx[:, j] == face][:, others]) >= fill * want
        if ok:
            lo[j], hi[j] = plo[j], phi[j]
    if same_rule and np.any(np.isfinite(lo)):
        lo, hi = plo.astype(float), phi.astype(float)
    return lo, hi
