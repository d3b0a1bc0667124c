"""Analysis commands: dimension, uncertainty, basin-entropy, wada, lyapunov, entropy,
periodic-orbits, branches, convergence-study."""

from __future__ import annotations

import sys

import numpy as np

from ..errors import GdchaosInputError, check_nonneg, check_positive
from . import _common as C


def _progress(args):
    return not getattr(args, "quiet", False)


def _window(problem):
    """The problem's default window as the ``--range`` text."""
    return ",".join(f"{v:g}" for v in problem.default_window)


def problem_from_args(args):
    return C.problem_from_args(args, args.y_default)


def _check_outputs(args):
    """Before any work: the picture (and data file) paths can be written."""
    C.check_image_path(getattr(args, "png", None), "--png")


def _check_points(args, what, n_points, P):
    """Working memory of ``n_points`` initializations in R^P (about 6 arrays of them)."""
    C.check_size(args, what, memory_bytes=int(n_points) * (48 * P + 64))


def _check_pixels(args, resolutions):
    """Tiled boundary extraction keeps n x n masks (about 4 bytes a pixel in all)."""
    n = max(resolutions)
    C.check_size(args, f"a {n} x {n} boundary", memory_bytes=4 * n * n)


def _quotient(args):
    rng = C.floats(args.range, "--range", 4)
    q = {"y": C.number(args.y, "--y"), "lam": check_nonneg("--lam", C.number(args.lam, "--lam")),
         "eta": check_positive("--eta", C.number(args.eta, "--eta")),
         "zrange": tuple(rng[:2]), "wrange": tuple(rng[2:]),
         "margin": check_nonneg("--margin", C.number(args.margin, "--margin"))}
    if not (rng[0] < rng[1] and rng[2] < rng[3]):
        raise GdchaosInputError(f"--range needs Z0 < Z1 and W0 < W1, got {args.range}")
    if args.n < 3 or args.iters < 1:
        raise GdchaosInputError("--grid must be >= 3 and --iters >= 1")
    return q


def _tiled(args, procedure="clean"):
    from ..analysis import quotient_boundary_tiled

    _check_outputs(args)
    q = _quotient(args)
    _check_pixels(args, [args.n])
    return quotient_boundary_tiled(args.n, args.iters, procedure=procedure,
                                   progress=_progress(args), **q), q


def _computed_labels(args, mode):
    """Outcome map computed with the engine (:func:`gdchaos.analysis.outcome_map`); returns
    ``(labels, xs, ys, outcome_fn)``."""
    from ..analysis import outcome_map

    prob = problem_from_args(args)
    eta = check_positive("--eta", C.number(args.eta, "--eta"))
    if args.n < 3 or args.iters < 1:
        raise GdchaosInputError("--grid must be >= 3 and --iters >= 1")
    _check_points(args, f"an outcome map of {args.n} x {args.n} points", args.n ** 2,
                  prob.n_params)
    window = C.floats(args.range or _window(prob), "--range", 4)
    m = outcome_map(prob, eta, args.n, window=window, mode=mode, max_iter=args.iters,
                    tol=check_nonneg("--tol", C.number(args.tol, "--tol")), seed=args.seed,
                    margin=check_nonneg("--margin", C.number(args.margin, "--margin")))
    return m.labels, m.xs, m.ys, m.outcome


def _load_npy(path, name):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise GdchaosInputError(f"cannot read {name} {path}: {exc}") from None


def _load_points(path):
    """A ``(n, D)`` array of finite numbers from ``--points``."""
    P = _load_npy(path, "--points")
    if P.dtype.kind not in "iuf":
        raise GdchaosInputError(f"--points {path}: points must be numbers, got an array of "
                                f"{P.dtype}")
    if P.ndim != 2 or P.shape[0] < 2 or P.shape[1] < 1:
        raise GdchaosInputError(f"--points {path}: points must be an (n, D) array with n >= 2, "
                                f"got shape {P.shape}")
    bad = ~np.all(np.isfinite(P), axis=1)
    if bad.any():
        raise GdchaosInputError(f"--points {path}: {int(bad.sum())} of {P.shape[0]} points are "
                                "not finite (NaN or infinite coordinates)")
    return P.astype(float)


