"""Per-point status codes of batched runs (stored as int8)."""

from __future__ import annotations

NOT_RUN = -1  #: tile not computed yet (only in stores of interrupted runs)
UNDECIDED = 0  #: step limit reached without a verdict
CONVERGED = 1  #: loss within ``tol`` of the global minimum (and, with momentum, at rest)
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

STATUS_DOC = "; ".join(f"{k}={v}" for k, v in sorted(STATUS_NAMES.items())) + "; -1=not run yet"
