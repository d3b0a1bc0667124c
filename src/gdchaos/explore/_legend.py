"""How each colouring is drawn and named: categories (status, minimizer) get a colour bar of
named swatches, the others a continuous colour bar titled with the variable's name (and
units); the hover shows the axes' names and the variable's name (status by its name)."""

from __future__ import annotations

from ..status import STATUS_NAMES, VARIABLE_LONG_NAMES

#: code -> colour of the status map (gdchaos.plotting.STATUS_COLORS)
STATUS_COLORS = {0: "#f2c14e", 1: "#2a6f97", 2: "#bdbdbd", 3: "#d1495b", 4: "#ffffff"}
MINIMIZER_NAMES = {0: "none", 1: "p- (closest)", 2: "p+ (farthest)"}
MINIMIZER_COLORS = {0: "#bab0ac", 1: "#4c78a8", 2: "#f58518"}
#: categories of the coded colourings: {code: (name, colour)}
CATEGORIES = {
    "status": {c: (STATUS_NAMES[c], STATUS_COLORS[c]) for c in sorted(STATUS_NAMES)},
    "minimizer": {c: (MINIMIZER_NAMES[c], MINIMIZER_COLORS[c]) for c in sorted(MINIMIZER_NAMES)},
}
UNITS = {"iterations": "steps"}
NAN_COLOR = "#e0e0e0"  # not converged, for the colourings shown at the limit only


def long_name(color, st=None):
    """What the colouring ``color`` shows, in words."""
    long = {"iterations": "steps run",
            "distance": "distance of the final iterate to the clicked point"}.get(
        color, VARIABLE_LONG_NAMES.get(color, ""))
    if color == "distance" and st is not None and st.px is not None:
        long += f" ({st.px:.6g}, {st.py:.6g})"
    return long


def label(color, st=None):
    """The colour bar's title: ``name: long name [units]``."""
    long = long_name(color, st)
    text = f"{color}: {long}" if long and long != color else color
    return text + (f" [{UNITS[color]}]" if color in UNITS else "")


def colorbar_title(color, st=None):
    """The colour bar's title: the name for the categories (named swatches), else
    :func:`label`."""
    return color if color in CATEGORIES else label(color, st)


def image_options(color, st=None, xlabel="x", ylabel="y"):
    """HoloViews options of the map's ``Image`` for ``color``."""
    from bokeh.models import CustomJSHover, FixedTicker

    cats = CATEGORIES.get(color)
    title = label(color, st)
    if cats is not None:
        codes = sorted(cats)
        names = {str(c): cats[c][0] for c in codes}
        opts = dict(cmap=[cats[c][1] for c in codes], clim=(codes[0] - 0.5, codes[-1] + 0.5),
                    colorbar_opts={"ticker": FixedTicker(ticks=codes), "title": color,
                                   "major_label_overrides": {c: cats[c][0] for c in codes}})
        js = ("const n = " + _js_object(names) + "; if (value !== value) return 'not "
              "converged'; return n[Math.round(value)] || String(value);")
    else:
        opts = dict(cmap="viridis", clim=(None, None),
                    colorbar_opts={"title": title})
        js = ("if (value !== value) return 'not converged'; return value.toPrecision(6);")
    fmt = CustomJSHover(code=js)
    opts.update(colorbar=True, clipping_colors={"NaN": NAN_COLOR},
                hover_tooltips=[(xlabel, "$x"), (ylabel, "$y"), (color, "@image{custom}")],
                hover_formatters={"@image": fmt})
    return opts


def _js_object(d):
    import json

    return json.dumps(d)
