"""Figure 1: sensitivity to initialization near the convergence boundary.

Left: u, v in R^5, y = 1, lam = 0.6 (the loss's 0.3 (|u|^2 + |v|^2)), eta = 1, a random slice
of R^10 through the origin; colour = first coordinate of u at the limit, grey = not converged;
inset: a zoom.  Right: d = 1, y = 1, eta = 0.2: preimages under GD^6 of small balls around a
balanced and an imbalanced minimizer, and the boundary of D0.
"""

from __future__ import annotations

import numpy as np

from .runner import FigureData, FigureSpec

PRESETS = {
    "paper": dict(d=5, y=1.0, lam=0.6, eta=1.0, grid=600, range=[-4.0, 4.0, -4.0, 4.0],
                  iters=1000, tol=1e-6, div=100.0, seed=0, inset_grid=400,
                  inset_range="auto", inset_width=0.4, right_eta=0.2, right_grid=800,
                  right_range=[-4.5, 4.5, -4.5, 4.5], right_steps=6, r1=0.15, r2=0.25),
    "quick": dict(d=5, y=1.0, lam=0.6, eta=1.0, grid=250, range=[-4.0, 4.0, -4.0, 4.0],
                  iters=1000, tol=1e-6, div=100.0, seed=0, inset_grid=150,
                  inset_range="auto", inset_width=0.4, right_eta=0.2, right_grid=300,
                  right_range=[-4.5, 4.5, -4.5, 4.5], right_steps=6, r1=0.15, r2=0.25),
}
PRESETS["tiny"] = dict(PRESETS["quick"], grid=48, inset_grid=24, right_grid=60)


def compute(p, out, progress):
    import xarray as xr

    from ..engine import RunConfig, Slice2D, basin, status_fractions
    from ..problems import ScalarFactorization
    from ..theory import scalar as th

    prob = ScalarFactorization(d=p["d"], y=p["y"], lam=p["lam"])
    cfg = RunConfig(eta=p["eta"], max_iter=p["iters"], tol=p["tol"], div_threshold=p["div"])
    r = p["range"]
    g = Slice2D.random(prob.n_params, r[:2], r[2:], p["grid"], seed=p["seed"])
    left = basin(prob, g, config=cfg, coordinate=0, progress=progress)
    ri = p["inset_range"] if p["inset_range"] != "auto" else _auto_inset(left, p["inset_width"])
    p["inset_range_used"] = list(map(float, ri))
    gi = Slice2D(g.center, g.directions, tuple(ri[:2]), tuple(ri[2:]), p["inset_grid"],
                 p["inset_grid"], p["seed"])
    inset = basin(prob, gi, config=cfg, coordinate=0, progress=progress)

    # right panel: preimages under GD^k of balls around two minimizers of u v = 1
    s = ScalarFactorization(d=1, y=p["y"])
    rr = p["right_range"]
    n = p["right_grid"]
    us, vs = np.linspace(rr[0], rr[1], n), np.linspace(rr[2], rr[3], n)
    U, V = np.meshgrid(us, vs)
    X = np.stack([U.ravel(), V.ravel()], 1)
    with np.errstate(all="ignore"):
        for _ in range(p["right_steps"]):
            X = s.step(X, p["right_eta"])
    m1 = np.array([1.0, 1.0])
    m2 = np.array([2.9, 1 / 2.9])
    with np.errstate(all="ignore"):  # diverged orbits overflow: they are in neither ball
        in1 = (np.linalg.norm(X - m1, axis=1) < p["r1"]).reshape(n, n)
        in2 = (np.linalg.norm(X - m2, axis=1) < p["r2"]).reshape(n, n)
    q = th.q_value(np.stack([U, V], -1)[..., :1], np.stack([U, V], -1)[..., 1:], p["y"])
    right = xr.Dataset({"pre_m1": (("v", "u"), in1), "pre_m2": (("v", "u"), in2),
                        "Q": (("v", "u"), q)}, coords={"u": us, "v": vs})
    fr = status_fractions(np.asarray(left.status))
    numbers = {"left_fractions": fr,
               "inset_fractions": status_fractions(np.asarray(inset.status)),
               "left_limit_coordinate_range": [float(np.nanmin(left.coordinate.where(left.status == 1))),
                                               float(np.nanmax(left.coordinate.where(left.status == 1)))],
               "right_preimage_area_fraction": {"m1": float(in1.mean()), "m2": float(in2.mean())},
               "right_preimages_inside_D0": bool(np.all(q[in1 | in2] < 8 / p["right_eta"] + 1e-9)),
               "sharpness_m1": 2.0, "sharpness_m2": float(2.9**2 + 1 / 2.9**2),
               "stability_limit_2_over_eta": 2 / p["right_eta"]}
    return FigureData({"left": left, "inset": inset, "right": right}, numbers)


