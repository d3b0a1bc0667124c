"""Problems: loss, gradient, GD step and minimizers for each model the engine runs."""

from ._base import RECORDS, GDState, Problem, check_records
from .deep import DeepMatrixFactorization
from .matrix import MatrixFactorization
from .quotient import QuotientMap
from .scalar import ScalarFactorization

__all__ = ["Problem", "GDState", "RECORDS", "check_records", "ScalarFactorization",
           "MatrixFactorization", "DeepMatrixFactorization", "QuotientMap"]
