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
           "quotient_jacobian", "problem_map", "finite_time_lyapunov", "lyapunov_map",
           "lyapunov_points", "map_lyapunov_spectrum", "exponent_summary", "QUANTILES",
           "summary_text"]


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

    def summary(self, level=0.95):
        """Statistics of the largest exponent over the valid orbits: :func:`exponent_summary`."""
        return exponent_summary(self.largest[self.valid], level)

    def spectrum_summary(self, level=0.95):
        """:func:`exponent_summary` of every exponent (a list, largest first)."""
        return [exponent_summary(self.exponents[self.valid, i], level)
                for i in range(self.exponents.shape[1])]

    def as_dict(self):
        return {"summary": self.summary(), "n_steps": self.n_steps, "transient": self.transient,
                "spectrum_mean": np.nanmean(self.exponents[self.valid], axis=0).tolist()
                if self.valid.any() else [], "spectrum": self.spectrum_summary(),
                "steps": self.steps.tolist(),
                "history_mean": np.nanmean(np.where(self.valid[None, :], self.history, np.nan),
                                           axis=1).tolist() if self.valid.any() else [],
                "info": self.info}


#: the quantiles :func:`exponent_summary` reports
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def exponent_summary(values, level=0.95) -> dict:
    """Mean of finite-time exponents with its ``level`` interval, and their spread.

    Each initial point's exponent is one sample (orbits of a chaotic map from different
    initial points decorrelate; for a grid of initial points this is an assumption), so the
    interval is Student's t-interval ``mean +- t_{(1+level)/2, n-1} s / sqrt(n)`` over the
    ``n`` finite values: it measures the sampling error of the mean over initial points, not
    the finite-time bias (of order 1/n_steps; the ``transient`` and the history curve show
    it).  With one value the interval is undefined (``None``).  Also the standard deviation
    ``std`` (ddof = 1), ``min``, ``max``, ``median``, the :data:`QUANTILES`,
    ``fraction_positive`` and ``stderr``."""
    from scipy import stats

    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    n = int(v.size)
    if n == 0:
        return {"n_valid": 0}
    mean = float(v.mean())
    std = float(v.std(ddof=1)) if n > 1 else 0.0
    se = std / np.sqrt(n)
    if n > 1:
        t = float(stats.t.ppf(0.5 + level / 2, n - 1))
        ci = [mean - t * se, mean + t * se]
    else:
        ci = None
    q = np.quantile(v, QUANTILES)
    return {"n_valid": n, "mean": mean, "ci": ci, "level": float(level),
            "interval": "t over initial points", "std": std, "stderr": float(se),
            "median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()),
            "quantiles": {f"{p:g}": float(x) for p, x in zip(QUANTILES, q)},
            "fraction_positive": float(np.mean(v > 0))}


def summary_text(st, spectrum=None) -> str:
    """Lines of text of an :func:`exponent_summary` (and of each exponent of a spectrum)."""
    if not st.get("n_valid"):
        return "no finite exponent (every orbit diverged)"
    ci = st["ci"] or [np.nan, np.nan]
    q = st["quantiles"]
    lines = [f"mean {st['mean']:.6f}  {100 * st['level']:g}% CI [{ci[0]:.6f}, {ci[1]:.6f}]  "
             f"(t-interval over {st['n_valid']} initial points)",
             f"std {st['std']:.4g}  median {st['median']:.6f}  quantiles 5/25/75/95% "
             f"{q['0.05']:.4f} {q['0.25']:.4f} {q['0.75']:.4f} {q['0.95']:.4f}",
             f"min {st['min']:.6f}  max {st['max']:.6f}  fraction positive "
             f"{st['fraction_positive']:.4f}"]
    for i, e in enumerate(spectrum or []):
        ci = e.get("ci") or [np.nan, np.nan]
        lines.append(f"exponent {i + 1}: mean {e.get('mean', np.nan):.6f}  95% CI "
                     f"[{ci[0]:.6f}, {ci[1]:.6f}]")
    return "\n".join(lines)