def _labels_from_source(args):
    """The outcome map: from --labels (codes of the file's labels, distinct labels kept
    distinct), --store, or computed; two sources at once are refused."""
    from ..analysis import labels_from_array

    if args.labels and args.store:
        raise GdchaosInputError("give one outcome map: --labels or --store, not both")
    if args.labels:
        return labels_from_array(_load_npy(args.labels, "--labels"), f"--labels {args.labels}")
    if args.store:
        from ..analysis import dataset_labels
        from ..engine import open_store

        return dataset_labels(open_store(args.store), args.outcome)
    return _computed_labels(args, args.outcome)[0]


def _check_label_work(args, L, kept, what, per_outcome_bytes):
    """Measures loop over the outcomes: refuse maps with too many of them before any work."""
    C.check_size(args, f"{what} of {kept} outcomes on {L.shape[0]} x {L.shape[1]} pixels",
                 memory_bytes=int(kept) * int(per_outcome_bytes))
    C.check_work(args, f"{what} of {kept} outcomes on {L.shape[0]} x {L.shape[1]} pixels",
                float(kept) * L.size * 16)


def _save_png(path, fn):
    if not path:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    C.check_image_path(path, "--png")
    fig, ax = plt.subplots(figsize=(5, 4))
    fn(ax)
    fig.tight_layout()
    try:  # 5 x 4 inches at 120 dpi whatever another figure of this process set (a tight box)
        with matplotlib.rc_context({"savefig.bbox": "standard"}):
            fig.savefig(path, dpi=120)
    except OSError as exc:
        raise GdchaosInputError(f"cannot write --png {path}: {exc.strerror or exc}") from None
    finally:
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
    from ..analysis.storedim import dimension_lines, plot_dimensions, store_dimensions, store_info
    from ._analysis_parsers import dimension_source

    dimension_source(args)
    _check_outputs(args)
    methods = ("paper", "auto") if args.method == "both" else (args.method,)
    if args.store:
        mg = (None if args.margin is None else
              check_nonneg("--margin", C.number(args.margin, "--margin")))
        res = store_dimensions(args.store, methods=methods, outcome=args.outcome or "auto",
                               margin=mg, warn=False, allow_large=args.allow_large)
        info = store_info(res)
        title = info["title"]
    elif args.points:
        P = _load_points(args.points)
        res = {m: paper_box_dimension(P) if m == "paper" else box_dimension(P, warn=False)
               for m in methods}
        info = {"source": args.points}
        title = f"{args.points}: {P.shape[0]} points in R^{P.shape[1]}"
    else:
        tb, q = _tiled(args, args.procedure)
        if tb.n_boundary < 10:
            raise GdchaosInputError("the boundary has fewer than 10 points; widen the window")
        res = {m: paper_box_dimension(tb.points()) if m == "paper" else
               box_dimension(tb.mask(), xs=tb.grid.xs, ys=tb.grid.ys, warn=False)
               for m in methods}
        info = dict(q, n=args.n, steps=args.iters, procedure=args.procedure,
                    n_boundary=tb.n_boundary, seconds=tb.seconds)
        title = (f"quotient map y={q['y']:g} lam={q['lam']:g} eta={q['eta']:g}, range "
                 f"{args.range}, {args.n} x {args.n}, {args.iters} steps; {args.procedure} "
                 f"boundary ({tb.n_boundary} pixels), margin {q['margin']:g}")
    _save_png(args.png, lambda ax: plot_dimensions(res, ax=ax, title=title))
    for w in dict.fromkeys(w for r in res.values() for w in r.warnings):
        print(f"gdchaos dimension: warning: {w}", file=sys.stderr)
    return _emit(args, {"info": info, **{k: r.as_dict() for k, r in res.items()}},
                 "\n".join(dimension_lines(res)))


