"""gdchaos: gradient descent with large step sizes as a dynamical system.

The public surface is re-exported here; implementation modules are private.
"""

from .version import __version__  # noqa: E402

from . import theory  # noqa: E402
from .errors import GdchaosInputError  # noqa: E402
from .engine import (Axis, Hyper, Optimizer, OptimizerDef, Refine, hyper_map,  # noqa: E402
                     refine_summary)
from .experiments.rerun import rerun  # noqa: E402
from .engine import (CONVERGED, DIVERGED, NOT_RUN, OUTSIDE, SADDLE, STATUS_NAMES,  # noqa: E402
                     UNDECIDED, RunConfig, RunResult, Slice2D, basin, open_store, run_info,
                     run_points, sample_box, status_fractions, verify_store)
from .problems import (DeepMatrixFactorization, GDState, MatrixFactorization,  # noqa: E402
                       NumbaProblem, Problem, QuotientMap, ScalarFactorization, TorchProblem,
                       load_problem, make_problem)
from .theory.matrix import eta_star_matrix, in_orthogonal_subspace  # noqa: E402
from .theory.quotient import boundary_map, planar_map, quotient_T, scaled_map  # noqa: E402
from .theory.scalar import (closest_minimizer, eta_star, farthest_minimizer,  # noqa: E402
                            hessian_eigenvalues, imbalance, in_d0, q_value, sharpness,
                            theorem5_bounds, wang_bound)

__all__ = [
    "__version__", "theory", "GdchaosInputError", "plot", "store_dimension",
    "CONVERGED", "DIVERGED", "NOT_RUN", "OUTSIDE", "SADDLE", "STATUS_NAMES", "UNDECIDED",
    "RunConfig", "RunResult", "Slice2D", "basin", "open_store", "run_info", "run_points",
    "sample_box", "status_fractions", "verify_store", "Axis", "Optimizer", "OptimizerDef", "Hyper",
    "hyper_map", "rerun",
    "Refine", "refine_summary",
    "DeepMatrixFactorization", "GDState", "MatrixFactorization", "Problem", "QuotientMap",
    "ScalarFactorization", "NumbaProblem", "TorchProblem", "load_problem", "make_problem",
    "eta_star_matrix", "in_orthogonal_subspace", "boundary_map", "planar_map", "quotient_T",
    "scaled_map", "closest_minimizer", "eta_star", "farthest_minimizer", "hessian_eigenvalues",
    "imbalance", "in_d0", "q_value", "sharpness", "theorem5_bounds", "wang_bound",
]


def __getattr__(name):
    """``gdchaos.plot`` is :func:`gdchaos.plotting.plot` and ``gdchaos.store_dimension``
    :func:`gdchaos.analysis.store_dimension`, imported on first use (so that ``import gdchaos``
    imports neither matplotlib nor xarray)."""
    if name == "plot":
        from .plotting import plot

        return plot
    if name == "store_dimension":
        from .analysis import store_dimension

        return store_dimension
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
