"""Users' own problems: a loss written once, run by the same engine, measures and plots.

Two routes (docs/problems.md has a worked example of each):

* :class:`NumbaProblem`: write ``loss_grad(x, c, g)`` in Numba-compilable Python (one point:
  ``x`` the parameters, ``c = self.consts()``, write the gradient into ``g``, return the loss).
  The engine compiles it into its GD kernel (numba backend, compiled speed).
* :class:`TorchProblem`: write ``torch_loss(x)`` for one point in PyTorch; gradients and
  Hessians come from ``torch.func`` (torch backend, CPU or CUDA).

Both give NumPy ``loss``/``grad`` for records, plots and measures.  Before a run the definition
is checked at a few points (:meth:`UserProblem.validate`): shapes, a finite loss at the start,
and the gradient against central differences of the loss.

A problem in a file is loaded by :func:`load_problem` (``"path/to/mine.py:MyProblem"``), which
the command line's ``--problem path/to/mine.py:MyProblem --param NAME=VALUE`` uses.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys

import numpy as np

from ..errors import GdchaosInputError
from ._base import Problem, function_source

#: relative error of the gradient against central differences above which a problem is refused
GRAD_RTOL = 1e-4


class UserProblem(Problem):
    """Common part of users' problems.  Subclasses set ``n_params`` (a class attribute or a
    property), keep their parameters as attributes set in ``__init__``, and may set ``name``,
    ``min_value`` (default 0: the loss's global minimum, used by the convergence rule),
    ``minimizers`` (a description) and ``default_window``."""

    min_value = 0.0
    minimizers = "not described (a user's problem)"
    lam = 0.0

    def consts(self) -> np.ndarray:
        """Constants handed to the compiled code (default: none)."""
        return np.zeros(1)

    def params(self) -> dict:
        out = {"problem": self.name or type(self).__name__}
        for k, v in sorted(vars(self).items()):
            if k.startswith("_"):
                continue
            if isinstance(v, (bool, int, float, str)):
                out[k] = v
            elif isinstance(v, (list, tuple, np.ndarray)):
                out[k] = np.asarray(v, dtype=float).tolist()
        return out

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items() if k != "problem")
        return f"{type(self).__name__}({args})"

    # -- checks before a run --------------------------------------------------------------------
    def validate(self, X) -> None:
        if getattr(self, "_validated", False):
            return
        P = self.n_params
        if int(P) != P or P < 1:
            raise GdchaosInputError(f"{self!r}: n_params must be a positive integer, got {P!r}")
        c = np.asarray(self.consts(), dtype=float)
        if c.ndim != 1 or not np.all(np.isfinite(c)):
            raise GdchaosInputError(f"{self!r}: consts() must be a 1-D finite float array")
        X = np.atleast_2d(np.asarray(X, dtype=float))
        probes = _probe_points(X, P)
        L = self.loss(probes)
        G = self.grad(probes)
        if np.shape(L) != (probes.shape[0],) or np.shape(G) != probes.shape:
            raise GdchaosInputError(f"{self!r}: the loss must be a number and the gradient have "
                                    f"{P} entries per point (got shapes {np.shape(L)[1:]} and "
                                    f"{np.shape(G)[1:]})")
        start = X[: min(len(X), 64)]
        if len(start) and not np.any(np.isfinite(self.loss(start))):
            raise GdchaosInputError(f"{self!r}: the loss is NaN or infinite at the start "
                                    f"(x = {start[0].tolist()})")
        _check_gradient(self, probes, L, G)
        object.__setattr__(self, "_validated", True)


def _probe_points(X, P):
    """A few points where the definition is checked: the start's first, middle and last rows
    and seeded random points near them."""
    rows = [X[0], X[len(X) // 2], X[-1]] if len(X) else [np.zeros(P)]
    rows = [r for r in rows if np.all(np.isfinite(r))] or [np.zeros(P)]
    rng = np.random.default_rng(0)
    base = np.array(rows)
    extra = base[rng.integers(0, len(base), 5)] + 0.3 * rng.normal(size=(5, P))
    return np.concatenate([base, extra])


def _check_gradient(problem, probes, L, G):
    P = probes.shape[1]
    for i in range(probes.shape[0]):
        x = probes[i]
        if not (np.isfinite(L[i]) and np.all(np.isfinite(G[i]))):
            continue
        h = 1e-6 * max(1.0, float(np.max(np.abs(x))))
        E = np.eye(P) * h
        fd = (problem.loss(x + E) - problem.loss(x - E)) / (2 * h)
        scale = max(1.0, float(np.max(np.abs(fd))), float(np.max(np.abs(G[i]))))
        err = float(np.max(np.abs(fd - G[i]))) / scale
        if err > GRAD_RTOL:
            raise GdchaosInputError(f"{problem!r}: the gradient does not match the loss at x = "
                                    f"{np.round(x, 6).tolist()} (relative error {err:.2g} against "
                                    "central differences)")


class NumbaProblem(UserProblem):
    """A problem whose ``loss_grad(x, c, g) -> loss`` (a ``@staticmethod``) is Numba-compilable
    Python: the engine compiles it into its GD kernel.  It may use ``np`` and ``math`` and its
    arguments only (no globals of its module)."""

    @staticmethod
    def loss_grad(x, c, g):  # pragma: no cover - the subclass defines it
        raise NotImplementedError

    def numba_source(self):
        return ('@njit(inline="always")\n' + function_source(type(self).loss_grad, "_user")
                + _WRAP)

    def _batch(self):
        mod = getattr(self, "_compiled", None)
        if mod is None:
            from numba import njit

            mod = njit(cache=False)(type(self).loss_grad)  # a staticmethod: the plain function
            object.__setattr__(self, "_compiled", mod)
        return mod

    def _eval(self, X):
        X = np.atleast_2d(np.asarray(X, dtype=float))
        f = self._batch()
        c = np.asarray(self.consts(), dtype=float)
        L = np.empty(X.shape[0])
        G = np.empty_like(X)
        with np.errstate(all="ignore"):
            for i in range(X.shape[0]):
                L[i] = f(np.ascontiguousarray(X[i]), c, G[i])
        return L, G

    def loss(self, X):
        return self._eval(X)[0]

    def grad(self, X):
        return self._eval(X)[1]


_WRAP = '''

@njit(inline="always")
def _grad(x, consts, lam, g, work):
    loss = _user(x, consts, g)
    g2 = 0.0
    for j in range(x.shape[0]):
        g2 += g[j] * g[j]
    return loss, g2
'''


class TorchProblem(UserProblem):
    """A problem whose ``torch_loss(x)`` (one point, a float64 tensor of ``n_params``) is written
    in PyTorch; ``torch.func`` gives its gradient (``grad``) and Hessian (``hessian``)."""

    def torch_loss(self, x):  # pragma: no cover - the subclass defines it
        raise NotImplementedError

    def torch_loss_grad(self, X, c, lam):
        from torch.func import grad_and_value, vmap

        g, loss = vmap(grad_and_value(self.torch_loss))(X)
        return loss, g, (g * g).sum(dim=1)

    def torch_sharpness(self, X, c, lam):
        import torch
        from torch.func import hessian, vmap

        return torch.linalg.eigvalsh(vmap(hessian(self.torch_loss))(X))[:, -1]

    def _eval(self, X):
        import torch

        X = torch.as_tensor(np.atleast_2d(np.asarray(X, dtype=float)), dtype=torch.float64)
        loss, g, _ = self.torch_loss_grad(X, None, 0.0)
        if loss.ndim != 1:
            raise GdchaosInputError(f"{self!r}: torch_loss must return a scalar tensor")
        return loss.detach().numpy(), g.detach().numpy()

    def loss(self, X):
        return self._eval(X)[0]

    def grad(self, X):
        return self._eval(X)[1]


def load_problem(spec: str, params: dict | None = None) -> Problem:
    """The problem ``"path/to/file.py:ClassName"`` built with ``params`` (keyword arguments);
    every failure is one line (:class:`GdchaosInputError`)."""
    path, sep, cls_name = str(spec).rpartition(":")
    if not sep or not path.endswith(".py") or not cls_name.isidentifier():
        raise GdchaosInputError(f"--problem {spec!r}: a user's problem is written "
                                "path/to/file.py:ClassName")
    if not os.path.isfile(path):
        raise GdchaosInputError(f"--problem {spec!r}: no file {path!r}")
    key = hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:12]
    mod_name = f"gdchaos_user_{key}"
    try:
        loader_spec = importlib.util.spec_from_file_location(mod_name, path)
        mod = importlib.util.module_from_spec(loader_spec)
        sys.modules[mod_name] = mod
        loader_spec.loader.exec_module(mod)
    except Exception as exc:  # noqa: BLE001 - the user's file: its error, in one line
        raise GdchaosInputError(f"--problem {spec!r}: importing {path} failed: "
                                f"{type(exc).__name__}: {exc}") from None
    cls = getattr(mod, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Problem)):
        raise GdchaosInputError(f"--problem {spec!r}: {cls_name} is not a gdchaos Problem class "
                                "in that file (subclass NumbaProblem or TorchProblem)")
    try:
        prob = cls(**(params or {}))
    except (TypeError, ValueError) as exc:
        raise GdchaosInputError(f"--problem {spec!r}: {cls_name}({_kw(params)}) failed: {exc}") \
            from None
    if not prob.name:
        object.__setattr__(prob, "name", cls_name)
    return prob


def _kw(params):
    return ", ".join(f"{k}={v!r}" for k, v in (params or {}).items())
