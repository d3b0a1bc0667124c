"""Boundary-refined maps: a tile's outcomes computed where they change, filled where they do not.

A tile of ``R x nx`` pixels is first computed on a coarse lattice (every ``2**levels``-th row and
column, and always its last row and column).  At each level every cell of the lattice whose four
corners do not all have the same outcome (:func:`outcome`: the status, the minimizer and the
trainability where the map records them) is
marked; the marked cells and their eight neighbours (a guard band of one cell) are subdivided:
the lattice points of the next level, half the spacing, are computed inside them.  Cells whose
corners agree and that no marked cell touches are left: their pixels are filled from their
nearest corner.  At spacing 1 every pixel of a subdivided cell is computed, so a boundary and
the pixels next to it are always computed, and a chaotic region (outcomes differing between
neighbours at every level) is computed in full.

Refinement cannot see a feature that lies inside a cell whose corners and neighbours all agree
(an island smaller than the coarse cell that touches no other boundary).  To bound what it misses,
a seeded random sample of the filled pixels (``check``, a fraction of them, at least
``min_check`` per tile) is computed as well; the variable ``computed`` records which pixels were
computed (1), filled (0), sampled and found to agree with their fill (2) or to disagree (3).
:func:`refine_summary` turns those counts into the measured disagreement and its interval.

The tile is the unit: a tile's result depends only on its rows, so resume, tiles computed in
any order and a Dask cluster give the same store, bit for bit.  A pixel that is computed has the
bits a full map has there (the same points, the same kernel, per point).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from ..errors import GdchaosInputError
from ..status import COMPUTED, FILLED, NOT_RUN, SAMPLED_AGREE, SAMPLED_DISAGREE
from ._progress import note, within
from ._store import VarSpec


@dataclass(frozen=True)
class Refine:
    """How a map is refined: ``levels`` halvings of the coarse spacing (``2**levels`` pixels),
    ``check`` the fraction of filled pixels computed as a sample seeded by ``seed`` and the
    tile (at least ``min_check`` per tile, all of them when fewer are filled)."""

    levels: int = 4
    check: float = 1 / 256
    min_check: int = 16
    seed: int = 0

    def __post_init__(self):
        if isinstance(self.levels, bool) or int(self.levels) != self.levels \
                or not 1 <= self.levels <= 10:
            raise GdchaosInputError(f"refine levels must be an integer from 1 to 10, got "
                                    f"{self.levels!r}")
        if not (isinstance(self.check, (int, float)) and 0.0 <= float(self.check) <= 1.0):
            raise GdchaosInputError(f"refine check must be a fraction from 0 to 1, got "
                                    f"{self.check!r}")
        if int(self.min_check) != self.min_check or self.min_check < 0:
            raise GdchaosInputError(f"refine min_check must be an integer >= 0, got "
                                    f"{self.min_check!r}")
        if int(self.seed) != self.seed or self.seed < 0:
            raise GdchaosInputError(f"refine seed must be an integer >= 0, got {self.seed!r}")
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "levels", int(self.levels))
        object.__setattr__(self, "check", float(self.check))
        object.__setattr__(self, "min_check", int(self.min_check))

    def spec(self) -> dict:
        return {"levels": self.levels, "check": self.check, "min_check": self.min_check,
                "seed": self.seed}

    def variable(self) -> VarSpec:
        """The store's ``computed`` variable (its codes: :data:`gdchaos.status.FLAGS`)."""
        return VarSpec(("y", "x"), "int8", NOT_RUN)

    def tiles(self, compute_at, nx):
        """A tile function for the tile runners (:mod:`._tiles`): ``compute(sl=rows)`` refines
        those rows of a map ``nx`` wide whose pixels ``compute_at(rows, cols)`` computes (grid
        row and column indices, flat)."""
        def compute(sl, out=None, buffers=None):
            dest = None if out is None else {k: v[sl] for k, v in out.items()}
            return refine_tile(lambda r, c: compute_at(r + sl.start, c), sl.stop - sl.start,
                               nx, self, [self.seed, sl.start], out=dest)
        return compute


def as_refine(refine) -> Refine | None:
    """``None``/``False``/``0`` (no refinement), ``True`` (the defaults), a number of levels, a
    dict of :class:`Refine`'s fields or a :class:`Refine`."""
    if refine is None or refine is False or (isinstance(refine, int) and refine == 0
                                             and not isinstance(refine, bool)):
        return None
    if refine is True:
        return Refine()
    if isinstance(refine, Refine):
        return refine
    if isinstance(refine, dict):
        unknown = set(refine) - {"levels", "check", "min_check", "seed"}
        if unknown:
            raise GdchaosInputError(f"unknown refine setting(s): {', '.join(sorted(unknown))}")
        return Refine(**refine)
    if isinstance(refine, (int, np.integer)):
        return Refine(levels=int(refine))
    raise GdchaosInputError(f"refine must be a number of levels, True or a dict, got {refine!r}")


