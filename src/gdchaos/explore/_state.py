"""The explorer's state: every parameter of a view, validated, to and from a URL query.

A view is a problem (the options of ``gdchaos basin``, built by
:func:`gdchaos.problems.make_problem` as the command line builds it),
a run configuration, a 2-D slice and a window on it, a colouring and a precision.  Every value
that comes from a page or a URL goes through :func:`state_from_query`, which raises
:class:`gdchaos.GdchaosInputError` with one clear line for anything it cannot use.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from ..errors import GdchaosInputError
from ..problems import BUILTIN

#: the built-in problems (each is one module of gdchaos.problems)
PROBLEMS = tuple(BUILTIN)
COLORS = ("status", "minimizer", "sq_norm", "sharpness", "iterations", "distance")
PRECISIONS = ("float64", "dd")
#: largest step limit a view may ask for (the work bound below caps points x steps as well)
MAX_ITERS = 20000
#: bound on the work of one map request: pixels x steps x (parameters / 2, at least 1)
MAX_WORK = 6e7
#: the double-double kernel costs about this many float64 steps per step (measured)
DD_COST = 6.0
#: largest rendered map (pixels per side)
MAX_SIDE = 1024
#: longest trajectory shown on a click
MAX_TRAJECTORY = 2000
#: a problem's options when a view switches to it (the others None: the problem's own
#: defaults, as the command line has them); the quotient map opens on figure 3's y = 0.5
PROBLEM_DEFAULTS = {"quotient": {"y": "0.5"}}


@dataclass(frozen=True)
class ViewState:
    problem: str = "quotient"
    y: str | None = "0.5"
    Y: str | None = None
    d: int | None = None
    k: int | None = None
    lam: str = "0.2"
    eta: float = 1.0
    momentum: float = 0.0
    iters: int = 200
    tol: float = 1e-10
    div: float = 1e8
    slice: str | None = None
    seed: int = 0
    x0: float = -2.5
    x1: float = 3.0
    y0: float = 0.0
    y1: float = 10.0
    color: str = "status"
    px: float | None = None  # distance colouring: the point (slice coordinates)
    py: float | None = None
    precision: str = "float64"
    # double-double anchor of the quotient plane: the window's coordinates are offsets from
    # (az + az_lo, aw + aw_lo) when precision == "dd"
    az: float = 0.0
    az_lo: float = 0.0
    aw: float = 0.0
    aw_lo: float = 0.0
    # the options a problem declares beyond y, Y, d, k (its OPTIONS): (name, text) pairs
    extra: tuple = ()

    def to_query(self):
        """Strings for a URL; only values that differ from the defaults."""
        base = ViewState()
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "extra":
                out.update(dict(v))
            elif v != getattr(base, f.name) and v is not None:
                out[f.name] = repr(v) if isinstance(v, float) else str(v)
        return out

    def as_dict(self):
        return asdict(self)


_FLOATS = ("eta", "momentum", "tol", "div", "x0", "x1", "y0", "y1", "px", "py", "az", "az_lo",
           "aw", "aw_lo")
_INTS = ("d", "k", "iters", "seed")


def _float(name, text):
    try:
        v = float(str(text).strip())
    except ValueError:
        raise GdchaosInputError(f"{name} must be a number, got {str(text)[:40]!r}") from None
    if not math.isfinite(v):
        raise GdchaosInputError(f"{name} must be finite, got {text!r}")
    return v


def _int(name, text):
    try:
        return int(str(text).strip())
    except ValueError:
        raise GdchaosInputError(f"{name} must be an integer, got {str(text)[:40]!r}") from None


def state_from_query(query, base: ViewState | None = None) -> ViewState:
    """A validated :class:`ViewState` from a mapping of strings (a URL query, widget values);
    keys that are not state fields are refused, missing keys keep ``base``'s values (a new
    problem without a window gets that problem's default window)."""
    from ..problems.registry import problem_options

    base = base or ViewState()
    names = {f.name for f in fields(ViewState)} - {"extra"}
    declared = set(problem_options()) - names
    kw, extra = {}, {}
    for key, val in dict(query).items():
        if isinstance(val, (list, tuple)):
            val = val[-1] if val else ""
        if isinstance(val, bytes):
            val = val.decode("utf-8", "replace")
        if key in declared:  # an option a problem declares (its OPTIONS), kept as text
            if val is not None and str(val).strip() not in ("", "None"):
                if len(str(val)) > 200:
                    raise GdchaosInputError(f"{key} is too long ({len(str(val))} characters)")
                extra[key] = str(val).strip()
            continue
        if key not in names:
            raise GdchaosInputError(f"unknown parameter {str(key)[:40]!r}")
        if val is None or (isinstance(val, str) and val.strip() in ("", "None")):
            kw[key] = None if key in ("y", "Y", "d", "k", "slice", "px", "py") else \
                getattr(ViewState(), key)
            continue
        if len(str(val)) > 200:
            raise GdchaosInputError(f"{key} is too long ({len(str(val))} characters)")
        if key in _FLOATS:
            kw[key] = _float(key, val)
        elif key in _INTS:
            kw[key] = _int(key, val)
        else:
            kw[key] = str(val).strip()
    switched = "problem" in kw and kw["problem"] != base.problem
    if extra or switched:  # another problem's options mean nothing on this one
        kw["extra"] = tuple(sorted((({} if switched else dict(base.extra)) | extra).items()))
    if switched and "x0" not in kw:
        from ..problems import BUILTIN

        cls = BUILTIN.get(kw["problem"])
        win = cls.default_window if cls is not None else (-4.0, 4.0, -4.0, 4.0)
        kw.update(x0=win[0], x1=win[1], y0=win[2], y1=win[3])
        for opt in ("y", "Y", "d", "k"):
            kw.setdefault(opt, PROBLEM_DEFAULTS.get(kw["problem"], {}).get(opt))
        # a point and an anchor of the old problem's plane mean nothing on the new one
        for opt in ("px", "py"):
            kw.setdefault(opt, None)
        if "precision" not in kw:
            kw.update(precision="float64", az=0.0, az_lo=0.0, aw=0.0, aw_lo=0.0)
        if kw.get("color", base.color) == "distance" and kw["px"] is None:
            kw["color"] = "status"
    st = replace(base, **kw)
    check_state(st)
    return st


