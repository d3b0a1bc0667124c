"""Rerun or extend a store from the run it records (``gdchaos rerun``; docs/maps.md).

The stores of ``gdchaos basin``, ``map``, ``nn map`` and ``nn slice`` (and of :func:`gdchaos.basin`
and :func:`gdchaos.hyper_map` with ``store=``) record their run (attribute ``gdchaos_run``).
:func:`rerun` rebuilds the run from that record and calls the library function that made the
store (:func:`gdchaos.basin`, :func:`gdchaos.hyper_map`, :func:`gdchaos.nn.maps.network_map`,
:func:`gdchaos.nn.slices.run_slice`) with at most these changes: the step limit, the grid (over
the recorded window), the tiles of a new store, and options that change no value (threads,
device, cluster, worker processes, data folder).  The result is, bit for bit, the store a fresh
run of the recorded command with those values writes; a changed run is computed from its start
(a store keeps no optimizer state to continue from).  Without ``out`` and without a change the
source is resumed as its own command would resume it (verified; missing or failing tiles
recomputed); without ``out`` a change is refused unless ``overwrite``.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..engine import MAX_ITER, root_attributes
from ..engine.cluster import store_fractions as _store_fractions, usable_cores
from ..errors import GdchaosInputError, check_int
from ..status import LEGACY_RULES
from ..version import __version__
from ._rerun_command import command_argv, flag_values, new_command, param_values
from ._rerun_window import axis_flags, check_window, window_change, windowed_axes

#: the kinds of stores :func:`rerun` takes (named by the command that makes them)
KINDS = ("basin", "map", "nn map", "nn slice")
_KINDS_TEXT = "gdchaos basin, map, nn map and nn slice"


@dataclass
class Rerun:
    """What :func:`rerun` does, known before anything is computed or written (its ``check``
    receives it: the command line checks its size limits on it), and then what it did: the
    store's ``dataset``, status ``fractions`` (an nn map's with ``trainable``), ``seconds``,
    and for a store resumed in place the tiles ``pending_before`` of its ``n_tiles``."""

    kind: str  # one of KINDS
    source: str
    out: str  # where the run is written (the source itself when in_place)
    in_place: bool
    grid: tuple  # (nx, ny) of the run
    iters: int  # its step limit
    changes: dict = field(default_factory=dict)  # name -> (recorded, new); empty: none
    tile_rows: int | None = None  # of a new store (None: the default layout)
    command: str | None = None  # the new store's ``command`` attribute (None: not recorded)
    n_params: int = 0
    records: tuple = ()
    keep_params: bool = False
    coordinate: int | None = None
    n_points: int = 0  # basin: points whose distances are recorded
    problem: object = None
    settings: object = None  # nn map, nn slice: the run's settings dataclass
    call: object = field(default=None, repr=False)
    dataset: object = field(default=None, repr=False)
    fractions: dict | None = None
    seconds: float | None = None
    pending_before: list | None = None
    n_tiles: int | None = None


def rerun(store, *, out=None, iters=None, grid=None, window=None, overwrite=False,
          tile_rows=None, threads=None, device=None, scheduler=None, client=None, workers=None,
          data_dir=None, progress=False, check=None) -> Rerun:
    """Recompute or extend the store ``store`` from its recorded run (see the module's text).

    ``iters``: a new step limit; ``grid``: N or ``(nx, ny)`` over the recorded window;
    ``window``: ``(x0, x1, y0, y1)``, the first and last pixels' coordinates of a new window (the
    store's coordinate values; basin, map and nn map stores, ``--range``);
    ``tile_rows``: rows per tile of a new store (default: the source's layout when the grid and
    step limit are the recorded ones, else the recorded command's ``--tile-rows`` or the
    default).  ``out``: where to write (default: the source, resumed; a change is refused there
    unless ``overwrite``).  ``threads``, ``device``, ``scheduler``, ``client``: as for the
    function that made the store; ``workers`` (nn slice): processes (default: the usable cores,
    as ``gdchaos nn slice``); ``data_dir`` (nn stores): the data folder.  ``check(plan)`` is
    called with the :class:`Rerun` after every check, before anything is written.  Returns the
    :class:`Rerun`, its results filled in."""
    plan = plan_rerun(store, out=out, iters=iters, grid=grid, window=window, overwrite=overwrite,
                      tile_rows=tile_rows, data_dir=data_dir)
    if threads is not None:
        check_int("threads (--threads)", threads, lo=1)
    if workers is not None:
        if check_int("workers (--workers)", workers, lo=1) and plan.kind != "nn slice":
            raise GdchaosInputError(f"workers (--workers): worker processes share the tiles of "
                                    f"nn slice stores; {plan.kind} stores run on threads "
                                    "(--threads) or a cluster (--scheduler)")
        if scheduler is not None or client is not None:
            raise GdchaosInputError("give either workers (--workers: processes on this machine) "
                                    "or a cluster (--scheduler), not both")
    if device is not None and plan.kind == "nn slice":
        raise GdchaosInputError("device (--device): nn slice stores train on the CPU")
    if plan.kind == "nn slice" and workers is None and scheduler is None and client is None:
        workers = usable_cores()
    if check is not None:
        check(plan)
    if plan.in_place and not overwrite:
        from ..engine import verify_store

        rep = verify_store(plan.source)
        plan.pending_before, plan.n_tiles = list(rep["pending"]), int(rep["n_tiles"])
    t0 = time.perf_counter()
    plan.dataset, plan.fractions = plan.call(dict(
        overwrite=overwrite, progress=progress, threads=threads, device=device,
        scheduler=scheduler, client=client, workers=workers))
    plan.seconds = time.perf_counter() - t0
    return plan


def recompute(store, *, iters=None, grid=None, window=None, threads=None, device=None,
              data_dir=None):
    """The run the basin, map or nn map store ``store`` records, with the changes of
    :func:`rerun` (``iters``, ``grid``, ``window``), computed in memory: the dataset (its
    variables and coordinates) that :func:`rerun` with ``out=`` would write, and nothing
    written (the explorer's views of a store)."""
    plan = plan_rerun(store, iters=iters, grid=grid, window=window, data_dir=data_dir,
                      _in_memory=True)
    if plan.kind == "nn slice":
        raise GdchaosInputError(f"store {plan.source}: an nn slice store is recomputed with "
                                "rerun (its workers write a store); recompute takes basin, map "
                                "and nn map stores")
    if threads is not None:
        check_int("threads (--threads)", threads, lo=1)
    ds, _ = plan.call(dict(overwrite=False, progress=False, threads=threads, device=device,
                           scheduler=None, client=None, workers=None))
    return ds


def plan_rerun(store, *, out=None, iters=None, grid=None, window=None, overwrite=False,
               tile_rows=None, data_dir=None, _in_memory=False) -> Rerun:
    """The :class:`Rerun` of :func:`rerun` before it runs: every check done, nothing written
    (``_in_memory``: :func:`recompute`'s plan, which has no store to write)."""
    source = os.fspath(store)
    attrs, run = read_record(source)
    kind = _kind(source, attrs, run)
    if iters is not None:
        iters = check_int("iters (--iters, the step limit)", iters, lo=0, hi=MAX_ITER)
    grid = None if grid is None else _check_grid(grid)
    if tile_rows is not None:
        tile_rows = check_int("tile rows (--tile-rows)", tile_rows, lo=1)
    if data_dir is not None and not kind.startswith("nn"):
        raise GdchaosInputError(f"data_dir (--data-dir): {kind} stores read no data set")
    build = {"basin": _basin, "map": _map, "nn map": _nn_map, "nn slice": _nn_slice}[kind]
    try:
        plan = build(source, attrs, run, iters, grid, tile_rows, data_dir,
                     None if window is None else check_window(window))
    except GdchaosInputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise GdchaosInputError(
            f"store {source}: gdchaos {__version__} cannot rebuild its run record (written by "
            f"gdchaos {attrs.get('gdchaos_version', '?')}; {type(exc).__name__}: {exc}); give "
            "the command that made it again") from None
    if _in_memory:
        plan.out, plan.in_place = None, False
    else:
        _place(plan, out, overwrite, tile_rows, run)
    return plan


def read_record(store):
    """``(attributes, run)``: the root attributes of the store at ``store`` and its recorded
    run (``gdchaos_run``, a dict); one line (:class:`GdchaosInputError`) when there is none."""
    path = os.fspath(store)
    if not os.path.isdir(path):
        raise GdchaosInputError(f"{path} is a file, not a store" if os.path.lexists(path)
                                else f"no store at {path}")
    attrs = root_attributes(path)
    if not isinstance(attrs, dict) or "gdchaos_version" not in attrs:
        raise GdchaosInputError(f"{path} is not a gdchaos store (a zarr store gdchaos did not "
                                "write)")
    if "figure" in attrs:
        fig = attrs["figure"]
        raise GdchaosInputError(f"{path} is a store of figure {fig}: `gdchaos figure {fig}` "
                                f"remakes it (rerun takes the stores of {_KINDS_TEXT})")
    if "gdchaos_run" not in attrs:
        raise GdchaosInputError(
            f"store {path} records no run (no gdchaos_run attribute: written by gdchaos "
            f"{attrs['gdchaos_version']}, before stores recorded their runs); give the command "
            "that made it again")
    try:
        run = json.loads(attrs["gdchaos_run"])
    except (TypeError, ValueError):
        run = None
    if not isinstance(run, dict):
        raise GdchaosInputError(f"store {path}: its run record (gdchaos_run) is not JSON")
    return attrs, run


def _kind(path, attrs, run):
    k = run.get("kind")
    if k == "hyper_map":
        return "nn map" if "network_settings" in attrs else "map"
    if k == "nn_slice" or (k is None and isinstance(run.get("grid"), dict)):
        return "nn slice" if k else "basin"
    what = "an nn sweep" if k == "nn_sweep" else f"a run of kind {k!r}"
    raise GdchaosInputError(f"store {path} holds {what}; rerun takes the stores of "
                            f"{_KINDS_TEXT}")


def _check_grid(grid):
    vals = [grid] if np.ndim(grid) == 0 else list(grid)
    if len(vals) not in (1, 2):
        raise GdchaosInputError(f"grid (--grid) must be N or NX,NY, got {grid!r}")
    vals = [check_int("grid resolution (--grid)", v, lo=1) for v in vals]
    return (vals[0], vals[-1])


def _changes(old_grid, grid, old_iters, iters):
    """``(grid, iters, changes)`` of the run: the recorded values where none is given."""
    grid = tuple(old_grid) if grid is None else tuple(grid)
    iters = int(old_iters) if iters is None else int(iters)
    changes = {}
    if grid != tuple(old_grid):
        changes["grid"] = (list(old_grid), list(grid))
    if iters != int(old_iters):
        changes["iters"] = (int(old_iters), iters)
    return grid, iters, changes


def _js(v):
    return json.dumps(v, sort_keys=True, default=lambda o: o.tolist() if hasattr(o, "tolist")
                      else str(o))


def _check_rebuilt(path, what, recorded, rebuilt):
    """Refuse a run whose rebuilt ``what`` is not the recorded one (naming a key that differs)."""
    if _js(recorded) != _js(rebuilt):
        k = next((k for k in sorted(recorded) if _js(recorded[k]) != _js(rebuilt.get(k))), None) \
            if isinstance(recorded, dict) and isinstance(rebuilt, dict) else None
        key = "" if k is None else f" ({k}: stored {recorded[k]!r}, now {rebuilt.get(k)!r})"
        raise GdchaosInputError(f"store {path}: its {what} rebuilt here differs from the "
                                f"recorded one{key}; give the command that made it again")


def _problem(path, run, argv):
    """The problem of a basin or map record: a built-in one from its parameters, a user's from
    the recorded command's ``--problem FILE.py:CLASS`` and ``--param`` (the file as the
    command named it, from the current folder)."""
    from ..problems import BUILTIN, make_problem

    params = dict(run["problem"])
    name = params.pop("problem")
    specs = flag_values(argv, "--problem")
    if specs and ":" in specs[-1]:
        try:
            problem = make_problem(specs[-1], param_values(flag_values(argv, "--param")))
        except GdchaosInputError as exc:
            raise GdchaosInputError(f"store {path} holds a run of a user's problem; {exc} (run "
                                    "gdchaos rerun in the folder of the command that made it)") \
                from None
    elif name in BUILTIN:
        problem = make_problem(name, params)
    else:
        raise GdchaosInputError(f"store {path} holds a run of the problem {name!r}, which its "
                                "record cannot rebuild (a user's problem needs the command "
                                "that made the store); give that command again")
    _check_rebuilt(path, "problem", run["problem"], problem.params())
    return problem


def _engine_plan(kind, path, attrs, run, old_grid, grid, iters, tile_rows, new_window):
    """The plan of a basin or map record: its problem, changes, tile rows and command.
    ``new_window(changes)``: records a new window in ``changes``, returns its flags."""
    argv = command_argv(attrs)
    problem = _problem(path, run, argv)
    grid, iters, changes = _changes(old_grid, grid, run["config"]["max_iter"], iters)
    flags = new_window(changes)
    plan = Rerun(kind, path, path, True, grid, iters, changes, n_params=problem.n_params,
                 records=tuple(run["records"]), keep_params=bool(run["keep_params"]),
                 problem=problem, command=new_command(argv, changes, tile_rows, flags))
    if tile_rows is not None:
        plan.tile_rows = tile_rows
    elif not changes:  # the source's layout
        plan.tile_rows = attrs.get("tile_rows")
    else:  # the recorded command's --tile-rows, else the default for the new run
        rec = flag_values(argv, "--tile-rows")
        plan.tile_rows = int(rec[-1]) if rec and rec[-1].isdigit() else None
    return plan


def _engine_call(plan, fn, args, kw):
    """``plan.call`` of a basin or map: ``fn(*args, **kw)`` into the plan's store."""
    def call(e):
        ds = fn(*args, **kw, store=plan.out, tile_rows=plan.tile_rows, overwrite=e["overwrite"],
                progress=e["progress"], device=e["device"], scheduler=e["scheduler"],
                client=e["client"], threads=e["threads"],
                extra_attrs=None if plan.command is None else {"command": plan.command})
        return ds, None if plan.out is None else _store_fractions(plan.out)

    return call


def _basin(path, attrs, run, iters, grid, tile_rows, data_dir, window=None):
    from ..engine import RunConfig, Slice2D, basin

    g = run["grid"]
    used = []

    def new_window(changes):
        used[:] = window_change(changes, (*g["xrange"], *g["yrange"]), window)
        return {"--range": ",".join(repr(v) for v in used)} if "range" in changes else {}

    plan = _engine_plan("basin", path, attrs, run, (g["nx"], g["ny"]), grid, iters, tile_rows,
                        new_window)
    config = RunConfig(**dict(run["config"], max_iter=plan.iters))
    sl = Slice2D(np.asarray(g["center"], dtype=float), np.asarray(g["directions"], dtype=float),
                 tuple(used[:2]), tuple(used[2:]), plan.grid[0], plan.grid[1], g["seed"])
    pts = run["points"]
    plan.coordinate, plan.n_points = run["coordinate"], 0 if pts is None else len(pts)
    kw = dict(config=config, coordinate=run["coordinate"], keep_params=plan.keep_params,
              points=None if pts is None else np.asarray(pts), records=list(run["records"]),
              refine=run.get("refine"))
    plan.call = _engine_call(plan, basin, (plan.problem, sl), kw)
    return plan


def _map(path, attrs, run, iters, grid, tile_rows, data_dir, window=None):
    from ..engine import Optimizer, hyper_map

    axes = []

    def new_window(changes):
        axes[:] = windowed_axes(run, changes, window)
        return axis_flags(*axes) if "range" in changes else {}

    plan = _engine_plan("map", path, attrs, run, run["grid"], grid, iters, tile_rows,
                        new_window)
    cfg, o = run["config"], dict(run["optimizer"])
    o["stop_rule"] = LEGACY_RULES.get(o["stop_rule"], o["stop_rule"])  # an older record's name
    opt = Optimizer(o["kind"], o["eta"], dict(o["group_eta"]), o["momentum"], o["beta2"],
                    o["eps"], o["weight_decay"], rule=o["stop_rule"],
                    params=dict(o.get("params") or {}))
    _check_rebuilt(path, "optimizer", o, opt.as_dict())
    x, y = axes
    kw = dict(optimizer=opt, init=np.asarray(run["init"], dtype=float),
              directions=np.asarray(run["directions"], dtype=float), seed=attrs.get("seed", 0),
              max_iter=plan.iters, tol=cfg["tol"], div_threshold=cfg["div_threshold"],
              gtol=cfg["gtol"], dtype=cfg["dtype"], backend=cfg["backend"],
              window=run["window"], records=list(run["records"]), keep_params=plan.keep_params,
              refine=run.get("refine"))
    plan.call = _engine_call(plan, hyper_map, (plan.problem, x, y, plan.grid), kw)
    return plan


def _settings(path, cls, values):
    """The settings dataclass ``cls`` of a record's ``values`` (lists as tuples); a setting
    this gdchaos does not know is refused."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise GdchaosInputError(f"store {path}: its run record has settings gdchaos "
                                f"{__version__} does not know ({', '.join(unknown)}); give the "
                                "command that made it again")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def _nn_map(path, attrs, run, iters, grid, tile_rows, data_dir, window=None):
    from ..nn.maps import NetMapSettings, network_map

    try:
        values = ast.literal_eval(str(attrs["network_settings"]))
    except (ValueError, SyntaxError):
        values = None  # refused below
    if not isinstance(values, dict):
        raise GdchaosInputError(f"store {path}: its network_settings attribute is unreadable")
    old = _settings(path, NetMapSettings, values)
    grid, iters, changes = _changes(run["grid"], grid, run["config"]["max_iter"], iters)
    s = dataclasses.replace(old, iters=iters)
    problem = s.problem(data_dir)
    _check_rebuilt(path, "network and data", run["problem"], problem.params())
    _check_rebuilt(path, "initialization", run["init"], problem.init(s.init_seed,
                                                                       s.init_scheme).tolist())
    x, y = windowed_axes(run, changes, window)
    plan = Rerun("nn map", path, path, True, grid, iters, changes, n_params=problem.n_params,
                 records=tuple(run["records"]), problem=problem, settings=s,
                 command=new_command(command_argv(attrs), changes, tile_rows,
                                     axis_flags(x, y) if "range" in changes else {}))
    plan.tile_rows = tile_rows if tile_rows is not None or changes else attrs.get("tile_rows")

    def call(e):
        ds = network_map(s, x, y, grid, store=plan.out, overwrite=e["overwrite"],
                         progress=e["progress"], data_dir=data_dir, device=e["device"],
                         tile_rows=plan.tile_rows, records=list(run["records"]),
                         scheduler=e["scheduler"], client=e["client"], threads=e["threads"],
                         problem=problem, refine=run.get("refine"),
                         extra_attrs=None if plan.command is None else {"command": plan.command})
        if plan.out is None:
            return ds, None
        fr = _store_fractions(plan.out)
        fr["trainable"] = float(np.asarray(ds["trainable"].values).mean())
        return ds, fr

    plan.call = call
    return plan


def _nn_slice(path, attrs, run, iters, grid, tile_rows, data_dir, window=None):
    from ..nn.slices import SliceSettings, default_tile_rows, run_slice

    if window is not None:
        raise GdchaosInputError("window (--range): nn slice stores keep their recorded window "
                                "(their slice is drawn with their data); rerun basin, map and "
                                "nn map stores over another window")

    values = {k: v for k, v in run.items() if k not in ("kind", "data_indices")}
    old = dataclasses.replace(_settings(path, SliceSettings, values), data_dir=data_dir)
    grid, iters, changes = _changes(old.grid, grid, old.iters, iters)
    rows = old.tile_rows  # part of the record: the recorded layout unless told otherwise
    if tile_rows is not None:
        rows = tile_rows
    elif "grid" in changes and rows == default_tile_rows(dataclasses.replace(old,
                                                                             tile_rows=None)):
        rows = None  # the default layout of the recorded grid: the default of the new one
    s = dataclasses.replace(old, iters=iters, grid=grid, tile_rows=rows).validate()
    plan = Rerun("nn slice", path, path, True, grid, iters, changes, settings=s, tile_rows=rows)

    def call(e):
        res = run_slice(s, out=plan.out, png=None, overwrite=e["overwrite"],
                        quiet=not e["progress"], workers=e["workers"] or 1,
                        threads=1 if e["threads"] is None else e["threads"],
                        scheduler=e["scheduler"], client=e["client"])
        return res.dataset, dict(res.summary["fractions"])

    plan.call = call
    return plan


def _place(plan, out, overwrite, tile_rows, run):
    """Set ``plan.out`` and refuse (one line) a target that may not be written."""
    from ..engine import check_store_target

    src = plan.source
    if out is not None and os.path.realpath(os.fspath(out)) != os.path.realpath(src):
        plan.out, plan.in_place = os.fspath(out), False
        check_store_target(plan.out, overwrite)
        return
    if plan.changes and not overwrite:
        what = ", ".join(f"{k} {_shown(a)} -> {_shown(b)}" for k, (a, b) in plan.changes.items())
        raise GdchaosInputError(f"rerun of {src} with {what} changes its run: give --out "
                                f"NEW.zarr for the new store, or --overwrite to replace {src}")
    if not overwrite:
        if tile_rows is not None:
            raise GdchaosInputError(f"--tile-rows sets the layout of a new store; {src} is "
                                    "resumed with its own (give --out or --overwrite)")
        stored = run.get("gdchaos_version")
        if stored is not None and stored != __version__:
            raise GdchaosInputError(
                f"store {src} was written by gdchaos {stored}, this is {__version__}: give "
                "--out NEW.zarr to recompute it with this version, or --overwrite")
    check_store_target(src, overwrite)


def _shown(v):
    return ",".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)


__all__ = ["KINDS", "Rerun", "plan_rerun", "read_record", "recompute", "rerun"]
