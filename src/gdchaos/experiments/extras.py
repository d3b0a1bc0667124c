"""Beyond the paper: three cheap, telling items.

- ``dimension``: figure 3's boundary dimension with an honest interval (automatic box counting
  with its fit range and systematic spread), the uncertainty exponent (independent of pixels)
  and a convergence study over grid resolutions (:mod:`gdchaos.analysis`).
- ``lam``: figure 8 over a continuum of weight decay: small multiples, an animated GIF
  (matplotlib's PillowWriter), and the converged area and boundary length against lam.
- ``zoom``: a zoom into the convergence boundary of figure 3's quotient map, a factor 10 per
  frame over 14 decades, every frame recomputed by the engine at full resolution in float64;
  the centre is a repelling periodic point on the boundary, found by Newton's method with the
  residual in long double and rounded once to float64.  Each frame is
  checked against the same frame computed in extended precision (``numpy.longdouble``) to show
  where float64 runs out.
- ``mf_maps``: scalar factorization over (eta, init scale), (eta_u, eta_v) and (eta, lam) with
  the theory's exact boundaries and the measured agreement (:mod:`.mf_hypermaps`).

Each item returns a record ``{"title", "text", "images", "gifs", "numbers"}``; the files go to
the output folder.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from ..problems import QuotientMap
from .trainability import PRESETS as _TRAIN_PRESETS
from ..status import status_fractions
from .mf_hypermaps import mf_maps_item

ITEMS = ("dimension", "lam", "zoom", "mf_maps", "trainability")

PRESETS = {
    "quick": {"dimension": dict(resolutions=[500, 1000, 2000, 4000], n_uncertain=200000,
                                eps=[1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6]),
              "lam": dict(lams=list(np.round(np.linspace(0.0, 0.6, 25), 3)), grid=250,
                          range=[-3.5, 3.5, -3.5, 3.5], eta=1.0, y=0.8, iters=3000, fps=4),
              "zoom": dict(grid=300, decades=14, iters=2000, centre_guess=[1.28, 4.72], period=2,
                           ld_rows=60, fps=2),
              "mf_maps": dict(grid=200, iters=20000)},
    "paper": {"dimension": dict(resolutions=[500, 1000, 2000, 4000, 8000], n_uncertain=1000000,
                                eps=[1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6]),
              "lam": dict(lams=list(np.round(np.linspace(0.0, 0.6, 49), 4)), grid=400,
                          range=[-3.5, 3.5, -3.5, 3.5], eta=1.0, y=0.8, iters=3000, fps=6),
              "zoom": dict(grid=500, decades=14, iters=2000, centre_guess=[1.28, 4.72], period=2,
                           ld_rows=100, fps=2),
              "mf_maps": dict(grid=400, iters=50000)},
}
PRESETS["tiny"] = {"dimension": dict(resolutions=[300, 600], n_uncertain=20000,
                                     eps=[3e-2, 1e-2, 3e-3, 1e-3]),
                   "lam": dict(PRESETS["quick"]["lam"], lams=[0.0, 0.1, 0.3], grid=50,
                               iters=800),
                   "zoom": dict(grid=40, decades=11, iters=800, centre_guess=[1.28, 4.72], period=2,
                           ld_rows=8, fps=2),
                   "mf_maps": dict(grid=40, iters=5000)}

for _name in PRESETS:  # Sohl-Dickstein (2024)'s experiments: presets in their own module
    PRESETS[_name]["trainability"] = dict(_TRAIN_PRESETS[_name])

FIG3 = dict(y=0.5, lam=0.2, eta=1.0, zrange=tuple(QuotientMap.default_window[:2]),
            wrange=tuple(QuotientMap.default_window[2:]))


# --------------------------------------------------------------------------------- dimension
def dimension_item(s, out, progress=print):
    from ..analysis import (
        convergence_study,
        engine_outcome,
        quotient_sampler,
        uncertainty_exponent,
    )
    from ..plotting import use_style

    t0 = time.perf_counter()
    cs = convergence_study(tuple(s["resolutions"]), (200,), procedure="paper", criterion="w")
    n_max = max(s["resolutions"])
    rows = cs.rows
    outcome = engine_outcome(QuotientMap(FIG3["y"], FIG3["lam"]), FIG3["eta"], mode="converged",
                             max_iter=400, tol=1e-12, gtol=0.0)
    unc = uncertainty_exponent(outcome, quotient_sampler(FIG3["zrange"], FIG3["wrange"],
                                                         FIG3["y"], margin=1e-2),
                               s["eps"], n_points=int(s["n_uncertain"]), D=2)
    plt = use_style()
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(14, 4.0))
    ns = [r["n"] for r in rows]
    a.plot(ns, [r["paper"] for r in rows], "o-", label="paper's procedure (2^-2..2^-8)")
    a.errorbar(ns, [r["auto"] for r in rows],
               yerr=np.abs(np.array([[r["auto"] - r["auto_ci"][0], r["auto_ci"][1] - r["auto"]]
                                     for r in rows]).T), fmt="s-", capsize=3,
               label="automatic fit, 95% interval")
    a.axhline(1.249, color="k", ls="--", lw=0.8, label="paper: 1.249")
    a.axhline(unc.dimension, color="#d62728", ls=":", lw=1.0,
              label=f"from the uncertainty exponent: {unc.dimension:.3f}")
    a.set_xscale("log")
    a.set_xlabel("grid resolution n (n x n)")
    a.set_ylabel("box-counting dimension")
    a.set_title("convergence study (figure 3 boundary)")
    a.legend(fontsize=7)
    cs.plot(b)
    b.set_title("local slopes at fixed box sizes")
    unc.plot(c)
    c.set_title(r"uncertainty exponent: $f(\epsilon)\sim\epsilon^{2-D}$")
    fig.tight_layout()
    os.makedirs(out, exist_ok=True)
    png = os.path.join(out, "dimension.png")
    fig.savefig(png)
    plt.close(fig)
    last = rows[-1]
    numbers = {"convergence_study": cs.as_dict()["rows"],
               "uncertainty": {"alpha": unc.alpha, "alpha_ci": list(unc.ci),
                               "dimension": unc.dimension, "dimension_ci": list(unc.dimension_ci),
                               "eps": unc.eps.tolist(), "fraction": unc.fraction.tolist()},
               "seconds": time.perf_counter() - t0}
    text = (f"Paper's procedure at n = {n_max}: {last['paper']:.4f}; automatic fit "
            f"{last['auto']:.3f} [{last['auto_ci'][0]:.3f}, {last['auto_ci'][1]:.3f}] over box "
            f"sizes {last['auto_eps'][1]:.2g}-{last['auto_eps'][0]:.2g}; uncertainty exponent "
            f"{unc.alpha:.3f} [{unc.ci[0]:.3f}, {unc.ci[1]:.3f}] -> dimension "
            f"{unc.dimension:.3f} [{unc.dimension_ci[0]:.3f}, {unc.dimension_ci[1]:.3f}].  The "
            "paper's fixed procedure drifts with the grid resolution (its smallest box is 2^-8 of "
            "the extent, comparable to the pixel at n = 2000).")
    return {"title": "Figure 3's dimension: interval and convergence study", "text": text,
            "images": [png], "gifs": [], "numbers": numbers}


# --------------------------------------------------------------------------------------- lam
def lam_item(s, out, progress=print):
    from matplotlib import animation

    from ..plotting import use_style
    from ..plotting.figures import REGION_BLUE, legend_patches
    from .lam_panels import draw_lam_panel, lam_panel

    t0 = time.perf_counter()
    panels = []
    for lam in s["lams"]:
        ds, num = lam_panel(s["y"], float(lam), s["eta"], s["range"], s["grid"], s["iters"],
                            1e-10, 1e6, 8)
        panels.append((float(lam), ds, num))
    plt = use_style()
    os.makedirs(out, exist_ok=True)
    k = len(panels)
    ncol = min(7, k)
    nrow = -(-k // ncol)
    fig, axs = plt.subplots(nrow, ncol, figsize=(2.3 * ncol, 2.6 * nrow), squeeze=False)
    for ax, (lam, ds, _) in zip(axs.ravel(), panels):
        draw_lam_panel(ax, ds, s["y"], lam, s["eta"], s["range"])
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(labelsize=6)
    for ax in axs.ravel()[k:]:
        ax.set_visible(False)
    fig.suptitle(r"figure 8 over a continuum of $\lambda$ ($y=%g$, $\eta=%g$)"
                 % (s["y"], s["eta"]), y=1.0)
    fig.tight_layout()
    multiples = os.path.join(out, "lam_small_multiples.png")
    fig.savefig(multiples)
    plt.close(fig)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.2))
    lams = [p[0] for p in panels]
    a1.plot(lams, [p[2]["converged_fraction"] for p in panels], "o-")
    a1.set_xlabel(r"$\lambda$")
    a1.set_ylabel("converged fraction of the window")
    a2.plot(lams, [p[2]["perimeter_over_equal_area_circle"] for p in panels], "o-",
            color="#d62728")
    a2.set_xlabel(r"$\lambda$")
    a2.set_ylabel("boundary length / equal-area circle")
    fig.tight_layout()
    curves = os.path.join(out, "lam_curves.png")
    fig.savefig(curves)
    plt.close(fig)

    gif = os.path.join(out, "lam.gif")
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    writer = animation.PillowWriter(fps=int(s["fps"]))
    with writer.saving(fig, gif, dpi=80):
        for lam, ds, _ in panels:
            ax.clear()
            draw_lam_panel(ax, ds, s["y"], lam, s["eta"], s["range"])
            legend_patches(ax, [(REGION_BLUE, "converges")], loc="lower left", fontsize=7)
            writer.grab_frame()
    plt.close(fig)
    numbers = {"per_lam": [p[2] for p in panels], "seconds": time.perf_counter() - t0}
    return {"title": "Figure 8 over a continuum of weight decay", "images": [multiples, curves],
            "gifs": [gif], "numbers": numbers,
            "text": f"{k} values of lam in [{lams[0]:g}, {lams[-1]:g}], eta = {s['eta']:g}, "
                    f"y = {s['y']:g}: the spikes grow continuously with lam; the converged area "
                    "and the boundary length grow with it."}


# -------------------------------------------------------------------------------------- zoom
def _ld_map(Z, W, y, lam, eta):
    """One step of the quotient map in the dtype of ``Z, W`` (float64 or long double)."""
    t = type(Z.flat[0]) if isinstance(Z, np.ndarray) else type(Z)
    e, yy = t(eta), t(y)
    a = t(1) - e * t(lam)
    c = a * a + e * e * Z * Z
    return c * (Z + yy) - e * a * Z * W - yy, c * W - 4 * e * a * Z * (Z + yy)


def periodic_centre(y, lam, eta, guess, period=2, newton=30):
    """A periodic point of the quotient map near ``guess``: Newton's method on
    ``F^period(X) - X`` with the residual evaluated in long double (Jacobian in float64), then
    rounded once to float64.  Returns ``(X, residual_in_ulps, multipliers)``."""
    from ..analysis.lyapunov import quotient_jacobian

    ld = np.longdouble
    X = np.array(guess, dtype=ld)
    for _ in range(int(newton)):
        J = np.eye(2)
        Z, W = X[:1].copy(), X[1:].copy()
        for _ in range(int(period)):
            J = quotient_jacobian(np.array([[float(Z[0]), float(W[0])]]), eta, y, lam)[0] @ J
            Z, W = _ld_map(Z, W, y, lam, eta)
        r = np.array([Z[0], W[0]], dtype=ld) - X
        dx = np.linalg.solve(J - np.eye(2), -r.astype(float))
        X = X + dx.astype(ld)
        if np.max(np.abs(dx)) < 1e-30:
            break
    Xf = X.astype(float)
    Z, W = np.array([Xf[0]], dtype=ld), np.array([Xf[1]], dtype=ld)
    J = np.eye(2)
    for _ in range(int(period)):
        J = quotient_jacobian(np.array([[float(Z[0]), float(W[0])]]), eta, y, lam)[0] @ J
        Z, W = _ld_map(Z, W, y, lam, eta)
    res = np.abs(np.array([Z[0], W[0]], dtype=ld) - Xf.astype(ld)).astype(float)
    ulps = float(np.max(res / np.spacing(np.abs(Xf))))
    return Xf, ulps, np.linalg.eigvals(J)


def longdouble_outcome(zc, wc, xs, ys, y, lam, eta, iters, min_value):
    """Convergence of the quotient map in extended precision (``numpy.longdouble``) at the
    points ``(zc + x, wc + y)`` (offsets added in extended precision): loss within 1e-12 of the
    minimum at a stable point, the engine's rule (sharpness < 2/eta at T(M) holds here)."""
    ld = np.longdouble
    Z = ld(zc) + np.asarray(xs, dtype=ld)[None, :] + np.zeros((len(ys), 1), dtype=ld)
    W = ld(wc) + np.asarray(ys, dtype=ld)[:, None] + np.zeros((1, len(xs)), dtype=ld)
    e, yy, a = ld(eta), ld(y), ld(1) - ld(eta) * ld(lam)
    done = np.zeros(Z.shape, bool)
    conv = np.zeros(Z.shape, bool)
    with np.errstate(all="ignore"):
        for _ in range(int(iters)):
            loss = 0.5 * Z * Z + 0.5 * ld(lam) * W
            hit = ~done & (loss - ld(min_value) <= ld(1e-12))
            conv |= hit
            bad = ~done & (~np.isfinite(loss) | (loss > ld(1e8)))
            done |= hit | bad
            if done.all():
                break
            c = a * a + e * e * Z * Z
            Z, W = c * (Z + yy) - e * a * Z * W - yy, c * W - 4 * e * a * Z * (Z + yy)
    return conv


