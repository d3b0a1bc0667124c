"""Maps of batched-run results over a 2-D slice."""

from __future__ import annotations

import os


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
    the others grey (the paper's convention).  Returns ``(fig, ax)``.  :func:`gdchaos.plot`
    draws it (axis labels from the coordinates unless given; no title unless given)."""
    from .api import plot

    ax = plot(ds, "status" if color is None else color, ax, title=title or "", xlabel=xlabel,
              ylabel=ylabel, cmap=cmap, label=colorbar_label,
              others=None if color is None else "grey")
    return ax.figure, ax
