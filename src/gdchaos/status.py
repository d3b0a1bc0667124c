"""Per-point status codes of batched runs (stored as int8), shared by the engine, the analysis
and the networks, and the one function that turns a status array into fractions."""

from __future__ import annotations

import numpy as np

NOT_RUN = -1  #: tile not computed yet (only in stores of interrupted runs)
UNDECIDED = 0  #: step limit reached without a verdict
CONVERGED = 1  #: the run's convergence rule held, named in its ``convergence_rule``: the engine's
#: ``"loss_below_tol_and_stable"`` (loss within ``tol`` of the global minimum at a linearly
#: stable point, with momentum also at rest); the networks' ``"loss_below_tol"`` (data loss
#: below ``tol``, no stability test: :data:`gdchaos.nn.CONVERGENCE_RULE`)
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

#: the named convergence rules (a run stores its rule in ``convergence_rule``): the engine's
#: (loss within tol of the global minimum at a linearly stable point; with momentum also at
#: rest) and the networks' (loss below tol, no stability test)
CONVERGENCE_RULES = {
    "loss_below_tol_and_stable": (
        "loss - min <= tol (with momentum > 0 also a last step of squared length <= tol) at a "
        "linearly stable point: the top eigenvalue of D^1/2 H D^1/2 (D = diag of the "
        "per-parameter step sizes, H the Hessian; one step size: eta H) below 2 + 2 beta (GD, "
        "heavy ball) or (2 + 2 beta)/(1 + 2 beta) (Nesterov), or the gradient exactly 0"),
    "loss_below_tol": "loss <= tol (no stability test)",
    "loss_below_tol_and_still": (
        "loss - min <= tol and a last step of squared length <= tol (adaptive optimizers: "
        "GD's linear-stability test does not apply to Adam)"),
}
#: the names maps recorded before the rules had one vocabulary (read from older stores)
LEGACY_RULES = {"loss+linear-stability": "loss_below_tol_and_stable",
                "loss+step": "loss_below_tol_and_still"}
ENGINE_RULE = "loss_below_tol_and_stable"

#: the codes network runs use (no saddle test, no state-space boundary)
NN_CODES = (CONVERGED, DIVERGED, UNDECIDED)

#: the codes of a boundary-refined map's ``computed`` variable (:mod:`gdchaos.engine._refine`)
FILLED, COMPUTED, SAMPLED_AGREE, SAMPLED_DISAGREE = 0, 1, 2, 3

STATUS_DOC = "; ".join(f"{k}={v}" for k, v in sorted(STATUS_NAMES.items())) + "; -1=not run yet"

#: names of the variables gdchaos writes: each store variable's ``long_name`` where it has none
VARIABLE_LONG_NAMES = {
    "status": "status of the run",
    "iterations": "steps run",
    "steps": "steps run",
    "final_loss": "loss at the last iterate",
    "sq_norm": "squared norm of the final parameters",
    "imbalance": "imbalance of the final parameters",
    "sharpness": "top Hessian eigenvalue at the final parameters",
    "final_sharpness": "top Hessian eigenvalue at the final parameters",
    "minimizer": "minimizer reached",
    "coordinate": "final value of one parameter",
    "distance": "distance of the final iterate to a point",
    "score": "trainability score",
    "trainable": "trainable (score < 1)",
    "params": "final parameters",
    "loss_history": "loss at each step",
    "sharpness_history": "top Hessian eigenvalue at recorded steps",
    "computed": "how refinement obtained the pixel",
}

#: the CF flag attributes of the coded variables (``flag_values`` beside ``flag_meanings``)
FLAGS = {
    "status": {"flag_values": [NOT_RUN] + sorted(STATUS_NAMES),
               "flag_meanings": " ".join(["not_run"] + [STATUS_NAMES[k]
                                                        for k in sorted(STATUS_NAMES)]),
               "codes": STATUS_DOC},
    "minimizer": {"flag_values": [-1, 0, 1, 2], "flag_meanings": "not_run none p_minus p_plus",
                  "codes": "1=p- (closest), 2=p+ (farthest), 0=none"},
    "computed": {"flag_values": [-1, FILLED, COMPUTED, SAMPLED_AGREE, SAMPLED_DISAGREE],
                 "flag_meanings": "not_run filled computed sampled_agree sampled_disagree",
                 "codes": "1=computed; 0=filled from the nearest corner of a cell whose corners "
                          "and neighbours agree; 2=filled, then computed as a check sample that "
                          "agreed; 3=such a sample that disagreed (its values are the computed "
                          "ones); -1=not run yet"},
}


def variable_attrs(name, attrs=None) -> dict:
    """The attributes a map's variable ``name`` is stored with: ``attrs`` plus, where they are
    not given, its ``long_name`` (:data:`VARIABLE_LONG_NAMES`) and, for the coded variables,
    the CF ``flag_values``/``flag_meanings`` and the ``codes`` text (:data:`FLAGS`).  Metadata
    only: never part of a run's record."""
    out = dict(attrs or {})
    for k, v in FLAGS.get(name, {}).items():
        out.setdefault(k, v)
    if name in VARIABLE_LONG_NAMES:
        out.setdefault("long_name", VARIABLE_LONG_NAMES[name])
    return out


def status_fractions(status, codes=None) -> dict:
    """Shares of all points (one denominator: every point, so the shares sum to 1) with each
    status of ``codes`` (default: every code of :data:`STATUS_NAMES`), keyed by name, plus
    ``not_run`` when some points are not computed yet (interrupted or partial runs).

    ``status`` may be a NumPy array, an array-like read chunk by chunk (an xarray/zarr
    variable: it is never copied whole when it has ``chunks``), an iterator of blocks, or a
    map's ``xarray.Dataset`` (its ``status``)."""
    codes = tuple(STATUS_NAMES) if codes is None else tuple(codes)
    counts, n, not_run = _counts(status, codes)
    n1 = max(n, 1)
    out = {STATUS_NAMES[c]: counts[c] / n1 for c in codes}
    if not_run:
        out["not_run"] = not_run / n1
    return out


def _counts(status, codes):
    if hasattr(status, "data_vars"):  # a map's dataset: its status variable
        if "status" not in status.data_vars:
            from .errors import GdchaosInputError

            raise GdchaosInputError("status_fractions: the dataset has no status variable")
        status = status["status"]
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
    """The array in row blocks of at most 2^22 values (the whole array when it is small); an
    iterator of blocks as it is."""
    if hasattr(status, "__next__"):
        return status
    shape = getattr(status, "shape", None)
    if shape is None or len(shape) == 0:
        return [np.asarray(status)]
    rows = shape[0]
    per_row = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    step = max(1, (1 << 22) // max(per_row, 1))
    return (status[r:r + step] for r in range(0, rows, step))
