"""Fixtures of the network tests: the shared CIFAR-10 files, found from this file's location."""

from pathlib import Path

import pytest

# tests/nn/conftest.py -> parents[2] is the repository root; the data lie beside it.
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TRAIN_NPZ = SHARED_DATA / "cifar10_train_first1000_hwc.npz"
TEST_NPZ = SHARED_DATA / "cifar10_test_first1000_hwc.npz"


@pytest.fixture
def shared_data() -> Path:
    if not (TRAIN_NPZ.is_file() and TEST_NPZ.is_file()):
        pytest.skip(f"CIFAR-10 .npz files not found in {SHARED_DATA} (expected ../shared/data "
                    "beside the repository)")
    return SHARED_DATA


@pytest.fixture
def cifar_small(shared_data):
    """10 + 10 CIFAR-10 training images of classes 0/1 (the paper's preprocessing)."""
    from gdchaos.nn import load_pair

    return load_pair("cifar10", (0, 1), 10, seed=0, data_dir=shared_data)