def zoom_item(s, out, progress=print):
    from matplotlib import animation
    from matplotlib.colors import ListedColormap

    from ..engine import RunConfig, Slice2D, basin
    from ..plotting import use_style

    t0 = time.perf_counter()
    y, lam, eta = FIG3["y"], FIG3["lam"], FIG3["eta"]
    prob = QuotientMap(y, lam)
    (zc, w0), ulps, mult = periodic_centre(y, lam, eta, s["centre_guess"], int(s["period"]))
    n = int(s["grid"])
    frames, numbers = [], {"centre_z": repr(zc), "centre_w": repr(w0),
                           "centre_period": int(s["period"]),
                           "centre_return_error_ulps": ulps,
                           "centre_multipliers": [str(m) for m in mult],
                           "centre_multiplier_modulus": float(np.abs(mult).max()),
                           "frames": []}
    cfg = RunConfig(eta=eta, max_iter=int(s["iters"]), tol=1e-12, gtol=0.0, div_threshold=1e8)
    for k in range(int(s["decades"]) + 1):
        width = 10.0 ** (-k)
        h = width / 2
        g = Slice2D(np.array([zc, w0]), np.eye(2), (-h, h), (-h, h), n, n)
        ds = basin(prob, g, config=cfg)
        st = np.asarray(ds.status)
        pts = g.points()
        # columns (z) and rows (w) that are distinct float64 numbers
        distinct = len(np.unique(pts[:n, 0])) / n
        distinct_rows = len(np.unique(pts[::n, 1])) / n
        rows = np.linspace(0, n - 1, min(int(s["ld_rows"]), n)).astype(int)
        ldc = longdouble_outcome(zc, w0, np.asarray(ds.x), np.asarray(ds.y)[rows], y, lam, eta,
                                 s["iters"], prob.min_value)
        valid = st[rows] != 4  # points outside the state space (frame 1) are not compared
        agree = float(np.mean(((st[rows] == 1) == ldc)[valid])) if valid.any() else float("nan")
        frames.append((width, st))
        numbers["frames"].append({"width": width, "pixel": width / (n - 1),
                                  "pixel_over_ulp": width / (n - 1) / np.spacing(max(abs(zc), w0)),
                                  "converged_fraction": status_fractions(st)["converged"],
                                  "both_outcomes": bool(0 < status_fractions(st)["converged"] < 1),
                                  "distinct_columns_float64": distinct,
                                  "distinct_rows_float64": distinct_rows,
                                  "agreement_with_longdouble": agree})
        progress(f"  zoom frame width 1e-{k}: converged {status_fractions(st)['converged']:.3f}, "
                 f"distinct columns "
                 f"{distinct:.3f}, rows {distinct_rows:.3f}, agreement with long double {agree:.3f}")
    ok = [f["width"] for f in numbers["frames"]
          if f["agreement_with_longdouble"] >= 0.99 and f["distinct_columns_float64"] == 1.0
          and f["distinct_rows_float64"] == 1.0 and f["both_outcomes"]]
    numbers["smallest_faithful_width"] = min(ok) if ok else None
    numbers["seconds"] = time.perf_counter() - t0
    plt = use_style()
    os.makedirs(out, exist_ok=True)
    cmap = ListedColormap(["#f2c14e", "#2a6f97", "#bdbdbd", "#d1495b", "#ffffff"])
    images = []
    ncol = 5
    nrow = -(-len(frames) // ncol)
    fig, axs = plt.subplots(nrow, ncol, figsize=(2.6 * ncol, 2.7 * nrow), squeeze=False)
    for ax, (width, st), f in zip(axs.ravel(), frames, numbers["frames"]):
        ax.imshow(np.clip(st, 0, 4), origin="lower", cmap=cmap, vmin=-0.5, vmax=4.5,
                  extent=[-width / 2, width / 2, -width / 2, width / 2])
        ax.set_title(f"width {width:.0e}\nlong-double agreement {100 * f['agreement_with_longdouble']:.0f}%",
                     fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axs.ravel()[len(frames):]:
        ax.set_visible(False)
    fig.suptitle(f"zoom into the figure-3 boundary at the period-{s['period']} point (z, w) = "
                 f"({zc:.17g}, {w0:.17g}); blue = converges, grey = diverges", fontsize=9)
    fig.tight_layout()
    series = os.path.join(out, "zoom_series.png")
    fig.savefig(series)
    plt.close(fig)
    images.append(series)
    gif = os.path.join(out, "zoom.gif")
    fig, ax = plt.subplots(figsize=(4.0, 4.2))
    writer = animation.PillowWriter(fps=int(s["fps"]))
    with writer.saving(fig, gif, dpi=80):
        for width, st in frames:
            ax.clear()
            ax.imshow(np.clip(st, 0, 4), origin="lower", cmap=cmap, vmin=-0.5, vmax=4.5,
                      extent=[-width / 2, width / 2, -width / 2, width / 2])
            ax.set_title(f"width {width:.0e} around ({zc:.6f}, {w0:.6f})", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            writer.grab_frame()
    plt.close(fig)
    with open(os.path.join(out, "zoom.json"), "w") as fh:
        json.dump(numbers, fh, indent=1)
    sw = numbers["smallest_faithful_width"]
    return {"title": f"Zoom into a convergence boundary over {int(s['decades'])} decades (float64)",
            "images": images, "gifs": [gif], "numbers": numbers,
            "text": f"Centre: the repelling period-{s['period']} point ({zc:.17g}, {w0:.17g}) of "
                    f"figure 3's quotient map (multipliers {mult[0]:.3f}, {mult[1]:.3f}: a spiral, "
                    f"so the picture repeats, rotated, at every scale); it returns to itself "
                    f"within {ulps:.1f} ulp.  Each frame is 10x narrower, "
                    f"recomputed by the engine ({n} x {n}, float64) and checked against extended "
                    f"precision.  Smallest width where float64 is faithful (>= 99% agreement, "
                    f"every pixel a distinct float64 point, both outcomes present): {sw:.0e}." if sw else
                    "no faithful frame"}


def trainability_item(s, out, progress=print):
    from .trainability import trainability_item as item

    return item(s, out, progress=progress)


_RUNNERS = {"dimension": dimension_item, "lam": lam_item, "zoom": zoom_item,
            "mf_maps": mf_maps_item, "trainability": trainability_item}


def _coerce(item, key, value, default):
    """A setting given as text (``--set``) in the type of the preset's value."""
    from ..errors import GdchaosInputError

    if not isinstance(value, str):
        return value
    try:
        if isinstance(default, bool):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return value.lower() in ("true", "1")
        if isinstance(default, (int, np.integer)):
            return int(value)
        if isinstance(default, (float, np.floating)):
            return float(value)
        if isinstance(default, (list, tuple, dict)):
            return json.loads(value)
    except ValueError:
        raise GdchaosInputError(f"--set {item}:{key}={value}: expected a value like "
                                f"{json.dumps(default, default=float)}") from None
    return value


def settings(preset="quick", name="trainability", overrides=None):
    """The settings of extra ``name`` at ``preset`` with ``overrides`` (``{key: value}``, text
    values converted to the preset's types); an unknown key is an error naming the known ones."""
    from ..errors import GdchaosInputError

    s = dict(PRESETS[preset][name])
    for k, v in (overrides or {}).items():
        if k not in s:
            raise GdchaosInputError(f"--set {name}:{k}: no such setting; {name} has "
                                    f"{', '.join(sorted(s))}")
        s[k] = _coerce(name, k, v, s[k])
    return s


def run_extras(preset="quick", out="extras", only=None, progress=print, overrides=None):
    """Run the extras (all, or those named in ``only``); yields ``(title, record)``.
    ``overrides``: ``{item: {key: value}}`` on top of the preset (``gdchaos extras --set``)."""
    from ..errors import GdchaosInputError

    from .runner import check_output_dir

    if preset not in PRESETS:
        raise GdchaosInputError(f"extras: unknown preset {preset!r}; choose from {sorted(PRESETS)}")
    bad = [n for n in (only or []) if n not in ITEMS]
    if bad:
        raise GdchaosInputError(f"unknown extras {bad}; choose from {list(ITEMS)}")
    overrides = overrides or {}
    bad = [n for n in overrides if n not in ITEMS or (only is not None and n not in only)]
    if bad:
        raise GdchaosInputError(f"--set names extras {bad} that this run does not make")
    chosen = {n: settings(preset, n, overrides.get(n)) for n in ITEMS
              if only is None or n in only}  # every setting checked before any work
    check_output_dir(out)
    for name in ITEMS:
        if name not in chosen:
            continue
        t = time.perf_counter()
        rec = _RUNNERS[name](chosen[name], out, progress=progress)
        progress(f"extras {name} done in {time.perf_counter() - t:.1f} s")
        with open(os.path.join(out, f"{name}.json"), "w") as fh:
            json.dump({k: v for k, v in rec.items()}, fh, indent=1, default=float)
        yield rec["title"], rec
