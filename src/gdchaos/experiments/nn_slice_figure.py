"""Parameter-space slices of a depth-3 ReLU network (figures 5 and 13, with and without weight
decay): presets, the automatic zoom, the numbers, the computation (:mod:`gdchaos.nn.slices`) and
the maps.

MLP 3072-25-25-1, MSE, eta = 0.05, 3000 full-batch steps on 25 + 25 CIFAR-10 images; a random
2-D slice through the origin on [32, 42] x [16, 24] in slice coordinates, and a zoom on
[38.5, 39] x [18.5, 19].  Maps of the final loss and of the final sharpness; grey = diverged.
Converged when the loss falls below 5e-4 (the networks' rule ``loss_below_tol``), diverged
above 1e4.
"""

from __future__ import annotations

import numpy as np

from .runner import FigureData, FigureSpec

BASE = dict(dataset="auto", n_per_class=25, data_seed=0, seed=0, hidden=[25, 25], loss="mse",
            eta=0.05, weight_decay=1e-3, iters=3000, tol=5e-4, div=1e4, workers=1, refine=0)
PRESETS = {
    "paper": dict(BASE, grid=300, range=[32.0, 42.0, 16.0, 24.0], zoom_grid=300,
                  zoom_range=[38.5, 39.0, 18.5, 19.0]),
    "quick": dict(BASE, grid=64, range=[24.0, 42.0, 8.0, 30.0], zoom_grid=32,
                  zoom_range="auto"),
}
PRESETS["tiny"] = dict(PRESETS["quick"], hidden=[8, 8], grid=10, zoom_grid=6, iters=1500)
#: the digits stand-in (no CIFAR-10: :mod:`.nn_standin`): a window from the origin holds their
#: divergence boundary (about 34% converge, 61% diverge within a few steps, as on CIFAR-10's
#: window, so it costs about what CIFAR-10's does: a window nearer the origin, where nearly all
#: converge after about 1400 steps, costs 5-8 times more)
STANDIN = dict(range=[0.0, 28.0, 0.0, 28.0], zoom_range="auto")


def slice_settings(p, grid, rng):
    from ..nn import slice_preset

    return slice_preset(
        "paper", dataset=p["dataset"], n_per_class=int(p["n_per_class"]),
        data_seed=int(p["data_seed"]), seed=int(p["seed"]),
        hidden=tuple(int(h) for h in p["hidden"]), loss=p["loss"], eta=float(p["eta"]),
        weight_decay=float(p["weight_decay"]), iters=int(p["iters"]), tol=float(p["tol"]),
        div=float(p["div"]), grid=(int(grid), int(grid)), range=tuple(float(v) for v in rng),
        download=p["dataset"] == "cifar10", refine=int(p["refine"]) or None)


def auto_zoom(ds, frac=0.12):
    """A square window (``frac`` of the slice's width) centred on the converged pixel whose
    neighbourhood mixes outcomes most (ties: the first)."""
    from scipy.ndimage import uniform_filter

    st = np.asarray(ds.status)
    xs, ys = np.asarray(ds.x), np.asarray(ds.y)
    score = np.zeros(st.shape)
    for code in (1, 2, 0):
        f = uniform_filter((st == code).astype(float), size=5, mode="nearest")
        score += f * (1 - f)
    j, i = np.unravel_index(np.argmax(score), score.shape)
    h = frac * (xs[-1] - xs[0]) / 2
    return [float(xs[i] - h), float(xs[i] + h), float(ys[j] - h), float(ys[j] + h)]


def slice_numbers(ds, eta):
    """Outcome fractions and the spread of the final sharpness (converged points: the sharpness
    of the minimizer reached; all non-diverged points beside)."""
    from ..status import NN_CODES, status_fractions

    st = np.asarray(ds.status)
    conv = st == 1
    sh = np.asarray(ds.final_sharpness)
    lo = np.asarray(ds.final_loss)
    out = {"fractions": status_fractions(st, NN_CODES), "two_over_eta": 2.0 / eta}
    for tag, m in (("", conv & np.isfinite(sh)), ("all_non_diverged_", (st != 2) & np.isfinite(sh))):
        if not m.any():
            continue
        s = sh[m]
        out.update({f"{tag}sharpness_min": float(s.min()), f"{tag}sharpness_max": float(s.max()),
                    f"{tag}sharpness_5_95": [float(np.quantile(s, 0.05)),
                                             float(np.quantile(s, 0.95))],
                    f"{tag}fraction_below_2_over_eta": float(np.mean(s < 2.0 / eta)),
                    f"{tag}final_loss_range": [float(np.nanmin(lo[m])), float(np.nanmax(lo[m]))]})
    return out


def compute(p, out, progress, client=None, *, number=None, presets=None):
    from ..nn import run_slice
    from .nn_standin import choose_data

    standin = choose_data(number, p, STANDIN, presets or PRESETS)
    s = slice_settings(p, p["grid"], p["range"])
    res = run_slice(s, quiet=not progress, workers=int(p["workers"]), client=client)
    ds = res.dataset
    zr = auto_zoom(ds) if p["zoom_range"] == "auto" else list(map(float, p["zoom_range"]))
    p["zoom_range_used"] = zr
    zs = slice_settings(p, p["zoom_grid"], zr)
    zres = run_slice(zs, quiet=not progress, workers=int(p["workers"]), client=client)
    keep = ["status", "steps", "final_loss", "sq_norm", "final_sharpness"]
    refined = {}
    if s.refine is not None:  # the refined pixels' record and the measured error of the fill
        keep.append("computed")
        refined = {"refine": {"slice": res.summary["refine"], "zoom": zres.summary["refine"]}}
    numbers = {**standin, **refined, "slice": slice_numbers(ds, p["eta"]),
               "zoom": slice_numbers(zres.dataset, p["eta"]),
               "data_source": res.summary.get("data_source"),
               "network_steps": int(res.summary.get("network_steps", 0))
               + int(zres.summary.get("network_steps", 0))}
    return FigureData({"slice": ds[keep], "zoom": zres.dataset[keep]}, numbers)


