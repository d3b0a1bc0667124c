"""Analysis commands: dimension, uncertainty, basin-entropy, wada, lyapunov, entropy,
periodic-orbits, branches, convergence-study."""

from __future__ import annotations

import numpy as np

from .._errors import GdchaosInputError, check_nonneg, check_positive
from . import _common as C

_FIG3 = "Figure 3 setting by default: quotient map y=0.5, lam=0.2, eta=1, z in [-2.5,3], " \
        "w in [0,10], 200 steps"


def _progress(args):
    return not getattr(args, "quiet", False)


def _add_common(p):
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar or notes on stderr")


def add_problem_args(p, default_problem="quotient", y="1", lam="0"):
    g = p.add_argument_group("problem")
    g.add_argument("--problem", default=default_problem,
                   choices=["quotient", "scalar", "matrix", "deep"],
                   help=f"default {default_problem}")
    g.add_argument("--y", default=y, help=f"scalar/quotient target (default {y})")
    g.add_argument("--lam", default=lam, help=f"weight decay (default {lam})")
    g.add_argument("--d", type=int, default=None, help="scalar: u, v in R^d; matrix: rows")
    g.add_argument("--Y", default=None, help="matrix/deep target 'a,b;c,d' (default identity)")
    g.add_argument("--k", type=int, default=3, help="deep: number of factors (default 3)")


def problem_from_args(args):
    from ..problems import (DeepMatrixFactorization, MatrixFactorization, QuotientMap,
                            ScalarFactorization)

    lam = check_nonneg("--lam", C.number(args.lam, "--lam"))
    if args.problem == "quotient":
        return QuotientMap(y=C.number(args.y, "--y"), lam=lam)
    if args.problem == "scalar":
        return ScalarFactorization(d=args.d or 1, y=C.number(args.y, "--y"), lam=lam)
    Y = C.matrix(args.Y, "--Y") if args.Y else np.eye(2)
    if args.problem == "matrix":
        return MatrixFactorization(Y=Y, d=args.d or Y.shape[0], lam=lam)
    return DeepMatrixFactorization(Y=Y, k=args.k, lam=lam)


def _add_quotient(p, n=2000):
    g = p.add_argument_group("quotient map (defaults: figure 3)")
    g.add_argument("--y", default="0.5", help="target y (default 0.5)")
    g.add_argument("--lam", default="0.2", help="weight decay lam (default 0.2)")
    g.add_argument("--eta", default="1", help="step size eta (default 1)")
    g.add_argument("--zrange", default="-2.5,3", help="z range (default -2.5,3; write "
                   "--zrange=-2,3 for a negative start)")
    g.add_argument("--wrange", default="0,10", help="w range (default 0,10)")
    g.add_argument("--n", type=int, default=n, help=f"grid resolution n x n (default {n})")
    g.add_argument("--steps", type=int, default=200, help="steps of the map (default 200)")
    g.add_argument("--margin", default="1e-2", help="leave out points with w - 2|z+y| below "
                   "this (default 1e-2)")


def _quotient(args):
    q = {"y": C.number(args.y, "--y"), "lam": check_nonneg("--lam", C.number(args.lam, "--lam")),
         "eta": check_positive("--eta", C.number(args.eta, "--eta")),
         "zrange": tuple(C.floats(args.zrange, "--zrange", 2)),
         "wrange": tuple(C.floats(args.wrange, "--wrange", 2)),
         "margin": check_nonneg("--margin", C.number(args.margin, "--margin"))}
    for k in ("zrange", "wrange"):
        if not q[k][0] < q[k][1]:
            raise GdchaosInputError(f"--{k} needs min < max, got {q[k]}")
    if args.n < 3 or args.steps < 1:
        raise GdchaosInputError("--n must be >= 3 and --steps >= 1")
    return q


def _tiled(args, procedure="clean"):
    from ..analysis import quotient_boundary_tiled

    q = _quotient(args)
    return quotient_boundary_tiled(args.n, args.steps, procedure=procedure,
                                   progress=_progress(args), **q), q


