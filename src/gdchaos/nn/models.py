"""ReLU multilayer perceptrons in functional form: one flat parameter vector per network.

Layout of the flat vector (the order of ``nn.Sequential(nn.Linear, nn.ReLU, ...).parameters()``):
for each layer ``l`` the weight ``W_l`` of shape ``(widths[l+1], widths[l])`` (row-major), then the
bias ``b_l`` of shape ``(widths[l+1],)``.  ``widths = (d_in, h_1, ..., h_k, d_out)``; the paper's
networks are ``(3072, 100, 100, 1)`` (step-size sweeps) and ``(3072, 25, 25, 1)`` (slices).

:func:`mlp_forward` is a pure function of ``(flat_params, X)``, so ``torch.func.vmap`` over a batch
of flat vectors, ``torch.func.grad`` and ``torch.func.jvp`` all apply to it.

Losses (both mean-reduced over the samples, as PyTorch's ``MSELoss`` and ``BCEWithLogitsLoss``):

- ``"mse"``: ``mean((f - y)^2)``, *without* a factor 1/2 (the paper's networks use PyTorch's
  ``MSELoss``; the factor 1/2 of SPEC.md applies to the factorization problems only);
- ``"ce"``: binary cross-entropy on the logit, ``mean(softplus(f) - y f)`` for targets in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ..errors import GdchaosInputError

LOSSES = ("mse", "ce")
INITS = ("torch", "gaussian")


def check_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """Validate ``widths = (d_in, h_1, ..., d_out)`` and return it as a tuple of ints."""
    try:
        w = tuple(int(v) for v in widths)
    except (TypeError, ValueError):
        raise GdchaosInputError(f"widths must be a sequence of positive integers, got {widths!r}") from None
    if len(w) < 2 or any(v < 1 for v in w) or any(int(v) != v for v in widths):
        raise GdchaosInputError(
            f"widths must hold at least two positive integers (input, ..., output), got {widths!r}")
    return w


def check_loss(loss: str) -> str:
    if loss not in LOSSES:
        raise GdchaosInputError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    return loss


def layer_shapes(widths: Sequence[int]) -> list[tuple[tuple[int, int], tuple[int]]]:
    """``[((out, in), (out,)), ...]``: the weight and bias shapes of every layer."""
    w = check_widths(widths)
    return [((w[i + 1], w[i]), (w[i + 1],)) for i in range(len(w) - 1)]


def n_params(widths: Sequence[int]) -> int:
    """Number of parameters of the MLP with these widths."""
    return sum(o * i + o for (o, i), _ in layer_shapes(widths))


def unflatten(flat: torch.Tensor, widths: Sequence[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Views ``[(W_0, b_0), (W_1, b_1), ...]`` into ``flat`` (last dimension; leading dims kept)."""
    shapes = layer_shapes(widths)
    need = sum(o * i + o for (o, i), _ in shapes)
    if flat.shape[-1] != need:
        raise GdchaosInputError(
            f"parameter vector has {flat.shape[-1]} entries, widths {tuple(widths)} need {need}")
    out = []
    k = 0
    lead = flat.shape[:-1]
    for (o, i), _ in shapes:
        W = flat[..., k:k + o * i].reshape(*lead, o, i)
        k += o * i
        b = flat[..., k:k + o]
        k += o
        out.append((W, b))
    return out


def mlp_forward(flat_params: torch.Tensor, X: torch.Tensor, widths: Sequence[int]) -> torch.Tensor:
    """Output of the ReLU MLP with parameters ``flat_params`` (1-D) on inputs ``X`` of shape (N, d_in).

    Returns shape ``(N,)`` for a scalar output (``widths[-1] == 1``), else ``(N, d_out)``.  Pure and
    ``vmap``-able over ``flat_params``.
    """
    layers = unflatten(flat_params, widths)
    h = X
    for k, (W, b) in enumerate(layers):
        h = h @ W.transpose(-1, -2) + b
        if k < len(layers) - 1:
            h = torch.relu(h)
    if widths[-1] == 1:
        h = h.squeeze(-1)
    return h


def loss_from_output(f: torch.Tensor, y: torch.Tensor, loss: str = "mse") -> torch.Tensor:
    """Mean-reduced loss of outputs ``f`` against targets ``y`` (see the module docstring)."""
    if loss == "mse":
        r = f - y
        return (r * r).mean(-1)
    if loss == "ce":
        return (torch.nn.functional.softplus(f) - y * f).mean(-1)
    raise GdchaosInputError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")


def mlp_loss(flat_params: torch.Tensor, X: torch.Tensor, y: torch.Tensor, widths: Sequence[int],
             loss: str = "mse") -> torch.Tensor:
    """Training loss (scalar) of one network; pure, so ``torch.func.grad``/``vmap`` apply."""
    return loss_from_output(mlp_forward(flat_params, X, widths), y, loss)


def init_params(widths: Sequence[int], seed: int = 0, scheme: str = "torch", scale: float = 1.0,
                dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A flat initial parameter vector, reproducible from ``seed``.

    ``scheme="torch"`` (default): PyTorch's default ``nn.Linear`` initialization, i.e. weights and
    biases uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``, drawn in float32 in the order of
    ``nn.Linear.reset_parameters`` from a generator seeded with ``seed``, then cast to ``dtype``:
    identical to ``torch.manual_seed(seed); nn.Sequential(nn.Linear(...), ...).double()``.
    ``scale`` multiplies the result.

    ``scheme="gaussian"``: weights ``N(0, scale^2 / fan_in)``, biases zero (drawn in float64).
    """
    shapes = layer_shapes(widths)
    if scheme not in INITS:
        raise GdchaosInputError(f"init scheme must be one of {', '.join(INITS)}, got {scheme!r}")
    scale = float(scale)
    if not math.isfinite(scale):
        raise GdchaosInputError(f"init scale must be finite, got {scale!r}")
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed))
    parts = []
    for (o, i), _ in shapes:
        bound = 1.0 / math.sqrt(i)
        if scheme == "torch":
            W = torch.empty(o, i, dtype=torch.float32).uniform_(-bound, bound, generator=g)
            b = torch.empty(o, dtype=torch.float32).uniform_(-bound, bound, generator=g)
            parts += [W.to(dtype).reshape(-1), b.to(dtype)]
        else:
            W = torch.randn(o, i, dtype=torch.float64, generator=g) * bound
            parts += [W.to(dtype).reshape(-1), torch.zeros(o, dtype=dtype)]
    flat = torch.cat(parts)
    return flat * scale if scale != 1.0 else flat


def to_module(flat_params: torch.Tensor, widths: Sequence[int]) -> torch.nn.Sequential:
    """An ``nn.Sequential`` of Linear/ReLU layers holding a copy of ``flat_params``."""
    layers: list[torch.nn.Module] = []
    shapes = layer_shapes(widths)
    for k, ((o, i), _) in enumerate(shapes):
        layers.append(torch.nn.Linear(i, o, dtype=flat_params.dtype))
        if k < len(shapes) - 1:
            layers.append(torch.nn.ReLU())
    mod = torch.nn.Sequential(*layers)
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(flat_params.detach().clone(), mod.parameters())
    return mod


def from_module(module: torch.nn.Module) -> torch.Tensor:
    """The flat parameter vector of a module (a copy, detached)."""
    return torch.nn.utils.parameters_to_vector(module.parameters()).detach().clone()
