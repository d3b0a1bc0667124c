"""Real networks: ReLU MLPs on two CIFAR-10 classes trained by full-batch GD at large step sizes
(section 4.3 and appendix J of the paper; figures 4, 5, 12, 13).

Needs the ``nn`` extra (PyTorch, scikit-learn).  Everything is float64 and reproducible from seeds.
"""

from ..status import CONVERGED, DIVERGED, STATUS_NAMES, UNDECIDED
from .data import (
    CIFAR10_MD5,
    CIFAR10_URL,
    DataUnavailable,
    PairData,
    RawImages,
    cache_dir,
    default_data_dir,
    download_cifar10,
    flat_to_hwc,
    hwc_to_flat,
    load_cifar10,
    load_digits_images,
    load_pair,
    select_pair,
)
from .models import (
    from_module,
    init_params,
    layer_shapes,
    loss_from_output,
    mlp_forward,
    mlp_loss,
    n_params,
    to_module,
    unflatten,
)
from .sharpness import (
    batched_matvec,
    hessian_matrix,
    lanczos_top,
    loss_hvp,
    power_iteration,
    sharpness,
    start_vector,
    top_eigenvalues,
)
from .slices import (
    SliceResult,
    SliceSettings,
    plot_slice,
    run_slice,
    slice_directions,
    slice_preset,
    slice_problem,
)
from .sweep import (
    SweepResult,
    SweepSettings,
    eta_grid,
    plot_sweep,
    run_sweep,
    sweep_preset,
)
from .train import BatchResult, TrainResult, default_tol, train, train_batch

__all__ = [
    "CIFAR10_MD5", "CIFAR10_URL", "CONVERGED", "DIVERGED", "STATUS_NAMES", "UNDECIDED",
    "BatchResult", "DataUnavailable", "PairData", "RawImages", "SliceResult", "SliceSettings",
    "SweepResult", "SweepSettings", "TrainResult", "batched_matvec", "cache_dir",
    "default_data_dir", "default_tol",
    "download_cifar10", "eta_grid", "flat_to_hwc", "from_module", "hessian_matrix",
    "hwc_to_flat", "init_params", "lanczos_top", "layer_shapes", "load_cifar10",
    "load_digits_images", "load_pair", "loss_from_output", "loss_hvp", "mlp_forward", "mlp_loss",
    "n_params", "plot_slice", "plot_sweep", "power_iteration", "run_slice", "run_sweep",
    "select_pair", "sharpness", "slice_directions", "slice_preset", "slice_problem",
    "start_vector", "sweep_preset", "to_module", "top_eigenvalues", "train", "train_batch",
    "unflatten",
]
