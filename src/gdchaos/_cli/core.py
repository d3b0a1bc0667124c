"""Core commands: ``critical-step``, ``basin``, ``demo``."""

from __future__ import annotations

import os
import shlex
import time

import numpy as np

from ..errors import GdchaosInputError, check_nonneg, check_positive
from . import _common as C

CRITICAL_EPILOG = """examples:
  gdchaos critical-step --y 1 --u 1.2 --v 0.3 --json
  gdchaos critical-step --y 0.5 --u 1,0.2,0 --v 0.4,-1,0.1 --lam 0.1 --eta 0.5
"""

BASIN_EPILOG = """examples:
  # figure 3 (left): the quotient map's convergence region over (z, w)
  gdchaos basin --problem quotient --y 0.5 --lam 0.2 --eta 1 --grid 2000 \\
      --range -2.5,3,0,10 --iters 200 --tol 1e-10 --out fig3.zarr --png fig3.png --json
  # figure 1 (left): u, v in R^5, a random slice of R^10 through the origin
  gdchaos basin --problem scalar --d 5 --y 1 --lam 0.6 --eta 1 --grid 600 \\
      --range -4,4,-4,4 --iters 1000 --tol 1e-6 --div 100 --coordinate 0 --out fig1.zarr
  # matrix factorization, U, V in R^{2x2}
  gdchaos basin --problem matrix --Y "0.9,0;0,0.8" --lam 0.5 --eta 0.5 --grid 300 \\
      --range -2,2,-2,2 --iters 2000 --out mf.zarr

A killed run resumes when the same command is given again.  Status codes in the store:
0 undecided, 1 converged, 2 diverged, 3 saddle, 4 outside the state space (quotient), -1 not run.
"""


#: records `gdchaos basin` stores unless --records says otherwise (the library's default is all)
DEFAULT_RECORDS = "minimizer"


def register(sub):
    p = sub.add_parser("critical-step", help="critical step size eta* from an initialization",
                       description="Critical step size of Theorem 1 (lam = 0) or the bounds of "
                       "Theorems 4-5 (lam > 0) for scalar factorization, and related quantities.",
                       epilog=CRITICAL_EPILOG, formatter_class=C.EXAMPLES_FMT)
    p.add_argument("--y", required=True, help="scalar target y")
    p.add_argument("--u", required=True, help="u as comma-separated numbers")
    p.add_argument("--v", required=True, help="v as comma-separated numbers (same length as u)")
    p.add_argument("--lam", default="0", help="weight decay lam >= 0 (default 0)")
    p.add_argument("--eta", default=None, help="also report whether this step size is below eta*")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_critical_step)

    b = sub.add_parser("basin", help="GD from every point of a 2-D slice, into a store",
                       description="Run GD from every point of a 2-D slice of parameter space "
                       "(or of the (z, w) plane for the quotient map) and write a tiled, "
                       "resumable zarr store.", epilog=BASIN_EPILOG, formatter_class=C.EXAMPLES_FMT)
    C.add_problem_option(b)
    g = b.add_argument_group("problem options")
    C.add_problem_options(g)
    g.add_argument("--lam", default="0", help="weight decay lam >= 0 (default 0)")
    r = b.add_argument_group("run options")
    r.add_argument("--eta", required=True, help="step size eta > 0")
    r.add_argument("--momentum", default="0", help="heavy-ball momentum beta in [0, 1)")
    r.add_argument("--iters", type=C.steps, default=1000, help="step limit (default 1000)")
    r.add_argument("--tol", default="1e-8", help="converged when loss - min <= tol (1e-8)")
    r.add_argument("--div", default="1e8", help="diverged when loss > div (1e8)")
    r.add_argument("--gtol", default="1e-10", help="saddle when |grad| <= gtol (1e-10)")
    r.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    r.add_argument("--backend", default="numba", choices=["numba", "torch"])
    r.add_argument("--device", default=None, help="torch device (cpu, cuda; --backend torch)")
    r.add_argument("--threads", type=C.positive, default=None, help="CPU threads (default: all)")
    s = b.add_argument_group("grid options")
    s.add_argument("--grid", default="256", help="resolution N or NX,NY (default 256)")
    s.add_argument("--range", default=None, help="XMIN,XMAX,YMIN,YMAX (default -4,4,-4,4; "
                   "quotient -2.5,3,0,10 over (z, w))")
    s.add_argument("--slice", default=None, choices=["random", "axes"],
                   help="random orthonormal directions (default when P > 2) or the first two "
                   "coordinate axes")
    s.add_argument("--seed", type=C.seed, default=0, help="seed of the random slice (default 0)")
    s.add_argument("--center", default=None, help="slice centre (P numbers; default origin)")
    s.add_argument("--coordinate", type=C.nonneg, default=None,
                   help="record this final parameter")
    s.add_argument("--points", default=None,
                   help="record distances to these points: 'x1,...,xP;x1,...,xP'")
    s.add_argument("--keep-params", action="store_true", help="store the final parameters")
    s.add_argument("--records", default=DEFAULT_RECORDS,
                   help="derived records to store besides status, iterations and final_loss: "
                   "comma list of sq_norm, imbalance, sharpness, minimizer, or 'all' "
                   f"(default {DEFAULT_RECORDS}; --color adds its variable)")
    s.add_argument("--tile-rows", type=C.positive, default=None,
                   help="rows per tile (default about 2^19 points, fewer for long runs: at "
                   "most 2^19 x 200 point-steps a tile, so Ctrl-C answers within ~1 s)")
    o = b.add_argument_group("output")
    o.add_argument("--out", default=None, help="zarr store (resumed if it exists); without it "
                   "--png is needed and the map is computed in memory")
    o.add_argument("--overwrite", action="store_true", help="replace an existing store")
    o.add_argument("--png", default=None, help="save a map (status, or --color)")
    o.add_argument("--color", default=None, help="variable to colour converged points by")
    o.add_argument("--json", action="store_true", help="print one JSON object")
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    C.add_allow_large(o)
    C.add_refine(s)
    C.add_scheduler(b.add_argument_group("cluster"))
    b.set_defaults(func=cmd_basin)

    d = sub.add_parser("demo", help="the demo of `make demo` (figure 3 region, figure 1 slice)",
                       description="Compute the quotient-map convergence region of figure 3 and a "
                       "slice of figure 1 (left), save them with maps, print critical step sizes.",
                       epilog="example:\n  gdchaos demo --out demo-output",
                       formatter_class=C.EXAMPLES_FMT)
    d.add_argument("--out", default="demo-output", help="output folder (default demo-output)")
    d.add_argument("--quiet", action="store_true")
    d.set_defaults(func=cmd_demo)


