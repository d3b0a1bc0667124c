"""Exception types shared by the whole package."""

from __future__ import annotations


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
