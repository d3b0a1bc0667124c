"""Figure 8: the convergence region and the saddle's basin as weight decay grows.

L(u, v) = 1/2 (uv - 0.8)^2 + lam/2 (u^2 + v^2), (u, v) in R^2, lam in {0, 0.01, 0.1, 0.5}.
Blue: initializations that converge to a global minimizer (engine); red lines: the basin of the
saddle (0, 0) (points whose ``steps``-th iterate lies on its stable line u = -sign(y) v and
converges along it).  The step size is not in the paper's text: eta = 1 (as in figure 3) shows
a smooth boundary at lam = 0 (eta y = 0.8 < 1), barely visible spikes at lam = 0.01 and wider
spikes as lam grows.
"""

from __future__ import annotations

import numpy as np

from .runner import FigureData, FigureSpec

PRESETS = {
    "paper": dict(y=0.8, lams=[0.0, 0.01, 0.1, 0.5], eta=1.0, grid=800,
                  range=[-3.5, 3.5, -3.5, 3.5], iters=3000, tol=1e-10, div=1e6, steps=8),
    "quick": dict(y=0.8, lams=[0.0, 0.01, 0.1, 0.5], eta=1.0, grid=450,
                  range=[-3.5, 3.5, -3.5, 3.5], iters=3000, tol=1e-10, div=1e6, steps=8),
}
PRESETS["tiny"] = dict(PRESETS["quick"], grid=90)


def lam_panel(y, lam, eta, rng, grid, iters, tol, div, steps, progress=False):
    """One panel: engine basin on the (u, v) plane, the saddle-basin field and numbers."""
    from ..engine import RunConfig, Slice2D, basin
    from ..plotting.figures import q_grid
    from ..problems import ScalarFactorization
    from .fig02 import finite_step_fields, saddle_line_field, sign_change_pixels

    prob = ScalarFactorization(d=1, y=y, lam=lam)
    g = Slice2D.axes(2, rng[:2], rng[2:], grid)
    cfg = RunConfig(eta=eta, max_iter=iters, tol=tol, div_threshold=div)
    ds = basin(prob, g, config=cfg, progress=progress)
    U, V = np.meshgrid(np.asarray(ds.x), np.asarray(ds.y))
    Uf, Vf = finite_step_fields(y, eta, lam, U, V, steps)
    sad = saddle_line_field(y, eta, lam, Uf, Vf)
    ds["saddle_field"] = (("y", "x"), sad)
    st = np.asarray(ds.status)
    conv = st == 1
    region = np.isin(st, (1, 3))  # the saddle's own basin (measure zero) drawn with the region
    sp = sign_change_pixels(sad)
    from ..analysis.boundaries import boundary_mask

    bnd = boundary_mask(region.astype(np.int16), connectivity=1)
    h = (rng[1] - rng[0]) / (grid - 1)
    area = region.sum() * h * h
    perim = bnd.sum() * h
    Q = q_grid(U, V, y)
    num = {"lam": lam, "converged_fraction": float(conv.mean()),
           "undecided_fraction": float(np.mean(st == 0)),
           "boundary_pixels": int(bnd.sum()),
           "perimeter_over_equal_area_circle": float(perim / (2 * np.sqrt(np.pi * area)))
           if area > 0 else None,
           "saddle_basin_pixels": int(sp.sum()),
           "saddle_basin_pixels_in_region_fraction": float(region[sp].mean()) if sp.any() else None,
           "saddle_basin_pixels_outside_region": int((sp & ~region).sum())}
    if lam > 0:
        from ..theory import scalar as th

        eg, ec = 8.0 / (4 * lam + Q), 4.0 / (4 * lam + Q)
        g4 = eta < eg
        g5 = eta < ec
        num.update({
            "theorem4_admissible": bool(th.theorem4_admissible(eta, y, lam)),
            "theorem4_region_fraction": float(g4.mean()),
            "theorem4_region_converged_fraction (off the saddle's stable line)":
                float(conv[g4 & (st != 3)].mean()) if g4.any() else None,
            "theorem5_region_fraction": float(g5.mean()),
            "theorem5_region_closest_fraction": (float(np.mean(np.asarray(ds.minimizer)[g5 & conv]
                                                              == 1)) if (g5 & conv).any() else None),
            "converged_to_p_plus_fraction_of_converged": (float(np.mean(np.asarray(ds.minimizer)[conv]
                                                                        == 2)) if conv.any() else None),
        })
    return ds, num