# ----------------------------------------------------------------------------- uncertainty
def cmd_uncertainty(args):
    from ..analysis import box_sampler, engine_outcome, quotient_sampler, uncertainty_exponent

    _check_outputs(args)
    prob = problem_from_args(args)
    eta = check_positive("--eta", C.number(args.eta, "--eta"))
    margin = check_nonneg("--margin", C.number(args.margin, "--margin"))
    tol = check_nonneg("--tol", C.number(args.tol, "--tol"))
    div = check_positive("--div", C.number(args.div, "--div"))
    eps = np.array(C.floats(args.eps, "--eps")) if args.eps else None
    if eps is None:
        hi, lo = C.floats(args.eps_range, "--eps-range", 2)
        if not hi > lo > 0:
            raise GdchaosInputError("--eps-range needs HI,LO with HI > LO > 0")
        if args.n_eps < 2:
            raise GdchaosInputError(f"--n-eps must be >= 2 (the exponent is a slope), "
                                    f"got {args.n_eps}")
        eps = np.geomspace(hi, lo, args.n_eps)
    if np.any(eps <= 0):
        raise GdchaosInputError(f"--eps sizes must be > 0, got {args.eps}")
    if np.unique(eps).size < 2:
        raise GdchaosInputError("--eps needs at least 2 different sizes (the exponent is a slope)")
    _check_points(args, f"{args.points} point pairs", 2 * args.points, prob.n_params)
    if prob.edge_gap(np.zeros((1, prob.n_params))) is not None:
        box = C.floats(args.box or _window(prob), "--box", 4)
        sampler = quotient_sampler(box[:2], box[2:], prob.y, margin)
    else:
        P = prob.n_params
        box = C.floats(args.box or "-4,4", "--box")
        if len(box) == 2:
            box = box * P
        if len(box) != 2 * P:
            raise GdchaosInputError(f"--box needs 2 or {2 * P} numbers, got {len(box)}")
        sampler = box_sampler(box[0::2], box[1::2])
    # a user's problem: its definition checked at points of the sampling box first
    prob.validate(sampler(np.random.default_rng(args.seed), min(args.points, 64)))
    out = engine_outcome(prob, eta, args.outcome, max_iter=args.iters, tol=tol,
                         div_threshold=div, gtol=0.0)
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
    kept = np.unique(L[L >= 0]).size
    n_boxes = L.size // (2 * 2 if args.scaling else args.box ** 2) + 1
    _check_label_work(args, L, kept, "basin entropy", 24 * n_boxes)
    r = basin_entropy_scaling(L, args.box) if args.scaling else basin_entropy(L, args.box)
    txt = (f"Sb = {r.Sb:.4f}  Sbb = {r.Sbb:.4f}  (box {r.box} px, {r.n_boundary_boxes} boundary "
           f"boxes of {r.n_boxes})\nlog 2 criterion (Sbb > log 2 = 0.6931): "
           f"{'fractal boundary' if r.log2_test else 'inconclusive'}")
    if r.fit is not None:
        txt += f"\nSb ~ box^alpha: alpha = {r.fit.slope:.3f}"
    return _emit(args, r.as_dict(), txt)


def cmd_wada(args):
    from ..analysis import wada_grid, wada_merging

    if args.method == "grid" and (args.store or args.labels):
        raise GdchaosInputError("the grid method needs to run the map: give the problem, "
                                "not --store/--labels")
    if args.method == "merging":
        min_share = C.number(args.min_share, "--min-share")
        if not 0 <= min_share < 1:
            raise GdchaosInputError(f"--min-share must be in [0, 1), got {args.min_share}")
        L = _labels_from_source(args)
        _, cnt = np.unique(L[L >= 0], return_counts=True)
        kept = int(np.sum(cnt >= min_share * cnt.sum()))
        _check_label_work(args, L, kept, "the merging method", 8 * L.size)
        r = wada_merging(L, r_wada=args.r, min_share=min_share)
    else:
        if args.levels > 12:
            raise GdchaosInputError(f"--levels must be <= 12, got {args.levels}")
        L, xs, ys, f = _computed_labels(args, args.outcome)
        r = wada_grid(f, xs, ys, L, max_level=args.levels, progress=_progress(args),
                      allow_large=args.allow_large)
    return _emit(args, r.as_dict(), f"{r.method}: W = {np.round(r.W, 4).tolist()} over "
                 f"{r.n_boundary} boundary {'pixels' if r.method == 'merging' else 'cells'}, "
                 f"{r.n_outcomes} outcomes -> {'Wada' if r.is_wada else 'not Wada'}")


# -------------------------------------------------------------------------------- lyapunov
def _check_out_npy(path):
    if path is None:
        return
    if not str(path).lower().endswith(".npy"):
        raise GdchaosInputError(f"--out {path}: the map is written as a NumPy .npy file; give a "
                                "name ending in .npy")
    C.check_writable_file(path, "--out")


def _write_npy(path, v):
    """Exactly the file named (np.save to a path would append .npy to any other name)."""
    try:
        with open(path, "wb") as fh:
            np.save(fh, v)
    except OSError as exc:
        raise GdchaosInputError(f"cannot write --out {path}: {exc.strerror or exc}") from None


