"""The built-in problems by name, and one function that makes any problem from options: the
command line's only way to a problem (a built-in name or ``path/to/file.py:ClassName``)."""

from __future__ import annotations

from ..errors import GdchaosInputError
from .custom import load_problem
from .deep import DeepMatrixFactorization
from .matrix import MatrixFactorization
from .quotient import QuotientMap
from .scalar import ScalarFactorization

#: name -> class of every built-in problem (each class lists its ``OPTIONS``)
BUILTIN = {cls.name: cls for cls in (ScalarFactorization, MatrixFactorization,
                                     DeepMatrixFactorization, QuotientMap)}


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
