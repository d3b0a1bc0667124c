"""Scalar factorization over hyperparameters, where the theory knows the boundary (issue 10, part 6).

Three GD maps of ``L(u, v) = 1/2 (uv - y)^2 + lam/2 (u^2 + v^2)``, ``u, v`` in R, computed by
:func:`gdchaos.hyper_map` and compared pixel by pixel with :mod:`gdchaos.theory.hyper`:

- ``scale``: step size ``eta`` against the scale ``s`` of the init ``s (u0, v0)``; exact boundary
  ``s*(eta)`` (Theorem 1) and the line ``eta = 1/|y|``.
- ``steps``: ``eta_u`` against ``eta_v`` (log axes); exact boundary from Theorem 1 through the
  conjugacy ``u' = (b/a)^(1/4) u, v' = (a/b)^(1/4) v`` (GD with a common step ``sqrt(ab)``).
- ``lam``: ``eta`` against ``lam`` at a fixed init; Theorems 4-5 (sufficient: converges below
  ``8/(4 lam + Q)``, to the closest minimizer below ``4/(4 lam + Q)``, where admissible) and the
  standard converse (no convergence where every minimizer is linearly unstable).

Agreement: the fraction of pixels whose status (converged or not) is the theory's prediction,
over the pixels where the theory predicts something, excluding a band of ``band`` pixels
(Chebyshev distance) around every change of the predicted label.
"""

from __future__ import annotations

import os
import time

import numpy as np

#: default settings; the extras presets override ``grid`` and ``iters``
DEFAULTS = dict(y=0.5, grid=200, iters=20000, band=2,
                scale=dict(init=[1.5, 0.3], eta=[0.05, 2.5], s=[0.1, 10.0]),
                steps=dict(init=[1.5, 0.3], eta_u=[1e-2, 10.0], eta_v=[1e-2, 10.0]),
                lam=dict(init=[2.0, 0.3], eta=[0.2, 3.0], lam=[0.01, 0.45]))

NO_CLAIM = -1


def band_mask(labels, k):
    """True where a pixel within Chebyshev distance ``k`` carries a different label."""
    lab = np.asarray(labels)
    ny, nx = lab.shape
    pad = np.pad(lab, k, mode="edge")
    out = np.zeros(lab.shape, bool)
    for dy in range(-k, k + 1):
        for dx in range(-k, k + 1):
            out |= pad[k + dy:k + dy + ny, k + dx:k + dx + nx] != lab
    return out


def agreement(converged, labels, band=2):
    """Compare a boolean map ``converged`` with predicted ``labels`` (1 converges, 0 does not,
    ``NO_CLAIM`` no prediction).  Returns ``{agreement, scored, band, disagreeing_in_band,
    per_label}`` (pixel counts; ``band``: claimed pixels inside the excluded band)."""
    conv = np.asarray(converged, bool)
    lab = np.asarray(labels)
    scored = (lab != NO_CLAIM) & ~band_mask(lab, int(band))
    ok = conv == (lab == 1)
    res = {"agreement": float(ok[scored].mean()) if scored.any() else float("nan"),
           "scored": int(scored.sum()), "band": int(((lab != NO_CLAIM) & ~scored).sum()),
           "disagreeing_in_band": int((~ok & (lab != NO_CLAIM) & ~scored).sum()),
           "per_label": {}}
    for v, name in ((1, "predicted_converges"), (0, "predicted_fails")):
        m = scored & (lab == v)
        res["per_label"][name] = {"pixels": int(m.sum()),
                                  "agreement": float(ok[m].mean()) if m.any() else float("nan")}
    return res


def _run(problem, ax, ay, s, init):
    from ..engine import hyper_map

    return hyper_map(problem, ax, ay, int(s["grid"]), init=np.asarray(init, float),
                     max_iter=int(s["iters"]), keep_params=True)


def scale_map(s, eta_scale=1.0):
    """(eta, init scale) map; ``eta_scale`` multiplies the predicted boundary (for tests)."""
    from ..engine import Axis
    from ..problems import ScalarFactorization
    from ..theory import hyper

    c, y = s["scale"], float(s["y"])
    ds = _run(ScalarFactorization(d=1, y=y), Axis("eta", *c["eta"]),
              Axis("init_scale", *c["s"], log=True), s, c["init"])
    E, S = np.meshgrid(ds.x.values, ds.y.values)
    lab = hyper.scale_converges(E / eta_scale, S, c["init"][0], c["init"][1], y).astype(int)
    return ds, lab


def steps_map(s, eta_scale=1.0):
    """(eta_u, eta_v) map on log axes; prediction from the conjugacy and Theorem 1."""
    from ..engine import Axis
    from ..problems import ScalarFactorization
    from ..theory import hyper

    c, y = s["steps"], float(s["y"])
    ds = _run(ScalarFactorization(d=1, y=y), Axis("eta_u", *c["eta_u"], log=True),
              Axis("eta_v", *c["eta_v"], log=True), s, c["init"])
    A, B = np.meshgrid(ds.x.values, ds.y.values)
    lab = hyper.two_steps_converges(A / eta_scale, B / eta_scale, c["init"][0], c["init"][1],
                                    y).astype(int)
    return ds, lab


