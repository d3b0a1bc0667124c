"""Step-size sweeps (figures 4 and 12): one fixed initialization, many step sizes, one batch.

For every *arm* (a momentum value with its step-size range) the networks of all step sizes are
trained together by :func:`gdchaos.nn.train.train_batch`; the final parameter norm (the square
root of the stored ``sq_norm``) and the final sharpness (Lanczos) are plotted against ``eta``
with the reference lines ``2/eta`` and, with momentum ``beta``, ``(2 + 2 beta)/eta``.  Per-step
losses are kept, and the sharpness every ``sharpness_every`` steps (warm-started power
iteration).

Results go to a resumable store (one tile per arm; see :class:`gdchaos.engine.TiledStore`)
with variables ``status, steps, final_loss, sq_norm, final_sharpness`` on ``(y=arm, x=eta
index)`` (``sq_norm``: squared norm of the final parameters, the engine's record),
``loss_history (y, x, step)`` and ``sharpness_history (y, x, sstep)``, plus ``eta (y, x)``,
``momentum (y)`` and the initial parameters ``init_params (param)``; the attribute
``convergence_rule`` says what status 1 means (``"loss_below_tol"``: no stability test).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import sys
import time
from dataclasses import dataclass

import numpy as np

from ..engine.optim import stability_threshold
from ..errors import GdchaosInputError
from ..status import (CONVERGED, DIVERGED, NN_CODES, STATUS_DOC, UNDECIDED,
                      status_fractions)
from ._common import (
    CONVERGENCE_RULE,
    DataSettings,
    finish_run,
    store_path,
    check_data_settings,
    final_sharpness_arg,
    load_data,
    package_version,
    run_jobs,
    settings_dict,
    widths_of,
)

PAPER_ETA_RANGE = {"gd": (0.01, 0.15), "momentum": (0.005, 0.07)}


def default_eta_range(beta: float) -> tuple[float, float]:
    """The paper's range: [0.01, 0.15] without momentum, [0.005, 0.07] with."""
    return PAPER_ETA_RANGE["gd"] if beta == 0 else PAPER_ETA_RANGE["momentum"]


@dataclass(frozen=True)
class SweepSettings(DataSettings):
    """Every setting of a step-size sweep (defaults: the paper's figure 4)."""

    hidden: tuple = (100, 100)
    init: str = "torch"
    init_scale: float = 1.0
    seed: int = 0
    loss: str = "mse"
    momenta: tuple = (0.0, 0.9)
    eta_ranges: tuple = ((0.01, 0.15), (0.005, 0.07))
    n_eta: int = 500
    iters: int = 5000
    weight_decay: float = 0.0
    tol: float | None = None  # None: 1e-6 for MSE, 1e-2 for CE
    div: float = 1e4
    convergence_rule: str = CONVERGENCE_RULE  # status 1: loss < tol (no stability test)
    sharpness_every: int = 100
    sharpness_method: str = "lanczos"
    reduce: bool = True
    pool: int = 128

    def validate(self) -> SweepSettings:
        check_data_settings(self)
        if len(self.momenta) < 1 or len(self.momenta) != len(self.eta_ranges):
            raise GdchaosInputError("give one step-size range per momentum value")
        for b in self.momenta:
            if not 0 <= b < 1:
                raise GdchaosInputError(f"momentum must lie in [0, 1), got {b}")
        for lo, hi in self.eta_ranges:
            if not (0 < lo <= hi and math.isfinite(hi)):
                raise GdchaosInputError(f"step-size range must satisfy 0 < min <= max, got {lo}, {hi}")
        if int(self.n_eta) < 1:
            raise GdchaosInputError(f"number of step sizes must be >= 1, got {self.n_eta}")
        if int(self.sharpness_every) < 0:
            raise GdchaosInputError("sharpness interval must be >= 0")
        return self


SWEEP_PRESETS = {
    "paper": SweepSettings(),
    # quick: 64 step sizes per arm instead of 500, sharpness logged every 250 steps; same data,
    # network and 5000 iterations, so both regimes (EoS below ~0.07, chaotic above) show.
    "quick": SweepSettings(n_eta=64, sharpness_every=250),
}


def sweep_preset(name: str = "paper", **overrides) -> SweepSettings:
    """A preset (``paper`` or ``quick``) with some settings replaced."""
    if name not in SWEEP_PRESETS:
        raise GdchaosInputError(f"preset must be one of {', '.join(SWEEP_PRESETS)}, got {name!r}")
    try:
        s = dataclasses.replace(SWEEP_PRESETS[name], **overrides)
    except TypeError as exc:
        raise GdchaosInputError(f"unknown sweep setting: {exc}") from None
    return s.validate()


def eta_grid(s: SweepSettings) -> np.ndarray:
    """Step sizes, shape (n_arms, n_eta): ``linspace(min, max, n_eta)`` per arm."""
    return np.stack([np.linspace(lo, hi, int(s.n_eta)) for lo, hi in s.eta_ranges])


def run_info(s: SweepSettings, data) -> dict:
    info = settings_dict(s)
    for k in ("data_dir", "download"):
        info.pop(k)
    info["data_indices"] = data.indices.tolist()
    info["kind"] = "nn_sweep"
    return info


