"""Batched GD from many initializations: per-point statuses, records, tiled stores."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np

from .. import __version__
from .._errors import GdchaosInputError, check_nonneg, check_positive
from ..problems import Problem
from ._grid import Slice2D
from ._status import NOT_RUN, STATUS_DOC, STATUS_NAMES
from ._store import TiledStore, VarSpec

BACKENDS = ("numba", "torch")
MAX_ITER = 2**31 - 1  #: the kernels count iterations in int32


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
            raise GdchaosInputError(f"max_iter must be <= {MAX_ITER} (int32 iteration counter), "
                                    f"got {self.max_iter}")
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
    sq_norm: np.ndarray
    imbalance: np.ndarray
    sharpness: np.ndarray
    minimizer: np.ndarray
    coordinate: np.ndarray | None = None
    distances: np.ndarray | None = None
    params: np.ndarray | None = None
    seconds: float = 0.0
    config: dict = field(default_factory=dict)

    def fractions(self):
        return status_fractions(self.status)

    def as_dict(self):
        out = {k: getattr(self, k) for k in ("status", "iterations", "final_loss", "sq_norm",
                                             "imbalance", "sharpness", "minimizer")}
        for k in ("coordinate", "distances", "params"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out


def status_fractions(status):
    status = np.asarray(status).ravel()
    n = max(status.size, 1)
    return {name: float(np.count_nonzero(status == code)) / n for code, name in STATUS_NAMES.items()}


def _iterate(problem: Problem, X0, cfg: RunConfig, device=None):
    """Run the kernel of ``problem``; returns (Xf, status, iters, loss)."""
    X0 = np.ascontiguousarray(X0, dtype=np.float64)
    if cfg.dtype == "float32":
        X0 = X0.astype(np.float32).astype(np.float64)
    if problem.kernel == "quotient" and cfg.momentum:
        raise GdchaosInputError("the quotient map is exact for plain GD only (momentum = 0)")
    args = (problem.consts(), float(cfg.eta), float(problem.lam), float(cfg.momentum),
            int(cfg.max_iter), float(cfg.tol), float(problem.min_value), float(cfg.div_threshold),
            float(cfg.gtol), cfg.dtype == "float32")
    n = X0.shape[0]
    if cfg.backend == "numba":
        from ._kernels import KERNELS

        Xf = np.empty_like(X0)
        status = np.empty(n, dtype=np.int8)
        iters = np.empty(n, dtype=np.int32)
        loss = np.empty(n, dtype=np.float64)
        if n:
            KERNELS[problem.kernel](X0, *args, Xf, status, iters, loss)
        return Xf, status, iters, loss
    from ._torch import run_torch

    return run_torch(problem.kernel, X0, *args, device=device)


def run_points(problem: Problem, X0, eta=None, *, config: RunConfig | None = None,
               coordinate: int | None = None, points=None, keep_params=False, device=None,
               **kwargs) -> RunResult:
    """Run GD (or heavy ball) from every row of ``X0`` (shape ``(n, n_params)``).

    Never raises per element: each point gets a status (see ``gdchaos.STATUS_NAMES``).  Extra
    keyword arguments build the :class:`RunConfig` (``momentum``, ``max_iter``, ``tol``,
    ``div_threshold``, ``gtol``, ``dtype``, ``backend``).  ``coordinate`` records one final
    parameter, ``points`` (``(m, n_params)``) records distances of the final iterate to each.
    """
    if config is None:
        config = RunConfig(eta=eta, **kwargs)
    elif kwargs or eta is not None:
        raise GdchaosInputError("give either config or eta/keyword settings, not both")
    X0 = problem.check_X(X0)
    points = _check_run_args(problem, config, coordinate, points, device)
    t0 = time.perf_counter()
    Xf, status, iters, loss = _iterate(problem, X0, config, device)
    rec = problem.records(X0, Xf)
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


def _check_run_args(problem, config, coordinate, points, device):
    """Checks shared by :func:`run_points` and :func:`basin`; returns ``points`` as an array."""
    if coordinate is not None and (int(coordinate) != coordinate
                                   or not 0 <= int(coordinate) < problem.n_params):
        raise GdchaosInputError(f"coordinate must be in [0, {problem.n_params}), got {coordinate}")
    if points is not None:
        points = np.atleast_2d(np.asarray(points, dtype=float))
        if points.ndim != 2 or points.shape[1] != problem.n_params:
            raise GdchaosInputError(f"points must have {problem.n_params} columns, got shape "
                                    f"{points.shape}")
    if problem.kernel == "quotient" and config.momentum:
        raise GdchaosInputError("the quotient map is exact for plain GD only (momentum = 0)")
    check_device(config.backend, device)
    return points


def check_device(backend, device):
    """Refuse a device the backend cannot use: any ``device`` with numba, the torch backend
    without torch installed, or a torch device that does not exist or is not available here."""
    if backend != "torch":
        if device is not None:
            raise GdchaosInputError(f"device {device!r} applies to the torch backend only "
                                    f"(backend is {backend!r})")
        return
    from ._torch import _import_torch

    torch = _import_torch()
    if device is None:
        return
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise GdchaosInputError(f"unknown torch device {device!r} (cpu, cuda, cuda:N, mps)") \
            from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise GdchaosInputError(f"device {device!r}: CUDA is not available to torch here")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise GdchaosInputError(f"device {device!r}: only {torch.cuda.device_count()} CUDA "
                                    "device(s)")
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise GdchaosInputError(f"device {device!r}: MPS is not available to torch here")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise GdchaosInputError(f"device {device!r}: the torch backend runs on cpu, cuda or mps")


def _default_tile_rows(nx, target=1 << 17):
    return max(1, target // max(nx, 1))


def basin(problem: Problem, grid: Slice2D, eta=None, *, config: RunConfig | None = None,
          store=None, tile_rows=None, coordinate=None, points=None, keep_params=False,
          overwrite=False, progress=False, device=None, extra_attrs=None, **kwargs):
    """GD from every point of a 2-D slice; returns an ``xarray.Dataset`` on dims ``(y, x)``.

    With ``store`` (a path) the grid is computed tile by tile into a zarr store; an interrupted
    run called again with the same arguments resumes with the missing tiles and ends with the same
    store as an uninterrupted run.  Variables: ``status`` (int8, codes in its ``codes``
    attribute), ``iterations``, ``final_loss``, ``sq_norm``, ``imbalance``, ``sharpness``,
    ``minimizer`` (1 = p-, 2 = p+, 0 = none), optionally ``coordinate``, ``distance`` and
    ``params``.  Attributes carry every parameter, the seed and the package version.
    """
    if config is None:
        config = RunConfig(eta=eta, **kwargs)
    if grid.n_params != problem.n_params:
        raise GdchaosInputError(f"slice lives in R^{grid.n_params} but the problem has "
                                f"{problem.n_params} parameters")
    # everything checked before a store is created (a bad call leaves nothing behind)
    points = _check_run_args(problem, config, coordinate, points, device)
    if tile_rows is not None and (int(tile_rows) != tile_rows or tile_rows < 1):
        raise GdchaosInputError(f"tile_rows must be a positive integer, got {tile_rows!r}")
    P = problem.n_params
    variables = {
        "status": VarSpec(("y", "x"), "int8", NOT_RUN, {"codes": STATUS_DOC}),
        "iterations": VarSpec(("y", "x"), "int32", -1),
        "final_loss": VarSpec(("y", "x"), "float64", np.nan),
        "sq_norm": VarSpec(("y", "x"), "float64", np.nan),
        "imbalance": VarSpec(("y", "x"), "float64", np.nan),
        "sharpness": VarSpec(("y", "x"), "float64", np.nan),
        "minimizer": VarSpec(("y", "x"), "int8", -1, {"codes": "1=p- (closest), 2=p+ (farthest), 0=none"}),
    }
    sizes = {"param": P}
    if coordinate is not None:
        variables["coordinate"] = VarSpec(("y", "x"), "float64", np.nan,
                                          {"index": int(coordinate)})
    if points is not None:
        variables["distance"] = VarSpec(("y", "x", "point"), "float64", np.nan)
        sizes["point"] = points.shape[0]
    if keep_params:
        variables["params"] = VarSpec(("y", "x", "param"), "float64", np.nan)
    run_info = {
        "gdchaos_version": __version__,
        "problem": problem.params(),
        "config": config.as_dict(),
        "grid": grid.spec(),
        "coordinate": coordinate,
        "points": None if points is None else points.tolist(),
        "keep_params": bool(keep_params),
    }
    attrs = {"gdchaos_version": __version__, "problem": problem.name,
             "eta": config.eta, "seed": grid.seed, "status_codes": STATUS_DOC,
             "minimizers": problem.minimizers, "min_value": problem.min_value}
    attrs.update({f"config_{k}": v for k, v in config.as_dict().items()})
    attrs.update({f"problem_{k}": v for k, v in problem.params().items() if k != "problem"})
    if extra_attrs:
        attrs.update(extra_attrs)
    static = {"slice_center": (("param",), grid.center),
              "slice_directions": (("basis", "param"), grid.directions)}
    if points is not None:
        static["points"] = (("point", "param"), points)
    from tqdm.auto import tqdm

    tile_rows = int(tile_rows or _default_tile_rows(grid.nx))
    if store is None:
        return _basin_in_memory(problem, grid, config, variables, sizes, static, attrs, run_info,
                                tile_rows, coordinate, points, keep_params, progress, device)
    ts = TiledStore(store, {"y": grid.ys, "x": grid.xs}, variables, run_info, tile_rows,
                    sizes=sizes, static=static, attrs=attrs)
    pending = ts.open(overwrite=overwrite, resume=True)
    bar = tqdm(total=ts.n_tiles, initial=ts.n_tiles - len(pending), disable=not progress,
               desc=f"basin {problem.name}", unit="tile", leave=False)
    for i in pending:
        sl = ts.tile_rows_slice(i)
        ts.write_tile(i, _tile(problem, grid, sl, config, coordinate, points, keep_params, device))
        bar.update(1)
    bar.close()
    return ts.dataset()


def _tile(problem, grid, sl, config, coordinate, points, keep_params, device):
    res = run_points(problem, grid.points(sl), config=config, coordinate=coordinate,
                     points=points, keep_params=keep_params, device=device)
    rows = sl.stop - sl.start
    data = {k: np.asarray(v).reshape((rows, grid.nx) + np.asarray(v).shape[1:])
            for k, v in res.as_dict().items()}
    if "distances" in data:
        data["distance"] = data.pop("distances")
    return data


def _basin_in_memory(problem, grid, config, variables, sizes, static, attrs, run_info, tile_rows,
                     coordinate, points, keep_params, progress, device):
    import xarray as xr
    from tqdm.auto import tqdm

    sizes = dict(sizes, y=grid.ny, x=grid.nx)
    out = {name: np.empty(tuple(sizes[d] for d in spec.dims), dtype=spec.dtype)  # every tile fills
           for name, spec in variables.items()}
    n_tiles = -(-grid.ny // tile_rows)
    for i in tqdm(range(n_tiles), disable=not progress, desc=f"basin {problem.name}",
                  unit="tile", leave=False):
        sl = slice(i * tile_rows, min(grid.ny, (i + 1) * tile_rows))
        for k, v in _tile(problem, grid, sl, config, coordinate, points, keep_params,
                          device).items():
            out[k][sl] = v
    ds = xr.Dataset(
        {name: (spec.dims, out[name], spec.attrs or {}) for name, spec in variables.items()},
        coords={"y": grid.ys, "x": grid.xs})
    for name, (dims, arr) in static.items():
        ds[name] = (dims, np.asarray(arr))
    ds.attrs.update(attrs)
    ds.attrs["gdchaos_run"] = json.dumps(json.loads(json.dumps(run_info, default=str)),
                                         sort_keys=True)
    return ds


def run_info(ds):
    """The parameters a store was made with (a dict)."""
    return json.loads(ds.attrs["gdchaos_run"])
