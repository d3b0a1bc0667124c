"""``gdchaos explore``: the live map in the browser (gdchaos.explore)."""

from __future__ import annotations

from . import _common as C

EPILOG = """examples:
  gdchaos explore                                   # figure 3's quotient map, http://127.0.0.1:5006/
  gdchaos explore --problem scalar --d 5 --y 1 --lam 0.6 --eta 1 --iters 1000 --port 5007
  gdchaos explore lr.zarr                           # a store of basin, map or nn map: its run
Pan and zoom recompute the map; click a point for its trajectory.  Needs the 'explore' extra.
"""


def register(sub):
    p = sub.add_parser("explore", help="a live map in the browser that recomputes as you zoom",
                       description="Start a local web app (Panel/HoloViews on a Bokeh server) "
                       "showing the map of a window, recomputed by the engine on every pan and "
                       "zoom, and print its address.", epilog=EPILOG,
                       formatter_class=C.EXAMPLES_FMT)
    from ..problems import BUILTIN

    p.add_argument("store", nargs="?", default=None, metavar="STORE",
                   help="a store of gdchaos basin, map or nn map: pan and zoom recompute it "
                   "with its recorded run (no problem options then)")
    p.add_argument("--problem", default=None, choices=list(BUILTIN),
                   help="a built-in problem (default quotient)")
    g = p.add_argument_group("problem options (as in gdchaos basin)")
    C.add_problem_options(g, defaults={"y": "0.5 for the quotient map"})
    g.add_argument("--lam", default=None, help="weight decay lam >= 0")
    r = p.add_argument_group("view")
    r.add_argument("--eta", default=None, help="step size (default 1)")
    r.add_argument("--momentum", default=None, help="heavy-ball momentum")
    r.add_argument("--iters", default=None, help="step limit (default 200)")
    r.add_argument("--range", default=None, help="XMIN,XMAX,YMIN,YMAX of the first window")
    r.add_argument("--color", default=None, help="status, minimizer, sq_norm, sharpness, "
                   "iterations")
    s = p.add_argument_group("server")
    s.add_argument("--port", type=C.nonneg, default=5006, help="port (default 5006)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    s.add_argument("--show", action="store_true", help="open a browser")
    p.set_defaults(func=cmd_explore)


#: the view's options besides the problem's own (each a flag and a field of the URL state)
VIEW_OPTIONS = ("lam", "eta", "momentum", "iters", "color")


def query_from_args(args):
    """The explorer's URL state from the options given (validated by the explorer)."""
    from ..explore import state_from_query

    from ..explore import ViewState

    problem = args.problem or ViewState().problem
    q = {"problem": problem}
    other = problem != ViewState().problem  # not the default view's problem: its defaults
    if other:
        q.update(y=None, lam="0")
    from ..problems.registry import problem_options

    for name in (*problem_options(), *VIEW_OPTIONS):
        if getattr(args, name) is not None:
            q[name] = str(getattr(args, name))
    if args.range is not None:
        q.update(zip(("x0", "x1", "y0", "y1"), map(repr, C.floats(args.range, "--range", 4))))
    elif other:
        q.update(x0="-4", x1="4", y0="-4", y1="4")
    state_from_query(q)  # refuse bad options before the server starts
    return q


def _given_view_options(args):
    """The problem and view options given on the command line."""
    from ..problems.registry import problem_options

    names = ("problem", *problem_options(), *VIEW_OPTIONS, "range")
    return [f"--{n}" for n in names if getattr(args, n, None) is not None]


def cmd_explore(args):
    from ..errors import GdchaosInputError
    from ..explore import serve

    if args.store is not None:
        given = _given_view_options(args)
        if given:
            raise GdchaosInputError(f"explore {args.store}: {', '.join(given)} set a problem's "
                                    "view; a store's view is its recorded run (give one or "
                                    "the other)")
        return serve(port=args.port, host=args.host, show=args.show, store=args.store) or 0
    q = query_from_args(args)
    return serve(port=args.port, host=args.host, show=args.show, query=q) or 0
