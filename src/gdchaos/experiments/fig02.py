"""Figure 2: measure-zero basins meet the boundary of D0; wide outcome distributions near it.

L(u, v) = 1/2 (uv - 1)^2, (u, v) in R^2, eta = 0.2.  Left: the basins of unstable minimizers
(|p|^2 > 2/eta, reached in finitely many steps: the zero set of ``uv - y`` after ``steps`` steps
where the point reached is unstable) and of the saddle (0, 0) (points of D0 whose ``steps``-th
iterate lies on the saddle's stable line ``u = -sign(y) v``).
Right: a small box straddling the boundary of D0 sampled evenly; histograms of the squared norm
and imbalance u^2 - v^2 of the converged minimizer and of the iterations to reach loss < 1e-8.
"""

from __future__ import annotations

import numpy as np

from .runner import FigureData, FigureSpec

PRESETS = {
    "paper": dict(y=1.0, eta=0.2, grid=800, range=[-4.5, 4.5, -4.5, 4.5], steps=6,
                  box_grid=800, box=[-0.9, -0.6, 4.25, 4.55], box_iters=250, tol=1e-8,
                  div=100.0),
    "quick": dict(y=1.0, eta=0.2, grid=600, range=[-4.5, 4.5, -4.5, 4.5], steps=6,
                  box_grid=400, box=[-0.9, -0.6, 4.25, 4.55], box_iters=250, tol=1e-8,
                  div=100.0),
}
PRESETS["tiny"] = dict(PRESETS["quick"], grid=160, box_grid=60)


def finite_step_fields(y, eta, lam, U, V, steps):
    """Iterate GD ``steps`` times from every grid point (d = 1); returns the final ``(u, v)``
    (non-finite values replaced by NaN)."""
    from ..problems import ScalarFactorization

    prob = ScalarFactorization(d=1, y=y, lam=lam)
    X = np.stack([np.ravel(U), np.ravel(V)], 1)
    with np.errstate(all="ignore"):
        for _ in range(int(steps)):
            X = prob.step(X, eta)
            X[~np.all(np.isfinite(X), axis=1) | (np.abs(X).max(axis=1) > 1e150)] = np.nan
    return X[:, 0].reshape(np.shape(U)), X[:, 1].reshape(np.shape(U))


def saddle_line_field(y, eta, lam, Uf, Vf, settle=200):
    """``u + sign(y) v`` at the iterates ``(Uf, Vf)``, NaN where the point's projection onto the
    saddle's stable line ``u = -sign(y) v`` does not converge to the origin along that line
    (the 1-D map ``t -> t (1 - eta lam - eta (t^2 + |y|))``).  Its zero set is the saddle's
    basin (SPEC section 1; the line is invariant and attracts to (0, 0) locally)."""
    s = 1.0 if y >= 0 else -1.0
    t = 0.5 * (Uf - s * Vf)
    with np.errstate(all="ignore"):
        tt = t.copy()
        for _ in range(int(settle)):
            tt = tt * (1.0 - eta * lam - eta * (tt * tt + abs(y)))
            tt[~np.isfinite(tt) | (np.abs(tt) > 1e6)] = np.nan
        ok = np.isfinite(tt) & (np.abs(tt) < 1e-3)
    return np.where(ok, Uf + s * Vf, np.nan)


