"""Optimizers as pure ``(init, update)`` pairs with explicit state (optax style), in NumPy.

This module is the *definition* of every optimizer the engine runs; the Numba kernels
(:mod:`gdchaos.engine._kernelgen`) and the torch runner (:mod:`gdchaos.engine._torch`) implement
the same arithmetic in the same order and are tested against it step by step
(``tests/engine/test_optim.py``).  It imports NumPy only.

Every optimizer has a step size per parameter (``eta``: a vector of ``n_params``, built from a
global step size and per-group step sizes by :meth:`Optimizer.step_sizes`).  With gradient
``g = grad L(x_t)`` and ``t = 0, 1, ...`` (all arithmetic float64, per coordinate ``j``):

========== =============================================================================
kind       update
========== =============================================================================
gd         ``x' = x - eta g + beta (x - x_prev)`` with ``beta = 0`` (the engine's GD line)
heavy_ball ``x' = x - eta g + beta (x - x_prev)``  (Polyak)
nesterov   ``m' = beta m + g``;  ``x' = x - eta (g + beta m')``  (PyTorch/optax form)
adam       ``m' = b1 m + (1 - b1) g``;  ``v' = b2 v + (1 - b2) g g``;
           ``p1' = p1 b1``, ``p2' = p2 b2`` (``p1 = p2 = 1`` at the start);
           ``x' = x - eta ((m' / (1 - p1')) / (sqrt(v' / (1 - p2')) + eps))``
adamw      as adam, with ``x' = x - eta ((m'/(1 - p1'))/(sqrt(v'/(1 - p2')) + eps) + wd x)``
========== =============================================================================

``beta`` (heavy ball, Nesterov) and ``b1`` (Adam, AdamW) are the field ``momentum``; ``b2`` is
``beta2``; ``wd`` is AdamW's decoupled ``weight_decay`` (the other optimizers see weight decay
only through the problem's ``lam``).

Stopping rules (the run's ``stop_rule``, stored with its results): see :data:`STOP_RULES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..status import CONVERGENCE_RULES, LEGACY_RULES

from ..errors import GdchaosInputError, check_nonneg, check_positive

KINDS = ("gd", "heavy_ball", "nesterov", "adam", "adamw")
#: kinds whose convergence test includes linear stability of the minimizer
LINEAR_KINDS = ("gd", "heavy_ball", "nesterov")

#: name -> meaning of the optimizers' convergence rules (entries of
#: :data:`gdchaos.status.CONVERGENCE_RULES`; a run's ``convergence_rule``)
STOP_RULES = {k: CONVERGENCE_RULES[k]
              for k in ("loss_below_tol_and_stable", "loss_below_tol_and_still", "loss_below_tol")}


def stop_rule(kind: str) -> str:
    """The default convergence rule of optimizer ``kind`` (a key of :data:`STOP_RULES`;
    ``loss_below_tol``, the networks' rule with no stability or step test, is chosen with
    ``Optimizer(rule="loss_below_tol")``)."""
    return "loss_below_tol_and_stable" if kind in LINEAR_KINDS else "loss_below_tol_and_still"


def stability_threshold(kind: str, beta):
    """Linear stability of a step at curvature ``h`` (per unit step size): stable iff
    ``eta h < threshold`` (GD and heavy ball ``2 + 2 beta``; Nesterov ``(2 + 2 beta)/(1 + 2
    beta)`` from the Jury test of its 2 x 2 linearization)."""
    if kind == "nesterov":
        return (2.0 + 2.0 * beta) / (1.0 + 2.0 * beta)
    return 2.0 + 2.0 * beta


DEFAULT_ETA = 0.1
"""The global step size when none is given: :class:`Optimizer`'s ``eta``, hence
:func:`gdchaos.hyper_map`'s, and ``gdchaos map --eta`` (one default for both)."""


