"""Figure 13: figure 5 without weight decay.

Same network (3072-25-25-1), data, step size 0.05, 3000 steps and random slice as figure 5, no
weight decay: maps of the final loss and final sharpness, grey = diverged.
"""

from __future__ import annotations

from .nn_slice_figure import make_spec

SPEC = make_spec(
    13, 0.0, "Depth-3 ReLU network without weight decay: fractal basins in parameter space",
    "A random 2-D slice of the parameter space, no weight decay; each initialization coloured by "
    "the final loss (left) and the final sharpness (right); grey = diverged.")
