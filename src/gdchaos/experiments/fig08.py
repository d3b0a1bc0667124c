"""Figure 8: the convergence region and the saddle's basin as weight decay grows.

L(u, v) = 1/2 (uv - 0.8)^2 + lam/2 (u^2 + v^2), (u, v) in R^2, lam in {0, 0.01, 0.1, 0.5}.
Blue: initializations that converge to a global minimizer (engine); red lines: the basin of the
saddle (0, 0) (points whose ``steps``-th iterate lies on its stable line u = -sign(y) v and
converges along it).  The step size is not in the paper's text: eta = 1 (as in figure 3) shows
a smooth boundary at lam = 0 (eta y = 0.8 < 1), barely visible spikes at lam = 0.01 and wider
spikes as lam grows.
"""

from __future__ import annotations


from .lam_panels import draw_lam_panel, lam_panel
from .runner import FigureData, FigureSpec

PRESETS = {
    "paper": dict(y=0.8, lams=[0.0, 0.01, 0.1, 0.5], eta=1.0, grid=800,
                  range=[-3.5, 3.5, -3.5, 3.5], iters=3000, tol=1e-10, div=1e6, steps=8),
    "quick": dict(y=0.8, lams=[0.0, 0.01, 0.1, 0.5], eta=1.0, grid=450,
                  range=[-3.5, 3.5, -3.5, 3.5], iters=3000, tol=1e-10, div=1e6, steps=8),
}
PRESETS["tiny"] = dict(PRESETS["quick"], grid=90)


def compute(p, out, progress):
    datasets, numbers = {}, {"eta": p["eta"], "y": p["y"]}
    for lam in p["lams"]:
        ds, num = lam_panel(p["y"], float(lam), p["eta"], p["range"], p["grid"], p["iters"],
                            p["tol"], p["div"], p["steps"], progress)
        key = f"lam{lam:g}".replace(".", "p")
        datasets[key] = ds
        numbers[f"lam={lam:g}"] = num
    return FigureData(datasets, numbers)


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
