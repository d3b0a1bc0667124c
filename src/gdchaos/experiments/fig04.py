"""Figure 4: a depth-3 ReLU network on two CIFAR-10 classes, GD over a range of step sizes.

MLP 3072-100-100-1 (PyTorch's default initialization, one fixed seed), 25 training images of
each of classes 0 and 1, mean-reduced squared error, 5000 full-batch steps; without momentum over
[0.01, 0.15] and with Polyak momentum 0.9 over [0.005, 0.07].  Final parameter norm and final
sharpness against eta, with 2/eta and (2 + 2 beta)/eta.  Two regimes: at small step sizes
(edge of stability) the final sharpness sits at the stability limit and the final norm varies
smoothly; at large step sizes both jump erratically from one step size to the next.

The training runs in :mod:`gdchaos.nn.sweep`, the figure's code in
:mod:`gdchaos.experiments.nn_sweep_figure` (figure 12 is the same with cross-entropy).
"""

from __future__ import annotations

from .nn_sweep_figure import make_spec

SPEC = make_spec(
    4, "mse", 1e-6, "Depth-3 ReLU network, MSE: final norm and sharpness against the step size",
    "GD without and with momentum (0.9), 5000 iterations, MSE. At large step sizes the final "
    "norm and sharpness are sensitive to the step size (chaotic regime); at small ones the "
    "sharpness follows 2/eta (edge of stability), with momentum it clusters instead of "
    "following (2 + 2 beta)/eta. Dashed: Cohen et al.'s predicted sharpness.")
