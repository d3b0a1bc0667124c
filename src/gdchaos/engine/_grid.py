"""Initializations: 2-D slices of parameter space, boxes, explicit arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import GdchaosInputError, check_seed


def random_orthonormal_directions(P, seed, k=2):
    """``k`` orthonormal directions of ``R^P`` from Gaussian vectors (QR, signs fixed so that the
    result is a deterministic function of the seed)."""
    if P < k:
        raise GdchaosInputError(f"a {k}-D slice needs at least {k} parameters, the problem has {P}")
    rng = np.random.default_rng(check_seed("slice seed", seed))
    G = rng.standard_normal((P, k))
    Qm, R = np.linalg.qr(G)
    Qm = Qm * np.sign(np.diag(R))
    return Qm.T.copy()


@dataclass(frozen=True, eq=False)
class Slice2D:
    """The grid ``center + a e1 + b e2`` for ``a`` in ``xs`` (columns) and ``b`` in ``ys`` (rows).

    ``directions`` is ``(2, P)`` with orthonormal rows.  ``points(rows)`` returns the flat
    initializations of a block of rows, row-major (row ``j`` is ``b = ys[j]``).
    """

    center: np.ndarray
    directions: np.ndarray
    xrange: tuple
    yrange: tuple
    nx: int
    ny: int
    seed: int | None = None

    def __post_init__(self):
        c = np.asarray(self.center, dtype=float)
        D = np.asarray(self.directions, dtype=float)
        if D.ndim != 2 or D.shape[0] != 2 or D.shape[1] != c.shape[-1]:
            raise GdchaosInputError(
                f"slice directions must have shape (2, {c.shape[-1]}), got {D.shape}")
        if not (np.all(np.isfinite(c)) and np.all(np.isfinite(D))):
            raise GdchaosInputError("slice centre and directions must be finite")
        if not np.allclose(D @ D.T, np.eye(2), atol=1e-10):
            raise GdchaosInputError("slice directions must be orthonormal")
        for name, r in (("x range", self.xrange), ("y range", self.yrange)):
            if len(r) != 2 or not np.all(np.isfinite(r)) or not r[0] < r[1]:
                raise GdchaosInputError(f"{name} must be two finite numbers min < max, got {r}")
        if int(self.nx) < 1 or int(self.ny) < 1:
            raise GdchaosInputError("grid resolution must be >= 1")
        # every point c + a e1 + b e2 and the spacing must be finite (huge ranges overflow)
        with np.errstate(over="ignore", invalid="ignore"):
            span = [float(r[1]) - float(r[0]) for r in (self.xrange, self.yrange)]
            corner = (np.max(np.abs(c)) + max(map(abs, self.xrange)) * np.max(np.abs(D[0]))
                      + max(map(abs, self.yrange)) * np.max(np.abs(D[1])))
        if not (np.all(np.isfinite(span)) and np.isfinite(corner)):
            raise GdchaosInputError(
                f"slice ranges {tuple(self.xrange)} x {tuple(self.yrange)} overflow float64 "
                "(the spacing or the points would not be finite)")
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "directions", D)

    @classmethod
    def random(cls, n_params, xrange, yrange, nx, ny=None, seed=0, center=None):
        """Random slice through ``center`` (default the origin): two Gaussian directions,
        orthonormalized."""
        c = np.zeros(n_params) if center is None else np.asarray(center, dtype=float)
        return cls(c, random_orthonormal_directions(n_params, seed), tuple(xrange), tuple(yrange),
                   int(nx), int(ny if ny is not None else nx), seed)

    @classmethod
    def axes(cls, n_params, xrange, yrange, nx, ny=None, i=0, j=1, center=None):
        """The coordinate plane of parameters ``i`` and ``j``."""
        D = np.zeros((2, n_params))
        D[0, i] = 1.0
        D[1, j] = 1.0
        c = np.zeros(n_params) if center is None else np.asarray(center, dtype=float)
        return cls(c, D, tuple(xrange), tuple(yrange), int(nx), int(ny if ny is not None else nx))

    @property
    def xs(self):
        return np.linspace(self.xrange[0], self.xrange[1], self.nx)

    @property
    def ys(self):
        return np.linspace(self.yrange[0], self.yrange[1], self.ny)

    @property
    def n_params(self):
        return self.center.shape[-1]

    def points(self, rows=None):
        """Flat initializations ``center + xs[i] e1 + ys[j] e2`` of the rows ``rows`` (a slice or
        index array, default all), row-major: shape ``(len(rows) * nx, P)``."""
        from ._kernels import slice_points_kernel

        ys = np.ascontiguousarray(self.ys if rows is None else self.ys[rows])
        out = np.empty((ys.shape[0] * self.nx, self.n_params))
        slice_points_kernel(self._row_base(), np.ascontiguousarray(self.directions[1]), ys, out)
        return out

    def points_at(self, rows, cols):
        """The initializations of the pixels ``(rows[k], cols[k])`` (equal-length index
        arrays), ``(len(rows), P)``: the bits :meth:`points` gives there (the same arithmetic)."""
        rows, cols = np.asarray(rows), np.asarray(cols)
        return self._row_base()[cols] + self.ys[rows][:, None] * self.directions[1]

    def _row_base(self):
        """``center + xs[i] e1`` for every column, ``(nx, P)`` (computed once per slice)."""
        base = self.__dict__.get("_base")
        if base is None:
            base = self.center + self.xs[:, None] * self.directions[0]
            object.__setattr__(self, "_base", base)
        return base

    def spec(self):
        return {"center": self.center.tolist(), "directions": self.directions.tolist(),
                "xrange": list(map(float, self.xrange)), "yrange": list(map(float, self.yrange)),
                "nx": int(self.nx), "ny": int(self.ny), "seed": self.seed}


def sample_box(lo, hi, n, seed=0):
    """``n`` points uniform in the box ``[lo, hi]`` (arrays of length P)."""
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    if lo.shape != hi.shape or np.any(~(lo < hi)):
        raise GdchaosInputError("box bounds must satisfy lo < hi elementwise")
    rng = np.random.default_rng(seed)
    return lo + (hi - lo) * rng.random((int(n), lo.shape[0]))
