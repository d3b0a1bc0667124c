"""Multilayer perceptrons in functional form, and the MLP as a problem: the one place where the
networks' mathematics is written (forward pass, losses, gradient, Hessian-vector products,
initializations, parameter groups, global minimum, window and labels of a slice).

An architecture (:class:`Arch`) is ``widths = (d_in, h_1, ..., h_k, d_out)``, an activation
(``relu``, ``tanh`` or ``identity``) between layers, biases or not, and an optional multiplier
``s_l`` per layer (the mean-field parameterization).  Layer ``l`` computes
``z_l = s_l (W_l h_{l-1}) + b_l`` and ``h_l = act(z_l)`` (no activation after the last layer).
The paper's networks are ReLU with biases and ``s_l = 1``: ``(3072, 100, 100, 1)`` (step-size
sweeps) and ``(3072, 25, 25, 1)`` (slices).

Layout of the flat parameter vector (the order of ``nn.Sequential(nn.Linear, ...).parameters()``):
for each layer the weight ``W_l`` of shape ``(widths[l+1], widths[l])`` (row-major), then the bias
``b_l`` of shape ``(widths[l+1],)`` when the architecture has biases.

:func:`mlp_forward` is a pure function of ``(flat_params, X)``, so ``torch.func.vmap`` over a batch
of flat vectors, ``torch.func.grad`` and ``torch.func.jvp`` all apply to it.
:func:`batched_value_and_grad` is the same loss and its gradient for a batch of networks by
batched matrix products and a manual backward pass (2-3 times faster than ``vmap(grad(...))``,
equal to it to rounding; tested).

Losses (both mean-reduced over the samples, as PyTorch's ``MSELoss`` and ``BCEWithLogitsLoss``):

- ``"mse"``: ``mean((f - y)^2)``, *without* a factor 1/2 (the paper's networks use PyTorch's
  ``MSELoss``; the factor 1/2 of SPEC.md applies to the factorization problems only);
- ``"ce"``: binary cross-entropy on the logit, ``mean(softplus(f) - y f)`` for targets in [0, 1].

:class:`MLP` (module :mod:`gdchaos.nn.problem`) is the network on a fixed training set as a
:class:`gdchaos.problems.Problem`, which the engine's maps run (``gdchaos nn map``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..errors import GdchaosInputError, check_int

LOSSES = ("mse", "ce")
INITS = ("torch", "gaussian", "normal")
ACTIVATIONS = ("relu", "tanh", "identity")
PARAMETERIZATIONS = ("standard", "mean_field")


def check_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """Validate ``widths = (d_in, h_1, ..., d_out)`` and return it as a tuple of ints."""
    if isinstance(widths, Arch):
        return widths.widths
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


@dataclass(frozen=True)
class Arch:
    """An MLP architecture: ``widths``, ``activation``, ``bias`` and per-layer multipliers
    ``scales`` (``None``: all 1).  :meth:`mean_field` builds the mean-field parameterization."""

    widths: tuple
    activation: str = "relu"
    bias: bool = True
    scales: tuple | None = None

    def __post_init__(self):
        object.__setattr__(self, "widths", check_widths(self.widths))
        if self.activation not in ACTIVATIONS:
            raise GdchaosInputError(f"activation must be one of {', '.join(ACTIVATIONS)}, got "
                                    f"{self.activation!r}")
        object.__setattr__(self, "bias", bool(self.bias))
        if self.scales is not None:
            s = tuple(float(v) for v in self.scales)
            if len(s) != len(self.widths) - 1 or not all(math.isfinite(v) and v > 0 for v in s):
                raise GdchaosInputError(f"scales must be {len(self.widths) - 1} positive numbers "
                                        f"(one per layer), got {self.scales!r}")
            object.__setattr__(self, "scales", None if all(v == 1.0 for v in s) else s)

    @classmethod
    def mean_field(cls, widths, activation="relu", bias=False):
        """Mean-field parameterization (Sohl-Dickstein 2024, appendix): hidden layers
        ``s_l = sqrt(g / fan_in)`` with gain ``g = 2`` for ReLU and tanh and 1 for the identity,
        the output layer ``s = 1 / fan_in``; weights then drawn ``N(0, 1)`` (init ``normal``)."""
        w = check_widths(widths)
        gain = 1.0 if activation == "identity" else 2.0
        s = tuple(math.sqrt(gain / w[i]) for i in range(len(w) - 2)) + (1.0 / w[-2],)
        return cls(w, activation, bias, s)

    @classmethod
    def build(cls, d_in, width, depth=1, activation="relu", parameterization="standard",
              bias=None):
        """``depth`` hidden layers of ``width`` units on ``d_in`` inputs, scalar output:
        ``standard`` (multipliers 1, biases unless ``bias=False``) or ``mean_field``
        (:meth:`mean_field`, no biases unless ``bias=True``)."""
        width, depth = check_int("width", width, lo=1), check_int("depth", depth, lo=1)
        widths = (check_int("input dimension", d_in, lo=1),) + (width,) * depth + (1,)
        if parameterization not in PARAMETERIZATIONS:
            raise GdchaosInputError(f"parameterization must be one of "
                                    f"{', '.join(PARAMETERIZATIONS)}, got {parameterization!r}")
        if parameterization == "mean_field":
            return cls.mean_field(widths, activation, bool(bias))
        return cls(widths, activation, True if bias is None else bool(bias))

    def scale(self, layer: int) -> float:
        return 1.0 if self.scales is None else self.scales[layer]

    def as_dict(self) -> dict:
        return {"widths": list(self.widths), "activation": self.activation, "bias": self.bias,
                "scales": None if self.scales is None else list(self.scales)}


def as_arch(spec) -> Arch:
    """An :class:`Arch` from an ``Arch`` or a widths sequence (ReLU, biases, multipliers 1)."""
    return spec if isinstance(spec, Arch) else Arch(check_widths(spec))


def layer_shapes(widths) -> list[tuple[tuple[int, int], tuple[int, ...]]]:
    """``[((out, in), (out,)), ...]``: the weight and bias shapes of every layer (bias shape
    ``(0,)`` without biases)."""
    a = as_arch(widths)
    w = a.widths
    return [((w[i + 1], w[i]), (w[i + 1] if a.bias else 0,)) for i in range(len(w) - 1)]


def n_params(widths) -> int:
    """Number of parameters of the MLP with these widths (or architecture)."""
    return sum(o * i + b for (o, i), (b,) in layer_shapes(widths))


def layer_slices(widths) -> list[tuple[slice, slice]]:
    """Where each layer's weight and bias sit in the flat vector."""
    out, k = [], 0
    for (o, i), (b,) in layer_shapes(widths):
        out.append((slice(k, k + o * i), slice(k + o * i, k + o * i + b)))
        k += o * i + b
    return out


