"""One weight-decay panel of figure 8 (convergence region and the saddle's basin on the (u, v)
plane), computed and drawn; shared by figure 8 and the extras' continuum of weight decay."""

from __future__ import annotations

import numpy as np

from ..status import status_fractions


def lam_panel(y, lam, eta, rng, grid, iters, tol, div, steps, progress=False):
    """One panel: engine basin on the (u, v) plane, the saddle-basin field and numbers."""
    from ..engine import RunConfig, Slice2D, basin
    from ..plotting.figures import q_grid
    from ..problems import ScalarFactorization
    from .scalar_fields import finite_step_fields, saddle_line_field, sign_change_pixels

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

    bnd = boundary_mask(region.astype(np.int16), connectivity=1, side="both")
    h = (rng[1] - rng[0]) / (grid - 1)
    area = region.sum() * h * h
    perim = bnd.sum() * h
    Q = q_grid(U, V, y)
    fr = status_fractions(st)
    num = {"lam": lam, "converged_fraction": fr["converged"],
           "undecided_fraction": fr["undecided"],
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
                (status_fractions(st[g4 & (st != 3)])["converged"]
                 if (g4 & (st != 3)).any() else None),
            "theorem5_region_fraction": float(g5.mean()),
            "theorem5_region_closest_fraction": (float(np.mean(np.asarray(ds.minimizer)[g5 & conv]
                                                              == 1)) if (g5 & conv).any() else None),
            "converged_to_p_plus_fraction_of_converged": (float(np.mean(np.asarray(ds.minimizer)[conv]
                                                                        == 2)) if conv.any() else None),
        })
    return ds, num


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
