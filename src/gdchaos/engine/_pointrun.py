"""The one point runner of the engine: any optimizer (:mod:`gdchaos.engine.optimizers`) on any
gradient problem from a batch of initializations, each point with its own hyperparameters, on
the Numba kernel or the torch runner derived from the optimizer's definition.  ``basin``,
``hyper_map`` and every map built on them run their points here."""

from __future__ import annotations

import numpy as np

from ..errors import check_int
from .optim import Optimizer

#: default number of last losses averaged by the trainability score
SCORE_WINDOW = 20


class _Layout:
    """How a block of map points becomes initializations ``X0`` and hyperparameters ``HP``
    (``HP[i] = [eta of each group..., eta of the rest, the optimizer's hyperparameters...,
    lam, lmin]``)."""

    def __init__(self, problem, optimizer, init, directions):
        self.problem = problem
        self.opt = optimizer
        self.groups = _groups(problem)
        P = problem.n_params
        gidx = np.full(P, len(self.groups), dtype=np.int64)
        for k, idx in enumerate(self.groups.values()):
            gidx[np.asarray(idx)] = k
        self.gidx = gidx
        self.ncol = len(self.groups) + 1
        self.hyper_values = optimizer.hyper_values()
        self.lam_col = self.ncol + len(self.hyper_values)
        self.init = init
        self.directions = directions
        self._lmin = {}

    def lmin(self, lam):
        lam = float(lam)
        if lam not in self._lmin:  # the problem itself at its own lam (with_lam may be None)
            p = self.problem if lam == float(self.problem.lam) else self.problem.with_lam(lam)
            self._lmin[lam] = float(p.min_value)
        return self._lmin[lam]

    def hyper(self, vals, n):
        """``HP`` for ``n`` points from the axis values ``vals`` (name -> array or number)."""
        opt = self.opt
        HP = np.empty((n, self.lam_col + 2))
        eta = vals.get("eta", opt.eta)
        for k, name in enumerate(self.groups):
            HP[:, k] = vals.get(f"eta_{name}", opt.group_eta.get(name, eta))
        HP[:, self.ncol - 1] = eta
        for k, (name, value) in enumerate(self.hyper_values.items()):
            HP[:, self.ncol + k] = vals.get(name, value)
        lam = np.broadcast_to(np.asarray(vals.get("lam", self.problem.lam), dtype=float), (n,))
        HP[:, self.lam_col] = lam
        HP[:, self.lam_col + 1] = [self.lmin(v) for v in lam] if "lam" in vals \
            else self.lmin(self.problem.lam)
        return HP

    def points(self, vals, n):
        """``X0`` for ``n`` points: ``s * (init + a e1 + b e2) + offsets``."""
        X = np.broadcast_to(self.init, (n, self.init.size))
        if "slice_x" in vals:
            X = X + np.asarray(vals["slice_x"])[:, None] * self.directions[0]
        if "slice_y" in vals:
            X = X + np.asarray(vals["slice_y"])[:, None] * self.directions[1]
        if "init_scale" in vals:
            X = np.asarray(vals["init_scale"])[:, None] * X
        X = np.array(X, dtype=np.float64)
        for name, idx in self.groups.items():
            if f"offset_{name}" in vals:
                X[:, np.asarray(idx)] += np.asarray(vals[f"offset_{name}"])[:, None]
        return X


def run_optimizer(problem, X0, optimizer: Optimizer, *, hyper=None, max_iter=1000, tol=1e-8,
                  div_threshold=1e8, gtol=1e-10, dtype="float64", backend="numba", device=None,
                  window=SCORE_WINDOW, out=None):
    """Run ``optimizer`` from every row of ``X0``; ``hyper`` maps axis names (``eta``,
    ``eta_GROUP``, ``lam``, the optimizer's hyperparameters: ``momentum``, ``weight_decay``,
    ...) to per-point arrays (or numbers) that replace the optimizer's (or problem's)
    settings.  Never raises per point.  Returns a dict of ``status``, ``iterations``,
    ``final_loss``, ``score``, ``params`` (arrays; on Numba written into the arrays of ``out``
    where it has them)."""
    window = check_int("score window", window, lo=1)
    X0 = np.ascontiguousarray(problem.check_X(X0), dtype=np.float64)
    if dtype == "float32":
        X0 = X0.astype(np.float32).astype(np.float64)
    lay = _Layout(problem, optimizer, None, None)
    n = X0.shape[0]
    HP = lay.hyper({k: np.broadcast_to(np.asarray(v, dtype=float), (n,))
                    for k, v in (hyper or {}).items()}, n)
    args = (problem.consts(), HP, lay.gidx, lay.ncol)
    cls = optimizer.definition
    tail = (int(max_iter), float(tol), float(div_threshold), float(gtol), dtype == "float32",
            int(window))
    given = out or {}
    out = {k: given[k] if k in given else empty() for k, empty in (
        ("params", lambda: np.empty_like(X0)), ("status", lambda: np.empty(n, dtype=np.int8)),
        ("iterations", lambda: np.empty(n, dtype=np.int32)),
        ("final_loss", lambda: np.empty(n)), ("score", lambda: np.empty(n)))}
    if backend == "numba":
        from ._kernelgen import optimizer_kernel

        if n:
            optimizer_kernel(problem, cls, optimizer.stop_rule)(
                X0, *args, *tail, out["params"], out["status"], out["iterations"],
                out["final_loss"], out["score"])
        return out
    from ._torch import run_torch_opt

    lam_col = HP[:, lay.lam_col]
    for lam in np.unique(lam_col):  # the torch runner takes one weight decay per batch
        m = lam_col == lam
        res = run_torch_opt(problem, X0[m], args[0], HP[m], *args[2:], cls, *tail,
                            device=device, rule=optimizer.stop_rule)
        for k, v in zip(("params", "status", "iterations", "final_loss", "score"), res):
            out[k][m] = v
    return out


def _groups(problem):
    return dict(problem.param_groups or {})
