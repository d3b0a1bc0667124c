"""Figure 5: fractal basins in the parameter space of a depth-3 ReLU network (weight decay).

MLP 3072-25-25-1, MSE, weight decay 1e-3 added to the gradient, eta = 0.05, 3000 full-batch
steps on 25 + 25 CIFAR-10 images; a random 2-D slice through the origin (two Gaussian directions
orthonormalized) on [32, 42] x [16, 24] in slice coordinates, and a zoom on [38.5, 39] x
[18.5, 19].  Maps of the final loss and of the final sharpness; grey = diverged.  Converged when
the loss falls below 5e-4, diverged above 1e4.

The training runs in :mod:`gdchaos.nn.slices`, the figure's code in
:mod:`gdchaos.experiments.nn_slice_figure` (figure 13 is the same without weight decay).
"""

from __future__ import annotations

from .nn_slice_figure import make_spec

SPEC = make_spec(
    5, 1e-3, "Depth-3 ReLU network with weight decay: fractal basins in parameter space",
    "A random 2-D slice of the parameter space; each initialization coloured by the final loss "
    "(global minimizers dark blue, sub-optimal white, divergence region dark red) and by the "
    "final sharpness, which spans a wide range of values below 2/eta; grey = diverged.")
