"""What the explorer computes: the map of a window, a clicked point's trajectory, the theory's
overlays, the deep-zoom check and the command that reproduces a view.  No web code here."""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import GdchaosInputError
from ._navigate import ULP_PIXELS
from ._state import (DD_COST, MAX_SIDE, MAX_TRAJECTORY, MAX_WORK, ViewState, config,
                     make_problem)

# ULP_PIXELS (16): float64 stops resolving a window whose pixel is below this many ulp of its
# coordinates (extras zoom item: 100% agreement with extended precision at 15 ulp per pixel,
# rows merge below 1 ulp; a pixel of 16 ulp leaves some margin)
#: double-double: the measured work of a coarse pass, extrapolated, is multiplied by this
#: margin before it is compared with MAX_WORK
DD_MARGIN = 1.5


@dataclass
class MapView:
    state: ViewState
    nx: int
    ny: int
    values: np.ndarray  # (ny, nx), float64: what is coloured
    status: np.ndarray  # (ny, nx) int8
    xs: np.ndarray  # pixel centres (offsets from the anchor in dd mode)
    ys: np.ndarray
    seconds: float = 0.0
    notes: list = field(default_factory=list)
    warning: str | None = None


def slice_for(st: ViewState, problem, nx=2, ny=2, xs=None, ys=None):
    """The :class:`gdchaos.Slice2D` of the view (pixel centres of an ``nx x ny`` raster)."""
    from ..engine import Slice2D

    P = problem.n_params
    if xs is None:
        xs, ys = pixel_centres(st, nx, ny)
    xr, yr = (float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1]))
    if xr[0] == xr[1]:
        xr = (xr[0], np.nextafter(xr[0], np.inf))
    if yr[0] == yr[1]:
        yr = (yr[0], np.nextafter(yr[0], np.inf))
    kind = st.slice or ("axes" if P == 2 else "random")
    if kind == "axes":
        return Slice2D.axes(P, xr, yr, len(xs), len(ys))
    return Slice2D.random(P, xr, yr, len(xs), len(ys), seed=st.seed)


def pixel_centres(st: ViewState, nx, ny):
    dx = (st.x1 - st.x0) / nx
    dy = (st.y1 - st.y0) / ny
    return st.x0 + (np.arange(nx) + 0.5) * dx, st.y0 + (np.arange(ny) + 0.5) * dy


def fit_resolution(st: ViewState, problem, nx, ny):
    """Shrink ``nx x ny`` (keeping its aspect) so that pixels x steps x cost stays under
    :data:`MAX_WORK`; returns ``(nx, ny, note)``.  Refuses when even 32 pixels a side are too
    much."""
    nx, ny = max(1, min(int(nx), MAX_SIDE)), max(1, min(int(ny), MAX_SIDE))
    cost = st.iters * max(1.0, problem.n_params / 2) * (DD_COST if st.precision == "dd" else 1)
    if problem.dense_hessian_records:
        cost *= 4  # Hessian-vector products of the stability check, NumPy records
    scale = min(1.0, (MAX_WORK / (nx * ny * cost)) ** 0.5)
    if scale < 1:
        nx2, ny2 = max(1, int(nx * scale)), max(1, int(ny * scale))
        if min(nx2, ny2) < 32 and min(nx, ny) >= 32:
            most = int(MAX_WORK / (32 * 32 * cost / st.iters))
            raise GdchaosInputError(
                f"too much work for one view: {st.iters} steps x {problem.n_params} parameters "
                f"(bound {MAX_WORK:.0e} pixel-steps); lower the iterations to at most {most} "
                f"for this problem")
        return nx2, ny2, f"rendered at {nx2} x {ny2} (work bound {MAX_WORK:.0e} pixel-steps)"
    return nx, ny, None


def resolution_warning(st: ViewState, nx, ny):
    """A warning when float64 no longer resolves the window (pixel below ULP_PIXELS ulp of the
    coordinates), else None.  In dd mode the anchor carries the magnitude."""
    dx = (st.x1 - st.x0) / nx
    dy = (st.y1 - st.y0) / ny
    if st.precision == "dd":
        mag = max(abs(st.az) + abs(st.x0) + abs(st.x1), abs(st.aw) + abs(st.y0) + abs(st.y1))
        ulp = 2.0 ** -104 * max(mag, 1e-300)  # double-double: about 106 bits
        if min(dx, dy) < ULP_PIXELS * ulp:
            return (f"double-double stops resolving this window: a pixel is "
                    f"{min(dx, dy) / ulp:.2g} ulp of the anchor (needs {ULP_PIXELS:g})")
        return None
    ux = np.spacing(max(abs(st.x0), abs(st.x1)))
    uy = np.spacing(max(abs(st.y0), abs(st.y1)))
    worst = min(dx / ux, dy / uy)
    if worst < ULP_PIXELS:
        more = (" (switch precision to dd)" if make_problem(st).supports_double_double
                else "")
        return (f"float64 stops resolving this window: a pixel is {worst:.2g} ulp of its "
                f"coordinates (faithful above {ULP_PIXELS:g}; experiments/extras.py zoom){more}")
    return None


