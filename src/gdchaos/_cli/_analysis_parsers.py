"""Argument parsers of the analysis commands (the commands are in ``analysis``)."""

from __future__ import annotations

from ..errors import GdchaosInputError
from . import _common as C

_FIG3 = "Figure 3 setting by default: quotient map y=0.5, lam=0.2, eta=1, z in [-2.5,3], " \
        "w in [0,10], 200 steps"


def _add_common(p):
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar or notes on stderr")


def add_problem_args(p, default_problem="quotient", y="1", lam="0"):
    g = p.add_argument_group("problem")
    C.add_problem_option(g, default=default_problem, help_default=f" (default {default_problem})")
    g.add_argument("--lam", default=lam, help=f"weight decay (default {lam})")
    C.add_problem_options(g, defaults={"y": y})
    p.set_defaults(y_default=y)


def _add_quotient(p, n=2000):
    g = p.add_argument_group("quotient map (defaults: figure 3)")
    g.add_argument("--y", default="0.5", help="target y (default 0.5)")
    g.add_argument("--lam", default="0.2", help="weight decay lam (default 0.2)")
    g.add_argument("--eta", default="1", help="step size eta (default 1)")
    g.add_argument("--range", default="-2.5,3,0,10", help="Z0,Z1,W0,W1 (default -2.5,3,0,10; "
                   "write --range=-2,3,0,10 for a negative start)")
    g.add_argument("--grid", dest="n", type=int, default=n,
                   help=f"grid resolution N x N (default {n})")
    g.add_argument("--iters", dest="iters", type=C.positive_steps, default=200,
                   help="steps of the map (default 200)")
    g.add_argument("--margin", default="1e-2", help="leave out points with w - 2|z+y| below "
                   "this (default 1e-2)")


def _add_source(p):
    s = p.add_argument_group("input (default: compute the outcome map with the engine)")
    s.add_argument("--store", default=None, help="an engine basin store (gdchaos basin --out)")
    s.add_argument("--labels", default=None, help="a 2-D .npy outcome map (-1 = invalid)")
    s.add_argument("--outcome", default="converged",
                   choices=["converged", "status", "status+minimizer", "status+sign"],
                   help="outcome of a point (default converged / not; status+sign splits "
                   "converged points by the sign of the final first coordinate)")
    add_problem_args(p, default_problem="quotient", y="0.5", lam="0.2")
    s.add_argument("--eta", default="1", help="step size (default 1)")
    s.add_argument("--range", default=None, help="XMIN,XMAX,YMIN,YMAX (quotient: z and w; "
                   "default -2.5,3,0,10, else -4,4,-4,4; write --range=-4,4,... when it starts "
                   "with a minus sign)")
    s.add_argument("--grid", dest="n", type=int, default=600,
                   help="resolution N x N (default 600)")
    s.add_argument("--iters", dest="iters", type=C.positive_steps, default=200,
                   help="step limit (default 200)")
    s.add_argument("--tol", default="1e-12", help="converged when loss - min <= tol")
    s.add_argument("--margin", default="1e-2", help="quotient: leave out w - 2|z+y| < margin")
    s.add_argument("--seed", type=C.seed, default=0, help="random slice seed (P > 2)")


#: the quotient map's options of `gdchaos dimension` (parsed as None when not given) and defaults
_QUOTIENT = {"y": ("--y", "0.5"), "lam": ("--lam", "0.2"), "eta": ("--eta", "1"),
             "range": ("--range", "-2.5,3,0,10"), "n": ("--grid", 2000),
             "iters": ("--iters", 200), "procedure": ("--procedure", "paper")}


def dimension_source(args):
    """One source: the quotient map's options are refused beside --points or --store (and
    --outcome without --store); then the quotient map's defaults are filled in."""
    other = "--store" if args.store else "--points" if args.points else None
    given = [f for k, (f, _) in _QUOTIENT.items() if getattr(args, k) is not None]
    given += ["--margin"] if args.points and args.margin is not None else []
    if other and given:
        raise GdchaosInputError(f"{', '.join(given)}: quotient map option"
                                f"{'s' if len(given) > 1 else ''}, not used with {other} (give "
                                "one source)")
    if args.outcome is not None and not args.store:
        raise GdchaosInputError("--outcome: only used with --store (the outcomes of a map)")
    for k, (_, v) in _QUOTIENT.items():
        setattr(args, k, v if getattr(args, k) is None else getattr(args, k))
    if args.margin is None and not args.store:
        args.margin = "1e-2"
    args.method = args.method or ("auto" if args.store else "both")


# -------------------------------------------------------------------------------- register
def _parser(sub, name, help_, desc, epilog):
    return sub.add_parser(name, help=help_, description=desc, epilog=epilog,
                          formatter_class=C.EXAMPLES_FMT)


