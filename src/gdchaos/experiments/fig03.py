"""Figure 3: the regularized convergence boundary is self-similar and fractal.

L(u, v) = 1/2 (uv - 0.5)^2 + 0.1 (u^2 + v^2) (y = 0.5, lam = 0.2), eta = 1.
Left: the quotient map on (z, w) = (uv - y, u^2 + v^2): the projected convergence region (points
with |w - 2(y - lam)| < 1e-5 after 200 steps) and its boundary (region minus its binary erosion,
points within 1e-2 of the edge w = 2|z + y| left out), coloured by inverse branch: a boundary
point in the strip of G_i is G_i of its image (Prop. 14), so the colours are the three smaller
copies of the boundary.  Plotted against u.v = z + y.
Middle: GD on (u, v) in R^2 coloured by the minimizer reached (red triangle (+r, +r), blue circle
(-r, -r), r = sqrt(y - lam)); grey lines u = +-v separate the four replicates of the projected
boundary.  Right: box counting of the left boundary, the paper's procedure (1.249).
"""

from __future__ import annotations

import numpy as np

from .runner import FigureData, FigureSpec

PRESETS = {
    "paper": dict(y=0.5, lam=0.2, eta=1.0, grid=2000, zrange=[-2.5, 3.0], wrange=[0.0, 10.0],
                  steps=200, wtol=1e-5, margin=1e-2, mid_grid=800, mid_range=[-4.0, 4.0],
                  mid_iters=100, mid_tol=1e-8, k_min=2, k_max=8),
    "quick": dict(y=0.5, lam=0.2, eta=1.0, grid=2000, zrange=[-2.5, 3.0], wrange=[0.0, 10.0],
                  steps=200, wtol=1e-5, margin=1e-2, mid_grid=400, mid_range=[-4.0, 4.0],
                  mid_iters=100, mid_tol=1e-8, k_min=2, k_max=8),
}
PRESETS["tiny"] = dict(PRESETS["quick"], grid=300, mid_grid=100)


def quotient_part(p, progress=False):
    """Region, boundary mask and branch labels of the left panel (a dict)."""
    from ..analysis import (
        QuotientGrid,
        decompose_boundary,
        quotient_boundary,
        quotient_region,
    )

    grid = QuotientGrid(tuple(p["zrange"]), tuple(p["wrange"]), int(p["grid"]), int(p["grid"]))
    region, valid = quotient_region(p["y"], p["lam"], p["eta"], grid, p["steps"], criterion="w",
                                    wtol=p["wtol"])
    bnd = quotient_boundary(region, valid, grid, p["y"], procedure="paper", margin=p["margin"])
    check = decompose_boundary(bnd, grid.zs, grid.ws, p["eta"], p["y"], p["lam"],
                               margin=p["margin"])
    return {"grid": grid, "region": region, "valid": valid, "boundary": bnd, "check": check}