def compute_map(st: ViewState, nx, ny) -> MapView:
    """The map of the window at (at most) ``nx x ny`` pixels, computed by the engine."""
    from ..engine import basin, quotient_grid_dd

    problem = make_problem(st)
    cfg = config(st)
    want = (nx, ny)
    nx, ny, note = fit_resolution(st, problem, nx, ny)
    xs, ys = pixel_centres(st, nx, ny)
    t0 = time.perf_counter()
    records = {"minimizer": ["minimizer"], "sq_norm": ["sq_norm"], "sharpness": ["sharpness"]}
    if st.precision == "dd":
        def dd(xs, ys):
            return quotient_grid_dd(problem.y, problem.lam, cfg.eta,
                                    ((st.az, st.az_lo), (st.aw, st.aw_lo)), xs, ys,
                                    max_iter=cfg.max_iter, tol=cfg.tol,
                                    div_threshold=cfg.div_threshold, gtol=cfg.gtol)

        r = dd(xs, ys)
        if note:  # the worst case did not fit: measure this coarse pass's work instead
            mx, my = max(1, min(int(want[0]), MAX_SIDE)), max(1, min(int(want[1]), MAX_SIDE))
            steps = float(np.mean(r["iterations"])) + 1.0
            scale = min(1.0, (MAX_WORK / (mx * my * steps * DD_COST * DD_MARGIN)) ** 0.5)
            fx, fy = max(nx, int(mx * scale)), max(ny, int(my * scale))
            if (fx, fy) != (nx, ny):
                nx, ny = fx, fy
                xs, ys = pixel_centres(st, nx, ny)
                r = dd(xs, ys)
            note = (None if (nx, ny) == (mx, my) else
                    f"rendered at {nx} x {ny} (measured work: {steps:.0f} steps per pixel on "
                    f"average; bound {MAX_WORK:.0e} pixel-steps)")
        status = r["status"]
        final = np.stack([r["z"], r["w"]], axis=-1)
        with np.errstate(all="ignore"):
            vals = {"status": status, "iterations": r["iterations"],
                    "minimizer": np.zeros(status.shape), "sq_norm": r["w"],
                    "sharpness": problem.sharpness(final),
                    "distance": np.hypot(r["z"] - (st.az + (st.px or 0.0)),
                                         r["w"] - (st.aw + (st.py or 0.0)))}
        values = vals[st.color]
    else:
        grid = slice_for(st, problem, xs=xs, ys=ys)
        points = None
        if st.color == "distance":
            points = grid.center + st.px * grid.directions[0] + st.py * grid.directions[1]
        ds = basin(problem, grid, config=cfg, records=records.get(st.color, []), points=points)
        status = np.asarray(ds.status)
        values = status if st.color == "status" else (
            np.asarray(ds.distance)[..., 0] if st.color == "distance" else np.asarray(ds[st.color]))
    values = np.asarray(values, dtype=np.float64)
    if st.color not in ("status", "iterations"):
        values = np.where(status == 1, values, np.nan)  # coloured where converged
    view = MapView(st, nx, ny, values, np.asarray(status, np.int8), xs, ys,
                   time.perf_counter() - t0)
    if note:
        view.notes.append(note)
    view.warning = resolution_warning(st, nx, ny)
    return view


