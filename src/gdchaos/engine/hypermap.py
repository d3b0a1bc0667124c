"""Maps over any two hyperparameters: step sizes (global or per parameter group), momentum,
weight decay, the scale of the initialization, an offset added to a parameter group, and the two
coordinates of a parameter slice, each on a linear or log axis (docs/maps.md).

Every point of a map is one run of an optimizer (:mod:`gdchaos.engine.optim`) from its own
initialization with its own hyperparameters; a tile of points is one call of the compiled
optimizer kernel (per-point hyperparameters passed as arrays), into the same tiled, resumable
stores as :func:`gdchaos.basin` with the same statuses.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import GdchaosInputError, check_finite, check_int
from ..problems import RECORDS, check_records
from ..status import NOT_RUN, STATUS_DOC
from ..version import __version__
from ._grid import random_orthonormal_directions
from ._coords import LabelledStore, label_dataset
from ._pointrun import SCORE_WINDOW, _groups, _Layout, run_optimizer
from ._run import (RunConfig, _default_tile_rows, check_device, tiles_in_memory,
                   tiles_into_store, tiles_on_cluster)
from ._refine import as_refine
from ._store import VarSpec
from .optim import STOP_RULES, Optimizer

#: axis names (``GROUP``: a name of the problem's ``param_groups``)
AXES = {
    "eta": "global step size (groups without their own step size)",
    "eta_GROUP": "step size of one parameter group",
    "momentum": "heavy ball/Nesterov beta, Adam/AdamW b1",
    "weight_decay": "AdamW's decoupled weight decay",
    "lam": "the problem's weight decay lam",
    "init_scale": "x0 = s * (init + a e1 + b e2) (+ offsets)",
    "offset_GROUP": "a number added to every parameter of one group at the start",
    "slice_x": "coordinate a along the slice direction e1",
    "slice_y": "coordinate b along the slice direction e2",
}
SCORE_DOC = ("trainability score: mean of the losses at the last min(window, steps + 1) iterates "
             "(the final one included) divided by the loss at the start; +inf for a diverged "
             "point, NaN where the first loss is 0")


@dataclasses.dataclass(frozen=True)
class Axis:
    """One axis of a map: ``name`` (see :data:`AXES`), range ``[lo, hi]``, log or linear."""

    name: str
    lo: float
    hi: float
    log: bool = False

    def __post_init__(self):
        lo = check_finite(f"axis {self.name} low end", self.lo)
        hi = check_finite(f"axis {self.name} high end", self.hi)
        if not lo < hi:
            raise GdchaosInputError(f"axis {self.name}: needs low < high, got {lo}, {hi}")
        if self.log and not lo > 0:
            raise GdchaosInputError(f"axis {self.name}: a log axis needs low > 0, got {lo}")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)
        object.__setattr__(self, "log", bool(self.log))

    @classmethod
    def parse(cls, text, flag="--x"):
        """``NAME:SCALE:LO,HI`` with SCALE ``lin`` or ``log`` (``eta_u:log:1e-3,1e1``)."""
        parts = str(text).split(":")
        if len(parts) != 3 or parts[1] not in ("lin", "log"):
            raise GdchaosInputError(f"{flag} must be NAME:lin|log:LO,HI (e.g. eta_u:log:1e-3,1e1), "
                                    f"got {text!r}")
        try:
            lo, hi = (float(t) for t in parts[2].split(","))
        except ValueError:
            raise GdchaosInputError(f"{flag}: LO,HI must be two numbers, got {parts[2]!r}") from None
        return cls(parts[0].strip(), lo, hi, parts[1] == "log")

    def values(self, n):
        if self.log:
            return np.geomspace(self.lo, self.hi, int(n))
        return np.linspace(self.lo, self.hi, int(n))

    def spec(self):
        return {"name": self.name, "lo": self.lo, "hi": self.hi,
                "scale": "log" if self.log else "lin"}


def check_axis(problem, optimizer: Optimizer, axis: Axis, backend="numba"):
    """Refuse an axis the problem or optimizer does not have (one line)."""
    groups = _groups(problem)
    name = axis.name
    for prefix in ("eta_", "offset_"):
        if name.startswith(prefix):
            g = name[len(prefix):]
            if g not in groups:
                raise GdchaosInputError(f"axis {name}: the {problem.name} problem has no parameter "
                                        f"group {g!r} (groups: {', '.join(groups) or 'none'})")
            if prefix == "eta_" and not axis.lo > 0:
                raise GdchaosInputError(f"axis {name}: step sizes must be > 0")
            return
    hyper = optimizer.definition.hyper
    if name == "eta" and not axis.lo > 0:
        raise GdchaosInputError("axis eta: step sizes must be > 0")
    elif name in hyper:
        for v in (axis.lo, axis.hi):
            hyper[name].check(f"axis {name}", v)
    elif name == "momentum":
        raise GdchaosInputError(f"axis momentum: optimizer {optimizer.name} has none (use "
                                "heavy_ball, nesterov, adam or adamw)")
    elif name == "weight_decay":
        raise GdchaosInputError("axis weight_decay is AdamW's; with other optimizers map "
                                "the problem's lam (axis lam)")
    elif name == "lam":
        if problem.with_lam(problem.lam) is None:
            raise GdchaosInputError(f"axis lam: the {problem.name} problem has no weight decay lam")
        if axis.lo < 0:
            raise GdchaosInputError("axis lam must be >= 0")
    elif name not in ("eta", "init_scale", "slice_x", "slice_y"):
        extra = "".join(f", {h}" for h in hyper if h not in AXES)
        raise GdchaosInputError(f"unknown axis {name!r}; choose from {', '.join(AXES)}{extra}")


def hyper_map(problem, x: Axis, y: Axis, grid=256, *, optimizer: Optimizer | None = None,
              init=None, directions=None, seed=0, max_iter=1000, tol=1e-8, div_threshold=1e8,
              gtol=1e-10, dtype="float64", backend="numba", device=None, window=SCORE_WINDOW,
              records=(), keep_params=False, store=None, tile_rows=None, overwrite=False,
              progress=False, extra_attrs=None, scheduler=None, client=None, threads=None,
              refine=None):
    """A map of ``optimizer`` on ``problem`` over the axes ``x`` (columns) and ``y`` (rows),
    ``grid`` points per axis (N or ``(nx, ny)``); returns an ``xarray.Dataset`` on dims
    ``(y, x)`` whose coordinates are the axis values.

    Every point starts from ``init`` (``n_params`` numbers; default a seeded standard normal
    draw) moved along the slice ``directions`` (``(2, n_params)``; default: the coordinate
    axes for 2 parameters, else seeded random orthonormal ones) by the ``slice_x``/``slice_y``
    axes, scaled by ``init_scale`` and shifted by ``offset_GROUP``.  Variables: ``status``
    (statuses of :func:`gdchaos.basin`; the convergence rule is the optimizer's ``stop_rule``,
    in the attributes), ``iterations``, ``final_loss``, ``score`` (:data:`SCORE_DOC`), the
    ``records`` asked for (any of ``sq_norm, imbalance, sharpness, minimizer``) and with
    ``keep_params`` the final ``params``.  With ``store`` (a path) the map is computed tile by
    tile into a resumable zarr store, as :func:`gdchaos.basin` does; with ``scheduler``
    (``"local:N"``, ``"tcp://HOST:PORT"``) or ``client`` (a ``dask.distributed.Client``) its
    tiles are tasks on a Dask cluster (docs/cluster.md), ``threads`` Numba threads each.
    ``refine`` computes the map boundary-refined, as :func:`gdchaos.basin` does.
    """
    refine = as_refine(refine)
    optimizer = optimizer or Optimizer()
    cfg = RunConfig(eta=optimizer.eta, max_iter=max_iter, tol=tol, div_threshold=div_threshold,
                    gtol=gtol, dtype=dtype, backend=backend)
    window = check_int("score window", window, lo=1)
    if not isinstance(x, Axis) or not isinstance(y, Axis):
        raise GdchaosInputError("x and y must be gdchaos.engine.hypermap.Axis")
    if x.name == y.name:
        raise GdchaosInputError(f"the two axes must differ (both are {x.name})")
    if problem.numba_kernel() is not None:
        raise GdchaosInputError(f"the {problem.name} problem is a map, not a gradient problem: "
                                "hyperparameter maps need a gradient")
    for ax in (x, y):
        check_axis(problem, optimizer, ax, backend)
    optimizer.step_sizes(_groups(problem), problem.n_params)  # its group names exist
    on_cluster = scheduler is not None or client is not None
    if on_cluster and store is None:
        raise GdchaosInputError("a map on a cluster needs a store (store=...; --out)")
    if not on_cluster:  # on a cluster the device is checked where the tiles run
        check_device(backend, device)
    names = check_records(records)
    nx, ny = (int(grid), int(grid)) if np.ndim(grid) == 0 else map(int, grid)
    if min(nx, ny) < 1:
        raise GdchaosInputError(f"grid must be positive, got {grid}")
    if tile_rows is not None and (int(tile_rows) != tile_rows or tile_rows < 1):
        raise GdchaosInputError(f"tile_rows must be a positive integer, got {tile_rows!r}")
    P = problem.n_params
    if init is None:
        init = np.random.default_rng(check_int("seed", seed, lo=0)).standard_normal(P)
    init = np.asarray(init, dtype=np.float64).reshape(-1)
    if init.size != P or not np.all(np.isfinite(init)):
        raise GdchaosInputError(f"init must be {P} finite numbers, got {init.size}")
    if directions is None:
        directions = np.eye(2) if P == 2 else random_orthonormal_directions(P, seed)
    directions = np.asarray(directions, dtype=np.float64)
    if directions.shape != (2, P) or not np.all(np.isfinite(directions)):
        raise GdchaosInputError(f"directions must be a finite (2, {P}) array")
    lay = _Layout(problem, optimizer, init, directions)
    xs, ys = x.values(nx), y.values(ny)
    run_kw = dict(max_iter=max_iter, tol=tol, div_threshold=div_threshold, gtol=gtol,
                  dtype=dtype, backend=backend, device=device, window=window)

    def block(sl):
        rows = sl.stop - sl.start
        vals = {x.name: np.tile(xs, rows), y.name: np.repeat(ys[sl], nx)}
        return vals, rows * nx

    # one point before anything is written: the problem runs (definition, kernel, backend)
    v0, _ = block(slice(0, 1))
    v0 = {k: v[:1] for k, v in v0.items()}
    problem.validate(lay.points(v0, 1))
    run_optimizer(problem, lay.points(v0, 1), optimizer, hyper=_hp_only(v0, optimizer),
                  **dict(run_kw, max_iter=0))

    def run(vals, n):
        X0 = lay.points(vals, n)
        res = run_optimizer(problem, X0, optimizer, hyper=_hp_only(vals, optimizer), **run_kw)
        data = {k: res[k] for k in ("status", "iterations", "final_loss", "score")}
        data.update(_map_records(problem, X0, res["params"], names, vals.get("lam")))
        if keep_params:
            data["params"] = res["params"]
        return data

    def compute(sl, out=None):
        rows = sl.stop - sl.start
        return {k: np.asarray(v).reshape((rows, nx) + np.shape(v)[1:])
                for k, v in run(*block(sl)).items()}

    def pixels(r, c):  # a refined map's tiles
        return run({x.name: xs[c], y.name: ys[r]}, r.size)

    variables = {
        "status": VarSpec(("y", "x"), "int8", NOT_RUN,
                          {"codes": STATUS_DOC, "convergence_rule": optimizer.stop_rule}),
        "iterations": VarSpec(("y", "x"), "int32", -1),
        "final_loss": VarSpec(("y", "x"), "float64", np.nan),
        "score": VarSpec(("y", "x"), "float64", np.nan,
                         {"description": SCORE_DOC, "window": window}),
    }
    for k in names:
        variables[k] = VarSpec(("y", "x"), "int8" if k == "minimizer" else "float64",
                               -1 if k == "minimizer" else np.nan,
                               {"description": problem.RECORD_DOCS[k]})
    if keep_params:
        variables["params"] = VarSpec(("y", "x", "param"), "float64", np.nan)
    tile_rows = int(tile_rows or _default_tile_rows(  # Numba tiles: bounded in point-steps
        nx, max_iter=max_iter if backend == "numba" else None))
    if refine is not None:
        variables["computed"] = refine.variable()
    run_info = {"gdchaos_version": __version__, "kind": "hyper_map", "problem": problem.params(),
                "config": {k: v for k, v in cfg.as_dict().items() if k not in ("eta", "momentum")},
                "optimizer": optimizer.as_dict(), "x_axis": x.spec(), "y_axis": y.spec(),
                "grid": [nx, ny], "init": init.tolist(), "directions": directions.tolist(),
                "window": window, "records": list(names), "keep_params": bool(keep_params)}
    if refine is not None:  # a refined tile depends on its rows
        run_info.update(refine=refine.spec(), tile_rows=tile_rows)
        compute = refine.tiles(pixels, nx)
    attrs = {"gdchaos_version": __version__, "problem": problem.name, "status_codes": STATUS_DOC,
             "optimizer": optimizer.name, "convergence_rule": optimizer.stop_rule,
             "convergence_rule_doc": STOP_RULES[optimizer.stop_rule], "x_axis": x.name,
             "y_axis": y.name, "x_scale": x.spec()["scale"], "y_scale": y.spec()["scale"],
             "min_value": problem.min_value, "records": ",".join(names), "seed": seed}
    attrs.update({f"config_{k}": v for k, v in run_info["config"].items()})
    attrs.update({f"problem_{k}": v for k, v in problem.params().items() if k != "problem"})
    if extra_attrs:
        attrs.update(extra_attrs)
    static = {"init": (("param",), init), "slice_directions": (("basis", "param"), directions)}
    coords = {"y": ys, "x": xs}
    coord_attrs = {"x": axis_attrs(x), "y": axis_attrs(y)}  # metadata: not in run_info
    sizes = {"param": P}
    desc = f"map {problem.name} {optimizer.name}"
    if refine is not None:
        desc += f" refined ({refine.levels} levels)"
    if store is None:
        return label_dataset(tiles_in_memory(compute, coords, variables, sizes, static, attrs,
                                             run_info, tile_rows, progress, desc), coord_attrs)
    store_args = dict(path=store, coords=coords, variables=variables, run_info=run_info,
                      tile_rows=tile_rows, sizes=sizes, static=static, attrs=attrs)
    ts = LabelledStore(coord_attrs, **store_args)
    if on_cluster:
        return tiles_on_cluster(ts, store_args, compute, cfg.backend, device, scheduler, client,
                                overwrite, progress, threads, desc)
    return tiles_into_store(ts, compute, overwrite, progress, desc)


def axis_attrs(axis: Axis) -> dict:
    """The ``long_name``, ``description`` and ``scale`` attributes of a map's coordinate."""
    name = axis.name
    key = name
    for prefix in ("eta_", "offset_"):
        if name.startswith(prefix) and name not in AXES:
            key = prefix + "GROUP"
    doc = AXES.get(key, name)
    if key != name:
        group = name.split("_", 1)[1]
        doc = doc.replace("one parameter group", f"parameter group {group}").replace(
            "one group", f"group {group}")
    return {"long_name": f"{name} ({doc})" if doc != name else name, "description": doc,
            "scale": axis.spec()["scale"]}


def _hp_only(vals, optimizer):
    hyper = optimizer.definition.hyper
    return {k: v for k, v in vals.items()
            if k in ("eta", "lam") or k.startswith("eta_") or k in hyper}


def _map_records(problem, X0, Xf, names, lam=None):
    """The records ``names`` of a block (per weight decay where the map is over lam)."""
    if not names:
        return {}
    if lam is None:
        rec = problem.fast_records(X0, Xf, names)
        return problem.records(X0, Xf, names) if rec is None else rec
    out = {k: np.empty(Xf.shape[0], dtype=np.int8 if k == "minimizer" else np.float64)
           for k in names}
    for v in np.unique(lam):
        m = lam == v
        p = problem.with_lam(float(v))
        for k, arr in _map_records(p, X0[m], Xf[m], names).items():
            out[k][m] = arr
    return out


__all__ = ["AXES", "Axis", "SCORE_DOC", "SCORE_WINDOW", "axis_attrs", "check_axis",
           "hyper_map", "run_optimizer", "RECORDS"]
