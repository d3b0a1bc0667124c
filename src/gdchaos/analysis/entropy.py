"""Topological entropy estimates (appendix B.1).

- Interval maps (piecewise monotone): ``h = lim (1/n) log L(f^n)`` with ``L`` the lap number
  (Misiurewicz-Szlenk).  :func:`lap_numbers` counts laps exactly, up to floating point, from the
  turning points: the turning points of ``f^n`` are the points whose orbit hits a turning point
  of ``f`` within ``n - 1`` steps, found as preimages by bisection on each monotone piece; the
  lap count is one plus the number of direction changes between consecutive candidates (the
  direction of a lap is the product of the monotonicity signs along its midpoint's itinerary).
- Planar maps: growth of the number of periodic points of period ``n``
  (:func:`periodic_points`, Newton on ``F^n(x) - x`` from many seeds) or of the number of
  ``(n, eps)``-distinguishable orbits among sampled points (:func:`separated_set_entropy`:
  greedy maximal ``(n, eps)``-separated subsets in the Bowen metric
  ``d_n(x, y) = max_{0 <= t < n} |F^t x - F^t y|_inf``).

Each returns an :class:`EntropyResult` with the raw curve ``(n, count)`` and the fitted growth
rate (slope of ``log count`` against ``n``) with a 95% interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import GdchaosInputError, check_positive, check_seed
from ._fit import LinearFit, fit_line

__all__ = ["EntropyResult", "lap_numbers", "lap_entropy", "critical_points",
           "periodic_points", "periodic_point_entropy", "separated_set_entropy",
           "map_entropy", "map_entropy_cost", "lap_number_cost", "check_quotient_alpha",
           "ENTROPY_MAPS"]


@dataclass
class EntropyResult:
    """``entropy`` = slope of ``log counts`` against ``n`` over ``fit_n``; ``last`` =
    ``log(count_N) / N`` at the largest ``n`` (the definition's own ratio)."""

    entropy: float
    ci: tuple
    n: np.ndarray
    counts: np.ndarray
    fit: LinearFit | None
    fit_n: tuple
    method: str
    last: float = np.nan
    info: dict = field(default_factory=dict)

    def as_dict(self):
        return {"entropy": float(self.entropy), "ci": [float(c) for c in self.ci],
                "n": self.n.tolist(), "counts": np.asarray(self.counts, float).tolist(),
                "fit_n": list(self.fit_n), "method": self.method, "last": float(self.last),
                "fit": None if self.fit is None else self.fit.as_dict(), "info": self.info}


def _result(n, counts, fit_from, method, info, level=0.95):
    n = np.asarray(n)
    counts = np.asarray(counts, dtype=float)
    use = (n >= fit_from) & (counts > 0)
    fit, ent, ci = None, np.nan, (np.nan, np.nan)
    if use.sum() >= 2:
        fit = fit_line(n[use].astype(float), np.log(counts[use]), level=level)
        ent, ci = fit.slope, fit.ci
        if fit.n == 2 or fit.rms < 1e-12:
            ci = (ent, ent)
    last = float(np.log(counts[-1]) / n[-1]) if counts[-1] > 0 and n[-1] > 0 else np.nan
    fit_n = (int(n[use].min()), int(n[use].max())) if use.any() else (0, 0)
    return EntropyResult(float(ent), tuple(map(float, ci)), n, counts, fit, fit_n, method, last,
                         info)


# ---------------------------------------------------------------------------------------------
# interval maps

def critical_points(f, interval, n_grid=200_001):
    """Interior turning points of ``f`` on ``interval`` (local extrema found on a grid and
    refined by golden-section search)."""
    a, b = map(float, interval)
    x = np.linspace(a, b, int(n_grid))
    y = f(x)
    d = np.sign(np.diff(y))
    idx = np.nonzero(d[1:] * d[:-1] < 0)[0] + 1
    out = []
    g = (np.sqrt(5) - 1) / 2
    for i in idx:
        lo, hi = x[i - 1], x[i + 1]
        sgn = -1.0 if d[i - 1] > 0 else 1.0  # maximum: minimize -f
        for _ in range(100):
            c1, c2 = hi - g * (hi - lo), lo + g * (hi - lo)
            if sgn * f(np.array([c1]))[0] < sgn * f(np.array([c2]))[0]:
                hi = c2
            else:
                lo = c1
        out.append(0.5 * (lo + hi))
    return np.array(out)


def _preimages(f, pieces, targets):
    """All ``x`` with ``f(x) = t`` for each target, one bisection per monotone piece."""
    out = []
    targets = np.asarray(targets, dtype=float)
    for lo, hi in pieces:
        flo, fhi = f(np.array([lo]))[0], f(np.array([hi]))[0]
        up = fhi >= flo
        tmin, tmax = min(flo, fhi), max(flo, fhi)
        t = targets[(targets > tmin) & (targets < tmax)]
        if t.size == 0:
            continue
        a = np.full(t.size, lo)
        c = np.full(t.size, hi)
        for _ in range(200):
            m = 0.5 * (a + c)
            fm = f(m)
            left = (fm < t) if up else (fm > t)
            a = np.where(left, m, a)
            c = np.where(left, c, m)
            if np.all(c - a <= 4 * np.finfo(float).eps * max(1.0, abs(lo), abs(hi))):
                break
        out.append(0.5 * (a + c))
    return np.concatenate(out) if out else np.empty(0)


def lap_numbers(f, interval, n_max, crit=None, *, tol=None):
    """Lap numbers ``L(f^n)`` for ``n = 1 .. n_max`` of a continuous piecewise-monotone map of
    ``interval`` into itself.  ``crit``: its interior turning points (found numerically when
    not given; give them for maps with corners such as tent maps if the grid could miss them)."""
    a, b = map(float, interval)
    if not a < b:
        raise GdchaosInputError(f"interval must be (a, b) with a < b, got {interval}")
    if int(n_max) < 1:
        raise GdchaosInputError(f"n_max must be >= 1, got {n_max}")
    c = np.sort(np.asarray(critical_points(f, (a, b)) if crit is None else crit, dtype=float))
    c = c[(c > a) & (c < b)]
    edges = np.concatenate([[a], c, [b]])
    pieces = list(zip(edges[:-1], edges[1:]))
    signs = np.sign(f(edges[1:]) - f(edges[:-1]))
    tol = 1e-12 * (b - a) if tol is None else float(tol)

    def piece_sign(x):
        k = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(pieces) - 1)
        return signs[k]

    laps = []
    level = c.copy()          # points whose orbit hits C after exactly j steps (j < n)
    turning = c.copy()        # union over j < n
    for n in range(1, int(n_max) + 1):
        if n > 1:
            level = _preimages(f, pieces, level)
            turning = np.concatenate([turning, level])
        t = np.unique(np.sort(turning))
        if t.size > 1:
            t = t[np.concatenate([[True], np.diff(t) > tol])]
        pts = np.concatenate([[a], t, [b]])
        m = 0.5 * (pts[:-1] + pts[1:])
        direction = np.ones(m.size)
        x = m.copy()
        for _ in range(n):
            direction *= piece_sign(x)
            x = np.clip(f(x), a, b)
        laps.append(1 + int(np.count_nonzero(direction[1:] != direction[:-1])))
    return np.arange(1, int(n_max) + 1), np.array(laps)