def _breaks(n, step):
    """The lattice positions of an axis of ``n`` pixels at ``step``: multiples of ``step`` and
    the last pixel (a lone pixel counts twice: a cell of zero extent)."""
    b = np.arange(0, n, step)
    if b[-1] != n - 1:
        b = np.append(b, n - 1)
    return b if b.size > 1 else np.array([0, 0])


_WORK = threading.local()


def _workspace(R, nx):
    """A tile's bookkeeping, reset: computed flags, outcomes, each filled pixel's source pixel
    (-1: none) and the next level's points already listed (all False between levels); reused by
    the tiles of one thread (a tile's arrays are not handed on)."""
    w = getattr(_WORK, "arrays", None)
    if w is None or w[0].shape != (R, nx):
        w = (np.zeros((R, nx), dtype=bool), np.zeros((R, nx), dtype=np.int32),
             np.empty((R, nx), dtype=np.int64), np.zeros((R, nx), dtype=bool))
        _WORK.arrays = w
    w[0].fill(False)
    w[2].fill(-1)
    return w


def _dilate(m):
    """``m`` or any of its eight neighbours."""
    out = m.copy()
    out[1:, :] |= m[:-1, :]
    out[:-1, :] |= m[1:, :]
    o2 = out.copy()
    o2[:, 1:] |= out[:, :-1]
    o2[:, :-1] |= out[:, 1:]
    return o2


def outcome(data) -> np.ndarray:
    """The outcome refinement compares between pixels: ``status``, ``minimizer`` where the map
    records it, and whether the trainability ``score`` is below 1 where the map has one
    (Sohl-Dickstein's criterion: a network map's boundary)."""
    lab = np.asarray(data["status"]).astype(np.int32) * 32
    if "minimizer" in data:
        lab = lab + (np.asarray(data["minimizer"]).astype(np.int32) + 1) * 2
    if "score" in data:
        lab = lab + (np.asarray(data["score"]) < 1.0)
    return lab


def refine_tile(compute_at, rows, nx, refine: Refine, seed, out=None) -> dict:
    """One tile of ``rows x nx`` pixels refined (module docstring).  ``compute_at(r, c)``
    (tile-local row and column indices, equal-length integer arrays) returns the variables of
    those pixels, flat; the result holds them at full size ``(rows, nx, ...)`` and
    ``computed``.  ``seed`` (a list of integers) seeds the check sample.  With ``out`` (name ->
    ``(rows, nx, ...)`` array) the variables are assembled there."""
    from ._refine_kernels import (cell_marks, fill_from, level_sources, next_points, ranked,
                                  resolve)

    R, levels = int(rows), refine.levels
    full = None
    done, lab, src, seen = _workspace(R, nx)

    # the tile's progress: the coarse lattice, each level, the check sample (the levels' costs
    # are not known ahead: each counts the same)
    parts = levels + 2
    stage = [0]

    def run(r, c):
        nonlocal full
        if r.size == 0:
            return
        with within(stage[0] / parts, (stage[0] + 1) / parts):
            data = compute_at(r, c)
        if full is None:
            full = {k: out[k] if out is not None and k in out else
                    np.empty((R, nx) + np.shape(v)[1:], dtype=np.asarray(v).dtype)
                    for k, v in data.items()}
        for k, v in data.items():
            full[k][r, c] = v
        lab[r, c] = outcome(data)
        done[r, c] = True

    step = 2 ** levels
    note(f"lattice every {step} px")
    br, bc = _breaks(R, step), _breaks(nx, step)
    rr, cc = np.meshgrid(br, bc, indexing="ij")
    first = np.unique(np.stack([rr.reshape(-1), cc.reshape(-1)]), axis=1)  # a lone pixel once
    run(first[0], first[1])
    stage[0] = 1
    for k in range(levels):  # at spacing 1 every pixel of a subdivided cell is computed
        known = np.empty((br.size - 1, bc.size - 1), dtype=bool)
        marked = np.empty_like(known)
        cell_marks(lab, done, br, bc, known, marked)
        sub = _dilate(marked)
        # the cells left (their corners agree, no marked cell touches them): filled from their
        # corners; coarse to fine, so a finer level's fill replaces a coarser one's
        level_sources(known & ~sub, br, bc, done, src)
        step //= 2
        note(f"level {k + 1}/{levels}")
        cap = 9 * int(np.count_nonzero(sub))
        i, j = np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.int64)
        n = next_points(sub, br, bc, step, done, seen, i, j)
        i, j = i[:n], j[:n]
        seen[i, j] = False
        order = np.lexsort((j, i))  # row-major, as the lattice is
        run(i[order], j[order])
        br, bc = _breaks(R, step), _breaks(nx, step)
        stage[0] = k + 2
    # every pixel lies in a cell that was filled or subdivided down to spacing 1 (computed);
    # should one be neither, it is computed rather than left unset
    if resolve(done, src):
        i, j = np.nonzero(~done & (src < 0))
        run(i, j)
        src[i, j] = -1
    flat = src.reshape(-1)
    for v in list(full.values()) + [lab]:
        fill_from(flat, v.reshape(R * nx, -1))
    computed = done.view(np.int8).copy()  # COMPUTED (1) where computed, FILLED (0) elsewhere
    note("check sample")
    _check_sample(run, lab, done, computed, refine, seed, ranked)
    return dict(full, computed=computed)


