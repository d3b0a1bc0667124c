"""Helpers shared by the command modules: number parsing, output checks, JSON printing."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

from ..errors import MEMORY_LIMIT_BYTES, STORE_LIMIT_BYTES, WORK_LIMIT, GdchaosInputError

EXAMPLES_FMT = argparse.RawDescriptionHelpFormatter
INT32_MAX = 2**31 - 1  # step counts: the kernels count iterations in int32

ALLOW_LARGE = "--allow-large"


# ------------------------------------------------------------------ argparse integer types
def _int_type(lo=None, hi=None, what="an integer"):
    def parse(text):
        try:
            v = int(str(text).strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(f"must be {what}, got {v}")
        return v

    parse.__name__ = "int"
    return parse


seed = _int_type(0, None, "an integer >= 0 (a seed)")
positive = _int_type(1, None, "an integer >= 1")
nonneg = _int_type(0, None, "an integer >= 0")
steps = _int_type(0, INT32_MAX, f"an integer in [0, {INT32_MAX}] (int32 step counter)")
positive_steps = _int_type(1, INT32_MAX, f"an integer in [1, {INT32_MAX}] (int32 step counter)")


def _tokens(text, name, what):
    """The comma-separated entries of ``text``; refuses an empty value and an empty entry
    (``"1,,2"``, ``",1"``, ``"1,"``: a value left out is not silently dropped)."""
    if str(text).strip() == "":
        raise GdchaosInputError(f"{name} is empty")
    toks = [t.strip() for t in str(text).split(",")]
    if "" in toks:
        raise GdchaosInputError(f"{name} has an empty entry in {text!r} (write {what} "
                                "separated by single commas)")
    return toks


def floats(text, name, n=None):
    """Parse ``"1,2,3"`` into a list of finite floats (``n`` of them if given)."""
    toks = _tokens(text, name, "numbers")
    try:
        vals = [float(t) for t in toks]
    except ValueError:
        raise GdchaosInputError(f"{name} must be comma-separated numbers, got {text!r}") from None
    if any(not math.isfinite(v) for v in vals):
        raise GdchaosInputError(f"{name} must be finite numbers, got {text!r}")
    if n is not None and len(vals) != n:
        raise GdchaosInputError(f"{name} needs {n} numbers, got {len(vals)} in {text!r}")
    if not vals:
        raise GdchaosInputError(f"{name} is empty")
    return vals


def ints(text, name, lo=None):
    """Parse ``"1,2,3"`` into integers; refuses ``2.5`` (no silent truncation) and values < lo."""
    toks = _tokens(text, name, "integers")
    try:
        vals = [int(t) for t in toks]
    except ValueError:
        raise GdchaosInputError(f"{name} must be comma-separated integers, got {text!r}") from None
    if not vals:
        raise GdchaosInputError(f"{name} is empty")
    if lo is not None and min(vals) < lo:
        raise GdchaosInputError(f"{name} must be integers >= {lo}, got {text!r}")
    return vals


def number(text, name):
    return floats(text, name, 1)[0]


def matrix(text, name):
    """Parse ``"0.9,0;0,0.8"`` (rows separated by ``;``) into a square matrix."""
    if str(text).strip() == "":
        raise GdchaosInputError(f"{name} is empty (write a square matrix 'a,b;c,d')")
    rows = [floats(r, name) for r in str(text).split(";") if r.strip()]
    if not rows or any(len(r) != len(rows) for r in rows):
        raise GdchaosInputError(f"{name} must be a square matrix 'a,b;c,d', got {text!r}")
    return np.array(rows)


def check_writable_file(path, name):
    if path is None:
        return
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK):
        raise GdchaosInputError(f"cannot write {name} {path}: folder {parent} is not writable")
    if os.path.isdir(path):
        raise GdchaosInputError(f"cannot write {name} {path}: it is a folder")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise GdchaosInputError(f"cannot write {name} {path}: the file is read-only")


def check_image_path(path, name="--png"):
    """Before any work: the folder is writable and matplotlib knows the file type."""
    if path is None:
        return
    check_writable_file(path, name)
    from matplotlib.backend_bases import FigureCanvasBase

    kinds = FigureCanvasBase.get_supported_filetypes()
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if ext not in kinds:
        raise GdchaosInputError(f"cannot write {name} {path}: unknown image type {ext!r} "
                                f"(use one of {', '.join(sorted(kinds))})")


def check_size(args, what, *, store_bytes=0, memory_bytes=0, out=None):
    """Refuse a run whose estimated store or working memory passes the documented limits
    (STORE_LIMIT_BYTES, MEMORY_LIMIT_BYTES) unless --allow-large was given; refuse always when
    the memory needed exceeds this machine's, or the store (written to ``out``) more than the
    free space of its disk."""
    total = _physical_memory()
    if total and memory_bytes > total:
        raise GdchaosInputError(f"{what} needs about {_gb(memory_bytes)} of memory, more than "
                                f"this machine's {_gb(total)}")
    if not getattr(args, "allow_large", False):
        _check_limits(what, store_bytes, memory_bytes)
    free = _free_disk(out) if out is not None and store_bytes else None
    if free is not None and store_bytes > free:  # even with --allow-large
        raise GdchaosInputError(f"{what} would write about {_gb(store_bytes)} to {out}, more "
                                f"than the {_gb(free)} free on its disk")


def _check_limits(what, store_bytes, memory_bytes):
    if store_bytes > STORE_LIMIT_BYTES:
        raise GdchaosInputError(f"{what} would write about {_gb(store_bytes)} (limit "
                                f"{_gb(STORE_LIMIT_BYTES)}); pass {ALLOW_LARGE} to go ahead")
    if memory_bytes > MEMORY_LIMIT_BYTES:
        raise GdchaosInputError(f"{what} needs about {_gb(memory_bytes)} of memory (limit "
                                f"{_gb(MEMORY_LIMIT_BYTES)}); pass {ALLOW_LARGE} to go ahead")


def check_work(args, what, amount, unit="operations", note=""):
    """Refuse a run whose estimated work (``amount`` of ``unit``) passes :data:`WORK_LIMIT`
    unless --allow-large was given."""
    if not getattr(args, "allow_large", False) and not amount <= WORK_LIMIT:
        raise GdchaosInputError(f"{what} needs about {amount:.3g} {unit} (limit "
                                f"{WORK_LIMIT:.0e}{note}); pass {ALLOW_LARGE} to go ahead")


def add_allow_large(p):
    p.add_argument(ALLOW_LARGE, action="store_true",
                   help=f"run even past the size limits ({_gb(STORE_LIMIT_BYTES)} store, "
                   f"{_gb(MEMORY_LIMIT_BYTES)} memory)")


def add_scheduler(p):
    """``--scheduler`` and ``--worker-memory``: the same two flags in every long command."""
    from ..engine.cluster import SCHEDULER_HELP

    p.add_argument("--scheduler", default=None, metavar="local[:N]|tcp://HOST:PORT",
                   help=SCHEDULER_HELP + " (docs/cluster.md)")
    p.add_argument("--worker-memory", default=None, metavar="SIZE",
                   help="memory limit of each worker of --scheduler local[:N], e.g. 2GB "
                   "(default: Dask's share of this machine)")


def add_refine(p):
    """``--refine [LEVELS]`` and ``--refine-check FRACTION``: the same two flags on every map
    command (defaults: :class:`gdchaos.engine.Refine`)."""
    from ..engine import Refine

    d = Refine()
    p.add_argument("--refine", nargs="?", const=d.levels, default=None,
                   type=_int_type(1, 10, "an integer from 1 to 10 (levels)"), metavar="LEVELS",
                   help=f"boundary refinement: compute a lattice of every 2^LEVELS-th pixel "
                   f"(default {d.levels} levels), subdivide where outcomes differ (and next to "
                   "it), fill the rest; the store gets `computed` and the measured error "
                   "(docs/maps.md)")
    p.add_argument("--refine-check", default=None, metavar="FRACTION",
                   help=f"with --refine: the fraction of filled pixels computed as a check "
                   f"sample (default {d.check:g}, at least {d.min_check} a tile)")


def refine_from_args(args):
    """The parsed ``--refine``/``--refine-check`` (None: not refined)."""
    from ..engine import Refine

    check = getattr(args, "refine_check", None)
    if getattr(args, "refine", None) is None:
        if check is not None:
            raise GdchaosInputError("--refine-check needs --refine")
        return None
    if check is None:
        return Refine(levels=args.refine)
    return Refine(levels=args.refine, check=number(check, "--refine-check"))


def refine_report(ds_or_path):
    """A refined map's summary (a dict, from its dataset or store) or None."""
    from ..engine import refine_summary_of, root_attributes

    attrs = root_attributes(ds_or_path) if isinstance(ds_or_path, (str, os.PathLike)) \
        else ds_or_path.attrs
    return refine_summary_of(attrs or {})


