"""The page's "export PNG": the displayed map as a labelled figure (matplotlib, through
:func:`gdchaos.plotting.plot`): axes named (in double-double mode as offsets from the stated
anchor), the colouring's legend or colour bar, every parameter in the title and the command
that reproduces the map in the caption.  Built in memory; nothing is written to disk."""

from __future__ import annotations

import io
import textwrap

import numpy as np

from ._legend import CATEGORIES, UNITS, long_name
from ._state import make_problem


def axis_labels(st, problem=None):
    """The map's axis labels: the problem's (``z = u.v - y``, ...), in dd mode
    ``offset from z0 = hi + lo``."""
    problem = problem if problem is not None else make_problem(st)
    names = tuple(problem.axis_labels or ("slice x", "slice y"))
    if st.precision != "dd":
        return names[0] or "slice x", names[1] or "slice y"
    short = [n.split("=")[0].strip() or d for n, d in zip(names, ("x", "y"))]
    return (f"{short[0]} - {short[0]}0, offset from {short[0]}0 = {st.az!r} + {st.az_lo!r}",
            f"{short[1]} - {short[1]}0, offset from {short[1]}0 = {st.aw!r} + {st.aw_lo!r}")


def dataset(view):
    """The view's map as an xarray Dataset with the attributes gdchaos.plotting reads."""
    import xarray as xr

    st = view.state
    problem = make_problem(st)
    xl, yl = axis_labels(st, problem)
    data = {"status": (("y", "x"), view.status.astype(np.int8))}
    if st.color != "status":
        vals = view.values
        attrs = {"long_name": long_name(st.color, st)}
        if st.color in UNITS:
            attrs["units"] = UNITS[st.color]
        if st.color in CATEGORIES:
            vals = np.nan_to_num(vals, nan=0).astype(np.int8)
            attrs["codes"] = "; ".join(f"{c}={n}" for c, (n, _) in CATEGORIES[st.color].items())
        data[st.color] = (("y", "x"), vals, attrs)
    attrs = {"problem": problem.name}
    for k, v in problem.params().items():
        if k != "problem":
            attrs[f"problem_{k}"] = np.asarray(v).tolist() if isinstance(v, np.ndarray) else v
    attrs.update(config_eta=st.eta, config_momentum=st.momentum, config_max_iter=st.iters,
                 config_tol=st.tol)
    return xr.Dataset(data, coords={"x": ("x", view.xs, {"long_name": xl}),
                                    "y": ("y", view.ys, {"long_name": yl})}, attrs=attrs)


def figure(view, command):
    """A matplotlib figure of ``view`` with ``command`` (the reproduce text) as caption."""
    from ..plotting import plot, run_title, use_style

    plt = use_style()
    ds = dataset(view)
    st = view.state
    fig, ax = plt.subplots(figsize=(7.6, 6.2))
    where = (f"; precision dd, anchor ({st.az!r} + {st.az_lo!r}, {st.aw!r} + {st.aw_lo!r})"
             if st.precision == "dd" else "")
    title = (f"{run_title(ds)}\nwindow [{st.x0:.6g}, {st.x1:.6g}] x [{st.y0:.6g}, "
             f"{st.y1:.6g}] (width {st.x1 - st.x0:.3g}), {view.nx} x {view.ny} pixels{where}")
    plot(ds, st.color, ax, title=title, problem=make_problem(st))
    lines = [ln for ln in command.splitlines() if ln.strip() and not ln.startswith("# Python")]
    caption = "\n".join(textwrap.fill(ln, 130) for ln in lines[:6])
    fig.subplots_adjust(bottom=0.12 + 0.022 * caption.count("\n"))
    fig.text(0.01, 0.01, "reproduce: " + caption, fontsize=5.5, family="monospace", va="bottom")
    return fig


def png(view, command):
    """The labelled PNG of ``view`` (bytes in a BytesIO)."""
    import matplotlib.pyplot as plt

    fig = figure(view, command)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    plt.close(fig)
    buf.seek(0)
    return buf
