"""Optimizers, each defined once (optax style: an update rule with explicit state), and users'
optimizers the way users bring a problem (docs/maps.md, "Your own optimizer").

A definition is a subclass of :class:`OptimizerDef` that fills, once:

``hyper``
    ``{name: Hyper(default, help, lo, hi)}``: its hyperparameters, one number per point (each
    is a flag value ``--opt-param NAME=VALUE`` and a map axis ``--x-axis NAME:lin:LO,HI``);
``state``
    ``{name: initial value}``: its state, one number per parameter (moments, products);
``update(x, x_prev, g, eta, *state, *hyper)`` (required, a ``staticmethod``)
    one coordinate's step: the iterate, the previous iterate, the gradient and the step size of
    that coordinate, its state and the hyperparameters, in the order declared; returns the new
    iterate, or ``(new iterate, *new state)``;
``threshold(*hyper)`` (optional)
    linear stability per unit step size: a minimizer of sharpness ``h`` is stable iff ``eta h <
    threshold`` (GD ``2``).  With it the optimizer's convergence rule is
    ``loss_below_tol_and_stable``, without it ``loss_below_tol_and_still``;
``step_test(*hyper)`` (optional)
    whether convergence also needs a last step of squared length ``<= tol`` (default: yes).

The functions are plain arithmetic on their arguments, written with the operators, numeric
literals, ``abs`` and the functions :data:`OPS` of this module (``sqrt``, ``sign``, ``exp``,
``log``, ``maximum``, ``minimum``, ``where``).  Every backend derives its step from that one
text: the Numba kernels compile its source (:mod:`gdchaos.engine._kernelgen`), NumPy
(:mod:`gdchaos.engine.optim`, the reference) and torch (:mod:`gdchaos.engine._torch`) call the
same function with these names bound to their own functions, element by element on arrays, so
the backends compute the same operations in the same order.
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
import sys
from dataclasses import dataclass

import numpy as np

from ..errors import GdchaosInputError
from ..problems import (definition_error, import_user_file, kernel_function_fault,
                        user_code_error)

#: the functions an optimizer's arithmetic may call (besides ``abs``), NumPy's here
OPS = ("sqrt", "sign", "exp", "log", "maximum", "minimum", "where")
sqrt, sign, exp, log = np.sqrt, np.sign, np.exp, np.log
maximum, minimum, where = np.maximum, np.minimum, np.where


@dataclass(frozen=True)
class Hyper:
    """A declared hyperparameter: its ``default``, one line of ``help``, and its range
    ``[lo, hi]`` (``lo_open``/``hi_open``: the end excluded)."""

    default: float
    help: str
    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False

    def check(self, name, value) -> float:
        """``value`` as a float, or one line saying why it is refused."""
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise GdchaosInputError(f"{name} must be a number, got {value!r}") from None
        v = float(value)
        low_bad = v < self.lo or (self.lo_open and v == self.lo)
        high_bad = v > self.hi or (self.hi_open and v == self.hi)
        if not math.isfinite(v) or low_bad or high_bad:
            raise GdchaosInputError(f"{name} must be in {self.interval()}, got {value}")
        return v

    def interval(self):
        return (f"{'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}"
                f"{')' if self.hi_open else ']'}")


class OptimizerDef:
    """Base class of an optimizer's definition (the module docstring says what to fill)."""

    name: str = ""
    hyper: dict = {}
    state: dict = {}
    threshold = None
    step_test = None

    @staticmethod
    def update(x, x_prev, g, eta):  # pragma: no cover - the subclass defines it
        raise NotImplementedError


class GD(OptimizerDef):
    """Gradient descent."""

    name = "gd"

    @staticmethod
    def update(x, x_prev, g, eta):
        return x - eta * g

    @staticmethod
    def threshold():
        return 2.0

    @staticmethod
    def step_test():
        return False


_MOMENTUM = Hyper(0.9, "heavy ball/Nesterov beta", 0.0, 1.0, hi_open=True)