def scheduler_from_args(args):
    """The parsed ``--scheduler`` (None: the single-process path); checked before any work."""
    from ..engine.cluster import check_reachable, import_distributed, parse_scheduler

    spec = parse_scheduler(getattr(args, "scheduler", None), getattr(args, "worker_memory", None),
                           allow_large=getattr(args, "allow_large", False))
    if spec is not None:
        import_distributed()
        check_reachable(spec)
    return spec


def _gb(n):
    return f"{n / 2**30:.3g} GiB"


def _free_disk(path):
    """Free bytes on the disk that would hold ``path`` (its nearest existing folder)."""
    import shutil

    p = os.path.abspath(os.fspath(path))
    while not os.path.isdir(p) and os.path.dirname(p) != p:
        p = os.path.dirname(p)
    try:
        return shutil.disk_usage(p).free
    except OSError:
        return None


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 0


def set_threads(n):
    """``--threads``: every library's threads (Numba, torch, BLAS); see gdchaos.engine.threads."""
    from ..engine.threads import set_threads as set_all

    set_all(n)


def emit_json(obj):
    """Print strict JSON: a non-finite number becomes null with a ``KEY_reason`` beside it."""
    print(json.dumps(strict_json(obj), indent=None, sort_keys=True, allow_nan=False))