def _computed_labels(args, mode):
    """Outcome map computed with the engine: the quotient (z, w) grid (-1 outside the state
    space or within the margin of its edge) or a 2-D slice of another problem.  Returns
    ``(labels, xs, ys, outcome_fn)``."""
    from ..analysis import QuotientGrid, engine_outcome, quotient_edge_gap
    from ..engine import Slice2D

    prob = problem_from_args(args)
    eta = check_positive("--eta", C.number(args.eta, "--eta"))
    if args.n < 3 or args.steps < 1:
        raise GdchaosInputError("--n must be >= 3 and --steps >= 1")
    kw = {"max_iter": args.steps, "tol": C.number(args.tol, "--tol"), "gtol": 0.0}
    if prob.name == "quotient":
        rng = C.floats(args.range or "-2.5,3,0,10", "--range", 4)
        g = QuotientGrid.square(rng[:2], rng[2:], args.n)
        xs, ys, X = g.zs, g.ws, g.slice2d().points()
        margin = check_nonneg("--margin", C.number(args.margin, "--margin"))
        gap = quotient_edge_gap(xs[None, :], ys[:, None], prob.y)
    else:
        rng = C.floats(args.range or "-4,4,-4,4", "--range", 4)
        P = prob.n_params
        sl = (Slice2D.axes(P, rng[:2], rng[2:], args.n) if P == 2 else
              Slice2D.random(P, rng[:2], rng[2:], args.n, seed=args.seed))
        xs, ys, X = sl.xs, sl.ys, sl.points()
        gap, margin = None, 0.0
        if P > 2:
            D = sl.directions
            c = sl.center
            base = engine_outcome(prob, eta, mode, **kw)

            def f(Q):
                return base(c + Q[:, :1] * D[0] + Q[:, 1:2] * D[1])

            lab = f(np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)).reshape(args.n, args.n)
            return lab, xs, ys, f
    f = engine_outcome(prob, eta, mode, **kw)
    lab = f(X).reshape(args.n, args.n)
    if gap is not None:
        lab = np.where(gap < margin, -1, lab)
    return lab, xs, ys, f


def _load_npy(path, name):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise GdchaosInputError(f"cannot read {name} {path}: {exc}") from None


def _labels_from_source(args):
    if args.labels:
        L = _load_npy(args.labels, "--labels")
        if L.ndim != 2:
            raise GdchaosInputError(f"{args.labels}: an outcome map must be 2-D, got {L.shape}")
        return np.asarray(L).astype(np.int16)
    if args.store:
        from ..analysis import dataset_labels
        from ..engine import open_store

        return dataset_labels(open_store(args.store), args.outcome)
    return _computed_labels(args, args.outcome)[0]


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
    s.add_argument("--n", type=int, default=600, help="resolution n x n (default 600)")
    s.add_argument("--steps", type=int, default=200, help="step limit (default 200)")
    s.add_argument("--tol", default="1e-12", help="converged when loss - min <= tol")
    s.add_argument("--margin", default="1e-2", help="quotient: leave out w - 2|z+y| < margin")
    s.add_argument("--seed", type=int, default=0, help="random slice seed (P > 2)")


