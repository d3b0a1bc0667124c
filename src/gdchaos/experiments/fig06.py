"""Figure 6: the folding of GD in L(u, v) = 1/2 (uv - 1)^2, (u, v) in R^2, eta = 0.2.

Left: the region C = GD^-1(B), B = {Q > 6/eta} (Prop. 14's set B = {Q > 6 - 4 beta} in scaled
coordinates, beta = 0), and the preimage GD^-1(Crit) of the critical values (blue lines: the
critical set {det DGD = 0} and the other preimages of Crit).  Middle: GD(C) = B and Crit (orange
lines, GD of the critical set).  GD maps C onto GD(C) three to one: every point of B has exactly
three preimages (counted with the quintic below).  Right: a trajectory started on the boundary of
D0 wanders along it (computed in decimal arithmetic with enough digits that rounding never
pushes it off the boundary).

Preimages: with s = u + v, d = u - v and a = 1 - eta lam, GD maps s -> s (a - eta z),
d -> d (a + eta z), z = uv - y.  A point (u', v') has one preimage for each real root z of
s'^2 (a + eta z)^2 - d'^2 (a - eta z)^2 - 4 (y + z) (a^2 - eta^2 z^2)^2 = 0 (degree 5).
"""

from __future__ import annotations

import numpy as np

from .runner import FigureData, FigureSpec

PRESETS = {
    "paper": dict(y=1.0, eta=0.2, grid=700, range=[-6.0, 6.0, -6.0, 6.0], b_level=6.0,
                  traj_steps=400, traj_z0=0.3, digits_per_step=1.0, lap_n=12, max_period=10),
    "quick": dict(y=1.0, eta=0.2, grid=400, range=[-6.0, 6.0, -6.0, 6.0], b_level=6.0,
                  traj_steps=300, traj_z0=0.3, digits_per_step=1.0, lap_n=10, max_period=8),
}
PRESETS["tiny"] = dict(PRESETS["quick"], grid=120, traj_steps=60, lap_n=6, max_period=4)


def chaos_numbers(y, eta, lap_n, max_period):
    """Topological entropy of the boundary map Z^3 - 3Z (lap numbers) and periodic orbits of GD
    of every period 1..max_period on the boundary (Theorem 1, Props. 18-19), from
    :mod:`gdchaos.analysis`."""
    from ..analysis import boundary_periodic_orbit, gd_periodic_orbit, lap_entropy
    from ..theory.quotient import boundary_map

    ent = lap_entropy(boundary_map, (-2.0, 2.0), n_max=int(lap_n))
    gd, bd = {}, {}
    for K in range(1, int(max_period) + 1):
        o = gd_periodic_orbit(K, d=1, eta=eta, y=y)
        gd[str(K)] = {"verified": bool(o.verified), "return_error": float(o.return_error),
                      "word": "".join(map(str, o.word)), "start_uv": o.points[0].tolist()}
        bd[str(K)] = bool(boundary_periodic_orbit(K).verified)
    return {"boundary_map_lap_numbers": ent.counts.tolist(),
            "topological_entropy_lap": float(ent.entropy), "log_3": float(np.log(3.0)),
            "gd_periodic_orbits": gd, "boundary_map_periodic_orbits_verified": bd,
            "gd_periods_verified": [int(k) for k, v in gd.items() if v["verified"]]}


def preimage_counts(U1, V1, y, eta, lam=0.0, rtol=1e-7):
    """Number of real preimages under GD (d = 1) of each point ``(U1, V1)`` (arrays)."""
    a = 1.0 - eta * lam
    e = eta
    A = (np.ravel(U1) + np.ravel(V1)) ** 2
    B = (np.ravel(U1) - np.ravel(V1)) ** 2
    n = A.size
    c = np.empty((n, 5))  # monic: z^5 + c0 z^4 + c1 z^3 + c2 z^2 + c3 z + c4
    c[:, 0] = y
    c[:, 1] = -2.0 * a * a / (e * e)
    c[:, 2] = -((A - B) * e * e + 8.0 * a * a * e * e * y) / (4.0 * e ** 4)
    c[:, 3] = -(2.0 * a * e * (A + B) - 4.0 * a ** 4) / (4.0 * e ** 4)
    c[:, 4] = -((A - B) * a * a - 4.0 * y * a ** 4) / (4.0 * e ** 4)
    out = np.full(n, -1, dtype=np.int8)
    ok = np.all(np.isfinite(c), axis=1)
    comp = np.zeros((int(ok.sum()), 5, 5))
    comp[:, 0, :] = -c[ok]
    comp[:, np.arange(1, 5), np.arange(4)] = 1.0
    roots = np.linalg.eigvals(comp)
    real = np.abs(roots.imag) <= rtol * np.maximum(1.0, np.abs(roots.real))
    out[ok] = real.sum(axis=1)
    return out.reshape(np.shape(U1))