class HeavyBall(OptimizerDef):
    """Polyak's heavy ball: ``x' = x - eta g + beta (x - x_prev)``."""

    name = "heavy_ball"
    hyper = {"momentum": _MOMENTUM}

    @staticmethod
    def update(x, x_prev, g, eta, momentum):
        return x - eta * g + momentum * (x - x_prev)

    @staticmethod
    def threshold(momentum):
        return 2.0 + 2.0 * momentum

    @staticmethod
    def step_test(momentum):
        return momentum != 0.0


class Nesterov(OptimizerDef):
    """Nesterov momentum (PyTorch/optax form); its threshold is the Jury bound of its 2 x 2
    linearization."""

    name = "nesterov"
    hyper = {"momentum": _MOMENTUM}
    state = {"m": 0.0}

    @staticmethod
    def update(x, x_prev, g, eta, m, momentum):
        m = momentum * m + g
        return x - eta * (g + momentum * m), m

    @staticmethod
    def threshold(momentum):
        return (2.0 + 2.0 * momentum) / (1.0 + 2.0 * momentum)

    @staticmethod
    def step_test(momentum):
        return momentum != 0.0


_ADAM_HYPER = {"momentum": Hyper(0.9, "Adam's b1", 0.0, 1.0, hi_open=True),
               "beta2": Hyper(0.999, "Adam's b2", 0.0, 1.0, hi_open=True),
               "eps": Hyper(1e-8, "Adam's epsilon", 0.0, lo_open=True)}


class Adam(OptimizerDef):
    """Adam with bias correction (``p1 = b1^t``, ``p2 = b2^t``)."""

    name = "adam"
    hyper = _ADAM_HYPER
    state = {"m": 0.0, "v": 0.0, "p1": 1.0, "p2": 1.0}

    @staticmethod
    def update(x, x_prev, g, eta, m, v, p1, p2, momentum, beta2, eps):
        p1 = p1 * momentum
        p2 = p2 * beta2
        m = momentum * m + (1.0 - momentum) * g
        v = beta2 * v + (1.0 - beta2) * (g * g)
        u = (m / (1.0 - p1)) / (sqrt(v / (1.0 - p2)) + eps)
        return x - eta * u, m, v, p1, p2


class AdamW(OptimizerDef):
    """Adam with decoupled weight decay: ``x' = x - eta (adam step + wd x)``."""

    name = "adamw"
    hyper = dict(_ADAM_HYPER, weight_decay=Hyper(0.0, "AdamW's decoupled weight decay", 0.0))
    state = Adam.state

    @staticmethod
    def update(x, x_prev, g, eta, m, v, p1, p2, momentum, beta2, eps, weight_decay):
        p1 = p1 * momentum
        p2 = p2 * beta2
        m = momentum * m + (1.0 - momentum) * g
        v = beta2 * v + (1.0 - beta2) * (g * g)
        u = (m / (1.0 - p1)) / (sqrt(v / (1.0 - p2)) + eps)
        u = u + weight_decay * x
        return x - eta * u, m, v, p1, p2


#: the built-in optimizers, by name
BUILTIN_OPTIMIZERS = {c.name: c for c in (GD, HeavyBall, Nesterov, Adam, AdamW)}


def spec_of(cls) -> str:
    """How ``--optimizer`` names ``cls``: a built-in's name, else ``path/to/file.py:Class``."""
    if BUILTIN_OPTIMIZERS.get(getattr(cls, "name", None)) is cls:
        return cls.name
    mod = sys.modules.get(cls.__module__)
    path = getattr(mod, "__file__", None)
    if not path:
        raise GdchaosInputError(f"optimizer {cls.__name__} must be defined in a file")
    return f"{os.path.abspath(path)}:{cls.__name__}"


