"""Step-size sweeps of a depth-3 ReLU network (figures 4 and 12, MSE and cross-entropy): presets,
the regime split, the computation (:mod:`gdchaos.nn.sweep`) and the plot.

MLP 3072-100-100-1 (PyTorch's default initialization, one fixed seed), 25 training images of
each of classes 0 and 1, 5000 full-batch steps; without momentum over [0.01, 0.15] and with
Polyak momentum 0.9 over [0.005, 0.07].  Final parameter norm (``sqrt`` of the stored
``sq_norm``) and final sharpness against eta, with 2/eta and (2 + 2 beta)/eta.
"""

from __future__ import annotations

import numpy as np

from ..engine.optim import stability_threshold
from .runner import FigureData, FigureSpec

PRESETS = {
    "paper": dict(dataset="auto", n_per_class=25, data_seed=0, seed=0, hidden=[100, 100],
                  loss="mse", momentum=0.9, eta_gd=[0.01, 0.15], eta_momentum=[0.005, 0.07],
                  n_eta=500, iters=5000, tol=1e-6, div=1e4, workers=1),
    "quick": dict(dataset="auto", n_per_class=25, data_seed=0, seed=0, hidden=[100, 100],
                  loss="mse", momentum=0.9, eta_gd=[0.01, 0.15], eta_momentum=[0.005, 0.07],
                  n_eta=64, iters=5000, tol=1e-6, div=1e4, workers=1),
}
PRESETS["tiny"] = dict(PRESETS["quick"], hidden=[16, 16], n_eta=8, iters=2000)
#: the digits stand-in (no CIFAR-10: :mod:`.nn_standin`), per loss: their sharpness is lower, so
#: larger step sizes show the two regimes (MSE: chaotic above eta ~ 0.36 without momentum, ~ 0.33
#: with; cross-entropy: above ~ 1.1 without momentum, with it the preset's range shows both)
STANDIN = {"mse": dict(eta_gd=[0.1, 1.2], eta_momentum=[0.02, 0.7], tol=1e-4),
           "ce": dict(eta_gd=[0.1, 2.0])}


def sweep_settings(p):
    from ..nn import sweep_preset

    return sweep_preset(
        "paper", dataset=p["dataset"], n_per_class=int(p["n_per_class"]),
        data_seed=int(p["data_seed"]), seed=int(p["seed"]),
        hidden=tuple(int(h) for h in p["hidden"]), loss=p["loss"],
        momenta=(0.0, float(p["momentum"])),
        eta_ranges=(tuple(map(float, p["eta_gd"])), tuple(map(float, p["eta_momentum"]))),
        n_eta=int(p["n_eta"]), iters=int(p["iters"]), tol=float(p["tol"]), div=float(p["div"]),
        sharpness_every=0, download=p["dataset"] == "cifar10")