def register(sub, cmd):
    """Add the analysis commands; ``cmd`` maps a command name to its function."""
    p = _parser(sub, "dimension", "box-counting dimension of a basin boundary or of any map",
                "Box-counting dimension of a boundary, with its 95% interval.\n\nThe automatic "
                "estimator (N = A eps^-D + C fitted on boxes from 4 pixels to a quarter of the "
                "set's extent, counts averaged over 16 shifted grids; interval from the "
                "regression, the grid offsets and the sub-ranges of the fit) and/or the paper's "
                "fixed procedure (normalized into [0,1]^2, eps = 2^-2..2^-8, least squares).\n\n"
                "Sources: the figure-3 quotient map computed here (the quotient map options; "
                f"{_FIG3}), a point set (--points), or the one-pixel boundary of any stored map "
                "(--store: gdchaos basin, map, nn map, nn slice).\n\nA warning line when the "
                "boundary has fewer than 500 pixels or the fit fewer than 1.5 decades of box "
                "sizes (docs/analysis.md).",
                "examples:\n  gdchaos dimension --json\n"
                "  gdchaos dimension --grid 8000 --method both --png dim.png\n"
                "  gdchaos dimension --points boundary.npy --method auto\n"
                "  gdchaos basin --problem quotient --y 0.5 --lam 0.2 --eta 1 --grid 1024 "
                "--range -2.5,3,0,10 --iters 200 --out fig3.zarr\n"
                "  gdchaos dimension --store fig3.zarr --png fig3_dim.png\n"
                "  gdchaos dimension --store tanh.zarr --json   # an nn map: trainable or not\n")
    _add_quotient(p)
    # None = not given: the quotient map's defaults are filled in by the command, which refuses
    # these options beside --points or --store
    p.set_defaults(y=None, lam=None, eta=None, range=None, n=None, iters=None, margin=None)
    p.add_argument("--method", default=None, choices=["paper", "auto", "both"],
                   help="estimator (default both; auto with --store)")
    p.add_argument("--procedure", default=None, choices=["paper", "clean"],
                   help="quotient map boundary: 'paper' = region minus erosion (grid edge "
                   "kept), 'clean' = grid edge left out (default paper)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--points", default=None, help="a .npy (n, D) point set instead")
    src.add_argument("--store", default=None, help="a stored map instead (gdchaos basin, map, "
                     "nn map or nn slice --out): the one-pixel boundary of its outcomes, boxes "
                     "in its coordinates (log10 on a log axis); --margin: the quotient map's "
                     "edge (default 1e-2)")
    p.add_argument("--outcome", default=None,
                   choices=["auto", "converged", "diverged", "status", "status+minimizer",
                            "status+sign", "trainable"],
                   help="--store: outcome whose boundary is measured (default auto: trainable "
                   "(score < 1) for an nn map, converged for the others)")
    p.add_argument("--png", default=None, help="save N(eps) of each estimate, box sizes over "
                   "the set's largest side, with the source in the title")
    _add_common(p)
    C.add_allow_large(p)
    p.set_defaults(func=cmd["dimension"])

    p = _parser(sub, "uncertainty", "uncertainty exponent (Grebogi et al. 1983)",
                "Fraction of random points whose outcome changes under a perturbation of size "
                "eps, f ~ eps^alpha, alpha = D - D_B.  One engine call per eps.  Quotient map "
                "with the figure-3 setting by default.",
                "examples:\n  gdchaos uncertainty --json\n"
                "  gdchaos uncertainty --points 1000000 --eps-range 1e-1,1e-6 --n-eps 8\n"
                "  gdchaos uncertainty --problem scalar --y 1 --lam 0 --eta 0.2 --box=-4,4 "
                "--iters 1000 --eps-range 1e-1,1e-4\n")
    add_problem_args(p, default_problem="quotient", y="0.5", lam="0.2")
    p.add_argument("--eta", default="1", help="step size (default 1)")
    p.add_argument("--box", default=None, help="sampling box: quotient z0,z1,w0,w1 (default "
                   "-2.5,3,0,10); else LO,HI for every coordinate or 2P numbers")
    p.add_argument("--margin", default="1e-2", help="quotient: keep w - 2|z+y| >= margin")
    p.add_argument("--eps", default=None, help="perturbation sizes, comma-separated")
    p.add_argument("--eps-range", default="1e-1,1e-6", help="HI,LO (default 1e-1,1e-6)")
    p.add_argument("--n-eps", type=int, default=8, help="sizes in the range, >= 2 (default 8)")
    p.add_argument("--points", type=C.positive, default=200_000,
                   help="points per eps (default 2e5)")
    p.add_argument("--iters", type=C.positive_steps, default=200,
                   help="step limit (default 200)")
    p.add_argument("--tol", default="1e-12", help="converged when loss - min <= tol (>= 0)")
    p.add_argument("--div", default="1e8", help="diverged when loss > div (> 0)")
    p.add_argument("--outcome", default="converged",
                   choices=["converged", "status", "status+minimizer"])
    p.add_argument("--seed", type=C.seed, default=0)
    p.add_argument("--png", default=None, help="save f(eps)")
    _add_common(p)
    C.add_allow_large(p)
    p.set_defaults(func=cmd["uncertainty"])

    for name, help_ in (("basin-entropy", "basin entropy Sb, Sbb"),
                        ("wada", "Wada test (merging or grid method)")):
        desc = ("Basin entropy and boundary basin entropy (Daza et al. 2016) with the log 2 "
                "criterion." if name == "basin-entropy" else
                "Wada test of an outcome map with 3 or more outcomes: merging method (Daza et "
                "al. 2018) or grid method (Daza et al. 2015).")
        ex = (f"examples:\n  gdchaos {name} --grid 1000 --json\n"
              f"  # figure 3 middle: which of the two minimizers, or divergence\n"
              f"  gdchaos {name} --problem scalar --y 0.5 --lam 0.2 --eta 1 --range=-4,4,-4,4"
              f" --grid 800 --iters 100 --outcome status+sign\n"
              f"  gdchaos {name} --store fig1.zarr --outcome status+minimizer\n"
              f"  gdchaos {name} --labels outcomes.npy\n")
        p = _parser(sub, name, help_, desc, ex)
        _add_source(p)
        if name == "basin-entropy":
            p.add_argument("--box-size", dest="box", type=C.positive, default=5,
                           help="box side in pixels (default 5)")
            p.add_argument("--scaling", action="store_true", help="also Sb against box size")
        else:
            p.add_argument("--method", default="merging", choices=["merging", "grid"])
            p.add_argument("--r", type=C.nonneg, default=3,
                           help="merging: fattening radius (px, default 3)")
            p.add_argument("--min-share", default="1e-3", help="merging: ignore outcomes "
                           "with a smaller share of the pixels (default 1e-3)")
            p.add_argument("--levels", type=C.nonneg, default=5,
                           help="grid: refinement levels (default 5, at most 12)")
        _add_common(p)
        C.add_allow_large(p)
        p.set_defaults(func=cmd[name])

    p = _parser(sub, "lyapunov", "finite-time Lyapunov exponents of GD, with an interval",
                "Largest finite-time Lyapunov exponent of GD (Jacobian I - eta H; closed form "
                "for the quotient map; QR re-orthonormalization) from every point of a 2-D "
                "slice, or of a range of x for a one-parameter problem; the mean over the "
                "initial points with a 95% t-interval (each initial point one sample), the "
                "standard deviation and quantiles; --spectrum for all exponents "
                "(docs/analysis.md).",
                "examples:\n  gdchaos lyapunov --grid 200 --iters 50 --json\n"
                "  gdchaos lyapunov --problem scalar --d 1 --y 1 --lam 0 --eta 0.2 "
                "--range=-4,4,-4,4 --grid 300 --out ftle.npy --png ftle.png\n"
                "  gdchaos lyapunov --problem mine.py:Logistic --range 0.01,0.99 --grid 500 "
                "--iters 2000 --transient 100\n")
    add_problem_args(p, default_problem="quotient", y="0.5", lam="0.2")
    p.add_argument("--eta", default="1", help="step size (default 1)")
    p.add_argument("--range", default=None, help="XMIN,XMAX,YMIN,YMAX of the slice, or "
                   "XMIN,XMAX for a one-parameter problem (default: the problem's window)")
    p.add_argument("--grid", type=C.positive, default=200, help="resolution: N x N points, or "
                   "N points for a one-parameter problem (default 200)")
    p.add_argument("--iters", dest="iters", type=C.positive_steps, default=50,
                   help="steps averaged (default 50)")
    p.add_argument("--transient", type=C.steps, default=0,
                   help="steps taken first and not averaged (default 0)")
    p.add_argument("--spectrum", action="store_true",
                   help="all P exponents (QR method), each with its interval")
    p.add_argument("--seed", type=C.seed, default=0, help="random slice seed (P > 2)")
    p.add_argument("--out", default=None, help="save the largest exponent at every initial "
                   "point (NaN: diverged) to exactly this file, NumPy .npy format (the name "
                   "must end in .npy); shape (N, N), (N,) for one parameter, with a last axis "
                   "of P exponents under --spectrum")
    p.add_argument("--png", default=None, help="save a picture")
    _add_common(p)
    C.add_allow_large(p)
    p.set_defaults(func=cmd["lyapunov"])

    p = _parser(sub, "entropy", "topological entropy (lap numbers, separated sets)",
                "Topological entropy: lap-number growth of an interval map, or growth of "
                "(n, eps)-separated orbits of the planar quotient map on {Q = 8} (beta = 0).",
                "examples:\n  gdchaos entropy --map boundary --n-max 12 --json\n"
                "  gdchaos entropy --map logistic --r 3.83\n"
                "  gdchaos entropy --map quotient --alpha 0.5 --samples 50000 --eps 0.05\n")
    p.add_argument("--map", default="boundary",
                   choices=["boundary", "chebyshev", "tent3", "logistic", "quotient"])
    p.add_argument("--n-max", type=C.positive, default=12, help="largest n (default 12; the "
                   "work grows like exp(h n): estimated first, refused past the limit unless "
                   "--allow-large)")
    p.add_argument("--r", default=None, help="logistic: parameter in (0, 4] (default 4)")
    p.add_argument("--alpha", default=None, help="quotient: alpha = eta y, |alpha| < 1 "
                   "(default 0.5; for |eta y| >= 1 GD has no stable minimizer)")
    p.add_argument("--samples", type=C.positive, default=None,
                   help="quotient: samples on {Q = 8} (default 20000)")
    p.add_argument("--eps", default=None, help="quotient: separation eps > 0 (default 0.05)")
    p.add_argument("--seed", type=C.seed, default=None, help="quotient: sampling seed "
                   "(default 0)")
    _add_common(p)
    C.add_allow_large(p)
    p.set_defaults(func=cmd["entropy"])

    p = _parser(sub, "periodic-orbits", "periodic orbits of the boundary map and of GD",
                "Periodic orbits of Z^3 - 3Z built from symbol words (exact in the conjugate "
                "piecewise-linear coordinate), or of GD on u, v in R^d (Prop. 19), each "
                "verified by iterating in float64.  Exit code 1 if one fails verification.",
                "examples:\n  gdchaos periodic-orbits --periods 1,2,3,4,5,6,7,8,9,10,11,12\n"
                "  gdchaos periodic-orbits --periods 7 --word 1021100\n"
                "  gdchaos periodic-orbits --gd --d 3 --eta 1 --y 0.5 --periods 5 --json\n")
    p.add_argument("--periods", default="1,2,3,4,5,6,7,8,9,10,11,12")
    p.add_argument("--word", default=None, help="symbols 0/1/2 (a single period)")
    p.add_argument("--gd", action="store_true", help="lift to GD on scalar factorization")
    p.add_argument("--d", type=C.positive, default=None, help="GD: u, v in R^d (default 2)")
    p.add_argument("--eta", default=None, help="GD: step size (default 1)")
    p.add_argument("--y", default=None, help="GD: target, |eta y| < 1 (default 0.5)")
    p.add_argument("--seed", type=C.seed, default=None,
                   help="GD: directions of u+v, u-v (default 0)")
    p.add_argument("--tol", default="1e-10", help="return tolerance (default 1e-10; an "
                   "unstable period-K orbit iterated in float64 returns only to ~3^K x 1e-16, "
                   "so raise it beyond K = 12)")
    _add_common(p)
    C.add_allow_large(p)
    p.set_defaults(func=cmd["periodic-orbits"])

    p = _parser(sub, "branches", "inverse branches G0, G1, G2 on the boundary (Prop. 14)",
                "Colour the quotient boundary by inverse branch (figure 3 left) and check that "
                f"F and each G_i map boundary points near boundary points.  {_FIG3}.",
                "examples:\n  gdchaos branches --json\n  gdchaos branches --grid 4000 --png "
                "fig3_left.png\n")
    _add_quotient(p)
    p.add_argument("--png", default=None, help="save the coloured boundary")
    _add_common(p)
    C.add_allow_large(p)
    p.set_defaults(func=cmd["branches"])

    p = _parser(sub, "convergence-study", "dimension estimates as resolution and steps grow",
                "Tiled computation of the figure-3 boundary at growing resolution and step "
                "counts; paper procedure, automatic estimator and fixed-size box counts.",
                "examples:\n  gdchaos convergence-study\n"
                "  gdchaos convergence-study --resolutions 500,1000,2000,4000,8000,16000 "
                "--iters-list 100,200,400 --json > study.json\n"
                "  gdchaos convergence-study --resolutions 2000,4000,8000,16000 --scheduler "
                "local:4\n")
    _add_quotient(p)
    p.add_argument("--resolutions", default="500,1000,2000,4000,8000")
    p.add_argument("--iters-list", dest="iters_list", default="200",
                   help="step limits, comma-separated")
    p.add_argument("--procedure", default="clean", choices=["paper", "clean"])
    p.add_argument("--png", default=None, help="save local slopes at fixed box sizes")
    C.add_scheduler(p.add_argument_group("cluster (every band of every resolution one task)"))
    _add_common(p)
    C.add_allow_large(p)
    p.set_defaults(func=cmd["convergence-study"])

