"""Exact theory: closed forms of the paper for scalar, matrix and quotient dynamics."""

from . import matrix, quotient, scalar

__all__ = ["scalar", "matrix", "quotient"]
