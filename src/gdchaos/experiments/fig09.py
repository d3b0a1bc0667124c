"""Figure 9: unregularized matrix factorization from general initializations.

L(U, V) = 1/2 ||U^T V - Y||_F^2, U, V in R^{2x2}, Y diagonal with entries drawn from U[0, 1]
(seed ``y_seed``).  Four random 2-D slices of R^8 through the origin (two Gaussian directions,
orthonormalized, seeds ``slice_seeds``); converged points coloured by the squared Frobenius norm
of the limit, the others left white.  Off the invariant subspace W the convergence boundary is
not smooth, and the limit is sensitive to the initialization near it.

The helpers shared with figures 10 and 11 live in :mod:`gdchaos.experiments.slices_common`.
"""

from __future__ import annotations

import numpy as np

from .runner import FigureData, FigureSpec
from .slices_common import sensitivity, slice_basins, slices_figure

PRESETS = {
    "paper": dict(y_seed=0, d=2, lam=0.0, eta=1.0, slice_seeds=[0, 1, 2, 3], grid=500,
                  range=[-3.0, 3.0, -3.0, 3.0], iters=3000, tol=1e-10, div=1e6),
    "quick": dict(y_seed=0, d=2, lam=0.0, eta=1.0, slice_seeds=[0, 1, 2, 3], grid=300,
                  range=[-3.0, 3.0, -3.0, 3.0], iters=3000, tol=1e-10, div=1e6),
}
PRESETS["tiny"] = dict(PRESETS["quick"], grid=64, slice_seeds=[0, 1])


def target(p):
    rng = np.random.default_rng(int(p["y_seed"]))
    return np.diag(rng.uniform(0.0, 1.0, int(p["d"])))


def compute(p, out, progress):
    from ..problems import MatrixFactorization

    Y = target(p)
    prob = MatrixFactorization(Y, d=int(p["d"]), lam=float(p["lam"]))
    bs = slice_basins(prob, p["eta"], p["slice_seeds"], p["range"], p["grid"], p["iters"],
                      p["tol"], p["div"], progress=progress)
    numbers = {"Y_diagonal": np.diag(Y).tolist(), "min_sq_norm_on_M (2 ||Y||_*)":
               float(2 * np.abs(np.diag(Y)).sum()), "stability_limit_2_over_eta": 2 / p["eta"]}
    for s, ds in bs.items():
        numbers[f"slice {s}"] = sensitivity(ds, "sq_norm")
    return FigureData({f"slice{s}": ds for s, ds in bs.items()}, numbers)


def plot(data, p):
    Y = target(p)
    panels = [(data.datasets[f"slice{int(s)}"], "sq_norm", r"$\|U_\infty\|_F^2+\|V_\infty\|_F^2$",
               f"random slice {i + 1}") for i, s in enumerate(p["slice_seeds"])]
    return slices_figure([(None, panels)],
                         suptitle=r"$U,V\in\mathbb{R}^{2\times 2}$, $Y=\mathrm{diag}(%s)$, "
                                  r"$\lambda=0$, $\eta=%g$"
                                  % (", ".join(f"{v:.3f}" for v in np.diag(Y)), p["eta"]))


SPEC = FigureSpec(
    number=9, title="Unregularized matrix factorization, general initialization",
    caption="Four random 2-D slices of R^8; points coloured by the squared Frobenius norm of "
            "the converged minimizer, uncoloured = not converging. The boundary is not smooth "
            "off the invariant subspace W, and the limit is unpredictable near it.",
    presets=PRESETS, compute=compute, plot=plot,
    choices={"eta": "1.0 (not in the text): the convergence region fills about 40% of "
                    "[-3, 3]^2 and its boundary crosses every slice",
             "Y": "diag(U[0,1] draws), numpy default_rng(y_seed = 0): diag(0.637, 0.270)",
             "slices": "through the origin, two Gaussian directions orthonormalized, seeds "
                       "0..3; range [-3, 3]^2",
             "convergence": "engine: 3000 steps, loss within 1e-10 of the minimum at a linearly "
                            "stable minimizer (power iteration on Hessian-vector products)"})