def _lyapunov_points(args, prob):
    """Initial points: ``--grid`` points evenly on the range of a one-parameter problem, else a
    ``--grid`` x ``--grid`` 2-D slice (the coordinate plane for 2 parameters, a seeded random
    plane through the origin otherwise).  Returns ``(X, shape, extent)``."""
    from ..engine import Slice2D

    P, n = prob.n_params, args.grid
    if P == 1:
        rng = C.floats(args.range or ",".join(f"{v:g}" for v in prob.default_window[:2]),
                       "--range", 2)
        if not rng[0] < rng[1]:
            raise GdchaosInputError(f"--range needs XMIN < XMAX, got {args.range}")
        _check_points(args, f"{n} initial points", n, P)
        return np.linspace(rng[0], rng[1], n)[:, None], (n,), rng
    rng = C.floats(args.range or _window(prob), "--range", 4)
    if not (rng[0] < rng[1] and rng[2] < rng[3]):
        raise GdchaosInputError(f"--range needs XMIN < XMAX and YMIN < YMAX, got {args.range}")
    _check_points(args, f"a {n} x {n} map", n * n, P)
    g = (Slice2D.axes(P, rng[:2], rng[2:], n) if P == 2 else
         Slice2D.random(P, rng[:2], rng[2:], n, seed=args.seed))
    return g.points(), (n, n), rng


def cmd_lyapunov(args):
    from ..analysis import exponent_summary, lyapunov_points
    from ..analysis.lyapunov import summary_text

    _check_outputs(args)
    _check_out_npy(args.out)
    prob = problem_from_args(args)
    eta = check_positive("--eta", C.number(args.eta, "--eta"))
    X, shape, rng = _lyapunov_points(args, prob)
    P = prob.n_params
    k = P if args.spectrum else 1
    C.check_work(args, f"{X.shape[0]} orbits of {args.iters} + {args.transient} steps",
                float(X.shape[0]) * (args.iters + args.transient) * (P * P * (k + 2) + 20 * P))
    prob.validate(X)  # a user's problem: its definition checked at these points first
    res = lyapunov_points(prob, X, eta, args.iters, transient=args.transient, k=k,
                          progress=_progress(args))
    E = np.where(res.valid[:, None], res.exponents, np.nan)
    v = E[:, 0].reshape(shape)
    if args.out:
        _write_npy(args.out, E.reshape(shape + (k,)) if args.spectrum else v)

    _save_png(args.png, lambda ax: ax.plot(X[:, 0], v, ".", ms=2) if P == 1 else ax.imshow(
        v, origin="lower", aspect="auto", cmap="coolwarm", extent=rng))
    st = exponent_summary(E[:, 0])
    s = {"n_finite": st["n_valid"], "n": int(X.shape[0]), "steps": args.iters,
         "transient": args.transient, "points": "line" if P == 1 else "slice",
         **{key: st.get(key) for key in ("mean", "ci", "level", "interval", "std", "stderr",
                                         "median", "min", "max", "quantiles",
                                         "fraction_positive")},
         "problem": prob.params(), "eta": eta}
    if args.spectrum:
        s["spectrum"] = [exponent_summary(E[:, i]) for i in range(k)]
    head = (f"{s['n_finite']} finite of {s['n']} orbits ({args.iters} steps after a transient "
            f"of {args.transient})")
    return _emit(args, s, "\n".join([head, summary_text(st, s.get("spectrum")),
                                     f"problem: {s['problem']}  eta: {eta}"]))


# --------------------------------------------------------------------------------- entropy
#: the options of `gdchaos entropy` and the maps that use them (defaults in _ENTROPY_DEFAULTS)
_ENTROPY_OPTIONS = {"r": ("logistic",), "alpha": ("quotient",), "samples": ("quotient",),
                    "eps": ("quotient",), "seed": ("quotient",)}
_ENTROPY_DEFAULTS = {"r": "4", "alpha": "0.5", "samples": 20000, "eps": "0.05", "seed": 0}


