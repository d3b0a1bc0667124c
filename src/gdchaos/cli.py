"""The ``gdchaos`` command line (thin: every command lives in ``gdchaos._cli``)."""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings

from .errors import GdchaosInputError


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit code 2, and which takes no
    abbreviations (``--r`` is a problem's option ``r``, never a prefix of ``--range``)."""

    def __init__(self, *a, **k):
        k.setdefault("allow_abbrev", False)
        super().__init__(*a, **k)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    from ._cli import REGISTRARS

    parser = _Parser(
        prog="gdchaos",
        description="Gradient descent with large step sizes as a dynamical system.",
        epilog="Run 'gdchaos COMMAND --help' for the options and examples of a command.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for register in REGISTRARS:
        register(sub)
    return parser


def _version():
    from . import __version__

    return f"gdchaos {__version__}"


_NEG = re.compile(r"^-([0-9.]|(inf|infinity|nan)(,|$))", re.IGNORECASE)


def _glue_negative_values(argv):
    """``--range -2.5,3,0,10`` -> ``--range=-2.5,3,0,10`` so that values starting with a minus
    sign (comma lists argparse would take for options) are accepted."""
    out = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if (tok.startswith("--") and "=" not in tok and i + 1 < len(argv)
                and _NEG.match(argv[i + 1])):
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def main(argv=None) -> int:
    parser = build_parser()
    given = list(sys.argv[1:] if argv is None else argv)
    argv = _glue_negative_values(list(given))
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    args._argv = [str(a) for a in given]  # as given: a store's ``command`` attribute
    # warnings (NumPy's, Dask's) are held back while the command runs: a refused command
    # prints its one error line and nothing else; a command that runs shows them at its end
    with warnings.catch_warnings(record=True) as held:
        try:
            rc = int(args.func(args) or 0)
        except GdchaosInputError as exc:
            print(f"gdchaos: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("gdchaos: interrupted (a store written so far is kept; run the same command "
                  "again to resume)", file=sys.stderr)
            return 130
    _show_warnings(held, given)
    return rc


def _show_warnings(held, given):
    """gdchaos' own warnings as one line each, ``gdchaos CMD: warning: ...``; other libraries'
    warnings as Python shows them."""
    words = []
    for tok in given[:2]:
        if tok.startswith("-") or (words and words[0] != "nn"):
            break
        words.append(tok)
    prefix = " ".join(["gdchaos"] + words)
    pkg = os.path.dirname(os.path.abspath(__file__))
    for w in held:
        if os.path.abspath(w.filename).startswith(pkg + os.sep):
            print(f"{prefix}: warning: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
