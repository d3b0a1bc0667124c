"""The box-counting dimension of the boundary of a stored map (issue 22).

:func:`store_dimension` takes any map gdchaos writes: a ``gdchaos basin`` store (a slice of
parameter space), a ``gdchaos map`` store (two hyperparameters), an ``nn map`` store (a
network's trainability map) or an ``nn slice`` store, as a path or as the opened dataset.  Every
one has a ``status`` variable over ``(y, x)`` and the coordinates ``x``, ``y`` of its pixels.
The steps are the documented Python route, with the store's own grid:

1. outcome labels (:func:`~gdchaos.analysis.boundaries.outcome_labels`): the ``status``, plus a
   record (``minimizer``, ``coordinate``) for the modes that split converged points; or
   ``"trainable"``, ``score < 1`` (Sohl-Dickstein's criterion, the picture of ``nn map``);
   pixels outside the state space or not run are invalid (-1);
2. the boundary (:func:`~gdchaos.analysis.boundaries.boundary_mask`, by default the one-pixel
   ``side="thin"`` boundary that reads a smooth curve as 1.00), the outermost rows and columns
   left out, and where the store's problem has an edge of its state space (the quotient map's
   ``w = 2|z + y|``) the pixels closer than ``margin`` to it (default 1e-2, as in figure 3);
3. :func:`~gdchaos.analysis.boxcount.box_dimension` on the boundary pixels at the store's
   coordinates, each axis in its own scale (``log10`` of the values on a logarithmic axis of
   ``gdchaos map`` / ``nn map``, where the pixels are evenly spaced), or the paper's fixed
   procedure (:func:`~gdchaos.analysis.boxcount.paper_box_dimension`).

A store that also says which pixels were computed and which were filled in (a variable such as
``computed``: a refined map) is read the same way: its ``status`` at full resolution is the map,
whatever the pixels' origin; the other variables are not read.

Warnings (``result.warnings``; a :class:`~gdchaos.analysis.boxcount.DimensionWarning` each
unless ``warn=False``; the command line prints each as one ``gdchaos dimension: warning:``
line) use the one rule of :data:`~gdchaos.analysis.boxcount.SCALING_RULE`:

- **too few boundary pixels**: fewer than 500 (:data:`MIN_BOUNDARY_PIXELS`).  Why 500: the fit
  window of a map runs from boxes of 4 pixels to a quarter of the boundary's extent, so 1.5
  decades of box sizes (the scale rule below) need an extent of ``16 x 10^1.5 = 506`` pixels,
  and a boundary of dimension >= 1 that spans 506 pixels has at least about 500 of them; fewer
  pixels means too short a window or a boundary that is not a curve across the map (the
  194-pixel map of issue 22 read 0.65);
- **too few scales**: a fit window of fewer than 1.5 decades (5 octaves: a boundary spanning
  fewer than about 512 pixels) or fewer than 6 box sizes.  Each doubling of the grid adds an
  octave (0.3 decades); the paper's procedure (fixed boxes of 2^-2 to 2^-8 of the boundary's
  largest side) is warned about when its finest box is below 4 pixels;
- pixels not run (``status`` -1: a dataset of ``open_store(path, allow_incomplete=True)``; a path
  is opened only complete): the boundary of the computed part only.

The estimate is returned in every case; the warnings say when its interval does not mean much.
"""

from __future__ import annotations

import json
import os
import textwrap
import warnings

import numpy as np

from ..errors import MEMORY_LIMIT_BYTES, GdchaosInputError
from ..status import NOT_RUN, OUTSIDE
from .boundaries import OUTCOME_MODES, boundary_mask, outcome_labels
from .boxcount import (SCALING_RULE, BoxCountResult, DimensionWarning, box_dimension,
                       mask_points, paper_box_dimension)