def compute(p, out, progress):
    datasets, numbers = {}, {"eta": p["eta"], "y": p["y"]}
    for lam in p["lams"]:
        ds, num = lam_panel(p["y"], float(lam), p["eta"], p["range"], p["grid"], p["iters"],
                            p["tol"], p["div"], p["steps"], progress)
        key = f"lam{lam:g}".replace(".", "p")
        datasets[key] = ds
        numbers[f"lam={lam:g}"] = num
    return FigureData(datasets, numbers)


def draw_lam_panel(ax, ds, y, lam, eta, rng):
    from ..plotting.figures import (
        REGION_BLUE,
        mask_panel,
        minimizers_mark,
        set_box,
        zero_lines,
    )

    st = np.asarray(ds.status)
    mask_panel(ax, np.isin(st, (1, 3)), list(rng), REGION_BLUE)
    zero_lines(ax, np.asarray(ds.x), np.asarray(ds.y), ds.saddle_field, "#d62728", lw=0.8,
               label=r"basin of the saddle $(0,0)$")
    if lam < abs(y):
        minimizers_mark(ax, y, lam, rng[:2], label="global minimizers")
    set_box(ax, rng[:2], rng[2:])
    ax.set_title(r"$\lambda=%g$" % lam)


def plot(data, p):
    from ..plotting import use_style
    from ..plotting.figures import REGION_BLUE, legend_patches

    plt = use_style()
    lams = p["lams"]
    fig, axs = plt.subplots(1, len(lams), figsize=(3.6 * len(lams), 4.0), squeeze=False)
    for ax, lam in zip(axs[0], lams):
        ds = data.datasets[f"lam{lam:g}".replace(".", "p")]
        draw_lam_panel(ax, ds, p["y"], float(lam), p["eta"], p["range"])
    legend_patches(axs[0][0], [(REGION_BLUE, "converges to a global minimizer")],
                   loc="lower left", fontsize=7)
    fig.suptitle(r"$L=\frac{1}{2}(uv-%g)^2+\frac{\lambda}{2}(u^2+v^2)$, $\eta=%g$"
                 % (p["y"], p["eta"]), y=1.0)
    fig.tight_layout()
    return fig


SPEC = FigureSpec(
    number=8, title="Convergence region and basin of the saddle as weight decay grows",
    caption="Blue = initializations converging to a global minimizer; uncoloured = not "
            "converging; red lines = basin of the saddle (0,0). lam = 0: smooth boundary; lam "
            "just above 0: nearly smooth, spikes barely visible; larger lam: fractal spikes "
            "grow wider. The saddle's basin does not separate the convergence region from its "
            "outside.",
    presets=PRESETS, compute=compute, plot=plot,
    choices={"eta": "1.0 (not in the text): eta y = 0.8 < 1 so lam = 0 has the smooth D0; "
                    "Theorem 4 admissible for lam = 0.01 and 0.1, not for 0.5 (the picture "
                    "still shows the phenomenon)",
             "range": "[-3.5, 3.5]^2 (not given)",
             "saddle_basin": "zero set of u + sign(y) v after `steps` = 8 steps where the point "
                             "then converges to (0, 0) along the stable line u = -sign(y) v",
             "convergence": "engine: 3000 steps, loss within 1e-10 of the global minimum at a "
                            "linearly stable minimizer; loss > 1e6 = diverged"})
