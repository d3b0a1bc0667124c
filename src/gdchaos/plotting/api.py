"""One function for pictures of maps: :func:`plot` (``gdchaos.plot``, ``ds.gdchaos.plot()``).

Coded variables (``status``, ``minimizer``: a ``codes`` attribute) are drawn as named
categories with a legend, every category present in it (each swatch has an edge, so the white
of ``outside`` shows on a white page); any other variable on a continuous colour bar labelled
with its name, long name and units.  The axes are named from the dataset's coordinates (their
``long_name``), else from the problem's axis labels.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import GdchaosInputError
from ..status import CONVERGED, NOT_RUN, STATUS_NAMES, VARIABLE_LONG_NAMES
from .style import DIVERGED_GREY, STATUS_COLORS, use_style

LONG_NAMES = VARIABLE_LONG_NAMES  # the names of the variables gdchaos writes
#: variables shown over converged points only (the others grey) unless told otherwise
AT_THE_LIMIT = ("sq_norm", "imbalance", "sharpness", "coordinate", "distance", "params")
#: the swatches' edge: every category visible, white ones included
EDGE = "0.35"
CATEGORY_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6",
                   "#9d755d", "#bab0ac", "#eeca3b")
_CODE = re.compile(r"(-?\d+)\s*=\s*([^;,]+)")


def plot(ds, var="status", ax=None, *, title=None, xlabel=None, ylabel=None, cmap="viridis",
         label=None, others="auto", vmin=None, vmax=None, legend=True, colorbar=True,
         problem=None):
    """Draw the variable ``var`` of a map ``ds`` (a dataset of :func:`gdchaos.basin`,
    :func:`gdchaos.hyper_map` or :func:`gdchaos.open_store` on dims ``(y, x)``, or one of its
    variables as a ``DataArray``) on ``ax`` (default: a new figure); returns the axes.

    ``status`` (and any variable with a ``codes`` attribute, e.g. ``minimizer``) is drawn as
    named categories (:data:`gdchaos.STATUS_NAMES`, ``not run`` for -1) with a legend of those
    present; any other variable on a continuous colour bar labelled ``NAME: long name [units]``
    (its ``long_name`` or ``description`` and ``units`` attributes; ``label`` replaces it), the
    points that did not converge grey for values at the limit (``others``: ``"grey"``,
    ``"white"``, ``None`` = colour every point; default ``"auto"``: grey for ``sq_norm``,
    ``imbalance``, ``sharpness``, ``coordinate``, ``distance``).  Axis labels: the coordinates'
    ``long_name`` (``units``), else the axis labels of ``problem`` (default: the built-in problem
    named in the dataset's attributes); ``xlabel``/``ylabel`` replace them.  ``title``: default
    the run's parameters (:func:`run_title`); ``""`` for none."""
    plt = use_style()
    ds, var = _as_dataset(ds, var)
    da = ds[var]
    if da.ndim != 2 or tuple(da.dims) != ("y", "x"):
        raise GdchaosInputError(f"plot: variable {var!r} has dims {tuple(da.dims)}; pick one "
                                "(y, x) map, e.g. ds.isel(point=0)")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.6, 4.2))
    extent = _extent(ds)
    codes = _codes_of(var, da)
    if codes is not None:
        _categories(ax, np.asarray(da), codes, extent, var, legend)
    else:
        _continuous(ax, ds, var, da, extent, cmap, label, others, vmin, vmax, colorbar)
    ax.set_xlabel(axis_label(ds, "x", problem) if xlabel is None else xlabel)
    ax.set_ylabel(axis_label(ds, "y", problem) if ylabel is None else ylabel)
    title = run_title(ds) if title is None else title
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def _as_dataset(obj, var):
    import xarray as xr

    if isinstance(obj, xr.DataArray):
        name = obj.name if obj.name is not None else var
        return obj.to_dataset(name=name), name
    if not isinstance(obj, xr.Dataset):
        raise GdchaosInputError(f"plot needs an xarray Dataset or DataArray, got "
                                f"{type(obj).__name__}")
    if var not in obj.data_vars:
        raise GdchaosInputError(f"plot: no variable {var!r} (the dataset has "
                                f"{', '.join(map(str, obj.data_vars)) or 'none'})")
    return obj, var


