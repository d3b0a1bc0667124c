"""``gdchaos nn map``: a trainability map of a network over two hyperparameters (the library's
:func:`gdchaos.nn.maps.network_map`; this module only parses)."""

from __future__ import annotations

import argparse
import time

from . import _common as C
from .maps import add_map_output, check_map_size

NN_MAP_EPILOG = """examples:
  # Sohl-Dickstein (2024): tanh, width 16, mean-field, learning rates of the two layers
  gdchaos nn map --grid 128 --out tanh.zarr --png tanh.png
  # ReLU, the same axes; identity with 16 data points; one data point
  gdchaos nn map --activation relu --out relu.zarr
  gdchaos nn map --activation identity --n-points 16 --out id.zarr
  # minibatches of 16 (the same seeded sequence for every pixel)
  gdchaos nn map --batch-size 16 --out mb.zarr
  # an offset added to the input layer at the start, against one learning rate
  gdchaos nn map --x-axis offset_in:log:1e-3,1e1 --y-axis eta:log:1e-1,1e5 --out off.zarr
  # a ReLU network with biases on two digits classes, step size against momentum
  gdchaos nn map --data digits --activation relu --parameterization standard \\
      --optimizer heavy_ball --x-axis eta:log:1e-3,1e1 --y-axis momentum:lin:0,0.95 --out d.zarr

A pixel is trainable when the mean of its last --window losses is below its first loss
(Sohl-Dickstein's criterion); statuses as in `gdchaos basin` with the rule loss_below_tol.
Parameter groups: in, hidden1, ..., out (axes eta_GROUP, offset_GROUP).  docs/nn.md.
"""


def register(sub):
    m = sub.add_parser("map", help="trainability over two hyperparameters (Sohl-Dickstein 2024)",
                       description="Train one initialization of a small network at every point "
                       "of a grid of two hyperparameters (the torch backend) into a tiled, "
                       "resumable zarr store.", epilog=NN_MAP_EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    n = m.add_argument_group("network and data")
    n.add_argument("--activation", default="tanh", choices=["tanh", "relu", "identity"])
    n.add_argument("--width", type=C.positive, default=16, help="hidden width (16)")
    n.add_argument("--depth", type=C.positive, default=1, help="hidden layers (1)")
    n.add_argument("--parameterization", default="mean_field",
                   choices=["mean_field", "standard"], help="mean_field (default, no biases) "
                   "or standard (biases)")
    n.add_argument("--data", default="synthetic", choices=["synthetic", "digits", "cifar10"],
                   help="synthetic: inputs and targets N(0, 1) (default); digits/cifar10: "
                   "classes 0 and 1")
    n.add_argument("--n-points", type=C.positive, default=None,
                   help="synthetic data points (default: as many as parameters)")
    n.add_argument("--n-per-class", type=C.positive, default=25, help="image data per class")
    n.add_argument("--data-seed", type=C.seed, default=0)
    n.add_argument("--data-dir", default=None, help="CIFAR-10 folder (cifar10 data)")
    n.add_argument("--batch-size", type=C.positive, default=None,
                   help="minibatches of this size, drawn with replacement (default full batch)")
    n.add_argument("--batch-seed", type=C.seed, default=0)
    n.add_argument("--loss", default="mse", choices=["mse", "ce"])
    n.add_argument("--lam", default="0", help="weight decay lam (default 0)")
    n.add_argument("--seed", type=C.seed, default=0, help="seed of the initialization")
    a = m.add_argument_group("axes")
    a.add_argument("--x-axis", default="eta_in:log:1e-1,1e5", metavar="NAME:SCALE:LO,HI",
                   help="the columns' axis (default eta_in:log:1e-1,1e5)")
    a.add_argument("--y-axis", default="eta_out:log:1e-1,1e5", metavar="NAME:SCALE:LO,HI",
                   help="the rows' axis (default eta_out:log:1e-1,1e5)")
    a.add_argument("--grid", default="64", help="resolution N or NX,NY (default 64)")
    r = m.add_argument_group("optimizer and run")
    r.add_argument("--optimizer", default="gd",
                   choices=["gd", "heavy_ball", "nesterov", "adam", "adamw"])
    r.add_argument("--eta", default="1", help="step size of axes that do not set one (1)")
    r.add_argument("--momentum", default=None, help="heavy ball/Nesterov beta, Adam b1")
    r.add_argument("--iters", type=C.steps, default=499,
                   help="step limit (default 499: 500 losses, as 500 steps of his read)")
    r.add_argument("--tol", default="1e-12", help="converged when loss <= tol (1e-12)")
    r.add_argument("--div", default="1e12", help="diverged when loss > div (1e12)")
    r.add_argument("--window", type=C.positive, default=20,
                   help="losses averaged by the trainability score (20)")
    r.add_argument("--device", default=None, help="torch device (cpu, cuda)")
    r.add_argument("--threads", type=C.positive, default=None, help="CPU threads (default: all)")
    add_map_output(m, "also store any of sq_norm, sharpness (top Hessian eigenvalue at the "
                   "final parameters), ... (comma list; none)", "also save a picture of the map")
    m.set_defaults(func=cmd_map)


def cmd_map(args):
    from ..nn.maps import NetMapSettings, network_map, plot_network_map
    from ..problems import check_records
    from .core import command_line, grid_shape, print_map_result

    s = NetMapSettings(activation=args.activation, width=args.width, depth=args.depth,
                       parameterization=args.parameterization, data=args.data,
                       n_points=args.n_points, n_per_class=args.n_per_class,
                       data_seed=args.data_seed, batch_size=args.batch_size,
                       batch_seed=args.batch_seed, loss=args.loss,
                       lam=C.number(args.lam, "--lam"), init_seed=args.seed,
                       optimizer=args.optimizer, eta=C.number(args.eta, "--eta"),
                       momentum=None if args.momentum is None else C.number(args.momentum,
                                                                            "--momentum"),
                       iters=args.iters, tol=C.number(args.tol, "--tol"),
                       div=C.number(args.div, "--div"), window=args.window)
    nx, ny = grid_shape(args)
    records = check_records(args.records)
    refine = C.refine_from_args(args)
    problem = s.problem(args.data_dir)
    check_map_size(args, nx, ny, problem.n_params, records)
    C.check_image_path(args.png, "--png")
    scheduler = C.scheduler_from_args(args)
    from ..engine import check_store_target

    check_store_target(args.out, args.overwrite)
    if scheduler is not None and scheduler.kind == "local":  # its workers run on this machine
        from ..engine import check_device

        check_device("torch", args.device)
    if scheduler is None:
        C.set_threads(args.threads)
    t0 = time.perf_counter()
    ds = network_map(s, args.x_axis, args.y_axis, (nx, ny), store=args.out,
                     overwrite=args.overwrite, progress=not (args.quiet or args.json),
                     device=args.device, tile_rows=args.tile_rows, records=records,
                     problem=problem,
                     scheduler=scheduler, threads=args.threads if scheduler else None,
                     refine=refine, extra_attrs={"command": command_line(args)})
    seconds = time.perf_counter() - t0
    trainable = float(ds["trainable"].values.mean())
    if args.png:
        plot_network_map(ds, args.png)
    out = {"trainable": trainable, "seconds": seconds, "out": args.out, "png": args.png,
           "grid": [nx, ny], "x_axis": args.x_axis, "y_axis": args.y_axis,
           "settings": {k: v for k, v in vars(s).items()}}
    print_map_result(args, out, {"trainable": trainable}, refine, args.out,
                     f"{seconds:.2f} s -> {args.out}")
    return 0