def unflatten(flat: torch.Tensor, widths) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """Views ``[(W_0, b_0), (W_1, b_1), ...]`` into ``flat`` (last dimension; leading dims kept;
    ``b_l`` is ``None`` without biases)."""
    a = as_arch(widths)
    need = n_params(a)
    if flat.shape[-1] != need:
        raise GdchaosInputError(
            f"parameter vector has {flat.shape[-1]} entries, widths {a.widths} need {need}")
    lead = flat.shape[:-1]
    out = []
    for ((o, i), _), (sw, sb) in zip(layer_shapes(a), layer_slices(a)):
        W = flat[..., sw].reshape(*lead, o, i)
        out.append((W, flat[..., sb] if a.bias else None))
    return out


def activate(z: torch.Tensor, activation: str) -> torch.Tensor:
    if activation == "relu":
        return torch.relu(z)
    if activation == "tanh":
        return torch.tanh(z)
    return z


def mlp_forward(flat_params: torch.Tensor, X: torch.Tensor, widths) -> torch.Tensor:
    """Output of the MLP (``widths`` a widths sequence or an :class:`Arch`) with parameters
    ``flat_params`` (1-D) on inputs ``X`` of shape (N, d_in).

    Returns shape ``(N,)`` for a scalar output (``widths[-1] == 1``), else ``(N, d_out)``.  Pure and
    ``vmap``-able over ``flat_params``.
    """
    a = as_arch(widths)
    layers = unflatten(flat_params, a)
    h = X
    for k, (W, b) in enumerate(layers):
        h = h @ W.transpose(-1, -2)
        if a.scales is not None:
            h = h * a.scales[k]
        if b is not None:
            h = h + b
        if k < len(layers) - 1:
            h = activate(h, a.activation)
    if a.widths[-1] == 1:
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