def check_state(st: ViewState):
    """Raise GdchaosInputError for any value the explorer cannot run."""
    if st.problem not in PROBLEMS:
        raise GdchaosInputError(f"problem must be one of {', '.join(PROBLEMS)}, got "
                                f"{st.problem[:40]!r}")
    if st.color not in COLORS:
        raise GdchaosInputError(f"colour must be one of {', '.join(COLORS)}, got {st.color[:40]!r}")
    if st.precision not in PRECISIONS:
        raise GdchaosInputError(f"precision must be float64 or dd, got {st.precision[:40]!r}")
    if st.slice not in (None, "axes", "random"):
        raise GdchaosInputError(f"slice must be axes or random, got {st.slice[:40]!r}")
    if not 1 <= st.iters <= MAX_ITERS:
        raise GdchaosInputError(f"iterations must be in [1, {MAX_ITERS}], got {st.iters}")
    if st.seed < 0:
        raise GdchaosInputError(f"seed must be >= 0, got {st.seed}")
    if not (st.x0 < st.x1 and st.y0 < st.y1):
        raise GdchaosInputError("the window needs x0 < x1 and y0 < y1")
    if max(abs(st.x0), abs(st.x1), abs(st.y0), abs(st.y1)) > 1e12:
        raise GdchaosInputError("the window must lie within |coordinate| <= 1e12")
    if st.color == "distance" and (st.px is None or st.py is None):
        raise GdchaosInputError("colour distance needs a point: click the map first")
    for name in ("d", "k"):
        v = getattr(st, name)
        if v is not None and not 1 <= v <= 64:
            raise GdchaosInputError(f"{name} must be an integer in [1, 64], got {v}")
    problem = make_problem(st)
    config(st)  # RunConfig's own checks (eta > 0, momentum in [0, 1), ...)
    if st.precision == "dd" and not problem.supports_double_double:
        raise GdchaosInputError("precision dd (double-double) is for the quotient map only")
    if st.momentum and not problem.supports_momentum:
        raise GdchaosInputError(f"the {problem.name} problem is exact for plain GD only "
                                "(momentum 0)")
    if st.slice is not None and st.slice not in problem.slice_kinds:
        raise GdchaosInputError(f"the {problem.name} problem's maps take slice "
                                f"{' or '.join(problem.slice_kinds)} only")
    if problem.n_params > 256:
        raise GdchaosInputError(f"the problem has {problem.n_params} parameters; the explorer "
                                "takes at most 256")


def make_problem(st: ViewState):
    """The problem, built by :func:`gdchaos.problems.make_problem` (the command line's own
    route to a problem): options the problem does not use are refused, y defaults to 1."""
    from ..problems import make_problem as _make

    opts = {"y": None if st.y is None else _float("y", st.y),
            "Y": None if st.Y is None else _matrix(st.Y),
            "d": st.d, "k": st.k, "lam": _float("lam", st.lam)}
    from ..problems.registry import problem_options

    kinds = problem_options()
    for name, text in st.extra:
        kind = kinds.get(name, ("text",))[0]
        opts[name] = _float(name, text) if kind == "number" else \
            _int(name, text) if kind == "int" else text
    if opts["lam"] < 0:
        raise GdchaosInputError(f"lam must be >= 0, got {st.lam!r}")
    return _make(st.problem, opts, defaults={"y": 1.0})


def _matrix(text):
    """``"0.9,0;0,0.8"`` (rows separated by ``;``) -> a square matrix, as ``--Y`` takes it."""
    import numpy as np

    rows = [[_float("Y", t) for t in r.split(",")] for r in str(text).split(";") if r.strip()]
    if not rows or any(len(r) != len(rows) for r in rows):
        raise GdchaosInputError(f"Y must be a square matrix 'a,b;c,d', got {str(text)[:40]!r}")
    return np.array(rows)


def config(st: ViewState):
    from ..engine import RunConfig

    return RunConfig(eta=st.eta, momentum=st.momentum, max_iter=st.iters, tol=st.tol,
                     div_threshold=st.div)
