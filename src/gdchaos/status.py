"""Per-point status codes of batched runs (stored as int8), shared by the engine, the analysis
and the networks, and the one function that turns a status array into fractions."""

from __future__ import annotations

import numpy as np

NOT_RUN = -1  #: tile not computed yet (only in stores of interrupted runs)
UNDECIDED = 0  #: step limit reached without a verdict
CONVERGED = 1  #: the run's convergence rule held (engine: loss within ``tol`` of the global
#: minimum at a linearly stable point, with momentum also at rest; networks: the rule named in
#: the run's ``convergence_rule`` attribute)
DIVERGED = 2  #: loss above the threshold or not finite
SADDLE = 3  #: reached a critical point that is not a global minimizer (gradient norm <= gtol)
OUTSIDE = 4  #: initial point outside the state space (quotient map: w < 2|z + y|)

STATUS_NAMES = {
    UNDECIDED: "undecided",
    CONVERGED: "converged",
    DIVERGED: "diverged",
    SADDLE: "saddle",
    OUTSIDE: "outside",
}

#: the codes network runs use (no saddle test, no state-space boundary)
NN_CODES = (CONVERGED, DIVERGED, UNDECIDED)

STATUS_DOC = "; ".join(f"{k}={v}" for k, v in sorted(STATUS_NAMES.items())) + "; -1=not run yet"


def status_fractions(status, codes=None) -> dict:
    """Shares of all points (one denominator: every point, so the shares sum to 1) with each
    status of ``codes`` (default: every code of :data:`STATUS_NAMES`), keyed by name, plus
    ``not_run`` when some points are not computed yet (interrupted or partial runs).

    ``status`` may be a NumPy array or an array-like read chunk by chunk (an xarray/zarr
    variable): it is never copied whole when it has ``chunks``."""
    codes = tuple(STATUS_NAMES) if codes is None else tuple(codes)
    counts, n, not_run = _counts(status, codes)
    n1 = max(n, 1)
    out = {STATUS_NAMES[c]: counts[c] / n1 for c in codes}
    if not_run:
        out["not_run"] = not_run / n1
    return out


def _counts(status, codes):
    blocks = _blocks(status)
    counts = dict.fromkeys(codes, 0)
    n = 0
    not_run = 0
    for b in blocks:
        b = np.asarray(b).ravel()
        n += b.size
        for c in codes:
            counts[c] += int(np.count_nonzero(b == c))
        not_run += int(np.count_nonzero(b < 0))
    return counts, n, not_run


def _blocks(status):
    """The array in row blocks of at most 2^22 values (the whole array when it is small)."""
    shape = getattr(status, "shape", None)
    if shape is None or len(shape) == 0:
        return [np.asarray(status)]
    rows = shape[0]
    per_row = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    step = max(1, (1 << 22) // max(per_row, 1))
    return (status[r:r + step] for r in range(0, rows, step))