@dataclass
class SweepResult:
    dataset: object  # xarray.Dataset (in memory)
    summary: dict


def run_sweep(settings: SweepSettings, out=None, png=None, *, overwrite: bool = False,
              quiet: bool = True, workers: int = 1, threads: int | None = 1, scheduler=None,
              client=None) -> SweepResult:
    """Run (or resume) a sweep; ``out`` a store folder (None: a temporary one, data kept in
    memory), ``png`` a figure path (None: none).  ``workers`` processes share the arms;
    ``threads`` torch threads each (1: results independent of both, bit for bit).  Returns the
    dataset and a summary."""
    from tqdm.auto import tqdm

    from ..engine import TiledStore, VarSpec
    from .train import default_tol

    s = settings.validate()
    if out is not None:  # a refused --out: before the data are loaded or anything is written
        TiledStore.check_target(out, overwrite)
    t0 = time.perf_counter()
    data, widths, p0 = _cached_problem(s)
    etas = eta_grid(s)
    n_arms, n_eta, iters, k = len(s.momenta), int(s.n_eta), int(s.iters), int(s.sharpness_every)
    tol = default_tol(s.loss) if s.tol is None else float(s.tol)
    coords = {"y": np.arange(n_arms), "x": np.arange(n_eta), "step": np.arange(iters + 1)}
    variables = {
        "status": VarSpec(("y", "x"), "int8", -1, {"description": STATUS_DOC}),
        "steps": VarSpec(("y", "x"), "int32", -1, {"description": "GD updates performed"}),
        "final_loss": VarSpec(("y", "x"), "float64", np.nan),
        "sq_norm": VarSpec(("y", "x"), "float64", np.nan,
                           {"description": "squared norm of the final parameters"}),
        "final_sharpness": VarSpec(("y", "x"), "float64", np.nan, {
            "description": f"top Hessian eigenvalue of the training loss ({s.sharpness_method})"}),
        "loss_history": VarSpec(("y", "x", "step"), "float64", np.nan),
    }
    if k:
        coords["sstep"] = np.arange(0, iters + 1, k)
        variables["sharpness_history"] = VarSpec(("y", "x", "sstep"), "float64", np.nan, {
            "description": "sharpness every sharpness_every steps (power iteration)"})
    static = {"eta": (("y", "x"), etas), "momentum": (("y",), np.asarray(s.momenta, float)),
              "init_params": (("param",), p0.numpy())}
    info = run_info(s, data)
    attrs = {"gdchaos_version": package_version(), "seed": int(s.seed), "data": data.info,
             "widths": list(widths), "tol": tol, "loss_definition": _LOSS_DOC[s.loss],
             "convergence_rule": s.convergence_rule}
    path, tmp = store_path(out, "sweep")
    store = TiledStore(path, coords, variables, info, tile_rows=1, static=static, attrs=attrs)
    pending = store.open(overwrite=overwrite)
    stats = {"network_steps": 0, "train_seconds": 0.0, "sharpness_seconds": 0.0}

    def on_result(res):
        for key in stats:
            stats[key] += res[key]
        store.write_tile(res["tile"], res["arrays"])

    try:
        jobs = [(s, arm, threads) for arm in pending]
        # moves as the networks train (whole networks: each counts 1/iters per step), with an
        # ETA, whatever the workers; on a cluster per arm
        with tqdm(total=len(jobs) * n_eta, unit="net", desc="nn sweep", file=sys.stderr,
                  disable=quiet, smoothing=0.05) as bar:
            if scheduler is None and client is None:
                run_jobs(_sweep_arm, jobs, workers, on_result, bar)
            else:  # one task per job on a Dask cluster (docs/cluster.md)
                from ..engine.cluster import run_jobs as run_on_cluster

                run_on_cluster(scheduler, client, _sweep_arm, jobs, on_result, bar,
                               weight=lambda r: r["n_networks"])
        seconds = time.perf_counter() - t0
        ds = store.dataset().load()
        summary = _summary(s, ds, seconds, stats["network_steps"], stats["train_seconds"],
                           len(pending), data)
        summary.update(train_seconds=stats["train_seconds"],
                       sharpness_seconds=stats["sharpness_seconds"], workers=int(workers))
        finish_run(store, ds, summary, plot_sweep, png, out, path)
    finally:
        store.close()  # drop the writer lock
        if tmp is not None:
            tmp.cleanup()
    return SweepResult(ds, summary)


@functools.lru_cache(maxsize=2)
def _cached_problem(s: SweepSettings):
    from .models import init_params

    data = load_data(s)
    widths = widths_of(s, data)
    return data, widths, init_params(widths, s.seed, s.init, s.init_scale)


