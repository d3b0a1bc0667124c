"""Figure 11: deep (depth-3) matrix factorization from general initializations.

L(U, V, W) = 1/2 ||U V W - Y||_F^2 + lam/2 (||U||^2 + ||V||^2 + ||W||^2), U, V, W in R^{2x2},
Y = diag(0.9, 0.5).  Two random slices of R^12 through the origin, each shown for the
unregularized problem (colour = squared norm of the limit) and the regularized one (colour =
one coordinate of the limit); white = not converging to a global minimizer, light grey = stuck at
a stationary point that is not a global minimizer (a local minimizer such as the origin, or a
non-strict saddle).
"""

from __future__ import annotations

import numpy as np

from .runner import FigureData, FigureSpec
from .fig09 import sensitivity, slice_basins, slices_figure

PRESETS = {
    "paper": dict(Y=[0.9, 0.5], k=3, lam=0.1, eta=0.5, slice_seeds=[0, 1], grid=400,
                  range=[-4.0, 4.0, -4.0, 4.0], iters=3000, tol=1e-10, div=1e6, coordinate=0),
    "quick": dict(Y=[0.9, 0.5], k=3, lam=0.1, eta=0.5, slice_seeds=[0, 1], grid=200,
                  range=[-4.0, 4.0, -4.0, 4.0], iters=3000, tol=1e-10, div=1e6, coordinate=0),
}
PRESETS["tiny"] = dict(PRESETS["quick"], grid=40, slice_seeds=[0], iters=1500)


def compute(p, out, progress):
    from ..problems import DeepMatrixFactorization

    Y = np.diag(p["Y"])
    datasets, numbers = {}, {}
    for tag, lam, coord in (("unreg", 0.0, None), ("reg", float(p["lam"]), int(p["coordinate"]))):
        prob = DeepMatrixFactorization(Y, k=int(p["k"]), lam=lam)
        bs = slice_basins(prob, p["eta"], p["slice_seeds"], p["range"], p["grid"], p["iters"],
                          p["tol"], p["div"], coordinate=coord, progress=progress)
        numbers[f"{tag} min_value"] = prob.min_value
        for s, ds in bs.items():
            datasets[f"{tag}_slice{s}"] = ds
            numbers[f"{tag} slice {s}"] = sensitivity(ds, "sq_norm" if coord is None
                                                      else "coordinate")
    return FigureData(datasets, numbers)


def plot(data, p):
    seeds = p["slice_seeds"]
    panels = []
    for i, s in enumerate(seeds):
        panels.append((data.datasets[f"unreg_slice{int(s)}"], "sq_norm",
                       r"$\|U_\infty\|^2+\|V_\infty\|^2+\|W_\infty\|^2$",
                       f"unregularized, slice {i + 1}"))
    for i, s in enumerate(seeds):
        panels.append((data.datasets[f"reg_slice{int(s)}"], "coordinate", r"$(U_\infty)_{11}$",
                       r"regularized ($\lambda=%g$), slice %d" % (p["lam"], i + 1)))
    return slices_figure([(None, panels)],
                         suptitle=r"$U,V,W\in\mathbb{R}^{2\times 2}$, $Y=\mathrm{diag}(%s)$, "
                                  r"$\eta=%g$" % (", ".join(f"{v:g}" for v in p["Y"]), p["eta"]))


SPEC = FigureSpec(
    number=11, title="Deep matrix factorization, general initialization",
    caption="Depth 3, Y = diag(0.9, 0.5). Left two: unregularized, coloured by the squared norm "
            "of the limit: small norms near the origin, sensitivity near the fractal-like "
            "boundary. Right two: regularized, coloured by one coordinate of the limit: fractal "
            "boundary and a disconnected convergence region (local minimizers, non-strict "
            "saddles). Uncoloured = not converging to a global minimizer.",
    presets=PRESETS, compute=compute, plot=plot,
    choices={"eta": "0.5 (not in the text): the unregularized region nearly fills [-2.5, 2.5]^2 "
                    "with its boundary inside [-4, 4]^2; at 0.8 nothing converges",
             "lam": "0.1 (the caption's lam/2 lost its value): the origin is a local minimizer "
                    "and the region is disconnected",
             "coordinate": "U[0, 0]",
             "slices": "two random slices of R^12 through the origin (seeds 0, 1), the same for "
                       "both problems; range [-4, 4]^2",
             "convergence": "engine: 3000 steps, loss within 1e-10 of the global minimum at a "
                            "linearly stable minimizer; grey = gradient below 1e-10 elsewhere"})