def strict_json(o):
    """``o`` with NumPy values as Python ones and NaN/inf as None; in a dict, ``k: inf``
    becomes ``k: None`` plus ``k_reason: "+inf"`` (``"nan"``, ``"-inf"``) unless a reason is
    already there."""
    if isinstance(o, dict):
        out = {}
        for k, v in o.items():
            v = _plain(v)
            if isinstance(v, float) and not math.isfinite(v):
                out.setdefault(f"{k}_reason", _why(v))
                out[str(k)] = None
            else:
                out[str(k)] = strict_json(v)
        return out
    o = _plain(o)
    if isinstance(o, (list, tuple)):
        return [strict_json(v) for v in o]
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if o is None or isinstance(o, (bool, int, float, str)):
        return o
    return str(o)


def _plain(o):
    if isinstance(o, (np.floating, np.integer, np.bool_)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return o


def _why(v):
    return "nan" if v != v else ("+inf" if v > 0 else "-inf")


def info(args, msg):
    if not getattr(args, "quiet", False) and not getattr(args, "json", False):
        print(msg, file=sys.stderr)


# ------------------------------------------------------------------------------- problems
def problem_from_args(args, y_default="1"):
    """The problem of ``--problem`` (a built-in name or ``path/to/file.py:ClassName``) and its
    options: the one parser of problems for every command.  An option the problem does not use
    is refused (not silently ignored); ``--d 0`` is refused (not replaced by a default)."""
    from ..errors import check_nonneg
    from ..problems import make_problem

    from ..problems.registry import problem_options

    read = {"int": lambda v, flag: v, "number": number, "matrix": matrix}
    opts = {}
    for opt, (kind, _) in problem_options().items():
        v = getattr(args, opt, None)
        opts[opt] = None if v is None else read[kind](v, f"--{opt}")
    lam = check_nonneg("--lam", number(args.lam, "--lam"))
    params = getattr(args, "param", None)
    if params and ":" not in args.problem:
        raise GdchaosInputError("--param sets a user's problem's parameters (--problem "
                                "path/to/file.py:ClassName); built-in problems take --y, --lam...")
    if ":" in args.problem:
        given = [f"--{k}" for k, v in opts.items() if v is not None]
        if given:
            raise GdchaosInputError(f"{', '.join(given)}: a user's problem takes its parameters "
                                    "as --param NAME=VALUE")
        return make_problem(args.problem, param_values(params or []))
    opts["lam"] = lam
    return make_problem(args.problem, opts, defaults={"y": number(y_default, "--y")})


def param_values(items, flag="--param"):
    """``["a=1", "b=2,3"]`` -> ``{"a": 1.0, "b": [2.0, 3.0]}`` (numbers, lists, else strings)."""
    out = {}
    for item in items:
        k, sep, v = str(item).partition("=")
        if not sep or not k.strip().isidentifier():
            raise GdchaosInputError(f"{flag} {item!r}: write NAME=VALUE")
        vals = [t.strip() for t in v.split(",")]
        try:
            nums = [float(t) for t in vals]
        except ValueError:
            out[k.strip()] = v
            continue
        out[k.strip()] = nums[0] if len(nums) == 1 else nums
    return out


def add_optimizer_options(r):
    """The optimizer flags (``map``, ``basin``): the optimizer, its step sizes and settings."""
    from ..engine.optim import DEFAULT_ETA

    r.add_argument("--optimizer", default="gd", metavar="NAME|FILE.py:CLASS",
                   help="gd, heavy_ball, nesterov, adam, adamw, or a user's optimizer "
                   "path/to/file.py:ClassName (docs/maps.md)")
    r.add_argument("--opt-param", action="append", default=None, metavar="NAME=VALUE",
                   help="a hyperparameter of a user's optimizer (repeatable)")
    r.add_argument("--eta", default=str(DEFAULT_ETA),
                   help=f"global step size (default {DEFAULT_ETA}, as gdchaos.Optimizer)")
    r.add_argument("--eta-group", action="append", default=None, metavar="GROUP=ETA",
                   help="step size of one parameter group (repeatable)")
    r.add_argument("--momentum", default=None,
                   help="heavy ball/Nesterov beta, Adam b1 (default 0.9; gd 0)")
    r.add_argument("--beta2", default="0.999", help="Adam's b2 (0.999)")
    r.add_argument("--eps", default="1e-8", help="Adam's epsilon (1e-8)")
    r.add_argument("--weight-decay", default="0", help="AdamW's decoupled weight decay")


def optimizer_from_args(args):
    """The :class:`gdchaos.Optimizer` of :func:`add_optimizer_options`' flags (one line for bad
    values, before anything is written)."""
    from ..engine.optim import Optimizer

    groups = {}
    for item in args.eta_group or []:
        k, sep, v = str(item).partition("=")
        if not sep:
            raise GdchaosInputError(f"--eta-group {item!r}: write GROUP=ETA")
        groups[k.strip()] = number(v, "--eta-group")
    params = param_values(args.opt_param or [], "--opt-param")
    for k, v in params.items():
        if not isinstance(v, float):
            raise GdchaosInputError(f"--opt-param {k}={v!r}: the value must be one number")
    return Optimizer(args.optimizer, eta=number(args.eta, "--eta"), group_eta=groups,
                     momentum=None if args.momentum is None else number(args.momentum,
                                                                        "--momentum"),
                     beta2=number(args.beta2, "--beta2"), eps=number(args.eps, "--eps"),
                     weight_decay=number(args.weight_decay, "--weight-decay"), params=params)


def add_problem_options(group, defaults=None):
    """A flag for every option of the built-in problems (their ``OPTIONS``: one place), each
    with what it means for each problem that has it; ``defaults`` (name -> text) replaces a
    default in the help where a command has its own.  A new built-in problem's option is a
    flag of every command that takes a problem."""
    from ..problems.registry import problem_options

    for opt, (kind, users) in problem_options().items():
        text = "; ".join(f"{name}: {h}" for name, h in users)
        if defaults and opt in defaults:
            text += f" (here default {defaults[opt]})"
        group.add_argument(f"--{opt}", default=None, type=positive if kind == "int" else None,
                           help=text)


def add_problem_option(parser, default=None, help_default=""):
    """``--problem`` (a built-in name or path/to/file.py:ClassName) and ``--param``: the same
    two flags in every command."""
    from ..problems import BUILTIN

    parser.add_argument("--problem", default=default, required=default is None,
                        metavar="NAME|FILE.py:CLASS",
                        help=f"{', '.join(BUILTIN)}, or a user's problem "
                             f"path/to/file.py:ClassName{help_default}")
    parser.add_argument("--param", action="append", default=None, metavar="NAME=VALUE",
                        help="a parameter of a user's problem (repeatable)")
