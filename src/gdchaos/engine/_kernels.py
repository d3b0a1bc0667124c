"""The engine's own Numba kernel (slice points).  GD kernels are generated from each problem's
definition (:mod:`gdchaos.engine._kernelgen`); map problems bring their own
(``Problem.numba_kernel``)."""

from __future__ import annotations

from numba import njit, prange


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