# ---------------------------------------------------------------------------- critical-step
def critical_step_report(y, u, v, lam=0.0, eta=None):
    from ..theory import scalar as th

    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    if u.shape != v.shape:
        raise GdchaosInputError(f"u and v must have the same length, got {u.size} and {v.size}")
    lam = check_nonneg("weight decay lam", lam)
    with np.errstate(over="ignore", invalid="ignore"):
        w = float(u @ u + v @ v)
        big = not (np.isfinite(w * w) and np.isfinite(y * y))
    if big:  # Q, the sharpness and the imbalance need w^2: refuse rather than print NaN
        raise GdchaosInputError(f"u, v or y too large for float64: (|u|^2 + |v|^2)^2 = {w:.3g}^2 "
                                "overflows (eta* would be about 8/(2 w) or less); rescale them")
    q = float(th.q_value(u, v, y))
    out = {"y": y, "u": u.tolist(), "v": v.tolist(), "lam": lam, "Q": q,
           "sq_norm": float(u @ u + v @ v), "uv": float(u @ v),
           "sharpness": float(th.sharpness(u, v, y, lam)),
           "imbalance": float(th.imbalance(u, v)),
           "wang_bound": float(th.wang_bound(u, v, y)),
           "minimizers": str(th.minimizer_set(y, lam))}
    if lam == 0:
        es = float(th.eta_star(u, v, y))
        terms = {"1/|y|": (1 / abs(y)) if y else float("inf"),
                 "8/Q": (8 / q) if q > 0 else float("inf")}
        if not y:
            terms["1/|y|_reason"] = "infinite: y = 0 puts no bound on the step size"
        if not q > 0:
            terms["8/Q_reason"] = "infinite: Q <= 0 puts no bound on the step size"
        out.update(eta_star=es, eta_star_kind="exact critical step size (Theorem 1)",
                   eta_star_terms=terms)
        if not np.isfinite(es):
            out["eta_star_reason"] = "infinite: no finite critical step size (JSON null)"
    else:
        eg, ec = th.theorem5_bounds(u, v, y, lam)
        out.update(eta_star=float(eg), eta_star_kind="sufficient bound 8/(4 lam + Q) (Theorem 4)",
                   eta_closest=float(ec))
    if eta is not None:
        eta = check_positive("step size eta", eta)
        out["eta"] = eta
        out["below_eta_star"] = bool(eta < out["eta_star"])
        out["in_D0"] = bool(th.in_d0(u, v, y, eta))
        if lam > 0:
            out["theorem4_admissible"] = bool(th.theorem4_admissible(eta, y, lam))
    return out


