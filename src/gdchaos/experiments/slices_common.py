"""Random 2-D slices of the factorization problems (figures 9-11): engine basins on slices through
the origin, the sensitivity of the limit near the convergence boundary, and the panel grid."""

from __future__ import annotations

import numpy as np

from ..status import status_fractions


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
    fr = status_fractions(st)
    return {"converged_fraction": fr["converged"],
            "undecided_fraction": fr["undecided"],
            "stationary_non_global_fraction": fr["saddle"],
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