def _sweep_arm(job, progress=None) -> dict:
    """Train every step size of one arm (one tile); runs in this or a worker process."""
    from .train import train_batch

    s, arm, threads = job
    data, widths, p0 = _cached_problem(s)
    etas = eta_grid(s)[arm]
    k = int(s.sharpness_every)
    res = train_batch(p0[None], data.X, data.y, widths, etas, n_networks=len(etas),
                      momentum=s.momenta[arm], weight_decay=s.weight_decay, loss=s.loss,
                      iters=s.iters, tol=s.tol, div=s.div, record_loss=True,
                      sharpness_every=k, final_sharpness=final_sharpness_arg(s.sharpness_method),
                      reduce=s.reduce, pool=s.pool, seed=s.seed,
                      convergence_rule=s.convergence_rule, progress=progress, threads=threads)
    arrays = {"status": res.status[None], "steps": res.steps[None],
              "final_loss": res.final_loss[None], "sq_norm": res.sq_norm[None],
              "final_sharpness": res.final_sharpness[None], "loss_history": res.loss_history[None]}
    if k:
        arrays["sharpness_history"] = res.sharpness_history[None]
    return {"tile": arm, "n_networks": len(etas), "network_steps": res.network_steps,
            "train_seconds": res.info["train_seconds"],
            "sharpness_seconds": res.info["sharpness_seconds"], "arrays": arrays}


_LOSS_DOC = {"mse": "mean over images of (f - y)^2 (PyTorch MSELoss, no factor 1/2)",
             "ce": "mean over images of softplus(f) - y f (BCEWithLogitsLoss)"}


def _fractions(status) -> dict:
    return status_fractions(status, NN_CODES)


def _summary(s, ds, seconds, net_steps, t_train, n_tiles, data) -> dict:
    arms = []
    for a, beta in enumerate(s.momenta):
        eta = ds["eta"].values[a]
        fs = ds["final_sharpness"].values[a]
        st = ds["status"].values[a]
        ok = st == CONVERGED
        ratio = fs * eta / stability_threshold("heavy_ball", beta)
        arms.append({"momentum": float(beta), "eta_range": list(s.eta_ranges[a]),
                     "fractions": _fractions(st),
                     "median_sharpness_ratio_converged": (float(np.median(ratio[ok]))
                                                          if ok.any() else None)})
    return {"command": "nn sweep", "seconds": seconds, "network_steps": int(net_steps),
            # wall clock, everything included (start-up, sharpness, store)
            "network_steps_per_second": net_steps / seconds,
            "network_steps_per_train_second": net_steps / t_train if t_train > 0 else None,
            "tiles_computed": n_tiles, "fractions": _fractions(ds["status"].values),
            "convergence_rule": s.convergence_rule,
            "arms": arms, "data_source": data.source, "outputs": {}}


def plot_sweep(ds, path) -> None:
    """Final norm (top: ``sqrt(sq_norm)``) and final sharpness (bottom) against the step size, one
    column per arm; dashed lines ``2/eta`` and ``(2 + 2 beta)/eta``."""
    import matplotlib

    from ..plotting.style import STATUS_COLORS, STYLE

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    mom = np.atleast_1d(ds["momentum"].values)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, len(mom), figsize=(3.4 * len(mom), 5.2), squeeze=False,
                                 sharex="col", constrained_layout=True)
        for a, beta in enumerate(mom):
            eta = ds["eta"].values[a]
            st = ds["status"].values[a]
            name = "GD" if beta == 0 else f"Polyak momentum $\\beta={beta:g}$"
            for row, var in enumerate(("sq_norm", "final_sharpness")):
                ax = axes[row, a]
                v = ds[var].values[a]
                if var == "sq_norm":  # plotted as the norm, as in the paper
                    v = np.sqrt(v)
                for code, label in ((CONVERGED, "converged"), (UNDECIDED, "not converged")):
                    m = (st == code) & np.isfinite(v)
                    if m.any():
                        ax.scatter(eta[m], v[m], s=7, lw=0, color=STATUS_COLORS[code],
                                   label=label, zorder=3)
                dv = st == DIVERGED
                if dv.any():
                    ax.scatter(eta[dv], np.full(dv.sum(), 0.0), s=7, marker="x", lw=0.7,
                               color="0.5", label="diverged", transform=ax.get_xaxis_transform(),
                               clip_on=False, zorder=3)
                if row == 1:
                    e = np.linspace(eta.min(), eta.max(), 400)
                    ax.plot(e, 2 / e, "k--", lw=1, label=r"$2/\eta$")
                    if beta:
                        ax.plot(e, stability_threshold("heavy_ball", beta) / e, "k:", lw=1.2,
                                label=r"$(2+2\beta)/\eta$")
                    fin = v[np.isfinite(v)]
                    top = max(np.nanmax(fin) if fin.size else 1.0, stability_threshold("heavy_ball", beta) / eta.max())
                    ax.set_ylim(0, 1.15 * min(top, stability_threshold("heavy_ball", beta) / eta.min()))
                    ax.set_xlabel(r"step size $\eta$")
                    ax.set_ylabel("final sharpness")
                else:
                    ax.set_title(name)
                    ax.set_ylabel("final parameter norm")
                    fin = v[np.isfinite(v) & (v > 0)]
                    if fin.size and fin.max() > 10 * fin.min():
                        ax.set_yscale("log")
                if a == len(mom) - 1:
                    ax.legend(frameon=False, loc="upper right", markerscale=1.5)
        fig.savefig(path)
        plt.close(fig)

