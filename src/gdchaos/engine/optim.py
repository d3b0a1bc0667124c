"""The optimizer a run uses and its settings (:class:`Optimizer`), and the NumPy reference of its
steps, as pure ``(init, update)`` pairs with explicit state (optax style).

Each optimizer is *defined* once, in :mod:`gdchaos.engine.optimizers` (built-ins) or in a user's
file (``--optimizer path.py:Class``): its per-coordinate update, its state, its hyperparameters
and its stability threshold.  The NumPy steps here, the Numba kernels
(:mod:`gdchaos.engine._kernelgen`) and the torch runner (:mod:`gdchaos.engine._torch`) are all
derived from that definition (:mod:`gdchaos.engine._optgen`) and tested against one another
step by step (``tests/engine/test_optim.py``).

Every optimizer has a step size per parameter (``eta``: a vector of ``n_params``, built from a
global step size and per-group step sizes by :meth:`Optimizer.step_sizes`).  The built-ins,
with gradient ``g = grad L(x_t)`` and ``t = 0, 1, ...`` (all arithmetic float64, per coordinate):

========== =============================================================================
kind       update
========== =============================================================================
gd         ``x' = x - eta g``
heavy_ball ``x' = x - eta g + beta (x - x_prev)``  (Polyak)
nesterov   ``m' = beta m + g``;  ``x' = x - eta (g + beta m')``  (PyTorch/optax form)
adam       ``m' = b1 m + (1 - b1) g``;  ``v' = b2 v + (1 - b2) g g``;
           ``p1' = p1 b1``, ``p2' = p2 b2`` (``p1 = p2 = 1`` at the start);
           ``x' = x - eta ((m' / (1 - p1')) / (sqrt(v' / (1 - p2')) + eps))``
adamw      as adam, with ``x' = x - eta ((m'/(1 - p1'))/(sqrt(v'/(1 - p2')) + eps) + wd x)``
========== =============================================================================

``beta`` (heavy ball, Nesterov) and ``b1`` (Adam, AdamW) are the field ``momentum``; ``b2`` is
``beta2``; ``wd`` is AdamW's decoupled ``weight_decay`` (the other optimizers see weight decay
only through the problem's ``lam``).  A user's optimizer takes its hyperparameters in
``params`` (``--opt-param NAME=VALUE``).

Stopping rules (the run's ``stop_rule``, stored with its results): see :data:`STOP_RULES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from . import _optgen
from .optimizers import BUILTIN_OPTIMIZERS, hyper_defaults, resolve_optimizer, spec_of
from ..status import CONVERGENCE_RULES, LEGACY_RULES

from ..errors import GdchaosInputError, check_nonneg, check_positive

KINDS = tuple(BUILTIN_OPTIMIZERS)
#: built-in kinds whose convergence test includes linear stability of the minimizer
LINEAR_KINDS = tuple(k for k, c in BUILTIN_OPTIMIZERS.items() if c.threshold is not None)

#: name -> meaning of the optimizers' convergence rules (entries of
#: :data:`gdchaos.status.CONVERGENCE_RULES`; a run's ``convergence_rule``)
STOP_RULES = {k: CONVERGENCE_RULES[k]
              for k in ("loss_below_tol_and_stable", "loss_below_tol_and_still", "loss_below_tol")}


def stop_rule(kind) -> str:
    """The default convergence rule of optimizer ``kind`` (a key of :data:`STOP_RULES`):
    ``loss_below_tol_and_stable`` where its definition has a stability threshold, else
    ``loss_below_tol_and_still`` (``loss_below_tol``, the networks' rule with no stability or
    step test, is chosen with ``Optimizer(rule="loss_below_tol")``)."""
    cls = resolve_optimizer(kind)
    return "loss_below_tol_and_stable" if cls.threshold is not None else "loss_below_tol_and_still"


def stability_threshold(kind, beta=0.0, **hyper):
    """Linear stability of a step at curvature ``h`` (per unit step size): stable iff
    ``eta h < threshold``; the definition's ``threshold`` (GD ``2``, heavy ball ``2 + 2 beta``,
    Nesterov ``(2 + 2 beta)/(1 + 2 beta)`` from the Jury test of its 2 x 2 linearization).
    ``beta`` is the momentum; other hyperparameters by name."""
    cls = resolve_optimizer(kind)
    fn = _optgen.bound(cls, "threshold", _optgen.numpy_ops())
    if fn is None:
        raise GdchaosInputError(f"optimizer {cls.name} has no stability threshold")
    values = dict(hyper_defaults(cls), **hyper)
    if "momentum" in values:
        values["momentum"] = beta
    return fn(*(values[k] for k in cls.hyper))


DEFAULT_ETA = 0.1
"""The global step size when none is given: :class:`Optimizer`'s ``eta``, hence
:func:`gdchaos.hyper_map`'s, and ``gdchaos map --eta`` (one default for both)."""