def _extent(ds):
    ext = []
    for c in ("x", "y"):
        v = np.asarray(ds[c] if c in ds.coords else np.arange(ds.sizes[c]), dtype=float)
        lo, hi = float(v[0]), float(v[-1])
        if lo == hi:  # one column or row: a unit-wide pixel
            lo, hi = lo - 0.5, hi + 0.5
        ext += [lo, hi]
    return ext


def _codes_of(var, da):
    """code -> name of a coded variable (``status``: the names of :mod:`gdchaos.status`),
    else ``None``."""
    if var == "status":
        return {**STATUS_NAMES, NOT_RUN: "not run"}
    text = da.attrs.get("codes")
    if not isinstance(text, str):
        return None
    found = {int(k): v.strip() for k, v in _CODE.findall(text)}
    return found or None


def _categories(ax, values, names, extent, var, legend):
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Patch

    values = np.asarray(values).astype(np.int64, copy=False)
    low = int(values.min()) if values.size else 0
    offset = values - low  # codes are small integers: one pass, no sort of the whole map
    present = [low + int(k) for k in np.flatnonzero(np.bincount(offset.ravel()))] \
        if values.size else []
    if var == "status":
        colors = [STATUS_COLORS.get(c, "#000000") for c in present]
    else:
        colors = [CATEGORY_COLORS[i % len(CATEGORY_COLORS)] for i in range(len(present))]
    lut = np.zeros((max(present, default=low) - low + 1, 4), dtype=np.uint8)
    for c, col in zip(present, colors):
        lut[c - low] = np.round(np.asarray(to_rgba(col)) * 255)
    # an RGBA image of bytes, at most twice the pixels the saved axes have: matplotlib draws it
    # without colour-mapping and resampling millions of values (nearest: the same picture)
    rows, cols = _strides(ax, offset.shape)
    ax.imshow(lut[offset[::rows, ::cols]] if values.size else
              np.zeros(values.shape + (4,), np.uint8),
              origin="lower", extent=extent, aspect="auto", interpolation="nearest")
    if legend:
        handles = [Patch(facecolor=col, edgecolor=EDGE, linewidth=0.8,
                         label=names.get(c, f"code {c}")) for c, col in zip(present, colors)]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  borderaxespad=0.0, framealpha=0.9, title=var if var != "status" else None)


