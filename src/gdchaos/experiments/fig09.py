"""Figure 9: unregularized matrix factorization from general initializations.

L(U, V) = 1/2 ||U^T V - Y||_F^2, U, V in R^{2x2}, Y diagonal with entries drawn from U[0, 1]
(seed ``y_seed``).  Four random 2-D slices of R^8 through the origin (two Gaussian directions,
orthonormalized, seeds ``slice_seeds``); converged points coloured by the squared Frobenius norm
of the limit, the others left white.  Off the invariant subspace W the convergence boundary is
not smooth, and the limit is sensitive to the initialization near it.

The helpers here (:func:`slice_basins`, :func:`sensitivity`, :func:`slices_figure`) serve
figures 9-11.
"""

from __future__ import annotations

import numpy as np

from .runner import FigureData, FigureSpec

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


def slice_basins(prob, eta, seeds, rng, grid, iters, tol, div, coordinate=None, progress=False):
    """Engine basins on random slices through the origin, one per seed (dict seed -> Dataset)."""
    from ..engine import RunConfig, Slice2D, basin

    cfg = RunConfig(eta=eta, max_iter=iters, tol=tol, div_threshold=div)
    out = {}
    for s in seeds:
        g = Slice2D.random(prob.n_params, rng[:2], rng[2:], grid, seed=int(s))
        out[int(s)] = basin(prob, g, config=cfg, coordinate=coordinate, progress=progress)
    return out


def sensitivity(ds, var, near=2, far=8):
    """How much the limit changes between neighbouring converged pixels near the convergence
    boundary (within ``near`` pixels of a non-converged pixel) and far from it (more than
    ``far`` pixels away): medians of the largest absolute difference to a 4-neighbour."""
    from scipy import ndimage

    st = np.asarray(ds.status)
    conv = st == 1
    val = np.where(conv, np.asarray(ds[var], dtype=float), np.nan)
    jump = np.zeros(val.shape)
    with np.errstate(invalid="ignore"):
        for ax in (0, 1):
            d = np.abs(np.diff(val, axis=ax))
            d = np.nan_to_num(d, nan=0.0)
            sl_a = [slice(None)] * 2
            sl_b = [slice(None)] * 2
            sl_a[ax] = slice(1, None)
            sl_b[ax] = slice(None, -1)
            jump[tuple(sl_a)] = np.maximum(jump[tuple(sl_a)], d)
            jump[tuple(sl_b)] = np.maximum(jump[tuple(sl_b)], d)
    dist = ndimage.distance_transform_cdt(conv, metric="taxicab")
    nearm = conv & (dist <= near)
    farm = conv & (dist > far)
    scale = float(np.nanmax(val) - np.nanmin(val)) if conv.any() else np.nan
    m_near = float(np.median(jump[nearm])) if nearm.any() else None
    m_far = float(np.median(jump[farm])) if farm.any() else None
    return {"converged_fraction": float(conv.mean()),
            "undecided_fraction": float(np.mean(st == 0)),
            "stationary_non_global_fraction": float(np.mean(st == 3)),
            f"{var}_range": [float(np.nanmin(val)), float(np.nanmax(val))] if conv.any() else None,
            "median_neighbour_jump_near_boundary": m_near,
            "median_neighbour_jump_far_from_boundary": m_far,
            "near_over_far": (m_near / m_far) if (m_near is not None and m_far) else None,
            "share_of_large_jumps_near_boundary": (
                float(nearm[jump > 0.1 * scale].mean()) if np.any(jump > 0.1 * scale) else None)}


def slices_figure(rows, suptitle=None):
    """Rows of panels: ``rows`` = list of (row label, [(dataset, variable, colour label,
    panel title)]); converged points coloured, the rest white; stationary non-global points
    (status 3, e.g. local minimizers) light grey."""
    from ..plotting import use_style
    from ..plotting.figures import basin_panel, extent_of, mask_panel

    plt = use_style()
    ncol = max(len(r[1]) for r in rows)
    fig, axs = plt.subplots(len(rows), ncol, figsize=(3.7 * ncol, 3.4 * len(rows)),
                            squeeze=False)
    for i, (label, panels) in enumerate(rows):
        for j, (ds, var, clabel, title) in enumerate(panels):
            ax = axs[i][j]
            st = np.asarray(ds.status)
            if np.any(st == 3):
                mask_panel(ax, st == 3, extent_of(ds), "#d9d9d9")
            v = np.asarray(ds[var], dtype=float)[st == 1]
            # a robust colour scale: the top 0.5% (rare, very imbalanced limits) saturate
            clim = (float(v.min()), float(np.quantile(v, 0.995))) if v.size else None
            basin_panel(ax, ds, color=var, other="white", cbar_label=clabel, clim=clim,
                        xlabel="slice direction 1", ylabel="slice direction 2" if j == 0 else None)
            ax.set_title(title, fontsize=10)
            ax.set_aspect("equal")
            for sp in ("top", "right"):
                ax.spines[sp].set_visible(True)
        if label:
            axs[i][0].annotate(label, xy=(-0.42, 0.5), xycoords="axes fraction", rotation=90,
                               va="center", ha="center", fontsize=11, fontweight="bold")
        for j in range(len(panels), ncol):
            axs[i][j].set_visible(False)
    if suptitle:
        fig.suptitle(suptitle, y=1.0)
    fig.tight_layout()
    return fig


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
