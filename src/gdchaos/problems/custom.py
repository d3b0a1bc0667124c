"""Users' own problems: a loss written once, run by the same engine, measures and plots.

* :class:`NumbaProblem`: ``loss_grad(x, c, g)`` in Numba-compilable Python (one point, ``c =
  self.consts()``; the gradient into ``g``, returns the loss), compiled into the GD kernel.
* :class:`TorchProblem`: ``torch_loss(x)`` for one point in PyTorch (``torch.func`` gives
  gradients and Hessians; torch backend).

:func:`load_problem` (``"path/to/mine.py:MyProblem"``, the command line's ``--problem``) checks
what does not depend on the points (:func:`check_definition`); before a run
:meth:`UserProblem.validate` checks the run's own first points.  Whatever the user's code raises
becomes one line naming file, class, method and line (:class:`UserCodeError`).  docs/problems.md
has worked examples.
"""

from __future__ import annotations

import dis
import numbers

import numpy as np

from ..errors import GdchaosInputError
from ._base import Problem, function_source, gradient_mismatch, kernel_function_fault
from ._usercode import (UserCodeError, _call, _definition_line, _describe,  # noqa: F401
                        _file_of, _short, _user_line, definition_error, import_user_file,
                        user_code_error)

#: relative error of the gradient against central differences above which a problem is refused
GRAD_RTOL = 1e-4
#: the globals a ``loss_grad`` may use besides built-ins (the generated kernel imports them)
KERNEL_GLOBALS = ("np", "math")
_KERNEL_IMPORTS = "import math\nimport numpy as np\n\n\n"
_FD_COORDS = 32  # coordinates compared with central differences per point (all when P <= 32)


def _is_real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _consts(prob):
    c = _call(prob, "consts", prob.consts)
    try:
        c = np.asarray(c, dtype=float)
    except (TypeError, ValueError, OverflowError):
        c = np.zeros((0, 0))
    if c.ndim != 1 or not np.all(np.isfinite(c)):
        raise definition_error(prob, "consts", "consts() must return a 1-D finite float array")
    return c


def _window_ok(w):
    try:
        w = [float(v) for v in w]
    except (TypeError, ValueError, OverflowError):
        return False
    return len(w) == 4 and bool(np.all(np.isfinite(w))) and w[0] < w[1] and w[2] < w[3]


_ATTRS = (("min_value", lambda v: _is_real(v) and bool(np.isfinite(float(v))),
           "a finite number (the loss's global minimum)"),
          ("lam", lambda v: _is_real(v) and 0 <= float(v) < np.inf, "a finite number >= 0"),
          ("default_window", _window_ok, "4 finite numbers x0 < x1, y0 < y1"),
          ("name", lambda v: isinstance(v, str), "a string"))


def check_definition(prob) -> None:
    """What of a user's problem does not depend on the points: ``n_params`` a positive integer,
    ``consts()`` a finite 1-D array, ``min_value`` finite, ``lam`` >= 0, ``default_window``,
    and ``loss_grad`` (a ``@staticmethod (x, c, g)`` using ``np``, ``math``, built-ins and its
    arguments only) or ``torch_loss``.  Raises :class:`UserCodeError` (one line)."""
    if getattr(prob, "_definition_ok", False):
        return
    P = _call(prob, "n_params", getattr, prob, "n_params")
    if not isinstance(P, numbers.Integral) or isinstance(P, (bool, np.bool_)) or P < 1:
        raise definition_error(prob, "n_params", f"n_params must be a positive integer, got "
                               f"{_short(P)}")
    _consts(prob)
    for attr, ok, what in _ATTRS:
        v = _call(prob, attr, getattr, prob, attr)
        if not ok(v):
            raise definition_error(prob, attr, f"{attr} must be {what}, got {_short(v)}")
    if isinstance(prob, NumbaProblem):
        _check_loss_grad(type(prob))
        prob._compile_check()
    elif isinstance(prob, TorchProblem):
        if type(prob).torch_loss is TorchProblem.torch_loss:
            raise definition_error(prob, "torch_loss", "defines no torch_loss(self, x) (the "
                                   "loss of one point, a float64 tensor of n_params)")
    elif isinstance(prob, UserProblem):
        raise definition_error(prob, "n_params", "a user's problem subclasses NumbaProblem "
                               "(loss_grad) or TorchProblem (torch_loss)")
    object.__setattr__(prob, "_definition_ok", True)


