"""Sohl-Dickstein (2024), "The boundary of neural network trainability is fractal": his six
two-hyperparameter experiments recomputed by our engine (the extras item ``trainability``;
docs/nn.md states every choice).

Setup (his notebook, ``Sohl-Dickstein/fractal``): one hidden layer of width 16, input dimension
16, no biases, mean-field parameterization ``f(x) = (1/16) W1 act(alpha0 W0 x)`` with ``alpha0 =
sqrt(2/16)`` (tanh, ReLU) or ``sqrt(1/16)`` (identity), weights and data ``N(0, 1)``, mean squared
error without 1/2, full-batch GD with one learning rate per layer; 272 data points (as many as
parameters), 16 for the identity network, 1 for "single data point"; minibatches of 16 drawn
with replacement, the same sequence for every pixel; trainable when the mean of the last 20
losses is below the first.  Conditions: ``tanh``, ``relu``, ``identity``, ``minibatch``,
``single_point`` (input against output learning rate) and ``offset`` (an offset added to the
input-layer weights against one learning rate for both layers).

For each map: its boundary's box-counting dimension with its interval (our estimator,
:func:`gdchaos.analysis.box_dimension`, on the pixels of :func:`window_boundary`) and his method
(:func:`gdchaos.analysis.local_slope_dimension` on the one frame).  Then a zoom into one
boundary (:func:`zoom_sequence`), as he zoomed by hand: each frame a constant factor narrower,
centred where the previous frame's boundary is densest, on a boundary point found by bisection
to the last bits of float64, every frame recomputed; his method pools the local slopes of all
frames, as he did.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from ..errors import GdchaosInputError

CONDITIONS = {
    "tanh": dict(settings=dict(activation="tanh")),
    "relu": dict(settings=dict(activation="relu")),
    "identity": dict(settings=dict(activation="identity", n_points=16)),
    "minibatch": dict(settings=dict(activation="tanh", batch_size=16, batch_seed=42)),
    "single_point": dict(settings=dict(activation="tanh", n_points=1)),
    "offset": dict(settings=dict(activation="tanh"), x="offset_in", y="eta"),
}
#: log10 windows ``(x0, x1, y0, y1)`` of the overview maps (chosen so that each holds its
#: boundary; his overview frames are not published)
WINDOWS = {"lr": (-1.0, 5.0, -1.0, 5.0), "offset": (-3.0, 1.0, -1.0, 5.0)}
#: the published range of the six dimensions (the paper's abstract-level summaries)
PUBLISHED_RANGE = (1.17, 1.98)
#: the per-condition dimensions as a later study cites the paper's Table 1 (a secondary source:
#: the paper itself was not readable in this workspace; docs/nn.md)
PUBLISHED = {"identity": 1.17, "relu": 1.20, "single_point": 1.41, "minibatch": 1.55,
             "tanh": 1.66, "offset": 1.98}

PRESETS = {
    "tiny": dict(grid=16, iters=49, conditions=["identity", "single_point"], zoom="single_point",
                 zoom_grid=16, frames=3, decades=2.0, zoom_iters=49, cond_frames=2,
                 cond_decades=2.0, refine=0),
    "quick": dict(grid=64, iters=199, conditions=list(CONDITIONS), zoom="tanh", zoom_grid=48,
                  frames=11, decades=10.0, zoom_iters=499, cond_frames=3, cond_decades=4.0,
                  refine=0),
    "paper": dict(grid=256, iters=499, conditions=list(CONDITIONS), zoom="tanh",
                  zoom_grid=128, frames=21, decades=10.0, zoom_iters=499, cond_frames=5,
                  cond_decades=8.0, refine=0),
}


def _condition(name, iters):
    """``(settings, x axis, y axis, overview window)`` of condition ``name`` with ``iters``."""
    from ..nn.maps import NetMapSettings

    c = CONDITIONS[name]
    xname = c.get("x", "eta_in")
    return (NetMapSettings(iters=int(iters), **c["settings"]), xname, c.get("y", "eta_out"),
            WINDOWS["offset" if xname == "offset_in" else "lr"])


def condition_map(name, grid, iters, window=None, store=None, progress=False, refine=None):
    """The map of condition ``name`` on ``window`` (log10 bounds; default :data:`WINDOWS`),
    boundary-refined with ``refine`` levels (0 or None: every pixel)."""
    from ..engine.hypermap import Axis
    from ..nn.maps import network_map

    s, xname, yname, overview = _condition(name, iters)
    w = window or overview
    ds = network_map(s, Axis(xname, 10.0 ** w[0], 10.0 ** w[1], log=True),
                     Axis(yname, 10.0 ** w[2], 10.0 ** w[3], log=True), grid, store=store,
                     overwrite=store is not None, progress=progress,
                     refine=frame_levels(refine, grid) or None)
    return ds, s


#: a refined frame keeps at least this many coarse cells per side
MIN_COARSE_CELLS = 32


def frame_levels(refine, grid):
    """The refinement levels for a frame of ``grid`` pixels: ``refine``, fewer where its coarse
    lattice would have under :data:`MIN_COARSE_CELLS` cells per side (0: every pixel).  A zoom
    frame's boundary is islands smaller than a coarse cell of a small frame, which the lattice
    misses (a 48-pixel frame at 4 levels has 3 cells per side), so small frames are computed in
    full."""
    if not refine:
        return 0
    n = int(np.min(grid))
    return max(0, min(int(refine), int(np.floor(np.log2(max(n, 1) / MIN_COARSE_CELLS)))))


def zoom_dimension(name, s):
    """His method on a short zoom into condition ``name``: ``s["cond_frames"]`` frames of
    ``s["zoom_grid"]`` pixels, each ``10^(cond_decades/(cond_frames-1))`` narrower, the overview
    frame left out of the pooled slopes (it sees the boundary's large-scale shape)."""
    from ..analysis import local_slope_dimension, window_boundary

    seq = zoom_sequence(name, s["zoom_grid"], s["iters"], _condition(name, s["iters"])[3],
                        s["cond_decades"], s["cond_frames"], refine=s.get("refine"))
    deep = [lab for _, lab in seq[1:]]
    px = [int(window_boundary(lab).sum()) for _, lab in seq]
    if not deep or min(px[1:]) == 0:
        return {"zoom_boundary_pixels": px, "his": None, "his_ci": None}
    r = local_slope_dimension(deep, sizes="dyadic", min_size=2)
    return {"zoom_boundary_pixels": px, "his": float(r.dimension),
            "his_ci": [float(v) for v in r.ci],
            "zoom_width_log10": float(np.log10(seq[-1][0][1] - seq[-1][0][0]))}


def boundary_dimensions(labels):
    """Our estimator on one map of labels (bool, trainable), and his method on it alone."""
    from ..analysis import box_dimension, local_slope_dimension, window_boundary

    edge = window_boundary(labels)
    out = {"boundary_pixels": int(edge.sum())}
    if edge.sum() < 8:
        return dict(out, ours=None, ours_ci=None, his_overview=None)
    try:
        bc = box_dimension(edge)
        out.update(ours=float(bc.dimension), ours_ci=[float(v) for v in bc.ci])
    except GdchaosInputError as exc:  # too small a map for a fit window: say so
        out.update(ours=None, ours_ci=None, ours_note=str(exc))
    try:
        ls = local_slope_dimension([labels])
        out["his_overview"] = float(ls.dimension)
    except GdchaosInputError as exc:  # too small a map for his box sizes: say so
        out["his_overview"], out["his_note"] = None, str(exc)
    return out


def find_boundary_point(name, iters, a, b, bits=60):
    """A boundary point on the segment from ``a`` to ``b`` (log10 coordinates; labels must
    differ at the ends), by bisection until the two ends are adjacent float64 numbers (or
    ``bits`` halvings); ``None`` if the labels at the ends agree."""
    from ..engine.hypermap import run_optimizer

    s, xname, yname, _ = _condition(name, iters)
    p = s.problem()
    x0 = p.init(s.init_seed, s.init_scheme)
    opt = s.optimizer_obj()

    def label(pt):
        """Trainable or not at ``(10^pt[0], 10^pt[1])`` (one network)."""
        X0 = x0[None].copy()
        hyper = {}
        for axis, v in ((xname, 10.0 ** pt[0]), (yname, 10.0 ** pt[1])):
            if axis.startswith("offset_"):
                X0[0, p.param_groups[axis[len("offset_"):]]] += v
            else:
                hyper[axis] = np.array([v])
        res = run_optimizer(p, X0, opt, hyper=hyper, max_iter=iters, tol=s.tol,
                            div_threshold=s.div, gtol=0.0, backend="torch", window=s.window)
        return bool(res["score"][0] < 1.0)

    a, b = np.asarray(a, float), np.asarray(b, float)
    la = label(a)
    if la == label(b):
        return None
    for _ in range(int(bits)):
        m = 0.5 * (a + b)
        if np.array_equal(m, a) or np.array_equal(m, b):
            break
        if label(m) == la:
            a = m
        else:
            b = m
    return 0.5 * (a + b)


def densest_boundary_pair(labels, xs, ys, span):
    """Where the boundary of ``labels`` (rows ``ys``, columns ``xs``) is densest in a window
    ``span`` pixels wide (centres restricted to the middle half of the map): two adjacent
    pixels of different labels there, as their coordinates ``(a, b)``; ``None`` without a
    boundary."""
    from ..analysis import window_boundary

    edge = window_boundary(labels).astype(float)
    if not edge.any():
        return None
    n0, n1 = edge.shape
    span = max(1, min(int(span), n0, n1))
    c = np.pad(np.cumsum(np.cumsum(edge, 0), 1), ((1, 0), (1, 0)))
    dens = c[span:, span:] - c[:-span, span:] - c[span:, :-span] + c[:-span, :-span]
    mid = _middle(dens)
    i0, j0 = np.unravel_index(np.argmax(mid), mid.shape)
    i0 += dens.shape[0] // 4
    j0 += dens.shape[1] // 4
    ci, cj = i0 + span // 2, j0 + span // 2
    ii, jj = np.nonzero(edge)
    k = np.argmin((ii - ci) ** 2 + (jj - cj) ** 2)
    i, j = ii[k], jj[k]
    for di, dj in ((0, 1), (1, 0), (1, 1)):
        if labels[i, j] != labels[i + di, j + dj]:
            return (xs[j], ys[i]), (xs[j + dj], ys[i + di])
    return (xs[j + 1], ys[i]), (xs[j], ys[i + 1])


def _middle(a):
    n0, n1 = a.shape
    return a[n0 // 4: n0 - n0 // 4 or None, n1 // 4: n1 - n1 // 4 or None]


def zoom_sequence(name, grid, iters, window, decades, frames, refine=None):
    """A zoom into the boundary of condition ``name``, as one zooms by hand: each frame a factor
    ``f = 10^(decades/(frames-1))`` narrower than the last, centred on a boundary point (found by
    bisection to float64 resolution) where the previous frame's boundary is densest (in a
    window as wide as the next frame).  Starts from ``window`` (log10 bounds).  Returns
    ``[(window, labels), ...]``."""
    f = 10.0 ** (float(decades) / max(int(frames) - 1, 1))
    w = tuple(float(v) for v in window)
    out = []
    for k in range(int(frames)):
        ds, _ = condition_map(name, grid, iters, window=w, refine=refine)
        lab = np.asarray(ds["trainable"].values, dtype=bool)
        out.append((w, lab))
        if k == int(frames) - 1:
            break
        pair = densest_boundary_pair(lab, np.log10(ds.x.values), np.log10(ds.y.values),
                                     grid / f)
        if pair is None:
            break
        centre = find_boundary_point(name, iters, *pair)
        if centre is None:  # the pixels' labels are those of the map: cannot happen
            break
        hx, hy = 0.5 * (w[1] - w[0]) / f, 0.5 * (w[3] - w[2]) / f
        w = (centre[0] - hx, centre[0] + hx, centre[1] - hy, centre[1] + hy)
    return out


def trainability_item(s, out, progress=print):
    """The extras item: the six maps, their dimensions, the zoom, one figure set and a table."""
    from ..nn.maps import plot_network_map
    from ..plotting import use_style

    t0 = time.perf_counter()
    os.makedirs(out, exist_ok=True)
    plt = use_style()
    conds = list(s["conditions"])
    rows, maps = [], {}
    for name in conds:
        progress(f"  trainability: {name} ({s['grid']}^2, {s['iters'] + 1} losses)")
        ds, _ = condition_map(name, s["grid"], s["iters"], refine=s.get("refine"))
        maps[name] = ds
        lab = np.asarray(ds["trainable"].values, dtype=bool)
        rows.append(dict(condition=name, trainable=float(lab.mean()),
                         **boundary_dimensions(lab), **zoom_dimension(name, s)))
    ncol = min(3, len(conds))
    nrow = -(-len(conds) // ncol)
    fig, axs = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.8 * nrow), squeeze=False)
    for ax, name in zip(axs.ravel(), conds):
        plot_network_map(maps[name], None, ax=ax, title=name)
    for ax in axs.ravel()[len(conds):]:
        ax.axis("off")
    fig.tight_layout()
    png = os.path.join(out, "trainability_maps.png")
    fig.savefig(png)
    plt.close(fig)
    zoom = _zoom(s, out, plt, progress)
    table = _table(rows, zoom)
    with open(os.path.join(out, "trainability_table.md"), "w") as f:
        f.write(table)
    numbers = {"conditions": rows, "zoom": {k: v for k, v in zoom.items() if k != "png"},
               "published_range": list(PUBLISHED_RANGE), "published": dict(PUBLISHED),
               "settings": s,
               "seconds": time.perf_counter() - t0}
    with open(os.path.join(out, "trainability.json"), "w") as f:
        json.dump(numbers, f, indent=1, default=float)
    text = ("Sohl-Dickstein (2024)'s six experiments (width-16 tanh/ReLU/identity networks, "
            "mean-field, learning rates of the two layers), recomputed: blue trainable, red not. "
            + table.replace("\n", " "))
    return {"title": "The boundary of neural network trainability (Sohl-Dickstein 2024)",
            "text": text, "images": [png, zoom["png"]], "gifs": [], "numbers": numbers}


def _zoom(s, out, plt, progress):
    from ..analysis import local_slope_dimension, window_boundary

    name = s["zoom"]
    w = _condition(name, s["zoom_iters"])[3]
    progress(f"  trainability: zoom into {name}, {s['decades']:g} decades in {s['frames']} "
             "frames")
    seq = zoom_sequence(name, s["zoom_grid"], s["zoom_iters"], w, s["decades"], s["frames"],
                        refine=s.get("refine"))
    frames = [lab for _, lab in seq]
    edges = [int(window_boundary(f).sum()) for f in frames]
    his = None  # his method on the zoom frames (the overview left out, as per condition)
    if len(frames) > 1 and min(edges[1:]) > 0:
        his = local_slope_dimension(frames[1:], sizes="dyadic", min_size=2)
    k = len(seq)
    ncol = min(k, 6)
    nrow = -(-k // ncol)
    fig, axs = plt.subplots(nrow, ncol, figsize=(2.0 * ncol, 2.2 * nrow), squeeze=False)
    for ax, (win, lab) in zip(axs.ravel(), seq):
        ax.imshow(np.where(lab, 1.0, -1.0), cmap="Spectral", vmin=-1.5, vmax=1.5,
                  origin="lower", interpolation="nearest")
        ax.set_title(f"{win[1] - win[0]:.0e} decades wide", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axs.ravel()[k:]:
        ax.axis("off")
    fig.tight_layout()
    png = os.path.join(out, "trainability_zoom.png")
    fig.savefig(png)
    plt.close(fig)
    last = seq[-1][0]
    return {"condition": name, "final_window_log10": [float(v) for v in last],
            "decades": float(np.log10((w[1] - w[0]) / (last[1] - last[0]))), "frames": k,
            "boundary_pixels": edges,
            "his_dimension": None if his is None else float(his.dimension),
            "his_ci": None if his is None else [float(v) for v in his.ci], "png": png}


def _fmt(v, ci=None):
    if v is None:
        return "-"
    return f"{v:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")


def _table(rows, zoom):
    lines = ["| condition | trainable | ours, overview (box counting, 95%) | his method, zoom "
             "frames (95%) | published (Table 1, as cited) | boundary px of the zoom frames |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['condition']} | {r['trainable']:.3f} | "
                     f"{_fmt(r.get('ours'), r.get('ours_ci'))} | "
                     f"{_fmt(r.get('his'), r.get('his_ci'))} | "
                     f"{_fmt(PUBLISHED.get(r['condition']))} | "
                     f"{', '.join(map(str, r.get('zoom_boundary_pixels', [])))} |")
    lines.append("")
    lines.append(f"Published (Sohl-Dickstein 2024): six dimensions between {PUBLISHED_RANGE[0]} "
                 f"and {PUBLISHED_RANGE[1]}; the per-condition values as a later study cites his "
                 "Table 1 (secondary source).")
    if zoom.get("his_dimension") is not None:
        lines.append(f"Zoom into {zoom['condition']} over {zoom['decades']:.1f} decades "
                     f"({zoom['frames']} frames, boundary pixels per frame "
                     f"{', '.join(map(str, zoom['boundary_pixels']))}): his method "
                     f"{_fmt(zoom['his_dimension'], zoom['his_ci'])}.")
    return "\n".join(lines) + "\n"
