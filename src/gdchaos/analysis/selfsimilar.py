"""Random self-similar sets with exactly known dimension, to calibrate box counting.

:func:`random_ifs` draws an iterated function system of ``m`` similarities of the plane: the
unit square is cut into ``k x k`` cells, ``m`` of them are chosen, and each chosen cell receives
one map ``x -> t_i + r_i Q_i (x - c) + r_i c`` (``c`` the square's centre, ``Q_i`` one of the 8
symmetries of the square: rotations by multiples of 90 degrees and reflections) whose image of
the unit square lies inside that cell.  The images of the open unit square are disjoint, so the
open set condition holds and the attractor's Hausdorff and box-counting dimension is the
similarity dimension ``s``, the root of ``sum r_i^s = 1`` (Moran, Hutchinson 1981).

The ratios are ``c u_i / k`` with ``u_i`` uniform on ``[u_min, 1]`` and ``c`` set so that ``s``
hits a target drawn uniformly from ``[s_min, s_max]``; draws whose largest ratio would leave its
cell are redrawn.  Three kinds of samples of the attractor:

- :meth:`SelfSimilarSet.cover_points`: one attractor point per cylinder of diameter just below
  ``delta`` (deterministic, every part of the set resolved to ``delta``);
- :meth:`SelfSimilarSet.chaos_points`: ``n`` independent draws from the natural measure
  (probabilities ``r_i^s``), the chaos game without its transient;
- :meth:`SelfSimilarSet.mask`: an ``n x n`` boolean image of the set in the unit square, the
  pixels that hold a cylinder point at resolution a quarter pixel (a box-type, digital set like
  a basin boundary on a pixel grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ..errors import GdchaosInputError

__all__ = ["SelfSimilarSet", "coverage_study", "random_ifs", "similarity_dimension"]

_D4 = np.array([[[1, 0], [0, 1]], [[0, -1], [1, 0]], [[-1, 0], [0, -1]], [[0, 1], [-1, 0]],
                [[1, 0], [0, -1]], [[-1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1], [-1, 0]]],
               dtype=float)


def similarity_dimension(ratios):
    """The root ``s`` of ``sum r_i^s = 1`` (ratios in ``(0, 1)``, at least two maps)."""
    r = np.asarray(ratios, dtype=float)
    if r.size < 2 or np.any(~((r > 0) & (r < 1))):
        raise GdchaosInputError("similarity dimension needs >= 2 ratios in (0, 1)")
    return float(brentq(lambda s: np.sum(r ** s) - 1.0, 0.0, 64.0, xtol=1e-15, rtol=1e-15))


@dataclass(frozen=True)
class SelfSimilarSet:
    """An IFS ``f_i(x) = A_i x + b_i`` with ``A_i = r_i Q_i`` (similarities) and its dimension."""

    A: np.ndarray          # (m, 2, 2)
    b: np.ndarray          # (m, 2)
    ratios: np.ndarray     # (m,)
    dimension: float
    seed: int = -1
    k: int = 0

    @property
    def m(self):
        return int(self.ratios.size)

    def _anchor(self):
        """The fixed point of ``f_0`` (a point of the attractor)."""
        return np.linalg.solve(np.eye(2) - self.A[0], self.b[0])

    def cover_points(self, delta, max_points=20_000_000):
        """``f_w(p)`` for every word ``w`` whose cylinder ratio first drops below ``delta``
        (``p`` the fixed point of ``f_0``): the set sampled at spacing ``< delta sqrt 2``."""
        delta = float(delta)
        if not 0 < delta < 1:
            raise GdchaosInputError("delta must lie in (0, 1)")
        expected = delta ** -self.dimension
        if expected > max_points:
            raise GdchaosInputError(f"about {expected:.3g} points at delta={delta}; "
                                    f"more than max_points={max_points}")
        p = self._anchor()
        M = np.eye(2)[None]
        t = np.zeros((1, 2))
        rho = np.ones(1)
        done = []
        while rho.size:
            newM = np.einsum("nab,ibc->niac", M, self.A).reshape(-1, 2, 2)
            newt = (np.einsum("nab,ib->nia", M, self.b) + t[:, None, :]).reshape(-1, 2)
            newrho = (rho[:, None] * self.ratios[None, :]).ravel()
            fin = newrho < delta
            done.append(np.einsum("nab,b->na", newM[fin], p) + newt[fin])
            M, t, rho = newM[~fin], newt[~fin], newrho[~fin]
        return np.concatenate(done)

    def chaos_points(self, n, seed=0, depth=None):
        """``n`` independent points of the natural measure: ``f_{w_1} o ... o f_{w_L}(p)`` with
        i.i.d. letters of probabilities ``r_i^s`` and ``L`` deep enough that ``r_max^L < 1e-12``."""
        rng = np.random.default_rng(seed)
        L = int(np.ceil(np.log(1e-12) / np.log(self.ratios.max()))) if depth is None else depth
        prob = self.ratios ** self.dimension
        prob = prob / prob.sum()
        x = np.tile(self._anchor(), (int(n), 1))
        for _ in range(L):
            w = rng.choice(self.m, size=int(n), p=prob)
            x = np.einsum("nab,nb->na", self.A[w], x) + self.b[w]
        return x

    def mask(self, n):
        """``n x n`` image of the set in the unit square (indexed ``[row(y), col(x)]``): the
        pixels that hold a point of :meth:`cover_points` at a quarter of the pixel size."""
        P = self.cover_points(0.25 / n)
        idx = np.clip(np.floor(P * n).astype(np.int64), 0, n - 1)
        img = np.zeros((n, n), dtype=bool)
        img[idx[:, 1], idx[:, 0]] = True
        return img


def random_ifs(seed, s_range=(1.1, 1.9), k_choices=(2, 3, 4, 5), u_min_range=(0.5, 0.95),
               max_tries=100_000) -> SelfSimilarSet:
    """A random self-similar set with the open set condition (see the module docstring); the
    same ``seed`` always gives the same set."""
    rng = np.random.default_rng([8, int(seed)])
    s_target = rng.uniform(*s_range)
    for _ in range(int(max_tries)):
        k = int(rng.choice(k_choices))
        m = int(rng.integers(2, k * k + 1))
        u = rng.uniform(rng.uniform(*u_min_range), 1.0, size=m) / k
        c = np.sum(u ** s_target) ** (-1.0 / s_target)
        if c * u.max() * k > 1.0 or c * u.max() * k < 0.5:
            continue
        r = c * u
        cells = rng.choice(k * k, size=m, replace=False)
        Q = _D4[rng.integers(0, 8, size=m)]
        A = r[:, None, None] * Q
        half = np.array([0.5, 0.5])
        corner = np.stack([cells % k, cells // k], axis=1) / k
        slack = (1.0 / k - r)[:, None] * rng.random((m, 2))
        # f_i(x) = corner + slack + r/2 + r Q (x - 1/2): the unit square into its cell
        b = corner + slack + r[:, None] * half - np.einsum("iab,b->ia", A, half)
        return SelfSimilarSet(A, b, r, similarity_dimension(r), int(seed), k)
    raise GdchaosInputError(f"no admissible IFS for seed {seed} in {max_tries} tries")


def coverage_study(seeds, kind="cover", size=100_000, estimator=None, **kw):
    """Box-counting estimates on the random sets ``random_ifs(seed)``: one row per seed with the
    truth, the estimate, its interval and whether the interval covers the truth.

    ``kind``: ``"cover"`` (:meth:`SelfSimilarSet.cover_points` at ``delta = size^(-1/s)``, about
    ``size`` points or a few times more), ``"chaos"`` (``size`` natural-measure points, seed
    ``seed``) or ``"mask"`` (a ``size x size`` image).  ``estimator`` (default
    :func:`~gdchaos.analysis.boxcount.box_dimension`) gets the sample and ``kw``.
    """
    from .boxcount import box_dimension

    est = box_dimension if estimator is None else estimator
    rows = []
    for seed in seeds:
        S = random_ifs(seed)
        if kind == "cover":
            data = S.cover_points(float(size) ** (-1.0 / S.dimension))
        elif kind == "chaos":
            data = S.chaos_points(int(size), seed=int(seed))
        elif kind == "mask":
            data = S.mask(int(size))
        else:
            raise GdchaosInputError(f"kind must be 'cover', 'chaos' or 'mask', got {kind!r}")
        r = est(data, **kw)
        lo, hi = (float(c) for c in r.ci)
        rows.append({"seed": int(seed), "k": S.k, "m": S.m, "dimension": S.dimension,
                     "estimate": float(r.dimension), "ci": [lo, hi],
                     "error": float(r.dimension) - S.dimension,
                     "covered": bool(lo <= S.dimension <= hi), "n": int(r.n_points),
                     "octaves": float(np.log2(r.fit_eps[0] / r.fit_eps[-1]))})
    return rows