__all__ = ["STORE_OUTCOMES", "MIN_BOUNDARY_PIXELS", "open_map_store", "store_labels",
           "store_dimension", "store_dimensions", "store_info", "dimension_lines",
           "plot_dimensions"]

#: The outcomes whose boundary is measured: ``"auto"`` is ``"trainable"`` for an ``nn map``
#: store and ``"converged"`` for every other; ``"trainable"`` needs a ``score`` variable.
STORE_OUTCOMES = ("auto",) + tuple(OUTCOME_MODES) + ("trainable",)
#: Fewer boundary pixels than this draw a warning (module docstring: 1.5 decades of boxes).
MIN_BOUNDARY_PIXELS = int(SCALING_RULE["min_points"])
METHODS = ("auto", "paper")
#: Working memory per pixel of the map (status, labels, boundary, the state-space edge).
BYTES_PER_PIXEL = 48
_RECORDS = {"status+minimizer": ("minimizer", "gdchaos basin --records minimizer"),
            "status+sign": ("coordinate", "gdchaos basin --coordinate I")}


def open_map_store(store):
    """``(dataset, run, name)`` of a map store: a path (opened with
    :func:`gdchaos.open_store`, which verifies it) or an opened dataset.  Refused with one line:
    a path that does not exist or is not a gdchaos store (no ``gdchaos_run`` attribute), a map
    without a 2-D ``status`` variable over ``(y, x)`` or without its ``x``, ``y`` coordinates."""
    from ..engine import open_store, run_info

    if isinstance(store, (str, bytes)) or hasattr(store, "__fspath__"):
        name = os.fsdecode(os.fspath(store))
        if not os.path.exists(name):
            raise GdchaosInputError(f"store {name} does not exist")
        ds = open_store(name)
        if "gdchaos_run" not in ds.attrs:
            raise GdchaosInputError(f"{name} is not a map made by gdchaos (no gdchaos_run "
                                    "attribute): give a store of gdchaos basin, map, nn map or "
                                    "nn slice")
        run = run_info(ds)
    else:
        ds, name = store, "the dataset"
        if not hasattr(ds, "data_vars"):
            raise GdchaosInputError(f"a map store is a path or an xarray Dataset, got "
                                    f"{type(store).__name__}")
        run = json.loads(ds.attrs["gdchaos_run"]) if "gdchaos_run" in ds.attrs else {}
    if "status" not in ds.data_vars:
        raise GdchaosInputError(f"{name} has no status variable: not a map (a store of gdchaos "
                                "basin, map, nn map or nn slice has one over (y, x))")
    dims = tuple(ds["status"].dims)
    if sorted(dims) != ["x", "y"] or "x" not in ds.coords or "y" not in ds.coords:
        raise GdchaosInputError(f"{name}: its status variable has dimensions {dims}, not a map "
                                "over (y, x) with coordinates x and y")
    return ds, run, name


def _kind(ds, run):
    if "network_settings" in ds.attrs:
        return "nn map"
    kind = run.get("kind")
    if kind == "hyper_map":
        return "map"
    if kind == "nn_slice":
        return "nn slice"
    return "basin" if isinstance(run.get("grid"), dict) else str(kind or "map")


def _values(ds, name):
    return np.asarray(ds[name].transpose("y", "x").values)