def compute(p, out, progress):
    import xarray as xr

    from ..analysis import mask_points, paper_box_dimension
    from ..engine import RunConfig, Slice2D, basin
    from ..problems import ScalarFactorization
    from ..theory import scalar as th

    y, lam, eta = p["y"], p["lam"], p["eta"]
    qp = quotient_part(p, progress)
    grid, bnd = qp["grid"], qp["boundary"]
    lab = np.full(bnd.shape, -1, dtype=np.int8)
    lab[bnd] = qp["check"].labels
    left = xr.Dataset({"region": (("w", "z"), qp["region"]), "valid": (("w", "z"), qp["valid"]),
                       "boundary": (("w", "z"), bnd), "branch": (("w", "z"), lab)},
                      coords={"z": grid.zs, "w": grid.ws})
    pts = mask_points(bnd, grid.zs, grid.ws)
    box = paper_box_dimension(pts, k_min=p["k_min"], k_max=p["k_max"])

    prob = ScalarFactorization(d=1, y=y, lam=lam)
    mr = p["mid_range"]
    g = Slice2D.axes(2, mr, mr, p["mid_grid"])
    cfg = RunConfig(eta=eta, max_iter=p["mid_iters"], tol=p["mid_tol"], div_threshold=1e6)
    mid = basin(prob, g, config=cfg, coordinate=0, progress=progress)
    st = np.asarray(mid.status)
    conv = st == 1
    sign = np.where(conv, np.sign(np.asarray(mid.coordinate)), 0).astype(np.int8)
    mid["which"] = (("y", "x"), sign)  # +1: (+r, +r) red triangle, -1: (-r, -r) blue circle
    U, V = np.meshgrid(np.asarray(mid.x), np.asarray(mid.y))
    eg, ec = th.theorem5_bounds(U[..., None], V[..., None], y, lam)
    g4, g5 = eta < eg, eta < ec
    mini = np.asarray(mid.minimizer)
    counts = np.bincount(qp["check"].labels, minlength=3) if bnd.any() else np.zeros(3, int)
    numbers = {
        "box_counting_dimension_paper_procedure": box.dimension,
        "box_counting_regression_ci95": list(box.ci),
        "box_counting_eps": box.eps.tolist(), "box_counting_counts": box.counts.tolist(),
        "paper_value": 1.249,
        "uncertainty_exponent_implied (2 - D)": 2.0 - box.dimension,
        "boundary_pixels": int(bnd.sum()),
        "region_fraction_of_state_space": float(qp["region"][qp["valid"]].mean()),
        "boundary_pixels_per_branch_G0_G1_G2": counts.tolist(),
        "F(boundary) within 2 px of boundary": qp["check"].fractions["F"].get("2"),
        "mid_fractions": {"p(+r,+r)": float(np.mean(sign > 0)), "p(-r,-r)": float(np.mean(sign < 0)),
                          "not converged": float(np.mean(~conv)),
                          "undecided": float(np.mean(st == 0))},
        "theorem4_admissible": bool(th.theorem4_admissible(eta, y, lam)),
        "theorem4_region_converged_fraction (off the saddle's stable line)":
            float(conv[g4 & (st != 3)].mean()) if g4.any() else None,
        "theorem4_region_saddle_line_pixels": int((g4 & (st == 3)).sum()),
        "theorem4_region_undecided_fraction": float((st == 0)[g4].mean()) if g4.any() else None,
        "theorem5_region_closest_fraction": (float(np.mean(mini[g5 & conv] == 1))
                                             if (g5 & conv).any() else None),
        "closest_p_minus_fraction_of_converged": float(np.mean(mini[conv] == 1)) if conv.any() else None,
        "farthest_p_plus_fraction_of_converged": float(np.mean(mini[conv] == 2)) if conv.any() else None,
    }
    arrays = {"box": box}
    return FigureData({"left": left, "middle": mid}, numbers, arrays)