def resolve_optimizer(kind):
    """The definition class of ``kind``: a built-in name, ``path/to/file.py:Class`` or an
    :class:`OptimizerDef` subclass; checked (:func:`check_optimizer`), failures in one line."""
    if isinstance(kind, type):
        return check_optimizer(kind)
    kind = str(kind)
    if kind in BUILTIN_OPTIMIZERS:
        return BUILTIN_OPTIMIZERS[kind]
    if ".py:" not in kind:
        raise GdchaosInputError(f"optimizer must be one of {', '.join(BUILTIN_OPTIMIZERS)} or "
                                f"a user's optimizer path/to/file.py:ClassName, got {kind!r}")
    mod, cls_name = import_user_file(kind, "--optimizer")
    cls = getattr(mod, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, OptimizerDef)):
        raise GdchaosInputError(f"--optimizer {kind!r}: {cls_name} is not a subclass of "
                                "gdchaos.OptimizerDef in that file")
    return check_optimizer(cls)


_CHECKED: dict = {}


def check_optimizer(cls):
    """``cls`` if it is a usable definition, else one line naming its file and line."""
    if cls in _CHECKED:
        return cls
    if not (isinstance(cls, type) and issubclass(cls, OptimizerDef)) or cls is OptimizerDef:
        raise GdchaosInputError(f"an optimizer must subclass gdchaos.OptimizerDef, got {cls!r}")
    if not cls.name:
        cls.name = cls.__name__
    for attr, kind in (("hyper", Hyper), ("state", numbers.Real)):
        value = getattr(cls, attr)
        if not isinstance(value, dict) or not all(
                isinstance(k, str) and k.isidentifier() and isinstance(v, kind)
                for k, v in value.items()):
            raise definition_error(cls, attr, f"{attr} must be a dict of names to "
                                   f"{'Hyper(...)' if kind is Hyper else 'numbers'}")
    clash = set(cls.hyper) & (set(cls.state) | {"x", "x_prev", "g", "eta"})
    if clash:
        raise definition_error(cls, "hyper", f"hyperparameter names clash: {sorted(clash)}")
    expect = {"update": ["x", "x_prev", "g", "eta", *cls.state, *cls.hyper],
              "threshold": list(cls.hyper), "step_test": list(cls.hyper)}
    for name, args in expect.items():
        raw = inspect.getattr_static(cls, name)
        if raw is None and name != "update":
            continue
        if not isinstance(raw, staticmethod):
            raise definition_error(cls, name, f"{name} must be a @staticmethod")
        got = list(inspect.signature(raw.__func__).parameters)
        if got != args:
            raise definition_error(cls, name, f"{name} must take ({', '.join(args)}), got "
                                   f"({', '.join(got)})")
        fault = kernel_function_fault(raw.__func__, len(args), OPS)
        if fault is not None:
            raise definition_error(cls, name, f"{name}: {fault[1]}")
    _trial(cls)
    _CHECKED[cls] = True
    return cls


def _trial(cls):
    """One NumPy step on two points of three parameters: the update returns what it says."""
    rng = np.random.default_rng(0)
    x, xp, g = (rng.standard_normal((2, 3)) for _ in range(3))
    args = [x, xp, g, np.full((2, 3), 0.1)] + [np.full((2, 3), float(v))
                                               for v in cls.state.values()]
    args += [np.full((2, 1), h.default) for h in cls.hyper.values()]
    try:
        with np.errstate(all="ignore"):
            out = cls.update(*args)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the user's code: its error, in one line
        raise user_code_error(cls, "update", exc) from None
    n = 1 + len(cls.state)
    parts = (out,) if n == 1 else out
    if not isinstance(parts, tuple) or len(parts) != n or \
            any(np.shape(p) != (2, 3) for p in parts):
        want = "the new iterate" if n == 1 else f"a tuple of {n} (the new iterate and " \
            f"{', '.join(cls.state)})"
        raise definition_error(cls, "update", f"update must return {want}, element by element")


def hyper_defaults(cls) -> dict:
    return {k: float(h.default) for k, h in cls.hyper.items()}


__all__ = ["OPS", "Hyper", "OptimizerDef", "GD", "HeavyBall", "Nesterov", "Adam", "AdamW",
           "BUILTIN_OPTIMIZERS", "resolve_optimizer", "check_optimizer", "spec_of",
           "hyper_defaults", "sqrt", "sign", "exp", "log", "maximum", "minimum", "where"]
