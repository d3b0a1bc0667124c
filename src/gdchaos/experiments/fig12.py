"""Figure 12: figure 4 with the binary cross-entropy loss (on the logit).

Same network, data, initialization and step-size sweeps as figure 4; converged when the loss is
below 1e-2.  The final sharpness lies below 2/eta (as Cohen et al. observed for cross-entropy),
and the two step-size regimes (edge of stability, chaos) appear again.
"""

from __future__ import annotations

from .nn_sweep_figure import make_spec

SPEC = make_spec(
    12, "ce", 1e-2, "Depth-3 ReLU network, cross-entropy: final norm and sharpness against eta",
    "GD without or with momentum, 5000 iterations, cross-entropy loss. At large step sizes the "
    "final norm and sharpness are highly sensitive to the step size; the final sharpness stays "
    "below 2/eta.")
