"""Analysis commands: dimension, uncertainty, basin-entropy, wada, lyapunov, entropy,
periodic-orbits, branches, convergence-study."""

from __future__ import annotations

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

    _check_outputs(args)
    q = _quotient(args)
    _check_pixels(args, [args.n])
    return quotient_boundary_tiled(args.n, args.steps, procedure=procedure,
                                   progress=_progress(args), **q), q


def _computed_labels(args, mode):
    """Outcome map computed with the engine: the quotient (z, w) grid (-1 outside the state
    space or within the margin of its edge) or a 2-D slice of another problem.  Returns
    ``(labels, xs, ys, outcome_fn)``."""
    from ..analysis import QuotientGrid, engine_outcome
    from ..engine import Slice2D

    prob = problem_from_args(args)
    eta = check_positive("--eta", C.number(args.eta, "--eta"))
    if args.n < 3 or args.steps < 1:
        raise GdchaosInputError("--n must be >= 3 and --steps >= 1")
    _check_points(args, f"an outcome map of {args.n} x {args.n} points", args.n ** 2,
                  prob.n_params)
    kw = {"max_iter": args.steps, "tol": C.number(args.tol, "--tol"), "gtol": 0.0}
    if prob.edge_gap(np.zeros((1, prob.n_params))) is not None:  # a state space with an edge
        rng = C.floats(args.range or _window(prob), "--range", 4)
        g = QuotientGrid.square(rng[:2], rng[2:], args.n)
        xs, ys, X = g.zs, g.ws, g.slice2d().points()
        margin = check_nonneg("--margin", C.number(args.margin, "--margin"))
        gap = prob.edge_gap(X).reshape(len(ys), len(xs))
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
    try:
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

    _check_outputs(args)
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

    _check_outputs(args)
    prob = problem_from_args(args)
    eta = check_positive("--eta", C.number(args.eta, "--eta"))
    eps = np.array(C.floats(args.eps, "--eps")) if args.eps else None
    if eps is None:
        hi, lo = C.floats(args.eps_range, "--eps-range", 2)
        if not hi > lo > 0:
            raise GdchaosInputError("--eps-range needs HI,LO with HI > LO > 0")
        if args.n_eps < 2:
            raise GdchaosInputError(f"--n-eps must be >= 2 (the exponent is a slope), "
                                    f"got {args.n_eps}")
        eps = np.geomspace(hi, lo, args.n_eps)
    if np.unique(eps).size < 2:
        raise GdchaosInputError("--eps needs at least 2 different sizes (the exponent is a slope)")
    _check_points(args, f"{args.points} point pairs", 2 * args.points, prob.n_params)
    if prob.edge_gap(np.zeros((1, prob.n_params))) is not None:
        box = C.floats(args.box or _window(prob), "--box", 4)
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

    if args.method == "grid" and (args.store or args.labels):
        raise GdchaosInputError("the grid method needs to run the map: give the problem, "
                                "not --store/--labels")
    if args.method == "merging":
        r = wada_merging(_labels_from_source(args), r_wada=args.r,
                         min_share=C.number(args.min_share, "--min-share"))
    else:
        if args.store or args.labels:
            raise GdchaosInputError("the grid method needs to run the map: give the problem, "
                                    "not --store/--labels")
        if args.levels > 12:
            raise GdchaosInputError(f"--levels must be <= 12, got {args.levels}")
        L, xs, ys, f = _computed_labels(args, args.outcome)
        r = wada_grid(f, xs, ys, L, max_level=args.levels, progress=_progress(args),
                      allow_large=args.allow_large)
    return _emit(args, r.as_dict(), f"{r.method}: W = {np.round(r.W, 4).tolist()} over "
                 f"{r.n_boundary} boundary {'pixels' if r.method == 'merging' else 'cells'}, "
                 f"{r.n_outcomes} outcomes -> {'Wada' if r.is_wada else 'not Wada'}")


# -------------------------------------------------------------------------------- lyapunov
def cmd_lyapunov(args):
    from ..analysis import lyapunov_map
    from ..engine import Slice2D

    _check_outputs(args)
    if args.out:
        C.check_writable_file(args.out, "--out")
    prob = problem_from_args(args)
    eta = check_positive("--eta", C.number(args.eta, "--eta"))
    _check_points(args, f"a {args.grid} x {args.grid} map", args.grid ** 2, prob.n_params)
    rng = C.floats(args.range or _window(prob), "--range", 4)
    P = prob.n_params
    g = (Slice2D.axes(P, rng[:2], rng[2:], args.grid) if P == 2 else
         Slice2D.random(P, rng[:2], rng[2:], args.grid, seed=args.seed))
    da = lyapunov_map(prob, g, eta, args.steps, progress=_progress(args))
    v = da.values
    ok = np.isfinite(v)
    if args.out:
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

    periods = C.ints(args.periods, "--periods", lo=1)
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

    _check_outputs(args)
    q = _quotient(args)
    res = C.ints(args.resolutions, "--resolutions", lo=3)
    st = C.ints(args.steps_list, "--steps-list", lo=1)
    if max(st) > C.INT32_MAX:
        raise GdchaosInputError(f"--steps-list values must be <= {C.INT32_MAX}")
    _check_pixels(args, res)
    r = convergence_study(res, st, procedure=args.procedure, progress=_progress(args), **q)
    _save_png(args.png, lambda ax: r.plot(ax=ax))
    return _emit(args, r.as_dict(), r.table())


def register(sub):
    from . import _analysis_parsers

    _analysis_parsers.register(sub, {
        "dimension": cmd_dimension, "uncertainty": cmd_uncertainty,
        "basin-entropy": cmd_basin_entropy, "wada": cmd_wada, "lyapunov": cmd_lyapunov,
        "entropy": cmd_entropy, "periodic-orbits": cmd_periodic_orbits,
        "branches": cmd_branches, "convergence-study": cmd_convergence_study})
