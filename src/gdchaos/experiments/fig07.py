"""Figure 7: Theorem 1's region D0 against the condition of Wang et al. (2022, Thm 3.1).

L(u, v) = 1/2 (uv - y)^2, (u, v) in R^2, eta = 1, y = 0.3 (left) and 0.9 (right).  Light blue:
D0 = {Q < 8/eta}; red: {eta < 4/(u^2 + v^2 + 4|y|)}.  Beyond the paper, the engine runs GD from
every pixel and its convergence region is drawn (dashed) over D0: Theorem 1 says they agree up
to a null set.
"""

from __future__ import annotations

import numpy as np

from .runner import FigureData, FigureSpec

PRESETS = {
    "paper": dict(eta=1.0, ys=[0.3, 0.9], grid=800, range=[-3.0, 3.0, -3.0, 3.0], iters=3000,
                  tol=1e-10, div=1e6),
    "quick": dict(eta=1.0, ys=[0.3, 0.9], grid=500, range=[-3.0, 3.0, -3.0, 3.0], iters=3000,
                  tol=1e-10, div=1e6),
}
PRESETS["tiny"] = dict(PRESETS["quick"], grid=80)


def compute(p, out, progress):
    from ..engine import RunConfig, Slice2D, basin
    from ..problems import ScalarFactorization
    from ..theory import scalar as th

    eta = p["eta"]
    r = p["range"]
    datasets, numbers = {}, {"eta": eta}
    for y in p["ys"]:
        prob = ScalarFactorization(d=1, y=float(y))
        g = Slice2D.axes(2, r[:2], r[2:], p["grid"])
        cfg = RunConfig(eta=eta, max_iter=p["iters"], tol=p["tol"], div_threshold=p["div"])
        ds = basin(prob, g, config=cfg, progress=progress)
        U, V = np.meshgrid(np.asarray(ds.x), np.asarray(ds.y))
        u, v = U[..., None], V[..., None]
        d0 = th.in_d0(u, v, y, eta)
        wang2 = eta < 4.0 / (U * U + V * V + 4 * abs(y))
        wang = eta < th.wang_bound(u, v, y)
        conv = np.asarray(ds.status) == 1
        saddle = np.asarray(ds.status) == 3
        ds["in_D0"] = (("y", "x"), d0)
        ds["wang_second"] = (("y", "x"), wang2)
        key = f"y={y:g}"
        datasets[key.replace("=", "").replace(".", "p")] = ds
        numbers[key] = {
            "D0_area_fraction": float(d0.mean()),
            "wang_second_condition_area_fraction": float(wang2.mean()),
            "wang_full_condition_area_fraction": float(wang.mean()),
            "wang_first_condition_holds": bool(eta < 1.0 / (3.0 * abs(y))),
            "wang_inside_D0_fraction": float(d0[wang2].mean()) if wang2.any() else None,
            "wang_to_D0_area_ratio": float(wang2.sum() / max(d0.sum(), 1)),
            "engine_converged_fraction": float(conv.mean()),
            "engine_agrees_with_D0_fraction": float(np.mean(conv == d0)),
            "engine_agrees_with_D0_outside_saddle_basin": float(np.mean((conv == d0)[~saddle])),
            "saddle_pixels (on the line u = -sign(y) v)": int(saddle.sum()),
            "undecided_fraction": float(np.mean(np.asarray(ds.status) == 0)),
            "eta_times_abs_y": eta * abs(y),
        }
    return FigureData(datasets, numbers)


def plot(data, p):
    from ..plotting import use_style
    from ..plotting.figures import (
        REGION_BLUE,
        WANG_RED,
        d0_boundary,
        legend_patches,
        mask_panel,
        minimizers_mark,
        set_box,
    )

    plt = use_style()
    ys = p["ys"]
    fig, axs = plt.subplots(1, len(ys), figsize=(4.6 * len(ys), 4.6), squeeze=False)
    r = p["range"]
    for ax, y in zip(axs[0], ys):
        ds = data.datasets[f"y{y:g}".replace(".", "p")]
        ext = [r[0], r[1], r[2], r[3]]
        mask_panel(ax, ds.in_D0, ext, REGION_BLUE, alpha=0.55)
        mask_panel(ax, ds.wang_second, ext, WANG_RED, alpha=0.85)
        # saddle pixels (the stable line of (0, 0), measure zero) are drawn with the region
        conv = np.isin(np.asarray(ds.status), (1, 3)).astype(float)
        ax.contour(np.asarray(ds.x), np.asarray(ds.y), conv, levels=[0.5], colors="k",
                   linestyles="--", linewidths=1.0, zorder=4)
        ax.plot([], [], "k--", lw=0.8, label="GD converges (engine)")
        d0_boundary(ax, y, p["eta"], r[:2], r[2:], label=None, colors="#08519c")
        minimizers_mark(ax, y, 0.0, r[:2], label=r"minimizers $uv=%g$" % y, alpha=0.8)
        set_box(ax, r[:2], r[2:])
        ax.set_title(r"$\eta=%g$, $y=%g$" % (p["eta"], y)
                     + ("" if p["eta"] < 1 / (3 * abs(y)) else r"  ($\eta>1/(3|y|)$)"))
        legend_patches(ax, [(REGION_BLUE, r"$D_0$ (Theorem 1)"),
                            (WANG_RED, r"$\eta<4/(u^2+v^2+4|y|)$ (Wang et al.)")],
                       loc="upper left", fontsize=7)
    fig.tight_layout()
    return fig


SPEC = FigureSpec(
    number=7, title="Theorem 1 against Wang et al. (2022)",
    caption="eta = 1; light blue = the convergence region D0 of Theorem 1, red = initializations "
            "with eta < 4/(u^2 + v^2 + 4|y|), Wang et al.'s condition. y = 0.3: a strict subset "
            "of D0. y = 0.9 (outside their analysis since eta > 1/(3|y|)): an even smaller one.",
    presets=PRESETS, compute=compute, plot=plot,
    choices={"range": "[-3, 3]^2 (not given; holds both regions)",
             "engine_overlay": "beyond the paper: GD from every pixel (3000 steps, loss within "
                               "1e-10 of 0 at a stable minimizer) drawn dashed, to check Theorem 1",
             "red_region": "the second condition only, as the caption says (for y = 0.9 the first "
                           "condition eta < 1/(3|y|) fails everywhere)"})
