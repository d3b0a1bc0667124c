"""Batched GD from many initializations: per-point statuses, records, tiled stores."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from ..version import __version__
from ..errors import GdchaosInputError, check_nonneg, check_positive
from ..problems import RECORDS, Problem, check_records
from ._grid import Slice2D
from ..status import ENGINE_RULE, NOT_RUN, STATUS_DOC, status_fractions
from ._coords import LabelledStore, label_dataset, parameter_names, slice_coord_attrs
from ._device import check_device
from ._refine import as_refine
from ._store import VarSpec
from ._pointrun import run_optimizer
from .optim import Optimizer
from ._tiles import tile_buffers, tiles_in_memory, tiles_into_store, tiles_on_cluster  # noqa: F401

BACKENDS = ("numba", "torch")
MAX_ITER = 2**31 - 1  # iteration counters are int32


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides the outcome of a run (stored with the results).

    tol: converged when ``loss - min_value <= tol``.  div_threshold: diverged when the loss exceeds
    it (or is not finite).  gtol: saddle when the gradient norm falls to ``gtol`` away from the
    minimum.  dtype: ``"float64"`` (default) or ``"float32"``.
    """

    eta: float
    momentum: float = 0.0
    max_iter: int = 1000
    tol: float = 1e-8
    div_threshold: float = 1e8
    gtol: float = 1e-10
    dtype: str = "float64"
    backend: str = "numba"

    def __post_init__(self):
        check_positive("step size eta", self.eta)
        m = check_nonneg("momentum", self.momentum)
        if m >= 1:
            raise GdchaosInputError(f"momentum must be in [0, 1), got {m}")
        if int(self.max_iter) != self.max_iter or self.max_iter < 0:
            raise GdchaosInputError(f"max_iter must be a non-negative integer, got {self.max_iter}")
        if self.max_iter > MAX_ITER:
            raise GdchaosInputError(f"max_iter must be at most {MAX_ITER} (iteration counts are "
                                    f"int32), got {self.max_iter}")
        check_positive("tol", self.tol)
        check_positive("divergence threshold", self.div_threshold)
        check_nonneg("gtol", self.gtol)
        if self.dtype not in ("float64", "float32"):
            raise GdchaosInputError(f"dtype must be float64 or float32, got {self.dtype!r}")
        if self.backend not in BACKENDS:
            raise GdchaosInputError(f"backend must be one of {BACKENDS}, got {self.backend!r}")

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class RunResult:
    """Per-point results of :func:`run_points` (arrays of length n, ``distances`` ``(n, m)``)."""

    status: np.ndarray
    iterations: np.ndarray
    final_loss: np.ndarray
    sq_norm: np.ndarray | None = None  # records: None where not asked for
    imbalance: np.ndarray | None = None
    sharpness: np.ndarray | None = None
    minimizer: np.ndarray | None = None
    coordinate: np.ndarray | None = None
    distances: np.ndarray | None = None
    params: np.ndarray | None = None
    seconds: float = 0.0
    config: dict = field(default_factory=dict)

    def fractions(self):
        return status_fractions(self.status)

    def as_dict(self):
        return {k: getattr(self, k) for k in ("status", "iterations", "final_loss") + RECORDS
                + ("coordinate", "distances", "params") if getattr(self, k) is not None}


