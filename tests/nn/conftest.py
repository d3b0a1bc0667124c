"""Fixtures of the network tests.  Behaviour is tested on scikit-learn's digits (always there);
``cifar_small`` is the CIFAR-10 variant, which skips without the data (see tests/conftest.py)."""

import pytest


@pytest.fixture(scope="session")
def digits_small():
    """10 + 10 digits of classes 0/1, pixels in [0, 1] (64 inputs): always available."""
    from gdchaos.nn import load_pair

    return load_pair("digits", (0, 1), 10, seed=0)


@pytest.fixture
def cifar_small(cifar_data):
    """10 + 10 CIFAR-10 training images of classes 0/1 (the paper's preprocessing)."""
    from gdchaos.nn import load_pair

    return load_pair("cifar10", (0, 1), 10, seed=0, data_dir=cifar_data)


@pytest.fixture(params=["digits", "cifar10"])
def pair_small(request):
    """Both datasets in turn: digits always, CIFAR-10 when present (skip otherwise)."""
    if request.param == "digits":
        return request.getfixturevalue("digits_small")
    return request.getfixturevalue("cifar_small")