#: the settings of the built-in kinds that are fields of :class:`Optimizer`
_FIELDS = ("momentum", "beta2", "eps", "weight_decay")


@dataclass(frozen=True)
class Optimizer:
    """An optimizer and its settings.

    ``kind``: a built-in name (``gd``, ``heavy_ball``, ``nesterov``, ``adam``, ``adamw``), a
    user's definition ``path/to/file.py:ClassName`` or an :class:`gdchaos.OptimizerDef`
    subclass; ``eta``: the global step size (default :data:`DEFAULT_ETA`, 0.1, as ``gdchaos
    map``); ``group_eta``: step sizes of named parameter groups (a dict ``{"u": 0.1}``; groups
    not named take ``eta``); ``momentum``: heavy ball/Nesterov ``beta`` or Adam's ``b1``
    (default 0 for gd, 0.9 otherwise); ``beta2``, ``eps``: Adam's; ``weight_decay``: AdamW's
    decoupled weight decay; ``params``: a user's optimizer's hyperparameters (name -> value;
    the others take their declared defaults); ``rule``: the convergence rule (a key of
    :data:`STOP_RULES`; default :func:`stop_rule` of the kind).
    """

    kind: object = "gd"
    eta: float = DEFAULT_ETA
    group_eta: dict = field(default_factory=dict)
    momentum: float | None = None
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    rule: str | None = None
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        cls = resolve_optimizer(self.kind)
        # a user's optimizer is recorded by its absolute path (a store reruns from anywhere)
        object.__setattr__(self, "kind", self.kind if BUILTIN_OPTIMIZERS.get(self.kind) is cls
                           else spec_of(cls))
        check_positive("step size eta", self.eta)
        object.__setattr__(self, "group_eta", {str(k): check_positive(f"step size of group {k}", v)
                                               for k, v in dict(self.group_eta).items()})
        builtin = BUILTIN_OPTIMIZERS.get(self.kind) is cls
        if builtin:
            self._check_builtin()
        else:
            self._check_user(cls)
        if self.rule in LEGACY_RULES:  # a store recorded before the one vocabulary
            object.__setattr__(self, "rule", LEGACY_RULES[self.rule])
        if self.rule is not None and self.rule not in (stop_rule(cls), "loss_below_tol"):
            raise GdchaosInputError(f"convergence rule of {cls.name} must be "
                                    f"{stop_rule(cls)} or loss_below_tol, got {self.rule!r}")

    def _check_builtin(self):
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
        if self.params:
            raise GdchaosInputError(f"optimizer {self.kind} takes its settings as fields "
                                    f"({', '.join(_FIELDS)}), not params (--opt-param is for "
                                    "a user's optimizer)")

    def _check_user(self, cls):
        if self.momentum is not None or self.weight_decay or (self.beta2, self.eps) != (
                0.999, 1e-8):
            raise GdchaosInputError(f"optimizer {cls.name} takes its hyperparameters as "
                                    f"params (--opt-param NAME=VALUE: "
                                    f"{', '.join(cls.hyper) or 'none'})")
        params = {str(k): v for k, v in dict(self.params).items()}
        unknown = sorted(set(params) - set(cls.hyper))
        if unknown:
            raise GdchaosInputError(f"optimizer {cls.name} has no hyperparameter "
                                    f"{unknown[0]!r} (it has: {', '.join(cls.hyper) or 'none'})")
        object.__setattr__(self, "params", {k: cls.hyper[k].check(k, v)
                                            for k, v in params.items()})

    @property
    def definition(self):
        """The :class:`gdchaos.OptimizerDef` subclass that defines this optimizer."""
        return resolve_optimizer(self.kind)

    @property
    def name(self):
        return self.definition.name

    def hyper_values(self) -> dict:
        """The definition's hyperparameters (name -> value, in its declared order)."""
        cls = self.definition
        if BUILTIN_OPTIMIZERS.get(self.kind) is cls:
            return {k: float(getattr(self, k)) for k in cls.hyper}
        return dict(hyper_defaults(cls), **self.params)

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
        out = {"kind": self.kind, "eta": self.eta, "group_eta": dict(self.group_eta),
               "momentum": self.momentum, "beta2": self.beta2, "eps": self.eps,
               "weight_decay": self.weight_decay, "stop_rule": self.stop_rule}
        if self.params:
            out["params"] = dict(self.params)
        return out

    def pair(self, groups=None, n_params=None):
        """The pure pair ``(init, update)``: ``state = init(x0)``, ``state = update(state, g)``
        with ``g`` the gradient at ``state.x`` (rows of a batch, or one point); NumPy steps
        derived from the optimizer's definition."""
        eta = None if n_params is None else self.step_sizes(groups, n_params)
        cls = self.definition
        hyper = self.hyper_values()

        def init(x0):
            return init_state(x0, cls)

        def update(state, g):
            e = self.step_sizes(groups, state.x.shape[-1]) if eta is None else eta
            return _step(cls, state, g, e, hyper)

        return init, update