def lap_entropy(f, interval, n_max=12, crit=None, fit_from=None) -> EntropyResult:
    """Topological entropy of an interval map from the growth of its lap numbers."""
    n, L = lap_numbers(f, interval, n_max, crit)
    fit_from = max(1, int(n_max) // 2) if fit_from is None else int(fit_from)
    return _result(n, L, fit_from, "lap number",
                   {"interval": [float(v) for v in interval]})


# ---------------------------------------------------------------------------------------------
# planar maps

def _iterate_with_jacobian(step, jacobian, X, n):
    P = X.shape[1]
    J = np.broadcast_to(np.eye(P), (X.shape[0], P, P)).copy()
    Y = X.copy()
    for _ in range(n):
        J = jacobian(Y) @ J
        Y = step(Y)
    return Y, J


def periodic_points(step, jacobian, n, seeds, *, tol=1e-10, max_newton=50, dedup=1e-7,
                    domain=None):
    """Distinct solutions of ``F^n(x) = x`` reached by Newton's method from ``seeds``.

    ``domain(X) -> bool`` keeps only solutions in a region of interest.  Solutions closer than
    ``dedup`` (sup norm) are merged.  Returns an ``(m, P)`` array (periodic points of every period
    dividing ``n``; these are what ``#Fix(F^n)`` counts).
    """
    X = np.array(seeds, dtype=float)
    P = X.shape[1]
    with np.errstate(all="ignore"):
        for _ in range(int(max_newton)):
            Y, J = _iterate_with_jacobian(step, jacobian, X, int(n))
            G = Y - X
            A = J - np.eye(P)[None]
            ok = np.all(np.isfinite(G), axis=1) & np.all(np.isfinite(A), axis=(1, 2))
            ok &= np.abs(np.linalg.det(np.where(ok[:, None, None], A, np.eye(P)))) > 1e-300
            dx = np.zeros_like(X)
            dx[ok] = np.linalg.solve(A[ok], -G[ok][..., None])[..., 0]
            X = np.where(ok[:, None], X + dx, np.nan)
            X = X[np.all(np.isfinite(X), axis=1)]
            if X.shape[0] == 0:
                return np.empty((0, P))
        Y, _ = _iterate_with_jacobian(step, jacobian, X, int(n))
        res = np.max(np.abs(Y - X), axis=1)
    good = np.isfinite(res) & (res <= tol * (1.0 + np.max(np.abs(X), axis=1)))
    if domain is not None:
        good &= np.asarray(domain(X), dtype=bool)
    X = X[good]
    if X.shape[0] == 0:
        return X
    q = np.round(X / dedup).astype(np.int64)
    _, first = np.unique(q, axis=0, return_index=True)
    X = X[np.sort(first)]
    # merge neighbours split by rounding
    from scipy.spatial import cKDTree

    tree = cKDTree(X)
    keep = np.ones(X.shape[0], dtype=bool)
    for i, j in sorted(tree.query_pairs(dedup, p=np.inf)):
        if keep[i] and keep[j]:
            keep[j] = False
    return X[keep]


def periodic_point_entropy(step, jacobian, seeds, n_values, *, fit_from=None, **kw):
    """Growth rate of ``#Fix(F^n)`` (periodic points found by :func:`periodic_points` from the
    same ``seeds`` for every ``n``).  A lower estimate: Newton may miss points."""
    n_values = np.asarray(sorted(int(v) for v in n_values))
    counts = np.array([periodic_points(step, jacobian, int(k), seeds, **kw).shape[0]
                       for k in n_values])
    fit_from = n_values[len(n_values) // 2] if fit_from is None else int(fit_from)
    return _result(n_values, counts, fit_from, "periodic points", {"n_seeds": len(seeds)})


def _greedy_separated(T, eps):
    """Size of a greedy maximal eps-separated subset of the rows of ``T`` (sup norm)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(T)
    taken = np.zeros(T.shape[0], dtype=bool)
    covered = np.zeros(T.shape[0], dtype=bool)
    for i in range(T.shape[0]):
        if covered[i]:
            continue
        taken[i] = True
        covered[tree.query_ball_point(T[i], eps, p=np.inf)] = True
    return int(taken.sum())


def separated_set_entropy(step, samples, n_values, eps, *, fit_from=None, max_fill=0.05,
                          seed=0):
    """Growth of the largest ``(n, eps)``-separated set found among ``samples`` (greedy, in a
    random order): orbits of length ``n`` pairwise more than ``eps`` apart in the Bowen metric.

    The samples should lie on (or very near) the invariant set whose entropy is wanted; the
    count saturates once it approaches the number of samples: the fit uses ``n >= fit_from``
    (default the middle of ``n_values``) and counts at most ``max_fill`` times the number of
    samples.  Orbits that become non-finite are dropped.
    """
    X = np.array(samples, dtype=float)
    if X.ndim != 2 or X.shape[0] < 1:
        raise GdchaosInputError(f"samples must be a non-empty (m, D) array, got shape {X.shape}")
    check_positive("separation eps", eps)
    if len(n_values) == 0 or min(int(v) for v in n_values) < 1:
        raise GdchaosInputError(f"orbit lengths n must be >= 1, got {list(n_values)}")
    rng = np.random.default_rng(check_seed("seed", seed))
    X = X[rng.permutation(X.shape[0])]
    n_values = np.asarray(sorted(int(v) for v in n_values))
    N = int(n_values.max())
    traj = [X]
    with np.errstate(all="ignore"):
        for _ in range(N - 1):
            traj.append(step(traj[-1]))
    counts = []
    for k in n_values:
        T = np.concatenate(traj[:k], axis=1)
        T = T[np.all(np.isfinite(T), axis=1)]
        counts.append(_greedy_separated(T, float(eps)))
    counts = np.array(counts)
    fit_from = n_values[len(n_values) // 2] if fit_from is None else int(fit_from)
    unsat = counts <= max_fill * X.shape[0]
    fit_counts = np.where(unsat, counts, 0)
    out = _result(n_values, fit_counts, fit_from, "(n, eps)-separated",
                  {"eps": float(eps), "n_samples": int(X.shape[0]), "max_fill": max_fill,
                   "saturated_n": n_values[~unsat].tolist()})
    out.counts = counts.astype(float)
    return out


def check_quotient_alpha(alpha, name="alpha"):
    """``alpha = eta y`` of the planar quotient map on ``{Q = 8}``: a finite number with
    ``|alpha| < 1``.  For ``|eta y| >= 1`` GD has no stable minimizer (the sharpness of every
    minimizer, ``|u|^2 + |v|^2 >= 2|y|``, is at least ``2/eta``), so ``{Q = 8}`` bounds no
    convergence region; it is the same condition as for the periodic orbits on ``{Q = 8}``
    (:func:`gdchaos.analysis.gd_periodic_orbit`)."""
    a = float(alpha)
    if not np.isfinite(a) or not abs(a) < 1:
        raise GdchaosInputError(f"{name} = eta y must satisfy |alpha| < 1, got {alpha!r} (for "
                                "|eta y| >= 1 GD has no stable minimizer and {Q = 8} bounds no "
                                "convergence region)")
    return a


def _planar_quotient_entropy(n_max, alpha=0.5, samples=20000, eps=0.05, seed=0, **_):
    from ..errors import check_int
    from ..theory import quotient as tq

    alpha = check_quotient_alpha(alpha)
    samples = check_int("samples", samples, lo=1)
    check_positive("separation eps", eps)
    Z = np.random.default_rng(check_seed("seed", seed)).uniform(-2, 2, samples)

    def F(X):
        return np.stack(tq.scaled_map(X[:, 0], X[:, 1], alpha, 0.0), 1)

    return separated_set_entropy(F, np.stack([Z, alpha * Z + 4.0], 1), range(1, n_max + 1), eps,
                                 fit_from=1)


def _interval_map(name, r):
    from ..theory import quotient as tq

    if name == "logistic":
        if not 0 < r <= 4:
            raise GdchaosInputError(f"--r must be in (0, 4], got {r}")
        return (lambda x: r * x * (1 - x)), (0.0, 1.0), [0.5]
    return {"boundary": (tq.boundary_map, (-2.0, 2.0), [-1.0, 1.0]),
            "chebyshev": (tq.chebyshev_map, (-1.0, 1.0), [-0.5, 0.5]),
            "tent3": (tq.tent3_map, (-1.0, 1.0), [-1 / 3, 1 / 3])}[name]


#: the maps :func:`map_entropy` knows: interval maps (lap numbers) and the planar quotient map on
#: {Q = 8} (separated sets)
ENTROPY_MAPS = ("boundary", "chebyshev", "tent3", "logistic", "quotient")


def map_entropy(name, n_max=12, *, r=4.0, alpha=0.5, samples=20000, eps=0.05, seed=0):
    """Topological entropy of one of :data:`ENTROPY_MAPS`: lap-number growth of an interval map
    (``logistic`` with parameter ``r``), or growth of ``(n, eps)``-separated orbits of the planar
    quotient map (``alpha = eta y`` with ``|alpha| < 1``, ``samples`` points on {Q = 8},
    beta = 0).  :func:`map_entropy_cost` estimates the work first."""
    from ..errors import check_int

    if name not in ENTROPY_MAPS:
        raise GdchaosInputError(f"unknown map {name!r}; choose from {', '.join(ENTROPY_MAPS)}")
    n_max = check_int("n_max", n_max, lo=1)
    planar = {"quotient": _planar_quotient_entropy}
    if name in planar:
        return planar[name](n_max, alpha=alpha, samples=samples, eps=eps, seed=seed)
    f, iv, crit = _interval_map(name, r)
    return lap_entropy(f, iv, n_max, crit=crit)


def lap_number_cost(f, interval, n_max, crit=None, probe=8):
    """Estimated work of :func:`lap_numbers` up to ``n_max``: ``(operations, memory_bytes,
    laps)``.  The lap numbers are counted exactly up to ``min(n_max, probe)`` (cheap) and
    extrapolated at the larger of the last and the mean growth ratio; level ``n`` bisects
    about ``L(n)`` preimages (about 64 map evaluations each) and follows ``L(n)`` midpoints for
    ``n`` steps, and keeps about 10 float arrays of ``L(n)`` entries."""
    n_max = int(n_max)
    _, L = lap_numbers(f, interval, min(n_max, int(probe)), crit)
    if n_max > 100_000:  # at least n_max^2 steps of midpoints: past any limit
        return np.inf, float(80.0 * L[-1]), np.inf
    L = L.astype(float)
    rho = 1.0
    if L.size > 1:
        rho = max(L[-1] / max(L[-2], 1.0), (L[-1] / max(L[0], 1.0)) ** (1.0 / (L.size - 1)), 1.0)
    n = np.arange(1, n_max + 1, dtype=float)
    k = np.minimum(n, L.size)
    with np.errstate(over="ignore"):
        Ln = L[(k - 1).astype(int)] * rho ** (n - k)
        ops = float(np.sum((64.0 + n) * Ln))
    return ops, float(80.0 * Ln[-1]), float(Ln[-1])


def _separated_cost(n_max, samples):
    """The orbits (n x m x 2 floats), one (m, 2k) table at a time; a k-d tree query a point."""
    n, m = float(n_max), float(samples)
    return (m * n * n * 2 + m * n * 64 * np.log2(m + 2), 16 * m * n + 32 * m * n,
            f"{int(samples)} orbits of {int(n_max)} steps")


def map_entropy_cost(name, n_max=12, *, r=4.0, samples=20000, **_):
    """``(operations, memory_bytes, what)``: the estimated work of :func:`map_entropy`."""
    planar = {"quotient": _separated_cost}
    if name in planar:
        return planar[name](n_max, samples)
    f, iv, crit = _interval_map(name, r)
    ops, mem, laps = lap_number_cost(f, iv, n_max, crit)
    return ops, mem, f"lap numbers up to n = {int(n_max)} (about {laps:.3g} laps)"