def sign_change_pixels(field):
    """Pixels next to a sign change of ``field`` (horizontal or vertical neighbour), both finite."""
    f = np.asarray(field, dtype=float)
    out = np.zeros(f.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        h = np.isfinite(f[:, 1:]) & np.isfinite(f[:, :-1]) & (np.sign(f[:, 1:]) != np.sign(f[:, :-1]))
        v = np.isfinite(f[1:]) & np.isfinite(f[:-1]) & (np.sign(f[1:]) != np.sign(f[:-1]))
    out[:, 1:] |= h
    out[:, :-1] |= h
    out[1:] |= v
    out[:-1] |= v
    return out


def compute(p, out, progress):
    import xarray as xr

    from ..engine import RunConfig, Slice2D, basin, status_fractions
    from ..plotting.figures import q_grid, uv_grid
    from ..problems import ScalarFactorization

    y, eta = p["y"], p["eta"]
    r = p["range"]
    us, vs, U, V = uv_grid(r[:2], r[2:], p["grid"])
    Uf, Vf = finite_step_fields(y, eta, 0.0, U, V, p["steps"])
    Q = q_grid(U, V, y)
    inside = Q < 8.0 / eta
    with np.errstate(invalid="ignore"):
        sqf = Uf * Uf + Vf * Vf
        unstable = np.where(sqf > 2.0 / eta, Uf * Vf - y, np.nan)
    saddle = saddle_line_field(y, eta, 0.0, Uf, Vf)
    saddle = np.where(inside, saddle, np.nan)  # outside D0 no point reaches the saddle
    left = xr.Dataset({"unstable_field": (("v", "u"), unstable),
                       "saddle_field": (("v", "u"), saddle), "Q": (("v", "u"), Q),
                       "sq_norm_after": (("v", "u"), sqf)}, coords={"u": us, "v": vs})
    pu = sign_change_pixels(unstable)
    ps = sign_change_pixels(saddle)

    prob = ScalarFactorization(d=1, y=y)
    b = p["box"]
    g = Slice2D.axes(2, b[:2], b[2:], p["box_grid"])
    cfg = RunConfig(eta=eta, max_iter=p["box_iters"], tol=p["tol"], div_threshold=p["div"])
    box = basin(prob, g, config=cfg, keep_params=True, progress=progress)
    conv = np.asarray(box.status) == 1
    P = np.asarray(box.params)
    box["signed_imbalance"] = (("y", "x"), P[..., 0] ** 2 - P[..., 1] ** 2)
    box = box.drop_vars("params")
    Ub, Vb = np.meshgrid(np.asarray(box.x), np.asarray(box.y))
    box_in_d0 = q_grid(Ub, Vb, y) < 8.0 / eta
    sq = np.asarray(box.sq_norm)[conv]
    imb = np.asarray(box.signed_imbalance)[conv]
    its = np.asarray(box.iterations)[conv]
    edges = np.arange(2.5, 9.51, 0.5)
    occupied = np.histogram(sq, bins=edges)[0] > 0 if sq.size else np.zeros(edges.size - 1, bool)
    numbers = {
        "unstable_basin_pixels": int(pu.sum()),
        "unstable_basin_Q_min": float(Q[pu].min()) if pu.any() else None,
        "unstable_basin_inside_d0_fraction": float(inside[pu].mean()) if pu.any() else None,
        "unstable_minimizer_sq_norm_range": ([float(np.nanmin(sqf[pu])), float(np.nanmax(sqf[pu]))]
                                             if pu.any() else None),
        "saddle_basin_pixels": int(ps.sum()),
        "saddle_basin_Q_max": float(Q[ps].max()) if ps.any() else None,
        "D0_level_8_over_eta": 8.0 / eta,
        "stability_limit_2_over_eta": 2.0 / eta,
        "box_fractions": status_fractions(np.asarray(box.status)),
        "box_fraction_in_D0": float(box_in_d0.mean()),
        "box_converged_outside_D0_fraction": float((conv & ~box_in_d0).mean()),
        "sq_norm_range": [float(sq.min()), float(sq.max())] if sq.size else None,
        "sq_norm_bins_occupied_2.5_to_9.5": float(occupied.mean()),
        "imbalance_range": [float(imb.min()), float(imb.max())] if imb.size else None,
        "iterations_range": [int(its.min()), int(its.max())] if its.size else None,
        "iterations_median": float(np.median(its)) if its.size else None,
        "theorem2_interval": [2 * abs(y), 2 / eta],
    }
    return FigureData({"left": left, "box": box}, numbers)


def plot(data, p):
    from ..plotting import use_style
    from ..plotting.figures import (
        SADDLE_PURPLE,
        UNSTABLE_BLUE,
        basin_panel,
        d0_boundary,
        histogram_panel,
        minimizers_mark,
        set_box,
        zero_lines,
    )

    plt = use_style()
    fig = plt.figure(figsize=(13.0, 4.6))
    gs = fig.add_gridspec(3, 3, width_ratios=[1.15, 1.05, 0.9], wspace=0.55, hspace=0.95)
    a = fig.add_subplot(gs[:, 0])
    b = fig.add_subplot(gs[:, 1])
    hs = [fig.add_subplot(gs[i, 2]) for i in range(3)]
    left, box = data.datasets["left"], data.datasets["box"]
    r = p["range"]
    us, vs = np.asarray(left.u), np.asarray(left.v)
    zero_lines(a, us, vs, left.unstable_field, UNSTABLE_BLUE, lw=0.7,
               label=r"basins of unstable minimizers ($|p|^2>2/\eta$)")
    zero_lines(a, us, vs, left.saddle_field, SADDLE_PURPLE, lw=0.8,
               label=r"basin of the saddle $(0,0)$", zorder=4)
    d0_boundary(a, p["y"], p["eta"], r[:2], r[2:])
    minimizers_mark(a, p["y"], 0.0, r[:2], label=r"minimizers $uv=%g$" % p["y"], alpha=0.7)
    bx = p["box"]
    a.add_patch(plt.Rectangle((bx[0], bx[2]), bx[1] - bx[0], bx[3] - bx[2], fill=True,
                              fc="#4c78a8", ec="#1f4e79", lw=0.8, zorder=5))
    set_box(a, r[:2], r[2:])
    a.set_title(r"$\eta=%g$: basins of measure zero" % p["eta"])
    a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=7.5,
             frameon=False)

    basin_panel(b, box, color="sq_norm", cmap="viridis",
                cbar_label=r"$|u_\infty|^2+|v_\infty|^2$", clim=(2 * abs(p["y"]), 2 / p["eta"]))
    d0_boundary(b, p["y"], p["eta"], bx[:2], bx[2:], label=r"boundary of $D_0$", n=401)
    set_box(b, bx[:2], bx[2:], equal=False)
    b.set_title("the sampled box (blue square, left)")
    b.legend(loc="lower left", fontsize=8)

    conv = np.asarray(box.status) == 1
    histogram_panel(hs[0], np.asarray(box.sq_norm)[conv], np.linspace(2, 10, 41),
                    r"squared norm $|u_\infty|^2+|v_\infty|^2$",
                    marks=[(2 * abs(p["y"]), None), (2 / p["eta"], None)])
    histogram_panel(hs[1], np.asarray(box.signed_imbalance)[conv], 40,
                    r"imbalance $u_\infty^2-v_\infty^2$", color="#f58518")
    histogram_panel(hs[2], np.asarray(box.iterations)[conv], 40,
                    r"iterations to loss $<10^{-8}$", color="#54a24b", log=True)
    hs[0].set_title(r"marks: $2|y|$ and $2/\eta$", fontsize=9)
    return fig


