"""Outcome maps computed with the engine: what `gdchaos basin-entropy`, `wada` and the other
map measures compute when they are not given a store or a label file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import GdchaosInputError


@dataclass
class OutcomeMap:
    """``labels`` (``(n, n)``, -1 where a point is invalid), the axes ``xs``, ``ys`` of the
    window, and ``outcome``: the function ``Q -> labels`` of window coordinates ``Q`` (``(m, 2)``)
    that produced them (measures that perturb points call it again)."""

    labels: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    outcome: Callable


def outcome_map(problem, eta, n, *, window=None, mode="converged", max_iter=200, tol=1e-12,
                margin=0.0, seed=0) -> OutcomeMap:
    """The outcome of GD from every point of an ``n x n`` window of a 2-D slice of ``problem``
    (``window = (x0, x1, y0, y1)``, default the problem's ``default_window``; the slice is the
    coordinate plane for 2 parameters, a seeded random plane through the origin otherwise).
    Points within ``margin`` of the edge of the problem's state space (the quotient map's
    ``w = 2|z + y|``) are labelled -1.  ``mode``: see :func:`gdchaos.analysis.outcome_labels`."""
    from ..engine import Slice2D
    from .uncertainty import engine_outcome

    if n < 3 or max_iter < 1:
        raise GdchaosInputError("an outcome map needs n >= 3 and max_iter >= 1")
    window = tuple(float(v) for v in (window or problem.default_window))
    P = problem.n_params
    sl = (Slice2D.axes(P, window[:2], window[2:], n) if P == 2 else
          Slice2D.random(P, window[:2], window[2:], n, seed=seed))
    base = engine_outcome(problem, eta, mode, max_iter=max_iter, tol=tol, gtol=0.0)
    c, D = sl.center, sl.directions

    def outcome(Q):
        Q = np.asarray(Q, dtype=float)
        return base(c + Q[:, :1] * D[0] + Q[:, 1:2] * D[1])

    if P == 2 and np.array_equal(c, np.zeros(2)) and np.array_equal(D, np.eye(2)):
        outcome = base  # the window is the parameter plane itself
    Q = np.stack(np.meshgrid(sl.xs, sl.ys), -1).reshape(-1, 2)
    X = sl.points()
    problem.validate(X)  # a user's problem: its definition checked at these points first
    lab = (base(X) if outcome is base else outcome(Q)).reshape(n, n)
    gap = problem.edge_gap(X)
    if gap is not None:
        lab = np.where(gap.reshape(n, n) < margin, -1, lab)
    return OutcomeMap(lab, sl.xs, sl.ys, outcome)


def labels_from_array(L, name="labels") -> np.ndarray:
    """An outcome map read from a file, as codes: every distinct non-negative label becomes its
    own code ``0, 1, ...`` (in increasing order of the labels, so 70000 and 4464 stay two
    outcomes, whatever their size), every negative label becomes -1 (invalid pixel).

    Refused with one line: a map that is not 2-D or is empty; labels that are not numbers
    (strings, objects, complex) or not integers (NaN, infinities, 2.5); a map with no valid
    (non-negative) pixel."""
    A = np.asarray(L)
    if A.ndim != 2:
        raise GdchaosInputError(f"{name}: an outcome map must be 2-D, got shape {A.shape}")
    if A.size == 0:
        raise GdchaosInputError(f"{name}: the outcome map is empty (shape {A.shape})")
    kind = A.dtype.kind
    if kind == "b":
        A = A.astype(np.int8)
    elif kind == "f":
        bad = ~np.isfinite(A)
        if bad.any():
            raise GdchaosInputError(f"{name}: {int(bad.sum())} labels are NaN or infinite; "
                                    "outcome labels are integers (negative = invalid)")
        frac = A != np.round(A)
        if frac.any():
            raise GdchaosInputError(f"{name}: labels must be integers, got "
                                    f"{A[frac].flat[0]!r} (and {int(frac.sum()) - 1} more)")
    elif kind not in "iu":
        raise GdchaosInputError(f"{name}: labels must be integers (negative = invalid), got "
                                f"an array of {A.dtype}")
    valid = A >= 0
    if not valid.any():
        raise GdchaosInputError(f"{name}: the outcome map has no valid pixel (every label is "
                                "negative, which marks an invalid pixel)")
    _, codes = np.unique(A[valid], return_inverse=True)
    out = np.full(A.shape, -1, dtype=np.int64)
    out[valid] = codes.ravel()
    return out
