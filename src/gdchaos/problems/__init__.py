"""Problems: loss, gradient, GD step and minimizers for each model the engine runs."""

from ._base import GDState, Problem
from .deep import DeepMatrixFactorization
from .matrix import MatrixFactorization
from .quotient import QuotientMap
from .scalar import ScalarFactorization

__all__ = ["Problem", "GDState", "ScalarFactorization", "MatrixFactorization",
           "DeepMatrixFactorization", "QuotientMap"]