def _map(ax, ds, var, eta, cmap, label, fig, colorbar=True, norm=None, clim=None):
    import matplotlib

    from ..plotting.style import DIVERGED_GREY
    from ..plotting.figures import extent_of

    st = np.asarray(ds.status)
    v = np.asarray(ds[var], dtype=float)
    bad = (st == 2) | ~np.isfinite(v)
    cm = matplotlib.colormaps[cmap].with_extremes(bad=DIVERGED_GREY)
    im = ax.imshow(np.ma.masked_where(bad, v), origin="lower", extent=extent_of(ds),
                   aspect="auto", cmap=cm, norm=norm)
    if clim is not None and norm is None:
        im.set_clim(*clim)
    if colorbar:
        cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03, label=label,
                          extend="max" if var == "final_sharpness" else "neither")
        if var == "final_sharpness":
            cb.ax.axhline(2 / eta, color="c", lw=1.5)
    return im


def plot(data, p):
    from matplotlib.colors import LogNorm

    from ..plotting import use_style

    plt = use_style()
    ds, zs = data.datasets["slice"], data.datasets["zoom"]
    eta = p["eta"]
    fig, axs = plt.subplots(1, 4, figsize=(16.0, 3.8))
    both = [(ds, "slice"), (zs, "zoom")]
    lo = np.concatenate([np.asarray(d.final_loss, float).ravel() for d, _ in both])
    st = np.concatenate([np.asarray(d.status).ravel() for d, _ in both])
    sh = np.concatenate([np.asarray(d.final_sharpness, float).ravel() for d, _ in both])
    ok = (st != 2) & np.isfinite(lo) & (lo > 0)
    norm = (LogNorm(vmin=max(lo[ok].min(), 1e-8), vmax=max(lo[ok].max(), 2 * max(lo[ok].min(), 1e-8)))
            if ok.any() else None)
    okk = (st != 2) & np.isfinite(sh)
    # up to 1.1 x 2/eta: sharper points (unfinished runs) saturate
    clim = (float(sh[okk].min()), 1.1 * 2 / eta) if okk.any() else None
    for col, (d, tag) in enumerate(both):
        _map(axs[col], d, "final_loss", eta, "RdBu_r", "final loss", fig, norm=norm)
        axs[col].set_title(f"final loss ({tag})")
        _map(axs[2 + col], d, "final_sharpness", eta, "viridis",
             r"final sharpness (cyan: $2/\eta$)", fig, clim=clim)
        axs[2 + col].set_title(f"final sharpness ({tag})")
    zr = p.get("zoom_range_used") or p["zoom_range"]
    for ax in (axs[0], axs[2]):
        ax.add_patch(plt.Rectangle((zr[0], zr[2]), zr[1] - zr[0], zr[3] - zr[2], fill=False,
                                   lw=0.9, ec="k"))
    for ax in axs:
        ax.set_xlabel("slice coordinate 1")
        ax.set_ylabel("slice coordinate 2")
    wd = p["weight_decay"]
    widths = ds.attrs.get("widths") or [3072, *p["hidden"], 1]  # 64 inputs for digits
    fig.suptitle(r"MLP %s, $\eta=%g$, weight decay %g, %d steps (grey: diverged)"
                 % ("-".join(str(int(h)) for h in widths), eta, wd, p["iters"]), y=1.02)
    fig.tight_layout()
    return fig


def make_spec(number, weight_decay, title, caption):
    presets = {k: dict(v, weight_decay=weight_decay) for k, v in PRESETS.items()}

    def compute_figure(p, out, progress, client=None):
        return compute(p, out, progress, client, number=number, presets=presets)

    return FigureSpec(
        number=number, title=title, caption=caption, presets=presets, compute=compute_figure,
        plot=plot,
        choices={"data": "CIFAR-10 classes 0 and 1, 25 images each (data_seed 0, among the first "
                         "1000 training images), downloaded on first use (docs/nn.md); "
                         "dataset=digits runs on scikit-learn's 8 x 8 digits instead; "
                         "dataset=auto (default) falls back to the digits, labelled as a "
                         "stand-in, when CIFAR-10 is not available (then range=0,28,0,28 and "
                         "zoom_range=auto)",
                 "slice": "two Gaussian directions of the full parameter space (torch generator, "
                          "seed 0), Gram-Schmidt; the paper's window belongs to its own random "
                          "directions, so the quick preset uses a wider window ([24,42]x[8,30]) "
                          "that holds the boundary for ours",
                 "zoom": "paper: [38.5,39]x[18.5,19]; quick: 'auto', a window of 12% of the "
                         "width centred where outcomes mix most",
                 "refine": "0 (default): every network trained; N: boundary-refined with N "
                           "levels, the networks trained where the status changes and the rest "
                           "filled, with the measured error of the fill (docs/maps.md)",
                 "loss": "mean over the 50 images of (f - y)^2 (PyTorch MSELoss)",
                 "weight_decay": "added to the gradient (not to the reported loss)"})
