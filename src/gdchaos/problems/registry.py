"""The built-in problems by name, and one function that makes any problem from options: the
command line's only way to a problem (a built-in name or ``path/to/file.py:ClassName``)."""

from __future__ import annotations

import importlib
import pkgutil

from ..errors import GdchaosInputError
from ._base import Problem
from .custom import load_problem


def _discover():
    """Every public module of this package that defines a problem class with command-line
    ``OPTIONS``: adding a built-in problem is adding its module."""
    from .. import problems

    found = {}
    for info in sorted(pkgutil.iter_modules(problems.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in ("registry", "custom"):
            continue
        mod = importlib.import_module(f"{problems.__name__}.{info.name}")
        for obj in vars(mod).values():
            if (isinstance(obj, type) and issubclass(obj, Problem) and obj.__module__ ==
                    mod.__name__ and obj.OPTIONS and obj.name):
                found[obj.name] = obj
    return found


#: name -> class of every built-in problem (each class lists its ``OPTIONS``)
BUILTIN = _discover()


def problem_options() -> dict:
    """Every command-line option of the built-in problems but ``lam`` (each command has its
    own ``--lam``): name -> (kind, [(problem, help), ...]); two problems naming one option
    must read it the same way."""
    out = {}
    for name, cls in BUILTIN.items():
        for opt, spec in cls.OPTIONS.items():
            if opt == "lam":
                continue
            kind, users = out.setdefault(opt, (spec.kind, []))
            if kind != spec.kind:
                raise TypeError(f"option {opt!r}: {name} reads it as {spec.kind}, another "
                                f"problem as {kind}")
            users.append((name, spec.help))
    return out


def make_problem(spec: str, options: dict | None = None, defaults: dict | None = None):
    """The problem ``spec`` (a key of :data:`BUILTIN`, or ``path/to/file.py:ClassName``) with
    ``options`` (those given: each must be one of the problem's ``OPTIONS``; a user's problem
    takes its constructor's keywords) and ``defaults`` (used where the problem has the option
    and it was not given)."""
    options = {k: v for k, v in (options or {}).items() if v is not None}
    cls = BUILTIN.get(spec)
    if cls is None:
        if ":" in str(spec):
            return load_problem(spec, options)
        raise GdchaosInputError(f"--problem {spec!r}: choose from {', '.join(BUILTIN)} or give "
                                "path/to/file.py:ClassName")
    for k in options:
        if k not in cls.OPTIONS:
            users = [n for n, c in BUILTIN.items() if k in c.OPTIONS]
            raise GdchaosInputError(f"--{k} is not an option of --problem {spec} (it applies to "
                                    f"{' and '.join(users) or 'none'})")
    kw = {k: v for k, v in {**cls.OPTION_DEFAULTS, **(defaults or {})}.items()
          if k in cls.OPTIONS}
    kw.update(options)
    return cls(**kw)
