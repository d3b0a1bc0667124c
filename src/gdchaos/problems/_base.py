"""Common interface of the problems run by the engine.

A problem is a frozen description (targets, weight decay, shapes).  Parameters of a batch of
initializations are a flat float array ``X`` of shape ``(n, n_params)``.  Every problem exposes

- ``loss(X)``, ``grad(X)`` (NumPy, vectorized over rows), ``min_value``, ``minimizers``;
- ``gd(eta, momentum=0.0)``: an optax-style pair of pure functions ``(init, update)`` with explicit
  state ``(x, x_prev)``: ``state = init(x0)``, ``state = update(state)``;
- ``records(X0, Xf, names)``: derived per-point quantities at the end of a run, only those
  named (any of :data:`RECORDS`); a point whose values overflow gets NaN/inf, never an exception;
- how the engine runs it, with no name looked up anywhere: ``consts()`` (a float64 array of
  constants the compiled code reads), ``numba_source()`` (Numba-compilable Python defining the
  gradient of one point; the engine generates and caches the GD kernel from it) or
  ``numba_kernel()`` (a whole kernel, for maps that are not gradient steps),
  ``torch_loss_grad``/``torch_sharpness`` (or ``torch_run``) for the torch backend, and
  ``supports_momentum``, ``slice_kinds``, ``fast_records``, ``step_jacobian``, ``validate``.

Users' problems subclass :class:`gdchaos.problems.custom.NumbaProblem` or ``TorchProblem``.
"""

from __future__ import annotations

import builtins
import dis
import functools
import inspect
import textwrap
import types
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from ..errors import GdchaosInputError, check_nonneg, check_positive


#: per-point records a run can compute besides status, iterations and final loss
RECORDS = ("sq_norm", "imbalance", "sharpness", "minimizer")


def check_records(names):
    """``None`` or ``"all"`` -> all of :data:`RECORDS`, ``"none"`` -> none; a comma string or a
    sequence of names -> a tuple in RECORDS order."""
    if names is None or names == "all":
        return RECORDS
    if names == "none":
        return ()
    if isinstance(names, str):
        if names.strip() == "":
            raise GdchaosInputError("records: empty; name some of "
                                    f"{', '.join(RECORDS)}, or 'all' or 'none'")
        names = [t.strip() for t in names.split(",")]
        if "" in names:
            raise GdchaosInputError(f"records: an empty entry in {','.join(names)!r}")
    names = set(names)
    unknown = sorted(names - set(RECORDS))
    if unknown:
        raise GdchaosInputError(f"unknown record(s) {', '.join(unknown)}; choose from "
                                f"{', '.join(RECORDS)} (or 'all' or 'none')")
    return tuple(r for r in RECORDS if r in names)


class GDState(NamedTuple):
    x: np.ndarray
    x_prev: np.ndarray
    step: int


@dataclass(frozen=True)
class Option:
    """A problem's command-line option: ``kind`` says how its text is read (``"int"``: an
    integer >= 1, ``"number"``, ``"matrix"``: rows ``'a,b;c,d'``), ``help`` what it is for this
    problem (with its default)."""

    kind: str
    help: str


#: the weight decay, an option of every built-in problem (each command has its ``--lam``)
LAM = Option("number", "weight decay lam >= 0 (default 0)")