def lam_map(s, eta_scale=1.0):
    """(eta, lam) map: labels 1 where Theorem 5 says 'converges', 0 where every minimizer is
    linearly unstable, ``NO_CLAIM`` elsewhere; also the closest-minimizer labels."""
    from ..engine import Axis
    from ..problems import ScalarFactorization
    from ..theory import hyper

    c, y = s["lam"], float(s["y"])
    ds = _run(ScalarFactorization(d=1, y=y), Axis("eta", *c["eta"]), Axis("lam", *c["lam"]), s,
              c["init"])
    E, L = np.meshgrid(ds.x.values, ds.y.values)
    adm, glob, close = hyper.lam_theorem5(E / eta_scale, L, c["init"][0], c["init"][1], y)
    unstable = E > eta_scale * hyper.minimizer_stability_limit(ds.y.values, y)[:, None]
    lab = np.full(E.shape, NO_CLAIM)
    lab[adm & glob] = 1
    lab[unstable] = 0
    closest = np.where(adm & close, 1, NO_CLAIM)
    closest[adm & ~close] = 0  # the boundary of the closest-minimizer claim (not scored)
    return ds, lab, closest


def _closest_agreement(ds, closest, init, y, band):
    """Among pixels of the closest-minimizer claim (off its band): the fraction that converged
    to ``p-(init)``."""
    from ..theory import scalar

    X = ds.params.values  # (ny, nx, 2)
    conv = ds.status.values == 1
    scored = (closest == 1) & ~band_mask(closest, band)
    hits = 0
    for j, lam in enumerate(ds.y.values):
        pu, pv = scalar.closest_minimizer(np.array(init[:1]), np.array(init[1:]), y, float(lam))
        near = np.hypot(X[j, :, 0] - pu[0], X[j, :, 1] - pv[0]) < 1e-3
        hits += int((scored[j] & conv[j] & near).sum())
    n = int(scored.sum())
    return {"pixels": n, "agreement": hits / n if n else float("nan")}


def _picture(ds, log_x, log_y):
    return ds[["status"]].assign_coords(
        x=np.log10(ds.x.values) if log_x else ds.x.values,
        y=np.log10(ds.y.values) if log_y else ds.y.values)


def _plot(ds, curves, log_x, log_y, xlabel, ylabel, title, path):
    from ..plotting import plot_basin, save_figure, use_style

    plt = use_style()
    fig, ax = plt.subplots(figsize=(5.4, 4.6))
    plot_basin(_picture(ds, log_x, log_y), ax=ax, xlabel=xlabel, ylabel=ylabel, title=title)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for xs, ys, style, label in curves:
        xs = np.log10(xs) if log_x else np.asarray(xs)
        with np.errstate(divide="ignore"):
            ys = np.log10(ys) if log_y else np.asarray(ys)
        ax.plot(xs, ys, style, lw=1.4, label=label)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    status = ax.get_legend()  # plot_basin's status patches, then the curves
    h = list(status.legend_handles) if status is not None else []
    lbl = [t.get_text() for t in status.get_texts()] if status is not None else []
    hc, lc = ax.get_legend_handles_labels()
    ax.legend(h + hc, lbl + lc, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2,
              fontsize=7, frameon=False)
    save_figure(fig, path)
    plt.close(fig)
    return path


def _scale_curves(s):
    from ..theory import hyper

    c, y = s["scale"], float(s["y"])
    e_end = min(c["eta"][1], 1.0 / abs(y)) if y else c["eta"][1]
    eta = np.linspace(c["eta"][0], e_end, 2000)
    sc = hyper.critical_scale(eta[:-1], c["init"][0], c["init"][1], y)
    xs = np.concatenate([eta[:-1], [e_end, e_end]])
    ys = np.concatenate([sc, [sc[-1], c["s"][0] * 1e-3]])
    return [(xs, ys, "k-", r"exact: $s^*(\eta)$ (Thm 1), $\eta=1/|y|$")]


def _steps_curves(s):
    from ..theory import hyper

    c, y = s["steps"], float(s["y"])
    a = np.geomspace(c["eta_u"][0], c["eta_u"][1], 2000)
    hi = hyper.eta_v_critical(a, c["init"][0], c["init"][1], y)
    return [(a, np.where(hi > 0, hi, np.nan), "k-", r"exact: (E2), $\eta_u\eta_v y^2=1$")]


