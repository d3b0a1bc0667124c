"""Measures of chaos and fractality (SPEC sections 3-4, figure 3).

Every estimator returns its raw scaling curve beside the fitted exponent and its interval.

- boundaries: outcome maps, their boundaries, the figure-3 quotient region
- boxcount: box-counting dimension (automatic and the paper's fixed procedure)
- uncertainty: uncertainty exponent (Grebogi et al. 1983)
- basin_entropy, wada: basin entropy (Daza et al. 2016), Wada tests (Daza et al. 2015, 2018)
- convergence: tiled boundary extraction and the resolution/step convergence study
- lyapunov: finite-time Lyapunov exponents and maps
- entropy: topological entropy (lap numbers; periodic points, separated sets)
- symbolic: coding of the boundary map, periodic orbits of it and of GD (Props. 18, 19)
- branches: inverse branches G0, G1, G2 of the planar map (Prop. 14)
- storedim: box-counting dimension of the boundary of any stored map (basin, map, nn map/slice)
"""

from .basin_entropy import BasinEntropyResult, basin_entropy, basin_entropy_scaling
from .boundaries import (FIGURE3, OUTCOME_MODES, boundary_mask, dataset_labels,
                         erosion_boundary, outcome_labels, quotient_boundary, quotient_edge_gap,
                         quotient_region)
from .boxcount import (BoxCounter, BoxCountResult, DimensionWarning, box_counts, box_dimension,
                       mask_points, normalize_unit_square, paper_box_dimension, plot_box_counts)
from .branches import (BranchCheck, branch_index, branch_invariance, decompose_boundary,
                       inverse_branches, inverse_branches_zw, quintic_coefficients)
from .convergence import (ConvergenceResult, TiledBoundary, convergence_study,
                          quotient_boundary_tiled)
from .entropy import (ENTROPY_MAPS, map_entropy, EntropyResult, critical_points, lap_entropy, lap_numbers,
                      periodic_point_entropy, periodic_points, separated_set_entropy)
from ._fit import LinearFit, fit_line, largest_linear_region
from .outcomes import OutcomeMap, labels_from_array, outcome_map
from .lyapunov import (LyapunovResult, exponent_summary, finite_time_lyapunov, gd_jacobian,
                       lyapunov_1d, lyapunov_map, lyapunov_points, lyapunov_spectrum,
                       map_lyapunov_spectrum, problem_map, quotient_jacobian)
from .symbolic import (PeriodicOrbit, boundary_itinerary, boundary_periodic_orbit,
                       gd_periodic_orbit, is_primitive, lift_to_uv, minimal_period,
                       primitive_words, tent_point, verify_periodic_orbit, word_point)
from .uncertainty import (UncertaintyResult, box_sampler, engine_outcome, quotient_sampler,
                          uncertainty_exponent)
from .wada import WadaResult, wada_grid, wada_merging
from .zoomdim import LocalSlopeResult, local_slope_dimension, window_boundary
from .boundaries import thin_boundary
from .fractaltest import FractalTestResult, boundary_dimension, fractal_test
from .storedim import STORE_OUTCOMES, plot_dimensions, store_dimension, store_dimensions

__all__ = [
    "ENTROPY_MAPS", "map_entropy",
    "OutcomeMap", "labels_from_array", "outcome_map",
    # boundaries
    "FIGURE3", "OUTCOME_MODES", "boundary_mask", "dataset_labels",
    "erosion_boundary",
    "outcome_labels", "quotient_boundary", "quotient_edge_gap", "quotient_region",
    # box counting
    "BoxCounter", "BoxCountResult", "box_counts", "box_dimension", "mask_points",
    "normalize_unit_square", "paper_box_dimension", "plot_box_counts",
    # uncertainty exponent
    "UncertaintyResult", "box_sampler", "engine_outcome", "quotient_sampler",
    "uncertainty_exponent",
    # basin entropy, Wada
    "BasinEntropyResult", "basin_entropy", "basin_entropy_scaling", "WadaResult", "wada_grid",
    "wada_merging",
    # convergence study
    "ConvergenceResult", "TiledBoundary", "convergence_study", "quotient_boundary_tiled",
    # Lyapunov
    "LyapunovResult", "finite_time_lyapunov", "gd_jacobian", "lyapunov_1d", "lyapunov_map",
    "lyapunov_spectrum", "problem_map", "quotient_jacobian", "exponent_summary",
    "lyapunov_points", "map_lyapunov_spectrum",
    # entropy
    "EntropyResult", "critical_points", "lap_entropy", "lap_numbers", "periodic_point_entropy",
    "periodic_points", "separated_set_entropy",
    # symbolic dynamics, periodic orbits
    "PeriodicOrbit", "boundary_itinerary", "boundary_periodic_orbit", "gd_periodic_orbit",
    "is_primitive", "lift_to_uv", "minimal_period", "primitive_words", "tent_point",
    "verify_periodic_orbit", "word_point",
    # inverse branches
    "BranchCheck", "branch_index", "branch_invariance", "decompose_boundary",
    "inverse_branches", "inverse_branches_zw", "quintic_coefficients",
    # fits
    "LinearFit", "fit_line", "largest_linear_region",
    "LocalSlopeResult", "local_slope_dimension", "window_boundary",  # zoom frames (zoomdim)
    "thin_boundary", "FractalTestResult", "boundary_dimension", "fractal_test",  # issue 23
    # the dimension of a stored map (issue 22)
    "DimensionWarning", "STORE_OUTCOMES", "plot_dimensions", "store_dimension", "store_dimensions",
]