def store_labels(ds, outcome="converged"):
    """Outcome labels ``(ny, nx)`` of a map dataset (-1 = invalid pixel): the modes of
    :func:`~gdchaos.analysis.boundaries.outcome_labels` on its ``status`` (and ``minimizer`` or
    ``coordinate`` where the mode needs it), or ``"trainable"`` (1 where ``score < 1``)."""
    if outcome not in STORE_OUTCOMES or outcome == "auto":
        raise GdchaosInputError(f"outcome must be one of {STORE_OUTCOMES[1:]}, got {outcome!r}")
    st = _values(ds, "status")
    if outcome == "trainable":
        if "score" not in ds.data_vars:
            raise GdchaosInputError("outcome 'trainable' needs the store's score variable "
                                    "(stores of gdchaos map and nn map have one); this one has "
                                    "none")
        with np.errstate(invalid="ignore"):
            lab = (_values(ds, "score") < 1.0).astype(np.int16)
        return np.where((st == OUTSIDE) | (st == NOT_RUN), -1, lab).astype(np.int16)
    rec = {}
    if outcome in _RECORDS:
        var, how = _RECORDS[outcome]
        if var not in ds.data_vars:
            raise GdchaosInputError(f"outcome {outcome!r} needs the store's {var} variable "
                                    f"(made by {how}); this one has none")
        rec = {"minimizer" if var == "minimizer" else "coordinate": _values(ds, var)}
    return outcome_labels(st, mode=outcome, **rec)


def _axis(ds, run, name, units):
    """Pixel coordinates of one axis and its label: the store's values in the axis' scale."""
    v = np.asarray(ds[name].values, dtype=float)
    if units == "pixels":
        return np.arange(v.size, dtype=float), f"{name} (pixels)"
    label = str(ds.attrs.get(f"{name}_axis", name))
    scale = ds.attrs.get(f"{name}_scale") or (run.get(f"{name}_axis") or {}).get("scale")
    if scale == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log10(v)
        label = f"log10 {label}"
    d = np.diff(v)
    if v.size < 3 or not np.all(np.isfinite(v)) or not np.allclose(d, d[0], rtol=1e-6, atol=0):
        raise GdchaosInputError(f"the map's {name} coordinates are not evenly spaced in their "
                                "scale: give units='pixels' to count boxes in pixels")
    return v, label