def _iterate(problem: Problem, X0, cfg: RunConfig, device=None, out=None):
    """Run the points of ``problem``; returns (Xf, status, iters, loss) (numba: into the arrays
    ``out["params"]``, ``out["status"]``, ... where given).  A gradient problem runs on the
    engine's one point runner (:func:`gdchaos.engine._pointrun.run_optimizer`) with GD or
    heavy ball; a map problem (``numba_kernel``, ``torch_run``) runs its own kernel."""
    X0 = np.ascontiguousarray(X0, dtype=np.float64)
    if cfg.dtype == "float32":
        X0 = X0.astype(np.float32).astype(np.float64)
    n = X0.shape[0]
    kernel = problem.numba_kernel()
    if kernel is None:
        res = run_optimizer(problem, X0, optimizer_of(cfg), max_iter=cfg.max_iter, tol=cfg.tol,
                            div_threshold=cfg.div_threshold, gtol=cfg.gtol, dtype=cfg.dtype,
                            backend=cfg.backend, device=device, out=out)
        return res["params"], res["status"], res["iterations"], res["final_loss"]
    args = _map_kernel_args(problem, cfg)
    if cfg.backend == "numba":
        out = out or {}
        Xf = out["params"] if "params" in out else np.empty_like(X0)
        status = out["status"] if "status" in out else np.empty(n, dtype=np.int8)
        iters = out["iterations"] if "iterations" in out else np.empty(n, dtype=np.int32)
        loss = out["final_loss"] if "final_loss" in out else np.empty(n, dtype=np.float64)
        if n:
            kernel(X0, *args, Xf, status, iters, loss)
        return Xf, status, iters, loss
    from ._torch import run_torch

    return run_torch(problem, X0, *args, device=device)


def optimizer_of(cfg: RunConfig) -> Optimizer:
    """The optimizer of a run: GD, or heavy ball with the config's momentum."""
    if cfg.momentum:
        return Optimizer("heavy_ball", eta=cfg.eta, momentum=cfg.momentum)
    return Optimizer("gd", eta=cfg.eta)


def _map_kernel_args(problem, cfg):
    return (problem.consts(), float(cfg.eta), float(problem.lam), float(cfg.momentum),
            int(cfg.max_iter), float(cfg.tol), float(problem.min_value), float(cfg.div_threshold),
            float(cfg.gtol), cfg.dtype == "float32")


def compile_kernel(problem: Problem, cfg: RunConfig):
    """Compile the generated numba kernel of ``problem`` now by a call on zero points, so that a
    definition the compiler refuses is refused before anything is written."""
    if cfg.backend != "numba" or problem.numba_kernel() is not None:
        return
    from ._kernelgen import optimizer_kernel

    opt = optimizer_of(cfg)
    X0 = np.empty((0, problem.n_params))
    optimizer_kernel(problem, opt.definition, opt.stop_rule)(
        X0, problem.consts(), np.empty((0, 4)), np.zeros(problem.n_params, dtype=np.int64), 1,
        1, 1.0, 1.0, 0.0, False, 1, X0.copy(), np.empty(0, dtype=np.int8),
        np.empty(0, dtype=np.int32), np.empty(0), np.empty(0))


def run_points(problem: Problem, X0, eta=None, *, config: RunConfig | None = None,
               coordinate: int | None = None, points=None, keep_params=False, device=None,
               records=None, _out=None, **kwargs) -> RunResult:
    """Run GD (or heavy ball) from every row of ``X0`` (shape ``(n, n_params)``).

    Never raises per element: each point gets a status (see ``gdchaos.STATUS_NAMES``).  Extra
    keyword arguments build the :class:`RunConfig` (``momentum``, ``max_iter``, ``tol``,
    ``div_threshold``, ``gtol``, ``dtype``, ``backend``).  ``records`` names the derived
    per-point records to compute (any of ``sq_norm, imbalance, sharpness, minimizer``; default
    ``None`` = all; the others stay ``None``).  ``coordinate`` records one final parameter,
    ``points`` (``(m, n_params)``) records distances of the final iterate to each.
    """
    if config is None:
        config = RunConfig(eta=eta, **kwargs)
    elif kwargs or eta is not None:
        raise GdchaosInputError("give either config or eta/keyword settings, not both")
    X0 = problem.check_X(X0)
    points = _check_run_args(problem, config, coordinate, points, device)
    problem.validate(X0)
    names = check_records(records)
    t0 = time.perf_counter()
    Xf, status, iters, loss = _iterate(problem, X0, config, device, _out)
    rec = _records(problem, X0, Xf, names)
    res = RunResult(status=status, iterations=iters, final_loss=loss, **rec, config=config.as_dict())
    if coordinate is not None:
        res.coordinate = Xf[:, int(coordinate)].copy()
    if points is not None:
        with np.errstate(all="ignore"):
            res.distances = np.linalg.norm(Xf[:, None, :] - points[None, :, :], axis=-1)
    if keep_params:
        res.params = Xf
    res.seconds = time.perf_counter() - t0
    return res


