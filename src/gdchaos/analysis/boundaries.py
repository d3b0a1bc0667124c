"""Basin boundaries of outcome maps, and the figure-3 convergence region of the quotient map.

An *outcome map* is a 2-D integer array of labels, ``-1`` where a pixel does not count (outside
the state space, not computed).  Its boundary is the set of valid pixels with a valid 4- (or 8-)
neighbour of another label; edges of the state space and of the grid are left out:

- a pixel next to the edge of the quotient state space ``w = 2|z + y|`` differs from its
  outside neighbour only because that neighbour is not a state: outside pixels are invalid and
  never make a boundary, and pixels within ``margin`` of the edge can be dropped altogether
  (:func:`quotient_edge_gap`);
- pixels of the outermost rows and columns lack a full neighbourhood and are dropped.

:func:`erosion_boundary` is the paper's procedure for figure 3 (region minus its binary erosion,
``scipy.ndimage.binary_erosion`` defaults: cross-shaped structure, outside of the grid counted as
not in the region, hence grid-edge pixels of the region count as boundary).
"""

from __future__ import annotations


import numpy as np

from ..errors import GdchaosInputError, check_positive
from ..status import CONVERGED, DIVERGED, NOT_RUN, OUTSIDE
from ..problems import QuotientMap

__all__ = ["OUTCOME_MODES", "outcome_labels", "dataset_labels", "boundary_mask", "thin_boundary",
           "erosion_boundary",
           "quotient_edge_gap", "FIGURE3", "quotient_region",
           "quotient_boundary"]

#: Figure 3 (SPEC section 5): quotient map y = 0.5, lam = 0.2, eta = 1 on z in [-2.5, 3],
#: w in [0, 10], 2000 x 2000, 200 steps, region |w - 2(y - lam)| < 1e-5, edge margin 1e-2.
FIGURE3 = {"y": 0.5, "lam": 0.2, "eta": 1.0, "zrange": tuple(QuotientMap.default_window[:2]),
           "wrange": tuple(QuotientMap.default_window[2:]), "n": 2000, "steps": 200,
           "wtol": 1e-5, "margin": 1e-2}

OUTCOME_MODES = ("status", "converged", "status+minimizer", "status+sign", "diverged")


def outcome_labels(status, minimizer=None, mode="status", coordinate=None):
    """Integer outcome per point from engine statuses.

    ``mode``: ``"status"`` (the status code), ``"converged"`` (1 converged, 0 any other
    verdict), ``"diverged"`` (1 diverged, 0 any other verdict: the basin of infinity, whose
    boundary leaves out measure-zero sets inside the region such as a saddle's stable line), ``"status+minimizer"`` (converged points split by the minimizer reached relative
    to the start: ``10 + minimizer`` with 1 = p-, 2 = p+), ``"status+sign"`` (converged points
    split by the sign of a recorded final ``coordinate``: 10 negative, 11 positive; tells apart
    the two minimizers of d = 1 scalar factorization, figure 3 middle).  Points outside the
    state space or not run get -1.
    """
    st = np.asarray(status)
    if mode not in OUTCOME_MODES:
        raise GdchaosInputError(f"outcome mode must be one of {OUTCOME_MODES}, got {mode!r}")
    if mode == "converged":
        lab = (st == CONVERGED).astype(np.int16)
    elif mode == "diverged":
        lab = (st == DIVERGED).astype(np.int16)
    else:
        lab = st.astype(np.int16)
        conv = st == CONVERGED
        if mode == "status+minimizer":
            if minimizer is None:
                raise GdchaosInputError("mode 'status+minimizer' needs the minimizer labels")
            lab = np.where(conv, 10 + np.asarray(minimizer).astype(np.int16), lab)
        elif mode == "status+sign":
            if coordinate is None:
                raise GdchaosInputError("mode 'status+sign' needs a recorded final coordinate")
            lab = np.where(conv, 10 + (np.asarray(coordinate) > 0).astype(np.int16), lab)
    lab = np.where((st == OUTSIDE) | (st == NOT_RUN), -1, lab)
    return lab.astype(np.int16)


