"""``gdchaos map``: a map over any two hyperparameters (the library's ``hyper_map``; this module
only parses)."""

from __future__ import annotations

import time

from . import _common as C

MAP_EPILOG = """examples:
  # two learning rates of scalar factorization, GD (the trainability boundary of the field)
  gdchaos map --problem scalar --y 1 --x-axis eta_u:log:1e-2,1e1 --y-axis eta_v:log:1e-2,1e1 \\
      --init 1.5,0.3 --grid 256 --iters 1000 --out lr.zarr --png lr.png
  # Adam on matrix factorization: step size of U against the scale of the initialization
  gdchaos map --problem matrix --Y "0.9,0;0,0.8" --x-axis eta_U:log:1e-3,1 \\
      --y-axis init_scale:log:0.1,10 --optimizer adam --grid 128 --out adam.zarr
  # step size against weight decay lam, heavy ball
  gdchaos map --problem scalar --x-axis eta:lin:0.1,3 --y-axis lam:lin:0,1 --optimizer heavy_ball \\
      --momentum 0.5 --out lam.zarr

Axes (NAME:lin|log:LO,HI): eta, eta_GROUP (scalar u, v; matrix U, V; deep W1..Wk), momentum,
weight_decay (adamw), lam, init_scale, offset_GROUP, slice_x, slice_y.  Status codes as in
`gdchaos basin`; the convergence rule is stored as the attribute convergence_rule (docs/maps.md).
"""


def register(sub):
    m = sub.add_parser("map", help="a map over two hyperparameters (step sizes, momentum, ...)",
                       description="Run an optimizer from one initialization over a grid of two "
                       "hyperparameters (or slice coordinates) and write a tiled, resumable "
                       "zarr store (docs/maps.md).", epilog=MAP_EPILOG,
                       formatter_class=C.EXAMPLES_FMT)
    C.add_problem_option(m)
    g = m.add_argument_group("problem options")
    C.add_problem_options(g)
    g.add_argument("--lam", default="0", help="weight decay lam >= 0 (default 0)")
    a = m.add_argument_group("axes")
    a.add_argument("--x-axis", "--x", required=True, metavar="NAME:SCALE:LO,HI", dest="x_axis",
                   help="the columns' axis")
    a.add_argument("--y-axis", required=True, metavar="NAME:SCALE:LO,HI", dest="y_axis",
                   help="the rows' axis (--y is scalar factorization's target)")
    a.add_argument("--grid", default="256", help="resolution N or NX,NY (default 256)")
    a.add_argument("--init", default=None, help="the initialization (P numbers; default a "
                   "seeded standard normal draw)")
    a.add_argument("--seed", type=C.seed, default=0, help="seed of the default init and slice")
    r = m.add_argument_group("optimizer and run")
    C.add_optimizer_options(r)
    r.add_argument("--iters", type=C.steps, default=1000, help="step limit (default 1000)")
    r.add_argument("--tol", default="1e-8", help="converged when loss - min <= tol (1e-8)")
    r.add_argument("--div", default="1e8", help="diverged when loss > div (1e8)")
    r.add_argument("--gtol", default="1e-10", help="saddle when |grad| <= gtol (1e-10)")
    r.add_argument("--window", type=C.positive, default=20,
                   help="losses averaged by the trainability score (default 20)")
    r.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    r.add_argument("--backend", default="numba", choices=["numba", "torch"])
    r.add_argument("--device", default=None, help="torch device (--backend torch)")
    r.add_argument("--threads", type=C.positive, default=None, help="CPU threads (default: all)")
    add_map_output(m, "also store any of sq_norm, imbalance, sharpness, minimizer (comma list, "
                   "or 'all'; default none)", "also save a picture of the statuses",
                   keep_params=True)
    m.set_defaults(func=cmd_map)