def _records(problem, X0, Xf, names):
    if not names:
        return {}
    rec = problem.fast_records(X0, Xf, names)
    return problem.records(X0, Xf, names) if rec is None else rec


#: default points per tile: big enough that a store's per-chunk costs stay small, small enough
#: that writing tile k overlaps computing tile k+1 and a killed run loses little
TILE_POINTS = 1 << 19


def _check_run_args(problem, config, coordinate, points, device, device_here=True):
    """Checks shared by :func:`run_points` and :func:`basin`; returns ``points`` as an array
    (``device_here=False``: the device is checked where the tiles run, on a cluster)."""
    if coordinate is not None and (int(coordinate) != coordinate
                                   or not 0 <= int(coordinate) < problem.n_params):
        raise GdchaosInputError(f"coordinate must be in [0, {problem.n_params}), got {coordinate}")
    if points is not None:
        points = np.atleast_2d(np.asarray(points, dtype=float))
        if points.ndim != 2 or points.shape[1] != problem.n_params:
            raise GdchaosInputError(f"points must have {problem.n_params} columns, got shape "
                                    f"{points.shape}")
    if config.momentum and not problem.supports_momentum:
        raise GdchaosInputError(f"{problem.name}: exact for plain GD only (momentum = 0)")
    if config.backend == "torch" and not problem.has_torch():
        raise GdchaosInputError(f"problem {problem.name!r} has no torch definition; run it with "
                                "backend='numba' (--backend numba)")
    if (config.backend == "numba" and problem.numba_kernel() is None
            and problem.numba_source() is None):
        raise GdchaosInputError(f"problem {problem.name!r} has no Numba definition; run it with "
                                "backend='torch' (--backend torch)")
    if device_here:
        check_device(config.backend, device)
    return points


#: point-steps of one default tile at most (2^19 points x 200 steps, figure 3's tile): a Numba
#: kernel computes a tile in one call that Ctrl-C cannot interrupt, so tiles of long runs are
#: smaller and Ctrl-C is answered within about a second
TILE_POINT_STEPS = TILE_POINTS * 200


