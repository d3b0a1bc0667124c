"""``gdchaos figure N``, ``gdchaos reproduce`` and ``gdchaos extras``."""

from __future__ import annotations

from . import _common as C

FIG_EPILOG = """examples:
  gdchaos figure 3 --preset quick --out figures
  gdchaos figure 1 --preset paper --set grid=800 --set seed=3 --out figures
  gdchaos figure 3 --list-settings
Writes figNN.png, figNN.pdf, figNN_<panel>.zarr and figNN.json (parameters, choices made where
the paper's text lost a setting, and the numbers computed)."""

REPRO_EPILOG = """examples:
  gdchaos reproduce --out reproduction                 # quick preset, every figure
  gdchaos reproduce --preset paper --out paper-run
  gdchaos reproduce --figures 1,2,3 --set 3:grid=1000 --out mf-only
  gdchaos reproduce --extras --out reproduction        # + the beyond-the-paper items
Runs the matrix-factorization figures (1-3, 6-11) first, then the network figures (4, 5, 12,
13); prints one progress line per figure and writes DIR/report.html (self-contained: images
embedded) beside every figure's PNG, PDF, zarr stores and JSON."""

EXTRAS_EPILOG = """examples:
  gdchaos extras --out extras                  # all five, quick settings
  gdchaos extras --only zoom --preset paper --out zoom
  gdchaos extras --only trainability --out extras
  gdchaos extras --only trainability --set trainability:grid=512 --set trainability:refine=4
Items: dimension (figure 3's box-counting dimension with its interval and a convergence study),
lam (figure 8 over a continuum of weight decay: small multiples and an animated GIF), zoom (a
zoom into the convergence boundary of figure 3's quotient map over 14 decades, float64, frames
and a GIF), mf_maps (scalar factorization over (eta, init scale), (eta_u, eta_v) and (eta, lam)
with the exact boundary drawn), trainability (Sohl-Dickstein 2024's six network maps, their
boundary dimensions and a zoom over ten decades; about 15 minutes at the quick preset)."""


def register(sub):
    f = sub.add_parser("figure", help="one figure of the paper (PNG, PDF, data, JSON)",
                       description="Reproduce one figure of the paper from its declared settings.",
                       epilog=FIG_EPILOG, formatter_class=C.EXAMPLES_FMT)
    f.add_argument("number", help="figure number (1-13)")
    f.add_argument("--preset", default="quick", help="paper | quick (default quick) | tiny")
    f.add_argument("--set", action="append", default=None, metavar="KEY=VALUE",
                   help="override one setting (repeatable)")
    f.add_argument("--out", default="figures", help="output folder (default figures)")
    f.add_argument("--list-settings", action="store_true", help="print the preset and exit")
    f.add_argument("--json", action="store_true", help="print the JSON record")
    f.add_argument("--quiet", action="store_true")
    C.add_allow_large(f)
    C.add_scheduler(f.add_argument_group("cluster (network figures 4, 5, 12, 13)"))
    f.set_defaults(func=cmd_figure)

    r = sub.add_parser("reproduce", help="every figure and an HTML reproduction report",
                       description="Run every figure of the paper and write a self-contained "
                                   "HTML report: each claim beside the value reproduced.",
                       epilog=REPRO_EPILOG, formatter_class=C.EXAMPLES_FMT)
    r.add_argument("--preset", default="quick", help="quick (default) | paper | tiny")
    r.add_argument("--out", default="reproduction", help="output folder (default reproduction)")
    r.add_argument("--figures", default=None, help="comma-separated figure numbers (default all)")
    r.add_argument("--set", action="append", default=None, metavar="N:KEY=VALUE",
                   help="override a setting of figure N (repeatable)")
    r.add_argument("--extras", action="store_true", help="also run the beyond-the-paper items")
    r.add_argument("--quiet", action="store_true", help="no progress lines")
    C.add_allow_large(r)
    C.add_scheduler(r.add_argument_group("cluster (the network figures, on one cluster)"))
    r.set_defaults(func=cmd_reproduce)

    e = sub.add_parser("extras", help="beyond the paper: dimension interval, lam continuum, "
                                      "deep zoom, MF maps, network trainability",
                       description="Items beyond the paper.",
                       epilog=EXTRAS_EPILOG, formatter_class=C.EXAMPLES_FMT)
    e.add_argument("--preset", default="quick", help="quick (default) | paper | tiny")
    e.add_argument("--out", default="extras", help="output folder (default extras)")
    e.add_argument("--only", default=None, help="comma-separated: dimension, lam, zoom, "
                   "mf_maps, trainability")
    e.add_argument("--set", action="append", default=None, metavar="ITEM:KEY=VALUE",
                   help="override a setting of one item (repeatable), e.g. trainability:grid=512")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(func=cmd_extras)