def plot(data, p):
    from matplotlib.colors import ListedColormap

    from ..plotting import use_style
    from ..plotting.figures import BRANCH_COLORS, extent_of, legend_patches, set_box

    plt = use_style()
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(14.0, 4.5),
                                  gridspec_kw={"width_ratios": [1.1, 1.0, 0.95]})
    left, mid = data.datasets["left"], data.datasets["middle"]
    y, lam = p["y"], p["lam"]
    zs, ws = np.asarray(left.z), np.asarray(left.w)
    xs = zs + y  # plotted against u.v = z + y
    ext = [xs[0], xs[-1], ws[0], ws[-1]]
    reg = np.where(np.asarray(left.region), 1.0, np.nan)
    a.imshow(reg, origin="lower", extent=ext, aspect="auto", cmap=ListedColormap(["#e8e8e8"]))
    lab = np.asarray(left.branch)
    for i, col in enumerate(BRANCH_COLORS):
        r_, c_ = np.nonzero(lab == i)
        a.plot(xs[c_], ws[r_], ".", color=col, ms=1.2, mew=0, rasterized=True)
    t = np.linspace(ext[0], ext[1], 200)
    a.plot(t, 2 * np.abs(t), color="0.3", lw=0.8)
    a.plot([y - lam * np.sign(y)], [2 * (abs(y) - lam)], "*", color="k", ms=8,
           label=r"$T(\mathcal{M})$")
    a.set_xlim(ext[:2])
    a.set_ylim(ext[2:])
    a.set_xlabel(r"$u\cdot v$")
    a.set_ylabel(r"$w=|u|^2+|v|^2$")
    a.set_title(r"$T(\partial\hat D)$ by inverse branch")
    legend_patches(a, [(BRANCH_COLORS[0], r"$G_0$"), (BRANCH_COLORS[1], r"$G_1$"),
                       (BRANCH_COLORS[2], r"$G_2$"), ("#e8e8e8", "converges")],
                   loc="upper left", fontsize=8)

    which = np.asarray(mid.which, dtype=float)
    img = np.where(which > 0, 1.0, np.where(which < 0, 0.0, np.nan))
    b.imshow(img, origin="lower", extent=extent_of(mid), aspect="auto",
             cmap=ListedColormap(["#9ecae1", "#fc9272"]), vmin=0, vmax=1)
    mr = p["mid_range"]
    for s in (1, -1):
        b.plot(mr, [s * mr[0], s * mr[1]], color="0.55", lw=0.8)
    r = np.sqrt(abs(y) - lam)
    b.plot([r], [np.sign(y) * r], "^", color="#cb181d", mec="k", ms=9, label=r"$(+\sqrt{%g},+\sqrt{%g})$" % (r * r, r * r))
    b.plot([-r], [-np.sign(y) * r], "o", color="#2171b5", mec="k", ms=8, label=r"$(-\sqrt{%g},-\sqrt{%g})$" % (r * r, r * r))
    set_box(b, mr, mr)
    b.set_title("minimizer reached by GD")
    b.legend(loc="lower right", fontsize=8)

    box = data.arrays["box"]
    x = np.log2(1.0 / box.eps)
    c.plot(x, np.log2(box.counts), "o", color="k", label=r"$N(\epsilon)$")
    fit = box.fit
    xx = np.log(1.0 / box.eps)
    c.plot(x, (fit.intercept + fit.slope * xx) / np.log(2), "-", color="#d62728",
           label=f"slope {box.dimension:.3f} (paper 1.249)")
    c.set_xlabel(r"$\log_2(1/\epsilon)$")
    c.set_ylabel(r"$\log_2 N(\epsilon)$")
    c.set_title("box counting of the left boundary")
    c.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


SPEC = FigureSpec(
    number=3, title="Self-similar, fractal convergence boundary with weight decay",
    caption="L = (uv - 0.5)^2/2 + 0.1(u^2 + v^2). Left: the projected convergence boundary is "
            "self-similar with degree three (covered by three smaller copies of itself, green, "
            "red, blue). Middle: the boundary consists of four replicates of the projected one, "
            "separated by grey lines; points coloured by which of the two minimizers (red "
            "triangle, blue circle) they reach. Right: box-counting dimension 1.249.",
    presets=PRESETS, compute=compute, plot=plot,
    choices={"left_region": "the paper's test |w - 2(y - lam)| < 1e-5 after exactly 200 steps "
                            "of the exact quotient map",
             "left_boundary": "region minus scipy binary_erosion (cross structure, grid edge "
                              "counted as outside), points with w - 2|z + y| < 1e-2 left out",
             "colouring": "strip of Z = eta z: G0 {Z < -(1 - beta)}, G1 {|Z| < 1 - beta}, G2 "
                          "{Z > 1 - beta} (gdchaos.analysis.decompose_boundary)",
             "middle": "engine, 100 steps, loss within 1e-8 of the minimum at a stable "
                       "minimizer; colour = sign of u at the limit (the paper: 'evenly sampled "
                       "80 initial points' lost '0 x 800')",
             "right": "eps = 2^-2 .. 2^-8 on the boundary points normalized into [0, 1]^2 "
                      "(shift by the minimum, divide by the largest side), least squares"})
