"""The plots of a clicked point's trajectory (HoloViews elements; the page shows them)."""

from __future__ import annotations

import numpy as np

from ._state import make_problem


def trajectory_plots(hv, st, tr):
    """In the slice, in (z, w) where defined, loss - minimum and sharpness against step."""
    steps = np.arange(len(tr["loss"]))
    opts = dict(frame_width=260, frame_height=200, tools=["hover"])
    path = hv.Path([np.column_stack([tr["a"], tr["b"]])]).opts(color="#d62728", **opts,
                                                                 title="in the slice")
    plots = [path * hv.Points([tr["start"]]).opts(color="black", size=6)]
    if tr["zw"] is not None:
        plots.append(hv.Path([np.column_stack(tr["zw"])]).opts(
            color="#1f77b4", xlabel="z", ylabel="w", title="in (z, w)", **opts))
    gap = tr["loss"] - make_problem(st).min_value
    loss = np.where(gap > 0, gap, np.nan)
    if not np.any(np.isfinite(loss)):
        loss = np.full_like(loss, np.nan)
    plots.append(hv.Curve((steps, loss), "step", "loss - min").opts(
        logy=bool(np.any(np.isfinite(loss))), title="loss - global minimum", **opts))
    plots.append((hv.Curve((steps, tr["sharpness"]), "step", "sharpness")
                  * hv.HLine(2 / st.eta).opts(color="grey", line_dash="dashed"))
                 .opts(title="sharpness (dashed: 2/eta)"))
    return plots
