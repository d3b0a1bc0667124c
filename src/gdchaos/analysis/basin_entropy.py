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

__all__ = ["BasinEntropyResult", "basin_entropy", "basin_entropy_scaling", "scaling_boxes"]


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


def _halo_boundary_boxes(L, b, offsets):
    """Mean over grid ``offsets`` of the number of boxes of stride ``b`` holding two valid
    outcomes, each box reaching one pixel into the next (``b + 1`` pixels a side: every pair of
    neighbouring pixels lies inside some box, none on a box line), and of the boxes holding a
    valid pixel."""
    nb, nv = [], []
    for o in offsets:
        sub = L[o[0]:, o[1]:]
        if min(sub.shape) < b + 1:
            continue
        W = np.lib.stride_tricks.sliding_window_view(sub, (b + 1, b + 1))[::b, ::b]
        B = W.reshape(W.shape[0] * W.shape[1], -1)
        valid = B >= 0
        hi = np.where(valid, B, np.iinfo(np.int32).min).max(axis=1)
        lo = np.where(valid, B, np.iinfo(np.int32).max).min(axis=1)
        has = valid.any(axis=1)
        nb.append(np.count_nonzero(has & (hi > lo)))
        nv.append(np.count_nonzero(has))
    return float(np.mean(nb)), float(np.mean(nv)), np.asarray(nb, float)


def scaling_boxes(shape, b_min=2, max_fraction=1 / 8, per_octave=4):
    """The box sizes of the exponent fit: ``per_octave`` integer sizes per factor 2 from
    ``b_min`` pixels to ``max_fraction`` of the map's smaller side (at least 8 boxes a side)."""
    b_max = int(min(shape) * max_fraction)
    if b_max < 2 * b_min:
        return []
    m = int(np.floor(np.log2(b_max / b_min) * per_octave)) + 1
    return sorted({int(round(b_min * 2.0 ** (k / per_octave))) for k in range(m)})


def basin_entropy_scaling(labels, box=5, boxes=(2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 25, 32), *,
                          n_offsets=4, seed=0, level=0.95):
    """``S_b`` against the box size, and the uncertainty exponent ``alpha`` it implies.

    Returns the :class:`BasinEntropyResult` at ``box`` with the curve (``box``, ``Sb``,
    ``Sbb``: Daza et al.'s ``S_b ~ box^alpha``, eq. 4) and the fit of ``alpha``.

    The fit (issue 23) does not regress ``log S_b``: on a digital boundary the mean entropy of a
    boundary box drifts with the box size (0.61 at 2 pixels, 0.42 at 32 on a digital circle:
    the pixel fractions are quantized) and a boundary running along a box line is invisible to
    both boxes (``(1 - 1/b)`` of the boundary boxes), which gave 1.06-1.10 on smooth
    boundaries.  ``S_b = (n_boundary / n_boxes) S_bb`` with ``S_bb`` tending to a constant, so
    ``alpha`` is taken from the number of boundary boxes: boxes of stride ``b`` that reach one
    pixel into their neighbours (no boundary lies on a box line; a digital segment then has
    exactly ``L / b`` of them), averaged over ``n_offsets`` grid offsets, at the sizes of
    :func:`scaling_boxes` (2 pixels to 1/8 of the map), fitted as box counts
    (:func:`~gdchaos.analysis._dimfit.fit_power_constant`: ``N = A b^-D + C``, the constant
    when the sizes span 5 octaves); ``alpha = 2 - D``.  The interval is the box-count interval
    (regression, grid offsets, sub-range spread).  ``fit`` is ``None`` when the map is smaller
    than 32 pixels a side; ``curve["warnings"]`` holds the scaling-range warnings."""
    from ._dimfit import fit_power_constant
    from .boxcount import CONSTANT_MIN_OCTAVES, scaling_warnings

    L = np.asarray(labels)
    boxes = sorted({int(b) for b in boxes} | {int(box)})
    rows = [basin_entropy(L, b) for b in boxes]
    Sb = np.array([r.Sb for r in rows])
    out = rows[boxes.index(int(box))]
    out.curve = {"box": boxes, "Sb": Sb.tolist(), "Sbb": [r.Sbb for r in rows]}
    fb = scaling_boxes(L.shape)
    out.fit = None
    if len(fb) < 3:
        out.curve["warnings"] = ["the map is too small for an exponent fit (fewer than 3 box "
                                 "sizes between 2 pixels and 1/8 of its side)"]
        return out
    rng = np.random.default_rng(seed)
    nb, nv, per = [], [], []
    for b in fb:
        offs = [(0, 0)] + [tuple(int(v) for v in rng.integers(0, b, 2))
                           for _ in range(int(n_offsets) - 1)]
        a, v, p = _halo_boundary_boxes(L, b, offs)
        nb.append(a)
        nv.append(v)
        per.append(p)
    nb = np.asarray(nb)
    ok = nb > 0
    if ok.sum() < 3:
        out.curve["warnings"] = ["fewer than 3 box sizes hold a boundary box"]
        return out
    fbo = np.asarray(fb, float)[ok]
    k = min(len(p) for p in per)
    po = np.stack([p[:k] for p, o in zip(per, ok) if o], axis=1)
    octaves = float(np.log2(fbo[-1] / fbo[0]))
    model = "power+constant" if octaves >= CONSTANT_MIN_OCTAVES - 1e-9 else "power"
    D, ci, fit, info = fit_power_constant(fbo[::-1], nb[ok][::-1], po[:, ::-1] if k >= 2 else
                                          None, per_octave=4, level=level, model=model)
    alpha, lo, hi = 2.0 - D, 2.0 - ci[1], 2.0 - ci[0]
    out.fit = LinearFit(alpha, fit.intercept, fit.stderr, (lo, hi), fit.level, fit.n, fit.rms)
    out.curve.update({"fit_box": fbo.tolist(), "n_boundary_boxes": nb[ok].tolist(),
                      "n_valid_boxes": np.asarray(nv)[ok].tolist(), "fit_info": info,
                      "warnings": scaling_warnings(octaves * np.log10(2.0), int(ok.sum()),
                                                   10 ** 9)})
    return out
