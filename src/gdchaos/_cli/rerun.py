"""``gdchaos rerun``: recompute or extend a store from its recorded run (the library's
:func:`gdchaos.experiments.rerun.rerun`; this module only parses, checks sizes and prints)."""

from __future__ import annotations

import os
from types import SimpleNamespace

from . import _common as C

RERUN_EPILOG = """examples:
  gdchaos rerun fig3.zarr                                  # verify it; finish it if interrupted
  gdchaos rerun fig3.zarr --out fig3_long.zarr --iters 2000   # the same run, more steps
  gdchaos rerun lr.zarr --out lr_fine.zarr --grid 512      # a finer grid over the same window
  gdchaos rerun fig3.zarr --out corner.zarr --range=0,1,0,2   # the same run over another window
  gdchaos rerun lr.zarr --iters 5000 --overwrite           # replace it by the longer run

Takes the stores of gdchaos basin, map, nn map and nn slice.  Everything but --iters, --grid, --range
and --tile-rows comes from the store's record (its gdchaos_run attribute); the result is, bit for
bit, the store its command with the new values writes (its command attribute is that command).
Without --out the store itself is resumed (no change) or, with a change, replaced only with
--overwrite.  docs/maps.md, "Rerun or extend a store".
"""


def register(sub):
    p = sub.add_parser("rerun", help="recompute or extend a store from its recorded run",
                       description="Recompute a store of gdchaos basin, map, nn map or nn slice "
                       "from the run it records, with more steps or another grid, into a new "
                       "store (or resume it in place).", epilog=RERUN_EPILOG,
                       formatter_class=C.EXAMPLES_FMT)
    p.add_argument("store", metavar="STORE", help="a store of gdchaos basin, map, nn map or "
                   "nn slice")
    c = p.add_argument_group("changes (default: the recorded values)")
    c.add_argument("--iters", type=C.steps, default=None, help="step limit")
    c.add_argument("--grid", default=None, help="resolution N or NX,NY over the recorded window")
    c.add_argument("--range", default=None, metavar="XMIN,XMAX,YMIN,YMAX",
                   help="another window: the first and last pixels' coordinates, in the store's "
                   "coordinate values (basin, map and nn map stores)")
    c.add_argument("--tile-rows", type=C.positive, default=None,
                   help="rows per tile of a new store (default: the source's layout, or the "
                   "default one when --iters or --grid changes)")
    e = p.add_argument_group("execution (changes no value)")
    e.add_argument("--threads", type=C.positive, default=None,
                   help="CPU threads (default: all; nn slice: torch threads per worker, 1)")
    e.add_argument("--device", default=None, help="torch device (stores of the torch backend)")
    e.add_argument("--workers", type=C.positive, default=None,
                   help="nn slice: worker processes (default: the usable CPU cores)")
    e.add_argument("--data-dir", default=None, help="nn stores: the data folder")
    o = p.add_argument_group("output")
    o.add_argument("--out", default=None, help="the new store (resumed if it holds this rerun); "
                   "default: STORE itself")
    o.add_argument("--overwrite", action="store_true",
                   help="replace the store at --out (or STORE) by a fresh computation")
    o.add_argument("--json", action="store_true", help="print one JSON object")
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    C.add_allow_large(o)
    C.add_scheduler(p.add_argument_group("cluster"))
    p.set_defaults(func=cmd_rerun)


def check_rerun_size(args, plan):
    """The size limits of the command that made the store, on the rerun's grid and steps."""
    from .core import _check_basin_size
    from .maps import check_map_size
    from .nn import _check_nn_size

    nx, ny = plan.grid
    ns = SimpleNamespace(allow_large=getattr(args, "allow_large", False), out=plan.out,
                         tile_rows=plan.tile_rows, keep_params=plan.keep_params,
                         coordinate=plan.coordinate, grid=f"{nx},{ny}")
    if plan.kind == "basin":
        _check_basin_size(ns, plan.problem, plan.n_points)
    elif plan.kind == "nn slice":
        _check_nn_size(ns, plan.settings, nx * ny, "nn slice")
    else:
        check_map_size(ns, nx, ny, plan.n_params, plan.records)


def cmd_rerun(args):
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # as gdchaos basin (docs/engine.md)
    from ..experiments.rerun import rerun
    from .core import grid_shape

    grid = None if args.grid is None else grid_shape(args)
    window = None if args.range is None else C.floats(args.range, "--range", 4)
    scheduler = C.scheduler_from_args(args)

    def check(plan):  # before anything is computed or written
        check_rerun_size(args, plan)
        if scheduler is None and plan.kind != "nn slice":  # nn slice: torch threads per worker
            C.set_threads(args.threads)

    res = rerun(args.store, out=args.out, iters=args.iters, grid=grid, window=window,
                overwrite=args.overwrite,
                tile_rows=args.tile_rows, threads=args.threads, device=args.device,
                scheduler=scheduler, workers=args.workers, data_dir=args.data_dir,
                progress=not (args.quiet or args.json), check=check)
    done = ""
    if res.pending_before is not None:
        n = res.n_tiles
        done = (f"; {len(res.pending_before)} of {n} tiles recomputed" if res.pending_before
                else f"; complete and verified ({n} tile{'' if n == 1 else 's'})")
    if args.json:
        C.emit_json({"store": res.source, "out": res.out, "kind": res.kind,
                     "in_place": res.in_place, "grid": list(res.grid), "iters": res.iters,
                     "changes": {k: {"recorded": a, "new": b} for k, (a, b) in
                                 res.changes.items()},
                     "command": res.command, "fractions": res.fractions,
                     "seconds": res.seconds, "tiles_pending_before": res.pending_before,
                     "n_tiles": res.n_tiles})
    elif not args.quiet:
        what = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in res.changes.items()) or "no change"
        print(f"rerun of {res.kind} store {res.source}: {what}{done}")
        print("  ".join(f"{k} {v:.4f}" for k, v in res.fractions.items()))
        print(f"{res.seconds:.2f} s -> {res.out}")
    return 0
