"""Batched GD engine: kernels, initializations, runs and tiled stores."""

from ..problems import RECORDS
from ._dd import quotient_grid_dd  # double-double quotient map (deep zooms)
from ._grid import Slice2D, random_orthonormal_directions, sample_box
from ._run import (BACKENDS, MAX_ITER, TILE_POINTS, RunConfig, RunResult, basin, check_device,
                   prepare, root_attributes, run_info, run_points)
from ..status import (CONVERGED, DIVERGED, NOT_RUN, OUTSIDE, SADDLE, STATUS_NAMES, UNDECIDED,
                      status_fractions)
from ._refine import Refine, refine_summary, refine_summary_line, refine_summary_of
from ._tiles import refinement_attrs as refine_attrs
from ._store import TiledStore, VarSpec, open_store, verify_store
from ._store_targets import check_store_target
from .hypermap import Axis, hyper_map, run_optimizer
from .optim import Optimizer
from .optimizers import BUILTIN_OPTIMIZERS, Hyper, OptimizerDef
from .threads import set_threads, threads_in_effect

__all__ = ["Slice2D", "random_orthonormal_directions", "sample_box", "BACKENDS", "MAX_ITER",
           "RECORDS", "TILE_POINTS", "RunConfig", "RunResult", "basin", "check_device", "prepare",
           "root_attributes", "run_info", "run_points", "status_fractions", "CONVERGED",
           "DIVERGED", "NOT_RUN",
           "OUTSIDE", "SADDLE", "STATUS_NAMES", "UNDECIDED", "TiledStore", "VarSpec", "open_store",
           "check_store_target",
           "verify_store", "Axis", "Optimizer", "hyper_map", "run_optimizer",
           "quotient_grid_dd", "set_threads", "threads_in_effect", "Refine", "refine_summary",
           "refine_summary_line", "refine_summary_of", "refine_attrs", "Hyper", "OptimizerDef",
           "BUILTIN_OPTIMIZERS"]