@dataclass(frozen=True)
class Optimizer:
    """An optimizer and its settings.

    ``eta``: the global step size (default :data:`DEFAULT_ETA`, 0.1, as ``gdchaos map``);
    ``group_eta``: step sizes of named parameter groups (a dict
    ``{"u": 0.1}``; groups not named take ``eta``); ``momentum``: heavy ball/Nesterov ``beta``
    or Adam's ``b1`` (default 0 for gd, 0.9 otherwise); ``beta2``, ``eps``: Adam's;
    ``weight_decay``: AdamW's decoupled weight decay; ``rule``: the convergence rule (a key
    of :data:`STOP_RULES`; default :func:`stop_rule` of the kind).
    """

    kind: str = "gd"
    eta: float = DEFAULT_ETA
    group_eta: dict = field(default_factory=dict)
    momentum: float | None = None
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    rule: str | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise GdchaosInputError(f"optimizer must be one of {', '.join(KINDS)}, got "
                                    f"{self.kind!r}")
        check_positive("step size eta", self.eta)
        object.__setattr__(self, "group_eta", {str(k): check_positive(f"step size of group {k}", v)
                                               for k, v in dict(self.group_eta).items()})
        m = (0.0 if self.kind == "gd" else 0.9) if self.momentum is None else self.momentum
        m = check_nonneg("momentum", m)
        if m >= 1:
            raise GdchaosInputError(f"momentum must be in [0, 1), got {m}")
        if self.kind == "gd" and m:
            raise GdchaosInputError("optimizer gd has no momentum (use heavy_ball or nesterov)")
        object.__setattr__(self, "momentum", m)
        b2 = check_nonneg("beta2", self.beta2)
        if b2 >= 1:
            raise GdchaosInputError(f"beta2 must be in [0, 1), got {b2}")
        check_positive("eps", self.eps)
        check_nonneg("weight decay", self.weight_decay)
        if self.weight_decay and self.kind != "adamw":
            raise GdchaosInputError("weight_decay is AdamW's (the other optimizers take weight "
                                    "decay as the problem's lam)")

        if self.rule in LEGACY_RULES:  # a store recorded before the one vocabulary
            object.__setattr__(self, "rule", LEGACY_RULES[self.rule])
        if self.rule is not None and self.rule not in (stop_rule(self.kind), "loss_below_tol"):
            raise GdchaosInputError(f"convergence rule of {self.kind} must be "
                                    f"{stop_rule(self.kind)} or loss_below_tol, got {self.rule!r}")

    @property
    def stop_rule(self):
        return stop_rule(self.kind) if self.rule is None else self.rule

    def step_sizes(self, groups, n_params):
        """The step size of every parameter (a float64 vector): ``eta``, with the parameters of
        each group named in ``group_eta`` set to its step size (``groups``: name -> indices,
        a problem's ``param_groups``)."""
        eta = np.full(int(n_params), float(self.eta))
        groups = groups or {}
        for name, value in self.group_eta.items():
            if name not in groups:
                raise GdchaosInputError(f"no parameter group {name!r} (groups: "
                                        f"{', '.join(groups) or 'none'})")
            eta[np.asarray(groups[name])] = value
        return eta

    def as_dict(self):
        return {"kind": self.kind, "eta": self.eta, "group_eta": dict(self.group_eta),
                "momentum": self.momentum, "beta2": self.beta2, "eps": self.eps,
                "weight_decay": self.weight_decay, "stop_rule": self.stop_rule}

    def pair(self, groups=None, n_params=None):
        """The pure pair ``(init, update)``: ``state = init(x0)``, ``state = update(state, g)``
        with ``g`` the gradient at ``state.x`` (rows of a batch, or one point)."""
        eta = None if n_params is None else self.step_sizes(groups, n_params)

        def init(x0):
            return init_state(x0)

        def update(state, g):
            e = self.step_sizes(groups, state.x.shape[-1]) if eta is None else eta
            return update_state(self.kind, state, g, e, self.momentum, self.beta2, self.eps,
                                self.weight_decay)

        return init, update


class OptState(NamedTuple):
    """State of every optimizer: the iterate ``x``, the previous iterate ``x_prev``, the first
    and second moments ``m``, ``v`` (zeros where unused), the products ``p1 = b1^t``,
    ``p2 = b2^t`` of the bias corrections, and the step count ``t``."""

    x: np.ndarray
    x_prev: np.ndarray
    m: np.ndarray
    v: np.ndarray
    p1: np.ndarray
    p2: np.ndarray
    t: int


def init_state(x0) -> OptState:
    x0 = np.array(x0, dtype=np.float64)
    ones = np.ones(x0.shape[:-1] + (1,))
    return OptState(x0, x0.copy(), np.zeros_like(x0), np.zeros_like(x0), ones, ones.copy(), 0)


def update_state(kind, state: OptState, g, eta, beta, beta2=0.999, eps=1e-8, wd=0.0) -> OptState:
    """One step of optimizer ``kind`` (the table of the module docstring).  ``eta`` broadcasts
    against the parameters (a vector of ``n_params``, or ``(n, n_params)`` per point);
    ``beta``, ``beta2``, ``eps``, ``wd`` are numbers or per-point columns ``(n, 1)``."""
    x, xp, m, v = state.x, state.x_prev, state.m, state.v
    g = np.asarray(g, dtype=np.float64)
    p1, p2 = state.p1, state.p2
    with np.errstate(all="ignore"):
        if kind in ("gd", "heavy_ball"):
            xn = x - eta * g + beta * (x - xp)
        elif kind == "nesterov":
            m = beta * m + g
            xn = x - eta * (g + beta * m)
        elif kind in ("adam", "adamw"):
            m = beta * m + (1.0 - beta) * g
            v = beta2 * v + (1.0 - beta2) * (g * g)
            p1 = p1 * beta
            p2 = p2 * beta2
            u = (m / (1.0 - p1)) / (np.sqrt(v / (1.0 - p2)) + eps)
            if kind == "adamw":
                u = u + wd * x
            xn = x - eta * u
        else:
            raise GdchaosInputError(f"unknown optimizer {kind!r}")
    return OptState(xn, x, m, v, p1, p2, state.t + 1)


def reference_run(problem, optimizer: Optimizer, X0, steps):
    """``steps`` steps of ``optimizer`` on ``problem`` from every row of ``X0`` (no stopping
    rule): the plain loop the engine is tested against.  Returns the final iterates."""
    init, update = optimizer.pair(getattr(problem, "param_groups", None), problem.n_params)
    state = init(np.atleast_2d(np.asarray(X0, dtype=np.float64)))
    for _ in range(int(steps)):
        state = update(state, problem.grad(state.x))
    return state.x
