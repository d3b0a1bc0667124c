"""Panels shared by the paper's figures."""

from __future__ import annotations

import numpy as np

from ._style import DIVERGED_GREY


def basin_panel(ax, ds, color=None, cmap="viridis", colorbar=True, cbar_label=None, clim=None,
                xlabel=None, ylabel=None):
    """Converged points coloured by ``color`` (a variable of ``ds``), the rest grey."""
    from matplotlib.colors import ListedColormap

    x, y = np.asarray(ds.x), np.asarray(ds.y)
    ext = [x[0], x[-1], y[0], y[-1]]
    st = np.asarray(ds.status)
    conv = st == 1
    ax.imshow(np.where(conv, np.nan, 1.0), origin="lower", extent=ext, aspect="auto",
              cmap=ListedColormap([DIVERGED_GREY]))
    val = np.where(conv, np.asarray(ds[color], dtype=float), np.nan)
    im = ax.imshow(val, origin="lower", extent=ext, aspect="auto", cmap=cmap)
    if clim is not None:
        im.set_clim(*clim)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=cbar_label or color, fraction=0.046, pad=0.03)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    return im
