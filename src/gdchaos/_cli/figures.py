"""``gdchaos figure N`` and ``gdchaos reproduce``."""

from __future__ import annotations

from . import _common as C

FIG_EPILOG = """examples:
  gdchaos figure 3 --preset quick --out figures
  gdchaos figure 1 --preset paper --set grid=800 --set seed=3 --out figures
  gdchaos figure 3 --list-settings
Writes figNN.png, figNN.pdf, figNN_<panel>.zarr and figNN.json (parameters, choices made where
the paper's text lost a setting, and the numbers computed)."""


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
    f.set_defaults(func=cmd_figure)


def cmd_figure(args):
    from ..experiments._figure import parse_overrides, run_figure
    from ..experiments.registry import get_figure

    spec = get_figure(args.number)
    overrides = parse_overrides(args.set)
    if args.list_settings:
        C.emit_json({"figure": spec.number, "preset": args.preset,
                     "settings": spec.params(args.preset, overrides), "choices": spec.choices})
        return 0
    spec.params(args.preset, overrides)  # validate before any work
    rec = run_figure(spec, args.preset, overrides, args.out,
                     progress=not (args.quiet or args.json))
    if args.json:
        C.emit_json(rec)
    elif not args.quiet:
        print(f"figure {spec.number} ({args.preset}) in {rec['seconds']:.1f} s -> "
              + ", ".join(rec["files"]))
    return 0
