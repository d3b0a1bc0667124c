"""The MLP on a fixed training set as a problem the engine runs (:class:`MLP`): maps over
initializations and hyperparameters (``gdchaos.hyper_map``, ``gdchaos nn map``) treat it as any
other :class:`gdchaos.problems.Problem`.

Its mathematics is that of :mod:`gdchaos.nn.models` (forward pass, loss, batched gradient,
initializations); this class adds what makes it a problem: the data, the weight decay ``lam``
(``lam/2 |theta|^2`` added to the loss), the minibatch sequence, the parameter groups (one per
layer: ``in``, ``hidden1``, ..., ``out``), the global minimum and the sharpness.

**Minibatches** (as in Sohl-Dickstein's notebook).  With ``batch_size = b`` the gradient at
step ``t`` is that of ``b`` points drawn uniformly *with replacement* by a generator seeded with
``batch_seed * 1000003 + t``; the loss a run reports (and its stopping rule and score read) is the
full-batch loss at the same parameters.  The sequence depends on ``t`` only, so every point of a
map sees the same batches.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

from ..errors import GdchaosInputError, check_int, check_nonneg
from ..problems import Problem
from .models import (Arch, batched_value_and_grad, check_loss, init_params, layer_slices,
                     mlp_loss, n_params)


class MLP(Problem):
    """An MLP with scalar output (``arch``: an :class:`gdchaos.nn.models.Arch`) trained on
    ``(X, y)`` (``X`` (N, d_in), ``y`` (N,)) with loss ``loss`` (``mse`` or ``ce``), weight decay
    ``lam`` and optional minibatches of ``batch_size`` points (see the module docstring).
    ``data_name`` names the data in the run's records (their SHA-256 is stored beside it)."""

    name = "mlp"
    supports_momentum = True
    slice_kinds = ("axes", "random")
    dense_hessian_records = True
    #: a slice through the initialization, in units of the parameters' scale
    default_window = (-1.0, 1.0, -1.0, 1.0)
    axis_labels = (r"$\alpha$ (slice direction 1)", r"$\beta$ (slice direction 2)")
    RECORD_DOCS = dict(Problem.RECORD_DOCS, sharpness=(
        "top Hessian eigenvalue of the full-batch loss (with lam) at the final parameters"))

    def __init__(self, X, y, arch, loss="mse", lam=0.0, batch_size=None, batch_seed=0,
                 data_name="given"):
        self.arch = arch if isinstance(arch, Arch) else Arch(arch)
        if self.arch.widths[-1] != 1:
            raise GdchaosInputError(f"an MLP problem needs a scalar output (last width 1), got "
                                    f"{self.arch.widths}")
        X = torch.as_tensor(np.asarray(X, dtype=np.float64))
        y = torch.as_tensor(np.asarray(y, dtype=np.float64)).reshape(-1)
        if X.ndim != 2 or X.shape[1] != self.arch.widths[0] or y.shape[0] != X.shape[0]:
            raise GdchaosInputError(f"data shapes X {tuple(X.shape)}, y {tuple(y.shape)} do not "
                                    f"fit widths {self.arch.widths}")
        if X.shape[0] < 1 or not (torch.isfinite(X).all() and torch.isfinite(y).all()):
            raise GdchaosInputError("the training data must be at least one finite point")
        self.X, self.y = X.contiguous(), y.contiguous()
        self.loss_name = check_loss(loss)
        self.lam = check_nonneg("weight decay lam", lam)
        if batch_size is not None:
            batch_size = check_int("batch size", batch_size, lo=1)
        self.batch_size = batch_size
        self.batch_seed = check_int("batch seed", batch_seed, lo=0)
        self.data_name = str(data_name)
        h = hashlib.sha256(X.numpy().tobytes() + y.numpy().tobytes()).hexdigest()
        self.data_sha256 = h

    @classmethod
    def synthetic(cls, width=16, depth=1, d_in=None, n_points=None, activation="tanh",
                  parameterization="mean_field", bias=None, seed=0, loss="mse", lam=0.0,
                  batch_size=None, batch_seed=0):
        """The small networks of the trainability studies (Sohl-Dickstein 2024): ``depth``
        hidden layers of ``width`` units, input dimension ``d_in`` (default ``width``), inputs
        and targets drawn ``N(0, 1)`` from ``seed`` (NumPy's PCG64), ``n_points`` of them
        (default: as many as the network has parameters).  ``parameterization``: ``standard``
        (multipliers 1, biases by default) or ``mean_field`` (:meth:`Arch.mean_field`, no
        biases by default): :meth:`Arch.build`."""
        arch = Arch.build(check_int("width", width, lo=1) if d_in is None else d_in, width,
                          depth, activation, parameterization, bias)
        d_in = arch.widths[0]
        n = n_params(arch) if n_points is None else check_int("number of data points",
                                                              n_points, lo=1)
        rng = np.random.default_rng(check_int("data seed", seed, lo=0))
        X = rng.standard_normal((n, d_in))
        y = rng.standard_normal(n)
        return cls(X, y, arch, loss, lam, batch_size, batch_seed,
                   data_name=f"synthetic N(0,1), seed {int(seed)}")

    # -- what every problem says -------------------------------------------------------------
    @property
    def n_params(self):
        return n_params(self.arch)

    @property
    def min_value(self):
        """0: the infimum of the data loss (MSE: reached where the network interpolates the
        data, generic when it has at least as many parameters as points; cross-entropy: not
        reached).  With ``lam > 0`` the minimum is not known in closed form and 0 is a lower
        bound: the stopping rule then asks for ``loss <= tol``."""
        return 0.0

    @property
    def minimizers(self):
        return ("networks interpolating the training data (a manifold of dimension n_params - N "
                "where it is reached; not known in closed form)")

    @property
    def param_groups(self):
        """One group per layer (weights and biases): ``in``, ``hidden1``, ..., ``out``."""
        sl = layer_slices(self.arch)
        names = ["in"] + [f"hidden{k}" for k in range(1, len(sl) - 1)] + ["out"]
        return {nm: np.r_[w, b] for nm, (w, b) in zip(names, sl)}

    def consts(self):
        return np.zeros(1)

    def params(self):
        return {"problem": self.name, **self.arch.as_dict(), "loss": self.loss_name,
                "lam": self.lam, "n_data": int(self.X.shape[0]), "data": self.data_name,
                "data_sha256": self.data_sha256, "batch_size": self.batch_size,
                "batch_seed": self.batch_seed}

    def __repr__(self):
        return (f"MLP(widths={self.arch.widths}, activation={self.arch.activation!r}, "
                f"n_data={self.X.shape[0]})")

    def with_lam(self, lam):
        """This network and data with weight decay ``lam``."""
        import copy

        if float(lam) == self.lam:
            return self
        out = copy.copy(self)
        out.lam = check_nonneg("weight decay lam", lam)
        return out

    def init(self, seed=0, scheme=None, scale=1.0):
        """An initialization (a NumPy vector): ``scheme`` ``normal`` (the default with layer
        multipliers: mean-field), else ``torch`` (PyTorch's ``nn.Linear`` default); see
        :func:`gdchaos.nn.models.init_params`."""
        if scheme is None:
            scheme = "normal" if self.arch.scales is not None else "torch"
        return init_params(self.arch, seed, scheme, scale).numpy()

    # -- torch: the engine's backend for networks --------------------------------------------
    def batch_indices(self, step):
        """Indices of the data points of the minibatch of step ``step`` (``None``: full
        batch)."""
        if self.batch_size is None:
            return None
        g = torch.Generator(device="cpu")
        g.manual_seed(self.batch_seed * 1_000_003 + int(step))
        return torch.randint(0, self.X.shape[0], (self.batch_size,), generator=g)

    def _data(self, device, idx=None):
        X, y = self.X, self.y
        if idx is not None:
            X, y = X[idx], y[idx]
        return X.to(device), y.to(device)

    def torch_loss_grad_at(self, X, c, lam, step):
        """:meth:`torch_loss_grad`; with minibatches the gradient is that of the batch of step
        ``step`` and the loss the full-batch one (a forward pass only)."""
        if self.batch_size is None:
            return self.torch_loss_grad(X, c, lam)
        Xd, yd = self._data(X.device)
        L = self._value_and_grad(X, Xd, yd, grad=False)[0]
        Xb, yb = self._data(X.device, self.batch_indices(step))
        return self._with_lam(X, L, self._value_and_grad(X, Xb, yb)[1], lam)

    def torch_loss_grad(self, X, c, lam):
        """Full-batch loss (with ``lam/2 |x|^2``), gradient and squared gradient norm."""
        Xd, yd = self._data(X.device)
        return self._with_lam(X, *self._value_and_grad(X, Xd, yd), lam)

    @staticmethod
    def _with_lam(X, L, G, lam):
        """``(L + lam/2 |x|^2, G + lam x, |G + lam x|^2)`` per row (``G`` may be ``None``:
        the loss only)."""
        if lam:
            L = L + 0.5 * lam * (X * X).sum(1)
            G = None if G is None else G + lam * X
        return L, G, None if G is None else (G * G).sum(1)

    def _value_and_grad(self, P, Xd, yd, grad=True):
        """:func:`~gdchaos.nn.models.batched_value_and_grad` in blocks of networks whose
        activations fit a CPU's cache (about 2 MB: 3-4 times faster than one block on CPU)."""
        B = P.shape[0]
        per = self.arch.widths[1] * Xd.shape[0]
        block = B if P.is_cuda else max(8, (1 << 18) // max(per, 1))
        if B <= block:
            return batched_value_and_grad(P, Xd, yd, self.arch, self.loss_name, grad)
        L = torch.empty(B, dtype=P.dtype, device=P.device)
        G = torch.empty_like(P) if grad else None
        for s in range(0, B, block):
            Ls, Gs = batched_value_and_grad(P[s:s + block], Xd, yd, self.arch, self.loss_name,
                                            grad)
            L[s:s + block] = Ls
            if grad:
                G[s:s + block] = Gs
        return L, G

    def torch_sharpness(self, X, c, lam):
        """Top eigenvalue of the full-batch Hessian (plus ``lam``) per row: dense for up to 600
        parameters, Lanczos on Hessian-vector products above."""
        Xd, yd = self._data(X.device)

        def one(p):
            return mlp_loss(p, Xd, yd, self.arch, self.loss_name)

        if X.shape[0] == 0:
            return torch.empty(0, dtype=X.dtype, device=X.device)
        if self.n_params <= 600:
            H = torch.func.vmap(torch.func.hessian(one))(X)
            top = torch.linalg.eigvalsh(0.5 * (H + H.transpose(1, 2)))[:, -1]
        else:
            from .sharpness import top_eigenvalues

            top = torch.as_tensor(top_eigenvalues(X.cpu(), Xd.cpu(), yd.cpu(), self.arch,
                                                  self.loss_name, threads=None)).to(X.device)
        return top + lam

    # -- NumPy (records, checks, plots) ------------------------------------------------------
    def _np(self, X):
        return torch.as_tensor(np.atleast_2d(np.asarray(X, dtype=np.float64)))

    def loss(self, X):
        X = self._np(X)
        Xd, yd = self._data(X.device)
        L = self._value_and_grad(X, Xd, yd, grad=False)[0]
        return self._with_lam(X, L, None, self.lam)[0].numpy()

    def grad(self, X):
        return self.torch_loss_grad(self._np(X), None, self.lam)[1].numpy()

    def hessian(self, X):
        Xd, yd = self._data("cpu")
        lam = self.lam

        def one(p):
            return mlp_loss(p, Xd, yd, self.arch, self.loss_name) + 0.5 * lam * (p * p).sum()

        return torch.func.vmap(torch.func.hessian(one))(self._np(X)).numpy()

    def sharpness(self, X):
        X = self._np(X)
        out = np.full(X.shape[0], np.nan)
        ok = torch.isfinite(X).all(1).numpy()
        if ok.any():
            with np.errstate(all="ignore"):
                out[ok] = self.torch_sharpness(X[torch.as_tensor(ok)], None, self.lam).numpy()
        return out

    def validate(self, X) -> None:
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        self.check_X(X)
        L = self.loss(X[:64])
        if not np.any(np.isfinite(L)):
            raise GdchaosInputError(f"{self!r}: the loss is not finite at the start")