def lyapunov_spectrum(step, jacobian, X0, n_steps, *, transient=0, k=None, valid_fn=None,
                      record_every=None, seed=0) -> LyapunovResult:
    """``k`` leading finite-time exponents of ``step`` from every row of ``X0`` ``(n, P)``.

    ``step(X) -> X`` and ``jacobian(X) -> (n, P, P)`` are vectorized.  ``transient`` steps are
    taken first, the orbit and its tangent frame both (so the frame has turned towards the
    leading directions), and not counted.  ``valid_fn(X) -> bool (n,)`` marks orbits still meaningful
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
    n_steps = _check_steps("n_steps", n_steps)
    transient = _check_steps("transient", transient, lo=0)

    def ok_of(X):
        ok = np.all(np.isfinite(X), axis=1)
        if valid_fn is not None:
            with np.errstate(all="ignore"):
                ok &= np.asarray(valid_fn(X), dtype=bool)
        return ok

    alive = ok_of(X)
    Q0, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((P, P)))
    Q = np.broadcast_to(Q0[:, :k], (n, P, k)).copy()

    def advance(X, Q, alive):
        """One step of the orbit and of its tangent frame: ``(X, Q, log |diag R|)``."""
        J = np.asarray(jacobian(X), dtype=float).reshape(n, P, P)
        Qn, R = np.linalg.qr(np.where(alive[:, None, None], J @ Q, Q))
        d = np.diagonal(R, axis1=1, axis2=2)
        Q = Qn * np.where(d < 0, -1.0, 1.0)[:, None, :]
        return np.where(alive[:, None], step(X), X), Q, np.log(np.abs(d))

    S = np.zeros((n, k))
    rec = max(1, int(record_every or max(1, n_steps // 50)))
    steps, hist = [], []
    with np.errstate(all="ignore"):
        for _ in range(transient):  # the frame turns towards the leading directions too
            X, Q, logd = advance(X, Q, alive)
            alive &= ok_of(X) & np.all(np.isfinite(logd), axis=1)
        for t in range(1, n_steps + 1):
            X, Q, logd = advance(X, Q, alive)
            S += np.where(alive[:, None], logd, 0.0)
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
    n_steps = _check_steps("n_steps", n_steps)
    transient = _check_steps("transient", transient, lo=0)
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

    ``transient`` steps are taken first and not averaged.  Orbits whose loss exceeds
    ``div_threshold`` (or leave the quotient state space) get NaN.  Converging orbits get the
    negative exponents of the minimizer they reach (``log |1 - eta h|`` for Hessian eigenvalues
    ``h``).  A user's problem is checked at ``X0`` first (``problem.validate``).
    """
    X0 = problem.check_X(X0)
    transient = _check_steps("transient", transient, lo=0)
    problem.validate(X0)
    step, jac, valid = problem_map(problem, eta, div_threshold)
    res = lyapunov_spectrum(step, jac, X0, n_steps, transient=transient, k=k, valid_fn=valid)
    res.info.update({"problem": problem.params(), "eta": float(eta)})
    return res


def _check_steps(name, v, lo=1):
    from ..errors import check_int

    return check_int(name, v, lo=lo)


def lyapunov_points(problem, X, eta, n_steps=200, *, transient=0, k=1, div_threshold=1e8,
                    chunk=200_000, progress=False) -> LyapunovResult:
    """:func:`finite_time_lyapunov` from every row of ``X`` in chunks of ``chunk`` points (one
    result; ``history`` rows of every chunk side by side)."""
    from tqdm.auto import tqdm

    X = problem.check_X(X)
    n_steps = _check_steps("n_steps", n_steps)
    problem.validate(X)
    parts = [finite_time_lyapunov(problem, X[s:s + chunk], eta, n_steps, transient=transient,
                                  k=k, div_threshold=div_threshold)
             for s in tqdm(range(0, X.shape[0], chunk), disable=not progress, desc="lyapunov",
                           unit="chunk", leave=False)]
    r = parts[0]
    return LyapunovResult(np.concatenate([p.exponents for p in parts]), r.n_steps, r.transient,
                          np.concatenate([p.valid for p in parts]), r.steps,
                          np.concatenate([p.history for p in parts], axis=1), r.info)


