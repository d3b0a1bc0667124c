"""Panels and marks shared by the paper's figures.

Conventions: images are ``imshow`` with ``origin="lower"`` over the grid's extent; converged
points are coloured, the others grey (figures 1, 5, 13) or left white (figures 8-11, where the
caption says "uncolored").  Marks: the boundary of D0 (black), the minimizers (green), the
saddle's basin (purple / red lines).
"""

from __future__ import annotations

import numpy as np

from .style import DIVERGED_GREY

#: colours shared across figures
MINIMIZER_GREEN = "#2ca02c"
D0_BLACK = "k"
SADDLE_PURPLE = "#7b3294"
UNSTABLE_BLUE = "#1f77b4"
REGION_BLUE = "#6baed6"
WANG_RED = "#d62728"
BRANCH_COLORS = ("#2ca02c", "#d62728", "#1f77b4")  # G0, G1, G2 (green, red, blue as in fig. 3)


def extent_of(ds):
    x, y = np.asarray(ds.x), np.asarray(ds.y)
    return [float(x[0]), float(x[-1]), float(y[0]), float(y[-1])]


def basin_panel(ax, ds, color=None, cmap="viridis", colorbar=True, cbar_label=None, clim=None,
                xlabel=None, ylabel=None, other="grey", values=None):
    """Converged points coloured by ``color`` (a variable of ``ds``) or by ``values`` (an array
    on the grid); the rest grey (``other="grey"``) or left white (``other="white"``)."""
    from matplotlib.colors import ListedColormap

    ext = extent_of(ds)
    st = np.asarray(ds.status)
    conv = st == 1
    if other == "grey":
        ax.imshow(np.where(conv, np.nan, 1.0), origin="lower", extent=ext, aspect="auto",
                  cmap=ListedColormap([DIVERGED_GREY]))
    val = np.asarray(ds[color] if values is None else values, dtype=float)
    val = np.where(conv, val, np.nan)
    im = ax.imshow(val, origin="lower", extent=ext, aspect="auto", cmap=cmap)
    if clim is not None:
        im.set_clim(*clim)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=cbar_label or color, fraction=0.046, pad=0.03)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.set_xlim(ext[:2])
    ax.set_ylim(ext[2:])
    return im


def mask_panel(ax, mask, extent, color, alpha=1.0, zorder=None):
    """Paint the true pixels of a boolean mask in one colour (the rest transparent)."""
    from matplotlib.colors import ListedColormap

    kw = {} if zorder is None else {"zorder": zorder}
    return ax.imshow(np.where(np.asarray(mask, bool), 1.0, np.nan), origin="lower", extent=extent,
                     aspect="auto", cmap=ListedColormap([color]), alpha=alpha,
                     interpolation="nearest", **kw)


def uv_grid(xrange, yrange, n):
    us = np.linspace(xrange[0], xrange[1], int(n))
    vs = np.linspace(yrange[0], yrange[1], int(n))
    U, V = np.meshgrid(us, vs)
    return us, vs, U, V


def q_grid(U, V, y):
    """``Q(u, v)`` of Theorem 1 for d = 1 on a grid."""
    from ..theory import scalar as th

    return th.q_value(np.asarray(U)[..., None], np.asarray(V)[..., None], y)


def d0_boundary(ax, y, eta, xlim, ylim, lam=0.0, n=801, label=r"boundary of $D_0$", **kw):
    """The ellipse ``{Q = 8/eta - 4 lam}`` (d = 1): for lam = 0 the boundary of D0 (Theorem 1),
    for lam > 0 the level ``eta = 8/(4 lam + Q)`` of Theorem 4."""
    us, vs, U, V = uv_grid(xlim, ylim, n)
    Q = q_grid(U, V, y)
    level = 8.0 / eta - 4.0 * lam
    style = dict(colors=D0_BLACK, linewidths=1.1)
    style.update(kw)
    cs = ax.contour(us, vs, Q, levels=[level], **style)
    if label:
        ax.plot([], [], color=style["colors"], lw=style["linewidths"], label=label)
    return cs


def minimizers_mark(ax, y, lam, xlim, label=r"global minimizers", **kw):
    """Global minimizers of d = 1 scalar factorization: the hyperbola ``uv = y`` (lam = 0), the
    two points ``+-sqrt(|y| - lam) (1, sign y)`` (0 < lam < |y|) or the origin."""
    style = dict(color=MINIMIZER_GREEN, lw=1.0)
    style.update(kw)
    if lam == 0:
        t = np.geomspace(abs(y) / max(abs(xlim[0]), abs(xlim[1]), 1e-9) * 0.999, 1e3, 600)
        for s in (1.0, -1.0):
            uu = s * t
            ax.plot(uu, y / uu, label=label if s > 0 else None, **style)
        return
    from ..theory import scalar as th

    m = th.minimizer_set(y, lam)
    r = np.sqrt(m.radius_sq)
    pts = np.array([[r, m.sign * r], [-r, -m.sign * r]])
    ax.plot(pts[:, 0], pts[:, 1], "o", color=style["color"], mec="k", mew=0.5, ms=5, label=label)


def set_box(ax, xlim, ylim, xlabel=r"$u$", ylabel=r"$v$", equal=True):
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if equal:
        ax.set_aspect("equal")


def zero_lines(ax, xs, ys, field, color, lw=0.9, label=None, zorder=3):
    """The zero level set of ``field`` (NaN = masked out) drawn as lines."""
    f = np.asarray(field, dtype=float)
    if not np.any(np.isfinite(f)) or np.nanmin(f) > 0 or np.nanmax(f) < 0:
        cs = None
    else:
        cs = ax.contour(xs, ys, np.ma.masked_invalid(f), levels=[0.0], colors=color,
                        linewidths=lw, zorder=zorder)
    if label:
        ax.plot([], [], color=color, lw=lw, label=label)
    return cs


def histogram_panel(ax, values, bins, xlabel, color="#4c78a8", marks=(), log=False, title=None):
    """A histogram of finite ``values`` with vertical dashed marks ``[(x, label), ...]``."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    ax.hist(v, bins=bins, color=color, edgecolor="none")
    for x, lab in marks:
        ax.axvline(x, color="k", ls="--", lw=0.9, label=lab)
    if marks and any(lab for _, lab in marks):
        ax.legend(loc="upper right", fontsize=8)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    if title:
        ax.set_title(title)


def legend_patches(ax, items, loc="upper right", **kw):
    """A legend from ``[(colour, label), ...]`` patches (plus any labelled artists)."""
    from matplotlib.patches import Patch

    handles, labels = ax.get_legend_handles_labels()
    for c, lab in items:
        handles.append(Patch(facecolor=c, edgecolor="none", label=lab))
        labels.append(lab)
    return ax.legend(handles, labels, loc=loc, framealpha=0.9, **kw)
