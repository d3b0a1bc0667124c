"""``gdchaos fractal-test``: is a stored basin boundary fractal? (gdchaos.analysis.fractaltest)"""

from __future__ import annotations

from . import _common as C

#: gdchaos.analysis.OUTCOME_MODES (not imported here: the parser stays light)
OUTCOMES = ["converged", "diverged", "status", "status+minimizer", "status+sign"]

EPILOG = """examples:
  gdchaos basin --problem quotient --y 0.5 --lam 0.2 --eta 1 --grid 256 \\
      --range -2.5,3,0,10 --iters 200 --tol 1e-12 --out fig3.zarr
  gdchaos fractal-test fig3.zarr             # table and verdict (grids 256, 512, 1024)
  gdchaos fractal-test fig3.zarr --json
  gdchaos fractal-test scalar_lam0.zarr --outcome diverged
The store's run is recomputed through the engine at 2 and 4 times its resolution; a smooth
curve of the same length and a randomized boundary go through the same pipeline (docs/analysis.md).
"""


def register(sub):
    p = sub.add_parser("fractal-test", help="box-counting dimension of a stored basin boundary "
                       "against refinement and null models, with a verdict",
                       description="Box-counting dimension of the one-pixel boundary of a "
                       "stored basin at N, 2N and 4N pixels a side (recomputed through the "
                       "engine from the store's recorded run), beside a smooth analytic "
                       "boundary of the same length and a randomized boundary, each with its "
                       "95% interval; verdict 'fractal', 'smooth' or 'undecided' only where the "
                       "intervals support one.", epilog=EPILOG, formatter_class=C.EXAMPLES_FMT)
    p.add_argument("store", help="an engine basin store (gdchaos basin --out)")
    p.add_argument("--outcome", default="converged", choices=OUTCOMES,
                   help="outcome labels whose boundary is measured (default converged; "
                   "'diverged' for the basin of infinity)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    C.add_allow_large(p)
    p.set_defaults(func=cmd_fractal_test)


def cmd_fractal_test(args):
    from ..analysis.fractaltest import fractal_test
    from ..engine import open_store, run_info

    ds = open_store(args.store)
    grid = run_info(ds).get("grid") or {}
    if "nx" in grid and "ny" in grid:
        n = 16 * int(grid["nx"]) * int(grid["ny"])
        P = len(grid.get("center") or [0, 0])
        C.check_size(args, f"the fractal test's finest grid ({4 * int(grid['nx'])} x "
                     f"{4 * int(grid['ny'])})", memory_bytes=n * (48 * P + 96))
    r = fractal_test(ds, mode=args.outcome, allow_large=args.allow_large,
                     progress=not args.quiet)
    if args.json:
        C.emit_json(r.as_dict())
    else:
        print(r.table())
    return 0
