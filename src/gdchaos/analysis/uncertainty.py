"""Uncertainty exponent (Grebogi, McDonald, Ott, Yorke, Phys. Lett. A 99 (1983) 415).

For each perturbation size ``eps`` draw ``n`` random initial points ``x`` in a region and a
random unit direction ``u`` for each; ``x`` is *eps-uncertain* when ``x`` and ``x + eps u`` have
different outcomes.  The fraction ``f(eps)`` of uncertain points scales as ``eps^alpha`` with
``alpha = D - D_B`` (``D`` the dimension of the space, ``D_B`` the box-counting dimension of the
basin boundary): ``alpha = 1`` for a smooth boundary, ``alpha < 1`` for a fractal one.  Unlike
box counting on a grid it does not depend on a pixel size.

Outcomes come from any vectorized function ``outcome(X) -> int labels`` (negative = not a
valid state, the pair is dropped); :func:`engine_outcome` builds one from an engine problem.
Each ``eps`` costs one call with the ``2n`` points (fresh independent points per ``eps``, so the
binomial errors of the fractions are independent and the weighted fit's interval is honest).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import GdchaosInputError, check_positive, check_seed
from ._fit import LinearFit, fit_line

__all__ = ["UncertaintyResult", "uncertainty_exponent", "engine_outcome", "box_sampler",
           "quotient_sampler"]


@dataclass
class UncertaintyResult:
    """``f(eps) ~ eps^alpha``: raw curve (``eps``, ``fraction``, ``n_uncertain``, ``n_valid``)
    and the weighted fit; ``dimension = D - alpha`` is the implied boundary dimension."""

    alpha: float
    ci: tuple
    dimension: float
    dimension_ci: tuple
    D: int
    eps: np.ndarray
    fraction: np.ndarray
    n_uncertain: np.ndarray
    n_valid: np.ndarray
    fit: LinearFit | None
    fit_mask: np.ndarray
    seconds: float = 0.0
    info: dict = field(default_factory=dict)

    def as_dict(self):
        return {"alpha": float(self.alpha), "ci": [float(c) for c in self.ci],
                "dimension": float(self.dimension),
                "dimension_ci": [float(c) for c in self.dimension_ci], "D": int(self.D),
                "eps": self.eps.tolist(), "fraction": self.fraction.tolist(),
                "n_uncertain": self.n_uncertain.astype(int).tolist(),
                "n_valid": self.n_valid.astype(int).tolist(),
                "fit_mask": self.fit_mask.tolist(), "seconds": float(self.seconds),
                "fit": None if self.fit is None else self.fit.as_dict(), "info": self.info}

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 3.5))
        ok = self.n_uncertain > 0
        err = np.sqrt(np.maximum(self.n_uncertain, 1)) / np.maximum(self.n_valid, 1)
        ax.errorbar(self.eps[ok], self.fraction[ok], yerr=err[ok], fmt="o", ms=3,
                    label="f(eps)")
        if self.fit is not None:
            e = self.eps[self.fit_mask]
            ax.loglog(e, np.exp(self.fit.intercept) * e ** self.alpha, "-",
                      label=f"alpha {self.alpha:.3f} [{self.ci[0]:.3f}, {self.ci[1]:.3f}]")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("eps")
        ax.set_ylabel("uncertain fraction")
        ax.legend(fontsize=8)
        return ax


def box_sampler(lo, hi):
    """Uniform points in the box ``[lo, hi]`` (arrays of length D): ``sampler(rng, n)``."""
    lo = np.atleast_1d(np.asarray(lo, dtype=float))
    hi = np.atleast_1d(np.asarray(hi, dtype=float))
    if lo.shape != hi.shape or np.any(~(lo < hi)):
        raise GdchaosInputError("sampling box needs lo < hi in every coordinate")

    def sampler(rng, n):
        return lo + (hi - lo) * rng.random((int(n), lo.size))

    sampler.dim = lo.size
    return sampler


def quotient_sampler(zrange, wrange, y, margin=0.0):
    """Uniform points of ``[z0, z1] x [w0, w1]`` inside the quotient state space, at least
    ``margin`` above its edge (``w - 2|z + y| >= margin``), by rejection."""
    box = box_sampler([zrange[0], wrange[0]], [zrange[1], wrange[1]])
    probe = box(np.random.default_rng(0), 20000)
    acc = np.mean(probe[:, 1] - 2 * np.abs(probe[:, 0] + y) >= margin)
    if acc == 0:
        raise GdchaosInputError("the sampling box does not meet the quotient state space")

    def sampler(rng, n):
        out, have = [], 0
        while have < n:
            X = box(rng, int(1.2 * (n - have) / acc) + 16)
            X = X[X[:, 1] - 2 * np.abs(X[:, 0] + y) >= margin]
            out.append(X)
            have += X.shape[0]
        return np.concatenate(out)[:n]

    sampler.dim = 2
    return sampler


def engine_outcome(problem, eta, mode="converged", **engine_kwargs):
    """Outcome function from the engine: ``X -> labels`` (see
    :func:`gdchaos.analysis.outcome_labels` for ``mode``); points outside the state space get -1.
    ``engine_kwargs`` go to :func:`gdchaos.engine.run_points` (``max_iter``, ``tol``, ...)."""
    from ..engine import run_points
    from .boundaries import outcome_labels

    coord = 0 if mode == "status+sign" else None

    def outcome(X):
        res = run_points(problem, X, eta, coordinate=coord, **engine_kwargs)
        return outcome_labels(res.status, res.minimizer, mode, res.coordinate)

    outcome.dim = problem.n_params
    return outcome


def _directions(rng, n, D):
    u = rng.standard_normal((n, D))
    nrm = np.linalg.norm(u, axis=1, keepdims=True)
    nrm[nrm == 0] = 1.0
    return u / nrm


def _subrange_slopes(x, y, w):
    """Half-range of the weighted slopes over every sub-range of at least half the points."""
    m = x.size
    k = max(3, (m + 1) // 2)
    if m < 4:
        return 0.0
    sl = [fit_line(x[a:b], y[a:b], weights=w[a:b]).slope
          for a in range(0, m - k + 1) for b in range(a + k, m + 1)]
    return float((max(sl) - min(sl)) / 2.0)


def uncertainty_exponent(outcome, sampler, eps, n_points=100_000, *, D=None, seed=0,
                         min_uncertain=10, max_fraction=0.1, level=0.95,
                         progress=False) -> UncertaintyResult:
    """Uncertainty exponent from ``n_points`` random pairs per perturbation size.

    ``outcome``: vectorized ``X (m, D) -> int labels``, negative = invalid.  ``sampler``:
    ``(rng, n) -> X`` (see :func:`box_sampler`, :func:`quotient_sampler`).  ``eps``: the
    perturbation sizes.  Fit: weighted least squares of ``log f`` on ``log eps`` with binomial
    weights ``n f / (1 - f)``; the interval is widened by the fit's reduced chi-square when that
    exceeds 1.

    Fit window (issue 23): the sizes with at least ``min_uncertain`` uncertain points (finer
    ones are noise) and an uncertain fraction at most ``max_fraction`` (coarser perturbations
    reach across the structure of the basins and the curve bends over: ``f`` saturates).  When
    fewer than 3 sizes qualify the ``max_fraction`` rule is dropped (``info["warnings"]`` says
    so).  Interval: the weighted fit's ``level`` interval combined in quadrature with the
    half-range of the slopes fitted on every sub-range of at least half the window (the
    log-periodic oscillation of lacunar boundaries: on a Cantor-set basin the local slope
    swings around the exponent over each factor 3 in ``eps``).
    """
    import time

    from tqdm.auto import tqdm

    eps = np.sort(np.atleast_1d(np.asarray(eps, dtype=float)))[::-1]
    for e in eps:
        check_positive("perturbation size eps", e)
    if np.unique(eps).size < 2:
        raise GdchaosInputError(f"the exponent is a slope: give at least 2 different "
                                f"perturbation sizes eps, got {eps.tolist()}")
    seed = check_seed("seed", seed)
    n = int(n_points)
    if n < 10:
        raise GdchaosInputError(f"n_points must be >= 10, got {n_points}")
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    n_unc = np.zeros(eps.size)
    n_val = np.zeros(eps.size)
    dim = None
    for i, e in enumerate(tqdm(eps, disable=not progress, desc="uncertainty", unit="eps",
                               leave=False)):
        X = np.asarray(sampler(rng, n), dtype=float)
        dim = X.shape[1]
        Xp = X + e * _directions(rng, n, dim)
        lab = np.asarray(outcome(np.concatenate([X, Xp])))
        a, b = lab[:n], lab[n:]
        ok = (a >= 0) & (b >= 0)
        n_val[i] = np.count_nonzero(ok)
        n_unc[i] = np.count_nonzero(ok & (a != b))
    D = dim if D is None else int(D)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(n_val > 0, n_unc / n_val, np.nan)
    use = n_unc >= min_uncertain
    warns = []
    with np.errstate(invalid="ignore"):
        narrow = use & (f <= float(max_fraction))
    if np.count_nonzero(narrow) >= 3:
        use = narrow
    elif np.count_nonzero(use) >= 2:
        warns.append(f"fewer than 3 sizes with an uncertain fraction <= {max_fraction:g}: the "
                     "fit includes coarse sizes where the curve may bend")
    fit = None
    alpha, ci = np.nan, (np.nan, np.nan)
    sys = 0.0
    if np.count_nonzero(use) >= 2:
        wts = n_val[use] * f[use] / np.maximum(1.0 - f[use], 1e-12)
        order = np.argsort(eps[use])
        x, y, w = np.log(eps[use])[order], np.log(f[use])[order], wts[order]
        fit = fit_line(x, y, weights=w, level=level)
        sys = _subrange_slopes(x, y, w)
        half = float(np.hypot(fit.ci[1] - fit.slope, sys))
        alpha, ci = fit.slope, (fit.slope - half, fit.slope + half)
        decades = float((x.max() - x.min()) / np.log(10.0))
        if decades < 1.0:
            warns.append(f"the fit spans {decades:.2f} decades of eps (fewer than 1)")
    return UncertaintyResult(float(alpha), tuple(ci), float(D - alpha), (D - ci[1], D - ci[0]),
                             int(D), eps, f, n_unc, n_val, fit, use,
                             time.perf_counter() - t0,
                             {"n_points": n, "seed": seed, "min_uncertain": min_uncertain,
                              "max_fraction": float(max_fraction), "sys": sys,
                              "ci_stat": [float(c) for c in (fit.ci if fit else ci)],
                              "warnings": warns})
