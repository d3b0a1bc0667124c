"""Basin entropy and boundary basin entropy (Daza, Wagemakers, Georgeot, Guery-Odelin,
Sanjuan, Sci. Rep. 6 (2016) 31416).

The outcome map is cut into boxes of ``box x box`` pixels.  In box ``i`` the outcome ``j``
has frequency ``p_ij`` and the box has Gibbs entropy ``S_i = sum_j p_ij log(1 / p_ij)``.  The basin
entropy ``S_b`` is the mean of ``S_i`` over all boxes; the boundary basin entropy ``S_bb`` the
mean over the boxes holding more than one outcome.  The *log 2 criterion*: ``S_bb > log 2`` is a
sufficient condition for a fractal boundary (two outcomes mixed in equal parts in every
boundary box give exactly ``log 2``; more is only possible if boxes typically see more than
two outcomes or finer mixing, which a smooth boundary does not produce at small boxes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import GdchaosInputError, check_int
from ._fit import LinearFit, fit_line

__all__ = ["BasinEntropyResult", "basin_entropy", "basin_entropy_scaling"]


@dataclass
class BasinEntropyResult:
    """``Sb``, ``Sbb`` and the counts they come from; ``log2_test`` is ``Sbb > log 2``."""

    Sb: float
    Sbb: float
    box: int
    n_boxes: int
    n_boundary_boxes: int
    n_outcomes: int
    log2_test: bool
    curve: dict = field(default_factory=dict)
    fit: LinearFit | None = None

    def as_dict(self):
        return {"Sb": float(self.Sb), "Sbb": float(self.Sbb), "box": int(self.box),
                "n_boxes": int(self.n_boxes), "n_boundary_boxes": int(self.n_boundary_boxes),
                "n_outcomes": int(self.n_outcomes), "log2_test": bool(self.log2_test),
                "log2": float(np.log(2.0)), "curve": self.curve,
                "fit": None if self.fit is None else self.fit.as_dict()}


def _box_entropies(labels, box):
    L = np.asarray(labels)
    if L.ndim != 2:
        raise GdchaosInputError(f"an outcome map must be 2-D, got shape {L.shape}")
    box = check_int("box", box)
    if box < 2:
        raise GdchaosInputError(f"box must be >= 2 pixels, got {box}")
    ny, nx = (L.shape[0] // box) * box, (L.shape[1] // box) * box
    if ny == 0 or nx == 0:
        raise GdchaosInputError(f"the map ({L.shape}) is smaller than one box of {box} pixels")
    L = L[:ny, :nx]
    outcomes = np.unique(L[L >= 0])
    B = L.reshape(ny // box, box, nx // box, box).transpose(0, 2, 1, 3).reshape(-1, box * box)
    counts = np.stack([(B == o).sum(axis=1) for o in outcomes], axis=1).astype(float)
    tot = counts.sum(axis=1)
    ok = tot > 0
    p = counts[ok] / tot[ok, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        S = -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=1)
    n_kinds = np.count_nonzero(p > 0, axis=1)
    return S, n_kinds, outcomes.size


def basin_entropy(labels, box=5) -> BasinEntropyResult:
    """Basin entropy of an outcome map (2-D ints; negative = invalid pixel, left out of the box
    frequencies; boxes with no valid pixel are skipped).  Edge rows/columns that do not fill a
    whole box are dropped."""
    S, kinds, n_out = _box_entropies(labels, box)
    if S.size == 0:
        raise GdchaosInputError("the outcome map has no valid pixel")
    bnd = kinds > 1
    Sb = float(S.mean())
    Sbb = float(S[bnd].mean()) if np.any(bnd) else 0.0
    return BasinEntropyResult(Sb, Sbb, int(box), int(S.size), int(bnd.sum()), int(n_out),
                              bool(Sbb > np.log(2.0)))


def basin_entropy_scaling(labels, box=5, boxes=(2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 25, 32)):
    """``S_b`` against the box size: for a boundary of uncertainty exponent ``alpha``,
    ``S_b ~ box^alpha`` (Daza et al. 2016, eq. 4), an estimate of ``alpha`` from the map alone.
    Returns the :class:`BasinEntropyResult` at ``box`` with the curve (``box``, ``Sb``,
    ``Sbb``) and the fit of ``log S_b`` on ``log box`` (slope = alpha)."""
    boxes = sorted({int(b) for b in boxes} | {int(box)})
    rows = [basin_entropy(labels, b) for b in boxes]
    Sb = np.array([r.Sb for r in rows])
    ok = Sb > 0
    fit = fit_line(np.log(np.array(boxes, float)[ok]), np.log(Sb[ok])) if ok.sum() >= 2 else None
    out = rows[boxes.index(int(box))]
    out.curve = {"box": boxes, "Sb": Sb.tolist(), "Sbb": [r.Sbb for r in rows]}
    out.fit = fit
    return out