def _strides(ax, shape):
    """Row and column strides keeping at least the pixels of ``ax`` when saved."""
    import matplotlib as mpl

    fig = ax.figure
    dpi = mpl.rcParams["savefig.dpi"]
    dpi = fig.dpi if dpi == "figure" else float(dpi)
    w, h = ax.get_position().width * fig.get_figwidth(), ax.get_position().height * \
        fig.get_figheight()
    want = (max(1, int(h * dpi)), max(1, int(w * dpi)))
    return tuple(max(1, n // k) for n, k in zip(shape, want))


def _continuous(ax, ds, var, da, extent, cmap, label, others, vmin, vmax, colorbar):
    from matplotlib.colors import ListedColormap

    val = np.asarray(da, dtype=float)
    if others == "auto":
        others = "grey" if var in AT_THE_LIMIT else None
    if others not in ("grey", "white", None):
        raise GdchaosInputError(f"plot: others must be 'grey', 'white' or None, got {others!r}")
    if others is not None and "status" in ds.data_vars:
        conv = np.asarray(ds["status"]) == CONVERGED
        if others == "grey":
            ax.imshow(np.where(conv, np.nan, 1.0), origin="lower", extent=extent,
                      cmap=ListedColormap([DIVERGED_GREY]), aspect="auto")
        val = np.where(conv, val, np.nan)
    with np.errstate(invalid="ignore"):
        im = ax.imshow(np.where(np.isfinite(val), val, np.nan), origin="lower", extent=extent,
                       cmap=cmap, aspect="auto", vmin=vmin, vmax=vmax)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label=variable_label(da, var) if label is None else label)
    return im


def variable_label(da, name=None):
    """``NAME: long name [units]`` of a variable from its ``long_name`` (else ``description``,
    else :data:`LONG_NAMES`) and ``units`` attributes."""
    name = str(da.name if name is None else name)
    attrs = da.attrs
    long = attrs.get("long_name") or LONG_NAMES.get(name) or attrs.get("description")
    if name == "coordinate" and "long_name" not in attrs and "index" in attrs:
        long = f"final value of parameter {attrs['index']}"
    text = name if not long or long == name else f"{name}: {long}"
    units = attrs.get("units")
    return f"{text} [{units}]" if units else text


def axis_label(ds, coord, problem=None):
    """The label of the axis ``coord`` (``"x"`` or ``"y"``): the coordinate's ``long_name``
    (and ``units``), else the problem's axis label, else the map's axis name."""
    attrs = ds[coord].attrs if coord in ds.coords else {}
    text = attrs.get("long_name")
    if not text:
        k = 0 if coord == "x" else 1
        labels = _problem_axis_labels(ds, problem)
        text = labels[k] if labels and k < len(labels) else None
    if not text:
        text = ds.attrs.get(f"{coord}_axis")  # a hyperparameter map's axis name
    if not text:
        text = "slice coordinate a (along e1)" if coord == "x" else "slice coordinate b (along e2)"
    units = attrs.get("units")
    return f"{text} [{units}]" if units else str(text)


def _problem_axis_labels(ds, problem):
    if problem is not None:
        return tuple(getattr(problem, "axis_labels", ()) or ())
    from ..problems.registry import BUILTIN

    cls = BUILTIN.get(ds.attrs.get("problem"))
    return tuple(getattr(cls, "axis_labels", ()) or ()) if cls is not None else ()


def _fmt(v):
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return f"{float(v):g}" if isinstance(v, (float, np.floating)) else str(int(v))
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def run_title(ds):
    """Every parameter of the run behind ``ds`` in two lines: the problem with its options
    (``scalar (d = 1, y = 1, lam = 0)``), then the run's (``eta``, ``momentum``, ``iters``,
    ``tol``; a hyperparameter map's optimizer); ``""`` where the attributes say nothing."""
    a = ds.attrs
    name = a.get("problem")
    if not name:
        return ""
    opts = [f"{k[len('problem_'):]} = {_fmt(v)}" for k, v in a.items()
            if k.startswith("problem_") and k != "problem_problem"]
    first = f"{name} ({', '.join(opts)})" if opts else str(name)
    run = []
    if "optimizer" in a:
        run.append(f"optimizer {a['optimizer']}")
    for key, label in (("config_eta", "eta"), ("config_momentum", "momentum"),
                       ("config_max_iter", "iters"), ("config_tol", "tol")):
        if key in a:
            run.append(f"{label} = {_fmt(a[key])}")
    return first + ("\n" + ", ".join(run) if run else "")


class GdchaosAccessor:
    """``ds.gdchaos``: :func:`plot` and :func:`gdchaos.run_info` of a map's dataset (or, on a
    ``DataArray``, of that variable)."""

    def __init__(self, obj):
        self._obj = obj

    def plot(self, var="status", ax=None, **kwargs):
        """:func:`gdchaos.plot` of this dataset (``var`` is ignored on a ``DataArray``)."""
        return plot(self._obj, var, ax, **kwargs)

    def run_info(self):
        from ..engine import run_info

        return run_info(self._obj)


def register_accessors():
    """Register ``ds.gdchaos`` and ``da.gdchaos`` with xarray (once; called when
    :mod:`gdchaos.plotting` is imported)."""
    import xarray as xr

    if not hasattr(xr.Dataset, "gdchaos"):
        xr.register_dataset_accessor("gdchaos")(GdchaosAccessor)
    if not hasattr(xr.DataArray, "gdchaos"):
        xr.register_dataarray_accessor("gdchaos")(GdchaosAccessor)
