"""Exception types shared by the whole package."""

from __future__ import annotations


#: Documented size limits (README, "Size limits"): past them a command refuses unless
#: --allow-large (``allow_large=True`` in Python).  Defined once here, where every layer sees them.
STORE_LIMIT_BYTES = 8 * 2**30  # estimated size of a store
MEMORY_LIMIT_BYTES = 4 * 2**30  # estimated working memory of one step of a command
WORK_LIMIT = 1e10  # estimated elementary operations (or network-steps) of one command


class GdchaosInputError(ValueError):
    """Bad input from a user (a step size <= 0, mismatched shapes, ...).

    The command line turns it into one line on stderr and exit code 2.
    """


def check_positive(name: str, value: float) -> float:
    value = float(value)
    if not value > 0 or value != value or value == float("inf"):
        raise GdchaosInputError(f"{name} must be a positive finite number, got {value!r}")
    return value


def check_nonneg(name: str, value: float) -> float:
    value = float(value)
    if not value >= 0 or value == float("inf"):
        raise GdchaosInputError(f"{name} must be a non-negative finite number, got {value!r}")
    return value


def check_finite(name: str, value: float) -> float:
    value = float(value)
    if value != value or abs(value) == float("inf"):
        raise GdchaosInputError(f"{name} must be finite, got {value!r}")
    return value


def check_int(name: str, value, lo=None, hi=None) -> int:
    """``value`` as an int; refuses non-integers (2.5, True, "3") and values outside [lo, hi]."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if not (isinstance(value, numbers.Real) and float(value).is_integer()):
            raise GdchaosInputError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if lo is not None and value < lo:
        raise GdchaosInputError(f"{name} must be >= {lo}, got {value}")
    if hi is not None and value > hi:
        raise GdchaosInputError(f"{name} must be <= {hi}, got {value}")
    return value


def check_seed(name: str, seed):
    """A random seed: None or an integer >= 0 (NumPy's generators refuse negative seeds)."""
    return None if seed is None else check_int(name, seed, lo=0)
