"""``gdchaos nn sweep`` and ``gdchaos nn slice``: the network experiments (figures 4, 5, 12, 13).

PyTorch is imported only when a command runs, not when the parser is built.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

from ..errors import GdchaosInputError
from . import _common as C

SWEEP_EPILOG = """examples:
  gdchaos nn sweep --preset quick                      # figure 4, coarse, about a minute
  gdchaos nn sweep --preset paper --out fig4.zarr --png fig4.png
  gdchaos nn sweep --preset paper --loss ce --out fig12.zarr --png fig12.png   # figure 12
  gdchaos nn sweep --momentum 0 --eta-min 0.02 --eta-max 0.1 --n-eta 40 --iters 2000 --json
  gdchaos nn sweep --dataset digits --width 32 --preset quick
Presets: paper = SPEC figure 4 (3072-100-100-1, 25+25 CIFAR-10 images of classes 0/1, GD over
500 step sizes in [0.01, 0.15] and momentum 0.9 over 500 in [0.005, 0.07], 5000 iterations);
quick = the same with 64 step sizes per arm.  --eta-min/--eta-max apply to every arm.
The store is resumable: rerunning the same command continues where it stopped."""

SLICE_EPILOG = """examples:
  gdchaos nn slice --preset quick                      # figure 5, coarse, about a minute
  gdchaos nn slice --preset paper --out fig5.zarr --png fig5.png
  gdchaos nn slice --preset paper --zoom --out fig5_zoom.zarr --png fig5_zoom.png
  gdchaos nn slice --preset paper --weight-decay 0 --out fig13.zarr --png fig13.png  # figure 13
  gdchaos nn slice --grid 40 --range 30,40,10,20 --iters 1000 --json
  gdchaos nn slice --grid 60,40 --range 24,42,8,30     # 60 columns (x) by 40 rows (y)