def _edge_exclusion(ds, run, margin):
    """Pixels within ``margin`` of the edge of the store's state space (``None`` where it has
    none) and the margin used."""
    from ..problems import BUILTIN

    if margin is not None and not float(margin) >= 0:
        raise GdchaosInputError(f"margin must be >= 0, got {margin}")
    g = run.get("grid")
    params = dict(run.get("problem") or {})
    cls = BUILTIN.get(params.pop("problem", None)) if isinstance(g, dict) else None
    prob = None
    if cls is not None and "center" in g and "directions" in g:
        try:
            prob = cls(**params)
        except (TypeError, ValueError, GdchaosInputError):
            prob = None
    c = np.asarray(g["center"], dtype=float) if prob is not None else None
    if prob is None or prob.edge_gap(c[None, :]) is None:
        if margin is not None and float(margin) > 0:
            raise GdchaosInputError("margin: this map's problem has no edge of its state space "
                                    "(only the quotient map has one); leave it out")
        return None, 0.0
    margin = 1e-2 if margin is None else float(margin)
    D = np.asarray(g["directions"], dtype=float)
    xs, ys = (np.asarray(ds[k].values, dtype=float) for k in ("x", "y"))
    excl = np.empty((ys.size, xs.size), dtype=bool)
    step = max(1, (1 << 20) // max(xs.size, 1))
    for r0 in range(0, ys.size, step):
        yy = ys[r0:r0 + step]
        X = c + xs[None, :, None] * D[0] + yy[:, None, None] * D[1]
        excl[r0:r0 + step] = prob.edge_gap(X.reshape(-1, c.size)).reshape(yy.size, -1) < margin
    return excl, margin


def _g(v):
    return f"{v:g}" if isinstance(v, (int, float)) else str(v)


def _title(kind, name, run, shape, outcome):
    bits = [f"{kind} {os.path.basename(str(name).rstrip('/'))} ({shape[1]} x {shape[0]})"]
    prob = {k: v for k, v in (run.get("problem") or {}).items() if k != "problem"}
    pname = (run.get("problem") or {}).get("problem")
    if pname and kind in ("basin", "map"):
        bits.append(f"{pname} " + " ".join(f"{k}={_g(v)}" for k, v in sorted(prob.items())))
    cfg = run.get("config") or {}
    if kind == "basin":
        bits.append(f"eta={_g(cfg.get('eta', '?'))}, {cfg.get('max_iter', '?')} steps")
    elif kind in ("map", "nn map"):
        ax = [run.get(k) or {} for k in ("x_axis", "y_axis")]
        bits.append(f"{(run.get('optimizer') or {}).get('kind', '?')}, "
                    + " x ".join(f"{a.get('name', '?')} ({a.get('scale', '?')})" for a in ax)
                    + f", {cfg.get('max_iter', '?')} steps")
    elif kind == "nn slice":
        bits.append(f"{run.get('dataset', '?')} width {run.get('hidden', '?')}, "
                    f"eta={run.get('eta', '?')}, {run.get('iters', '?')} steps")
    bits.append(f"boundary of {outcome}")
    return "; ".join(bits)


def _warnings(res, n, n_not_run, method):
    rule, out = SCALING_RULE, []
    if n < MIN_BOUNDARY_PIXELS:
        out.append(f"the boundary has only {n} pixels (fewer than {MIN_BOUNDARY_PIXELS}): too "
                   "few for the dimension or its interval to mean much; compute the map on a "
                   "finer grid")
    res_px = float(res.frame["pixel"])
    lo, hi = res.fit_eps[-1] / res_px, res.fit_eps[0] / res_px
    k = res.fit_range[1] - res.fit_range[0] + 1
    dec = float(np.log10(hi / lo))
    short = ([f"{dec:.2f} decades (fewer than {rule['min_decades']:g})"]
             if dec < rule["min_decades"] - 1e-9 else [])
    short += [f"{k} sizes (fewer than {rule['min_sizes']})"] if k < rule["min_sizes"] else []
    if method == "auto" and short:
        out.append(f"the fit spans {' and '.join(short)} of box sizes, boxes of {lo:.3g} to "
                   f"{hi:.3g} pixels: too few scales for the interval to mean much; each "
                   "doubling of the grid adds an octave (0.3 decades)")
    if method == "paper" and lo < 4.0 - 1e-9:
        out.append(f"the paper's finest box (2^-8 of the boundary's largest side) is {lo:.3g} "
                   "pixels: below 4 pixels the counts follow the pixel grid, not the boundary "
                   "(the paper's procedure needs a boundary spanning 1024 pixels or more)")
    if n_not_run:
        out.append(f"{n_not_run} pixels were not run (status -1): this is the boundary of the "
                   "computed part only")
    return out


def store_dimensions(store, *, methods=("auto",), outcome="auto", side="thin", margin=None,
                     units="axes", seed=0, warn=True, allow_large=False) -> dict:
    """:func:`store_dimension` by several methods from one reading of the map: a dict
    ``method -> BoxCountResult`` (``methods`` among ``"auto"``, ``"paper"``)."""
    methods = tuple(methods)
    if not methods or any(m not in METHODS for m in methods):
        raise GdchaosInputError(f"methods must be among {METHODS}, got {methods}")
    if outcome not in STORE_OUTCOMES:
        raise GdchaosInputError(f"outcome must be one of {STORE_OUTCOMES}, got {outcome!r}")
    if units not in ("axes", "pixels"):
        raise GdchaosInputError(f"units must be 'axes' or 'pixels', got {units!r}")
    ds, run, name = open_map_store(store)
    ny, nx = (ds.sizes["y"], ds.sizes["x"])
    need = BYTES_PER_PIXEL * nx * ny
    if need > MEMORY_LIMIT_BYTES and not allow_large:
        raise GdchaosInputError(f"the boundary of a {nx} x {ny} map needs about "
                                f"{need / 2**30:.1f} GiB of memory (limit "
                                f"{MEMORY_LIMIT_BYTES / 2**30:.0f} GiB); give allow_large=True "
                                "(--allow-large)")
    kind = _kind(ds, run)
    if outcome == "auto":
        outcome = "trainable" if kind == "nn map" else "converged"
    xs, xlabel = _axis(ds, run, "x", units)
    ys, ylabel = _axis(ds, run, "y", units)
    excl, margin = _edge_exclusion(ds, run, margin)
    labels = store_labels(ds, outcome)
    n_not_run = int(np.count_nonzero(_values(ds, "status") == NOT_RUN))
    mask = boundary_mask(labels, side=side, exclude=excl)
    n = int(np.count_nonzero(mask))
    if n < 10:
        seen = np.unique(labels[labels >= 0]).size
        why = (f"every valid pixel has the same outcome ({outcome})" if seen < 2 else
               f"the boundary has {n} pixels, fewer than 10")
        raise GdchaosInputError(f"{name}: {why}: no dimension (another outcome, or a window "
                                "that crosses the boundary, may have one)")
    pixel = max(float(np.ptp(xs)) / (nx - 1), float(np.ptp(ys)) / (ny - 1))
    info = {"store": None if name == "the dataset" else name, "kind": kind, "shape": [ny, nx],
            "outcome": outcome, "side": str(side), "margin": margin, "units": units,
            "axes": [xlabel, ylabel], "n_boundary": n, "n_valid": int(np.sum(labels >= 0)),
            "n_not_run": n_not_run, "pixel": pixel,
            "title": _title(kind, name, run, (ny, nx), outcome)}
    out = {}
    for method in methods:
        if method == "paper":
            res = paper_box_dimension(mask_points(mask, xs, ys))
        else:
            try:
                res = box_dimension(mask, xs=xs, ys=ys, warn=False, seed=seed)
            except GdchaosInputError:
                raise GdchaosInputError(f"{name} ({nx} x {ny} pixels, {n} on the boundary) is "
                                        "too small for box counting: fewer than 3 box sizes "
                                        "between 4 pixels and a quarter of the boundary's "
                                        "extent; compute the map on a finer grid (64 pixels a "
                                        "side or more)") from None
        res.frame.update(info)
        res.warnings = _warnings(_in_map_units(res), n, n_not_run, method)
        res.frame["fit_box_pixels"] = [float(e / pixel) for e in
                                       _in_map_units(res).fit_eps[[-1, 0]]]
        out[method] = res
    if warn:
        for w in dict.fromkeys(w for r in out.values() for w in r.warnings):
            warnings.warn(f"store_dimension: {w}", DimensionWarning, stacklevel=3)
    return out


def _in_map_units(res):
    """``res`` with its box sizes in the map's units (the paper's are in units of the set's
    largest side)."""
    if res.method != "paper":
        return res
    f = float(res.frame["scale"])
    return BoxCountResult(res.dimension, res.ci, res.eps * f, res.counts, res.fit_range,
                          res.fit, res.method, res.n_points, frame=res.frame)


def store_dimension(store, *, outcome="auto", side="thin", method="auto", margin=None,
                    units="axes", seed=0, warn=True, allow_large=False) -> BoxCountResult:
    """Box-counting dimension of the boundary of a stored map (module docstring).

    ``store``: a path or an opened dataset of ``gdchaos basin``, ``map``, ``nn map`` or
    ``nn slice``.  ``outcome``: one of :data:`STORE_OUTCOMES` (default ``"auto"``: trainable
    for an nn map, converged for the others).  ``side``: the boundary of
    :func:`~gdchaos.analysis.boundaries.boundary_mask` (``"thin"``, ``"both"`` or a label).
    ``margin``: pixels closer to the edge of the problem's state space are left out (default
    1e-2 where the problem has one; refused where it has none).  ``method``: ``"auto"``
    (:func:`~gdchaos.analysis.boxcount.box_dimension`, interval from the regression, the grid
    offsets and the sub-ranges) or ``"paper"`` (the fixed procedure, regression interval).
    ``units``: ``"axes"`` (the store's coordinates, ``log10`` on a logarithmic axis) or
    ``"pixels"``.  Maps needing more than 4 GiB are refused unless ``allow_large``.

    Returns a :class:`~gdchaos.analysis.boxcount.BoxCountResult`: ``n_points`` is the number of
    boundary pixels, ``eps``/``fit_eps`` the box sizes and those of the fit,
    ``frame["fit_box_pixels"]`` the fitted sizes in pixels, ``warnings`` the reasons the
    interval may not mean much (module docstring); ``frame`` also holds the store, its kind,
    shape, outcome, side, margin, axes and a ``title``.
    """
    return store_dimensions(store, methods=(method,), outcome=outcome, side=side,
                            margin=margin, units=units, seed=seed, warn=warn,
                            allow_large=allow_large)[method]


def dimension_lines(results):
    """One text line per estimate of ``{method: BoxCountResult}``: D, its 95% interval and the
    fitted box sizes (in pixels for a map of :func:`store_dimensions`, else as fractions of the
    set's largest side, one unit for both methods), then the boundary line of a map."""
    lines = []
    for k, r in results.items():
        side = 1.0 if r.method == "paper" else float(r.frame.get("extent", 1.0))
        a, b = r.frame.get("fit_box_pixels") or (r.fit_eps[-1] / side, r.fit_eps[0] / side)
        unit = ("pixels" if "fit_box_pixels" in r.frame else "of the set's largest side")
        lines.append(f"{k}: D = {r.dimension:.4f}  95% CI [{r.ci[0]:.4f}, {r.ci[1]:.4f}]  fit "
                     f"on boxes of {a:.3g} to {b:.3g} {unit} ({r.fit_range[1] - r.fit_range[0] + 1}"
                     f" sizes, {np.log10(b / a):.2f} decades)")
    f = next(iter(results.values())).frame
    if "n_boundary" in f and "kind" in f:
        lines.append(f"boundary: {f['n_boundary']} pixels of the {f['shape'][1]} x "
                     f"{f['shape'][0]} {f['kind']} {f['store'] or 'dataset'} (outcome "
                     f"{f['outcome']}, {f['side']} boundary)")
    return lines


def store_info(results):
    """The map's description in :func:`store_dimensions`' results (store, kind, shape, outcome,
    side, margin, units, axes, boundary and valid pixels, pixels not run, title)."""
    f = next(iter(results.values())).frame
    return {k: f[k] for k in ("store", "kind", "shape", "outcome", "side", "margin", "units",
                              "axes", "n_boundary", "n_valid", "n_not_run", "title")}


def plot_dimensions(results, ax=None, title=None):
    """``N(eps)`` of several estimates on one axis: the box side over the set's largest side
    (the paper's normalization: its ``eps = 2^-k`` as they are, the automatic estimator's sizes
    divided by the extent it measured), with each fitted line and its interval.  ``results``:
    ``{label: BoxCountResult}``; ``title`` is wrapped over lines."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    for label, r in results.items():
        side = 1.0 if r.method == "paper" else float(r.frame.get("extent") or 1.0)
        x = side / r.eps
        line, = ax.loglog(x, r.counts, "o", ms=3, label=f"{label}: N(eps)")
        i0, i1 = r.fit_range
        xf = x[i0:i1 + 1]
        yf = np.exp(r.fit.intercept) * (xf / side) ** r.fit.slope
        lo, hi = r.ci
        ax.loglog(xf, yf, "-", color=line.get_color(),
                  label=f"{label}: D = {r.dimension:.3f} [{lo:.3f}, {hi:.3f}]")
    ax.set_xlabel("largest side of the boundary / box side")
    ax.set_ylabel("N (occupied boxes)")
    ax.legend(fontsize=7)
    if title:
        ax.set_title("\n".join(textwrap.wrap(title, 64)), fontsize=7)
    return ax