def _lam_curves(s):
    from ..theory import hyper

    c, y = s["lam"], float(s["y"])
    eta = np.linspace(c["eta"][0], c["eta"][1], 2000)
    glob, close = hyper.lam_bound_curves(eta, c["init"][0], c["init"][1], y)
    amax = hyper.lam_admissible_max(eta, y)
    lam = np.linspace(c["lam"][0], c["lam"][1], 2000)
    lim = hyper.minimizer_stability_limit(lam, y)
    return [(eta, np.where(glob <= amax, glob, np.nan), "k-", r"Thm 5: $\eta=8/(4\lambda+Q)$"),
            (eta, np.where(close <= amax, close, np.nan), "k--", r"Thm 5: $\eta=4/(4\lambda+Q)$"),
            (eta, amax, "k:", "admissible: " + r"$\lambda<\min(1/\eta-|y|, 1/(2\eta))$"),
            (lim, lam, "r-.", "every minimizer unstable (beyond)")]


def mf_maps_item(s, out, progress=print):
    """The extras item ``mf_maps``: three maps with their exact boundaries and the agreement."""
    s = {**DEFAULTS, **s}
    t0 = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    y, band = float(s["y"]), int(s["band"])
    numbers = {"y": y, "grid": int(s["grid"]), "iters": int(s["iters"]), "band_pixels": band}
    images = []

    ds, lab = scale_map(s)
    a = agreement(ds.status.values == 1, lab, band)
    numbers["scale"] = {**s["scale"], **a, "converged_fraction": float((ds.status.values == 1).mean())}
    progress(f"  mf_maps (eta, s): agreement {a['agreement']:.4f} on {a['scored']} pixels")
    images.append(_plot(ds, _scale_curves(s), False, True, r"$\eta$", r"$\log_{10} s$",
                        f"$x_0 = s\\,({s['scale']['init'][0]:g}, {s['scale']['init'][1]:g})$, "
                        f"$y = {y:g}$", os.path.join(out, "mf_maps_eta_scale.png")))

    ds, lab = steps_map(s)
    a = agreement(ds.status.values == 1, lab, band)
    numbers["steps"] = {**s["steps"], **a, "converged_fraction": float((ds.status.values == 1).mean())}
    progress(f"  mf_maps (eta_u, eta_v): agreement {a['agreement']:.4f} on {a['scored']} pixels")
    images.append(_plot(ds, _steps_curves(s), True, True, r"$\log_{10}\eta_u$",
                        r"$\log_{10}\eta_v$",
                        f"$x_0 = ({s['steps']['init'][0]:g}, {s['steps']['init'][1]:g})$, "
                        f"$y = {y:g}$", os.path.join(out, "mf_maps_eta_u_eta_v.png")))

    ds, lab, closest = lam_map(s)
    conv = ds.status.values == 1
    a = agreement(conv, lab, band)
    free = lab == NO_CLAIM
    a["converged_fraction_where_no_claim"] = float(conv[free].mean()) if free.any() else None
    a["closest_minimizer"] = _closest_agreement(ds, closest, s["lam"]["init"], y, band)
    numbers["lam"] = {**s["lam"], **a, "converged_fraction": float(conv.mean())}
    progress(f"  mf_maps (eta, lam): agreement {a['agreement']:.4f} on {a['scored']} pixels; "
             f"closest minimizer {a['closest_minimizer']['agreement']:.4f}")
    images.append(_plot(ds, _lam_curves(s), False, False, r"$\eta$", r"$\lambda$",
                        f"$x_0 = ({s['lam']['init'][0]:g}, {s['lam']['init'][1]:g})$, "
                        f"$y = {y:g}$", os.path.join(out, "mf_maps_eta_lam.png")))
    numbers["seconds"] = time.perf_counter() - t0
    sc, st, la = numbers["scale"], numbers["steps"], numbers["lam"]
    text = (f"Scalar factorization (d = 1, y = {y:g}), GD, {numbers['grid']}^2 pixels, "
            f"{numbers['iters']} steps at most; agreement with the theory off a {band}-pixel band: "
            f"(eta, s) {sc['agreement']:.4f} (Theorem 1, exact), (eta_u, eta_v) "
            f"{st['agreement']:.4f} (Theorem 1 through the conjugacy "
            "u' = (eta_v/eta_u)^(1/4) u, v' = (eta_u/eta_v)^(1/4) v, common step "
            f"sqrt(eta_u eta_v); exact), (eta, lam) {la['agreement']:.4f} (Theorem 5, sufficient, "
            f"and linear instability of the minimizers); converged to the closest minimizer "
            f"where Theorem 5 says so: {la['closest_minimizer']['agreement']:.4f}.  Beyond "
            f"Theorem 5's bound (no claim) {100 * (la['converged_fraction_where_no_claim'] or 0):.0f}% "
            "of the pixels still converge: the bound is sufficient, not sharp.")
    return {"title": "Scalar factorization over hyperparameters: exact boundaries",
            "text": text, "images": images, "gifs": [], "numbers": numbers}