def regimes(eta, status, sharp, norm, beta, window=5, factor=5.0):
    """Split a sweep into its two regimes and describe each.

    Roughness of the final norm between neighbouring step sizes, ``|log n_{i+1} - log n_i|``
    (converged runs); the split is the first step size from which the running median (over
    ``window`` neighbours) exceeds ``factor`` times the median roughness of the smallest
    quarter of step sizes.  Per regime: median and spread (5-95 % range) of the final sharpness
    relative to the stability limit ``(2 + 2 beta)/eta``, and the median roughness.
    """
    eta = np.asarray(eta, float)
    ok = (np.asarray(status) == 1) & np.isfinite(sharp) & np.isfinite(norm) & (np.asarray(norm) > 0)
    out = {"momentum": float(beta), "n": int(eta.size), "converged": int(ok.sum()),
           "diverged": int(np.sum(np.asarray(status) == 2)),
           "not_converged": int(np.sum(np.asarray(status) == 0))}
    e, s, n = eta[ok], np.asarray(sharp)[ok], np.asarray(norm)[ok]
    ratio = s * e / stability_threshold("heavy_ball", beta)
    if ok.any():
        out["max_sharpness_over_limit"] = float(ratio.max())
    if ok.sum() < 2 * window:
        out["split_eta"] = None
        return out
    rough = np.abs(np.diff(np.log(n)))
    base = np.median(rough[: max(window, rough.size // 4)])
    run = np.array([np.median(rough[max(0, i - window // 2): i + window // 2 + 1])
                    for i in range(rough.size)])
    above = np.nonzero(run > factor * max(base, 1e-12))[0]
    split = float(e[above[0]]) if above.size else None
    out["split_eta"] = split
    out["base_roughness"] = float(base)
    for name, m in (("small", e < split if split else np.ones(e.size, bool)),
                    ("large", e >= split if split else np.zeros(e.size, bool))):
        if m.sum() == 0:
            out[name] = None
            continue
        r = ratio[m]
        rr = rough[m[:-1]] if m[:-1].any() else np.array([np.nan])
        out[name] = {"eta_range": [float(e[m].min()), float(e[m].max())], "runs": int(m.sum()),
                     "sharpness_over_limit_median": float(np.median(r)),
                     "sharpness_over_limit_5_95": [float(np.quantile(r, 0.05)),
                                                   float(np.quantile(r, 0.95))],
                     "norm_roughness_median": float(np.nanmedian(rr))}
    return out


def compute(p, out, progress, client=None, *, number=None, presets=None):
    from ..nn import run_sweep
    from .nn_standin import choose_data

    standin = choose_data(number, p, STANDIN[p["loss"]], presets or PRESETS)
    s = sweep_settings(p)
    res = run_sweep(s, quiet=not progress, workers=int(p["workers"]), client=client)
    ds = res.dataset
    numbers = {**standin, "network_steps": res.summary.get("network_steps"),
               "fractions": res.summary.get("fractions"),
               "data_source": res.summary.get("data_source")}
    for a, beta in enumerate(np.atleast_1d(ds["momentum"].values)):
        key = "GD" if beta == 0 else f"momentum {beta:g}"
        numbers[key] = regimes(ds["eta"].values[a], ds["status"].values[a],
                               ds["final_sharpness"].values[a],
                               np.sqrt(ds["sq_norm"].values[a]), beta)
    keep = [v for v in ("status", "steps", "final_loss", "sq_norm", "final_sharpness", "eta",
                        "momentum") if v in ds]
    return FigureData({"sweep": ds[keep]}, numbers)


def plot(data, p):
    from ..plotting import use_style
    from ..plotting.style import STATUS_COLORS

    plt = use_style()
    ds = data.datasets["sweep"]
    mom = np.atleast_1d(ds["momentum"].values)
    fig, axs = plt.subplots(1, 2 * len(mom), figsize=(3.6 * 2 * len(mom), 3.6))
    k = 0
    for a, beta in enumerate(mom):
        eta = ds["eta"].values[a]
        st = ds["status"].values[a]
        name = "GD" if beta == 0 else r"Polyak momentum $\beta=%g$" % beta
        reg = data.numbers.get("GD" if beta == 0 else f"momentum {beta:g}", {})
        for var, ylabel in (("sq_norm", "final parameter norm"),
                            ("final_sharpness", "final sharpness")):
            ax = axs[k]
            k += 1
            v = ds[var].values[a]
            if var == "sq_norm":  # drawn as the norm, as in the paper
                v = np.sqrt(v)
            for code, label, mk in ((1, "global minimum (converged)", "o"),
                                    (0, "not converged", "s")):
                m = (st == code) & np.isfinite(v)
                if m.any():
                    ax.scatter(eta[m], v[m], s=6, lw=0, marker=mk, color=STATUS_COLORS[code],
                               label=label, zorder=3)
            dv = st == 2
            if dv.any():
                ax.scatter(eta[dv], np.zeros(dv.sum()), s=9, marker="x", lw=0.7, color="0.5",
                           label="diverged", transform=ax.get_xaxis_transform(), clip_on=False)
            if var == "final_sharpness":
                e = np.linspace(eta.min(), eta.max(), 400)
                ax.plot(e, 2 / e, "k--", lw=1, label=r"$2/\eta$")
                if beta:
                    ax.plot(e, stability_threshold("heavy_ball", beta) / e, "k:", lw=1.2, label=r"$(2+2\beta)/\eta$")
                fin = v[np.isfinite(v)]
                top = max(fin.max() if fin.size else 1.0, stability_threshold("heavy_ball", beta) / eta.max())
                ax.set_ylim(0, 1.15 * min(top, stability_threshold("heavy_ball", beta) / eta.min()))
            else:  # the 2-98% range of the runs that did not diverge (rare outliers leave it)
                fin = v[np.isfinite(v) & (st != 2)]
                if fin.size:
                    lo, hi = np.quantile(fin, [0.02, 0.98])
                    pad = 0.08 * max(hi - lo, 1e-3 * hi)
                    ax.set_ylim(lo - pad, hi + pad)
            if reg.get("split_eta"):
                ax.axvline(reg["split_eta"], color="#d62728", lw=0.8, ls="-.",
                           label="regime split (norm roughness)")
            ax.set_xlabel(r"step size $\eta$")
            ax.set_ylabel(ylabel)
            ax.set_title(name, fontsize=10)
            ax.legend(fontsize=6.5, loc="best", markerscale=1.5, framealpha=0.85)
    fig.tight_layout()
    return fig


def make_spec(number, loss, tol, title, caption):
    presets = {k: dict(v, loss=loss, tol=tol) for k, v in PRESETS.items()}

    def compute_figure(p, out, progress, client=None):
        return compute(p, out, progress, client, number=number, presets=presets)

    return FigureSpec(
        number=number, title=title, caption=caption, presets=presets, compute=compute_figure,
        plot=plot,
        choices={"data": "CIFAR-10 classes 0 and 1, 25 images each drawn with data_seed 0 among "
                         "the first 1000 training images (the offline .npz holds exactly those); "
                         "downloaded on first use (docs/nn.md); dataset=digits runs on "
                         "scikit-learn's 8 x 8 digits instead; dataset=auto (default) falls back "
                         "to the digits, labelled as a stand-in, when CIFAR-10 is not available"
                         + ("" if not STANDIN[loss] else " (then " + ", ".join(
                             f"{k}={v}" for k, v in STANDIN[loss].items()) + ")"),
                 "init": "PyTorch's default nn.Linear initialization, seed 0, float64",
                 "loss": {"mse": "mean over the 50 images of (f - y)^2 (PyTorch MSELoss: no 1/2)",
                          "ce": "BCEWithLogitsLoss (mean over images)"}[loss],
                 "sharpness": "top Hessian eigenvalue of the training loss (Lanczos) at the end",
                 "regime_split": "beyond the paper: first step size where the running median of "
                                 "|log norm_{i+1} - log norm_i| exceeds 5x that of the smallest "
                                 "quarter"})