def _check_sample(run, lab, done, computed, refine, seed, ranked):
    """Compute a seeded sample of the filled pixels and record whether each agreed."""
    n_f = done.size - int(np.count_nonzero(done))
    if n_f == 0 or refine.check == 0.0 and refine.min_check == 0:
        return
    n_s = min(n_f, max(refine.min_check, math.ceil(refine.check * n_f)))
    ranks = np.sort(np.random.default_rng(seed).choice(n_f, size=n_s, replace=False))
    i, j = np.divmod(ranked(done, ranks.astype(np.int64)), done.shape[1])
    filled = lab[i, j].copy()
    run(i, j)  # stores the computed values there
    computed[i, j] = np.where(lab[i, j] == filled, SAMPLED_AGREE, SAMPLED_DISAGREE)


def wilson(k, n, z=1.959963984540054):
    """The Wilson score interval (95% by default) of a proportion ``k / n``."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (0.0 if k == 0 else max(0.0, mid - half), 1.0 if k == n else min(1.0, mid + half))


def refine_summary(computed) -> dict:
    """What a refined map's ``computed`` codes say: the fraction of pixels computed (samples
    included), the samples of filled pixels, how many disagreed, the disagreement rate among
    filled pixels with its 95% Wilson interval, and the expected fraction of all pixels whose
    filled outcome is wrong (the rate times the filled fraction, with the same interval).
    ``computed`` is an array or an iterable of blocks (a store's tiles)."""
    blocks = [computed] if hasattr(computed, "shape") else computed
    n = n_fill = n_comp = n_ok = n_bad = 0
    for b in blocks:
        b = np.asarray(b)
        n += int(b.size)
        n_fill += int(np.count_nonzero(b == FILLED))
        n_comp += int(np.count_nonzero(b == COMPUTED))
        n_ok += int(np.count_nonzero(b == SAMPLED_AGREE))
        n_bad += int(np.count_nonzero(b == SAMPLED_DISAGREE))
    n_s = n_ok + n_bad
    lo, hi = wilson(n_bad, n_s)
    filled_frac = (n_fill + n_s) / n if n else 0.0
    rate = n_bad / n_s if n_s else float("nan")
    return {"pixels": n, "computed_fraction": (n_comp + n_s) / n if n else 0.0,
            "filled_fraction": filled_frac, "samples": n_s, "disagreements": n_bad,
            "disagreement": rate, "disagreement_interval": [lo, hi],
            "map_error": rate * filled_frac if n_s else float("nan"),
            "map_error_interval": [lo * filled_frac, hi * filled_frac]}


def refine_summary_of(attrs) -> dict | None:
    """The summary a refined map's dataset or store holds in its ``refine_*`` attributes."""
    out = {k[len("refine_"):]: v for k, v in attrs.items() if k.startswith("refine_")}
    return out or None


def refine_summary_line(s: dict) -> str:
    """One line for the command line."""
    if not s["samples"]:
        return (f"refined: {s['computed_fraction']:.1%} of {s['pixels']} pixels computed, none "
                "filled")
    lo, hi = s["disagreement_interval"]
    return (f"refined: {s['computed_fraction']:.1%} of {s['pixels']} pixels computed; "
            f"{s['disagreements']} of {s['samples']} sampled filled pixels disagree "
            f"({s['disagreement']:.2%}, 95% interval {lo:.2%}-{hi:.2%}): about "
            f"{s['map_error']:.3%} of the map [{s['map_error_interval'][0]:.3%}, "
            f"{s['map_error_interval'][1]:.3%}]")
