"""Trainability maps of networks over two hyperparameters (``gdchaos nn map``): the engine's
:func:`gdchaos.hyper_map` on an :class:`gdchaos.nn.mlp.MLP`, with the defaults of the small
studies of the field (Sohl-Dickstein 2024: one hidden layer of width 16, no biases, mean-field
parameterization, data drawn ``N(0, 1)``, the learning rates of the input and output layers on
log axes).

A point is **trainable** when its trainability score (mean of the last ``window`` losses over the
first loss, :data:`gdchaos.engine.hypermap.SCORE_DOC`) is below 1 -- Sohl-Dickstein's criterion
(his notebook's ``convergence_measure``: the mean of the last 20 normalised losses below 1) --
and every status of :func:`gdchaos.basin` is kept beside it (rule ``loss_below_tol``: status 1
when the loss falls below ``tol``, no stability test).  With ``iters = T - 1`` the losses read
are those of the ``T`` parameter vectors before each of his ``T`` steps.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import GdchaosInputError, check_int
from .mlp import MLP

#: defaults: Sohl-Dickstein (2024)'s tanh network, learning rates of both layers
DEFAULT_AXES = ("eta_in:log:1e-1,1e5", "eta_out:log:1e-1,1e5")
DATA = ("synthetic", "digits", "cifar10")


@dataclasses.dataclass(frozen=True)
class NetMapSettings:
    """Everything a network map depends on (defaults: Sohl-Dickstein 2024, tanh, 500 steps)."""

    activation: str = "tanh"
    width: int = 16
    depth: int = 1
    parameterization: str = "mean_field"
    bias: bool | None = None  # None: none for mean-field, biases for standard
    data: str = "synthetic"
    n_points: int | None = None  # synthetic: None = as many as parameters
    n_per_class: int = 25  # image data: points per class (classes 0 and 1)
    data_seed: int = 0
    batch_size: int | None = None
    batch_seed: int = 0
    loss: str = "mse"
    lam: float = 0.0
    init_seed: int = 0
    init_scheme: str | None = None  # None: normal (mean-field) or torch (standard)
    optimizer: str = "gd"
    eta: float = 1.0
    momentum: float | None = None
    iters: int = 499  # T - 1: T losses, as his T steps read
    tol: float = 1e-12
    div: float = 1e12
    window: int = 20

    def problem(self, data_dir=None) -> MLP:
        """The :class:`MLP` these settings describe."""
        if self.data not in DATA:
            raise GdchaosInputError(f"data must be one of {', '.join(DATA)}, got {self.data!r}")
        if self.data == "synthetic":
            return MLP.synthetic(self.width, self.depth, None, self.n_points, self.activation,
                                 self.parameterization, self.bias, self.data_seed, self.loss,
                                 self.lam, self.batch_size, self.batch_seed)
        from .data import load_pair
        from .models import Arch

        pair = load_pair(self.data, (0, 1), check_int("points per class", self.n_per_class, lo=1),
                         self.data_seed, data_dir)
        arch = Arch.build(pair.dim, self.width, self.depth, self.activation,
                          self.parameterization, self.bias)
        return MLP(pair.X.numpy(), pair.y.numpy(), arch, self.loss, self.lam, self.batch_size,
                   self.batch_seed, data_name=f"{self.data} classes 0/1, {self.n_per_class} "
                                             f"per class, seed {self.data_seed}")

    def optimizer_obj(self):
        from ..engine.optim import Optimizer

        return Optimizer(self.optimizer, self.eta, momentum=self.momentum,
                         rule="loss_below_tol")


def network_map(settings: NetMapSettings | None = None, x=DEFAULT_AXES[0], y=DEFAULT_AXES[1],
                grid=64, *, store=None, overwrite=False, progress=False, data_dir=None,
                device=None, tile_rows=None, records=(), scheduler=None, client=None,
                threads=None, problem=None, refine=None, extra_attrs=None):
    """A trainability map of the network ``settings`` over the axes ``x`` and ``y``
    (``NAME:lin|log:LO,HI`` strings or :class:`gdchaos.engine.hypermap.Axis`; names as in
    :data:`gdchaos.engine.hypermap.AXES`, groups ``in``, ``hidden1``, ..., ``out``).  Returns the
    :func:`gdchaos.hyper_map` dataset (torch backend) with the variable ``trainable`` (score < 1)
    added; with ``store`` the map is computed tile by tile into a resumable store.  ``problem``:
    ``settings.problem(data_dir)`` when already built (the command line builds it once to check
    the map's size).  ``refine``: boundary-refined, as :func:`gdchaos.hyper_map` (its outcome
    includes ``trainable``).  ``extra_attrs``: more attributes of the dataset (the command
    line's ``command``)."""
    from ..engine.hypermap import Axis, hyper_map

    s = settings or NetMapSettings()
    ax = [a if isinstance(a, Axis) else Axis.parse(a, flag) for a, flag in
          ((x, "--x-axis"), (y, "--y-axis"))]
    problem = problem if problem is not None else s.problem(data_dir)
    init = problem.init(check_int("init seed", s.init_seed, lo=0), s.init_scheme)
    ds = hyper_map(problem, ax[0], ax[1], grid, optimizer=s.optimizer_obj(), init=init,
                   max_iter=s.iters, tol=s.tol, div_threshold=s.div, gtol=0.0,
                   backend="torch", device=device, window=s.window, records=records,
                   store=store, overwrite=overwrite, progress=progress, tile_rows=tile_rows,
                   scheduler=scheduler, client=client, threads=threads, refine=refine,
                   extra_attrs={**(extra_attrs or {}),
                                "network_settings": repr(dataclasses.asdict(s))})
    return with_trainable(ds)


def with_trainable(ds):
    """``ds`` with ``trainable`` (1 where the score is below 1, else 0) added."""
    t = (np.asarray(ds["score"].values) < 1.0).astype(np.int8)
    out = ds.assign(trainable=(("y", "x"), t))
    out["trainable"].attrs["description"] = (
        "1 where the trainability score (mean of the last `window` losses over the first) is "
        "below 1: Sohl-Dickstein (2024)'s criterion")
    return out


def map_image(ds):
    """Sohl-Dickstein's colouring as an array in [-1, 1]: trainable pixels positive (blue in the
    ``Spectral`` colormap), the others negative (red), each side shaded by rank (trainable: a
    lower score darker; the others: fewer steps before divergence darker)."""
    score = np.asarray(ds["score"].values, dtype=float)
    its = np.asarray(ds["iterations"].values, dtype=float)
    good = score < 1.0
    img = np.zeros(score.shape)
    for mask, key, sign in ((good, score, 1.0), (~good, its, -1.0)):
        if mask.any():
            r = np.argsort(np.argsort(key[mask], kind="stable"), kind="stable")
            frac = (r + 0.5) / mask.sum()
            img[mask] = sign * (0.25 + 0.75 * (1.0 - frac))
    return img


def plot_network_map(ds, path, ax=None, title=None):
    """A map's picture: axes in log10 where the axis is logarithmic, blue trainable, red not."""
    import matplotlib.pyplot as plt

    from ..plotting import save_figure

    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(5, 4.4))
    xs, ys = np.asarray(ds.x.values), np.asarray(ds.y.values)
    xlog, ylog = ds.attrs.get("x_scale") == "log", ds.attrs.get("y_scale") == "log"
    X = np.log10(xs) if xlog else xs
    Y = np.log10(ys) if ylog else ys
    ax.pcolormesh(X, Y, map_image(ds), cmap="Spectral", vmin=-1, vmax=1, shading="nearest",
                  rasterized=True)
    xn, yn = ds.attrs.get("x_axis", "x"), ds.attrs.get("y_axis", "y")
    ax.set_xlabel(f"log10 {xn}" if xlog else xn)
    ax.set_ylabel(f"log10 {yn}" if ylog else yn)
    if title:
        ax.set_title(title, fontsize=9)
    if own:
        save_figure(fig, path)
        plt.close(fig)