def cmd_entropy(args):
    from ..analysis import map_entropy
    from ..analysis.entropy import check_quotient_alpha, map_entropy_cost

    given = [k for k in _ENTROPY_OPTIONS if getattr(args, k) is not None]
    opt = {k: _ENTROPY_DEFAULTS[k] if getattr(args, k) is None else getattr(args, k)
           for k in _ENTROPY_OPTIONS}
    r = C.number(opt["r"], "--r")
    alpha = C.number(opt["alpha"], "--alpha")
    eps = check_positive("--eps", C.number(opt["eps"], "--eps"))
    check_quotient_alpha(alpha, "--alpha")
    unused = [f"--{k} (--map {_ENTROPY_OPTIONS[k][0]})" for k in given
              if args.map not in _ENTROPY_OPTIONS[k]]
    if unused:
        raise GdchaosInputError(f"not used by --map {args.map}: {', '.join(unused)}")
    ops, mem, what = map_entropy_cost(args.map, args.n_max, r=r, samples=opt["samples"])
    C.check_size(args, what, memory_bytes=int(min(mem, 2**62)))
    C.check_work(args, what, ops)
    res = map_entropy(args.map, args.n_max, r=r, alpha=alpha, samples=opt["samples"], eps=eps,
                      seed=opt["seed"])
    return _emit(args, res.as_dict(), f"{res.method}: counts {res.counts.astype(int).tolist()}\n"
                 f"h = {res.entropy:.6f}  95% CI [{res.ci[0]:.6f}, {res.ci[1]:.6f}]  "
                 f"(log 3 = {np.log(3):.6f}, log 2 = {np.log(2):.6f})")


# ------------------------------------------------------------------------- periodic orbits
def cmd_periodic_orbits(args):
    from ..analysis import boundary_periodic_orbit, gd_periodic_orbit
    from ..analysis.symbolic import check_word, periodic_orbit_cost

    periods = C.ints(args.periods, "--periods", lo=1)
    if args.word is not None and len(periods) != 1:
        raise GdchaosInputError("--word goes with a single period")
    tol = check_positive("--tol", C.number(args.tol, "--tol"))
    gd_only = {"--d": args.d, "--eta": args.eta, "--y": args.y, "--seed": args.seed}
    given = [k for k, v in gd_only.items() if v is not None]
    if given and not args.gd:
        raise GdchaosInputError(f"{', '.join(given)}: only used with --gd (GD periodic orbits)")
    d = 2 if args.d is None else args.d
    eta = check_positive("--eta", C.number("1" if args.eta is None else args.eta, "--eta"))
    y = C.number("0.5" if args.y is None else args.y, "--y")
    seed = 0 if args.seed is None else args.seed
    if args.word is not None:
        check_word(args.word)
    ops, mem = periodic_orbit_cost(periods, d, args.gd)
    what = f"periodic orbits of period up to {max(periods)}" + (f" in R^{2 * d}" if args.gd
                                                                 else "")
    C.check_size(args, what, memory_bytes=mem)
    C.check_work(args, what, ops)
    out, lines = [], []
    for K in periods:
        if args.gd:
            o = gd_periodic_orbit(K, d=d, eta=eta, y=y, seed=seed, word=args.word, tol=tol)
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
    dec = decompose_boundary(m, tb.grid.xs, tb.grid.ys, q["eta"], q["y"], q["lam"])
    inv = branch_invariance(m, tb.grid.xs, tb.grid.ys, q["eta"], q["y"], q["lam"])

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

    _check_outputs(args)
    q = _quotient(args)
    res = C.ints(args.resolutions, "--resolutions", lo=3)
    st = C.ints(args.iters_list, "--iters-list", lo=1)
    if max(st) > C.INT32_MAX:
        raise GdchaosInputError(f"--iters-list values must be <= {C.INT32_MAX}")
    _check_pixels(args, res)
    sched = C.scheduler_from_args(args)
    r = convergence_study(res, st, procedure=args.procedure, progress=_progress(args),
                          scheduler=sched, **q)
    _save_png(args.png, lambda ax: r.plot(ax=ax))
    return _emit(args, r.as_dict(), r.table())


def register(sub):
    from . import _analysis_parsers

    _analysis_parsers.register(sub, {
        "dimension": cmd_dimension, "uncertainty": cmd_uncertainty,
        "basin-entropy": cmd_basin_entropy, "wada": cmd_wada, "lyapunov": cmd_lyapunov,
        "entropy": cmd_entropy, "periodic-orbits": cmd_periodic_orbits,
        "branches": cmd_branches, "convergence-study": cmd_convergence_study})