class OptState(NamedTuple):
    """State of every optimizer: the iterate ``x``, the previous iterate ``x_prev``, the
    definition's state (``slots``: one array like ``x`` per name of its ``state``, in order)
    and the step count ``t``."""

    x: np.ndarray
    x_prev: np.ndarray
    slots: tuple
    t: int


def init_state(x0, kind="gd") -> OptState:
    """The state at ``x0`` of optimizer ``kind`` (a name, a file spec or a definition)."""
    cls = resolve_optimizer(kind)
    x0 = np.array(x0, dtype=np.float64)
    return OptState(x0, x0.copy(), tuple(np.full_like(x0, float(v)) for v in cls.state.values()),
                    0)


def _step(cls, state, g, eta, hyper):
    update, _, _ = _optgen.steps(cls, _optgen.numpy_ops())
    h = [np.asarray(hyper[k], dtype=np.float64) for k in cls.hyper]
    h = [v[..., None] if v.ndim else v for v in h]  # per-point columns broadcast over params
    with np.errstate(all="ignore"):
        xn, slots = update(state.x, state.x_prev, np.asarray(g, dtype=np.float64), eta,
                           state.slots, h)
    return OptState(np.asarray(xn, dtype=np.float64), state.x, slots, state.t + 1)


def update_state(kind, state: OptState, g, eta, beta=0.0, beta2=0.999, eps=1e-8, wd=0.0,
                 **hyper) -> OptState:
    """One NumPy step of optimizer ``kind`` (derived from its definition).  ``eta``
    broadcasts against the parameters (a vector of ``n_params``, or ``(n, n_params)`` per
    point); the built-ins' ``beta`` (momentum), ``beta2``, ``eps``, ``wd`` (weight decay) and
    a user's hyperparameters by name are numbers or per-point vectors ``(n,)``."""
    cls = resolve_optimizer(kind)
    values = dict(hyper_defaults(cls), **hyper)
    for name, v in (("momentum", beta), ("beta2", beta2), ("eps", eps), ("weight_decay", wd)):
        if name in cls.hyper and name not in hyper:
            values[name] = v
    if state.slots == () and cls.state:
        state = state._replace(slots=init_state(state.x, cls).slots)
    return _step(cls, state, g, eta, values)


def reference_run(problem, optimizer: Optimizer, X0, steps):
    """``steps`` steps of ``optimizer`` on ``problem`` from every row of ``X0`` (no stopping
    rule): the plain loop the engine is tested against.  Returns the final iterates."""
    init, update = optimizer.pair(getattr(problem, "param_groups", None), problem.n_params)
    state = init(np.atleast_2d(np.asarray(X0, dtype=np.float64)))
    for _ in range(int(steps)):
        state = update(state, problem.grad(state.x))
    return state.x