def jacobian_det(U, V, y, eta, lam=0.0):
    """``det DGD(u, v) = (a - eta v^2)(a - eta u^2) - eta^2 (2uv - y)^2``, a = 1 - eta lam."""
    a = 1.0 - eta * lam
    return (a - eta * V * V) * (a - eta * U * U) - eta * eta * (2.0 * U * V - y) ** 2


def boundary_trajectory(y, eta, steps, z0=0.3, digits_per_step=1.0):
    """A GD orbit started exactly on the boundary of D0 (lam = 0, d = 1), in decimal arithmetic.

    The start is the point of the invariant segment ``W = alpha Z + 4`` (scaled coordinates) at
    ``Z0`` (taken as the decimal it prints as: 0.3 is exactly 3/10), lifted to (u, v) with
    u + v > 0 and u >= v.  On the segment Z follows Z^3 - 3Z = 2 cos(3 pi theta) for
    Z = 2 cos(pi theta); a Z0 that is not an algebraic integer (like 3/10) has no periodic
    orbit (values 2 cos(pi q), q rational, are algebraic integers).  The boundary repels transversally by about a factor 3 per step, so the precision is
    ``30 + digits_per_step * steps`` digits.  Returns float arrays ``(u, v, Q)``."""
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = int(30 + digits_per_step * steps)
        et = Decimal(repr(float(eta)))
        yy = Decimal(repr(float(y)))
        Z0 = Decimal(repr(float(z0)))
        W0 = et * yy * Z0 + 4
        z, w = Z0 / et, W0 / et
        s = (w + 2 * (z + yy)).sqrt()
        d = (w - 2 * (z + yy)).sqrt()
        u, v = (s + d) / 2, (s - d) / 2
        us, vs, qs = [], [], []
        for _ in range(int(steps) + 1):
            zz = u * v - yy
            ww = u * u + v * v
            disc = ww * ww - 16 * yy * zz
            qs.append(float(ww + (disc.sqrt() if disc > 0 else Decimal(0))))
            us.append(float(u))
            vs.append(float(v))
            u, v = u - et * zz * v, v - et * zz * u
    return np.array(us), np.array(vs), np.array(qs)


def compute(p, out, progress):
    import contourpy
    import xarray as xr

    from ..plotting.figures import q_grid, uv_grid
    from ..problems import ScalarFactorization

    y, eta = p["y"], p["eta"]
    r = p["range"]
    us, vs, U, V = uv_grid(r[:2], r[2:], p["grid"])
    prob = ScalarFactorization(d=1, y=y)
    X1 = prob.step(np.stack([U.ravel(), V.ravel()], 1), eta)
    U1, V1 = X1[:, 0].reshape(U.shape), X1[:, 1].reshape(U.shape)
    Q = q_grid(U, V, y)
    Q1 = q_grid(U1, V1, y)
    level = p["b_level"] / eta
    in_B = Q > level  # B = GD(C)
    in_C = Q1 > level  # C = GD^-1(B)
    n_here = preimage_counts(U, V, y, eta)  # preimages of grid points
    n_image = preimage_counts(U1, V1, y, eta)  # preimages of the images: jumps on GD^-1(Crit)
    det = jacobian_det(U, V, y, eta)
    crit_set = contourpy.contour_generator(us, vs, det).lines(0.0)
    crit_values = [prob.step(np.asarray(seg), eta) for seg in crit_set if len(seg) > 1]
    tu, tv, tq = boundary_trajectory(y, eta, p["traj_steps"], p["traj_z0"],
                                     p["digits_per_step"])
    ds = xr.Dataset({"in_C": (("v", "u"), in_C), "in_GD_C": (("v", "u"), in_B),
                     "preimages": (("v", "u"), n_here),
                     "preimages_of_image": (("v", "u"), n_image),
                     "det_jacobian": (("v", "u"), det), "Q": (("v", "u"), Q)},
                    coords={"u": us, "v": vs})
    traj = xr.Dataset({"u": ("step", tu), "v": ("step", tv), "Q": ("step", tq)},
                      coords={"step": np.arange(tu.size)})
    crit_q = np.concatenate([q_grid(s[:, 0], s[:, 1], y) for s in crit_values]) \
        if crit_values else np.array([np.nan])
    ang = np.arctan2(tv, tu)
    occupied = np.histogram(ang, bins=36, range=(-np.pi, np.pi))[0] > 0
    nb = n_here[in_B]
    numbers = {
        "B_level_Q": level, "D0_level_Q": 8.0 / eta,
        "fraction_of_GD_C_with_exactly_3_preimages": float(np.mean(nb == 3)) if nb.size else None,
        "preimage_counts_seen": sorted(int(k) for k in np.unique(n_here[n_here >= 0])),
        "C_subset_of_GD_C_fraction": float(in_B[in_C].mean()) if in_C.any() else None,
        "boundary_of_D0_inside_C": bool(np.all(in_C[np.abs(Q - 8.0 / eta) < 0.5])),
        "max_Q_on_critical_values": float(np.nanmax(crit_q)),
        "critical_values_Q_below_B_level": bool(np.nanmax(crit_q) <= level + 1e-6),
        "trajectory_steps": int(p["traj_steps"]),
        "trajectory_max_abs_Q_minus_8_over_eta": float(np.max(np.abs(tq - 8.0 / eta))),
        "trajectory_angle_bins_visited_of_36": int(occupied.sum()),
    }
    numbers.update(chaos_numbers(y, eta, p["lap_n"], p["max_period"]))
    arrays = {"crit_set": [np.asarray(s) for s in crit_set if len(s) > 1],
              "crit_values": crit_values}
    return FigureData({"maps": ds, "trajectory": traj}, numbers, arrays)


