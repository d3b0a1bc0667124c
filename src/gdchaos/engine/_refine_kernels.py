"""Numba kernels of boundary refinement (:mod:`._refine`): arrays and scalars in, arrays out."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def level_sources(cells, cell_r, near_r, cell_c, near_c, done, src):
    """For every pixel not computed (``done``) that lies in a cell to fill at this level
    (``cells[cell_r[r], cell_c[c]]``), its source: the flat index of the cell's nearest corner
    (``near_r[r] * nx + near_c[c]``).  A finer level's call replaces a coarser one's."""
    R, nx = done.shape
    for r in prange(R):
        cr = cell_r[r]
        base = near_r[r] * nx
        for c in range(nx):
            if not done[r, c] and cells[cr, cell_c[c]]:
                src[r, c] = base + near_c[c]


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
