"""Suite-wide settings and the CIFAR-10 fixtures.

The suite needs nothing outside the repository: network behaviour is tested on scikit-learn's
digits (shipped inside the package).  The CIFAR-10-specific tests find the data the way the
package does (``GDCHAOS_DATA``, the user cache folder, ``shared/data`` beside the repository;
see ``gdchaos.nn.data``) and skip with one reason when there are none.  ``GDCHAOS_REQUIRE_CIFAR=1``
turns that skip into a failure (``.ci/run`` sets it, so CI always runs them).  Nothing is ever
downloaded: ``GDCHAOS_OFFLINE=1`` is set for the whole session (subprocesses inherit it).
"""

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
NO_CIFAR = ("no CIFAR-10 data (looked in $GDCHAOS_DATA, the user cache folder, shared/data "
            "beside the repository); set GDCHAOS_DATA to run the CIFAR-10 tests")


def require_cifar() -> bool:
    return os.environ.get("GDCHAOS_REQUIRE_CIFAR", "").strip() not in ("", "0")


def find_cifar(npz: bool = False) -> Path | None:
    """The data folder the package would use, when it holds CIFAR-10 (``npz``: the two
    ``cifar10_*_first1000_hwc.npz`` files); else None."""
    from gdchaos.nn import data as D

    d = D.default_data_dir()
    if npz:
        ok = all((d / n).is_file() for n in D.NPZ_NAMES.values())
    else:
        ok = D.has_cifar10(d)
    return d if ok else None


def need_cifar(npz: bool = False) -> Path:
    d = find_cifar(npz)
    if d is None:
        other = find_cifar() if npz else None
        reason = NO_CIFAR if other is None else (
            f"CIFAR-10 found in {other} but not the .npz files this test reads")
        if require_cifar():
            pytest.fail(f"GDCHAOS_REQUIRE_CIFAR is set but: {reason}", pytrace=False)
        pytest.skip(reason)
    return d


@pytest.fixture(scope="session")
def cifar_data() -> Path:
    """The CIFAR-10 data folder (any source); skips (or fails, see above) without one."""
    return need_cifar()


@pytest.fixture(scope="session")
def cifar_npz() -> Path:
    """The folder holding the two ``cifar10_*_first1000_hwc.npz`` files (the CI data)."""
    return need_cifar(npz=True)


@pytest.fixture(scope="session")
def cifar_present() -> bool:
    """Whether CIFAR-10 is there (no skip): for tests that check both cases."""
    present = find_cifar() is not None
    if not present and require_cifar():
        pytest.fail(f"GDCHAOS_REQUIRE_CIFAR is set but: {NO_CIFAR}", pytrace=False)
    return present


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def pytest_configure(config):
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ["GDCHAOS_OFFLINE"] = "1"  # tests never download