def plot(data, p):
    from ..plotting import use_style
    from ..plotting.figures import (
        MINIMIZER_GREEN,
        d0_boundary,
        legend_patches,
        mask_panel,
        minimizers_mark,
        set_box,
    )

    plt = use_style()
    fig, axs = plt.subplots(1, 3, figsize=(13.5, 4.8))
    ds, traj = data.datasets["maps"], data.datasets["trajectory"]
    r = p["range"]
    ext = [r[0], r[1], r[2], r[3]]
    us, vs = np.asarray(ds.u), np.asarray(ds.v)
    a, b, c = axs
    mask_panel(a, ds.in_C, ext, "#c6dbef")
    n1 = np.asarray(ds.preimages_of_image, dtype=float)
    n1[n1 < 0] = np.nan
    a.contour(us, vs, n1, levels=[2, 4], colors="#1f77b4", linewidths=0.8)
    for seg in data.arrays.get("crit_set", ()):
        a.plot(seg[:, 0], seg[:, 1], color="#1f77b4", lw=0.8)
    a.plot([], [], color="#1f77b4", lw=0.8, label=r"GD$^{-1}$(Crit)")
    a.set_title(r"$C=\mathrm{GD}^{-1}(\{Q>%g/\eta\})$" % p["b_level"])
    mask_panel(b, ds.in_GD_C, ext, "#fdd0a2")
    for seg in data.arrays.get("crit_values", ()):
        b.plot(seg[:, 0], seg[:, 1], color="#e6550d", lw=1.0)
    b.plot([], [], color="#e6550d", lw=1.0, label="Crit (critical values)")
    b.set_title(r"GD$(C)=\{Q>%g/\eta\}$, covered 3 times" % p["b_level"])
    c.plot(traj.u[:31], traj.v[:31], "-", color="0.55", lw=0.4, zorder=2,
           label="first 30 steps")
    sc = c.scatter(traj.u, traj.v, c=np.asarray(traj.step), s=7, cmap="plasma", zorder=3)
    fig.colorbar(sc, ax=c, label="iteration", fraction=0.046, pad=0.03)
    c.plot([traj.u[0]], [traj.v[0]], "o", mfc="none", mec="k", ms=8, label="start")
    c.set_title(r"a trajectory started on $\partial D_0$")
    for ax, patch in ((a, ("#c6dbef", "$C$")), (b, ("#fdd0a2", r"GD$(C)$")), (c, None)):
        d0_boundary(ax, p["y"], p["eta"], r[:2], r[2:], label=r"$\partial D_0$")
        minimizers_mark(ax, p["y"], 0.0, r[:2], label=r"minimizers $uv=%g$" % p["y"],
                        color=MINIMIZER_GREEN)
        set_box(ax, r[:2], r[2:])
        if patch:
            legend_patches(ax, [patch], loc="lower left", fontsize=7.5)
        else:
            ax.legend(loc="lower left", fontsize=7.5, framealpha=0.9)
    fig.tight_layout()
    return fig


SPEC = FigureSpec(
    number=6, title="Folding: GD is a 3-covering map from C onto GD(C), transitive on the boundary",
    caption="Black ellipse = convergence boundary, green hyperbola = global minimizers. Middle: "
            "orange line = Crit, the critical values of GD; left: blue lines = GD^-1(Crit). GD "
            "maps the light blue region C three to one onto the light orange region GD(C), "
            "C in GD(C), and C contains the boundary. Right: a trajectory from the boundary "
            "wanders along it.",
    presets=PRESETS, compute=compute, plot=plot,
    choices={"C": "the paper does not define C in the text; we take GD(C) = B = {Q > 6/eta} "
                  "(Prop. 14: every point of B has exactly three preimages) and C = GD^-1(B)",
             "GD^-1(Crit)": "the critical set {det DGD = 0} plus the level lines where the "
                            "number of preimages of GD(p) jumps",
             "trajectory": "start Z0 = 0.3 (exactly 3/10, not periodic) on the invariant segment W = alpha Z + 4, "
                           "lifted to (u, v); decimal arithmetic with 30 + steps digits (the "
                           "boundary repels by ~3 per step, float64 leaves it after ~25 steps)"})