def _check_loss_grad(cls):
    owner = next(k for k in cls.__mro__ if "loss_grad" in vars(k))
    if owner is NumbaProblem:
        raise definition_error(cls, "loss_grad", "defines no loss_grad: write @staticmethod "
                               "def loss_grad(x, c, g) (the gradient into g, return the loss)")
    raw = vars(owner)["loss_grad"]
    if not isinstance(raw, staticmethod):
        raise definition_error(cls, "loss_grad", "loss_grad must be a @staticmethod taking "
                               "(x, c, g), without self")
    fault = kernel_function_fault(raw.__func__, 3, KERNEL_GLOBALS)
    try:
        compile(_KERNEL_IMPORTS + function_source(raw, "_user"), _file_of(cls), "exec")
    except SyntaxError as exc:
        fault = fault or (None, f"its source cannot be compiled on its own ({exc.msg})")
    if fault is not None:
        line = fault[0] or _definition_line(cls, "loss_grad")
        raise UserCodeError(f"{_file_of(cls)}, line {line}, in {cls.__name__}.loss_grad: "
                            f"{fault[1]} (write loss_grad(x, c, g), numbers through consts())")


class UserProblem(Problem):
    """Common part of users' problems.  Subclasses set ``n_params`` (a class attribute or a
    property), keep their parameters as attributes set in ``__init__``, and may set ``name``,
    ``min_value`` (default 0: the loss's global minimum, used by the convergence rule),
    ``minimizers`` (a description) and ``default_window``."""

    min_value = 0.0
    minimizers = "not described (a user's problem)"
    lam = 0.0
    _method = "loss"  # the user's method that computes the loss (error messages)

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

    def warmup_points(self):
        return None  # defined where its user says: the start-up compiles, it runs no point

    def describe_error(self, exc) -> GdchaosInputError:
        """``exc``, raised while the engine ran this problem's code, as one line."""
        return user_code_error(self, self._method, exc)

    # -- checks before a run --------------------------------------------------------------------
    def validate(self, X) -> None:
        """Check the definition (:func:`check_definition`) and, at the first, middle and last
        rows of ``X`` (the run's own points), the loss and gradient; once per problem."""
        if getattr(self, "_validated", False) or getattr(self, "_validating", False):
            return
        object.__setattr__(self, "_validating", True)
        try:
            object.__setattr__(self, "_validated", self._validate_at(X))
        finally:
            object.__setattr__(self, "_validating", False)

    def _validate_at(self, X) -> bool:
        check_definition(self)
        P = int(self.n_params)
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.ndim != 2 or X.shape[1] != P:
            raise GdchaosInputError(f"{self.name}: initializations must have shape (n, {P}), "
                                    f"got {X.shape}")
        rows = [r for r in ([X[0], X[len(X) // 2], X[-1]] if len(X) else [])
                if np.all(np.isfinite(r))]
        if not rows:
            return False  # no point to check at (yet)
        base = np.array(rows)
        self._check_python(base)
        L, G = self._eval(base)
        if np.shape(L) != (base.shape[0],) or np.shape(G) != base.shape:
            raise definition_error(self, self._method, "the loss must be a number and the "
                                   f"gradient have {P} entries per point (got shapes "
                                   f"{np.shape(L)[1:]} and {np.shape(G)[1:]})")
        start = X[: min(len(X), 64)]
        Ls = self.loss(start)
        if not np.any(np.isfinite(Ls)):
            raise definition_error(self, self._method, "the loss is NaN or infinite at the "
                                   f"start (x = {start[0].tolist()})")
        m = float(self.min_value)
        for i in np.flatnonzero(Ls < m - 1e-12 * max(1.0, abs(m)))[:1]:
            x = np.round(start[i], 6).tolist()
            raise definition_error(self, "min_value", f"the loss at x = {x} is {Ls[i]:.6g}, "
                                   f"below min_value = {m:g}: min_value must be the loss's "
                                   "global minimum")
        rng = np.random.default_rng(0)
        extra = base[rng.integers(0, len(base), 5)] + 0.3 * rng.normal(size=(5, P))
        for x in extra:  # near the run's points, where the user's code may be undefined
            try:
                lx, gx = self._eval(x[None])
            except UserCodeError:
                continue
            L, G = np.append(L, lx), np.vstack([G, gx])
            base = np.vstack([base, x])
        bad = gradient_mismatch(self, base, L, G, GRAD_RTOL, _FD_COORDS)
        if bad is not None:
            raise definition_error(self, self._method, "the gradient does not match the loss at "
                                   f"x = {np.round(bad[0], 6).tolist()} (relative error "
                                   f"{bad[1]:.2g} against central differences)")
        return True

    def _check_python(self, base):
        """Checks of the user's own Python at the points ``base`` (NumbaProblem)."""

    def loss(self, X):
        return self._eval(X)[0]

    def grad(self, X):
        return self._eval(X)[1]

    def _before_eval(self, X):
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if not (getattr(self, "_validated", False) or getattr(self, "_validating", False)):
            self.validate(X)  # any route into the user's code checks it first, at its points
        return X


class NumbaProblem(UserProblem):
    """A problem whose ``loss_grad(x, c, g) -> loss`` (a ``@staticmethod``) is Numba-compilable
    Python: the engine compiles it into its GD kernel.  It may use ``np``, ``math``, built-ins
    and its arguments only (no other globals of its module)."""

    _method = "loss_grad"

    @staticmethod
    def loss_grad(x, c, g):  # pragma: no cover - the subclass defines it
        raise NotImplementedError

    def numba_source(self):
        return (_KERNEL_IMPORTS + '@njit(inline="always")\n'
                + function_source(type(self).loss_grad, "_user") + _WRAP)

    def _batch(self):
        mod = getattr(self, "_compiled", None)
        if mod is None:
            from numba import njit

            mod = njit(cache=False)(type(self).loss_grad)  # a staticmethod: the plain function
            object.__setattr__(self, "_compiled", mod)
        return mod

    def _compile_check(self):
        """Compile ``loss_grad`` for the engine's argument types (no point is run): what Numba
        refuses, and a loss that is not one number, is refused with the user's line."""
        from numba import types as nt

        sig = (nt.float64[::1],) * 3
        disp = self._batch()
        _call(self, "loss_grad", disp.compile, sig)
        ret = [s.return_type for s in disp.nopython_signatures if tuple(s.args) == sig]
        ret = ret[0] if ret and ret[0] != nt.none else None
        if not isinstance(ret, (nt.Integer, nt.Float)):
            fn = getattr(type(self).loss_grad, "py_func", type(self).loss_grad)
            raises = [i.positions.lineno for i in dis.get_instructions(fn)
                      if i.opname in ("RAISE_VARARGS", "RERAISE")] if ret is None else []
            what = "raises on every path" if raises else f"returns {ret or 'nothing'}"
            line = raises[-1] if raises else _definition_line(type(self), "loss_grad")
            raise UserCodeError(f"{_file_of(type(self))}, line {line}, in {type(self).__name__}"
                                f".loss_grad: it must return the loss (one float); it {what}")

    def _check_python(self, base):
        fn = getattr(type(self).loss_grad, "py_func", type(self).loss_grad)
        c = _consts(self)
        for x in base:
            out = _call(self, "loss_grad", fn, x.copy(), c.copy(), np.zeros(x.size))
            if not _is_real(out):
                raise definition_error(self, "loss_grad", "loss_grad must return the loss (one "
                                       f"number), got {_short(out)}")

    def _eval(self, X):
        X = self._before_eval(X)
        c = _consts(self)
        L = np.empty(X.shape[0])
        G = np.empty_like(X)
        try:
            f = self._batch()
            with np.errstate(all="ignore"):
                for i in range(X.shape[0]):
                    L[i] = f(np.ascontiguousarray(X[i]), c, G[i])
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - the user's code: its error, in one line
            raise user_code_error(self, "loss_grad", exc) from None
        return L, G


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

    _method = "torch_loss"

    def torch_loss(self, x):  # pragma: no cover - the subclass defines it
        raise NotImplementedError

    def torch_loss_grad(self, X, c, lam):
        from torch.func import grad_and_value, vmap

        g, loss = _call(self, "torch_loss", vmap(grad_and_value(self.torch_loss)), X)
        return loss, g, (g * g).sum(dim=1)

    def torch_sharpness(self, X, c, lam):
        import torch
        from torch.func import hessian, vmap

        H = _call(self, "torch_loss", vmap(hessian(self.torch_loss)), X)
        return torch.linalg.eigvalsh(H)[:, -1]

    def _eval(self, X):
        import torch

        X = torch.as_tensor(self._before_eval(X), dtype=torch.float64)
        loss, g, _ = self.torch_loss_grad(X, None, 0.0)
        if loss.ndim != 1:
            raise definition_error(self, "torch_loss", "torch_loss must return a scalar tensor")
        return loss.detach().numpy(), g.detach().numpy()


def load_problem(spec: str, params: dict | None = None) -> Problem:
    """The problem ``"path/to/file.py:ClassName"`` built with ``params`` (keyword arguments)
    and checked (:func:`check_definition`); every failure is one line
    (:class:`GdchaosInputError`), whatever the user's file raises (``SystemExit`` included)."""
    mod, cls_name = import_user_file(spec, "--problem")
    cls = getattr(mod, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Problem)):
        raise GdchaosInputError(f"--problem {spec!r}: {cls_name} is not a gdchaos Problem class "
                                "in that file (subclass NumbaProblem or TorchProblem)")
    try:
        prob = cls(**(params or {}))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the user's code: its error, in one line
        raise GdchaosInputError(f"--problem {spec!r}: {cls_name}({_kw(params)}) failed: "
                                f"{user_code_error(cls, '__init__', exc)}") from None
    if not _call(prob, "name", getattr, prob, "name"):
        object.__setattr__(prob, "name", cls_name)
    try:
        check_definition(prob)
    except UserCodeError as exc:
        raise UserCodeError(f"--problem {spec!r}: {exc}") from None
    return prob


def _kw(params):
    return ", ".join(f"{k}={v!r}" for k, v in (params or {}).items())
