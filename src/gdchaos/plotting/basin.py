"""Maps of batched-run results over a 2-D slice."""

from __future__ import annotations

import os

import numpy as np

from ..status import STATUS_NAMES
from .style import DIVERGED_GREY, STATUS_COLORS, use_style


def save_figure(fig, path, pdf=False):
    """Save ``fig`` to ``path``; with ``pdf=True`` also to the same name with ``.pdf``.

    Returns the list of paths written."""
    path = os.fspath(path)
    fig.savefig(path)
    out = [path]
    if pdf:
        twin = os.path.splitext(path)[0] + ".pdf"
        fig.savefig(twin)
        out.append(twin)
    return out


def plot_basin(ds, color=None, ax=None, title=None, xlabel=None, ylabel=None, cmap="viridis",
               colorbar_label=None):
    """Plot a basin dataset: the status map, or variable ``color`` over converged points with
    diverged points grey (the paper's convention)."""
    plt = use_style()
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    if ax is None:
        fig, ax = plt.subplots(figsize=(5.0, 4.2))
    else:
        fig = ax.figure
    x = np.asarray(ds["x"])
    y = np.asarray(ds["y"])
    extent = [x[0], x[-1], y[0], y[-1]]
    status = np.asarray(ds["status"])
    if color is None:
        codes = sorted(c for c in np.unique(status))
        cm = ListedColormap([STATUS_COLORS.get(int(c), "#000000") for c in codes])
        lut = {int(c): i for i, c in enumerate(codes)}
        img = np.vectorize(lut.get)(status) if status.size else status
        ax.imshow(img, origin="lower", extent=extent, cmap=cm, vmin=-0.5,
                  vmax=len(codes) - 0.5, aspect="auto")
        handles = [Patch(color=STATUS_COLORS.get(int(c), "#000"),
                         label=STATUS_NAMES.get(int(c), "not run")) for c in codes]
        ax.legend(handles=handles, loc="upper right", framealpha=0.9)
    else:
        val = np.asarray(ds[color], dtype=float)
        grey = np.where(status == 1, np.nan, 1.0)
        ax.imshow(grey, origin="lower", extent=extent, cmap=ListedColormap([DIVERGED_GREY]),
                  aspect="auto")
        masked = np.where(status == 1, val, np.nan)
        im = ax.imshow(masked, origin="lower", extent=extent, cmap=cmap, aspect="auto")
        fig.colorbar(im, ax=ax, label=colorbar_label or color)
    ax.set_xlabel(xlabel or "slice coordinate 1")
    ax.set_ylabel(ylabel or "slice coordinate 2")
    if title:
        ax.set_title(title)
    return fig, ax
