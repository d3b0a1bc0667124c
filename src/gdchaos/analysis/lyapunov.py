"""Finite-time Lyapunov exponents: products of Jacobians with QR re-orthonormalization.

For a map ``x -> F(x)`` with Jacobian ``J(x)``, the ``k`` leading exponents over ``n`` steps are
``(1/n) sum_t log |diag R_t|`` with ``J(x_t) Q_{t-1} = Q_t R_t`` (Benettin et al. 1980).  All
routines are batched over many initial points.

Jacobians: the quotient planar map has a closed form (:func:`quotient_jacobian`); for any other
engine problem the Jacobian of a GD step is ``I - eta H(x)`` with ``H`` from the problem's
``hessian()`` (closed form for scalar and matrix factorization, finite differences of the
analytic gradient otherwise).  One-dimensional maps use the derivative directly
(:func:`lyapunov_1d`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..theory.quotient import planar_jacobian as quotient_jacobian
from ..errors import GdchaosInputError, check_positive

__all__ = ["LyapunovResult", "lyapunov_spectrum", "lyapunov_1d", "gd_jacobian",
           "quotient_jacobian", "problem_map", "finite_time_lyapunov", "lyapunov_map"]


@dataclass
class LyapunovResult:
    """Exponents per point (``exponents``: ``(n, k)``, NaN where the orbit left the valid
    region before ``n_steps``); ``history`` holds the running estimate of the largest exponent
    every ``record_every`` steps (raw convergence curve)."""

    exponents: np.ndarray
    n_steps: int
    transient: int
    valid: np.ndarray
    steps: np.ndarray
    history: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def largest(self):
        return self.exponents[:, 0]

    def summary(self):
        v = self.largest[self.valid]
        if v.size == 0:
            return {"n_valid": 0}
        return {"n_valid": int(v.size), "mean": float(v.mean()), "median": float(np.median(v)),
                "std": float(v.std()), "min": float(v.min()), "max": float(v.max()),
                "stderr": float(v.std() / np.sqrt(v.size))}

    def as_dict(self):
        return {"summary": self.summary(), "n_steps": self.n_steps, "transient": self.transient,
                "spectrum_mean": np.nanmean(self.exponents[self.valid], axis=0).tolist()
                if self.valid.any() else [], "steps": self.steps.tolist(),
                "history_mean": np.nanmean(np.where(self.valid[None, :], self.history, np.nan),
                                           axis=1).tolist() if self.valid.any() else [],
                "info": self.info}


def lyapunov_spectrum(step, jacobian, X0, n_steps, *, transient=0, k=None, valid_fn=None,
                      record_every=None, seed=0) -> LyapunovResult:
    """``k`` leading finite-time exponents of ``step`` from every row of ``X0`` ``(n, P)``.

    ``step(X) -> X`` and ``jacobian(X) -> (n, P, P)`` are vectorized.  ``transient`` steps are
    taken first (not counted).  ``valid_fn(X) -> bool (n,)`` marks orbits still meaningful
    (finite, not diverged); an orbit that stops being valid is frozen and gets NaN.  The
    initial frame is a random orthonormal one (``seed``), so that it is generic and the
    exponents come out in decreasing order (a coordinate frame can be aligned with an
    invariant subspace and return them unsorted).
    """
    X = np.array(X0, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    n, P = X.shape
    k = P if k is None else int(k)
    if not 1 <= k <= P:
        raise GdchaosInputError(f"number of exponents k must be in [1, {P}], got {k}")
    n_steps = int(n_steps)
    if n_steps < 1:
        raise GdchaosInputError(f"n_steps must be >= 1, got {n_steps}")

    def ok_of(X):
        ok = np.all(np.isfinite(X), axis=1)
        if valid_fn is not None:
            with np.errstate(all="ignore"):
                ok &= np.asarray(valid_fn(X), dtype=bool)
        return ok

    alive = ok_of(X)
    with np.errstate(all="ignore"):
        for _ in range(int(transient)):
            Xn = step(X)
            X = np.where(alive[:, None], Xn, X)
            alive &= ok_of(X)
    Q0, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((P, P)))
    Q = np.broadcast_to(Q0[:, :k], (n, P, k)).copy()
    S = np.zeros((n, k))
    rec = max(1, int(record_every or max(1, n_steps // 50)))
    steps, hist = [], []
    with np.errstate(all="ignore"):
        for t in range(1, n_steps + 1):
            J = np.asarray(jacobian(X), dtype=float).reshape(n, P, P)
            M = J @ Q
            Qn, R = np.linalg.qr(np.where(alive[:, None, None], M, Q))
            d = np.diagonal(R, axis1=1, axis2=2)
            sgn = np.where(d < 0, -1.0, 1.0)
            Q = Qn * sgn[:, None, :]
            S += np.where(alive[:, None], np.log(np.abs(d)), 0.0)
            Xn = step(X)
            X = np.where(alive[:, None], Xn, X)
            alive &= ok_of(X) & np.all(np.isfinite(S), axis=1)
            if t % rec == 0 or t == n_steps:
                steps.append(t)
                hist.append(S[:, 0] / t)
    E = S / n_steps
    E[~alive] = np.nan
    return LyapunovResult(E, n_steps, int(transient), alive, np.array(steps), np.array(hist),
                          {"k": k, "P": P})


def lyapunov_1d(f, df, x0, n_steps, *, transient=100, interval=None) -> LyapunovResult:
    """Exponent of a 1-D map from many starting points: ``(1/n) sum log |f'(x_t)|``.

    ``interval=(a, b)`` clips iterates into the interval (guards maps like ``Z^3 - 3Z`` whose
    rounding can push an orbit a hair outside ``[-2, 2]``, from where it would escape).  A
    float orbit that lands exactly on a *repelling* fixed point (``f(x) == x`` with
    ``|f'(x)| > 1``, e.g. ``Z = 2`` after rounding) stays there forever, which no true orbit
    does: such orbits are marked not valid (``info["collapsed"]`` counts them).
    """
    x = np.array(x0, dtype=float).ravel()
    lo, hi = (-np.inf, np.inf) if interval is None else map(float, interval)
    collapsed = np.zeros(x.shape, dtype=bool)

    def advance(x):
        xn = np.clip(f(x), lo, hi)
        with np.errstate(all="ignore"):
            collapsed[:] |= (xn == x) & (np.abs(df(x)) > 1.0)
        return xn

    for _ in range(int(transient)):
        x = advance(x)
    S = np.zeros_like(x)
    rec = max(1, int(n_steps) // 50)
    steps, hist = [], []
    with np.errstate(divide="ignore"):
        for t in range(1, int(n_steps) + 1):
            S += np.log(np.abs(df(x)))
            x = advance(x)
            if t % rec == 0 or t == int(n_steps):
                steps.append(t)
                hist.append(S / t)
    E = (S / int(n_steps))[:, None]
    valid = np.isfinite(E[:, 0]) & ~collapsed
    return LyapunovResult(E, int(n_steps), int(transient), valid, np.array(steps),
                          np.array(hist), {"k": 1, "P": 1, "collapsed": int(collapsed.sum())})


def gd_jacobian(problem, X, eta):
    """Jacobian of one step at each row of ``X``: the problem's closed form where it has one
    (the quotient map's), else ``I - eta H(x)``."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    J = problem.step_jacobian(X, eta)
    if J is not None:
        return J
    H = problem.hessian(X)
    return np.eye(X.shape[1])[None] - eta * H


def problem_map(problem, eta, div_threshold=1e8):
    """``(step, jacobian, valid)`` functions of GD on an engine problem."""
    check_positive("step size eta", eta)

    def step(X):
        return problem.step(X, eta)

    def jacobian(X):
        return gd_jacobian(problem, X, eta)

    def valid(X):
        with np.errstate(all="ignore"):
            loss = problem.loss(X)
        return np.isfinite(loss) & (loss <= div_threshold) & problem.in_state_space(X, 1e-9)

    return step, jacobian, valid


def finite_time_lyapunov(problem, X0, eta, n_steps=200, *, transient=0, k=1,
                         div_threshold=1e8) -> LyapunovResult:
    """Finite-time exponents of GD on any engine problem from the rows of ``X0``.

    Orbits whose loss exceeds ``div_threshold`` (or leave the quotient state space) get NaN.
    Converging orbits get the negative exponents of the minimizer they reach
    (``log |1 - eta h|`` for Hessian eigenvalues ``h``).
    """
    X0 = problem.check_X(X0)
    step, jac, valid = problem_map(problem, eta, div_threshold)
    res = lyapunov_spectrum(step, jac, X0, n_steps, transient=transient, k=k, valid_fn=valid)
    res.info.update({"problem": problem.params(), "eta": float(eta)})
    return res


def lyapunov_map(problem, grid, eta, n_steps=200, *, transient=0, div_threshold=1e8,
                 chunk=200_000, progress=False):
    """Largest finite-time exponent at every point of a :class:`gdchaos.engine.Slice2D`;
    an ``xarray.DataArray`` on dims ``(y, x)`` (NaN where the orbit diverged)."""
    import xarray as xr
    from tqdm.auto import tqdm

    if grid.n_params != problem.n_params:
        raise GdchaosInputError(f"slice lives in R^{grid.n_params} but the problem has "
                                f"{problem.n_params} parameters")
    if int(n_steps) != n_steps or n_steps < 1:
        raise GdchaosInputError(f"n_steps must be an integer >= 1, got {n_steps}")
    X = grid.points()
    out = np.empty(X.shape[0])
    for s in tqdm(range(0, X.shape[0], chunk), disable=not progress, desc="lyapunov",
                  unit="chunk", leave=False):
        r = finite_time_lyapunov(problem, X[s:s + chunk], eta, n_steps, transient=transient,
                                 k=1, div_threshold=div_threshold)
        out[s:s + chunk] = r.largest
    da = xr.DataArray(out.reshape(grid.ny, grid.nx), dims=("y", "x"),
                      coords={"y": grid.ys, "x": grid.xs}, name="lyapunov",
                      attrs={"n_steps": int(n_steps), "transient": int(transient),
                             "eta": float(eta), "problem": problem.name})
    return da
