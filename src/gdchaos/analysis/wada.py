"""Wada tests for outcome maps with three or more outcomes.

A boundary has the *Wada property* when every boundary point is on the boundary of every basin.

- :func:`wada_merging` (Daza, Wagemakers, Sanjuan, Sci. Rep. 8 (2018) 9954, the merging method):
  for each basin ``i`` merge all others into one; the boundary of that two-colour map is the
  boundary of basin ``i``.  Wada iff these boundaries all coincide with the full boundary.  On a
  grid, each basin's boundary is fattened by ``r`` pixels and ``W(r)`` is the fraction of
  full-boundary pixels covered by *every* fattened basin boundary; Wada when ``W(r)`` is close
  to 1 at a small ``r``.
- :func:`wada_grid` (Daza, Wagemakers, Sanjuan, Zambrano, Sci. Rep. 5 (2015) 16579, the grid
  method): every cell of the grid whose corners see two or more outcomes is refined, by
  evaluating the outcome function on ever finer sub-grids of the cell, until it shows all
  outcomes or the refinement limit is reached.  ``W_k`` = fraction of boundary cells showing all
  outcomes after ``k`` refinements; Wada when ``W_k -> 1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import GdchaosInputError, check_int, check_seed
from .boundaries import boundary_mask

__all__ = ["WadaResult", "wada_merging", "wada_grid"]


@dataclass
class WadaResult:
    """``W`` against the fattening radius (merging) or the refinement level (grid)."""

    method: str
    is_wada: bool
    W: np.ndarray
    scale: np.ndarray
    n_outcomes: int
    n_boundary: int
    threshold: float
    info: dict = field(default_factory=dict)

    def as_dict(self):
        return {"method": self.method, "is_wada": bool(self.is_wada), "W": self.W.tolist(),
                "scale": self.scale.tolist(), "n_outcomes": int(self.n_outcomes),
                "n_boundary": int(self.n_boundary), "threshold": float(self.threshold),
                "info": self.info}


def wada_merging(labels, r_max=6, r_wada=3, threshold=0.95, connectivity=2,
                 min_share=0.0) -> WadaResult:
    """Merging-method Wada test of an outcome map (ints, negative = invalid).

    Outcomes holding less than ``min_share`` of the valid pixels (stray undecided or saddle
    points) are treated as invalid, so they cannot make a boundary non-Wada by their absence.

    Returns ``W(r)`` for ``r = 0 .. r_max`` pixels; ``is_wada`` is ``W(r_wada) >= threshold``.
    ``info["pairwise"]`` holds, for each basin, the fraction of the full boundary within
    ``r_wada`` of that basin's own boundary (which basin breaks the property, if one does).
    """
    from scipy import ndimage

    r_max = check_int("r_max", r_max, lo=0)
    r_wada = check_int("fattening radius r", r_wada, lo=0)
    _check_fraction("threshold", threshold, zero_ok=False)
    _check_fraction("min_share", min_share, zero_ok=True)
    L = np.asarray(labels)
    outcomes, cnt = np.unique(L[L >= 0], return_counts=True)
    rare = outcomes[cnt < float(min_share) * cnt.sum()]
    if rare.size:
        L = np.where(np.isin(L, rare), -1, L)
        outcomes = outcomes[~np.isin(outcomes, rare)]
    if outcomes.size < 3:
        raise GdchaosInputError(f"a Wada test needs at least 3 outcomes, the map has "
                                f"{outcomes.size}")
    full = boundary_mask(L, connectivity=connectivity, side="both")
    nb = int(full.sum())
    if nb == 0:
        raise GdchaosInputError("the outcome map has no boundary")
    radii = np.arange(int(r_max) + 1)
    dists = []
    for o in outcomes:
        merged = np.where(L >= 0, (L == o).astype(np.int16), -1)
        bi = boundary_mask(merged, connectivity=connectivity, side="both")
        if not bi.any():
            dists.append(np.full(L.shape, np.inf))
            continue
        dists.append(ndimage.distance_transform_edt(~bi))
    dmax = np.max(np.stack([d[full] for d in dists]), axis=0)
    W = np.array([np.mean(dmax <= r + 1e-9) for r in radii])
    pair = {str(int(o)): float(np.mean(d[full] <= r_wada + 1e-9)) for o, d in zip(outcomes, dists)}
    return WadaResult("merging", bool(W[min(int(r_wada), radii[-1])] >= threshold), W, radii,
                      int(outcomes.size), nb, float(threshold),
                      {"r_wada": int(r_wada), "pairwise": pair, "connectivity": connectivity,
                       "ignored_outcomes": rare.tolist()})


#: Outcome evaluations the grid method may need (worst case) before it asks for allow_large.
MAX_GRID_EVALUATIONS = 20_000_000


def _check_fraction(name, v, zero_ok):
    v = float(v)
    if not (0 <= v <= 1) or (v == 0 and not zero_ok):
        raise GdchaosInputError(f"{name} must be in {'[0' if zero_ok else '(0'}, 1], got {v}")


def grid_evaluations(n_cells, max_level):
    """Worst case of the outcome evaluations of :func:`wada_grid`: every cell refined to
    ``max_level`` (``(2^L + 1)^2 - 4`` new points per cell)."""
    return int(n_cells) * ((2 ** int(max_level) + 1) ** 2 - 4)


def wada_grid(outcome, xs, ys, labels=None, max_level=5, threshold=0.95,
              max_cells=200_000, seed=0, *, progress=False, chunk=1_000_000,
              allow_large=False) -> WadaResult:
    """Grid-method Wada test: refine boundary cells with the vectorized ``outcome(X)``.

    ``xs``, ``ys``: the grid (``labels[j, i]`` is the outcome at ``(xs[i], ys[j])``, computed
    here when not given).  A cell is the square between four neighbouring grid points.  At
    level ``k`` each unfinished cell is sampled on a ``(2^k + 1)^2`` sub-grid (one outcome call
    for all cells of the level).  ``W[k]`` = fraction of boundary cells that show every outcome
    after level ``k``; ``is_wada`` is ``W[-1] >= threshold``.  At most ``max_cells`` boundary
    cells are followed (a random subset, ``seed``).  Each level is evaluated in chunks of about
    ``chunk`` points (bounded memory; a progress bar with ``progress``).  When the worst case
    (:func:`grid_evaluations`) passes ``MAX_GRID_EVALUATIONS`` the call is refused unless
    ``allow_large``.
    """
    from tqdm.auto import tqdm

    max_level = check_int("refinement levels", max_level, lo=0)
    if max_level > 30:
        raise GdchaosInputError(f"refinement levels must be <= 30, got {max_level}")
    max_cells = check_int("max_cells", max_cells, lo=1)
    seed = check_seed("seed", seed)
    _check_fraction("threshold", threshold, zero_ok=False)
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    if labels is None:
        X, Y = np.meshgrid(xs, ys)
        labels = np.asarray(outcome(np.stack([X.ravel(), Y.ravel()], axis=1))).reshape(X.shape)
    L = np.asarray(labels)
    if L.shape != (ys.size, xs.size):
        raise GdchaosInputError(f"labels must have shape {(ys.size, xs.size)}, got {L.shape}")
    outcomes = np.unique(L[L >= 0])
    m = outcomes.size
    if m < 3:
        raise GdchaosInputError(f"a Wada test needs at least 3 outcomes, the map has {m}")
    corners = np.stack([L[:-1, :-1], L[:-1, 1:], L[1:, :-1], L[1:, 1:]], axis=-1)
    seen = np.stack([(corners == o).any(axis=-1) for o in outcomes], axis=-1)
    nseen = seen.sum(axis=-1)
    valid = (corners >= 0).all(axis=-1)
    jj, ii = np.nonzero(valid & (nseen >= 2))
    if jj.size == 0:
        raise GdchaosInputError("the outcome map has no boundary cell")
    if jj.size > max_cells:
        pick = np.random.default_rng(seed).choice(jj.size, max_cells, replace=False)
        jj, ii = jj[pick], ii[pick]
    worst = grid_evaluations(jj.size, max_level)
    if worst > MAX_GRID_EVALUATIONS and not allow_large:
        raise GdchaosInputError(
            f"{max_level} refinement levels of {jj.size} boundary cells may take up to {worst:.3g} "
            f"outcome evaluations (limit {MAX_GRID_EVALUATIONS:.3g}); use fewer levels or allow "
            f"large runs (--allow-large)")
    seen = seen[jj, ii]
    x0, x1 = xs[ii], xs[ii + 1]
    y0, y1 = ys[jj], ys[jj + 1]
    W = [float(np.mean(seen.all(axis=1)))]
    for k in range(1, int(max_level) + 1):
        todo = np.nonzero(~seen.all(axis=1))[0]
        if todo.size == 0:
            W.append(1.0)
            continue
        s = (np.arange(2 ** k + 1) / 2 ** k)
        S, T = np.meshgrid(s, s)
        new = ~((np.round(S * 2 ** (k - 1)) == S * 2 ** (k - 1)) &
                (np.round(T * 2 ** (k - 1)) == T * 2 ** (k - 1)))
        S, T = S[new], T[new]
        per = max(1, int(chunk) // S.size)  # cells per chunk
        with tqdm(total=todo.size * S.size, disable=not progress, unit="pt", unit_scale=True,
                  desc=f"wada grid level {k}/{max_level}", leave=False) as bar:
            for a in range(0, todo.size, per):
                t = todo[a:a + per]
                px = x0[t, None] + (x1 - x0)[t, None] * S[None, :]
                py = y0[t, None] + (y1 - y0)[t, None] * T[None, :]
                lab = np.asarray(outcome(np.stack([px.ravel(), py.ravel()], axis=1)))
                lab = lab.reshape(px.shape)
                for c, o in enumerate(outcomes):
                    seen[t, c] |= (lab == o).any(axis=1)
                bar.update(px.size)
        W.append(float(np.mean(seen.all(axis=1))))
    W = np.array(W)
    return WadaResult("grid", bool(W[-1] >= threshold), W, np.arange(W.size), int(m),
                      int(jj.size), float(threshold), {"max_level": int(max_level)})