def _save_png(path, fn):
    if not path:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    C.check_writable_file(path, "--png")
    fig, ax = plt.subplots(figsize=(5, 4))
    fn(ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _emit(args, obj, text):
    if args.json:
        C.emit_json(obj)
    else:
        print(text)
    return 0


# ------------------------------------------------------------------------------- dimension
def cmd_dimension(args):
    from ..analysis import box_dimension, paper_box_dimension

    if args.points:
        P = _load_npy(args.points, "--points")
        res = {}
        if args.method in ("paper", "both"):
            res["paper"] = paper_box_dimension(P)
        if args.method in ("auto", "both"):
            res["auto"] = box_dimension(P)
        info = {"source": args.points}
    else:
        tb, q = _tiled(args, args.procedure)
        if tb.n_boundary < 10:
            raise GdchaosInputError("the boundary has fewer than 10 points; widen the window")
        res = {}
        if args.method in ("paper", "both"):
            res["paper"] = paper_box_dimension(tb.points())
        if args.method in ("auto", "both"):
            res["auto"] = box_dimension(tb.mask(), xs=tb.grid.zs, ys=tb.grid.ws)
        info = dict(q, n=args.n, steps=args.steps, procedure=args.procedure,
                    n_boundary=tb.n_boundary, seconds=tb.seconds)
    _save_png(args.png, lambda ax: [r.plot(ax=ax, label=k) for k, r in res.items()])
    out = {"info": info, **{k: r.as_dict() for k, r in res.items()}}
    lines = [f"{k}: D = {r.dimension:.4f}  95% CI [{r.ci[0]:.4f}, {r.ci[1]:.4f}]  "
             f"fit on eps in [{r.fit_eps[-1]:.3g}, {r.fit_eps[0]:.3g}]" for k, r in res.items()]
    return _emit(args, out, "\n".join(lines))


# ----------------------------------------------------------------------------- uncertainty
def cmd_uncertainty(args):
    from ..analysis import box_sampler, engine_outcome, quotient_sampler, uncertainty_exponent
    prob = problem_from_args(args)
    eta = check_positive("--eta", C.number(args.eta, "--eta"))
    eps = np.array(C.floats(args.eps, "--eps")) if args.eps else None
    if eps is None:
        hi, lo = C.floats(args.eps_range, "--eps-range", 2)
        if not hi > lo > 0:
            raise GdchaosInputError("--eps-range needs HI,LO with HI > LO > 0")
        eps = np.geomspace(hi, lo, args.n_eps)
    if prob.name == "quotient":
        box = C.floats(args.box or "-2.5,3,0,10", "--box", 4)
        sampler = quotient_sampler(box[:2], box[2:], prob.y, C.number(args.margin, "--margin"))
    else:
        P = prob.n_params
        box = C.floats(args.box or "-4,4", "--box")
        if len(box) == 2:
            box = box * P
        if len(box) != 2 * P:
            raise GdchaosInputError(f"--box needs 2 or {2 * P} numbers, got {len(box)}")
        sampler = box_sampler(box[0::2], box[1::2])
    out = engine_outcome(prob, eta, args.outcome, max_iter=args.iters,
                         tol=C.number(args.tol, "--tol"), div_threshold=C.number(args.div, "--div"),
                         gtol=0.0)
    r = uncertainty_exponent(out, sampler, eps, args.points, seed=args.seed,
                             progress=_progress(args))
    _save_png(args.png, lambda ax: r.plot(ax=ax))
    rows = "\n".join(f"  eps {e:.3e}  f {f:.4e}  ({int(u)} of {int(v)})"
                     for e, f, u, v in zip(r.eps, r.fraction, r.n_uncertain, r.n_valid))
    return _emit(args, r.as_dict(), f"{rows}\nalpha = {r.alpha:.4f}  95% CI [{r.ci[0]:.4f}, "
                 f"{r.ci[1]:.4f}]  ->  boundary dimension D - alpha = {r.dimension:.4f}")


# ----------------------------------------------------------------------- basin entropy, wada
def cmd_basin_entropy(args):
    from ..analysis import basin_entropy, basin_entropy_scaling

    L = _labels_from_source(args)
    r = basin_entropy_scaling(L, args.box) if args.scaling else basin_entropy(L, args.box)
    txt = (f"Sb = {r.Sb:.4f}  Sbb = {r.Sbb:.4f}  (box {r.box} px, {r.n_boundary_boxes} boundary "
           f"boxes of {r.n_boxes})\nlog 2 criterion (Sbb > log 2 = 0.6931): "
           f"{'fractal boundary' if r.log2_test else 'inconclusive'}")
    if r.fit is not None:
        txt += f"\nSb ~ box^alpha: alpha = {r.fit.slope:.3f}"
    return _emit(args, r.as_dict(), txt)


def cmd_wada(args):
    from ..analysis import wada_grid, wada_merging

    if args.method == "merging":
        r = wada_merging(_labels_from_source(args), r_wada=args.r,
                         min_share=C.number(args.min_share, "--min-share"))
    else:
        if args.store or args.labels:
            raise GdchaosInputError("the grid method needs to run the map: give the problem, "
                                    "not --store/--labels")
        L, xs, ys, f = _computed_labels(args, args.outcome)
        r = wada_grid(f, xs, ys, L, max_level=args.levels)
    return _emit(args, r.as_dict(), f"{r.method}: W = {np.round(r.W, 4).tolist()} over "
                 f"{r.n_boundary} boundary {'pixels' if r.method == 'merging' else 'cells'}, "
                 f"{r.n_outcomes} outcomes -> {'Wada' if r.is_wada else 'not Wada'}")


# -------------------------------------------------------------------------------- lyapunov
def cmd_lyapunov(args):
    from ..analysis import lyapunov_map
    from ..engine import Slice2D
    prob = problem_from_args(args)
    eta = check_positive("--eta", C.number(args.eta, "--eta"))
    rng = C.floats(args.range or ("-2.5,3,0,10" if prob.name == "quotient" else "-4,4,-4,4"),
                   "--range", 4)
    P = prob.n_params
    g = (Slice2D.axes(P, rng[:2], rng[2:], args.grid) if P == 2 else
         Slice2D.random(P, rng[:2], rng[2:], args.grid, seed=args.seed))
    da = lyapunov_map(prob, g, eta, args.steps, progress=_progress(args))
    v = da.values
    ok = np.isfinite(v)
    if args.out:
        C.check_writable_file(args.out, "--out")
        np.save(args.out, v)
    _save_png(args.png, lambda ax: ax.imshow(v, origin="lower", aspect="auto", cmap="coolwarm",
                                             extent=[rng[0], rng[1], rng[2], rng[3]]))
    s = {"n_finite": int(ok.sum()), "n": int(v.size), "steps": args.steps,
         "fraction_positive": float(np.mean(v[ok] > 0)) if ok.any() else None,
         "mean": float(v[ok].mean()) if ok.any() else None,
         "max": float(v[ok].max()) if ok.any() else None, "problem": prob.params(), "eta": eta}
    return _emit(args, s, "\n".join(f"{k}: {val}" for k, val in s.items()))


# --------------------------------------------------------------------------------- entropy
def cmd_entropy(args):
    from ..analysis import lap_entropy, separated_set_entropy
    from ..theory import quotient as tq

    if args.map == "quotient":
        a = C.number(args.alpha, "--alpha")
        Z = np.random.default_rng(args.seed).uniform(-2, 2, args.samples)

        def F(X):
            return np.stack(tq.scaled_map(X[:, 0], X[:, 1], a, 0.0), 1)

        r = separated_set_entropy(F, np.stack([Z, a * Z + 4.0], 1), range(1, args.n_max + 1),
                                  C.number(args.eps, "--eps"), fit_from=1)
    else:
        if args.map == "logistic":
            rr = C.number(args.r, "--r")
            if not 0 < rr <= 4:
                raise GdchaosInputError(f"--r must be in (0, 4], got {rr}")
            f, iv, crit = (lambda x: rr * x * (1 - x)), (0.0, 1.0), [0.5]
        else:
            f, iv, crit = {"boundary": (tq.boundary_map, (-2.0, 2.0), [-1.0, 1.0]),
                           "chebyshev": (tq.chebyshev_map, (-1.0, 1.0), [-0.5, 0.5]),
                           "tent3": (tq.tent3_map, (-1.0, 1.0), [-1 / 3, 1 / 3])}[args.map]
        r = lap_entropy(f, iv, args.n_max, crit=crit)
    return _emit(args, r.as_dict(), f"{r.method}: counts {r.counts.astype(int).tolist()}\n"
                 f"h = {r.entropy:.6f}  95% CI [{r.ci[0]:.6f}, {r.ci[1]:.6f}]  "
                 f"(log 3 = {np.log(3):.6f}, log 2 = {np.log(2):.6f})")


# ------------------------------------------------------------------------- periodic orbits
def cmd_periodic_orbits(args):
    from ..analysis import boundary_periodic_orbit, gd_periodic_orbit

    periods = [int(p) for p in C.floats(args.periods, "--periods")]
    if any(p < 1 for p in periods):
        raise GdchaosInputError("--periods must be positive integers")
    if args.word and len(periods) != 1:
        raise GdchaosInputError("--word goes with a single period")
    out, lines = [], []
    for K in periods:
        tol = check_positive("--tol", C.number(args.tol, "--tol"))
        if args.gd:
            o = gd_periodic_orbit(K, d=args.d, eta=C.number(args.eta, "--eta"),
                                  y=C.number(args.y, "--y"), seed=args.seed, word=args.word,
                                  tol=tol)
        else:
            o = boundary_periodic_orbit(K, word=args.word, tol=tol)
        out.append(o.as_dict())
        lines.append(f"period {K:>3}  word {''.join(map(str, o.word)):<14} return error "
                     f"{o.return_error:.1e}  minimal period {o.minimal_period}  "
                     f"{'verified' if o.verified else 'NOT verified'}")
    ok = all(o["verified"] for o in out)
    _emit(args, {"orbits": out, "all_verified": ok}, "\n".join(lines))
    return 0 if ok else 1


# -------------------------------------------------------------------------------- branches
def cmd_branches(args):
    from ..analysis import branch_invariance, decompose_boundary

    tb, q = _tiled(args)
    m = tb.mask()
    dec = decompose_boundary(m, tb.grid.zs, tb.grid.ws, q["eta"], q["y"], q["lam"])
    inv = branch_invariance(m, tb.grid.zs, tb.grid.ws, q["eta"], q["y"], q["lam"])

    def draw(ax):
        P = tb.points()
        for i, col in enumerate(("tab:blue", "tab:orange", "tab:green")):
            s = dec.labels == i
            ax.scatter(P[s, 0] + q["y"], P[s, 1], s=0.3, color=col, label=f"G{i}(boundary)")
        ax.set_xlabel("u.v = z + y")
        ax.set_ylabel("w = |u|^2 + |v|^2")
        ax.legend(markerscale=10, fontsize=7)

    _save_png(args.png, draw)
    out = {"decomposition": dec.as_dict(), "invariance": inv.as_dict()}
    txt = [f"boundary points per branch strip: {np.bincount(dec.labels, minlength=3).tolist()}",
           f"F(boundary) within r px of the boundary: {dec.fractions['F']}"]
    txt += [f"{k}(boundary) within r px of the boundary: {v}" for k, v in inv.fractions.items()]
    return _emit(args, out, "\n".join(txt))


# ----------------------------------------------------------------------- convergence study
def cmd_convergence_study(args):
    from ..analysis import convergence_study

    q = _quotient(args)
    res = [int(v) for v in C.floats(args.resolutions, "--resolutions")]
    st = [int(v) for v in C.floats(args.steps_list, "--steps-list")]
    if min(res) < 3 or min(st) < 1:
        raise GdchaosInputError("resolutions must be >= 3 and step counts >= 1")
    r = convergence_study(res, st, procedure=args.procedure, progress=_progress(args), **q)
    _save_png(args.png, lambda ax: r.plot(ax=ax))
    return _emit(args, r.as_dict(), r.table())


# -------------------------------------------------------------------------------- register
def _parser(sub, name, help_, desc, epilog):
    return sub.add_parser(name, help=help_, description=desc, epilog=epilog,
                          formatter_class=C.EXAMPLES_FMT)


def register(sub):
    p = _parser(sub, "dimension", "box-counting dimension of a basin boundary",
                "Box-counting dimension: the paper's fixed procedure (normalized into [0,1]^2, "
                "eps = 2^-2..2^-8, least squares) and/or the automatic estimator (largest "
                f"linear region, 95% interval).  {_FIG3}.",
                "examples:\n  gdchaos dimension --json\n"
                "  gdchaos dimension --n 8000 --method both --png dim.png\n"
                "  gdchaos dimension --points boundary.npy --method auto\n")
    _add_quotient(p)
    p.add_argument("--method", default="both", choices=["paper", "auto", "both"])
    p.add_argument("--procedure", default="paper", choices=["paper", "clean"],
                   help="boundary: 'paper' = region minus erosion (grid edge kept), 'clean' = "
                   "grid edge left out (default paper)")
    p.add_argument("--points", default=None, help="a .npy (n, D) point set instead")
    p.add_argument("--png", default=None, help="save log N against log 1/eps")
    _add_common(p)
    p.set_defaults(func=cmd_dimension)

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
    p.add_argument("--n-eps", type=int, default=8, help="sizes in the range (default 8)")
    p.add_argument("--points", type=int, default=200_000, help="points per eps (default 2e5)")
    p.add_argument("--iters", type=int, default=200, help="step limit (default 200)")
    p.add_argument("--tol", default="1e-12", help="converged when loss - min <= tol")
    p.add_argument("--div", default="1e8", help="diverged when loss > div")
    p.add_argument("--outcome", default="converged",
                   choices=["converged", "status", "status+minimizer"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--png", default=None, help="save f(eps)")
    _add_common(p)
    p.set_defaults(func=cmd_uncertainty)

    for name, fn, help_ in (("basin-entropy", cmd_basin_entropy, "basin entropy Sb, Sbb"),
                            ("wada", cmd_wada, "Wada test (merging or grid method)")):
        desc = ("Basin entropy and boundary basin entropy (Daza et al. 2016) with the log 2 "
                "criterion." if name == "basin-entropy" else
                "Wada test of an outcome map with 3 or more outcomes: merging method (Daza et "
                "al. 2018) or grid method (Daza et al. 2015).")
        ex = (f"examples:\n  gdchaos {name} --n 1000 --json\n"
              f"  # figure 3 middle: which of the two minimizers, or divergence\n"
              f"  gdchaos {name} --problem scalar --y 0.5 --lam 0.2 --eta 1 --range=-4,4,-4,4"
              f" --n 800 --steps 100 --outcome status+sign\n"
              f"  gdchaos {name} --store fig1.zarr --outcome status+minimizer\n"
              f"  gdchaos {name} --labels outcomes.npy\n")
        p = _parser(sub, name, help_, desc, ex)
        _add_source(p)
        if name == "basin-entropy":
            p.add_argument("--box", type=int, default=5, help="box side in pixels (default 5)")
            p.add_argument("--scaling", action="store_true", help="also Sb against box size")
        else:
            p.add_argument("--method", default="merging", choices=["merging", "grid"])
            p.add_argument("--r", type=int, default=3, help="merging: fattening radius (px)")
            p.add_argument("--min-share", default="1e-3", help="merging: ignore outcomes "
                           "with a smaller share of the pixels (default 1e-3)")
            p.add_argument("--levels", type=int, default=5, help="grid: refinement levels")
        _add_common(p)
        p.set_defaults(func=fn)

    p = _parser(sub, "lyapunov", "map of the largest finite-time Lyapunov exponent",
                "Largest finite-time Lyapunov exponent of GD (Jacobian I - eta H; closed form "
                "for the quotient map) at every point of a 2-D slice.",
                "examples:\n  gdchaos lyapunov --grid 200 --steps 50 --json\n"
                "  gdchaos lyapunov --problem scalar --d 1 --y 1 --lam 0 --eta 0.2 "
                "--range=-4,4,-4,4 --grid 300 --out ftle.npy --png ftle.png\n")
    add_problem_args(p, default_problem="quotient", y="0.5", lam="0.2")
    p.add_argument("--eta", default="1", help="step size (default 1)")
    p.add_argument("--range", default=None, help="XMIN,XMAX,YMIN,YMAX of the slice")
    p.add_argument("--grid", type=int, default=200, help="resolution (default 200)")
    p.add_argument("--steps", type=int, default=50, help="steps (default 50)")
    p.add_argument("--seed", type=int, default=0, help="random slice seed (P > 2)")
    p.add_argument("--out", default=None, help="save the map (.npy)")
    p.add_argument("--png", default=None, help="save a picture")
    _add_common(p)
    p.set_defaults(func=cmd_lyapunov)

    p = _parser(sub, "entropy", "topological entropy (lap numbers, separated sets)",
                "Topological entropy: lap-number growth of an interval map, or growth of "
                "(n, eps)-separated orbits of the planar quotient map on {Q = 8} (beta = 0).",
                "examples:\n  gdchaos entropy --map boundary --n-max 12 --json\n"
                "  gdchaos entropy --map logistic --r 3.83\n"
                "  gdchaos entropy --map quotient --alpha 0.5 --samples 50000 --eps 0.05\n")
    p.add_argument("--map", default="boundary",
                   choices=["boundary", "chebyshev", "tent3", "logistic", "quotient"])
    p.add_argument("--n-max", type=int, default=12, help="largest n (default 12)")
    p.add_argument("--r", default="4", help="logistic parameter (default 4)")
    p.add_argument("--alpha", default="0.5", help="quotient: alpha = eta y (default 0.5)")
    p.add_argument("--samples", type=int, default=20000, help="quotient: samples on {Q = 8}")
    p.add_argument("--eps", default="0.05", help="quotient: separation eps (default 0.05)")
    p.add_argument("--seed", type=int, default=0)
    _add_common(p)
    p.set_defaults(func=cmd_entropy)

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
    p.add_argument("--d", type=int, default=2, help="GD: u, v in R^d (default 2)")
    p.add_argument("--eta", default="1", help="GD: step size (default 1)")
    p.add_argument("--y", default="0.5", help="GD: target, |eta y| < 1 (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="GD: directions of u+v, u-v")
    p.add_argument("--tol", default="1e-10", help="return tolerance (default 1e-10; an "
                   "unstable period-K orbit iterated in float64 returns only to ~3^K x 1e-16, "
                   "so raise it beyond K = 12)")
    _add_common(p)
    p.set_defaults(func=cmd_periodic_orbits)

    p = _parser(sub, "branches", "inverse branches G0, G1, G2 on the boundary (Prop. 14)",
                "Colour the quotient boundary by inverse branch (figure 3 left) and check that "
                f"F and each G_i map boundary points near boundary points.  {_FIG3}.",
                "examples:\n  gdchaos branches --json\n  gdchaos branches --n 4000 --png "
                "fig3_left.png\n")
    _add_quotient(p)
    p.add_argument("--png", default=None, help="save the coloured boundary")
    _add_common(p)
    p.set_defaults(func=cmd_branches)

    p = _parser(sub, "convergence-study", "dimension estimates as resolution and steps grow",
                "Tiled computation of the figure-3 boundary at growing resolution and step "
                "counts; paper procedure, automatic estimator and fixed-size box counts.",
                "examples:\n  gdchaos convergence-study\n"
                "  gdchaos convergence-study --resolutions 500,1000,2000,4000,8000,16000 "
                "--steps-list 100,200,400 --json > study.json\n")
    _add_quotient(p)
    p.add_argument("--resolutions", default="500,1000,2000,4000,8000")
    p.add_argument("--steps-list", default="200", help="step counts, comma-separated")
    p.add_argument("--procedure", default="clean", choices=["paper", "clean"])
    p.add_argument("--png", default=None, help="save local slopes at fixed box sizes")
    _add_common(p)
    p.set_defaults(func=cmd_convergence_study)