def _auto_inset(ds, width):
    """A zoom window centred on the boundary pixel whose 9 x 9 neighbourhood mixes converged and
    diverged points most evenly (ties: the one farthest from the origin)."""
    from scipy.ndimage import uniform_filter

    conv = (np.asarray(ds.status) == 1).astype(float)
    frac = uniform_filter(conv, size=9, mode="nearest")
    x, y = np.asarray(ds.x), np.asarray(ds.y)
    X, Y = np.meshgrid(x, y)
    score = -np.abs(frac - 0.5) + 1e-6 * np.hypot(X, Y)
    j, i = np.unravel_index(np.argmax(score), score.shape)
    cx, cy = x[i], y[j]
    return [cx - width / 2, cx + width / 2, cy - width / 2, cy + width / 2]


def plot(data, p):
    from ..plotting import use_style
    from ..plotting.figures import basin_panel

    plt = use_style()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10.5, 4.4))
    left, inset = data.datasets["left"], data.datasets["inset"]
    basin_panel(a, left, color="coordinate", cbar_label=r"first coordinate of $u$ at the limit",
                xlabel="slice direction 1", ylabel="slice direction 2")
    a.set_title(r"$u, v\in\mathbb{R}^5$, $\lambda=%g$, $\eta=%g$" % (p["lam"], p["eta"]))
    ax_in = a.inset_axes([0.02, 0.02, 0.34, 0.34])
    basin_panel(ax_in, inset, color="coordinate", colorbar=False, clim=a.images[-1].get_clim())
    ax_in.set_xticks([])
    ax_in.set_yticks([])
    for sp in ax_in.spines.values():
        sp.set_visible(True)
    ri = p["inset_range_used"]
    a.add_patch(plt.Rectangle((ri[0], ri[2]), ri[1] - ri[0], ri[3] - ri[2], fill=False, lw=0.8))
    right = data.datasets["right"]
    ext = [float(right.u[0]), float(right.u[-1]), float(right.v[0]), float(right.v[-1])]
    from matplotlib.colors import ListedColormap

    b.imshow(np.where(right.pre_m1, 1.0, np.nan), origin="lower", extent=ext,
             cmap=ListedColormap(["#4c78a8"]), alpha=0.8, aspect="auto")
    b.imshow(np.where(right.pre_m2, 1.0, np.nan), origin="lower", extent=ext,
             cmap=ListedColormap(["#f58518"]), alpha=0.8, aspect="auto")
    b.contour(right.u, right.v, right.Q, levels=[8 / p["right_eta"]], colors="k",
              linewidths=1.0)
    t = np.linspace(0, 2 * np.pi, 200)
    for (cx, cy), r, c, mk in (((1, 1), p["r1"], "#1f4e79", "*"),
                               ((2.9, 1 / 2.9), p["r2"], "#a0522d", "D")):
        b.plot(cx + r * np.cos(t), cy + r * np.sin(t), "--", color=c, lw=1)
        b.plot([cx], [cy], mk, color="green", ms=9 if mk == "*" else 6, mec="k", mew=0.5)
    uu = np.linspace(0.15, ext[1], 300)
    b.plot(uu, 1 / uu, color="green", lw=0.8, alpha=0.6, label=r"minimizers $uv=1$")
    b.plot(-uu, -1 / uu, color="green", lw=0.8, alpha=0.6)
    b.plot([], [], "k-", lw=1, label=r"boundary of $D_0$")
    b.set_xlim(ext[:2])
    b.set_ylim(ext[2:])
    b.set_xlabel(r"$u$")
    b.set_ylabel(r"$v$")
    b.set_title(r"preimages under GD$^{%d}$, $\eta=%g$" % (p["right_steps"], p["right_eta"]))
    b.legend(loc="lower right")
    fig.tight_layout()
    return fig


SPEC = FigureSpec(
    number=1, title="Sensitivity to initialization near the convergence boundary",
    caption="Left: fractal convergence boundary; colour = coordinate of the converged minimizer, "
            "grey = divergence. Right: preimages of neighbourhoods of a balanced and an "
            "imbalanced minimizer; smooth boundary, sensitive limit.",
    presets=PRESETS, compute=compute, plot=plot,
    choices={"slice": "two Gaussian directions of R^10 orthonormalized (seed 0), through the "
                      "origin",
             "inset": "the paper's zoom window [-1.4,-1]x[-2.2,-1.8] belongs to its own random "
                      "slice; 'auto' centres a window of the same width (0.4) on a boundary "
                      "pixel of ours where converged and diverged points mix most evenly",
             "limit": "first coordinate of u when the loss is within 1e-6 of the minimum at a "
                      "stable minimizer"})
