"""One consistent, paper-ready style for every figure."""

from __future__ import annotations

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.labelsize": 11,
    "axes.titlesize": 11,
    "legend.fontsize": 9,
    "xtick.direction": "out",
    "ytick.direction": "out",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.interpolation": "nearest",
}

# status colours: undecided, converged, diverged, saddle, outside
STATUS_COLORS = {0: "#f2c14e", 1: "#2a6f97", 2: "#bdbdbd", 3: "#d1495b", 4: "#ffffff", -1: "#000000"}
DIVERGED_GREY = "#bdbdbd"


def use_style():
    import os
    import sys

    import matplotlib

    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg", force=False)  # no backend chosen (scripts, the CLI): off-screen
    import matplotlib.pyplot as plt  # a backend the user chose (Jupyter's inline, Tk) is kept

    plt.rcParams.update(STYLE)
    return plt