def lyapunov_map(problem, grid, eta, n_steps=200, *, transient=0, div_threshold=1e8,
                 chunk=200_000, progress=False):
    """Largest finite-time exponent at every point of a :class:`gdchaos.engine.Slice2D`;
    an ``xarray.DataArray`` on dims ``(y, x)`` (NaN where the orbit diverged)."""
    import xarray as xr

    if grid.n_params != problem.n_params:
        raise GdchaosInputError(f"slice lives in R^{grid.n_params} but the problem has "
                                f"{problem.n_params} parameters")
    if int(n_steps) != n_steps or n_steps < 1:
        raise GdchaosInputError(f"n_steps must be an integer >= 1, got {n_steps}")
    r = lyapunov_points(problem, grid.points(), eta, n_steps, transient=transient, k=1,
                        div_threshold=div_threshold, chunk=chunk, progress=progress)
    da = xr.DataArray(r.largest.reshape(grid.ny, grid.nx), dims=("y", "x"),
                      coords={"y": grid.ys, "x": grid.xs}, name="lyapunov",
                      attrs={"n_steps": int(n_steps), "transient": int(transient),
                             "eta": float(eta), "problem": problem.name})
    return da


def map_lyapunov_spectrum(step, jacobian, x0, n_steps=1000, *, transient=100, k=None,
                          vectorized=False, valid_fn=None, seed=0) -> LyapunovResult:
    """Full Lyapunov spectrum of a user's map by the QR method (:func:`lyapunov_spectrum`).

    ``step(x) -> x'`` and ``jacobian(x) -> (P, P)`` are plain Python functions of one point
    (``vectorized=True``: of an ``(n, P)`` array, returning ``(n, P)`` and ``(n, P, P)``);
    ``x0`` is one initial point ``(P,)`` or several ``(n, P)``.  ``transient`` steps are taken
    first.  Returns a :class:`LyapunovResult` (``exponents`` ``(n, k)``, largest first;
    ``spectrum_summary()`` gives each exponent's mean over the initial points with its
    interval).  The outputs' shapes are checked at the first point before the run."""
    X = np.array(x0, dtype=float)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise GdchaosInputError(f"x0 must be a point (P,) or points (n, P), got shape "
                                f"{np.shape(x0)}")
    if not np.all(np.isfinite(X)):
        raise GdchaosInputError("x0 must be finite")
    n, P = X.shape
    transient = _check_steps("transient", transient, lo=0)
    n_steps = _check_steps("n_steps", n_steps)
    if not vectorized:
        f, df = step, jacobian

        def step(X):
            return np.stack([np.asarray(f(x), dtype=float).reshape(P) for x in X])

        def jacobian(X):
            return np.stack([np.asarray(df(x), dtype=float).reshape(P, P) for x in X])

    try:
        s0 = np.asarray(step(X[:1]), dtype=float)
        j0 = np.asarray(jacobian(X[:1]), dtype=float)
    except ValueError as exc:  # a reshape of the user's output that does not fit
        raise GdchaosInputError(f"the map's step or Jacobian has the wrong shape for P = {P}: "
                                f"{exc}") from None
    if s0.shape != (1, P) or j0.shape != (1, P, P):
        raise GdchaosInputError(f"step must return {P} numbers and jacobian a {P} x {P} matrix "
                                f"per point, got shapes {s0.shape[1:]} and {j0.shape[1:]}")
    return lyapunov_spectrum(step, jacobian, X, n_steps, transient=transient, k=k,
                             valid_fn=valid_fn, seed=seed)
