"""Parameter-space slices (figures 5 and 13): a grid of initializations on a random 2D plane
through the origin, trained as a batch, stored tile by tile (resumable).

The plane is spanned by two Gaussian directions of the full parameter space, orthonormalized
(Gram-Schmidt), drawn from ``seed`` by torch's generator (:func:`slice_directions`; kept rather
than the engine's :func:`gdchaos.engine.random_orthonormal_directions`, which draws other
directions, so that the presets' results stay the same).  The slice itself is the engine's type,
a :class:`gdchaos.Slice2D` (:func:`slice_grid`: centre the origin, these directions, ``grid =
(nx, ny)`` points on ``range = (x0, x1, y0, y1)``, ``linspace``, endpoints included): grid point
``(x_j, y_i)`` is the initialization ``x_j d_1 + y_i d_2``.  Each tile
(``tile_rows`` grid rows) is one call of :func:`gdchaos.nn.train.train_batch` (pool of networks;
those that stop leave it), so a tile's result does not depend on which other tiles were computed:
a resumed run equals an uninterrupted one.

Stored per point: ``status, steps, final_loss, sq_norm, final_sharpness`` (``sq_norm``: squared
norm of the final parameters, the engine's record); static ``slice_center (param)`` and
``slice_directions (basis, param)`` as in the engine's stores; attribute ``convergence_rule``
(``"loss_below_tol"``: status 1 means the loss fell below ``tol``, no stability test).  Maps:
final loss and final sharpness, grey where training diverged.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import GdchaosInputError
from ..status import DIVERGED, NN_CODES, STATUS_DOC, status_fractions
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
    torch_threads,
    widths_of,
)

PAPER_RANGE = (32.0, 42.0, 16.0, 24.0)
PAPER_ZOOM = (38.5, 39.0, 18.5, 19.0)


@dataclass(frozen=True)
class SliceSettings(DataSettings):
    """Every setting of a parameter-space slice (defaults: the paper's figure 5)."""

    hidden: tuple = (25, 25)
    seed: int = 0  # slice directions
    loss: str = "mse"
    eta: float = 0.05
    momentum: float = 0.0
    weight_decay: float = 1e-3
    iters: int = 3000
    tol: float | None = 5e-4
    div: float = 1e4
    convergence_rule: str = CONVERGENCE_RULE  # status 1: loss < tol (no stability test)
    grid: tuple = (300, 300)  # (nx, ny), x first as everywhere
    range: tuple = PAPER_RANGE  # (x0, x1, y0, y1)
    sharpness_method: str = "lanczos"
    reduce: bool = True
    pool: int = 128
    tile_rows: int | None = None  # None: about 512 networks per tile (refined: 64 rows)
    refine: int | None = None  # boundary refinement's levels (docs/maps.md); None: every pixel
    refine_check: float | None = None  # its check sample (None: gdchaos.Refine's default)

    def validate(self) -> SliceSettings:
        check_data_settings(self)
        if not (self.eta > 0 and math.isfinite(self.eta)):
            raise GdchaosInputError(f"step size must be positive, got {self.eta}")
        if not 0 <= self.momentum < 1:
            raise GdchaosInputError(f"momentum must lie in [0, 1), got {self.momentum}")
        if len(self.grid) != 2 or min(int(g) for g in self.grid) < 1:
            raise GdchaosInputError(f"grid must be two positive integers (nx, ny), got {self.grid}")
        x0, x1, y0, y1 = (float(v) for v in self.range)
        if not (x0 < x1 and y0 < y1) or not all(map(math.isfinite, self.range)):
            raise GdchaosInputError(f"range must be x0,x1,y0,y1 with x0 < x1, y0 < y1, got {self.range}")
        if self.tile_rows is not None and int(self.tile_rows) < 1:
            raise GdchaosInputError(f"tile rows must be >= 1, got {self.tile_rows}")
        if self.refine is not None or self.refine_check is not None:
            self.refine_obj()  # its checks
        return self

    def refine_obj(self):
        """The slice's :class:`gdchaos.Refine` (its sample seeded by the slice's seed)."""
        from ..engine import Refine

        if self.refine is None:
            raise GdchaosInputError("refine_check (--refine-check) needs refine (--refine)")
        kw = {} if self.refine_check is None else {"check": self.refine_check}
        return Refine(levels=self.refine, seed=int(self.seed), **kw)


SLICE_PRESETS = {
    "paper": SliceSettings(),
    # quick: 64 x 64 points instead of 300 x 300, on a wider window that holds the convergence
    # boundary for the default directions (seed 0); same data, network, eta, 3000 iterations.
    "quick": SliceSettings(grid=(64, 64), range=(24.0, 42.0, 8.0, 30.0)),
}


def slice_preset(name: str = "paper", **overrides) -> SliceSettings:
    """A preset (``paper`` or ``quick``) with some settings replaced."""
    if name not in SLICE_PRESETS:
        raise GdchaosInputError(f"preset must be one of {', '.join(SLICE_PRESETS)}, got {name!r}")
    try:
        s = dataclasses.replace(SLICE_PRESETS[name], **overrides)
    except TypeError as exc:
        raise GdchaosInputError(f"unknown slice setting: {exc}") from None
    return s.validate()


def slice_directions(n: int, seed: int = 0) -> torch.Tensor:
    """Two orthonormal directions (2, n) of R^n: Gaussian draws from ``seed``, Gram-Schmidt
    (computed with one torch thread, so independent of the thread setting)."""
    with torch_threads(1):
        return _directions(int(n), int(seed))


def _directions(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator(device="cpu")
    g.manual_seed(seed)
    D = torch.randn(2, n, dtype=torch.float64, generator=g)
    d1 = D[0] / torch.linalg.vector_norm(D[0])
    d2 = D[1] - (D[1] @ d1) * d1
    d2 = d2 / torch.linalg.vector_norm(d2)
    d2 = d2 - (d2 @ d1) * d1  # second pass keeps |d1.d2| at rounding level
    d2 = d2 / torch.linalg.vector_norm(d2)
    return torch.stack([d1, d2])


def slice_grid(s: SliceSettings, n_params: int):
    """The slice as the engine's :class:`gdchaos.Slice2D`: through the origin, spanned by
    :func:`slice_directions` of ``s.seed``, ``s.grid = (nx, ny)`` points on ``s.range``."""
    from ..engine import Slice2D

    nx, ny = (int(g) for g in s.grid)
    x0, x1, y0, y1 = (float(v) for v in s.range)
    D = slice_directions(n_params, s.seed).numpy()
    return Slice2D(np.zeros(int(n_params)), D, (x0, x1), (y0, y1), nx, ny, int(s.seed))


class SliceInit:
    """``init(indices)``: initial parameters ``center + x_j d_1 + y_i d_2`` of the grid points
    of a :class:`gdchaos.Slice2D` (flat indices ``i * nx + j``), computed in torch."""

    def __init__(self, grid):
        self.grid = grid
        self.D = torch.from_numpy(grid.directions)
        self.center = torch.from_numpy(grid.center)
        self.any_center = bool(np.any(grid.center))
        self.xs = torch.as_tensor(grid.xs, dtype=torch.float64)
        self.ys = torch.as_tensor(grid.ys, dtype=torch.float64)
        self.nx = int(grid.nx)

    def __call__(self, idx):
        idx = torch.as_tensor(np.asarray(idx), dtype=torch.int64)
        a = self.xs[idx % self.nx][:, None]
        b = self.ys[idx // self.nx][:, None]
        P = a * self.D[0] + b * self.D[1]
        return P + self.center if self.any_center else P


def slice_problem(s: SliceSettings):
    """``(data, widths, grid, init)`` of a slice (``grid`` a :class:`gdchaos.Slice2D`): what a
    per-network reference needs."""
    from .models import n_params

    s = s.validate()
    data = load_data(s)
    widths = widths_of(s, data)
    grid = slice_grid(s, n_params(widths))
    return data, widths, grid, SliceInit(grid)


def default_tile_rows(s: SliceSettings) -> int:
    if s.tile_rows is not None:
        return int(s.tile_rows)
    nx, ny = (int(g) for g in s.grid)
    if s.refine is not None:  # a refined tile needs rows to refine across
        return max(1, min(ny, 64))
    return max(1, min(ny, round(512 / nx)))


@dataclass
class SliceResult:
    dataset: object  # xarray.Dataset (in memory)
    summary: dict
    grid: object = None  # the slice, a gdchaos.Slice2D


def run_slice(settings: SliceSettings, out=None, png=None, *, overwrite: bool = False,
              quiet: bool = True, max_tiles: int | None = None, workers: int = 1,
              threads: int | None = 1, scheduler=None, client=None) -> SliceResult:
    """Run (or resume) a slice; ``out`` a store folder (None: a temporary one, data kept in
    memory); ``png`` a figure path.  ``max_tiles`` stops after that many tiles (the rest stay
    pending, to be resumed).  ``workers`` processes share the tiles; ``threads`` torch threads
    each (1: results independent of both settings, bit for bit)."""
    from tqdm.auto import tqdm

    from ..engine import TiledStore, VarSpec

    s = settings.validate()
    if out is not None:  # a refused --out: before the data are loaded or anything is written
        TiledStore.check_target(out, overwrite)
    t0 = time.perf_counter()
    data, widths, grid, _ = _cached_problem(s)
    xs, ys = grid.xs, grid.ys
    ny, nx = len(ys), len(xs)
    coords = {"y": ys, "x": xs}
    variables = {
        "status": VarSpec(("y", "x"), "int8", -1, {"description": STATUS_DOC}),
        "steps": VarSpec(("y", "x"), "int32", -1, {"description": "GD updates performed"}),
        "final_loss": VarSpec(("y", "x"), "float64", np.nan),
        "sq_norm": VarSpec(("y", "x"), "float64", np.nan, {
            "description": "squared norm of the final parameters"}),
        "final_sharpness": VarSpec(("y", "x"), "float64", np.nan, {
            "description": f"top Hessian eigenvalue of the training loss ({s.sharpness_method}); "
                           "NaN where diverged"}),
    }
    info = settings_dict(s)
    for k in ("data_dir", "download"):
        info.pop(k)
    if s.refine is None:  # the record of a slice computed in full, as before refinement
        info.pop("refine")
        info.pop("refine_check")
    else:
        variables["computed"] = s.refine_obj().variable()
    info["data_indices"] = data.indices.tolist()
    info["kind"] = "nn_slice"
    tile_rows = default_tile_rows(s)
    info["tile_rows"] = tile_rows
    attrs = {"gdchaos_version": package_version(), "seed": int(s.seed), "data": data.info,
             "widths": list(widths), "eta": float(s.eta), "two_over_eta": 2.0 / float(s.eta),
             "convergence_rule": s.convergence_rule}
    path, tmp = store_path(out, "slice")
    store = TiledStore(path, coords, variables, info, tile_rows=tile_rows,
                       static={"slice_center": (("param",), grid.center),
                               "slice_directions": (("basis", "param"), grid.directions)},
                       attrs=attrs)
    pending = store.open(overwrite=overwrite)
    todo = pending if max_tiles is None else pending[:int(max_tiles)]
    stats = {"network_steps": 0, "train_seconds": 0.0, "sharpness_seconds": 0.0}

    def on_result(res):
        for key in stats:
            stats[key] += res[key]
        store.write_tile(res["tile"], res["arrays"])

    try:
        jobs = []
        for i in todo:
            sl = store.tile_rows_slice(i)
            jobs.append((s, i, sl.start, sl.stop, threads))
        n_pts = sum((j[3] - j[2]) * nx for j in jobs)
        with tqdm(total=n_pts, unit="net", desc="nn slice", file=sys.stderr, disable=quiet,
                  smoothing=0.05) as bar:
            if scheduler is None and client is None:
                run_jobs(_slice_tile, jobs, workers, on_result, bar)
            else:  # one task per job on a Dask cluster (docs/cluster.md)
                from ..engine.cluster import run_jobs as run_on_cluster

                run_on_cluster(scheduler, client, _slice_tile, jobs, on_result, bar,
                               weight=lambda r: r["n_networks"])
        seconds = time.perf_counter() - t0
        if s.refine is not None:
            from ..engine import refine_attrs

            store.finish(extra_attrs=refine_attrs(store.dataset()["computed"].values))
        ds = store.dataset().load()
        left = store.pending_tiles()
        t_train = stats["train_seconds"]
        summary = {"command": "nn slice", "seconds": seconds,
                   "network_steps": int(stats["network_steps"]),
                   # wall clock, everything included (start-up, sharpness, store)
                   "network_steps_per_second": stats["network_steps"] / seconds,
                   "network_steps_per_train_second": (stats["network_steps"] / t_train
                                                      if t_train > 0 else None),
                   "train_seconds": t_train, "sharpness_seconds": stats["sharpness_seconds"],
                   "workers": int(workers), "tiles_computed": len(todo),
                   "tiles_pending": len(left), "fractions": _fractions(ds["status"].values),
                   "grid": [nx, ny], "range": list(s.range), "data_source": data.source,
                   "convergence_rule": s.convergence_rule,
                   "outputs": {}}
        if s.refine is not None:
            from ..engine import refine_summary_of

            summary["refine"] = refine_summary_of(ds.attrs)
        finish_run(store, ds, summary, plot_slice, png, out, path)
    finally:
        store.close()  # drop the writer lock
        if tmp is not None:
            tmp.cleanup()
    return SliceResult(ds, summary, grid)


@functools.lru_cache(maxsize=2)
def _cached_problem(s: SliceSettings):
    return slice_problem(s)


def _train(s, flat, threads, progress, stats):
    """Train the slice's networks of the flat grid indices ``flat``; their variables."""
    from .train import train_batch

    data, widths, _, init = _cached_problem(s)
    res = train_batch(lambda idx: init(flat[np.asarray(idx)]), data.X, data.y, widths, s.eta,
                      n_networks=flat.size, momentum=s.momentum,
                      weight_decay=s.weight_decay, loss=s.loss, iters=s.iters, tol=s.tol,
                      div=s.div, final_sharpness=final_sharpness_arg(s.sharpness_method),
                      reduce=s.reduce, pool=s.pool, seed=s.seed,
                      convergence_rule=s.convergence_rule, progress=progress, threads=threads)
    stats["network_steps"] += res.network_steps
    stats["train_seconds"] += res.info["train_seconds"]
    stats["sharpness_seconds"] += res.info["sharpness_seconds"]
    return {"status": res.status, "steps": res.steps, "final_loss": res.final_loss,
            "sq_norm": res.sq_norm, "final_sharpness": res.final_sharpness}


def _slice_tile(job, progress=None) -> dict:
    """Train grid rows ``r0:r1`` of a slice (one tile), every network or, with the settings'
    ``refine``, boundary-refined (:class:`gdchaos.Refine`: the tile's networks where the
    status changes, the rest filled); runs in this or a worker process."""
    s, tile, r0, r1, threads = job
    nx = int(s.grid[0])
    shp = (r1 - r0, nx)
    stats = {"network_steps": 0, "train_seconds": 0.0, "sharpness_seconds": 0.0}
    if s.refine is None:
        flat = np.arange(r0 * nx, r1 * nx)
        arrays = {k: v.reshape(shp) for k, v in _train(s, flat, threads, progress,
                                                       stats).items()}
    else:
        compute = s.refine_obj().tiles(lambda r, c: _train(s, r * nx + c, threads, progress, stats), nx)
        arrays = compute(slice(r0, r1))
    return {"tile": tile, "n_networks": (r1 - r0) * nx, **stats, "arrays": arrays}


def _fractions(status) -> dict:
    """Shares of all grid points (one denominator, so they sum to 1): converged, diverged,
    undecided, and not_run for the tiles a ``max_tiles`` run left pending."""
    return {"not_run": 0.0, **status_fractions(status, NN_CODES)}


def plot_slice(ds, path) -> None:
    """Two maps: final loss (log scale) and final sharpness; grey where training diverged."""
    import matplotlib

    from ..plotting.style import DIVERGED_GREY, STYLE

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm, Normalize

    xs, ys = ds["x"].values, ds["y"].values
    st = ds["status"].values
    dx = (xs[1] - xs[0]) / 2 if xs.size > 1 else 0.5
    dy = (ys[1] - ys[0]) / 2 if ys.size > 1 else 0.5
    ext = [xs[0] - dx, xs[-1] + dx, ys[0] - dy, ys[-1] + dy]
    bad = (st == DIVERGED) | (st < 0)
    loss = np.ma.masked_where(bad | ~np.isfinite(ds["final_loss"].values), ds["final_loss"].values)
    sh = np.ma.masked_where(bad | ~np.isfinite(ds["final_sharpness"].values),
                            ds["final_sharpness"].values)
    eta = float(ds.attrs.get("eta", np.nan))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6), constrained_layout=True)
            # sharpness colour scale: 0 .. 1.25 * 2/eta at most (rare outliers would squash it)
        top = float(sh.max()) if sh.count() else 1.0
        if np.isfinite(eta):
            top = min(top, 1.25 * 2 / eta)
        for ax, vals, title, cmap, norm in (
                (axes[0], loss, "final loss", "viridis",
                 LogNorm(vmin=max(loss.min(), 1e-12), vmax=loss.max()) if loss.count() else None),
                (axes[1], sh, "final sharpness", "magma", Normalize(0.0, top))):
            cm = plt.get_cmap(cmap).with_extremes(bad=DIVERGED_GREY)
            im = ax.imshow(vals, origin="lower", extent=ext, aspect="auto", cmap=cm, norm=norm,
                           interpolation="nearest")
            over = title == "final sharpness" and sh.count() and float(sh.max()) > top
            cb = fig.colorbar(im, ax=ax, shrink=0.9, extend="max" if over else "neither")
            if title == "final sharpness" and np.isfinite(eta):
                cb.ax.axhline(2 / eta, color="c", lw=1.5)
                cb.set_label(rf"final sharpness (line: $2/\eta = {2 / eta:g}$)")
            else:
                cb.set_label(title)
            ax.set_title(f"{title} (grey: diverged)")
            ax.set_xlabel("slice coordinate 1")
            ax.set_ylabel("slice coordinate 2")
        fig.savefig(path)
        plt.close(fig)