Presets: paper = SPEC figure 5 (3072-25-25-1, eta 0.05, weight decay 1e-3, 3000 iterations,
300 x 300 points on [32,42] x [16,24], converged < 5e-4, diverged > 1e4); quick = 64 x 64
points on [24,42] x [8,30].  Interrupted runs resume from the last finished tile."""


def _add_common(p, out_default):
    g = p.add_argument_group("data")
    g.add_argument("--preset", default="quick", choices=("paper", "quick"),
                   help="settings to start from (default quick)")
    g.add_argument("--dataset", choices=("cifar10", "digits"), help="default cifar10")
    g.add_argument("--classes", help="two class labels, e.g. 0,1 (default 0,1)")
    g.add_argument("--n-per-class", type=int, help="images per class (default 25)")
    g.add_argument("--data-seed", type=int, help="seed of the image selection (default 0)")
    g.add_argument("--image-pool", help="draw among the first N images of the split, or 'all' "
                                        "(default 1000: same images from the tarball and the .npz)")
    g.add_argument("--preprocess", choices=("unit", "center", "standardize"),
                   help="pixels in [0,1] (unit, default), minus the mean image, or standardized")
    g.add_argument("--targets", choices=("01", "pm1"), help="targets 0/1 (default) or -1/+1")
    g.add_argument("--data-dir", help="data folder (default $GDCHAOS_DATA, ../shared/data, "
                                      "~/.cache/gdchaos)")
    g.add_argument("--download", action="store_true",
                   help="download CIFAR-10 (170 MB, MD5-checked) into the data folder if absent")
    n = p.add_argument_group("network and training")
    n.add_argument("--width", help="hidden widths: one number for two layers of that width, or a "
                                   "comma list (default: preset)")
    n.add_argument("--loss", choices=("mse", "ce"), help="mean squared error (default) or binary "
                                                         "cross-entropy on the logit")
    n.add_argument("--iters", type=C.steps, help="GD iterations (at most 2^31 - 1)")
    n.add_argument("--weight-decay", type=float, help="weight decay added to the gradient")
    n.add_argument("--tol", type=float, help="converged when the loss falls below this")
    n.add_argument("--div", type=float, help="diverged when the loss exceeds this (default 1e4)")
    n.add_argument("--seed", type=int, help="seed of the initialization / slice directions")
    n.add_argument("--sharpness", choices=("lanczos", "power", "none"), dest="sharpness_method",
                   help="final sharpness by Lanczos (default), power iteration, or not at all")
    n.add_argument("--no-reduce", action="store_true",
                   help="train all first-layer weights instead of the exact reduction to the "
                        "span of the images (same dynamics, much slower; for checks)")
    n.add_argument("--pool", type=int, help="networks stepped together (default 128)")
    n.add_argument("--workers", type=int,
                   help="worker processes sharing the tiles (default: the usable CPU cores)")
    n.add_argument("--threads", type=int, default=1,
                   help="torch threads per worker (default 1: bit-identical results whatever "
                        "--workers; more threads may change the last bits)")
    o = p.add_argument_group("output")
    o.add_argument("--out", default=out_default, help=f"result store (default {out_default})")
    o.add_argument("--png", help="figure path (default: the store's name with .png)")
    o.add_argument("--no-png", action="store_true", help="write no figure")
    o.add_argument("--overwrite", action="store_true", help="replace an existing store")
    o.add_argument("--json", action="store_true", help="print one JSON object of results")
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    C.add_allow_large(o)
    C.add_scheduler(p.add_argument_group("cluster (instead of --workers)"))


def _check_nn_size(args, s, networks, what):
    """Store, memory and work of ``networks`` networks of settings ``s`` against the documented
    limits (refused past them unless --allow-large; the machine's memory and disk always)."""
    n_in = 2 * int(s.n_per_class) if s.reduce else (64 if s.dataset == "digits" else 3072)
    widths = [n_in, *map(int, s.hidden), 1]
    P = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    batch = min(networks, int(s.pool)) if s.pool and s.pool > 0 else networks
    C.check_size(args, f"{what} of {networks} networks with {P} parameters",
                 store_bytes=networks * 64, memory_bytes=batch * P * 8 * 6 + networks * 64,
                 out=args.out)
    # at the measured 1e5-1e6 network-steps/s of 2 cores (docs/nn.md) the limit is hours to a day
    C.check_work(args, f"{what} of {networks} networks x {s.iters} steps",
                 networks * max(1, int(s.iters)), "network-steps", ", hours to days on a laptop")


def register(subparsers) -> None:
    """Add ``nn`` with subcommands ``sweep`` and ``slice`` to an argparse subparsers object."""
    nn = subparsers.add_parser("nn", help="networks: step-size sweeps, slices (CIFAR-10), "
                               "trainability maps",
                               description="Network experiments of the paper (figures 4, 5, 12, "
                                           "13): full-batch GD on a ReLU MLP, float64; and maps "
                                           "of small networks over two hyperparameters.")
    sub = nn.add_subparsers(dest="nn_command", metavar="{sweep,slice,map}")
    sub.required = True
    sw = sub.add_parser("sweep", help="final norm and sharpness against the step size (fig. 4, 12)",
                        description="Train one fixed initialization at many step sizes, as one "
                                    "batch; plot final norm and sharpness against eta.",
                        epilog=SWEEP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common(sw, "nn_sweep.zarr")
    a = sw.add_argument_group("step sizes")
    a.add_argument("--momentum", help="comma list of momentum values, one arm each (default 0,0.9)")
    a.add_argument("--eta-min", type=float, help="smallest step size (every arm)")
    a.add_argument("--eta-max", type=float, help="largest step size (every arm)")
    a.add_argument("--n-eta", type=int, help="step sizes per arm")
    a.add_argument("--sharpness-every", type=int,
                   help="log the sharpness every k steps (0: off)")
    sw.set_defaults(func=cmd_sweep)
    sl = sub.add_parser("slice", help="final loss and sharpness on a 2D slice (fig. 5, 13)",
                        description="Train a grid of initializations on a random 2D slice of "
                                    "parameter space; map final loss and sharpness.",
                        epilog=SLICE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common(sl, "nn_slice.zarr")
    b = sl.add_argument_group("slice")
    b.add_argument("--eta", type=float, help="step size (default 0.05)")
    b.add_argument("--momentum", type=float, help="heavy-ball momentum (default 0)")
    b.add_argument("--grid", help="resolution N or NX,NY, x first as in gdchaos basin "
                                  "(e.g. 300 or 300,200)")
    b.add_argument("--range", help="X0,X1,Y0,Y1 in slice coordinates")
    b.add_argument("--zoom", action="store_true",
                   help="the paper's zoom window [38.5,39] x [18.5,19]")
    b.add_argument("--tile-rows", type=int, help="grid rows per stored tile")
    C.add_refine(b)
    b.add_argument("--max-tiles", type=C.positive,
                   help="stop after this many tiles (resume later; fractions are of all points, "
                        "not_run counting the pending ones)")
    sl.set_defaults(func=cmd_slice)
    from .nn_map import register as register_map

    register_map(sub)


# ------------------------------------------------------------------------------ parsing helpers
def _floats(text, name):
    try:
        vals = [float(t) for t in str(text).split(",") if t.strip()]
    except ValueError:
        raise GdchaosInputError(f"{name} must be comma-separated numbers, got {text!r}") from None
    if not vals or not all(math.isfinite(v) for v in vals):
        raise GdchaosInputError(f"{name} must be finite numbers, got {text!r}")
    return vals


def _ints(text, name):
    vals = _floats(text, name)
    if any(v != int(v) or v < 1 for v in vals):
        raise GdchaosInputError(f"{name} must be positive integers, got {text!r}")
    return [int(v) for v in vals]


def _grid(text) -> tuple[int, int]:
    """``--grid N`` or ``NX,NY`` (x first, as ``gdchaos basin``) -> ``(nx, ny)``; the old
    ``NYxNX`` form is refused with the new spelling."""
    txt = str(text).strip()
    if "x" in txt.lower():
        ny, _, nx = txt.lower().partition("x")
        hint = f" --grid {nx.strip()},{ny.strip()}" if nx.strip() and ny.strip() else ""
        raise GdchaosInputError(f"--grid takes N or NX,NY (x first, as gdchaos basin), not the old "
                                f"NYxNX form {text!r}; give{hint or ' NX,NY'}")
    g = _ints(txt, "--grid")
    if len(g) not in (1, 2):
        raise GdchaosInputError(f"--grid must be N or NX,NY, got {text!r}")
    return (g[0], g[-1])


def _common_overrides(args) -> dict:
    o = {}
    for key in ("dataset", "n_per_class", "data_seed", "preprocess", "targets", "data_dir",
                "loss", "iters", "weight_decay", "tol", "div", "seed", "sharpness_method",
                "pool"):
        v = getattr(args, key, None)
        if v is not None:
            o[key] = v
    if args.download:
        o["download"] = True
    if args.no_reduce:
        o["reduce"] = False
    if args.classes is not None:
        vals = _floats(args.classes, "--classes")
        if len(vals) != 2 or any(v != int(v) or v < 0 for v in vals):
            raise GdchaosInputError(f"--classes needs two labels, e.g. 0,1; got {args.classes!r}")
        o["classes"] = tuple(int(v) for v in vals)
    if args.image_pool is not None:
        o["image_pool"] = None if args.image_pool == "all" else _ints(args.image_pool,
                                                                     "--image-pool")[0]
    if args.width is not None:
        w = _ints(args.width, "--width")
        o["hidden"] = tuple(w * 2 if len(w) == 1 else w)
    return o


def _workers(args) -> int:
    if args.workers is not None and args.scheduler is not None:
        raise GdchaosInputError("give either --workers (processes on this machine) or "
                                "--scheduler (a Dask cluster), not both")
    if args.workers is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not Linux
            return max(1, os.cpu_count() or 1)
    if args.workers < 1:
        raise GdchaosInputError(f"--workers must be >= 1, got {args.workers}")
    return int(args.workers)


def _setup(args):
    if args.threads < 1:
        raise GdchaosInputError(f"--threads must be >= 1, got {args.threads}")
    from ..engine import check_store_target

    if args.out is not None:
        check_store_target(args.out, args.overwrite)
    for name, path in (("--png", args.png),):
        if path is None:
            continue
        parent = os.path.dirname(os.path.abspath(path)) or "."
        if not os.path.isdir(parent):
            raise GdchaosInputError(f"cannot write {name} {path}: folder {parent} does not exist")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise GdchaosInputError(f"cannot write {name} {path}: folder {parent} is not writable")
    if args.no_png and args.png:
        raise GdchaosInputError("give either --png or --no-png, not both")
    png = None
    if not args.no_png:
        png = args.png or (os.path.splitext(args.out.rstrip("/"))[0] + ".png")
        C.check_image_path(png, "--png")
    return png


def _report(args, summary, label):
    if args.json:
        C.emit_json(summary)
    elif not args.quiet:
        fr = ", ".join(f"{k} {v:.1%}" for k, v in summary["fractions"].items() if v)
        rate = summary.get("network_steps_per_second") or 0.0
        print(f"{label}: {fr}; {summary['seconds']:.1f} s, {rate:,.0f} network-steps/s -> "
              + ", ".join(str(v) for v in summary["outputs"].values()))
        if summary.get("refine"):
            from ..engine import refine_summary_line

            print(refine_summary_line(summary["refine"]))


# ------------------------------------------------------------------------------ commands
def cmd_sweep(args) -> int:
    from ..nn.sweep import default_eta_range, run_sweep, sweep_preset

    o = _common_overrides(args)
    if args.momentum is not None:
        o["momenta"] = tuple(_floats(args.momentum, "--momentum"))
    for key in ("n_eta", "sharpness_every"):
        v = getattr(args, key)
        if v is not None:
            o[key] = v
    base = sweep_preset(args.preset)
    moms = o.get("momenta", base.momenta)
    if args.momentum is not None or args.eta_min is not None or args.eta_max is not None:
        ranges = []
        for b in moms:
            lo, hi = default_eta_range(b)
            lo = args.eta_min if args.eta_min is not None else lo
            hi = args.eta_max if args.eta_max is not None else hi
            ranges.append((lo, hi))
        o["eta_ranges"] = tuple(ranges)
    s = sweep_preset(args.preset, **o)
    _check_nn_size(args, s, int(s.n_eta) * len(s.momenta), "nn sweep")
    png = _setup(args)
    res = run_sweep(s, out=args.out, png=png, overwrite=args.overwrite,
                    quiet=args.quiet or args.json, workers=_workers(args), threads=args.threads,
                    scheduler=C.scheduler_from_args(args))
    summary = dict(res.summary, preset=args.preset)
    _report(args, summary, "nn sweep")
    return 0


def cmd_slice(args) -> int:
    from ..nn.slices import PAPER_ZOOM, run_slice, slice_preset

    o = _common_overrides(args)
    for key in ("eta", "momentum", "tile_rows"):
        v = getattr(args, key)
        if v is not None:
            o[key] = v
    if args.grid is not None:
        o["grid"] = _grid(args.grid)
    if args.zoom and args.range is not None:
        raise GdchaosInputError("give either --zoom or --range, not both")
    if args.zoom:
        o["range"] = PAPER_ZOOM
    elif args.range is not None:
        r = _floats(args.range, "--range")
        if len(r) != 4:
            raise GdchaosInputError(f"--range needs X0,X1,Y0,Y1; got {args.range!r}")
        o["range"] = tuple(r)
    refine = C.refine_from_args(args)  # its checks
    if refine is not None:
        o["refine"] = refine.levels
        if args.refine_check is not None:
            o["refine_check"] = refine.check
    s = slice_preset(args.preset, **o)
    _check_nn_size(args, s, int(s.grid[0]) * int(s.grid[1]), "nn slice")
    png = _setup(args)
    res = run_slice(s, out=args.out, png=png, overwrite=args.overwrite,
                    quiet=args.quiet or args.json, max_tiles=args.max_tiles,
                    workers=_workers(args), threads=args.threads,
                    scheduler=C.scheduler_from_args(args))
    summary = dict(res.summary, preset=args.preset)
    _report(args, summary, "nn slice")
    return 0


def main(argv=None) -> int:  # pragma: no cover - convenience for trying the commands alone
    p = argparse.ArgumentParser(prog="gdchaos")
    register(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(argv)
    try:
        return args.func(args)
    except GdchaosInputError as exc:
        print(f"gdchaos: error: {exc}", file=sys.stderr)
        return 2