def dataset_labels(ds, mode="status"):
    """:func:`outcome_labels` of an engine basin dataset (dims ``(y, x)``)."""
    mini = ds["minimizer"].values if "minimizer" in ds else None
    coord = ds["coordinate"].values if "coordinate" in ds else None
    return outcome_labels(ds["status"].values, mini, mode, coord)


def _neighbour_shifts(connectivity):
    if connectivity == 1:
        return ((0, 1), (0, -1), (1, 0), (-1, 0))
    if connectivity == 2:
        return tuple((a, b) for a in (-1, 0, 1) for b in (-1, 0, 1) if (a, b) != (0, 0))
    raise GdchaosInputError(f"connectivity must be 1 (4 neighbours) or 2 (8), got {connectivity}")


def boundary_mask(labels, *, connectivity=1, side="thin", exclude=None, grid_edge=True,
                  halo=(False, False)):
    """Pixels of an outcome map next to a pixel of another outcome.

    ``labels``: 2-D ints, ``-1`` = invalid (never a boundary, never makes one).  ``side``:
    default ``"thin"``, the one-pixel boundary the dimension tools use (:func:`thin_boundary`):
    pixels with an 8-neighbour of a larger valid label (``connectivity`` is then ignored; a
    smooth curve reads 1.00 by box counting); ``"both"`` (or ``None``): both sides, two pixels
    thick (a smooth curve reads as a band, 1.02-1.03: what the Wada test's distances need); a
    label: only pixels of this label (a one-sided boundary, like a region minus its erosion).  ``exclude``: boolean mask of pixels to leave out (e.g. within a margin of the
    state-space edge).  ``grid_edge``: leave out the outermost rows and columns.  ``halo``:
    ``(top, bottom)`` flags saying the first/last row is a halo row borrowed from a neighbouring
    tile (computed with, but not part of, the result; tiled use).
    """
    L = np.asarray(labels)
    if L.ndim != 2:
        raise GdchaosInputError(f"an outcome map must be 2-D, got shape {L.shape}")
    valid = L >= 0
    out = np.zeros(L.shape, dtype=bool)
    ny, nx = L.shape
    thin = isinstance(side, str) and side == "thin"
    if isinstance(side, str) and side == "both":
        side = None
    if isinstance(side, str) and not thin:
        raise GdchaosInputError(f"side must be 'thin', 'both' or a label, got {side!r}")
    for dy, dx in _neighbour_shifts(2 if thin else connectivity):
        a = (slice(max(0, -dy), ny - max(0, dy)), slice(max(0, -dx), nx - max(0, dx)))
        b = (slice(max(0, dy), ny - max(0, -dy)), slice(max(0, dx), nx - max(0, -dx)))
        out[a] |= valid[a] & valid[b] & ((L[a] < L[b]) if thin else (L[a] != L[b]))
    if side is not None and not thin:
        out &= L == side
    if exclude is not None:
        out &= ~np.asarray(exclude, dtype=bool)
    if grid_edge:
        if not halo[0]:
            out[0, :] = False
        if not halo[1]:
            out[-1, :] = False
        out[:, 0] = False
        out[:, -1] = False
    return out


def thin_boundary(labels, *, exclude=None, grid_edge=True):
    """The one-pixel boundary of an outcome map: valid pixels with an 8-neighbour of a larger
    valid label (for two outcomes: the pixels of the smaller label that touch the other one).

    Why 8 neighbours on one side: the pixels form a 4-connected chain one pixel thick, whose
    boxes of side ``eps`` number exactly ``L (|cos| + |sin|) / eps + 1`` on a digital segment
    (consecutive pixels differ along one axis).  The 4-neighbour one-sided boundary steps
    diagonally and misses up to ``eps^-1 / 2`` of the boxes at a few pixels (box counting gives
    0.97-0.98 on a digital circle); the two-sided boundary is two pixels thick (1.02-1.03)."""
    return boundary_mask(labels, side="thin", exclude=exclude, grid_edge=grid_edge)


