"""Common interface of the problems run by the engine.

A problem is a frozen description (targets, weight decay, shapes).  Parameters of a batch of
initializations are a flat float array ``X`` of shape ``(n, n_params)``.  Every problem exposes

- ``loss(X)``, ``grad(X)`` (NumPy, vectorized over rows), ``min_value``, ``minimizers``;
- ``gd(eta, momentum=0.0)``: an optax-style pair of pure functions ``(init, update)`` with explicit
  state ``(x, x_prev)``: ``state = init(x0)``, ``state = update(state)``;
- ``records(X0, Xf, names)``: derived per-point quantities at the end of a run, only those
  named (any of :data:`RECORDS`); a point whose values overflow gets NaN/inf, never an exception;
- ``kernel`` (name in the engine's kernel registry) and ``consts()`` (its constants array).
"""

from __future__ import annotations

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
        names = [t.strip() for t in names.split(",") if t.strip()]
    names = set(names)
    unknown = sorted(names - set(RECORDS))
    if unknown:
        raise GdchaosInputError(f"unknown record(s) {', '.join(unknown)}; choose from "
                                f"{', '.join(RECORDS)} (or 'all')")
    return tuple(r for r in RECORDS if r in names)


class GDState(NamedTuple):
    x: np.ndarray
    x_prev: np.ndarray
    step: int


class Problem:
    kernel: str = ""
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


def check_square_target(Y):
    """Validate a finite square target matrix; returns it as a tuple of tuples (hashable)."""
    Y = np.asarray(Y, dtype=float)
    if Y.ndim != 2 or Y.shape[0] != Y.shape[1] or not np.all(np.isfinite(Y)):
        raise GdchaosInputError(f"Y must be a finite square matrix, got shape {Y.shape}")
    return tuple(map(tuple, Y.tolist()))


def check_lam(lam) -> float:
    return check_nonneg("weight decay lam", lam)
