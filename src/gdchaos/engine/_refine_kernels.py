"""Numba kernels of boundary refinement (:mod:`._refine`): arrays and scalars in, arrays out."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def level_sources(cells, br, bc, done, src):
    """For every pixel not computed (``done``) of a cell to fill at this level (``cells[i, j]``:
    rows ``br[i]`` to ``br[i + 1]``, columns ``bc[j]`` to ``bc[j + 1]``, the far edge only in
    the last cell), its source: the flat index of the cell's nearest corner.  A finer level's
    call replaces a coarser one's.  Each pixel belongs to one cell, so the result is the same
    for any thread count."""
    R, nx = done.shape
    n_r, n_c = cells.shape
    for i in prange(n_r):
        r0, r1 = br[i], br[i + 1]
        r_end = r1 + 1 if i == n_r - 1 else r1
        for j in range(n_c):
            if not cells[i, j]:
                continue
            c0, c1 = bc[j], bc[j + 1]
            c_end = c1 + 1 if j == n_c - 1 else c1
            for r in range(r0, r_end):
                near_r = r0 if r - r0 <= r1 - r else r1
                for c in range(c0, c_end):
                    if not done[r, c]:
                        near_c = c0 if c - c0 <= c1 - c else c1
                        src[r, c] = near_r * nx + near_c


@njit(cache=True)
def resolve(done, src):
    """Drop the sources of computed pixels; the number of pixels neither computed nor given a
    source (none, when the refinement is sound)."""
    R, nx = done.shape
    unset = 0
    for r in range(R):
        for c in range(nx):
            if done[r, c]:
                src[r, c] = -1
            elif src[r, c] < 0:
                unset += 1
    return unset


@njit(parallel=True, cache=True)
def fill_from(src, values):
    """``values[i] = values[src[i]]`` for every flat pixel ``i`` with a source (``src >= 0``);
    ``values`` is ``(pixels, k)``, a source is always a computed pixel."""
    n, k = values.shape
    for i in prange(n):
        s = src[i]
        if s >= 0:
            for j in range(k):
                values[i, j] = values[s, j]


@njit(cache=True)
def ranked(done, ranks):
    """The flat indices of the filled pixels (not ``done``) of ranks ``ranks`` (sorted) in
    row-major order."""
    out = np.empty(ranks.size, dtype=np.int64)
    flat = done.reshape(-1)
    k, seen = 0, 0
    for i in range(flat.size):
        if k == ranks.size:
            break
        if not flat[i]:
            while k < ranks.size and ranks[k] == seen:
                out[k] = i
                k += 1
            seen += 1
    return out


@njit(cache=True)
def cell_marks(lab, done, br, bc, known, marked):
    """For each cell of the lattice ``br x bc``: whether its four corners are computed
    (``known``) and, if so, whether their outcomes differ (``marked``)."""
    for i in range(br.size - 1):
        r0, r1 = br[i], br[i + 1]
        for j in range(bc.size - 1):
            c0, c1 = bc[j], bc[j + 1]
            k = done[r0, c0] and done[r0, c1] and done[r1, c0] and done[r1, c1]
            known[i, j] = k
            if k:
                a = lab[r0, c0]
                marked[i, j] = not (a == lab[r0, c1] and a == lab[r1, c0] and a == lab[r1, c1])
            else:
                marked[i, j] = False


@njit(cache=True)
def next_points(sub, br, bc, step, done, seen, out_r, out_c):
    """The lattice points of the next level (spacing ``step``) in the closed boxes of the cells
    to subdivide (``sub``) that are not computed yet, each once (``seen``, left set for the
    caller to clear); their rows and columns go to ``out_r``, ``out_c``; returns how many.
    A cell's box ``[br[i], br[i+1]]`` holds at most one next-level row inside it,
    ``br[i] + step``."""
    n = 0
    for i in range(sub.shape[0]):
        r0, r1 = br[i], br[i + 1]
        for j in range(sub.shape[1]):
            if not sub[i, j]:
                continue
            c0, c1 = bc[j], bc[j + 1]
            for a in range(3):
                r = r0 if a == 0 else (r0 + step if a == 1 else r1)
                if a == 1 and r >= r1:
                    continue
                for b in range(3):
                    c = c0 if b == 0 else (c0 + step if b == 1 else c1)
                    if b == 1 and c >= c1:
                        continue
                    if not done[r, c] and not seen[r, c]:
                        seen[r, c] = True
                        out_r[n] = r
                        out_c[n] = c
                        n += 1
    return n
