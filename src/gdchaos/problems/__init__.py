"""Problems: loss, gradient, GD step and minimizers for each model the engine runs."""

from ._base import (RECORDS, GDState, Option, Problem, check_records, function_source,
                    kernel_function_fault, numba_source_of,
                    seqsum, torch_retire)
from .deep import DeepMatrixFactorization
from .matrix import MatrixFactorization
from .quotient import QuotientMap
from .scalar import ScalarFactorization
from .custom import (NumbaProblem, TorchProblem, UserProblem, import_user_file,
                     definition_error, load_problem, user_code_error)
from .registry import BUILTIN, make_problem

__all__ = ["Problem", "GDState", "RECORDS", "check_records", "function_source",
           "numba_source_of", "kernel_function_fault", "seqsum", "torch_retire", "ScalarFactorization",
           "MatrixFactorization", "DeepMatrixFactorization", "QuotientMap", "NumbaProblem",
           "TorchProblem", "UserProblem", "load_problem", "import_user_file",
           "definition_error", "user_code_error", "BUILTIN", "make_problem"]
