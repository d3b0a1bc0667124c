"""Figure 10: regularized matrix factorization from general initializations.

L(U, V) = 1/2 ||U^T V - Y||_F^2 + 0.25 (||U||_F^2 + ||V||_F^2) (lam = 0.5), U, V in R^{2x2},
Y = diag(0.9, 0.8).  Four random 2-D slices of R^8 through the origin; converged points coloured
by one coordinate of the limit (U[0, 0]), the others left white.  The boundary is fractal-like
(less spiky than in scalar factorization) and the limit is sensitive near it.
"""

from __future__ import annotations

import numpy as np

from .runner import FigureData, FigureSpec
from .fig09 import sensitivity, slice_basins, slices_figure

PRESETS = {
    "paper": dict(Y=[0.9, 0.8], d=2, lam=0.5, eta=1.0, slice_seeds=[0, 1, 2, 3], grid=500,
                  range=[-3.0, 3.0, -3.0, 3.0], iters=3000, tol=1e-10, div=1e6, coordinate=0),
    "quick": dict(Y=[0.9, 0.8], d=2, lam=0.5, eta=1.0, slice_seeds=[0, 1, 2, 3], grid=300,
                  range=[-3.0, 3.0, -3.0, 3.0], iters=3000, tol=1e-10, div=1e6, coordinate=0),
}
PRESETS["tiny"] = dict(PRESETS["quick"], grid=64, slice_seeds=[0, 1])


def compute(p, out, progress):
    from ..problems import MatrixFactorization

    prob = MatrixFactorization(np.diag(p["Y"]), d=int(p["d"]), lam=float(p["lam"]))
    bs = slice_basins(prob, p["eta"], p["slice_seeds"], p["range"], p["grid"], p["iters"],
                      p["tol"], p["div"], coordinate=int(p["coordinate"]), progress=progress)
    s = np.sqrt(np.maximum(np.asarray(p["Y"], float) - p["lam"], 0.0))
    numbers = {"min_value": prob.min_value,
               "minimizer_singular_values_of_U_and_V": s.tolist(),
               "coordinate_index": int(p["coordinate"])}
    for k, ds in bs.items():
        numbers[f"slice {k}"] = sensitivity(ds, "coordinate")
    return FigureData({f"slice{k}": ds for k, ds in bs.items()}, numbers)


def plot(data, p):
    panels = [(data.datasets[f"slice{int(s)}"], "coordinate", r"$(U_\infty)_{11}$",
               f"random slice {i + 1}") for i, s in enumerate(p["slice_seeds"])]
    return slices_figure([(None, panels)],
                         suptitle=r"$U,V\in\mathbb{R}^{2\times 2}$, $Y=\mathrm{diag}(%s)$, "
                                  r"$\lambda/2=%g$, $\eta=%g$"
                                  % (", ".join(f"{v:g}" for v in p["Y"]), p["lam"] / 2,
                                     p["eta"]))


SPEC = FigureSpec(
    number=10, title="Regularized matrix factorization, general initialization",
    caption="L = ||U^T V - Y||^2/2 + 0.25(||U||^2 + ||V||^2), Y = diag(0.9, 0.8); four random "
            "slices of R^8; points coloured by one coordinate of the converged minimizer, "
            "uncoloured = not converging. Fractal-like boundary, sensitivity near it.",
    presets=PRESETS, compute=compute, plot=plot,
    choices={"eta": "1.0 (not in the text): at 1.3 nothing converges in [-3,3]^2, at 0.5 the "
                    "boundary leaves the frame",
             "coordinate": "U[0, 0] (the paper: 'one coordinate value')",
             "slices": "through the origin, Gaussian directions orthonormalized, seeds 0..3; "
                       "range [-3, 3]^2",
             "convergence": "engine: 3000 steps, loss within 1e-10 of the global minimum at a "
                            "linearly stable minimizer"})