def erosion_boundary(region, connectivity=1):
    """The paper's boundary: ``region & ~binary_erosion(region)`` with SciPy's defaults
    (``border_value=0``: region pixels on the grid edge count as boundary)."""
    from scipy import ndimage

    region = np.asarray(region, dtype=bool)
    st = ndimage.generate_binary_structure(2, connectivity)
    return region & ~ndimage.binary_erosion(region, structure=st)


def quotient_edge_gap(z, w, y):
    """Vertical gap ``w - 2|z + y|`` to the edge of the quotient state space (negative
    outside).  The figure-3 boundary leaves out points with a gap below 1e-2 (the reading that
    reproduces the paper's 1.249; the Euclidean distance is the gap / sqrt(5))."""
    return np.asarray(w, dtype=float) - 2.0 * np.abs(np.asarray(z, dtype=float) + y)


def quotient_region(y, lam, eta, grid, steps, *, rows=None, criterion="engine",
                    wtol=1e-5, tol=1e-12, div_threshold=1e8):
    """Boolean convergence region of the quotient map on (rows of) a grid, via the engine.

    ``criterion="engine"``: engine status converged (loss within ``tol`` of the minimum within
    ``steps`` steps; saddle test off, ``gtol = 0``, so an orbit grazing the image of the origin
    is followed as the exact map does).  ``criterion="w"``: the paper's test, run exactly
    ``steps`` steps (no early stop on convergence) and keep ``|w - 2(|y| - lam)| < wtol``
    (needs ``0 < lam < |y|``).  Returns ``(region, valid)`` with ``valid`` = inside the state
    space.
    """
    from ..engine import run_points
    from ..problems import QuotientMap

    check_positive("step size eta", eta)
    prob = QuotientMap(y=float(y), lam=float(lam))
    X = grid.points(rows)
    if criterion == "engine":
        res = run_points(prob, X, eta, max_iter=int(steps), tol=tol, gtol=0.0,
                         div_threshold=div_threshold)
        region = res.status == CONVERGED
    elif criterion == "w":
        if not 0 < lam < abs(y):
            raise GdchaosInputError("the w criterion needs 0 < lam < |y| (an isolated minimizer)")
        res = run_points(prob, X, eta, max_iter=int(steps), tol=1e-300, gtol=0.0,
                         div_threshold=div_threshold, keep_params=True)
        with np.errstate(invalid="ignore"):
            region = np.abs(res.params[:, 1] - 2.0 * (abs(y) - lam)) < wtol
    else:
        raise GdchaosInputError(f"criterion must be 'engine' or 'w', got {criterion!r}")
    valid = res.status != OUTSIDE
    nr = X.shape[0] // int(grid.nx)
    return region.reshape(nr, int(grid.nx)), valid.reshape(nr, int(grid.nx))


def quotient_boundary(region, valid, grid, y, *, procedure="clean", margin=1e-2,
                      connectivity=1, rows=None, halo=(False, False)):
    """Boundary of a quotient convergence region (rows ``rows`` of ``grid``).

    ``procedure="paper"``: :func:`erosion_boundary` (grid-edge pixels of the region included)
    minus points with edge gap ``< margin``.  ``procedure="clean"``: region pixels with a valid
    non-region 4-neighbour, grid edge left out, edge gap ``< margin`` left out.
    """
    zs = grid.xs
    ws = grid.ys if rows is None else grid.ys[rows]
    gap = quotient_edge_gap(zs[None, :], ws[:, None], y)
    near = gap < margin
    if procedure == "paper":
        b = erosion_boundary(region, connectivity) & ~near
        if halo[0]:
            b[0] = False
        if halo[1]:
            b[-1] = False
        return b
    if procedure != "clean":
        raise GdchaosInputError(f"procedure must be 'paper' or 'clean', got {procedure!r}")
    labels = np.where(valid, region.astype(np.int16), -1)
    b = boundary_mask(labels, connectivity=connectivity, side=1, exclude=near, halo=halo)
    if halo[0]:
        b[0] = False
    if halo[1]:
        b[-1] = False
    return b
