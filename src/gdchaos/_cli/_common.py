"""Helpers shared by the command modules: number parsing, output checks, JSON printing."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

from .._errors import GdchaosInputError

EXAMPLES_FMT = argparse.RawDescriptionHelpFormatter


def floats(text, name, n=None):
    """Parse ``"1,2,3"`` into a list of finite floats (``n`` of them if given)."""
    try:
        vals = [float(t) for t in str(text).split(",") if t.strip() != ""]
    except ValueError:
        raise GdchaosInputError(f"{name} must be comma-separated numbers, got {text!r}") from None
    if any(not math.isfinite(v) for v in vals):
        raise GdchaosInputError(f"{name} must be finite numbers, got {text!r}")
    if n is not None and len(vals) != n:
        raise GdchaosInputError(f"{name} needs {n} numbers, got {len(vals)} in {text!r}")
    if not vals:
        raise GdchaosInputError(f"{name} is empty")
    return vals


def number(text, name):
    return floats(text, name, 1)[0]


def matrix(text, name):
    """Parse ``"0.9,0;0,0.8"`` (rows separated by ``;``) into a square matrix."""
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


def set_threads(n):
    if n is None:
        return
    if n < 1:
        raise GdchaosInputError(f"--threads must be >= 1, got {n}")
    import numba

    numba.set_num_threads(min(int(n), numba.config.NUMBA_NUM_THREADS))


def emit_json(obj):
    print(json.dumps(obj, indent=None, sort_keys=True, default=_default))


def _default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def info(args, msg):
    if not getattr(args, "quiet", False) and not getattr(args, "json", False):
        print(msg, file=sys.stderr)