class Problem:
    name: str = ""

    # -- to implement -------------------------------------------------------------------------
    @property
    def n_params(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def min_value(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def minimizers(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def loss(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def grad(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def consts(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def params(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- shared -------------------------------------------------------------------------------
    lam: float = 0.0
    #: the slice window ``(x0, x1, y0, y1)`` a map of this problem shows unless told otherwise
    default_window = (-4.0, 4.0, -4.0, 4.0)
    #: labels of a map's two axes (``None``: the slice's own coordinates)
    axis_labels = (None, None)
    #: the options a command line may set (``gdchaos ... --problem NAME --OPTION VALUE``): name
    #: -> :class:`Option`; each becomes a flag of every command that takes a problem
    OPTIONS: dict = {}
    #: the command line's defaults where they differ from the class's
    OPTION_DEFAULTS: dict = {}
    #: whether the explorer's double-double kernel (deep zooms) exists for this problem
    supports_double_double = False
    #: False for problems exact for plain GD only (the quotient map)
    supports_momentum = True
    #: the kinds of 2-D slices a map of this problem may use
    slice_kinds = ("axes", "random")
    #: whether the sharpness record needs a dense P x P Hessian per point (memory estimates)
    dense_hessian_records = True

    def with_lam(self, lam):
        """The same problem with weight decay ``lam`` (a map over the axis ``lam``), or ``None``
        where the problem has no weight decay to set (default: a dataclass with a ``lam``
        field)."""
        import dataclasses

        if dataclasses.is_dataclass(self) and "lam" in {f.name for f in dataclasses.fields(self)}:
            return self if float(lam) == self.lam else dataclasses.replace(self, lam=float(lam))
        return None

    @property
    def param_groups(self):
        """Named groups of parameters (name -> index array) that may take their own step size
        or offset in a hyperparameter map (``gdchaos.hyper_map``); ``None``: no groups."""
        return None

    # -- how the engine runs it ---------------------------------------------------------------
    def numba_source(self) -> str | None:
        """Numba-compilable Python defining ``_grad(x, consts, lam, g, work)`` (writes the
        gradient of one point into ``g``, returns ``(loss, |g|^2)``) and optionally
        ``_sharp(x, consts, lam, work)``; ``None``: no Numba gradient (see
        :func:`numba_source_of`)."""
        return None

    def numba_work_size(self) -> int:
        """Length of the float64 scratch array ``work`` that ``_grad`` gets."""
        return 1

    def numba_kernel(self):
        """A whole compiled kernel with the engine's signature, for problems that are not
        gradient steps (``None``: the engine generates one from :meth:`numba_source`)."""
        return None

    def torch_loss_grad(self, X, c, lam):
        """Torch backend: ``(loss, grad, |grad|^2)`` of a batch ``X`` (tensor ``(n, P)``)."""
        raise GdchaosInputError(f"problem {self.name!r} has no torch definition; run it with "
                                "backend='numba'")

    def torch_loss_grad_at(self, X, c, lam, step):
        """Torch backend: :meth:`torch_loss_grad` at step ``step`` of a run (a problem whose
        loss changes with the step, such as minibatches, overrides this)."""
        return self.torch_loss_grad(X, c, lam)

    def torch_sharpness(self, X, c, lam):
        """Torch backend: top Hessian eigenvalue of each row of ``X`` (candidate minimizers)."""
        import torch
        from torch.func import hessian, vmap

        def loss(x):
            return self.torch_loss_grad(x[None], c, lam)[0][0]

        return torch.linalg.eigvalsh(vmap(hessian(loss))(X))[:, -1]

    def torch_run(self, X0, consts, eta, lam, beta, max_iter, tol, lmin, div, gtol, f32,
                  device=None):
        """A whole torch run, for problems that are not gradient steps (``None``: the engine's
        generic runner on :meth:`torch_loss_grad`)."""
        return None

    def fast_records(self, X0, Xf, names):
        """The records ``names`` by a compiled pass, or ``None`` (then :meth:`records`)."""
        return None

    def step_jacobian(self, X, eta):
        """Jacobian of one step at each row of ``X`` in closed form, or ``None`` (then
        ``I - eta H``)."""
        return None

    def in_state_space(self, X, slack=0.0):
        """Rows of ``X`` inside the problem's state space (all, unless a problem says)."""
        return np.ones(np.atleast_2d(X).shape[0], dtype=bool)

    def edge_gap(self, X):
        """Distance of each row of ``X`` inside the edge of the state space (negative: outside),
        or ``None`` for a problem whose state space is all of R^P."""
        return None

    def has_torch(self) -> bool:
        """Whether the torch backend can run this problem (it defines ``torch_loss_grad``,
        ``torch_loss_grad_at`` or ``torch_run``)."""
        cls = type(self)
        return any(getattr(cls, k) is not getattr(Problem, k)
                   for k in ("torch_loss_grad", "torch_loss_grad_at", "torch_run"))

    def warmup_points(self):
        """Initializations of the engine's start-up run (``gdchaos.engine.prepare``), or
        ``None`` where the problem is defined only where its user says (then the start-up
        compiles the kernel and runs no point)."""
        return np.full((2, self.n_params), 0.5)

    def validate(self, X) -> None:
        """Check the definition at the points ``X`` before a run (users' problems: the gradient
        against the loss, shapes, finiteness); raise ``GdchaosInputError`` with one line."""

    def check_X(self, X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_params:
            raise GdchaosInputError(
                f"{self.name}: initializations must have shape (n, {self.n_params}), got {X.shape}")
        return X

    def step(self, X, eta: float, X_prev=None, momentum: float = 0.0):
        """One GD (or heavy-ball) step, NumPy, vectorized."""
        X = np.asarray(X, dtype=float)
        out = X - eta * self.grad(X)
        if momentum:
            out = out + momentum * (X - X_prev)
        return out

    def gd(self, eta: float, momentum: float = 0.0) -> tuple[Callable, Callable]:
        """Pure ``(init, update)`` pair for GD (``momentum = 0``) or Polyak heavy ball."""
        eta = check_positive("step size eta", eta)
        momentum = check_nonneg("momentum", momentum)
        if momentum >= 1:
            raise GdchaosInputError(f"momentum must be < 1, got {momentum}")

        def init(x0) -> GDState:
            x0 = np.array(x0, dtype=float)
            return GDState(x0, x0.copy(), 0)

        def update(state: GDState) -> GDState:
            xn = self.step(state.x, eta, state.x_prev, momentum)
            return GDState(xn, state.x, state.step + 1)

        return init, update

    def sq_norm(self, X):
        X = np.asarray(X, dtype=float)
        return np.sum(X * X, axis=-1)

    def hessian(self, X):
        """Hessian of the loss at each row of ``X``: central differences of the analytic
        gradient with one Richardson extrapolation (error O(h^4)); subclasses override with
        closed forms where they have them."""
        X = np.asarray(X, dtype=float)
        X = X[None] if X.ndim == 1 else X
        n, P = X.shape
        H = np.empty((n, P, P))
        h = 1e-3 * (1.0 + np.max(np.abs(X), axis=1, keepdims=True))
        for j in range(P):
            e = np.zeros(P)
            e[j] = 1.0

            def D(hh):
                return (self.grad(X + hh * e) - self.grad(X - hh * e)) / (2 * hh)

            H[:, :, j] = (4.0 * D(h / 2) - D(h)) / 3.0
        return 0.5 * (H + np.swapaxes(H, 1, 2))

    def sharpness(self, X):
        """Top Hessian eigenvalue per row; NaN where the parameters or the Hessian are not
        finite, +-inf where it overflows (never raises)."""
        X = np.asarray(X, dtype=float)
        X = X[None] if X.ndim == 1 else X
        out = np.full(X.shape[0], np.nan)
        ok = np.all(np.isfinite(X), axis=1)
        if np.any(ok):
            with np.errstate(all="ignore"):
                H = self.hessian(X[ok])
                s = np.max(np.abs(H), axis=(1, 2))
                good = np.isfinite(s)
                top = np.full(H.shape[0], np.nan)
                if np.any(good):
                    # scaled so that LAPACK never sees an overflowing matrix (eigenvalues scale
                    # with it); only huge entries are scaled, elsewhere the division by 1 is exact
                    s_g = np.where(s[good] > 1e100, s[good], 1.0)
                    top[good] = np.linalg.eigvalsh(H[good] / s_g[:, None, None])[:, -1] * s_g
            out[ok] = top
        return out

    def imbalance(self, X):
        return np.full(np.asarray(X).shape[0], np.nan)

    def minimizer_label(self, X0, Xf):
        """1 = closest minimizer p-, 2 = farthest p+, 0 = none (defined for scalar problems)."""
        return np.zeros(np.asarray(Xf).shape[0], dtype=np.int8)

    #: the meaning of each record in this problem's stores (a variable's ``description``)
    RECORD_DOCS = {
        "sq_norm": "squared norm of the final parameters",
        "imbalance": "imbalance of the final parameters (NaN where the problem defines none)",
        "sharpness": "top Hessian eigenvalue of the loss at the final parameters",
        "minimizer": "1 = closest minimizer p-, 2 = farthest p+, 0 = none or not defined",
    }

    def records(self, X0, Xf, names=RECORDS) -> dict:
        """The records ``names`` (a subset of :data:`RECORDS`) of final parameters ``Xf`` run
        from ``X0``; overflowing points get NaN/inf, never an exception."""
        fns = {"sq_norm": lambda: self.sq_norm(Xf), "imbalance": lambda: self.imbalance(Xf),
               "sharpness": lambda: self.sharpness(Xf),
               "minimizer": lambda: self.minimizer_label(X0, Xf)}
        with np.errstate(all="ignore"):
            return {k: fns[k]() for k in check_records(names)}


def function_source(fn, name: str) -> str:
    """The source of the plain-Python function ``fn`` (decorators dropped, dedented) renamed
    ``name``: the text the engine compiles."""
    return _function_source(getattr(fn, "__func__", fn), name)


@functools.lru_cache(maxsize=256)
def _function_source(fn, name):
    """:func:`function_source`, read once per function object (every run looks its kernel up
    by this text; a redefined function is a new object, so it is read again)."""
    fn = getattr(fn, "py_func", fn)
    try:
        src = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise GdchaosInputError(f"cannot read the source of {getattr(fn, '__name__', fn)!r} "
                                f"({exc}); define it "
                                "in a file") from None
    lines = src.splitlines()
    while lines and not lines[0].lstrip().startswith("def "):
        lines.pop(0)  # decorators
    src = "\n".join(lines) + "\n"
    return src.replace(f"def {fn.__name__}(", f"def {name}(", 1)


def kernel_function_fault(fn, n_args, allowed_globals):
    """Why the plain function ``fn`` cannot be compiled into a kernel on its own, as ``(line,
    message)``, or ``None``: it must be a ``def`` of ``n_args`` positional arguments that uses
    no variable of an enclosing function and no global but ``allowed_globals`` and built-ins."""
    fn = getattr(fn, "py_func", fn)
    if not isinstance(fn, types.FunctionType) or fn.__name__ == "<lambda>":
        return None, "it must be a function written with def (its source is compiled)"
    code = fn.__code__
    params = list(inspect.signature(fn).parameters.values())
    if len(params) != n_args or any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                                    for p in params):
        return (code.co_firstlineno, f"it must take {n_args} arguments, got "
                f"({', '.join(p.name for p in params)})")
    if code.co_freevars:
        return (code.co_firstlineno, "it uses variables of an enclosing function "
                f"({', '.join(code.co_freevars)})")
    for name, line in _globals_used(code).items():
        if name not in allowed_globals and not hasattr(builtins, name):
            return line, (f"it uses the global {name!r}; it may use "
                          f"{', '.join(allowed_globals)}, built-ins and its arguments only")
    return None


def _globals_used(code):
    """Global names loaded by ``code`` (and the code nested in it) -> first line."""
    out = {}
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            out.setdefault(ins.argval, ins.positions.lineno or code.co_firstlineno)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            for k, v in _globals_used(const).items():
                out.setdefault(k, v)
    return out


def gradient_mismatch(problem, probes, L, G, rtol, max_coords=32):
    """The first row ``x`` of ``probes`` (losses ``L``, gradients ``G``) where ``G`` differs from
    central differences of ``problem.loss`` by more than ``rtol`` (relative), as ``(x, error)``,
    or ``None`` (at most ``max_coords`` seeded coordinates per row; rows whose loss raises
    ``skip`` beside them are skipped)."""
    P = probes.shape[1]
    idx = np.arange(P) if P <= max_coords else \
        np.sort(np.random.default_rng(1).choice(P, max_coords, replace=False))
    for i in range(probes.shape[0]):
        x = probes[i]
        if not (np.isfinite(L[i]) and np.all(np.isfinite(G[i]))):
            continue
        h = 1e-6 * max(1.0, float(np.max(np.abs(x))))
        E = np.eye(P)[idx] * h
        try:
            fd = (problem.loss(x + E) - problem.loss(x - E)) / (2 * h)
        except GdchaosInputError:
            continue  # the loss is not defined beside this point
        gi = G[i][idx]
        scale = max(1.0, float(np.max(np.abs(fd))), float(np.max(np.abs(gi))))
        err = float(np.max(np.abs(fd - gi))) / scale
        if err > rtol:
            return x, err
    return None


_SHARP_WRAPPER = '''
@njit(inline="always")
def _sharp(x, consts, lam, work):
    return _sharp_at(x, consts, lam)
'''


def numba_source_of(grad, sharpness=None) -> str:
    """:meth:`Problem.numba_source` from plain functions ``grad(x, consts, lam, g, work) ->
    (loss, |g|^2)`` and optionally ``sharpness(x, consts, lam)`` (closed form; without it the
    engine uses power iteration on Hessian-vector products of ``grad``)."""
    out = '@njit(inline="always")\n' + function_source(grad, "_grad")
    if sharpness is not None:
        out += '\n\n@njit(inline="always")\n' + function_source(sharpness, "_sharp_at")
        out += _SHARP_WRAPPER
    return out


def torch_retire(torch, t, max_iter, verdict, loss, state_of, idx, status, iters, loss_out, Xf):
    """Torch runners: record the points that have a verdict (every point at the step limit) and
    return the mask of those going on, or None when none stopped."""
    from ..status import UNDECIDED

    stop = verdict >= 0
    if t == max_iter:
        stop = torch.ones_like(stop)
        verdict = torch.where(stop & (verdict < 0), torch.full_like(verdict, UNDECIDED), verdict)
    if not bool(stop.any()):
        return None
    sid = idx[stop]
    status[sid] = verdict[stop]
    iters[sid] = t
    loss_out[sid] = loss[stop]
    Xf[sid] = state_of(stop)
    return ~stop


def seqsum(terms):
    """``terms[0] + terms[1] + ...`` left to right (the order of the Numba loops, so that torch
    and Numba round alike)."""
    s = terms[0]
    for t in terms[1:]:
        s = s + t
    return s


def check_square_target(Y):
    """Validate a finite square target matrix; returns it as a tuple of tuples (hashable)."""
    Y = np.asarray(Y, dtype=float)
    if Y.ndim != 2 or Y.shape[0] != Y.shape[1] or not np.all(np.isfinite(Y)):
        raise GdchaosInputError(f"Y must be a finite square matrix, got shape {Y.shape}")
    return tuple(map(tuple, Y.tolist()))


def check_lam(lam) -> float:
    return check_nonneg("weight decay lam", lam)