def _default_tile_rows(nx, target=TILE_POINTS, max_iter=None):
    """Rows per tile: about ``target`` points, fewer when ``max_iter`` steps would make a tile
    cost more than :data:`TILE_POINT_STEPS` point-steps (never below one row)."""
    if max_iter:
        target = min(target, max(1, TILE_POINT_STEPS // int(max_iter)))
    return max(1, target // max(nx, 1))


def prepare(problem: Problem, config: RunConfig | None = None, store=False):
    """Do a run's one-time start-up now: import the engine's modules and load the problem's
    compiled kernels (a 2-point run), and with ``store`` the store's modules.  The command line
    calls it before it starts its clock; calling it is never needed."""
    config = config or RunConfig(eta=1.0)
    if config.backend == "numba":
        X = problem.warmup_points()  # None: a user's problem, defined where its user says
        if X is None:
            compile_kernel(problem, config)
        else:
            run_points(problem, X, config=RunConfig(eta=config.eta, max_iter=1, backend="numba"),
                       records=RECORDS)
        Slice2D.axes(problem.n_params, (0, 1), (0, 1), 2, 2).points()  # its compiled kernel
    if store:
        import importlib.util

        import xarray  # noqa: F401
        import zarr  # noqa: F401

        if importlib.util.find_spec("dask") is not None:
            import dask  # noqa: F401  (xarray imports it when it opens a store, if installed)
    import tqdm.auto  # noqa: F401


def basin(problem: Problem, grid: Slice2D, eta=None, *, config: RunConfig | None = None,
          store=None, tile_rows=None, coordinate=None, points=None, keep_params=False,
          overwrite=False, progress=False, device=None, extra_attrs=None, records=None,
          scheduler=None, client=None, threads=None, return_dataset=True, refine=None,
          **kwargs):
    """GD from every point of a 2-D slice; returns an ``xarray.Dataset`` on dims ``(y, x)``.

    With ``store`` (a path) the grid is computed tile by tile into a zarr store (tile k is
    written by a background thread while tile k+1 is computed); an interrupted run called again
    with the same arguments resumes with the missing tiles and ends with the same store as an
    uninterrupted run.  Variables: ``status`` (int8, codes in its ``codes`` attribute),
    ``iterations``, ``final_loss``, the ``records`` asked for (default ``None`` = all of
    ``sq_norm``, ``imbalance``, ``sharpness``, ``minimizer`` (1 = p-, 2 = p+, 0 = none); each
    variable's ``description`` attribute says what it means for this problem), optionally
    ``coordinate``, ``distance`` and ``params``.  Attributes carry every parameter, the seed and
    the package version.

    With ``scheduler`` (``"local:N"``, ``"tcp://HOST:PORT"``) or ``client`` (a
    ``dask.distributed.Client``) each tile of the store is one Dask task that computes and
    writes it (``threads`` numba threads per task, default 1); the store is the same, bit for
    bit (docs/cluster.md).  With a store, ``return_dataset=False`` returns its path instead of
    its dataset (the command line, when it needs only the fractions: xarray is not imported).

    ``refine`` (a number of levels, ``True`` for 4, or a :class:`gdchaos.engine.Refine`)
    computes the map boundary-refined (:mod:`gdchaos.engine._refine`, docs/maps.md): the
    same variables at full resolution plus ``computed`` (which pixels were computed, filled
    or sampled), and the measured error of the fill in the ``refine_*`` attributes.
    """
    refine = as_refine(refine)
    if config is None:
        config = RunConfig(eta=eta, **kwargs)
    names = check_records(records)
    on_cluster = scheduler is not None or client is not None
    if on_cluster:
        from . import cluster

        scheduler = cluster.parse_scheduler(scheduler) if client is None else None
        if store is None:
            raise GdchaosInputError("a cluster run writes a store: give store=PATH")
    if grid.n_params != problem.n_params:
        raise GdchaosInputError(f"slice lives in R^{grid.n_params} but the problem has "
                                f"{problem.n_params} parameters")
    # everything checked before a store is created (a bad call leaves nothing behind)
    points = _check_run_args(problem, config, coordinate, points, device,
                             device_here=not on_cluster or getattr(scheduler, "kind", None)
                             == "local")  # a local cluster's workers run on this machine
    if tile_rows is not None and (int(tile_rows) != tile_rows or tile_rows < 1):
        raise GdchaosInputError(f"tile_rows must be a positive integer, got {tile_rows!r}")
    problem.validate(problem.check_X(grid.points(slice(0, 1))))
    if problem.warmup_points() is None:  # a user's problem: its kernel compiled before a store
        compile_kernel(problem, config)
    P = problem.n_params
    docs = problem.RECORD_DOCS
    variables = {
        "status": VarSpec(("y", "x"), "int8", NOT_RUN, {"codes": STATUS_DOC}),
        "iterations": VarSpec(("y", "x"), "int32", -1),
        "final_loss": VarSpec(("y", "x"), "float64", np.nan),
    }
    for k in names:
        attrs_k = {"description": docs[k]}
        if k == "minimizer":
            variables[k] = VarSpec(("y", "x"), "int8", -1,
                                   dict(attrs_k, codes="1=p- (closest), 2=p+ (farthest), 0=none"))
        else:
            variables[k] = VarSpec(("y", "x"), "float64", np.nan, attrs_k)
    sizes = {"param": P}
    if coordinate is not None:
        pname = parameter_names(problem)[int(coordinate)]
        variables["coordinate"] = VarSpec(("y", "x"), "float64", np.nan, {
            "index": int(coordinate),
            "long_name": f"final value of parameter {int(coordinate)} ({pname})"})
    if points is not None:
        variables["distance"] = VarSpec(("y", "x", "point"), "float64", np.nan)
        sizes["point"] = points.shape[0]
    if keep_params:
        variables["params"] = VarSpec(("y", "x", "param"), "float64", np.nan)
    tile_rows = int(tile_rows or _default_tile_rows(grid.nx, max_iter=config.max_iter))
    if refine is not None:
        variables["computed"] = refine.variable()
    run_info = {
        "gdchaos_version": __version__,
        "problem": problem.params(),
        "config": config.as_dict(),
        "optimizer": optimizer_of(config).as_dict(),  # as a map records it (one vocabulary)
        "grid": grid.spec(),
        "coordinate": coordinate,
        "points": None if points is None else points.tolist(),
        "keep_params": bool(keep_params),
        "records": list(names),
    }
    if refine is not None:  # a refined tile depends on its rows
        run_info.update(refine=refine.spec(), tile_rows=tile_rows)
    attrs = {"gdchaos_version": __version__, "problem": problem.name,
             "optimizer": optimizer_of(config).name, "convergence_rule": ENGINE_RULE,
             "eta": config.eta, "seed": grid.seed, "status_codes": STATUS_DOC,
             "minimizers": problem.minimizers, "min_value": problem.min_value,
             "records": ",".join(names)}
    attrs.update({f"config_{k}": v for k, v in config.as_dict().items()})
    attrs.update({f"problem_{k}": v for k, v in problem.params().items() if k != "problem"})
    if extra_attrs:
        attrs.update(extra_attrs)
    static = {"slice_center": (("param",), grid.center),
              "slice_directions": (("basis", "param"), grid.directions)}
    if points is not None:
        static["points"] = (("point", "param"), points)
    tile = dict(problem=problem, grid=grid, config=config, names=names, coordinate=coordinate,
                points=points, keep_params=keep_params, device=device)
    coords = {"y": grid.ys, "x": grid.xs}
    coord_attrs = slice_coord_attrs(problem, grid)  # metadata: not in run_info (its hash)
    desc = f"basin {problem.name}"
    compute = partial(_tile, **tile)
    if refine is not None:
        compute = refine.tiles(partial(_pixels, **tile), grid.nx)
        desc += f" refined ({refine.levels} levels)"
    if store is None:
        return label_dataset(tiles_in_memory(compute, coords, variables, sizes,
                                             static, attrs, run_info, tile_rows, progress, desc),
                             coord_attrs)
    store_args = dict(path=store, coords=coords, variables=variables,
                      run_info=run_info, tile_rows=tile_rows, sizes=sizes, static=static,
                      attrs=attrs)
    ts = LabelledStore(coord_attrs, **store_args)
    if on_cluster:
        return tiles_on_cluster(ts, store_args, compute, config.backend, device,
                                scheduler, client, overwrite, progress, threads, desc,
                                return_dataset)
    if refine is not None:
        return tiles_into_store(ts, compute, overwrite, progress, desc, None, return_dataset)
    shared = {}  # one tile is computed at a time: one array of initializations serves all sets

    def buffers():  # the store's layout (an existing store keeps its own tile rows)
        n = ts.tile_rows * grid.nx
        if shared.get("points") is None or shared["points"].shape[0] < n:
            shared["points"] = np.empty((n, P))
        return tile_buffers(n, P, shared["points"])

    return tiles_into_store(ts, partial(_tile, **tile), overwrite, progress, desc, buffers,
                            return_dataset)


def _tile(problem, grid, sl, config, names, coordinate, points, keep_params, device, out=None,
          buffers=None):
    """Run the grid rows ``sl``; returns the store's variables with leading shape
    ``(rows, nx)``.  With ``out`` (whole-grid arrays by name) the kernel's outputs are written
    into their rows directly; with ``buffers`` (flat arrays of at least a tile's points, from
    :func:`._tiles.tile_buffers`) the initializations and the kernel's outputs go into their
    first ``rows * nx`` entries."""
    rows = sl.stop - sl.start
    n = rows * grid.nx
    dest = None
    if out is not None:
        dest = {k: out[k][sl].reshape((n,) + out[k].shape[2:])
                for k in ("status", "iterations", "final_loss", "params") if k in out}
    X0 = None
    if buffers is not None and buffers["status"].shape[0] >= n:
        X0 = _slice_points(grid, sl, buffers["points"][:n])
        if config.backend == "numba":
            dest = {k: buffers[k][:n] for k in ("status", "iterations", "final_loss", "params")}
    res = run_points(problem, grid.points(sl) if X0 is None else X0, config=config,
                     coordinate=coordinate, points=points, keep_params=keep_params, device=device,
                     records=names, _out=dest)
    data = {k: v.reshape((rows, grid.nx) + v.shape[1:]) for k, v in res.as_dict().items()}
    if "distances" in data:
        data["distance"] = data.pop("distances")
    return data


def _pixels(r, c, problem, grid, config, names, coordinate, points, keep_params, device):
    """The store's variables at the pixels ``(r[k], c[k])`` of the grid, flat (a refined
    map's tiles, :mod:`._refine`)."""
    res = run_points(problem, grid.points_at(r, c), config=config, coordinate=coordinate,
                     points=points, keep_params=keep_params, device=device, records=names)
    data = res.as_dict()
    if "distances" in data:
        data["distance"] = data.pop("distances")
    return data


def _slice_points(grid, sl, out):
    """``grid.points(sl)``, the same kernel, written into ``out`` (``(rows * nx, P)``)."""
    from ._kernels import slice_points_kernel

    ys = np.ascontiguousarray(grid.ys[sl])
    slice_points_kernel(grid._row_base(), np.ascontiguousarray(grid.directions[1]), ys, out)
    return out


def run_info(path_or_ds):
    """The parameters a store was made with (a dict), from the store's path (a ``str`` or
    ``os.PathLike``: only its root metadata are read, the tiles are not verified) or from a
    dataset of :func:`gdchaos.basin`, :func:`gdchaos.hyper_map` or :func:`gdchaos.open_store`."""
    if isinstance(path_or_ds, (str, os.PathLike)):
        attrs = root_attributes(os.fspath(path_or_ds))
    else:
        attrs = getattr(path_or_ds, "attrs", None)
    if not isinstance(attrs, dict) or "gdchaos_run" not in attrs:
        raise GdchaosInputError("run_info needs a gdchaos store (a path) or its dataset; got "
                                f"{type(path_or_ds).__name__} without a gdchaos_run attribute")
    try:
        return json.loads(attrs["gdchaos_run"])
    except (TypeError, ValueError):
        raise GdchaosInputError("the dataset's gdchaos_run attribute is not a run record "
                                "(JSON)") from None


def root_attributes(path):
    """The root attributes of the zarr store at ``path`` (a dict, or ``None`` when its document
    holds none); one line (:class:`GdchaosInputError`) when it has no readable ``zarr.json``."""
    try:
        with open(os.path.join(path, "zarr.json")) as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise GdchaosInputError(f"{path} is not a gdchaos store (no zarr.json)") from None
    except (OSError, ValueError) as exc:
        raise GdchaosInputError(f"cannot read store {path}: "
                                f"{getattr(exc, 'strerror', None) or exc}") from None
    return doc.get("attributes") if isinstance(doc, dict) else None