SPEC = FigureSpec(
    number=2, title="Basins of unstable minimizers and of the saddle; wide outcome distributions",
    caption="Left: blue lines = basins of unstable minimizers, purple = basin of the saddle "
            "(0,0), accumulating on the boundary of D0. Right: initializations evenly sampled "
            "from a small box intersecting the boundary; the squared norm and imbalance of the "
            "limit and the iterations to reach loss < 1e-8 have wide supports (Theorem 2: "
            "squared norms fill (2, 2/eta) = (2, 10)).",
    presets=PRESETS, compute=compute, plot=plot,
    choices={"loss": "with the factor 1/2 (SPEC): L = (uv - 1)^2 / 2",
             "saddle_line": "the paper's '{u = sgn(y) v}' lost a minus sign: the saddle's stable "
                            "line is u = -sign(y) v (Hessian eigenvalue +|y|, multiplier "
                            "1 - eta |y|); a point is in the saddle's basin when its steps-th "
                            "iterate lies on that line and converges along it",
             "saddle_in_d0": "as in the paper ('filtered out the points that lie in D0' = kept "
                             "them): outside D0 a point converges to a minimizer in finitely many "
                             "steps or diverges, so the saddle's basin lies in D0",
             "unstable_basin": "zero set of uv - y after `steps` steps, where the point reached "
                               "has |p|^2 > 2/eta (drawn everywhere, as in the paper)",
             "box": "the paper's [-0.9,-0.6] x [4.25,4.55] (OCR: 'x [-4.55, 4.25]')",
             "convergence": "engine: loss < 1e-8 at a linearly stable minimizer; loss > 100 = "
                            "diverged"})
