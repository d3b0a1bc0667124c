import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """``gdchaos reproduce --preset tiny`` once for the whole session (every figure + report)."""
    from gdchaos.experiments.report import reproduce

    out = tmp_path_factory.mktemp("reproduce_tiny")
    lines = []
    info = reproduce("tiny", str(out), progress=lines.append)
    info["out"] = str(out)
    info["lines"] = lines
    return info


def _no_cifar_env(folder):
    """``(env, cwd)`` for a subprocess on a machine without CIFAR-10, even where the suite has it
    (CI: ``shared/data`` beside the repository, ``GDCHAOS_REQUIRE_CIFAR``): no ``GDCHAOS_DATA``,
    an empty ``HOME`` and no ``XDG_CACHE_HOME`` (so an empty cache folder), a working folder
    outside the repository (no ``shared/data`` beside it), downloads disabled.  Every folder
    ``gdchaos.nn.data`` would look in is checked to hold no CIFAR-10."""
    import gdchaos
    from gdchaos.nn import data as D

    folder = Path(folder)
    home, cwd = folder / "home", folder / "work"
    home.mkdir(parents=True, exist_ok=True)
    cwd.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("GDCHAOS_REQUIRE_CIFAR", "GDCHAOS_DATA", "XDG_CACHE_HOME")}
    src = str(Path(gdchaos.__file__).resolve().parents[1])  # the package under test, from cwd
    env.update(HOME=str(home), GDCHAOS_OFFLINE="1", MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")])))
    for d in (home / ".cache" / "gdchaos", *D.development_dirs(cwd)):
        assert not D.has_cifar10(d), d
    return env, cwd


@pytest.fixture(scope="session")
def no_cifar_env():
    """The function ``folder -> (env, cwd)`` above (a fixture, for module-scoped runs too)."""
    return _no_cifar_env