def cmd_critical_step(args):
    y = C.number(args.y, "--y")
    u = C.floats(args.u, "--u")
    v = C.floats(args.v, "--v")
    lam = C.number(args.lam, "--lam")
    eta = None if args.eta is None else C.number(args.eta, "--eta")
    rep = critical_step_report(y, u, v, lam, eta)
    if args.json:
        C.emit_json(rep)
    else:
        print(f"eta* = {rep['eta_star']:.12g}  ({rep['eta_star_kind']})")
        for k in ("Q", "sq_norm", "sharpness", "wang_bound"):
            print(f"{k:>12} = {rep[k]:.12g}")
        if "below_eta_star" in rep:
            print(f"eta = {rep['eta']:g} is {'below' if rep['below_eta_star'] else 'not below'} eta*")
    return 0


# ---------------------------------------------------------------------------- basin
def problem_from_args(args):
    return C.problem_from_args(args, y_default="1")


def grid_shape(args):
    res = C.ints(args.grid, "--grid", lo=1)
    if len(res) not in (1, 2):
        raise GdchaosInputError(f"--grid must be N or NX,NY with positive integers, got {args.grid}")
    return (res[0], res[0]) if len(res) == 1 else tuple(res)


def grid_from_args(args, problem):
    from ..engine import Slice2D

    nx, ny = grid_shape(args)
    rng = C.floats(",".join(f"{v:g}" for v in problem.default_window) if args.range is None
                   else args.range, "--range", 4)
    P = problem.n_params
    center = None if args.center is None else np.array(C.floats(args.center, "--center", P))
    kind = args.slice or ("axes" if P == 2 else "random")
    if kind not in problem.slice_kinds:
        raise GdchaosInputError(f"--slice {kind}: the {problem.name} problem's maps take --slice "
                                f"{' or '.join(problem.slice_kinds)} only")
    if kind == "axes":
        return Slice2D.axes(P, rng[:2], rng[2:], nx, ny, center=center)
    return Slice2D.random(P, rng[:2], rng[2:], nx, ny, seed=args.seed, center=center)