def cmd_figure(args):
    from ..experiments.runner import parse_overrides, run_figure
    from ..experiments.registry import get_figure

    spec = get_figure(args.number)
    overrides = parse_overrides(args.set)
    if args.list_settings:
        C.emit_json({"figure": spec.number, "preset": args.preset,
                     "settings": spec.params(args.preset, overrides), "choices": spec.choices})
        return 0
    spec.params(args.preset, overrides, args.allow_large)  # validate before any work
    sched = C.scheduler_from_args(args)
    rec = run_figure(spec, args.preset, overrides, args.out,
                     progress=not (args.quiet or args.json), scheduler=sched,
                     allow_large=args.allow_large)
    if args.json:
        C.emit_json(rec)
    elif not args.quiet:
        print(f"figure {spec.number} ({args.preset}) in {rec['seconds']:.1f} s -> "
              + ", ".join(rec["files"]))
    return 0


def _figure_overrides(items, what="N", number=True):
    """``--set N:KEY=VALUE`` (reproduce: figure number first) or ``ITEM:KEY=VALUE`` (extras)."""
    from ..errors import GdchaosInputError
    from ..experiments.runner import parse_overrides

    out = {}
    for it in items or []:
        if ":" not in it.split("=", 1)[0]:
            first = "figure number" if number else "item"
            raise GdchaosInputError(f"--set expects {what}:KEY=VALUE ({first} first), got {it!r}")
        n, rest = it.split(":", 1)
        if number:
            try:
                n = int(n)
            except ValueError:
                raise GdchaosInputError(f"--set expects N:KEY=VALUE, got {it!r}") from None
        out.setdefault(n, {}).update(parse_overrides([rest]))
    return out


def cmd_reproduce(args):
    from ..errors import GdchaosInputError
    from ..experiments.registry import FIGURE_MODULES
    from ..experiments.report import reproduce

    figs = None
    if args.figures is not None:
        figs = C.ints(args.figures, "--figures")
        bad = [n for n in figs if n not in FIGURE_MODULES]
        if bad:
            raise GdchaosInputError(f"no figure {bad}; figures are {sorted(FIGURE_MODULES)}")
    ov = _figure_overrides(args.set)
    sched = C.scheduler_from_args(args)
    bad = [n for n in ov if n not in FIGURE_MODULES or (figs is not None and n not in figs)]
    if bad:
        raise GdchaosInputError(f"--set names figure(s) {bad} that this run does not make")
    info = reproduce(args.preset, args.out, figs, ov, extras=args.extras, scheduler=sched,
                     allow_large=args.allow_large,
                     progress=(lambda s: None) if args.quiet else (lambda s: print(s, flush=True)))
    return 1 if any(r.get("error") for r in info["records"].values()) else 0


def cmd_extras(args):
    from ..experiments.extras import ITEMS, run_extras

    only = None
    if args.only is not None:
        from ..errors import GdchaosInputError

        only = [s.strip() for s in args.only.split(",") if s.strip()]
        if not only:
            raise GdchaosInputError(f"--only is empty; name some of {', '.join(ITEMS)}")

        bad = [s for s in only if s not in ITEMS]
        if bad:
            raise GdchaosInputError(f"unknown extras {bad}; choose from {list(ITEMS)}")
    overrides = _figure_overrides(args.set, "ITEM", number=False)
    for title, rec in run_extras(args.preset, args.out, only=only, overrides=overrides,
                                 progress=(lambda s: None) if args.quiet
                                 else (lambda s: print(s, flush=True))):
        if not args.quiet:
            print(f"{title}: " + ", ".join(rec.get("images", []) + rec.get("gifs", [])))
    return 0