def add_map_output(m, records_help, png_help, keep_params=False):
    """The output flags of a map command (``map``, ``nn map``), its cluster flags and
    ``--allow-large``."""
    o = m.add_argument_group("output")
    o.add_argument("--records", default="none", help=records_help)
    if keep_params:
        o.add_argument("--keep-params", action="store_true", help="store the final parameters")
    o.add_argument("--tile-rows", type=C.positive, default=None, help="rows per tile")
    o.add_argument("--out", required=True, help="zarr store (resumed if it exists)")
    o.add_argument("--overwrite", action="store_true", help="replace an existing store")
    o.add_argument("--png", default=None, help=png_help)
    o.add_argument("--json", action="store_true", help="print one JSON object")
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    C.add_refine(o)
    C.add_scheduler(m.add_argument_group("cluster"))
    C.add_allow_large(o)


def check_map_size(args, nx, ny, n_params, records):
    """Refuse (one line) a map past the documented size limits unless ``--allow-large``."""
    keep = getattr(args, "keep_params", False)
    C.check_size(args, f"map on a {nx} x {ny} grid with {n_params} parameters",
                 store_bytes=nx * ny * (22 + 8 * len(records) + (8 * n_params if keep else 0)),
                 memory_bytes=min(ny, args.tile_rows or max(1, (1 << 19) // nx)) * nx
                 * (10 * 8 * n_params + 96),  # one tile: at most the grid's rows
                 out=getattr(args, "out", None))


def cmd_map(args):
    from ..engine.cluster import store_fractions
    from ..engine.hypermap import Axis, hyper_map
    from ..problems import check_records
    from .core import command_line, grid_shape, print_map_result

    problem = C.problem_from_args(args, y_default="1")
    opt = C.optimizer_from_args(args)
    x, y = Axis.parse(args.x_axis, "--x-axis"), Axis.parse(args.y_axis, "--y-axis")
    init = None if args.init is None else C.floats(args.init, "--init", problem.n_params)
    nx, ny = grid_shape(args)
    records = check_records(args.records)
    refine = C.refine_from_args(args)
    check_map_size(args, nx, ny, problem.n_params, records)
    C.check_image_path(args.png, "--png")
    scheduler = C.scheduler_from_args(args)
    from ..engine import check_store_target

    check_store_target(args.out, args.overwrite)
    if scheduler is not None and scheduler.kind == "local":  # its workers run on this machine
        from ..engine import check_device

        check_device(args.backend, args.device)
    if scheduler is None:
        C.set_threads(args.threads)  # on a cluster --threads is Numba threads per task
    t0 = time.perf_counter()
    ds = hyper_map(problem, x, y, (nx, ny), optimizer=opt, init=init, seed=args.seed,
                   max_iter=args.iters, tol=C.number(args.tol, "--tol"),
                   div_threshold=C.number(args.div, "--div"), gtol=C.number(args.gtol, "--gtol"),
                   dtype=args.dtype, backend=args.backend, device=args.device,
                   window=args.window, records=records, keep_params=args.keep_params,
                   store=args.out, tile_rows=args.tile_rows, overwrite=args.overwrite,
                   progress=not (args.quiet or args.json),
                   extra_attrs={"command": command_line(args)},
                   scheduler=scheduler, threads=args.threads if scheduler else None,
                   refine=refine)
    seconds = time.perf_counter() - t0
    fr = store_fractions(args.out)
    if args.png:
        from ..plotting import plot_basin, save_figure

        import numpy as np

        # pixels are uniform in log10 of a log axis: the picture's axes show log10 values
        pic = ds[["status"]].assign_coords(
            x=np.log10(ds.x.values) if x.log else ds.x.values,
            y=np.log10(ds.y.values) if y.log else ds.y.values)
        fig, _ = plot_basin(pic, xlabel=f"log10 {x.name}" if x.log else x.name,
                            ylabel=f"log10 {y.name}" if y.log else y.name,
                            title=f"{problem.name}, {opt.name}")
        save_figure(fig, args.png)
    out = {"fractions": fr, "seconds": seconds, "out": args.out, "png": args.png,
           "grid": [nx, ny], "x_axis": x.spec(), "y_axis": y.spec(),
           "optimizer": opt.as_dict(), "problem": problem.params()}
    print_map_result(args, out, fr, refine, args.out,
                     f"{seconds:.2f} s -> {args.out} (convergence rule: {opt.stop_rule})")
    return 0