def _check_basin_size(args, problem, n_points):
    """Store bytes (points x bytes per point) and working memory of one tile, estimated before
    anything is allocated or written."""
    from ..engine import TILE_POINTS

    nx, ny = grid_shape(args)
    P = problem.n_params
    per_point = 38 + (8 if args.coordinate is not None else 0) + 8 * n_points \
        + (8 * P if args.keep_params else 0)
    tile = (args.tile_rows or max(1, TILE_POINTS // nx)) * nx
    hessian = 3 * 8 * P * P if problem.dense_hessian_records else 0
    memory = 16 * 3 * P + tile * (6 * 8 * P + hessian + 64) + nx * ny * 2
    C.check_size(args, f"basin on a {nx} x {ny} grid with {P} parameters",
                 store_bytes=nx * ny * per_point, memory_bytes=memory, out=args.out)


def cmd_basin(args):
    # the kernels' OpenMP threads sleep when a parallel loop ends instead of spinning for
    # milliseconds, which on few cores takes the processor from the store's writer thread and
    # from the Python between kernels (half the process's CPU time on 2 cores; docs/engine.md,
    # "Speed").  Read when Numba starts its threads (prepare, below); a user's setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
    from ..engine import (RunConfig, basin, check_device, check_store_target, prepare,
                          status_fractions)
    from ..engine.cluster import store_fractions
    from ..problems import check_records
    from . import _common

    if args.out is None:
        if args.png is None:
            raise GdchaosInputError("basin writes a store (--out STORE), a picture (--png FILE) "
                                    "or both: give at least one")
        if args.overwrite:
            raise GdchaosInputError("--overwrite replaces the store of --out; give --out")
        if args.scheduler is not None:
            raise GdchaosInputError("--scheduler: a cluster run writes a store; give --out")
    problem = problem_from_args(args)
    cfg = RunConfig(eta=C.number(args.eta, "--eta"), momentum=C.number(args.momentum, "--momentum"),
                    max_iter=args.iters, tol=C.number(args.tol, "--tol"),
                    div_threshold=C.number(args.div, "--div"), gtol=C.number(args.gtol, "--gtol"),
                    dtype=args.dtype, backend=args.backend)
    if args.device is not None and args.backend != "torch":
        raise GdchaosInputError(f"--device {args.device} needs --backend torch (numba runs on "
                                "the CPU; use --threads)")
    scheduler = C.scheduler_from_args(args)
    if scheduler is None or scheduler.kind == "local":  # a local cluster runs here; a
        check_device(args.backend, args.device)            # remote one checks its workers
    if cfg.momentum and not problem.supports_momentum:
        raise GdchaosInputError(f"--momentum: the {problem.name} problem is exact for plain GD "
                                "only (momentum 0)")
    C.check_image_path(args.png, "--png")
    if args.color and args.color not in ("sq_norm", "coordinate", "final_loss", "sharpness",
                                         "imbalance", "iterations", "minimizer"):
        raise GdchaosInputError(f"--color: unknown variable {args.color!r}")
    if args.color and not args.png:
        raise GdchaosInputError("--color colours the map of --png; give --png too")
    if args.color == "coordinate" and args.coordinate is None:
        raise GdchaosInputError("--color coordinate needs --coordinate INDEX")
    if args.coordinate is not None and args.coordinate >= problem.n_params:
        raise GdchaosInputError(f"--coordinate must be in [0, {problem.n_params}), "
                                f"got {args.coordinate}")
    npts = 0 if not args.points else len([r for r in args.points.split(";") if r.strip()])
    _check_basin_size(args, problem, npts)
    grid = grid_from_args(args, problem)
    refine = C.refine_from_args(args)
    points = None
    if args.points:
        points = np.array([C.floats(r, "--points", problem.n_params)
                           for r in args.points.split(";") if r.strip()])
    records = check_records(args.records)
    if args.color in ("sq_norm", "imbalance", "sharpness", "minimizer"):
        records = check_records(set(records) | {args.color})
    if args.out is not None:
        check_store_target(args.out, args.overwrite)  # before the warm-up: nothing is written
    if scheduler is None:
        _common.set_threads(args.threads)
    # start-up (imports, compiled kernels): not in `seconds`; the dataset of a store is opened
    # only for a picture (the fractions are read from the store's tiles)
    want_ds = args.out is None or args.png is not None
    prepare(problem, cfg, store=args.out is not None and want_ds)
    t0 = time.perf_counter()
    ds = basin(problem, grid, config=cfg, store=args.out, tile_rows=args.tile_rows,
               coordinate=args.coordinate, points=points, keep_params=args.keep_params,
               overwrite=args.overwrite, progress=not (args.quiet or args.json),
               device=args.device, extra_attrs={"command": command_line(args)}, records=records,
               scheduler=scheduler, threads=args.threads, return_dataset=want_ds,
               refine=refine)
    seconds = time.perf_counter() - t0
    # chunk by chunk from a store: the map is never whole in memory
    fr = store_fractions(args.out) if args.out is not None else status_fractions(ds["status"])
    if args.png:
        save_basin_picture(ds, args)
    out = {"fractions": fr, "seconds": seconds,
           "point_steps_per_second": grid.nx * grid.ny * cfg.max_iter / max(seconds, 1e-12),
           "out": args.out, "png": args.png, "grid": [grid.nx, grid.ny],
           "problem": problem.params(), "config": cfg.as_dict()}
    print_map_result(args, out, fr, refine, ds if args.out is None else args.out,
                     f"{seconds:.2f} s, {out['point_steps_per_second']:.3g} point-steps/s -> "
                     f"{args.out if args.out is not None else args.png}")
    return 0


def print_map_result(args, out, fr, refine, ds_or_path, last_line):
    """A map command's output: ``out`` as JSON (with the refinement's summary), or the
    fractions, the refinement's line and ``last_line``."""
    from ..engine import refine_summary_line

    summary = C.refine_report(ds_or_path) if refine is not None else None
    if summary is not None:
        out["refine"] = summary
    if args.json:
        C.emit_json(out)
    elif not args.quiet:
        print("  ".join(f"{k} {v:.4f}" for k, v in fr.items()))
        if summary is not None:
            print(refine_summary_line(summary))
        print(last_line)


def command_line(args):
    """A store's ``command`` attribute: ``gdchaos`` and the arguments as given, less ``--out``
    and its value (the store is where it is; a store resumed or made at another path by the
    same command is the same store)."""
    argv = getattr(args, "_argv", None)
    if argv is None:  # called without gdchaos.cli.main
        return f"gdchaos {getattr(args, 'command', '')}".strip()
    kept = []
    skip = False
    for tok in argv:
        if skip:
            skip = False
            continue
        head = tok.split("=", 1)[0]
        if len(head) >= 4 and "--out".startswith(head):  # --out, --ou (argparse prefixes)
            skip = "=" not in tok
            continue
        kept.append(tok)
    return "gdchaos " + shlex.join(kept)


def save_basin_picture(ds, args):
    """The map of ``--png``: status, or ``--color X`` over the converged points (the others
    grey) with a colour bar naming X; axes named by the coordinates (the problem's parameters
    on a ``--slice axes`` map), the title every parameter of the run."""
    from ..plotting import plot, save_figure, use_style

    plt = use_style()
    ax = plot(ds, args.color or "status", others="grey" if args.color else None)
    save_figure(ax.figure, args.png)
    plt.close(ax.figure)


# ---------------------------------------------------------------------------- demo
def cmd_demo(args):
    from ..experiments.demo import run_demo

    return run_demo(args.out, quiet=args.quiet)