def trajectory(st: ViewState, a, b, steps=None):
    """GD from the slice point ``(a, b)``: its path in the slice, in ``(z, w)`` where defined,
    loss and sharpness against step, and its outcome (the engine's status for that point)."""
    from ..engine import STATUS_NAMES, run_points

    problem = make_problem(st)
    cfg = config(st)
    a, b = float(a), float(b)
    if not (np.isfinite(a) and np.isfinite(b)):
        raise GdchaosInputError("the clicked point must be finite")
    g = slice_for(st, problem)
    if st.precision == "dd":
        x0 = np.array([st.az + st.az_lo + a, st.aw + st.aw_lo + b])
    else:
        x0 = g.center + a * g.directions[0] + b * g.directions[1]
    problem.check_X(x0[None, :])
    n = min(cfg.max_iter, MAX_TRAJECTORY if steps is None else int(steps))
    init, update = problem.gd(cfg.eta, cfg.momentum)
    s = init(x0)
    xs = [s.x]
    with np.errstate(all="ignore"):
        for _ in range(n):
            s = update(s)
            xs.append(s.x)
            if not np.all(np.isfinite(s.x)) or float(problem.loss(s.x)) > cfg.div_threshold:
                break
        X = np.array(xs)
        loss = np.asarray(problem.loss(X), dtype=float)
        sharp = np.asarray(problem.records(X, X, ["sharpness"])["sharpness"], dtype=float)
    res = run_points(problem, x0[None, :], config=cfg, records=[])
    rel = X - g.center
    out = {"a": rel @ g.directions[0], "b": rel @ g.directions[1], "loss": loss,
           "sharpness": sharp, "status": STATUS_NAMES[int(res.status[0])],
           "iterations": int(res.iterations[0]), "final_loss": float(res.final_loss[0]),
           "start": (a, b), "zw": None}
    if st.precision == "dd":
        out["a"], out["b"] = X[:, 0] - st.az, X[:, 1] - st.aw
    from ..problems import QuotientMap, ScalarFactorization

    if isinstance(problem, QuotientMap):  # its parameters are (z, w) already
        out["zw"] = (X[:, 0], X[:, 1])
    elif isinstance(problem, ScalarFactorization):  # T(u, v) = (u.v - y, |u|^2 + |v|^2)
        from ..theory.quotient import quotient_T

        u, v = X[:, :problem.d], X[:, problem.d:]
        out["zw"] = quotient_T(u, v, problem.y)
    return out


def reproduce(st: ViewState, nx, ny):
    """The ``gdchaos basin`` command and the Python call that compute this view's map."""
    problem = make_problem(st)
    xs, ys = (list(map(float, v)) for v in pixel_centres(st, nx, ny))
    opts = [f"--problem {st.problem}"]
    for name in ("y", "Y", "d", "k"):
        v = getattr(st, name)
        if v is not None:
            opts.append(f"--{name} {shlex.quote(str(v))}")
    opts += [f"--{name} {shlex.quote(str(v))}" for name, v in st.extra]
    opts.append(f"--lam {shlex.quote(str(st.lam))}")
    rng = ",".join(repr(float(v)) for v in (xs[0], xs[-1], ys[0], ys[-1]))
    opts += [f"--eta {st.eta!r}", f"--iters {st.iters}", f"--tol {st.tol!r}", f"--div {st.div!r}",
             f"--grid {nx},{ny}", f"--range={rng}"]
    if st.momentum:
        opts.append(f"--momentum {st.momentum!r}")
    if problem.n_params > 2:
        opts.append(f"--slice {st.slice or 'random'} --seed {st.seed}")
    color = None if st.color in ("status", "distance") else st.color
    opts.append("--out view.zarr --png view.png" + (f" --color {color}" if color else ""))
    cli = "gdchaos basin " + " ".join(opts)
    kind = st.slice or ("axes" if problem.n_params == 2 else "random")
    mk = (f"gc.Slice2D.axes({problem.n_params}, ({xs[0]!r}, {xs[-1]!r}), ({ys[0]!r}, {ys[-1]!r}), "
          f"{nx}, {ny})" if kind == "axes" else
          f"gc.Slice2D.random({problem.n_params}, ({xs[0]!r}, {xs[-1]!r}), ({ys[0]!r}, "
          f"{ys[-1]!r}), {nx}, {ny}, seed={st.seed})")
    cls = type(problem).__name__
    pargs = ", ".join(f"{k}={v!r}" for k, v in problem.params().items() if k != "problem")
    py = (f"import gdchaos as gc\nproblem = gc.{cls}({pargs})\ngrid = {mk}\n"
          f"ds = gc.basin(problem, grid, config=gc.RunConfig(eta={st.eta!r}, "
          f"momentum={st.momentum!r}, max_iter={st.iters}, tol={st.tol!r}, "
          f"div_threshold={st.div!r}))")
    if st.precision == "dd":
        cli = ("# double-double view: no CLI equivalent; Python below\n" + cli)
        py = (f"from gdchaos.engine import quotient_grid_dd\nimport numpy as np\n"
              f"r = quotient_grid_dd({problem.y!r}, {problem.lam!r}, {st.eta!r}, "
              f"(({st.az!r}, {st.az_lo!r}), ({st.aw!r}, {st.aw_lo!r})), "
              f"np.linspace({xs[0]!r}, {xs[-1]!r}, {nx}), np.linspace({ys[0]!r}, {ys[-1]!r}, "
              f"{ny}), max_iter={st.iters}, tol={st.tol!r}, div_threshold={st.div!r})")
    return cli, py