def mlp_loss(flat_params: torch.Tensor, X: torch.Tensor, y: torch.Tensor, widths,
             loss: str = "mse") -> torch.Tensor:
    """Training loss (scalar) of one network; pure, so ``torch.func.grad``/``vmap`` apply."""
    return loss_from_output(mlp_forward(flat_params, X, widths), y, loss)


def batched_value_and_grad(P: torch.Tensor, X: torch.Tensor, y: torch.Tensor, widths,
                           loss: str = "mse", grad: bool = True
                           ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Losses (B,) and gradients (B, n) of networks ``P`` (B, n) on the training set ``(X, y)``
    (scalar output) by batched matrix products in the layout ``(B, width, N)`` (the first layer
    one GEMM shared by the batch) and a manual backward pass: the loss of :func:`mlp_loss`.
    ``grad=False``: the forward pass only, gradient ``None``."""
    a = as_arch(widths)
    w = a.widths
    B, N, nl = P.shape[0], X.shape[0], len(w) - 1
    views = _views(P, a)
    Ws = [W for W, _ in views]
    bs = [b for _, b in views]
    acts = []  # post-activations, (B, width, N)
    h = None
    for i in range(nl):
        s = a.scale(i)
        if i == 0:
            z = torch.mm(Ws[0].reshape(B * w[1], w[0]), X.T).view(B, w[1], N)
            if s != 1.0:
                z.mul_(s)
            if a.bias:
                z += bs[0][:, :, None]
        elif a.bias and s == 1.0:
            z = torch.baddbmm(bs[i][:, :, None], Ws[i], h)
        else:
            z = torch.bmm(Ws[i], h)
            if s != 1.0:
                z.mul_(s)
            if a.bias:
                z += bs[i][:, :, None]
        if i < nl - 1:
            if a.activation == "relu":
                h = z.clamp_min_(0.0)
            elif a.activation == "tanh":
                h = torch.tanh_(z)
            else:
                h = z
            acts.append(h)
        else:
            f = z.view(B, N)
    if loss == "mse":
        r = f - y
        L = (r * r).mean(1)
    else:
        L = (torch.nn.functional.softplus(f) - y * f).mean(1)
    if not grad:
        return L, None
    df = r.mul_(2.0 / N) if loss == "mse" else (torch.sigmoid(f) - y).mul_(1.0 / N)
    G = torch.empty_like(P)
    gviews = _views(G, a)
    dz = df.view(B, 1, N)
    for i in range(nl - 1, -1, -1):
        s = a.scale(i)
        gW, gb = gviews[i]
        if a.bias:
            gb.copy_(dz.sum(2))
        if i == 0:
            gW.copy_(torch.mm(dz.reshape(B * w[1], N), X).view(B, w[1], w[0]))
        else:
            act = acts[i - 1]
            gW.copy_(torch.bmm(dz, act.transpose(1, 2)))
            dz = torch.bmm(Ws[i].transpose(1, 2), dz)
            if s != 1.0:
                dz.mul_(s)
            if a.activation == "relu":
                dz.mul_(act > 0)
            elif a.activation == "tanh":
                dz.mul_(1.0 - act * act)
        if s != 1.0:
            gW.mul_(s)
    return L, G


def _views(T: torch.Tensor, a: Arch):
    """Per-layer weight ``(B, out, in)`` and bias ``(B, out)`` views into the rows of ``T``
    (writable: the gradient is written through them)."""
    B = T.shape[0]
    return [(T[:, sw].view(B, o, i), T[:, sb] if a.bias else None)
            for ((o, i), _), (sw, sb) in zip(layer_shapes(a), layer_slices(a))]


def init_params(widths, seed: int = 0, scheme: str = "torch", scale: float = 1.0,
                dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A flat initial parameter vector, reproducible from ``seed`` (``widths`` or an
    :class:`Arch`).

    ``scheme="torch"`` (default): PyTorch's default ``nn.Linear`` initialization, i.e. weights and
    biases uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``, drawn in float32 in the order of
    ``nn.Linear.reset_parameters`` from a generator seeded with ``seed``, then cast to ``dtype``:
    identical to ``torch.manual_seed(seed); nn.Sequential(nn.Linear(...), ...).double()``.
    ``scale`` multiplies the result.

    ``scheme="gaussian"``: weights ``N(0, scale^2 / fan_in)``, biases zero (drawn in float64).
    ``scheme="normal"``: every weight ``N(0, scale^2)``, biases zero (drawn in float64, layer by
    layer): the mean-field initialization, where the layer multipliers carry the fan-in.
    """
    a = as_arch(widths)
    if scheme not in INITS:
        raise GdchaosInputError(f"init scheme must be one of {', '.join(INITS)}, got {scheme!r}")
    scale = float(scale)
    if not math.isfinite(scale):
        raise GdchaosInputError(f"init scale must be finite, got {scale!r}")
    g = torch.Generator(device="cpu")
    g.manual_seed(int(seed))
    parts = []
    for (o, i), (nb,) in layer_shapes(a):
        bound = 1.0 / math.sqrt(i)
        if scheme == "torch":
            W = torch.empty(o, i, dtype=torch.float32).uniform_(-bound, bound, generator=g)
            parts.append(W.to(dtype).reshape(-1))
            b = torch.empty(o, dtype=torch.float32).uniform_(-bound, bound, generator=g)
            if nb:
                parts.append(b.to(dtype))
        else:
            W = torch.randn(o, i, dtype=torch.float64, generator=g)
            W = W * bound if scheme == "gaussian" else W
            parts += [W.to(dtype).reshape(-1), torch.zeros(nb, dtype=dtype)]
    flat = torch.cat(parts)
    return flat * scale if scale != 1.0 else flat


def to_module(flat_params: torch.Tensor, widths) -> torch.nn.Sequential:
    """An ``nn.Sequential`` of Linear and activation layers holding a copy of ``flat_params``
    (architectures without layer multipliers)."""
    a = as_arch(widths)
    if a.scales is not None:
        raise GdchaosInputError("to_module: an architecture with layer multipliers is not an "
                                "nn.Sequential of Linear layers")
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "identity": torch.nn.Identity}
    layers: list[torch.nn.Module] = []
    shapes = layer_shapes(a)
    for k, ((o, i), _) in enumerate(shapes):
        layers.append(torch.nn.Linear(i, o, bias=a.bias, dtype=flat_params.dtype))
        if k < len(shapes) - 1:
            layers.append(act[a.activation]())
    mod = torch.nn.Sequential(*layers)
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(flat_params.detach().clone(), mod.parameters())
    return mod


def from_module(module: torch.nn.Module) -> torch.Tensor:
    """The flat parameter vector of a module (a copy, detached)."""
    return torch.nn.utils.parameters_to_vector(module.parameters()).detach().clone()
