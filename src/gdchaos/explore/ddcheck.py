"""How deep the double-double quotient map goes, and at what cost (``python -m
gdchaos.explore.ddcheck``; figures in docs/explore.md).

Zooms into figure 3's boundary at the repelling period-2 point of ``experiments/extras.py``;
per width: agreement of float64 (the engine) and of double-double (:func:`quotient_grid_dd`)
with a 60-digit reference (mpmath, a few hundred points), the fraction of distinct float64
pixels, and the time per point-step of each.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

CENTRE = (1.2806248474865698, 4.724695047554424)  # period-2 point, figure 3 (extras.py)
FIG3 = dict(y=0.5, lam=0.2, eta=1.0)


def mp_outcome(zc, wc, xs, ys, y, lam, eta, iters, min_value, tol=1e-12, dps=60):
    """Converged (True) or not, for each point ``(zc + x, wc + y)``, in mpmath at ``dps``."""
    import mpmath as mp

    mp.mp.dps = dps
    zc, wc = mp.mpf(zc), mp.mpf(wc)
    Y, L, E = mp.mpf(y), mp.mpf(lam), mp.mpf(eta)
    a = 1 - E * L
    out = np.zeros((len(ys), len(xs)), bool)
    for j, oy in enumerate(ys):
        for i, ox in enumerate(xs):
            z, w = zc + mp.mpf(float(ox)), wc + mp.mpf(float(oy))
            for _ in range(int(iters)):
                loss = z * z / 2 + L * w / 2
                if loss > 1e8:
                    break
                if loss - mp.mpf(min_value) <= tol:
                    out[j, i] = True
                    break
                c = a * a + E * E * z * z
                z, w = c * (z + Y) - E * a * z * w - Y, c * w - 4 * E * a * z * (z + Y)
    return out


def periodic_centre_mp(y, lam, eta, guess=CENTRE, period=2, dps=60):
    """The period-``period`` point near ``guess`` by Newton's method in mpmath; returns
    ``((z_hi, z_lo), (w_hi, w_lo))``, a double-double pair per coordinate."""
    import mpmath as mp

    mp.mp.dps = dps
    Y, L, E = mp.mpf(y), mp.mpf(lam), mp.mpf(eta)
    a = 1 - E * L

    def F(z, w):
        for _ in range(period):
            c = a * a + E * E * z * z
            z, w = c * (z + Y) - E * a * z * w - Y, c * w - 4 * E * a * z * (z + Y)
        return z, w

    X = mp.matrix([mp.mpf(guess[0]), mp.mpf(guess[1])])
    for _ in range(60):
        fz, fw = F(X[0], X[1])
        r = mp.matrix([fz - X[0], fw - X[1]])
        h = mp.mpf(10) ** (-dps // 2)
        J = mp.matrix(2, 2)
        for k in range(2):
            Xp = X.copy()
            Xp[k] += h
            gz, gw = F(Xp[0], Xp[1])
            J[0, k] = (gz - fz) / h - (1 if k == 0 else 0)
            J[1, k] = (gw - fw) / h - (1 if k == 1 else 0)
        dx = mp.lu_solve(J, -r)
        X = X + dx
        if mp.norm(dx) < mp.mpf(10) ** (-dps + 5):
            break
    out = []
    for v in (X[0], X[1]):
        hi = float(v)
        out.append((hi, float(v - mp.mpf(hi))))
    return tuple(out)


def report(n=300, ref=16, iters=2000, widths=(1e-8, 1e-12, 1e-13, 1e-14, 1e-16, 1e-20, 1e-24,
                                                   1e-28, 1e-30, 1e-32), progress=print):
    from ..engine import RunConfig, Slice2D, basin, quotient_grid_dd
    from ..problems import QuotientMap

    prob = QuotientMap(FIG3["y"], FIG3["lam"])
    cfg = RunConfig(eta=FIG3["eta"], max_iter=iters, tol=1e-12, gtol=0.0)
    centre = periodic_centre_mp(prob.y, prob.lam, cfg.eta)
    progress(f"centre (double-double): {centre}")
    import mpmath as mp

    zc, wc = (mp.mpf(centre[0][0]) + centre[0][1], mp.mpf(centre[1][0]) + centre[1][1])
    quotient_grid_dd(prob.y, prob.lam, cfg.eta, centre, [0.0], [0.0], max_iter=1)  # compile
    basin(prob, Slice2D(np.array(CENTRE), np.eye(2), (-1, 1), (-1, 1), 2, 2), config=cfg)
    rows = []
    for width in widths:
        h = width / 2
        offs = np.linspace(-h, h, n)
        t = time.perf_counter()
        dd = quotient_grid_dd(prob.y, prob.lam, cfg.eta, centre, offs, offs, max_iter=iters,
                              tol=1e-12, gtol=0.0)
        t_dd = time.perf_counter() - t
        g = Slice2D(np.array([centre[0][0], centre[1][0]]), np.eye(2), (-h, h), (-h, h), n, n)
        t = time.perf_counter()
        ds = basin(prob, g, config=cfg, records=[])
        t_64 = time.perf_counter() - t
        st64 = np.asarray(ds.status)
        pts = g.points()
        sub = np.linspace(0, n - 1, ref).astype(int)
        ref_conv = mp_outcome(zc, wc, offs[sub], offs[sub], prob.y, prob.lam, cfg.eta, iters,
                              prob.min_value)
        steps = float(dd["iterations"].sum())
        row = {"width": width, "pixel": width / (n - 1),
               "distinct_float64_columns": len(np.unique(pts[:n, 0])) / n,
               "float64_agreement": float(np.mean((st64[np.ix_(sub, sub)] == 1) == ref_conv)),
               "dd_agreement": float(np.mean((dd["status"][np.ix_(sub, sub)] == 1) == ref_conv)),
               "dd_converged_fraction": float(np.mean(dd["status"] == 1)),
               "float64_converged_fraction": float(np.mean(st64 == 1)),
               "dd_seconds": t_dd, "float64_seconds": t_64,
               "dd_ns_per_point_step": 1e9 * t_dd / max(steps, 1),
               "float64_ns_per_point_step": 1e9 * t_64 / max(float(np.asarray(
                   ds.iterations).sum()), 1)}
        progress(json.dumps(row))
        rows.append(row)
    return rows


if __name__ == "__main__":  # pragma: no cover
    report(n=int(sys.argv[1]) if len(sys.argv) > 1 else 300)
